/*
 * relay_test.c -- every request type against a real tallyd on ipc://:
 * success paths, refusals, authentication attacks, malformed frames.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "itlib.h"
#include "tt.h"

static void
reg(tly_relay *r)
{
	int rv = tly_relay_register(r, NULL);

	if (rv != 0)
		fail_msg("register: %s: %s", tally_errname(rv),
		    tly_relay_errmsg(r));
}

static void
test_mailbox(void **state)
{
	struct it_srv          s;
	struct it_key          ka, kb;
	tly_relay             *a, *b;
	struct tly_relay_mail *items;
	unsigned char          id[32], id2[32], *env;
	size_t                 n, len;
	unsigned               del;
	int                    dup, more;

	(void) state;
	it_start(&s, NULL, 0);
	it_keygen(&ka);
	it_keygen(&kb);
	a = it_client(s.url, &ka, 0, 5000);
	b = it_client(s.url, &kb, 0, 5000);
	reg(a);
	reg(b);
	reg(b); /* registering again is fine */

	TT_PASS(tly_relay_put(a, kb.pk, "sealed-1", 8, id, &dup));
	TT_INTEQ(dup, 0);
	/* The same envelope again is the same envelope. */
	TT_PASS(tly_relay_put(a, kb.pk, "sealed-1", 8, id2, &dup));
	TT_INTEQ(dup, 1);
	TT_MEMEQ(id, id2, 32);
	TT_PASS(tly_relay_put(a, kb.pk, "sealed-2", 8, id2, &dup));
	/* No such recipient. */
	{
		struct it_key kx;

		it_keygen(&kx);
		TT_FAIL(
		    tly_relay_put(a, kx.pk, "x", 1, id2, NULL), TALLY_ENOENT);
	}

	TT_PASS(tly_relay_list(b, 0, 10, &items, &n, &more));
	TT_INTEQ(n, 2);
	TT_INTEQ(more, 0);
	TT_MEMEQ(items[0].id, id, 32);
	TT_INTEQ(items[0].size, 8);
	free(items);
	TT_PASS(tly_relay_list(b, 0, 1, &items, &n, &more));
	TT_INTEQ(n, 1);
	TT_INTEQ(more, 1);
	free(items);

	/* A sees nothing of B's mailbox and cannot fetch or delete it. */
	TT_PASS(tly_relay_list(a, 0, 10, &items, &n, &more));
	TT_INTEQ(n, 0);
	free(items);
	TT_FAIL(tly_relay_fetch(a, id, &env, &len), TALLY_ENOENT);
	TT_PASS(tly_relay_ack(a, id, 1, &del));
	TT_INTEQ(del, 0);

	TT_PASS(tly_relay_fetch(b, id, &env, &len));
	TT_INTEQ(len, 8);
	TT_MEMEQ(env, "sealed-1", 8);
	free(env);
	TT_PASS(tly_relay_ack(b, id, 1, &del));
	TT_INTEQ(del, 1);
	TT_PASS(tly_relay_ack(b, id, 1, &del)); /* idempotent */
	TT_INTEQ(del, 0);
	TT_FAIL(tly_relay_fetch(b, id, &env, &len), TALLY_ENOENT);
	TT_PASS(tly_relay_list(b, 0, 10, &items, &n, &more));
	TT_INTEQ(n, 1);
	free(items);

	tly_relay_close(a);
	tly_relay_close(b);
	it_stop(&s);
	it_cleanup(&s);
}

static void
test_log(void **state)
{
	struct it_srv           s;
	struct it_key           k, k2;
	tly_relay              *r, *r2, *other;
	struct tly_relay_entry *e;
	struct tly_relay_info   info;
	uint64_t                seq;
	size_t                  n;
	int                     dup, more;

	(void) state;
	it_start(&s, NULL, 0);
	it_keygen(&k);
	it_keygen(&k2);
	r     = it_client(s.url, &k, 0, 5000);
	r2    = it_client(s.url, &k, 0, 5000); /* a second device */
	other = it_client(s.url, &k2, 0, 5000);
	reg(r);
	reg(other);
	TT_PASS(tly_relay_append(r, "one", 3, &seq, &dup));
	TT_INTEQ(seq, 1);
	TT_PASS(tly_relay_append(r2, "two", 3, &seq, &dup));
	TT_INTEQ(seq, 2);
	TT_PASS(tly_relay_append(r, "three", 5, &seq, &dup));
	TT_INTEQ(seq, 3);
	TT_PASS(tly_relay_append(r, "two", 3, &seq, &dup));
	TT_INTEQ(seq, 2);
	TT_INTEQ(dup, 1);

	TT_PASS(tly_relay_read(r2, 0, 100, 0, &e, &n, &more));
	TT_INTEQ(n, 3);
	TT_INTEQ(e[0].seq, 1);
	TT_MEMEQ(e[0].data, "one", 3);
	TT_INTEQ(e[2].seq, 3);
	TT_INTEQ(e[2].len, 5);
	tly_relay_entries_free(e, n);
	TT_PASS(tly_relay_read(r2, 1, 1, 0, &e, &n, &more));
	TT_INTEQ(n, 1);
	TT_INTEQ(e[0].seq, 2);
	TT_INTEQ(more, 1);
	tly_relay_entries_free(e, n);
	/* The byte budget stops after the first entry that fits. */
	TT_PASS(tly_relay_read(r2, 0, 100, 4, &e, &n, &more));
	TT_INTEQ(n, 1);
	TT_INTEQ(more, 1);
	tly_relay_entries_free(e, n);

	/* Another account's log is its own. */
	TT_PASS(tly_relay_read(other, 0, 100, 0, &e, &n, &more));
	TT_INTEQ(n, 0);
	tly_relay_entries_free(e, n);

	TT_PASS(tly_relay_info(r, &info));
	TT_INTEQ(info.log_head, 3);
	TT_INTEQ(info.used, 11);
	TT_PASS(tly_relay_ping(r));

	tly_relay_close(r);
	tly_relay_close(r2);
	tly_relay_close(other);
	it_stop(&s);
	it_cleanup(&s);
}

struct waiter {
	const char   *url;
	struct it_key k;
	uint64_t      mail_head, log_head;
	int           rv;
	int64_t       ms;
};

static void *
wait_thread(void *arg)
{
	struct waiter *w = arg;
	tly_relay     *r = it_client(w->url, &w->k, 0, 5000);
	int64_t        t0;

	TT_PASS(tly_relay_auth(r));
	t0    = it_now_ms();
	w->rv = tly_relay_wait(r, 0, 0, 60, &w->mail_head, &w->log_head);
	w->ms = it_now_ms() - t0;
	tly_relay_close(r);
	return (NULL);
}

static void
test_wait(void **state)
{
	struct it_srv s;
	struct it_key ka, kb;
	tly_relay    *a, *b;
	struct waiter w;
	pthread_t     th;
	uint64_t      mh, lh;

	(void) state;
	it_start(&s, NULL, 0);
	it_keygen(&ka);
	it_keygen(&kb);
	a = it_client(s.url, &ka, 0, 5000);
	b = it_client(s.url, &kb, 0, 5000);
	reg(a);
	reg(b);

	/* Nothing new: the wait times out with the heads unchanged. */
	TT_PASS(tly_relay_wait(b, 0, 0, 1, &mh, &lh));
	TT_INTEQ(mh, 0);
	TT_INTEQ(lh, 0);

	/* A put wakes the waiter long before its 60 s are over. */
	memset(&w, 0, sizeof w);
	w.url = s.url;
	w.k   = kb;
	assert_int_equal(pthread_create(&th, NULL, wait_thread, &w), 0);
	it_msleep(300);
	TT_PASS(tly_relay_put(a, kb.pk, "hello", 5, NULL, NULL));
	pthread_join(th, NULL);
	TT_PASS(w.rv);
	assert_true(w.mail_head > 0);
	assert_true(w.ms < 30000);

	/* Something already there: immediate reply. */
	TT_PASS(tly_relay_wait(b, 0, 0, 60, &mh, &lh));
	assert_true(mh > 0);
	/* Own log entries wake too (another device of the same account). */
	memset(&w, 0, sizeof w);
	w.url = s.url;
	w.k   = ka;
	assert_int_equal(pthread_create(&th, NULL, wait_thread, &w), 0);
	it_msleep(300);
	TT_PASS(tly_relay_append(a, "op", 2, NULL, NULL));
	pthread_join(th, NULL);
	TT_PASS(w.rv);
	TT_INTEQ(w.log_head, 1);
	assert_true(w.ms < 30000);

	tly_relay_close(a);
	tly_relay_close(b);
	it_stop(&s);
	it_cleanup(&s);
}

/* Builds a signed auth (or register) frame with a fresh challenge. */
static void
auth_frame(const char *url, const struct it_key *k, int reg, tly_buf *b,
    unsigned char *sig_out)
{
	struct tly_req q;
	struct tly_rep p;
	tly_buf        hb = TLY_BUF_INIT;
	unsigned char *rep, sid[32], ch[32], msg[TLY_AUTH_MSG_MAX], sig[64];
	size_t         n, mlen;

	memset(&q, 0, sizeof q);
	q.type  = TLY_T_HELLO;
	q.reqid = 1;
	TT_PASS(tly_req_encode(&hb, &q));
	assert_int_equal(it_raw(url, hb.p, hb.len, &rep, &n, 5000), 0);
	TT_PASS(tly_rep_decode(&p, TLY_T_HELLO, rep, n));
	memcpy(sid, p.key, 32);
	memcpy(ch, p.challenge, 32);
	free(rep);
	tly_buf_free(&hb);
	mlen = tly_auth_msg(msg, reg, sid, ch, k->pk, NULL, 0);
	crypto_sign_detached(sig, NULL, msg, mlen, k->sk);
	if (sig_out != NULL)
		memcpy(sig_out, sig, 64);
	memset(&q, 0, sizeof q);
	q.type      = reg ? TLY_T_REGISTER : TLY_T_AUTH;
	q.reqid     = 2;
	q.pubkey    = k->pk;
	q.challenge = ch;
	q.sig       = sig;
	tly_buf_reset(b);
	TT_PASS(tly_req_encode(b, &q));
}

static void
test_auth_attacks(void **state)
{
	struct it_srv  s;
	struct it_key  k, stranger;
	tly_relay     *r;
	tly_buf        b = TLY_BUF_INIT;
	struct tly_req q;
	unsigned char  tok[32];
	size_t         sigoff = TLY_FRAME_HDR + 32 + 32;

	(void) state;
	it_start(&s, NULL, 0);
	it_keygen(&k);
	it_keygen(&stranger);
	r = it_client(s.url, &k, 0, 5000);
	reg(r);

	/* A good signature works once; the replay is refused. */
	auth_frame(s.url, &k, 0, &b, NULL);
	TT_INTEQ(it_raw_code(s.url, b.p, b.len, TLY_T_AUTH), 0);
	TT_INTEQ(it_raw_code(s.url, b.p, b.len, TLY_T_AUTH), TLY_W_UNAUTH);

	/* A forged signature (one bit flipped). */
	auth_frame(s.url, &k, 0, &b, NULL);
	b.p[sigoff + 10] ^= 0x01;
	TT_INTEQ(it_raw_code(s.url, b.p, b.len, TLY_T_AUTH), TLY_W_UNAUTH);
	/* A challenge the server never issued (MAC broken). */
	auth_frame(s.url, &k, 0, &b, NULL);
	b.p[TLY_FRAME_HDR + 32 + 9] ^= 0x80;
	TT_INTEQ(it_raw_code(s.url, b.p, b.len, TLY_T_AUTH), TLY_W_UNAUTH);
	/* Someone else's key with our signature. */
	auth_frame(s.url, &k, 0, &b, NULL);
	memcpy(b.p + TLY_FRAME_HDR, stranger.pk, 32);
	TT_INTEQ(it_raw_code(s.url, b.p, b.len, TLY_T_AUTH), TLY_W_UNAUTH);
	/* A register signature is not an auth signature (domains). */
	auth_frame(s.url, &k, 1, &b, NULL);
	b.p[5] = TLY_T_AUTH;
	b.len -= 2; /* drop the empty invite */
	b.p[19] -= 2;
	TT_INTEQ(it_raw_code(s.url, b.p, b.len, TLY_T_AUTH), TLY_W_UNAUTH);
	/* A valid signature by an unknown account. */
	auth_frame(s.url, &stranger, 0, &b, NULL);
	TT_INTEQ(it_raw_code(s.url, b.p, b.len, TLY_T_AUTH), TLY_W_UNAUTH);

	/* A made-up session token reads nothing. */
	randombytes_buf(tok, sizeof tok);
	memset(&q, 0, sizeof q);
	q.type  = TLY_T_LIST;
	q.token = tok;
	q.max   = 10;
	tly_buf_reset(&b);
	TT_PASS(tly_req_encode(&b, &q));
	TT_INTEQ(it_raw_code(s.url, b.p, b.len, TLY_T_LIST), TLY_W_UNAUTH);
	q.type = TLY_T_ACK;
	q.ids  = tok;
	q.nids = 1;
	tly_buf_reset(&b);
	TT_PASS(tly_req_encode(&b, &q));
	TT_INTEQ(it_raw_code(s.url, b.p, b.len, TLY_T_ACK), TLY_W_UNAUTH);
	/* Without a key the client says so. */
	{
		tly_relay *nokey = it_client(s.url, NULL, 0, 5000);

		TT_FAIL(tly_relay_append(nokey, "x", 1, NULL, NULL),
		    TALLY_ENOTINIT);
		tly_relay_close(nokey);
	}
	/* A stranger's client cannot authenticate. */
	{
		tly_relay *st = it_client(s.url, &stranger, 0, 5000);

		TT_FAIL(tly_relay_append(st, "x", 1, NULL, NULL), TALLY_EAUTH);
		tly_relay_close(st);
	}

	tly_buf_free(&b);
	tly_relay_close(r);
	it_stop(&s);
	it_cleanup(&s);
}

static void
put_hdr(
    unsigned char *p, uint8_t ver, uint8_t type, uint16_t flags, uint32_t blen)
{
	p[0] = 'T';
	p[1] = 'L';
	p[2] = 'Y';
	p[3] = 'R';
	p[4] = ver;
	p[5] = type;
	p[6] = (unsigned char) (flags >> 8);
	p[7] = (unsigned char) flags;
	memset(p + 8, 0, 8);
	p[8 + 7] = 9;
	p[16]    = (unsigned char) (blen >> 24);
	p[17]    = (unsigned char) (blen >> 16);
	p[18]    = (unsigned char) (blen >> 8);
	p[19]    = (unsigned char) blen;
}

static void
test_bad_frames(void **state)
{
	struct it_srv s;
	unsigned char f[256], *rep;
	size_t        n;

	(void) state;
	it_start(&s, NULL, 0);
	/* Garbage. */
	randombytes_buf(f, sizeof f);
	TT_INTEQ(it_raw_code(s.url, f, sizeof f, TLY_T_PING), TLY_W_BADREQ);
	/* Truncated header. */
	put_hdr(f, 1, TLY_T_PING, 0, 0);
	TT_INTEQ(it_raw_code(s.url, f, 10, TLY_T_PING), TLY_W_BADREQ);
	TT_INTEQ(it_raw_code(s.url, f, 0, TLY_T_PING), TLY_W_BADREQ);
	/* A good ping, then trailing bytes, then a lying length. */
	TT_INTEQ(it_raw_code(s.url, f, 20, TLY_T_PING), 0);
	TT_INTEQ(it_raw_code(s.url, f, 21, TLY_T_PING), TLY_W_BADREQ);
	put_hdr(f, 1, TLY_T_PING, 0, 1);
	TT_INTEQ(it_raw_code(s.url, f, 21, TLY_T_PING), TLY_W_BADREQ);
	put_hdr(f, 1, TLY_T_PING, 0, 0xffffffffu);
	TT_INTEQ(it_raw_code(s.url, f, 20, TLY_T_PING), TLY_W_BADREQ);
	/* Unknown type, flags set, the admin type on the public socket. */
	put_hdr(f, 1, 0x77, 0, 0);
	TT_INTEQ(it_raw_code(s.url, f, 20, TLY_T_PING), TLY_W_BADREQ);
	put_hdr(f, 1, TLY_T_PING, 1, 0);
	TT_INTEQ(it_raw_code(s.url, f, 20, TLY_T_PING), TLY_W_BADREQ);
	put_hdr(f, 1, TLY_T_ADMIN, 0, 1);
	f[20] = 0;
	TT_INTEQ(it_raw_code(s.url, f, 21, TLY_T_PING), TLY_W_BADREQ);
	/* Another version. */
	put_hdr(f, 2, TLY_T_PING, 0, 0);
	TT_INTEQ(it_raw_code(s.url, f, 20, TLY_T_PING), TLY_W_VERSION);
	/* A list with a truncated body. */
	put_hdr(f, 1, TLY_T_LIST, 0, 33);
	TT_INTEQ(it_raw_code(s.url, f, 20 + 33, TLY_T_LIST), TLY_W_BADREQ);
	/* A put whose envelope length points past the end. */
	put_hdr(f, 1, TLY_T_PUT, 0, 32 + 32 + 4 + 4);
	memset(f + 20, 0, 68);
	f[20 + 64 + 3] = 200;
	TT_INTEQ(it_raw_code(s.url, f, 20 + 72, TLY_T_PUT), TLY_W_BADREQ);
	/* The server still answers. */
	put_hdr(f, 1, TLY_T_PING, 0, 0);
	assert_int_equal(it_raw(s.url, f, 20, &rep, &n, 5000), 0);
	free(rep);
	it_stop(&s);
	it_cleanup(&s);
}

static void
test_limits(void **state)
{
	struct it_srv          s;
	struct it_key          ka, kb;
	tly_relay             *a, *b;
	struct tly_relay_mail *items;
	unsigned char         *big, id[32];
	size_t                 n;
	int                    more, rv, i;
	char                   out[8192];

	(void) state;
	it_start(
	    &s, "[limits]\nmax_message = 64K\nquota = 100K\nrate = 0\n", 0);
	it_keygen(&ka);
	it_keygen(&kb);
	a = it_client(s.url, &ka, -1, 5000);
	b = it_client(s.url, &kb, -1, 5000);
	reg(a);
	reg(b);
	big = calloc(1, 200000);
	assert_non_null(big);

	/* Too large for max_message, but within the frame limit. */
	TT_FAIL(
	    tly_relay_append(a, big, 65 * 1024, NULL, NULL), TALLY_ETOOBIG);
	/* (Frames larger than the socket accepts are dropped with their
	 * connection: pitfalls_test.c sends one on a raw socket.) */

	/* Quota: 100K per account; log entries and received mail count. */
	for (i = 0; i < 3; i++) {
		big[0] = (unsigned char) i;
		TT_PASS(tly_relay_append(a, big, 30000, NULL, NULL));
	}
	big[0] = 99;
	TT_FAIL(tly_relay_append(a, big, 30000, NULL, NULL), TALLY_EQUOTA);
	/* Mail into b's box counts against b, and ack frees it. */
	for (i = 0; i < 3; i++) {
		big[0] = (unsigned char) (10 + i);
		TT_PASS(tly_relay_put(a, kb.pk, big, 30000, id, NULL));
	}
	big[0] = 20;
	TT_FAIL(tly_relay_put(a, kb.pk, big, 30000, NULL, NULL), TALLY_EQUOTA);
	TT_PASS(tly_relay_ack(b, id, 1, NULL));
	TT_PASS(tly_relay_put(a, kb.pk, big, 30000, NULL, NULL));
	TT_PASS(tly_relay_list(b, 0, 10, &items, &n, &more));
	TT_INTEQ(n, 3);
	free(items);

	/* Refusals are counted. */
	assert_int_equal(it_admin(&s, out, sizeof out, "stats"), 0);
	if (strstr(out, "tallyd_refusals_total{code=\"quota_exceeded\"} 2") ==
	        NULL ||
	    strstr(out, "tallyd_refusals_total{code=\"too_large\"} 1") == NULL)
		fail_msg("stats do not count the refusals:\n%s", out);
	(void) rv;
	free(big);
	tly_relay_close(a);
	tly_relay_close(b);
	it_stop(&s);
	it_cleanup(&s);
}

static void
test_rate(void **state)
{
	struct it_srv         s;
	struct it_key         k;
	tly_relay            *r;
	struct tly_relay_info info;
	int                   i, rv = 0;

	(void) state;
	it_start(&s, "[limits]\nrate = 2\nburst = 5\n", 0);
	it_keygen(&k);
	r = it_client(s.url, &k, -1, 5000);
	reg(r);
	for (i = 0; i < 50 && (rv = tly_relay_info(r, &info)) == 0; i++)
		;
	TT_INTEQ(rv, TALLY_ERATE);
	assert_true(i >= 4);
	/* With retries and back-off the client gets through. */
	tly_relay_close(r);
	{
		struct tly_relay_opts o;

		memset(&o, 0, sizeof o);
		o.retries    = 6;
		o.backoff_ms = 200;
		TT_PASS(tly_relay_open(&r, s.url, &o));
		TT_PASS(tly_relay_set_key(r, k.pk, k.sk));
		TT_PASS(tly_relay_info(r, &info));
	}
	tly_relay_close(r);
	it_stop(&s);
	it_cleanup(&s);
}

static void
test_expiry(void **state)
{
	struct it_srv          s;
	struct it_key          ka, kb;
	tly_relay             *a, *b;
	struct tly_relay_mail *items;
	struct tly_relay_info  info;
	size_t                 n = 1;
	int                    more;

	(void) state;
	it_start(&s,
	    "housekeeping_interval = 200ms\n[limits]\nmail_expiry = 1s\n", 0);
	it_keygen(&ka);
	it_keygen(&kb);
	a = it_client(s.url, &ka, 0, 5000);
	b = it_client(s.url, &kb, 0, 5000);
	reg(a);
	reg(b);
	TT_PASS(tly_relay_put(a, kb.pk, "old news", 8, NULL, NULL));
	TT_PASS(tly_relay_append(b, "kept", 4, NULL, NULL));
	for (int i = 0; i < 50 && n > 0; i++) {
		it_msleep(200);
		TT_PASS(tly_relay_list(b, 0, 10, &items, &n, &more));
		free(items);
	}
	TT_INTEQ(n, 0);
	TT_PASS(tly_relay_info(b, &info));
	TT_INTEQ(info.used, 4); /* the log stays; the mail's bytes are freed */
	tly_relay_close(a);
	tly_relay_close(b);
	it_stop(&s);
	it_cleanup(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_mailbox, it_teardown),
		cmocka_unit_test_teardown(test_log, it_teardown),
		cmocka_unit_test_teardown(test_wait, it_teardown),
		cmocka_unit_test_teardown(test_auth_attacks, it_teardown),
		cmocka_unit_test_teardown(test_bad_frames, it_teardown),
		cmocka_unit_test_teardown(test_limits, it_teardown),
		cmocka_unit_test_teardown(test_rate, it_teardown),
		cmocka_unit_test_teardown(test_expiry, it_teardown),
	};

	if (sodium_init() < 0)
		return (1);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
