/*
 * keyfile_test.c -- sealing and opening the secret key file, and the
 * file-mode checks of tly_keyfile_load().
 *
 * Most tests use small Argon2id parameters (FAST) to stay quick; one uses
 * the INTERACTIVE default.  `keyfile_test --write-vectors` prints
 * proto/vectors/keyfile.txt (random salt and nonce: made once).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "proto.h"
#include "tly_buf.h"
#include "tly_enc.h"
#include "tly_ident.h"
#include "tly_keyfile.h"
#include "tt.h"

static const tly_kdf FAST   = { 1, 1024 * 1024 };
static const char    PASS[] = "correct horse battery staple";

static tly_ident *
ident(int fill)
{
	unsigned char seed[TLY_SEED_BYTES];
	tly_ident    *id;

	memset(seed, fill, sizeof seed);
	TT_PASS(tly_ident_from_seed(&id, seed));
	return (id);
}

static void
same_ident(const tly_ident *a, const tly_ident *b)
{
	unsigned char sa[TLY_SEED_BYTES], sb[TLY_SEED_BYTES];

	TT_MEMEQ(tly_ident_pk(a), tly_ident_pk(b), TLY_PK_BYTES);
	tly_ident_seed(a, sa);
	tly_ident_seed(b, sb);
	TT_MEMEQ(sa, sb, sizeof sa);
	sodium_memzero(sa, sizeof sa);
	sodium_memzero(sb, sizeof sb);
}

static void
test_passphrase(void **state)
{
	tly_ident    *a = ident(1), *b = NULL;
	unsigned char f[TLY_KEYFILE_BYTES], pk[TLY_PK_BYTES];
	int           has_pass = -1;

	(void) state;
	TT_PASS(tly_keyfile_seal(f, a, PASS, strlen(PASS), &FAST));
	TT_PASS(tly_keyfile_peek(pk, &has_pass, f, sizeof f));
	TT_INTEQ(has_pass, 1);
	TT_MEMEQ(pk, tly_ident_pk(a), TLY_PK_BYTES);
	/* The seed is not in the file in clear. */
	{
		unsigned char seed[TLY_SEED_BYTES];
		tly_ident_seed(a, seed);
		for (size_t o = 0; o + sizeof seed <= sizeof f; o++)
			TT_INTEQ(memcmp(f + o, seed, sizeof seed) != 0, 1);
		sodium_memzero(seed, sizeof seed);
	}
	TT_PASS(tly_keyfile_open(&b, f, sizeof f, PASS, strlen(PASS)));
	same_ident(a, b);
	tly_ident_free(b);
	/* Wrong, missing, empty, and one character short. */
	TT_FAIL(tly_keyfile_open(&b, f, sizeof f, "wrong", 5), TALLY_EPASS);
	TT_INTEQ(b == NULL, 1);
	TT_FAIL(tly_keyfile_open(&b, f, sizeof f, NULL, 0), TALLY_EPASS);
	TT_FAIL(tly_keyfile_open(&b, f, sizeof f, "", 0), TALLY_EPASS);
	TT_FAIL(tly_keyfile_open(&b, f, sizeof f, PASS, strlen(PASS) - 1),
	    TALLY_EPASS);
	/* An empty passphrase cannot seal. */
	TT_FAIL(tly_keyfile_seal(f, a, "", 0, &FAST), TALLY_EINVAL);
	tly_ident_free(a);
}

static void
test_interactive_default(void **state)
{
	tly_ident    *a = ident(2), *b = NULL;
	unsigned char f[TLY_KEYFILE_BYTES];

	(void) state;
	TT_PASS(tly_keyfile_seal(f, a, PASS, strlen(PASS), NULL));
	TT_INTEQ(tly_get_u32(f + 10), crypto_pwhash_OPSLIMIT_INTERACTIVE);
	TT_INTEQ(tly_get_u64(f + 14), crypto_pwhash_MEMLIMIT_INTERACTIVE);
	TT_PASS(tly_keyfile_open(&b, f, sizeof f, PASS, strlen(PASS)));
	same_ident(a, b);
	tly_ident_free(a);
	tly_ident_free(b);
}

static void
test_nopass(void **state)
{
	tly_ident    *a = ident(3), *b = NULL;
	unsigned char f[TLY_KEYFILE_BYTES];
	int           has_pass = -1;

	(void) state;
	TT_PASS(tly_keyfile_seal(f, a, NULL, 0, NULL));
	TT_INTEQ(f[9], TLY_KEYFILE_NOPASS);
	TT_PASS(tly_keyfile_peek(NULL, &has_pass, f, sizeof f));
	TT_INTEQ(has_pass, 0);
	TT_PASS(tly_keyfile_open(&b, f, sizeof f, NULL, 0));
	same_ident(a, b);
	tly_ident_free(b);
	/* A passphrase given anyway is ignored. */
	TT_PASS(tly_keyfile_open(&b, f, sizeof f, "x", 1));
	tly_ident_free(b);
	/* Damage is detected, not turned into another key. */
	f[100] ^= 1;
	TT_FAIL(tly_keyfile_open(&b, f, sizeof f, NULL, 0), TALLY_ECORRUPT);
	f[100] ^= 1;
	f[40] ^= 1; /* public key, in the associated data */
	TT_FAIL(tly_keyfile_open(&b, f, sizeof f, NULL, 0), TALLY_ECORRUPT);
	f[40] ^= 1;
	/* Nonzero Argon2id fields in a no-passphrase file. */
	f[21] = 1;
	TT_FAIL(tly_keyfile_open(&b, f, sizeof f, NULL, 0), TALLY_EFORMAT);
	tly_ident_free(a);
}

static void
test_format(void **state)
{
	tly_ident    *a = ident(1), *b = NULL;
	unsigned char f[TLY_KEYFILE_BYTES], g[TLY_KEYFILE_BYTES + 1];

	(void) state;
	TT_PASS(tly_keyfile_seal(f, a, PASS, strlen(PASS), &FAST));
	/* Truncated, empty, one byte too many. */
	for (size_t n = 0; n < sizeof f; n++)
		TT_FAIL(tly_keyfile_open(&b, f, n, PASS, strlen(PASS)),
		    TALLY_EFORMAT);
	memcpy(g, f, sizeof f);
	g[sizeof f] = 0;
	TT_FAIL(tly_keyfile_open(&b, g, sizeof g, PASS, strlen(PASS)),
	    TALLY_EFORMAT);
	/* Magic, version, protection. */
	memcpy(g, f, sizeof f);
	g[0] = 't';
	TT_FAIL(tly_keyfile_open(&b, g, sizeof f, PASS, strlen(PASS)),
	    TALLY_EFORMAT);
	memcpy(g, f, sizeof f);
	g[8] = 2;
	TT_FAIL(tly_keyfile_open(&b, g, sizeof f, PASS, strlen(PASS)),
	    TALLY_EUNSUPP);
	TT_FAIL(tly_keyfile_peek(NULL, NULL, g, sizeof f), TALLY_EUNSUPP);
	memcpy(g, f, sizeof f);
	g[9] = 2;
	TT_FAIL(tly_keyfile_open(&b, g, sizeof f, PASS, strlen(PASS)),
	    TALLY_EFORMAT);
	/* Argon2id parameters out of range: never run. */
	memcpy(g, f, sizeof f);
	g[10] = 0xff; /* opslimit */
	TT_FAIL(tly_keyfile_open(&b, g, sizeof f, PASS, strlen(PASS)),
	    TALLY_EFORMAT);
	memcpy(g, f, sizeof f);
	g[14] = 0x01; /* memlimit 2^56 */
	TT_FAIL(tly_keyfile_open(&b, g, sizeof f, PASS, strlen(PASS)),
	    TALLY_EFORMAT);
	memcpy(g, f, sizeof f);
	memset(g + 14, 0, 8);
	TT_FAIL(tly_keyfile_open(&b, g, sizeof f, PASS, strlen(PASS)),
	    TALLY_EFORMAT);
	/* A changed but legal parameter derives another key: the tag
	 * fails, reported as a wrong passphrase. */
	memcpy(g, f, sizeof f);
	g[13] = 2;
	TT_FAIL(tly_keyfile_open(&b, g, sizeof f, PASS, strlen(PASS)),
	    TALLY_EPASS);
	/* Any flipped byte of the sealed part or the header. */
	for (size_t i = 22; i < sizeof f; i += 7) {
		memcpy(g, f, sizeof f);
		g[i] ^= 0x20;
		TT_FAIL(tly_keyfile_open(&b, g, sizeof f, PASS, strlen(PASS)),
		    TALLY_EPASS);
	}
	TT_INTEQ(b == NULL, 1);
	/* Parameters out of range cannot seal either. */
	TT_FAIL(
	    tly_keyfile_seal(f, a, PASS, strlen(PASS), &(tly_kdf) { 100, 0 }),
	    TALLY_EINVAL);
	tly_ident_free(a);
}

/* -- Files ------------------------------------------------------------ */

static char dir[64];

static int
mkdir_setup(void **state)
{
	(void) state;
	strcpy(dir, "/tmp/keyfile_test.XXXXXX");
	return (mkdtemp(dir) == NULL ? -1 : 0);
}

static int
rmdir_teardown(void **state)
{
	char p[128];

	(void) state;
	snprintf(p, sizeof p, "%s/key", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/dir", dir);
	rmdir(p);
	return (rmdir(dir));
}

static void
test_files(void **state)
{
	tly_ident    *a = ident(1), *b = NULL;
	unsigned char f[TLY_KEYFILE_BYTES], g[TLY_KEYFILE_BYTES];
	char          path[128];
	const char   *cause = NULL;
	struct stat   st;

	(void) state;
	snprintf(path, sizeof path, "%s/key", dir);
	TT_FAIL(tly_keyfile_load(g, path, &cause), TALLY_ENOENT);
	TT_INTEQ(cause != NULL, 1);
	TT_PASS(tly_keyfile_seal(f, a, PASS, strlen(PASS), &FAST));
	TT_PASS(tly_keyfile_save(path, f, 0, &cause));
	TT_PASS(stat(path, &st));
	TT_INTEQ(st.st_mode & 0777, 0600);
	TT_PASS(tly_keyfile_load(g, path, &cause));
	TT_MEMEQ(g, f, sizeof f);
	TT_PASS(tly_keyfile_open(&b, g, sizeof g, PASS, strlen(PASS)));
	same_ident(a, b);
	tly_ident_free(b);
	/* No silent overwrite; an explicit replacement works. */
	TT_FAIL(tly_keyfile_save(path, f, 0, &cause), TALLY_EEXIST);
	TT_PASS(tly_keyfile_seal(f, a, NULL, 0, NULL));
	TT_PASS(tly_keyfile_save(path, f, 1, &cause));
	TT_PASS(stat(path, &st));
	TT_INTEQ(st.st_mode & 0777, 0600);
	TT_PASS(tly_keyfile_load(g, path, &cause));
	TT_MEMEQ(g, f, sizeof f);
	/* Readable or writable by group or others: refused. */
	TT_PASS(chmod(path, 0644));
	TT_FAIL(tly_keyfile_load(g, path, &cause), TALLY_EPERM);
	TT_INTEQ(strstr(cause, "group or others") != NULL, 1);
	TT_PASS(chmod(path, 0620));
	TT_FAIL(tly_keyfile_load(g, path, &cause), TALLY_EPERM);
	TT_PASS(chmod(path, 0400));
	TT_PASS(tly_keyfile_load(g, path, &cause));
	/* Wrong size on disk. */
	TT_PASS(chmod(path, 0600));
	TT_PASS(truncate(path, 100));
	TT_FAIL(tly_keyfile_load(g, path, &cause), TALLY_EFORMAT);
	/* A directory is not a key file. */
	snprintf(path, sizeof path, "%s/dir", dir);
	TT_PASS(mkdir(path, 0700));
	TT_FAIL(tly_keyfile_load(g, path, &cause), TALLY_EFORMAT);
	tly_ident_free(a);
}

/* -- The vector: a file made once must always open. ------------------- */

static char *
vector_path(void)
{
	const char *file = __FILE__;
	const char *cut  = strstr(file, "tests/unit/keyfile_test.c");
	char       *p;

	if (cut == NULL)
		return (strdup("proto/vectors/keyfile.txt"));
	p = malloc((size_t) (cut - file) + 32);
	memcpy(p, file, (size_t) (cut - file));
	strcpy(p + (cut - file), "proto/vectors/keyfile.txt");
	return (p);
}

/* Finds "key = hex" in text and decodes it into out (n bytes). */
static void
vector_hex(const char *text, const char *key, unsigned char *out, size_t n)
{
	char        want[64], hex[2 * TLY_KEYFILE_BYTES + 1];
	const char *p;
	size_t      k = 0;

	snprintf(want, sizeof want, "\n%s = ", key);
	if ((p = strstr(text, want)) == NULL)
		fail_msg("keyfile.txt: no %s", key);
	p += strlen(want);
	while (p[k] != '\n' && p[k] != '\0' && k < sizeof hex - 1) {
		hex[k] = p[k];
		k++;
	}
	hex[k] = '\0';
	TT_PASS(tly_hex_decode(out, n, hex));
}

static void
test_vector(void **state)
{
	char         *path = vector_path(), text[2048] = "\n";
	FILE         *fp = fopen(path, "r");
	size_t        n;
	unsigned char f[TLY_KEYFILE_BYTES], seed[TLY_SEED_BYTES];
	unsigned char got[TLY_SEED_BYTES];
	tly_ident    *b = NULL;

	(void) state;
	if (fp == NULL)
		fail_msg("cannot open %s", path);
	n           = fread(text + 1, 1, sizeof text - 2, fp);
	text[n + 1] = '\0';
	fclose(fp);
	free(path);
	vector_hex(text, "seed", seed, sizeof seed);
	vector_hex(text, "keyfile", f, sizeof f);
	TT_PASS(tly_keyfile_open(&b, f, sizeof f, PASS, strlen(PASS)));
	tly_ident_seed(b, got);
	TT_MEMEQ(got, seed, sizeof seed);
	tly_ident_free(b);
	TT_FAIL(tly_keyfile_open(&b, f, sizeof f,
	            "Correct horse battery "
	            "staple",
	            strlen(PASS)),
	    TALLY_EPASS);
	vector_hex(text, "keyfile.nopass", f, sizeof f);
	TT_PASS(tly_keyfile_open(&b, f, sizeof f, NULL, 0));
	tly_ident_seed(b, got);
	TT_MEMEQ(got, seed, sizeof seed);
	tly_ident_free(b);
}

static void
write_vector(void)
{
	tly_ident    *a = ident(1);
	unsigned char f[TLY_KEYFILE_BYTES], seed[TLY_SEED_BYTES];
	char          hex[2 * TLY_KEYFILE_BYTES + 1];

	printf("# A key file made once (proto/PROTOCOL.md, \"The key "
	       "file\"); every later\n# version must open it.  Checked by "
	       "tests/unit/keyfile_test.c.\n");
	printf("passphrase = %s\n", PASS);
	tly_ident_seed(a, seed);
	tly_hex_encode(hex, seed, sizeof seed);
	printf("seed = %s\n", hex);
	if (tly_keyfile_seal(f, a, PASS, strlen(PASS), &FAST) != 0)
		exit(1);
	tly_hex_encode(hex, f, sizeof f);
	printf("opslimit = %u\nmemlimit = %llu\n", (unsigned) FAST.ops,
	    (unsigned long long) FAST.mem);
	printf("keyfile = %s\n", hex);
	if (tly_keyfile_seal(f, a, NULL, 0, NULL) != 0)
		exit(1);
	tly_hex_encode(hex, f, sizeof f);
	printf("keyfile.nopass = %s\n", hex);
	tly_ident_free(a);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passphrase),
		cmocka_unit_test(test_interactive_default),
		cmocka_unit_test(test_nopass),
		cmocka_unit_test(test_format),
		cmocka_unit_test_setup_teardown(
		    test_files, mkdir_setup, rmdir_teardown),
		cmocka_unit_test(test_vector),
	};

	if (tly_proto_init() != 0)
		return (1);
	if (argc == 2 && strcmp(argv[1], "--write-vectors") == 0) {
		write_vector();
		return (0);
	}
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
