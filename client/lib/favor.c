/*
 * favor.c -- favors given and received, thanks, and the ledger.
 *
 * A favor row is stored from my side: person is the other party and dir
 * is 1 when I gave, -1 when I received.  The ledger table (kept by
 * triggers, see schema.c) sums done favors by weight per person.
 */
#include <stdlib.h>
#include <string.h>

#include "tally_int.h"

static const struct {
	const char *kind;
	int         weight;
} favor_kinds[] = {
	{ "introduction", 3 },
	{ "reference", 3 },
	{ "referral", 5 },
	{ "advice", 1 },
	{ "resume", 2 },
	{ "info", 1 },
	{ "other", 1 },
};

static const char *const favor_states[] = { "asked", "promised", "done",
	"declined", NULL };

int
tally_favor_weight(const char *kind)
{
	for (size_t i = 0; i < sizeof favor_kinds / sizeof favor_kinds[0];
	     i++)
		if (kind != NULL && strcmp(kind, favor_kinds[i].kind) == 0)
			return (favor_kinds[i].weight);
	return (-1);
}

int
tally_favor_add(tally *t, char *id, const tally_favor *in)
{
	sqlite3_stmt *st;
	const char   *other;
	const char   *status = in->status ? in->status : "done";
	int64_t       now    = tly_now();
	int           dir, weight, rv;

	if (t->me[0] == '\0')
		return (tly_seterr(t, TALLY_ENOTINIT,
		    "the replica has no user yet (run 'tally init')"));
	if (in->giver == NULL || in->receiver == NULL)
		return (tly_seterr(t, TALLY_EINVAL,
		    "a favor needs a giver and a receiver"));
	if (strcmp(in->giver, in->receiver) == 0)
		return (tly_seterr(t, TALLY_EINVAL,
		    "the giver and the receiver are the same person"));
	if (strcmp(in->giver, t->me) == 0) {
		dir   = 1;
		other = in->receiver;
	} else if (strcmp(in->receiver, t->me) == 0) {
		dir   = -1;
		other = in->giver;
	} else
		return (tly_seterr(t, TALLY_EINVAL,
		    "one side of a favor must be me (--from me or --to me)"));
	if ((weight = tally_favor_weight(in->kind)) < 0)
		return (tly_seterr(t, TALLY_EINVAL,
		    "unknown favor kind '%s' (introduction, reference, "
		    "referral, advice, resume, info, other)",
		    in->kind ? in->kind : ""));
	if (in->weight != TALLY_UNSET) {
		if (in->weight < 0 || in->weight > 100)
			return (tly_seterr(t, TALLY_EINVAL,
			    "weight %d is out of range (0-100)", in->weight));
		weight = in->weight;
	}
	if (!tly_oneof(status, favor_states))
		return (tly_seterr(t, TALLY_EINVAL,
		    "unknown status '%s' (asked, promised, done, declined)",
		    status));
	if ((rv = tly_check_text(t, "note", in->note)) != 0)
		return (rv);
	st = tly_stmt(t,
	    "INSERT INTO favor(id, person, dir, kind, status, weight, note,"
	    " intro, done_at, created, updated)"
	    " SELECT ?1, id, ?3, ?4, ?5, ?6, nullif(?7, ''), ?8,"
	    " CASE WHEN ?5 = 'done' THEN coalesce(?9, ?10) END, ?10, ?10"
	    " FROM person WHERE id = ?2");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_id_new(id);
	tly_bind_text(st, 1, id);
	tly_bind_text(st, 2, other);
	sqlite3_bind_int(st, 3, dir);
	tly_bind_text(st, 4, in->kind);
	tly_bind_text(st, 5, status);
	sqlite3_bind_int(st, 6, weight);
	tly_bind_text(st, 7, in->note);
	tly_bind_text(st, 8, in->intro);
	tly_bind_time(st, 9, in->done_at);
	sqlite3_bind_int64(st, 10, now);
	if ((rv = tly_step_done(t, st, "recording a favor")) != 0)
		return (rv);
	if (sqlite3_changes(t->db) == 0)
		return (tly_seterr(t, TALLY_ENOENT, "no person with id %s",
		    other));
	return (0);
}

int
tally_favor_status(tally *t, const char *id, const char *status)
{
	sqlite3_stmt *st;
	int           rv;

	if (status == NULL || !tly_oneof(status, favor_states))
		return (tly_seterr(t, TALLY_EINVAL,
		    "unknown status '%s' (asked, promised, done, declined)",
		    status ? status : ""));
	st = tly_stmt(t,
	    "UPDATE favor SET status = ?2, updated = ?3,"
	    " done_at = CASE WHEN ?2 = 'done' THEN coalesce(done_at, ?3)"
	    "   ELSE NULL END"
	    " WHERE id = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	tly_bind_text(st, 2, status);
	sqlite3_bind_int64(st, 3, tly_now());
	if ((rv = tly_step_done(t, st, "updating a favor")) != 0)
		return (rv);
	if (sqlite3_changes(t->db) == 0)
		return (tly_seterr(t, TALLY_ENOENT, "no favor with id %s", id));
	return (0);
}

int
tally_thank(tally *t, const char *id)
{
	sqlite3_stmt *st;
	int64_t       now = tly_now();
	int           rv, rc;

	st = tly_stmt(t, "SELECT dir, status FROM favor WHERE id = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int dir  = sqlite3_column_int(st, 0);
		int done = strcmp(tly_col_text(st, 1), "done") == 0;
		sqlite3_reset(st);
		if (dir != -1)
			return (tly_seterr(t, TALLY_ESTATE,
			    "favor %.8s was done by you, not for you: "
			    "nothing to thank",
			    id));
		if (!done)
			return (tly_seterr(t, TALLY_ESTATE,
			    "favor %.8s is not done yet (tally favor done "
			    "%.8s)",
			    id, id));
		/* Thanking again keeps the first date. */
		st = tly_stmt(t, "UPDATE favor SET thanked = coalesce(thanked,"
		                 " ?2), updated = ?2 WHERE id = ?1");
	} else {
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return (tly_dberr(t, "reading a favor"));
		st = tly_stmt(t, "UPDATE interaction SET thanked ="
		                 " coalesce(thanked, ?2), updated = ?2"
		                 " WHERE id = ?1");
	}
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	if ((rv = tly_step_done(t, st, "recording thanks")) != 0)
		return (rv);
	if (sqlite3_changes(t->db) == 0)
		return (tly_seterr(t, TALLY_ENOENT,
		    "no favor or conversation with id %s", id));
	return (0);
}

int
tally_favor_list(tally *t, const char *person, tally_favor_fn fn, void *arg)
{
	sqlite3_stmt *st;
	tally_favor   f;
	int           rc, rv = 0;

	st = tly_stmt(t,
	    "SELECT f.id, f.person, p.name, f.dir, f.kind, f.status, f.weight,"
	    " f.note, f.intro, f.done_at, f.thanked, f.confirmed, f.created,"
	    " f.updated, m.id, m.name"
	    " FROM favor f JOIN person p ON p.id = f.person"
	    " JOIN person m ON m.is_me"
	    " WHERE ?1 IS NULL OR f.person = ?1 OR ?1 = m.id"
	    " ORDER BY coalesce(f.done_at, f.created) DESC, f.id");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, person);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int gave = sqlite3_column_int(st, 3) == 1;
		f.id            = tly_col_text(st, 0);
		f.giver         = tly_col_text(st, gave ? 14 : 1);
		f.giver_name    = tly_col_text(st, gave ? 15 : 2);
		f.receiver      = tly_col_text(st, gave ? 1 : 14);
		f.receiver_name = tly_col_text(st, gave ? 2 : 15);
		f.kind          = tly_col_text(st, 4);
		f.status        = tly_col_text(st, 5);
		f.weight        = sqlite3_column_int(st, 6);
		f.note          = tly_col_text(st, 7);
		f.intro         = tly_col_text(st, 8);
		f.done_at       = sqlite3_column_int64(st, 9);
		f.thanked       = sqlite3_column_int64(st, 10);
		f.confirmed     = sqlite3_column_int(st, 11);
		f.created       = sqlite3_column_int64(st, 12);
		f.updated       = sqlite3_column_int64(st, 13);
		if ((rv = fn(arg, &f)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading favors");
	sqlite3_reset(st);
	return (rv);
}

int
tally_ledger(tally *t, const char *person, tally_ledger_fn fn, void *arg)
{
	sqlite3_stmt    *st;
	tally_ledger_row r;
	int              rc, rv = 0;

	st = tly_stmt(t,
	    "SELECT person, name, given, received, n_given, n_received,"
	    " pending, confirmed, last FROM ledger"
	    " WHERE ?1 IS NULL OR person = ?1"
	    " ORDER BY abs(given - received) DESC, last DESC, name, person");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, person);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r.person     = tly_col_text(st, 0);
		r.name       = tly_col_text(st, 1);
		r.given      = sqlite3_column_int(st, 2);
		r.received   = sqlite3_column_int(st, 3);
		r.balance    = r.given - r.received;
		r.n_given    = sqlite3_column_int(st, 4);
		r.n_received = sqlite3_column_int(st, 5);
		r.pending    = sqlite3_column_int(st, 6);
		r.confirmed  = sqlite3_column_int(st, 7);
		r.last       = sqlite3_column_int64(st, 8);
		if ((rv = fn(arg, &r)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading the ledger");
	sqlite3_reset(st);
	return (rv);
}
