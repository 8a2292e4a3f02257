/*
 * sync.c -- `tally sync` for the replica: my operations up to the account
 * log, the other devices' down from it (PROTOCOL.md, part 10).
 *
 * A sync pulls, then pushes.
 *
 * Pull: log entries after this device's cursor ('cursor' in sync_state)
 * are read in chunks; each chunk is applied and the cursor moved in one
 * transaction, so a chunk counts either wholly or not at all, and an
 * entry read twice changes nothing anyway.  An entry written by this
 * device is skipped (its operations are here); one that does not
 * authenticate, or is sealed with a key no device announced, is ignored
 * (counted), so that nobody can stop the others' syncs with it.  A keys
 * entry brings a
 * new replica key (sealed to this device) and ends the devices it does
 * not name; after it, an ops entry sealed with an older key is not
 * applied: a device that has been revoked can still append, and an
 * honest device that raced the rotation finds its own entry among those
 * and pushes its operations again under the new key.
 *
 * Push: my operations after 'pushed' become batches, sealed with the
 * newest replica key and kept in sync_outbox in the same transaction
 * that moves 'pushed'; a batch leaves the outbox only once the relay
 * has acknowledged it.  The relay stores an entry once per content
 * (its hash), so a batch sent again after a crash, with the same bytes,
 * is not stored twice.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "ident_int.h"
#include "relay_int.h"
#include "sync_int.h"
#include "tly_enc.h"

#define PULL_MAX_BYTES (4u << 20) /* per read request */
#define BATCH_BYTES (768u << 10)  /* a batch's plaintext, at most */
#define BATCH_MIN (4u << 10)
#define PULL_CACHE (-256 * 1024) /* KiB of page cache while pulling */

/* -- sync_state --------------------------------------------------------- */

int
tly_sync_get(tally *t, const char *k, int64_t *v)
{
	sqlite3_stmt *st;
	int           rc;

	if ((st = tly_stmt(t, "SELECT v FROM sync_state WHERE k = ?1")) ==
	    NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	*v = 0;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (tly_dberr(t, "reading the sync state"));
	return (0);
}

int
tly_sync_set(tally *t, const char *k, int64_t v)
{
	sqlite3_stmt *st;

	if ((st = tly_stmt(t, "INSERT OR REPLACE INTO sync_state(k, v)"
	                      " VALUES (?1, ?2)")) == NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	return (tly_step_done(t, st, "saving the sync state"));
}

/* -- Keys ---------------------------------------------------------------- */

int
tly_sync_key(tally *t, uint32_t epoch, unsigned char *key)
{
	sqlite3_stmt *st;
	int           rc, rv = TALLY_ENOENT;

	if ((st = tly_stmt(t, epoch == 0
	             ? "SELECT epoch, key FROM sync_key ORDER BY epoch DESC"
	               " LIMIT 1"
	             : "SELECT epoch, key FROM sync_key WHERE epoch = ?1")) ==
	    NULL)
		return (TALLY_EINTERNAL);
	if (epoch != 0)
		sqlite3_bind_int64(st, 1, epoch);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_bytes(st, 1) == TLY_SYNC_KEY_BYTES) {
		memcpy(key, sqlite3_column_blob(st, 1), TLY_SYNC_KEY_BYTES);
		rv = (int) sqlite3_column_int64(st, 0);
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		rv = -tly_dberr(t, "reading the replica key");
	sqlite3_reset(st);
	/* > 0: the epoch; TALLY_ENOENT, or -code */
	return (rv);
}

int
tly_sync_key_put(tally *t, uint32_t epoch, const unsigned char *key)
{
	sqlite3_stmt *st;

	if ((st = tly_stmt(t, "INSERT OR IGNORE INTO sync_key(epoch, key,"
	                      " created) VALUES (?1, ?2, ?3)")) == NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_int64(st, 1, epoch);
	sqlite3_bind_blob(st, 2, key, TLY_SYNC_KEY_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, tly_now());
	return (tly_step_done(t, st, "storing the replica key"));
}

int
tly_sync_key_ensure(tally *t, unsigned char *key)
{
	int e, rv;

	if ((e = tly_sync_key(t, 0, key)) != TALLY_ENOENT)
		return (e);
	/* The first device: the first replica key. */
	randombytes_buf(key, TLY_SYNC_KEY_BYTES);
	if ((rv = tly_sync_key_put(t, 1, key)) != 0) {
		sodium_memzero(key, TLY_SYNC_KEY_BYTES);
		return (-rv);
	}
	return (1);
}

int
tly_sync_device_keys(tally *t, unsigned char *pk, unsigned char *sk)
{
	sqlite3_stmt *st;
	unsigned char seed[32];
	int           rc, have = 0;

	if ((st = tly_stmt(t, "SELECT v FROM sync_state WHERE k = 'devseed'")) ==
	    NULL)
		return (TALLY_EINTERNAL);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_bytes(st, 0) == (int) sizeof seed) {
		memcpy(seed, sqlite3_column_blob(st, 0), sizeof seed);
		have = 1;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (tly_dberr(t, "reading the device key"));
	if (!have) {
		randombytes_buf(seed, sizeof seed);
		if ((st = tly_stmt(t, "INSERT OR REPLACE INTO sync_state(k, v)"
		                      " VALUES ('devseed', ?1)")) == NULL)
			return (TALLY_EINTERNAL);
		sqlite3_bind_blob(st, 1, seed, sizeof seed, SQLITE_TRANSIENT);
		if ((rc = tly_step_done(t, st, "storing the device key")) !=
		    0) {
			sodium_memzero(seed, sizeof seed);
			return (rc);
		}
	}
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof seed);
	return (0);
}

void
tly_sync_device_id(char *out, uint64_t dev)
{
	snprintf(out, TLY_SYNC_DEVID_LEN + 1, "%016llx",
	    (unsigned long long) dev);
}

int
tly_sync_device_row(tally *t, const char *name)
{
	unsigned char pk[32], sk[64];
	char          id[TLY_SYNC_DEVID_LEN + 1], host[TLY_LINK_NAME_MAX + 1];
	uint64_t      dev;
	sqlite3_stmt *st;
	int           rv;

	if ((rv = tly_sync_device(t, &dev)) != 0 ||
	    (rv = tly_sync_device_keys(t, pk, sk)) != 0)
		return (rv);
	sodium_memzero(sk, sizeof sk);
	tly_sync_device_id(id, dev);
	if (name == NULL) {
		if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
			snprintf(host, sizeof host, "device %.8s", id);
		host[sizeof host - 1] = '\0';
		for (char *c = host; *c; c++)
			if ((unsigned char) *c < 0x20 || *c == 0x7f)
				*c = '?';
		name = host;
	}
	if ((st = tly_stmt(t, "INSERT INTO device(id, name, pk, created)"
	                      " SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS"
	                      " (SELECT 1 FROM device WHERE id = ?1)")) ==
	    NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	tly_bind_text(st, 2, name);
	sqlite3_bind_blob(st, 3, pk, sizeof pk, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, tly_now());
	return (tly_step_done(t, st, "recording this device"));
}

/* Reloads "me" after a pull: the user may have come from another
 * device. */
static int
reload_me(tally *t)
{
	sqlite3_stmt *st = tly_stmt(t, "SELECT id FROM person WHERE is_me");
	int           rc;

	if (st == NULL)
		return (TALLY_EINTERNAL);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		snprintf(t->me, sizeof t->me, "%s", tly_col_text(st, 0));
	sqlite3_reset(st);
	return (rc == SQLITE_ROW || rc == SQLITE_DONE
	        ? 0
	        : tly_dberr(t, "reading the replica"));
}

/* -- Pull ------------------------------------------------------------- */

/* My own entry under an epoch that a rotation before it ended: nobody
 * applied it; push its operations again. */
static int
requeue(tally *t, const struct tly_sync_hdr *h, const unsigned char *p,
    size_t n, tly_buf *pt)
{
	unsigned char      key[TLY_SYNC_KEY_BYTES];
	struct tly_sync_op op;
	size_t             off = 0;
	uint32_t           count = 0;
	int64_t            pushed;
	uint64_t           first = UINT64_MAX;
	int                e, r;

	if ((e = tly_sync_key(t, h->epoch, key)) < 0)
		return (-e);
	if (e == TALLY_ENOENT)
		return (0);
	e = tly_sync_open(pt, h, key, p, n);
	sodium_memzero(key, sizeof key);
	if (e != 0)
		return (0); /* not mine after all */
	while ((r = tly_sync_batch_next(pt->p, pt->len, &off, &count, &op)) ==
	    1)
		if (op.clock < first)
			first = op.clock;
	if (r < 0 || first == UINT64_MAX)
		return (0);
	if ((e = tly_sync_get(t, "pushed", &pushed)) != 0)
		return (e);
	if ((uint64_t) pushed >= first)
		return (tly_sync_set(t, "pushed", (int64_t) first - 1));
	return (0);
}

/* A keys entry: checked against the writer's device key; my sealed key
 * stored; the devices it leaves out ended. */
static int
pull_keys(tally *t, const struct tly_sync_hdr *h, const unsigned char *p,
    size_t n, uint64_t me, struct tly_sync_pull *pl)
{
	struct tly_sync_sealed keys[TLY_SYNC_KEYS_MAX];
	unsigned char          pk[32], sk[64], xpk[32], xsk[32];
	unsigned char          key[TLY_SYNC_KEY_BYTES];
	char                   id[TLY_SYNC_DEVID_LEN + 1];
	sqlite3_stmt          *st;
	size_t                 nk;
	int                    rc, e, found = 0, rv = 0;
	int64_t                rotated;

	tly_sync_device_id(id, h->device);
	if ((st = tly_stmt(t, "SELECT pk FROM device WHERE id = ?1 AND"
	                      " revoked IS NULL")) == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32)
		memcpy(pk, sqlite3_column_blob(st, 0), 32);
	else
		rc = rc == SQLITE_ROW ? SQLITE_DONE : rc;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (tly_dberr(t, "reading the devices"));
	if ((e = tly_sync_get(t, "rotated", &rotated)) != 0)
		return (e);
	if (rc == SQLITE_DONE || h->epoch <= (uint32_t) rotated ||
	    tly_sync_keys_decode(h, p, n, pk, keys, &nk) != 0) {
		/* Not from a device of mine, stale, or forged: ignored. */
		pl->ignored++;
		return (0);
	}
	for (size_t i = 0; i < nk; i++)
		if (keys[i].device == me)
			found = (int) i + 1;
	if (found) {
		if ((rv = tly_sync_device_keys(t, pk, sk)) != 0)
			return (rv);
		if (crypto_sign_ed25519_pk_to_curve25519(xpk, pk) != 0 ||
		    crypto_sign_ed25519_sk_to_curve25519(xsk, sk) != 0 ||
		    crypto_box_seal_open(key, keys[found - 1].sealed,
		        TLY_SYNC_SEALED, xpk, xsk) != 0)
			rv = tly_seterr(t, TALLY_ECRYPTO,
			    "a new replica key sealed to this device does "
			    "not open");
		else
			rv = tly_sync_key_put(t, h->epoch, key);
		sodium_memzero(sk, sizeof sk);
		sodium_memzero(xsk, sizeof xsk);
		sodium_memzero(key, sizeof key);
		if (rv != 0)
			return (rv);
	}
	/* The devices left out are ended (their own operation saying so
	 * follows, sealed with the new key). */
	if ((st = tly_stmt(t, "SELECT id FROM device WHERE revoked IS NULL")) ==
	    NULL)
		return (TALLY_EINTERNAL);
	{
		char   ended[TLY_SYNC_KEYS_MAX][TLY_SYNC_DEVID_LEN + 1];
		size_t ne = 0;

		while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
		    ne < TLY_SYNC_KEYS_MAX) {
			const char *d = tly_col_text(st, 0);
			int         kept = 0;

			for (size_t i = 0; d != NULL && i < nk; i++) {
				char kid[TLY_SYNC_DEVID_LEN + 1];

				tly_sync_device_id(kid, keys[i].device);
				kept |= strcmp(kid, d) == 0;
			}
			if (d != NULL && !kept)
				snprintf(ended[ne++], sizeof ended[0], "%s", d);
		}
		sqlite3_reset(st);
		if ((st = tly_stmt(t, "UPDATE device SET revoked = ?2"
		                      " WHERE id = ?1 AND revoked IS NULL")) ==
		    NULL)
			return (TALLY_EINTERNAL);
		for (size_t i = 0; rv == 0 && i < ne; i++) {
			tly_bind_text(st, 1, ended[i]);
			sqlite3_bind_int64(st, 2, tly_now());
			rv = tly_step_done(t, st, "ending a device");
		}
	}
	if (rv == 0)
		rv = tly_sync_set(t, "rotated", h->epoch);
	if (rv == 0 && !found) {
		e = tly_sync_key(t, h->epoch, key);
		sodium_memzero(key, sizeof key);
		if (e < 0)
			return (-e);
		if (e == TALLY_ENOENT)
			rv = tly_sync_set(t, "revoked", h->epoch);
	}
	pl->keys++;
	return (rv);
}

int
tly_sync_pull_entry(tally *t, uint64_t seq, const unsigned char *p,
    size_t n, struct tly_sync_pull *pl)
{
	struct tly_sync_hdr h;
	struct tly_sync_op  op;
	unsigned char       key[TLY_SYNC_KEY_BYTES];
	uint64_t            me;
	int64_t             rotated;
	size_t              off = 0;
	uint32_t            count = 0;
	int                 rv, e, r;

	if ((rv = tly_sync_device(t, &me)) != 0)
		return (rv);
	if ((rv = tly_sync_hdr_decode(&h, p, n)) != 0)
		return (tly_seterr(t, rv,
		    "log entry %llu is not a sync batch this tally reads",
		    (unsigned long long) seq));
	if (h.type == TLY_SYNC_KEYS)
		return (pull_keys(t, &h, p, n, me, pl));
	if ((rv = tly_sync_get(t, "rotated", &rotated)) != 0)
		return (rv);
	if (h.epoch < (uint32_t) rotated) {
		if (h.device == me)
			return (requeue(t, &h, p, n, &pl->pt));
		pl->ignored++;
		return (0);
	}
	if (h.device == me) {
		pl->own++;
		return (0);
	}
	if ((e = tly_sync_key(t, h.epoch, key)) < 0)
		return (-e);
	if (e == TALLY_ENOENT) {
		int64_t revoked;

		if ((rv = tly_sync_get(t, "revoked", &revoked)) != 0)
			return (rv);
		if (revoked != 0)
			return (tly_seterr(t, TALLY_EPERM,
			    "this device was revoked: the replica key changed "
			    "without it (link it again with 'tally device "
			    "link')"));
		/* Sealed with a key no device of mine announced: not from
		 * this replica (or forged by a device that still holds the
		 * identity).  Ignored, so that it cannot stop the others. */
		pl->ignored++;
		return (0);
	}
	rv = tly_sync_open(&pl->pt, &h, key, p, n);
	sodium_memzero(key, sizeof key);
	if (rv != 0) {
		/* Not written with the replica key: what the relay may not
		 * do.  Dropping it is all a relay can do to us anyway. */
		pl->ignored++;
		return (0);
	}
	while ((r = tly_sync_batch_next(
	            pl->pt.p, pl->pt.len, &off, &count, &op)) == 1)
		if ((rv = tly_sync_apply_op(t, h.device, &op, &pl->st)) != 0)
			return (rv);
	if (r < 0)
		return (tly_seterr(t, TALLY_EFORMAT,
		    "log entry %llu: a malformed batch",
		    (unsigned long long) seq));
	pl->entries++;
	return (0);
}

/* Sets the page cache (PRAGMA cache_size: pages, or -KiB), the old
 * setting to *old (may be NULL).  A big pull's indexes stay in memory
 * until its commit. */
static void
cache_set(tally *t, int64_t v, int64_t *old)
{
	sqlite3_stmt *st;
	char          sql[96];

	if (old != NULL) {
		*old = -2000; /* SQLite's default */
		if (sqlite3_prepare_v2(t->db, "PRAGMA cache_size", -1, &st,
		        NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				*old = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
	}
	snprintf(sql, sizeof sql,
	    "PRAGMA main.cache_size = %lld; PRAGMA temp.cache_size = %lld",
	    (long long) v, (long long) v);
	(void) sqlite3_exec(t->db, sql, NULL, NULL, NULL);
}

static int
pull(tally *t, const struct tly_sync_io *io, void *arg,
    struct tly_sync_pull *pl, const tally_sync_opts *o, uint64_t total)
{
	struct tly_relay_entry *e = NULL;
	size_t                  n, i;
	int64_t                 cursor, cache;
	int                     more = 1, rv = 0, fresh = 0;
	uint64_t                done = 0;

	if ((rv = tly_sync_get(t, "cursor", &cursor)) != 0)
		return (rv);
	cache_set(t, PULL_CACHE, &cache);
	/* A new replica takes its whole first pull in one transaction. */
	if ((rv = tly_begin(t)) != 0)
		goto out;
	if ((rv = tly_sync_apply_begin(t)) == 0 &&
	    (fresh = tly_sync_fresh_begin(t)) < 0)
		rv = -fresh;
	if (rv != 0 || !fresh) {
		if (rv == 0)
			rv = tly_sync_apply_end(t, &pl->st);
		if (rv == 0)
			rv = tly_commit(t);
		else
			tly_rollback(t);
		if (rv != 0)
			goto out;
	}
	while (more && rv == 0) {
		if ((rv = io->read(arg, (uint64_t) cursor, PULL_MAX_BYTES, &e,
		         &n, &more)) != 0) {
			tly_seterr(t, rv, "reading the log: %s",
			    io->errmsg(arg));
			break;
		}
		if (n == 0)
			break;
		if (!fresh && (rv = tly_begin(t)) != 0)
			break;
		if (!fresh)
			rv = tly_sync_apply_begin(t);
		for (i = 0; rv == 0 && i < n; i++) {
			if (e[i].seq <= (uint64_t) cursor) {
				rv = tly_seterr(t, TALLY_EPROTO,
				    "the relay sent log entries out of order");
				break;
			}
			pl->bytes += e[i].len;
			rv = tly_sync_pull_entry(t, e[i].seq, e[i].data, e[i].len,
			    pl);
			if (rv == 0)
				cursor = (int64_t) e[i].seq;
		}
		if (!fresh) {
			if (rv == 0)
				rv = tly_sync_apply_end(t, &pl->st);
			if (rv == 0)
				rv = tly_sync_set(t, "cursor", cursor);
			if (rv == 0)
				rv = tly_commit(t);
			else
				tly_rollback(t);
		}
		done += n;
		tly_relay_entries_free(e, n);
		e = NULL;
		if (rv == 0 && o != NULL && o->progress != NULL)
			o->progress(o->arg, "pull", done,
			    total > done ? total : done);
	}
	if (fresh) {
		if (rv == 0)
			rv = tly_sync_fresh_end(t, &pl->st);
		if (rv == 0)
			rv = tly_sync_apply_end(t, &pl->st);
		if (rv == 0)
			rv = tly_sync_set(t, "cursor", cursor);
		if (rv == 0)
			rv = tly_commit(t);
		else {
			tly_sync_fresh_abort(t);
			tly_rollback(t);
		}
	}
out:
	cache_set(t, cache, NULL);
	if (rv == 0)
		rv = reload_me(t);
	return (rv);
}

/* -- Push ------------------------------------------------------------- */

/* My operations after a clock, in order, an insert ('*') with the row's
 * fields as they are (NULL and a 1 in column 4 when the row is gone). */
#define PUSH_ROW(no, tab, key, LIST)                                         \
	" WHEN " no " THEN (SELECT " TLY_SYNC_ROW_JSON(LIST, "r") " FROM "    \
	tab " r WHERE r." key " = o.key)"
#define PUSH_OPS                                                             \
	"SELECT o.clock, o.tbl, o.key, CASE WHEN o.cols = '" TLY_SYNC_ROW     \
	"' THEN CASE o.tbl"                                                  \
	PUSH_ROW("1", "person", "id", TLY_SYNC_PERSON)                        \
	PUSH_ROW("2", "interaction", "id", TLY_SYNC_INTERACTION)              \
	PUSH_ROW("3", "introduction", "id", TLY_SYNC_INTRODUCTION)            \
	PUSH_ROW("4", "favor", "id", TLY_SYNC_FAVOR)                          \
	PUSH_ROW("5", "reference", "id", TLY_SYNC_REFERENCE)                  \
	PUSH_ROW("6", "reference_use", "id", TLY_SYNC_REFERENCE_USE)          \
	PUSH_ROW("7", "peer", "person", TLY_SYNC_PEER)                        \
	PUSH_ROW("8", "record", "id", TLY_SYNC_RECORD)                        \
	PUSH_ROW("9", "device", "id", TLY_SYNC_DEVICE)                        \
	" END ELSE o.cols END, o.cols = '" TLY_SYNC_ROW "'"                  \
	" FROM sync_op o WHERE o.dev = ?1 AND o.clock > ?2 ORDER BY o.clock"

/* Seals my next batch of operations into the outbox.  *made is 0 when
 * there was nothing left to push. */
static int
make_batch(tally *t, struct tly_sync_push *ps, int *made)
{
	unsigned char      key[TLY_SYNC_KEY_BYTES];
	struct tly_sync_op op;
	sqlite3_stmt      *st;
	uint64_t           me;
	int64_t            pushed, limit, first = 0, last = 0, revoked;
	uint32_t           nops = 0;
	int                rc, rv, e;

	*made = 0;
	if ((rv = tly_begin(t)) != 0)
		return (rv);
	if ((rv = tly_sync_device(t, &me)) != 0 ||
	    (rv = tly_sync_get(t, "pushed", &pushed)) != 0 ||
	    (rv = tly_sync_get(t, "batch", &limit)) != 0 ||
	    (rv = tly_sync_get(t, "revoked", &revoked)) != 0)
		goto fail;
	if (revoked != 0) {
		rv = tly_seterr(t, TALLY_EPERM,
		    "this device was revoked: its changes stay here (link it "
		    "again with 'tally device link')");
		goto fail;
	}
	if (limit <= 0)
		limit = BATCH_BYTES;
	if ((e = tly_sync_key_ensure(t, key)) < 0) {
		rv = -e;
		goto fail;
	}
	if ((rv = tly_sync_batch_begin(&ps->pt)) != 0) {
		rv = tly_seterr(t, rv, "out of memory");
		goto fail;
	}
	if ((st = tly_stmt(t, PUSH_OPS)) == NULL) {
		rv = TALLY_EINTERNAL;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, (int64_t) me);
	sqlite3_bind_int64(st, 2, pushed);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		op.clock   = (uint64_t) sqlite3_column_int64(st, 0);
		op.table   = (uint8_t) sqlite3_column_int(st, 1);
		op.key     = sqlite3_column_text(st, 2);
		op.keylen  = (size_t) sqlite3_column_bytes(st, 2);
		op.cols    = sqlite3_column_type(st, 3) == SQLITE_NULL
		       ? NULL
		       : sqlite3_column_text(st, 3);
		op.colslen = (size_t) sqlite3_column_bytes(st, 3);
		if (op.cols == NULL && sqlite3_column_int(st, 4)) {
			/* An insert of a row gone since (its delete is to
			 * come): nothing to send. */
			last = (int64_t) op.clock;
			continue;
		}
		if ((rv = tly_sync_batch_add(&ps->pt, &op)) != 0) {
			rv = tly_seterr(t, rv,
			    rv == TALLY_ENOMEM ? "out of memory"
			                       : "an operation too large to "
			                         "sync");
			break;
		}
		if (nops++ == 0)
			first = (int64_t) op.clock;
		last = (int64_t) op.clock;
		if ((int64_t) ps->pt.len >= limit)
			break;
	}
	sqlite3_reset(st);
	if (rv == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading my operations");
	if (rv == 0 && nops == 0 && last > pushed) {
		/* only inserts of rows gone since */
		if ((rv = tly_sync_set(t, "pushed", last)) != 0)
			goto fail;
		*made = 1;
		return (tly_commit(t));
	}
	if (rv != 0 || nops == 0)
		goto fail;
	tly_buf_reset(&ps->ct);
	if ((rv = tly_sync_seal(&ps->ct, (uint32_t) e, me, key, ps->pt.p,
	         ps->pt.len)) != 0) {
		rv = tly_seterr(t, rv, "out of memory");
		goto fail;
	}
	if ((st = tly_stmt(t, "INSERT INTO sync_outbox(data, nops, first,"
	                      " epoch) VALUES (?1, ?2, ?3, ?4)")) == NULL) {
		rv = TALLY_EINTERNAL;
		goto fail;
	}
	sqlite3_bind_blob(st, 1, ps->ct.p, (int) ps->ct.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, nops);
	sqlite3_bind_int64(st, 3, first);
	sqlite3_bind_int64(st, 4, e);
	if ((rv = tly_step_done(t, st, "keeping a batch to send")) != 0 ||
	    (rv = tly_sync_set(t, "pushed", last)) != 0)
		goto fail;
	sodium_memzero(key, sizeof key);
	*made = 1;
	return (tly_commit(t));
fail:
	sodium_memzero(key, sizeof key);
	tly_rollback(t);
	return (rv);
}

/* Sends the oldest batch of the outbox.  *sent is 0 when it was empty. */
static int
send_batch(tally *t, const struct tly_sync_io *io, void *arg,
    struct tly_sync_push *ps, int *sent)
{
	sqlite3_stmt *st;
	int64_t       n = 0, nops = 0, first = 0, cursor, limit;
	uint64_t      seq;
	int           rc, rv, e;

	*sent = 0;
	if ((st = tly_stmt(t, "SELECT n, data, nops, first FROM sync_outbox"
	                      " ORDER BY n LIMIT 1")) == NULL)
		return (TALLY_EINTERNAL);
	tly_buf_reset(&ps->ct);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n     = sqlite3_column_int64(st, 0);
		nops  = sqlite3_column_int64(st, 2);
		first = sqlite3_column_int64(st, 3);
		rv    = tly_buf_append(&ps->ct, sqlite3_column_blob(st, 1),
		       (size_t) sqlite3_column_bytes(st, 1));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return (0);
	if (rc != SQLITE_ROW)
		return (tly_dberr(t, "reading the outbox"));
	if (rv != 0)
		return (tly_seterr(t, rv, "out of memory"));
	e = io->append(arg, ps->ct.p, ps->ct.len, &seq);
	if ((rv = tly_begin(t)) != 0)
		return (rv);
	if (e == TALLY_ETOOBIG && nops > 0) {
		/* The relay takes smaller entries: make this one again,
		 * smaller. */
		if ((rv = tly_sync_get(t, "batch", &limit)) != 0)
			goto fail;
		if (limit <= 0)
			limit = BATCH_BYTES;
		if (limit / 2 < BATCH_MIN) {
			rv = tly_seterr(t, e, "the relay refuses even small "
			                      "batches as too large");
			goto fail;
		}
		if ((rv = tly_sync_set(t, "batch", limit / 2)) != 0 ||
		    (rv = tly_sync_set(t, "pushed", first - 1)) != 0)
			goto fail;
		if ((st = tly_stmt(t, "DELETE FROM sync_outbox")) == NULL) {
			rv = TALLY_EINTERNAL;
			goto fail;
		}
		if ((rv = tly_step_done(t, st, "resizing batches")) != 0)
			goto fail;
		*sent = 1;
		return (tly_commit(t));
	}
	if (e != 0) {
		tly_rollback(t);
		return (tly_seterr(t, e, "sending to the log: %s",
		    io->errmsg(arg)));
	}
	if ((st = tly_stmt(t, "DELETE FROM sync_outbox WHERE n = ?1")) ==
	    NULL) {
		rv = TALLY_EINTERNAL;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, n);
	if ((rv = tly_step_done(t, st, "clearing the outbox")) != 0 ||
	    (rv = tly_sync_get(t, "cursor", &cursor)) != 0)
		goto fail;
	/* Nobody wrote between: no need to read my own entry back. */
	if (seq == (uint64_t) cursor + 1 &&
	    (rv = tly_sync_set(t, "cursor", (int64_t) seq)) != 0)
		goto fail;
	ps->ops += (size_t) nops;
	ps->batches++;
	ps->bytes += ps->ct.len;
	*sent = 1;
	return (tly_commit(t));
fail:
	tly_rollback(t);
	return (rv);
}

int
tly_sync_pending(tally *t, uint64_t *up)
{
	sqlite3_stmt *st;
	uint64_t      me;
	int64_t       pushed;
	int           rv, rc;

	if ((rv = tly_sync_device(t, &me)) != 0 ||
	    (rv = tly_sync_get(t, "pushed", &pushed)) != 0)
		return (rv);
	if ((st = tly_stmt(t, "SELECT (SELECT count(*) FROM sync_op"
	                      " WHERE dev = ?1 AND clock > ?2) +"
	                      " (SELECT total(nops) FROM sync_outbox)")) ==
	    NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_int64(st, 1, (int64_t) me);
	sqlite3_bind_int64(st, 2, pushed);
	rc  = sqlite3_step(st);
	*up = rc == SQLITE_ROW ? (uint64_t) sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return (rc == SQLITE_ROW ? 0 : tly_dberr(t, "counting operations"));
}

static int
push(tally *t, const struct tly_sync_io *io, void *arg,
    struct tly_sync_push *ps, const tally_sync_opts *o)
{
	uint64_t total;
	int      rv, sent, made;

	if ((rv = tly_sync_pending(t, &total)) != 0)
		return (rv);
	for (;;) {
		if ((rv = send_batch(t, io, arg, ps, &sent)) != 0)
			return (rv);
		if (sent) {
			if (o != NULL && o->progress != NULL)
				o->progress(o->arg, "push", ps->ops,
				    total > ps->ops ? total : ps->ops);
			continue;
		}
		if ((rv = make_batch(t, ps, &made)) != 0)
			return (rv);
		if (!made)
			return (0);
	}
}

int
tly_sync_run(tally *t, const struct tly_sync_io *io, void *arg,
    tally_sync_stats *st, const tally_sync_opts *o, uint64_t head)
{
	struct tly_sync_pull pl;
	struct tly_sync_push ps;
	int64_t              cursor;
	int                  rv;

	memset(&pl, 0, sizeof pl);
	memset(&ps, 0, sizeof ps);
	memset(st, 0, sizeof *st);
	if (t->readonly)
		return (tly_seterr(t, TALLY_EREADONLY,
		    "the replica is open read-only"));
	if ((rv = tly_sync_get(t, "cursor", &cursor)) != 0)
		return (rv);
	rv = pull(t, io, arg, &pl, o,
	    head > (uint64_t) cursor ? head - (uint64_t) cursor : 0);
	/* This device is one of the person's devices. */
	if (rv == 0)
		rv = tly_sync_device_row(t, NULL);
	if (rv == 0)
		rv = push(t, io, arg, &ps, o);
	if (rv == 0)
		rv = tly_sync_set(t, "last_sync", tly_now());
	st->pulled     = pl.st.ops;
	st->applied    = pl.st.applied;
	st->skipped    = pl.st.skipped;
	st->entries    = pl.entries;
	st->ignored    = pl.ignored;
	st->bytes_down = pl.bytes;
	st->pushed     = ps.ops;
	st->batches_up = ps.batches;
	st->bytes_up   = ps.bytes;
	tly_buf_free(&pl.pt);
	tly_buf_free(&ps.pt);
	tly_buf_free(&ps.ct);
	return (rv);
}

/* -- Over the relay ---------------------------------------------------- */

static int
relay_append(void *arg, const void *p, size_t n, uint64_t *seq)
{
	return (tly_relay_append(arg, p, n, seq, NULL));
}

static int
relay_read(void *arg, uint64_t after, size_t maxbytes,
    struct tly_relay_entry **e, size_t *n, int *more)
{
	return (tly_relay_read(arg, after, TLY_LIST_MAX, maxbytes, e, n, more));
}

static const char *
relay_errmsg(void *arg)
{
	return (tly_relay_errmsg(arg));
}

const struct tly_sync_io tly_sync_relay_io = { relay_append, relay_read,
	relay_errmsg };

int
tally_log_sync(tally *t, tally_sync_stats *st, const tally_sync_opts *o)
{
	struct tly_relay_info info;
	tally_sync_stats      dummy;
	tly_relay            *r;
	char                  url[TALLY_URL_MAX];
	int                   rv;

	if (st == NULL)
		st = &dummy;
	memset(st, 0, sizeof *st);
	if ((rv = tly_relay_connect(t, &r, url)) != 0)
		return (rv);
	if ((rv = tly_relay_info(r, &info)) != 0) {
		if (rv == TALLY_EAUTH)
			tly_seterr(t, rv,
			    "%s: the relay does not know this identity (run "
			    "'tally relay register')",
			    url);
		else
			tly_seterr(t, rv, "%s: %s", url, tly_relay_errmsg(r));
		tly_relay_close(r);
		return (rv);
	}
	rv = tly_sync_run(t, &tly_sync_relay_io, r, st, o, info.log_head);
	tly_relay_close(r);
	return (rv);
}

int
tally_log_sync_status(tally *t, tally_sync_state *s, int ask_relay)
{
	struct tly_relay_info info;
	unsigned char         key[TLY_SYNC_KEY_BYTES];
	tly_relay            *r;
	char                  url[TALLY_URL_MAX];
	uint64_t              dev;
	int64_t               v;
	int                   rv, e;

	memset(s, 0, sizeof *s);
	s->pending_down = -1;
	if ((rv = tly_sync_device(t, &dev)) != 0 ||
	    (rv = tly_sync_pending(t, &s->pending_up)) != 0)
		return (rv);
	tly_sync_device_id(s->device, dev);
	if ((rv = tly_sync_get(t, "last_sync", &s->last_sync)) != 0 ||
	    (rv = tly_sync_get(t, "cursor", &v)) != 0)
		return (rv);
	s->cursor = (uint64_t) v;
	if ((rv = tly_sync_get(t, "revoked", &v)) != 0)
		return (rv);
	s->revoked = v != 0;
	if ((e = tly_sync_key(t, 0, key)) < 0)
		return (-e);
	sodium_memzero(key, sizeof key);
	s->epoch = e == TALLY_ENOENT ? 0 : (uint32_t) e;
	if (!ask_relay)
		return (0);
	if ((rv = tly_relay_connect(t, &r, url)) != 0) {
		if (rv != TALLY_ENOTINIT)
			return (rv);
		/* No relay or no identity: say so, locally. */
		snprintf(s->relay_error, sizeof s->relay_error, "%s",
		    tally_errmsg(t));
		return (0);
	}
	if ((rv = tly_relay_info(r, &info)) == 0) {
		s->log_head     = info.log_head;
		s->pending_down = info.log_head > s->cursor
		    ? (int64_t) (info.log_head - s->cursor)
		    : 0;
	} else {
		/* Offline: what is known here is still worth showing. */
		snprintf(s->relay_error, sizeof s->relay_error, "%s",
		    tly_relay_errmsg(r));
		rv = 0;
	}
	tly_relay_close(r);
	return (rv);
}
