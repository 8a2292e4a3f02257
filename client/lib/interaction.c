/*
 * interaction.c -- conversations: calls, coffees, meetings, emails,
 * events; their follow-ups and thank-you notes.
 */
#include <string.h>

#include "tally_int.h"

static const char *const interaction_kinds[] = { "call", "coffee",
	"meeting", "email", "event", NULL };

int
tally_log(tally *t, char *id, const tally_interaction *in)
{
	sqlite3_stmt *st;
	int64_t       now = tly_now();
	int           rv;

	if (in->kind == NULL || !tly_oneof(in->kind, interaction_kinds))
		return (tly_seterr(t, TALLY_EINVAL,
		    "unknown kind '%s' (call, coffee, meeting, email, event)",
		    in->kind ? in->kind : ""));
	if (in->minutes != TALLY_UNSET &&
	    (in->minutes < 0 || in->minutes > 24 * 60))
		return (tly_seterr(t, TALLY_EINVAL,
		    "minutes %d is out of range (0-1440)", in->minutes));
	if ((rv = tly_check_text(t, "note", in->note)) != 0)
		return (rv);
	if (in->person != NULL && strcmp(in->person, t->me) == 0)
		return (tly_seterr(t, TALLY_EINVAL,
		    "a conversation is with someone else, not with me"));
	if (in->follow_up != 0 && in->follow_up < in->at)
		return (tly_seterr(t, TALLY_EINVAL,
		    "the follow-up is before the conversation"));
	if ((rv = tly_begin(t)) != 0)
		return (rv);
	/* A new conversation answers the follow-ups that came before it. */
	st = tly_stmt(t, "UPDATE interaction SET follow_up_done = ?2,"
	                 " updated = ?2 WHERE person = ?1 AND at <= ?3"
	                 " AND follow_up IS NOT NULL"
	                 " AND follow_up_done IS NULL");
	if (st == NULL) {
		rv = TALLY_EINTERNAL;
		goto fail;
	}
	tly_bind_text(st, 1, in->person);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, in->at);
	if ((rv = tly_step_done(t, st, "logging")) != 0)
		goto fail;
	st = tly_stmt(t,
	    "INSERT INTO interaction(id, person, kind, at, minutes, note,"
	    " follow_up, created, updated)"
	    " SELECT ?1, id, ?3, ?4, ?5, nullif(?6, ''), ?7, ?8, ?8"
	    " FROM person WHERE id = ?2");
	if (st == NULL) {
		rv = TALLY_EINTERNAL;
		goto fail;
	}
	tly_id_new(id);
	tly_bind_text(st, 1, id);
	tly_bind_text(st, 2, in->person);
	tly_bind_text(st, 3, in->kind);
	sqlite3_bind_int64(st, 4, in->at);
	if (in->minutes != TALLY_UNSET)
		sqlite3_bind_int(st, 5, in->minutes);
	tly_bind_text(st, 6, in->note);
	tly_bind_time(st, 7, in->follow_up);
	sqlite3_bind_int64(st, 8, now);
	if ((rv = tly_step_done(t, st, "logging")) != 0)
		goto fail;
	if (sqlite3_changes(t->db) == 0) {
		rv = tly_seterr(t, TALLY_ENOENT, "no person with id %s",
		    in->person);
		goto fail;
	}
	return (tly_commit(t));
fail:
	tly_rollback(t);
	return (rv);
}

int
tally_interaction_list(
    tally *t, const char *person, tally_interaction_fn fn, void *arg)
{
	sqlite3_stmt     *st;
	tally_interaction i;
	int               rc, rv = 0;

	st = tly_stmt(t,
	    "SELECT i.id, i.person, p.name, i.kind, i.at, i.minutes, i.note,"
	    " i.follow_up, i.follow_up_done, i.thanked, i.created, i.updated"
	    " FROM interaction i JOIN person p ON p.id = i.person"
	    " WHERE ?1 IS NULL OR i.person = ?1 ORDER BY i.at DESC, i.id");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, person);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		i.id          = tly_col_text(st, 0);
		i.person      = tly_col_text(st, 1);
		i.person_name = tly_col_text(st, 2);
		i.kind        = tly_col_text(st, 3);
		i.at          = sqlite3_column_int64(st, 4);
		i.minutes     = sqlite3_column_type(st, 5) == SQLITE_NULL
		        ? TALLY_UNSET
		        : sqlite3_column_int(st, 5);
		i.note           = tly_col_text(st, 6);
		i.follow_up      = sqlite3_column_int64(st, 7);
		i.follow_up_done = sqlite3_column_int64(st, 8);
		i.thanked        = sqlite3_column_int64(st, 9);
		i.created        = sqlite3_column_int64(st, 10);
		i.updated        = sqlite3_column_int64(st, 11);
		if ((rv = fn(arg, &i)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading conversations");
	sqlite3_reset(st);
	return (rv);
}

int
tally_interaction_done(tally *t, const char *id)
{
	sqlite3_stmt *st;
	int           rv;

	/* Closing it again keeps the first date. */
	st = tly_stmt(t, "UPDATE interaction SET follow_up_done ="
	                 " coalesce(follow_up_done, ?2), updated = ?2"
	                 " WHERE id = ?1 AND follow_up IS NOT NULL");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, tly_now());
	if ((rv = tly_step_done(t, st, "closing a follow-up")) != 0)
		return (rv);
	if (sqlite3_changes(t->db) == 0)
		return (tly_seterr(t, TALLY_ESTATE,
		    "conversation %.8s has no follow-up", id));
	return (0);
}
