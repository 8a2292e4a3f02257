/*
 * ident_test.c -- identities, tally ids, fingerprints and safety codes.
 */
#include <ctype.h>
#include <stdlib.h>

#include <sodium.h>

#include "proto.h"
#include "tly_ident.h"
#include "tt.h"

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

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
test_ident(void **state)
{
	tly_ident    *a, *b;
	unsigned char seed[TLY_SEED_BYTES], sig[TLY_SIG_BYTES];
	unsigned char xpk[TLY_X25519_BYTES], xsk[TLY_X25519_BYTES];
	unsigned char xpk2[TLY_X25519_BYTES], q[TLY_X25519_BYTES];
	static const unsigned char msg[] = "hello";

	(void) state;
	TT_PASS(tly_ident_new(&a));
	TT_PASS(tly_ident_new(&b));
	TT_INTEQ(
	    memcmp(tly_ident_pk(a), tly_ident_pk(b), TLY_PK_BYTES) != 0, 1);
	/* The seed gives back the same identity. */
	tly_ident_seed(a, seed);
	tly_ident_free(b);
	TT_PASS(tly_ident_from_seed(&b, seed));
	sodium_memzero(seed, sizeof seed);
	TT_MEMEQ(tly_ident_pk(a), tly_ident_pk(b), TLY_PK_BYTES);
	/* Signatures verify under the public key only. */
	tly_ident_sign(a, sig, msg, sizeof msg);
	TT_PASS(tly_pk_verify(tly_ident_pk(a), sig, msg, sizeof msg));
	TT_FAIL(tly_pk_verify(tly_ident_pk(a), sig, msg, sizeof msg - 1),
	    TALLY_ECRYPTO);
	sig[5] ^= 1;
	TT_FAIL(tly_pk_verify(tly_ident_pk(a), sig, msg, sizeof msg),
	    TALLY_ECRYPTO);
	/* The X25519 pair matches, and anyone derives the public half from
	 * the tally id's key. */
	TT_PASS(tly_ident_x25519(a, xpk, xsk));
	TT_PASS(crypto_scalarmult_base(q, xsk) == 0 ? 0 : TALLY_ECRYPTO);
	TT_MEMEQ(q, xpk, sizeof q);
	TT_PASS(tly_pk_x25519(xpk2, tly_ident_pk(a)));
	TT_MEMEQ(xpk2, xpk, sizeof xpk);
	sodium_memzero(xsk, sizeof xsk);
	tly_ident_free(a);
	tly_ident_free(b);
	tly_ident_free(NULL);
}

static void
test_tallyid_roundtrip(void **state)
{
	char          id[TLY_TALLYID_LEN + 1];
	unsigned char pk[TLY_PK_BYTES];

	(void) state;
	for (int i = 0; i < 200; i++) {
		tly_ident *a;
		TT_PASS(tly_ident_new(&a));
		tly_tallyid_encode(id, tly_ident_pk(a));
		TT_INTEQ(strlen(id), TLY_TALLYID_LEN);
		TT_INTEQ(strncmp(id, "tly1", 4), 0);
		for (size_t k = 4; k < TLY_TALLYID_LEN; k++)
			TT_INTEQ(strchr(alphabet, id[k]) != NULL, 1);
		TT_PASS(tly_tallyid_parse(pk, id));
		TT_MEMEQ(pk, tly_ident_pk(a), TLY_PK_BYTES);
		tly_ident_free(a);
	}
}

/* Every single-character substitution and every adjacent transposition
 * in sample ids is caught by the checksum. */
static void
test_tallyid_typos(void **state)
{
	char          id[TLY_TALLYID_LEN + 1], t[TLY_TALLYID_LEN + 1];
	unsigned char pk[TLY_PK_BYTES];
	int           nsub = 0, ntrans = 0;

	(void) state;
	for (int fill = 1; fill <= 3; fill++) {
		tly_ident *a = ident(fill);
		tly_tallyid_encode(id, tly_ident_pk(a));
		tly_ident_free(a);
		for (size_t k = 4; k < TLY_TALLYID_LEN; k++) {
			for (const char *c = alphabet; *c; c++) {
				if (*c == id[k])
					continue;
				strcpy(t, id);
				t[k] = *c;
				if (tly_tallyid_parse(pk, t) != TALLY_ECORRUPT)
					fail_msg(
					    "%s (position %zu) not caught", t,
					    k);
				nsub++;
			}
			if (k + 1 < TLY_TALLYID_LEN && id[k] != id[k + 1]) {
				strcpy(t, id);
				t[k]     = id[k + 1];
				t[k + 1] = id[k];
				TT_FAIL(
				    tly_tallyid_parse(pk, t), TALLY_ECORRUPT);
				ntrans++;
			}
		}
	}
	TT_INTEQ(nsub, 3 * 58 * 31);
	TT_INTEQ(ntrans > 150, 1);
}

static void
test_tallyid_tolerance(void **state)
{
	tly_ident    *a = ident(1);
	char          id[TLY_TALLYID_LEN + 1], t[4 * TLY_TALLYID_LEN];
	unsigned char pk[TLY_PK_BYTES];
	size_t        o = 0;

	(void) state;
	tly_tallyid_encode(id, tly_ident_pk(a));
	/* Upper case. */
	for (size_t k = 0; k <= TLY_TALLYID_LEN; k++)
		t[k] = (char) toupper((unsigned char) id[k]);
	TT_PASS(tly_tallyid_parse(pk, t));
	TT_MEMEQ(pk, tly_ident_pk(a), TLY_PK_BYTES);
	/* Groups of four with dashes and spaces, a line break, mixed case,
	 * surrounding blanks. */
	t[o++] = ' ';
	for (size_t k = 0; k < TLY_TALLYID_LEN; k++) {
		if (k > 0 && k % 4 == 0)
			t[o++] = k % 8 == 0 ? '-' : ' ';
		if (k == 30) {
			t[o++] = '\r';
			t[o++] = '\n';
		}
		t[o++] =
		    k % 3 == 0 ? (char) toupper((unsigned char) id[k]) : id[k];
	}
	t[o++] = '\t';
	t[o]   = '\0';
	memset(pk, 0, sizeof pk);
	TT_PASS(tly_tallyid_parse(pk, t));
	TT_MEMEQ(pk, tly_ident_pk(a), TLY_PK_BYTES);
	tly_ident_free(a);
}

static void
test_tallyid_strict(void **state)
{
	tly_ident    *a = ident(2);
	char          id[TLY_TALLYID_LEN + 1], t[512];
	unsigned char pk[TLY_PK_BYTES], zero[TLY_PK_BYTES];

	(void) state;
	tly_tallyid_encode(id, tly_ident_pk(a));
	TT_FAIL(tly_tallyid_parse(pk, ""), TALLY_EFORMAT);
	TT_FAIL(tly_tallyid_parse(pk, "tly"), TALLY_EFORMAT);
	/* Other prefixes. */
	strcpy(t, id);
	t[3] = '2';
	TT_FAIL(tly_tallyid_parse(pk, t), TALLY_EFORMAT);
	TT_FAIL(tly_tallyid_parse(pk, id + 1), TALLY_EFORMAT);
	/* A character outside the alphabet (0, 1, 8, 9, punctuation). */
	for (const char *c = "0189_.+/=!"; *c; c++) {
		strcpy(t, id);
		t[20] = *c;
		TT_FAIL(tly_tallyid_parse(pk, t), TALLY_EFORMAT);
	}
	/* One character short, one too many. */
	strcpy(t, id);
	t[TLY_TALLYID_LEN - 1] = '\0';
	TT_FAIL(tly_tallyid_parse(pk, t), TALLY_EFORMAT);
	strcpy(t, id);
	strcat(t, "a");
	TT_FAIL(tly_tallyid_parse(pk, t), TALLY_EFORMAT);
	/* Two ids run together. */
	strcpy(t, id);
	strcat(t, id);
	TT_FAIL(tly_tallyid_parse(pk, t), TALLY_EFORMAT);
	/* Too much text altogether. */
	memset(t, ' ', sizeof t - 1);
	t[sizeof t - 1] = '\0';
	memcpy(t + 300, id, TLY_TALLYID_LEN);
	TT_FAIL(tly_tallyid_parse(pk, t), TALLY_ETOOBIG);
	/* A right checksum over a key that is not a usable point: the
	 * identity element (y = 1) has small order. */
	memset(zero, 0, sizeof zero);
	zero[0] = 1;
	tly_tallyid_encode(t, zero);
	TT_FAIL(tly_tallyid_parse(pk, t), TALLY_ECRYPTO);
	tly_ident_free(a);
}

static void
test_fingerprint(void **state)
{
	tly_ident *a = ident(1), *b = ident(2);
	char       fa[TLY_FPR_LEN + 1], fb[TLY_FPR_LEN + 1];

	(void) state;
	tly_fingerprint(fa, tly_ident_pk(a));
	tly_fingerprint(fb, tly_ident_pk(b));
	TT_INTEQ(strlen(fa), TLY_FPR_LEN);
	for (size_t k = 0; k < TLY_FPR_LEN; k++)
		TT_INTEQ(
		    isxdigit((unsigned char) fa[k]) && !isupper(fa[k]), 1);
	TT_INTEQ(strcmp(fa, fb) != 0, 1);
	tly_ident_free(a);
	tly_ident_free(b);
}

static void
test_safety_code(void **state)
{
	tly_ident *a = ident(1), *b = ident(2), *c = ident(3);
	char       ab[TLY_SAFETY_LEN + 1], ba[TLY_SAFETY_LEN + 1];
	char       ac[TLY_SAFETY_LEN + 1], bc[TLY_SAFETY_LEN + 1];

	(void) state;
	tly_safety_code(ab, tly_ident_pk(a), tly_ident_pk(b));
	tly_safety_code(ba, tly_ident_pk(b), tly_ident_pk(a));
	tly_safety_code(ac, tly_ident_pk(a), tly_ident_pk(c));
	tly_safety_code(bc, tly_ident_pk(b), tly_ident_pk(c));
	TT_STREQ(ab, ba);
	TT_INTEQ(
	    strcmp(ab, ac) != 0 && strcmp(ab, bc) != 0 && strcmp(ac, bc) != 0,
	    1);
	TT_INTEQ(strlen(ab), TLY_SAFETY_LEN);
	for (size_t k = 0; k < TLY_SAFETY_LEN; k++) {
		if (k % 6 == 5)
			TT_INTEQ(ab[k], ' ');
		else
			TT_INTEQ(isdigit((unsigned char) ab[k]) != 0, 1);
	}
	tly_ident_free(a);
	tly_ident_free(b);
	tly_ident_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ident),
		cmocka_unit_test(test_tallyid_roundtrip),
		cmocka_unit_test(test_tallyid_typos),
		cmocka_unit_test(test_tallyid_tolerance),
		cmocka_unit_test(test_tallyid_strict),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_safety_code),
	};

	if (tly_proto_init() != 0)
		return (1);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
