/*
 * tly_ident.c -- identities (Ed25519, X25519 derived), tally ids,
 * fingerprints and safety codes.
 *
 * The tally id is "tly1", the 52 base32 characters (RFC 4648, lower case)
 * of the 32-byte public key, and a 6-character BCH checksum over those
 * characters' 5-bit values (BIP-350's bech32m code, taken over the RFC
 * 4648 alphabet).  The code detects every error in up to 4 characters,
 * so every single substitution and every adjacent transposition.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tly_enc.h"
#include "tly_err.h"
#include "tly_ident.h"

_Static_assert(TLY_PK_BYTES == crypto_sign_PUBLICKEYBYTES, "pk size");
_Static_assert(TLY_SEED_BYTES == crypto_sign_SEEDBYTES, "seed size");
_Static_assert(TLY_SIG_BYTES == crypto_sign_BYTES, "sig size");
_Static_assert(TLY_X25519_BYTES == crypto_scalarmult_BYTES, "x25519 size");

#define KEY_CHARS 52 /* TLY_B32_LEN(32) */
#define CHECK_CHARS 6
#define PREFIX_LEN 4

_Static_assert(TLY_B32_LEN(TLY_PK_BYTES) == KEY_CHARS, "key chars");
_Static_assert(PREFIX_LEN + KEY_CHARS + CHECK_CHARS == TLY_TALLYID_LEN,
    "tally id length");

struct tly_ident {
	unsigned char  pk[TLY_PK_BYTES]; /* public: plain memory */
	unsigned char *sk; /* crypto_sign_SECRETKEYBYTES, sodium_malloc'd,
	                      no access outside a call */
};

int
tly_ident_from_seed(tly_ident **idp, const unsigned char *seed)
{
	tly_ident *id;

	*idp = NULL;
	if ((id = calloc(1, sizeof *id)) == NULL)
		return (TALLY_ENOMEM);
	if ((id->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
		free(id);
		return (TALLY_ENOMEM);
	}
	crypto_sign_seed_keypair(id->pk, id->sk, seed);
	sodium_mprotect_noaccess(id->sk);
	*idp = id;
	return (0);
}

int
tly_ident_new(tly_ident **idp)
{
	unsigned char seed[TLY_SEED_BYTES];
	int           rv;

	randombytes_buf(seed, sizeof seed);
	rv = tly_ident_from_seed(idp, seed);
	sodium_memzero(seed, sizeof seed);
	return (rv);
}

void
tly_ident_free(tly_ident *id)
{
	if (id == NULL)
		return;
	/* sodium_free() wipes the memory; it needs write access. */
	sodium_mprotect_readwrite(id->sk);
	sodium_free(id->sk);
	free(id);
}

const unsigned char *
tly_ident_pk(const tly_ident *id)
{
	return (id->pk);
}

void
tly_ident_seed(const tly_ident *id, unsigned char *seed)
{
	sodium_mprotect_readonly(id->sk);
	crypto_sign_ed25519_sk_to_seed(seed, id->sk);
	sodium_mprotect_noaccess(id->sk);
}

void
tly_ident_sign(
    const tly_ident *id, unsigned char *sig, const unsigned char *m, size_t n)
{
	sodium_mprotect_readonly(id->sk);
	crypto_sign_detached(sig, NULL, m, n, id->sk);
	sodium_mprotect_noaccess(id->sk);
}

int
tly_ident_x25519(const tly_ident *id, unsigned char *xpk, unsigned char *xsk)
{
	int rv = 0;

	if (crypto_sign_ed25519_pk_to_curve25519(xpk, id->pk) != 0)
		return (TALLY_ECRYPTO);
	sodium_mprotect_readonly(id->sk);
	if (crypto_sign_ed25519_sk_to_curve25519(xsk, id->sk) != 0)
		rv = TALLY_ECRYPTO;
	sodium_mprotect_noaccess(id->sk);
	if (rv != 0)
		sodium_memzero(xsk, TLY_X25519_BYTES);
	return (rv);
}

int
tly_pk_x25519(unsigned char *xpk, const unsigned char *pk)
{
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, pk) != 0)
		return (TALLY_ECRYPTO);
	return (0);
}

int
tly_pk_verify(const unsigned char *pk, const unsigned char *sig,
    const unsigned char *m, size_t n)
{
	if (crypto_sign_verify_detached(sig, m, n, pk) != 0)
		return (TALLY_ECRYPTO);
	return (0);
}

/* -- Tally id --------------------------------------------------------- */

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* BIP-350: the bech32m generator and constant. */
static uint32_t
polymod_step(uint32_t chk, unsigned v)
{
	static const uint32_t gen[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
		0x3d4233dd, 0x2a1462b3 };
	uint32_t              top    = chk >> 25;

	chk = ((chk & 0x1ffffff) << 5) ^ v;
	for (int i = 0; i < 5; i++)
		if ((top >> i) & 1)
			chk ^= gen[i];
	return (chk);
}

#define BECH32M_CONST 0x2bc830a3u

/* The checksum state after the expanded human-readable part "tly". */
static uint32_t
polymod_start(void)
{
	static const char hrp[] = "tly";
	uint32_t          chk   = 1;

	for (size_t i = 0; i < 3; i++)
		chk = polymod_step(chk, (unsigned char) hrp[i] >> 5);
	chk = polymod_step(chk, 0);
	for (size_t i = 0; i < 3; i++)
		chk = polymod_step(chk, (unsigned char) hrp[i] & 31);
	return (chk);
}

static int
b32_val(int c)
{
	if (c >= 'a' && c <= 'z')
		return (c - 'a');
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= '2' && c <= '7')
		return (c - '2' + 26);
	return (-1);
}

void
tly_tallyid_encode(char *out, const unsigned char *pk)
{
	uint32_t chk = polymod_start();

	memcpy(out, TLY_TALLYID_PREFIX, PREFIX_LEN);
	tly_b32_encode(out + PREFIX_LEN, pk, TLY_PK_BYTES);
	for (size_t i = 0; i < KEY_CHARS; i++)
		chk =
		    polymod_step(chk, (unsigned) b32_val(out[PREFIX_LEN + i]));
	for (size_t i = 0; i < CHECK_CHARS; i++)
		chk = polymod_step(chk, 0);
	chk ^= BECH32M_CONST;
	for (size_t i = 0; i < CHECK_CHARS; i++)
		out[PREFIX_LEN + KEY_CHARS + i] =
		    b32[(chk >> (5 * (CHECK_CHARS - 1 - i))) & 31];
	out[TLY_TALLYID_LEN] = '\0';
}

static int
is_filler(int c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '-');
}

int
tly_tallyid_parse(unsigned char *pk, const char *s)
{
	char          buf[TLY_TALLYID_LEN];
	size_t        n = 0, i;
	uint32_t      chk;
	unsigned char key[TLY_PK_BYTES], x[TLY_X25519_BYTES];

	for (i = 0; s[i] != '\0'; i++) {
		int c = (unsigned char) s[i];
		if (i >= TLY_TALLYID_MAX)
			return (TALLY_ETOOBIG);
		if (is_filler(c))
			continue;
		if (n == TLY_TALLYID_LEN)
			return (TALLY_EFORMAT); /* too long */
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		buf[n++] = (char) c;
	}
	if (n < PREFIX_LEN || memcmp(buf, TLY_TALLYID_PREFIX, PREFIX_LEN) != 0)
		return (TALLY_EFORMAT);
	if (n != TLY_TALLYID_LEN)
		return (TALLY_EFORMAT);
	chk = polymod_start();
	for (i = PREFIX_LEN; i < TLY_TALLYID_LEN; i++) {
		int v = b32_val((unsigned char) buf[i]);
		if (v < 0)
			return (TALLY_EFORMAT);
		chk = polymod_step(chk, (unsigned) v);
	}
	if (chk != BECH32M_CONST)
		return (TALLY_ECORRUPT);
	/* A right checksum with nonzero pad bits cannot come from the
	 * encoder; the strict base32 decoder refuses it. */
	if (tly_b32_decode(key, sizeof key, buf + PREFIX_LEN, KEY_CHARS) != 0)
		return (TALLY_EFORMAT);
	/* Only a valid, non-small-order point is a key someone can hold. */
	if (crypto_sign_ed25519_pk_to_curve25519(x, key) != 0)
		return (TALLY_ECRYPTO);
	memcpy(pk, key, sizeof key);
	return (0);
}

/* -- Fingerprint and safety code -------------------------------------- */

static const char fpr_domain[]    = "tally fingerprint v1";
static const char safety_domain[] = "tally safety code v1";

void
tly_fingerprint(char *out, const unsigned char *pk)
{
	crypto_generichash_state st;
	unsigned char            h[32];

	/* The domain string is hashed with its NUL. */
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(
	    &st, (const unsigned char *) fpr_domain, sizeof fpr_domain);
	crypto_generichash_update(&st, pk, TLY_PK_BYTES);
	crypto_generichash_final(&st, h, sizeof h);
	tly_hex_encode(out, h, TLY_FPR_LEN / 2);
}

void
tly_safety_code(char *out, const unsigned char *a, const unsigned char *b)
{
	crypto_generichash_state st;
	unsigned char            h[64];
	const unsigned char     *lo = a, *hi = b;
	size_t                   o = 0;

	if (memcmp(a, b, TLY_PK_BYTES) > 0) {
		lo = b;
		hi = a;
	}
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(
	    &st, (const unsigned char *) safety_domain, sizeof safety_domain);
	crypto_generichash_update(&st, lo, TLY_PK_BYTES);
	crypto_generichash_update(&st, hi, TLY_PK_BYTES);
	crypto_generichash_final(&st, h, sizeof h);
	for (int r = 1; r < TLY_SAFETY_ROUNDS; r++) {
		crypto_generichash_init(&st, NULL, 0, sizeof h);
		crypto_generichash_update(&st, h, sizeof h);
		crypto_generichash_update(&st, lo, TLY_PK_BYTES);
		crypto_generichash_update(&st, hi, TLY_PK_BYTES);
		crypto_generichash_final(&st, h, sizeof h);
	}
	for (int g = 0; g < 6; g++) {
		uint64_t v = 0;
		for (int k = 0; k < 5; k++)
			v = (v << 8) | h[5 * g + k];
		v %= 100000;
		if (g > 0)
			out[o++] = ' ';
		for (int d = 4; d >= 0; d--) {
			out[o + (size_t) d] = (char) ('0' + v % 10);
			v /= 10;
		}
		o += 5;
	}
	out[o] = '\0';
}
