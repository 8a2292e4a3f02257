/*
 * fuzz_syncbatch.c -- libFuzzer target for what a device reads from the
 * account log (proto/tly_sync.c, client/lib/sync_ops.c): entry headers,
 * key rotations, and batches of operations applied to a replica.
 *
 * The first byte picks how the rest is taken:
 *   0  a whole log entry: header, then a keys entry's body, or an ops
 *      entry opened with a fixed key (almost always refused);
 *   1  the plaintext of a batch, each operation applied to a replica
 *      inside a transaction that is rolled back;
 *   2  the same, sealed with the fixed key first, so the way in goes
 *      through header decoding and opening too.
 * Properties: no crash, no sanitizer report, no leak; a batch that
 * decodes is never longer than its input; a malformed one gives a code.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "sync_int.h"
#include "tly_sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tally        *t;
static unsigned char key[TLY_SYNC_KEY_BYTES];
static unsigned char pk[32], sk[64];

static void
setup(void)
{
	char db[96];

	if (sodium_init() < 0)
		abort();
	snprintf(db, sizeof db, "/tmp/fuzz-syncbatch-%d.db", (int) getpid());
	unlink(db);
	if (tally_open(&t, db, TALLY_OPEN_CREATE) != 0 ||
	    tally_init(t, "Fuzz Me") != 0)
		abort();
	memset(key, 0x5a, sizeof key);
	crypto_sign_keypair(pk, sk);
}

/* Applies the batch p[0..n) from device 7, then undoes it. */
static void
apply(const unsigned char *p, size_t n)
{
	struct tly_apply_stats st;
	struct tly_sync_op     op;
	size_t                 off = 0;
	uint32_t               count = 0;
	int                    r;

	memset(&st, 0, sizeof st);
	if (tly_begin(t) != 0 || tly_sync_apply_begin(t) != 0)
		abort();
	while ((r = tly_sync_batch_next(p, n, &off, &count, &op)) == 1) {
		if (off > n || op.keylen > n || op.colslen > n)
			abort();
		if (tly_sync_apply_op(t, 7, &op, &st) != 0)
			break;
	}
	(void) tly_sync_apply_end(t, &st);
	tly_rollback(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tly_sync_sealed keys[TLY_SYNC_KEYS_MAX];
	struct tly_sync_hdr    h;
	tly_buf                e = TLY_BUF_INIT, pt = TLY_BUF_INIT;
	size_t                 nk;

	if (t == NULL)
		setup();
	if (size < 1)
		return (0);
	switch (data[0] % 3) {
	case 0:
		if (tly_sync_hdr_decode(&h, data + 1, size - 1) != 0)
			break;
		if (h.type == TLY_SYNC_KEYS)
			(void) tly_sync_keys_decode(
			    &h, data + 1, size - 1, pk, keys, &nk);
		else if (tly_sync_open(&pt, &h, key, data + 1, size - 1) == 0)
			apply(pt.p, pt.len);
		break;
	case 1:
		apply(data + 1, size - 1);
		break;
	default:
		if (tly_sync_seal(&e, 1, 7, key, data + 1, size - 1) != 0 ||
		    tly_sync_hdr_decode(&h, e.p, e.len) != 0 ||
		    tly_sync_open(&pt, &h, key, e.p, e.len) != 0 ||
		    pt.len != size - 1)
			abort();
		apply(pt.p, pt.len);
		break;
	}
	tly_buf_free(&e);
	tly_buf_free(&pt);
	return (0);
}
