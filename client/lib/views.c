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
	    "  FROM favor f JOIN person p ON p.id = f.person"
	    "  WHERE f.dir = -1 AND f.status = 'done' AND f.thanked IS NULL"
	    " UNION ALL"
	    " SELECT 'thanks', i.id, i.person, p.name,"
	    "  'send ' || p.name || ' a thank-you note for the ' || i.kind ||"
	    "  ' on ' || date(i.at, 'unixepoch', 'localtime'), i.at + 86400"
	    "  FROM interaction i JOIN person p ON p.id = i.person"
	    "  WHERE i.thanked IS NULL AND i.kind IN ('call','coffee','meeting')"
	    "  AND i.at > ?1 - ?3 AND i.at <= ?1"
	    " UNION ALL"
	    " SELECT 'follow-up', i.id, i.person, p.name,"
	    "  'follow up with ' || p.name || ' (' || i.kind || ' on ' ||"
	    "  date(i.at, 'unixepoch', 'localtime') ||"
	    "  coalesce(': ' || i.note, '') || ')', i.follow_up"
	    "  FROM interaction i JOIN person p ON p.id = i.person"
	    "  WHERE i.follow_up IS NOT NULL AND i.follow_up_done IS NULL"
	    " UNION ALL"
	    " SELECT 'promise', f.id, f.person, p.name,"
	    "  'you promised ' || p.name || ' ' || " FAVOR_A("f.kind") " ||"
	    "  coalesce(': ' || f.note, ''), f.created + ?4"
	    "  FROM favor f JOIN person p ON p.id = f.person"
	    "  WHERE f.dir = 1 AND f.status = 'promised'"
	    ") WHERE due <= ?1 + ?2 ORDER BY due, id");
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

#define REASON_LEN 200

typedef struct cand {
	char id[TALLY_ID_LEN + 1];
	char *name; /* malloc'd once kept */
	char reason[REASON_LEN];
	int  score;
} cand;

/* A min-heap of the n best candidates: heap[0] is the weakest kept. */
typedef struct heap {
	cand  *v;
	size_t n, cap;
} heap;

static int
worse(const cand *a, const cand *b)
{
	if (a->score != b->score)
		return (a->score < b->score);
	return (strcmp(a->id, b->id) > 0);
}

static void
heap_sift_down(heap *h, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && worse(&h->v[l], &h->v[m]))
			m = l;
		if (r < h->n && worse(&h->v[r], &h->v[m]))
			m = r;
		if (m == i)
			return;
		cand tmp = h->v[i];
		h->v[i]  = h->v[m];
		h->v[m]  = tmp;
		i        = m;
	}
}

/* Keeps c if it is among the best; returns 0 if it was dropped, 1 if
 * kept (the heap then owns c->name). */
static int
heap_offer(heap *h, const cand *c)
{
	size_t i;

	if (h->n < h->cap) {
		i         = h->n++;
		h->v[i]   = *c;
		while (i > 0 && worse(&h->v[i], &h->v[(i - 1) / 2])) {
			cand tmp          = h->v[i];
			h->v[i]           = h->v[(i - 1) / 2];
			h->v[(i - 1) / 2] = tmp;
			i                 = (i - 1) / 2;
		}
		return (1);
	} else if (h->cap > 0 && worse(&h->v[0], c)) {
		free(h->v[0].name);
		h->v[0] = *c;
		heap_sift_down(h, 0);
		return (1);
	}
	return (0);
}

static int
cmp_best(const void *a, const void *b)
{
	return (worse(a, b) ? 1 : worse(b, a) ? -1 : 0);
}

/* Adds points and appends a reason; reasons come most important first. */
static void reason(cand *c, int points, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
reason(cand *c, int points, const char *fmt, ...)
{
	size_t  used = strlen(c->reason);
	char    text[96];
	va_list ap;

	c->score += points;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	snprintf(c->reason + used, REASON_LEN - used, "%s%s",
	    used ? "; " : "", text);
}

/* Days after which a contact of closeness c (2-5) has gone quiet. */
static int64_t
quiet_after(int c)
{
	static const int days[] = { 0, 0, 90, 60, 45, 30 };

	return ((int64_t) days[c] * TLY_DAY);
}

static void
score(cand *c, sqlite3_stmt *st, int64_t now)
{
	int     closeness = sqlite3_column_type(st, 2) == SQLITE_NULL
	        ? -1
	        : sqlite3_column_int(st, 2);
	int64_t last      = sqlite3_column_int64(st, 3);
	int     balance   = sqlite3_column_int(st, 4);
	int64_t tapped    = sqlite3_column_int64(st, 5);
	int64_t follow    = sqlite3_column_int64(st, 6);
	int     thanks    = sqlite3_column_int(st, 7);
	int     asked     = sqlite3_column_int(st, 8);

	if (follow != 0 && follow <= now) {
		long late = (long) ((now - follow) / TLY_DAY);
		if (late == 0)
			reason(c, 40, "follow-up due today");
		else
			reason(c, 40 + (int) (late > 30 ? 30 : late),
			    "follow-up overdue by %ld day%s", late,
			    late == 1 ? "" : "s");
	} else if (follow != 0 && follow - now <= 3 * TLY_DAY) {
		long in = (long) ((follow - now + TLY_DAY - 1) / TLY_DAY);
		reason(c, 25, "follow-up due in %ld day%s", in,
		    in == 1 ? "" : "s");
	}
	if (thanks > 0)
		reason(c, 35 + 5 * (thanks - 1), "you owe thanks for %d favor%s",
		    thanks, thanks == 1 ? "" : "s");
	if (balance < 0)
		reason(c, 4 * (balance < -10 ? 10 : -balance),
		    "you owe them (balance %d): offer help", balance);
	if (asked > 0)
		reason(c, 10, "%d favor%s asked or promised, still open", asked,
		    asked == 1 ? "" : "s");
	if (closeness >= 2) {
		int64_t gap = last ? now - last : 0;
		if (last == 0)
			reason(c, 3 * closeness + 10,
			    "close contact (%d/5) never logged", closeness);
		else if (gap > quiet_after(closeness)) {
			int64_t weeks = (gap - quiet_after(closeness)) /
			    (7 * TLY_DAY);
			reason(c, 3 * closeness + (int) (weeks > 20 ? 20 : weeks),
			    "close contact not seen in %ld days",
			    (long) (gap / TLY_DAY));
		}
	}
	/* They did me a favor lately: tap good contacts sparingly. */
	if (tapped > now - 30 * TLY_DAY && c->score > 0)
		reason(c, -10, "tapped recently: go easy");
}

int
tally_next(tally *t, int n, tally_next_fn fn, void *arg)
{
	sqlite3_stmt   *st;
	heap            h = { NULL, 0, 0 };
	int64_t         now = tly_now();
	int             rc, rv = 0;

	if (n <= 0 || n > 10000)
		return (tly_seterr(t, TALLY_EINVAL,
		    "-n %d is out of range (1-10000)", n));
	if ((h.v = calloc((size_t) n, sizeof *h.v)) == NULL)
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	h.cap = (size_t) n;
	st    = tly_stmt(t,
            "WITH fu AS (SELECT person, min(follow_up) AS f FROM interaction"
            "  WHERE follow_up IS NOT NULL AND follow_up_done IS NULL"
            "  GROUP BY person),"
            " th AS (SELECT person, count(*) AS n FROM favor"
            "  WHERE dir = -1 AND status = 'done' AND thanked IS NULL"
            "  GROUP BY person),"
            " tap AS (SELECT person, max(done_at) AS at FROM favor"
            "  WHERE dir = -1 AND status = 'done' GROUP BY person)"
            " SELECT p.id, p.name, p.closeness, p.last_contact,"
            "  coalesce(l.given - l.received, 0), coalesce(tap.at, 0),"
            "  coalesce(fu.f, 0), coalesce(th.n, 0), coalesce(l.pending, 0)"
            " FROM person p LEFT JOIN ledger l ON l.person = p.id"
            " LEFT JOIN fu ON fu.person = p.id"
            " LEFT JOIN th ON th.person = p.id"
            " LEFT JOIN tap ON tap.person = p.id"
            " WHERE NOT p.is_me AND (p.closeness >= 2"
            "  OR l.person IS NOT NULL OR fu.person IS NOT NULL)");
	if (st == NULL) {
		free(h.v);
		return (TALLY_EINTERNAL);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cand c;
		c.name      = NULL;
		c.score     = 0;
		c.reason[0] = '\0';
		score(&c, st, now);
		if (c.score <= 0)
			continue;
		snprintf(c.id, sizeof c.id, "%s", tly_col_text(st, 0));
		if (h.n == h.cap && !worse(&h.v[0], &c))
			continue;
		if ((c.name = strdup(tly_col_text(st, 1))) == NULL) {
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
			break;
		}
		heap_offer(&h, &c);
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_dberr(t, "ranking contacts");
	sqlite3_reset(st);
	qsort(h.v, h.n, sizeof *h.v, cmp_best);
	for (size_t i = 0; rv == 0 && i < h.n; i++) {
		tally_next_item it = { h.v[i].id, h.v[i].name, h.v[i].score,
			h.v[i].reason };
		rv = fn(arg, &it);
	}
	for (size_t i = 0; i < h.n; i++)
		free(h.v[i].name);
	free(h.v);
	return (rv);
}
