/*
 * common_test.c -- buffers, encodings and the WHEN parser.
 */
#include <stdlib.h>

#include <sodium.h>

#include "tt.h"
#include "tly_buf.h"
#include "tly_enc.h"
#include "tly_time.h"
#include "tly_util.h"

static void
test_buf(void **state)
{
	tly_buf b = TLY_BUF_INIT;

	(void) state;
	TT_PASS(tly_buf_u8(&b, 0x01));
	TT_PASS(tly_buf_u16(&b, 0x0203));
	TT_PASS(tly_buf_u32(&b, 0x04050607));
	TT_PASS(tly_buf_u64(&b, 0x08090a0b0c0d0e0full));
	TT_INTEQ(b.len, 15);
	TT_MEMEQ(b.p, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d"
	              "\x0e\x0f",
	    15);
	TT_INTEQ(tly_get_u16(b.p + 1), 0x0203);
	TT_INTEQ(tly_get_u32(b.p + 3), 0x04050607);
	TT_INTEQ(tly_get_u64(b.p + 7), 0x08090a0b0c0d0e0full);
	tly_buf_reset(&b);
	for (int i = 0; i < 1000; i++)
		TT_PASS(tly_buf_printf(&b, "%d,", i));
	TT_INTEQ(strncmp(tly_buf_cstr(&b), "0,1,2,", 6), 0);
	TT_INTEQ(b.len, 3890);
	tly_buf_free(&b);
	TT_INTEQ(b.cap, 0);
}

static void
test_hex(void **state)
{
	unsigned char out[3];
	char          s[7];

	(void) state;
	tly_hex_encode(s, (const unsigned char *) "\x00\xab\xff", 3);
	TT_STREQ(s, "00abff");
	TT_PASS(tly_hex_decode(out, 3, "00ABff"));
	TT_MEMEQ(out, "\x00\xab\xff", 3);
	TT_FAIL(tly_hex_decode(out, 3, "00abf"), TALLY_EFORMAT);
	TT_FAIL(tly_hex_decode(out, 3, "00abfg"), TALLY_EFORMAT);
	TT_FAIL(tly_hex_decode(out, 3, "00abff00"), TALLY_EFORMAT);
}

/* RFC 4648 section 10 vectors, lower case, no padding. */
static void
test_b32(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "" },
		{ "f", "my" },
		{ "fo", "mzxq" },
		{ "foo", "mzxw6" },
		{ "foob", "mzxw6yq" },
		{ "fooba", "mzxw6ytb" },
		{ "foobar", "mzxw6ytboi" },
	};
	char          s[32];
	unsigned char back[16];

	(void) state;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t n = strlen(v[i].in);
		tly_b32_encode(s, (const unsigned char *) v[i].in, n);
		TT_STREQ(s, v[i].out);
		TT_PASS(tly_b32_decode(back, n, s, strlen(s)));
		TT_MEMEQ(back, v[i].in, n);
	}
	TT_PASS(tly_b32_decode(back, 3, "MZXW6", 5));
	TT_FAIL(tly_b32_decode(back, 3, "mzxw1", 5), TALLY_EFORMAT);
	TT_FAIL(tly_b32_decode(back, 3, "mzxw", 4), TALLY_EFORMAT);
	/* non-zero tail bits: a second spelling of "f" is refused */
	TT_FAIL(tly_b32_decode(back, 1, "mz", 2), TALLY_EFORMAT);
}

static void
test_b64(void **state)
{
	char          s[16];
	unsigned char out[16];
	size_t        n;

	(void) state;
	tly_b64_encode(s, (const unsigned char *) "foobar", 6);
	TT_STREQ(s, "Zm9vYmFy");
	TT_PASS(tly_b64_decode(out, sizeof out, &n, "Zm9v\nYmFy", 9));
	TT_INTEQ(n, 6);
	TT_FAIL(tly_b64_decode(out, sizeof out, &n, "Zm9v*mFy", 8),
	    TALLY_EFORMAT);
	TT_FAIL(tly_b64_decode(out, 2, &n, "Zm9vYmFy", 8), TALLY_ETOOBIG);
}

static void
test_when(void **state)
{
	int64_t now = 1763776616; /* 2025-11-22T01:56:56Z */
	int64_t t;
	char    iso[TLY_ISO_LEN];

	(void) state;
	TT_PASS(tly_when_parse("2024-03-12", now, &t));
	tly_time_iso(t, iso);
	TT_STREQ(iso, "2024-03-12T00:00:00Z");
	TT_PASS(tly_when_parse("2024-02-29T13:45", now, &t));
	tly_time_iso(t, iso);
	TT_STREQ(iso, "2024-02-29T13:45:00Z");
	TT_PASS(tly_when_parse("2024-02-29 13:45:07", now, &t));
	TT_INTEQ(t % 60, 7);
	TT_PASS(tly_when_parse("1999-12-31T23:59:59Z", now, &t));
	TT_INTEQ(t, 946684799);
	TT_PASS(tly_when_parse("+3d", now, &t));
	TT_INTEQ(t, now + 3 * 86400);
	TT_PASS(tly_when_parse("-2w", now, &t));
	TT_INTEQ(t, now - 14 * 86400);
	TT_PASS(tly_when_parse("tomorrow", now, &t));
	TT_INTEQ(t, now + 86400);
	TT_PASS(tly_when_parse("today", now, &t));
	TT_INTEQ(t, now);
	TT_FAIL(tly_when_parse("2023-02-29", now, &t), TALLY_EINVAL);
	TT_FAIL(tly_when_parse("2024-13-01", now, &t), TALLY_EINVAL);
	TT_FAIL(tly_when_parse("2024-1-01", now, &t), TALLY_EINVAL);
	TT_FAIL(tly_when_parse("2024-01-01T25:00", now, &t), TALLY_EINVAL);
	TT_FAIL(tly_when_parse("+3", now, &t), TALLY_EINVAL);
	TT_FAIL(tly_when_parse("+3y", now, &t), TALLY_EINVAL);
	TT_FAIL(tly_when_parse("+d", now, &t), TALLY_EINVAL);
	TT_FAIL(tly_when_parse("soon", now, &t), TALLY_EINVAL);
	TT_FAIL(tly_when_parse("", now, &t), TALLY_EINVAL);
	tly_time_iso(0, iso);
	TT_STREQ(iso, "1970-01-01T00:00:00Z");
	tly_time_iso(951782400, iso);
	TT_STREQ(iso, "2000-02-29T00:00:00Z");
}

static void
test_utf8(void **state)
{
	char *f;

	(void) state;
	TT_INTEQ(tly_utf8_valid("Zoë", 4), 1);
	TT_INTEQ(tly_utf8_valid("\xc0\xaf", 2), 0);     /* overlong '/' */
	TT_INTEQ(tly_utf8_valid("\xed\xa0\x80", 3), 0); /* surrogate */
	TT_INTEQ(tly_utf8_valid("\xe2\x82", 2), 0);     /* truncated */
	f = tly_casefold("ZOË Straße");
	TT_STREQ(f, "zoë strasse");
	free(f);
	TT_INTEQ(tly_utf8_width("日本"), 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_b32),
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_when),
		cmocka_unit_test(test_utf8),
	};

	if (sodium_init() < 0)
		return (1);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
