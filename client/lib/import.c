/*
 * import.c -- tally_import() and tally_export(): format dispatch, and
 * what every importer shares (io_int.h): the transaction, bad-record
 * reports, progress, and adding or completing a person read from a
 * contacts file.
 *
 * The formats live in import_csv.c (LinkedIn, Google), vcard.c and
 * json.c; every importer runs in one transaction (all or nothing unless
 * TALLY_IMPORT_SKIP_BAD) and reports bad records as "FILE:LINE: what".
 *
 * Matching a contact to a person already present, first hit wins: the
 * tally id in a vCard UID, then any email (person_key "e:"), then the
 * profile URL ("u:"), then the case-folded name when exactly one person
 * has it.  A match only fills in what is missing: empty text fields,
 * and emails, phones and tags not there yet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "io_int.h"

int
tally_import(tally *t, tally_import_stats *st, const char *format,
    const char *path, const tally_import_opts *opts)
{
	static const tally_import_opts none = { 0, NULL, NULL, NULL };
	static const struct {
		const char *name;
		int (*fn)(tally *, tally_import_stats *, const char *,
		    const tally_import_opts *);
	} formats[] = {
		{ "linkedin", tly_import_linkedin },
		{ "google", tly_import_google },
		{ "vcard", tly_import_vcard },
		{ "json", tly_import_json },
	};

	memset(st, 0, sizeof *st);
	if (opts == NULL)
		opts = &none;
	if (t->readonly)
		return (tly_seterr(
		    t, TALLY_EREADONLY, "the replica is open read-only"));
	/* A dump brings its own user; the other formats need one. */
	if (t->me[0] == '\0' && strcmp(format, "json") != 0)
		return (tly_seterr(t, TALLY_ENOTINIT,
		    "the replica has no user yet (run 'tally init')"));
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(format, formats[i].name) == 0)
			return (formats[i].fn(t, st, path, opts));
	return (tly_seterr(t, TALLY_EINVAL,
	    "unknown import format '%s' (linkedin, google, vcard, json)",
	    format));
}

int
tally_export(tally *t, const char *format, FILE *out)
{
	if (strcmp(format, "json") == 0)
		return (tly_export_json(t, out));
	if (strcmp(format, "csv") == 0)
		return (tly_export_csv(t, out));
	if (strcmp(format, "vcard") == 0)
		return (tly_export_vcard(t, out));
	return (tly_seterr(t, TALLY_EINVAL,
	    "unknown export format '%s' (json, csv, vcard)", format));
}

/* -- The run of an import --------------------------------------------- */

int
tly_imp_open(tally *t, const char *path, FILE **fp)
{
	struct stat sb;
	int         e;

	if ((*fp = fopen(path, "rb")) == NULL) {
		e = errno;
		return (tly_seterr(t,
		    e == ENOENT       ? TALLY_ENOENT
		        : e == EACCES ? TALLY_EPERM
		                      : TALLY_EIO,
		    "cannot read %s: %s", path, strerror(e)));
	}
	if (fstat(fileno(*fp), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		fclose(*fp);
		*fp = NULL;
		return (tly_seterr(t, TALLY_EIO, "cannot read %s: %s", path,
		    strerror(EISDIR)));
	}
	return (0);
}

int
tly_imp_begin(tly_imp *im, tally *t, tally_import_stats *st, const char *path,
    const tally_import_opts *o)
{
	memset(im, 0, sizeof *im);
	im->t             = t;
	im->st            = st;
	im->o             = o;
	im->path          = path;
	im->next_progress = TLY_IO_PROGRESS;
	memcpy(im->old_me, t->me, sizeof im->old_me);
	return (tly_begin(t));
}

int
tly_imp_end(tly_imp *im, int rv)
{
	tally *t = im->t;

	if (im->o->progress != NULL && im->st->rows > 0)
		im->o->progress(im->o->arg, im->st->rows, 0);
	if (rv == 0 && im->st->bad > 0 &&
	    !(im->o->flags & TALLY_IMPORT_SKIP_BAD))
		rv = tly_seterr(t, TALLY_EFORMAT,
		    "%s: %zu bad record%s, nothing imported (--skip-bad "
		    "imports the others)",
		    im->path, im->st->bad, im->st->bad == 1 ? "" : "s");
	if (rv != 0 || (im->o->flags & TALLY_IMPORT_DRY_RUN)) {
		tly_rollback(t);
		memcpy(t->me, im->old_me, sizeof t->me);
		return (rv);
	}
	if ((rv = tly_commit(t)) != 0)
		memcpy(t->me, im->old_me, sizeof t->me);
	return (rv);
}

void
tly_imp_record(tly_imp *im)
{
	im->st->rows++;
	if (im->st->rows >= im->next_progress) {
		im->next_progress += TLY_IO_PROGRESS;
		if (im->o->progress != NULL)
			im->o->progress(im->o->arg, im->st->rows, 0);
	}
}

void
tly_imp_bad(tly_imp *im, unsigned long line, const char *fmt, ...)
{
	char    msg[600];
	int     n;
	va_list ap;

	im->st->bad++;
	if (im->o->bad == NULL)
		return;
	n = snprintf(msg, sizeof msg, "%s:%lu: ", im->path, line);
	if (n < 0 || (size_t) n >= sizeof msg)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t) n, fmt, ap);
	va_end(ap);
	im->o->bad(im->o->arg, msg);
}

/* -- Lists and contacts ----------------------------------------------- */

int
tly_strv_add(tly_strv *v, const char *s, size_t n)
{
	char *p;

	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4;
		char **nv  = realloc(v->v, cap * sizeof *nv);
		if (nv == NULL)
			return (TALLY_ENOMEM);
		v->v   = nv;
		v->cap = cap;
	}
	if ((p = malloc(n + 1)) == NULL)
		return (TALLY_ENOMEM);
	memcpy(p, s, n);
	p[n]         = '\0';
	v->v[v->n++] = p;
	return (0);
}

void
tly_strv_free(tly_strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	memset(v, 0, sizeof *v);
}

void
tly_contact_reset(tly_contact *c, unsigned long line)
{
	free(c->name);
	free(c->org);
	free(c->title);
	free(c->url);
	free(c->how_met);
	free(c->note);
	tly_strv_free(&c->emails);
	tly_strv_free(&c->phones);
	tly_strv_free(&c->tags);
	memset(c, 0, sizeof *c);
	c->line = line;
}

void
tly_contact_badf(tly_contact *c, const char *fmt, ...)
{
	va_list ap;

	if (c->bad[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(c->bad, sizeof c->bad, fmt, ap);
	va_end(ap);
}

static int
is_blank(int ch)
{
	return (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n');
}

/* Trims s[0..*n) in place of its pointers; returns the new start. */
static const char *
trim(const char *s, size_t *n)
{
	while (*n > 0 && is_blank((unsigned char) s[0])) {
		s++;
		(*n)--;
	}
	while (*n > 0 && is_blank((unsigned char) s[*n - 1]))
		(*n)--;
	return (s);
}

int
tly_contact_text(
    tly_contact *c, char **field, const char *what, const char *s, size_t n)
{
	s = trim(s, &n);
	if (n == 0 || *field != NULL)
		return (0);
	if (memchr(s, '\0', n) != NULL) {
		tly_contact_badf(c, "%s contains a NUL byte", what);
		return (0);
	}
	if ((*field = malloc(n + 1)) == NULL)
		return (TALLY_ENOMEM);
	memcpy(*field, s, n);
	(*field)[n] = '\0';
	return (0);
}

int
tly_contact_item(
    tly_contact *c, tly_strv *l, const char *what, const char *s, size_t n)
{
	s = trim(s, &n);
	if (n == 0)
		return (0);
	if (memchr(s, '\0', n) != NULL) {
		tly_contact_badf(c, "%s contains a NUL byte", what);
		return (0);
	}
	if (l->n >= TLY_IO_MAX_LIST) {
		tly_contact_badf(c, "more than %d %ss", TLY_IO_MAX_LIST, what);
		return (0);
	}
	return (tly_strv_add(l, s, n));
}

/* Returns a message if s (a field called what) cannot be stored. */
static const char *
text_problem(
    const char *what, const char *s, size_t max, char *msg, size_t msgsz)
{
	size_t n;

	if (s == NULL)
		return (NULL);
	n = strlen(s);
	if (n > max)
		snprintf(msg, msgsz, "%s is too long (%zu bytes, at most %zu)",
		    what, n, max);
	else if (!tly_utf8_valid(s, n))
		snprintf(msg, msgsz, "%s is not valid UTF-8", what);
	else
		return (NULL);
	return (msg);
}

static int
is_email(const char *e)
{
	const char *at = strchr(e, '@');

	return (at != NULL && at != e && at[1] != '\0' &&
	    strchr(at + 1, '@') == NULL && strpbrk(e, " \t\r\n<>,;") == NULL);
}

/* Returns the first reason c cannot be stored, or NULL. */
static const char *
contact_problem(const tly_contact *c, char *msg, size_t msgsz)
{
	static const struct {
		const char *what;
		size_t      off;
	} fields[] = {
		{ "name", offsetof(tly_contact, name) },
		{ "organisation", offsetof(tly_contact, org) },
		{ "title", offsetof(tly_contact, title) },
		{ "url", offsetof(tly_contact, url) },
		{ "how-met", offsetof(tly_contact, how_met) },
		{ "note", offsetof(tly_contact, note) },
	};
	const char *p;

	if (c->bad[0] != '\0')
		return (c->bad);
	if (c->name == NULL)
		return ("no name");
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		const char *s =
		    *(char *const *) ((const char *) c + fields[i].off);
		if ((p = text_problem(fields[i].what, s, TALLY_MAX_TEXT, msg,
		         msgsz)) != NULL)
			return (p);
	}
	for (size_t i = 0; i < c->emails.n; i++) {
		if ((p = text_problem("email", c->emails.v[i], TLY_IO_MAX_ITEM,
		         msg, msgsz)) != NULL)
			return (p);
		if (!is_email(c->emails.v[i])) {
			snprintf(msg, msgsz, "'%.80s' is not an email address",
			    c->emails.v[i]);
			return (msg);
		}
	}
	for (size_t i = 0; i < c->phones.n; i++) {
		if ((p = text_problem("phone", c->phones.v[i], TLY_IO_MAX_ITEM,
		         msg, msgsz)) != NULL)
			return (p);
		if (strpbrk(c->phones.v[i], "0123456789") == NULL) {
			snprintf(msg, msgsz, "'%.80s' is not a phone number",
			    c->phones.v[i]);
			return (msg);
		}
	}
	for (size_t i = 0; i < c->tags.n; i++)
		if ((p = text_problem("tag", c->tags.v[i], TLY_IO_MAX_ITEM,
		         msg, msgsz)) != NULL)
			return (p);
	return (NULL);
}

/* Runs a one-column lookup bound to key; copies a hit to id.  With
 * unique, a hit counts only when it is the only one. */
static int
lookup(tally *t, sqlite3_stmt *st, const char *key, int unique, char *id,
    int *found)
{
	int rc;

	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, key);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(id, TALLY_ID_LEN + 1, "%s", tly_col_text(st, 0));
		*found = !unique || sqlite3_step(st) != SQLITE_ROW;
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(st);
		return (tly_dberr(t, "matching people"));
	}
	sqlite3_reset(st);
	return (0);
}

static int
find_person(tally *t, const tly_contact *c, char *id, int *found)
{
	int   rv;
	char *key;

	*found = 0;
	if (c->uid[0] != '\0' &&
	    (rv = lookup(t, tly_stmt(t, "SELECT id FROM person WHERE id = ?1"),
	         c->uid, 0, id, found)) != 0)
		return (rv);
	for (size_t i = 0; !*found && i < c->emails.n; i++)
		if ((rv = lookup(t,
		         tly_stmt(t,
		             "SELECT person FROM person_key"
		             " WHERE key = 'e:' || lower(trim(?1))"
		             " ORDER BY person LIMIT 1"),
		         c->emails.v[i], 0, id, found)) != 0)
			return (rv);
	if (!*found && c->url != NULL &&
	    (rv = lookup(t,
	         tly_stmt(t,
	             "SELECT person FROM person_key"
	             " WHERE key = 'u:' || " TLY_URL_KEY(
	                 "?1") " ORDER BY person LIMIT 1"),
	         c->url, 0, id, found)) != 0)
		return (rv);
	if (*found)
		return (0);
	if ((key = tly_casefold(c->name)) == NULL)
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	rv = lookup(t,
	    tly_stmt(t,
	        "SELECT id FROM person WHERE name_key = ?1"
	        " ORDER BY id LIMIT 2"),
	    key, 1, id, found);
	free(key);
	return (rv);
}

/* Writes the stored list old with the items of add not in it yet
 * (compared ignoring ASCII case, as person.c does) to out; *changed is
 * set when something was added. */
static int
merge_list(tly_buf *out, const char *old, const tly_strv *add, int *changed)
{
	json_t     *arr = old != NULL ? json_loads(old, 0, NULL) : NULL;
	const char *seen[TLY_IO_MAX_LIST * 2];
	size_t      n  = 0;
	int         rv = 0;

	if (!json_is_array(arr)) {
		json_decref(arr);
		arr = NULL;
	}
	tly_buf_reset(out);
	rv = tly_buf_puts(out, "[");
	for (size_t i = 0; rv == 0 && i < json_array_size(arr) + add->n; i++) {
		const char *s   = i < json_array_size(arr)
		      ? json_string_value(json_array_get(arr, i))
		      : add->v[i - json_array_size(arr)];
		int         dup = s == NULL || *s == '\0';
		for (size_t j = 0; !dup && j < n; j++)
			dup = strcasecmp(s, seen[j]) == 0;
		if (dup || n == sizeof seen / sizeof seen[0])
			continue;
		if (i >= json_array_size(arr))
			*changed = 1;
		if (n > 0)
			rv = tly_buf_puts(out, ",");
		if (rv == 0)
			rv = tly_json_str(out, s, strlen(s));
		seen[n++] = s;
	}
	if (rv == 0)
		rv = tly_buf_puts(out, "]");
	if (rv == 0 && tly_buf_cstr(out) == NULL)
		rv = TALLY_ENOMEM;
	json_decref(arr);
	return (rv);
}

/* Fills in what person id lacks from c. */
static int
complete_person(tly_imp *im, const tly_contact *c, const char *id)
{
	tally        *t = im->t;
	sqlite3_stmt *st;
	tly_buf       lists[3]  = { TLY_BUF_INIT, TLY_BUF_INIT, TLY_BUF_INIT };
	const tly_strv *add[3]  = { &c->emails, &c->phones, &c->tags };
	const char     *mine[5] = { c->org, c->title, c->url, c->how_met,
		    c->note };
	char           *keep[5] = { NULL, NULL, NULL, NULL, NULL };
	int             changed = 0, rv = 0, rc;

	st = tly_stmt(t,
	    "SELECT org, title, url, how_met, note, emails,"
	    " phones, tags FROM person WHERE id = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return (rc == SQLITE_DONE ? tly_seterr(t, TALLY_EINTERNAL,
		                                "person %s vanished", id)
		                          : tly_dberr(t, "matching people"));
	}
	for (int i = 0; i < 5 && rv == 0; i++) {
		const char *old = tly_col_text(st, i);
		if (old != NULL && *old != '\0') {
			if ((keep[i] = strdup(old)) == NULL)
				rv = TALLY_ENOMEM;
		} else if (mine[i] != NULL)
			changed = 1;
	}
	for (int i = 0; i < 3 && rv == 0; i++)
		rv = merge_list(
		    &lists[i], tly_col_text(st, 5 + i), add[i], &changed);
	sqlite3_reset(st);
	if (rv == TALLY_ENOMEM)
		rv = tly_seterr(t, rv, "out of memory");
	if (rv != 0 || !changed) {
		if (rv == 0)
			im->st->same++;
		goto out;
	}
	st = tly_stmt(t,
	    "UPDATE person SET org = ?2, title = ?3, url = ?4,"
	    " how_met = ?5, note = ?6, emails = ?7, phones = ?8,"
	    " tags = ?9, updated = ?10 WHERE id = ?1");
	if (st == NULL) {
		rv = TALLY_EINTERNAL;
		goto out;
	}
	tly_bind_text(st, 1, id);
	for (int i = 0; i < 5; i++)
		tly_bind_text(st, 2 + i, keep[i] != NULL ? keep[i] : mine[i]);
	for (int i = 0; i < 3; i++)
		tly_bind_text(st, 7 + i, (const char *) lists[i].p);
	sqlite3_bind_int64(st, 10, tly_now());
	if ((rv = tly_step_done(t, st, "completing a person")) == 0)
		im->st->updated++;
out:
	for (int i = 0; i < 5; i++)
		free(keep[i]);
	for (int i = 0; i < 3; i++)
		tly_buf_free(&lists[i]);
	return (rv);
}

static int
add_person(tly_imp *im, const tly_contact *c)
{
	tally        *t = im->t;
	sqlite3_stmt *st;
	tly_buf       lists[3] = { TLY_BUF_INIT, TLY_BUF_INIT, TLY_BUF_INIT };
	const tly_strv *add[3] = { &c->emails, &c->phones, &c->tags };
	char            id[TALLY_ID_LEN + 1], *key;
	int             changed = 0, rv = 0;
	int64_t         now = tly_now();

	if ((key = tly_casefold(c->name)) == NULL)
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	for (int i = 0; i < 3 && rv == 0; i++)
		rv = merge_list(&lists[i], NULL, add[i], &changed);
	if (rv != 0) {
		rv = tly_seterr(t, rv, "out of memory");
		goto out;
	}
	st = tly_stmt(t,
	    "INSERT INTO person(id, name, name_key, org, title, url, how_met,"
	    " note, emails, phones, tags, created, updated) VALUES (?1, ?2,"
	    " ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)");
	if (st == NULL) {
		rv = TALLY_EINTERNAL;
		goto out;
	}
	tly_id_new(id);
	tly_bind_text(st, 1, id);
	tly_bind_text(st, 2, c->name);
	tly_bind_text(st, 3, key);
	tly_bind_text(st, 4, c->org);
	tly_bind_text(st, 5, c->title);
	tly_bind_text(st, 6, c->url);
	tly_bind_text(st, 7, c->how_met);
	tly_bind_text(st, 8, c->note);
	for (int i = 0; i < 3; i++)
		tly_bind_text(st, 9 + i, (const char *) lists[i].p);
	sqlite3_bind_int64(st, 12, now);
	if ((rv = tly_step_done(t, st, "adding a person")) == 0)
		im->st->added++;
out:
	free(key);
	for (int i = 0; i < 3; i++)
		tly_buf_free(&lists[i]);
	return (rv);
}

int
tly_imp_contact(tly_imp *im, tly_contact *c)
{
	char        msg[256], id[TALLY_ID_LEN + 1];
	const char *why;
	int         found, rv;

	if ((why = contact_problem(c, msg, sizeof msg)) != NULL) {
		tly_imp_bad(im, c->line, "%s", why);
		return (0);
	}
	if ((rv = find_person(im->t, c, id, &found)) != 0)
		return (rv);
	if (found)
		return (complete_person(im, c, id));
	return (add_person(im, c));
}
