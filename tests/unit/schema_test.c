/*
 * schema_test.c -- migrations: a replica made by an older schema is
 * brought up to date with its data intact; a newer or damaged file is
 * refused and left as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tally_int.h"
#include "tt.h"

static char dir[64];
static char path[128];

static int
setup(void **state)
{
	(void) state;
	snprintf(dir, sizeof dir, "/tmp/tally-schema.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return (-1);
	snprintf(path, sizeof path, "%s/tally.db", dir);
	return (0);
}

static int
teardown(void **state)
{
	char cmd[160];

	(void) state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return (system(cmd) == 0 ? 0 : -1);
}

static void
exec_sql(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: expected success, got %s", sql, err);
}

static int
count(tally *t, const char *sql)
{
	sqlite3_stmt *st;
	int           n = -1;

	if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(t->db));
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return (n);
}

/* Runs sql on t's connection and checks that a CHECK constraint refuses
 * it (the constraints keep their meaning through step 7). */
static void
check_refuses(tally *t, const char *sql)
{
	int rc = sqlite3_exec(t->db, sql, NULL, NULL, NULL);

	if (sqlite3_extended_errcode(t->db) != SQLITE_CONSTRAINT_CHECK)
		fail_msg("%s: expected a CHECK constraint failure, got %d (%s)",
		    sql, rc, sqlite3_errmsg(t->db));
}

/* A replica as schema version 1 wrote it, with a little data. */
static void
make_v1(void)
{
	sqlite3 *db;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		fail_msg("cannot create %s", path);
	exec_sql(db, tly_schema_steps[0]);
	exec_sql(db,
	    "PRAGMA user_version=1;"
	    "INSERT INTO person(id, name, name_key, is_me, created, updated)"
	    " VALUES ('00000000000000000000000000000001', 'Sam', 'sam', 1,"
	    " 1000, 1000);"
	    "INSERT INTO person(id, name, name_key, emails, url, note,"
	    " created, updated) VALUES ('00000000000000000000000000000002',"
	    " 'Ann Lee', 'ann lee', '[\"Ann@Acme.example\"]',"
	    " 'https://www.linkedin.com/in/annlee/', 'met at the fair', 1000,"
	    " 1000);"
	    "INSERT INTO interaction(id, person, kind, at, note, created,"
	    " updated) VALUES ('00000000000000000000000000000003',"
	    " '00000000000000000000000000000002', 'coffee', 5000,"
	    " 'talked about analytics', 5000, 5000);"
	    "INSERT INTO favor(id, person, dir, kind, status, weight,"
	    " done_at, created, updated) VALUES"
	    " ('00000000000000000000000000000004',"
	    " '00000000000000000000000000000002', -1, 'referral', 'done', 5,"
	    " 6000, 6000, 6000);");
	sqlite3_close(db);
}

static int
found(void *arg, const tally_hit *h)
{
	(*(int *) arg)++;
	(void) h;
	return (0);
}

static void
test_upgrade_from_v1(void **state)
{
	tally *t;
	int    have, want, hits = 0;

	(void) state;
	make_v1();
	TT_PASS(tally_open(&t, path, 0));
	TT_PASS(tally_schema_version(t, &have, &want));
	TT_INTEQ(have, want);
	TT_INTEQ(want, tly_schema_nsteps);
	/* data kept, and everything derived from it rebuilt */
	TT_INTEQ(count(t, "SELECT count(*) FROM person"), 2);
	TT_INTEQ(count(t, "SELECT count(*) FROM person_key WHERE key IN"
	                  " ('e:ann@acme.example',"
	                  " 'u:linkedin.com/in/annlee')"),
	    2);
	TT_INTEQ(count(t, "SELECT last_contact FROM person WHERE name = "
	                  "'Ann Lee'"),
	    5000);
	TT_INTEQ(count(t, "SELECT received FROM ledger"), 5);
	TT_PASS(tally_search(t, "analytics", 10, found, &hits));
	TT_INTEQ(hits, 1);
	TT_PASS(tally_search(t, "fair", 10, found, &hits));
	TT_INTEQ(hits, 2);
	TT_INTEQ(count(t, "SELECT count(*) FROM pragma_integrity_check"
	                  " WHERE integrity_check <> 'ok'"),
	    0);
	/* the constraints as OR chains (step 7), refusing what they did */
	TT_INTEQ(count(t, "SELECT count(*) FROM sqlite_master WHERE name IN"
	                  " ('interaction', 'favor') AND sql LIKE '%CHECK (%"
	                  " IN (%'"),
	    0);
	check_refuses(t, "UPDATE interaction SET kind = 'lunch'");
	check_refuses(t, "UPDATE favor SET kind = 'gift'");
	check_refuses(t, "UPDATE favor SET dir = 0");
	check_refuses(t, "UPDATE favor SET status = 'maybe'");
	TT_PASS(sqlite3_exec(t->db, "UPDATE interaction SET kind = 'event';"
	                            "UPDATE favor SET status = 'asked'",
	    NULL, NULL, NULL));
	tally_close(t);
}

static void
test_newer_refused(void **state)
{
	sqlite3 *db;
	tally   *t;
	int      v = 0;

	(void) state;
	make_v1();
	sqlite3_open(path, &db);
	exec_sql(db, "PRAGMA user_version=99");
	sqlite3_close(db);
	TT_FAIL(tally_open(&t, path, 0), TALLY_ESCHEMA);
	if (strstr(tally_errmsg(t), "newer") == NULL)
		fail_msg("tally_errmsg: expected it to say 'newer', got \"%s\"",
		    tally_errmsg(t));
	tally_close(t);
	/* untouched: still version 99, still one table set */
	sqlite3_open(path, &db);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	TT_INTEQ(v, 99);
}

static void
test_garbage_refused(void **state)
{
	FILE  *f;
	tally *t;

	(void) state;
	f = fopen(path, "w");
	for (int i = 0; i < 4096; i++)
		fputc("not a database "[i % 15], f);
	fclose(f);
	TT_FAIL(tally_open(&t, path, 0), TALLY_ECORRUPT);
	tally_close(t);
	TT_FAIL(tally_open(&t, path, TALLY_OPEN_CREATE), TALLY_ECORRUPT);
	tally_close(t);
}

static void
test_missing(void **state)
{
	tally      *t;
	struct stat sb;

	(void) state;
	TT_FAIL(tally_open(&t, path, 0), TALLY_ENOTINIT);
	tally_close(t);
	if (stat(path, &sb) == 0)
		fail_msg("%s: expected no file after a failed open", path);
	TT_PASS(tally_open(&t, path, TALLY_OPEN_CREATE));
	TT_FAIL(tally_me(t, (char[TALLY_ID_LEN + 1]) { 0 }), TALLY_ENOTINIT);
	TT_PASS(tally_init(t, "Sam"));
	TT_FAIL(tally_init(t, "Sam again"), TALLY_EEXIST);
	tally_close(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_upgrade_from_v1, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_newer_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_garbage_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
