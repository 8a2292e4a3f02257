/*
 * sync_ops.c -- applying other devices' operations to the replica, and
 * the importers' set-based recording of operations (sync_int.h).
 *
 * Applying an operation (dev, clock, tbl, key, cols), inside a
 * transaction that holds the 'applying' row:
 *   1. store it in sync_op; if it was there already, stop (a batch read
 *      twice changes nothing);
 *   2. read the row's other operations; if one is a delete, stop (a
 *      delete wins, whatever the clocks);
 *   3. a delete removes the row (its cascades follow, unrecorded: the
 *      device that deleted recorded them);
 *   4. otherwise each field of the operation is kept unless a newer
 *      operation ((clock, dev) greater) of the row set it; the kept
 *      fields update the row, or, when the row is not there, the row is
 *      inserted with each field from the newest operation that set it.
 * Whatever order the operations come in, a field ends with the value of
 * its newest operation, and a deleted row stays deleted.
 *
 * A row whose parent (the person of an interaction, ...) is gone is not
 * stored: ON DELETE CASCADE would have removed it where the parent was
 * deleted after it came.  A reference that would be SET NULL is stored
 * as NULL.  Other refusals of the database (a CHECK, a UNIQUE index) skip
 * the operation; it stays in sync_op.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sync_int.h"
#include "tly_sync.h"

int tly_sync_crash_at;

/* -- The tables ------------------------------------------------------- */

#define COMMA ,
#define CN(r, c) #c
#define C0(r, c) 0
#define C1(r, c) 1

static const char *const person_cols[] = { TLY_SYNC_PERSON(CN, CN, _, COMMA) };
static const unsigned char person_blob[] = { TLY_SYNC_PERSON(C0, C1, _, COMMA) };
static const char *const interaction_cols[] = {
	TLY_SYNC_INTERACTION(CN, CN, _, COMMA)
};
static const unsigned char interaction_blob[] = {
	TLY_SYNC_INTERACTION(C0, C1, _, COMMA)
};
static const char *const intro_cols[] = {
	TLY_SYNC_INTRODUCTION(CN, CN, _, COMMA)
};
static const unsigned char intro_blob[] = {
	TLY_SYNC_INTRODUCTION(C0, C1, _, COMMA)
};
static const char *const favor_cols[] = { TLY_SYNC_FAVOR(CN, CN, _, COMMA) };
static const unsigned char favor_blob[] = { TLY_SYNC_FAVOR(C0, C1, _, COMMA) };
static const char *const reference_cols[] = {
	TLY_SYNC_REFERENCE(CN, CN, _, COMMA)
};
static const unsigned char reference_blob[] = {
	TLY_SYNC_REFERENCE(C0, C1, _, COMMA)
};
static const char *const use_cols[] = {
	TLY_SYNC_REFERENCE_USE(CN, CN, _, COMMA)
};
static const unsigned char use_blob[] = {
	TLY_SYNC_REFERENCE_USE(C0, C1, _, COMMA)
};
static const char *const peer_cols[] = { TLY_SYNC_PEER(CN, CN, _, COMMA) };
static const unsigned char peer_blob[] = { TLY_SYNC_PEER(C0, C1, _, COMMA) };
static const char *const record_cols[] = { TLY_SYNC_RECORD(CN, CN, _, COMMA) };
static const unsigned char record_blob[] = {
	TLY_SYNC_RECORD(C0, C1, _, COMMA)
};
static const char *const device_cols[] = { TLY_SYNC_DEVICE(CN, CN, _, COMMA) };
static const unsigned char device_blob[] = {
	TLY_SYNC_DEVICE(C0, C1, _, COMMA)
};

/* References between synced tables (schema.c's REFERENCES clauses). */
static const struct tly_sync_fk person_fks[] = {
	{ "referred_by", TLY_ST_PERSON, 0 },
};
static const struct tly_sync_fk interaction_fks[] = {
	{ "person", TLY_ST_PERSON, 1 },
};
static const struct tly_sync_fk intro_fks[] = {
	{ "by", TLY_ST_PERSON, 1 },
	{ "a", TLY_ST_PERSON, 1 },
	{ "b", TLY_ST_PERSON, 1 },
};
static const struct tly_sync_fk favor_fks[] = {
	{ "person", TLY_ST_PERSON, 1 },
	{ "intro", TLY_ST_INTRODUCTION, 0 },
};
static const struct tly_sync_fk reference_fks[] = {
	{ "person", TLY_ST_PERSON, 1 },
};
static const struct tly_sync_fk use_fks[] = {
	{ "reference", TLY_ST_REFERENCE, 1 },
};
static const struct tly_sync_fk peer_fks[] = {
	{ NULL, TLY_ST_PERSON, 1 }, /* the key */
};
static const struct tly_sync_fk record_fks[] = {
	{ "person", TLY_ST_PERSON, 0 },
	{ "favor", TLY_ST_FAVOR, 0 },
};

#define N(a) ((int) (sizeof(a) / sizeof((a)[0])))
#define TABLE(name, key, c, b, f) { name, key, c, b, N(c), f, N(f) }

const struct tly_sync_table tly_sync_tables[TLY_ST_N] = {
	[TLY_ST_PERSON] = TABLE("person", "id", person_cols, person_blob,
	    person_fks),
	[TLY_ST_INTERACTION] = TABLE("interaction", "id", interaction_cols,
	    interaction_blob, interaction_fks),
	[TLY_ST_INTRODUCTION] = TABLE("introduction", "id", intro_cols,
	    intro_blob, intro_fks),
	[TLY_ST_FAVOR] = TABLE("favor", "id", favor_cols, favor_blob,
	    favor_fks),
	[TLY_ST_REFERENCE] = TABLE("reference", "id", reference_cols,
	    reference_blob, reference_fks),
	[TLY_ST_REFERENCE_USE] = TABLE("reference_use", "id", use_cols,
	    use_blob, use_fks),
	[TLY_ST_PEER] = TABLE("peer", "person", peer_cols, peer_blob,
	    peer_fks),
	[TLY_ST_RECORD] = TABLE("record", "id", record_cols, record_blob,
	    record_fks),
	[TLY_ST_DEVICE] = { "device", "id", device_cols, device_blob,
	    N(device_cols), NULL, 0 },
};

_Static_assert(N(record_cols) + 1 <= TLY_SYNC_MAXCOLS, "widest table");

/* The insert triggers, as schema.c made them (bulk mode compares). */
static const char *const ai_sql[TLY_ST_N] = {
	[TLY_ST_PERSON] = TLY_SYNC_TRIGGER_AI("person", "1", "id"),
	[TLY_ST_INTERACTION] = TLY_SYNC_TRIGGER_AI("interaction", "2", "id"),
	[TLY_ST_INTRODUCTION] = TLY_SYNC_TRIGGER_AI("introduction", "3", "id"),
	[TLY_ST_FAVOR] = TLY_SYNC_TRIGGER_AI("favor", "4", "id"),
	[TLY_ST_REFERENCE] = TLY_SYNC_TRIGGER_AI("reference", "5", "id"),
	[TLY_ST_REFERENCE_USE] = TLY_SYNC_TRIGGER_AI("reference_use", "6",
	    "id"),
	[TLY_ST_PEER] = TLY_SYNC_TRIGGER_AI("peer", "7", "person"),
	[TLY_ST_RECORD] = TLY_SYNC_TRIGGER_AI("record", "8", "id"),
	[TLY_ST_DEVICE] = TLY_SYNC_TRIGGER_AI("device", "9", "id"),
};

/* What bulk mode records for the rows added: ?1 device, ?2 first clock,
 * ?3 the table's largest rid before.  Clocks follow the rids (distinct,
 * increasing; a gap only skips clocks). */
#define BULK_OPS(tab, no, key)                                                \
	"INSERT INTO sync_op(dev, clock, tbl, key, cols)"                    \
	" SELECT ?1, ?2 + r.rid - ?3 - 1, " no ", r." key ", '" TLY_SYNC_ROW   \
	"' FROM " tab " r WHERE r.rid > ?3 ORDER BY r.rid"

/* A row's fields as an insert records them (TLY_SYNC_ROW expanded). */
#define ROW_JSON(tab, key, LIST)                                             \
	"SELECT " TLY_SYNC_ROW_JSON(LIST, "r") " FROM " tab " r"             \
	" WHERE r." key " = ?1"
static const char *const row_sql[TLY_ST_N] = {
	[TLY_ST_PERSON] = ROW_JSON("person", "id", TLY_SYNC_PERSON),
	[TLY_ST_INTERACTION] = ROW_JSON("interaction", "id",
	    TLY_SYNC_INTERACTION),
	[TLY_ST_INTRODUCTION] = ROW_JSON("introduction", "id",
	    TLY_SYNC_INTRODUCTION),
	[TLY_ST_FAVOR] = ROW_JSON("favor", "id", TLY_SYNC_FAVOR),
	[TLY_ST_REFERENCE] = ROW_JSON("reference", "id", TLY_SYNC_REFERENCE),
	[TLY_ST_REFERENCE_USE] = ROW_JSON("reference_use", "id",
	    TLY_SYNC_REFERENCE_USE),
	[TLY_ST_PEER] = ROW_JSON("peer", "person", TLY_SYNC_PEER),
	[TLY_ST_RECORD] = ROW_JSON("record", "id", TLY_SYNC_RECORD),
	[TLY_ST_DEVICE] = ROW_JSON("device", "id", TLY_SYNC_DEVICE),
};

int
tly_sync_row_json(tally *t, int tb, const char *key, size_t klen,
    tly_buf *out)
{
	sqlite3_stmt *st;
	int           rc, rv = 0;

	tly_buf_reset(out);
	if (tb <= 0 || tb >= TLY_ST_N)
		return (TALLY_ENOENT);
	if ((st = tly_stmt(t, row_sql[tb])) == NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_text(st, 1, key, (int) klen, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rv = tly_buf_append(out, sqlite3_column_text(st, 0),
		         (size_t) sqlite3_column_bytes(st, 0))) != 0 ||
		    tly_buf_cstr(out) == NULL)
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
	} else if (rc == SQLITE_DONE)
		rv = TALLY_ENOENT;
	else
		rv = tly_dberr(t, "reading a row");
	sqlite3_reset(st);
	return (rv);
}
static const char *const bulk_sql[TLY_ST_N] = {
	[TLY_ST_PERSON] = BULK_OPS("person", "1", "id"),
	[TLY_ST_INTERACTION] = BULK_OPS("interaction", "2", "id"),
	[TLY_ST_INTRODUCTION] = BULK_OPS("introduction", "3", "id"),
	[TLY_ST_FAVOR] = BULK_OPS("favor", "4", "id"),
	[TLY_ST_REFERENCE] = BULK_OPS("reference", "5", "id"),
	[TLY_ST_REFERENCE_USE] = BULK_OPS("reference_use", "6", "id"),
	[TLY_ST_PEER] = BULK_OPS("peer", "7", "person"),
	[TLY_ST_RECORD] = BULK_OPS("record", "8", "id"),
	[TLY_ST_DEVICE] = BULK_OPS("device", "9", "id"),
};

/* sync_op's row index, as schema.c makes it. */
#define ROW_INDEX "CREATE INDEX sync_op_row ON sync_op(key, tbl)"

/* -- Per-handle state ------------------------------------------------- */

#define UPD_CACHE 64 /* cached UPDATE statements, by (table, fields) */

struct tly_sync {
	uint64_t      dev;                /* this device, 0 until read */
	sqlite3_stmt *ins[TLY_ST_N];      /* INSERT of a whole row */
	sqlite3_stmt *del[TLY_ST_N];      /* DELETE by key */
	sqlite3_stmt *has[TLY_ST_N];      /* SELECT 1 by key */
	struct {
		int           tbl;
		uint32_t      mask;
		sqlite3_stmt *st;
	} upd[UPD_CACHE];
	int     nupd;
	tly_buf scratch;                  /* the operation's decoded values */
	/* new rows staged for one INSERT ... SELECT per table (stage.c's
	 * comment in apply: FTS5 flushes its pending index at the end of
	 * every statement) */
	sqlite3_stmt *sput[TLY_ST_N];     /* a row into its stage */
	sqlite3_stmt *sflush[TLY_ST_N];   /* the stage into the table */
	sqlite3_stmt *sclear[TLY_ST_N];
	sqlite3_stmt *sscan[TLY_ST_N];    /* key, fields, one by one */
	sqlite3_stmt *swake[TLY_ST_N];    /* staged keys rows wait for */
	size_t        staged[TLY_ST_N];
	size_t        nstaged;
	/* a new replica's first pull (fresh_begin .. fresh_end) */
	int           fresh;
	size_t        nfresh;             /* operations in sync_fresh */
	char        **dropped;            /* CREATE text of what it dropped */
	int          *dropkind;           /* 1: index, 2: trigger */
	size_t        ndropped;
	/* bulk mode */
	int     bulk;                     /* the insert triggers are dropped */
	int     bulk_index;               /* and sync_op_row */
	int64_t base[TLY_ST_N];           /* largest rid before */
};

static struct tly_sync *
sync_state(tally *t)
{
	if (t->sync == NULL)
		t->sync = calloc(1, sizeof *t->sync);
	if (t->sync == NULL)
		tly_seterr(t, TALLY_ENOMEM, "out of memory");
	return (t->sync);
}

void
tly_sync_free(tally *t)
{
	struct tly_sync *s = t->sync;

	if (s == NULL)
		return;
	for (int i = 0; i < TLY_ST_N; i++) {
		sqlite3_finalize(s->ins[i]);
		sqlite3_finalize(s->del[i]);
		sqlite3_finalize(s->has[i]);
		sqlite3_finalize(s->sput[i]);
		sqlite3_finalize(s->sflush[i]);
		sqlite3_finalize(s->sclear[i]);
		sqlite3_finalize(s->sscan[i]);
		sqlite3_finalize(s->swake[i]);
	}
	for (int i = 0; i < s->nupd; i++)
		sqlite3_finalize(s->upd[i].st);
	for (size_t i = 0; i < s->ndropped; i++)
		free(s->dropped[i]);
	free(s->dropped);
	free(s->dropkind);
	tly_buf_free(&s->scratch);
	free(s);
	t->sync = NULL;
}

int
tly_sync_device(tally *t, uint64_t *dev)
{
	struct tly_sync *s = sync_state(t);
	sqlite3_stmt    *st;
	int              rc;

	if (s == NULL)
		return (TALLY_ENOMEM);
	if (s->dev == 0) {
		st = tly_stmt(t, "SELECT v FROM sync_state WHERE k = 'device'");
		if (st == NULL)
			return (TALLY_EINTERNAL);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			s->dev = (uint64_t) sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return (tly_dberr(t, "reading the device id"));
		if (s->dev == 0)
			return (tly_seterr(t, TALLY_ENOTINIT,
			    "the replica has no device id"));
	}
	*dev = s->dev;
	return (0);
}

/* Prepares sql (freed by the caller) into *st once. */
static int
prepare(tally *t, sqlite3_stmt **st, char *sql)
{
	int rc;

	if (sql == NULL)
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	rc = sqlite3_prepare_v3(t->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
	    NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return (tly_dberr(t, "preparing to apply operations"));
	return (0);
}

static sqlite3_stmt *
stmt_ins(tally *t, struct tly_sync *s, int tb)
{
	const struct tly_sync_table *d = &tly_sync_tables[tb];
	char                        *cols, *qs, *sql;

	if (s->ins[tb] != NULL) {
		sqlite3_reset(s->ins[tb]);
		sqlite3_clear_bindings(s->ins[tb]);
		return (s->ins[tb]);
	}
	cols = sqlite3_mprintf("\"%w\"", d->key);
	qs   = sqlite3_mprintf("?1");
	for (int i = 0; i < d->ncols && cols != NULL && qs != NULL; i++) {
		char *c2 = sqlite3_mprintf("%s, \"%w\"", cols, d->cols[i]);
		char *q2 = sqlite3_mprintf("%s, ?%d", qs, i + 2);

		sqlite3_free(cols);
		sqlite3_free(qs);
		cols = c2;
		qs   = q2;
	}
	sql = cols != NULL && qs != NULL
	    ? sqlite3_mprintf("INSERT INTO main.\"%w\"(%s) VALUES (%s)",
	          d->name, cols, qs)
	    : NULL;
	sqlite3_free(cols);
	sqlite3_free(qs);
	if (prepare(t, &s->ins[tb], sql) != 0)
		return (NULL);
	return (s->ins[tb]);
}

static sqlite3_stmt *
stmt_key(tally *t, sqlite3_stmt **cache, const char *fmt, int tb)
{
	const struct tly_sync_table *d = &tly_sync_tables[tb];

	if (cache[tb] != NULL) {
		sqlite3_reset(cache[tb]);
		return (cache[tb]);
	}
	if (prepare(t, &cache[tb], sqlite3_mprintf(fmt, d->name, d->key)) != 0)
		return (NULL);
	return (cache[tb]);
}

static sqlite3_stmt *
stmt_del(tally *t, struct tly_sync *s, int tb)
{
	return (stmt_key(t, s->del,
	    "DELETE FROM main.\"%w\" WHERE \"%w\" = ?1", tb));
}

static sqlite3_stmt *
stmt_has(tally *t, struct tly_sync *s, int tb)
{
	return (stmt_key(t, s->has,
	    "SELECT 1 FROM main.\"%w\" WHERE \"%w\" = ?1", tb));
}

static sqlite3_stmt *
stmt_upd(tally *t, struct tly_sync *s, int tb, uint32_t mask)
{
	const struct tly_sync_table *d = &tly_sync_tables[tb];
	char                        *set = NULL, *sql;
	int                          k;

	for (k = 0; k < s->nupd; k++)
		if (s->upd[k].tbl == tb && s->upd[k].mask == mask) {
			sqlite3_reset(s->upd[k].st);
			sqlite3_clear_bindings(s->upd[k].st);
			return (s->upd[k].st);
		}
	if (s->nupd == UPD_CACHE) {
		for (k = 0; k < s->nupd; k++)
			sqlite3_finalize(s->upd[k].st);
		s->nupd = 0;
	}
	for (int i = 0; i < d->ncols; i++) {
		char *s2;

		if (!(mask & (1u << i)))
			continue;
		s2 = sqlite3_mprintf("%s%s\"%w\" = ?%d", set ? set : "",
		    set ? ", " : "", d->cols[i], i + 2);
		sqlite3_free(set);
		if ((set = s2) == NULL)
			break;
	}
	sql = set != NULL ? sqlite3_mprintf(
	                        "UPDATE main.\"%w\" SET %s WHERE \"%w\" = ?1",
	                        d->name, set, d->key)
	                  : NULL;
	sqlite3_free(set);
	k = s->nupd;
	if (prepare(t, &s->upd[k].st, sql) != 0)
		return (NULL);
	s->upd[k].tbl  = tb;
	s->upd[k].mask = mask;
	s->nupd++;
	return (s->upd[k].st);
}

/* -- The fields of an operation --------------------------------------- */

struct sfield {
	int         type; /* SQLITE_NULL, _INTEGER, _FLOAT, _TEXT, _BLOB */
	int64_t     i;
	double      d;
	const char *s; /* text or blob, in the scratch buffer */
	size_t      n;
};

struct srow {
	uint32_t      mask; /* fields present */
	struct sfield f[TLY_SYNC_MAXCOLS];
};

struct jrd {
	const unsigned char *p;
	size_t               n, o;
	unsigned char       *out; /* scratch: decoded strings */
	size_t               olen;
};

static void
jws(struct jrd *j)
{
	while (j->o < j->n && (j->p[j->o] == ' ' || j->p[j->o] == '\t' ||
	                          j->p[j->o] == '\n' || j->p[j->o] == '\r'))
		j->o++;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

static void
put_utf8(struct jrd *j, uint32_t c)
{
	unsigned char *o = j->out + j->olen;

	if (c < 0x80) {
		o[0] = (unsigned char) c;
		j->olen += 1;
	} else if (c < 0x800) {
		o[0] = (unsigned char) (0xc0 | (c >> 6));
		o[1] = (unsigned char) (0x80 | (c & 0x3f));
		j->olen += 2;
	} else if (c < 0x10000) {
		o[0] = (unsigned char) (0xe0 | (c >> 12));
		o[1] = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
		o[2] = (unsigned char) (0x80 | (c & 0x3f));
		j->olen += 3;
	} else {
		o[0] = (unsigned char) (0xf0 | (c >> 18));
		o[1] = (unsigned char) (0x80 | ((c >> 12) & 0x3f));
		o[2] = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
		o[3] = (unsigned char) (0x80 | (c & 0x3f));
		j->olen += 4;
	}
}

static int
hex4(struct jrd *j, uint32_t *v)
{
	*v = 0;
	if (j->n - j->o < 4)
		return (-1);
	for (int i = 0; i < 4; i++) {
		int h = hexval(j->p[j->o + (size_t) i]);
		if (h < 0)
			return (-1);
		*v = (*v << 4) | (uint32_t) h;
	}
	j->o += 4;
	return (0);
}

/* Reads a JSON string (at its '"') into the scratch; *s, *len.  Every
 * escape decodes to no more bytes than it takes, so the scratch (as
 * large as the input) never overflows. */
static int
jstring(struct jrd *j, const char **s, size_t *len)
{
	size_t start;

	if (j->o >= j->n || j->p[j->o] != '"')
		return (-1);
	j->o++;
	start = j->olen;
	for (;;) {
		unsigned char c;

		if (j->o >= j->n)
			return (-1);
		c = j->p[j->o++];
		if (c == '"')
			break;
		if (c < 0x20)
			return (-1);
		if (c != '\\') {
			j->out[j->olen++] = c;
			continue;
		}
		if (j->o >= j->n)
			return (-1);
		c = j->p[j->o++];
		switch (c) {
		case '"':
		case '\\':
		case '/':
			j->out[j->olen++] = c;
			break;
		case 'b':
			j->out[j->olen++] = '\b';
			break;
		case 'f':
			j->out[j->olen++] = '\f';
			break;
		case 'n':
			j->out[j->olen++] = '\n';
			break;
		case 'r':
			j->out[j->olen++] = '\r';
			break;
		case 't':
			j->out[j->olen++] = '\t';
			break;
		case 'u': {
			uint32_t u, lo;

			if (hex4(j, &u) != 0)
				return (-1);
			if (u >= 0xdc00 && u <= 0xdfff)
				return (-1);
			if (u >= 0xd800 && u <= 0xdbff) {
				if (j->n - j->o < 2 || j->p[j->o] != '\\' ||
				    j->p[j->o + 1] != 'u')
					return (-1);
				j->o += 2;
				if (hex4(j, &lo) != 0 || lo < 0xdc00 ||
				    lo > 0xdfff)
					return (-1);
				u = 0x10000 + ((u - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			if (u == 0)
				return (-1);
			put_utf8(j, u);
			break;
		}
		default:
			return (-1);
		}
	}
	*s   = (const char *) j->out + start;
	*len = j->olen - start;
	if (!tly_utf8_valid(*s, *len))
		return (-1);
	j->out[j->olen++] = '\0';
	return (0);
}

static int
jnumber(struct jrd *j, struct sfield *f)
{
	size_t start = j->o, n;
	int    real  = 0;
	char   buf[64], *end;

	if (j->o < j->n && j->p[j->o] == '-')
		j->o++;
	if (j->o >= j->n || j->p[j->o] < '0' || j->p[j->o] > '9')
		return (-1);
	if (j->p[j->o] == '0')
		j->o++;
	else
		while (j->o < j->n && j->p[j->o] >= '0' && j->p[j->o] <= '9')
			j->o++;
	if (j->o < j->n && j->p[j->o] == '.') {
		real = 1;
		j->o++;
		if (j->o >= j->n || j->p[j->o] < '0' || j->p[j->o] > '9')
			return (-1);
		while (j->o < j->n && j->p[j->o] >= '0' && j->p[j->o] <= '9')
			j->o++;
	}
	if (j->o < j->n && (j->p[j->o] == 'e' || j->p[j->o] == 'E')) {
		real = 1;
		j->o++;
		if (j->o < j->n && (j->p[j->o] == '+' || j->p[j->o] == '-'))
			j->o++;
		if (j->o >= j->n || j->p[j->o] < '0' || j->p[j->o] > '9')
			return (-1);
		while (j->o < j->n && j->p[j->o] >= '0' && j->p[j->o] <= '9')
			j->o++;
	}
	n = j->o - start;
	if (n >= sizeof buf)
		return (-1);
	memcpy(buf, j->p + start, n);
	buf[n] = '\0';
	if (!real) {
		int64_t v   = 0;
		int     neg = buf[0] == '-';

		for (const char *c = buf + neg; *c != '\0'; c++) {
			int dgt = *c - '0';
			if (v > (INT64_MAX - dgt) / 10) {
				if (neg && v == INT64_MAX / 10 && dgt == 8 &&
				    c[1] == '\0') {
					v = INT64_MIN;
					neg = 0;
					break;
				}
				return (-1);
			}
			v = v * 10 + dgt;
		}
		f->type = SQLITE_INTEGER;
		f->i    = neg ? -v : v;
		return (0);
	}
	f->type = SQLITE_FLOAT;
	f->d    = strtod(buf, &end);
	return (*end == '\0' ? 0 : -1);
}

static int
jword(struct jrd *j, const char *w)
{
	size_t n = strlen(w);

	if (j->n - j->o < n || memcmp(j->p + j->o, w, n) != 0)
		return (-1);
	j->o += n;
	return (0);
}

/* Parses the fields p[0..n) of an operation on table tb into r (values
 * in the scratch buffer j->out, at least n + 1 bytes).  Only the keys
 * when keys_only.  -1 for anything but a flat object of the table's
 * columns, each at most once, blobs as hex. */
static int
parse_fields(int tb, const unsigned char *p, size_t n, unsigned char *scratch,
    struct srow *r, int keys_only)
{
	const struct tly_sync_table *d = &tly_sync_tables[tb];
	struct jrd                   j = { p, n, 0, scratch, 0 };

	r->mask = 0;
	jws(&j);
	if (j.o >= j.n || j.p[j.o++] != '{')
		return (-1);
	jws(&j);
	if (j.o < j.n && j.p[j.o] == '}') {
		j.o++;
		goto end;
	}
	for (;;) {
		const char    *name;
		size_t         nlen, mark;
		int            col = -1;
		struct sfield *f;

		if (jstring(&j, &name, &nlen) != 0)
			return (-1);
		for (int i = 0; i < d->ncols; i++)
			if (strlen(d->cols[i]) == nlen &&
			    memcmp(d->cols[i], name, nlen) == 0)
				col = i;
		if (col < 0 || (r->mask & (1u << col)))
			return (-1);
		r->mask |= 1u << col;
		f = &r->f[col];
		memset(f, 0, sizeof *f);
		j.olen = (size_t) (name - (const char *) j.out); /* reuse */
		jws(&j);
		if (j.o >= j.n || j.p[j.o++] != ':')
			return (-1);
		jws(&j);
		if (j.o >= j.n)
			return (-1);
		mark = j.olen;
		switch (j.p[j.o]) {
		case '"':
			if (jstring(&j, &f->s, &f->n) != 0)
				return (-1);
			f->type = SQLITE_TEXT;
			if (d->blob[col]) {
				unsigned char *b = j.out + mark;

				if (f->n % 2 != 0)
					return (-1);
				for (size_t i = 0; i < f->n / 2; i++) {
					int h = hexval(f->s[2 * i]);
					int l = hexval(f->s[2 * i + 1]);
					if (h < 0 || l < 0)
						return (-1);
					b[i] = (unsigned char) (h << 4 | l);
				}
				f->n /= 2;
				f->type = SQLITE_BLOB;
				j.olen  = mark + f->n + 1;
			}
			break;
		case 'n':
			if (jword(&j, "null") != 0)
				return (-1);
			f->type = SQLITE_NULL;
			break;
		case 't':
		case 'f':
			f->type = SQLITE_INTEGER;
			f->i    = j.p[j.o] == 't';
			if (jword(&j, f->i ? "true" : "false") != 0)
				return (-1);
			break;
		default:
			if (jnumber(&j, f) != 0)
				return (-1);
			break;
		}
		if (keys_only)
			j.olen = 0;
		jws(&j);
		if (j.o >= j.n)
			return (-1);
		if (j.p[j.o] == '}') {
			j.o++;
			break;
		}
		if (j.p[j.o++] != ',')
			return (-1);
		jws(&j);
	}
end:
	jws(&j);
	return (j.o == j.n ? 0 : -1);
}

static int
bind_field(sqlite3_stmt *st, int i, const struct sfield *f)
{
	switch (f->type) {
	case SQLITE_INTEGER:
		return (sqlite3_bind_int64(st, i, f->i));
	case SQLITE_FLOAT:
		return (sqlite3_bind_double(st, i, f->d));
	case SQLITE_TEXT:
		return (sqlite3_bind_text(st, i, f->s, (int) f->n,
		    SQLITE_STATIC));
	case SQLITE_BLOB:
		return (sqlite3_bind_blob(st, i, f->s, (int) f->n,
		    SQLITE_STATIC));
	default:
		return (sqlite3_bind_null(st, i));
	}
}

/* -- Applying ----------------------------------------------------------- */

static void stage_drop(tally *t, struct tly_sync *s);
static int  stage_tables(tally *t);
static int  fresh_op(tally *t, struct tly_sync *s, uint64_t dev,
     const struct tly_sync_op *op);

int
tly_sync_apply_begin(tally *t)
{
	struct tly_sync *s = sync_state(t);
	sqlite3_stmt    *st;
	int              rv;

	if (s == NULL)
		return (TALLY_ENOMEM);
	stage_drop(t, s); /* left by a transaction rolled back */
	if ((rv = stage_tables(t)) != 0)
		return (rv);
	st = tly_stmt(t, "INSERT OR REPLACE INTO sync_state(k, v)"
	                 " VALUES ('applying', 1)");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	return (tly_step_done(t, st, "applying operations"));
}

int
tly_sync_apply_end(tally *t, struct tly_apply_stats *as)
{
	sqlite3_stmt *st;
	int           rv;

	if ((rv = tly_sync_apply_flush(t, as)) != 0)
		return (rv);
	if ((st = tly_stmt(t, "DELETE FROM sync_state WHERE k = 'applying'")) ==
	    NULL)
		return (TALLY_EINTERNAL);
	if ((rv = tly_step_done(t, st, "applying operations")) != 0)
		return (rv);
	if ((st = tly_stmt(t, "UPDATE sync_state SET v = max(v, ?1)"
	                      " WHERE k = 'seen'")) == NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_int64(st, 1, (int64_t) as->maxclock);
	return (tly_step_done(t, st, "applying operations"));
}

/* Is there a row keyed key (of length n) in table tb?  1, 0 or -code. */
static int
row_exists(tally *t, struct tly_sync *s, int tb, const char *key, size_t n)
{
	sqlite3_stmt *st = stmt_has(t, s, tb);
	int           rc;

	if (st == NULL)
		return (-TALLY_EINTERNAL);
	sqlite3_bind_text(st, 1, key, (int) n, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return (1);
	if (rc == SQLITE_DONE)
		return (0);
	return (-tly_dberr(t, "applying operations"));
}

/* Was the row deleted (has it a tombstone)?  1, 0 or -code. */
static int
row_deleted(tally *t, int tb, const char *key, size_t n)
{
	sqlite3_stmt *st;
	int           rc;

	if ((st = tly_stmt(t, "SELECT 1 FROM sync_op WHERE key = ?1 AND"
	                      " tbl = ?2 AND cols IS NULL")) == NULL)
		return (-TALLY_EINTERNAL);
	sqlite3_bind_text(st, 1, key, (int) n, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, tb);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return (1);
	if (rc == SQLITE_DONE)
		return (0);
	return (-tly_dberr(t, "applying operations"));
}

/* Row (tb, key) waits for row (ptb, pkey) to come. */
static int
wait_for(tally *t, int ptb, const char *pkey, size_t pn, int tb,
    const char *key, size_t n)
{
	sqlite3_stmt *st;

	if ((st = tly_stmt(t, "INSERT OR IGNORE INTO sync_wait(ptbl, pkey,"
	                      " tbl, key) VALUES (?1, ?2, ?3, ?4)")) == NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_int(st, 1, ptb);
	sqlite3_bind_text(st, 2, pkey, (int) pn, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, tb);
	sqlite3_bind_text(st, 4, key, (int) n, SQLITE_STATIC);
	return (tly_step_done(t, st, "applying operations"));
}

/* Steps an INSERT or UPDATE: 0 (stored), 1 (refused by a constraint) or
 * a TALLY_E* code. */
static int
step_write(tally *t, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return (0);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return (1);
	return (tly_dberr(t, "applying operations"));
}

static int
delete_row(tally *t, struct tly_sync *s, int tb, const char *key, size_t n)
{
	sqlite3_stmt *st = stmt_del(t, s, tb);

	if (st == NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_text(st, 1, key, (int) n, SQLITE_STATIC);
	return (tly_step_done(t, st, "applying operations"));
}

/* After a FOREIGN KEY failure, looks at each reference of r (fields
 * mask) to a row that is not there.  If that row was deleted, a SET
 * NULL reference becomes NULL for good and a CASCADE one drops this row
 * (returns 1).  If it has not come yet, this row waits for it: a SET
 * NULL reference is NULL meanwhile, a CASCADE one keeps the row out
 * (returns 1).  *changed says whether a field was cleared.  0, 1 or
 * -code. */
static int
fix_refs(tally *t, struct tly_sync *s, int tb, const char *key, size_t klen,
    struct srow *r, uint32_t mask, int *changed)
{
	const struct tly_sync_table *d = &tly_sync_tables[tb];
	int                          e, out = 0;

	*changed = 0;
	for (int k = 0; k < d->nfks; k++) {
		const struct tly_sync_fk *fk = &d->fks[k];
		const char               *pk = key;
		size_t                    pn = klen;
		int                       col = -1;

		if (fk->col != NULL) {
			for (int i = 0; i < d->ncols; i++)
				if (strcmp(d->cols[i], fk->col) == 0)
					col = i;
			if (col < 0 || !(mask & (1u << col)) ||
			    r->f[col].type != SQLITE_TEXT)
				continue;
			pk = r->f[col].s;
			pn = r->f[col].n;
		}
		if ((e = row_exists(t, s, fk->parent, pk, pn)) != 0) {
			if (e < 0)
				return (e);
			continue;
		}
		if ((e = row_deleted(t, fk->parent, pk, pn)) < 0)
			return (e);
		if (e == 0 &&
		    (e = -wait_for(t, fk->parent, pk, pn, tb, key, klen)) < 0)
			return (e);
		if (fk->cascade || col < 0)
			out = 1;
		else {
			r->f[col].type = SQLITE_NULL;
			*changed       = 1;
		}
	}
	return (out);
}

static int wake(tally *t, struct tly_sync *s, int tb, const char *key,
    size_t n);

/* Writes the fields mask of r to the row (update) or as a new row, and
 * lets the rows waiting for a new row come.  0 (stored), 1 (not stored)
 * or a code. */
static int
write_row(tally *t, struct tly_sync *s, int tb, const char *key, size_t klen,
    struct srow *r, uint32_t mask, int update)
{
	const struct tly_sync_table *d = &tly_sync_tables[tb];
	int                          rv, changed;

	for (int attempt = 0; attempt < 2; attempt++) {
		sqlite3_stmt *st = update ? stmt_upd(t, s, tb, mask)
		                          : stmt_ins(t, s, tb);

		if (st == NULL)
			return (TALLY_EINTERNAL);
		sqlite3_bind_text(st, 1, key, (int) klen, SQLITE_STATIC);
		for (int i = 0; i < d->ncols; i++)
			if (mask & (1u << i))
				bind_field(st, i + 2, &r->f[i]);
		if ((rv = step_write(t, st)) == 0)
			return (update ? 0 : wake(t, s, tb, key, klen));
		if (rv != 1)
			return (rv);
		if (sqlite3_extended_errcode(t->db) !=
		        SQLITE_CONSTRAINT_FOREIGNKEY ||
		    attempt > 0)
			return (1);
		if ((rv = fix_refs(t, s, tb, key, klen, r, mask, &changed)) <
		    0)
			return (-rv);
		if (rv == 1) {
			/* Its parent is gone (or not here yet): so is the
			 * row. */
			if (update &&
			    (rv = delete_row(t, s, tb, key, klen)) != 0)
				return (rv);
			return (1);
		}
		if (!changed)
			return (1);
	}
	return (1);
}

/* The operations of one row. */
struct other {
	uint64_t       dev, clock;
	unsigned char *cols; /* malloc'd copy, NUL-terminated */
	size_t         n;
	struct srow    r;   /* parsed, values in scr */
	unsigned char *scr;
};

struct opset {
	struct other *o;
	size_t        n, cap;
	int           tomb; /* the row was deleted */
};

static void
opset_free(struct opset *os)
{
	for (size_t k = 0; k < os->n; k++) {
		free(os->o[k].cols);
		free(os->o[k].scr);
	}
	free(os->o);
	memset(os, 0, sizeof *os);
}

static int
newer(uint64_t c1, uint64_t d1, uint64_t c2, uint64_t d2)
{
	return (c1 > c2 || (c1 == c2 && d1 > d2));
}

/* Reads the operations of row (tb, key) but (dev, clock) into os; stops
 * at a delete (os->tomb). */
static int
load_ops(tally *t, int tb, const char *key, size_t klen, uint64_t dev,
    uint64_t clock, struct opset *os)
{
	sqlite3_stmt *q;
	size_t        stars = 0;
	int           rc, rv = 0;

	memset(os, 0, sizeof *os);
	if ((q = tly_stmt(t, "SELECT dev, clock, cols FROM sync_op"
	                     " WHERE key = ?1 AND tbl = ?2")) == NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_text(q, 1, key, (int) klen, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, tb);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		uint64_t      d = (uint64_t) sqlite3_column_int64(q, 0);
		uint64_t      c = (uint64_t) sqlite3_column_int64(q, 1);
		struct other *x;

		if (d == dev && c == clock)
			continue;
		if (sqlite3_column_type(q, 2) == SQLITE_NULL) {
			os->tomb = 1;
			break;
		}
		if (os->n == os->cap) {
			struct other *n2;
			size_t        cap = os->cap ? 2 * os->cap : 4;

			if ((n2 = realloc(os->o, cap * sizeof *n2)) == NULL) {
				rv = tly_seterr(t, TALLY_ENOMEM,
				    "out of memory");
				break;
			}
			os->o   = n2;
			os->cap = cap;
		}
		x = &os->o[os->n];
		memset(x, 0, sizeof *x);
		x->dev   = d;
		x->clock = c;
		x->n     = (size_t) sqlite3_column_bytes(q, 2);
		if ((x->cols = malloc(x->n + 1)) == NULL) {
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
			break;
		}
		memcpy(x->cols, sqlite3_column_text(q, 2), x->n + 1);
		os->n++;
		if (strcmp((char *) x->cols, TLY_SYNC_ROW) == 0)
			stars++;
	}
	sqlite3_reset(q);
	if (rv == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading operations");
	/* My inserts, from the row (gone: no fields). */
	for (size_t k = 0; rv == 0 && stars > 0 && k < os->n; k++) {
		struct other *x = &os->o[k];
		tly_buf       b = TLY_BUF_INIT;
		int           e;

		if (strcmp((char *) x->cols, TLY_SYNC_ROW) != 0)
			continue;
		if ((e = tly_sync_row_json(t, tb, key, klen, &b)) == 0) {
			free(x->cols);
			x->cols = b.p; /* the buffer's, NUL-terminated */
			x->n    = b.len;
		} else if (e != TALLY_ENOENT)
			rv = e;
	}
	for (size_t k = 0; rv == 0 && k < os->n; k++) {
		struct other *x = &os->o[k];

		if ((x->scr = malloc(x->n + 1)) == NULL) {
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
			break;
		}
		/* Fields that never parse were never applied: none. */
		if (parse_fields(tb, x->cols, x->n, x->scr, &x->r, 0) != 0)
			x->r.mask = 0;
	}
	if (rv != 0)
		opset_free(os);
	return (rv);
}

/* Adds to r the fields of os newer than what r has ((bc, bd) per field,
 * updated), or that r lacks. */
static void
fold(int tb, struct srow *r, uint64_t *bc, uint64_t *bd,
    const struct opset *os)
{
	for (size_t k = 0; k < os->n; k++) {
		const struct other *x = &os->o[k];

		for (int i = 0; i < tly_sync_tables[tb].ncols; i++) {
			if (!(x->r.mask & (1u << i)))
				continue;
			if ((r->mask & (1u << i)) &&
			    !newer(x->clock, x->dev, bc[i], bd[i]))
				continue;
			r->f[i] = x->r.f[i];
			r->mask |= 1u << i;
			bc[i] = x->clock;
			bd[i] = x->dev;
		}
	}
}

/* Makes row (tb, key) what all its operations say: removed if one is a
 * delete, else each field from its newest operation. */
static int
refold(tally *t, struct tly_sync *s, int tb, const char *key, size_t klen)
{
	struct opset os;
	struct srow  r;
	uint64_t     bc[TLY_SYNC_MAXCOLS], bd[TLY_SYNC_MAXCOLS];
	int          rv, e;

	if ((rv = load_ops(t, tb, key, klen, 0, 0, &os)) != 0)
		return (rv);
	r.mask = 0;
	if (os.tomb)
		goto out;
	fold(tb, &r, bc, bd, &os);
	if ((e = row_exists(t, s, tb, key, klen)) < 0)
		rv = -e;
	else if (r.mask != 0 &&
	    (rv = write_row(t, s, tb, key, klen, &r, r.mask, e)) == 1)
		rv = 0;
out:
	opset_free(&os);
	return (rv);
}

/* Row (tb, key) has come: the rows waiting for it come too. */
static int
wake(tally *t, struct tly_sync *s, int tb, const char *key, size_t n)
{
	struct w {
		int   tb;
		char *key;
	} *w = NULL;
	sqlite3_stmt *st;
	size_t        nw = 0, cap = 0;
	int           rc, rv = 0;

	if ((st = tly_stmt(t, "DELETE FROM sync_wait WHERE pkey = ?1 AND"
	                      " ptbl = ?2 RETURNING tbl, key")) == NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_text(st, 1, key, (int) n, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, tb);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (nw == cap) {
			struct w *w2;

			cap = cap ? 2 * cap : 4;
			if ((w2 = realloc(w, cap * sizeof *w)) == NULL) {
				rv = tly_seterr(t, TALLY_ENOMEM,
				    "out of memory");
				break;
			}
			w = w2;
		}
		w[nw].tb  = sqlite3_column_int(st, 0);
		w[nw].key = strdup(tly_col_text(st, 1));
		if (w[nw].key == NULL) {
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
			break;
		}
		nw++;
	}
	sqlite3_reset(st);
	if (rv == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		rv = tly_dberr(t, "applying operations");
	for (size_t k = 0; k < nw; k++) {
		if (rv == 0 && w[k].tb > 0 && w[k].tb < TLY_ST_N)
			rv = refold(t, s, w[k].tb, w[k].key,
			    strlen(w[k].key));
		free(w[k].key);
	}
	free(w);
	return (rv);
}

/* -- Staging new rows ------------------------------------------------
 *
 * A new row with its one operation (the common case: a device catching
 * up) goes to a temporary stage of its table instead of its own INSERT;
 * flush_stages() moves each stage with one INSERT ... SELECT, parents'
 * tables first (FLUSH_ORDER), and lets the rows that wait for them come.
 * A stage that its statement cannot move (a row refused by a constraint)
 * is moved row by row the usual way.  Stages are flushed before any
 * operation that reads a row's state, and before the transaction ends.
 */
#define STAGE_MAX 8192 /* rows staged before a flush */

static const int flush_order[] = { TLY_ST_PERSON, TLY_ST_INTRODUCTION,
	TLY_ST_FAVOR, TLY_ST_INTERACTION, TLY_ST_REFERENCE,
	TLY_ST_REFERENCE_USE, TLY_ST_PEER, TLY_ST_RECORD, TLY_ST_DEVICE };

_Static_assert(sizeof flush_order / sizeof flush_order[0] == TLY_ST_N - 1,
    "every table flushes");

/* Creates the stages (temporary tables are part of the transaction:
 * one rolled back takes them along, so each pull makes them anew). */
static int
stage_tables(tally *t)
{
	for (int tb = 1; tb < TLY_ST_N; tb++) {
		const struct tly_sync_table *d    = &tly_sync_tables[tb];
		char                        *defs = sqlite3_mprintf("k, j");
		char                        *sql;
		int                          rc;

		for (int i = 0; i < d->ncols && defs != NULL; i++) {
			char *d2 = sqlite3_mprintf("%s, c%d", defs, i);
			sqlite3_free(defs);
			defs = d2;
		}
		sql = defs == NULL ? NULL
		                   : sqlite3_mprintf("CREATE TEMP TABLE IF NOT"
		                                     " EXISTS \"sync_stage_%w\""
		                                     "(%s)",
		                         d->name, defs);
		sqlite3_free(defs);
		if (sql == NULL)
			return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
		rc = sqlite3_exec(t->db, sql, NULL, NULL, NULL);
		sqlite3_free(sql);
		if (rc != SQLITE_OK)
			return (tly_dberr(t, "staging rows"));
	}
	return (0);
}

/* Prepares the stage statements of table tb. */
static int
stage_prepare(tally *t, struct tly_sync *s, int tb)
{
	const struct tly_sync_table *d = &tly_sync_tables[tb];
	char *cols = NULL, *defs = NULL, *qs = NULL;
	int   rv;

	if (s->sput[tb] != NULL)
		return (0);
	for (int i = 0; i < d->ncols; i++) {
		char *c2 = sqlite3_mprintf("%s, \"%w\"", cols ? cols : "",
		    d->cols[i]);
		char *d2 = sqlite3_mprintf("%s, c%d", defs ? defs : "", i);
		char *q2 = sqlite3_mprintf("%s, ?%d", qs ? qs : "", i + 3);

		sqlite3_free(cols);
		sqlite3_free(defs);
		sqlite3_free(qs);
		cols = c2;
		defs = d2;
		qs   = q2;
		if (cols == NULL || defs == NULL || qs == NULL)
			break;
	}
	rv = TALLY_ENOMEM;
	if (cols == NULL || defs == NULL || qs == NULL)
		goto out;
	if ((rv = prepare(t, &s->sput[tb],
	         sqlite3_mprintf("INSERT INTO temp.\"sync_stage_%w\""
	                         " VALUES (?1, ?2%s)",
	             d->name, qs))) != 0 ||
	    (rv = prepare(t, &s->sflush[tb],
	         sqlite3_mprintf("INSERT INTO main.\"%w\"(\"%w\"%s)"
	                         " SELECT k%s FROM temp.\"sync_stage_%w\""
	                         " ORDER BY rowid",
	             d->name, d->key, cols, defs, d->name))) != 0 ||
	    (rv = prepare(t, &s->sclear[tb],
	         sqlite3_mprintf("DELETE FROM temp.\"sync_stage_%w\"",
	             d->name))) != 0 ||
	    (rv = prepare(t, &s->sscan[tb],
	         sqlite3_mprintf("SELECT k, j FROM temp.\"sync_stage_%w\""
	                         " ORDER BY rowid",
	             d->name))) != 0 ||
	    (rv = prepare(t, &s->swake[tb],
	         sqlite3_mprintf("SELECT k FROM temp.\"sync_stage_%w\""
	                         " WHERE k IN (SELECT pkey FROM main.sync_wait"
	                         " WHERE ptbl = ?1)",
	             d->name))) != 0) {
		for (int i = 0; i < 5; i++) {
			sqlite3_stmt **v[] = { &s->sput[tb], &s->sflush[tb],
				&s->sclear[tb], &s->sscan[tb], &s->swake[tb] };
			sqlite3_finalize(*v[i]);
			*v[i] = NULL;
		}
	}
out:
	sqlite3_free(cols);
	sqlite3_free(defs);
	sqlite3_free(qs);
	if (rv == TALLY_ENOMEM)
		tly_seterr(t, rv, "out of memory");
	return (rv);
}

static int
stage_row(tally *t, struct tly_sync *s, const struct tly_sync_op *op,
    const struct srow *r)
{
	const struct tly_sync_table *d = &tly_sync_tables[op->table];
	sqlite3_stmt                *st;
	int                          rv;

	if ((rv = stage_prepare(t, s, op->table)) != 0)
		return (rv);
	st = s->sput[op->table];
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_bind_text(st, 1, (const char *) op->key, (int) op->keylen,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 2, (const char *) op->cols, (int) op->colslen,
	    SQLITE_STATIC);
	for (int i = 0; i < d->ncols; i++)
		if (r->mask & (1u << i))
			bind_field(st, i + 3, &r->f[i]);
	if ((rv = tly_step_done(t, st, "staging rows")) != 0)
		return (rv);
	s->staged[op->table]++;
	s->nstaged++;
	return (0);
}

/* Moves the stage of tb row by row (write_row: references fixed, rows
 * waiting). */
static int
stage_one_by_one(tally *t, struct tly_sync *s, int tb,
    struct tly_apply_stats *st)
{
	sqlite3_stmt *q = s->sscan[tb];
	tly_buf       scr = TLY_BUF_INIT;
	int           rc, rv = 0;

	sqlite3_reset(q);
	while (rv == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char          *key = tly_col_text(q, 0);
		const unsigned char *j   = sqlite3_column_text(q, 1);
		size_t               kn  = (size_t) sqlite3_column_bytes(q, 0);
		size_t               jn  = (size_t) sqlite3_column_bytes(q, 1);
		struct srow          r;
		char                *k2;

		if (key == NULL || j == NULL)
			continue;
		/* the scan stays on this row while write_row runs */
		if ((k2 = strndup(key, kn)) == NULL) {
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
			break;
		}
		tly_buf_reset(&scr);
		if ((rv = tly_buf_append(&scr, j, jn + 1)) != 0 ||
		    (rv = tly_buf_reserve(&scr, jn + 1)) != 0) {
			free(k2);
			rv = tly_seterr(t, rv, "out of memory");
			break;
		}
		if (parse_fields(tb, scr.p, jn, scr.p + jn + 1, &r, 0) != 0) {
			free(k2);
			st->skipped++;
			continue;
		}
		rv = write_row(t, s, tb, k2, kn, &r, r.mask, 0);
		free(k2);
		if (rv == 0)
			st->applied++;
		else if (rv == 1) {
			st->skipped++;
			rv = 0;
		}
	}
	sqlite3_reset(q);
	tly_buf_free(&scr);
	if (rv == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		rv = tly_dberr(t, "applying operations");
	return (rv);
}

static int
flush_stages(tally *t, struct tly_sync *s, struct tly_apply_stats *st)
{
	int rv = 0, rc;

	if (s->nstaged == 0)
		return (0);
	for (size_t k = 0; rv == 0 && k < TLY_ST_N - 1; k++) {
		int    tb = flush_order[k];
		char **wk = NULL;
		size_t nw = 0;

		if (s->staged[tb] == 0)
			continue;
		sqlite3_reset(s->sflush[tb]);
		if ((rv = step_write(t, s->sflush[tb])) == 0)
			st->applied += s->staged[tb];
		else if (rv == 1)
			rv = stage_one_by_one(t, s, tb, st);
		/* rows waiting for these come now */
		sqlite3_reset(s->swake[tb]);
		sqlite3_bind_int(s->swake[tb], 1, tb);
		while (rv == 0 &&
		    (rc = sqlite3_step(s->swake[tb])) == SQLITE_ROW) {
			char **w2 = realloc(wk, (nw + 1) * sizeof *wk);

			if (w2 == NULL ||
			    (w2[nw] = strdup(tly_col_text(s->swake[tb], 0))) ==
			        NULL) {
				wk = w2 != NULL ? w2 : wk;
				rv = tly_seterr(t, TALLY_ENOMEM,
				    "out of memory");
				break;
			}
			wk = w2;
			nw++;
		}
		sqlite3_reset(s->swake[tb]);
		sqlite3_reset(s->sclear[tb]);
		if (rv == 0)
			rv = tly_step_done(t, s->sclear[tb], "staging rows");
		s->nstaged -= s->staged[tb];
		s->staged[tb] = 0;
		for (size_t i = 0; i < nw; i++) {
			if (rv == 0)
				rv = wake(t, s, tb, wk[i], strlen(wk[i]));
			free(wk[i]);
		}
		free(wk);
	}
	return (rv);
}

/* Forgets what is staged (the transaction is rolled back). */
static void
stage_drop(tally *t, struct tly_sync *s)
{
	for (int tb = 1; tb < TLY_ST_N; tb++)
		if (s->staged[tb] > 0) {
			sqlite3_reset(s->sclear[tb]);
			(void) tly_step_done(t, s->sclear[tb], "staging rows");
			s->staged[tb] = 0;
		}
	s->nstaged = 0;
}

/* -- A new replica's first pull ------------------------------------
 *
 * Nothing in the replica yet, everything to come: with the tables'
 * triggers and plain indexes dropped, each operation (but the device
 * list's, applied as usual) is stored in sync_op and its row only
 * staged while the pull reads; tly_sync_fresh_end() then inserts the
 * rows that have a single operation with one INSERT ... SELECT per table
 * (the others, and those whose references are not there, as apply would,
 * row by row), derives person_key, last contacts, the ledger and the
 * full-text indexes from scratch, and creates the indexes and triggers
 * again from their saved text.  All of it is one transaction (DDL
 * included): interrupted, the pull starts again from the beginning.
 */

int tly_sync_fresh = -1;

/* The synced tables but device, as a SQL list. */
#define FRESH_TABLES                                                         \
	"'person', 'interaction', 'introduction', 'favor', 'reference',"    \
	" 'reference_use', 'peer', 'record'"

static int
fresh_op(tally *t, struct tly_sync *s, uint64_t dev,
    const struct tly_sync_op *op)
{
	sqlite3_stmt *q;
	struct srow   r;
	int           rv;

	/* Checked now, as apply would: a malformed batch is refused. */
	if (op->cols != NULL) {
		tly_buf_reset(&s->scratch);
		if ((rv = tly_buf_reserve(&s->scratch, op->colslen + 1)) != 0)
			return (tly_seterr(t, rv, "out of memory"));
		if (parse_fields(op->table, op->cols, op->colslen,
		        s->scratch.p, &r, 0) != 0)
			return (tly_seterr(t, TALLY_EFORMAT,
			    "an operation's fields are not a row of %s",
			    tly_sync_tables[op->table].name));
	}
	if ((q = tly_stmt(t, "INSERT INTO temp.sync_fresh(dev, clock, tbl,"
	                     " key, cols) VALUES (?1, ?2, ?3, ?4, ?5)")) ==
	    NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_int64(q, 1, (int64_t) dev);
	sqlite3_bind_int64(q, 2, (int64_t) op->clock);
	sqlite3_bind_int(q, 3, op->table);
	sqlite3_bind_text(q, 4, (const char *) op->key, (int) op->keylen,
	    SQLITE_STATIC);
	if (op->cols != NULL)
		sqlite3_bind_text(q, 5, (const char *) op->cols,
		    (int) op->colslen, SQLITE_STATIC);
	if ((rv = tly_step_done(t, q, "staging an operation")) != 0)
		return (rv);
	s->nfresh++;
	/* Rows with more than one operation leave the stage at the end. */
	return (op->cols != NULL ? stage_row(t, s, op, &r) : 0);
}

static int
exec_sql(tally *t, const char *sql)
{
	if (sqlite3_exec(t->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return (tly_dberr(t, "applying operations"));
	return (0);
}

int
tly_sync_fresh_begin(tally *t)
{
	struct tly_sync *s = sync_state(t);
	sqlite3_stmt    *st;
	int              rc, rv = 0, fresh = 0;

	if (s == NULL)
		return (-TALLY_ENOMEM);
	if (tly_sync_fresh == 0)
		return (0);
	if (sqlite3_prepare_v2(t->db,
	        "SELECT NOT EXISTS (SELECT 1 FROM person)"
	        " AND NOT EXISTS (SELECT 1 FROM interaction)"
	        " AND NOT EXISTS (SELECT 1 FROM introduction)"
	        " AND NOT EXISTS (SELECT 1 FROM favor)"
	        " AND NOT EXISTS (SELECT 1 FROM reference)"
	        " AND NOT EXISTS (SELECT 1 FROM reference_use)"
	        " AND NOT EXISTS (SELECT 1 FROM peer)"
	        " AND NOT EXISTS (SELECT 1 FROM record)"
	        " AND NOT EXISTS (SELECT 1 FROM sync_op WHERE tbl < 9)",
	        -1, &st, NULL) != SQLITE_OK)
		return (-tly_dberr(t, "applying operations"));
	if (sqlite3_step(st) == SQLITE_ROW)
		fresh = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (!fresh)
		return (0);
	/* What to drop: every trigger of the tables, the plain indexes of
	 * the tables and of what derives from them. */
	if (sqlite3_prepare_v2(t->db,
	        "SELECT m.type, m.name, m.sql FROM main.sqlite_master m"
	        " WHERE m.sql IS NOT NULL AND ((m.type = 'trigger' AND"
	        " m.tbl_name IN (" FRESH_TABLES ")) OR (m.type = 'index' AND"
	        " m.tbl_name IN (" FRESH_TABLES ", 'person_key', 'ledger')"
	        " AND NOT (SELECT l.\"unique\" FROM"
	        " pragma_index_list(m.tbl_name) l WHERE l.name = m.name)))"
	        " ORDER BY m.rowid",
	        -1, &st, NULL) != SQLITE_OK)
		return (-tly_dberr(t, "applying operations"));
	tly_buf_reset(&s->scratch); /* the DROP statements, ';'-separated */
	while (rv == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = tly_col_text(st, 0);
		const char *name = tly_col_text(st, 1);
		const char *sql  = tly_col_text(st, 2);
		char      **d2;
		int        *k2;
		char       *drop;

		d2 = realloc(s->dropped, (s->ndropped + 1) * sizeof *d2);
		if (d2 != NULL)
			s->dropped = d2;
		k2 = realloc(s->dropkind, (s->ndropped + 1) * sizeof *k2);
		if (k2 != NULL)
			s->dropkind = k2;
		if (d2 == NULL || k2 == NULL ||
		    (s->dropped[s->ndropped] = strdup(sql)) == NULL) {
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
			break;
		}
		s->dropkind[s->ndropped++] = type[0] == 'i' ? 1 : 2;
		drop = sqlite3_mprintf(type[0] == 'i'
		        ? "DROP INDEX main.\"%w\";"
		        : "DROP TRIGGER main.\"%w\";",
		    name);
		if (drop == NULL || tly_buf_puts(&s->scratch, drop) != 0)
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
		sqlite3_free(drop);
	}
	sqlite3_finalize(st);
	/* dropped once the reading statement is done */
	if (rv == 0 && s->scratch.len > 0) {
		char *sql = tly_buf_cstr(&s->scratch);

		rv = sql == NULL ? tly_seterr(t, TALLY_ENOMEM, "out of memory")
		                 : exec_sql(t, sql);
	}
	if (rv == 0)
		rv = exec_sql(t, "CREATE TEMP TABLE IF NOT EXISTS sync_fresh("
		                 "dev, clock, tbl, key, cols);"
		                 "DELETE FROM temp.sync_fresh;");
	if (rv != 0)
		return (-rv);
	s->fresh = 1;
	return (1);
}

/* Calls fn (refold or wake) for each key of tb that sql (?1: tb)
 * names. */
static int
keys_each(tally *t, struct tly_sync *s, int tb, const char *sql,
    int (*fn)(tally *, struct tly_sync *, int, const char *, size_t))
{
	sqlite3_stmt *st;
	char        **keys = NULL;
	size_t        n = 0;
	int           rc, rv = 0;

	if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK)
		return (tly_dberr(t, "applying operations"));
	sqlite3_bind_int(st, 1, tb);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char **k2 = realloc(keys, (n + 1) * sizeof *keys);

		if (k2 == NULL) {
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
			break;
		}
		keys = k2;
		if ((keys[n] = strdup(tly_col_text(st, 0))) == NULL) {
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
			break;
		}
		n++;
	}
	sqlite3_finalize(st);
	if (rv == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		rv = tly_dberr(t, "applying operations");
	for (size_t i = 0; i < n; i++) {
		if (rv == 0)
			rv = fn(t, s, tb, keys[i], strlen(keys[i]));
		free(keys[i]);
	}
	free(keys);
	return (rv);
}

/* The one-statement insert of table tb's staged rows whose references
 * are there. */
static char *
fresh_insert_sql(int tb)
{
	const struct tly_sync_table *d = &tly_sync_tables[tb];
	char *cols = sqlite3_mprintf("\"%w\"", d->key);
	char *vals = sqlite3_mprintf("f.k");
	char *cond = sqlite3_mprintf("1");
	char *sql  = NULL;

	for (int i = 0; i < d->ncols && cols && vals && cond; i++) {
		char *c2 = sqlite3_mprintf("%s, \"%w\"", cols, d->cols[i]);
		char *v2 = sqlite3_mprintf("%s, f.c%d", vals, i);

		sqlite3_free(cols);
		sqlite3_free(vals);
		cols = c2;
		vals = v2;
	}
	for (int k = 0; k < d->nfks && cols && vals && cond; k++) {
		const struct tly_sync_fk    *fk = &d->fks[k];
		const struct tly_sync_table *p  = &tly_sync_tables[fk->parent];
		char                        *c2, col[16] = "f.k";

		for (int i = 0; fk->col != NULL && i < d->ncols; i++)
			if (strcmp(d->cols[i], fk->col) == 0)
				snprintf(col, sizeof col, "f.c%d", i);
		c2 = sqlite3_mprintf("%s AND (%s IS NULL OR %s IN"
		                     " (SELECT \"%w\" FROM main.\"%w\"))",
		    cond, col, col, p->key, p->name);
		sqlite3_free(cond);
		cond = c2;
	}
	if (cols && vals && cond)
		sql = sqlite3_mprintf("INSERT OR IGNORE INTO main.\"%w\"(%s)"
		                      " SELECT %s FROM temp.\"sync_stage_%w\""
		                      " f WHERE %s ORDER BY f.rowid",
		    d->name, cols, vals, d->name, cond);
	sqlite3_free(cols);
	sqlite3_free(vals);
	sqlite3_free(cond);
	return (sql);
}

int
tly_sync_fresh_end(tally *t, struct tly_apply_stats *st)
{
	struct tly_sync *s = t->sync;
	int              rv;

	if (s == NULL || !s->fresh)
		return (0);
	s->fresh = 0;
	/* Every operation stored once (sync_op's row index made again
	 * from sorted keys); the rows with more than one operation (or a
	 * delete) go as apply would, the others leave their stage with one
	 * statement. */
	if ((rv = exec_sql(t, "DROP INDEX main.sync_op_row")) != 0 ||
	    (rv = exec_sql(t,
	         "INSERT OR IGNORE INTO main.sync_op(dev, clock, tbl, key,"
	         " cols) SELECT dev, clock, tbl, key, cols FROM"
	         " temp.sync_fresh")) != 0)
		return (rv);
	st->dup += s->nfresh - (size_t) sqlite3_changes(t->db);
	st->applied += (size_t) sqlite3_changes(t->db);
	s->nfresh = 0;
	if ((rv = exec_sql(t, ROW_INDEX ";"
	         "DELETE FROM temp.sync_fresh;"
	         "DROP TABLE IF EXISTS temp.sync_fresh_many;"
	         "CREATE TEMP TABLE sync_fresh_many(tbl, key,"
	         " PRIMARY KEY (tbl, key)) WITHOUT ROWID;"
	         "INSERT INTO temp.sync_fresh_many SELECT tbl, key"
	         " FROM main.sync_op WHERE tbl < 9 GROUP BY key, tbl"
	         " HAVING count(*) > 1;")) != 0)
		return (rv);
	for (size_t k = 0; rv == 0 && k < TLY_ST_N - 1; k++) {
		int     tb = flush_order[k];
		char   *sql;
		int64_t in = 0, gone = 0;

		if (tb == TLY_ST_DEVICE)
			continue;
		rv = keys_each(t, s, tb,
		    "SELECT key FROM temp.sync_fresh_many WHERE tbl = ?1",
		    refold);
		if (rv != 0 || s->staged[tb] == 0)
			goto waiting;
		sql = sqlite3_mprintf("DELETE FROM temp.\"sync_stage_%w\""
		                      " WHERE k IN (SELECT key FROM"
		                      " temp.sync_fresh_many WHERE tbl = %d)",
		    tly_sync_tables[tb].name, tb);
		if (sql == NULL)
			return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
		rv   = exec_sql(t, sql);
		gone = sqlite3_changes(t->db);
		sqlite3_free(sql);
		if (rv == 0 && (sql = fresh_insert_sql(tb)) == NULL)
			return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
		if (rv == 0) {
			if (sqlite3_exec(t->db, sql, NULL, NULL, NULL) ==
			    SQLITE_OK)
				in = sqlite3_changes(t->db);
			else if ((sqlite3_errcode(t->db) & 0xff) !=
			    SQLITE_CONSTRAINT)
				rv = tly_dberr(t, "applying operations");
			sqlite3_free(sql);
		}
		/* What that left out (a reference not there, a constraint):
		 * row by row. */
		if (rv == 0 && in + gone < (int64_t) s->staged[tb]) {
			sql = sqlite3_mprintf(
			    "SELECT f.k FROM temp.\"sync_stage_%w\" f WHERE"
			    " NOT EXISTS (SELECT 1 FROM main.\"%w\" WHERE"
			    " \"%w\" = f.k)",
			    tly_sync_tables[tb].name, tly_sync_tables[tb].name,
			    tly_sync_tables[tb].key);
			rv = sql == NULL ? tly_seterr(t, TALLY_ENOMEM,
			                       "out of memory")
			                 : keys_each(t, s, tb, sql, refold);
			sqlite3_free(sql);
		}
		sqlite3_reset(s->sclear[tb]);
		if (rv == 0)
			rv = tly_step_done(t, s->sclear[tb], "staging rows");
		s->nstaged -= s->staged[tb];
		s->staged[tb] = 0;
	waiting:
		/* Rows that wait for rows of this table come now. */
		if (rv == 0)
			rv = keys_each(t, s, tb,
			    "SELECT DISTINCT pkey FROM main.sync_wait"
			    " WHERE ptbl = ?1",
			    wake);
	}
	if (rv == 0)
		rv = exec_sql(t, "DROP TABLE temp.sync_fresh_many;");
	/* The indexes (the fill reads through them), what triggers derive,
	 * the triggers. */
	for (int kind = 1; kind <= 2; kind++) {
		for (size_t i = 0; rv == 0 && i < s->ndropped; i++)
			if (s->dropkind[i] == kind)
				rv = exec_sql(t, s->dropped[i]);
		if (rv == 0 && kind == 1)
			rv = exec_sql(t, tly_schema_derive);
	}
	for (size_t i = 0; i < s->ndropped; i++)
		free(s->dropped[i]);
	s->ndropped = 0;
	return (rv);
}

void
tly_sync_fresh_abort(tally *t)
{
	struct tly_sync *s = t->sync;

	if (s == NULL)
		return;
	s->fresh  = 0;
	s->nfresh = 0;
	for (size_t i = 0; i < s->ndropped; i++)
		free(s->dropped[i]);
	s->ndropped = 0;
}

int
tly_sync_apply_flush(tally *t, struct tly_apply_stats *st)
{
	struct tly_sync *s = sync_state(t);

	if (s == NULL)
		return (TALLY_ENOMEM);
	return (flush_stages(t, s, st));
}

int
tly_sync_apply_op(tally *t, uint64_t dev, const struct tly_sync_op *op,
    struct tly_apply_stats *st)
{
	struct tly_sync *s = sync_state(t);
	const char      *key = (const char *) op->key;
	sqlite3_stmt    *q;
	struct opset     os;
	struct srow      r;
	uint32_t         newer_mask = 0;
	uint64_t         bc[TLY_SYNC_MAXCOLS], bd[TLY_SYNC_MAXCOLS];
	int              rv = 0, e;

	if (s == NULL)
		return (TALLY_ENOMEM);
	st->ops++;
	if (op->clock > st->maxclock)
		st->maxclock = op->clock;
	if (op->table == 0 || op->table >= TLY_ST_N || dev == 0 ||
	    op->clock > INT64_MAX || dev > INT64_MAX ||
	    !tly_utf8_valid(op->key, op->keylen) ||
	    memchr(op->key, '\0', op->keylen) != NULL)
		return (tly_seterr(t, TALLY_EFORMAT,
		    "an operation names no known table or row"));
	if (tly_sync_crash_at > 0 && --tly_sync_crash_at == 0)
		return (tly_seterr(t, TALLY_EIO, "simulated crash"));
	if (s->fresh && op->table != TLY_ST_DEVICE)
		return (fresh_op(t, s, dev, op));
	/* 1. stored once */
	if ((q = tly_stmt(t, "INSERT OR IGNORE INTO sync_op(dev, clock, tbl,"
	                     " key, cols) VALUES (?1, ?2, ?3, ?4, ?5)")) ==
	    NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_int64(q, 1, (int64_t) dev);
	sqlite3_bind_int64(q, 2, (int64_t) op->clock);
	sqlite3_bind_int(q, 3, op->table);
	sqlite3_bind_text(q, 4, key, (int) op->keylen, SQLITE_STATIC);
	if (op->cols != NULL)
		sqlite3_bind_text(q, 5, (const char *) op->cols,
		    (int) op->colslen, SQLITE_STATIC);
	if ((rv = tly_step_done(t, q, "storing an operation")) != 0)
		return (rv);
	if (sqlite3_changes(t->db) == 0) {
		st->dup++;
		return (0);
	}
	/* 2. the row's other operations */
	if ((rv = load_ops(t, op->table, key, op->keylen, dev, op->clock,
	         &os)) != 0)
		return (rv);
	if (os.tomb)
		goto out;
	/* What follows reads rows: the staged ones first. */
	if (!s->fresh && (op->cols == NULL || os.n > 0) &&
	    (rv = flush_stages(t, s, st)) != 0)
		goto out;
	/* 3. a delete: the row goes, and nothing waits for it any more */
	if (op->cols == NULL) {
		if ((rv = delete_row(t, s, op->table, key, op->keylen)) != 0)
			goto out;
		if ((q = tly_stmt(t, "DELETE FROM sync_wait WHERE (pkey = ?1"
		                     " AND ptbl = ?2) OR (key = ?1 AND"
		                     " tbl = ?2)")) == NULL) {
			rv = TALLY_EINTERNAL;
			goto out;
		}
		sqlite3_bind_text(q, 1, key, (int) op->keylen, SQLITE_STATIC);
		sqlite3_bind_int(q, 2, op->table);
		if ((rv = tly_step_done(t, q, "applying operations")) == 0)
			st->applied++;
		goto out;
	}
	/* 4. the fields */
	tly_buf_reset(&s->scratch);
	if ((rv = tly_buf_reserve(&s->scratch, op->colslen + 1)) != 0) {
		rv = tly_seterr(t, rv, "out of memory");
		goto out;
	}
	if (parse_fields(op->table, op->cols, op->colslen, s->scratch.p, &r,
	        0) != 0) {
		rv = tly_seterr(t, TALLY_EFORMAT,
		    "an operation's fields are not a row of %s",
		    tly_sync_tables[op->table].name);
		goto out;
	}
	if (os.n == 0 && s->fresh) {
		/* A device of a new replica's first pull: the stages are the
		 * pull's (tly_sync_fresh_end). */
		rv = write_row(t, s, op->table, key, op->keylen, &r, r.mask, 0);
		goto count;
	}
	if (os.n == 0) {
		/* The common case: a new row, its one operation. */
		rv = stage_row(t, s, op, &r);
		if (rv == 0 && s->nstaged >= STAGE_MAX)
			rv = flush_stages(t, s, st);
		goto out;
	}
	for (size_t k = 0; k < os.n; k++)
		if (newer(os.o[k].clock, os.o[k].dev, op->clock, dev))
			newer_mask |= os.o[k].r.mask;
	if ((r.mask & ~newer_mask) == 0)
		goto out;
	if ((e = row_exists(t, s, op->table, key, op->keylen)) < 0) {
		rv = -e;
		goto out;
	}
	if (e == 1) {
		rv = write_row(t, s, op->table, key, op->keylen, &r,
		    r.mask & ~newer_mask, 1);
		goto count;
	}
	/* Not there: the row from all its operations. */
	r.mask &= ~newer_mask;
	for (int i = 0; i < TLY_SYNC_MAXCOLS; i++) {
		bc[i] = op->clock;
		bd[i] = dev;
	}
	fold(op->table, &r, bc, bd, &os);
	rv = write_row(t, s, op->table, key, op->keylen, &r, r.mask, 0);
count:
	if (rv == 0)
		st->applied++;
	else if (rv == 1) {
		st->skipped++;
		rv = 0;
	}
out:
	opset_free(&os);
	return (rv);
}

/* -- Bulk mode of the importers ------------------------------------- */

static int
exec1(tally *t, const char *sql, int64_t a, int64_t b, int64_t c,
    int64_t *out)
{
	sqlite3_stmt *st;
	int           rc;

	if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK)
		return (tly_dberr(t, "recording operations"));
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_int64(st, 3, c);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (out != NULL)
			*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (tly_dberr(t, "recording operations"));
	return (0);
}


int
tly_sync_bulk_begin(tally *t, int64_t size)
{
	struct tly_sync *s = sync_state(t);
	sqlite3_stmt    *st;
	int64_t          rows = 0;
	int              rc, rv = 0, known = 0, index = 0;

	if (s == NULL)
		return (TALLY_ENOMEM);
	s->bulk = s->bulk_index = 0;
	/* Only the triggers (and index) this file knows, each present. */
	if (sqlite3_prepare_v2(t->db,
	        "SELECT name, sql FROM main.sqlite_master WHERE"
	        " (type = 'trigger' AND name LIKE '%\\_sync\\_ai' ESCAPE '\\')"
	        " OR (type = 'index' AND name = 'sync_op_row')",
	        -1, &st, NULL) != SQLITE_OK)
		return (tly_dberr(t, "importing"));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = tly_col_text(st, 0);
		const char *sql  = tly_col_text(st, 1);

		if (name == NULL || sql == NULL)
			continue;
		if (strcmp(name, "sync_op_row") == 0) {
			index = strcmp(sql, ROW_INDEX) == 0;
			continue;
		}
		for (int tb = 1; tb < TLY_ST_N; tb++)
			if (strcmp(sql, ai_sql[tb]) == 0)
				known++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (tly_dberr(t, "importing"));
	if (known != TLY_ST_N - 1)
		return (0); /* another schema: the triggers stay */
	for (int tb = 1; rv == 0 && tb < TLY_ST_N; tb++) {
		char *sql = sqlite3_mprintf(
		    "SELECT coalesce(max(rid), 0) FROM main.\"%w\"",
		    tly_sync_tables[tb].name);

		rv = sql == NULL ? tly_seterr(t, TALLY_ENOMEM, "out of memory")
		                 : exec1(t, sql, 0, 0, 0, &s->base[tb]);
		sqlite3_free(sql);
		rows += s->base[tb];
	}
	for (int tb = 1; rv == 0 && tb < TLY_ST_N; tb++) {
		char *sql = sqlite3_mprintf("DROP TRIGGER main.\"%w_sync_ai\"",
		    tly_sync_tables[tb].name);

		rv = sql == NULL ? tly_seterr(t, TALLY_ENOMEM, "out of memory")
		                 : exec1(t, sql, 0, 0, 0, NULL);
		sqlite3_free(sql);
	}
	/* An index built from sorted keys costs far less than the same
	 * keys inserted one by one. */
	if (rv == 0 && index && rows < size / 1024) {
		rv            = exec1(t, "DROP INDEX main.sync_op_row", 0, 0, 0,
		               NULL);
		s->bulk_index = rv == 0;
	}
	s->bulk = rv == 0;
	return (rv);
}

int
tly_sync_bulk_end(tally *t)
{
	struct tly_sync *s = t->sync;
	uint64_t         dev;
	int64_t          clock = 0;
	int              rv;

	if (s == NULL || !s->bulk)
		return (0);
	s->bulk = 0;
	if ((rv = tly_sync_device(t, &dev)) != 0)
		return (rv);
	if ((rv = exec1(t, "SELECT " TLY_SYNC_CLOCK("?1"), (int64_t) dev, 0,
	         0, &clock)) != 0)
		return (rv);
	for (int tb = 1; rv == 0 && tb < TLY_ST_N; tb++) {
		char   *sql = sqlite3_mprintf(
                    "SELECT coalesce(max(rid), 0) FROM main.\"%w\"",
                    tly_sync_tables[tb].name);
		int64_t top = 0;

		rv = sql == NULL ? tly_seterr(t, TALLY_ENOMEM, "out of memory")
		                 : exec1(t, sql, 0, 0, 0, &top);
		sqlite3_free(sql);
		if (rv == 0 && top > s->base[tb]) {
			rv = exec1(t, bulk_sql[tb], (int64_t) dev, clock,
			    s->base[tb], NULL);
			clock += top - s->base[tb];
		}
	}
	for (int tb = 1; rv == 0 && tb < TLY_ST_N; tb++)
		rv = exec1(t, ai_sql[tb], 0, 0, 0, NULL);
	if (rv == 0 && s->bulk_index)
		rv = exec1(t, ROW_INDEX, 0, 0, 0, NULL);
	s->bulk_index = 0;
	return (rv);
}
