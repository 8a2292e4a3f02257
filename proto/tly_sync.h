/*
 * tly_sync.h -- the formats of device sync (proto/PROTOCOL.md, part 10):
 * the entries a person's devices append to their account log (batches of
 * operations sealed with the replica key, and key rotations), and the two
 * messages of linking a device (offer and answer, sealed under a key
 * derived from the link code).
 *
 * An entry starts with a fixed header, big-endian:
 *   OFFSET SIZE
 *        0    4  magic "TLYS"
 *        4    1  version (TLY_SYNC_VERSION)
 *        5    1  type: TLY_SYNC_OPS or TLY_SYNC_KEYS
 *        6    2  zero
 *        8    4  epoch of the replica key (ops: sealed with; keys: new)
 *       12    8  device id of the writer
 * An ops entry goes on with a 24-byte nonce and the XChaCha20-Poly1305
 * ciphertext of the batch (its tag last), the 44 bytes before the
 * ciphertext being the associated data; a keys entry with a count, the
 * new key sealed to each device kept, and the writer's signature.
 *
 * The decoders are strict and never read past their input; what they
 * return points into it.  Bump TLY_SYNC_VERSION when these change.
 */
#ifndef TLY_SYNC_H
#define TLY_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "tly_buf.h"

#define TLY_SYNC_MAGIC 0x544c5953u /* "TLYS" */
#define TLY_SYNC_VERSION 1
#define TLY_SYNC_HDR 20           /* the fixed header */
#define TLY_SYNC_NONCE 24         /* XChaCha20-Poly1305 nonce */
#define TLY_SYNC_TAG 16           /* its tag */
#define TLY_SYNC_AD (TLY_SYNC_HDR + TLY_SYNC_NONCE)
#define TLY_SYNC_KEY_BYTES 32     /* a replica key */
#define TLY_SYNC_SEALED 80        /* crypto_box_seal of a replica key */
#define TLY_SYNC_KEYS_MAX 64      /* devices in one key rotation */
#define TLY_SYNC_KEY_MAXLEN 64    /* longest row key in an operation */
#define TLY_SYNC_COLS_MAX 65536   /* longest fields of one operation */
#define TLY_SYNC_BATCH_MAX (8u << 20) /* longest batch plaintext */
#define TLY_SYNC_DELETE 0xffffffffu   /* fields length of a delete */
#define TLY_SYNC_KEYS_DOMAIN "tally key rotation v1"

enum { TLY_SYNC_OPS = 1, TLY_SYNC_KEYS = 2 };

/* A decoded entry header. */
struct tly_sync_hdr {
	uint8_t              type;
	uint32_t             epoch;
	uint64_t             device;
	const unsigned char *nonce; /* ops: TLY_SYNC_NONCE bytes */
	const unsigned char *body;  /* ops: ciphertext; keys: from count */
	size_t               bodylen;
};

/* One operation of a batch. */
struct tly_sync_op {
	uint64_t             clock;
	uint8_t              table;
	const unsigned char *key;
	size_t               keylen;
	const unsigned char *cols; /* JSON object; NULL for a delete */
	size_t               colslen;
};

/* One sealed key of a key rotation. */
struct tly_sync_sealed {
	uint64_t             device;
	const unsigned char *sealed; /* TLY_SYNC_SEALED bytes */
};

/* Decodes the header of entry p[0..n).  TALLY_EFORMAT (wrong magic,
 * type, reserved bytes or length), TALLY_EUNSUPP (another version). */
int tly_sync_hdr_decode(struct tly_sync_hdr *h, const void *p, size_t n);

/* Appends an ops entry to out: the header, a random nonce and plain
 * pt[0..n) sealed with key.  TALLY_ETOOBIG, TALLY_ENOMEM. */
int tly_sync_seal(tly_buf *out, uint32_t epoch, uint64_t device,
    const unsigned char *key, const void *pt, size_t n);
/* Opens the ops entry p[0..n) (header h decoded from it) with key into
 * out (replacing its content).  TALLY_ECRYPTO if it does not
 * authenticate, TALLY_EFORMAT. */
int tly_sync_open(tly_buf *out, const struct tly_sync_hdr *h,
    const unsigned char *key, const void *p, size_t n);

/* Batch plaintext: a count, then per operation clock u64, table u8,
 * key length u8 and key, fields length u32 (TLY_SYNC_DELETE: none) and
 * fields.  tly_sync_batch_begin starts one in b; tly_sync_batch_add
 * appends an operation (cols NULL: a delete) and counts it. */
int tly_sync_batch_begin(tly_buf *b);
int tly_sync_batch_add(tly_buf *b, const struct tly_sync_op *op);
/* Iterates the operations of batch p[0..n): *off starts at 0 and *count
 * is read on the first call.  Returns 1 with *op set, 0 at the end, or
 * -TALLY_EFORMAT for a malformed batch (also when bytes are left). */
int tly_sync_batch_next(const void *p, size_t n, size_t *off,
    uint32_t *count, struct tly_sync_op *op);

/* Appends a keys entry: header (epoch, device), count, the sealed keys
 * and an Ed25519 signature with sk (crypto_sign 64-byte secret key).
 * TALLY_EINVAL (no or too many keys), TALLY_ENOMEM. */
int tly_sync_keys_encode(tly_buf *out, uint32_t epoch, uint64_t device,
    const struct tly_sync_sealed *keys, size_t nkeys,
    const unsigned char *sk);
/* Decodes the body of a keys entry (h from tly_sync_hdr_decode of
 * p[0..n)): the sealed keys into keys (TLY_SYNC_KEYS_MAX) and *nkeys,
 * the signature checked against the writer's key pk.  TALLY_EFORMAT,
 * TALLY_ECRYPTO (bad signature). */
int tly_sync_keys_decode(const struct tly_sync_hdr *h, const void *p,
    size_t n, const unsigned char *pk, struct tly_sync_sealed *keys,
    size_t *nkeys);

/* -- Linking a device ------------------------------------------------ */

#define TLY_LINK_CODE_BYTES 10 /* random bytes of a link code */
#define TLY_LINK_CODE_LEN 19   /* "xxxx-xxxx-xxxx-xxxx" */
#define TLY_LINK_SLOT_BYTES 32 /* a rendezvous slot id */
#define TLY_LINK_KEYS_MAX 255  /* replica keys in an offer */
#define TLY_LINK_NAME_MAX 64   /* longest device name */
#define TLY_LINK_OFFER_MAX                                                  \
	(TLY_SYNC_NONCE + TLY_SYNC_TAG + 1 + 8 + 32 + 8 + 1 +               \
	    TLY_LINK_KEYS_MAX * (4 + TLY_SYNC_KEY_BYTES))

/* What the linking device sends: my identity and the replica keys. */
struct tly_link_offer {
	int64_t       expires;  /* Unix seconds */
	unsigned char seed[32]; /* the identity */
	uint64_t      device;   /* the linking device */
	unsigned      nkeys;
	uint32_t      epoch[TLY_LINK_KEYS_MAX];
	unsigned char key[TLY_LINK_KEYS_MAX][TLY_SYNC_KEY_BYTES];
};

/* What the new device answers: who it is. */
struct tly_link_answer {
	uint64_t      device;
	unsigned char pk[32]; /* its Ed25519 device key */
	char          name[TLY_LINK_NAME_MAX + 1];
};

/* Writes a fresh link code (TLY_LINK_CODE_LEN + 1 bytes). */
void tly_link_code_new(char *code);
/* Reads a typed code into its TLY_LINK_CODE_BYTES bytes: case, spaces
 * and dashes do not matter.  TALLY_EFORMAT. */
int tly_link_code_parse(unsigned char *raw, const char *code);
/* Derives from the code's bytes (Argon2id, then BLAKE2b) the key that
 * seals offer and answer and the two slot ids.  TALLY_ENOMEM. */
int tly_link_derive(const unsigned char *raw, unsigned char *key,
    unsigned char *offer_slot, unsigned char *answer_slot);

/* Seals an offer or answer with key into out (replacing its content);
 * opens one (TALLY_ECRYPTO if it does not authenticate, TALLY_EFORMAT).
 * The offer's seed and keys are wiped from out's plaintext copy. */
int tly_link_offer_seal(
    tly_buf *out, const struct tly_link_offer *o, const unsigned char *key);
int tly_link_offer_open(struct tly_link_offer *o, const void *p, size_t n,
    const unsigned char *key);
int tly_link_answer_seal(tly_buf *out, const struct tly_link_answer *a,
    const unsigned char *key);
int tly_link_answer_open(struct tly_link_answer *a, const void *p,
    size_t n, const unsigned char *key);

#endif /* TLY_SYNC_H */
