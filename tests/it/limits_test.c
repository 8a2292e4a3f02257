/*
 * limits_test.c -- what keeps clients from exhausting tallyd, and the
 * log trim: the sign-in rate per client address, the cap on sessions per
 * account, a resent write over quota, and dropping old log entries.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
hello_frame(tly_buf *b)
{
	struct tly_req q;

	memset(&q, 0, sizeof q);
	q.type  = TLY_T_HELLO;
	q.reqid = 1;
	tly_buf_reset(b);
	TT_PASS(tly_req_encode(b, &q));
}

/* Signs in as k with raw frames; the session token goes to tok.  Returns
 * 0 or the wire error of the hello or auth reply. */
static int
raw_signin(const char *url, const struct it_key *k, unsigned char *tok)
{
	struct tly_req q;
	struct tly_rep p;
	tly_buf        b = TLY_BUF_INIT;
	unsigned char *rep, sid[32], ch[32], msg[TLY_AUTH_MSG_MAX], sig[64];
	size_t         n, mlen;
	int            code = 0;

	hello_frame(&b);
	assert_int_equal(it_raw(url, b.p, b.len, &rep, &n, 5000), 0);
	TT_PASS(tly_rep_decode(&p, TLY_T_HELLO, rep, n));
	if (p.type == TLY_T_ERROR) {
		code = p.err;
		goto out;
	}
	memcpy(sid, p.key, 32);
	memcpy(ch, p.challenge, 32);
	free(rep);
	mlen = tly_auth_msg(msg, 0, sid, ch, k->pk, NULL, 0);
	crypto_sign_detached(sig, NULL, msg, mlen, k->sk);
	memset(&q, 0, sizeof q);
	q.type      = TLY_T_AUTH;
	q.reqid     = 2;
	q.pubkey    = k->pk;
	q.challenge = ch;
	q.sig       = sig;
	tly_buf_reset(&b);
	TT_PASS(tly_req_encode(&b, &q));
	assert_int_equal(it_raw(url, b.p, b.len, &rep, &n, 5000), 0);
	TT_PASS(tly_rep_decode(&p, TLY_T_AUTH, rep, n));
	if (p.type == TLY_T_ERROR)
		code = p.err;
	else
		memcpy(tok, p.key, 32);
out:
	free(rep);
	tly_buf_free(&b);
	return (code);
}

/* An info request with a raw token: 0 or its wire error. */
static int
raw_info(const char *url, const unsigned char *tok)
{
	struct tly_req q;
	tly_buf        b = TLY_BUF_INIT;
	int            code;

	memset(&q, 0, sizeof q);
	q.type  = TLY_T_INFO;
	q.reqid = 3;
	q.token = tok;
	TT_PASS(tly_req_encode(&b, &q));
	code = it_raw_code(url, b.p, b.len, TLY_T_INFO);
	tly_buf_free(&b);
	return (code);
}

static void
test_signin_rate(void **state)
{
	struct it_srv s;
	struct it_key k;
	tly_buf       b = TLY_BUF_INIT;
	tly_relay    *r;
	char          out[8192];
	int           ok = 0, limited = 0, code = 0;

	(void) state;
	it_start(&s, "[limits]\nauth_rate = 1\nauth_burst = 5\n", 1);
	it_keygen(&k);
	r = it_client(s.url, &k, 0, 5000);
	reg(r);
	/* Every connection from 127.0.0.1 shares one bucket of 5. */
	hello_frame(&b);
	for (int i = 0; i < 20; i++) {
		code = it_raw_code(s.tcp, b.p, b.len, TLY_T_HELLO);
		if (code == 0)
			ok++;
		else if (code == TLY_W_RATE)
			limited++;
		else
			fail_msg("hello %d: code %d", i, code);
	}
	/* The burst of 5, and what refilled meanwhile (1/s). */
	assert_true(ok >= 5 && limited >= 8);
	/* So is signing in with a valid key. */
	{
		unsigned char tok[32];

		TT_INTEQ(raw_signin(s.tcp, &k, tok), TLY_W_RATE);
	}
	/* Over ipc:// each connection has its own bucket. */
	TT_INTEQ(it_raw_code(s.url, b.p, b.len, TLY_T_HELLO), 0);
	/* A session once made is not a sign-in: it goes on. */
	for (int i = 0; i < 20; i++) {
		struct tly_relay_info info;

		TT_PASS(tly_relay_info(r, &info));
	}
	/* The bucket refills at auth_rate (1/s). */
	for (int i = 0; i < 50 && code != 0; i++) {
		it_msleep(100);
		code = it_raw_code(s.tcp, b.p, b.len, TLY_T_HELLO);
	}
	TT_INTEQ(code, 0);
	/* Counted as refusals. */
	assert_int_equal(it_admin(&s, out, sizeof out, "stats"), 0);
	if (strstr(out, "tallyd_refusals_total{code=\"rate_limited\"} 0") !=
	    NULL)
		fail_msg("sign-in refusals not counted:\n%s", out);
	tly_buf_free(&b);
	tly_relay_close(r);
	it_stop(&s);
	it_cleanup(&s);
}

/* Whether this machine has IPv6 on loopback. */
static int
have_ipv6(void)
{
	struct sockaddr_in6 sa;
	int                 fd = socket(AF_INET6, SOCK_STREAM, 0), ok;

	if (fd < 0)
		return (0);
	memset(&sa, 0, sizeof sa);
	sa.sin6_family = AF_INET6;
	sa.sin6_addr   = in6addr_loopback;
	ok             = bind(fd, (struct sockaddr *) &sa, sizeof sa) == 0;
	close(fd);
	return (ok);
}

/* A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d: they keep
 * a bucket per IPv4 address, not one for all of IPv4 (whose /64 is 0). */
static void
test_signin_rate_dual_stack(void **state)
{
	struct it_srv s;
	tly_buf       b = TLY_BUF_INIT;
	char          extra[256], v4[64], v6[64];
	int           port, code = 0;

	(void) state;
	if (!have_ipv6())
		skip();
	port = it_free_port();
	snprintf(extra, sizeof extra,
	    "listen = tcp://[::]:%d\n[limits]\nauth_rate = 1\n"
	    "auth_burst = 3\n",
	    port);
	snprintf(v4, sizeof v4, "tcp://127.0.0.1:%d", port);
	snprintf(v6, sizeof v6, "tcp://[::1]:%d", port);
	it_start(&s, extra, 0);
	hello_frame(&b);
	for (int i = 0; i < 10 && code == 0; i++)
		code = it_raw_code(v4, b.p, b.len, TLY_T_HELLO);
	TT_INTEQ(code, TLY_W_RATE);
	/* ::1 has a bucket of its own. */
	TT_INTEQ(it_raw_code(v6, b.p, b.len, TLY_T_HELLO), 0);
	tly_buf_free(&b);
	it_stop(&s);
	it_cleanup(&s);
}

/* Signing in again and again ends the oldest sessions of the account, so
 * the session table does not fill. */
static void
test_session_cap(void **state)
{
	struct it_srv s;
	struct it_key k;
	tly_relay    *r;
	unsigned char(*tok)[32];
	const int n = 70, cap = 64;

	(void) state;
	it_start(&s, "[limits]\nrate = 0\n", 0);
	it_keygen(&k);
	r = it_client(s.url, &k, 0, 5000);
	reg(r);
	tly_relay_close(r);
	tok = calloc((size_t) n, 32);
	assert_non_null(tok);
	for (int i = 0; i < n; i++)
		TT_PASS(raw_signin(s.url, &k, tok[i]));
	/* The register made a session too: 71 in all, the 64 newest live. */
	for (int i = 0; i < n; i++) {
		int code = raw_info(s.url, tok[i]);

		if (i < n - cap)
			TT_INTEQ(code, TLY_W_UNAUTH);
		else
			TT_INTEQ(code, 0);
	}
	free(tok);
	it_stop(&s);
	it_cleanup(&s);
}

/* A resent put or append that filled the quota is still answered as the
 * duplicate it is, not refused. */
static void
test_resend_over_quota(void **state)
{
	struct it_srv  s;
	struct it_key  ka, kb;
	tly_relay     *a, *b;
	unsigned char *big, id[32], id2[32];
	uint64_t       seq, seq2;
	int            dup;

	(void) state;
	it_start(
	    &s, "[limits]\nmax_message = 64K\nquota = 100K\nrate = 0\n", 0);
	it_keygen(&ka);
	it_keygen(&kb);
	a = it_client(s.url, &ka, 0, 5000);
	b = it_client(s.url, &kb, 0, 5000);
	reg(a);
	reg(b);
	big = calloc(1, 60000);
	assert_non_null(big);
	big[0] = 1;
	TT_PASS(tly_relay_put(a, kb.pk, big, 60000, id, &dup));
	TT_INTEQ(dup, 0);
	big[0] = 2;
	TT_FAIL(tly_relay_put(a, kb.pk, big, 60000, NULL, NULL), TALLY_EQUOTA);
	big[0] = 1;
	TT_PASS(tly_relay_put(a, kb.pk, big, 60000, id2, &dup));
	TT_INTEQ(dup, 1);
	TT_MEMEQ(id2, id, 32);
	TT_PASS(tly_relay_append(a, big, 60000, &seq, &dup));
	TT_INTEQ(dup, 0);
	big[0] = 3;
	TT_FAIL(tly_relay_append(a, big, 60000, NULL, NULL), TALLY_EQUOTA);
	big[0] = 1;
	TT_PASS(tly_relay_append(a, big, 60000, &seq2, &dup));
	TT_INTEQ(dup, 1);
	TT_INTEQ(seq2, seq);
	free(big);
	tly_relay_close(a);
	tly_relay_close(b);
	it_stop(&s);
	it_cleanup(&s);
}

static void
test_trim(void **state)
{
	struct it_srv           s;
	struct it_key           ka, kb;
	tly_relay              *a, *b;
	struct tly_relay_entry *e;
	struct tly_relay_info   info;
	uint64_t                seq, deleted, floor;
	size_t                  n;
	int                     more;
	char                    entry[32];

	(void) state;
	it_start(&s, "[limits]\nrate = 0\n", 0);
	it_keygen(&ka);
	it_keygen(&kb);
	a = it_client(s.url, &ka, 0, 5000);
	b = it_client(s.url, &kb, 0, 5000);
	reg(a);
	reg(b);
	/* An empty log: nothing to drop, the floor is 0. */
	TT_PASS(tly_relay_trim(a, 10, &deleted, &floor));
	TT_INTEQ(deleted, 0);
	TT_INTEQ(floor, 0);
	for (int i = 1; i <= 10; i++) {
		snprintf(entry, sizeof entry, "entry %02d", i);
		TT_PASS(tly_relay_append(a, entry, 8, &seq, NULL));
		TT_INTEQ(seq, i);
	}
	TT_PASS(tly_relay_append(b, "b's own", 7, NULL, NULL));
	TT_PASS(tly_relay_info(a, &info));
	TT_INTEQ(info.used, 80);

	/* Drop 1..4: the rest is read as before, the bytes are freed. */
	TT_PASS(tly_relay_trim(a, 4, &deleted, &floor));
	TT_INTEQ(deleted, 4);
	TT_INTEQ(floor, 4);
	TT_PASS(tly_relay_read(a, 0, 100, 0, &e, &n, &more));
	TT_INTEQ(n, 6);
	TT_INTEQ(e[0].seq, 5); /* a reader behind the floor sees the gap */
	TT_MEMEQ(e[0].data, "entry 05", 8);
	tly_relay_entries_free(e, n);
	TT_PASS(tly_relay_info(a, &info));
	TT_INTEQ(info.used, 48);
	TT_INTEQ(info.log_head, 10);

	/* Again: nothing more; below the floor: nothing either. */
	TT_PASS(tly_relay_trim(a, 4, &deleted, &floor));
	TT_INTEQ(deleted, 0);
	TT_INTEQ(floor, 4);
	TT_PASS(tly_relay_trim(a, 2, &deleted, &floor));
	TT_INTEQ(deleted, 0);
	TT_INTEQ(floor, 4);

	/* Past the head: everything goes, the head stays, and the next
	 * append continues after it. */
	TT_PASS(tly_relay_trim(a, 1000, &deleted, &floor));
	TT_INTEQ(deleted, 6);
	TT_INTEQ(floor, 10);
	TT_PASS(tly_relay_info(a, &info));
	TT_INTEQ(info.used, 0);
	TT_INTEQ(info.log_head, 10);
	TT_PASS(tly_relay_append(a, "entry 11", 8, &seq, NULL));
	TT_INTEQ(seq, 11);
	TT_PASS(tly_relay_trim(a, 0, &deleted, &floor));
	TT_INTEQ(floor, 10);

	/* Only the own log: b's entry is still there. */
	TT_PASS(tly_relay_read(b, 0, 100, 0, &e, &n, &more));
	TT_INTEQ(n, 1);
	tly_relay_entries_free(e, n);
	/* Durable like any write: still trimmed after a restart. */
	it_stop(&s);
	it_restart(&s);
	TT_PASS(tly_relay_read(a, 0, 100, 0, &e, &n, &more));
	TT_INTEQ(n, 1);
	TT_INTEQ(e[0].seq, 11);
	tly_relay_entries_free(e, n);
	tly_relay_close(a);
	tly_relay_close(b);
	it_stop(&s);
	it_cleanup(&s);
}

/* More entries than one trim request drops (TLY_TRIM_MAX): the client
 * repeats until all are gone. */
static void
test_trim_large(void **state)
{
	struct it_srv         s;
	struct it_key         k;
	tly_relay            *r;
	struct tly_relay_info info;
	uint64_t              deleted, floor, i;
	const uint64_t        n = TLY_TRIM_MAX + 1500;

	(void) state;
	it_start(&s, "[limits]\nrate = 0\n", 0);
	it_keygen(&k);
	r = it_client(s.url, &k, 0, 5000);
	reg(r);
	for (i = 0; i < n; i++)
		TT_PASS(tly_relay_append(r, &i, sizeof i, NULL, NULL));
	TT_PASS(tly_relay_trim(r, n - 1, &deleted, &floor));
	TT_INTEQ(deleted, n - 1);
	TT_INTEQ(floor, n - 1);
	TT_PASS(tly_relay_info(r, &info));
	TT_INTEQ(info.used, sizeof i);
	tly_relay_close(r);
	it_stop(&s);
	it_cleanup(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_signin_rate, it_teardown),
		cmocka_unit_test_teardown(
		    test_signin_rate_dual_stack, it_teardown),
		cmocka_unit_test_teardown(test_session_cap, it_teardown),
		cmocka_unit_test_teardown(test_resend_over_quota, it_teardown),
		cmocka_unit_test_teardown(test_trim, it_teardown),
		cmocka_unit_test_teardown(test_trim_large, it_teardown),
	};

	if (sodium_init() < 0)
		return (1);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
