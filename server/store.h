/*
 * store.h -- the relay's storage: accounts, invites, mailboxes and logs.
 *
 * Writes are submitted as operations and committed in groups by one
 * writer thread on one long-lived writing connection (the only one in the
 * process); an operation's done callback runs only after the transaction
 * holding it is durable (synchronous=FULL), on the writer thread or, when
 * more writes wait, on the store's finisher thread.  Reads
 * run on a small pool of read-only connections, from any thread.
 *
 * Read functions append their items to a tly_buf in the wire layout of
 * proto/PROTOCOL.md (part 8), so that a reply is built without another copy.
 *
 * The SQLite implementation is store_sqlite.c; a store on another
 * database keeps these semantics: idempotent writes keyed by content hash,
 * per-account log sequence numbers, quota checked inside the transaction.
 */
#ifndef TLY_STORE_H
#define TLY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "tly_buf.h"

typedef struct tly_store tly_store;

struct tly_store_opts {
	int      readers;         /* read connections (default 4) */
	uint64_t quota;           /* bytes per account (0: unlimited) */
	int      commit_delay_ms; /* testing: sleep before each commit */
	int      discard_writes;  /* benchmarks only: puts and appends are
	                             answered without being stored */
	int      max_batch;       /* most operations per transaction */
};

enum tly_store_op_type {
	TLY_OP_REGISTER,      /* pk, invite (data) -> id */
	TLY_OP_PUT,           /* recipient pk, data -> mail id, seq, dup */
	TLY_OP_ACK,           /* acct, ids/nids -> count */
	TLY_OP_APPEND,        /* acct, data -> seq, dup */
	TLY_OP_EXPIRE,        /* before -> count */
	TLY_OP_INVITE_CREATE, /* uses, before (expiry) -> code */
	TLY_OP_DISABLE,       /* pk -> id */
	TLY_OP_NOOP,          /* a durability barrier */
	TLY_OP_TRIM           /* acct, upto -> count, seq (the floor) */
};

struct tly_store_op;
typedef void (*tly_store_done)(struct tly_store_op *op);

/* One write.  Inputs are borrowed until done runs; the caller keeps the
 * op alive until then. */
struct tly_store_op {
	int                  type; /* TLY_OP_* */
	int64_t              acct; /* account id (ack, append) */
	const unsigned char *pk;   /* register, put (recipient), disable */
	const unsigned char *data; /* put, append, register (invite) */
	size_t               datalen;
	const unsigned char *ids; /* ack */
	uint16_t             nids;
	int                  open;   /* register: registration is open */
	int64_t              uses;   /* invite create */
	int64_t              before; /* expire: cutoff; invite: expiry */
	uint64_t             upto;   /* trim: last log seq to drop */
	int64_t              now;    /* set by submit */
	/* results */
	int     rv;                 /* 0 or TALLY_E* */
	int64_t id;                 /* register, disable: account id;
	                               put: recipient id */
	uint64_t seq;                /* put, append; trim: the floor (every
	                                entry up to it is gone) */
	int                  dup;   /* put, append, register: existed */
	int64_t              count; /* ack, expire, trim */
	unsigned char        hash[TLY_MAIL_ID_BYTES]; /* put, append */
	char                 code[32];                /* invite create */
	tly_store_done       done;
	void                *arg;
	struct tly_store_op *next; /* queue link, store-owned */
};

/* Called on the writer thread after a commit, once per stored (not
 * duplicate) put or append: kind 'm' (mail) or 'l' (log). */
typedef void (*tly_store_notify)(void *arg, int64_t acct, int kind);

struct tly_account {
	int64_t       id;
	unsigned char pk[TLY_KEY_BYTES];
	int64_t       created;
	int           disabled;
	uint64_t      used;
	uint64_t      mail_head;
	uint64_t      log_head;
	uint32_t      mails;
};

/* Opens (creating) dir/tallyd.db, migrates it and starts the writer.
 * TALLY_EIO, TALLY_ECORRUPT, TALLY_ESCHEMA, TALLY_ENOMEM; err says why. */
int tly_store_open(tly_store **sp, const char *dir,
    const struct tly_store_opts *o, char *err, size_t errsz);
/* Commits the queued operations, stops the writer, closes the files. */
void tly_store_close(tly_store *s);
/* Sets the post-commit notification. */
void tly_store_set_notify(tly_store *s, tly_store_notify fn, void *arg);

/* Queues op; op->done runs once it is durable or failed.  After close
 * has begun, done runs at once with TALLY_EBUSY. */
void tly_store_submit(tly_store *s, struct tly_store_op *op);
/* Submits op and waits for it (for admin commands). */
int tly_store_run(tly_store *s, struct tly_store_op *op);

/* The server's persistent id and MAC secret (created on first open). */
void tly_store_server_id(
    tly_store *s, unsigned char *id, unsigned char *secret);

/* Looks an account up by key.  TALLY_ENOENT. */
int tly_store_account(
    tly_store *s, const unsigned char *pk, struct tly_account *a);
/* Looks an account up by id, with its usage.  TALLY_ENOENT. */
int tly_store_account_id(tly_store *s, int64_t id, struct tly_account *a);

/* Appends up to max mail items of acct with seq > after to out (list
 * reply layout); *count items, *more if more remain. */
int tly_store_mail_list(tly_store *s, int64_t acct, uint64_t after,
    unsigned max, tly_buf *out, uint16_t *count, int *more);
/* Appends id, seq, received and the envelope (fetch reply layout).
 * TALLY_ENOENT if acct has no such mail. */
int tly_store_mail_fetch(
    tly_store *s, int64_t acct, const unsigned char *id, tly_buf *out);
/* Appends log entries of acct with seq > after, at most max items and
 * (past the first) maxbytes data bytes (read reply layout). */
int tly_store_log_read(tly_store *s, int64_t acct, uint64_t after,
    unsigned max, size_t maxbytes, tly_buf *out, uint16_t *count, int *more);

/* Appends a human-readable table of accounts to out. */
int tly_store_accounts_text(tly_store *s, tly_buf *out);
/* Appends "name value" lines (accounts, mails, entries, bytes...). */
int tly_store_stats_text(tly_store *s, tly_buf *out);
/* Writes a consistent copy of the database to path (VACUUM INTO on a
 * read connection).  TALLY_EEXIST if path exists, TALLY_EIO. */
int tly_store_backup(tly_store *s, const char *path, char *err, size_t errsz);
/* Runs PRAGMA integrity_check on a read connection: 0 or TALLY_ECORRUPT. */
int tly_store_check(tly_store *s);

/* Numbers for metrics: transactions committed, operations committed. */
void tly_store_counters(
    tly_store *s, uint64_t *commits, uint64_t *ops, uint64_t *queued);

#endif /* TLY_STORE_H */
