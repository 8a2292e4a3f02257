/*
 * store_sqlite.c -- the relay store on SQLite (store.h).
 *
 * Invariants:
 * - One writing connection per process (wdb), used only by the writer
 *   thread after open: SQLite 3.40 can corrupt a WAL database when two
 *   connections write or checkpoint at once.  Readers are opened
 *   read-only and never checkpoint.
 * - A batch of queued operations is one transaction.  An operation makes
 *   all the checks that may refuse it before its first write, so a refused
 *   operation leaves nothing behind and does not undo the others.  Done
 *   callbacks run only after COMMIT returned (durable, synchronous=FULL)
 *   or the batch failed: on the writer thread when no other write waits,
 *   else on the finisher thread while the writer commits the next batch.
 * - account.used is the sum of the sizes of the account's mail (as
 *   recipient) and log entries; it is only changed with them.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "store.h"
#include "tly_db.h"
#include "tly_enc.h"
#include "tly_err.h"
#include "tly_log.h"
#include "tly_time.h"

#define STORE_READERS_MAX 16
/* The writer checks every account it writes for (a put's recipient is
 * looked up, other writes come from a session of a live account, and
 * accounts are never deleted), so SQLite need not check the foreign keys
 * again on each insert. */
#define WRITER_PRAGMAS "PRAGMA foreign_keys=OFF"
#define STORE_DB_NAME "tallyd.db"

static const char *const migrations[] = {
	/* 1: the first schema */
	"CREATE TABLE meta(k TEXT PRIMARY KEY, v BLOB NOT NULL);"
	"CREATE TABLE account("
	" id INTEGER PRIMARY KEY,"
	" pk BLOB NOT NULL UNIQUE,"
	" created INTEGER NOT NULL,"
	" disabled INTEGER NOT NULL DEFAULT 0,"
	" used INTEGER NOT NULL DEFAULT 0,"
	" mail_head INTEGER NOT NULL DEFAULT 0,"
	" log_head INTEGER NOT NULL DEFAULT 0,"
	" invite TEXT);"
	"CREATE TABLE invite("
	" code TEXT PRIMARY KEY,"
	" uses INTEGER NOT NULL,"
	" used INTEGER NOT NULL DEFAULT 0,"
	" expires INTEGER,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE mail("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" acct INTEGER NOT NULL REFERENCES account(id),"
	" hash BLOB NOT NULL,"
	" received INTEGER NOT NULL,"
	" size INTEGER NOT NULL,"
	" body BLOB NOT NULL,"
	" UNIQUE(acct, hash));"
	"CREATE INDEX mail_acct_seq ON mail(acct, seq);"
	"CREATE INDEX mail_received ON mail(received);"
	"CREATE TABLE log("
	" id INTEGER PRIMARY KEY,"
	" acct INTEGER NOT NULL REFERENCES account(id),"
	" seq INTEGER NOT NULL,"
	" hash BLOB NOT NULL,"
	" time INTEGER NOT NULL,"
	" size INTEGER NOT NULL,"
	" body BLOB NOT NULL,"
	" UNIQUE(acct, seq),"
	" UNIQUE(acct, hash));",
};

/* Writer statements. */
enum {
	W_ACCT_BY_PK,
	W_ACCT_BY_ID,
	W_ACCT_INSERT,
	W_INVITE_GET,
	W_INVITE_USE,
	W_INVITE_INSERT,
	W_MAIL_DUP,
	W_MAIL_INSERT,
	W_MAIL_DELETE,
	W_ACCT_ADD_MAIL,
	W_ACCT_SUB,
	W_LOG_DUP,
	W_LOG_INSERT,
	W_ACCT_ADD_LOG,
	W_EXPIRE_USED,
	W_EXPIRE_DELETE,
	W_DISABLE,
	W_LOG_TRIM,
	W_LOG_FLOOR,
	W_BEGIN,
	W_COMMIT,
	W_ROLLBACK,
	W_NSTMT
};

static const char *const wsql[W_NSTMT] = {
	[W_ACCT_BY_PK]  = "SELECT id, disabled, used FROM account WHERE pk=?1",
	[W_ACCT_BY_ID]  = "SELECT used, log_head FROM account WHERE id=?1",
	[W_ACCT_INSERT] = "INSERT INTO account(pk, created, invite) "
	                  "VALUES(?1, ?2, ?3)",
	[W_INVITE_GET]  = "SELECT uses, used, expires FROM invite "
	                  "WHERE code=?1",
	[W_INVITE_USE]  = "UPDATE invite SET used=used+1 WHERE code=?1",
	[W_INVITE_INSERT] = "INSERT INTO invite(code, uses, expires, created) "
	                    "VALUES(?1, ?2, ?3, ?4)",
	[W_MAIL_DUP]      = "SELECT seq FROM mail WHERE acct=?1 AND hash=?2",
	/* A duplicate (same recipient and hash) inserts nothing: changes()
	 * tells, and the dup path looks its seq up. */
	[W_MAIL_INSERT] = "INSERT INTO mail(acct, hash, received, size, body)"
	                  " VALUES(?1, ?2, ?3, ?4, ?5) "
	                  "ON CONFLICT(acct, hash) DO NOTHING",
	[W_MAIL_DELETE] = "DELETE FROM mail WHERE acct=?1 AND hash=?2 "
	                  "RETURNING size",
	[W_ACCT_ADD_MAIL] = "UPDATE account SET used=used+?2, mail_head=?3 "
	                    "WHERE id=?1",
	[W_ACCT_SUB]      = "UPDATE account SET used=used-?2 WHERE id=?1",
	[W_LOG_DUP]       = "SELECT seq FROM log WHERE acct=?1 AND hash=?2",
	[W_LOG_INSERT]   = "INSERT INTO log(acct, seq, hash, time, size, body)"
	                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
	                   "ON CONFLICT(acct, hash) DO NOTHING",
	[W_ACCT_ADD_LOG] = "UPDATE account SET used=used+?2, log_head=?3 "
	                   "WHERE id=?1",
	[W_EXPIRE_USED]  = "UPDATE account SET used=used-(SELECT total(size) "
	                   "FROM mail WHERE mail.acct=account.id AND "
	                   "received<?1) WHERE id IN (SELECT acct FROM mail "
	                   "WHERE received<?1)",
	[W_EXPIRE_DELETE] = "DELETE FROM mail WHERE received<?1",
	[W_DISABLE]       = "UPDATE account SET disabled=1 WHERE pk=?1 "
	                    "RETURNING id",
	/* The oldest entries first, TLY_TRIM_MAX at most (by the rowid, in
	 * seq order within an account). */
	[W_LOG_TRIM] = "DELETE FROM log WHERE id IN (SELECT id FROM log "
	               "WHERE acct=?1 AND seq<=?2 ORDER BY seq LIMIT ?3) "
	               "RETURNING size",
	/* Trimming only ever drops a prefix: the floor is the oldest entry
	 * left, less one, or the head when none is left. */
	[W_LOG_FLOOR] = "SELECT coalesce((SELECT min(seq) FROM log "
	                "WHERE acct=?1) - 1, (SELECT log_head FROM account "
	                "WHERE id=?1))",
	[W_BEGIN]     = "BEGIN IMMEDIATE",
	[W_COMMIT]    = "COMMIT",
	[W_ROLLBACK]  = "ROLLBACK",
};

/* Reader statements. */
enum {
	R_ACCT_BY_PK,
	R_ACCT_BY_ID,
	R_MAIL_LIST,
	R_MAIL_FETCH,
	R_LOG_READ,
	R_NSTMT
};

static const char *const rsql[R_NSTMT] = {
	[R_ACCT_BY_PK] =
	    "SELECT id, pk, created, disabled, used, mail_head, "
	    "log_head, (SELECT count(*) FROM mail WHERE acct=a.id)"
	    " FROM account a WHERE pk=?1",
	[R_ACCT_BY_ID] =
	    "SELECT id, pk, created, disabled, used, mail_head, "
	    "log_head, (SELECT count(*) FROM mail WHERE acct=a.id)"
	    " FROM account a WHERE id=?1",
	[R_MAIL_LIST]  = "SELECT seq, hash, size, received FROM mail "
	                 "WHERE acct=?1 AND seq>?2 ORDER BY seq LIMIT ?3",
	[R_MAIL_FETCH] = "SELECT seq, received, body FROM mail "
	                 "WHERE acct=?1 AND hash=?2",
	[R_LOG_READ]   = "SELECT seq, time, body FROM log "
	                 "WHERE acct=?1 AND seq>?2 ORDER BY seq LIMIT ?3",
};

struct reader {
	sqlite3      *db;
	sqlite3_stmt *st[R_NSTMT];
	int           busy; /* guarded by store.rlock */
};

struct tly_store {
	char                 *path;
	struct tly_store_opts o;
	sqlite3              *wdb;          /* writer thread only */
	sqlite3_stmt         *wst[W_NSTMT]; /* writer thread only */
	pthread_t             writer;
	int                   writer_started;
	pthread_t             finisher;
	int                   finisher_started;
	pthread_mutex_t       dlock;
	pthread_cond_t        dcond;
	struct tly_store_op  *dhead, *dtail; /* committed, guarded by dlock */
	int                   dstop;         /* guarded by dlock */
	pthread_mutex_t       qlock;
	pthread_cond_t        qcond;
	struct tly_store_op  *qhead, *qtail; /* guarded by qlock */
	int                   stopping;      /* guarded by qlock */
	pthread_mutex_t       rlock;
	pthread_cond_t        rcond;
	struct reader         readers[STORE_READERS_MAX]; /* busy: rlock */
	int                   nreaders;
	unsigned char         sid[TLY_SERVER_ID_BYTES];
	unsigned char         secret[32];
	tly_store_notify      notify;
	void                 *notify_arg;
	_Atomic uint64_t      commits, ops, queued;
	uint64_t              discarded; /* writer thread only */
	int                   disk_full; /* writer thread only */
};

static int
wstep_row(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return (1);
	sqlite3_reset(st);
	return (rc == SQLITE_DONE ? 0 : -tly_db_rc(rc));
}

/* Runs a statement that returns no row of interest; 0 or TALLY_E*. */
static int
wexec(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return (0);
	return (tly_db_rc(rc));
}

static int
op_register(tly_store *s, struct tly_store_op *op)
{
	sqlite3_stmt *st = s->wst[W_ACCT_BY_PK];
	int           r, rv;
	char          code[TLY_INVITE_MAX + 1];

	sqlite3_bind_blob(st, 1, op->pk, TLY_KEY_BYTES, SQLITE_STATIC);
	if ((r = wstep_row(st)) < 0)
		return (-r);
	if (r == 1) {
		op->id  = sqlite3_column_int64(st, 0);
		op->dup = 1;
		r       = sqlite3_column_int(st, 1);
		sqlite3_reset(st);
		return (r ? TALLY_EAUTH : 0);
	}
	code[0] = '\0';
	if (!op->open) {
		int64_t uses, used, exp;

		if (op->datalen == 0 || op->datalen > TLY_INVITE_MAX)
			return (TALLY_EAUTH);
		memcpy(code, op->data, op->datalen);
		code[op->datalen] = '\0';
		st                = s->wst[W_INVITE_GET];
		sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
		if ((r = wstep_row(st)) < 0)
			return (-r);
		if (r == 0)
			return (TALLY_EAUTH);
		uses = sqlite3_column_int64(st, 0);
		used = sqlite3_column_int64(st, 1);
		exp  = sqlite3_column_type(st, 2) == SQLITE_NULL
		     ? INT64_MAX
		     : sqlite3_column_int64(st, 2);
		sqlite3_reset(st);
		if (used >= uses || op->now >= exp)
			return (TALLY_EAUTH);
		st = s->wst[W_INVITE_USE];
		sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
		if ((rv = wexec(st)) != 0)
			return (rv);
	}
	st = s->wst[W_ACCT_INSERT];
	sqlite3_bind_blob(st, 1, op->pk, TLY_KEY_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, op->now);
	if (code[0] != '\0')
		sqlite3_bind_text(st, 3, code, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	if ((rv = wexec(st)) != 0)
		return (rv);
	op->id = sqlite3_last_insert_rowid(s->wdb);
	return (0);
}

static int
quota_ok(tly_store *s, uint64_t used, size_t n)
{
	return (s->o.quota == 0 ||
	    (used <= s->o.quota && (uint64_t) n <= s->o.quota - used));
}

/* Looks up the seq of the entry with op->hash in acct's mailbox or log
 * (st: W_MAIL_DUP or W_LOG_DUP): 1 and op->seq, op->dup set if there is
 * one, 0 if not, or a negative TALLY_E*. */
static int
find_dup(sqlite3_stmt *st, int64_t acct, struct tly_store_op *op)
{
	int r;

	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_blob(st, 2, op->hash, TLY_MAIL_ID_BYTES, SQLITE_STATIC);
	if ((r = wstep_row(st)) != 1)
		return (r);
	op->seq = (uint64_t) sqlite3_column_int64(st, 0);
	op->dup = 1;
	sqlite3_reset(st);
	return (1);
}

/* An insert that inserted nothing met a duplicate: its seq. */
static int
ignored_insert(sqlite3_stmt *dup, int64_t acct, struct tly_store_op *op)
{
	int r = find_dup(dup, acct, op);

	return (r < 0 ? -r : r == 1 ? 0 : TALLY_EINTERNAL);
}

/* A put or append over quota: still answered if it is a resend of one
 * already stored (the one that filled the quota). */
static int
over_quota(sqlite3_stmt *dup, int64_t acct, struct tly_store_op *op)
{
	int r = find_dup(dup, acct, op);

	return (r < 0 ? -r : r == 1 ? 0 : TALLY_EQUOTA);
}

/* Three statements in the common case: the recipient, the insert (which
 * finds a duplicate by the UNIQUE(acct, hash) index), the usage. */
static int
op_put(tly_store *s, struct tly_store_op *op)
{
	sqlite3_stmt *st = s->wst[W_ACCT_BY_PK];
	int64_t       acct;
	uint64_t      used;
	int           r, rv;

	sqlite3_bind_blob(st, 1, op->pk, TLY_KEY_BYTES, SQLITE_STATIC);
	if ((r = wstep_row(st)) < 0)
		return (-r);
	if (r == 0)
		return (TALLY_ENOENT);
	acct = sqlite3_column_int64(st, 0);
	r    = sqlite3_column_int(st, 1);
	used = (uint64_t) sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	if (r)
		return (TALLY_ENOENT);
	op->id = acct;
	if (!quota_ok(s, used, op->datalen))
		return (over_quota(s->wst[W_MAIL_DUP], acct, op));
	st = s->wst[W_MAIL_INSERT];
	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_blob(st, 2, op->hash, TLY_MAIL_ID_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, op->now);
	sqlite3_bind_int64(st, 4, (int64_t) op->datalen);
	sqlite3_bind_blob(st, 5, op->data, (int) op->datalen, SQLITE_STATIC);
	if ((rv = wexec(st)) != 0)
		return (rv);
	if (sqlite3_changes(s->wdb) == 0)
		return (ignored_insert(s->wst[W_MAIL_DUP], acct, op));
	op->seq = (uint64_t) sqlite3_last_insert_rowid(s->wdb);
	st      = s->wst[W_ACCT_ADD_MAIL];
	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_int64(st, 2, (int64_t) op->datalen);
	sqlite3_bind_int64(st, 3, (int64_t) op->seq);
	return (wexec(st));
}

static int
op_append(tly_store *s, struct tly_store_op *op)
{
	sqlite3_stmt *st = s->wst[W_ACCT_BY_ID];
	uint64_t      used, head;
	int           r, rv;

	sqlite3_bind_int64(st, 1, op->acct);
	if ((r = wstep_row(st)) < 0)
		return (-r);
	if (r == 0)
		return (TALLY_ENOENT);
	used = (uint64_t) sqlite3_column_int64(st, 0);
	head = (uint64_t) sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if (!quota_ok(s, used, op->datalen))
		return (over_quota(s->wst[W_LOG_DUP], op->acct, op));
	op->seq = head + 1;
	st      = s->wst[W_LOG_INSERT];
	sqlite3_bind_int64(st, 1, op->acct);
	sqlite3_bind_int64(st, 2, (int64_t) op->seq);
	sqlite3_bind_blob(st, 3, op->hash, TLY_MAIL_ID_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, op->now);
	sqlite3_bind_int64(st, 5, (int64_t) op->datalen);
	sqlite3_bind_blob(st, 6, op->data, (int) op->datalen, SQLITE_STATIC);
	if ((rv = wexec(st)) != 0)
		return (rv);
	if (sqlite3_changes(s->wdb) == 0)
		return (ignored_insert(s->wst[W_LOG_DUP], op->acct, op));
	st = s->wst[W_ACCT_ADD_LOG];
	sqlite3_bind_int64(st, 1, op->acct);
	sqlite3_bind_int64(st, 2, (int64_t) op->datalen);
	sqlite3_bind_int64(st, 3, (int64_t) op->seq);
	return (wexec(st));
}

static int
op_ack(tly_store *s, struct tly_store_op *op)
{
	sqlite3_stmt *st    = s->wst[W_MAIL_DELETE];
	int64_t       freed = 0;
	int           r;

	op->count = 0;
	for (uint16_t i = 0; i < op->nids; i++) {
		sqlite3_bind_int64(st, 1, op->acct);
		sqlite3_bind_blob(st, 2,
		    op->ids + (size_t) i * TLY_MAIL_ID_BYTES,
		    TLY_MAIL_ID_BYTES, SQLITE_STATIC);
		while ((r = wstep_row(st)) == 1) {
			freed += sqlite3_column_int64(st, 0);
			op->count++;
		}
		if (r < 0)
			return (-r);
	}
	if (freed == 0)
		return (0);
	st = s->wst[W_ACCT_SUB];
	sqlite3_bind_int64(st, 1, op->acct);
	sqlite3_bind_int64(st, 2, freed);
	return (wexec(st));
}

static int
op_trim(tly_store *s, struct tly_store_op *op)
{
	sqlite3_stmt *st    = s->wst[W_LOG_TRIM];
	int64_t       freed = 0;
	int           r, rv;

	op->count = 0;
	sqlite3_bind_int64(st, 1, op->acct);
	sqlite3_bind_int64(st, 2,
	    op->upto > (uint64_t) INT64_MAX ? INT64_MAX : (int64_t) op->upto);
	sqlite3_bind_int(st, 3, TLY_TRIM_MAX);
	while ((r = wstep_row(st)) == 1) {
		freed += sqlite3_column_int64(st, 0);
		op->count++;
	}
	if (r < 0)
		return (-r);
	if (freed > 0) {
		st = s->wst[W_ACCT_SUB];
		sqlite3_bind_int64(st, 1, op->acct);
		sqlite3_bind_int64(st, 2, freed);
		if ((rv = wexec(st)) != 0)
			return (rv);
	}
	st = s->wst[W_LOG_FLOOR];
	sqlite3_bind_int64(st, 1, op->acct);
	if ((r = wstep_row(st)) < 0)
		return (-r);
	if (r == 0)
		return (TALLY_ENOENT);
	op->seq = (uint64_t) sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return (0);
}

static int
op_expire(tly_store *s, struct tly_store_op *op)
{
	sqlite3_stmt *st = s->wst[W_EXPIRE_USED];
	int           rv;

	sqlite3_bind_int64(st, 1, op->before);
	if ((rv = wexec(st)) != 0)
		return (rv);
	st = s->wst[W_EXPIRE_DELETE];
	sqlite3_bind_int64(st, 1, op->before);
	if ((rv = wexec(st)) != 0)
		return (rv);
	op->count = sqlite3_changes(s->wdb);
	return (0);
}

static int
op_invite(tly_store *s, struct tly_store_op *op)
{
	sqlite3_stmt *st = s->wst[W_INVITE_INSERT];
	unsigned char rnd[10];

	randombytes_buf(rnd, sizeof rnd);
	tly_b32_encode(op->code, rnd, sizeof rnd);
	sqlite3_bind_text(st, 1, op->code, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, op->uses);
	if (op->before > 0)
		sqlite3_bind_int64(st, 3, op->before);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int64(st, 4, op->now);
	return (wexec(st));
}

static int
op_disable(tly_store *s, struct tly_store_op *op)
{
	sqlite3_stmt *st = s->wst[W_DISABLE];
	int           r;

	sqlite3_bind_blob(st, 1, op->pk, TLY_KEY_BYTES, SQLITE_STATIC);
	if ((r = wstep_row(st)) < 0)
		return (-r);
	if (r == 0)
		return (TALLY_ENOENT);
	op->id = sqlite3_column_int64(st, 0);
	while (wstep_row(st) == 1)
		;
	return (0);
}

/* Whether op is a write the store only pretends to make (benchmarks). */
static int
discarded(tly_store *s, struct tly_store_op *op)
{
	return (s->o.discard_writes &&
	    (op->type == TLY_OP_PUT || op->type == TLY_OP_APPEND));
}

static int
op_apply(tly_store *s, struct tly_store_op *op)
{
	if (discarded(s, op)) {
		op->seq = ++s->discarded;
		return (0);
	}
	switch (op->type) {
	case TLY_OP_REGISTER:
		return (op_register(s, op));
	case TLY_OP_PUT:
		return (op_put(s, op));
	case TLY_OP_APPEND:
		return (op_append(s, op));
	case TLY_OP_ACK:
		return (op_ack(s, op));
	case TLY_OP_EXPIRE:
		return (op_expire(s, op));
	case TLY_OP_INVITE_CREATE:
		return (op_invite(s, op));
	case TLY_OP_DISABLE:
		return (op_disable(s, op));
	case TLY_OP_TRIM:
		return (op_trim(s, op));
	case TLY_OP_NOOP:
		return (0);
	default:
		return (TALLY_EINVAL);
	}
}

/* A full disk refuses writes as "busy, retry later" (clients retry with
 * back-off; reads go on), said once in the log until a write is stored
 * again.  Returns rv, or TALLY_EBUSY when the disk was full. */
static int
full_disk(tly_store *s, int rv)
{
	if ((sqlite3_errcode(s->wdb) & 0xff) != SQLITE_FULL)
		return (rv);
	if (!s->disk_full)
		tly_log(TLY_LOG_WARN,
		    "the disk is full: writes refused until space returns");
	s->disk_full = 1;
	return (TALLY_EBUSY);
}

/* Notifies and runs the done callbacks of committed (or failed)
 * operations, in commit order. */
static void
finish_ops(tly_store *s, struct tly_store_op *op)
{
	struct tly_store_op *next;

	for (; op != NULL; op = next) {
		next = op->next;
		if (op->rv == 0 && !op->dup && s->notify != NULL &&
		    (op->type == TLY_OP_PUT || op->type == TLY_OP_APPEND))
			s->notify(s->notify_arg,
			    op->type == TLY_OP_PUT ? op->id : op->acct,
			    op->type == TLY_OP_PUT ? 'm' : 'l');
		op->done(op);
	}
}

static void
rollback(tly_store *s)
{
	if (!sqlite3_get_autocommit(s->wdb))
		(void) wexec(s->wst[W_ROLLBACK]);
}

static void
run_batch(tly_store *s, struct tly_store_op *batch)
{
	struct tly_store_op *op;
	int                  rv, n = 0, more;

	if (s->o.commit_delay_ms > 0) {
		struct timespec ts = { s->o.commit_delay_ms / 1000,
			(long) (s->o.commit_delay_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (s->o.discard_writes) {
		/* Benchmarks: the cost of everything around the database. */
		for (op = batch; op != NULL && discarded(s, op); op = op->next)
			op->seq = ++s->discarded;
		if (op == NULL)
			goto finish;
	}
	/* An operation checks everything that can refuse it before it
	 * writes, so a refusal leaves nothing behind; any other failure
	 * fails the whole batch (clients retry; writes are idempotent). */
	rv = wexec(s->wst[W_BEGIN]);
	for (op = batch; op != NULL && rv == 0; op = op->next) {
		op->rv = op_apply(s, op);
		switch (op->rv) {
		case 0:
			n++;
			break;
		case TALLY_EQUOTA:
		case TALLY_ENOENT:
		case TALLY_EAUTH:
		case TALLY_EINVAL:
			break;
		default:
			rv = op->rv;
			break;
		}
	}
	if (rv != 0) {
		int failed = rv;

		rv = full_disk(s, rv);
		rollback(s);
		for (op = batch; op != NULL; op = op->next)
			if (op->rv == failed)
				op->rv = rv;
	}
	if (rv == 0 && !sqlite3_get_autocommit(s->wdb)) {
		if ((rv = wexec(s->wst[W_COMMIT])) != 0) {
			rv = full_disk(s, rv);
			rollback(s);
		}
	} else if (rv == 0) {
		rv = TALLY_EIO;
	}
	if (rv == 0 && s->disk_full) {
		s->disk_full = 0;
		tly_log(TLY_LOG_WARN, "writes are stored again");
	}
	if (rv != 0) {
		for (op = batch; op != NULL; op = op->next)
			if (op->rv == 0)
				op->rv = rv;
	} else {
		atomic_fetch_add(&s->commits, 1);
		atomic_fetch_add(&s->ops, (uint64_t) n);
	}
finish:
	/* With more writes waiting, the replies go out on the finisher
	 * thread while this one commits the next batch; otherwise here, at
	 * once, saving a thread wake-up on the way to the client. */
	pthread_mutex_lock(&s->qlock);
	more = s->qhead != NULL;
	pthread_mutex_unlock(&s->qlock);
	if (!more) {
		finish_ops(s, batch);
		return;
	}
	for (op = batch; op->next != NULL; op = op->next)
		;
	pthread_mutex_lock(&s->dlock);
	if (s->dtail != NULL)
		s->dtail->next = batch;
	else
		s->dhead = batch;
	s->dtail = op;
	pthread_cond_signal(&s->dcond);
	pthread_mutex_unlock(&s->dlock);
}

/* Finishes the batches the writer hands over, so that sending their
 * replies does not hold up the next commit. */
static void *
finisher_main(void *arg)
{
	tly_store           *s = arg;
	struct tly_store_op *op;

	for (;;) {
		pthread_mutex_lock(&s->dlock);
		while (s->dhead == NULL && !s->dstop)
			pthread_cond_wait(&s->dcond, &s->dlock);
		op       = s->dhead;
		s->dhead = s->dtail = NULL;
		pthread_mutex_unlock(&s->dlock);
		if (op == NULL)
			break;
		finish_ops(s, op);
	}
	return (NULL);
}

static void *
writer_main(void *arg)
{
	tly_store           *s = arg;
	struct tly_store_op *batch, *op, **tail;
	int                  n;

	for (;;) {
		pthread_mutex_lock(&s->qlock);
		while (s->qhead == NULL && !s->stopping)
			pthread_cond_wait(&s->qcond, &s->qlock);
		if (s->qhead == NULL) {
			pthread_mutex_unlock(&s->qlock);
			break;
		}
		batch = s->qhead;
		tail  = &batch;
		for (n = 0, op = batch; op != NULL && n < s->o.max_batch;
		     op = op->next, n++)
			tail = &op->next;
		s->qhead = *tail;
		*tail    = NULL;
		if (s->qhead == NULL)
			s->qtail = NULL;
		atomic_fetch_sub(&s->queued, (uint64_t) n);
		pthread_mutex_unlock(&s->qlock);
		run_batch(s, batch);
	}
	return (NULL);
}

void
tly_store_submit(tly_store *s, struct tly_store_op *op)
{
	op->next = NULL;
	op->rv   = 0;
	op->dup  = 0;
	op->now  = tly_now();
	if (op->type == TLY_OP_PUT || op->type == TLY_OP_APPEND)
		crypto_generichash(
		    op->hash, sizeof op->hash, op->data, op->datalen, NULL, 0);
	pthread_mutex_lock(&s->qlock);
	if (s->stopping) {
		pthread_mutex_unlock(&s->qlock);
		op->rv = TALLY_EBUSY;
		op->done(op);
		return;
	}
	if (s->qtail != NULL)
		s->qtail->next = op;
	else
		s->qhead = op;
	s->qtail = op;
	atomic_fetch_add(&s->queued, 1);
	pthread_cond_signal(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
}

struct runwait {
	pthread_mutex_t m;
	pthread_cond_t  c;
	int             done;
};

static void
run_done(struct tly_store_op *op)
{
	struct runwait *w = op->arg;

	pthread_mutex_lock(&w->m);
	w->done = 1;
	pthread_cond_signal(&w->c);
	pthread_mutex_unlock(&w->m);
}

int
tly_store_run(tly_store *s, struct tly_store_op *op)
{
	struct runwait w;

	pthread_mutex_init(&w.m, NULL);
	pthread_cond_init(&w.c, NULL);
	w.done   = 0;
	op->done = run_done;
	op->arg  = &w;
	tly_store_submit(s, op);
	pthread_mutex_lock(&w.m);
	while (!w.done)
		pthread_cond_wait(&w.c, &w.m);
	pthread_mutex_unlock(&w.m);
	pthread_mutex_destroy(&w.m);
	pthread_cond_destroy(&w.c);
	return (op->rv);
}

static int
load_ids(tly_store *s, char *err, size_t errsz)
{
	sqlite3_stmt *st;
	int           rc, found = 0;

	rc = sqlite3_prepare_v2(s->wdb,
	    "SELECT v FROM meta WHERE k='server_id' OR k='secret' ORDER BY k",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return (tly_db_rc(rc));
	/* "secret" sorts before "server_id". */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != 32) {
			sqlite3_finalize(st);
			snprintf(err, errsz, "server id: corrupt meta table");
			return (TALLY_ECORRUPT);
		}
		memcpy(found == 0 ? s->secret : s->sid,
		    sqlite3_column_blob(st, 0), 32);
		found++;
	}
	sqlite3_finalize(st);
	if (found == 2)
		return (0);
	randombytes_buf(s->sid, sizeof s->sid);
	randombytes_buf(s->secret, sizeof s->secret);
	rc = sqlite3_prepare_v2(s->wdb,
	    "INSERT OR REPLACE INTO meta(k, v) VALUES('server_id', ?1), "
	    "('secret', ?2)",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return (tly_db_rc(rc));
	sqlite3_bind_blob(st, 1, s->sid, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, s->secret, 32, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errsz, "server id: %s", sqlite3_errstr(rc));
		return (tly_db_rc(rc));
	}
	return (0);
}

int
tly_store_open(tly_store **sp, const char *dir, const struct tly_store_opts *o,
    char *err, size_t errsz)
{
	tly_store *s;
	size_t     n;
	int        rv, i, rc;

	*sp = NULL;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return (TALLY_ENOMEM);
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qcond, NULL);
	pthread_mutex_init(&s->dlock, NULL);
	pthread_cond_init(&s->dcond, NULL);
	pthread_mutex_init(&s->rlock, NULL);
	pthread_cond_init(&s->rcond, NULL);
	s->o = *o;
	if (s->o.readers <= 0)
		s->o.readers = 4;
	if (s->o.readers > STORE_READERS_MAX)
		s->o.readers = STORE_READERS_MAX;
	if (s->o.max_batch <= 0)
		s->o.max_batch = 1024;
	n = strlen(dir) + sizeof STORE_DB_NAME + 2;
	if ((s->path = malloc(n)) == NULL) {
		tly_store_close(s);
		return (TALLY_ENOMEM);
	}
	snprintf(s->path, n, "%s/%s", dir, STORE_DB_NAME);
	if ((rv = tly_db_open(&s->wdb, s->path,
	         TLY_DB_CREATE | TLY_DB_FULLSYNC, err, errsz)) != 0 ||
	    (rv = tly_db_migrate(s->wdb, migrations,
	         (int) (sizeof migrations / sizeof migrations[0]), err,
	         errsz)) != 0 ||
	    (rv = load_ids(s, err, errsz)) != 0 ||
	    (rv = tly_db_exec(s->wdb, WRITER_PRAGMAS, err, errsz)) != 0) {
		tly_store_close(s);
		return (rv);
	}
	for (i = 0; i < W_NSTMT; i++) {
		rc = sqlite3_prepare_v3(s->wdb, wsql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->wst[i], NULL);
		if (rc != SQLITE_OK) {
			snprintf(
			    err, errsz, "prepare: %s", sqlite3_errmsg(s->wdb));
			tly_store_close(s);
			return (TALLY_EINTERNAL);
		}
	}
	for (i = 0; i < s->o.readers; i++) {
		struct reader *r = &s->readers[i];

		if ((rv = tly_db_open(
		         &r->db, s->path, TLY_DB_READONLY, err, errsz)) != 0) {
			tly_store_close(s);
			return (rv);
		}
		s->nreaders++;
		for (int j = 0; j < R_NSTMT; j++) {
			rc = sqlite3_prepare_v3(r->db, rsql[j], -1,
			    SQLITE_PREPARE_PERSISTENT, &r->st[j], NULL);
			if (rc != SQLITE_OK) {
				snprintf(err, errsz, "prepare: %s",
				    sqlite3_errmsg(r->db));
				tly_store_close(s);
				return (TALLY_EINTERNAL);
			}
		}
	}
	if (pthread_create(&s->finisher, NULL, finisher_main, s) != 0) {
		snprintf(err, errsz, "cannot start the finisher thread");
		tly_store_close(s);
		return (TALLY_ENOMEM);
	}
	s->finisher_started = 1;
	if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
		snprintf(err, errsz, "cannot start the writer thread");
		tly_store_close(s);
		return (TALLY_ENOMEM);
	}
	s->writer_started = 1;
	*sp               = s;
	return (0);
}

void
tly_store_close(tly_store *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->qlock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	if (s->writer_started)
		pthread_join(s->writer, NULL);
	pthread_mutex_lock(&s->dlock);
	s->dstop = 1;
	pthread_cond_broadcast(&s->dcond);
	pthread_mutex_unlock(&s->dlock);
	if (s->finisher_started)
		pthread_join(s->finisher, NULL);
	for (int i = 0; i < s->nreaders; i++) {
		for (int j = 0; j < R_NSTMT; j++)
			sqlite3_finalize(s->readers[i].st[j]);
		sqlite3_close_v2(s->readers[i].db);
	}
	for (int i = 0; i < W_NSTMT; i++)
		sqlite3_finalize(s->wst[i]);
	if (s->wdb != NULL)
		sqlite3_close_v2(s->wdb);
	sodium_memzero(s->secret, sizeof s->secret);
	pthread_mutex_destroy(&s->qlock);
	pthread_cond_destroy(&s->qcond);
	pthread_mutex_destroy(&s->dlock);
	pthread_cond_destroy(&s->dcond);
	pthread_mutex_destroy(&s->rlock);
	pthread_cond_destroy(&s->rcond);
	free(s->path);
	free(s);
}

void
tly_store_set_notify(tly_store *s, tly_store_notify fn, void *arg)
{
	s->notify     = fn;
	s->notify_arg = arg;
}

void
tly_store_server_id(tly_store *s, unsigned char *id, unsigned char *secret)
{
	if (id != NULL)
		memcpy(id, s->sid, sizeof s->sid);
	if (secret != NULL)
		memcpy(secret, s->secret, sizeof s->secret);
}

void
tly_store_counters(
    tly_store *s, uint64_t *commits, uint64_t *ops, uint64_t *queued)
{
	*commits = atomic_load(&s->commits);
	*ops     = atomic_load(&s->ops);
	*queued  = atomic_load(&s->queued);
}

static struct reader *
reader_get(tly_store *s)
{
	pthread_mutex_lock(&s->rlock);
	for (;;) {
		for (int i = 0; i < s->nreaders; i++) {
			if (!s->readers[i].busy) {
				s->readers[i].busy = 1;
				pthread_mutex_unlock(&s->rlock);
				return (&s->readers[i]);
			}
		}
		pthread_cond_wait(&s->rcond, &s->rlock);
	}
}

static void
reader_put(tly_store *s, struct reader *r)
{
	pthread_mutex_lock(&s->rlock);
	r->busy = 0;
	pthread_cond_signal(&s->rcond);
	pthread_mutex_unlock(&s->rlock);
}

static int
account_row(sqlite3_stmt *st, struct tly_account *a)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return (TALLY_ENOENT);
	if (rc != SQLITE_ROW)
		return (tly_db_rc(rc));
	memset(a, 0, sizeof *a);
	a->id = sqlite3_column_int64(st, 0);
	if (sqlite3_column_bytes(st, 1) == TLY_KEY_BYTES)
		memcpy(a->pk, sqlite3_column_blob(st, 1), TLY_KEY_BYTES);
	a->created   = sqlite3_column_int64(st, 2);
	a->disabled  = sqlite3_column_int(st, 3);
	a->used      = (uint64_t) sqlite3_column_int64(st, 4);
	a->mail_head = (uint64_t) sqlite3_column_int64(st, 5);
	a->log_head  = (uint64_t) sqlite3_column_int64(st, 6);
	a->mails     = (uint32_t) sqlite3_column_int64(st, 7);
	return (0);
}

int
tly_store_account(tly_store *s, const unsigned char *pk, struct tly_account *a)
{
	struct reader *r  = reader_get(s);
	sqlite3_stmt  *st = r->st[R_ACCT_BY_PK];
	int            rv;

	sqlite3_bind_blob(st, 1, pk, TLY_KEY_BYTES, SQLITE_STATIC);
	rv = account_row(st, a);
	sqlite3_reset(st);
	reader_put(s, r);
	return (rv);
}

int
tly_store_account_id(tly_store *s, int64_t id, struct tly_account *a)
{
	struct reader *r  = reader_get(s);
	sqlite3_stmt  *st = r->st[R_ACCT_BY_ID];
	int            rv;

	sqlite3_bind_int64(st, 1, id);
	rv = account_row(st, a);
	sqlite3_reset(st);
	reader_put(s, r);
	return (rv);
}

int
tly_store_mail_list(tly_store *s, int64_t acct, uint64_t after, unsigned max,
    tly_buf *out, uint16_t *count, int *more)
{
	struct reader *r  = reader_get(s);
	sqlite3_stmt  *st = r->st[R_MAIL_LIST];
	int            rc, rv = 0;

	*count = 0;
	*more  = 0;
	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_int64(st, 2, (int64_t) after);
	sqlite3_bind_int64(st, 3, (int64_t) max + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*count >= max) {
			*more = 1;
			break;
		}
		if (sqlite3_column_bytes(st, 1) != TLY_MAIL_ID_BYTES) {
			rv = TALLY_ECORRUPT;
			break;
		}
		if ((rv = tly_buf_u64(
		         out, (uint64_t) sqlite3_column_int64(st, 0))) != 0 ||
		    (rv = tly_buf_append(out, sqlite3_column_blob(st, 1),
		         TLY_MAIL_ID_BYTES)) != 0 ||
		    (rv = tly_buf_u32(
		         out, (uint32_t) sqlite3_column_int64(st, 2))) != 0 ||
		    (rv = tly_buf_u64(
		         out, (uint64_t) sqlite3_column_int64(st, 3))) != 0)
			break;
		(*count)++;
	}
	if (rv == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		rv = tly_db_rc(rc);
	sqlite3_reset(st);
	reader_put(s, r);
	return (rv);
}

/* Appends the row at st as the wire's entry: column 0 and column 1 as
 * u64, then column 2 as a u32 length and its bytes (PROTOCOL.md, part 8). */
static int
append_entry(tly_buf *out, sqlite3_stmt *st)
{
	int n = sqlite3_column_bytes(st, 2);
	int rv;

	if ((rv = tly_buf_u64(out, (uint64_t) sqlite3_column_int64(st, 0))) !=
	        0 ||
	    (rv = tly_buf_u64(out, (uint64_t) sqlite3_column_int64(st, 1))) !=
	        0 ||
	    (rv = tly_buf_u32(out, (uint32_t) n)) != 0)
		return (rv);
	return (n > 0 ? tly_buf_append(out, sqlite3_column_blob(st, 2),
	                    (size_t) n)
	              : 0);
}

int
tly_store_mail_fetch(
    tly_store *s, int64_t acct, const unsigned char *id, tly_buf *out)
{
	struct reader *r  = reader_get(s);
	sqlite3_stmt  *st = r->st[R_MAIL_FETCH];
	int            rc, rv = 0;

	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_blob(st, 2, id, TLY_MAIL_ID_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if ((rv = tly_buf_append(out, id, TLY_MAIL_ID_BYTES)) == 0)
			rv = append_entry(out, st);
	} else if (rc == SQLITE_DONE) {
		rv = TALLY_ENOENT;
	} else {
		rv = tly_db_rc(rc);
	}
	sqlite3_reset(st);
	reader_put(s, r);
	return (rv);
}

int
tly_store_log_read(tly_store *s, int64_t acct, uint64_t after, unsigned max,
    size_t maxbytes, tly_buf *out, uint16_t *count, int *more)
{
	struct reader *r     = reader_get(s);
	sqlite3_stmt  *st    = r->st[R_LOG_READ];
	size_t         bytes = 0;
	int            rc, rv = 0, n;

	*count = 0;
	*more  = 0;
	sqlite3_bind_int64(st, 1, acct);
	sqlite3_bind_int64(st, 2, (int64_t) after);
	sqlite3_bind_int64(st, 3, (int64_t) max + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n = sqlite3_column_bytes(st, 2);
		if (*count >= max ||
		    (*count > 0 && bytes + (size_t) n > maxbytes)) {
			*more = 1;
			break;
		}
		bytes += (size_t) n;
		if ((rv = append_entry(out, st)) != 0)
			break;
		(*count)++;
	}
	if (rv == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		rv = tly_db_rc(rc);
	sqlite3_reset(st);
	reader_put(s, r);
	return (rv);
}

int
tly_store_accounts_text(tly_store *s, tly_buf *out)
{
	struct reader *r = reader_get(s);
	sqlite3_stmt  *st;
	char           hex[TLY_HEX_LEN(TLY_KEY_BYTES) + 1];
	char           when[TLY_ISO_LEN];
	int            rc, rv = 0;

	rc = sqlite3_prepare_v2(r->db,
	    "SELECT pk, created, disabled, used, "
	    "(SELECT count(*) FROM mail WHERE acct=a.id), log_head, "
	    "coalesce(invite, '-') FROM account a ORDER BY id",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		reader_put(s, r);
		return (tly_db_rc(rc));
	}
	rv = tly_buf_printf(out, "%-64s  %-20s  %-8s  %10s  %6s  %8s  %s\n",
	    "KEY", "CREATED", "STATE", "BYTES", "MAILS", "LOG", "INVITE");
	while (rv == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != TLY_KEY_BYTES)
			continue;
		tly_hex_encode(hex, sqlite3_column_blob(st, 0), TLY_KEY_BYTES);
		tly_time_iso(sqlite3_column_int64(st, 1), when);
		rv = tly_buf_printf(out,
		    "%s  %-20s  %-8s  %10lld  %6lld  %8lld  %s\n", hex, when,
		    sqlite3_column_int(st, 2) ? "disabled" : "active",
		    (long long) sqlite3_column_int64(st, 3),
		    (long long) sqlite3_column_int64(st, 4),
		    (long long) sqlite3_column_int64(st, 5),
		    (const char *) sqlite3_column_text(st, 6));
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_db_rc(rc);
	sqlite3_finalize(st);
	reader_put(s, r);
	return (rv);
}

int
tly_store_stats_text(tly_store *s, tly_buf *out)
{
	struct reader *r = reader_get(s);
	sqlite3_stmt  *st;
	int            rc, rv = 0;

	rc = sqlite3_prepare_v2(r->db,
	    "SELECT (SELECT count(*) FROM account),"
	    " (SELECT count(*) FROM account WHERE disabled),"
	    " (SELECT count(*) FROM mail),"
	    " (SELECT total(size) FROM mail),"
	    " (SELECT count(*) FROM log),"
	    " (SELECT total(size) FROM log),"
	    " (SELECT count(*) FROM invite WHERE used < uses)",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		reader_put(s, r);
		return (tly_db_rc(rc));
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		rv = tly_buf_printf(out,
		    "accounts %lld\naccounts_disabled %lld\nmails %lld\n"
		    "mail_bytes %lld\nlog_entries %lld\nlog_bytes %lld\n"
		    "invites_open %lld\n",
		    (long long) sqlite3_column_int64(st, 0),
		    (long long) sqlite3_column_int64(st, 1),
		    (long long) sqlite3_column_int64(st, 2),
		    (long long) sqlite3_column_double(st, 3),
		    (long long) sqlite3_column_int64(st, 4),
		    (long long) sqlite3_column_double(st, 5),
		    (long long) sqlite3_column_int64(st, 6));
	else
		rv = tly_db_rc(rc);
	sqlite3_finalize(st);
	reader_put(s, r);
	return (rv);
}

int
tly_store_backup(tly_store *s, const char *path, char *err, size_t errsz)
{
	struct reader *r = reader_get(s);
	sqlite3_stmt  *st;
	int            rc;

	if (access(path, F_OK) == 0) {
		reader_put(s, r);
		snprintf(err, errsz, "%s: file exists", path);
		return (TALLY_EEXIST);
	}
	rc = sqlite3_prepare_v2(r->db, "VACUUM INTO ?1", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			snprintf(
			    err, errsz, "%s: %s", path, sqlite3_errmsg(r->db));
		sqlite3_finalize(st);
	} else {
		snprintf(err, errsz, "%s: %s", path, sqlite3_errmsg(r->db));
	}
	reader_put(s, r);
	return (rc == SQLITE_DONE ? 0 : TALLY_EIO);
}

int
tly_store_check(tly_store *s)
{
	struct reader *r = reader_get(s);
	sqlite3_stmt  *st;
	int            rc, ok = 0;

	rc =
	    sqlite3_prepare_v2(r->db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    strcmp((const char *) sqlite3_column_text(st, 0), "ok") ==
		        0)
			ok = 1;
		sqlite3_finalize(st);
	}
	reader_put(s, r);
	return (ok ? 0 : TALLY_ECORRUPT);
}
