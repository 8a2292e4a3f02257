/*
 * person.c -- people: add, edit, remove, list.
 *
 * Emails, phones and tags are stored as JSON arrays of strings in the
 * person row (one field each, so that sync can merge them as units);
 * person_key, kept by triggers, indexes emails and URLs for matching.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "tally_int.h"

#define PERSON_COLS                                                          \
	"p.id, p.name, p.org, p.title, p.url, p.how_met, p.referred_by,"     \
	" r.name, p.note, p.emails, p.phones, p.tags, p.closeness, p.is_me," \
	" p.last_contact, p.created, p.updated"

/* A JSON array of strings unpacked for a callback. */
typedef struct strlist {
	json_t      *arr;
	const char **v;
	size_t       n;
} strlist;

static void
strlist_free(strlist *l)
{
	json_decref(l->arr);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static int
strlist_load(strlist *l, const char *text)
{
	size_t i;

	memset(l, 0, sizeof *l);
	if (text == NULL)
		return (0);
	l->arr = json_loads(text, 0, NULL);
	if (!json_is_array(l->arr)) {
		json_decref(l->arr);
		l->arr = NULL;
		return (0); /* a damaged list reads as empty, never crashes */
	}
	if ((l->v = calloc(json_array_size(l->arr) + 1, sizeof *l->v)) ==
	    NULL)
		return (TALLY_ENOMEM);
	for (i = 0; i < json_array_size(l->arr); i++) {
		const char *s = json_string_value(json_array_get(l->arr, i));
		if (s != NULL)
			l->v[l->n++] = s;
	}
	return (0);
}

/* Returns the list in old (JSON text) with add appended (no duplicates,
 * compared case-insensitively) and rm removed, as malloc'd JSON text. */
static char *
strlist_edit(const char *old, tally_strs add, tally_strs rm)
{
	json_t *arr = old ? json_loads(old, 0, NULL) : NULL;
	json_t *out = json_array();
	char   *text;
	size_t  i, j;

	if (!json_is_array(arr)) {
		json_decref(arr);
		arr = json_array();
	}
	for (i = 0; i < json_array_size(arr) + add.n; i++) {
		const char *s = i < json_array_size(arr)
		    ? json_string_value(json_array_get(arr, i))
		    : add.v[i - json_array_size(arr)];
		int keep = s != NULL && *s != '\0';
		for (j = 0; keep && j < rm.n; j++)
			if (strcasecmp(s, rm.v[j]) == 0)
				keep = 0;
		for (j = 0; keep && j < json_array_size(out); j++)
			if (strcasecmp(s, json_string_value(
			                      json_array_get(out, j))) == 0)
				keep = 0;
		if (keep)
			json_array_append_new(out, json_string(s));
	}
	text = json_dumps(out, JSON_COMPACT);
	json_decref(arr);
	json_decref(out);
	return (text);
}

void
tally_person_in_init(tally_person_in *in)
{
	memset(in, 0, sizeof *in);
	in->closeness = TALLY_UNSET;
}

/* Checks a field shown on one line: text without line breaks or tabs. */
static int
check_line(tally *t, const char *field, const char *s)
{
	int rv;

	if ((rv = tly_check_text(t, field, s)) != 0)
		return (rv);
	if (s != NULL && strpbrk(s, "\t\r\n") != NULL)
		return (tly_seterr(
		    t, TALLY_EINVAL, "%s must be on one line", field));
	return (0);
}

static int
check_strs(tally *t, const char *field, tally_strs s)
{
	int rv;

	for (size_t i = 0; i < s.n; i++) {
		if ((rv = check_line(t, field, s.v[i])) != 0)
			return (rv);
		if (strlen(s.v[i]) > 320)
			return (tly_seterr(t, TALLY_EINVAL,
			    "%s '%.40s...' is too long", field, s.v[i]));
	}
	return (0);
}

static int
check_in(tally *t, const char *id, const tally_person_in *in)
{
	static const struct {
		const char *name;
		size_t      off;
		int         line; /* shown on one line */
	} fields[] = {
		{ "name", offsetof(tally_person_in, name), 1 },
		{ "organisation", offsetof(tally_person_in, org), 1 },
		{ "title", offsetof(tally_person_in, title), 1 },
		{ "url", offsetof(tally_person_in, url), 1 },
		{ "how-met", offsetof(tally_person_in, how_met), 0 },
		{ "note", offsetof(tally_person_in, note), 0 },
	};
	int rv;

	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		const char *s =
		    *(const char *const *) ((const char *) in + fields[i].off);
		if ((rv = fields[i].line
		            ? check_line(t, fields[i].name, s)
		            : tly_check_text(t, fields[i].name, s)) != 0)
			return (rv);
	}
	if (in->name != NULL && in->name[strspn(in->name, " \t")] == '\0')
		return (tly_seterr(t, TALLY_EINVAL, "the name is empty"));
	/* PERSON "me" always means the user: another "me" could never be
	 * named. */
	if (in->name != NULL && strcasecmp(in->name, "me") == 0 &&
	    (id == NULL || strcmp(id, t->me) != 0))
		return (tly_seterr(t, TALLY_EINVAL,
		    "'%s' always means you: give the person another name",
		    in->name));
	if (in->closeness != TALLY_UNSET && in->closeness != -2 &&
	    (in->closeness < 0 || in->closeness > 5))
		return (tly_seterr(t, TALLY_EINVAL,
		    "closeness %d is out of range (0-5)", in->closeness));
	if ((rv = check_strs(t, "email", in->add_emails)) != 0 ||
	    (rv = check_strs(t, "phone", in->add_phones)) != 0 ||
	    (rv = check_strs(t, "tag", in->add_tags)) != 0)
		return (rv);
	for (size_t i = 0; i < in->add_emails.n; i++) {
		const char *e  = in->add_emails.v[i];
		const char *at = strchr(e, '@');
		if (at == NULL || at == e || at[1] == '\0' ||
		    strpbrk(e, " \t\r\n<>,;") != NULL)
			return (tly_seterr(t, TALLY_EINVAL,
			    "'%s' is not an email address", e));
	}
	for (size_t i = 0; i < in->add_phones.n; i++)
		if (strpbrk(in->add_phones.v[i], "0123456789") == NULL)
			return (tly_seterr(t, TALLY_EINVAL,
			    "'%s' is not a phone number", in->add_phones.v[i]));
	if (in->referred_by != NULL && *in->referred_by != '\0') {
		sqlite3_stmt *st;
		int           found;
		if (id != NULL && strcmp(id, in->referred_by) == 0)
			return (tly_seterr(t, TALLY_EINVAL,
			    "a person cannot refer themselves"));
		st = tly_stmt(t, "SELECT 1 FROM person WHERE id = ?1");
		if (st == NULL)
			return (TALLY_EINTERNAL);
		tly_bind_text(st, 1, in->referred_by);
		found = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_reset(st);
		if (!found)
			return (tly_seterr(t, TALLY_ENOENT,
			    "no person with id %s (referred by)",
			    in->referred_by));
	}
	return (0);
}

/* Binds a "NULL keeps, '' clears" text to slot i. */
static void
bind_edit(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

int
tally_person_add(tally *t, char *id, const tally_person_in *in)
{
	static const tally_strs none = { NULL, 0 };
	sqlite3_stmt           *st;
	char                   *key = NULL, *emails = NULL, *phones = NULL;
	char                   *tags = NULL;
	int64_t                 now  = tly_now();
	int                     rv;

	if (in->name == NULL)
		return (tly_seterr(t, TALLY_EINVAL, "a person needs a name"));
	if ((rv = check_in(t, NULL, in)) != 0)
		return (rv);
	key    = tly_casefold(in->name);
	emails = strlist_edit(NULL, in->add_emails, none);
	phones = strlist_edit(NULL, in->add_phones, none);
	tags   = strlist_edit(NULL, in->add_tags, none);
	if (key == NULL || emails == NULL || phones == NULL || tags == NULL) {
		rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
		goto out;
	}
	st = tly_stmt(t,
	    "INSERT INTO person(id, name, name_key, org, title, url, how_met,"
	    " referred_by, note, emails, phones, tags, closeness, created,"
	    " updated) VALUES (?1, ?2, ?3, nullif(?4, ''), nullif(?5, ''),"
	    " nullif(?6, ''), nullif(?7, ''), nullif(?8, ''), nullif(?9, ''),"
	    " ?10, ?11, ?12, ?13, ?14, ?14)");
	if (st == NULL) {
		rv = TALLY_EINTERNAL;
		goto out;
	}
	tly_id_new(id);
	tly_bind_text(st, 1, id);
	tly_bind_text(st, 2, in->name);
	tly_bind_text(st, 3, key);
	tly_bind_text(st, 4, in->org);
	tly_bind_text(st, 5, in->title);
	tly_bind_text(st, 6, in->url);
	tly_bind_text(st, 7, in->how_met);
	tly_bind_text(st, 8, in->referred_by);
	tly_bind_text(st, 9, in->note);
	tly_bind_text(st, 10, emails);
	tly_bind_text(st, 11, phones);
	tly_bind_text(st, 12, tags);
	if (in->closeness >= 0)
		sqlite3_bind_int(st, 13, in->closeness);
	sqlite3_bind_int64(st, 14, now);
	rv = tly_step_done(t, st, "adding a person");
out:
	free(key);
	free(emails);
	free(phones);
	free(tags);
	return (rv);
}

int
tally_person_edit(tally *t, const char *id, const tally_person_in *in)
{
	sqlite3_stmt *st;
	char         *key = NULL, *lists[3] = { NULL, NULL, NULL };
	int           rv;

	if ((rv = check_in(t, id, in)) != 0)
		return (rv);
	if ((rv = tly_begin(t)) != 0)
		return (rv);
	st = tly_stmt(t,
	    "SELECT emails, phones, tags FROM person WHERE id = ?1");
	if (st == NULL) {
		rv = TALLY_EINTERNAL;
		goto out;
	}
	tly_bind_text(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		rv = tly_seterr(t, TALLY_ENOENT, "no person with id %s", id);
		goto out;
	}
	lists[0] = strlist_edit(tly_col_text(st, 0), in->add_emails,
	    in->rm_emails);
	lists[1] = strlist_edit(tly_col_text(st, 1), in->add_phones,
	    in->rm_phones);
	lists[2] = strlist_edit(tly_col_text(st, 2), in->add_tags,
	    in->rm_tags);
	sqlite3_reset(st);
	if (in->name != NULL && (key = tly_casefold(in->name)) == NULL) {
		rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
		goto out;
	}
	if (lists[0] == NULL || lists[1] == NULL || lists[2] == NULL) {
		rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
		goto out;
	}
#define EDIT(col, n)                                                         \
	col " = CASE WHEN ?" #n " IS NULL THEN " col " ELSE nullif(?" #n     \
	    ", '') END"
	st = tly_stmt(t,
	    "UPDATE person SET name = coalesce(?2, name),"
	    " name_key = coalesce(?3, name_key), " EDIT("org", 4) ", " EDIT(
	        "title", 5) ", " EDIT("url", 6) ", " EDIT("how_met",
	        7) ", " EDIT("referred_by", 8) ", " EDIT("note", 9) ","
	    " emails = ?10, phones = ?11, tags = ?12,"
	    " closeness = CASE ?13 WHEN -1 THEN closeness WHEN -2 THEN NULL"
	    "   ELSE ?13 END,"
	    " updated = ?14 WHERE id = ?1");
#undef EDIT
	if (st == NULL) {
		rv = TALLY_EINTERNAL;
		goto out;
	}
	tly_bind_text(st, 1, id);
	tly_bind_text(st, 2, in->name);
	tly_bind_text(st, 3, key);
	bind_edit(st, 4, in->org);
	bind_edit(st, 5, in->title);
	bind_edit(st, 6, in->url);
	bind_edit(st, 7, in->how_met);
	bind_edit(st, 8, in->referred_by);
	bind_edit(st, 9, in->note);
	tly_bind_text(st, 10, lists[0]);
	tly_bind_text(st, 11, lists[1]);
	tly_bind_text(st, 12, lists[2]);
	sqlite3_bind_int(st, 13, in->closeness);
	sqlite3_bind_int64(st, 14, tly_now());
	if ((rv = tly_step_done(t, st, "editing a person")) == 0)
		rv = tly_commit(t);
out:
	if (rv != 0)
		tly_rollback(t);
	free(key);
	for (int i = 0; i < 3; i++)
		free(lists[i]);
	return (rv);
}

int
tally_person_rm(tally *t, const char *id)
{
	sqlite3_stmt *st;
	int           rv;

	if (strcmp(id, t->me) == 0)
		return (tly_seterr(t, TALLY_EPERM, "you cannot remove 'me'"));
	if ((st = tly_stmt(t, "DELETE FROM person WHERE id = ?1")) == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	if ((rv = tly_step_done(t, st, "removing a person")) != 0)
		return (rv);
	if (sqlite3_changes(t->db) == 0)
		return (tly_seterr(t, TALLY_ENOENT, "no person with id %s", id));
	return (0);
}

/* Reads the row at st (PERSON_COLS) and hands it to fn. */
static int
emit(sqlite3_stmt *st, tally_person_fn fn, void *arg)
{
	tally_person p;
	strlist      l[3];
	int          rv;

	memset(&p, 0, sizeof p);
	p.id               = tly_col_text(st, 0);
	p.name             = tly_col_text(st, 1);
	p.org              = tly_col_text(st, 2);
	p.title            = tly_col_text(st, 3);
	p.url              = tly_col_text(st, 4);
	p.how_met          = tly_col_text(st, 5);
	p.referred_by      = tly_col_text(st, 6);
	p.referred_by_name = tly_col_text(st, 7);
	p.note             = tly_col_text(st, 8);
	for (int i = 0; i < 3; i++)
		if ((rv = strlist_load(&l[i], tly_col_text(st, 9 + i))) != 0) {
			while (i-- > 0)
				strlist_free(&l[i]);
			return (rv);
		}
	p.emails.v     = l[0].v;
	p.emails.n     = l[0].n;
	p.phones.v     = l[1].v;
	p.phones.n     = l[1].n;
	p.tags.v       = l[2].v;
	p.tags.n       = l[2].n;
	p.closeness    = sqlite3_column_type(st, 12) == SQLITE_NULL
	       ? TALLY_UNSET
	       : sqlite3_column_int(st, 12);
	p.is_me        = sqlite3_column_int(st, 13);
	p.last_contact = sqlite3_column_int64(st, 14);
	p.created      = sqlite3_column_int64(st, 15);
	p.updated      = sqlite3_column_int64(st, 16);
	rv             = fn(arg, &p);
	for (int i = 0; i < 3; i++)
		strlist_free(&l[i]);
	return (rv);
}

static int
walk(tally *t, sqlite3_stmt *st, tally_person_fn fn, void *arg)
{
	int rc, rv = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((rv = emit(st, fn, arg)) != 0)
			break;
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading people");
	sqlite3_reset(st);
	return (rv);
}

int
tally_person_get(tally *t, const char *id, tally_person_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int           rc, rv = 0;

	st = tly_stmt(t, "SELECT " PERSON_COLS " FROM person p"
	                 " LEFT JOIN person r ON r.id = p.referred_by"
	                 " WHERE p.id = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		rv = emit(st, fn, arg);
	else if (rc == SQLITE_DONE)
		rv = tly_seterr(t, TALLY_ENOENT, "no person with id %s", id);
	else
		rv = tly_dberr(t, "reading a person");
	sqlite3_reset(st);
	return (rv);
}

int
tally_person_list(tally *t, const char *tag, tally_person_fn fn, void *arg)
{
	sqlite3_stmt *st;

	st = tly_stmt(t,
	    "SELECT " PERSON_COLS " FROM person p"
	    " LEFT JOIN person r ON r.id = p.referred_by"
	    " WHERE ?1 IS NULL OR EXISTS (SELECT 1 FROM json_each(p.tags)"
	    "   WHERE lower(value) = lower(?1))"
	    " ORDER BY p.is_me DESC, p.name_key, p.id");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, tag);
	return (walk(t, st, fn, arg));
}
