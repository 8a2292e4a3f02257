/*
 * device.c -- my devices: linking a new one with a one-time code, the
 * device list, revoking one (PROTOCOL.md, part 10).
 *
 * Linking: the device that has the replica makes a code (80 random bits,
 * 16 base32 characters), derives from it with Argon2id a key and two
 * relay slot ids, and puts into the first slot my identity's seed and
 * every replica key, sealed with that key.  The new device, given the
 * code, takes that slot (a slot is taken once: the code works once;
 * it lives 10 minutes), keeps the identity in its key file and the keys
 * in its replica, and puts into the second slot its device id, device
 * key and name, which the first device takes and records in the device
 * list.  The relay sees two random slot ids and ciphertext.
 *
 * Revoking: a new replica key is sealed (crypto_box_seal) to the device
 * key of each device kept, in a keys entry signed by this device, which
 * goes to the log before anything sealed with the new key.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "ident_int.h"
#include "relay_int.h"
#include "sync_int.h"
#include "tly_enc.h"

#define LINK_TTL 600     /* seconds a code lives (the relay's slot) */
#define LINK_POLL_MS 500 /* between looks at the answer slot */

struct tally_link {
	tally        *t;
	tly_relay    *r;
	unsigned char key[TLY_SYNC_KEY_BYTES];
	unsigned char offer[TLY_LINK_SLOT_BYTES];
	unsigned char answer[TLY_LINK_SLOT_BYTES];
	int64_t       expires;
	char          id[TLY_SYNC_DEVID_LEN + 1]; /* the new device */
	char          name[TLY_LINK_NAME_MAX + 1];
};

void
tally_link_free(tally_link *l)
{
	if (l == NULL)
		return;
	tly_relay_close(l->r);
	sodium_memzero(l, sizeof *l);
	free(l);
}

/* A device name: one line of valid UTF-8, 1..TLY_LINK_NAME_MAX bytes. */
static int
check_name(tally *t, const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > TLY_LINK_NAME_MAX || tly_check_text(t, "name", name))
		return (tly_seterr(t, TALLY_EINVAL,
		    "a device name is one line of 1 to %d bytes",
		    TLY_LINK_NAME_MAX));
	if (strpbrk(name, "\t\r\n") != NULL)
		return (tly_seterr(t, TALLY_EINVAL,
		    "a device name is one line"));
	return (0);
}

/* The replica keys, every epoch, into o. */
static int
offer_keys(tally *t, struct tly_link_offer *o)
{
	sqlite3_stmt *st;
	int           rc;

	if ((st = tly_stmt(t, "SELECT epoch, key FROM sync_key"
	                      " ORDER BY epoch")) == NULL)
		return (TALLY_EINTERNAL);
	o->nkeys = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    o->nkeys < TLY_LINK_KEYS_MAX) {
		if (sqlite3_column_bytes(st, 1) != TLY_SYNC_KEY_BYTES)
			continue;
		o->epoch[o->nkeys] = (uint32_t) sqlite3_column_int64(st, 0);
		memcpy(o->key[o->nkeys], sqlite3_column_blob(st, 1),
		    TLY_SYNC_KEY_BYTES);
		o->nkeys++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (tly_dberr(t, "reading the replica keys"));
	return (0);
}

int
tally_device_link(tally *t, tally_link **lp, char *code)
{
	struct tly_relay_info  info;
	struct tly_link_offer *o = NULL;
	const tly_ident       *id;
	tally_link            *l;
	unsigned char          raw[TLY_LINK_CODE_BYTES];
	unsigned char          key[TLY_SYNC_KEY_BYTES];
	char                   url[TALLY_URL_MAX];
	tly_buf                b = TLY_BUF_INIT;
	uint64_t               me;
	int                    rv, e;

	*lp = NULL;
	if ((id = tly_my_ident(t)) == NULL)
		return (TALLY_ENOTINIT);
	if ((l = calloc(1, sizeof *l)) == NULL ||
	    (o = sodium_malloc(sizeof *o)) == NULL) {
		free(l);
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	}
	l->t = t;
	if ((rv = tly_relay_connect(t, &l->r, url)) != 0)
		goto fail;
	if ((rv = tly_relay_info(l->r, &info)) != 0) {
		tly_seterr(t, rv, "%s: %s", url,
		    rv == TALLY_EAUTH ? "the relay does not know this identity "
		                        "(run 'tally relay register')"
		                      : tly_relay_errmsg(l->r));
		goto fail;
	}
	/* This device and the replica key exist before anyone joins. */
	if ((rv = tly_begin(t)) != 0)
		goto fail;
	if ((e = tly_sync_key_ensure(t, key)) < 0 ||
	    (rv = tly_sync_device_row(t, NULL)) != 0) {
		if (e < 0)
			rv = -e;
		tly_rollback(t);
		goto fail;
	}
	sodium_memzero(key, sizeof key);
	if ((rv = tly_commit(t)) != 0 || (rv = offer_keys(t, o)) != 0 ||
	    (rv = tly_sync_device(t, &me)) != 0)
		goto fail;
	tly_link_code_new(code);
	if (tly_link_code_parse(raw, code) != 0 ||
	    tly_link_derive(raw, l->key, l->offer, l->answer) != 0) {
		rv = tly_seterr(t, TALLY_ENOMEM,
		    "not enough memory to derive the link key (Argon2id "
		    "needs 64 MiB)");
		goto fail;
	}
	l->expires = tly_now() + LINK_TTL;
	o->expires = l->expires;
	o->device  = me;
	tly_ident_seed(id, o->seed);
	if ((rv = tly_link_offer_seal(&b, o, l->key)) != 0) {
		rv = tly_seterr(t, rv, "out of memory");
		goto fail;
	}
	if ((rv = tly_relay_slot_put(l->r, l->offer, b.p, b.len)) != 0) {
		tly_seterr(t, rv, "%s: %s", url, tly_relay_errmsg(l->r));
		goto fail;
	}
	*lp = l;
	l   = NULL;
fail:
	sodium_memzero(raw, sizeof raw);
	sodium_free(o);
	tly_buf_free(&b);
	if (l != NULL) {
		sodium_memzero(code, TLY_LINK_CODE_LEN + 1);
		tally_link_free(l);
	}
	return (rv);
}

static void
nap(int ms)
{
	struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int
tally_device_link_wait(tally_link *l, unsigned secs, tally_device *d)
{
	struct tly_link_answer a;
	tally                 *t        = l->t;
	int64_t                deadline = tly_now() + secs;
	unsigned char         *p        = NULL;
	size_t                 n;
	sqlite3_stmt          *st;
	uint64_t               me;
	int                    rv;

	memset(d, 0, sizeof *d);
	for (;;) {
		if (tly_now() >= l->expires)
			return (tly_seterr(t, TALLY_ESTATE,
			    "the link code expired: make a new one"));
		rv = tly_relay_slot_take(l->r, l->answer, &p, &n);
		if (rv == 0)
			break;
		if (rv != TALLY_ENOENT)
			return (tly_seterr(t, rv, "waiting for the new device: "
			                          "%s",
			    tly_relay_errmsg(l->r)));
		if (tly_now() >= deadline)
			return (tly_seterr(t, TALLY_ETIMEDOUT,
			    "no device joined yet"));
		nap(LINK_POLL_MS);
	}
	rv = tly_link_answer_open(&a, p, n, l->key);
	free(p);
	if (rv != 0)
		return (tly_seterr(t, rv == TALLY_ECRYPTO ? rv : TALLY_EFORMAT,
		    "the new device's answer does not authenticate"));
	if ((rv = tly_sync_device(t, &me)) != 0)
		return (rv);
	if (a.device == 0 || a.device == me || a.device > INT64_MAX ||
	    check_name(t, a.name) != 0)
		return (tly_seterr(t, TALLY_EFORMAT,
		    "the new device's answer is malformed"));
	tly_sync_device_id(l->id, a.device);
	memcpy(l->name, a.name, sizeof l->name);
	if ((st = tly_stmt(t, "INSERT INTO device(id, name, pk, created)"
	                      " SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS"
	                      " (SELECT 1 FROM device WHERE id = ?1)")) ==
	    NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, l->id);
	tly_bind_text(st, 2, l->name);
	sqlite3_bind_blob(st, 3, a.pk, sizeof a.pk, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, tly_now());
	if ((rv = tly_step_done(t, st, "recording the new device")) != 0)
		return (rv);
	d->id      = l->id;
	d->name    = l->name;
	d->created = tly_now();
	return (0);
}

/* A replica that may join: no identity, no people. */
static int
join_fresh(tally *t)
{
	unsigned char pk[TLY_PK_BYTES];
	sqlite3_stmt *st;
	int           rv, rc, n = 0;

	if (t->readonly)
		return (tly_seterr(
		    t, TALLY_EREADONLY, "the replica is open read-only"));
	if ((rv = tly_my_pk(t, pk)) == 0)
		return (tly_seterr(t, TALLY_EEXIST,
		    "this replica has an identity already: join with a new "
		    "replica (another --db or TALLY_HOME)"));
	if (rv != TALLY_ENOTINIT)
		return (rv);
	if ((st = tly_stmt(t, "SELECT count(*) FROM person")) == NULL)
		return (TALLY_EINTERNAL);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return (tly_dberr(t, "reading the replica"));
	if (n > 0)
		return (tly_seterr(t, TALLY_EEXIST,
		    "this replica has people already: join with a new "
		    "replica (another --db or TALLY_HOME)"));
	return (0);
}

int
tally_device_join(tally *t, const char *code, const char *url,
    const char *pass, size_t passlen, const char *name)
{
	struct tly_link_offer *o = NULL;
	struct tly_link_answer a;
	tly_relay             *r = NULL;
	unsigned char          raw[TLY_LINK_CODE_BYTES], sk[64];
	unsigned char          key[TLY_SYNC_KEY_BYTES];
	unsigned char          offer[TLY_LINK_SLOT_BYTES];
	unsigned char          answer[TLY_LINK_SLOT_BYTES];
	unsigned char         *p = NULL;
	char                   ubuf[TALLY_URL_MAX];
	tly_buf                b = TLY_BUF_INIT;
	size_t                 n;
	uint64_t               me;
	int                    rv;

	memset(&a, 0, sizeof a);
	if ((rv = join_fresh(t)) != 0)
		return (rv);
	if (name != NULL && (rv = check_name(t, name)) != 0)
		return (rv);
	if (tly_link_code_parse(raw, code) != 0)
		return (tly_seterr(t, TALLY_EFORMAT,
		    "'%s' is not a link code (16 letters and digits, as "
		    "'tally device link' shows them)",
		    code));
	if (url != NULL) {
		if ((rv = tally_relay_set(t, url)) != 0)
			return (rv);
	} else if ((rv = tly_relay_url(t, ubuf)) != 0)
		return (tly_seterr(t, rv,
		    "no relay set: give it (tally device join CODE --relay "
		    "URL)"));
	else
		url = ubuf;
	if ((o = sodium_malloc(sizeof *o)) == NULL)
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	if (tly_link_derive(raw, key, offer, answer) != 0) {
		rv = tly_seterr(t, TALLY_ENOMEM,
		    "not enough memory to derive the link key (Argon2id "
		    "needs 64 MiB)");
		goto out;
	}
	if ((rv = tly_relay_open(&r, url, NULL)) != 0) {
		tly_seterr(t, rv, "%s: cannot use this relay URL", url);
		goto out;
	}
	if ((rv = tly_relay_slot_take(r, offer, &p, &n)) != 0) {
		if (rv == TALLY_ENOENT)
			tly_seterr(t, rv,
			    "no such link code at %s (mistyped, used already "
			    "or expired: make a new one with 'tally device "
			    "link')",
			    url);
		else
			tly_seterr(t, rv, "%s: %s", url, tly_relay_errmsg(r));
		goto out;
	}
	if ((rv = tly_link_offer_open(o, p, n, key)) != 0) {
		tly_seterr(t, rv == TALLY_ECRYPTO ? rv : TALLY_EFORMAT,
		    "what the relay holds for this code does not "
		    "authenticate");
		goto out;
	}
	if (o->expires < tly_now()) {
		rv = tly_seterr(t, TALLY_ENOENT,
		    "the link code expired: make a new one");
		goto out;
	}
	/* Everything here in one transaction; the key file goes when it
	 * fails. */
	if ((rv = tly_begin(t)) != 0)
		goto out;
	if ((rv = tly_id_init_seed(t, o->seed, pass, passlen)) != 0) {
		tly_rollback(t);
		goto out;
	}
	for (unsigned i = 0; rv == 0 && i < o->nkeys; i++)
		rv = tly_sync_key_put(t, o->epoch[i], o->key[i]);
	if (rv == 0)
		rv = tly_sync_device_row(t, name);
	if (rv == 0)
		rv = tly_sync_set(t, "linked_by", (int64_t) o->device);
	if (rv == 0)
		rv = tly_commit(t);
	else
		tly_rollback(t);
	if (rv != 0) {
		(void) remove(t->keyfile);
		goto out;
	}
	/* Tell the linking device who came (it may time out: it then
	 * learns at its next sync). */
	if (tly_sync_device(t, &me) == 0 &&
	    tly_sync_device_keys(t, a.pk, sk) == 0) {
		sqlite3_stmt *st;

		a.device = me;
		if ((st = tly_stmt(t, "SELECT name FROM device WHERE id = ?1")) !=
		    NULL) {
			char id[TLY_SYNC_DEVID_LEN + 1];

			tly_sync_device_id(id, me);
			tly_bind_text(st, 1, id);
			if (sqlite3_step(st) == SQLITE_ROW)
				snprintf(a.name, sizeof a.name, "%s",
				    tly_col_text(st, 0));
			sqlite3_reset(st);
		}
		if (tly_link_answer_seal(&b, &a, key) == 0)
			(void) tly_relay_slot_put(r, answer, b.p, b.len);
	}
out:
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(key, sizeof key);
	sodium_free(o);
	free(p);
	tly_buf_free(&b);
	tly_relay_close(r);
	return (rv);
}

int
tally_device_list(tally *t, tally_device_fn fn, void *arg)
{
	sqlite3_stmt *st;
	tally_device  d;
	char          me[TLY_SYNC_DEVID_LEN + 1];
	uint64_t      dev;
	int           rc, rv = 0;

	if ((rv = tly_sync_device(t, &dev)) != 0)
		return (rv);
	tly_sync_device_id(me, dev);
	if ((st = tly_stmt(t, "SELECT id, name, created, coalesce(revoked, 0)"
	                      " FROM device ORDER BY created, id")) == NULL)
		return (TALLY_EINTERNAL);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		d.id      = tly_col_text(st, 0);
		d.name    = tly_col_text(st, 1);
		d.created = sqlite3_column_int64(st, 2);
		d.revoked = sqlite3_column_int64(st, 3);
		d.is_this = d.id != NULL && strcmp(d.id, me) == 0;
		if (d.id == NULL || d.name == NULL)
			continue;
		if ((rv = fn(arg, &d)) != 0)
			break;
	}
	sqlite3_reset(st);
	if (rv == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		rv = tly_dberr(t, "listing devices");
	return (rv);
}

/* Finds the device spec names: its id to id. */
static int
device_resolve(tally *t, char *id, const char *spec, int64_t *revoked)
{
	sqlite3_stmt *st;
	char          lower[TLY_SYNC_DEVID_LEN + 1];
	size_t        len = strlen(spec);
	int           rc, n = 0;

	for (size_t i = 0; i <= len && i < sizeof lower; i++)
		lower[i] = (char) (spec[i] >= 'A' && spec[i] <= 'F'
		        ? spec[i] - 'A' + 'a'
		        : spec[i]);
	lower[sizeof lower - 1] = '\0';
	if ((st = tly_stmt(t, "SELECT id, coalesce(revoked, 0) FROM device"
	                      " WHERE (length(?1) >= 4 AND id >= ?1 AND"
	                      " id < ?1 || 'g') OR name = ?2 LIMIT 9")) ==
	    NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, len <= TLY_SYNC_DEVID_LEN ? lower : "");
	tly_bind_text(st, 2, spec);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == 0) {
			snprintf(id, TLY_SYNC_DEVID_LEN + 1, "%s",
			    tly_col_text(st, 0));
			*revoked = sqlite3_column_int64(st, 1);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (tly_dberr(t, "reading the devices"));
	if (n == 0)
		return (tly_seterr(t, TALLY_ENOENT,
		    "no device '%s' (see 'tally device list')", spec));
	if (n > 1)
		return (tly_seterr(t, TALLY_EAMBIG,
		    "device '%s' is ambiguous: use more of its id", spec));
	return (0);
}

/* Seals the new key to each device kept and queues the signed keys
 * entry ahead of everything sealed with it. */
static int
rotate(tally *t, const char *target, const unsigned char *key,
    uint32_t epoch, uint64_t me)
{
	struct tly_sync_sealed keys[TLY_SYNC_KEYS_MAX];
	unsigned char          sealed[TLY_SYNC_KEYS_MAX][TLY_SYNC_SEALED];
	unsigned char          pk[32], sk[64];
	tly_buf                b = TLY_BUF_INIT;
	sqlite3_stmt          *st;
	size_t                 n = 0;
	int                    rc, rv = 0;

	if ((st = tly_stmt(t, "SELECT id, pk FROM device WHERE revoked IS NULL"
	                      " AND id <> ?1 ORDER BY id")) == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, target);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char   *id = tly_col_text(st, 0);
		unsigned char x[32], dv[8];

		if (n == TLY_SYNC_KEYS_MAX) {
			rv = tly_seterr(t, TALLY_ETOOBIG,
			    "more than %d devices", TLY_SYNC_KEYS_MAX);
			break;
		}
		if (id == NULL || sqlite3_column_bytes(st, 1) != 32 ||
		    tly_hex_decode(dv, sizeof dv, id) != 0 ||
		    crypto_sign_ed25519_pk_to_curve25519(
		        x, sqlite3_column_blob(st, 1)) != 0)
			continue; /* not a device key: it gets nothing */
		keys[n].device = tly_get_u64(dv);
		keys[n].sealed = sealed[n];
		crypto_box_seal(sealed[n], key, TLY_SYNC_KEY_BYTES, x);
		n++;
	}
	sqlite3_reset(st);
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading the devices");
	if (rv != 0)
		return (rv);
	if ((rv = tly_sync_device_keys(t, pk, sk)) != 0)
		return (rv);
	rv = tly_sync_keys_encode(&b, epoch, me, keys, n, sk);
	sodium_memzero(sk, sizeof sk);
	if (rv != 0)
		return (tly_seterr(t, rv, "cannot seal the new key"));
	if ((st = tly_stmt(t, "INSERT INTO sync_outbox(data, nops, first,"
	                      " epoch) VALUES (?1, 0, 0, ?2)")) == NULL) {
		tly_buf_free(&b);
		return (TALLY_EINTERNAL);
	}
	sqlite3_bind_blob(st, 1, b.p, (int) b.len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, epoch);
	rv = tly_step_done(t, st, "queueing the new key");
	tly_buf_free(&b);
	return (rv);
}

int
tally_device_revoke(tally *t, const char *spec)
{
	unsigned char key[TLY_SYNC_KEY_BYTES];
	char          id[TLY_SYNC_DEVID_LEN + 1], mine[TLY_SYNC_DEVID_LEN + 1];
	sqlite3_stmt *st;
	int64_t       revoked = 0;
	uint64_t      me;
	int           rv, e;

	if ((rv = device_resolve(t, id, spec, &revoked)) != 0 ||
	    (rv = tly_sync_device(t, &me)) != 0)
		return (rv);
	tly_sync_device_id(mine, me);
	if (strcmp(id, mine) == 0)
		return (tly_seterr(t, TALLY_EPERM,
		    "this is the device of this replica: revoke it from "
		    "another of your devices"));
	if (revoked != 0)
		return (tly_seterr(t, TALLY_ESTATE,
		    "device %s is revoked already", id));
	/* Up to date first: every device I know of gets the new key. */
	if ((rv = tally_log_sync(t, NULL, NULL)) != 0)
		return (rv);
	if ((rv = tly_begin(t)) != 0)
		return (rv);
	if ((e = tly_sync_key_ensure(t, key)) < 0) {
		rv = -e;
		goto fail;
	}
	randombytes_buf(key, sizeof key);
	if ((rv = rotate(t, id, key, (uint32_t) e + 1, me)) != 0 ||
	    (rv = tly_sync_key_put(t, (uint32_t) e + 1, key)) != 0 ||
	    (rv = tly_sync_set(t, "rotated", e + 1)) != 0)
		goto fail;
	if ((st = tly_stmt(t, "UPDATE device SET revoked = ?2 WHERE id = ?1")) ==
	    NULL) {
		rv = TALLY_EINTERNAL;
		goto fail;
	}
	tly_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, tly_now());
	if ((rv = tly_step_done(t, st, "revoking the device")) != 0)
		goto fail;
	sodium_memzero(key, sizeof key);
	if ((rv = tly_commit(t)) != 0)
		return (rv);
	return (tally_log_sync(t, NULL, NULL));
fail:
	sodium_memzero(key, sizeof key);
	tly_rollback(t);
	return (rv);
}
