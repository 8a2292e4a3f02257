/*
 * bench_replica.c -- the replica at scale: import rate, database size and
 * the time of the everyday queries on a synthetic network.
 *
 * usage: bench_replica [--scale F] [--runs N] [--dir DIR] [--json FILE]
 *                      [--queries]
 * --queries times the queries only, on DIR/tally.db left by a run before.
 * (--json defaults to $TALLY_BENCH_JSON: where to leave the figures)
 *
 * It writes a synthetic network (100,000 people, 1,000,000 interactions,
 * 200,000 favors at scale 1) as a tally JSON dump, imports it into a
 * fresh replica through tally_import() -- the path `tally import json`
 * takes -- and then times tally_ledger(), tally_due(), tally_next(20)
 * and tally_search().  Alongside, in the same run, the raw limit: bare
 * SQLite inserts of the same rows into tables with no index, trigger or
 * full-text index, batched in one transaction with prepared statements.
 * Figures are medians over the runs.  The data are the same on every run
 * (a fixed-seed generator), so figures compare between versions.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench_json.h"
#include "tally.h"

#define NOW ((int64_t) 1763769600) /* 2025-11-22T00:00:00Z */
#define DAY ((int64_t) 86400)

static const char *const firsts[] = { "Ann", "Bob", "Chen", "Dana", "Eli",
	"Fatima", "Gus", "Hana", "Ivan", "Jo", "Kemal", "Lea", "Mo", "Nia",
	"Oscar", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Vik",
	"Wen", "Xavi", "Yara", "Zoe" };
static const char *const lasts[] = { "Lee", "Ray", "Wu", "Cole", "Diaz",
	"Khan", "Novak", "Okafor", "Patel", "Quist", "Rossi", "Silva",
	"Tanaka", "Umar", "Vogel", "Weber", "Xu", "Young", "Zhou", "Berg" };
static const char *const orgs[] = { "Acme", "Globex", "Initech", "Umbrella",
	"Hooli", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent" };
static const char *const titles[] = { "Data engineer", "Recruiter",
	"Analytics lead", "Product manager", "Hiring manager", "CTO",
	"Designer", "Data scientist" };
static const char *const words[] = { "talked", "about", "roles", "data",
	"pipeline", "hiring", "team", "remote", "salary", "referral", "python",
	"sql", "dashboard", "interview", "offer", "startup", "analytics",
	"coffee", "meetup", "conference", "portfolio", "resume", "intro",
	"manager", "follow", "growth", "cloud", "warehouse", "metrics",
	"kubernetes" };
static const char *const ikinds[] = { "call", "coffee", "meeting", "email",
	"event" };
static const char *const fkinds[] = { "introduction", "reference",
	"referral", "advice", "resume", "info", "other" };
static const int fweights[] = { 3, 3, 5, 1, 2, 1, 1 };

#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return (x * 0x2545F4914F6CDD1Dull);
}

static uint64_t
pick(uint64_t n)
{
	return (rng() % n);
}

static void
new_id(char *out)
{
	snprintf(out, 33, "%016" PRIx64 "%016" PRIx64, rng(), rng());
}

static void
iso(char *out, int64_t t)
{
	time_t    tt = (time_t) t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double) ts.tv_sec + (double) ts.tv_nsec / 1e9);
}

typedef struct sizes {
	size_t people, interactions, favors;
} sizes;

/* The rows, as the bare-SQLite limit inserts them. */
typedef struct gen {
	sizes s;
	char (*pid)[33]; /* person ids; [0] is me */
} gen;

static void
note(char *buf, size_t n)
{
	size_t used = 0;
	int    k    = 3 + (int) pick(4);

	buf[0] = '\0';
	for (int i = 0; i < k && used < n; i++)
		used += (size_t) snprintf(buf + used, n - used, "%s%s",
		    i ? " " : "", words[pick(N(words))]);
}

/* Writes the dump; the generator is reset so that the bare run sees the
 * same stream of values. */
static int
write_dump(const char *path, gen *g)
{
	FILE *f = fopen(path, "w");
	char  t1[21], t2[21], t3[21], id[33], text[128];

	if (f == NULL)
		return (-1);
	rng_state = 0x9E3779B97F4A7C15ull;
	iso(t1, NOW);
	fprintf(f, "{\"format\":\"tally\",\"version\":1,\"exported\":\"%s\","
	           "\n\"people\":[\n",
	    t1);
	for (size_t i = 0; i <= g->s.people; i++) {
		const char *fn = firsts[pick(N(firsts))];
		const char *ln = lasts[pick(N(lasts))];
		const char *org = orgs[pick(N(orgs))];
		int         close = (int) pick(12) - 6; /* half have none */
		new_id(g->pid[i]);
		iso(t1, NOW - (int64_t) pick(1000) * DAY);
		fprintf(f,
		    "%s{\"id\":\"%s\",\"name\":\"%s %s %zu\",\"org\":\"%s\","
		    "\"title\":\"%s\",\"emails\":[",
		    i ? ",\n" : "", g->pid[i], i ? fn : "Me", ln, i, org,
		    titles[pick(N(titles))]);
		if (pick(10) < 4)
			fprintf(f, "\"%s.%s%zu@%s.example\"", fn, ln, i, org);
		fprintf(f, "],\"phones\":[],\"tags\":[%s],\"closeness\":",
		    pick(5) == 0 ? "\"data\"" : "");
		if (close >= 0)
			fprintf(f, "%d", close);
		else
			fputs("null", f);
		fprintf(f, ",\"is_me\":%s,\"created\":\"%s\",\"updated\":"
		           "\"%s\"}",
		    i == 0 ? "true" : "false", t1, t1);
	}
	fputs("],\n\"interactions\":[\n", f);
	for (size_t i = 0; i < g->s.interactions; i++) {
		int64_t at = NOW - (int64_t) pick(3 * 365 * DAY);
		int     fu = pick(100) < 3;
		new_id(id);
		note(text, sizeof text);
		iso(t1, at);
		iso(t2, at + 7 * DAY);
		iso(t3, at + 8 * DAY);
		fprintf(f,
		    "%s{\"id\":\"%s\",\"person\":\"%s\",\"kind\":\"%s\","
		    "\"at\":\"%s\",\"minutes\":%d,\"note\":\"%s\","
		    "\"follow_up\":%s%s%s,\"follow_up_done\":%s%s%s,"
		    "\"thanked\":\"%s\",\"created\":\"%s\",\"updated\":\"%s\"}",
		    i ? ",\n" : "", id, g->pid[1 + pick(g->s.people)],
		    ikinds[pick(N(ikinds))], t1, 5 + (int) pick(90), text,
		    fu ? "\"" : "", fu ? t2 : "null", fu ? "\"" : "",
		    fu && at < NOW - 30 * DAY ? "\"" : "",
		    fu && at < NOW - 30 * DAY ? t3 : "null",
		    fu && at < NOW - 30 * DAY ? "\"" : "", t1, t1, t1);
	}
	fputs("],\n\"favors\":[\n", f);
	for (size_t i = 0; i < g->s.favors; i++) {
		int         k     = (int) pick(N(fkinds));
		int         gave  = (int) pick(2);
		const char *other = g->pid[1 + pick(g->s.people)];
		int64_t     at    = NOW - (int64_t) pick(3 * 365 * DAY);
		int         r     = (int) pick(100);
		/* As a real ledger ages: older favors were done (and
		 * thanked) or declined; open asks, promises and unthanked
		 * help are recent. */
		int         recent = at > NOW - 60 * DAY;
		const char *st     = recent ? (r < 15 ? "asked"
		                               : r < 30 ? "promised"
		                               : r < 95 ? "done"
		                                        : "declined")
		                            : (r < 90 ? "done" : "declined");
		int         done   = strcmp(st, "done") == 0;
		int         thank  = done && (!recent || pick(10) < 7);
		new_id(id);
		note(text, sizeof text);
		iso(t1, at);
		fprintf(f,
		    "%s{\"id\":\"%s\",\"from\":\"%s\",\"to\":\"%s\","
		    "\"kind\":\"%s\",\"status\":\"%s\",\"weight\":%d,"
		    "\"note\":\"%s\",\"done_at\":%s%s%s,\"thanked\":%s%s%s,"
		    "\"confirmed\":false,\"created\":\"%s\",\"updated\":\"%s\"}",
		    i ? ",\n" : "", id, gave ? g->pid[0] : other,
		    gave ? other : g->pid[0], fkinds[k], st, fweights[k], text,
		    done ? "\"" : "", done ? t1 : "null", done ? "\"" : "",
		    thank ? "\"" : "", thank ? t1 : "null", thank ? "\"" : "",
		    t1, t1);
	}
	fputs("],\n\"introductions\":[],\"references\":[],"
	      "\"reference_uses\":[]}\n",
	    f);
	return (fclose(f) == 0 ? 0 : -1);
}

/* The raw limit: the same number of rows, of the same widths, into bare
 * tables in one transaction. */
static double
bare_inserts(const char *path, const gen *g)
{
	sqlite3      *db;
	sqlite3_stmt *p, *i, *f;
	char          id[33], text[128];
	double        t0;

	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return (-1);
	sqlite3_exec(db,
	    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    "CREATE TABLE person(rid INTEGER PRIMARY KEY, id TEXT, name TEXT,"
	    " org TEXT, title TEXT, emails TEXT, closeness INT, created INT,"
	    " updated INT);"
	    "CREATE TABLE interaction(rid INTEGER PRIMARY KEY, id TEXT,"
	    " person TEXT, kind TEXT, at INT, minutes INT, note TEXT,"
	    " follow_up INT, created INT, updated INT);"
	    "CREATE TABLE favor(rid INTEGER PRIMARY KEY, id TEXT, person TEXT,"
	    " dir INT, kind TEXT, status TEXT, weight INT, note TEXT,"
	    " done_at INT, created INT, updated INT);",
	    NULL, NULL, NULL);
	sqlite3_prepare_v2(db,
	    "INSERT INTO person VALUES (NULL,?1,?2,?3,?4,'[]',?5,?6,?6)", -1, &p,
	    NULL);
	sqlite3_prepare_v2(db,
	    "INSERT INTO interaction VALUES (NULL,?1,?2,?3,?4,?5,?6,NULL,?4,?4)",
	    -1, &i, NULL);
	sqlite3_prepare_v2(db,
	    "INSERT INTO favor VALUES (NULL,?1,?2,?3,?4,'done',?5,?6,?7,?7,?7)",
	    -1, &f, NULL);
	rng_state = 0x9E3779B97F4A7C15ull;
	t0        = now_s();
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (size_t k = 0; k <= g->s.people; k++) {
		sqlite3_bind_text(p, 1, g->pid[k], 32, SQLITE_STATIC);
		sqlite3_bind_text(p, 2, firsts[pick(N(firsts))], -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(p, 3, orgs[pick(N(orgs))], -1, SQLITE_STATIC);
		sqlite3_bind_text(p, 4, titles[pick(N(titles))], -1,
		    SQLITE_STATIC);
		sqlite3_bind_int(p, 5, (int) pick(6));
		sqlite3_bind_int64(p, 6, NOW);
		sqlite3_step(p);
		sqlite3_reset(p);
	}
	for (size_t k = 0; k < g->s.interactions; k++) {
		new_id(id);
		note(text, sizeof text);
		sqlite3_bind_text(i, 1, id, 32, SQLITE_STATIC);
		sqlite3_bind_text(i, 2, g->pid[1 + pick(g->s.people)], 32,
		    SQLITE_STATIC);
		sqlite3_bind_text(i, 3, ikinds[pick(N(ikinds))], -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(i, 4, NOW - (int64_t) pick(3 * 365 * DAY));
		sqlite3_bind_int(i, 5, 5 + (int) pick(90));
		sqlite3_bind_text(i, 6, text, -1, SQLITE_STATIC);
		sqlite3_step(i);
		sqlite3_reset(i);
	}
	for (size_t k = 0; k < g->s.favors; k++) {
		int kind = (int) pick(N(fkinds));
		new_id(id);
		note(text, sizeof text);
		sqlite3_bind_text(f, 1, id, 32, SQLITE_STATIC);
		sqlite3_bind_text(f, 2, g->pid[1 + pick(g->s.people)], 32,
		    SQLITE_STATIC);
		sqlite3_bind_int(f, 3, pick(2) ? 1 : -1);
		sqlite3_bind_text(f, 4, fkinds[kind], -1, SQLITE_STATIC);
		sqlite3_bind_int(f, 5, fweights[kind]);
		sqlite3_bind_text(f, 6, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(f, 7, NOW - (int64_t) pick(3 * 365 * DAY));
		sqlite3_step(f);
		sqlite3_reset(f);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	t0 = now_s() - t0;
	sqlite3_finalize(p);
	sqlite3_finalize(i);
	sqlite3_finalize(f);
	sqlite3_close(db);
	unlink(path);
	return (t0);
}

static int
count_row(void *arg, const void *row)
{
	(void) row;
	(*(size_t *) arg)++;
	return (0);
}

static int
ledger_cb(void *arg, const tally_ledger_row *r)
{
	return (count_row(arg, r));
}

static int
due_cb(void *arg, const tally_due_item *d)
{
	return (count_row(arg, d));
}

static int
next_cb(void *arg, const tally_next_item *n)
{
	return (count_row(arg, n));
}

static int
hit_cb(void *arg, const tally_hit *h)
{
	return (count_row(arg, h));
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return (x < y ? -1 : x > y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t) n, sizeof *v, cmp_double);
	return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

typedef struct figure {
	const char *name;
	const char *unit;
	double      value;
	const char *goal;
	double      limit; /* matching raw limit, 0 if none */
} figure;

static long long
file_size(const char *path)
{
	struct stat sb;

	return (stat(path, &sb) == 0 ? (long long) sb.st_size : 0);
}

int
main(int argc, char **argv)
{
	double      scale = 1.0, t0;
	int         runs  = 3, qruns = 9;
	const char *dir   = NULL, *jsonout = getenv("TALLY_BENCH_JSON");
	char        tmpl[] = "/tmp/tally-bench.XXXXXX", dump[256], db[256];
	char        bare[256], rm[300];
	gen         g;
	figure      fig[8];
	int         nf = 0, rv, queries = 0;
	size_t      rows, hits = 0;
	double      imp[16], raw[16], q[4][64];
	tally      *t;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc)
			scale = atof(argv[++i]);
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
			jsonout = argv[++i];
		else if (strcmp(argv[i], "--queries") == 0)
			queries = 1;
		else {
			fprintf(stderr, "usage: bench_replica [--scale F] "
			                "[--runs N] [--dir DIR] [--json FILE] "
			                "[--queries]\n");
			return (2);
		}
	}
	if (scale <= 0 || scale > 10 || runs < 1 || runs > 16) {
		fprintf(stderr, "bench_replica: --scale 0..10, --runs 1..16\n");
		return (2);
	}
	if (queries && dir == NULL) {
		fprintf(stderr, "bench_replica: --queries needs --dir\n");
		return (2);
	}
	if (dir == NULL && (dir = mkdtemp(tmpl)) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	g.s.people       = (size_t) (100000 * scale);
	g.s.interactions = (size_t) (1000000 * scale);
	g.s.favors       = (size_t) (200000 * scale);
	rows = g.s.people + 1 + g.s.interactions + g.s.favors;
	if ((g.pid = calloc(g.s.people + 1, sizeof *g.pid)) == NULL)
		return (1);
	snprintf(dump, sizeof dump, "%s/network.json", dir);
	snprintf(db, sizeof db, "%s/tally.db", dir);
	snprintf(bare, sizeof bare, "%s/bare.db", dir);
	printf("bench_replica: %zu people, %zu interactions, %zu favors "
	       "(%zu rows), %d runs\n",
	    g.s.people, g.s.interactions, g.s.favors, rows, runs);
	fflush(stdout);
	if (queries)
		goto query;
	if (write_dump(dump, &g) != 0) {
		perror(dump);
		return (1);
	}
	printf("dump: %lld bytes\n", file_size(dump));

	for (int r = 0; r < runs; r++) {
		tally_import_stats st;
		char               wal[300];
		snprintf(wal, sizeof wal, "%s-wal", db);
		unlink(db);
		unlink(wal);
		if ((rv = tally_open(&t, db, TALLY_OPEN_CREATE)) != 0) {
			fprintf(stderr, "open: %s\n", tally_errmsg(t));
			return (1);
		}
		t0 = now_s();
		rv = tally_import(t, &st, "json", dump, NULL);
		imp[r] = now_s() - t0;
		if (rv != 0) {
			fprintf(stderr, "import: %s\n", tally_errmsg(t));
			return (1);
		}
		tally_close(t);
		raw[r] = bare_inserts(bare, &g);
	}
	fig[nf++] = (figure) { "import json (tally_import)", "rows/s",
		rows / median(imp, runs), ">= 150000", rows / median(raw, runs) };
	fig[nf++] = (figure) { "database size", "MB",
		(double) file_size(db) / 1e6, "", 0 };

query:
	if ((rv = tally_open(&t, db, 0)) != 0) {
		fprintf(stderr, "open: %s\n", tally_errmsg(t));
		return (1);
	}
	setenv("TALLY_NOW", "1763769600", 1);
	for (int r = 0; r < qruns; r++) {
		size_t n = 0;
		t0       = now_s();
		rv |= tally_ledger(t, NULL, ledger_cb, &n);
		q[0][r] = (now_s() - t0) * 1e3;
		t0      = now_s();
		rv |= tally_due(t, DAY, due_cb, &n);
		q[1][r] = (now_s() - t0) * 1e3;
		t0      = now_s();
		rv |= tally_next(t, 20, next_cb, &n);
		q[2][r] = (now_s() - t0) * 1e3;
		hits    = 0;
		t0      = now_s();
		rv |= tally_search(t, "kubernetes", 50, hit_cb, &hits);
		q[3][r] = (now_s() - t0) * 1e3;
	}
	if (rv != 0) {
		fprintf(stderr, "query: %s\n", tally_errmsg(t));
		return (1);
	}
	tally_close(t);
	fig[nf++] = (figure) { "ledger (all people)", "ms", median(q[0], qruns),
		"< 50", 0 };
	fig[nf++] = (figure) { "due", "ms", median(q[1], qruns), "< 50", 0 };
	fig[nf++] = (figure) { "next -n 20", "ms", median(q[2], qruns), "< 50",
		0 };
	fig[nf++] = (figure) { "search (50 hits)", "ms", median(q[3], qruns),
		"< 50", 0 };

	printf("\n%-28s %12s %-8s %-10s %14s %7s\n", "figure", "median",
	    "unit", "goal", "raw limit", "ratio");
	for (int i = 0; i < nf; i++) {
		printf("%-28s %12.1f %-8s %-10s", fig[i].name, fig[i].value,
		    fig[i].unit, fig[i].goal);
		if (fig[i].limit > 0)
			printf(" %14.0f %6.2fx", fig[i].limit,
			    fig[i].limit / fig[i].value);
		printf("\n");
	}
	printf("(raw limit: bare SQLite inserts of the same rows, one "
	       "transaction, no index/trigger/FTS; ratio = limit / figure)\n");
	for (int i = 0; i < nf; i++)
		bench_fig(fig[i].name, fig[i].unit, fig[i].value,
		    fig[i].limit > 0 ? "bare SQLite batched inserts" : NULL,
		    fig[i].limit);
	if (jsonout != NULL && bench_json_write("replica", jsonout) != 0)
		return (1);
	if (dir == tmpl) {
		snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
		if (system(rm) != 0)
			fprintf(stderr, "bench_replica: could not remove %s\n",
			    dir);
	}
	free(g.pid);
	return (0);
}
