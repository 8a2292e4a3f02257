/*
 * frame_test.c -- the relay frame codec (proto/frame.c): every request
 * type round-trips, replies decode, and malformed frames are refused.
 */
#include <stdlib.h>

#include "frame.h"
#include "tly_buf.h"
#include "tt.h"

static const unsigned char K[32] = { 1, 2, 3 };
static const unsigned char S[64] = { 9 };

static void
roundtrip(const struct tly_req *q)
{
	struct tly_req d;
	tly_buf        b = TLY_BUF_INIT, b2 = TLY_BUF_INIT;

	TT_PASS(tly_req_encode(&b, q));
	TT_PASS(tly_req_decode(&d, b.p, b.len));
	TT_INTEQ(d.type, q->type);
	TT_INTEQ(d.reqid, q->reqid);
	TT_PASS(tly_req_encode(&b2, &d));
	TT_INTEQ(b2.len, b.len);
	TT_MEMEQ(b2.p, b.p, b.len);
	/* Every truncation and one extra byte are refused. */
	for (size_t n = 0; n < b.len; n++)
		if (tly_req_decode(&d, b.p, n) == 0)
			fail_msg("type %u: a %zu-byte prefix decoded",
			    (unsigned) q->type, n);
	TT_PASS(tly_buf_u8(&b, 0));
	TT_FAIL(tly_req_decode(&d, b.p, b.len), TALLY_EFORMAT);
	tly_buf_free(&b);
	tly_buf_free(&b2);
}

static void
test_requests(void **state)
{
	struct tly_req q;

	(void) state;
	memset(&q, 0, sizeof q);
	q.reqid = 0x0102030405060708ull;
	q.token = K;
	q.type  = TLY_T_PING;
	roundtrip(&q);
	q.type = TLY_T_HELLO;
	roundtrip(&q);
	q.type      = TLY_T_AUTH;
	q.pubkey    = K;
	q.challenge = K;
	q.sig       = S;
	roundtrip(&q);
	q.type    = TLY_T_REGISTER;
	q.data    = (const unsigned char *) "invite";
	q.datalen = 6;
	roundtrip(&q);
	q.type      = TLY_T_PUT;
	q.recipient = K;
	roundtrip(&q);
	q.type  = TLY_T_LIST;
	q.after = 77;
	q.max   = 10;
	roundtrip(&q);
	q.type = TLY_T_FETCH;
	q.id   = K;
	roundtrip(&q);
	q.type = TLY_T_ACK;
	q.ids  = S;
	q.nids = 2;
	roundtrip(&q);
	q.type = TLY_T_APPEND;
	roundtrip(&q);
	q.type     = TLY_T_READ;
	q.maxbytes = 1000;
	roundtrip(&q);
	q.type    = TLY_T_WAIT;
	q.after2  = 5;
	q.timeout = 30;
	roundtrip(&q);
	q.type = TLY_T_INFO;
	roundtrip(&q);
	q.type    = TLY_T_TRIM;
	q.through = 0x1122334455667788ull;
	roundtrip(&q);
	q.type    = TLY_T_ADMIN;
	q.argc    = 2;
	q.argv[0] = "stats";
	q.argl[0] = 5;
	q.argv[1] = "";
	q.argl[1] = 0;
	roundtrip(&q);
}

static void
test_refusals(void **state)
{
	struct tly_req q, d;
	tly_buf        b = TLY_BUF_INIT;

	(void) state;
	memset(&q, 0, sizeof q);
	q.type = TLY_T_PING;
	TT_PASS(tly_req_encode(&b, &q));
	/* Version 2 is unsupported; bad magic, flags and types malformed. */
	b.p[4] = 2;
	TT_FAIL(tly_req_decode(&d, b.p, b.len), TALLY_EUNSUPP);
	b.p[4] = 1;
	b.p[0] = 'X';
	TT_FAIL(tly_req_decode(&d, b.p, b.len), TALLY_EFORMAT);
	b.p[0] = 'T';
	b.p[7] = 1;
	TT_FAIL(tly_req_decode(&d, b.p, b.len), TALLY_EFORMAT);
	b.p[7] = 0;
	b.p[5] = 0x7e;
	TT_FAIL(tly_req_decode(&d, b.p, b.len), TALLY_EFORMAT);
	TT_FAIL(tly_req_decode(&d, NULL, 0), TALLY_EFORMAT);
	/* Counts out of range cannot be encoded nor decoded. */
	tly_buf_reset(&b);
	q.type  = TLY_T_LIST;
	q.token = K;
	q.max   = 0;
	TT_FAIL(tly_req_encode(&b, &q), TALLY_EINVAL);
	q.max = TLY_LIST_MAX + 1;
	TT_FAIL(tly_req_encode(&b, &q), TALLY_EINVAL);
	q.type = TLY_T_ACK;
	q.ids  = S;
	q.nids = 0;
	tly_buf_reset(&b);
	TT_FAIL(tly_req_encode(&b, &q), TALLY_EINVAL);
	tly_buf_free(&b);
}

static void
test_replies(void **state)
{
	struct tly_rep       p;
	struct tly_mail_item m;
	struct tly_log_item  e;
	tly_buf              b   = TLY_BUF_INIT;
	size_t               off = 0;

	(void) state;
	TT_PASS(tly_rep_error(&b, 42, TLY_W_QUOTA, "quota exceeded"));
	TT_PASS(tly_rep_decode(&p, TLY_T_PUT, b.p, b.len));
	TT_INTEQ(p.type, TLY_T_ERROR);
	TT_INTEQ(p.err, TLY_W_QUOTA);
	TT_INTEQ(p.reqid, 42);
	TT_INTEQ(tly_wire_to_err(p.err), TALLY_EQUOTA);
	TT_INTEQ(tly_err_to_wire(TALLY_EQUOTA), TLY_W_QUOTA);

	/* A list reply with one item. */
	tly_buf_reset(&b);
	TT_PASS(tly_rep_begin(&b, TLY_T_LIST | TLY_T_REPLY, 1));
	TT_PASS(tly_buf_u16(&b, 1));
	TT_PASS(tly_buf_u8(&b, 0));
	TT_PASS(tly_buf_u64(&b, 9));
	TT_PASS(tly_buf_append(&b, K, 32));
	TT_PASS(tly_buf_u32(&b, 100));
	TT_PASS(tly_buf_u64(&b, 1234));
	tly_rep_end(&b, 0);
	TT_PASS(tly_rep_decode(&p, TLY_T_LIST, b.p, b.len));
	assert_true(tly_rep_mail_next(&p, &off, &m));
	TT_INTEQ(m.seq, 9);
	TT_INTEQ(m.size, 100);
	TT_INTEQ(m.time, 1234);
	TT_MEMEQ(m.id, K, 32);
	assert_false(tly_rep_mail_next(&p, &off, &m));
	/* Wrong type expected, or a count the items do not fill. */
	TT_FAIL(tly_rep_decode(&p, TLY_T_READ, b.p, b.len), TALLY_EFORMAT);
	b.p[TLY_FRAME_HDR + 1] = 2;
	TT_FAIL(tly_rep_decode(&p, TLY_T_LIST, b.p, b.len), TALLY_EFORMAT);

	/* A read reply. */
	tly_buf_reset(&b);
	TT_PASS(tly_rep_begin(&b, TLY_T_READ | TLY_T_REPLY, 1));
	TT_PASS(tly_buf_u16(&b, 1));
	TT_PASS(tly_buf_u8(&b, 1));
	TT_PASS(tly_buf_u64(&b, 3));
	TT_PASS(tly_buf_u64(&b, 5));
	TT_PASS(tly_buf_u32(&b, 2));
	TT_PASS(tly_buf_append(&b, "ok", 2));
	tly_rep_end(&b, 0);
	TT_PASS(tly_rep_decode(&p, TLY_T_READ, b.p, b.len));
	off = 0;
	assert_true(tly_rep_log_next(&p, &off, &e));
	TT_INTEQ(e.seq, 3);
	TT_INTEQ(e.len, 2);
	TT_MEMEQ(e.data, "ok", 2);
	TT_INTEQ(p.more, 1);

	/* A trim reply; more than TLY_TRIM_MAX dropped cannot be. */
	tly_buf_reset(&b);
	TT_PASS(tly_rep_begin(&b, TLY_T_TRIM | TLY_T_REPLY, 1));
	TT_PASS(tly_buf_u32(&b, 3));
	TT_PASS(tly_buf_u64(&b, 40));
	tly_rep_end(&b, 0);
	TT_PASS(tly_rep_decode(&p, TLY_T_TRIM, b.p, b.len));
	TT_INTEQ(p.trimmed, 3);
	TT_INTEQ(p.floor, 40);
	b.p[TLY_FRAME_HDR + 1] = 1;
	TT_FAIL(tly_rep_decode(&p, TLY_T_TRIM, b.p, b.len), TALLY_EFORMAT);
	b.p[TLY_FRAME_HDR + 1] = 0;
	TT_FAIL(tly_rep_decode(&p, TLY_T_TRIM, b.p, b.len - 1), TALLY_EFORMAT);
	tly_buf_free(&b);
}

static void
test_auth_msg(void **state)
{
	unsigned char a[TLY_AUTH_MSG_MAX], r[TLY_AUTH_MSG_MAX];
	size_t        na, nr;

	(void) state;
	na = tly_auth_msg(a, 0, K, K, K, NULL, 0);
	nr = tly_auth_msg(r, 1, K, K, K, (const unsigned char *) "x", 1);
	TT_INTEQ(na, sizeof TLY_AUTH_DOMAIN + 96);
	TT_INTEQ(nr, sizeof TLY_REGISTER_DOMAIN + 96 + 3);
	/* The domains differ, so one signature never serves both. */
	assert_true(memcmp(a, r, 8) == 0 && memcmp(a, r, na) != 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_auth_msg),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
