/*
 * bench_record.c -- how fast records are signed and verified, against the
 * bare Ed25519 calls on the same bytes.
 *
 *   bench_record [RUNS [OPS]]      (default 7 runs of 2000 operations)
 *
 * Record sign: tly_signed_init() (encode, check, hash the id) and
 * tly_signed_sign() from a tly_record.  Record verify: tly_signed_decode()
 * of the binary container and tly_signed_verify().  Bare: one
 * crypto_sign_detached() or crypto_sign_verify_detached() per signature
 * over the same signed bytes.  Each rate is the median of RUNS runs, the
 * record and bare runs interleaved; "cost" is bare rate / record rate (the
 * budget is 1.5).  With $TALLY_BENCH_JSON set, the figures also go to that
 * file (tests/bench/run.sh).  Timings are not tests: ctest never runs this.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "bench_json.h"
#include "proto.h"
#include "tly_ident.h"
#include "tly_record.h"

#define MAX_RUNS 101
#define BUDGET 1.5

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double) ts.tv_sec + (double) ts.tv_nsec / 1e9);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return ((x > y) - (x < y));
}

static double
median(double *v, int n)
{
	qsort(v, (size_t) n, sizeof *v, cmp_double);
	return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

static void
die(const char *what)
{
	fprintf(stderr, "bench_record: %s failed\n", what);
	exit(1);
}

/* The benchmark's fixtures. */
static tly_ident    *giver, *receiver;
static unsigned char sk[crypto_sign_SECRETKEYBYTES], pk[TLY_PK_BYTES];
static tly_record    rec;
static unsigned char msg[16 + TLY_REC_MAX]; /* domain || canonical */
static size_t        msglen;
static unsigned char sig[TLY_SIG_BYTES];
static tly_buf       one, two; /* containers with 1 and 2 signatures */
static volatile int  sink;

static void
setup(void)
{
	unsigned char seed[TLY_SEED_BYTES];
	tly_signed    s;

	memset(seed, 1, sizeof seed);
	if (tly_ident_from_seed(&giver, seed) != 0)
		die("tly_ident_from_seed");
	crypto_sign_seed_keypair(pk, sk, seed);
	memset(seed, 2, sizeof seed);
	if (tly_ident_from_seed(&receiver, seed) != 0)
		die("tly_ident_from_seed");
	if (tly_record_init(&rec, TLY_REC_FAVOR, 1773500000) != 0)
		die("tly_record_init");
	memcpy(rec.parties[0].pk, tly_ident_pk(giver), TLY_PK_BYTES);
	memcpy(rec.parties[1].pk, tly_ident_pk(receiver), TLY_PK_BYTES);
	rec.favor_kind = TLY_FAVOR_RESUME;
	if (tly_date_parse(&rec.date, "2026-03-14") != 0)
		die("tly_date_parse");
	strcpy(rec.text,
	    "Reviewed my r\xc3\xa9sum\xc3\xa9 line by line and "
	    "suggested three changes to the summary.");
	if (tly_signed_init(&s, &rec, NULL) != 0 ||
	    tly_signed_sign(&s, giver, NULL) != 0 ||
	    tly_signed_encode(&one, &s) != 0 ||
	    tly_signed_sign(&s, receiver, NULL) != 0 ||
	    tly_signed_encode(&two, &s) != 0)
		die("signing the fixture");
	memcpy(msg, TLY_REC_DOMAIN, 16);
	memcpy(msg + 16, s.canon, s.canon_len);
	msglen = 16 + s.canon_len;
	memcpy(sig, s.sig[0], sizeof sig);
}

static void
record_sign(void)
{
	tly_signed s;

	if (tly_signed_init(&s, &rec, NULL) != 0 ||
	    tly_signed_sign(&s, giver, NULL) != 0)
		die("record sign");
	sink += s.sig[0][0];
}

static void
bare_sign(void)
{
	unsigned char out[TLY_SIG_BYTES];

	crypto_sign_detached(out, NULL, msg, msglen, sk);
	sink += out[0];
}

static void
verify_buf(const tly_buf *b, int want)
{
	tly_signed s;
	tly_verify v;

	if (tly_signed_decode(&s, b->p, b->len, NULL) != 0 ||
	    tly_signed_verify(&s, &v, NULL) != 0 || v.nvalid != want)
		die("record verify");
	sink += v.nvalid;
}

static void
record_verify1(void)
{
	verify_buf(&one, 1);
}

static void
record_verify2(void)
{
	verify_buf(&two, 2);
}

static void
bare_verify1(void)
{
	if (crypto_sign_verify_detached(sig, msg, msglen, pk) != 0)
		die("bare verify");
	sink++;
}

static void
bare_verify2(void)
{
	bare_verify1();
	bare_verify1();
}

/* Operations per second of fn over ops calls. */
static double
rate(void (*fn)(void), int ops)
{
	double t0 = now(), dt;

	for (int i = 0; i < ops; i++)
		fn();
	dt = now() - t0;
	return (dt > 0 ? ops / dt : 0);
}

typedef struct figure {
	const char *name;
	double      record, bare;
} figure;

static figure figs[3];
static int    nfigs;

static int
row(const char *name, void (*rec_fn)(void), void (*bare_fn)(void), int runs,
    int ops)
{
	double r[MAX_RUNS], b[MAX_RUNS], mr, mb, cost;

	rec_fn(); /* warm up */
	bare_fn();
	for (int i = 0; i < runs; i++) {
		r[i] = rate(rec_fn, ops);
		b[i] = rate(bare_fn, ops);
	}
	mr   = median(r, runs);
	mb   = median(b, runs);
	cost = mr > 0 ? mb / mr : 0;
	printf("%-22s %12.0f %12.0f %8.3f   %s\n", name, mr, mb, cost,
	    cost < BUDGET ? "ok" : "OVER BUDGET");
	figs[nfigs++] = (figure) { name, mr, mb };
	return (cost < BUDGET);
}

/* The figures as JSON (bench_json.h): the limit is the bare libsodium
 * rate on the same bytes. */
static int
write_json(const char *path)
{
	static const char *const bare[] = { "bare crypto_sign_detached",
		"bare crypto_sign_verify_detached",
		"bare crypto_sign_verify_detached x2" };

	for (int i = 0; i < nfigs; i++)
		bench_fig(figs[i].name, "ops/s", figs[i].record,
		    bare[i < 3 ? i : 2], figs[i].bare);
	return (bench_json_write("record", path) != 0);
}

int
main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	int ops  = argc > 2 ? atoi(argv[2]) : 2000;
	int ok   = 1;

	if (runs < 1 || runs > MAX_RUNS || ops < 1) {
		fprintf(stderr, "usage: bench_record [RUNS [OPS]]\n");
		return (2);
	}
	if (tly_proto_init() != 0)
		die("tly_proto_init");
	setup();
	printf("record signing and verification: median of %d runs of %d "
	       "operations\n",
	    runs, ops);
	printf("signed bytes: %zu (domain + canonical favor); container "
	       "with 2 signatures: %zu\n\n",
	    msglen, two.len);
	printf("%-22s %12s %12s %8s\n", "operation", "record/s", "bare/s",
	    "cost");
	ok &= row("sign (1 party)", record_sign, bare_sign, runs, ops);
	ok &= row(
	    "verify (1 signature)", record_verify1, bare_verify1, runs, ops);
	ok &= row("verify (2 signatures)", record_verify2, bare_verify2, runs,
	    ops / 2 > 0 ? ops / 2 : 1);
	printf("\ncost = bare rate / record rate; budget %.1f: %s\n", BUDGET,
	    ok ? "within" : "EXCEEDED");
	if (getenv("TALLY_BENCH_JSON") != NULL &&
	    write_json(getenv("TALLY_BENCH_JSON")) != 0)
		return (1);
	tly_buf_free(&one);
	tly_buf_free(&two);
	tly_ident_free(giver);
	tly_ident_free(receiver);
	sodium_memzero(sk, sizeof sk);
	return (0);
}
