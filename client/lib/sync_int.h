/*
 * sync_int.h -- operations and their merge (sync_ops.c), shared with the
 * schema (schema.c), the importers' bulk mode (json.c), the transport
 * (sync.c) and linking (device.c).
 *
 * Every change of a synced table is recorded, in the transaction that
 * makes it, as one row of sync_op: (dev, clock) names it (the device and
 * its hybrid logical clock), (tbl, key) the row, and cols holds the
 * fields it set as a JSON object (blobs as hex), or NULL for a delete.
 * An update is one operation with the fields that changed.  An insert
 * here is one operation with every non-NULL field, which sync_op keeps
 * as the mark TLY_SYNC_ROW ('*': the row itself) so that recording it
 * costs no copy of the row; TLY_SYNC_ROW_JSON expands it from the row
 * when it is pushed or merged (a row changed since has later operations
 * for those fields too, so the values it then carries lose to nothing
 * they should not).  Operations from other devices are always JSON.  Triggers written in plain SQL make them
 * (TLY_SYNC_TRIGGERS), so that every writer -- the library, the
 * importers, the sqlite3 shell -- records its changes; they do nothing
 * while the sync_state row 'applying' exists, which is how operations
 * from other devices are applied without being recorded again as mine.
 *
 * The clock: a 64-bit integer, milliseconds since 1970 shifted left 16
 * bits plus a counter; an operation's clock is above every clock of this
 * device and every clock seen from others ('seen'), and at least the
 * time now.  Merge: per field, the operation with the greatest (clock,
 * dev) wins; a delete wins over everything (a tombstone).
 *
 * A released schema step holds the text of these macros: change them
 * only together with a new step that replaces the triggers.
 */
#ifndef TLY_SYNC_INT_H
#define TLY_SYNC_INT_H

#include "tally_int.h"
#include "tly_buf.h"
#include "tly_sync.h"

/* -- SQL pieces ------------------------------------------------------- */

#define TLY_SYNC_LOCAL                                                       \
	"NOT EXISTS (SELECT 1 FROM sync_state WHERE k = 'applying')"
#define TLY_SYNC_NOW_MS                                                      \
	"CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
#define TLY_SYNC_CLOCK(d)                                                    \
	"max(coalesce((SELECT max(clock) FROM sync_op WHERE dev = " d        \
	"), 0) + 1, coalesce((SELECT v FROM sync_state WHERE k = 'seen'),"   \
	" 0) + 1, " TLY_SYNC_NOW_MS " << 16)"

/* Column mappers for the lists below: (r: row alias, c: column). */
#define TLY_SJ_V(r, c) "'" #c "', " r "." #c      /* json_object pair */
#define TLY_SJ_B(r, c) "'" #c "', hex(" r "." #c ")" /* ... of a blob */
#define TLY_SJ_D(r, c)                                                       \
	"iif(new." #c " IS old." #c ", '$." #c "', '$.-')" /* unchanged */
#define TLY_SJ_N(r, c) #c                                    /* its name */

/* The synced columns of each table, but the key (V: value, B: blob,
 * r: row alias, s: separator). */
#define TLY_SYNC_PERSON(V, B, r, s)                                          \
	V(r, name) s V(r, name_key) s V(r, org) s V(r, title) s V(r, url) s  \
	V(r, how_met) s V(r, referred_by) s V(r, note) s V(r, emails) s      \
	V(r, phones) s V(r, tags) s V(r, closeness) s V(r, is_me) s          \
	V(r, created) s V(r, updated)
#define TLY_SYNC_INTERACTION(V, B, r, s)                                     \
	V(r, person) s V(r, kind) s V(r, at) s V(r, minutes) s V(r, note) s  \
	V(r, follow_up) s V(r, follow_up_done) s V(r, thanked) s             \
	V(r, created) s V(r, updated)
#define TLY_SYNC_INTRODUCTION(V, B, r, s)                                    \
	V(r, by) s V(r, a) s V(r, b) s V(r, note) s V(r, status) s           \
	V(r, created) s V(r, updated)
#define TLY_SYNC_FAVOR(V, B, r, s)                                           \
	V(r, person) s V(r, dir) s V(r, kind) s V(r, status) s V(r, weight) \
	s V(r, note) s V(r, intro) s V(r, done_at) s V(r, thanked) s         \
	V(r, confirmed) s V(r, created) s V(r, updated)
#define TLY_SYNC_REFERENCE(V, B, r, s)                                       \
	V(r, person) s V(r, for_what) s V(r, created) s V(r, updated)
#define TLY_SYNC_REFERENCE_USE(V, B, r, s)                                   \
	V(r, reference) s V(r, for_what) s V(r, at) s V(r, created) s        \
	V(r, updated)
#define TLY_SYNC_PEER(V, B, r, s)                                            \
	B(r, pk) s V(r, verified) s V(r, created) s V(r, updated)
#define TLY_SYNC_RECORD(V, B, r, s)                                          \
	V(r, kind) s V(r, state) s B(r, peer_pk) s V(r, person) s            \
	V(r, by_me) s V(r, proposed_by_me) s V(r, happened) s                \
	V(r, favor_kind) s V(r, name) s V(r, note) s B(r, signed) s          \
	V(r, favor) s B(r, revocation) s V(r, reason) s V(r, closed_by_me)   \
	s V(r, created) s V(r, stored) s V(r, updated) s                     \
	V(r, confirmed_at) s V(r, closed_at)
#define TLY_SYNC_DEVICE(V, B, r, s)                                          \
	V(r, name) s B(r, pk) s V(r, created) s V(r, revoked)

/* The fields of row r of a table as an insert records them (no NULLs). */
#define TLY_SYNC_ROW_JSON(LIST, r)                                           \
	"json_patch('{}', json_object(" LIST(TLY_SJ_V, TLY_SJ_B, r, ", ")    \
	"))"

/* The mark of an insert in sync_op.cols: every field of the row. */
#define TLY_SYNC_ROW "*"

/* The insert trigger of a table, as sqlite_master keeps it: tab its
 * name, no its number (a string), key its key column. */
#define TLY_SYNC_TRIGGER_AI(tab, no, key)                                    \
	"CREATE TRIGGER " tab "_sync_ai AFTER INSERT ON " tab                 \
	" WHEN " TLY_SYNC_LOCAL " BEGIN"                                     \
	" INSERT INTO sync_op(dev, clock, tbl, key, cols)"                   \
	" SELECT d.v, " TLY_SYNC_CLOCK("d.v") ", " no ", new." key ", '"      \
	TLY_SYNC_ROW "' FROM sync_state d WHERE d.k = 'device';"             \
	" END"

/* The three triggers of a table (insert, update, delete). */
#define TLY_SYNC_TRIGGERS(tab, no, key, LIST)                                \
	TLY_SYNC_TRIGGER_AI(tab, no, key) ";"                                \
	"CREATE TRIGGER " tab "_sync_au AFTER UPDATE OF "                     \
	LIST(TLY_SJ_N, TLY_SJ_N, "", ", ") " ON " tab                        \
	" WHEN " TLY_SYNC_LOCAL " BEGIN"                                     \
	" INSERT INTO sync_op(dev, clock, tbl, key, cols)"                   \
	" SELECT d.v, " TLY_SYNC_CLOCK("d.v") ", " no ", new." key ", j"     \
	" FROM sync_state d, (SELECT json_remove(json_object("               \
	LIST(TLY_SJ_V, TLY_SJ_B, "new", ", ") "), "                          \
	LIST(TLY_SJ_D, TLY_SJ_D, "", ", ") ") AS j)"                         \
	" WHERE d.k = 'device' AND j <> '{}';"                               \
	" END;"                                                              \
	"CREATE TRIGGER " tab "_sync_ad AFTER DELETE ON " tab                 \
	" WHEN " TLY_SYNC_LOCAL " BEGIN"                                     \
	" INSERT INTO sync_op(dev, clock, tbl, key, cols)"                   \
	" SELECT d.v, " TLY_SYNC_CLOCK("d.v") ", " no ", old." key ", NULL"  \
	" FROM sync_state d WHERE d.k = 'device';"                           \
	" END;"

/* -- Tables ----------------------------------------------------------- */

enum {
	TLY_ST_PERSON = 1,
	TLY_ST_INTERACTION,
	TLY_ST_INTRODUCTION,
	TLY_ST_FAVOR,
	TLY_ST_REFERENCE,
	TLY_ST_REFERENCE_USE,
	TLY_ST_PEER,
	TLY_ST_RECORD,
	TLY_ST_DEVICE,
	TLY_ST_N /* one past the last */
};

#define TLY_SYNC_MAXCOLS 24 /* columns of the widest table, key included */

struct tly_sync_fk {
	const char *col;     /* the referring column; NULL: the key */
	int         parent;  /* TLY_ST_* of the referred table */
	int         cascade; /* 1: ON DELETE CASCADE, 0: SET NULL */
};

struct tly_sync_table {
	const char              *name;
	const char              *key;   /* key column (a unique TEXT) */
	const char *const       *cols;  /* synced columns, key excluded */
	const unsigned char     *blob;  /* 1 where the column is a BLOB */
	int                      ncols;
	const struct tly_sync_fk *fks;
	int                      nfks;
};

/* The synced tables, indexed by TLY_ST_* (entry 0 unused). */
extern const struct tly_sync_table tly_sync_tables[TLY_ST_N];

/* -- Operations ------------------------------------------------------- */

/* Per-handle sync state (t->sync), freed by tly_sync_free(). */
struct tly_sync;

/* This device's id (from sync_state).  TALLY_ENOTINIT, database errors. */
int tly_sync_device(tally *t, uint64_t *dev);

/* What applying a batch did. */
struct tly_apply_stats {
	size_t ops;     /* operations read */
	size_t applied; /* that changed a field or a row */
	size_t dup;     /* seen before */
	size_t skipped; /* that could not be stored (e.g. a row whose
	                   person was deleted) */
	uint64_t maxclock; /* largest clock read */
};

/* Starts applying operations from another device inside the caller's
 * transaction (the 'applying' row); tly_sync_apply_end() stores the
 * rows still staged, ends it and raises 'seen' to st->maxclock.  Both
 * return 0 or a TALLY_E* code. */
int tly_sync_apply_begin(tally *t);
int tly_sync_apply_end(tally *t, struct tly_apply_stats *st);
/* Stores the new rows staged so far (tly_sync_apply_op stages a new row
 * with one operation, to insert many with one statement). */
int tly_sync_apply_flush(tally *t, struct tly_apply_stats *st);
/* Applies one operation of device dev (between begin and end); merge as
 * in the file comment.  TALLY_EFORMAT for fields that are not a JSON
 * object of the table's columns (the batch is refused). */
int tly_sync_apply_op(tally *t, uint64_t dev, const struct tly_sync_op *op,
    struct tly_apply_stats *st);

/* A new replica's first pull (the comment in sync_ops.c): inside the
 * pull's one transaction, after tly_sync_apply_begin, starts staging
 * when the replica holds no rows yet (returns 1; 0: not fresh, nothing
 * changes; or minus a code); tly_sync_fresh_end stores what was staged,
 * before tly_sync_apply_end.  tly_sync_fresh (test hook): -1 when
 * fresh, 0 never. */
int        tly_sync_fresh_begin(tally *t);
int        tly_sync_fresh_end(tally *t, struct tly_apply_stats *st);
/* Forgets the fresh pull's state when its transaction is rolled back. */
void       tly_sync_fresh_abort(tally *t);
extern int tly_sync_fresh;

/* Writes the fields of row (tb, key) as an insert records them (what
 * TLY_SYNC_ROW stands for) to out, NUL-terminated.  TALLY_ENOENT when
 * the row is not there. */
int tly_sync_row_json(
    tally *t, int tb, const char *key, size_t klen, tly_buf *out);

/* Test hook: when > 0, counts applied operations down and fails the one
 * that reaches 0 with TALLY_EIO (a crash in the middle of a pull). */
extern int tly_sync_crash_at;

/* Importers' bulk mode: inside the import's transaction, drops the
 * insert triggers of the synced tables (and, when size -- the input's
 * bytes -- may hold more rows than there are operations, sync_op's row
 * index); tly_sync_bulk_end() records the operations of the rows added
 * since, set-based, and creates the triggers again.  Both are no-ops
 * when the replica's triggers are not the ones this file knows. */
int tly_sync_bulk_begin(tally *t, int64_t size);
int tly_sync_bulk_end(tally *t);

/* -- Transport (sync.c) ------------------------------------------------ */

#define TLY_SYNC_DEVID_LEN 16 /* hex characters of a device id */

struct tly_relay_entry; /* relay_int.h */

/* Where the log is: the relay (tly_sync_relay_io, arg a tly_relay), or
 * a test's stand-in.  append stores an entry once per content and gives
 * its sequence number; read gives the entries after a sequence number
 * (at most maxbytes past the first; malloc'd, freed with
 * tly_relay_entries_free); errmsg says why the last call failed. */
struct tly_sync_io {
	int (*append)(void *arg, const void *p, size_t n, uint64_t *seq);
	int (*read)(void *arg, uint64_t after, size_t maxbytes,
	    struct tly_relay_entry **e, size_t *n, int *more);
	const char *(*errmsg)(void *arg);
};
extern const struct tly_sync_io tly_sync_relay_io;

/* What a pull did, and its reusable buffer. */
struct tly_sync_pull {
	struct tly_apply_stats st;
	size_t                 entries; /* ops entries applied */
	size_t                 own;     /* mine, skipped */
	size_t                 ignored; /* stale or not from my devices */
	size_t                 keys;    /* key rotations taken */
	uint64_t               bytes;
	tly_buf                pt; /* plaintext */
};

/* What a push did, and its buffers. */
struct tly_sync_push {
	size_t   ops, batches;
	uint64_t bytes;
	tly_buf  pt, ct;
};

/* Pulls then pushes through io (head: the log's newest sequence number,
 * for progress).  0 or a TALLY_E* code with the message set. */
int tly_sync_run(tally *t, const struct tly_sync_io *io, void *arg,
    tally_sync_stats *st, const tally_sync_opts *o, uint64_t head);
/* Takes in log entry seq, p[0..n), inside a pull's transaction (between
 * tly_sync_apply_begin and _end). */
int tly_sync_pull_entry(tally *t, uint64_t seq, const unsigned char *p,
    size_t n, struct tly_sync_pull *pl);

/* The integer k of sync_state (0 when missing), and setting it. */
int tly_sync_get(tally *t, const char *k, int64_t *v);
int tly_sync_set(tally *t, const char *k, int64_t v);
/* Copies the replica key of epoch (0: the newest) to key.  Returns its
 * epoch (> 0), TALLY_ENOENT when there is none, or minus a code. */
int tly_sync_key(tally *t, uint32_t epoch, unsigned char *key);
/* The newest replica key, made (epoch 1) if there is none: returns its
 * epoch or minus a code. */
int tly_sync_key_ensure(tally *t, unsigned char *key);
/* Stores a replica key (kept if the epoch has one already). */
int tly_sync_key_put(tally *t, uint32_t epoch, const unsigned char *key);
/* This device's Ed25519 key pair (made on first use); wipe sk. */
int tly_sync_device_keys(tally *t, unsigned char *pk, unsigned char *sk);
/* Writes dev as TLY_SYNC_DEVID_LEN hex characters and a NUL. */
void tly_sync_device_id(char *out, uint64_t dev);
/* Adds this device to the device table unless it is there (name NULL:
 * the host name). */
int tly_sync_device_row(tally *t, const char *name);
/* My operations not yet acknowledged by the relay. */
int tly_sync_pending(tally *t, uint64_t *up);

#endif /* TLY_SYNC_INT_H */
