/*
 * intro.c -- introductions and references.
 */
#include <string.h>

#include "tally_int.h"

/* Records the favor an introduction means for me, inside the caller's
 * transaction. */
static int
intro_favor(tally *t, const char *intro, const char *giver,
    const char *receiver, const char *note)
{
	tally_favor f;
	char        id[TALLY_ID_LEN + 1];

	memset(&f, 0, sizeof f);
	f.giver    = giver;
	f.receiver = receiver;
	f.kind     = "introduction";
	f.status   = "done";
	f.weight   = TALLY_UNSET;
	f.note     = note;
	f.intro    = intro;
	return (tally_favor_add(t, id, &f));
}

int
tally_intro_add(tally *t, char *id, const tally_intro *in)
{
	sqlite3_stmt *st;
	int64_t       now = tly_now();
	int           rv;

	if (in->by == NULL || in->a == NULL || in->b == NULL)
		return (tly_seterr(t, TALLY_EINVAL,
		    "an introduction needs an introducer and two people"));
	if (strcmp(in->a, in->b) == 0 || strcmp(in->by, in->a) == 0 ||
	    strcmp(in->by, in->b) == 0)
		return (tly_seterr(t, TALLY_EINVAL,
		    "an introduction is between three different people"));
	if ((rv = tly_check_text(t, "note", in->note)) != 0)
		return (rv);
	if ((rv = tly_begin(t)) != 0)
		return (rv);
	st = tly_stmt(t, "INSERT INTO introduction(id, by, a, b, note,"
	                 " status, created, updated)"
	                 " VALUES (?1, ?2, ?3, ?4, nullif(?5, ''),"
	                 " coalesce(?6, 'made'), ?7, ?7)");
	if (st == NULL) {
		rv = TALLY_EINTERNAL;
		goto fail;
	}
	tly_id_new(id);
	tly_bind_text(st, 1, id);
	tly_bind_text(st, 2, in->by);
	tly_bind_text(st, 3, in->a);
	tly_bind_text(st, 4, in->b);
	tly_bind_text(st, 5, in->note);
	tly_bind_text(st, 6, in->status);
	sqlite3_bind_int64(st, 7, now);
	if ((rv = tly_step_done(t, st, "recording an introduction")) != 0) {
		if (rv == TALLY_EEXIST) /* a foreign key: someone is missing */
			rv = tly_seterr(t, TALLY_ENOENT,
			    "an introduction names a person not in the "
			    "replica");
		goto fail;
	}
	if (in->status == NULL || strcmp(in->status, "made") == 0) {
		if (strcmp(in->by, t->me) == 0) {
			if ((rv = intro_favor(t, id, t->me, in->a, in->note)) ||
			    (rv = intro_favor(t, id, t->me, in->b, in->note)))
				goto fail;
		} else if (strcmp(in->a, t->me) == 0 ||
		    strcmp(in->b, t->me) == 0) {
			if ((rv = intro_favor(t, id, in->by, t->me,
			         in->note)) != 0)
				goto fail;
		}
	}
	return (tly_commit(t));
fail:
	tly_rollback(t);
	return (rv);
}

int
tally_intro_list(tally *t, tally_intro_fn fn, void *arg)
{
	sqlite3_stmt *st;
	tally_intro   i;
	int           rc, rv = 0;

	st = tly_stmt(t,
	    "SELECT i.id, i.by, x.name, i.a, a.name, i.b, b.name, i.note,"
	    " i.status, i.created, i.updated FROM introduction i"
	    " JOIN person x ON x.id = i.by JOIN person a ON a.id = i.a"
	    " JOIN person b ON b.id = i.b ORDER BY i.created DESC, i.id");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		i.id      = tly_col_text(st, 0);
		i.by      = tly_col_text(st, 1);
		i.by_name = tly_col_text(st, 2);
		i.a       = tly_col_text(st, 3);
		i.a_name  = tly_col_text(st, 4);
		i.b       = tly_col_text(st, 5);
		i.b_name  = tly_col_text(st, 6);
		i.note    = tly_col_text(st, 7);
		i.status  = tly_col_text(st, 8);
		i.created = sqlite3_column_int64(st, 9);
		i.updated = sqlite3_column_int64(st, 10);
		if ((rv = fn(arg, &i)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading introductions");
	sqlite3_reset(st);
	return (rv);
}

int
tally_reference_add(
    tally *t, char *id, const char *person, const char *for_what)
{
	sqlite3_stmt *st;
	int           rv;

	if ((rv = tly_check_text(t, "for", for_what)) != 0)
		return (rv);
	if (strcmp(person, t->me) == 0)
		return (tly_seterr(t, TALLY_EINVAL,
		    "you cannot be your own reference"));
	st = tly_stmt(t, "INSERT INTO reference(id, person, for_what,"
	                 " created, updated)"
	                 " SELECT ?1, id, nullif(?3, ''), ?4, ?4 FROM person"
	                 " WHERE id = ?2");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_id_new(id);
	tly_bind_text(st, 1, id);
	tly_bind_text(st, 2, person);
	tly_bind_text(st, 3, for_what);
	sqlite3_bind_int64(st, 4, tly_now());
	if ((rv = tly_step_done(t, st, "recording a reference")) != 0)
		return (rv);
	if (sqlite3_changes(t->db) == 0)
		return (tly_seterr(t, TALLY_ENOENT, "no person with id %s",
		    person));
	return (0);
}

int
tally_reference_use(tally *t, const char *id, const char *for_what)
{
	sqlite3_stmt *st;
	char          uid[TALLY_ID_LEN + 1];
	int64_t       now = tly_now();
	int           rv;

	if (for_what == NULL || *for_what == '\0')
		return (tly_seterr(t, TALLY_EINVAL,
		    "say what the reference was used for (--for TEXT)"));
	if ((rv = tly_check_text(t, "for", for_what)) != 0)
		return (rv);
	st = tly_stmt(t, "INSERT INTO reference_use(id, reference, for_what,"
	                 " at, created, updated)"
	                 " SELECT ?1, id, ?3, ?4, ?4, ?4 FROM reference"
	                 " WHERE id = ?2");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_id_new(uid);
	tly_bind_text(st, 1, uid);
	tly_bind_text(st, 2, id);
	tly_bind_text(st, 3, for_what);
	sqlite3_bind_int64(st, 4, now);
	if ((rv = tly_step_done(t, st, "recording a reference use")) != 0)
		return (rv);
	if (sqlite3_changes(t->db) == 0)
		return (tly_seterr(t, TALLY_ENOENT, "no reference with id %s",
		    id));
	return (0);
}

int
tally_reference_list(tally *t, tally_reference_fn fn, void *arg)
{
	sqlite3_stmt   *st;
	tally_reference r;
	int             rc, rv = 0;

	st = tly_stmt(t,
	    "SELECT r.id, r.person, p.name, r.for_what,"
	    " (SELECT count(*) FROM reference_use u WHERE u.reference = r.id),"
	    " (SELECT max(at) FROM reference_use u WHERE u.reference = r.id),"
	    " r.created, r.updated"
	    " FROM reference r JOIN person p ON p.id = r.person"
	    " ORDER BY 5, 6, p.name_key, r.id");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r.id          = tly_col_text(st, 0);
		r.person      = tly_col_text(st, 1);
		r.person_name = tly_col_text(st, 2);
		r.for_what    = tly_col_text(st, 3);
		r.uses        = sqlite3_column_int(st, 4);
		r.last_used   = sqlite3_column_int64(st, 5);
		r.created     = sqlite3_column_int64(st, 6);
		r.updated     = sqlite3_column_int64(st, 7);
		if ((rv = fn(arg, &r)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading references");
	sqlite3_reset(st);
	return (rv);
}
