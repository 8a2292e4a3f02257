/*
 * fuzz_frame.c -- libFuzzer target for the relay frame decoders
 * (proto/frame.c): requests and replies of every type.
 *
 * Properties: no decoder reads out of bounds or crashes; a request that
 * decodes re-encodes to the same bytes (the encoding is canonical); the
 * item iterators stay inside a decoded reply.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "tly_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tly_req       q;
	struct tly_rep       p;
	struct tly_mail_item m;
	struct tly_log_item  e;
	tly_buf              b = TLY_BUF_INIT;
	size_t               off;
	int                  n;

	if (tly_req_decode(&q, data, size) == 0) {
		if (tly_req_encode(&b, &q) != 0 || b.len != size ||
		    memcmp(b.p, data, size) != 0)
			abort();
		tly_buf_free(&b);
	}
	if (size < 6)
		return (0);
	if (tly_rep_decode(&p, data[5] & 0x7f, data, size) == 0) {
		off = 0;
		n   = 0;
		while (tly_rep_mail_next(&p, &off, &m)) {
			if (m.id < data ||
			    m.id + TLY_MAIL_ID_BYTES > data + size)
				abort();
			n++;
		}
		off = 0;
		while (tly_rep_log_next(&p, &off, &e)) {
			if (e.data < data || e.data + e.len > data + size)
				abort();
			n++;
		}
		if (n > p.count)
			abort();
	}
	return (0);
}
