/*
 * tly_keyfile.h -- the secret key at rest (PROTOCOL.md, part 2).
 *
 * A key file is TLY_KEYFILE_BYTES long: a header (magic, version, how it
 * is protected, the Argon2id parameters and salt, the public key), then
 * the 32-byte secret seed sealed with XChaCha20-Poly1305 under a key
 * derived from the passphrase (or, in the explicit no-passphrase variant,
 * under an all-zero key, which only detects damage).  The header is the
 * AEAD's associated data, so no byte of the file can change unnoticed.
 */
#ifndef TLY_KEYFILE_H
#define TLY_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "tly_ident.h"

#define TLY_KEYFILE_BYTES 142
#define TLY_KEYFILE_VERSION 1
#define TLY_KEYFILE_NOPASS 0   /* protection byte: no passphrase */
#define TLY_KEYFILE_ARGON2ID 1 /* protection byte: Argon2id passphrase */

/* Argon2id cost.  0 for either means libsodium's INTERACTIVE value. */
typedef struct tly_kdf {
	uint32_t ops; /* crypto_pwhash opslimit */
	uint64_t mem; /* crypto_pwhash memlimit, bytes */
} tly_kdf;

/* The limits a key file's parameters must be within (inclusive). */
#define TLY_KEYFILE_OPS_MAX 16u
#define TLY_KEYFILE_MEM_MAX (1024ull * 1024 * 1024) /* SENSITIVE, 1 GiB */

/* Seals id's secret seed into out (TLY_KEYFILE_BYTES).  pass == NULL
 * writes the no-passphrase variant; otherwise pass[0..passlen) must not
 * be empty.  kdf NULL means INTERACTIVE.  TALLY_EINVAL (empty passphrase,
 * parameters out of range), TALLY_ENOMEM (Argon2id could not allocate). */
int tly_keyfile_seal(unsigned char *out, const tly_ident *id, const char *pass,
    size_t passlen, const tly_kdf *kdf);

/* Opens a key file image f[0..n).  On success *idp is yours to
 * tly_ident_free().  pass is ignored for the no-passphrase variant.
 * TALLY_EFORMAT (wrong size, magic or field), TALLY_EUNSUPP (other
 * version), TALLY_EPASS (wrong or missing passphrase), TALLY_ECORRUPT
 * (no-passphrase file damaged, or seed and public key disagree),
 * TALLY_ENOMEM. */
int tly_keyfile_open(tly_ident **idp, const unsigned char *f, size_t n,
    const char *pass, size_t passlen);

/* Reads the header only: the public key (TLY_PK_BYTES, may be NULL) and
 * whether a passphrase is needed (*has_pass, may be NULL), without
 * opening anything.  Same format errors as tly_keyfile_open(). */
int tly_keyfile_peek(
    unsigned char *pk, int *has_pass, const unsigned char *f, size_t n);

/* Writes a key file image to path, created with mode 0600 (O_EXCL unless
 * replace is set; a replacement goes through a temporary file and
 * rename).  TALLY_EEXIST, TALLY_EIO; *cause (may be NULL) gets a static
 * explanation. */
int tly_keyfile_save(
    const char *path, const unsigned char *f, int replace, const char **cause);

/* Reads a key file image from path into f (TLY_KEYFILE_BYTES).  Refuses a
 * file that group or others may read or write (TALLY_EPERM), that is not
 * a regular file or has the wrong size (TALLY_EFORMAT); TALLY_ENOENT,
 * TALLY_EIO.  *cause (may be NULL) gets a static explanation. */
int tly_keyfile_load(unsigned char *f, const char *path, const char **cause);

#endif /* TLY_KEYFILE_H */
