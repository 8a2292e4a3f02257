/*
 * fuzz_armor.c -- libFuzzer target for the armored text parser, alone and
 * with the signed container behind it.
 *
 * Whatever decodes is armored again and must decode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "tly_armor.h"
#include "tly_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int    init;
	unsigned char out[TLY_SIGNED_MAX], again[TLY_SIGNED_MAX];
	size_t        len, len2, end = 0;
	tly_signed    s;
	tly_buf       b = TLY_BUF_INIT;
	int           why;

	if (!init) {
		if (tly_proto_init() != 0)
			abort();
		init = 1;
	}
	if (tly_armor_decode(out, sizeof out, &len, TLY_ARMOR_RECORD,
	        (const char *) data, size, &end, &why) == 0) {
		if (len == 0 || end > size)
			abort();
		if (tly_armor_encode(
		        &b, TLY_ARMOR_RECORD, NULL, 0, out, len) != 0 ||
		    tly_armor_decode(again, sizeof again, &len2,
		        TLY_ARMOR_RECORD, (const char *) b.p, b.len, NULL,
		        &why) != 0 ||
		    len2 != len || memcmp(again, out, len) != 0)
			abort();
	}
	(void) tly_signed_parse(&s, data, size, &why);
	tly_buf_free(&b);
	return (0);
}
