/*
 * bulk_test.c -- tally import json in bulk mode (triggers and indexes
 * dropped, derived data written set-based at the end) against the same
 * import with the triggers: the same dumps go into two replicas, one
 * each way, and everything derived must come out the same -- person_key,
 * person.last_contact, the ledger, the three FTS5 indexes (queries and
 * 'integrity-check'), the rows themselves, the export, the statistics
 * and the bad-record messages -- with sqlite_master's triggers and
 * indexes as they were.  Dry runs and failed imports in bulk mode leave
 * the schema untouched.
 *
 * The dumps come from a fixed-seed generator: ids in random order,
 * links to people later in the dump, pre-1970 times, accents, emails
 * in mixed case, and (on a second import) newer versions of rows
 * already there, so that the update triggers run too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_int.h"
#include "tally.h"
#include "tally_int.h"
#include "tt.h"

#define NOW "2025-11-22T00:00:00Z"

typedef struct fixture {
	char dir[64];
} fixture;

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

static unsigned
pick(unsigned n)
{
	return ((unsigned) (rng() % n));
}

static void
new_id(char *id)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < TALLY_ID_LEN; i++)
		id[i] = hex[pick(16)];
	id[TALLY_ID_LEN] = '\0';
}

static const char *const words[]   = { "talked", "about", "roles", "data",
	  "pipeline", "hiring", "café", "Zürich", "remote", "salary", "referral",
	  "python", "kubernetes", "offer", "naïve", "résumé" };
static const char *const names[]   = { "Ann Lee", "Bob Ray", "Chen Wu",
	  "Dana Cole", "Élodie Diaz", "Fatima Khan", "Gus Novak",
	  "Hana Okafor" };
static const char *const ikinds[]  = { "call", "coffee", "meeting", "email",
	 "event" };
static const char *const fkinds[]  = { "introduction", "reference", "referral",
	 "advice", "resume", "info", "other" };
static const char *const fstates[] = { "asked", "promised", "done",
	"declined" };

static void
note(FILE *f)
{
	unsigned n = pick(6);

	if (n == 0) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? " " : "", words[pick(16)]);
	fputc('"', f);
}

/* A time: mostly 2020-2025, now and then before 1970. */
static void
when(FILE *f, int old)
{
	fprintf(f, "\"%04u-%02u-%02uT%02u:%02u:00Z\"",
	    old ? 1960 + pick(9) : 2020 + pick(6), 1 + pick(12), 1 + pick(28),
	    pick(24), pick(60));
}

typedef struct dump {
	char (*people)[TALLY_ID_LEN + 1];
	unsigned npeople;
	char (*inter)[TALLY_ID_LEN + 1];
	unsigned ninter;
	char (*favors)[TALLY_ID_LEN + 1];
	unsigned nfavors;
	char     me[TALLY_ID_LEN + 1];
	char     intro[TALLY_ID_LEN + 1];
	int      again; /* the dump being written has the introduction */
} dump;

static void
person(FILE *f, const dump *d, const char *id, int is_me, const char *upd)
{
	unsigned ne = pick(3);

	fprintf(f, "{\"id\":\"%s\",\"name\":\"%s\",\"org\":%s,\"title\":null,",
	    id, is_me ? "Sam Seeker" : names[pick(8)],
	    pick(2) ? "\"Acme\"" : "null");
	if (pick(3) == 0)
		fprintf(f, "\"url\":\"%shttps://www.example.org/in/%.8s/\",",
		    pick(2) ? " " : "", id);
	else
		fputs("\"url\":null,", f);
	fputs("\"how_met\":null,", f);
	if (!is_me && d->npeople > 0 && pick(8) == 0)
		fprintf(
		    f, "\"referred_by\":\"%s\",", d->people[pick(d->npeople)]);
	else
		fputs("\"referred_by\":null,", f);
	fputs("\"note\":", f);
	note(f);
	fputs(",\"emails\":[", f);
	for (unsigned i = 0; i < ne; i++)
		fprintf(f, "%s\"%s%.6s@Example.ORG\"", i ? "," : "",
		    pick(2) ? "Mail." : "mail.", id + 4 * i);
	fprintf(f,
	    "],\"phones\":[],\"tags\":[\"t%u\"],\"closeness\":%u,"
	    "\"is_me\":%s,\"created\":\"2020-01-01T00:00:00Z\","
	    "\"updated\":\"%s\"}",
	    pick(5), pick(6), is_me ? "true" : "false", upd);
}

static void
interaction(FILE *f, const dump *d, const char *id, const char *upd)
{
	fprintf(f,
	    "{\"id\":\"%s\",\"person\":\"%s\",\"kind\":\"%s\",\"at\":", id,
	    d->people[pick(d->npeople)], ikinds[pick(5)]);
	when(f, pick(20) == 0);
	fputs(",\"minutes\":30,\"note\":", f);
	note(f);
	fputs(",\"follow_up\":null,\"follow_up_done\":null,\"thanked\":null,",
	    f);
	fprintf(f, "\"created\":\"2020-01-01T00:00:00Z\",\"updated\":\"%s\"}",
	    upd);
}

static void
favor(FILE *f, const dump *d, const char *id, const char *upd)
{
	const char *other = d->people[1 + pick(d->npeople - 1)];
	int         gave  = pick(2);
	int         st    = pick(4);

	fprintf(f, "{\"id\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",", id,
	    gave ? d->me : other, gave ? other : d->me);
	fprintf(f, "\"kind\":\"%s\",\"status\":\"%s\",\"weight\":%u,\"note\":",
	    fkinds[pick(7)], fstates[st], pick(6));
	note(f);
	if (d->again && pick(10) == 0)
		fprintf(f, ",\"intro\":\"%s\"", d->intro);
	else
		fputs(",\"intro\":null", f);
	fputs(",\"done_at\":", f);
	if (st == 2)
		when(f, 0);
	else
		fputs("null", f);
	fprintf(f,
	    ",\"thanked\":null,\"confirmed\":%s,"
	    "\"created\":\"2020-01-01T00:00:00Z\",\"updated\":\"%s\"}",
	    pick(4) == 0 ? "true" : "false", upd);
}

/* Writes a dump with np people (the first one me), ni interactions and
 * nf favors.  With again, it also holds newer versions of rows of the
 * dump d had before, a row given twice, and one introduction; with bad,
 * an interaction with a person who is not there. */
static void
write_dump(const char *path, dump *d, unsigned np, unsigned ni, unsigned nf,
    int again, int bad)
{
	FILE    *f  = fopen(path, "w");
	unsigned p0 = d->npeople, i0 = d->ninter, f0 = d->nfavors;

	assert_non_null(f);
	d->again  = again;
	d->people = realloc(d->people, (p0 + np) * sizeof *d->people);
	d->inter  = realloc(d->inter, (i0 + ni) * sizeof *d->inter);
	d->favors = realloc(d->favors, (f0 + nf) * sizeof *d->favors);
	assert_true(d->people && d->inter && d->favors);
	for (unsigned k = 0; k < np; k++)
		new_id(d->people[p0 + k]);
	if (d->me[0] == '\0') {
		snprintf(d->me, sizeof d->me, "%s", d->people[0]);
		new_id(d->intro);
	}
	fputs("{\"format\":\"tally\",\"version\":1,"
	      "\"exported\":\"" NOW "\",\n\"people\":[\n",
	    f);
	person(f, d, d->me, 1, again ? "2025-06-01T00:00:00Z" : NOW);
	d->npeople = p0 + np;
	for (unsigned k = p0 + (p0 == 0); k < p0 + np; k++) {
		fputs(",\n", f);
		person(f, d, d->people[k], 0, NOW);
	}
	for (unsigned k = 1; again && k < p0; k += 3) { /* newer */
		fputs(",\n", f);
		person(f, d, d->people[k], 0, "2025-12-01T00:00:00Z");
	}
	if (again) { /* twice, the second newer */
		fputs(",\n", f);
		person(f, d, d->people[p0 + 1], 0, "2025-12-02T00:00:00Z");
	}
	fputs("],\n\"interactions\":[\n", f);
	if (bad)
		fputs("{\"id\":\"00000000000000000000000000000001\","
		      "\"person\":\"00000000000000000000000000000009\","
		      "\"kind\":\"call\",\"at\":\"2024-01-01T00:00:00Z\","
		      "\"created\":\"" NOW "\",\"updated\":\"" NOW "\"},\n",
		    f);
	for (unsigned k = i0; k < i0 + ni; k++) {
		new_id(d->inter[k]);
		fputs(k > i0 ? ",\n" : "", f);
		interaction(f, d, d->inter[k], NOW);
	}
	for (unsigned k = 0; again && k < i0; k += 4) {
		fputs(",\n", f);
		interaction(f, d, d->inter[k], "2025-12-01T00:00:00Z");
	}
	d->ninter = i0 + ni;
	fputs("],\n\"favors\":[\n", f);
	for (unsigned k = f0; k < f0 + nf; k++) {
		new_id(d->favors[k]);
		fputs(k > f0 ? ",\n" : "", f);
		favor(f, d, d->favors[k], NOW);
	}
	for (unsigned k = 0; again && k < f0; k += 3) {
		fputs(",\n", f);
		favor(f, d, d->favors[k], "2025-12-01T00:00:00Z");
	}
	d->nfavors = f0 + nf;
	fputs("],\n\"introductions\":[", f);
	if (again)
		fprintf(f,
		    "\n{\"id\":\"%s\",\"by\":\"%s\",\"a\":\"%s\",\"b\":\"%s\","
		    "\"note\":null,\"status\":\"made\","
		    "\"created\":\"" NOW "\",\"updated\":\"" NOW "\"}",
		    d->intro, d->me, d->people[1], d->people[2]);
	fputs("],\n\"references\":[],\"reference_uses\":[]}\n", f);
	fclose(f);
}

static void
free_dump(dump *d)
{
	free(d->people);
	free(d->inter);
	free(d->favors);
	memset(d, 0, sizeof *d);
}

/* Bad-record messages, joined. */
typedef struct bads {
	char text[8192];
} bads;

static void
on_bad(void *arg, const char *msg)
{
	bads *b = arg;

	strncat(b->text, msg, sizeof b->text - strlen(b->text) - 2);
	strcat(b->text, "\n");
}

static int
import(tally *t, const char *path, int bulk, int flags, tally_import_stats *st,
    bads *b)
{
	tally_import_opts o;
	int               rv;

	memset(&o, 0, sizeof o);
	memset(b, 0, sizeof *b);
	o.flags       = flags;
	o.bad         = on_bad;
	o.arg         = b;
	tly_json_bulk = bulk;
	rv            = tally_import(t, st, "json", path, &o);
	tly_json_bulk = -1;
	return (rv);
}

/* The rows of a query as text (malloc'd), one line per row. */
static char *
rows(tally *t, const char *sql)
{
	sqlite3_stmt *st;
	char         *buf = NULL;
	size_t        len = 0;
	FILE         *f   = open_memstream(&buf, &len);
	int           rc;

	assert_non_null(f);
	if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(t->db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const unsigned char *v = sqlite3_column_text(st, i);
			fprintf(f, "%s%s", i ? "|" : "",
			    v != NULL ? (const char *) v : "NULL");
		}
		fputc('\n', f);
	}
	if (rc != SQLITE_DONE)
		fail_msg("%s: %s", sql, sqlite3_errmsg(t->db));
	sqlite3_finalize(st);
	fclose(f);
	return (buf);
}

/* Fails at the first line where a and b differ. */
static void
same_text(const char *what, const char *a, const char *b)
{
	size_t line = 1, i = 0;

	for (; a[i] != '\0' && a[i] == b[i]; i++)
		if (a[i] == '\n')
			line++;
	if (a[i] == b[i])
		return;
	while (i > 0 && a[i - 1] != '\n')
		i--;
	fail_msg("%s differ at line %zu:\n  bulk:     %.200s\n  triggers: "
	         "%.200s",
	    what, line, a + i, b + i);
}

static const char *const checks[] = {
	"SELECT person, key FROM person_key ORDER BY 1, 2",
	"SELECT id, last_contact FROM person ORDER BY id",
	"SELECT * FROM ledger ORDER BY person",
	"SELECT id, name, name_key, org, url, referred_by, note, emails,"
	" tags, closeness, is_me, created, updated FROM person ORDER BY id",
	"SELECT id, person, kind, at, note, updated FROM interaction"
	" ORDER BY id",
	"SELECT id, person, dir, kind, status, weight, note, intro, done_at,"
	" confirmed, updated FROM favor ORDER BY id",
	"SELECT 'p', w.v, p.id FROM person_fts f, person p,"
	" (SELECT 'cafe' v UNION SELECT 'zurich' UNION SELECT 'acme'"
	"  UNION SELECT 'example' UNION SELECT 't3' UNION SELECT 'sam') w"
	" WHERE person_fts MATCH w.v AND p.rid = f.rowid ORDER BY 2, 3",
	"SELECT 'i', w.v, i.id FROM interaction_fts f, interaction i,"
	" (SELECT 'cafe' v UNION SELECT 'naive' UNION SELECT 'kubernetes'"
	"  UNION SELECT 'resume') w"
	" WHERE interaction_fts MATCH w.v AND i.rid = f.rowid ORDER BY 2, 3",
	"SELECT 'f', w.v, v.id FROM favor_fts f, favor v,"
	" (SELECT 'zurich' v UNION SELECT 'offer' UNION SELECT 'python') w"
	" WHERE favor_fts MATCH w.v AND v.rid = f.rowid ORDER BY 2, 3",
};

static const char schema_sql[] =
    "SELECT type, name, tbl_name, sql FROM sqlite_master"
    " WHERE type IN ('trigger', 'index') ORDER BY type, name";

/* Everything derived, the rows and the export of t as one text. */
static char *
snapshot(tally *t)
{
	char  *buf = NULL, *s;
	size_t len = 0;
	FILE  *f   = open_memstream(&buf, &len);

	assert_non_null(f);
	for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
		s = rows(t, checks[i]);
		fprintf(f, "-- %zu\n%s", i, s);
		free(s);
	}
	s = rows(t, schema_sql);
	fprintf(f, "-- schema\n%s", s);
	free(s);
	fputs("-- export\n", f);
	TT_PASS(tally_export(t, "json", f));
	fclose(f);
	return (buf);
}

/* Checks that the derived data agree with the tables (the invariants
 * the triggers keep) and that SQLite finds nothing wrong. */
static void
sound(tally *t)
{
	static const char *const ok[] = {
		"INSERT INTO person_fts(person_fts) VALUES "
		"('integrity-check')",
		"INSERT INTO interaction_fts(interaction_fts)"
		" VALUES ('integrity-check')",
		"INSERT INTO favor_fts(favor_fts) VALUES ('integrity-check')",
	};
	char *s;

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (sqlite3_exec(t->db, ok[i], NULL, NULL, NULL) != SQLITE_OK)
			fail_msg("%s: %s", ok[i], sqlite3_errmsg(t->db));
	s = rows(t, "PRAGMA integrity_check");
	TT_STREQ(s, "ok\n");
	free(s);
	s = rows(t, "PRAGMA foreign_key_check");
	TT_STREQ(s, "");
	free(s);
	/* every person with favors has a ledger row, and no one else */
	s = rows(t,
	    "SELECT (SELECT count(DISTINCT person) FROM favor) ="
	    " (SELECT count(*) FROM ledger)");
	TT_STREQ(s, "1\n");
	free(s);
}

static tally *
open_replica(const fixture *fx, const char *name)
{
	char   path[128];
	tally *t;

	snprintf(path, sizeof path, "%s/%s", fx->dir, name);
	TT_PASS(tally_open(&t, path, TALLY_OPEN_CREATE));
	return (t);
}

static int
setup(void **state)
{
	fixture *fx = calloc(1, sizeof *fx);

	setenv("TALLY_NOW", NOW, 1);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/tally-bulk.XXXXXX");
	if (fx == NULL || mkdtemp(fx->dir) == NULL)
		return (-1);
	rng_state = 0x9E3779B97F4A7C15ull;
	*state    = fx;
	return (0);
}

static int
teardown(void **state)
{
	fixture *fx = *state;
	char     cmd[128];

	tly_json_bulk = -1;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
	free(fx);
	return (system(cmd) == 0 ? 0 : -1);
}

#define SAME_STATS(a, b)                            \
	do {                                        \
		TT_INTEQ((a).rows, (b).rows);       \
		TT_INTEQ((a).added, (b).added);     \
		TT_INTEQ((a).updated, (b).updated); \
		TT_INTEQ((a).same, (b).same);       \
		TT_INTEQ((a).skipped, (b).skipped); \
		TT_INTEQ((a).bad, (b).bad);         \
	} while (0)

/* Into a fresh replica: rows only added. */
static void
test_fresh(void **state)
{
	fixture           *fx = *state;
	dump               d;
	char               path[128];
	tally             *a = open_replica(fx, "a.db");
	tally             *b = open_replica(fx, "b.db");
	tally_import_stats sa, sb;
	bads               ba, bb;
	char              *before, *xa, *xb;

	memset(&d, 0, sizeof d);
	snprintf(path, sizeof path, "%s/fresh.json", fx->dir);
	write_dump(path, &d, 300, 2000, 500, 0, 0);
	before = rows(a, schema_sql);
	TT_PASS(import(a, path, 1, 0, &sa, &ba));
	TT_PASS(import(b, path, 0, 0, &sb, &bb));
	SAME_STATS(sa, sb);
	TT_INTEQ(sa.added, 300 + 2000 + 500);
	TT_STREQ(ba.text, bb.text);
	xa = rows(a, schema_sql);
	same_text("schema before and after", xa, before);
	sound(a);
	sound(b);
	free(xa);
	xa = snapshot(a);
	xb = snapshot(b);
	same_text("replicas", xa, xb);
	free(xa);
	free(xb);
	free(before);
	tally_close(a);
	tally_close(b);
	free_dump(&d);
}

/* Into replicas with data: newer versions of rows there, a row given
 * twice, links to rows later in the dump, the user's row updated. */
static void
test_merge(void **state)
{
	fixture           *fx = *state;
	dump               d;
	char               p1[128], p2[128];
	tally             *a = open_replica(fx, "a.db");
	tally             *b = open_replica(fx, "b.db");
	tally_import_stats sa, sb;
	bads               ba, bb;
	char              *before, *xa, *xb;

	memset(&d, 0, sizeof d);
	snprintf(p1, sizeof p1, "%s/first.json", fx->dir);
	snprintf(p2, sizeof p2, "%s/second.json", fx->dir);
	write_dump(p1, &d, 120, 700, 200, 0, 0);
	write_dump(p2, &d, 150, 900, 250, 1, 0);
	TT_PASS(import(a, p1, 0, 0, &sa, &ba));
	TT_PASS(import(b, p1, 0, 0, &sb, &bb));
	before = rows(a, schema_sql);
	TT_PASS(import(a, p2, 1, 0, &sa, &ba));
	TT_PASS(import(b, p2, 0, 0, &sb, &bb));
	SAME_STATS(sa, sb);
	if (sa.updated == 0)
		fail_msg("the second dump updated nothing");
	TT_STREQ(ba.text, bb.text);
	xa = rows(a, schema_sql);
	same_text("schema before and after", xa, before);
	free(xa);
	sound(a);
	sound(b);
	xa = snapshot(a);
	xb = snapshot(b);
	same_text("replicas", xa, xb);
	free(xa);
	free(xb);
	free(before);
	tally_close(a);
	tally_close(b);
	free_dump(&d);
}

/* Bad records: all or nothing, --skip-bad and --dry-run in bulk mode
 * say and store what they do with the triggers. */
static void
test_bad(void **state)
{
	fixture           *fx = *state;
	dump               d;
	char               p1[128], p2[128];
	tally             *a = open_replica(fx, "a.db");
	tally             *b = open_replica(fx, "b.db");
	tally_import_stats sa, sb;
	bads               ba, bb;
	char              *before, *xa, *xb;

	memset(&d, 0, sizeof d);
	snprintf(p1, sizeof p1, "%s/first.json", fx->dir);
	snprintf(p2, sizeof p2, "%s/bad.json", fx->dir);
	write_dump(p1, &d, 80, 300, 100, 0, 0);
	TT_PASS(import(a, p1, 0, 0, &sa, &ba));
	TT_PASS(import(b, p1, 0, 0, &sb, &bb));
	write_dump(p2, &d, 60, 200, 80, 1, 1);
	before = snapshot(a);
	TT_FAIL(import(a, p2, 1, 0, &sa, &ba), TALLY_EFORMAT);
	TT_FAIL(import(b, p2, 0, 0, &sb, &bb), TALLY_EFORMAT);
	SAME_STATS(sa, sb);
	TT_INTEQ(sa.bad, 1);
	TT_STREQ(ba.text, bb.text);
	xa = snapshot(a);
	same_text("replica after a failed import", xa, before);
	free(xa);
	TT_PASS(import(
	    a, p2, 1, TALLY_IMPORT_DRY_RUN | TALLY_IMPORT_SKIP_BAD, &sa, &ba));
	TT_PASS(import(
	    b, p2, 0, TALLY_IMPORT_DRY_RUN | TALLY_IMPORT_SKIP_BAD, &sb, &bb));
	SAME_STATS(sa, sb);
	TT_STREQ(ba.text, bb.text);
	xa = snapshot(a);
	same_text("replica after a dry run", xa, before);
	free(xa);
	TT_PASS(import(a, p2, 1, TALLY_IMPORT_SKIP_BAD, &sa, &ba));
	TT_PASS(import(b, p2, 0, TALLY_IMPORT_SKIP_BAD, &sb, &bb));
	SAME_STATS(sa, sb);
	TT_INTEQ(sa.bad, 1);
	TT_STREQ(ba.text, bb.text);
	if (strstr(ba.text, ": interaction: its person is neither") == NULL)
		fail_msg("unexpected report: %s", ba.text);
	sound(a);
	xa = snapshot(a);
	xb = snapshot(b);
	same_text("replicas", xa, xb);
	free(xa);
	free(xb);
	free(before);
	tally_close(a);
	tally_close(b);
	free_dump(&d);
}

/* A replica whose triggers are not the known ones is not imported in
 * bulk mode (forced, the import says so and changes nothing). */
static void
test_other_schema(void **state)
{
	fixture           *fx = *state;
	dump               d;
	char               path[128];
	tally             *a = open_replica(fx, "a.db");
	tally_import_stats sa;
	bads               ba;

	memset(&d, 0, sizeof d);
	snprintf(path, sizeof path, "%s/d.json", fx->dir);
	write_dump(path, &d, 20, 50, 10, 0, 0);
	if (sqlite3_exec(a->db,
	        "DROP TRIGGER interaction_ai;"
	        "CREATE TRIGGER interaction_ai AFTER INSERT ON interaction"
	        " BEGIN UPDATE person SET last_contact = max(last_contact,"
	        " new.at) WHERE id = new.person; END;",
	        NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s", sqlite3_errmsg(a->db));
	TT_FAIL(import(a, path, 1, 0, &sa, &ba), TALLY_EINTERNAL);
	TT_PASS(import(a, path, -1, 0, &sa, &ba));
	TT_INTEQ(sa.added, 20 + 50 + 10);
	sound(a);
	tally_close(a);
	free_dump(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_other_schema, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
