/*
 * letter_test.c -- letters, envelopes, bodies and contact cards
 * (proto/tly_letter.h): round trips, strictness (every truncation, a
 * flipped byte anywhere, padding, foreign keys), and what each refusal
 * says.
 */
#include <stdlib.h>

#include <sodium.h>

#include "proto.h"
#include "tly_letter.h"
#include "tly_record.h"
#include "tt.h"

static tly_ident *ann, *bob, *cat;

static void
seed_ident(tly_ident **id, unsigned char v)
{
	unsigned char seed[TLY_SEED_BYTES];

	memset(seed, v, sizeof seed);
	TT_PASS(tly_ident_from_seed(id, seed));
}

/* A letter from ann to bob of type with body p[0..n). */
static void
letter(tly_buf *out, int type, const void *p, size_t n)
{
	tly_letter l;

	memset(&l, 0, sizeof l);
	l.type = type;
	memcpy(l.from, tly_ident_pk(ann), TLY_PK_BYTES);
	memcpy(l.to, tly_ident_pk(bob), TLY_PK_BYTES);
	memset(l.id, 7, sizeof l.id);
	l.sent     = 1773500000;
	l.body     = p;
	l.body_len = n;
	tly_buf_reset(out);
	TT_PASS(tly_letter_encode(out, &l, ann));
}

static void
test_roundtrip(void **state)
{
	tly_buf       b = TLY_BUF_INIT;
	tly_letter    l;
	unsigned char body[600];
	int           why;

	(void) state;
	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (unsigned char) i;
	for (size_t n = 0; n <= sizeof body; n += 37) {
		letter(&b, TLY_L_PROPOSE, body, n);
		TT_INTEQ(b.len % TLY_LETTER_PAD, 0);
		TT_PASS(tly_letter_decode(&l, b.p, b.len, &why));
		TT_PASS(tly_letter_verify(&l, b.p, b.len, &why));
		TT_INTEQ(l.type, TLY_L_PROPOSE);
		TT_INTEQ(l.body_len, n);
		TT_MEMEQ(l.body, body, n);
		TT_MEMEQ(l.from, tly_ident_pk(ann), TLY_PK_BYTES);
		TT_MEMEQ(l.to, tly_ident_pk(bob), TLY_PK_BYTES);
		TT_INTEQ(l.sent, 1773500000);
	}
	/* The sender must be the signer. */
	{
		tly_letter w;
		memset(&w, 0, sizeof w);
		w.type = TLY_L_PROPOSE;
		memcpy(w.from, tly_ident_pk(bob), TLY_PK_BYTES);
		TT_FAIL(tly_letter_encode(&b, &w, ann), TALLY_EINVAL);
		w.type = 99;
		TT_FAIL(tly_letter_encode(&b, &w, bob), TALLY_EINVAL);
	}
	tly_buf_free(&b);
}

static void
test_strict(void **state)
{
	tly_buf       b = TLY_BUF_INIT, c = TLY_BUF_INIT;
	tly_letter    l;
	unsigned char body[40];
	int           why;

	(void) state;
	memset(body, 'x', sizeof body);
	letter(&b, TLY_L_CONFIRM, body, sizeof body);
	/* Every proper prefix is refused. */
	for (size_t n = 0; n < b.len; n++) {
		int rv = tly_letter_decode(&l, b.p, n, &why);
		if (rv == 0)
			fail_msg("prefix of %zu bytes decoded", n);
	}
	/* A flipped bit anywhere: refused, or the signature fails. */
	for (size_t i = 0; i < b.len; i++) {
		tly_buf_reset(&c);
		TT_PASS(tly_buf_append(&c, b.p, b.len));
		c.p[i] ^= 0x10;
		if (tly_letter_decode(&l, c.p, c.len, &why) == 0 &&
		    tly_letter_verify(&l, c.p, c.len, &why) == 0)
			fail_msg("a flipped byte at %zu went unnoticed", i);
	}
	/* Named faults. */
	tly_buf_reset(&c);
	TT_PASS(tly_buf_append(&c, b.p, b.len));
	c.p[0] = 'X';
	TT_FAIL(tly_letter_decode(&l, c.p, c.len, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_MAGIC);
	c.p[0] = 'T';
	c.p[4] = 2;
	TT_FAIL(tly_letter_decode(&l, c.p, c.len, &why), TALLY_EUNSUPP);
	TT_INTEQ(why, TLY_WHY_VERSION);
	c.p[4] = 1;
	c.p[5] = 77;
	TT_FAIL(tly_letter_decode(&l, c.p, c.len, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_LETTER_TYPE);
	c.p[5] = TLY_L_CONFIRM;
	c.p[7] = 1;
	TT_FAIL(tly_letter_decode(&l, c.p, c.len, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_FLAGS);
	c.p[7]         = 0;
	c.p[c.len - 1] = 1;
	TT_FAIL(tly_letter_decode(&l, c.p, c.len, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_PADDING);
	c.p[c.len - 1] = 0;
	c.p[TLY_LETTER_HEAD + 3] ^= 1; /* the body: the signature fails */
	TT_PASS(tly_letter_decode(&l, c.p, c.len, &why));
	TT_FAIL(tly_letter_verify(&l, c.p, c.len, &why), TALLY_ECRYPTO);
	TT_INTEQ(why, TLY_WHY_BAD_SIG);
	/* Extra padding, a body length past the end, too big. */
	tly_buf_reset(&c);
	TT_PASS(tly_buf_append(&c, b.p, b.len));
	for (int i = 0; i < TLY_LETTER_PAD; i++)
		TT_PASS(tly_buf_u8(&c, 0));
	TT_FAIL(tly_letter_decode(&l, c.p, c.len, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_TRAILING);
	c.len   = b.len;
	c.p[96] = 0xff;
	TT_FAIL(tly_letter_decode(&l, c.p, c.len, &why), TALLY_ETOOBIG);
	c.p[96] = 0;
	c.p[98] = 0x1f;
	TT_FAIL(tly_letter_decode(&l, c.p, c.len, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_TRUNCATED);
	TT_FAIL(tly_letter_decode(&l, c.p, TLY_LETTER_MAX + 1, &why),
	    TALLY_ETOOBIG);
	TT_FAIL(tly_letter_decode(&l, c.p, 0, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_EMPTY);
	tly_buf_free(&b);
	tly_buf_free(&c);
}

static void
test_envelope(void **state)
{
	tly_buf    b = TLY_BUF_INIT, e = TLY_BUF_INIT, o = TLY_BUF_INIT;
	tly_letter l;
	int        why;

	(void) state;
	letter(&b, TLY_L_PROPOSE, "hello", 5);
	TT_PASS(tly_envelope_seal(&e, b.p, b.len, tly_ident_pk(bob)));
	TT_INTEQ(e.len, b.len + TLY_SEAL_BYTES);
	/* Only bob opens it. */
	TT_PASS(tly_envelope_open(&o, e.p, e.len, bob, &why));
	TT_INTEQ(o.len, b.len);
	TT_MEMEQ(o.p, b.p, b.len);
	TT_PASS(tly_letter_decode(&l, o.p, o.len, &why));
	TT_PASS(tly_letter_verify(&l, o.p, o.len, &why));
	tly_buf_reset(&o);
	TT_FAIL(tly_envelope_open(&o, e.p, e.len, cat, &why), TALLY_ECRYPTO);
	TT_INTEQ(why, TLY_WHY_SEALED);
	TT_FAIL(tly_envelope_open(&o, e.p, e.len, ann, &why), TALLY_ECRYPTO);
	/* Damaged, short, empty, too big. */
	e.p[e.len / 2] ^= 1;
	TT_FAIL(tly_envelope_open(&o, e.p, e.len, bob, &why), TALLY_ECRYPTO);
	TT_FAIL(tly_envelope_open(&o, e.p, TLY_SEAL_BYTES, bob, &why),
	    TALLY_EFORMAT);
	TT_FAIL(tly_envelope_open(&o, e.p, 0, bob, &why), TALLY_EFORMAT);
	TT_FAIL(tly_envelope_open(&o, e.p, TLY_ENVELOPE_MAX + 1, bob, &why),
	    TALLY_ETOOBIG);
	/* Two seals of one letter differ (fresh ephemeral keys). */
	tly_buf_reset(&o);
	TT_PASS(tly_envelope_seal(&o, b.p, b.len, tly_ident_pk(bob)));
	e.p[e.len / 2] ^= 1;
	if (memcmp(o.p, e.p, e.len) == 0)
		fail_msg("two seals are equal");
	tly_buf_free(&b);
	tly_buf_free(&e);
	tly_buf_free(&o);
}

static void
test_bodies(void **state)
{
	static const int types[] = { TLY_L_PROPOSE, TLY_L_CONFIRM,
		TLY_L_DECLINE, TLY_L_REVOKE, TLY_L_INTRO_ASK,
		TLY_L_INTRO_CONSENT, TLY_L_INTRO_DECLINE, TLY_L_INTRO_CANCEL,
		TLY_L_INTRO_RECORD, TLY_L_INTRO_HELLO, TLY_L_INTRO_SIGNED };
	tly_mail_body    in, out;
	tly_buf          b = TLY_BUF_INIT;
	unsigned char    rec[300], tgt[200], card[50];
	int              why;

	(void) state;
	memset(rec, 1, sizeof rec);
	memset(tgt, 2, sizeof tgt);
	memset(card, 3, sizeof card);
	memset(&in, 0, sizeof in);
	in.rec        = rec;
	in.rec_len    = sizeof rec;
	in.target     = tgt;
	in.target_len = sizeof tgt;
	in.card       = card;
	in.card_len   = sizeof card;
	memset(in.intro, 9, sizeof in.intro);
	in.created = 1773500000;
	TT_PASS(tly_date_parse(&in.date, "2026-03-14"));
	snprintf(in.text, sizeof in.text, "Dana is hiring\ndata engineers");
	for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
		tly_buf_reset(&b);
		TT_PASS(tly_mail_body_encode(&b, types[k], &in, &why));
		TT_PASS(
		    tly_mail_body_decode(&out, types[k], b.p, b.len, &why));
		for (size_t n = 0; n < b.len; n++)
			if (tly_mail_body_decode(
			        &out, types[k], b.p, n, &why) == 0)
				fail_msg("type %d: prefix %zu decoded",
				    types[k], n);
		TT_PASS(tly_buf_u8(&b, 0));
		TT_FAIL(tly_mail_body_decode(&out, types[k], b.p, b.len, &why),
		    TALLY_EFORMAT);
		TT_INTEQ(why, TLY_WHY_TRAILING);
	}
	tly_buf_reset(&b);
	TT_PASS(tly_mail_body_encode(&b, TLY_L_INTRO_ASK, &in, &why));
	TT_PASS(tly_mail_body_decode(&out, TLY_L_INTRO_ASK, b.p, b.len, &why));
	TT_STREQ(out.text, in.text);
	TT_INTEQ(out.created, in.created);
	TT_INTEQ(out.date.day, 14);
	TT_MEMEQ(out.intro, in.intro, sizeof in.intro);
	/* An impossible date, a control character. */
	b.p[16 + 8 + 3] = 31; /* day 31 of... */
	b.p[16 + 8 + 2] = 2;  /* February */
	TT_FAIL(tly_mail_body_decode(&out, TLY_L_INTRO_ASK, b.p, b.len, &why),
	    TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_DATE);
	snprintf(in.text, sizeof in.text, "bell\a");
	tly_buf_reset(&b);
	TT_FAIL(tly_mail_body_encode(&b, TLY_L_INTRO_ASK, &in, &why),
	    TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_CONTROL);
	/* Empty and oversized containers. */
	in.rec_len = 0;
	TT_FAIL(
	    tly_mail_body_encode(&b, TLY_L_PROPOSE, &in, &why), TALLY_EINVAL);
	{
		unsigned char zero[2] = { 0, 0 };
		TT_FAIL(
		    tly_mail_body_decode(&out, TLY_L_PROPOSE, zero, 2, &why),
		    TALLY_EFORMAT);
		TT_INTEQ(why, TLY_WHY_EMPTY);
	}
	tly_buf_free(&b);
}

static void
test_card(void **state)
{
	tly_card c, d;
	tly_buf  b = TLY_BUF_INIT;
	int      why;

	(void) state;
	memset(&c, 0, sizeof c);
	snprintf(c.name, sizeof c.name, "Ann Lee");
	snprintf(c.org, sizeof c.org, "Acme");
	c.nemails = 2;
	snprintf(c.emails[0], sizeof c.emails[0], "ann@acme.example");
	snprintf(c.emails[1], sizeof c.emails[1], "ann@home.example");
	c.nphones = 1;
	snprintf(c.phones[0], sizeof c.phones[0], "+1 555 0100");
	TT_PASS(tly_card_encode(&b, &c, &why));
	TT_PASS(tly_card_decode(&d, b.p, b.len, &why));
	TT_STREQ(d.name, "Ann Lee");
	TT_STREQ(d.org, "Acme");
	TT_STREQ(d.title, "");
	TT_INTEQ(d.nemails, 2);
	TT_STREQ(d.emails[1], "ann@home.example");
	TT_STREQ(d.phones[0], "+1 555 0100");
	/* A card is a list of fields: a cut inside one is refused (a cut
	 * between two is a shorter card). */
	for (size_t n = 1; n < 3 + 7; n++)
		TT_FAIL(tly_card_decode(&d, b.p, n, &why), TALLY_EFORMAT);
	TT_PASS(tly_card_decode(&d, b.p, 3 + 7, &why));
	TT_FAIL(tly_card_decode(&d, b.p, 3 + 7 + 2, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_TRUNCATED);
	/* Out of order, unknown tag, repeated name, no name. */
	b.p[0] = 2;
	TT_FAIL(tly_card_decode(&d, b.p, b.len, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_CARD);
	b.p[0] = 9;
	TT_FAIL(tly_card_decode(&d, b.p, b.len, &why), TALLY_EFORMAT);
	b.p[0]  = 1;
	b.p[10] = 1; /* org -> a second name */
	TT_FAIL(tly_card_decode(&d, b.p, b.len, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_CARD);
	b.p[10] = 2;
	b.p[5]  = '\n';
	TT_FAIL(tly_card_decode(&d, b.p, b.len, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_CONTROL);
	c.name[0] = '\0';
	tly_buf_reset(&b);
	TT_FAIL(tly_card_encode(&b, &c, &why), TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_TEXT_EMPTY);
	tly_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_card),
	};
	int rv;

	if (tly_proto_init() != 0)
		return (1);
	seed_ident(&ann, 1);
	seed_ident(&bob, 2);
	seed_ident(&cat, 3);
	rv = cmocka_run_group_tests(tests, NULL, NULL);
	tly_ident_free(ann);
	tly_ident_free(bob);
	tly_ident_free(cat);
	return (rv);
}
