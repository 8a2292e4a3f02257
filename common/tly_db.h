/*
 * tly_db.h -- SQLite helpers shared by the client replica and the relay:
 * open with tally's pragmas, numbered migrations, rc mapping.
 *
 * Nothing here knows a schema: callers pass their migration steps.
 * Migration step i (0-based) takes the database from user_version i to
 * i + 1; each step runs in its own transaction with the version bump.
 */
#ifndef TLY_DB_H
#define TLY_DB_H

#include <stddef.h>

#include <sqlite3.h>

#define TLY_DB_CREATE   0x1 /* create the file if missing */
#define TLY_DB_READONLY 0x2 /* open read-only (no migrations) */
#define TLY_DB_FULLSYNC 0x4 /* synchronous=FULL instead of NORMAL */

#define TLY_DB_BUSY_MS 10000 /* how long a writer waits for a lock */

/* Opens path in WAL mode with foreign keys and a busy timeout.  On success
 * *dbp is the caller's (close with sqlite3_close_v2).  On failure *dbp is
 * NULL and err (errsz bytes) says why; TALLY_EIO, TALLY_ECORRUPT,
 * TALLY_EBUSY, TALLY_EREADONLY. */
int tly_db_open(sqlite3 **dbp, const char *path, int flags, char *err,
    size_t errsz);

/* Brings the schema up to nsteps.  TALLY_ESCHEMA if the file is newer
 * than nsteps; on any failure the file keeps its previous version. */
int tly_db_migrate(sqlite3 *db, const char *const *steps, int nsteps,
    char *err, size_t errsz);

/* Returns PRAGMA user_version in *v. */
int tly_db_version(sqlite3 *db, int *v);

/* Maps a SQLite result code to a TALLY_E* code (SQLITE_OK -> 0). */
int tly_db_rc(int rc);

/* Runs SQL without results; maps errors; copies sqlite3_errmsg to err
 * when err is not NULL. */
int tly_db_exec(sqlite3 *db, const char *sql, char *err, size_t errsz);

/* Transactions: BEGIN IMMEDIATE (takes the write lock up front, so a busy
 * database waits at the start rather than failing mid-way). */
int  tly_db_begin(sqlite3 *db);
int  tly_db_commit(sqlite3 *db);
void tly_db_rollback(sqlite3 *db);

#endif /* TLY_DB_H */
