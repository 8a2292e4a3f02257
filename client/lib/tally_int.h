/*
 * tally_int.h -- libtally internals shared by its source files.
 *
 * One struct tally per open replica.  All SQL goes through tly_stmt(),
 * which prepares each statement once per handle and caches it keyed by
 * the address of its SQL text (always a string literal).
 */
#ifndef TALLY_INT_H
#define TALLY_INT_H

#include <sqlite3.h>

#include "tally.h"
#include "tly_db.h"
#include "tly_err.h"
#include "tly_time.h"
#include "tly_util.h"

#define TLY_STMT_CACHE 256 /* power of two */

struct tly_ident; /* proto/tly_ident.h */

struct tally {
	sqlite3 *db;
	char     me[TALLY_ID_LEN + 1]; /* "" before tally_init() */
	char     err[512];             /* last error message */
	int      readonly;
	int      depth;                /* open tly_begin() levels */
	char    *dir;     /* folder of the replica (identity.c) */
	char    *keyfile; /* its TALLY_KEYFILE_NAME (identity.c) */
	struct tly_ident *ident; /* unlocked identity, or NULL */
	struct tly_sync  *sync;  /* device sync state (sync_ops.c), or NULL */
	struct {
		const char   *sql; /* key: address of the literal */
		sqlite3_stmt *st;
	} cache[TLY_STMT_CACHE];
};

/* Sets the handle's identity fields from the replica's path; frees them
 * and wipes the unlocked key (identity.c). */
int  tly_identity_open(tally *t, const char *path);
void tly_identity_close(tally *t);

/* Frees the handle's device sync state (sync_ops.c). */
void tly_sync_free(tally *t);

/* Sets the handle's message (printf) and returns rv. */
int tly_seterr(tally *t, int rv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps the connection's last SQLite error to a TALLY_E* code with a
 * message naming what (e.g. "adding person"); returns the code. */
int tly_dberr(tally *t, const char *what);

/* Returns the cached, reset statement for sql, or NULL (message set).
 * sql must be a string literal: its address is the cache key. */
sqlite3_stmt *tly_stmt(tally *t, const char *sql);

/* Binds text, or NULL for a NULL pointer.  SQLITE_TRANSIENT copy. */
int tly_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Binds an int64, or NULL when v == 0. */
int tly_bind_time(sqlite3_stmt *st, int i, int64_t v);
/* Column text or NULL. */
const char *tly_col_text(sqlite3_stmt *st, int i);

/* Steps a write statement to completion; maps errors with what. */
int tly_step_done(tally *t, sqlite3_stmt *st, const char *what);

/* Checks a user-supplied text field: valid UTF-8, at most
 * TALLY_MAX_TEXT bytes, no control characters but tab and newline;
 * message names field. */
int tly_check_text(tally *t, const char *field, const char *s);

/* Transactions on the handle's connection. */
int  tly_begin(tally *t);
int  tly_commit(tally *t);
void tly_rollback(tally *t);

/* Returns 1 if s is one of the NULL-terminated words. */
int tly_oneof(const char *s, const char *const *words);

/* Migrations: the schema, step by step (schema.c). */
/* 1: tally_next() always reads the ledger and the close contacts whole,
 * never stopping at the small sets (views.c).  Set only by tests, which
 * compare both ways. */
extern int tly_next_full;

extern const char *const tly_schema_steps[];
extern const int         tly_schema_nsteps;
/* SQL that fills person_key, last_contact, the ledger and the full-text
 * indexes from the tables, as their triggers would have (schema.c). */
extern const char tly_schema_derive[];

/* Import and export of each format (import_csv.c, vcard.c, json.c). */
int tly_import_linkedin(tally *t, tally_import_stats *st, const char *path,
    const tally_import_opts *o);
int tly_import_google(tally *t, tally_import_stats *st, const char *path,
    const tally_import_opts *o);
int tly_import_vcard(tally *t, tally_import_stats *st, const char *path,
    const tally_import_opts *o);
int tly_import_json(tally *t, tally_import_stats *st, const char *path,
    const tally_import_opts *o);
int tly_export_json(tally *t, FILE *out);
int tly_export_csv(tally *t, FILE *out);
int tly_export_vcard(tally *t, FILE *out);

#endif /* TALLY_INT_H */
