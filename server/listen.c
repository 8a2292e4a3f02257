/*
 * listen.c -- tallyd's nng front end: one rep0 socket, many work items
 * (an nng context with a receive and a send aio each, nng's
 * demo/async/server.c pattern), the request handlers, deferred replies for
 * writes and waits, the shutdown drain and the listener self-probe.
 *
 * A work item moves RECV -> (handled at once | STORE | WAIT) -> SEND ->
 * RECV, or PARKED once the server drains for shutdown.  Decoding, session
 * and limit checks run on the nng thread that received the request; a
 * write is then handed to the store, whose finisher thread sends the reply
 * once the commit holding it is durable.  A wait parks the item on a list by
 * account with a timer aio; the reply is always sent from the timer
 * callback, which runs exactly once: on timeout, or when a commit for the
 * account cancels the timer.  "waiting" (under wlock) says who claimed it.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>

#include <sodium.h>

#include "tallyd.h"
#include "tly_enc.h"
#include "tly_err.h"
#include "tly_log.h"
#include "tly_time.h"

#define WAIT_BUCKETS 1024
#define PROBE_TIMEOUT_MS 1500
#define PROBE_FAILS 2 /* consecutive failures before a restart */
#define READ_MAX_BYTES (4u << 20)
#define RECV_SLACK 4096    /* frame overhead above max_message */
#define CLOSE_TIMEOUT_S 3  /* longest wait for nng_close at exit */
#define DRAIN_TIMEOUT_MS 5000 /* longest wait for requests in flight */
#define WORKERS_MAX 65536  /* work items, waiting ones included */
#define STAT_WATCH_MS 250  /* how often accept errors are checked */

enum { W_INIT, W_RECV, W_BUSY, W_SEND, W_PARKED };

struct work {
	struct tallyd        *d;
	nng_aio              *aio;  /* send */
	nng_aio              *raio; /* recv: cancelled alone when draining */
	nng_aio              *tmo; /* wait timer */
	nng_ctx               ctx;
	_Atomic int           state; /* W_*; read by the stopping thread */
	nng_msg              *req; /* request; q points into it */
	struct tly_req        q;
	struct tallyd_session sess;
	struct tly_store_op   op;
	tly_buf               out;
	struct work          *wnext, *wprev; /* wait list, wlock */
	int                   waiting;       /* on the wait list, wlock */
	int64_t               wacct;
	struct work          *anext; /* all items, alock */
};

struct tallyd_front {
	pthread_mutex_t  alock;
	struct work     *all;    /* every work item, guarded by alock */
	int              nworks; /* guarded by alock */
	_Atomic int      idle;   /* items waiting for a request */
	_Atomic int      draining; /* stopping: items park, none receive */
	_Atomic int      parked;   /* items parked while draining */
	_Atomic int      started;  /* items that ever received */
	int              drained;  /* tallyd_front_drain ran */
	pthread_mutex_t  wlock;
	struct work     *wait[WAIT_BUCKETS]; /* guarded by wlock */
	_Atomic uint64_t inflight;
	char            *urls[TALLYD_MAX_LISTEN]; /* resolved, for probes */
	int              fails[TALLYD_MAX_LISTEN];
	uint64_t         other[TALLYD_MAX_LISTEN]; /* accept errors seen */
	pthread_t        hk;
	int              hk_started;
	pthread_mutex_t  hklock;
	pthread_cond_t   hkcond;
	int              hkstop; /* guarded by hklock */
};

static void work_send(struct work *w);
static void recv_next(struct work *w);
static void work_grow(struct tallyd *d);
static void wait_cb(void *arg);
static void stat_watch(struct tallyd *d);

static void
refuse(struct work *w, int code, const char *msg)
{
	struct tallyd *d = w->d;

	atomic_fetch_add(&d->m.refusals[code], 1);
	tly_buf_reset(&w->out);
	if (tly_rep_error(&w->out, w->q.reqid, code, msg) != 0)
		tly_buf_reset(&w->out);
	tly_log(TLY_LOG_DEBUG, "refused request type %u: %s",
	    (unsigned) w->q.type, msg);
	work_send(w);
}

static void
refuse_err(struct work *w, int rv)
{
	int code = tly_err_to_wire(rv);

	refuse(w, code,
	    rv == TALLY_EAUTH ? "not authorised" : tly_wire_errname(code));
}

static void
work_send(struct work *w)
{
	nng_msg *msg;

	if (w->req != NULL) {
		nng_msg_free(w->req);
		w->req = NULL;
	}
	msg = NULL;
	if (w->out.len == 0 || nng_msg_alloc(&msg, 0) != 0 ||
	    nng_msg_append(msg, w->out.p, w->out.len) != 0) {
		/* Out of memory: no reply; the client times out. */
		if (msg != NULL)
			nng_msg_free(msg);
		atomic_fetch_sub(&w->d->front->inflight, 1);
		recv_next(w);
		return;
	}
	atomic_fetch_add(&w->d->m.bytes_out, w->out.len);
	if (w->out.cap > (64u << 10))
		tly_buf_free(&w->out);
	else
		tly_buf_reset(&w->out);
	nng_aio_set_msg(w->aio, msg);
	w->state = W_SEND;
	nng_ctx_send(w->ctx, w->aio);
}

/* Starts a reply of the request's type; returns the header offset. */
static size_t
reply_begin(struct work *w)
{
	tly_buf_reset(&w->out);
	(void) tly_rep_begin(&w->out, w->q.type | TLY_T_REPLY, w->q.reqid);
	return (0);
}

static void
reply_end(struct work *w, int rv)
{
	if (rv != 0) {
		refuse_err(w, rv);
		return;
	}
	tly_rep_end(&w->out, 0);
	work_send(w);
}

static void
store_done(struct tly_store_op *op)
{
	struct work   *w = op->arg;
	struct tallyd *d = w->d;
	tly_buf       *b = &w->out;
	unsigned char  tok[TLY_TOKEN_BYTES];
	uint32_t       ttl;
	int            rv = op->rv;

	if (rv != 0) {
		if (op->type == TLY_OP_REGISTER && rv == TALLY_EAUTH)
			refuse(w, TLY_W_UNAUTH,
			    "registration refused: invite code unknown, used "
			    "up or expired, or account disabled");
		else if (rv == TALLY_EQUOTA)
			refuse(w, TLY_W_QUOTA,
			    "the account's storage quota "
			    "is used up");
		else if (rv == TALLY_ENOENT && op->type == TLY_OP_PUT)
			refuse(w, TLY_W_NOTFOUND, "no such recipient");
		else
			refuse_err(w, rv);
		return;
	}
	reply_begin(w);
	switch (op->type) {
	case TLY_OP_REGISTER:
		if ((rv = tallyd_auth_session(
		         d->auth, op->id, op->pk, tok, &ttl)) == 0) {
			if (!op->dup) {
				char fp[17];

				atomic_fetch_add(&d->m.registrations, 1);
				tly_hex_encode(fp, op->pk, 8);
				tly_log(TLY_LOG_INFO,
				    "registered account %s (id %lld)", fp,
				    (long long) op->id);
			}
			rv = tly_buf_append(b, tok, sizeof tok);
			sodium_memzero(tok, sizeof tok);
			if (rv == 0)
				rv = tly_buf_u32(b, ttl);
		}
		break;
	case TLY_OP_PUT:
		if ((rv = tly_buf_append(b, op->hash, TLY_MAIL_ID_BYTES)) ==
		        0 &&
		    (rv = tly_buf_u64(b, op->seq)) == 0)
			rv = tly_buf_u8(b, (uint8_t) op->dup);
		break;
	case TLY_OP_APPEND:
		if ((rv = tly_buf_u64(b, op->seq)) == 0)
			rv = tly_buf_u8(b, (uint8_t) op->dup);
		break;
	case TLY_OP_ACK:
		rv = tly_buf_u16(b, (uint16_t) op->count);
		break;
	case TLY_OP_TRIM:
		if ((rv = tly_buf_u32(b, (uint32_t) op->count)) == 0)
			rv = tly_buf_u64(b, op->seq);
		break;
	default:
		rv = TALLY_EINTERNAL;
		break;
	}
	reply_end(w, rv);
}

static void
submit(struct work *w, int type)
{
	struct tly_store_op *op = &w->op;

	memset(op, 0, sizeof *op);
	op->type    = type;
	op->acct    = w->sess.acct;
	op->data    = w->q.data;
	op->datalen = w->q.datalen;
	op->done    = store_done;
	op->arg     = w;
	switch (type) {
	case TLY_OP_REGISTER:
		op->pk   = w->q.pubkey;
		op->open = w->d->conf->open_reg;
		break;
	case TLY_OP_PUT:
		op->pk = w->q.recipient;
		break;
	case TLY_OP_ACK:
		op->ids  = w->q.ids;
		op->nids = w->q.nids;
		break;
	case TLY_OP_TRIM:
		op->upto = w->q.through;
		break;
	}
	tly_store_submit(w->d->store, op);
}

/* Wait list (wlock held). */
static void
wait_unlink(struct tallyd_front *f, struct work *w)
{
	unsigned b = (unsigned) ((uint64_t) w->wacct % WAIT_BUCKETS);

	if (w->wprev != NULL)
		w->wprev->wnext = w->wnext;
	else
		f->wait[b] = w->wnext;
	if (w->wnext != NULL)
		w->wnext->wprev = w->wprev;
	w->wnext = w->wprev = NULL;
	w->waiting          = 0;
}

static void
wait_wake(struct tallyd_front *f, struct work *w)
{
	pthread_mutex_lock(&f->wlock);
	if (w->waiting) {
		wait_unlink(f, w);
		nng_aio_cancel(w->tmo);
	}
	pthread_mutex_unlock(&f->wlock);
}

/* Store notification: new mail or log entry for acct (writer thread). */
static void
on_commit(void *arg, int64_t acct, int kind)
{
	struct tallyd       *d = arg;
	struct tallyd_front *f = d->front;
	unsigned             b = (unsigned) ((uint64_t) acct % WAIT_BUCKETS);
	struct work         *w, *next;

	(void) kind;
	pthread_mutex_lock(&f->wlock);
	for (w = f->wait[b]; w != NULL; w = next) {
		next = w->wnext;
		if (w->wacct == acct) {
			wait_unlink(f, w);
			nng_aio_cancel(w->tmo);
		}
	}
	pthread_mutex_unlock(&f->wlock);
}

static void
wait_start(struct work *w)
{
	struct tallyd       *d = w->d;
	struct tallyd_front *f = d->front;
	struct tly_account   a;
	uint32_t             secs = w->q.timeout;
	unsigned             b;

	if (secs > d->conf->max_wait)
		secs = d->conf->max_wait;
	w->wacct = w->sess.acct;
	b        = (unsigned) ((uint64_t) w->wacct % WAIT_BUCKETS);
	atomic_fetch_add(&d->m.waits_open, 1);
	pthread_mutex_lock(&f->wlock);
	w->wprev = NULL;
	w->wnext = f->wait[b];
	if (w->wnext != NULL)
		w->wnext->wprev = w;
	f->wait[b] = w;
	w->waiting = 1;
	nng_sleep_aio((nng_duration) secs * 1000, w->tmo);
	pthread_mutex_unlock(&f->wlock);
	work_grow(d);
	/* Registered first, checked second: no commit can slip between. */
	if (atomic_load(&d->stopping) || secs == 0 ||
	    (tly_store_account_id(d->store, w->wacct, &a) == 0 &&
	        (a.mail_head > w->q.after || a.log_head > w->q.after2)))
		wait_wake(f, w);
}

static void
wait_cb(void *arg)
{
	struct work         *w = arg;
	struct tallyd       *d = w->d;
	struct tallyd_front *f = d->front;
	struct tly_account   a;
	int                  rv;

	pthread_mutex_lock(&f->wlock);
	if (w->waiting)
		wait_unlink(f, w);
	pthread_mutex_unlock(&f->wlock);
	atomic_fetch_sub(&d->m.waits_open, 1);
	reply_begin(w);
	if ((rv = tly_store_account_id(d->store, w->wacct, &a)) == 0 &&
	    (rv = tly_buf_u64(&w->out, a.mail_head)) == 0)
		rv = tly_buf_u64(&w->out, a.log_head);
	reply_end(w, rv);
}

/* The sign-in bucket key of the client that sent w's request: its IPv4
 * address or IPv6 /64 over tcp:// and tls+tcp://, else (ipc://) its
 * connection.  Returns the key's length. */
static size_t
client_key(struct work *w, unsigned char *key)
{
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0xff, 0xff };
	nng_pipe     p = nng_msg_get_pipe(w->req);
	nng_sockaddr sa;
	uint32_t     id;

	if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) == 0) {
		if (sa.s_family == NNG_AF_INET) {
			key[0] = 4;
			memcpy(key + 1, &sa.s_in.sa_addr, 4);
			return (5);
		}
		if (sa.s_family == NNG_AF_INET6 &&
		    memcmp(sa.s_in6.sa_addr, v4mapped, sizeof v4mapped) == 0) {
			/* An IPv4 client of a dual-stack listener. */
			key[0] = 4;
			memcpy(key + 1, sa.s_in6.sa_addr + 12, 4);
			return (5);
		}
		if (sa.s_family == NNG_AF_INET6) {
			key[0] = 6;
			memcpy(key + 1, sa.s_in6.sa_addr, 8);
			return (9);
		}
	}
	id     = (uint32_t) nng_pipe_id(p);
	key[0] = 'p';
	memcpy(key + 1, &id, sizeof id);
	return (1 + sizeof id);
}

static void
h_hello(struct work *w)
{
	unsigned char ch[TLY_CHALLENGE_BYTES];
	uint32_t      ttl;
	int           rv;

	tallyd_auth_challenge(w->d->auth, ch, &ttl);
	reply_begin(w);
	if ((rv = tly_buf_append(&w->out, w->d->sid, TLY_SERVER_ID_BYTES)) ==
	        0 &&
	    (rv = tly_buf_append(&w->out, ch, sizeof ch)) == 0)
		rv = tly_buf_u32(&w->out, ttl);
	reply_end(w, rv);
}

static void
h_auth(struct work *w)
{
	struct tallyd     *d = w->d;
	struct tly_account a;
	unsigned char      tok[TLY_TOKEN_BYTES];
	uint32_t           ttl;
	int                rv;

	if (tallyd_auth_verify(d->auth, 0, &w->q) != 0) {
		atomic_fetch_add(&d->m.auth_failed, 1);
		refuse(w, TLY_W_UNAUTH,
		    "authentication failed: bad, expired "
		    "or reused challenge, or bad signature");
		return;
	}
	rv = tly_store_account(d->store, w->q.pubkey, &a);
	if (rv == TALLY_ENOENT) {
		atomic_fetch_add(&d->m.auth_failed, 1);
		refuse(w, TLY_W_UNAUTH, "unknown account: register first");
		return;
	}
	if (rv == 0 && a.disabled) {
		atomic_fetch_add(&d->m.auth_failed, 1);
		refuse(w, TLY_W_UNAUTH, "account disabled");
		return;
	}
	if (rv != 0 ||
	    (rv = tallyd_auth_session(d->auth, a.id, a.pk, tok, &ttl)) != 0) {
		refuse_err(w, rv);
		return;
	}
	atomic_fetch_add(&d->m.auth_ok, 1);
	reply_begin(w);
	if ((rv = tly_buf_append(&w->out, tok, sizeof tok)) == 0)
		rv = tly_buf_u32(&w->out, ttl);
	sodium_memzero(tok, sizeof tok);
	reply_end(w, rv);
}

static void
h_register(struct work *w)
{
	if (tallyd_auth_verify(w->d->auth, 1, &w->q) != 0) {
		atomic_fetch_add(&w->d->m.auth_failed, 1);
		refuse(w, TLY_W_UNAUTH,
		    "registration failed: bad, expired or "
		    "reused challenge, or bad signature");
		return;
	}
	submit(w, TLY_OP_REGISTER);
}

/* Patches the count and more fields written at offset at. */
static void
patch_count(struct work *w, size_t at, uint16_t count, int more)
{
	w->out.p[at]     = (unsigned char) (count >> 8);
	w->out.p[at + 1] = (unsigned char) count;
	w->out.p[at + 2] = (unsigned char) (more ? 1 : 0);
}

static void
h_list(struct work *w)
{
	uint16_t count;
	int      more, rv;
	size_t   at;

	reply_begin(w);
	at = w->out.len;
	if ((rv = tly_buf_u16(&w->out, 0)) == 0 &&
	    (rv = tly_buf_u8(&w->out, 0)) == 0 &&
	    (rv = tly_store_mail_list(w->d->store, w->sess.acct, w->q.after,
	         w->q.max, &w->out, &count, &more)) == 0)
		patch_count(w, at, count, more);
	reply_end(w, rv);
}

static void
h_read(struct work *w)
{
	uint16_t count;
	int      more, rv;
	size_t   at, maxb = w->q.maxbytes;

	if (maxb > READ_MAX_BYTES)
		maxb = READ_MAX_BYTES;
	reply_begin(w);
	at = w->out.len;
	if ((rv = tly_buf_u16(&w->out, 0)) == 0 &&
	    (rv = tly_buf_u8(&w->out, 0)) == 0 &&
	    (rv = tly_store_log_read(w->d->store, w->sess.acct, w->q.after,
	         w->q.max, maxb, &w->out, &count, &more)) == 0)
		patch_count(w, at, count, more);
	reply_end(w, rv);
}

static void
h_fetch(struct work *w)
{
	int rv;

	reply_begin(w);
	rv = tly_store_mail_fetch(w->d->store, w->sess.acct, w->q.id, &w->out);
	if (rv == TALLY_ENOENT) {
		refuse(w, TLY_W_NOTFOUND, "no such envelope in this mailbox");
		return;
	}
	reply_end(w, rv);
}

static void
h_info(struct work *w)
{
	struct tly_account a;
	tly_buf           *b = &w->out;
	int                rv;

	reply_begin(w);
	if ((rv = tly_store_account_id(w->d->store, w->sess.acct, &a)) == 0 &&
	    (rv = tly_buf_u64(b, a.used)) == 0 &&
	    (rv = tly_buf_u64(b, w->d->conf->quota)) == 0 &&
	    (rv = tly_buf_u32(b, a.mails)) == 0 &&
	    (rv = tly_buf_u64(b, a.mail_head)) == 0)
		rv = tly_buf_u64(b, a.log_head);
	reply_end(w, rv);
}

static void
handle(struct work *w)
{
	struct tallyd *d   = w->d;
	void          *buf = nng_msg_body(w->req);
	size_t         len = nng_msg_len(w->req);
	int            rv;

	atomic_fetch_add(&d->m.bytes_in, len);
	rv = tly_req_decode(&w->q, buf, len);
	atomic_fetch_add(&d->m.requests[w->q.type], 1);
	if (rv == TALLY_EUNSUPP) {
		refuse(w, TLY_W_VERSION,
		    "unsupported protocol version; this "
		    "relay speaks version 1");
		return;
	}
	if (rv != 0 || w->q.type == TLY_T_ADMIN) {
		refuse(w, TLY_W_BADREQ, "malformed or unknown request");
		return;
	}
	if (atomic_load(&d->stopping)) {
		refuse(w, TLY_W_BUSY, "server shutting down; retry later");
		return;
	}
	if (w->q.token != NULL) {
		rv = tallyd_auth_check(d->auth, w->q.token, &w->sess);
		if (rv == TALLY_ERATE) {
			refuse(w, TLY_W_RATE, "too many requests; slow down");
			return;
		}
		if (rv != 0) {
			refuse(w, TLY_W_UNAUTH,
			    "session unknown or expired: "
			    "authenticate again");
			return;
		}
	}
	if (w->q.type == TLY_T_HELLO || w->q.type == TLY_T_AUTH ||
	    w->q.type == TLY_T_REGISTER) {
		unsigned char key[16];

		if (tallyd_auth_addr_check(d->auth, key, client_key(w, key)) !=
		    0) {
			refuse(w, TLY_W_RATE,
			    "too many sign-in requests from this "
			    "address; retry later");
			return;
		}
	}
	switch (w->q.type) {
	case TLY_T_PING:
		reply_begin(w);
		reply_end(w, 0);
		break;
	case TLY_T_HELLO:
		h_hello(w);
		break;
	case TLY_T_AUTH:
		h_auth(w);
		break;
	case TLY_T_REGISTER:
		h_register(w);
		break;
	case TLY_T_PUT:
	case TLY_T_APPEND:
		if (w->q.datalen > d->conf->max_message) {
			refuse(w, TLY_W_TOOBIG,
			    "message larger than this "
			    "relay's max_message");
			return;
		}
		submit(w, w->q.type == TLY_T_PUT ? TLY_OP_PUT : TLY_OP_APPEND);
		break;
	case TLY_T_ACK:
		submit(w, TLY_OP_ACK);
		break;
	case TLY_T_TRIM:
		submit(w, TLY_OP_TRIM);
		break;
	case TLY_T_LIST:
		h_list(w);
		break;
	case TLY_T_FETCH:
		h_fetch(w);
		break;
	case TLY_T_READ:
		h_read(w);
		break;
	case TLY_T_WAIT:
		wait_start(w);
		break;
	case TLY_T_INFO:
		h_info(w);
		break;
	case TLY_T_SLOT_PUT:
	case TLY_T_SLOT_TAKE:
		/* The link rendezvous, no account (slot.c). */
		tallyd_slot_reply(d, &w->q, &w->out);
		work_send(w);
		break;
	default:
		refuse(w, TLY_W_BADREQ, "unknown request type");
		break;
	}
}

static void
recv_next(struct work *w)
{
	struct tallyd_front *f = w->d->front;

	if (atomic_load(&f->draining)) {
		/* Shutting down: take no more requests (see drain()). */
		w->state = W_PARKED;
		atomic_fetch_add(&f->parked, 1);
		return;
	}
	atomic_fetch_add(&f->idle, 1);
	w->state = W_RECV;
	nng_ctx_recv(w->ctx, w->raio);
	/* drain() may have looked at this item before the recv: cancel
	 * it here (raio only ever receives; the callback parks the item). */
	if (atomic_load(&f->draining))
		nng_aio_cancel(w->raio);
}

/* A request came (or the receive failed). */
static void
recv_cb(void *arg)
{
	struct work   *w = arg;
	struct tallyd *d = w->d;
	int            rv;

	atomic_fetch_sub(&d->front->idle, 1);
	if ((rv = nng_aio_result(w->raio)) != 0) {
		if (rv != NNG_ECLOSED)
			recv_next(w);
		return;
	}
	w->req   = nng_aio_get_msg(w->raio);
	w->state = W_BUSY;
	atomic_fetch_add(&d->front->inflight, 1);
	handle(w);
}

/* A reply went out (or could not). */
static void
work_cb(void *arg)
{
	struct work *w = arg;

	if (nng_aio_result(w->aio) != 0)
		nng_msg_free(nng_aio_get_msg(w->aio));
	atomic_fetch_sub(&w->d->front->inflight, 1);
	recv_next(w);
}

/* Allocates a work item on d's socket and links it; NULL on failure. */
static struct work *
work_new(struct tallyd *d)
{
	struct tallyd_front *f = d->front;
	struct work         *w;

	if ((w = calloc(1, sizeof *w)) == NULL)
		return (NULL);
	w->d = d;
	if (nng_aio_alloc(&w->aio, work_cb, w) != 0 ||
	    nng_aio_alloc(&w->raio, recv_cb, w) != 0 ||
	    nng_aio_alloc(&w->tmo, wait_cb, w) != 0 ||
	    nng_ctx_open(&w->ctx, d->sock) != 0) {
		nng_aio_free(w->aio);
		nng_aio_free(w->raio);
		nng_aio_free(w->tmo);
		free(w);
		return (NULL);
	}
	pthread_mutex_lock(&f->alock);
	w->anext = f->all;
	f->all   = w;
	f->nworks++;
	pthread_mutex_unlock(&f->alock);
	return (w);
}

/* Long polls hold their work item: keep enough others receiving. */
static void
work_grow(struct tallyd *d)
{
	struct tallyd_front *f   = d->front;
	int                  min = d->conf->workers / 4 + 8;
	struct work         *w;
	int                  n;

	if (atomic_load(&f->idle) >= min || atomic_load(&d->stopping))
		return;
	pthread_mutex_lock(&f->alock);
	n = f->nworks;
	pthread_mutex_unlock(&f->alock);
	if (n >= WORKERS_MAX || (w = work_new(d)) == NULL)
		return;
	atomic_fetch_add(&f->started, 1);
	recv_next(w);
}

static void
pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct tallyd *d = arg;

	(void) p;
	if (ev == NNG_PIPE_EV_ADD_POST) {
		atomic_fetch_add(&d->m.connections, 1);
		atomic_fetch_add(&d->m.connections_open, 1);
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		atomic_fetch_sub(&d->m.connections_open, 1);
	}
}

static char *
read_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *s  = NULL;
	long  n;

	if (fp == NULL)
		return (NULL);
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    n < (1 << 20) && fseek(fp, 0, SEEK_SET) == 0 &&
	    (s = malloc((size_t) n + 1)) != NULL) {
		if (fread(s, 1, (size_t) n, fp) != (size_t) n) {
			free(s);
			s = NULL;
		} else {
			s[n] = '\0';
		}
	}
	fclose(fp);
	return (s);
}

static int
tls_setup(struct tallyd *d, char *err, size_t errsz)
{
	char *cert, *key;
	int   rv;

	if (d->conf->tls_cert == NULL || d->conf->tls_key == NULL) {
		snprintf(err, errsz,
		    "tls+tcp:// needs [tls] cert and key in "
		    "the configuration");
		return (TALLY_EINVAL);
	}
	cert = read_file(d->conf->tls_cert);
	key  = read_file(d->conf->tls_key);
	if (cert == NULL || key == NULL) {
		snprintf(err, errsz, "cannot read %s",
		    cert == NULL ? d->conf->tls_cert : d->conf->tls_key);
		free(cert);
		if (key != NULL)
			sodium_memzero(key, strlen(key));
		free(key);
		return (TALLY_EIO);
	}
	if ((rv = nng_tls_config_alloc(&d->tls, NNG_TLS_MODE_SERVER)) == 0 &&
	    (rv = nng_tls_config_server_name(d->tls, "tallyd")) == 0 &&
	    (rv = nng_tls_config_version(d->tls, NNG_TLS_1_2, NNG_TLS_1_3)) ==
	        0)
		rv = nng_tls_config_own_cert(d->tls, cert, key, NULL);
	sodium_memzero(key, strlen(key));
	free(key);
	free(cert);
	if (rv != 0) {
		snprintf(err, errsz, "TLS certificate or key: %s",
		    nng_strerror(rv));
		return (TALLY_EINVAL);
	}
	return (0);
}

static int
listener_start(
    struct tallyd *d, int i, const char *url, char *err, size_t errsz)
{
	nng_listener l;
	nng_sockaddr sa;
	char         buf[256];
	int          rv;

	if ((rv = nng_listener_create(&l, d->sock, url)) != 0)
		goto fail;
	if ((rv = nng_listener_set_size(l, NNG_OPT_RECVMAXSZ,
	         d->conf->max_message + RECV_SLACK)) != 0)
		goto fail;
	if (strncmp(url, "tls+tcp", 7) == 0 &&
	    (rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, d->tls)) != 0)
		goto fail;
	if ((rv = nng_listener_start(l, 0)) != 0)
		goto fail;
	d->lst[i] = l;
	if (d->front->urls[i] == NULL) {
		/* Resolve a port 0 so that probes and restarts use it. */
		snprintf(buf, sizeof buf, "%s", url);
		if (strncmp(url, "ipc://", 6) != 0 &&
		    nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa) == 0 &&
		    sa.s_family == NNG_AF_INET) {
			char           ip[INET_ADDRSTRLEN];
			struct in_addr ia;

			ia.s_addr = sa.s_in.sa_addr;
			if (ia.s_addr == htonl(INADDR_ANY))
				ia.s_addr = htonl(INADDR_LOOPBACK);
			inet_ntop(AF_INET, &ia, ip, sizeof ip);
			snprintf(buf, sizeof buf, "%s://%s:%u",
			    strncmp(url, "tls", 3) == 0 ? "tls+tcp" : "tcp",
			    ip, (unsigned) ntohs(sa.s_in.sa_port));
		} else if (strncmp(url, "ipc://", 6) != 0 &&
		    nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa) == 0 &&
		    sa.s_family == NNG_AF_INET6) {
			snprintf(buf, sizeof buf, "%s://[::1]:%u",
			    strncmp(url, "tls", 3) == 0 ? "tls+tcp" : "tcp",
			    (unsigned) ntohs(sa.s_in6.sa_port));
		}
		d->front->urls[i] = strdup(buf);
		tly_log(TLY_LOG_INFO, "listening on %s", buf);
	}
	return (0);
fail:
	snprintf(err, errsz, "%s: %s", url, nng_strerror(rv));
	if (rv != 0 && nng_listener_id(l) > 0)
		nng_listener_close(l);
	return (TALLY_EIO);
}

static void *
housekeeping(void *arg)
{
	struct tallyd       *d = arg;
	struct tallyd_front *f = d->front;
	struct timespec      ts;
	nng_time             next_probe, next_hk, next_stat, now;

	now        = nng_clock();
	next_stat  = now + STAT_WATCH_MS;
	next_probe = now + (nng_time) d->conf->probe_ms;
	next_hk    = now + (nng_time) d->conf->housekeep_ms;
	pthread_mutex_lock(&f->hklock);
	while (!f->hkstop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&f->hkcond, &f->hklock, &ts);
		if (f->hkstop)
			break;
		now = nng_clock();
		pthread_mutex_unlock(&f->hklock);
		if (now >= next_stat) {
			stat_watch(d);
			next_stat = nng_clock() + STAT_WATCH_MS;
		}
		if (d->conf->probe_ms > 0 && now >= next_probe) {
			tallyd_front_probe(d);
			next_probe =
			    nng_clock() + (nng_time) d->conf->probe_ms;
		}
		if (now >= next_hk) {
			tallyd_auth_sweep(d->auth);
			if (d->conf->mail_expiry > 0) {
				struct tly_store_op op;

				memset(&op, 0, sizeof op);
				op.type   = TLY_OP_EXPIRE;
				op.before = tly_now() - d->conf->mail_expiry;
				if (tly_store_run(d->store, &op) == 0 &&
				    op.count > 0) {
					atomic_fetch_add(&d->m.expired,
					    (uint64_t) op.count);
					tly_log(TLY_LOG_INFO,
					    "expired %lld envelopes",
					    (long long) op.count);
				}
			}
			next_hk =
			    nng_clock() + (nng_time) d->conf->housekeep_ms;
		}
		pthread_mutex_lock(&f->hklock);
	}
	pthread_mutex_unlock(&f->hklock);
	return (NULL);
}

int
tallyd_front_start(struct tallyd *d, char *err, size_t errsz)
{
	struct tallyd_front *f;
	struct work         *start;
	int                  rv, i;

	if ((f = calloc(1, sizeof *f)) == NULL)
		return (TALLY_ENOMEM);
	d->front = f;
	pthread_mutex_init(&f->alock, NULL);
	pthread_mutex_init(&f->wlock, NULL);
	pthread_mutex_init(&f->hklock, NULL);
	pthread_cond_init(&f->hkcond, NULL);
	if ((rv = nng_rep0_open(&d->sock)) != 0) {
		snprintf(err, errsz, "socket: %s", nng_strerror(rv));
		return (TALLY_EIO);
	}
	/* Before any listener: nng 1.5 would accept any length. */
	if ((rv = nng_socket_set_size(d->sock, NNG_OPT_RECVMAXSZ,
	         d->conf->max_message + RECV_SLACK)) != 0) {
		snprintf(err, errsz, "socket: %s", nng_strerror(rv));
		return (TALLY_EIO);
	}
	nng_pipe_notify(d->sock, NNG_PIPE_EV_ADD_POST, pipe_cb, d);
	nng_pipe_notify(d->sock, NNG_PIPE_EV_REM_POST, pipe_cb, d);
	tly_store_set_notify(d->store, on_commit, d);
	for (i = 0; i < d->conf->workers; i++) {
		if (work_new(d) == NULL) {
			snprintf(err, errsz, "cannot allocate work items");
			return (TALLY_ENOMEM);
		}
	}
	for (i = 0; i < d->conf->nlisten; i++) {
		if (strncmp(d->conf->listen[i], "tls+tcp://", 10) == 0 &&
		    d->tls == NULL && (rv = tls_setup(d, err, errsz)) != 0)
			return (rv);
		if (strncmp(d->conf->listen[i], "ws", 2) == 0) {
			snprintf(err, errsz,
			    "%s: ws and wss are not offered; "
			    "use tcp://, tls+tcp:// or ipc://",
			    d->conf->listen[i]);
			return (TALLY_EINVAL);
		}
		if ((rv = listener_start(
		         d, i, d->conf->listen[i], err, errsz)) != 0)
			return (rv);
	}
	pthread_mutex_lock(&f->alock);
	start = f->all;
	pthread_mutex_unlock(&f->alock);
	for (struct work *w = start; w != NULL; w = w->anext) {
		atomic_fetch_add(&f->started, 1);
		recv_next(w);
	}
	if (pthread_create(&f->hk, NULL, housekeeping, d) != 0) {
		snprintf(err, errsz, "cannot start the housekeeping thread");
		return (TALLY_ENOMEM);
	}
	f->hk_started = 1;
	return (0);
}

/* One ping through a fresh REQ socket; 0 if answered in time. */
static int
probe_one(struct tallyd *d, const char *url)
{
	nng_socket      s;
	nng_dialer      dl;
	nng_msg        *msg = NULL;
	nng_tls_config *cfg = NULL;
	tly_buf         b   = TLY_BUF_INIT;
	struct tly_req  q;
	struct tly_rep  r;
	int             rv;

	if ((rv = nng_req0_open(&s)) != 0)
		return (rv);
	memset(&q, 0, sizeof q);
	q.type  = TLY_T_PING;
	q.reqid = 1;
	if ((rv = nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 4096)) != 0 ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, PROBE_TIMEOUT_MS)) !=
	        0 ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, PROBE_TIMEOUT_MS)) !=
	        0 ||
	    (rv = nng_dialer_create(&dl, s, url)) != 0)
		goto out;
	if (strncmp(url, "tls+tcp", 7) == 0) {
		if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT)) !=
		        0 ||
		    (rv = nng_tls_config_auth_mode(
		         cfg, NNG_TLS_AUTH_MODE_NONE)) != 0 ||
		    (rv = nng_tls_config_server_name(cfg, "tallyd")) != 0 ||
		    (rv = nng_dialer_set_ptr(dl, NNG_OPT_TLS_CONFIG, cfg)) !=
		        0)
			goto out;
	}
	if ((rv = nng_dialer_start(dl, NNG_FLAG_NONBLOCK)) != 0)
		goto out;
	if (tly_req_encode(&b, &q) != 0 || nng_msg_alloc(&msg, 0) != 0) {
		rv = NNG_ENOMEM;
		goto out;
	}
	if ((rv = nng_msg_append(msg, b.p, b.len)) != 0 ||
	    (rv = nng_sendmsg(s, msg, 0)) != 0) {
		nng_msg_free(msg);
		goto out;
	}
	if ((rv = nng_recvmsg(s, &msg, 0)) != 0)
		goto out;
	if (tly_rep_decode(
	        &r, TLY_T_PING, nng_msg_body(msg), nng_msg_len(msg)) != 0 ||
	    r.type != TLY_T_PING) {
		if (r.type == TLY_T_ERROR)
			tly_log(TLY_LOG_WARN, "self-probe of %s: %.*s", url,
			    (int) r.msglen, r.msg);
		rv = NNG_EPROTO;
	}
	nng_msg_free(msg);
out:
	nng_close(s);
	if (cfg != NULL)
		nng_tls_config_free(cfg);
	tly_buf_free(&b);
	return (rv);
}

/* Probes listener i; after fails_needed consecutive failures it is
 * closed and created anew (nng #1518 leaves it deaf for good). */
static void
probe_listener(struct tallyd *d, int i, int fails_needed)
{
	struct tallyd_front *f = d->front;
	char                 err[256];
	int                  rv;

	if (atomic_load(&d->stopping) || f->urls[i] == NULL)
		return;
	if ((rv = probe_one(d, f->urls[i])) == 0) {
		f->fails[i] = 0;
		return;
	}
	atomic_fetch_add(&d->m.probe_failures, 1);
	tly_log(TLY_LOG_WARN, "self-probe of %s failed: %s", f->urls[i],
	    nng_strerror(rv));
	if (++f->fails[i] < fails_needed)
		return;
	f->fails[i] = 0;
	f->other[i] = 0;
	nng_listener_close(d->lst[i]);
	if (listener_start(d, i, f->urls[i], err, sizeof err) != 0) {
		tly_log(TLY_LOG_ERROR, "re-creating listener: %s", err);
		return;
	}
	atomic_fetch_add(&d->m.listener_restarts, 1);
	tly_log(TLY_LOG_WARN, "listener %s re-created", f->urls[i]);
}

void
tallyd_front_probe(struct tallyd *d)
{
	for (int i = 0; i < d->conf->nlisten; i++)
		probe_listener(d, i, PROBE_FAILS);
}

/* nng counts an accept that failed for no known reason as "other"; on
 * nng 1.5 that is how a listener dies (#1518).  A new count triggers an
 * immediate probe instead of waiting for the periodic one. */
static void
stat_watch(struct tallyd *d)
{
	struct tallyd_front *f = d->front;
	nng_stat            *root, *st, *o;
	uint64_t             v;

	if (nng_stats_get(&root) != 0)
		return;
	for (int i = 0; i < d->conf->nlisten; i++) {
		if ((st = nng_stat_find_listener(root, d->lst[i])) == NULL ||
		    (o = nng_stat_find(st, "other")) == NULL)
			continue;
		v = nng_stat_value(o);
		if (v > f->other[i]) {
			f->other[i] = v;
			tly_log(TLY_LOG_DEBUG, "listener %s: accept error",
			    f->urls[i]);
			probe_listener(d, i, 1);
		}
	}
	nng_stats_free(root);
}

uint64_t
tallyd_front_inflight(struct tallyd *d)
{
	return (d->front != NULL ? atomic_load(&d->front->inflight) : 0);
}

/* Stops taking requests: every work item parks after its current one
 * (replied to), and idle ones stop receiving.  Then no context starts an
 * operation on a pipe, which is what makes closing safe on nng 1.5 (an
 * operation begun on a pipe while the pipe is torn down leaves nng's
 * reaper waiting for it forever, and nng_close with it: nng #1813).
 * Returns 0 once all are parked, 1 after DRAIN_TIMEOUT_MS. */
static int
drain(struct tallyd *d)
{
	struct tallyd_front *f = d->front;
	int                  n, i;

	atomic_store(&f->draining, 1);
	pthread_mutex_lock(&f->alock);
	for (struct work *w = f->all; w != NULL; w = w->anext)
		nng_aio_cancel(w->raio);
	pthread_mutex_unlock(&f->alock);
	n = atomic_load(&f->started);
	for (i = 0; i < DRAIN_TIMEOUT_MS / 10; i++) {
		if (atomic_load(&f->parked) >= n)
			return (0);
		nng_msleep(10);
	}
	return (1);
}

/* Closing, on a helper thread so that it is bounded in time: contexts
 * first (their aios end with NNG_ECLOSED), then the socket.  Under heavy
 * load nng 1.5 has been seen to hang in nng_close. */
struct closer {
	struct tallyd  *d;
	pthread_mutex_t m;
	pthread_cond_t  c;
	int             done;      /* guarded by m */
	int             abandoned; /* guarded by m */
};

static void *
closer_main(void *arg)
{
	struct closer       *cl = arg;
	struct tallyd_front *f  = cl->d->front;
	int                  abandoned;

	for (struct work *w = f->all; w != NULL; w = w->anext)
		nng_ctx_close(w->ctx);
	for (struct work *w = f->all; w != NULL; w = w->anext) {
		nng_aio_stop(w->tmo);
		nng_aio_stop(w->raio);
		nng_aio_stop(w->aio);
	}
	if (nng_socket_id(cl->d->sock) > 0)
		nng_close(cl->d->sock);
	pthread_mutex_lock(&cl->m);
	cl->done  = 1;
	abandoned = cl->abandoned;
	pthread_cond_signal(&cl->c);
	pthread_mutex_unlock(&cl->m);
	if (abandoned) {
		pthread_mutex_destroy(&cl->m);
		pthread_cond_destroy(&cl->c);
		free(cl);
	}
	return (NULL);
}

static int
close_bounded(struct tallyd *d)
{
	struct closer  *cl;
	struct timespec ts;
	pthread_t       th;
	int             done;

	if ((cl = calloc(1, sizeof *cl)) == NULL)
		return (1);
	cl->d = d;
	pthread_mutex_init(&cl->m, NULL);
	pthread_cond_init(&cl->c, NULL);
	if (pthread_create(&th, NULL, closer_main, cl) != 0) {
		free(cl);
		return (1);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += CLOSE_TIMEOUT_S;
	pthread_mutex_lock(&cl->m);
	while (!cl->done && pthread_cond_timedwait(&cl->c, &cl->m, &ts) == 0)
		;
	done = cl->done;
	if (!done)
		cl->abandoned = 1;
	pthread_mutex_unlock(&cl->m);
	if (!done) {
		pthread_detach(th);
		return (1);
	}
	pthread_join(th, NULL);
	pthread_mutex_destroy(&cl->m);
	pthread_cond_destroy(&cl->c);
	free(cl);
	return (0);
}

int
tallyd_front_drain(struct tallyd *d)
{
	struct tallyd_front *f = d->front;
	int                  i;

	if (f == NULL || f->drained)
		return (0);
	f->drained = 1;
	atomic_store(&d->stopping, 1);
	if (f->hk_started) {
		pthread_mutex_lock(&f->hklock);
		f->hkstop = 1;
		pthread_cond_signal(&f->hkcond);
		pthread_mutex_unlock(&f->hklock);
		pthread_join(f->hk, NULL);
	}
	/* Wake every waiter; let queued writes commit and replies go. */
	pthread_mutex_lock(&f->wlock);
	for (i = 0; i < WAIT_BUCKETS; i++) {
		while (f->wait[i] != NULL) {
			struct work *w = f->wait[i];

			wait_unlink(f, w);
			nng_aio_cancel(w->tmo);
		}
	}
	pthread_mutex_unlock(&f->wlock);
	{
		/* A barrier: every write queued before it is done after it. */
		struct tly_store_op op;

		memset(&op, 0, sizeof op);
		op.type = TLY_OP_NOOP;
		(void) tly_store_run(d->store, &op);
	}
	if (drain(d) != 0) {
		tly_log(TLY_LOG_WARN,
		    "requests still in flight after %d s; closing anyway",
		    DRAIN_TIMEOUT_MS / 1000);
		return (1);
	}
	return (0);
}

int
tallyd_front_stop(struct tallyd *d)
{
	struct tallyd_front *f = d->front;
	int                  i;

	if (f == NULL)
		return (0);
	(void) tallyd_front_drain(d);
	/* Only now, with no request moving: closing a pipe while nng 1.5
	 * starts an operation on it can leave nng_close waiting for good. */
	for (i = 0; i < d->conf->nlisten; i++)
		if (nng_listener_id(d->lst[i]) > 0)
			nng_listener_close(d->lst[i]);
	if (close_bounded(d) != 0) {
		tly_log(TLY_LOG_WARN,
		    "the nng socket did not close within %d s (nng 1.5 "
		    "can wait for good on a connection torn down under "
		    "load); leaving it to the exit",
		    CLOSE_TIMEOUT_S);
		return (1);
	}
	while (f->all != NULL) {
		struct work *w = f->all;

		f->all = w->anext;
		nng_aio_free(w->tmo);
		nng_aio_free(w->raio);
		nng_aio_free(w->aio);
		if (w->req != NULL)
			nng_msg_free(w->req);
		tly_buf_free(&w->out);
		free(w);
	}
	for (i = 0; i < TALLYD_MAX_LISTEN; i++)
		free(f->urls[i]);
	pthread_mutex_destroy(&f->alock);
	pthread_mutex_destroy(&f->wlock);
	pthread_mutex_destroy(&f->hklock);
	pthread_cond_destroy(&f->hkcond);
	if (d->tls != NULL)
		nng_tls_config_free(d->tls);
	d->tls = NULL;
	free(f);
	d->front = NULL;
	return (0);
}
