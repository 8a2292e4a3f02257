/*
 * tly_sync.c -- sync entries and link messages (tly_sync.h, PROTOCOL.md
 * part 10).
 *
 * Every read checks the bytes left first; a decoder that finds anything
 * out of place (a count that does not match, bytes left over) refuses the
 * whole input.
 */
#include <string.h>

#include <sodium.h>

#include "tly_enc.h"
#include "tly_err.h"
#include "tly_sync.h"

#define LINK_OFFER_AD "tally link offer v1"
#define LINK_ANSWER_AD "tally link answer v1"
#define LINK_SALT "tally link v1"
#define LINK_VERSION 1

static void
put_hdr(unsigned char *h, uint8_t type, uint32_t epoch, uint64_t device)
{
	h[0] = 'T';
	h[1] = 'L';
	h[2] = 'Y';
	h[3] = 'S';
	h[4] = TLY_SYNC_VERSION;
	h[5] = type;
	h[6] = h[7] = 0;
	for (int i = 0; i < 4; i++)
		h[8 + i] = (unsigned char) (epoch >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		h[12 + i] = (unsigned char) (device >> (56 - 8 * i));
}

int
tly_sync_hdr_decode(struct tly_sync_hdr *h, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	memset(h, 0, sizeof *h);
	if (p == NULL || n < TLY_SYNC_HDR || tly_get_u32(p) != TLY_SYNC_MAGIC)
		return (TALLY_EFORMAT);
	if (p[4] != TLY_SYNC_VERSION)
		return (TALLY_EUNSUPP);
	if ((p[5] != TLY_SYNC_OPS && p[5] != TLY_SYNC_KEYS) || p[6] != 0 ||
	    p[7] != 0)
		return (TALLY_EFORMAT);
	h->type   = p[5];
	h->epoch  = tly_get_u32(p + 8);
	h->device = tly_get_u64(p + 12);
	if (h->type == TLY_SYNC_OPS) {
		if (n < TLY_SYNC_AD + TLY_SYNC_TAG ||
		    n - TLY_SYNC_AD - TLY_SYNC_TAG > TLY_SYNC_BATCH_MAX)
			return (TALLY_EFORMAT);
		h->nonce   = p + TLY_SYNC_HDR;
		h->body    = p + TLY_SYNC_AD;
		h->bodylen = n - TLY_SYNC_AD;
	} else {
		h->body    = p + TLY_SYNC_HDR;
		h->bodylen = n - TLY_SYNC_HDR;
	}
	return (0);
}

int
tly_sync_seal(tly_buf *out, uint32_t epoch, uint64_t device,
    const unsigned char *key, const void *pt, size_t n)
{
	unsigned char *h;
	size_t         start = out->len;
	int            rv;

	if (n > TLY_SYNC_BATCH_MAX)
		return (TALLY_ETOOBIG);
	if ((rv = tly_buf_reserve(out, TLY_SYNC_AD + n + TLY_SYNC_TAG)) != 0)
		return (rv);
	h = out->p + start;
	put_hdr(h, TLY_SYNC_OPS, epoch, device);
	randombytes_buf(h + TLY_SYNC_HDR, TLY_SYNC_NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(h + TLY_SYNC_AD, NULL, pt,
	    n, h, TLY_SYNC_AD, NULL, h + TLY_SYNC_HDR, key);
	out->len = start + TLY_SYNC_AD + n + TLY_SYNC_TAG;
	return (0);
}

int
tly_sync_open(tly_buf *out, const struct tly_sync_hdr *h,
    const unsigned char *key, const void *p, size_t n)
{
	int rv;

	if (h->type != TLY_SYNC_OPS || n < TLY_SYNC_AD + TLY_SYNC_TAG ||
	    h->bodylen != n - TLY_SYNC_AD)
		return (TALLY_EFORMAT);
	tly_buf_reset(out);
	if ((rv = tly_buf_reserve(out, h->bodylen - TLY_SYNC_TAG + 1)) != 0)
		return (rv);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out->p, NULL, NULL,
	        h->body, h->bodylen, p, TLY_SYNC_AD, h->nonce, key) != 0)
		return (TALLY_ECRYPTO);
	out->len = h->bodylen - TLY_SYNC_TAG;
	return (0);
}

int
tly_sync_batch_begin(tly_buf *b)
{
	tly_buf_reset(b);
	return (tly_buf_u32(b, 0));
}

int
tly_sync_batch_add(tly_buf *b, const struct tly_sync_op *op)
{
	uint32_t n;
	int      rv;

	if (b->len < 4 || op->keylen == 0 || op->keylen > TLY_SYNC_KEY_MAXLEN ||
	    (op->cols != NULL && op->colslen > TLY_SYNC_COLS_MAX))
		return (TALLY_EINVAL);
	if ((rv = tly_buf_reserve(b, 8 + 1 + 1 + op->keylen + 4 +
	         (op->cols != NULL ? op->colslen : 0))) != 0)
		return (rv);
	(void) tly_buf_u64(b, op->clock);
	(void) tly_buf_u8(b, op->table);
	(void) tly_buf_u8(b, (uint8_t) op->keylen);
	(void) tly_buf_append(b, op->key, op->keylen);
	if (op->cols == NULL)
		(void) tly_buf_u32(b, TLY_SYNC_DELETE);
	else {
		(void) tly_buf_u32(b, (uint32_t) op->colslen);
		if (op->colslen > 0)
			(void) tly_buf_append(b, op->cols, op->colslen);
	}
	n    = tly_get_u32(b->p) + 1;
	b->p[0] = (unsigned char) (n >> 24);
	b->p[1] = (unsigned char) (n >> 16);
	b->p[2] = (unsigned char) (n >> 8);
	b->p[3] = (unsigned char) n;
	return (0);
}

int
tly_sync_batch_next(const void *buf, size_t n, size_t *off, uint32_t *count,
    struct tly_sync_op *op)
{
	const unsigned char *p = buf;
	uint32_t             cl;
	size_t               o;

	if (*off == 0) {
		if (n < 4)
			return (-TALLY_EFORMAT);
		*count = tly_get_u32(p);
		/* Each operation takes at least 15 bytes. */
		if (*count > (n - 4) / 15)
			return (-TALLY_EFORMAT);
		*off = 4;
	}
	o = *off;
	if (*count == 0)
		return (o == n ? 0 : -TALLY_EFORMAT);
	memset(op, 0, sizeof *op);
	if (n - o < 8 + 1 + 1)
		return (-TALLY_EFORMAT);
	op->clock  = tly_get_u64(p + o);
	op->table  = p[o + 8];
	op->keylen = p[o + 9];
	o += 10;
	if (op->keylen == 0 || op->keylen > TLY_SYNC_KEY_MAXLEN ||
	    n - o < op->keylen + 4)
		return (-TALLY_EFORMAT);
	op->key = p + o;
	o += op->keylen;
	cl = tly_get_u32(p + o);
	o += 4;
	if (cl != TLY_SYNC_DELETE) {
		if (cl > TLY_SYNC_COLS_MAX || n - o < cl)
			return (-TALLY_EFORMAT);
		op->cols    = p + o;
		op->colslen = cl;
		o += cl;
	}
	(*count)--;
	*off = o;
	return (1);
}

/* The bytes a key rotation's writer signs: the domain (with its NUL)
 * and the entry up to the signature, hashed. */
static void
keys_digest(unsigned char *d, const unsigned char *p, size_t n)
{
	crypto_generichash_state s;

	crypto_generichash_init(&s, NULL, 0, 64);
	crypto_generichash_update(&s, (const unsigned char *)
	    TLY_SYNC_KEYS_DOMAIN, sizeof TLY_SYNC_KEYS_DOMAIN);
	crypto_generichash_update(&s, p, n);
	crypto_generichash_final(&s, d, 64);
}

int
tly_sync_keys_encode(tly_buf *out, uint32_t epoch, uint64_t device,
    const struct tly_sync_sealed *keys, size_t nkeys,
    const unsigned char *sk)
{
	unsigned char d[64];
	size_t        start = out->len;
	int           rv;

	if (nkeys == 0 || nkeys > TLY_SYNC_KEYS_MAX)
		return (TALLY_EINVAL);
	if ((rv = tly_buf_reserve(out, TLY_SYNC_HDR + 2 +
	         nkeys * (8 + TLY_SYNC_SEALED) + crypto_sign_BYTES)) != 0)
		return (rv);
	put_hdr(out->p + start, TLY_SYNC_KEYS, epoch, device);
	out->len += TLY_SYNC_HDR;
	(void) tly_buf_u16(out, (uint16_t) nkeys);
	for (size_t i = 0; i < nkeys; i++) {
		(void) tly_buf_u64(out, keys[i].device);
		(void) tly_buf_append(out, keys[i].sealed, TLY_SYNC_SEALED);
	}
	keys_digest(d, out->p + start, out->len - start);
	crypto_sign_detached(out->p + out->len, NULL, d, sizeof d, sk);
	out->len += crypto_sign_BYTES;
	return (0);
}

int
tly_sync_keys_decode(const struct tly_sync_hdr *h, const void *buf, size_t n,
    const unsigned char *pk, struct tly_sync_sealed *keys, size_t *nkeys)
{
	const unsigned char *p = buf;
	unsigned char        d[64];
	size_t               k;

	*nkeys = 0;
	if (h->type != TLY_SYNC_KEYS || n < TLY_SYNC_HDR + 2 ||
	    h->bodylen != n - TLY_SYNC_HDR)
		return (TALLY_EFORMAT);
	k = tly_get_u16(p + TLY_SYNC_HDR);
	if (k == 0 || k > TLY_SYNC_KEYS_MAX ||
	    n != TLY_SYNC_HDR + 2 + k * (8 + TLY_SYNC_SEALED) +
	            crypto_sign_BYTES)
		return (TALLY_EFORMAT);
	keys_digest(d, p, n - crypto_sign_BYTES);
	if (crypto_sign_verify_detached(
	        p + n - crypto_sign_BYTES, d, sizeof d, pk) != 0)
		return (TALLY_ECRYPTO);
	for (size_t i = 0; i < k; i++) {
		const unsigned char *e =
		    p + TLY_SYNC_HDR + 2 + i * (8 + TLY_SYNC_SEALED);

		keys[i].device = tly_get_u64(e);
		keys[i].sealed = e + 8;
	}
	*nkeys = k;
	return (0);
}

/* -- Linking ---------------------------------------------------------- */

void
tly_link_code_new(char *code)
{
	unsigned char raw[TLY_LINK_CODE_BYTES];
	char          b32[TLY_B32_LEN(TLY_LINK_CODE_BYTES) + 1];
	size_t        o = 0;

	randombytes_buf(raw, sizeof raw);
	tly_b32_encode(b32, raw, sizeof raw);
	for (size_t i = 0; i < 16; i++) {
		if (i > 0 && i % 4 == 0)
			code[o++] = '-';
		code[o++] = b32[i];
	}
	code[o] = '\0';
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(b32, sizeof b32);
}

int
tly_link_code_parse(unsigned char *raw, const char *code)
{
	char   s[17];
	size_t n = 0;

	for (const char *c = code; *c != '\0'; c++) {
		char ch = *c;

		if (ch == '-' || ch == ' ' || ch == '\t')
			continue;
		if (ch >= 'A' && ch <= 'Z')
			ch = (char) (ch - 'A' + 'a');
		if (n == 16)
			return (TALLY_EFORMAT);
		s[n++] = ch;
	}
	s[n] = '\0';
	if (n != 16 || tly_b32_decode(raw, TLY_LINK_CODE_BYTES, s, n) != 0) {
		sodium_memzero(raw, TLY_LINK_CODE_BYTES);
		sodium_memzero(s, sizeof s);
		return (TALLY_EFORMAT);
	}
	sodium_memzero(s, sizeof s);
	return (0);
}

int
tly_link_derive(const unsigned char *raw, unsigned char *key,
    unsigned char *offer_slot, unsigned char *answer_slot)
{
	unsigned char salt[crypto_pwhash_SALTBYTES], m[32];

	crypto_generichash(salt, sizeof salt, (const unsigned char *) LINK_SALT,
	    sizeof LINK_SALT, NULL, 0);
	if (crypto_pwhash(m, sizeof m, (const char *) raw, TLY_LINK_CODE_BYTES,
	        salt, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	        crypto_pwhash_MEMLIMIT_INTERACTIVE,
	        crypto_pwhash_ALG_ARGON2ID13) != 0)
		return (TALLY_ENOMEM);
	crypto_generichash(key, TLY_SYNC_KEY_BYTES,
	    (const unsigned char *) "key", 4, m, sizeof m);
	crypto_generichash(offer_slot, TLY_LINK_SLOT_BYTES,
	    (const unsigned char *) "offer", 6, m, sizeof m);
	crypto_generichash(answer_slot, TLY_LINK_SLOT_BYTES,
	    (const unsigned char *) "answer", 7, m, sizeof m);
	sodium_memzero(m, sizeof m);
	return (0);
}

/* Seals pt[0..n) under key with ad into out: nonce || ciphertext. */
static int
link_seal(tly_buf *out, const char *ad, const unsigned char *pt, size_t n,
    const unsigned char *key)
{
	int rv;

	tly_buf_reset(out);
	if ((rv = tly_buf_reserve(out, TLY_SYNC_NONCE + n + TLY_SYNC_TAG)) !=
	    0)
		return (rv);
	randombytes_buf(out->p, TLY_SYNC_NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out->p + TLY_SYNC_NONCE,
	    NULL, pt, n, (const unsigned char *) ad, strlen(ad) + 1, NULL,
	    out->p, key);
	out->len = TLY_SYNC_NONCE + n + TLY_SYNC_TAG;
	return (0);
}

/* Opens p[0..n) sealed by link_seal into pt (cap bytes); *ptlen. */
static int
link_open(unsigned char *pt, size_t cap, size_t *ptlen, const char *ad,
    const unsigned char *p, size_t n, const unsigned char *key)
{
	if (n < TLY_SYNC_NONCE + TLY_SYNC_TAG ||
	    n - TLY_SYNC_NONCE - TLY_SYNC_TAG > cap)
		return (TALLY_EFORMAT);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL, NULL,
	        p + TLY_SYNC_NONCE, n - TLY_SYNC_NONCE, (const unsigned char *)
	        ad, strlen(ad) + 1, p, key) != 0)
		return (TALLY_ECRYPTO);
	*ptlen = n - TLY_SYNC_NONCE - TLY_SYNC_TAG;
	return (0);
}

static void
put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char) (v >> (56 - 8 * i));
}

int
tly_link_offer_seal(
    tly_buf *out, const struct tly_link_offer *o, const unsigned char *key)
{
	unsigned char pt[TLY_LINK_OFFER_MAX];
	size_t        n = 0;
	int           rv;

	if (o->nkeys == 0 || o->nkeys > TLY_LINK_KEYS_MAX)
		return (TALLY_EINVAL);
	pt[n++] = LINK_VERSION;
	put_u64(pt + n, (uint64_t) o->expires);
	n += 8;
	memcpy(pt + n, o->seed, 32);
	n += 32;
	put_u64(pt + n, o->device);
	n += 8;
	pt[n++] = (unsigned char) o->nkeys;
	for (unsigned i = 0; i < o->nkeys; i++) {
		pt[n++] = (unsigned char) (o->epoch[i] >> 24);
		pt[n++] = (unsigned char) (o->epoch[i] >> 16);
		pt[n++] = (unsigned char) (o->epoch[i] >> 8);
		pt[n++] = (unsigned char) o->epoch[i];
		memcpy(pt + n, o->key[i], TLY_SYNC_KEY_BYTES);
		n += TLY_SYNC_KEY_BYTES;
	}
	rv = link_seal(out, LINK_OFFER_AD, pt, n, key);
	sodium_memzero(pt, sizeof pt);
	return (rv);
}

int
tly_link_offer_open(struct tly_link_offer *o, const void *p, size_t n,
    const unsigned char *key)
{
	unsigned char pt[TLY_LINK_OFFER_MAX];
	size_t        len, off;
	int           rv;

	memset(o, 0, sizeof *o);
	if ((rv = link_open(pt, sizeof pt, &len, LINK_OFFER_AD, p, n, key)) !=
	    0)
		return (rv);
	rv = TALLY_EFORMAT;
	if (len < 1 + 8 + 32 + 8 + 1 || pt[0] != LINK_VERSION)
		goto out;
	o->expires = (int64_t) tly_get_u64(pt + 1);
	memcpy(o->seed, pt + 9, 32);
	o->device = tly_get_u64(pt + 41);
	o->nkeys  = pt[49];
	off       = 50;
	if (o->nkeys == 0 ||
	    len != off + (size_t) o->nkeys * (4 + TLY_SYNC_KEY_BYTES))
		goto out;
	for (unsigned i = 0; i < o->nkeys; i++) {
		o->epoch[i] = tly_get_u32(pt + off);
		memcpy(o->key[i], pt + off + 4, TLY_SYNC_KEY_BYTES);
		off += 4 + TLY_SYNC_KEY_BYTES;
	}
	rv = 0;
out:
	if (rv != 0)
		sodium_memzero(o, sizeof *o);
	sodium_memzero(pt, sizeof pt);
	return (rv);
}

int
tly_link_answer_seal(tly_buf *out, const struct tly_link_answer *a,
    const unsigned char *key)
{
	unsigned char pt[1 + 8 + 32 + 1 + TLY_LINK_NAME_MAX];
	size_t        nl = strlen(a->name), n = 0;

	if (nl > TLY_LINK_NAME_MAX)
		return (TALLY_EINVAL);
	pt[n++] = LINK_VERSION;
	put_u64(pt + n, a->device);
	n += 8;
	memcpy(pt + n, a->pk, 32);
	n += 32;
	pt[n++] = (unsigned char) nl;
	memcpy(pt + n, a->name, nl);
	n += nl;
	return (link_seal(out, LINK_ANSWER_AD, pt, n, key));
}

int
tly_link_answer_open(struct tly_link_answer *a, const void *p, size_t n,
    const unsigned char *key)
{
	unsigned char pt[1 + 8 + 32 + 1 + TLY_LINK_NAME_MAX];
	size_t        len, nl;
	int           rv;

	memset(a, 0, sizeof *a);
	if ((rv = link_open(pt, sizeof pt, &len, LINK_ANSWER_AD, p, n, key)) !=
	    0)
		return (rv);
	if (len < 1 + 8 + 32 + 1 || pt[0] != LINK_VERSION)
		return (TALLY_EFORMAT);
	nl = pt[41];
	if (nl > TLY_LINK_NAME_MAX || len != 42 + nl)
		return (TALLY_EFORMAT);
	a->device = tly_get_u64(pt + 1);
	memcpy(a->pk, pt + 9, 32);
	memcpy(a->name, pt + 42, nl);
	a->name[nl] = '\0';
	return (0);
}
