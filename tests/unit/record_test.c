/*
 * record_test.c -- canonical records, signed containers, revocations,
 * and the test vectors of proto/vectors/records.txt (byte for byte).
 *
 * `record_test --write-vectors` prints the vector file from the inputs
 * below; the file in the tree was made that way once and checked against
 * PROTOCOL.md by proto/vectors/check.py.
 */
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "proto.h"
#include "tly_armor.h"
#include "tly_enc.h"
#include "tly_ident.h"
#include "tly_keyfile.h"
#include "tly_record.h"
#include "tt.h"

/* Three fixed identities: seeds of 32 bytes 0x01, 0x02, 0x03. */
static tly_ident *ids[3];

static const unsigned char *
pk(int who)
{
	return (tly_ident_pk(ids[who]));
}

static int
setup(void **state)
{
	(void) state;
	for (int i = 0; i < 3; i++) {
		unsigned char seed[TLY_SEED_BYTES];
		memset(seed, i + 1, sizeof seed);
		if (tly_ident_from_seed(&ids[i], seed) != 0)
			return (-1);
	}
	return (0);
}

static int
teardown(void **state)
{
	(void) state;
	for (int i = 0; i < 3; i++)
		tly_ident_free(ids[i]);
	return (0);
}

/* Runs expr (which sets the local `why`) and checks its code and why. */
#define EXPECT(expr, want, wantwhy, what)              \
	do {                                           \
		int rv_;                               \
		why = -1;                              \
		rv_ = (expr);                          \
		expect(rv_, why, want, wantwhy, what); \
	} while (0)

/* Checks rv and why together. */
static void
expect(int rv, int why, int want, int wantwhy, const char *what)
{
	if (rv != want || why != wantwhy)
		fail_msg("%s: expected %s/%s, got %s/%s", what,
		    tally_errname(want), tly_why_str(wantwhy),
		    tally_errname(rv), tly_why_str(why));
}

/* -- Sample records --------------------------------------------------- */

static void
favor(tly_record *r)
{
	TT_PASS(tly_record_init(r, TLY_REC_FAVOR, 1773500000));
	memcpy(r->parties[0].pk, pk(0), TLY_PK_BYTES);
	memcpy(r->parties[1].pk, pk(1), TLY_PK_BYTES);
	r->favor_kind = TLY_FAVOR_ADVICE;
	TT_PASS(tly_date_parse(&r->date, "2026-03-14"));
	strcpy(r->text, "Thirty minutes on negotiating an offer.");
}

static void
referral(tly_record *r)
{
	TT_PASS(tly_record_init(r, TLY_REC_REFERRAL, 1775100000));
	memcpy(r->parties[0].pk, pk(1), TLY_PK_BYTES);
	memcpy(r->parties[1].pk, pk(0), TLY_PK_BYTES);
	TT_PASS(tly_date_parse(&r->date, "2026-04-02"));
	strcpy(r->name, "Acme Corp");
	strcpy(r->text, "Backend opening.");
}

static void
intro(tly_record *r)
{
	TT_PASS(tly_record_init(r, TLY_REC_INTRODUCTION, 1779250000));
	/* b's key sorts before a's: the canonical order. */
	memcpy(r->parties[0].pk, pk(2), TLY_PK_BYTES);
	memcpy(r->parties[1].pk, pk(1), TLY_PK_BYTES);
	memcpy(r->parties[2].pk, pk(0), TLY_PK_BYTES);
	TT_PASS(tly_date_parse(&r->date, "2026-05-20"));
}

static void
encode(tly_buf *b, const tly_record *r)
{
	int why = -1;

	tly_buf_reset(b);
	TT_PASS(tly_record_encode(b, r, &why));
	TT_INTEQ(why, TLY_WHY_NONE);
}

/* A complete signed container of r, signed by every party. */
static void
signed_all(tly_signed *s, const tly_record *r)
{
	TT_PASS(tly_signed_init(s, r, NULL));
	for (size_t i = 0; i < s->rec.nparties; i++)
		for (int w = 0; w < 3; w++)
			if (memcmp(s->rec.parties[i].pk, pk(w),
			        TLY_PK_BYTES) == 0)
				TT_PASS(tly_signed_sign(s, ids[w], NULL));
}

/* -- Round trips ------------------------------------------------------ */

static void
same_record(const tly_record *a, const tly_record *b)
{
	TT_INTEQ(a->version, b->version);
	TT_INTEQ(a->kind, b->kind);
	TT_MEMEQ(a->nonce, b->nonce, sizeof a->nonce);
	TT_INTEQ(a->created, b->created);
	TT_INTEQ(a->nparties, b->nparties);
	for (size_t i = 0; i < a->nparties; i++) {
		TT_INTEQ(a->parties[i].role, b->parties[i].role);
		TT_MEMEQ(a->parties[i].pk, b->parties[i].pk, TLY_PK_BYTES);
	}
	TT_INTEQ(a->date.year, b->date.year);
	TT_INTEQ(a->date.month, b->date.month);
	TT_INTEQ(a->date.day, b->date.day);
	TT_INTEQ(a->favor_kind, b->favor_kind);
	TT_STREQ(a->name, b->name);
	TT_STREQ(a->text, b->text);
	TT_MEMEQ(a->target, b->target, sizeof a->target);
	TT_INTEQ(a->action, b->action);
}

static void
test_roundtrip(void **state)
{
	tly_record r[5], d;
	tly_buf    b = TLY_BUF_INIT, b2 = TLY_BUF_INIT;

	(void) state;
	favor(&r[0]);
	referral(&r[1]);
	TT_PASS(tly_record_init(&r[2], TLY_REC_REFERENCE, 1776000000));
	memcpy(r[2].parties[0].pk, pk(2), TLY_PK_BYTES);
	memcpy(r[2].parties[1].pk, pk(0), TLY_PK_BYTES);
	TT_PASS(tly_date_parse(&r[2].date, "2024-02-29"));
	strcpy(r[2].text, "Line one\n\tLine two, caf\xc3\xa9");
	intro(&r[3]);
	TT_PASS(tly_record_init(&r[4], TLY_REC_REVOCATION, TLY_REC_TIME_MAX));
	memcpy(r[4].parties[0].pk, pk(1), TLY_PK_BYTES);
	memset(r[4].target, 0xab, sizeof r[4].target);
	r[4].action = TLY_ACTION_DECLINE;
	for (int i = 0; i < 5; i++) {
		encode(&b, &r[i]);
		TT_PASS(tly_record_decode(&d, b.p, b.len, NULL));
		same_record(&d, &r[i]);
		encode(&b2, &d);
		TT_INTEQ(b2.len, b.len);
		TT_MEMEQ(b2.p, b.p, b.len);
	}
	/* Introduced parties come out in key order whatever the input. */
	encode(&b, &r[3]);
	memcpy(r[3].parties[1].pk, pk(0), TLY_PK_BYTES);
	memcpy(r[3].parties[2].pk, pk(1), TLY_PK_BYTES);
	encode(&b2, &r[3]);
	TT_PASS(tly_record_decode(&d, b2.p, b2.len, NULL));
	TT_INTEQ(
	    memcmp(d.parties[1].pk, d.parties[2].pk, TLY_PK_BYTES) < 0, 1);
	TT_INTEQ(b2.len, b.len);
	TT_MEMEQ(b2.p, b.p, b.len); /* same as the sorted input */
	tly_buf_free(&b);
	tly_buf_free(&b2);
}

static void
test_names(void **state)
{
	tly_date d;
	char     s[11];

	(void) state;
	TT_STREQ(tly_rec_kind_name(TLY_REC_INTRODUCTION), "introduction");
	TT_INTEQ(tly_rec_kind_parse("revocation"), TLY_REC_REVOCATION);
	TT_INTEQ(tly_rec_kind_parse("gift"), 0);
	TT_INTEQ(tly_rec_kind_name(0) == NULL, 1);
	TT_INTEQ(tly_rec_kind_name(6) == NULL, 1);
	TT_STREQ(tly_rec_role_name(TLY_ROLE_CANDIDATE), "candidate");
	TT_INTEQ(tly_favor_kind_parse("resume"), TLY_FAVOR_RESUME);
	TT_STREQ(tly_favor_kind_name(TLY_FAVOR_INFO), "info");
	TT_INTEQ(tly_favor_kind_parse(NULL), 0);
	TT_INTEQ(tly_action_parse("decline"), TLY_ACTION_DECLINE);
	TT_STREQ(tly_action_name(TLY_ACTION_REVOKE), "revoke");
	TT_PASS(tly_date_parse(&d, "2000-02-29"));
	tly_date_format(s, &d);
	TT_STREQ(s, "2000-02-29");
	TT_FAIL(tly_date_parse(&d, "1900-02-29"), TALLY_EINVAL);
	TT_FAIL(tly_date_parse(&d, "2026-04-31"), TALLY_EINVAL);
	TT_FAIL(tly_date_parse(&d, "2026-4-01"), TALLY_EINVAL);
	TT_FAIL(tly_date_parse(&d, "2026-04-01x"), TALLY_EINVAL);
	TT_FAIL(tly_date_parse(&d, "1899-12-31"), TALLY_EINVAL);
	TT_FAIL(tly_date_parse(&d, ""), TALLY_EINVAL);
	TT_FAIL(tly_record_init(&(tly_record) { 0 }, 9, 0), TALLY_EINVAL);
}

/* -- Rejections of the record decoder --------------------------------- */

/* Decodes b after patching byte off to v. */
static int
decode_patched(const tly_buf *b, size_t off, unsigned char v, int *why)
{
	unsigned char p[TLY_REC_MAX + 8];
	tly_record    d;

	memcpy(p, b->p, b->len);
	p[off] = v;
	return (tly_record_decode(&d, p, b->len, why));
}

static void
test_reject_truncated(void **state)
{
	tly_record r, d;
	tly_buf    b = TLY_BUF_INIT;
	int        why;

	(void) state;
	favor(&r);
	encode(&b, &r);
	why = -1;
	EXPECT(tly_record_decode(&d, b.p, 0, &why), TALLY_EFORMAT,
	    TLY_WHY_EMPTY, "empty");
	for (size_t n = 1; n < b.len; n++) {
		why = -1;
		EXPECT(tly_record_decode(&d, b.p, n, &why), TALLY_EFORMAT,
		    TLY_WHY_TRUNCATED, "truncated record");
	}
	tly_buf_free(&b);
}

static void
test_reject_trailing(void **state)
{
	tly_record r, d;
	tly_buf    b   = TLY_BUF_INIT;
	int        why = -1;

	(void) state;
	referral(&r);
	encode(&b, &r);
	TT_PASS(tly_buf_u8(&b, 0));
	EXPECT(tly_record_decode(&d, b.p, b.len, &why), TALLY_EFORMAT,
	    TLY_WHY_TRAILING, "trailing byte");
	tly_buf_free(&b);
}

static void
test_reject_version_kind(void **state)
{
	tly_record r;
	tly_buf    b   = TLY_BUF_INIT;
	int        why = -1;

	(void) state;
	favor(&r);
	encode(&b, &r);
	EXPECT(decode_patched(&b, 0, 2, &why), TALLY_EUNSUPP, TLY_WHY_VERSION,
	    "version 2");
	EXPECT(decode_patched(&b, 0, 0, &why), TALLY_EUNSUPP, TLY_WHY_VERSION,
	    "version 0");
	EXPECT(decode_patched(&b, 1, 0, &why), TALLY_EFORMAT, TLY_WHY_KIND,
	    "kind 0");
	EXPECT(decode_patched(&b, 1, 6, &why), TALLY_EFORMAT, TLY_WHY_KIND,
	    "kind 6");
	r.version = 2;
	TT_FAIL(tly_record_encode(&b, &r, &why), TALLY_EUNSUPP);
	TT_INTEQ(why, TLY_WHY_VERSION);
	tly_buf_free(&b);
}

static void
test_reject_party_count(void **state)
{
	tly_record r;
	tly_buf    b   = TLY_BUF_INIT;
	int        why = -1;

	(void) state;
	favor(&r);
	encode(&b, &r);
	EXPECT(decode_patched(&b, 26, 3, &why), TALLY_EFORMAT,
	    TLY_WHY_PARTY_COUNT, "three parties in a favor");
	EXPECT(decode_patched(&b, 26, 1, &why), TALLY_EFORMAT,
	    TLY_WHY_PARTY_COUNT, "one party in a favor");
	/* A favor relabelled as an introduction has too few parties. */
	EXPECT(decode_patched(&b, 1, TLY_REC_INTRODUCTION, &why),
	    TALLY_EFORMAT, TLY_WHY_PARTY_COUNT, "favor as introduction");
	r.nparties = 3;
	TT_FAIL(tly_record_encode(&b, &r, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_PARTY_COUNT);
	tly_buf_free(&b);
}

static void
test_reject_kind_mismatch(void **state)
{
	tly_record r;
	tly_buf    b   = TLY_BUF_INIT;
	int        why = -1;

	(void) state;
	/* A referral claiming to be a reference or a favor: same number of
	 * parties, but the roles are a referral's. */
	referral(&r);
	encode(&b, &r);
	EXPECT(decode_patched(&b, 1, TLY_REC_REFERENCE, &why), TALLY_EFORMAT,
	    TLY_WHY_KIND_MISMATCH, "referral as reference");
	EXPECT(decode_patched(&b, 1, TLY_REC_FAVOR, &why), TALLY_EFORMAT,
	    TLY_WHY_KIND_MISMATCH, "referral as favor");
	/* The roles swapped. */
	r.parties[0].role = TLY_ROLE_REFERRED;
	r.parties[1].role = TLY_ROLE_REFERRER;
	TT_FAIL(tly_record_encode(&b, &r, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_KIND_MISMATCH);
	tly_buf_free(&b);
}

static void
test_reject_dup_party(void **state)
{
	tly_record r;
	tly_buf    b   = TLY_BUF_INIT;
	int        why = -1;

	(void) state;
	favor(&r);
	memcpy(r.parties[1].pk, pk(0), TLY_PK_BYTES);
	TT_FAIL(tly_record_encode(&b, &r, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_DUP_PARTY);
	intro(&r);
	memcpy(r.parties[2].pk, pk(2), TLY_PK_BYTES); /* introducer again */
	TT_FAIL(tly_record_encode(&b, &r, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_DUP_PARTY);
	/* By hand: the receiver's key made the giver's. */
	favor(&r);
	encode(&b, &r);
	memcpy(b.p + 27 + 33 + 1, pk(0), TLY_PK_BYTES);
	TT_FAIL(tly_record_decode(&r, b.p, b.len, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_DUP_PARTY);
	tly_buf_free(&b);
}

static void
test_reject_party_order(void **state)
{
	tly_record    r, d;
	tly_buf       b = TLY_BUF_INIT;
	unsigned char t[TLY_PK_BYTES];
	int           why = -1;

	(void) state;
	intro(&r);
	encode(&b, &r);
	/* Swap the two introduced keys in the encoding. */
	memcpy(t, b.p + 27 + 33 + 1, TLY_PK_BYTES);
	memcpy(b.p + 27 + 33 + 1, b.p + 27 + 66 + 1, TLY_PK_BYTES);
	memcpy(b.p + 27 + 66 + 1, t, TLY_PK_BYTES);
	EXPECT(tly_record_decode(&d, b.p, b.len, &why), TALLY_EFORMAT,
	    TLY_WHY_PARTY_ORDER, "introduced out of order");
	tly_buf_free(&b);
}

static void
test_reject_fields(void **state)
{
	tly_record r;
	tly_buf    b    = TLY_BUF_INIT;
	int        why  = -1;
	size_t     body = 27 + 2 * 33;

	(void) state;
	favor(&r);
	encode(&b, &r);
	EXPECT(decode_patched(&b, body + 3, 0, &why), TALLY_EFORMAT,
	    TLY_WHY_DATE, "day 0");
	EXPECT(decode_patched(&b, body + 2, 13, &why), TALLY_EFORMAT,
	    TLY_WHY_DATE, "month 13");
	EXPECT(decode_patched(&b, body + 4, 0, &why), TALLY_EFORMAT,
	    TLY_WHY_FAVOR_KIND, "favor kind 0");
	EXPECT(decode_patched(&b, body + 4, 8, &why), TALLY_EFORMAT,
	    TLY_WHY_FAVOR_KIND, "favor kind 8");
	EXPECT(decode_patched(&b, 18, 0xff, &why), TALLY_EFORMAT, TLY_WHY_TIME,
	    "created far in the future");
	r.created = -1;
	TT_FAIL(tly_record_encode(&b, &r, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_TIME);
	favor(&r);
	r.date.day   = 30;
	r.date.month = 2;
	TT_FAIL(tly_record_encode(&b, &r, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_DATE);
	favor(&r);
	r.favor_kind = 0;
	TT_FAIL(tly_record_encode(&b, &r, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_FAVOR_KIND);

	TT_PASS(tly_record_init(&r, TLY_REC_REVOCATION, 1));
	memcpy(r.parties[0].pk, pk(0), TLY_PK_BYTES);
	r.action = 3;
	TT_FAIL(tly_record_encode(&b, &r, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_ACTION);
	r.action = TLY_ACTION_REVOKE;
	encode(&b, &r);
	EXPECT(decode_patched(&b, 27 + 33 + 32, 0, &why), TALLY_EFORMAT,
	    TLY_WHY_ACTION, "action 0");
	tly_buf_free(&b);
}

static void
test_reject_text(void **state)
{
	static const struct {
		const char *s;
		int         why;
	} bad[] = {
		{ "bad \xff byte", TLY_WHY_UTF8 },
		{ "overlong \xc0\xaf", TLY_WHY_UTF8 },
		{ "surrogate \xed\xa0\x80", TLY_WHY_UTF8 },
		{ "cut \xe2\x82", TLY_WHY_UTF8 },
		{ "escape \x1b[31m", TLY_WHY_CONTROL },
		{ "carriage\r\n", TLY_WHY_CONTROL },
		{ "del \x7f", TLY_WHY_CONTROL },
		{ "c1 \xc2\x9b"
		  "31m",
		    TLY_WHY_CONTROL },
	};
	tly_record r;
	tly_buf    b = TLY_BUF_INIT;
	int        why;

	(void) state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		favor(&r);
		strcpy(r.text, bad[i].s);
		why = -1;
		TT_FAIL(tly_record_encode(&b, &r, &why), TALLY_EFORMAT);
		TT_INTEQ(why, bad[i].why);
		referral(&r);
		strcpy(r.name, bad[i].s);
		why = -1;
		TT_FAIL(tly_record_encode(&b, &r, &why), TALLY_EFORMAT);
		TT_INTEQ(why, bad[i].why);
	}
	/* A name is one line: no LF or TAB there. */
	referral(&r);
	strcpy(r.name, "Acme\nCorp");
	TT_FAIL(tly_record_encode(&b, &r, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_CONTROL);
	/* A referral says to whom; a reference may leave "for" empty. */
	referral(&r);
	r.name[0] = '\0';
	TT_FAIL(tly_record_encode(&b, &r, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_TEXT_EMPTY);
	/* Longest texts pass, one more byte does not. */
	referral(&r);
	memset(r.text, 'x', TLY_REC_TEXT_MAX);
	r.text[TLY_REC_TEXT_MAX] = '\0';
	memset(r.name, 'y', TLY_REC_NAME_MAX);
	r.name[TLY_REC_NAME_MAX] = '\0';
	encode(&b, &r);
	TT_INTEQ(b.len <= TLY_REC_MAX, 1);
	/* In the encoding, a length one over the limit. */
	b.p[b.len - TLY_REC_TEXT_MAX - 1] = (TLY_REC_TEXT_MAX + 1) & 0xff;
	TT_FAIL(tly_record_decode(&r, b.p, b.len, &why), TALLY_ETOOBIG);
	TT_INTEQ(why, TLY_WHY_TEXT_LEN);
	tly_buf_free(&b);
}

static void
test_reject_too_big(void **state)
{
	unsigned char *p = calloc(1, TLY_SIGNED_MAX + 1);
	tly_record     r;
	tly_signed     s;
	int            why = -1;

	(void) state;
	p[0] = TLY_REC_VERSION;
	EXPECT(tly_record_decode(&r, p, TLY_REC_MAX + 1, &why), TALLY_ETOOBIG,
	    TLY_WHY_TOO_BIG, "record over the limit");
	EXPECT(tly_signed_decode(&s, p, TLY_SIGNED_MAX + 1, &why),
	    TALLY_ETOOBIG, TLY_WHY_TOO_BIG, "container over the limit");
	p[1] = (TLY_REC_MAX + 1) >> 8;
	p[2] = (TLY_REC_MAX + 1) & 0xff;
	EXPECT(tly_signed_decode(&s, p, TLY_SIGNED_MAX, &why), TALLY_ETOOBIG,
	    TLY_WHY_TOO_BIG, "record length over the limit");
	free(p);
}

/* -- Signed containers ------------------------------------------------ */

static void
test_sign_verify(void **state)
{
	tly_record r;
	tly_signed s, d;
	tly_verify v;
	tly_buf    b   = TLY_BUF_INIT;
	int        why = -1;

	(void) state;
	intro(&r);
	TT_PASS(tly_signed_init(&s, &r, &why));
	TT_PASS(tly_signed_verify(&s, &v, &why));
	TT_INTEQ(v.nparties, 3);
	TT_INTEQ(v.nvalid, 0);
	TT_INTEQ(v.complete, 0);
	TT_INTEQ(v.state[0], TLY_SIG_MISSING);
	/* The introduced sign first (double opt-in), then the introducer. */
	TT_PASS(tly_signed_sign(&s, ids[1], &why));
	TT_PASS(tly_signed_verify(&s, &v, &why));
	TT_INTEQ(v.nvalid, 1);
	TT_INTEQ(v.complete, 0);
	TT_PASS(tly_signed_sign(&s, ids[0], &why));
	TT_PASS(tly_signed_encode(&b, &s));
	TT_PASS(tly_signed_decode(&d, b.p, b.len, &why));
	TT_PASS(tly_signed_verify(&d, &v, &why));
	TT_INTEQ(v.state[0], TLY_SIG_MISSING);
	TT_INTEQ(v.state[1], TLY_SIG_VALID);
	TT_INTEQ(v.state[2], TLY_SIG_VALID);
	TT_INTEQ(v.complete, 0);
	TT_PASS(tly_signed_sign(&d, ids[2], &why));
	TT_PASS(tly_signed_verify(&d, &v, &why));
	TT_INTEQ(v.nvalid, 3);
	TT_INTEQ(v.complete, 1);
	TT_MEMEQ(d.id, s.id, TLY_REC_ID_BYTES);
	/* Decoding and encoding again gives the same bytes. */
	tly_buf_reset(&b);
	TT_PASS(tly_signed_encode(&b, &d));
	TT_PASS(tly_signed_decode(&s, b.p, b.len, &why));
	{
		tly_buf b2 = TLY_BUF_INIT;
		TT_PASS(tly_signed_encode(&b2, &s));
		TT_INTEQ(b2.len, b.len);
		TT_MEMEQ(b2.p, b.p, b.len);
		TT_INTEQ(b.len, 4 + s.canon_len + 3 * 96);
		tly_buf_free(&b2);
	}
	tly_buf_free(&b);
}

static void
test_merge_add(void **state)
{
	tly_record r;
	tly_signed a, b, other;
	tly_verify v;
	int        why = -1;

	(void) state;
	favor(&r);
	TT_PASS(tly_signed_init(&a, &r, NULL));
	b = a;
	TT_PASS(tly_signed_sign(&a, ids[0], NULL));
	TT_PASS(tly_signed_sign(&b, ids[1], NULL));
	TT_PASS(tly_signed_merge(&a, &b, &why));
	TT_PASS(tly_signed_verify(&a, &v, NULL));
	TT_INTEQ(v.complete, 1);
	TT_PASS(tly_signed_merge(&a, &b, &why)); /* idempotent */
	/* Another record (another nonce) does not merge. */
	favor(&r);
	TT_PASS(tly_signed_init(&other, &r, NULL));
	TT_FAIL(tly_signed_merge(&a, &other, &why), TALLY_EINVAL);
	TT_INTEQ(why, TLY_WHY_TARGET);
	/* A conflicting signature for a party is refused. */
	memcpy(other.sig[0], a.sig[0], TLY_SIG_BYTES);
	other.sig[0][0] ^= 1;
	TT_FAIL(tly_signed_add(&a, pk(0), other.sig[0], &why), TALLY_EEXIST);
	TT_INTEQ(why, TLY_WHY_DUP_SIG);
	TT_FAIL(tly_signed_add(&a, pk(2), other.sig[0], &why), TALLY_EPERM);
	TT_INTEQ(why, TLY_WHY_NOT_PARTY);
	TT_PASS(tly_signed_add(&a, pk(0), a.sig[0], &why));
}

/* Flipping any byte of a complete container never leaves a complete,
 * valid record. */
static void
test_reject_flipped_byte(void **state)
{
	tly_record r;
	tly_signed s, d;
	tly_verify v;
	tly_buf    b       = TLY_BUF_INIT;
	int        nformat = 0, ncrypto = 0, nother = 0;

	(void) state;
	referral(&r);
	signed_all(&s, &r);
	TT_PASS(tly_signed_encode(&b, &s));
	for (size_t i = 0; i < b.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			int rv, why = -1;

			b.p[i] ^= (unsigned char) (1u << bit);
			rv = tly_signed_decode(&d, b.p, b.len, &why);
			if (rv == 0) {
				rv = tly_signed_verify(&d, &v, &why);
				if (rv == 0 && v.complete)
					fail_msg("byte %zu bit %d: accepted",
					    i, bit);
				if (rv == TALLY_ECRYPTO)
					ncrypto++;
				else
					nother++;
			} else
				nformat++;
			b.p[i] ^= (unsigned char) (1u << bit);
		}
	}
	TT_INTEQ(nformat + ncrypto + nother, (int) b.len * 8);
	TT_INTEQ(ncrypto > 0 && nformat > 0, 1);
	tly_buf_free(&b);
}

static void
test_reject_signed_truncated(void **state)
{
	tly_record r;
	tly_signed s, d;
	tly_buf    b   = TLY_BUF_INIT;
	int        why = -1;

	(void) state;
	favor(&r);
	signed_all(&s, &r);
	TT_PASS(tly_signed_encode(&b, &s));
	EXPECT(tly_signed_decode(&d, b.p, 0, &why), TALLY_EFORMAT,
	    TLY_WHY_EMPTY, "empty container");
	for (size_t n = 1; n < b.len; n++) {
		why = -1;
		EXPECT(tly_signed_decode(&d, b.p, n, &why), TALLY_EFORMAT,
		    TLY_WHY_TRUNCATED, "truncated container");
	}
	TT_PASS(tly_buf_u8(&b, 0));
	EXPECT(tly_signed_decode(&d, b.p, b.len, &why), TALLY_EFORMAT,
	    TLY_WHY_TRAILING, "container with a trailing byte");
	b.p[0] = 2;
	EXPECT(tly_signed_decode(&d, b.p, b.len, &why), TALLY_EUNSUPP,
	    TLY_WHY_VERSION, "container version 2");
	tly_buf_free(&b);
}

/* A container whose record is a favor by 0 for 1, with the raw
 * signature entries given. */
static void
container(tly_buf *out, const tly_signed *s, int n, const int *who,
    const unsigned char (*sig)[TLY_SIG_BYTES])
{
	tly_buf_reset(out);
	TT_PASS(tly_buf_u8(out, TLY_SIGNED_VERSION));
	TT_PASS(tly_buf_u16(out, (uint16_t) s->canon_len));
	TT_PASS(tly_buf_append(out, s->canon, s->canon_len));
	TT_PASS(tly_buf_u8(out, (uint8_t) n));
	for (int i = 0; i < n; i++) {
		TT_PASS(tly_buf_append(out, pk(who[i]), TLY_PK_BYTES));
		TT_PASS(tly_buf_append(out, sig[i], TLY_SIG_BYTES));
	}
}

static void
test_reject_not_party(void **state)
{
	tly_record    r;
	tly_signed    s, d;
	tly_buf       b = TLY_BUF_INIT;
	unsigned char sig[2][TLY_SIG_BYTES];
	int           why = -1, who[2] = { 0, 2 };

	(void) state;
	favor(&r);
	signed_all(&s, &r);
	/* Signing as an outsider is refused at once. */
	EXPECT(tly_signed_sign(&s, ids[2], &why), TALLY_EPERM,
	    TLY_WHY_NOT_PARTY, "outsider signs");
	/* A container carrying an outsider's signature (a real one, over
	 * the right bytes) is refused by the decoder. */
	memcpy(sig[0], s.sig[0], TLY_SIG_BYTES);
	{
		unsigned char m[16 + TLY_REC_MAX];
		memcpy(m, TLY_REC_DOMAIN, 16);
		memcpy(m + 16, s.canon, s.canon_len);
		tly_ident_sign(ids[2], sig[1], m, 16 + s.canon_len);
	}
	container(&b, &s, 2, who, sig);
	EXPECT(tly_signed_decode(&d, b.p, b.len, &why), TALLY_EPERM,
	    TLY_WHY_NOT_PARTY, "signature by a non-party");
	tly_buf_free(&b);
}

static void
test_reject_copied_sig(void **state)
{
	tly_record r1, r2;
	tly_signed s1, s2, d;
	tly_verify v;
	tly_buf    b   = TLY_BUF_INIT;
	int        why = -1;

	(void) state;
	/* Two favors between the same people; the giver's signature on
	 * the first is pasted into the second. */
	favor(&r1);
	favor(&r2);
	signed_all(&s1, &r1);
	TT_PASS(tly_signed_init(&s2, &r2, NULL));
	TT_PASS(tly_signed_sign(&s2, ids[1], NULL));
	TT_PASS(tly_signed_add(&s2, pk(0), s1.sig[0], &why));
	TT_PASS(tly_signed_encode(&b, &s2));
	TT_PASS(tly_signed_decode(&d, b.p, b.len, &why)); /* structure ok */
	EXPECT(tly_signed_verify(&d, &v, &why), TALLY_ECRYPTO, TLY_WHY_BAD_SIG,
	    "signature copied from another record");
	TT_INTEQ(v.state[0], TLY_SIG_INVALID);
	TT_INTEQ(v.state[1], TLY_SIG_VALID);
	TT_INTEQ(v.complete, 0);
	tly_buf_free(&b);
}

static void
test_reject_dup_sig(void **state)
{
	tly_record    r;
	tly_signed    s, d;
	tly_buf       b = TLY_BUF_INIT;
	unsigned char sig[3][TLY_SIG_BYTES];
	int           why = -1;

	(void) state;
	favor(&r);
	signed_all(&s, &r);
	memcpy(sig[0], s.sig[0], TLY_SIG_BYTES);
	memcpy(sig[1], s.sig[0], TLY_SIG_BYTES);
	memcpy(sig[2], s.sig[1], TLY_SIG_BYTES);
	/* The giver's entry twice. */
	container(&b, &s, 2, (int[]) { 0, 0 }, sig);
	EXPECT(tly_signed_decode(&d, b.p, b.len, &why), TALLY_EFORMAT,
	    TLY_WHY_DUP_SIG, "same signer twice");
	container(&b, &s, 3, (int[]) { 0, 0, 1 }, sig);
	EXPECT(tly_signed_decode(&d, b.p, b.len, &why), TALLY_EFORMAT,
	    TLY_WHY_DUP_SIG, "same signer twice, then the other");
	/* The giver's signature bytes under the receiver's key. */
	container(&b, &s, 2, (int[]) { 0, 1 }, sig);
	EXPECT(tly_signed_decode(&d, b.p, b.len, &why), TALLY_EFORMAT,
	    TLY_WHY_DUP_SIG, "same signature for two parties");
	tly_buf_free(&b);
}

static void
test_reject_sig_order(void **state)
{
	tly_record    r;
	tly_signed    s, d;
	tly_buf       b = TLY_BUF_INIT;
	unsigned char sig[2][TLY_SIG_BYTES];
	int           why = -1;

	(void) state;
	favor(&r);
	signed_all(&s, &r);
	memcpy(sig[0], s.sig[1], TLY_SIG_BYTES);
	memcpy(sig[1], s.sig[0], TLY_SIG_BYTES);
	container(&b, &s, 2, (int[]) { 1, 0 }, sig);
	EXPECT(tly_signed_decode(&d, b.p, b.len, &why), TALLY_EFORMAT,
	    TLY_WHY_SIG_ORDER, "signatures out of party order");
	/* In order, both verify. */
	container(&b, &s, 2, (int[]) { 0, 1 }, s.sig);
	TT_PASS(tly_signed_decode(&d, b.p, b.len, &why));
	TT_PASS(tly_signed_verify(&d, NULL, &why));
	tly_buf_free(&b);
}

/* -- Revocations ------------------------------------------------------ */

static void
test_revocation(void **state)
{
	tly_record r, rev;
	tly_signed s, rs, d;
	tly_verify v;
	tly_buf    b   = TLY_BUF_INIT;
	int        why = -1;

	(void) state;
	favor(&r);
	signed_all(&s, &r);
	TT_PASS(tly_record_init(&rev, TLY_REC_REVOCATION, 1780000000));
	memcpy(rev.parties[0].pk, pk(1), TLY_PK_BYTES);
	memcpy(rev.target, s.id, TLY_REC_ID_BYTES);
	rev.action = TLY_ACTION_REVOKE;
	strcpy(rev.text, "Entered twice by mistake.");
	TT_PASS(tly_signed_init(&rs, &rev, &why));
	TT_PASS(tly_signed_sign(&rs, ids[1], &why));
	TT_PASS(tly_signed_encode(&b, &rs));
	TT_PASS(tly_signed_decode(&d, b.p, b.len, &why));
	TT_PASS(tly_signed_verify(&d, &v, &why));
	TT_INTEQ(v.complete, 1);
	TT_PASS(tly_revocation_check(&d.rec, &s, &why));
	/* Not a revocation. */
	EXPECT(tly_revocation_check(&s.rec, &s, &why), TALLY_EINVAL,
	    TLY_WHY_NOT_REVOCATION, "favor as revocation");
	/* Aimed at another record. */
	rev.target[0] ^= 1;
	TT_PASS(tly_signed_init(&rs, &rev, &why));
	EXPECT(tly_revocation_check(&rs.rec, &s, &why), TALLY_EINVAL,
	    TLY_WHY_TARGET, "revocation of another record");
	tly_buf_free(&b);
}

static void
test_reject_revoker(void **state)
{
	tly_record r, rev;
	tly_signed s, rs;
	tly_verify v;
	int        why = -1;

	(void) state;
	favor(&r);
	signed_all(&s, &r);
	/* Someone who is not a party signs a (valid) revocation. */
	TT_PASS(tly_record_init(&rev, TLY_REC_REVOCATION, 1780000000));
	memcpy(rev.parties[0].pk, pk(2), TLY_PK_BYTES);
	memcpy(rev.target, s.id, TLY_REC_ID_BYTES);
	rev.action = TLY_ACTION_REVOKE;
	TT_PASS(tly_signed_init(&rs, &rev, &why));
	TT_PASS(tly_signed_sign(&rs, ids[2], &why));
	TT_PASS(tly_signed_verify(&rs, &v, &why));
	TT_INTEQ(v.complete, 1);
	EXPECT(tly_revocation_check(&rs.rec, &s, &why), TALLY_EPERM,
	    TLY_WHY_REVOKER, "revocation by a non-party");
}

/* -- Test vectors ----------------------------------------------------- */

/* Inputs of proto/vectors/records.txt.  Letters a, b, c are the
 * identities of seeds 0x01.., 0x02.., 0x03..; target names an earlier
 * vector. */
static const struct vin {
	const char *vector;
	int         kind;
	int         created;
	const char *date;
	const char *parties; /* letters, role order */
	int         favor_kind;
	const char *name;
	const char *text;
	int         target; /* index of an earlier vector, or -1 */
	int         action;
	const char *signers;
} vins[] = {
	{ "favor", TLY_REC_FAVOR, 1773500000, "2026-03-14", "ab",
	    TLY_FAVOR_RESUME, "",
	    "Reviewed my r\xc3\xa9sum\xc3\xa9 and suggested three changes.",
	    -1, 0, "ab" },
	{ "referral", TLY_REC_REFERRAL, 1775100000, "2026-04-02", "ba", 0,
	    "Acme Corp \xe2\x80\x94 Dana Lee, hiring manager",
	    "Referred for the backend engineer opening.\nKnows the team "
	    "lead.",
	    -1, 0, "a" },
	{ "reference", TLY_REC_REFERENCE, 1776000000, "2026-04-15", "ca", 0,
	    "Senior engineer at Example GmbH", "", -1, 0, "ca" },
	{ "introduction", TLY_REC_INTRODUCTION, 1779250000, "2026-05-20",
	    "cab", 0, "",
	    "Both work on offline-first sync; a call seemed worthwhile.", -1,
	    0, "abc" },
	{ "revocation", TLY_REC_REVOCATION, 1780000000, NULL, "b", 0, "",
	    "Entered twice by mistake.", 0, TLY_ACTION_REVOKE, "b" },
	{ "decline", TLY_REC_REVOCATION, 1780000100, NULL, "b", 0, "",
	    "I did not make this referral.", 1, TLY_ACTION_DECLINE, "b" },
};
#define NVINS (sizeof vins / sizeof vins[0])

static void
print_hex(FILE *f, const char *key, const unsigned char *p, size_t n)
{
	fprintf(f, "%s = ", key);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
	fputc('\n', f);
}

static int
letter_of(const unsigned char *k)
{
	for (int w = 0; w < 3; w++)
		if (memcmp(k, pk(w), TLY_PK_BYTES) == 0)
			return ('a' + w);
	return ('?');
}

/* Builds vector i, signed by its signers. */
static void
build(tly_signed *s, size_t i, tly_signed *done)
{
	const struct vin *v = &vins[i];
	tly_record        r;

	TT_PASS(tly_record_init(&r, v->kind, v->created));
	for (size_t k = 0; k < sizeof r.nonce; k++)
		r.nonce[k] = (unsigned char) (16 * i + k);
	for (size_t k = 0; v->parties[k] != '\0'; k++)
		memcpy(r.parties[k].pk, pk(v->parties[k] - 'a'), TLY_PK_BYTES);
	if (v->date != NULL)
		TT_PASS(tly_date_parse(&r.date, v->date));
	r.favor_kind = v->favor_kind;
	strcpy(r.name, v->name);
	strcpy(r.text, v->text);
	if (v->target >= 0)
		memcpy(r.target, done[v->target].id, TLY_REC_ID_BYTES);
	r.action = v->action;
	TT_PASS(tly_signed_init(s, &r, NULL));
	for (size_t k = 0; v->signers[k] != '\0'; k++)
		TT_PASS(tly_signed_sign(s, ids[v->signers[k] - 'a'], NULL));
}

static void
write_vectors(FILE *f)
{
	static tly_signed        s[NVINS];
	static const char *const pairs[] = { "ab", "ac", "bc" };
	tly_buf                  b       = TLY_BUF_INIT;

	fprintf(f,
	    "# tally test vectors (proto/PROTOCOL.md, \"Test "
	    "vectors\").\n"
	    "# Made by `record_test --write-vectors`; checked by "
	    "tests/unit/record_test.c\n"
	    "# and, independently, by proto/vectors/check.py.  "
	    "Format: `key = value`,\n"
	    "# bytes in hex, text as the rest of the line; a blank "
	    "line ends a block.\n\n");
	for (int w = 0; w < 3; w++) {
		unsigned char seed[TLY_SEED_BYTES];
		char          key[32], tid[TLY_TALLYID_LEN + 1];
		char          fpr[TLY_FPR_LEN + 1];

		tly_ident_seed(ids[w], seed);
		snprintf(key, sizeof key, "seed.%c", 'a' + w);
		print_hex(f, key, seed, sizeof seed);
		snprintf(key, sizeof key, "pk.%c", 'a' + w);
		print_hex(f, key, pk(w), TLY_PK_BYTES);
		tly_tallyid_encode(tid, pk(w));
		fprintf(f, "tallyid.%c = %s\n", 'a' + w, tid);
		tly_fingerprint(fpr, pk(w));
		fprintf(f, "fingerprint.%c = %s\n", 'a' + w, fpr);
	}
	for (size_t p = 0; p < 3; p++) {
		char code[TLY_SAFETY_LEN + 1];
		tly_safety_code(
		    code, pk(pairs[p][0] - 'a'), pk(pairs[p][1] - 'a'));
		fprintf(f, "safety.%s = %s\n", pairs[p], code);
	}
	fputc('\n', f);
	for (size_t i = 0; i < NVINS; i++) {
		const tly_record *r = &s[i].rec;
		char              d[11], key[16];

		build(&s[i], i, s);
		fprintf(f, "vector = %s\n", vins[i].vector);
		fprintf(f, "kind = %s\n", tly_rec_kind_name(r->kind));
		print_hex(f, "nonce", r->nonce, sizeof r->nonce);
		fprintf(f, "created = %lld\n", (long long) r->created);
		for (size_t k = 0; k < r->nparties; k++)
			fprintf(f, "party = %s %c\n",
			    tly_rec_role_name(r->parties[k].role),
			    letter_of(r->parties[k].pk));
		if (r->kind != TLY_REC_REVOCATION) {
			tly_date_format(d, &r->date);
			fprintf(f, "date = %s\n", d);
		}
		if (r->kind == TLY_REC_FAVOR)
			fprintf(f, "favor_kind = %s\n",
			    tly_favor_kind_name(r->favor_kind));
		if (r->kind == TLY_REC_REFERRAL ||
		    r->kind == TLY_REC_REFERENCE)
			fprintf(
			    f, "name =%s%s\n", r->name[0] ? " " : "", r->name);
		if (r->kind == TLY_REC_REVOCATION) {
			print_hex(f, "target", r->target, TLY_REC_ID_BYTES);
			fprintf(
			    f, "action = %s\n", tly_action_name(r->action));
		}
		/* A text with line breaks is given in hex. */
		if (strchr(r->text, '\n') != NULL)
			print_hex(f, "text_hex",
			    (const unsigned char *) r->text, strlen(r->text));
		else
			fprintf(
			    f, "text =%s%s\n", r->text[0] ? " " : "", r->text);
		fprintf(f, "signers = %s\n", vins[i].signers);
		print_hex(f, "canonical", s[i].canon, s[i].canon_len);
		print_hex(f, "id", s[i].id, TLY_REC_ID_BYTES);
		for (size_t k = 0; k < r->nparties; k++) {
			if (!s[i].has_sig[k])
				continue;
			snprintf(key, sizeof key, "sig.%c",
			    letter_of(r->parties[k].pk));
			print_hex(f, key, s[i].sig[k], TLY_SIG_BYTES);
		}
		tly_buf_reset(&b);
		TT_PASS(tly_signed_encode(&b, &s[i]));
		print_hex(f, "signed", b.p, b.len);
		fputc('\n', f);
	}
	tly_buf_free(&b);
}

/* The vector file, as lines "key = value" in blocks. */
typedef struct kv {
	char *key, *value;
} kv;

typedef struct block {
	kv    *v;
	size_t n;
} block;

static char *
vectors_path(void)
{
	const char *env  = getenv("TALLY_VECTORS");
	const char *file = __FILE__; /* .../tests/unit/record_test.c */
	const char *cut;
	char       *p;

	if (env != NULL)
		return (strdup(env));
	cut = strstr(file, "tests/unit/record_test.c");
	if (cut == NULL)
		return (strdup("proto/vectors/records.txt"));
	p = malloc((size_t) (cut - file) + 32);
	memcpy(p, file, (size_t) (cut - file));
	strcpy(p + (cut - file), "proto/vectors/records.txt");
	return (p);
}

static size_t
read_blocks(block *bl, size_t max, char **bufp)
{
	char  *path = vectors_path(), *buf, *line;
	FILE  *f    = fopen(path, "rb");
	long   len;
	size_t nb = 0;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t) len + 1);
	if (fread(buf, 1, (size_t) len, f) != (size_t) len)
		fail_msg("cannot read %s", path);
	fclose(f);
	free(path);
	memset(bl, 0, max * sizeof *bl);
	line = buf;
	while (line != NULL && *line != '\0') {
		char *nl = strchr(line, '\n'), *eq;
		if (nl != NULL)
			*nl = '\0';
		if (line[0] == '\0') {
			if (bl[nb].n > 0 && nb + 1 < max)
				nb++;
		} else if (line[0] != '#' &&
		    (eq = strstr(line, " =")) != NULL) {
			block *b = &bl[nb];
			b->v     = realloc(b->v, (b->n + 1) * sizeof *b->v);
			*eq      = '\0';
			b->v[b->n].key   = line;
			b->v[b->n].value = eq[2] == ' ' ? eq + 3 : eq + 2;
			b->n++;
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	if (bl[nb].n > 0)
		nb++;
	*bufp = buf;
	return (nb);
}

static const char *
get(const block *b, const char *key)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->v[i].key, key) == 0)
			return (b->v[i].value);
	return (NULL);
}

static const char *
must(const block *b, const char *key)
{
	const char *v = get(b, key);

	if (v == NULL)
		fail_msg("vector file: no %s", key);
	return (v);
}

/* Decodes hex value of key into a malloc'd buffer; *n its length. */
static unsigned char *
hexval(const block *b, const char *key, size_t *n)
{
	const char    *v = must(b, key);
	unsigned char *p;

	*n = strlen(v) / 2;
	p  = malloc(*n + 1);
	if (tly_hex_decode(p, *n, v) != 0)
		fail_msg("vector file: %s is not hex", key);
	return (p);
}

static void
check_hex(const block *b, const char *key, const unsigned char *got, size_t n)
{
	size_t         wn;
	unsigned char *want = hexval(b, key, &wn);

	if (wn != n || memcmp(want, got, n) != 0)
		fail_msg("vector %s, %s: bytes differ from the file",
		    get(b, "vector") ? get(b, "vector") : "keys", key);
	free(want);
}

static int
letter_index(int c)
{
	if (c < 'a' || c > 'c')
		fail_msg("vector file: party letter %c", c);
	return (c - 'a');
}

static void
check_block(const block *bl)
{
	tly_record     r;
	tly_signed     s, d;
	tly_verify     v;
	tly_buf        b = TLY_BUF_INIT;
	unsigned char *nonce;
	size_t         n, np = 0;
	const char    *val;

	TT_PASS(tly_record_init(&r, tly_rec_kind_parse(must(bl, "kind")),
	    atoll(must(bl, "created"))));
	nonce = hexval(bl, "nonce", &n);
	TT_INTEQ(n, TLY_REC_NONCE_BYTES);
	memcpy(r.nonce, nonce, n);
	free(nonce);
	for (size_t i = 0; i < bl->n; i++) {
		if (strcmp(bl->v[i].key, "party") != 0)
			continue;
		char want[32];
		val = bl->v[i].value;
		if (np >= r.nparties)
			fail_msg("vector file: too many parties");
		snprintf(want, sizeof want, "%s %c",
		    tly_rec_role_name(r.parties[np].role),
		    val[strlen(val) - 1]);
		TT_STREQ(val, want);
		memcpy(r.parties[np].pk,
		    pk(letter_index(val[strlen(val) - 1])), TLY_PK_BYTES);
		np++;
	}
	TT_INTEQ(np, r.nparties);
	if ((val = get(bl, "date")) != NULL)
		TT_PASS(tly_date_parse(&r.date, val));
	if ((val = get(bl, "favor_kind")) != NULL)
		r.favor_kind = tly_favor_kind_parse(val);
	if ((val = get(bl, "name")) != NULL)
		strcpy(r.name, val);
	if ((val = get(bl, "text")) != NULL)
		strcpy(r.text, val);
	if (get(bl, "text_hex") != NULL) {
		unsigned char *t = hexval(bl, "text_hex", &n);
		memcpy(r.text, t, n);
		r.text[n] = '\0';
		free(t);
	}
	if (get(bl, "target") != NULL) {
		unsigned char *t = hexval(bl, "target", &n);
		memcpy(r.target, t, TLY_REC_ID_BYTES);
		free(t);
		r.action = tly_action_parse(must(bl, "action"));
	}
	TT_PASS(tly_signed_init(&s, &r, NULL));
	check_hex(bl, "canonical", s.canon, s.canon_len);
	check_hex(bl, "id", s.id, TLY_REC_ID_BYTES);
	for (val = must(bl, "signers"); *val != '\0'; val++) {
		char key[8];
		int  w = letter_index(*val), i;
		TT_PASS(tly_signed_sign(&s, ids[w], NULL));
		i = tly_record_party(&s.rec, pk(w));
		snprintf(key, sizeof key, "sig.%c", *val);
		check_hex(bl, key, s.sig[i], TLY_SIG_BYTES);
	}
	TT_PASS(tly_signed_encode(&b, &s));
	check_hex(bl, "signed", b.p, b.len);
	/* And back: the container decodes and verifies. */
	TT_PASS(tly_signed_decode(&d, b.p, b.len, NULL));
	TT_PASS(tly_signed_verify(&d, &v, NULL));
	TT_INTEQ(v.nvalid, strlen(must(bl, "signers")));
	TT_INTEQ(v.complete, (size_t) v.nvalid == r.nparties);
	tly_buf_free(&b);
}

static void
test_vectors(void **state)
{
	block                    bl[16];
	char                    *buf;
	size_t                   nb = read_blocks(bl, 16, &buf), nrec = 0;
	static const char *const pairs[] = { "ab", "ac", "bc" };

	(void) state;
	TT_INTEQ(nb >= 2, 1);
	/* First block: keys, tally ids, fingerprints, safety codes. */
	for (int w = 0; w < 3; w++) {
		unsigned char seed[TLY_SEED_BYTES], k[TLY_PK_BYTES];
		char          key[32], tid[TLY_TALLYID_LEN + 1];
		char          fpr[TLY_FPR_LEN + 1];

		snprintf(key, sizeof key, "seed.%c", 'a' + w);
		memset(seed, w + 1, sizeof seed);
		check_hex(&bl[0], key, seed, sizeof seed);
		snprintf(key, sizeof key, "pk.%c", 'a' + w);
		check_hex(&bl[0], key, pk(w), TLY_PK_BYTES);
		snprintf(key, sizeof key, "tallyid.%c", 'a' + w);
		tly_tallyid_encode(tid, pk(w));
		TT_STREQ(tid, must(&bl[0], key));
		TT_PASS(tly_tallyid_parse(k, must(&bl[0], key)));
		TT_MEMEQ(k, pk(w), TLY_PK_BYTES);
		snprintf(key, sizeof key, "fingerprint.%c", 'a' + w);
		tly_fingerprint(fpr, pk(w));
		TT_STREQ(fpr, must(&bl[0], key));
	}
	for (size_t p = 0; p < 3; p++) {
		char code[TLY_SAFETY_LEN + 1], key[16];
		snprintf(key, sizeof key, "safety.%s", pairs[p]);
		tly_safety_code(
		    code, pk(pairs[p][0] - 'a'), pk(pairs[p][1] - 'a'));
		TT_STREQ(code, must(&bl[0], key));
	}
	for (size_t i = 1; i < nb; i++) {
		if (get(&bl[i], "vector") == NULL)
			continue;
		check_block(&bl[i]);
		nrec++;
	}
	TT_INTEQ(nrec, NVINS);
	for (size_t i = 0; i < nb; i++)
		free(bl[i].v);
	free(buf);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_reject_truncated),
		cmocka_unit_test(test_reject_trailing),
		cmocka_unit_test(test_reject_version_kind),
		cmocka_unit_test(test_reject_party_count),
		cmocka_unit_test(test_reject_kind_mismatch),
		cmocka_unit_test(test_reject_dup_party),
		cmocka_unit_test(test_reject_party_order),
		cmocka_unit_test(test_reject_fields),
		cmocka_unit_test(test_reject_text),
		cmocka_unit_test(test_reject_too_big),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_merge_add),
		cmocka_unit_test(test_reject_flipped_byte),
		cmocka_unit_test(test_reject_signed_truncated),
		cmocka_unit_test(test_reject_not_party),
		cmocka_unit_test(test_reject_copied_sig),
		cmocka_unit_test(test_reject_dup_sig),
		cmocka_unit_test(test_reject_sig_order),
		cmocka_unit_test(test_revocation),
		cmocka_unit_test(test_reject_revoker),
		cmocka_unit_test(test_vectors),
	};

	if (tly_proto_init() != 0)
		return (1);
	if (argc == 2 && strcmp(argv[1], "--write-vectors") == 0) {
		if (setup(NULL) != 0)
			return (1);
		write_vectors(stdout);
		teardown(NULL);
		return (0);
	}
	return (cmocka_run_group_tests(tests, setup, teardown));
}
