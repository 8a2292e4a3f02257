/*
 * admin.c -- tallyd's admin commands (invite, accounts, stats, backup)
 * and the owner-only admin socket that reaches a running server.
 *
 * While tallyd runs, it owns the only writing connection to its database;
 * an admin command then travels as a TLY_T_ADMIN frame over
 * ipc://DATA/admin.sock (mode 0600 in a 0700 directory) and runs inside
 * the server.  When tallyd is stopped, the command opens the store itself
 * (main.c holds the data directory's lock meanwhile).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "tallyd.h"
#include "tly_enc.h"
#include "tly_err.h"
#include "tly_log.h"
#include "tly_time.h"

#define ADMIN_TIMEOUT_MS (15 * 60 * 1000) /* a backup may take a while */

int
tallyd_admin_url(char *buf, size_t n, const char *dir)
{
	int r = snprintf(buf, n, "ipc://%s/admin.sock", dir);

	return (r < 0 || (size_t) r >= n ? TALLY_ETOOBIG : 0);
}

static int
usage(tly_buf *out)
{
	tly_buf_reset(out);
	(void) tly_buf_puts(out,
	    "usage: tallyd invite create [--uses N] [--expires WHEN]\n"
	    "       tallyd accounts list\n"
	    "       tallyd accounts disable KEY\n"
	    "       tallyd stats\n"
	    "       tallyd backup FILE\n");
	return (TALLY_EINVAL);
}

/* Puts the message a b c into out; returns rv. */
static int
msg(tly_buf *out, int rv, const char *a, const char *b, const char *c)
{
	tly_buf_reset(out);
	(void) tly_buf_printf(out, "%s%s%s", a, b, c);
	return (rv);
}

static int
invite_create(tly_store *s, int argc, const char *const *argv, tly_buf *out)
{
	struct tly_store_op op;
	char               *end;
	long long           uses = 1;
	int64_t             exp  = 0;
	int                 rv;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--uses") == 0 && i + 1 < argc) {
			uses = strtoll(argv[++i], &end, 10);
			if (*end != '\0' || uses < 1 || uses > 1000000)
				return (msg(out, TALLY_EINVAL, "--uses ",
				    argv[i], ": expected 1 to 1000000\n"));
		} else if (strcmp(argv[i], "--expires") == 0 && i + 1 < argc) {
			if (tly_when_parse(argv[++i], tly_now(), &exp) != 0)
				return (msg(out, TALLY_EINVAL, "--expires ",
				    argv[i],
				    ": expected a date or +N[hdwm]\n"));
		} else {
			return (usage(out));
		}
	}
	memset(&op, 0, sizeof op);
	op.type   = TLY_OP_INVITE_CREATE;
	op.uses   = uses;
	op.before = exp;
	if ((rv = tly_store_run(s, &op)) != 0)
		return (
		    msg(out, rv, "invite create: ", tally_strerror(rv), "\n"));
	tly_buf_reset(out);
	(void) tly_buf_printf(out, "%s\n", op.code);
	tly_log(TLY_LOG_INFO, "invite created (%lld uses)", uses);
	return (0);
}

static int
accounts_disable(struct tallyd *d, tly_store *s, const char *key, tly_buf *out)
{
	struct tly_store_op op;
	unsigned char       pk[TLY_KEY_BYTES];
	int                 rv;

	if (tly_hex_decode(pk, sizeof pk, key) != 0)
		return (msg(out, TALLY_EINVAL, key,
		    ": expected an account key (64 hex digits)", "\n"));
	memset(&op, 0, sizeof op);
	op.type = TLY_OP_DISABLE;
	op.pk   = pk;
	if ((rv = tly_store_run(s, &op)) != 0)
		return (msg(out, rv, key,
		    rv == TALLY_ENOENT ? ": no such account"
		                       : ": cannot disable",
		    "\n"));
	if (d != NULL)
		tallyd_auth_drop(d->auth, op.id);
	tly_log(TLY_LOG_INFO, "account %.16s disabled", key);
	tly_buf_reset(out);
	(void) tly_buf_printf(out, "disabled %s\n", key);
	return (0);
}

int
tallyd_admin_exec(struct tallyd *d, tly_store *s, int argc,
    const char *const *argv, tly_buf *out)
{
	char err[512];
	int  rv;

	tly_buf_reset(out);
	if (argc < 1)
		return (usage(out));
	if (strcmp(argv[0], "invite") == 0 && argc >= 2 &&
	    strcmp(argv[1], "create") == 0)
		return (invite_create(s, argc, argv, out));
	if (strcmp(argv[0], "accounts") == 0 && argc == 2 &&
	    strcmp(argv[1], "list") == 0)
		return (tly_store_accounts_text(s, out));
	if (strcmp(argv[0], "accounts") == 0 && argc == 3 &&
	    strcmp(argv[1], "disable") == 0)
		return (accounts_disable(d, s, argv[2], out));
	if (strcmp(argv[0], "stats") == 0 && argc == 1) {
		(void) tly_buf_printf(
		    out, "running %s\n", d != NULL ? "yes" : "no");
		if ((rv = tly_store_stats_text(s, out)) != 0)
			return (rv);
		return (d != NULL ? tallyd_metrics_text(d, out) : 0);
	}
	if (strcmp(argv[0], "backup") == 0 && argc == 2) {
		if (argv[1][0] != '/')
			return (msg(out, TALLY_EINVAL, argv[1],
			    ": give an absolute path", "\n"));
		if ((rv = tly_store_backup(s, argv[1], err, sizeof err)) != 0)
			return (msg(out, rv, "backup: ", err, "\n"));
		tly_log(TLY_LOG_INFO, "backup written to %s", argv[1]);
		(void) tly_buf_printf(out, "backup written to %s\n", argv[1]);
		return (0);
	}
	return (usage(out));
}

static void *
admin_main(void *arg)
{
	struct tallyd *d = arg;
	nng_msg       *m;
	struct tly_req q;
	tly_buf        out = TLY_BUF_INIT, rep = TLY_BUF_INIT;
	char          *args[TLY_ADMIN_ARGS];
	int            rv;

	for (;;) {
		if (nng_recvmsg(d->admin, &m, 0) != 0)
			break;
		tly_buf_reset(&rep);
		rv = tly_req_decode(&q, nng_msg_body(m), nng_msg_len(m));
		if (rv != 0 || q.type != TLY_T_ADMIN) {
			(void) tly_rep_error(&rep, q.reqid, TLY_W_BADREQ,
			    "malformed admin request");
		} else {
			int i;

			for (i = 0; i < q.argc; i++) {
				if ((args[i] = malloc(q.argl[i] + 1u)) == NULL)
					break;
				memcpy(args[i], q.argv[i], q.argl[i]);
				args[i][q.argl[i]] = '\0';
			}
			if (i == q.argc)
				rv = tallyd_admin_exec(d, d->store, q.argc,
				    (const char *const *) args, &out);
			else
				rv = TALLY_ENOMEM;
			while (i-- > 0)
				free(args[i]);
			if (rv != 0) {
				(void) tly_rep_error(&rep, q.reqid,
				    tly_err_to_wire(rv),
				    tly_buf_cstr(&out) != NULL && out.len > 0
				        ? tly_buf_cstr(&out)
				        : tally_strerror(rv));
			} else if (tly_rep_begin(&rep,
			               TLY_T_ADMIN | TLY_T_REPLY,
			               q.reqid) == 0 &&
			    tly_buf_u32(&rep, (uint32_t) out.len) == 0 &&
			    tly_buf_append(&rep, out.p, out.len) == 0) {
				tly_rep_end(&rep, 0);
			}
		}
		nng_msg_clear(m);
		if (nng_msg_append(m, rep.p, rep.len) != 0 ||
		    nng_sendmsg(d->admin, m, 0) != 0)
			nng_msg_free(m);
	}
	tly_buf_free(&out);
	tly_buf_free(&rep);
	return (NULL);
}

int
tallyd_admin_start(struct tallyd *d, char *err, size_t errsz)
{
	nng_listener l;
	char         url[512];
	int          rv;

	if (tallyd_admin_url(url, sizeof url, d->conf->data) != 0) {
		snprintf(err, errsz, "data directory path too long");
		return (TALLY_ETOOBIG);
	}
	if ((rv = nng_rep0_open(&d->admin)) != 0)
		goto fail;
	d->admin_open = 1;
	if ((rv = nng_socket_set_size(
	         d->admin, NNG_OPT_RECVMAXSZ, 64 * 1024)) != 0 ||
	    (rv = nng_listener_create(&l, d->admin, url)) != 0 ||
	    (rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, 0600)) !=
	        0 ||
	    (rv = nng_listener_start(l, 0)) != 0)
		goto fail;
	if (pthread_create(&d->admin_thr, NULL, admin_main, d) != 0) {
		rv = NNG_ENOMEM;
		goto fail;
	}
	d->admin_started = 1;
	return (0);
fail:
	snprintf(err, errsz, "admin socket %s: %s", url, nng_strerror(rv));
	return (TALLY_EIO);
}

void
tallyd_admin_stop(struct tallyd *d)
{
	if (d->admin_open)
		nng_close(d->admin);
	d->admin_open = 0;
	if (d->admin_started)
		pthread_join(d->admin_thr, NULL);
	d->admin_started = 0;
}

int
tallyd_admin_client(
    const char *dir, int argc, const char *const *argv, tly_buf *out)
{
	nng_socket     s;
	nng_msg       *m = NULL;
	struct tly_req q;
	struct tly_rep r;
	tly_buf        b = TLY_BUF_INIT;
	char           url[512];
	int            rv;

	tly_buf_reset(out);
	if (argc < 1 || argc > TLY_ADMIN_ARGS ||
	    tallyd_admin_url(url, sizeof url, dir) != 0)
		return (TALLY_EINVAL);
	memset(&q, 0, sizeof q);
	q.type  = TLY_T_ADMIN;
	q.reqid = 1;
	q.argc  = (uint8_t) argc;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (n > TLY_ADMIN_ARG_MAX)
			return (TALLY_ETOOBIG);
		q.argv[i] = argv[i];
		q.argl[i] = (uint16_t) n;
	}
	if ((rv = tly_req_encode(&b, &q)) != 0)
		return (rv);
	if (nng_req0_open(&s) != 0) {
		tly_buf_free(&b);
		return (TALLY_ENOMEM);
	}
	if (nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 16u << 20) != 0 ||
	    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, ADMIN_TIMEOUT_MS) != 0 ||
	    nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, ADMIN_TIMEOUT_MS) !=
	        0) {
		rv = TALLY_EINTERNAL;
		goto out;
	}
	if (nng_dial(s, url, NULL, 0) != 0) {
		rv = TALLY_ECONNREF;
		goto out;
	}
	if (nng_msg_alloc(&m, 0) != 0 || nng_msg_append(m, b.p, b.len) != 0 ||
	    nng_sendmsg(s, m, 0) != 0) {
		if (m != NULL)
			nng_msg_free(m);
		rv = TALLY_ECONNREF;
		goto out;
	}
	if ((rv = nng_recvmsg(s, &m, 0)) != 0) {
		rv = rv == NNG_ETIMEDOUT ? TALLY_ETIMEDOUT : TALLY_ECONNREF;
		goto out;
	}
	rv = tly_rep_decode(&r, TLY_T_ADMIN, nng_msg_body(m), nng_msg_len(m));
	if (rv == 0 && r.type == TLY_T_ERROR) {
		(void) tly_buf_append(out, r.msg, r.msglen);
		rv = tly_wire_to_err(r.err);
		if (rv == TALLY_EPROTO)
			rv = TALLY_EINVAL;
	} else if (rv == 0) {
		(void) tly_buf_append(out, r.data, r.datalen);
	} else {
		rv = TALLY_EPROTO;
	}
	nng_msg_free(m);
out:
	nng_close(s);
	tly_buf_free(&b);
	return (rv);
}
