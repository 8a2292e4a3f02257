/*
 * converge_test.c -- the property of device sync: whatever the devices
 * do offline and in whatever order they sync, once each has synced after
 * the last change, their replicas are the same.
 *
 * Three replicas (one made with tally_init, two empty that receive
 * everything) share a replica key and an in-memory account log that, like
 * tallyd, stores an entry once per content.  With fixed seeds, each round
 * one device either changes something -- adds, edits (the same fields of
 * the same few people on every device, so that edits conflict), deletes
 * a person (while others still edit them or log conversations with them),
 * logs, edits or deletes a conversation, records favors, introductions,
 * references -- or syncs, and a sync may be cut anywhere: the log fails
 * before or after storing an entry (the acknowledgement lost), a read
 * fails, or the replica "crashes" in the middle of applying a chunk.  At
 * the end every device syncs, without faults, until nothing moves, and
 * the canonical dumps (every synced table by key, and the derived ledger
 * and last contacts) must be identical.  Half the seeds let a new
 * replica's first pull take its fresh path, half the usual one.  A second test checks that
 * applying a batch twice, or its operations in another order, gives the
 * same replica, and that remote operations are not recorded as mine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>

#include "relay_int.h"
#include "sync_int.h"
#include "tally.h"
#include "tt.h"

#define NDEV 3
#define SEEDS 4
#define ROUNDS 900

/* -- xorshift, fixed seeds --------------------------------------------- */

static uint64_t rs;

static uint64_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (rs);
}

static unsigned
pick(unsigned n)
{
	return ((unsigned) (rnd() % n));
}

/* -- The account log ---------------------------------------------------- */

struct entry {
	unsigned char *p;
	size_t         n;
	unsigned char  h[32];
};

struct flog {
	struct entry *e;
	size_t        n, cap;
	int           faults; /* percent of calls that fail */
};

static int
log_append(void *arg, const void *p, size_t n, uint64_t *seq)
{
	struct flog  *l = arg;
	unsigned char h[32];
	int           lost;

	if (l->faults && pick(100) < (unsigned) l->faults / 2)
		return (TALLY_ETIMEDOUT); /* never arrived */
	lost = l->faults && pick(100) < (unsigned) l->faults / 2;
	crypto_generichash(h, sizeof h, p, n, NULL, 0);
	for (size_t i = 0; i < l->n; i++)
		if (memcmp(l->e[i].h, h, 32) == 0) {
			*seq = i + 1;
			return (lost ? TALLY_ETIMEDOUT : 0);
		}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->e   = realloc(l->e, l->cap * sizeof *l->e);
		assert_non_null(l->e);
	}
	l->e[l->n].p = malloc(n);
	assert_non_null(l->e[l->n].p);
	memcpy(l->e[l->n].p, p, n);
	l->e[l->n].n = n;
	memcpy(l->e[l->n].h, h, 32);
	l->n++;
	*seq = l->n;
	/* stored, but the answer is lost */
	return (lost ? TALLY_ETIMEDOUT : 0);
}

static int
log_read(void *arg, uint64_t after, size_t maxbytes,
    struct tly_relay_entry **e, size_t *n, int *more)
{
	struct flog *l   = arg;
	size_t       max = 1 + pick(4), k = 0;

	(void) maxbytes;
	*e    = NULL;
	*n    = 0;
	*more = 0;
	if (l->faults && pick(100) < (unsigned) l->faults)
		return (TALLY_ECONNREF);
	if (after >= l->n)
		return (0);
	*e = calloc(max, sizeof **e);
	assert_non_null(*e);
	for (size_t i = after; i < l->n && k < max; i++, k++) {
		(*e)[k].seq  = i + 1;
		(*e)[k].len  = l->e[i].n;
		(*e)[k].data = malloc(l->e[i].n);
		assert_non_null((*e)[k].data);
		memcpy((*e)[k].data, l->e[i].p, l->e[i].n);
	}
	*n    = k;
	*more = after + k < l->n;
	return (0);
}

static const char *
log_errmsg(void *arg)
{
	(void) arg;
	return ("fault");
}

static const struct tly_sync_io fake_io = { log_append, log_read,
	log_errmsg };

static void
log_free(struct flog *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].p);
	free(l->e);
	memset(l, 0, sizeof *l);
}

/* -- Devices -------------------------------------------------------------- */

struct world {
	char        dir[64];
	tally      *t[NDEV];
	struct flog log;
};

static void
world_open(struct world *w, const unsigned char *key)
{
	char path[128];

	snprintf(w->dir, sizeof w->dir, "/tmp/tally-converge.XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	for (int d = 0; d < NDEV; d++) {
		snprintf(path, sizeof path, "%s/d%d/tally.db", w->dir, d);
		TT_PASS(tally_open(&w->t[d], path, TALLY_OPEN_CREATE));
		TT_PASS(tly_sync_key_put(w->t[d], 1, key));
	}
	TT_PASS(tally_init(w->t[0], "Me"));
}

static void
world_close(struct world *w)
{
	char cmd[128];

	for (int d = 0; d < NDEV; d++)
		tally_close(w->t[d]);
	log_free(&w->log);
	snprintf(cmd, sizeof cmd, "rm -rf %s", w->dir);
	if (system(cmd) != 0)
		fail_msg("cannot remove %s", w->dir);
}

/* A random row id of table tab (NULL when empty) into id. */
static int
any_row(tally *t, const char *sql, char *id)
{
	sqlite3_stmt *st;
	int           n = 0, ok = 0;

	if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(t->db));
	while (sqlite3_step(st) == SQLITE_ROW)
		n++;
	sqlite3_reset(st);
	if (n > 0) {
		int k = (int) pick((unsigned) n);

		while (sqlite3_step(st) == SQLITE_ROW)
			if (k-- == 0) {
				snprintf(id, TALLY_ID_LEN + 1, "%s",
				    (const char *) sqlite3_column_text(st, 0));
				ok = 1;
				break;
			}
	}
	sqlite3_finalize(st);
	return (ok);
}

static void
raw(tally *t, const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(t->db));
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b != NULL)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		fail_msg("%s: %s", sql, sqlite3_errmsg(t->db));
	sqlite3_finalize(st);
}

static const char *const names[] = { "Ann Lee", "Bob Ray", "Chen Wu",
	"Dana Cole", "Eli Diaz" };
static const char *const orgs[]  = { "Acme", "Globex", "Initech", NULL };
static const char *const notes[] = { "met at a meetup", "knows Ann",
	"hiring", "", "python and sql", "called back" };
static const char *const tags[]  = { "data", "recruiter", "alumni" };
static const char *const kinds[] = { "call", "coffee", "meeting", "email",
	"event" };

#define PEOPLE "SELECT id FROM person WHERE NOT is_me ORDER BY id"

/* One random change on t (quietly ignores refusals that are part of the
 * domain: a person gone, no "me" yet). */
static void
change(tally *t)
{
	char            p[TALLY_ID_LEN + 1], q[TALLY_ID_LEN + 1];
	char            r[TALLY_ID_LEN + 1], id[TALLY_ID_LEN + 1];
	char            me[TALLY_ID_LEN + 1];
	tally_person_in in;
	const char     *tg; /* a tag, while in points to it */
	int             have_me = tally_me(t, me) == 0;

	tally_person_in_init(&in);
	switch (pick(12)) {
	case 0:
	case 1: {
		int   n    = 0;
		char *name = NULL;

		/* a few people only: edits of one person meet */
		if (any_row(t, "SELECT count(*) FROM person", p))
			n = atoi(p);
		if (n > 8)
			goto edit;
		in.name = names[pick(5)];
		in.org  = orgs[pick(4)];
		TT_PASS(tally_person_add(t, id, &in));
		(void) name;
		break;
	}
	case 2:
	case 3:
	case 4:
	edit:
		if (!any_row(t, PEOPLE, p))
			break;
		switch (pick(5)) {
		case 0:
			in.name = names[pick(5)];
			break;
		case 1:
			in.org = orgs[pick(3)];
			break;
		case 2:
			in.note = notes[pick(6)];
			break;
		case 3:
			in.closeness = (int) pick(6);
			break;
		default:
			tg = tags[pick(3)];
			if (pick(2)) {
				in.add_tags.v = &tg;
				in.add_tags.n = 1;
			} else {
				in.rm_tags.v = &tg;
				in.rm_tags.n = 1;
			}
		}
		TT_PASS(tally_person_edit(t, p, &in));
		break;
	case 5:
		if (pick(3) == 0 && any_row(t, PEOPLE, p))
			TT_PASS(tally_person_rm(t, p));
		break;
	case 6:
	case 7:
		if (any_row(t, PEOPLE, p)) {
			tally_interaction in2;

			memset(&in2, 0, sizeof in2);
			in2.person    = p;
			in2.kind      = kinds[pick(5)];
			in2.at        = 1763769600 + (int64_t) pick(1000) * 60;
			in2.minutes   = TALLY_UNSET;
			in2.note      = notes[pick(6)];
			in2.follow_up = pick(2) ? 1763769600 + 86400 * 3 : 0;
			TT_PASS(tally_log(t, id, &in2));
		}
		break;
	case 8:
		if (any_row(t, "SELECT id FROM interaction ORDER BY id", p)) {
			if (pick(3) == 0)
				raw(t, "DELETE FROM interaction WHERE id = ?1",
				    p, NULL);
			else
				raw(t, "UPDATE interaction SET note = ?2"
				       " WHERE id = ?1",
				    p, notes[pick(6)]);
		}
		break;
	case 9:
		if (have_me && any_row(t, PEOPLE, p)) {
			static const char *const fk[] = { "advice", "intro"
			                                            "duction",
				"referral" };
			tally_favor f;

			memset(&f, 0, sizeof f);
			f.giver    = pick(2) ? me : p;
			f.receiver = strcmp(f.giver, me) == 0 ? p : me;
			f.kind     = fk[pick(3)];
			f.status   = pick(2) ? "promised" : "done";
			f.weight   = TALLY_UNSET;
			TT_PASS(tally_favor_add(t, id, &f));
		} else if (any_row(t, "SELECT id FROM favor ORDER BY id", p)) {
			TT_PASS(tally_favor_status(t, p, "done"));
		}
		break;
	case 10:
		if (any_row(t, PEOPLE, p) && any_row(t, PEOPLE, q) &&
		    any_row(t, "SELECT id FROM person ORDER BY id", r) &&
		    strcmp(p, q) != 0 && strcmp(p, r) != 0 &&
		    strcmp(q, r) != 0) {
			tally_intro in3;

			memset(&in3, 0, sizeof in3);
			in3.by   = r;
			in3.a    = p;
			in3.b    = q;
			in3.note = "double opt-in";
			TT_PASS(tally_intro_add(t, id, &in3));
		}
		break;
	default:
		if (pick(2) &&
		    any_row(t, "SELECT id FROM reference ORDER BY id", p))
			TT_PASS(tally_reference_use(t, p, "a data role"));
		else if (any_row(t, PEOPLE, p))
			TT_PASS(tally_reference_add(t, id, p, "data roles"));
		break;
	}
}

/* Every synced table by key, and what triggers derive from them. */
static char *
dump(tally *t)
{
	tly_buf       b = TLY_BUF_INIT;
	sqlite3_stmt *st;

	for (int tb = 1; tb < TLY_ST_N; tb++) {
		const struct tly_sync_table *d   = &tly_sync_tables[tb];
		char                        *sql = sqlite3_mprintf(
                    "SELECT quote(\"%w\")", d->key);

		for (int i = 0; i < d->ncols; i++) {
			char *s2 = sqlite3_mprintf(
			    "%s || '|' || quote(\"%w\")", sql, d->cols[i]);
			sqlite3_free(sql);
			sql = s2;
		}
		{
			char *s2 = sqlite3_mprintf("%s FROM \"%w\" ORDER BY 1",
			    sql, d->name);
			sqlite3_free(sql);
			sql = s2;
		}
		if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK)
			fail_msg("%s: %s", sql, sqlite3_errmsg(t->db));
		sqlite3_free(sql);
		tly_buf_printf(&b, "[%s]\n", d->name);
		while (sqlite3_step(st) == SQLITE_ROW)
			tly_buf_printf(&b, "%s\n", sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(t->db,
	        "SELECT * FROM (SELECT id || ' ' || last_contact FROM person"
	        " ORDER BY id) UNION ALL SELECT * FROM (SELECT quote(person)"
	        " || quote(name) || given || received || pending || last"
	        " FROM ledger ORDER BY person)",
	        -1, &st, NULL) != SQLITE_OK)
		fail_msg("derived: %s", sqlite3_errmsg(t->db));
	tly_buf_printf(&b, "[derived]\n");
	while (sqlite3_step(st) == SQLITE_ROW)
		tly_buf_printf(&b, "%s\n", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return (tly_buf_cstr(&b));
}

static int failed_syncs; /* cut short by a fault */

static void
sync_dev(struct world *w, int d, int faults)
{
	tally_sync_stats st;

	w->log.faults = faults;
	if (faults && pick(4) == 0)
		tly_sync_crash_at = 1 + (int) pick(20);
	if (tly_sync_run(w->t[d], &fake_io, &w->log, &st, NULL, 0) != 0)
		failed_syncs++;
	tly_sync_crash_at = 0;
	w->log.faults     = 0;
}

static long long
count(tally *t, const char *sql)
{
	sqlite3_stmt *st;
	long long     n = -1;

	if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (n);
}

static void
test_converge(void **state)
{
	unsigned char key[32];

	(void) state;
	memset(key, 7, sizeof key);
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct world w;
		char        *dumps[NDEV];

		memset(&w, 0, sizeof w);
		rs = 0x9e3779b97f4a7c15ull * seed;
		/* odd seeds: a new replica's first pull takes the fresh
		 * path (sync_ops.c); even ones: the usual one */
		tly_sync_fresh = seed % 2 ? -1 : 0;
		world_open(&w, key);
		for (int round = 0; round < ROUNDS; round++) {
			int d = (int) pick(NDEV);

			if (pick(5) == 0)
				sync_dev(&w, d, 15);
			else
				change(w.t[d]);
		}
		for (int pass = 0; pass < 3; pass++)
			for (int d = 0; d < NDEV; d++) {
				tally_sync_stats st;

				if (tly_sync_run(w.t[d], &fake_io, &w.log, &st,
				        NULL, 0) != 0)
					fail_msg("seed %llu: device %d: %s",
					    (unsigned long long) seed, d,
					    tally_errmsg(w.t[d]));
			}
		for (int d = 0; d < NDEV; d++)
			dumps[d] = dump(w.t[d]);
		for (int d = 1; d < NDEV; d++)
			if (strcmp(dumps[0], dumps[d]) != 0) {
				FILE *f;
				char  path[64];

				for (int k = 0; k < NDEV; k++) {
					snprintf(path, sizeof path,
					    "/tmp/converge-%d.txt", k);
					if ((f = fopen(path, "w")) != NULL) {
						fputs(dumps[k], f);
						fclose(f);
					}
				}
				fail_msg("seed %llu: device %d differs from "
				         "device 0 (dumps in "
				         "/tmp/converge-*.txt)",
				    (unsigned long long) seed, d);
			}
		/* The run did what it is meant to: conversations synced,
		 * people deleted while others edited them, edits of one
		 * field of one person on two devices, syncs cut short. */
		if (strstr(dumps[0], "[interaction]\n'") == NULL)
			fail_msg("seed %llu: no conversation was synced",
			    (unsigned long long) seed);
		if (count(w.t[0], "SELECT count(*) FROM sync_op o"
		                  " WHERE cols IS NULL AND tbl = 1 AND"
		                  " EXISTS (SELECT 1 FROM sync_op e"
		                  " WHERE e.key = o.key AND e.dev <> o.dev"
		                  " AND e.clock > o.clock)") < 1)
			fail_msg("seed %llu: no delete met an edit",
			    (unsigned long long) seed);
		if (count(w.t[0], "SELECT count(*) FROM sync_op a, sync_op b"
		                  " WHERE a.key = b.key AND a.dev < b.dev"
		                  " AND a.tbl = 1 AND b.tbl = 1"
		                  " AND json_valid(a.cols) AND json_valid(b.cols)"
		                  " AND json_extract(a.cols, '$.org')"
		                  " IS NOT json_extract(b.cols, '$.org')") < 1)
			fail_msg("seed %llu: no conflicting edits",
			    (unsigned long long) seed);
		if (failed_syncs < 10)
			fail_msg("seed %llu: only %d syncs were cut short",
			    (unsigned long long) seed, failed_syncs);
		failed_syncs = 0;
		for (int d = 0; d < NDEV; d++)
			free(dumps[d]);
		world_close(&w);
	}
	tly_sync_fresh = -1;
}

/* The part of a dump from "[from]" up to "[to]" (malloc'd). */
static char *
section(const char *d, const char *from, const char *to)
{
	const char *a = strstr(d, from), *b = strstr(d, to);

	if (a == NULL || b == NULL || b < a)
		fail_msg("no %s..%s in the dump", from, to);
	return (strndup(a, (size_t) (b - a)));
}

/* Applying a batch twice, or out of order, changes nothing; remote
 * operations do not become mine. */
static void
test_idempotent(void **state)
{
	unsigned char key[32];
	struct world  w;
	char          id[TALLY_ID_LEN + 1], *d1, *d2, *d3, *a, *b;
	uint64_t      up;
	tly_buf       pt = TLY_BUF_INIT;
	struct tly_apply_stats ast;

	(void) state;
	memset(key, 9, sizeof key);
	memset(&w, 0, sizeof w);
	rs = 42;
	world_open(&w, key);
	for (int i = 0; i < 60; i++)
		change(w.t[0]);
	{
		tally_person_in in;

		tally_person_in_init(&in);
		in.name = "Zoe Ray";
		TT_PASS(tally_person_add(w.t[0], id, &in));
		in.name = NULL;
		in.org  = "Hooli";
		TT_PASS(tally_person_edit(w.t[0], id, &in));
		TT_PASS(tally_person_rm(w.t[0], id));
	}
	sync_dev(&w, 0, 0);
	TT_PASS(tly_sync_pending(w.t[0], &up));
	TT_INTEQ(up, 0);
	/* In order on device 1: only its own device row is its own. */
	sync_dev(&w, 1, 0);
	TT_PASS(tly_sync_pending(w.t[1], &up));
	TT_INTEQ(up, 0);
	d1 = dump(w.t[1]);
	/* Again from the start: nothing changes. */
	TT_PASS(tly_sync_set(w.t[1], "cursor", 0));
	sync_dev(&w, 1, 0);
	d2 = dump(w.t[1]);
	TT_STREQ(d2, d1);
	/* Device 2 takes the entries last first, each batch's operations
	 * last first. */
	TT_PASS(tly_begin(w.t[2]));
	TT_PASS(tly_sync_apply_begin(w.t[2]));
	memset(&ast, 0, sizeof ast);
	for (size_t k = w.log.n; k > 0; k--) {
		struct tly_sync_hdr h;
		struct tly_sync_op  ops[4096];
		size_t              off = 0, n = 0;
		uint32_t            count = 0;

		TT_PASS(tly_sync_hdr_decode(&h, w.log.e[k - 1].p,
		    w.log.e[k - 1].n));
		if (h.device != 0 && h.type == TLY_SYNC_OPS) {
			TT_PASS(tly_sync_open(&pt, &h, key, w.log.e[k - 1].p,
			    w.log.e[k - 1].n));
			while (n < 4096 && tly_sync_batch_next(pt.p, pt.len,
			                       &off, &count, &ops[n]) == 1)
				n++;
			while (n > 0)
				TT_PASS(tly_sync_apply_op(w.t[2], h.device,
				    &ops[--n], &ast));
			/* the batch's buffer is reused: rows stored now */
			TT_PASS(tly_sync_apply_flush(w.t[2], &ast));
		}
	}
	TT_PASS(tly_sync_apply_end(w.t[2], &ast));
	TT_PASS(tly_commit(w.t[2]));
	TT_PASS(tly_sync_pending(w.t[2], &up));
	TT_INTEQ(up, 0);
	d3 = dump(w.t[2]);
	a  = section(d1, "[person]", "[device]");
	b  = section(d3, "[person]", "[device]");
	if (strcmp(a, b) != 0) {
		FILE *f;

		if ((f = fopen("/tmp/converge-inorder.txt", "w")) != NULL) {
			fputs(a, f);
			fclose(f);
		}
		if ((f = fopen("/tmp/converge-reverse.txt", "w")) != NULL) {
			fputs(b, f);
			fclose(f);
		}
		fail_msg("applied backwards, the replica differs (dumps in "
		         "/tmp/converge-{inorder,reverse}.txt)");
	}
	free(a);
	free(b);
	TT_STREQ(strstr(d3, "[derived]"), strstr(d1, "[derived]"));
	/* An entry sealed with another key, and one under an epoch no
	 * device announced: ignored, and the sync goes on past them. */
	{
		unsigned char    other[32];
		tly_buf          bad = TLY_BUF_INIT, empty = TLY_BUF_INIT;
		tally_sync_stats sst;
		uint64_t         seq;
		char             pid[TALLY_ID_LEN + 1];
		tally_person_in  in;

		memset(other, 3, sizeof other);
		TT_PASS(tly_sync_batch_begin(&empty));
		TT_PASS(tly_sync_seal(&bad, 1, 12345, other, empty.p,
		    empty.len));
		TT_PASS(log_append(&w.log, bad.p, bad.len, &seq));
		tly_buf_reset(&bad);
		TT_PASS(tly_sync_seal(&bad, 9, 12345, key, empty.p,
		    empty.len));
		TT_PASS(log_append(&w.log, bad.p, bad.len, &seq));
		tally_person_in_init(&in);
		in.name = "After Garbage";
		TT_PASS(tally_person_add(w.t[0], pid, &in));
		sync_dev(&w, 0, 0);
		TT_PASS(tly_sync_run(w.t[1], &fake_io, &w.log, &sst, NULL, 0));
		TT_INTEQ(sst.ignored, 2);
		TT_INTEQ(sst.applied, 1);
		tly_buf_free(&bad);
		tly_buf_free(&empty);
	}
	tly_buf_free(&pt);
	free(d1);
	free(d2);
	free(d3);
	world_close(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_converge),
	};

	if (sodium_init() < 0)
		return (1);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
