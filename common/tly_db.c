/*
 * tly_db.c -- SQLite open, pragmas and migrations.
 */
#include <stdio.h>
#include <string.h>

#include "tly_db.h"
#include "tly_err.h"

int
tly_db_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return (0);
	case SQLITE_NOMEM:
		return (TALLY_ENOMEM);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return (TALLY_EBUSY);
	case SQLITE_READONLY:
		return (TALLY_EREADONLY);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return (TALLY_ECORRUPT);
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_FULL:
		return (TALLY_EIO);
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return (TALLY_EPERM);
	case SQLITE_CONSTRAINT:
		return (TALLY_EEXIST);
	case SQLITE_TOOBIG:
		return (TALLY_ETOOBIG);
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
		return (TALLY_EINVAL);
	default:
		return (TALLY_EINTERNAL);
	}
}

static int
fail(sqlite3 *db, int rc, char *err, size_t errsz, const char *what)
{
	if (err != NULL && errsz > 0)
		snprintf(err, errsz, "%s: %s", what,
		    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return (tly_db_rc(rc));
}

int
tly_db_exec(sqlite3 *db, const char *sql, char *err, size_t errsz)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return (fail(db, rc, err, errsz, "database"));
	return (0);
}

int
tly_db_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *st;
	int           rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return (tly_db_rc(rc));
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*v = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return (tly_db_rc(rc));
}

int
tly_db_open(sqlite3 **dbp, const char *path, int flags, char *err,
    size_t errsz)
{
	sqlite3 *db = NULL;
	int      rc, v, oflags;
	char     sql[160];

	*dbp   = NULL;
	oflags = (flags & TLY_DB_READONLY) ? SQLITE_OPEN_READONLY
	                                   : SQLITE_OPEN_READWRITE;
	if (flags & TLY_DB_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	oflags |= SQLITE_OPEN_NOMUTEX;
	if ((rc = sqlite3_open_v2(path, &db, oflags, NULL)) != SQLITE_OK) {
		rc = fail(db, rc, err, errsz, path);
		sqlite3_close_v2(db);
		return (rc);
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, TLY_DB_BUSY_MS);
	/* Reading the header first tells a non-database file apart. */
	if ((rc = tly_db_version(db, &v)) != 0) {
		if (err != NULL)
			snprintf(err, errsz, "%s: %s", path,
			    rc == TALLY_ECORRUPT ? "not a tally database, or "
			                           "corrupt"
			                         : sqlite3_errmsg(db));
		sqlite3_close_v2(db);
		return (rc);
	}
	snprintf(sql, sizeof sql,
	    "PRAGMA foreign_keys=ON; PRAGMA synchronous=%s;%s",
	    (flags & TLY_DB_FULLSYNC) ? "FULL" : "NORMAL",
	    (flags & TLY_DB_READONLY) || sqlite3_db_readonly(db, "main")
	        ? ""
	        : "PRAGMA journal_mode=WAL;");
	if ((rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK) {
		rc = fail(db, rc, err, errsz, path);
		sqlite3_close_v2(db);
		return (rc);
	}
	*dbp = db;
	return (0);
}

int
tly_db_migrate(sqlite3 *db, const char *const *steps, int nsteps, char *err,
    size_t errsz)
{
	int  v, rv;
	char sql[64];

	if ((rv = tly_db_version(db, &v)) != 0)
		return (fail(db, SQLITE_CORRUPT, err, errsz, "schema"));
	if (v > nsteps) {
		if (err != NULL)
			snprintf(err, errsz,
			    "database schema version %d is newer than this "
			    "tally understands (%d): upgrade tally",
			    v, nsteps);
		return (TALLY_ESCHEMA);
	}
	for (; v < nsteps; v++) {
		if ((rv = tly_db_begin(db)) != 0)
			return (fail(db, SQLITE_BUSY, err, errsz, "migrate"));
		snprintf(sql, sizeof sql, "PRAGMA user_version=%d", v + 1);
		if ((rv = tly_db_exec(db, steps[v], err, errsz)) != 0 ||
		    (rv = tly_db_exec(db, sql, err, errsz)) != 0 ||
		    (rv = tly_db_commit(db)) != 0) {
			tly_db_rollback(db);
			return (rv);
		}
	}
	return (0);
}

int
tly_db_begin(sqlite3 *db)
{
	return (tly_db_rc(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)));
}

int
tly_db_commit(sqlite3 *db)
{
	return (tly_db_rc(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)));
}

void
tly_db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		(void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}
