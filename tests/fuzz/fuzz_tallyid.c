/*
 * fuzz_tallyid.c -- libFuzzer target for the tally id parser.
 *
 * A parsed key must encode to an id that parses to the same key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "tly_ident.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int    init;
	char          s[2 * TLY_TALLYID_MAX], id[TLY_TALLYID_LEN + 1];
	unsigned char pk[TLY_PK_BYTES], pk2[TLY_PK_BYTES];

	if (!init) {
		if (tly_proto_init() != 0)
			abort();
		init = 1;
	}
	if (size >= sizeof s)
		size = sizeof s - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	if (tly_tallyid_parse(pk, s) == 0) {
		tly_tallyid_encode(id, pk);
		if (tly_tallyid_parse(pk2, id) != 0 ||
		    memcmp(pk, pk2, sizeof pk) != 0)
			abort();
	}
	return (0);
}
