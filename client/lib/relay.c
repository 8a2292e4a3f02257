/*
 * relay.c -- the relay client (relay_int.h).
 *
 * Every call is: encode a request (with the session token when needed),
 * send it on the REQ socket, receive and strictly decode the reply, map
 * an error reply to a TALLY_E* code with the relay's message.  call()
 * owns the retry policy: transient failures back off and retry, an
 * unknown session is renewed once, everything else is returned.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include <sodium.h>

#include "relay_int.h"
#include "tly_buf.h"
#include "tly_err.h"

#define RELAY_CONNECT_MS 1000 /* first connection, per attempt */

struct tly_relay {
	nng_socket            sock;
	nng_dialer            dialer;
	nng_tls_config       *tls;
	struct tly_relay_opts o;
	_Atomic int           pipes;     /* connections up now */
	_Atomic int           connected; /* ever connected */
	unsigned char        *sk;        /* sodium_malloc'd, noaccess */
	unsigned char         pk[TLY_KEY_BYTES];
	int                   haskey;
	unsigned char         token[TLY_TOKEN_BYTES];
	int                   hastoken;
	uint64_t              reqid;
	int                   cur_wait;   /* RECVTIMEO/SENDTIMEO set now */
	int                   cur_resend; /* REQ_RESENDTIME set now */
	nng_msg              *last; /* the last reply, kept for decoding */
	tly_buf               b;
	char                  err[256];
};

/* Sets the message a b; returns rv. */
static int
seterr(tly_relay *r, int rv, const char *a, const char *b)
{
	snprintf(r->err, sizeof r->err, "%s%s", a, b);
	return (rv);
}

const char *
tly_relay_errmsg(const tly_relay *r)
{
	return (r->err);
}

static void
pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	tly_relay *r = arg;

	(void) p;
	if (ev == NNG_PIPE_EV_ADD_POST) {
		atomic_fetch_add(&r->pipes, 1);
		atomic_store(&r->connected, 1);
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		atomic_fetch_sub(&r->pipes, 1);
	}
}

static int
tls_client(tly_relay *r, const char *url)
{
	nng_url *u;
	int      rv;

	if ((rv = nng_tls_config_alloc(&r->tls, NNG_TLS_MODE_CLIENT)) != 0)
		return (TALLY_ENOMEM);
	if (nng_url_parse(&u, url) != 0)
		return (seterr(r, TALLY_EINVAL, url, ": bad URL"));
	rv = nng_tls_config_server_name(
	    r->tls, r->o.tls_name != NULL ? r->o.tls_name : u->u_hostname);
	nng_url_free(u);
	if (rv != 0)
		return (TALLY_ENOMEM);
	if (r->o.tls_ca != NULL) {
		if (nng_tls_config_ca_file(r->tls, r->o.tls_ca) != 0 ||
		    nng_tls_config_auth_mode(
		        r->tls, NNG_TLS_AUTH_MODE_REQUIRED) != 0)
			return (seterr(r, TALLY_EINVAL, r->o.tls_ca,
			    ": cannot load the CA certificate"));
	} else if (nng_tls_config_auth_mode(r->tls, NNG_TLS_AUTH_MODE_NONE) !=
	    0) {
		return (TALLY_EINTERNAL);
	}
	if (nng_dialer_set_ptr(r->dialer, NNG_OPT_TLS_CONFIG, r->tls) != 0)
		return (TALLY_EINTERNAL);
	return (0);
}

int
tly_relay_open(tly_relay **rp, const char *url, const struct tly_relay_opts *o)
{
	tly_relay *r;
	int        rv;

	*rp = NULL;
	if (url == NULL || strncmp(url, "ws", 2) == 0)
		return (TALLY_EINVAL);
	if ((r = calloc(1, sizeof *r)) == NULL)
		return (TALLY_ENOMEM);
	if (o != NULL)
		r->o = *o;
	if (r->o.timeout_ms <= 0)
		r->o.timeout_ms = 10000;
	if (r->o.retries == 0)
		r->o.retries = 3;
	else if (r->o.retries < 0)
		r->o.retries = 0;
	if (r->o.backoff_ms <= 0)
		r->o.backoff_ms = 100;
	if (r->o.resend_ms <= 0)
		r->o.resend_ms = 60000;
	if (r->o.recv_max == 0)
		r->o.recv_max = 16u << 20;
	randombytes_buf(&r->reqid, sizeof r->reqid);
	r->reqid &= 0xffffffffu;
	if ((rv = nng_req0_open(&r->sock)) != 0) {
		free(r);
		return (TALLY_ENOMEM);
	}
	nng_pipe_notify(r->sock, NNG_PIPE_EV_ADD_POST, pipe_cb, r);
	nng_pipe_notify(r->sock, NNG_PIPE_EV_REM_POST, pipe_cb, r);
	/* Before dialing: nng 1.5 would accept any length otherwise. */
	r->cur_wait   = -2;
	r->cur_resend = r->o.resend_ms;
	if (nng_socket_set_size(r->sock, NNG_OPT_RECVMAXSZ, r->o.recv_max) !=
	        0 ||
	    nng_socket_set_ms(
	        r->sock, NNG_OPT_REQ_RESENDTIME, r->o.resend_ms) != 0 ||
	    nng_socket_set_ms(r->sock, NNG_OPT_RECONNMINT, 50) != 0 ||
	    nng_socket_set_ms(r->sock, NNG_OPT_RECONNMAXT, 2000) != 0) {
		tly_relay_close(r);
		return (TALLY_EINTERNAL);
	}
	if (nng_dialer_create(&r->dialer, r->sock, url) != 0) {
		tly_relay_close(r);
		return (TALLY_EINVAL);
	}
	if (nng_dialer_set_size(r->dialer, NNG_OPT_RECVMAXSZ, r->o.recv_max) !=
	    0) {
		tly_relay_close(r);
		return (TALLY_EINTERNAL);
	}
	if (strncmp(url, "tls+tcp://", 10) == 0 &&
	    (rv = tls_client(r, url)) != 0) {
		tly_relay_close(r);
		return (rv);
	}
	if (nng_dialer_start(r->dialer, NNG_FLAG_NONBLOCK) != 0) {
		tly_relay_close(r);
		return (TALLY_EINVAL);
	}
	*rp = r;
	return (0);
}

void
tly_relay_close(tly_relay *r)
{
	if (r == NULL)
		return;
	if (nng_socket_id(r->sock) > 0)
		nng_close(r->sock);
	if (r->tls != NULL)
		nng_tls_config_free(r->tls);
	if (r->last != NULL)
		nng_msg_free(r->last);
	if (r->sk != NULL)
		sodium_free(r->sk);
	sodium_memzero(r->token, sizeof r->token);
	tly_buf_free(&r->b);
	free(r);
}

int
tly_relay_set_key(
    tly_relay *r, const unsigned char *pk, const unsigned char *sk)
{
	if (r->sk == NULL &&
	    (r->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL)
		return (TALLY_ENOMEM);
	(void) sodium_mprotect_readwrite(r->sk);
	memcpy(r->sk, sk, crypto_sign_SECRETKEYBYTES);
	(void) sodium_mprotect_noaccess(r->sk);
	memcpy(r->pk, pk, TLY_KEY_BYTES);
	r->haskey   = 1;
	r->hastoken = 0;
	return (0);
}

static void
backoff(tly_relay *r, int attempt)
{
	long ms = (long) r->o.backoff_ms << (attempt < 10 ? attempt : 10);
	struct timespec ts;

	if (ms > 5000)
		ms = 5000;
	ms += (long) randombytes_uniform((uint32_t) ms / 4 + 1);
	ts.tv_sec  = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/* One exchange: sends q, receives and decodes the reply into p (valid
 * until the next exchange).  Transport errors are TALLY_ETIMEDOUT or
 * TALLY_ECONNREF; an error reply is returned as its TALLY_E* code. */
static int
exchange(tly_relay *r, struct tly_req *q, struct tly_rep *p, int wait_ms)
{
	nng_msg *m = NULL;
	int      rv, resend;
	/* A challenge signs in once: a resent copy would be refused, and a
	 * wait must not be resent while it waits. */
	int noresend = q->type == TLY_T_HELLO || q->type == TLY_T_AUTH ||
	    q->type == TLY_T_REGISTER || q->type == TLY_T_WAIT ||
	    q->type == TLY_T_SLOT_TAKE;

	/* Not connected yet: find out soon whether the relay is there. */
	if (!atomic_load(&r->connected) && wait_ms > RELAY_CONNECT_MS)
		wait_ms = RELAY_CONNECT_MS;
	q->reqid = ++r->reqid;
	tly_buf_reset(&r->b);
	if ((rv = tly_req_encode(&r->b, q)) != 0)
		return (seterr(r, rv, "cannot encode the request", ""));
	if (r->b.len > r->o.recv_max + 4096 && q->type != TLY_T_PUT &&
	    q->type != TLY_T_APPEND)
		return (seterr(r, TALLY_ETOOBIG, "", "request too large"));
	if (r->last != NULL) {
		nng_msg_free(r->last);
		r->last = NULL;
	}
	/* Options change rarely: set them only then. */
	resend = noresend && wait_ms >= r->o.resend_ms ? wait_ms + 1000
	                                               : r->o.resend_ms;
	if (wait_ms != r->cur_wait) {
		if (nng_socket_set_ms(r->sock, NNG_OPT_RECVTIMEO, wait_ms) !=
		        0 ||
		    nng_socket_set_ms(r->sock, NNG_OPT_SENDTIMEO, wait_ms) !=
		        0)
			return (TALLY_EINTERNAL);
		r->cur_wait = wait_ms;
	}
	if (resend != r->cur_resend) {
		if (nng_socket_set_ms(
		        r->sock, NNG_OPT_REQ_RESENDTIME, resend) != 0)
			return (TALLY_EINTERNAL);
		r->cur_resend = resend;
	}
	if (nng_msg_alloc(&m, 0) != 0 || nng_msg_append(m, r->b.p, r->b.len)) {
		if (m != NULL)
			nng_msg_free(m);
		return (TALLY_ENOMEM);
	}
	if ((rv = nng_sendmsg(r->sock, m, 0)) != 0) {
		nng_msg_free(m);
		goto neterr;
	}
	if ((rv = nng_recvmsg(r->sock, &m, 0)) != 0)
		goto neterr;
	r->last = m;
	rv      = tly_rep_decode(p, q->type, nng_msg_body(m), nng_msg_len(m));
	if (rv == TALLY_EUNSUPP)
		return (seterr(
		    r, rv, "the relay speaks another protocol version", ""));
	if (rv != 0 || p->reqid != q->reqid)
		return (seterr(
		    r, TALLY_EPROTO, "", "malformed reply from the relay"));
	if (p->type == TLY_T_ERROR) {
		snprintf(r->err, sizeof r->err, "relay: %.*s (%s)",
		    (int) p->msglen, p->msg, tly_wire_errname(p->err));
		return (tly_wire_to_err(p->err));
	}
	return (0);
neterr:
	if (rv == NNG_ETIMEDOUT && !atomic_load(&r->connected))
		return (seterr(r, TALLY_ECONNREF, "",
		    "relay unreachable: no connection could be made"));
	if (rv == NNG_ETIMEDOUT)
		return (seterr(
		    r, TALLY_ETIMEDOUT, "", "relay did not answer in time"));
	return (
	    seterr(r, TALLY_ECONNREF, "relay connection: ", nng_strerror(rv)));
}

static int
transient(int rv)
{
	return (rv == TALLY_ETIMEDOUT || rv == TALLY_ECONNREF ||
	    rv == TALLY_EBUSY || rv == TALLY_ERATE);
}

/* hello + auth (reg: register with invite) on this connection. */
static int
authenticate(tly_relay *r, int reg, const char *invite)
{
	struct tly_req q;
	struct tly_rep p;
	unsigned char  sid[TLY_SERVER_ID_BYTES], ch[TLY_CHALLENGE_BYTES];
	unsigned char  msg[TLY_AUTH_MSG_MAX], sig[TLY_SIG_BYTES];
	size_t         n, il = invite != NULL ? strlen(invite) : 0;
	int            rv;

	if (!r->haskey)
		return (seterr(r, TALLY_ENOTINIT, "",
		    "no account key set for the relay"));
	if (il > TLY_INVITE_MAX)
		return (seterr(r, TALLY_EINVAL, "", "invite code too long"));
	memset(&q, 0, sizeof q);
	q.type = TLY_T_HELLO;
	if ((rv = exchange(r, &q, &p, r->o.timeout_ms)) != 0)
		return (rv);
	memcpy(sid, p.key, sizeof sid);
	memcpy(ch, p.challenge, sizeof ch);
	n = tly_auth_msg(
	    msg, reg, sid, ch, r->pk, (const unsigned char *) invite, il);
	(void) sodium_mprotect_readonly(r->sk);
	rv = crypto_sign_detached(sig, NULL, msg, n, r->sk);
	(void) sodium_mprotect_noaccess(r->sk);
	if (rv != 0)
		return (seterr(r, TALLY_ECRYPTO, "", "cannot sign"));
	memset(&q, 0, sizeof q);
	q.type      = reg ? TLY_T_REGISTER : TLY_T_AUTH;
	q.pubkey    = r->pk;
	q.challenge = ch;
	q.sig       = sig;
	q.data      = (const unsigned char *) invite;
	q.datalen   = il;
	if ((rv = exchange(r, &q, &p, r->o.timeout_ms)) != 0)
		return (rv);
	memcpy(r->token, p.key, TLY_TOKEN_BYTES);
	r->hastoken = 1;
	return (0);
}

/* Runs q with retries; p is valid until the next call. */
static int
call(tly_relay *r, struct tly_req *q, struct tly_rep *p, int wait_ms)
{
	int rv = 0, renewed = 0;

	for (int attempt = 0; attempt <= r->o.retries; attempt++) {
		if (attempt > 0)
			backoff(r, attempt - 1);
		if (tly_frame_authed(q->type) && !r->hastoken) {
			rv = authenticate(r, 0, NULL);
			if (rv != 0 && transient(rv))
				continue;
			if (rv != 0)
				return (rv);
		}
		q->token = r->token;
		rv       = exchange(r, q, p, wait_ms);
		if (rv == TALLY_EAUTH && tly_frame_authed(q->type) &&
		    !renewed) {
			/* The relay forgot the session: sign in again. */
			r->hastoken = 0;
			renewed     = 1;
			attempt--;
			continue;
		}
		if (!transient(rv))
			return (rv);
	}
	return (rv);
}

int
tly_relay_register(tly_relay *r, const char *invite)
{
	int rv = 0;

	for (int attempt = 0; attempt <= r->o.retries; attempt++) {
		if (attempt > 0)
			backoff(r, attempt - 1);
		if (!transient(rv = authenticate(r, 1, invite)))
			break;
	}
	return (rv);
}

int
tly_relay_auth(tly_relay *r)
{
	int rv = 0;

	for (int attempt = 0; attempt <= r->o.retries; attempt++) {
		if (attempt > 0)
			backoff(r, attempt - 1);
		if (!transient(rv = authenticate(r, 0, NULL)))
			break;
	}
	return (rv);
}

int
tly_relay_ping(tly_relay *r)
{
	struct tly_req q;
	struct tly_rep p;

	memset(&q, 0, sizeof q);
	q.type = TLY_T_PING;
	return (call(r, &q, &p, r->o.timeout_ms));
}

int
tly_relay_put(tly_relay *r, const unsigned char *to, const void *env,
    size_t len, unsigned char *id, int *dup)
{
	struct tly_req q;
	struct tly_rep p;
	int            rv;

	if (len > TLY_FRAME_MAX - 1024)
		return (seterr(r, TALLY_ETOOBIG, "", "envelope too large"));
	memset(&q, 0, sizeof q);
	q.type      = TLY_T_PUT;
	q.recipient = to;
	q.data      = env;
	q.datalen   = len;
	if ((rv = call(r, &q, &p, r->o.timeout_ms)) != 0)
		return (rv);
	if (id != NULL)
		memcpy(id, p.key, TLY_MAIL_ID_BYTES);
	if (dup != NULL)
		*dup = p.dup;
	return (0);
}

int
tly_relay_list(tly_relay *r, uint64_t after, unsigned max,
    struct tly_relay_mail **items, size_t *n, int *more)
{
	struct tly_req       q;
	struct tly_rep       p;
	struct tly_mail_item m;
	size_t               off = 0, i = 0;
	int                  rv;

	*items = NULL;
	*n     = 0;
	memset(&q, 0, sizeof q);
	q.type  = TLY_T_LIST;
	q.after = after;
	q.max   = max == 0 || max > TLY_LIST_MAX ? TLY_LIST_MAX : max;
	if ((rv = call(r, &q, &p, r->o.timeout_ms)) != 0)
		return (rv);
	if (p.count > 0 && (*items = calloc(p.count, sizeof **items)) == NULL)
		return (TALLY_ENOMEM);
	while (i < p.count && tly_rep_mail_next(&p, &off, &m)) {
		(*items)[i].seq  = m.seq;
		(*items)[i].size = m.size;
		(*items)[i].time = (int64_t) m.time;
		memcpy((*items)[i].id, m.id, TLY_MAIL_ID_BYTES);
		i++;
	}
	*n = i;
	if (more != NULL)
		*more = p.more;
	return (0);
}

int
tly_relay_fetch(
    tly_relay *r, const unsigned char *id, unsigned char **env, size_t *len)
{
	struct tly_req q;
	struct tly_rep p;
	unsigned char  h[TLY_MAIL_ID_BYTES];
	int            rv;

	*env = NULL;
	*len = 0;
	memset(&q, 0, sizeof q);
	q.type = TLY_T_FETCH;
	q.id   = id;
	if ((rv = call(r, &q, &p, r->o.timeout_ms)) != 0)
		return (rv);
	/* The id is the envelope's hash: check what the relay gave. */
	crypto_generichash(h, sizeof h, p.data, p.datalen, NULL, 0);
	if (crypto_verify_32(h, id) != 0)
		return (seterr(r, TALLY_ECRYPTO, "",
		    "the relay returned an envelope that does not match its "
		    "id"));
	if ((*env = malloc(p.datalen > 0 ? p.datalen : 1)) == NULL)
		return (TALLY_ENOMEM);
	memcpy(*env, p.data, p.datalen);
	*len = p.datalen;
	return (0);
}

int
tly_relay_ack(
    tly_relay *r, const unsigned char *ids, size_t n, unsigned *deleted)
{
	struct tly_req q;
	struct tly_rep p;
	unsigned       total = 0;
	int            rv;

	while (n > 0) {
		size_t k = n > TLY_ACK_MAX ? TLY_ACK_MAX : n;

		memset(&q, 0, sizeof q);
		q.type = TLY_T_ACK;
		q.ids  = ids;
		q.nids = (uint16_t) k;
		if ((rv = call(r, &q, &p, r->o.timeout_ms)) != 0)
			return (rv);
		total += p.count;
		ids += k * TLY_MAIL_ID_BYTES;
		n -= k;
	}
	if (deleted != NULL)
		*deleted = total;
	return (0);
}

int
tly_relay_append(
    tly_relay *r, const void *data, size_t len, uint64_t *seq, int *dup)
{
	struct tly_req q;
	struct tly_rep p;
	int            rv;

	if (len > TLY_FRAME_MAX - 1024)
		return (seterr(r, TALLY_ETOOBIG, "", "entry too large"));
	memset(&q, 0, sizeof q);
	q.type    = TLY_T_APPEND;
	q.data    = data;
	q.datalen = len;
	if ((rv = call(r, &q, &p, r->o.timeout_ms)) != 0)
		return (rv);
	if (seq != NULL)
		*seq = p.seq;
	if (dup != NULL)
		*dup = p.dup;
	return (0);
}

void
tly_relay_entries_free(struct tly_relay_entry *e, size_t n)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(e[i].data);
	free(e);
}

int
tly_relay_read(tly_relay *r, uint64_t after, unsigned max, size_t maxbytes,
    struct tly_relay_entry **e, size_t *n, int *more)
{
	struct tly_req      q;
	struct tly_rep      p;
	struct tly_log_item it;
	size_t              off = 0, i = 0;
	int                 rv;

	*e = NULL;
	*n = 0;
	memset(&q, 0, sizeof q);
	q.type     = TLY_T_READ;
	q.after    = after;
	q.max      = max == 0 || max > TLY_LIST_MAX ? TLY_LIST_MAX : max;
	q.maxbytes = maxbytes == 0 || maxbytes > UINT32_MAX
	    ? (uint32_t) (r->o.recv_max / 2)
	    : (uint32_t) maxbytes;
	if ((rv = call(r, &q, &p, r->o.timeout_ms)) != 0)
		return (rv);
	if (p.count > 0 && (*e = calloc(p.count, sizeof **e)) == NULL)
		return (TALLY_ENOMEM);
	while (i < p.count && tly_rep_log_next(&p, &off, &it)) {
		(*e)[i].seq  = it.seq;
		(*e)[i].time = (int64_t) it.time;
		(*e)[i].len  = it.len;
		if (((*e)[i].data = malloc(it.len > 0 ? it.len : 1)) == NULL) {
			tly_relay_entries_free(*e, i);
			*e = NULL;
			return (TALLY_ENOMEM);
		}
		memcpy((*e)[i].data, it.data, it.len);
		i++;
	}
	*n = i;
	if (more != NULL)
		*more = p.more;
	return (0);
}

int
tly_relay_trim(
    tly_relay *r, uint64_t through, uint64_t *deleted, uint64_t *floor)
{
	struct tly_req q;
	struct tly_rep p;
	uint64_t       total = 0;
	int            rv;

	/* The relay drops TLY_TRIM_MAX entries at most per request. */
	do {
		memset(&q, 0, sizeof q);
		q.type    = TLY_T_TRIM;
		q.through = through;
		if ((rv = call(r, &q, &p, r->o.timeout_ms)) != 0)
			return (rv);
		total += p.trimmed;
	} while (p.trimmed == TLY_TRIM_MAX && p.floor < through);
	if (deleted != NULL)
		*deleted = total;
	if (floor != NULL)
		*floor = p.floor;
	return (0);
}

int
tly_relay_wait(tly_relay *r, uint64_t mail_after, uint64_t log_after,
    unsigned secs, uint64_t *mail_head, uint64_t *log_head)
{
	struct tly_req q;
	struct tly_rep p;
	int            rv;

	if (secs > UINT16_MAX)
		secs = UINT16_MAX;
	memset(&q, 0, sizeof q);
	q.type    = TLY_T_WAIT;
	q.after   = mail_after;
	q.after2  = log_after;
	q.timeout = secs;
	if ((rv = call(r, &q, &p, (int) secs * 1000 + r->o.timeout_ms)) != 0)
		return (rv);
	if (mail_head != NULL)
		*mail_head = p.mail_head;
	if (log_head != NULL)
		*log_head = p.log_head;
	return (0);
}

int
tly_relay_info(tly_relay *r, struct tly_relay_info *info)
{
	struct tly_req q;
	struct tly_rep p;
	int            rv;

	memset(&q, 0, sizeof q);
	q.type = TLY_T_INFO;
	if ((rv = call(r, &q, &p, r->o.timeout_ms)) != 0)
		return (rv);
	info->used      = p.used;
	info->quota     = p.quota;
	info->mails     = p.mails;
	info->mail_head = p.mail_head;
	info->log_head  = p.log_head;
	return (0);
}

int
tly_relay_slot_put(tly_relay *r, const unsigned char *id, const void *p,
    size_t len)
{
	struct tly_req q;
	struct tly_rep rep;
	int            rv;

	if (len > TLY_SLOT_MAX)
		return (seterr(r, TALLY_ETOOBIG, "", "slot data too large"));
	memset(&q, 0, sizeof q);
	q.type    = TLY_T_SLOT_PUT;
	q.id      = id;
	q.data    = p;
	q.datalen = len;
	rv        = call(r, &q, &rep, r->o.timeout_ms);
	/* Slot ids are unguessable: a filled slot is this call's own
	 * earlier attempt, answered too late. */
	return (rv == TALLY_EEXIST ? 0 : rv);
}

int
tly_relay_slot_take(
    tly_relay *r, const unsigned char *id, unsigned char **p, size_t *len)
{
	struct tly_req q;
	struct tly_rep rep;
	int            rv;

	*p   = NULL;
	*len = 0;
	memset(&q, 0, sizeof q);
	q.type = TLY_T_SLOT_TAKE;
	q.id   = id;
	if ((rv = call(r, &q, &rep, r->o.timeout_ms)) != 0)
		return (rv);
	if ((*p = malloc(rep.datalen > 0 ? rep.datalen : 1)) == NULL)
		return (TALLY_ENOMEM);
	memcpy(*p, rep.data, rep.datalen);
	*len = rep.datalen;
	return (0);
}
