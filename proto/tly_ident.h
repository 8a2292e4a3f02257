/*
 * tly_ident.h -- a person's identity: an Ed25519 signing key, the X25519
 * keys derived from it, and the texts people exchange and compare: the
 * tally id, the fingerprint and the safety code (PROTOCOL.md, part 1).
 *
 * A tly_ident holds the secret key in sodium_malloc'd memory that is
 * inaccessible (sodium_mprotect_noaccess) except during a call; a handle
 * is therefore not to be used by two threads at once.
 */
#ifndef TLY_IDENT_H
#define TLY_IDENT_H

#include <stddef.h>

#define TLY_PK_BYTES 32   /* Ed25519 public key */
#define TLY_SEED_BYTES 32 /* the secret seed the whole identity derives from \
	                   */
#define TLY_SIG_BYTES 64  /* Ed25519 detached signature */
#define TLY_X25519_BYTES 32 /* X25519 public or secret key */
#define TLY_TALLYID_PREFIX "tly1"
#define TLY_TALLYID_LEN 62     /* "tly1" + 52 key + 6 checksum characters */
#define TLY_TALLYID_MAX 256    /* longest text tly_tallyid_parse() reads */
#define TLY_FPR_LEN 16         /* hex characters of a fingerprint */
#define TLY_SAFETY_LEN 35      /* "ddddd ddddd ddddd ddddd ddddd ddddd" */
#define TLY_SAFETY_ROUNDS 4096 /* BLAKE2b-512 calls per safety code */

typedef struct tly_ident tly_ident;

/* Creates a new identity from a fresh random seed.  On success *idp is
 * yours to tly_ident_free().  TALLY_ENOMEM. */
int tly_ident_new(tly_ident **idp);
/* Creates the identity of a given seed (crypto_sign_seed_keypair).  The
 * caller keeps and wipes seed.  TALLY_ENOMEM. */
int tly_ident_from_seed(tly_ident **idp, const unsigned char *seed);
/* Wipes and frees an identity.  NULL is a no-op. */
void tly_ident_free(tly_ident *id);
/* The Ed25519 public key (TLY_PK_BYTES), owned by id. */
const unsigned char *tly_ident_pk(const tly_ident *id);
/* Copies the secret seed to seed (TLY_SEED_BYTES), e.g. to seal it in a
 * key file; the caller wipes it (sodium_memzero) after use. */
void tly_ident_seed(const tly_ident *id, unsigned char *seed);
/* Writes the Ed25519 signature of m[0..n) to sig (TLY_SIG_BYTES). */
void tly_ident_sign(
    const tly_ident *id, unsigned char *sig, const unsigned char *m, size_t n);
/* Writes the identity's X25519 key pair (crypto_sign_ed25519_*_to_
 * curve25519); the caller wipes xsk.  TALLY_ECRYPTO if the key does not
 * convert (never for a key made here). */
int tly_ident_x25519(
    const tly_ident *id, unsigned char *xpk, unsigned char *xsk);

/* Writes the X25519 public key of the Ed25519 key pk to xpk.
 * TALLY_ECRYPTO if pk is not a valid, non-small-order Ed25519 point. */
int tly_pk_x25519(unsigned char *xpk, const unsigned char *pk);
/* Checks the Ed25519 signature sig by pk over m[0..n).  TALLY_ECRYPTO. */
int tly_pk_verify(const unsigned char *pk, const unsigned char *sig,
    const unsigned char *m, size_t n);

/* Writes the tally id of pk and a NUL to out (TLY_TALLYID_LEN + 1). */
void tly_tallyid_encode(char *out, const unsigned char *pk);
/* Parses a tally id typed or pasted by a person: case-insensitive,
 * spaces, tabs, line breaks and dashes ignored anywhere.  Writes the key
 * to pk.  TALLY_EFORMAT (no "tly1" prefix, a foreign character, wrong
 * length), TALLY_ECORRUPT (checksum mismatch: a typo), TALLY_ECRYPTO
 * (checksum right but not a valid Ed25519 key), TALLY_ETOOBIG. */
int tly_tallyid_parse(unsigned char *pk, const char *s);

/* Writes the fingerprint of pk (TLY_FPR_LEN hex characters and a NUL)
 * to out: short, for display and logs, not for authentication. */
void tly_fingerprint(char *out, const unsigned char *pk);
/* Writes the safety code of the two keys a and b (TLY_SAFETY_LEN + 1
 * bytes) to out: 30 digits in six groups, the same whichever key comes
 * first, for two people to compare out of band. */
void tly_safety_code(
    char *out, const unsigned char *a, const unsigned char *b);

#endif /* TLY_IDENT_H */
