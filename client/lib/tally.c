/*
 * tally.c -- opening a replica, errors, the statement cache, resolving
 * names and id prefixes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "tally_int.h"

#define TLY_MMAP_SIZE "268435456" /* bytes of the replica mapped */

#ifndef TALLY_VERSION_STRING
#define TALLY_VERSION_STRING "0.0.0"
#endif

const char *
tally_version(void)
{
	return (TALLY_VERSION_STRING);
}

int
tly_seterr(tally *t, int rv, const char *fmt, ...)
{
	va_list ap;

	if (t == NULL)
		return (rv);
	va_start(ap, fmt);
	vsnprintf(t->err, sizeof t->err, fmt, ap);
	va_end(ap);
	return (rv);
}

int
tly_dberr(tally *t, const char *what)
{
	int rc = sqlite3_extended_errcode(t->db);
	int rv = tly_db_rc(rc);

	switch (rv) {
	case TALLY_EBUSY:
		return (tly_seterr(t, rv,
		    "%s: the replica is locked by another program (try "
		    "again)",
		    what));
	case TALLY_EREADONLY:
		return (tly_seterr(t, rv, "%s: the replica is read-only", what));
	case TALLY_ECORRUPT:
		return (tly_seterr(t, rv,
		    "%s: the replica is corrupt (restore from an export)",
		    what));
	case TALLY_EIO:
		return (tly_seterr(t, rv, "%s: disk error: %s", what,
		    sqlite3_errmsg(t->db)));
	default:
		return (tly_seterr(t, rv, "%s: %s", what,
		    sqlite3_errmsg(t->db)));
	}
}

const char *
tally_errmsg(const tally *t)
{
	if (t == NULL)
		return ("out of memory");
	return (t->err[0] ? t->err : "no error");
}

/* Fibonacci hashing of the literal's address. */
static size_t
stmt_slot(const char *sql)
{
	uintptr_t h = (uintptr_t) sql * (uintptr_t) 11400714819323198485ull;

	return ((size_t) (h >> 7) & (TLY_STMT_CACHE - 1));
}

sqlite3_stmt *
tly_stmt(tally *t, const char *sql)
{
	size_t i = stmt_slot(sql);

	for (size_t n = 0; n < TLY_STMT_CACHE; n++) {
		size_t k = (i + n) & (TLY_STMT_CACHE - 1);
		if (t->cache[k].sql == sql) {
			sqlite3_reset(t->cache[k].st);
			sqlite3_clear_bindings(t->cache[k].st);
			return (t->cache[k].st);
		}
		if (t->cache[k].sql == NULL) {
			sqlite3_stmt *st;
			if (sqlite3_prepare_v3(t->db, sql, -1,
			        SQLITE_PREPARE_PERSISTENT, &st,
			        NULL) != SQLITE_OK) {
				tly_dberr(t, "preparing a query");
				return (NULL);
			}
			t->cache[k].sql = sql;
			t->cache[k].st  = st;
			return (st);
		}
	}
	/* The cache is sized for every statement in the library. */
	tly_seterr(t, TALLY_EINTERNAL, "statement cache full");
	return (NULL);
}

int
tly_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return (sqlite3_bind_null(st, i));
	return (sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT));
}

int
tly_bind_time(sqlite3_stmt *st, int i, int64_t v)
{
	if (v == 0)
		return (sqlite3_bind_null(st, i));
	return (sqlite3_bind_int64(st, i, v));
}

const char *
tly_col_text(sqlite3_stmt *st, int i)
{
	return ((const char *) sqlite3_column_text(st, i));
}

int
tly_step_done(tally *t, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return (tly_dberr(t, what));
	return (0);
}

int
tly_check_text(tally *t, const char *field, const char *s)
{
	size_t n;

	if (s == NULL)
		return (0);
	n = strlen(s);
	if (n > TALLY_MAX_TEXT)
		return (tly_seterr(t, TALLY_ETOOBIG,
		    "%s is too long (%zu bytes, at most %d)", field, n,
		    TALLY_MAX_TEXT));
	if (!tly_utf8_valid(s, n))
		return (tly_seterr(t, TALLY_EINVAL,
		    "%s is not valid UTF-8", field));
	for (const char *p = s; *p != '\0'; p++)
		if (((unsigned char) *p < 0x20 && *p != '\t' && *p != '\n' &&
		        *p != '\r') ||
		    *p == 0x7f)
			return (tly_seterr(t, TALLY_EINVAL,
			    "%s contains a control character (0x%02x)", field,
			    (unsigned) (unsigned char) *p));
	return (0);
}

/* Transactions nest: the outermost is BEGIN IMMEDIATE, inner ones are
 * savepoints, so that a library call inside tally_atomic() is part of the
 * caller's transaction and its failure undoes only its own work. */
int
tly_begin(tally *t)
{
	int rc;

	if (t->depth == 0)
		rc = tly_db_begin(t->db);
	else
		rc = tly_db_rc(sqlite3_exec(t->db, "SAVEPOINT tly", NULL, NULL,
		    NULL));
	if (rc != 0)
		return (tly_dberr(t, "starting a transaction"));
	t->depth++;
	return (0);
}

int
tly_commit(tally *t)
{
	int rv;

	if (t->depth > 1) {
		t->depth--;
		if (sqlite3_exec(t->db, "RELEASE tly", NULL, NULL, NULL) !=
		    SQLITE_OK)
			return (tly_dberr(t, "committing"));
		return (0);
	}
	t->depth = 0;
	if (tly_db_commit(t->db) != 0) {
		rv = tly_dberr(t, "committing");
		tly_db_rollback(t->db);
		return (rv);
	}
	return (0);
}

void
tly_rollback(tally *t)
{
	if (t->depth > 1) {
		t->depth--;
		(void) sqlite3_exec(t->db, "ROLLBACK TO tly; RELEASE tly", NULL,
		    NULL, NULL);
		return;
	}
	t->depth = 0;
	tly_db_rollback(t->db);
}

int
tally_atomic(tally *t, int (*fn)(tally *, void *), void *arg)
{
	int rv;

	if ((rv = tly_begin(t)) != 0)
		return (rv);
	if ((rv = fn(t, arg)) != 0) {
		tly_rollback(t);
		return (rv);
	}
	return (tly_commit(t));
}

int
tly_oneof(const char *s, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strcmp(s, *words) == 0)
			return (1);
	return (0);
}

static int
mkdir_parents(const char *path)
{
	char  *p = strdup(path);
	char  *s;
	int    rv = 0;

	if (p == NULL)
		return (TALLY_ENOMEM);
	if ((s = strrchr(p, '/')) != NULL && s != p) {
		*s = '\0';
		for (char *q = p + 1; *q; q++) {
			if (*q != '/')
				continue;
			*q = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST)
				rv = TALLY_EIO;
			*q = '/';
		}
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			rv = TALLY_EIO;
	}
	free(p);
	return (rv);
}

static int
load_me(tally *t)
{
	sqlite3_stmt *st;
	int           rc;

	st = tly_stmt(t, "SELECT id FROM person WHERE is_me");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	t->me[0] = '\0';
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		snprintf(t->me, sizeof t->me, "%s", tly_col_text(st, 0));
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (tly_dberr(t, "reading the replica"));
	return (0);
}

/* Looks at path read-only, changing nothing, before the real open
 * (which switches the file to WAL and migrates it): an SQLite file that
 * some other program made is refused (TALLY_EFORMAT), and an empty one
 * is not a replica unless we are creating one (TALLY_ENOTINIT).  Any
 * other trouble is left for the real open to report. */
static int
precheck(tally *t, const char *path, int create)
{
	sqlite3      *db = NULL;
	sqlite3_stmt *st = NULL;
	int           v = -1, n = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
	        SQLITE_OK &&
	    sqlite3_prepare_v2(db,
	        "SELECT (SELECT user_version FROM pragma_user_version),"
	        " (SELECT count(*) FROM sqlite_master)",
	        -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_int(st, 0);
		n = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	sqlite3_close_v2(db);
	if (v == 0 && n > 0)
		return (tly_seterr(t, TALLY_EFORMAT,
		    "%s: an SQLite database but not a tally replica", path));
	if (v == 0 && n == 0 && !create)
		return (tly_seterr(t, TALLY_ENOTINIT,
		    "no replica at %s (run 'tally init' first)", path));
	return (0);
}

/* Applies $TALLY_BUSY_TIMEOUT_MS (0-600000), the time a writer waits
 * for another's lock; tests set it low. */
static void
busy_timeout(sqlite3 *db)
{
	const char *s = getenv("TALLY_BUSY_TIMEOUT_MS");
	char       *end;
	long        ms;

	if (s == NULL || *s == '\0')
		return;
	errno = 0;
	ms    = strtol(s, &end, 10);
	if (errno == 0 && *end == '\0' && ms >= 0 && ms <= 600000)
		sqlite3_busy_timeout(db, (int) ms);
}

int
tally_open(tally **tp, const char *path, int flags)
{
	tally *t;
	int    rv, dbflags = 0;

	*tp = NULL;
	if (sodium_init() < 0)
		return (TALLY_EINTERNAL);
	if ((t = calloc(1, sizeof *t)) == NULL)
		return (TALLY_ENOMEM);
	*tp = t;
	if (tly_identity_open(t, path) != 0)
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	if (flags & TALLY_OPEN_READONLY) {
		dbflags |= TLY_DB_READONLY;
		t->readonly = 1;
	} else if (flags & TALLY_OPEN_CREATE) {
		dbflags |= TLY_DB_CREATE;
		if (mkdir_parents(path) != 0)
			return (tly_seterr(t, TALLY_EIO,
			    "cannot create the folder for %s: %s", path,
			    strerror(errno)));
	}
	if ((rv = precheck(t, path, flags & TALLY_OPEN_CREATE)) != 0)
		return (rv);
	if ((rv = tly_db_open(&t->db, path, dbflags, t->err, sizeof t->err)) !=
	    0) {
		if (rv == TALLY_EIO && !(flags & TALLY_OPEN_CREATE))
			return (tly_seterr(t, TALLY_ENOTINIT,
			    "no replica at %s (run 'tally init' first)",
			    path));
		if (rv == TALLY_ECORRUPT)
			return (tly_seterr(t, rv,
			    "%s: not a tally replica, or corrupt (restore "
			    "from an export)",
			    path));
		if (rv == TALLY_EREADONLY)
			return (tly_seterr(t, rv,
			    "%s: the replica is read-only (check the "
			    "permissions of the file and of its folder)",
			    path));
		if (rv == TALLY_EBUSY)
			return (tly_seterr(t, rv,
			    "%s: the replica is locked by another program "
			    "(try again)",
			    path));
		return (rv);
	}
	busy_timeout(t->db);
	/* Reads through a memory map: listing a large replica then costs no
	 * system call per page.  Writes still go through the WAL. */
	(void) sqlite3_exec(t->db, "PRAGMA mmap_size=" TLY_MMAP_SIZE, NULL,
	    NULL, NULL);
	if (!t->readonly) {
		rv = tly_db_migrate(t->db, tly_schema_steps, tly_schema_nsteps,
		    t->err, sizeof t->err);
		if (rv == TALLY_EREADONLY || rv == TALLY_EBUSY)
			(void) tly_dberr(t, path);
		else if (rv == TALLY_ECORRUPT)
			(void) tly_seterr(t, rv,
			    "%s: the replica is corrupt (restore from an "
			    "export)",
			    path);
		if (rv != 0)
			return (rv);
	} else {
		int v;
		if ((rv = tly_db_version(t->db, &v)) != 0)
			return (tly_dberr(t, path));
		if (v > tly_schema_nsteps)
			return (tly_seterr(t, TALLY_ESCHEMA,
			    "%s: schema version %d is newer than this tally "
			    "understands (%d): upgrade tally",
			    path, v, tly_schema_nsteps));
		if (v < tly_schema_nsteps)
			return (tly_seterr(t, TALLY_ENOTINIT,
			    "%s: replica needs an upgrade; open it once "
			    "without read-only",
			    path));
	}
	return (load_me(t));
}

void
tally_close(tally *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < TLY_STMT_CACHE; i++)
		if (t->cache[i].st != NULL)
			sqlite3_finalize(t->cache[i].st);
	tly_sync_free(t);
	if (t->db != NULL)
		sqlite3_close_v2(t->db);
	tly_identity_close(t);
	free(t);
}

int
tally_schema_version(tally *t, int *have, int *want)
{
	*want = tly_schema_nsteps;
	if (tly_db_version(t->db, have) != 0)
		return (tly_dberr(t, "reading the schema version"));
	return (0);
}

char *
tally_default_path(void)
{
	const char *home = getenv("TALLY_HOME");
	const char *xdg  = getenv("XDG_DATA_HOME");
	const char *user = getenv("HOME");
	const char *base, *tail;
	char       *out;
	size_t      n;

	if (home != NULL && *home != '\0') {
		base = home;
		tail = "/tally.db";
	} else if (xdg != NULL && *xdg == '/') {
		base = xdg;
		tail = "/tally/tally.db";
	} else if (user != NULL && *user != '\0') {
		base = user;
		tail = "/.local/share/tally/tally.db";
	} else
		return (NULL);
	n = strlen(base) + strlen(tail) + 1;
	if ((out = malloc(n)) != NULL)
		snprintf(out, n, "%s%s", base, tail);
	return (out);
}

int
tally_init(tally *t, const char *name)
{
	sqlite3_stmt *st;
	char          id[TALLY_ID_LEN + 1];
	char         *key;
	int64_t       now = tly_now();
	int           rv;

	if (t->me[0] != '\0')
		return (tly_seterr(t, TALLY_EEXIST,
		    "the replica is already initialised"));
	/* A device that joined gets its user with its first sync. */
	if ((st = tly_stmt(t, "SELECT 1 FROM sync_state"
	                      " WHERE k = 'linked_by'")) == NULL)
		return (TALLY_EINTERNAL);
	rv = sqlite3_step(st);
	sqlite3_reset(st);
	if (rv == SQLITE_ROW)
		return (tly_seterr(t, TALLY_ESTATE,
		    "this replica joined your devices: its user comes with "
		    "'tally sync'"));
	if (name == NULL || *name == '\0')
		name = "me";
	if ((rv = tly_check_text(t, "name", name)) != 0)
		return (rv);
	if (strpbrk(name, "\t\r\n") != NULL)
		return (tly_seterr(t, TALLY_EINVAL,
		    "name must be on one line"));
	if ((key = tly_casefold(name)) == NULL)
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	st = tly_stmt(t,
	    "INSERT INTO person(id, name, name_key, is_me, created, updated)"
	    " VALUES (?1, ?2, ?3, 1, ?4, ?4)");
	if (st == NULL) {
		free(key);
		return (TALLY_EINTERNAL);
	}
	tly_id_new(id);
	tly_bind_text(st, 1, id);
	tly_bind_text(st, 2, name);
	tly_bind_text(st, 3, key);
	sqlite3_bind_int64(st, 4, now);
	rv = tly_step_done(t, st, "initialising the replica");
	free(key);
	if (rv == 0)
		memcpy(t->me, id, sizeof id);
	return (rv);
}

int
tally_me(tally *t, char *id)
{
	if (t->me[0] == '\0')
		return (tly_seterr(t, TALLY_ENOTINIT,
		    "the replica has no user yet (run 'tally init')"));
	memcpy(id, t->me, TALLY_ID_LEN + 1);
	return (0);
}

/* -- Resolving -------------------------------------------------------- */

static const char *const kind_table[] = {
	[TALLY_PERSON]      = "person",
	[TALLY_INTERACTION] = "conversation",
	[TALLY_FAVOR]       = "favor",
	[TALLY_INTRO]       = "introduction",
	[TALLY_REFERENCE]   = "reference",
};

/* Drops LIKE's wildcards from s, in place. */
static void
like_strip(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++)
		if (*r != '%' && *r != '_' && *r != '\\')
			*w++ = *r;
	*w = '\0';
}

/* Collects up to a few matches of a query into id and a candidates
 * list; returns the number of matches. */
static int
collect(tally *t, sqlite3_stmt *st, char *id, char *cands, size_t csz)
{
	int    n = 0;
	size_t used;

	cands[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *rid  = tly_col_text(st, 0);
		const char *what = tly_col_text(st, 1);
		if (n == 0)
			snprintf(id, TALLY_ID_LEN + 1, "%s", rid);
		used = strlen(cands);
		if (n < 8 && used < csz)
			snprintf(cands + used, csz - used, "%s%.8s %s",
			    n ? ", " : "", rid, what ? what : "");
		else if (n == 8 && used < csz)
			snprintf(cands + used, csz - used, ", ...");
		n++;
	}
	sqlite3_reset(st);
	(void) t;
	return (n);
}

int
tally_resolve(tally *t, char *id, enum tally_kind kind, const char *spec)
{
	static const char *const by_prefix[] = {
		[TALLY_PERSON] = "SELECT id, name FROM person"
		                 " WHERE id >= ?1 AND id < ?1 || 'g' LIMIT 9",
		[TALLY_INTERACTION] =
		    "SELECT i.id, p.name || ' (' || i.kind || ')' FROM "
		    "interaction i JOIN person p ON p.id = i.person"
		    " WHERE i.id >= ?1 AND i.id < ?1 || 'g' LIMIT 9",
		[TALLY_FAVOR] =
		    "SELECT f.id, f.kind || ' with ' || p.name FROM favor f"
		    " JOIN person p ON p.id = f.person"
		    " WHERE f.id >= ?1 AND f.id < ?1 || 'g' LIMIT 9",
		[TALLY_INTRO] = "SELECT id, note FROM introduction"
		                " WHERE id >= ?1 AND id < ?1 || 'g' LIMIT 9",
		[TALLY_REFERENCE] =
		    "SELECT r.id, p.name FROM reference r"
		    " JOIN person p ON p.id = r.person"
		    " WHERE r.id >= ?1 AND r.id < ?1 || 'g' LIMIT 9",
	};
	sqlite3_stmt *st;
	char          cands[400], lower[TALLY_ID_LEN + 1];
	char          byid[TALLY_ID_LEN + 1] = "";
	int           nid = 0, nname = 0;
	size_t        len = strlen(spec);

	if (len == 0)
		return (tly_seterr(t, TALLY_EINVAL, "empty %s",
		    kind_table[kind]));
	if (kind == TALLY_PERSON && strcmp(spec, "me") == 0) {
		if (t->me[0] == '\0')
			return (tly_seterr(t, TALLY_ENOTINIT,
			    "the replica has no user yet (run 'tally "
			    "init')"));
		memcpy(id, t->me, sizeof t->me);
		return (0);
	}
	if (len >= TLY_MIN_PREFIX && tly_id_is_prefix(spec)) {
		for (size_t i = 0; i <= len; i++)
			lower[i] = (char) (spec[i] >= 'A' && spec[i] <= 'F'
			        ? spec[i] - 'A' + 'a'
			        : spec[i]);
		if ((st = tly_stmt(t, by_prefix[kind])) == NULL)
			return (TALLY_EINTERNAL);
		tly_bind_text(st, 1, lower);
		nid = collect(t, st, byid, cands, sizeof cands);
		if (nid > 1)
			return (tly_seterr(t, TALLY_EAMBIG,
			    "%s id '%s' is ambiguous: %s", kind_table[kind],
			    spec, cands));
	}
	if (kind == TALLY_PERSON) {
		char *key = tly_casefold(spec);
		char  pc[400];
		if (key == NULL)
			return (tly_seterr(t, TALLY_EINVAL,
			    "person '%s' is not valid UTF-8", spec));
		st = tly_stmt(t, "SELECT id, name FROM person"
		                 " WHERE name_key = ?1 ORDER BY id LIMIT 9");
		if (st == NULL) {
			free(key);
			return (TALLY_EINTERNAL);
		}
		tly_bind_text(st, 1, key);
		free(key);
		nname = collect(t, st, id, pc, sizeof pc);
		if (nname > 1 || (nname == 1 && nid == 1 &&
		                     strcmp(id, byid) != 0))
			return (tly_seterr(t, TALLY_EAMBIG,
			    "person '%s' is ambiguous: %s%s%s (use an id)",
			    spec, pc, nid ? ", " : "", nid ? cands : ""));
		if (nname == 1)
			return (0);
	}
	if (nid == 1) {
		memcpy(id, byid, sizeof byid);
		return (0);
	}
	if (kind == TALLY_PERSON) {
		/* A unique name with a whole word equal to the text ("ann"
		 * finds "Ann Lee"), else a unique one with a word starting
		 * with it ("an" finds "Ann Lee" if no Anna). */
		static const char *const words[] = {
			"SELECT id, name FROM person WHERE name_key LIKE ?1"
			" || ' %' OR name_key LIKE '% ' || ?1"
			" OR name_key LIKE '% ' || ?1 || ' %' ORDER BY name_key"
			" LIMIT 9",
			"SELECT id, name FROM person WHERE name_key LIKE ?1"
			" || '%' OR name_key LIKE '% ' || ?1 || '%'"
			" ORDER BY name_key LIMIT 9",
		};
		char *key = tly_casefold(spec);
		int   n   = 0;
		if (key == NULL)
			return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
		like_strip(key);
		for (int i = 0; i < 2 && n == 0 && *key != '\0'; i++) {
			if ((st = tly_stmt(t, words[i])) == NULL) {
				free(key);
				return (TALLY_EINTERNAL);
			}
			tly_bind_text(st, 1, key);
			n = collect(t, st, id, cands, sizeof cands);
		}
		free(key);
		if (n == 1)
			return (0);
		if (n > 1)
			return (tly_seterr(t, TALLY_EAMBIG,
			    "person '%s' is ambiguous: %s (use more of the "
			    "name, or an id)",
			    spec, cands));
	}
	if (len < TLY_MIN_PREFIX && tly_id_is_prefix(spec))
		return (tly_seterr(t, TALLY_ENOENT,
		    "no %s '%s' (an id prefix needs at least %d characters)",
		    kind_table[kind], spec, TLY_MIN_PREFIX));
	return (tly_seterr(t, TALLY_ENOENT, "no %s '%s'", kind_table[kind],
	    spec));
}
