/*
 * views.c -- what is due, and whom to contact next.
 *
 * Both read only indexed subsets (partial indexes on open follow-ups,
 * unthanked favors and promises; the ledger table) so that they stay
 * fast on a replica of a hundred thousand people.  The scoring of
 * tally_next() is documented in README.md ("Whom to contact next"); keep
 * the two in step.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally_int.h"

#define THANKS_WINDOW (30 * TLY_DAY) /* meetings older than this: moot */

/* A favor kind in words, after "the" ("thank Ann for the referral")... */
#define FAVOR_WHAT(k)                                                        \
	"CASE " k " WHEN 'resume' THEN 'resume review' WHEN 'info' THEN"     \
	" 'information' WHEN 'other' THEN 'favor' ELSE " k " END"
/* ...and with its article ("you promised Ann an introduction"). */
#define FAVOR_A(k)                                                           \
	"CASE " k " WHEN 'introduction' THEN 'an introduction' WHEN 'advice'" \
	" THEN 'advice' WHEN 'resume' THEN 'a resume review' WHEN 'info'"    \
	" THEN 'information' WHEN 'other' THEN 'a favor' ELSE 'a ' || " k    \
	" END"
#define PROMISE_DAYS  7              /* a promise is due after a week */

int
tally_due(tally *t, int64_t horizon, tally_due_fn fn, void *arg)
{
	sqlite3_stmt  *st;
	tally_due_item d;
	int64_t        now = tly_now();
	int            rc, rv = 0;

	st = tly_stmt(t,
	    "SELECT * FROM ("
	    " SELECT 'thanks' AS what, f.id, f.person, p.name,"
	    "  'thank ' || p.name || ' for the ' || " FAVOR_WHAT("f.kind") " ||"
	    "  coalesce(': ' || f.note, '') AS text, f.done_at + 86400 AS due"
	    "  FROM favor f INDEXED BY favor_thanks"
	    "  JOIN person p ON p.id = f.person"
	    "  WHERE f.dir = -1 AND f.status = 'done' AND f.thanked IS NULL"
	    "  AND f.done_at <= ?1 + ?2 - 86400"
	    " UNION ALL"
	    " SELECT 'thanks', i.id, i.person, p.name,"
	    "  'send ' || p.name || ' a thank-you note for the ' || i.kind ||"
	    "  ' on ' || date(i.at, 'unixepoch', 'localtime'), i.at + 86400"
	    "  FROM interaction i INDEXED BY interaction_thanks"
	    "  JOIN person p ON p.id = i.person"
	    "  WHERE i.thanked IS NULL"
	    "  AND (i.kind = 'call' OR i.kind = 'coffee' OR i.kind = 'meeting')"
	    "  AND i.at > ?1 - ?3 AND i.at <= ?1 AND i.at <= ?1 + ?2 - 86400"
	    " UNION ALL"
	    " SELECT 'follow-up', i.id, i.person, p.name,"
	    "  'follow up with ' || p.name || ' (' || i.kind || ' on ' ||"
	    "  date(i.at, 'unixepoch', 'localtime') ||"
	    "  coalesce(': ' || i.note, '') || ')', i.follow_up"
	    "  FROM interaction i JOIN person p ON p.id = i.person"
	    "  WHERE i.follow_up IS NOT NULL AND i.follow_up_done IS NULL"
	    "  AND i.follow_up <= ?1 + ?2"
	    " UNION ALL"
	    " SELECT 'promise', f.id, f.person, p.name,"
	    "  'you promised ' || p.name || ' ' || " FAVOR_A("f.kind") " ||"
	    "  coalesce(': ' || f.note, ''), f.created + ?4"
	    "  FROM favor f JOIN person p ON p.id = f.person"
	    "  WHERE f.dir = 1 AND f.status = 'promised'"
	    "  AND f.created <= ?1 + ?2 - ?4"
	    ") ORDER BY due, id");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, horizon);
	sqlite3_bind_int64(st, 3, THANKS_WINDOW);
	sqlite3_bind_int64(st, 4, PROMISE_DAYS * TLY_DAY);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		d.what    = tly_col_text(st, 0);
		d.ref     = tly_col_text(st, 1);
		d.person  = tly_col_text(st, 2);
		d.name    = tly_col_text(st, 3);
		d.text    = tly_col_text(st, 4);
		d.due     = sqlite3_column_int64(st, 5);
		d.overdue = d.due < now;
		if ((rv = fn(arg, &d)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading what is due");
	sqlite3_reset(st);
	return (rv);
}

/* -- next -------------------------------------------------------------- */

/*
 * Ranking reads five small, indexed sets -- open follow-ups, unthanked
 * favors, favors received in the last 30 days, ledger rows where I owe or
 * something is pending, close contacts -- into a hash table of signals
 * per person, scores each person from the signals alone, keeps the n best
 * in a heap, and only then looks up the winners' names and words their
 * reasons.  People in none of the sets score nothing.
 */

#define REASON_LEN 200
#define TAPPED_DAYS 30

typedef struct signals {
	char    id[TALLY_ID_LEN + 1]; /* the person's id */
	int     closeness;            /* -1 unless a close contact (>= 2) */
	int64_t last;                 /* last contact (close contacts) */
	int     balance;              /* given - received, when < 0 */
	int     pending;              /* favors asked or promised */
	int64_t follow;               /* earliest open follow-up, or 0 */
	int     thanks;               /* done for me, not thanked */
	int     tapped;               /* did me a favor lately */
} signals;

/* The signals of each person met: a dense array of entries, found
 * through an open-addressing index of slots, each the entry's hash tag
 * (high half) and its position + 1 (low half; 0 for an empty slot).
 * The index stays small enough for the cache while entries are only
 * appended, so growing it never moves a signals entry. */
typedef struct table {
	signals  *v;
	size_t    n, vcap;
	uint64_t *slot;
	size_t    cap; /* a power of two, n <= cap / 2 */
} table;

/* Row ids are random hex: their first 16 characters are hash enough. */
static uint64_t
id_hash(const char *id)
{
	uint64_t h = 0;

	for (int i = 0; i < 16 && id[i]; i++)
		h = (h << 4) | (uint64_t) (id[i] <= '9' ? id[i] - '0'
		                                       : (id[i] | 0x20) - 'a' + 10);
	return (h * 0x9E3779B97F4A7C15ull);
}

#define TAG(h) ((h) >> 32 << 32)        /* a slot's hash tag */
#define HOME(h, cap) ((size_t) ((h) >> 12) & ((cap) - 1))

/* Doubles the index (or makes the first).  0, or -1 if out of memory. */
static int
table_grow(table *tb)
{
	size_t    cap  = tb->cap ? tb->cap * 2 : 1 << 16;
	uint64_t *slot = calloc(cap, sizeof *slot);

	if (slot == NULL)
		return (-1);
	free(tb->slot);
	tb->slot = slot;
	tb->cap  = cap;
	for (size_t k = 0; k < tb->n; k++) {
		uint64_t h = id_hash(tb->v[k].id);
		size_t   i = HOME(h, cap);
		while (slot[i] != 0)
			i = (i + 1) & (cap - 1);
		slot[i] = TAG(h) | (uint64_t) (k + 1);
	}
	return (0);
}

/* Returns the signals of id, adding an empty entry; NULL if out of
 * memory. */
static signals *
table_get(table *tb, const char *id)
{
	uint64_t h = id_hash(id);
	signals *s;
	size_t   i;

	if (tb->n + 1 > tb->cap / 2 && table_grow(tb) != 0)
		return (NULL);
	for (i = HOME(h, tb->cap); tb->slot[i] != 0;
	     i = (i + 1) & (tb->cap - 1)) {
		if (TAG(tb->slot[i]) != TAG(h))
			continue;
		s = &tb->v[(uint32_t) tb->slot[i] - 1];
		if (strncmp(s->id, id, TALLY_ID_LEN) == 0)
			return (s);
	}
	if (tb->n == tb->vcap) {
		size_t vcap = tb->vcap ? tb->vcap * 2 : 4096;
		if ((s = realloc(tb->v, vcap * sizeof *s)) == NULL)
			return (NULL);
		tb->v    = s;
		tb->vcap = vcap;
	}
	s = &tb->v[tb->n];
	memset(s, 0, sizeof *s);
	memcpy(s->id, id, strnlen(id, TALLY_ID_LEN));
	s->closeness = -1;
	tb->slot[i]  = TAG(h) | (uint64_t) (tb->n + 1);
	tb->n++;
	return (s);
}

/* Days after which a contact of closeness 2, 3, 4, 5 has gone quiet
 * (C and SQL spellings of the same figures). */
#define QUIET_DAYS 0, 0, 90, 60, 45, 30
#define QUIET_SQL(c)                                                       \
	"CASE " c " WHEN 2 THEN 90 WHEN 3 THEN 60 WHEN 4 THEN 45 ELSE 30 END"

/* Seconds after which a contact of closeness c (2-5) has gone quiet. */
static int64_t
quiet_after(int c)
{
	static const int days[] = { QUIET_DAYS };

	return ((int64_t) days[c] * TLY_DAY);
}

/* Adds points and, when words is not NULL, appends a reason (reasons
 * come most important first). */
static void reason(int *score, char *words, int points, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
reason(int *score, char *words, int points, const char *fmt, ...)
{
	size_t  used;
	char    text[96];
	va_list ap;

	*score += points;
	if (words == NULL)
		return;
	used = strlen(words);
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	snprintf(words + used, REASON_LEN - used, "%s%s", used ? "; " : "",
	    text);
}

/* Points of the signals that come from the two big sets, the ledger and
 * the close contacts, and the most they can give together: someone in
 * neither of the small sets (follow-ups, thanks owed) scores at most
 * BIG_SETS_MAX. */
#define OWE_POINTS 4 /* per point of balance I owe, up to OWE_CAP */
#define OWE_CAP 10
#define PENDING_POINTS 10
#define CLOSE_POINTS 3 /* per level of closeness, plus weeks quiet */
#define QUIET_WEEKS_CAP 20
#define BIG_SETS_MAX                                                       \
	(OWE_POINTS * OWE_CAP + PENDING_POINTS + CLOSE_POINTS * 5 +        \
	    QUIET_WEEKS_CAP)

/* The score of s at now (README.md, "Whom to contact next"); the
 * reasons in words go to words (REASON_LEN bytes) unless it is NULL. */
static int
score(const signals *s, int64_t now, char *words)
{
	int score = 0;

	if (words != NULL)
		words[0] = '\0';
	if (s->follow != 0 && s->follow <= now) {
		long late = (long) ((now - s->follow) / TLY_DAY);
		if (late == 0)
			reason(&score, words, 40, "follow-up due today");
		else
			reason(&score, words, 40 + (int) (late > 30 ? 30 : late),
			    "follow-up overdue by %ld day%s", late,
			    late == 1 ? "" : "s");
	} else if (s->follow != 0 && s->follow - now <= 3 * TLY_DAY) {
		long in = (long) ((s->follow - now + TLY_DAY - 1) / TLY_DAY);
		reason(&score, words, 25, "follow-up due in %ld day%s", in,
		    in == 1 ? "" : "s");
	}
	if (s->thanks > 0)
		reason(&score, words, 35 + 5 * (s->thanks - 1),
		    "you owe thanks for %d favor%s", s->thanks,
		    s->thanks == 1 ? "" : "s");
	if (s->balance < 0)
		reason(&score, words,
		    OWE_POINTS * (s->balance < -OWE_CAP ? OWE_CAP : -s->balance),
		    "you owe them (balance %d): offer help", s->balance);
	if (s->pending > 0)
		reason(&score, words, PENDING_POINTS,
		    "%d favor%s asked or promised, still open", s->pending,
		    s->pending == 1 ? "" : "s");
	if (s->closeness >= 2) {
		int64_t gap = s->last ? now - s->last : 0;
		if (s->last == 0)
			reason(&score, words, CLOSE_POINTS * s->closeness + 10,
			    "close contact (%d/5) never logged", s->closeness);
		else if (gap > quiet_after(s->closeness)) {
			int64_t weeks = (gap - quiet_after(s->closeness)) /
			    (7 * TLY_DAY);
			reason(&score, words,
			    CLOSE_POINTS * s->closeness +
			        (int) (weeks > QUIET_WEEKS_CAP ? QUIET_WEEKS_CAP
			                                       : weeks),
			    "close contact not seen in %ld days",
			    (long) (gap / TLY_DAY));
		}
	}
	/* They did me a favor lately: tap good contacts sparingly. */
	if (s->tapped && score > 0)
		reason(&score, words, -10, "tapped recently: go easy");
	return (score);
}

/* Reads one set of signals into tb.  Each query yields the person id
 * first, then what apply() takes. */
static int
gather(tally *t, table *tb, const char *sql, int64_t now,
    void (*apply)(signals *, sqlite3_stmt *))
{
	sqlite3_stmt *st = tly_stmt(t, sql);
	int           rc, rv = 0;

	if (st == NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_int64(st, 1, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		signals *s = table_get(tb, tly_col_text(st, 0));
		if (s == NULL) {
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
			break;
		}
		apply(s, st);
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_dberr(t, "ranking contacts");
	sqlite3_reset(st);
	return (rv);
}

static void
apply_follow(signals *s, sqlite3_stmt *st)
{
	int64_t f = sqlite3_column_int64(st, 1);

	if (s->follow == 0 || f < s->follow)
		s->follow = f;
}

static void
apply_thanks(signals *s, sqlite3_stmt *st)
{
	(void) st;
	s->thanks++;
}

static void
apply_tapped(signals *s, sqlite3_stmt *st)
{
	(void) st;
	s->tapped = 1;
}

static void
apply_ledger(signals *s, sqlite3_stmt *st)
{
	int bal    = sqlite3_column_int(st, 1);
	s->balance = bal < 0 ? bal : 0;
	s->pending = sqlite3_column_int(st, 2);
}

static void
apply_close(signals *s, sqlite3_stmt *st)
{
	s->closeness = sqlite3_column_int(st, 1);
	s->last      = sqlite3_column_int64(st, 2);
}

int tly_next_full = 0;

#define LEDGER_SQL "SELECT person, given - received, pending FROM ledger"
#define CLOSE_SQL "SELECT id, closeness, last_contact FROM person"

/* Reads the signals of one person (s) with sql, its ?1 bound to the id;
 * a person with no row gets nothing. */
static int
look_up(tally *t, signals *s, const char *sql,
    void (*apply)(signals *, sqlite3_stmt *))
{
	sqlite3_stmt *st = tly_stmt(t, sql);
	int           rc;

	if (st == NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		apply(s, st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (tly_dberr(t, "ranking contacts"));
	return (0);
}

/* A kept candidate: a slot of the table and its score. */
typedef struct best {
	const signals *s;
	int            score;
} best;

static int
worse(const best *a, const best *b)
{
	if (a->score != b->score)
		return (a->score < b->score);
	return (strcmp(a->s->id, b->s->id) > 0);
}

static void
swap(best *a, best *b)
{
	best tmp = *a;

	*a = *b;
	*b = tmp;
}

/* Keeps c among the cap best in the min-heap h[0..*n). */
static void
heap_offer(best *h, size_t *n, size_t cap, best c)
{
	size_t i;

	if (*n < cap) {
		h[i = (*n)++] = c;
		for (; i > 0 && worse(&h[i], &h[(i - 1) / 2]); i = (i - 1) / 2)
			swap(&h[i], &h[(i - 1) / 2]);
		return;
	}
	if (!worse(&h[0], &c))
		return;
	h[0] = c;
	for (i = 0;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < *n && worse(&h[l], &h[m]))
			m = l;
		if (r < *n && worse(&h[r], &h[m]))
			m = r;
		if (m == i)
			break;
		swap(&h[i], &h[m]);
		i = m;
	}
}

static int
cmp_best(const void *a, const void *b)
{
	return (worse(a, b) ? 1 : worse(b, a) ? -1 : 0);
}

/* Scores the entries of tb, keeping the n best in the heap h[0..*nh). */
static void
rank(tally *t, const table *tb, int n, best *h, size_t *nh, int64_t now)
{
	for (size_t i = 0; i < tb->n; i++) {
		best c;
		if (strcmp(tb->v[i].id, t->me) == 0)
			continue;
		c.s     = &tb->v[i];
		c.score = score(c.s, now, NULL);
		if (c.score > 0)
			heap_offer(h, nh, (size_t) n, c);
	}
}

/* Completes the people of the small sets (already in tb) with their
 * ledger and closeness, one look-up each, and ranks them.  When n of
 * them score above BIG_SETS_MAX nobody else can rank: the big sets need
 * not be read at all. */
static int
rank_small(
    tally *t, table *tb, int n, best *h, size_t *nh, int64_t now)
{
	int rv = 0;

	if (tb->n < (size_t) n || tly_next_full)
		return (0); /* too few to fill the list: read everything */
	for (size_t i = 0; rv == 0 && i < tb->n; i++)
		if ((rv = look_up(t, &tb->v[i], LEDGER_SQL " WHERE person = ?1",
		         apply_ledger)) == 0)
			rv = look_up(t, &tb->v[i],
			    CLOSE_SQL " WHERE id = ?1 AND closeness >= 2",
			    apply_close);
	if (rv == 0)
		rank(t, tb, n, h, nh, now);
	return (rv);
}

int
tally_next(tally *t, int n, tally_next_fn fn, void *arg)
{
	table         tb = { NULL, 0, 0, NULL, 0 };
	best         *h;
	size_t        nh = 0;
	sqlite3_stmt *st;
	int64_t       now = tly_now();
	int           rv, own = sqlite3_get_autocommit(t->db);

	if (n <= 0 || n > 10000)
		return (tly_seterr(t, TALLY_EINVAL,
		    "-n %d is out of range (1-10000)", n));
	if ((h = calloc((size_t) n, sizeof *h)) == NULL)
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	/* One read transaction: one snapshot, and no lock taken and
	 * dropped for each of the thousands of look-ups. */
	if (own && sqlite3_exec(t->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		free(h);
		return (tly_dberr(t, "ranking contacts"));
	}
	if ((rv = gather(t, &tb,
	         "SELECT person, follow_up FROM interaction"
	         " WHERE follow_up IS NOT NULL AND follow_up_done IS NULL",
	         now, apply_follow)) != 0 ||
	    (rv = gather(t, &tb,
	         "SELECT person FROM favor INDEXED BY favor_thanks"
	         " WHERE dir = -1 AND status = 'done' AND thanked IS NULL",
	         now, apply_thanks)) != 0 ||
	    (rv = gather(t, &tb,
	         "SELECT DISTINCT person FROM favor INDEXED BY favor_received"
	         " WHERE dir = -1 AND status = 'done' AND done_at > ?1 - "
	         "2592000",
	         now, apply_tapped)) != 0 ||
	    (rv = rank_small(t, &tb, n, h, &nh, now)) != 0)
		goto out;
	if (nh < (size_t) n || h[0].score <= BIG_SETS_MAX) {
		/* Someone outside the small sets may rank: read the big ones
		 * whole (the signals already looked up are read again the
		 * same) and rank everyone. */
		if ((rv = gather(t, &tb, LEDGER_SQL " WHERE given < received"
		                                    " OR pending > 0",
		         now, apply_ledger)) != 0 ||
		    (rv = gather(t, &tb,
		         /* close contacts count only once quiet (score()) */
		         CLOSE_SQL " WHERE closeness >= 2 AND NOT is_me AND"
		                   " (last_contact = 0 OR last_contact < ?1 - "
		         QUIET_SQL("closeness") " * 86400)",
		         now, apply_close)) != 0)
			goto out;
		nh = 0;
		rank(t, &tb, n, h, &nh, now);
	}
	qsort(h, nh, sizeof *h, cmp_best);
	st = tly_stmt(t, "SELECT name FROM person WHERE id = ?1");
	for (size_t i = 0; rv == 0 && i < nh; i++) {
		char            words[REASON_LEN];
		tally_next_item it;
		if (st == NULL) {
			rv = TALLY_EINTERNAL;
			break;
		}
		tly_bind_text(st, 1, h[i].s->id);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_reset(st);
			rv = tly_dberr(t, "ranking contacts");
			break;
		}
		(void) score(h[i].s, now, words);
		it.person = h[i].s->id;
		it.name   = tly_col_text(st, 0);
		it.score  = h[i].score;
		it.reason = words;
		rv        = fn(arg, &it);
		sqlite3_reset(st);
	}
out:
	if (own)
		sqlite3_exec(t->db, "COMMIT", NULL, NULL, NULL);
	free(tb.v);
	free(tb.slot);
	free(h);
	return (rv);
}
