/*
 * armor_test.c -- the armored text form: round trips, what is tolerated
 * around and at the ends of lines, and what is refused inside the block.
 */
#include <stdlib.h>

#include <sodium.h>

#include "proto.h"
#include "tly_armor.h"
#include "tly_ident.h"
#include "tly_record.h"
#include "tt.h"

#define LABEL "TALLY RECORD"

static unsigned char data[300];

/* Decodes text with the test label; checks rv and why. */
static int
dec(const char *text, unsigned char *out, size_t cap, size_t *outlen,
    size_t *end, int *why)
{
	return (tly_armor_decode(
	    out, cap, outlen, LABEL, text, strlen(text), end, why));
}

static void
armor(tly_buf *b, size_t n)
{
	static const tly_armor_hdr h[] = { { "Kind", "favor" },
		{ "Comment", "pasted from an email" } };

	tly_buf_reset(b);
	TT_PASS(tly_armor_encode(b, LABEL, h, 2, data, n));
	TT_INTEQ(tly_buf_cstr(b) != NULL, 1);
}

static void
test_roundtrip(void **state)
{
	tly_buf       b = TLY_BUF_INIT;
	unsigned char out[sizeof data];
	size_t        len, end;
	int           why;

	(void) state;
	for (size_t n = 1; n <= sizeof data; n++) {
		armor(&b, n);
		TT_PASS(dec((char *) b.p, out, sizeof out, &len, &end, &why));
		TT_INTEQ(len, n);
		TT_MEMEQ(out, data, n);
		TT_INTEQ(end, b.len);
	}
	/* The layout: 64 columns, header lines, blank line. */
	armor(&b, 100);
	/* clang-format off */
	TT_STREQ((char *) b.p,
	    "-----BEGIN TALLY RECORD-----\n"
	    "Kind: favor\n"
	    "Comment: pasted from an email\n"
	    "\n"
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\n"
	    "MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f\n"
	    "YGFiYw==\n"
	    "-----END TALLY RECORD-----\n");
	/* clang-format on */
	tly_buf_free(&b);
}

/* Replaces every "\n" of src by nl into dst, with pre before and post
 * after the block. */
static char *
reshape(const char *src, const char *nl, const char *pre, const char *post)
{
	size_t n = strlen(src), k = strlen(nl);
	char  *d = calloc(1, strlen(pre) + n * (k + 1) + strlen(post) + 1);
	char  *o = d;

	o += sprintf(o, "%s", pre);
	for (size_t i = 0; i < n; i++) {
		if (src[i] == '\n')
			o += sprintf(o, "%s", nl);
		else
			*o++ = src[i];
	}
	sprintf(o, "%s", post);
	return (d);
}

static void
test_tolerated(void **state)
{
	static const char *const nls[] = { "\n", "\r\n", "  \n", "\t\r\n",
		" \t \r\n" };
	tly_buf                  b     = TLY_BUF_INIT;
	unsigned char            out[sizeof data];
	size_t                   len, end;
	int                      why;

	(void) state;
	armor(&b, 200);
	for (size_t i = 0; i < sizeof nls / sizeof nls[0]; i++) {
		char *t = reshape((char *) b.p, nls[i],
		    "Hi Sam,\r\n\r\nhere is our record:\r\n\r\n",
		    "\r\nThanks!\r\n-- \r\nAlex\r\n");
		TT_PASS(dec(t, out, sizeof out, &len, &end, &why));
		TT_INTEQ(len, 200);
		TT_MEMEQ(out, data, 200);
		TT_INTEQ(strncmp(t + end, "\r\nThanks!", 9), 0);
		free(t);
	}
	/* No final line break after the END line. */
	b.p[--b.len] = '\0';
	TT_PASS(dec((char *) b.p, out, sizeof out, &len, &end, &why));
	TT_INTEQ(end, b.len);
	/* A block of another label before ours is skipped. */
	{
		tly_buf c = TLY_BUF_INIT;
		TT_PASS(
		    tly_armor_encode(&c, "TALLY OTHER", NULL, 0, data, 10));
		TT_PASS(tly_buf_append(&c, b.p, b.len));
		TT_PASS(
		    dec(tly_buf_cstr(&c), out, sizeof out, &len, &end, &why));
		TT_INTEQ(len, 200);
		tly_buf_free(&c);
	}
	tly_buf_free(&b);
}

/* The header lines are not trusted: a forged one changes nothing. */
static void
test_headers_ignored(void **state)
{
	static const tly_armor_hdr h1[] = { { "Kind", "favor" } };
	static const tly_armor_hdr h2[] = { { "Kind", "referral" },
		{ "Summary",
		    "Alex owes Sam a favor \xe2\x80\x94 a big one" } };
	tly_buf                    b1 = TLY_BUF_INIT, b2 = TLY_BUF_INIT;
	unsigned char              o1[64], o2[64];
	size_t                     l1, l2;
	int                        why;

	(void) state;
	TT_PASS(tly_armor_encode(&b1, LABEL, h1, 1, data, 50));
	TT_PASS(tly_armor_encode(&b2, LABEL, h2, 2, data, 50));
	TT_PASS(dec(tly_buf_cstr(&b1), o1, sizeof o1, &l1, NULL, &why));
	TT_PASS(dec(tly_buf_cstr(&b2), o2, sizeof o2, &l2, NULL, &why));
	TT_INTEQ(l1, l2);
	TT_MEMEQ(o1, o2, l1);
	tly_buf_free(&b1);
	tly_buf_free(&b2);
}

static void
expect_bad(const char *text, int want, int wantwhy)
{
	unsigned char out[sizeof data];
	size_t        len = 99;
	int           why = -1, rv;

	rv = dec(text, out, sizeof out, &len, NULL, &why);
	if (rv != want || why != wantwhy)
		fail_msg("expected %s/%s, got %s/%s for:\n%s",
		    tally_errname(want), tly_why_str(wantwhy),
		    tally_errname(rv), tly_why_str(why), text);
	TT_INTEQ(len, 0);
}

/* clang-format off */
#define B "-----BEGIN TALLY RECORD-----\n"
#define E "-----END TALLY RECORD-----\n"
#define L64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\n"
/* clang-format on */

static void
test_refused(void **state)
{
	(void) state;
	expect_bad("", TALLY_EFORMAT, TLY_WHY_ARMOR_BEGIN);
	expect_bad("just some text\n", TALLY_EFORMAT, TLY_WHY_ARMOR_BEGIN);
	/* Markers must be exact and start the line. */
	expect_bad("-----BEGIN TALLY RECORD----\n\nAAAA\n" E, TALLY_EFORMAT,
	    TLY_WHY_ARMOR_BEGIN);
	expect_bad(" " B "\nAAAA\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_BEGIN);
	expect_bad("-----begin tally record-----\n\nAAAA\n" E, TALLY_EFORMAT,
	    TLY_WHY_ARMOR_BEGIN);
	/* The blank line is required; headers are "Key: value". */
	expect_bad(B "AAAA\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_HEADER);
	expect_bad(
	    B "Kind:favor\n\nAAAA\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_HEADER);
	expect_bad(
	    B "Ki nd: favor\n\nAAAA\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_HEADER);
	expect_bad(
	    B ": favor\n\nAAAA\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_HEADER);
	expect_bad(B "Kind: \x1b[2J\n\nAAAA\n" E, TALLY_EFORMAT,
	    TLY_WHY_ARMOR_HEADER);
	expect_bad(
	    B "Kind: \xff\n\nAAAA\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_HEADER);
	expect_bad(B "A: 1\nA: 2\nA: 3\nA: 4\nA: 5\nA: 6\nA: 7\nA: 8\nA: 9\n"
	             "A: 10\nA: 11\nA: 12\nA: 13\nA: 14\nA: 15\nA: 16\nA: 17\n"
	             "\nAAAA\n" E,
	    TALLY_EFORMAT, TLY_WHY_ARMOR_HEADER);
	/* Body: no blank line, full lines first, alphabet, padding last. */
	expect_bad(B "\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_BODY);
	expect_bad(B "\n\nAAAA\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_BODY);
	expect_bad(B "\nAAAA\n\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_BODY);
	expect_bad(B "\nAAAA\n" L64 E, TALLY_EFORMAT, TLY_WHY_ARMOR_BODY);
	expect_bad(B "\n" L64 "AAAAA\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_BODY);
	expect_bad(B "\n" L64 "AAA\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_BODY);
	expect_bad(B "\nAA-A\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_BODY);
	expect_bad(B "\nAA A\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_BODY);
	expect_bad(B "\n AAA\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_BODY);
	expect_bad(B "\nAA==\nAAAA\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_BODY);
	expect_bad(B "\nA===\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_BODY);
	expect_bad(B "\nA=A=\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_BODY);
	/* Unused bits must be zero: "AB==" has a one in them. */
	expect_bad(B "\nAB==\n" E, TALLY_EFORMAT, TLY_WHY_ARMOR_BODY);
	expect_bad(B "\n" L64
	             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	             "AAAAAAAAAAAAAAAAA\n" E,
	    TALLY_EFORMAT, TLY_WHY_ARMOR_BODY);
	/* No END line, or another label's. */
	expect_bad(B "\nAAAA\n", TALLY_EFORMAT, TLY_WHY_ARMOR_END);
	expect_bad(B "Kind: favor\n", TALLY_EFORMAT, TLY_WHY_ARMOR_END);
	expect_bad(B "\nAAAA\n-----END TALLY OTHER-----\n", TALLY_EFORMAT,
	    TLY_WHY_ARMOR_BODY);
}

static void
test_bounded(void **state)
{
	tly_buf       b = TLY_BUF_INIT;
	unsigned char out[sizeof data];
	size_t        len;
	int           why;

	(void) state;
	armor(&b, sizeof data);
	/* A body larger than the caller's buffer. */
	TT_FAIL(dec((char *) b.p, out, 100, &len, NULL, &why), TALLY_ETOOBIG);
	TT_INTEQ(why, TLY_WHY_TOO_BIG);
	TT_PASS(dec((char *) b.p, out, sizeof data, &len, NULL, &why));
	/* Labels are checked. */
	TT_FAIL(tly_armor_decode(out, sizeof out, &len, "tally record",
	            (char *) b.p, b.len, NULL, &why),
	    TALLY_EINVAL);
	TT_FAIL(tly_armor_encode(&b, "TALLY  RECORD", NULL, 0, data, 1),
	    TALLY_EINVAL);
	TT_FAIL(tly_armor_encode(&b, LABEL,
	            &(tly_armor_hdr) { "Kind", "two\nlines" }, 1, data, 1),
	    TALLY_EINVAL);
	TT_FAIL(tly_armor_encode(
	            &b, LABEL, &(tly_armor_hdr) { "Ki:nd", "x" }, 1, data, 1),
	    TALLY_EINVAL);
	TT_FAIL(tly_armor_encode(&b, LABEL, NULL, 0, data, 0), TALLY_EINVAL);
	tly_buf_free(&b);
}

/* Signed records in armor: several in one text, read one after another;
 * binary or armored input through tly_signed_parse(). */
static void
test_records(void **state)
{
	tly_ident *a, *c;
	tly_record r;
	tly_signed s[2], d;
	tly_verify v;
	tly_buf    text = TLY_BUF_INIT, bin = TLY_BUF_INIT;
	size_t     end = 0, off = 0;
	int        why;

	(void) state;
	TT_PASS(tly_ident_new(&a));
	TT_PASS(tly_ident_new(&c));
	for (int i = 0; i < 2; i++) {
		TT_PASS(tly_record_init(&r, TLY_REC_FAVOR, 1773500000 + i));
		memcpy(r.parties[0].pk, tly_ident_pk(a), TLY_PK_BYTES);
		memcpy(r.parties[1].pk, tly_ident_pk(c), TLY_PK_BYTES);
		r.favor_kind = TLY_FAVOR_INFO;
		TT_PASS(tly_date_parse(&r.date, "2026-01-02"));
		TT_PASS(tly_signed_init(&s[i], &r, &why));
		TT_PASS(tly_signed_sign(&s[i], a, &why));
		TT_PASS(tly_buf_puts(&text, "> quoted reply line\n"));
		TT_PASS(tly_signed_armor(&text, &s[i]));
	}
	for (int i = 0; i < 2; i++) {
		TT_PASS(tly_signed_dearmor(
		    &d, (char *) text.p + off, text.len - off, &end, &why));
		TT_MEMEQ(d.id, s[i].id, TLY_REC_ID_BYTES);
		TT_PASS(tly_signed_verify(&d, &v, &why));
		TT_INTEQ(v.nvalid, 1);
		off += end;
	}
	TT_FAIL(tly_signed_dearmor(
	            &d, (char *) text.p + off, text.len - off, &end, &why),
	    TALLY_EFORMAT);
	TT_INTEQ(why, TLY_WHY_ARMOR_BEGIN);
	/* tly_signed_parse: armored text or the binary container. */
	TT_PASS(tly_signed_parse(&d, text.p, text.len, &why));
	TT_MEMEQ(d.id, s[0].id, TLY_REC_ID_BYTES);
	TT_PASS(tly_signed_encode(&bin, &s[1]));
	TT_PASS(tly_signed_parse(&d, bin.p, bin.len, &why));
	TT_MEMEQ(d.id, s[1].id, TLY_REC_ID_BYTES);
	/* A body that is valid base64 but not a container. */
	{
		tly_buf t2 = TLY_BUF_INIT;
		TT_PASS(tly_armor_encode(
		    &t2, TLY_ARMOR_RECORD, NULL, 0, data, 40));
		TT_FAIL(
		    tly_signed_parse(&d, t2.p, t2.len, &why), TALLY_EUNSUPP);
		TT_INTEQ(why, TLY_WHY_VERSION);
		tly_buf_free(&t2);
	}
	tly_buf_free(&text);
	tly_buf_free(&bin);
	tly_ident_free(a);
	tly_ident_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_tolerated),
		cmocka_unit_test(test_headers_ignored),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_records),
	};

	if (tly_proto_init() != 0)
		return (1);
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char) i;
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
