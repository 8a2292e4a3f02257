/*
 * identity.c -- my identity (an Ed25519 key) and the peers: people in
 * the replica linked to another tally user's public key.
 *
 * The secret key rests in TALLY_KEYFILE_NAME in the replica's folder,
 * sealed by proto/tly_keyfile (Argon2id + XChaCha20-Poly1305, mode 0600);
 * the public key is in the meta table (TLY_META_PK), so that everything
 * but signing works without the passphrase.  A key file and a replica
 * belong together: unlocking checks that the key file's public key is
 * the replica's before it derives anything.
 *
 * peer: one row per linked person, the key as a 32-byte blob (UNIQUE:
 * one key, one person); verified is when the two compared their safety
 * code out of band.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "ident_int.h"
#include "tly_enc.h"
#include "tly_keyfile.h"

_Static_assert(TALLY_TALLYID_LEN == TLY_TALLYID_LEN, "tally id length");
_Static_assert(TALLY_FPR_LEN == TLY_FPR_LEN, "fingerprint length");
_Static_assert(TALLY_SAFETY_LEN == TLY_SAFETY_LEN, "safety code length");

/* -- The handle's identity fields (tally_open, tally_close) ----------- */

int
tly_identity_open(tally *t, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t      dlen  = slash == NULL ? 1 : (size_t) (slash - path);
	size_t      n;

	if (slash == path)
		dlen = 1; /* "/tally.db" lives in "/" */
	if ((t->dir = malloc(dlen + 1)) == NULL)
		return (TALLY_ENOMEM);
	if (slash == NULL)
		memcpy(t->dir, ".", 2);
	else {
		memcpy(t->dir, path, dlen);
		t->dir[dlen] = '\0';
	}
	n = strlen(t->dir) + 1 + sizeof TALLY_KEYFILE_NAME;
	if ((t->keyfile = malloc(n)) == NULL)
		return (TALLY_ENOMEM);
	snprintf(t->keyfile, n, "%s%s%s", t->dir,
	    strcmp(t->dir, "/") == 0 ? "" : "/", TALLY_KEYFILE_NAME);
	return (0);
}

void
tly_identity_close(tally *t)
{
	tly_ident_free(t->ident);
	t->ident = NULL;
	free(t->dir);
	free(t->keyfile);
	t->dir     = NULL;
	t->keyfile = NULL;
}

/* -- My key ------------------------------------------------------------ */

/* Reads my public key from meta: 0, TALLY_ENOENT (none, no message) or
 * another code with the message set. */
static int
read_pk(tally *t, unsigned char *pk)
{
	sqlite3_stmt *st;
	int           rc, rv = TALLY_ENOENT;

	st = tly_stmt(t, "SELECT value FROM meta WHERE key = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, TLY_META_PK);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *hex = tly_col_text(st, 0);
		rv = hex != NULL && tly_hex_decode(pk, TLY_PK_BYTES, hex) == 0
		    ? 0
		    : tly_seterr(t, TALLY_ECORRUPT,
		          "the replica's public key is damaged (meta %s)",
		          TLY_META_PK);
	} else if (rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading the identity");
	sqlite3_reset(st);
	return (rv);
}

int
tly_my_pk(tally *t, unsigned char *pk)
{
	int rv = read_pk(t, pk);

	if (rv == TALLY_ENOENT)
		return (tly_seterr(t, TALLY_ENOTINIT,
		    "you have no identity yet (run 'tally id init')"));
	return (rv);
}

const tly_ident *
tly_my_ident(tally *t)
{
	if (t->ident == NULL)
		tly_seterr(t, TALLY_ENOTINIT,
		    "the identity is locked (unlock it with the passphrase "
		    "first)");
	return (t->ident);
}

int
tally_id_init(tally *t, const char *pass, size_t passlen)
{
	return (tly_id_init_seed(t, NULL, pass, passlen));
}

int
tly_id_init_seed(
    tally *t, const unsigned char *seed, const char *pass, size_t passlen)
{
	unsigned char pk[TLY_PK_BYTES], f[TLY_KEYFILE_BYTES];
	char          hex[TLY_HEX_LEN(TLY_PK_BYTES) + 1];
	char          tid[TLY_TALLYID_LEN + 1];
	struct stat   sb;
	tly_ident    *id = NULL;
	sqlite3_stmt *st;
	const char   *cause;
	int           rv;

	if (t->readonly)
		return (tly_seterr(
		    t, TALLY_EREADONLY, "the replica is open read-only"));
	if ((rv = read_pk(t, pk)) == 0) {
		tly_tallyid_encode(tid, pk);
		return (tly_seterr(t, TALLY_EEXIST,
		    "this replica has an identity already (%s); it is never "
		    "replaced",
		    tid));
	}
	if (rv != TALLY_ENOENT)
		return (rv);
	if (lstat(t->keyfile, &sb) == 0 || errno != ENOENT)
		return (tly_seterr(t, TALLY_EEXIST,
		    "a key file exists already at %s (move it away to make "
		    "a new identity)",
		    t->keyfile));
	if (pass != NULL && passlen == 0)
		return (tly_seterr(t, TALLY_EINVAL,
		    "the passphrase is empty (choose no passphrase "
		    "explicitly instead)"));
	if ((seed != NULL ? tly_ident_from_seed(&id, seed)
	                  : tly_ident_new(&id)) != 0)
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	if ((rv = tly_keyfile_seal(f, id, pass, passlen, NULL)) != 0) {
		tly_ident_free(id);
		return (tly_seterr(t, rv,
		    rv == TALLY_ENOMEM
		        ? "not enough memory to protect the key (Argon2id "
		          "needs 64 MiB)"
		        : "cannot protect the key with this passphrase"));
	}
	tly_hex_encode(hex, tly_ident_pk(id), TLY_PK_BYTES);
	if ((rv = tly_begin(t)) != 0)
		goto out;
	st = tly_stmt(t, "INSERT INTO meta(key, value) VALUES (?1, ?2)");
	if (st == NULL) {
		rv = TALLY_EINTERNAL;
		goto fail;
	}
	tly_bind_text(st, 1, TLY_META_PK);
	tly_bind_text(st, 2, hex);
	if ((rv = tly_step_done(t, st, "storing the identity")) != 0)
		goto fail;
	/* The key file first (O_EXCL), then the commit: a replica never
	 * names a key that is not on disk. */
	if ((rv = tly_keyfile_save(t->keyfile, f, 0, &cause)) != 0) {
		tly_seterr(t, rv, "%s: %s", t->keyfile,
		    cause ? cause : "cannot write the key file");
		goto fail;
	}
	if ((rv = tly_commit(t)) != 0) {
		(void) unlink(t->keyfile);
		goto out;
	}
	t->ident = id;
	id       = NULL;
	goto out;
fail:
	tly_rollback(t);
out:
	sodium_memzero(f, sizeof f);
	tly_ident_free(id);
	return (rv);
}

/* Loads the key file into f and checks that it holds my key pk: 0, or a
 * code with *cause set to words. */
static int
load_keyfile(tally *t, unsigned char *f, const unsigned char *pk,
    int *has_pass, const char **cause)
{
	unsigned char kpk[TLY_PK_BYTES];
	int           rv;

	if ((rv = tly_keyfile_load(f, t->keyfile, cause)) != 0) {
		if (rv == TALLY_ENOENT)
			*cause =
			    "no key file: the secret key of this "
			    "replica's identity is missing "
			    "(restore " TALLY_KEYFILE_NAME " from a backup)";
		return (rv);
	}
	if ((rv = tly_keyfile_peek(kpk, has_pass, f, TLY_KEYFILE_BYTES)) !=
	    0) {
		*cause = rv == TALLY_EUNSUPP
		    ? "the key file was made by a newer tally"
		    : "not a tally key file";
		return (rv);
	}
	if (sodium_memcmp(kpk, pk, TLY_PK_BYTES) != 0) {
		*cause = "the key file holds another identity than this "
		         "replica's";
		return (TALLY_ECRYPTO);
	}
	return (0);
}

int
tally_id_get(tally *t, tally_identity *out)
{
	unsigned char pk[TLY_PK_BYTES], f[TLY_KEYFILE_BYTES];
	const char   *cause = NULL;
	int           rv, has_pass = 0;

	memset(out, 0, sizeof *out);
	if ((rv = tly_my_pk(t, pk)) != 0)
		return (rv);
	tly_tallyid_encode(out->tally_id, pk);
	tly_fingerprint(out->fingerprint, pk);
	out->key_file   = t->keyfile;
	out->passphrase = TALLY_UNSET;
	if ((rv = load_keyfile(t, f, pk, &has_pass, &cause)) != 0) {
		out->key_error   = rv;
		out->key_problem = cause;
	} else
		out->passphrase = has_pass;
	sodium_memzero(f, sizeof f);
	return (0);
}

int
tally_id_locked(const tally *t)
{
	return (t->ident == NULL);
}

int
tally_id_unlock(tally *t, const char *pass, size_t passlen)
{
	unsigned char pk[TLY_PK_BYTES], f[TLY_KEYFILE_BYTES];
	const char   *cause = NULL;
	tly_ident    *id    = NULL;
	int           rv, has_pass = 0;

	if (t->ident != NULL)
		return (0);
	if ((rv = tly_my_pk(t, pk)) != 0)
		return (rv);
	if ((rv = load_keyfile(t, f, pk, &has_pass, &cause)) != 0) {
		sodium_memzero(f, sizeof f);
		return (tly_seterr(t, rv, "%s: %s", t->keyfile,
		    cause ? cause : "cannot read the key file"));
	}
	rv = tly_keyfile_open(&id, f, sizeof f, pass, pass ? passlen : 0);
	sodium_memzero(f, sizeof f);
	switch (rv) {
	case 0:
		t->ident = id;
		return (0);
	case TALLY_EPASS:
		if (pass == NULL || passlen == 0)
			return (tly_seterr(t, rv,
			    "the key is protected by a passphrase and none "
			    "was given"));
		return (
		    tly_seterr(t, rv, "wrong passphrase for %s", t->keyfile));
	case TALLY_ENOMEM:
		return (tly_seterr(t, rv,
		    "not enough memory to open the key (Argon2id needs "
		    "64 MiB)"));
	case TALLY_EFORMAT:
		return (
		    tly_seterr(t, rv, "%s: not a tally key file", t->keyfile));
	default:
		return (tly_seterr(t, rv,
		    "%s: the key file is damaged (restore it from a backup)",
		    t->keyfile));
	}
}

/* -- Peers ------------------------------------------------------------- */

/* Checks that person exists and is not me; copies the name to *name
 * (malloc'd, may be NULL). */
static int
peer_person(tally *t, const char *person, char **name)
{
	sqlite3_stmt *st;
	int           rc, rv = 0, me = 0;

	if (name != NULL)
		*name = NULL;
	st = tly_stmt(t, "SELECT name, is_me FROM person WHERE id = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, person);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		me = sqlite3_column_int(st, 1);
		if (name != NULL &&
		    (*name = strdup(tly_col_text(st, 0))) == NULL)
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
	} else if (rc == SQLITE_DONE)
		rv = tly_seterr(
		    t, TALLY_ENOENT, "no person with id %s", person);
	else
		rv = tly_dberr(t, "reading a person");
	sqlite3_reset(st);
	if (rv == 0 && me) {
		if (name != NULL) {
			free(*name);
			*name = NULL;
		}
		rv = tly_seterr(t, TALLY_EPERM,
		    "you cannot be your own peer (link another person)");
	}
	return (rv);
}

/* Reads person's linked key: 0, TALLY_ENOENT (no message) or an error. */
static int
peer_pk(tally *t, const char *person, unsigned char *pk)
{
	sqlite3_stmt *st;
	int           rc, rv = TALLY_ENOENT;

	st = tly_stmt(t, "SELECT pk FROM peer WHERE person = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, person);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) == TLY_PK_BYTES) {
			memcpy(pk, sqlite3_column_blob(st, 0), TLY_PK_BYTES);
			rv = 0;
		} else
			rv = tly_seterr(
			    t, TALLY_ECORRUPT, "a peer's key is damaged");
	} else if (rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading a peer");
	sqlite3_reset(st);
	return (rv);
}

int
tly_peer_find(tally *t, const unsigned char *pk, char *person, char **name,
    int64_t *verified)
{
	sqlite3_stmt *st;
	int           rc, rv = TALLY_ENOENT;

	if (name != NULL)
		*name = NULL;
	st = tly_stmt(t,
	    "SELECT p.id, p.name, peer.verified FROM peer"
	    " JOIN person p ON p.id = peer.person"
	    " WHERE peer.pk = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_blob(st, 1, pk, TLY_PK_BYTES, SQLITE_TRANSIENT);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rv = 0;
		if (person != NULL)
			snprintf(person, TALLY_ID_LEN + 1, "%s",
			    tly_col_text(st, 0));
		if (verified != NULL)
			*verified = sqlite3_column_int64(st, 2);
		if (name != NULL &&
		    (*name = strdup(tly_col_text(st, 1))) == NULL)
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
	} else if (rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading peers");
	sqlite3_reset(st);
	return (rv);
}

int
tally_peer_add(tally *t, const char *person, const char *s)
{
	unsigned char pk[TLY_PK_BYTES], mine[TLY_PK_BYTES], old[TLY_PK_BYTES];
	char          tid[TLY_TALLYID_LEN + 1], other[TALLY_ID_LEN + 1];
	char         *name = NULL, *oname = NULL;
	sqlite3_stmt *st;
	int64_t       now = tly_now();
	int           rv;

	switch (tly_tallyid_parse(pk, s)) {
	case 0:
		break;
	case TALLY_ECORRUPT:
		return (tly_seterr(t, TALLY_EINVAL,
		    "tally id '%.80s' has a typo: its checksum does not "
		    "match (compare it again, character by character)",
		    s));
	case TALLY_ECRYPTO:
		return (tly_seterr(t, TALLY_EINVAL,
		    "'%.80s' is not the tally id of a valid key", s));
	default:
		return (tly_seterr(t, TALLY_EINVAL,
		    "'%.80s' is not a tally id (one starts with "
		    "'" TLY_TALLYID_PREFIX "' and has %d characters)",
		    s, TLY_TALLYID_LEN));
	}
	tly_tallyid_encode(tid, pk);
	if ((rv = read_pk(t, mine)) == 0 &&
	    sodium_memcmp(mine, pk, TLY_PK_BYTES) == 0)
		return (tly_seterr(t, TALLY_EPERM,
		    "%s is your own tally id (link the other person's)", tid));
	if (rv != 0 && rv != TALLY_ENOENT)
		return (rv);
	if ((rv = peer_person(t, person, &name)) != 0)
		return (rv);
	if ((rv = peer_pk(t, person, old)) == 0) {
		if (sodium_memcmp(old, pk, TLY_PK_BYTES) != 0) {
			tly_tallyid_encode(tid, old);
			rv = tly_seterr(t, TALLY_EEXIST,
			    "%s is linked to another tally id already (%s); "
			    "'tally peer rm' it first",
			    name, tid);
		}
		goto out; /* the same link again: nothing to do */
	}
	if (rv != TALLY_ENOENT)
		goto out;
	if ((rv = tly_peer_find(t, pk, other, &oname, NULL)) == 0) {
		rv = tly_seterr(
		    t, TALLY_EEXIST, "%s is linked to %s already", tid, oname);
		goto out;
	}
	if (rv != TALLY_ENOENT)
		goto out;
	st = tly_stmt(t,
	    "INSERT INTO peer(person, pk, created, updated)"
	    " VALUES (?1, ?2, ?3, ?3)");
	if (st == NULL) {
		rv = TALLY_EINTERNAL;
		goto out;
	}
	tly_bind_text(st, 1, person);
	sqlite3_bind_blob(st, 2, pk, TLY_PK_BYTES, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now);
	rv = tly_step_done(t, st, "linking a peer");
out:
	free(name);
	free(oname);
	return (rv);
}

int
tly_peer_pk(tally *t, const char *person, unsigned char *pk)
{
	char *name = NULL;
	int   rv;

	if ((rv = peer_person(t, person, &name)) != 0)
		return (rv);
	if ((rv = peer_pk(t, person, pk)) == TALLY_ENOENT)
		tly_seterr(t, rv,
		    "%s is not linked to a tally id (tally peer add '%s' "
		    "TALLY_ID)",
		    name, name);
	free(name);
	return (rv);
}

int
tally_peer_rm(tally *t, const char *person)
{
	unsigned char pk[TLY_PK_BYTES];
	sqlite3_stmt *st;
	int           rv;

	if ((rv = tly_peer_pk(t, person, pk)) != 0)
		return (rv);
	if ((st = tly_stmt(t, "DELETE FROM peer WHERE person = ?1")) == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, person);
	return (tly_step_done(t, st, "removing a peer"));
}

int
tally_peer_safety(tally *t, char *code, const char *person)
{
	unsigned char mine[TLY_PK_BYTES], theirs[TLY_PK_BYTES];
	int           rv;

	if ((rv = tly_my_pk(t, mine)) != 0 ||
	    (rv = tly_peer_pk(t, person, theirs)) != 0)
		return (rv);
	tly_safety_code(code, mine, theirs);
	return (0);
}

int
tally_peer_confirm(tally *t, const char *person)
{
	unsigned char pk[TLY_PK_BYTES];
	sqlite3_stmt *st;
	int           rv;

	if ((rv = tly_peer_pk(t, person, pk)) != 0)
		return (rv);
	st = tly_stmt(t,
	    "UPDATE peer SET verified = ?2, updated = ?2"
	    " WHERE person = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, person);
	sqlite3_bind_int64(st, 2, tly_now());
	return (tly_step_done(t, st, "marking a peer verified"));
}

int
tally_peer_list(tally *t, const char *person, tally_peer_fn fn, void *arg)
{
	sqlite3_stmt *st;
	tally_peer    p;
	char          tid[TLY_TALLYID_LEN + 1], fpr[TLY_FPR_LEN + 1];
	int           rc, rv = 0;

	st = tly_stmt(t,
	    "SELECT p.id, p.name, peer.pk, peer.verified, peer.created"
	    " FROM peer JOIN person p ON p.id = peer.person"
	    " WHERE ?1 IS NULL OR peer.person = ?1"
	    " ORDER BY p.name_key, p.id");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, person);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 2) != TLY_PK_BYTES) {
			rv = tly_seterr(
			    t, TALLY_ECORRUPT, "a peer's key is damaged");
			break;
		}
		tly_tallyid_encode(tid, sqlite3_column_blob(st, 2));
		tly_fingerprint(fpr, sqlite3_column_blob(st, 2));
		p.person      = tly_col_text(st, 0);
		p.name        = tly_col_text(st, 1);
		p.tally_id    = tid;
		p.fingerprint = fpr;
		p.verified    = sqlite3_column_int64(st, 3);
		p.created     = sqlite3_column_int64(st, 4);
		if ((rv = fn(arg, &p)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading peers");
	sqlite3_reset(st);
	return (rv);
}
