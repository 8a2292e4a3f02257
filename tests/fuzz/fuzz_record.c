/*
 * fuzz_record.c -- libFuzzer target for the record decoder and the signed
 * container decoder.
 *
 * Besides not crashing, it checks canonicality: whatever decodes must
 * encode back to exactly the input bytes (one encoding per record).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "tly_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	tly_record r;
	tly_signed s;
	tly_verify v;
	tly_buf    b = TLY_BUF_INIT;
	int        why;

	if (!init) {
		if (tly_proto_init() != 0)
			abort();
		init = 1;
	}
	if (tly_record_decode(&r, data, size, &why) == 0) {
		if (tly_record_encode(&b, &r, &why) != 0 || b.len != size ||
		    memcmp(b.p, data, size) != 0)
			abort();
		tly_buf_reset(&b);
	}
	if (tly_signed_decode(&s, data, size, &why) == 0) {
		(void) tly_signed_verify(&s, &v, &why);
		if (tly_signed_encode(&b, &s) != 0 || b.len != size ||
		    memcmp(b.p, data, size) != 0)
			abort();
	}
	tly_buf_free(&b);
	return (0);
}
