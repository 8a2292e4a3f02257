/*
 * syncproto_test.c -- the formats of device sync (proto/tly_sync.c,
 * PROTOCOL.md part 10) and the rendezvous requests of the relay
 * (proto/frame.c, part 8): round trips, and each kind of damage refused
 * with its code.
 */
#include <stdlib.h>

#include <sodium.h>

#include "frame.h"
#include "tly_sync.h"
#include "tt.h"

static void
make_batch(tly_buf *b)
{
	struct tly_sync_op op;

	TT_PASS(tly_sync_batch_begin(b));
	memset(&op, 0, sizeof op);
	op.clock   = 0x0102030405060708ull;
	op.table   = 1;
	op.key     = (const unsigned char *) "0123456789abcdef0123456789abcdef";
	op.keylen  = 32;
	op.cols    = (const unsigned char *) "{\"name\":\"Ann Lee\"}";
	op.colslen = strlen((const char *) op.cols);
	TT_PASS(tly_sync_batch_add(b, &op));
	op.clock++;
	op.cols = NULL; /* a delete */
	TT_PASS(tly_sync_batch_add(b, &op));
}

static void
test_batch(void **state)
{
	tly_buf             b = TLY_BUF_INIT, e = TLY_BUF_INIT, p = TLY_BUF_INIT;
	unsigned char       key[32], other[32];
	struct tly_sync_hdr h;
	struct tly_sync_op  op;
	size_t              off = 0;
	uint32_t            count = 0;

	(void) state;
	memset(key, 1, sizeof key);
	memset(other, 2, sizeof other);
	make_batch(&b);
	TT_PASS(tly_sync_seal(&e, 3, 0x1122334455667788ull, key, b.p, b.len));
	TT_INTEQ(e.len, TLY_SYNC_AD + b.len + TLY_SYNC_TAG);
	TT_PASS(tly_sync_hdr_decode(&h, e.p, e.len));
	TT_INTEQ(h.type, TLY_SYNC_OPS);
	TT_INTEQ(h.epoch, 3);
	TT_INTEQ(h.device, 0x1122334455667788ull);
	TT_PASS(tly_sync_open(&p, &h, key, e.p, e.len));
	TT_INTEQ(p.len, b.len);
	TT_MEMEQ(p.p, b.p, b.len);
	TT_INTEQ(tly_sync_batch_next(p.p, p.len, &off, &count, &op), 1);
	TT_INTEQ(op.clock, 0x0102030405060708ull);
	TT_INTEQ(op.table, 1);
	TT_INTEQ(op.keylen, 32);
	TT_INTEQ(op.colslen, 18);
	TT_INTEQ(tly_sync_batch_next(p.p, p.len, &off, &count, &op), 1);
	if (op.cols != NULL)
		fail_msg("the second operation is a delete");
	TT_INTEQ(tly_sync_batch_next(p.p, p.len, &off, &count, &op), 0);
	/* the wrong key, a changed header byte, a changed ciphertext byte */
	TT_FAIL(tly_sync_open(&p, &h, other, e.p, e.len), TALLY_ECRYPTO);
	e.p[9] ^= 1;
	TT_PASS(tly_sync_hdr_decode(&h, e.p, e.len));
	TT_FAIL(tly_sync_open(&p, &h, key, e.p, e.len), TALLY_ECRYPTO);
	e.p[9] ^= 1;
	e.p[TLY_SYNC_AD + 3] ^= 0x80;
	TT_PASS(tly_sync_hdr_decode(&h, e.p, e.len));
	TT_FAIL(tly_sync_open(&p, &h, key, e.p, e.len), TALLY_ECRYPTO);
	e.p[TLY_SYNC_AD + 3] ^= 0x80;
	/* header damage */
	TT_FAIL(tly_sync_hdr_decode(&h, e.p, TLY_SYNC_AD + TLY_SYNC_TAG - 1),
	    TALLY_EFORMAT);
	e.p[0] = 'X';
	TT_FAIL(tly_sync_hdr_decode(&h, e.p, e.len), TALLY_EFORMAT);
	e.p[0] = 'T';
	e.p[4] = 2;
	TT_FAIL(tly_sync_hdr_decode(&h, e.p, e.len), TALLY_EUNSUPP);
	e.p[4] = 1;
	e.p[5] = 9;
	TT_FAIL(tly_sync_hdr_decode(&h, e.p, e.len), TALLY_EFORMAT);
	e.p[5] = 1;
	e.p[7] = 1;
	TT_FAIL(tly_sync_hdr_decode(&h, e.p, e.len), TALLY_EFORMAT);
	/* batch damage: trailing bytes, a count too large, a cut */
	off = count = 0;
	TT_PASS(tly_buf_u8(&b, 0));
	while (tly_sync_batch_next(b.p, b.len, &off, &count, &op) == 1)
		;
	TT_INTEQ(tly_sync_batch_next(b.p, b.len, &off, &count, &op),
	    -TALLY_EFORMAT);
	b.len--;
	b.p[3] = 200;
	off = count = 0;
	TT_INTEQ(tly_sync_batch_next(b.p, b.len, &off, &count, &op),
	    -TALLY_EFORMAT);
	b.p[3] = 2;
	for (size_t n = 5; n < b.len; n++) {
		int r;

		off = count = 0;
		while ((r = tly_sync_batch_next(b.p, n, &off, &count, &op)) ==
		    1)
			;
		TT_INTEQ(r, -TALLY_EFORMAT);
	}
	tly_buf_free(&b);
	tly_buf_free(&e);
	tly_buf_free(&p);
}

static void
test_keys(void **state)
{
	struct tly_sync_sealed keys[2], got[TLY_SYNC_KEYS_MAX];
	unsigned char          pk[32], sk[64], pk2[32], sk2[64], s0[80], s1[80];
	tly_buf                e = TLY_BUF_INIT;
	struct tly_sync_hdr    h;
	size_t                 n;

	(void) state;
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	memset(s0, 0xa0, sizeof s0);
	memset(s1, 0xa1, sizeof s1);
	keys[0].device = 7;
	keys[0].sealed = s0;
	keys[1].device = 9;
	keys[1].sealed = s1;
	TT_PASS(tly_sync_keys_encode(&e, 4, 7, keys, 2, sk));
	TT_PASS(tly_sync_hdr_decode(&h, e.p, e.len));
	TT_INTEQ(h.type, TLY_SYNC_KEYS);
	TT_INTEQ(h.epoch, 4);
	TT_PASS(tly_sync_keys_decode(&h, e.p, e.len, pk, got, &n));
	TT_INTEQ(n, 2);
	TT_INTEQ(got[1].device, 9);
	TT_MEMEQ(got[1].sealed, s1, sizeof s1);
	/* another writer's key; any byte changed; a cut */
	TT_FAIL(tly_sync_keys_decode(&h, e.p, e.len, pk2, got, &n),
	    TALLY_ECRYPTO);
	for (size_t i = 0; i < e.len; i++) {
		e.p[i] ^= 0x10;
		if (tly_sync_hdr_decode(&h, e.p, e.len) == 0 &&
		    h.type == TLY_SYNC_KEYS &&
		    tly_sync_keys_decode(&h, e.p, e.len, pk, got, &n) == 0)
			fail_msg("byte %zu changed, still accepted", i);
		e.p[i] ^= 0x10;
	}
	TT_PASS(tly_sync_hdr_decode(&h, e.p, e.len - 1));
	TT_FAIL(tly_sync_keys_decode(&h, e.p, e.len - 1, pk, got, &n),
	    TALLY_EFORMAT);
	TT_FAIL(tly_sync_keys_encode(&e, 4, 7, keys, 0, sk), TALLY_EINVAL);
	tly_buf_free(&e);
}

static void
test_link(void **state)
{
	struct tly_link_offer  *o  = calloc(1, sizeof *o);
	struct tly_link_offer  *o2 = calloc(1, sizeof *o2);
	struct tly_link_answer  a, a2;
	unsigned char raw[TLY_LINK_CODE_BYTES], raw2[TLY_LINK_CODE_BYTES];
	unsigned char k1[32], k2[32], s1[32], s2[32], t1[32], t2[32];
	char          code[TLY_LINK_CODE_LEN + 1], typed[64];
	tly_buf       e = TLY_BUF_INIT;

	(void) state;
	assert_non_null(o);
	assert_non_null(o2);
	tly_link_code_new(code);
	TT_INTEQ(strlen(code), TLY_LINK_CODE_LEN);
	TT_INTEQ(code[4], '-');
	TT_PASS(tly_link_code_parse(raw, code));
	/* typed in capitals, with spaces instead of dashes */
	for (size_t i = 0; i <= strlen(code); i++)
		typed[i] = code[i] == '-' ? ' '
		    : (code[i] >= 'a' && code[i] <= 'z') ? (char) (code[i] - 32)
		                                          : code[i];
	TT_PASS(tly_link_code_parse(raw2, typed));
	TT_MEMEQ(raw2, raw, sizeof raw);
	TT_FAIL(tly_link_code_parse(raw2, "abcd-efgh"), TALLY_EFORMAT);
	TT_FAIL(tly_link_code_parse(raw2, "abcd-efgh-ijkl-mno1"),
	    TALLY_EFORMAT);
	TT_FAIL(tly_link_code_parse(raw2, "abcd-efgh-ijkl-mnopq"),
	    TALLY_EFORMAT);
	/* the same code, the same key and slots; two different slots */
	TT_PASS(tly_link_code_parse(raw2, typed));
	TT_PASS(tly_link_derive(raw, k1, s1, t1));
	TT_PASS(tly_link_derive(raw2, k2, s2, t2));
	TT_MEMEQ(k2, k1, 32);
	TT_MEMEQ(s2, s1, 32);
	if (memcmp(s1, t1, 32) == 0)
		fail_msg("offer and answer share a slot");
	o->expires = 1763769600;
	o->device  = 42;
	memset(o->seed, 3, 32);
	o->nkeys    = 2;
	o->epoch[0] = 1;
	o->epoch[1] = 2;
	memset(o->key[0], 4, 32);
	memset(o->key[1], 5, 32);
	TT_PASS(tly_link_offer_seal(&e, o, k1));
	TT_PASS(tly_link_offer_open(o2, e.p, e.len, k1));
	TT_INTEQ(o2->expires, o->expires);
	TT_INTEQ(o2->device, 42);
	TT_INTEQ(o2->nkeys, 2);
	TT_INTEQ(o2->epoch[1], 2);
	TT_MEMEQ(o2->seed, o->seed, 32);
	TT_MEMEQ(o2->key[1], o->key[1], 32);
	k2[0] ^= 1;
	TT_FAIL(tly_link_offer_open(o2, e.p, e.len, k2), TALLY_ECRYPTO);
	TT_FAIL(tly_link_offer_open(o2, e.p, 10, k1), TALLY_EFORMAT);
	memset(&a, 0, sizeof a);
	a.device = 77;
	memset(a.pk, 6, 32);
	snprintf(a.name, sizeof a.name, "laptop");
	TT_PASS(tly_link_answer_seal(&e, &a, k1));
	TT_PASS(tly_link_answer_open(&a2, e.p, e.len, k1));
	TT_INTEQ(a2.device, 77);
	TT_STREQ(a2.name, "laptop");
	/* an answer does not open as an offer (other associated data) */
	TT_FAIL(tly_link_offer_open(o2, e.p, e.len, k1), TALLY_ECRYPTO);
	memset(a.name, 'x', sizeof a.name);
	a.name[sizeof a.name - 1] = '\0';
	TT_PASS(tly_link_answer_seal(&e, &a, k1));
	TT_PASS(tly_link_answer_open(&a2, e.p, e.len, k1));
	tly_buf_free(&e);
	free(o);
	free(o2);
}

static void
test_slot_frames(void **state)
{
	struct tly_req q, q2;
	struct tly_rep r;
	tly_buf        b   = TLY_BUF_INIT;
	unsigned char  id[TLY_SLOT_ID_BYTES], big[TLY_SLOT_MAX + 1];
	size_t         at;

	(void) state;
	memset(id, 9, sizeof id);
	memset(big, 1, sizeof big);
	memset(&q, 0, sizeof q);
	q.type    = TLY_T_SLOT_PUT;
	q.reqid   = 5;
	q.id      = id;
	q.data    = big;
	q.datalen = 100;
	TT_PASS(tly_req_encode(&b, &q));
	TT_PASS(tly_req_decode(&q2, b.p, b.len));
	TT_INTEQ(q2.type, TLY_T_SLOT_PUT);
	TT_INTEQ(q2.datalen, 100);
	if (q2.token != NULL)
		fail_msg("a slot request carries no session token");
	TT_MEMEQ(q2.id, id, sizeof id);
	q.datalen = sizeof big;
	tly_buf_reset(&b);
	TT_FAIL(tly_req_encode(&b, &q), TALLY_EINVAL);
	q.type = TLY_T_SLOT_TAKE;
	tly_buf_reset(&b);
	TT_PASS(tly_req_encode(&b, &q));
	TT_PASS(tly_req_decode(&q2, b.p, b.len));
	TT_INTEQ(q2.type, TLY_T_SLOT_TAKE);
	TT_FAIL(tly_req_decode(&q2, b.p, b.len - 1), TALLY_EFORMAT);
	/* replies */
	tly_buf_reset(&b);
	TT_PASS(tly_rep_begin(&b, TLY_T_SLOT_TAKE | TLY_T_REPLY, 5));
	TT_PASS(tly_buf_u32(&b, 3));
	TT_PASS(tly_buf_append(&b, "abc", 3));
	tly_rep_end(&b, 0);
	TT_PASS(tly_rep_decode(&r, TLY_T_SLOT_TAKE, b.p, b.len));
	TT_INTEQ(r.datalen, 3);
	TT_MEMEQ(r.data, "abc", 3);
	tly_buf_reset(&b);
	TT_PASS(tly_rep_begin(&b, TLY_T_SLOT_TAKE | TLY_T_REPLY, 5));
	at = b.len;
	TT_PASS(tly_buf_u32(&b, TLY_SLOT_MAX + 1));
	TT_PASS(tly_buf_append(&b, big, sizeof big));
	tly_rep_end(&b, 0);
	TT_FAIL(tly_rep_decode(&r, TLY_T_SLOT_TAKE, b.p, b.len),
	    TALLY_EFORMAT);
	(void) at;
	tly_buf_reset(&b);
	TT_PASS(tly_rep_error(&b, 5, TLY_W_EXISTS, "the slot is filled"));
	TT_PASS(tly_rep_decode(&r, TLY_T_SLOT_PUT, b.p, b.len));
	TT_INTEQ(r.type, TLY_T_ERROR);
	TT_INTEQ(tly_wire_to_err(r.err), TALLY_EEXIST);
	TT_INTEQ(tly_err_to_wire(TALLY_EEXIST), TLY_W_EXISTS);
	tly_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_link),
		cmocka_unit_test(test_slot_frames),
	};

	if (sodium_init() < 0)
		return (1);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
