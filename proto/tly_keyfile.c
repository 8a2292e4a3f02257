/*
 * tly_keyfile.c -- sealing and opening the secret key file.
 *
 * Layout (PROTOCOL.md, "The key file"); integers big-endian:
 *
 *   OFFSET SIZE  FIELD
 *        0    8  magic "TALLYKEY"
 *        8    1  version (1)
 *        9    1  protection: 0 none, 1 Argon2id passphrase
 *       10    4  Argon2id opslimit (0 when none)
 *       14    8  Argon2id memlimit in bytes (0 when none)
 *       22   16  Argon2id salt (zero when none)
 *       38   32  Ed25519 public key
 *       70   24  XChaCha20-Poly1305 nonce
 *       94   48  sealed seed: 32 bytes ciphertext + 16 bytes tag
 *
 * Bytes 0..93 are the associated data of the AEAD.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "tly_buf.h"
#include "tly_err.h"
#include "tly_keyfile.h"

#define OFF_MAGIC 0
#define OFF_VERSION 8
#define OFF_PROT 9
#define OFF_OPS 10
#define OFF_MEM 14
#define OFF_SALT 22
#define OFF_PK 38
#define OFF_NONCE 70
#define OFF_SEALED 94
#define SEALED_LEN (TLY_SEED_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES)

static const char magic[8] = { 'T', 'A', 'L', 'L', 'Y', 'K', 'E', 'Y' };

_Static_assert(OFF_SEALED + SEALED_LEN == TLY_KEYFILE_BYTES, "key file size");
_Static_assert(OFF_NONCE - OFF_PK == TLY_PK_BYTES, "pk");
_Static_assert(
    OFF_SEALED - OFF_NONCE == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
    "nonce");
_Static_assert(OFF_PK - OFF_SALT == crypto_pwhash_SALTBYTES, "salt");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == 32, "key");

static void
put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char) v;
}

static void
put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char) v;
}

static int
kdf_ok(uint64_t ops, uint64_t mem)
{
	return (ops >= crypto_pwhash_OPSLIMIT_MIN &&
	    ops <= TLY_KEYFILE_OPS_MAX && mem >= crypto_pwhash_MEMLIMIT_MIN &&
	    mem <= TLY_KEYFILE_MEM_MAX);
}

/* Derives the AEAD key from the passphrase and the header's parameters. */
static int
derive(unsigned char *k, const char *pass, size_t passlen,
    const unsigned char *hdr)
{
	if (crypto_pwhash(k, 32, pass, passlen, hdr + OFF_SALT,
	        tly_get_u32(hdr + OFF_OPS),
	        (size_t) tly_get_u64(hdr + OFF_MEM),
	        crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_memzero(k, 32);
		return (TALLY_ENOMEM);
	}
	return (0);
}

int
tly_keyfile_seal(unsigned char *out, const tly_ident *id, const char *pass,
    size_t passlen, const tly_kdf *kdf)
{
	unsigned char k[32], seed[TLY_SEED_BYTES];
	uint64_t      ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	uint64_t      mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	int           rv;

	if (pass != NULL && passlen == 0)
		return (TALLY_EINVAL);
	if (kdf != NULL && kdf->ops != 0)
		ops = kdf->ops;
	if (kdf != NULL && kdf->mem != 0)
		mem = kdf->mem;
	if (pass != NULL && !kdf_ok(ops, mem))
		return (TALLY_EINVAL);

	memset(out, 0, TLY_KEYFILE_BYTES);
	memcpy(out + OFF_MAGIC, magic, sizeof magic);
	out[OFF_VERSION] = TLY_KEYFILE_VERSION;
	memcpy(out + OFF_PK, tly_ident_pk(id), TLY_PK_BYTES);
	randombytes_buf(
	    out + OFF_NONCE, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	if (pass == NULL) {
		out[OFF_PROT] = TLY_KEYFILE_NOPASS;
		memset(k, 0, sizeof k);
	} else {
		out[OFF_PROT] = TLY_KEYFILE_ARGON2ID;
		put_u32(out + OFF_OPS, (uint32_t) ops);
		put_u64(out + OFF_MEM, mem);
		randombytes_buf(out + OFF_SALT, crypto_pwhash_SALTBYTES);
		if ((rv = derive(k, pass, passlen, out)) != 0) {
			sodium_memzero(out, TLY_KEYFILE_BYTES);
			return (rv);
		}
	}
	tly_ident_seed(id, seed);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + OFF_SEALED, NULL,
	    seed, sizeof seed, out, OFF_SEALED, NULL, out + OFF_NONCE, k);
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(k, sizeof k);
	return (0);
}

int
tly_keyfile_peek(
    unsigned char *pk, int *has_pass, const unsigned char *f, size_t n)
{
	static const unsigned char zero[crypto_pwhash_SALTBYTES];

	if (n != TLY_KEYFILE_BYTES || memcmp(f, magic, sizeof magic) != 0)
		return (TALLY_EFORMAT);
	if (f[OFF_VERSION] != TLY_KEYFILE_VERSION)
		return (TALLY_EUNSUPP);
	switch (f[OFF_PROT]) {
	case TLY_KEYFILE_NOPASS:
		/* One spelling: the unused fields are zero. */
		if (tly_get_u32(f + OFF_OPS) != 0 ||
		    tly_get_u64(f + OFF_MEM) != 0 ||
		    memcmp(f + OFF_SALT, zero, sizeof zero) != 0)
			return (TALLY_EFORMAT);
		break;
	case TLY_KEYFILE_ARGON2ID:
		if (!kdf_ok(
		        tly_get_u32(f + OFF_OPS), tly_get_u64(f + OFF_MEM)))
			return (TALLY_EFORMAT);
		break;
	default:
		return (TALLY_EFORMAT);
	}
	if (pk != NULL)
		memcpy(pk, f + OFF_PK, TLY_PK_BYTES);
	if (has_pass != NULL)
		*has_pass = f[OFF_PROT] == TLY_KEYFILE_ARGON2ID;
	return (0);
}

int
tly_keyfile_open(tly_ident **idp, const unsigned char *f, size_t n,
    const char *pass, size_t passlen)
{
	unsigned char k[32], seed[TLY_SEED_BYTES];
	int           rv, has_pass;
	tly_ident    *id = NULL;

	*idp = NULL;
	if ((rv = tly_keyfile_peek(NULL, &has_pass, f, n)) != 0)
		return (rv);
	if (has_pass) {
		if (pass == NULL || passlen == 0)
			return (TALLY_EPASS);
		if ((rv = derive(k, pass, passlen, f)) != 0)
			return (rv);
	} else
		memset(k, 0, sizeof k);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(seed, NULL, NULL,
	        f + OFF_SEALED, SEALED_LEN, f, OFF_SEALED, f + OFF_NONCE,
	        k) != 0) {
		sodium_memzero(k, sizeof k);
		sodium_memzero(seed, sizeof seed);
		return (has_pass ? TALLY_EPASS : TALLY_ECORRUPT);
	}
	sodium_memzero(k, sizeof k);
	rv = tly_ident_from_seed(&id, seed);
	sodium_memzero(seed, sizeof seed);
	if (rv != 0)
		return (rv);
	if (sodium_memcmp(tly_ident_pk(id), f + OFF_PK, TLY_PK_BYTES) != 0) {
		tly_ident_free(id);
		return (TALLY_ECORRUPT);
	}
	*idp = id;
	return (0);
}

/* -- Files ------------------------------------------------------------ */

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return (TALLY_EIO);
		p += w;
		n -= (size_t) w;
	}
	return (0);
}

int
tly_keyfile_save(
    const char *path, const unsigned char *f, int replace, const char **cause)
{
	char       *tmp = NULL;
	const char *target;
	int         fd, rv;
	size_t      plen = strlen(path);

	if (cause != NULL)
		*cause = NULL;
	if (replace) {
		if ((tmp = malloc(plen + 8)) == NULL)
			return (TALLY_ENOMEM);
		memcpy(tmp, path, plen);
		memcpy(tmp + plen, ".XXXXXX", 8);
		fd     = mkstemp(tmp); /* mode 0600 */
		target = tmp;
	} else {
		fd =
		    open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
		target = path;
	}
	if (fd < 0) {
		rv = errno == EEXIST ? TALLY_EEXIST : TALLY_EIO;
		if (cause != NULL)
			*cause = rv == TALLY_EEXIST
			    ? "key file already exists"
			    : "cannot create the key file";
		free(tmp);
		return (rv);
	}
	rv = write_all(fd, f, TLY_KEYFILE_BYTES);
	if (rv == 0 && fsync(fd) != 0)
		rv = TALLY_EIO;
	if (close(fd) != 0 && rv == 0)
		rv = TALLY_EIO;
	if (rv == 0 && tmp != NULL && rename(tmp, path) != 0)
		rv = TALLY_EIO;
	if (rv != 0) {
		(void) unlink(target);
		if (cause != NULL)
			*cause = "cannot write the key file";
	}
	free(tmp);
	return (rv);
}

int
tly_keyfile_load(unsigned char *f, const char *path, const char **cause)
{
	struct stat st;
	int         fd, rv = 0;
	size_t      got = 0;
	const char *why = NULL;

	if ((fd = open(path, O_RDONLY)) < 0) {
		if (cause != NULL)
			*cause = errno == ENOENT ? "no key file"
			                         : "cannot open the key file";
		return (errno == ENOENT ? TALLY_ENOENT : TALLY_EIO);
	}
	if (fstat(fd, &st) != 0) {
		rv  = TALLY_EIO;
		why = "cannot stat the key file";
	} else if (!S_ISREG(st.st_mode)) {
		rv  = TALLY_EFORMAT;
		why = "the key file is not a regular file";
	} else if (st.st_uid != geteuid()) {
		rv  = TALLY_EPERM;
		why = "the key file belongs to another user";
	} else if ((st.st_mode & 077) != 0) {
		rv  = TALLY_EPERM;
		why = "the key file is accessible by group or others "
		      "(chmod 600 it)";
	} else if (st.st_size != TLY_KEYFILE_BYTES) {
		rv  = TALLY_EFORMAT;
		why = "the key file has the wrong size";
	}
	while (rv == 0 && got < TLY_KEYFILE_BYTES) {
		ssize_t r = read(fd, f + got, TLY_KEYFILE_BYTES - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rv  = r == 0 ? TALLY_EFORMAT : TALLY_EIO;
			why = "cannot read the key file";
			break;
		}
		got += (size_t) r;
	}
	(void) close(fd);
	if (rv != 0)
		sodium_memzero(f, TLY_KEYFILE_BYTES);
	if (cause != NULL)
		*cause = why;
	return (rv);
}
