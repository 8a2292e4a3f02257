/*
 * import_csv.c -- contacts from CSV files (LinkedIn Connections.csv and
 * Google Contacts, both header variants) with libcsv, and `tally export
 * csv`.
 *
 * The file is fed to libcsv one line at a time, so that each record
 * knows the line where it starts (a quoted field may span lines).  The
 * header is found by its content among the first CSV_HEADER_SCAN
 * records (LinkedIn puts a "Notes:" preamble before it), columns are
 * mapped by name, and every later record must have as many fields as
 * the header.  Limits: a field is at most CSV_MAX_FIELD bytes (more
 * ends the import: the file is not CSV), a record at most CSV_MAX_FIELDS
 * fields and CSV_MAX_RECORD bytes (more makes it a bad record).
 *
 * LinkedIn: First Name, Last Name, URL, Email Address, Company,
 * Position, Connected On ("12 Mar 2024"); rows of members who left
 * LinkedIn (no name, nothing but a URL or a date) are skipped.  People
 * are tagged "linkedin" and how_met says when we connected.
 * Google: First/Middle/Last Name or Name, Given/Additional/Family Name;
 * Organization Name/Title or Organization 1 - Name/Title; E-mail N,
 * Phone N, Website N - Value; Notes; Labels or Group Membership (system
 * labels such as "* myContacts" are not tags).  A cell may hold several
 * values separated by " ::: ".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <csv.h>
#include <jansson.h>

#include "io_int.h"

#define CSV_MAX_FIELD (1024 * 1024)      /* bytes in one field */
#define CSV_MAX_FIELDS 1024              /* fields in one record */
#define CSV_MAX_RECORD (8 * 1024 * 1024) /* bytes in one record */
#define CSV_HEADER_SCAN 100              /* records searched for it */
#define CSV_MULTI " ::: "                /* several values in a cell */

enum csv_kind { CSV_LINKEDIN, CSV_GOOGLE };

/* Columns we read; a missing one is -1. */
enum {
	C_FIRST,
	C_MIDDLE,
	C_LAST,
	C_FULL,
	C_NICK,
	C_FILE_AS,
	C_URL,
	C_EMAIL,
	C_COMPANY,
	C_POSITION,
	C_CONNECTED,
	C_NOTES,
	C_LABELS,
	C_NCOLS
};

#define CSV_MAX_MULTI 32 /* E-mail 1..N, Phone 1..N, Website 1..N */

typedef struct csvrec {
	tly_buf       data; /* the fields, each NUL-terminated */
	size_t       *off;  /* where field i starts in data */
	size_t       *len;
	size_t        n, cap;
	int           over; /* more than CSV_MAX_FIELDS or _RECORD */
	unsigned long line; /* where it starts */
} csvrec;

typedef struct csvimp {
	tly_imp           im;
	enum csv_kind     kind;
	struct csv_parser cp;
	csvrec            rec;
	tly_contact       c;
	int               open;    /* a record has begun */
	unsigned long     line;    /* the line being fed */
	unsigned long     pending; /* first non-blank line since a record */
	int               rv;      /* a failure that ends the import */
	size_t            scanned; /* records read looking for the header */
	size_t            ncols;   /* fields in the header; 0 before it */
	int               col[C_NCOLS];
	int               emails[CSV_MAX_MULTI], phones[CSV_MAX_MULTI];
	int               sites[CSV_MAX_MULTI];
	size_t            nemails, nphones, nsites;
} csvimp;

static void *
bounded_realloc(void *p, size_t n)
{
	if (n > CSV_MAX_FIELD + 65536)
		return (NULL);
	return (realloc(p, n));
}

/* -- Records ---------------------------------------------------------- */

static void
on_field(void *s, size_t n, void *arg)
{
	csvimp *x = arg;
	csvrec *r = &x->rec;

	if (x->rv != 0)
		return;
	if (!x->open) {
		x->open = 1;
		r->line = x->pending != 0 ? x->pending : x->line;
		r->n    = 0;
		r->over = 0;
		tly_buf_reset(&r->data);
	}
	if (r->over || r->n == CSV_MAX_FIELDS ||
	    r->data.len + n + 1 > CSV_MAX_RECORD) {
		r->over = 1;
		return;
	}
	if (r->n == r->cap) {
		size_t  cap = r->cap ? r->cap * 2 : 32;
		size_t *o   = realloc(r->off, cap * sizeof *o);
		size_t *l   = o ? realloc(r->len, cap * sizeof *l) : NULL;
		if (o != NULL)
			r->off = o;
		if (l == NULL) {
			x->rv =
			    tly_seterr(x->im.t, TALLY_ENOMEM, "out of memory");
			return;
		}
		r->len = l;
		r->cap = cap;
	}
	r->off[r->n] = r->data.len;
	r->len[r->n] = n;
	if (tly_buf_append(&r->data, s, n) != 0 ||
	    tly_buf_append(&r->data, "", 1) != 0) {
		x->rv = tly_seterr(x->im.t, TALLY_ENOMEM, "out of memory");
		return;
	}
	r->n++;
}

static const char *
field(const csvimp *x, int col, size_t *n)
{
	const csvrec *r = &x->rec;

	if (col < 0 || (size_t) col >= r->n) {
		*n = 0;
		return ("");
	}
	*n = r->len[col];
	return ((const char *) r->data.p + r->off[col]);
}

/* Compares a header cell with name, ignoring case and white space
 * around it. */
static int
is_col(const char *cell, size_t n, const char *name)
{
	size_t k = strlen(name);

	while (n > 0 && (*cell == ' ' || *cell == '\t')) {
		cell++;
		n--;
	}
	while (n > 0 && (cell[n - 1] == ' ' || cell[n - 1] == '\t'))
		n--;
	return (n == k && strncasecmp(cell, name, k) == 0);
}

/* Matches "PREFIX N - Value" (N a small number). */
static int
is_multi_col(const char *cell, size_t n, const char *prefix)
{
	size_t k = strlen(prefix), i;

	if (n <= k || strncasecmp(cell, prefix, k) != 0)
		return (0);
	for (i = k; i < n && cell[i] >= '0' && cell[i] <= '9'; i++)
		;
	return (i > k && i - k <= 3 && n - i == 8 &&
	    strncasecmp(cell + i, " - Value", 8) == 0);
}

/* Looks for the header in the current record; maps columns. */
static int
take_header(csvimp *x)
{
	static const struct {
		int         col;
		const char *name;
	} names[] = {
		{ C_FIRST, "First Name" },
		{ C_FIRST, "Given Name" },
		{ C_MIDDLE, "Middle Name" },
		{ C_MIDDLE, "Additional Name" },
		{ C_LAST, "Last Name" },
		{ C_LAST, "Family Name" },
		{ C_FULL, "Name" },
		{ C_NICK, "Nickname" },
		{ C_FILE_AS, "File As" },
		{ C_URL, "URL" },
		{ C_EMAIL, "Email Address" },
		{ C_COMPANY, "Company" },
		{ C_COMPANY, "Organization Name" },
		{ C_COMPANY, "Organization 1 - Name" },
		{ C_POSITION, "Position" },
		{ C_POSITION, "Organization Title" },
		{ C_POSITION, "Organization 1 - Title" },
		{ C_CONNECTED, "Connected On" },
		{ C_NOTES, "Notes" },
		{ C_LABELS, "Labels" },
		{ C_LABELS, "Group Membership" },
	};
	const csvrec *r = &x->rec;
	size_t        n;
	int           ok;

	for (int i = 0; i < C_NCOLS; i++)
		x->col[i] = -1;
	x->nemails = x->nphones = x->nsites = 0;
	for (size_t i = 0; i < r->n; i++) {
		const char *cell = field(x, (int) i, &n);
		for (size_t j = 0; j < sizeof names / sizeof names[0]; j++)
			if (x->col[names[j].col] < 0 &&
			    is_col(cell, n, names[j].name))
				x->col[names[j].col] = (int) i;
		if (is_multi_col(cell, n, "E-mail ") &&
		    x->nemails < CSV_MAX_MULTI)
			x->emails[x->nemails++] = (int) i;
		if (is_multi_col(cell, n, "Phone ") &&
		    x->nphones < CSV_MAX_MULTI)
			x->phones[x->nphones++] = (int) i;
		if (is_multi_col(cell, n, "Website ") &&
		    x->nsites < CSV_MAX_MULTI)
			x->sites[x->nsites++] = (int) i;
	}
	if (x->kind == CSV_LINKEDIN)
		ok = x->col[C_FIRST] >= 0 && x->col[C_LAST] >= 0 &&
		    x->col[C_URL] >= 0 && x->col[C_CONNECTED] >= 0;
	else
		ok = (x->col[C_FIRST] >= 0 && x->col[C_LAST] >= 0 &&
		         (x->nemails > 0 || x->nphones > 0 ||
		             x->col[C_LABELS] >= 0)) ||
		    (x->col[C_FULL] >= 0 && x->col[C_FIRST] >= 0 &&
		        x->col[C_LAST] >= 0);
	if (ok)
		x->ncols = r->n;
	return (ok);
}

/* Parses "12 Mar 2024" (or "2024-03-12") into out (YYYY-MM-DD). */
static int
parse_date(const char *s, size_t n, char *out)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	static const int  mdays[]  = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		  30, 31 };
	char              buf[32];
	int               d = 0, m = 0, y = 0, i = 0;

	if (n == 0 || n >= sizeof buf)
		return (-1);
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (n == 10 && buf[4] == '-' && buf[7] == '-') {
		for (i = 0; i < 10; i++)
			if (i != 4 && i != 7 && (buf[i] < '0' || buf[i] > '9'))
				return (-1);
		y = atoi(buf);
		m = atoi(buf + 5);
		d = atoi(buf + 8);
	} else {
		while (buf[i] >= '0' && buf[i] <= '9' && i < 2)
			d = d * 10 + (buf[i++] - '0');
		if (i == 0 || buf[i++] != ' ')
			return (-1);
		for (int k = 0; k < 12 && m == 0; k++)
			if (strncasecmp(buf + i, months + 3 * k, 3) == 0)
				m = k + 1;
		if (m == 0 || buf[i + 3] != ' ')
			return (-1);
		i += 4;
		for (int k = 0; k < 4; k++, i++) {
			if (buf[i] < '0' || buf[i] > '9')
				return (-1);
			y = y * 10 + (buf[i] - '0');
		}
		if (buf[i] != '\0')
			return (-1);
	}
	if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1] ||
	    (m == 2 && d == 29 &&
	        !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
		return (-1);
	snprintf(out, TLY_DATE_LEN, "%04u-%02u-%02u", (unsigned) y % 10000u,
	    (unsigned) m % 100u, (unsigned) d % 100u);
	return (0);
}

/* Adds each " ::: "-separated value of s[0..n) to l; with sys_labels
 * dropped, values starting with "* " (Google's own labels) are not. */
static int
add_multi(csvimp *x, tly_strv *l, const char *what, const char *s, size_t n,
    int sys_labels)
{
	const size_t k = sizeof CSV_MULTI - 1;
	int          rv;

	while (n > 0) {
		const char *end = s;
		size_t      len;
		/* find the next separator within s[0..n) */
		while ((size_t) (end - s) + k <= n &&
		    memcmp(end, CSV_MULTI, k) != 0)
			end++;
		len = (size_t) (end - s) + k <= n ? (size_t) (end - s) : n;
		if (!(sys_labels && len >= 2 && s[0] == '*' && s[1] == ' ') &&
		    (rv = tly_contact_item(&x->c, l, what, s, len)) != 0)
			return (rv);
		if (len == n)
			break;
		s += len + k;
		n -= len + k;
	}
	return (0);
}

/* Sets c->name from the name columns. */
static int
take_name(csvimp *x)
{
	tly_buf     b       = TLY_BUF_INIT;
	const int   parts[] = { C_FIRST, C_MIDDLE, C_LAST };
	const char *s;
	size_t      n;
	int         rv = 0;

	if (x->kind == CSV_GOOGLE) {
		s = field(x, x->col[C_FULL], &n);
		if ((rv = tly_contact_text(&x->c, &x->c.name, "name", s, n)) !=
		        0 ||
		    x->c.name != NULL)
			return (rv);
	}
	for (size_t i = 0; i < sizeof parts / sizeof parts[0] && rv == 0;
	     i++) {
		s = field(x, x->col[parts[i]], &n);
		while (n > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			n--;
		}
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n == 0)
			continue;
		if (b.len > 0)
			rv = tly_buf_append(&b, " ", 1);
		if (rv == 0)
			rv = tly_buf_append(&b, s, n);
	}
	if (rv == 0 && b.len > 0)
		rv = tly_contact_text(
		    &x->c, &x->c.name, "name", (const char *) b.p, b.len);
	tly_buf_free(&b);
	if (rv != 0)
		return (tly_seterr(x->im.t, TALLY_ENOMEM, "out of memory"));
	if (x->kind == CSV_GOOGLE && x->c.name == NULL) {
		s = field(x, x->col[C_NICK], &n);
		if ((rv = tly_contact_text(&x->c, &x->c.name, "name", s, n)) ==
		    0) {
			s  = field(x, x->col[C_FILE_AS], &n);
			rv = tly_contact_text(&x->c, &x->c.name, "name", s, n);
		}
	}
	return (rv);
}

static int
is_blank_field(csvimp *x, int col)
{
	size_t      n;
	const char *s = field(x, col, &n);

	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return (0);
	return (1);
}

static int
linkedin_record(csvimp *x)
{
	tly_contact *c = &x->c;
	const char  *s;
	size_t       n;
	char         date[TLY_DATE_LEN], how[64];
	int          rv;

	if ((rv = take_name(x)) != 0)
		return (rv);
	if (c->name == NULL && c->bad[0] == '\0' &&
	    is_blank_field(x, x->col[C_EMAIL]) &&
	    is_blank_field(x, x->col[C_COMPANY]) &&
	    is_blank_field(x, x->col[C_POSITION])) {
		x->im.st->skipped++; /* a member who left LinkedIn */
		return (0);
	}
	s = field(x, x->col[C_URL], &n);
	if ((rv = tly_contact_text(c, &c->url, "URL", s, n)) != 0)
		return (rv);
	s = field(x, x->col[C_COMPANY], &n);
	if ((rv = tly_contact_text(c, &c->org, "Company", s, n)) != 0)
		return (rv);
	s = field(x, x->col[C_POSITION], &n);
	if ((rv = tly_contact_text(c, &c->title, "Position", s, n)) != 0)
		return (rv);
	s = field(x, x->col[C_EMAIL], &n);
	if ((rv = tly_contact_item(c, &c->emails, "email", s, n)) != 0)
		return (rv);
	s = field(x, x->col[C_CONNECTED], &n);
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0)
		snprintf(how, sizeof how, "LinkedIn");
	else if (parse_date(s, n, date) == 0)
		snprintf(how, sizeof how, "LinkedIn, connected %s", date);
	else {
		tly_contact_badf(c,
		    "malformed date '%.*s' in Connected On "
		    "(expected like 12 Mar 2024)",
		    (int) (n > 40 ? 40 : n), s);
		how[0] = '\0';
	}
	if ((rv = tly_contact_text(
	         c, &c->how_met, "how-met", how, strlen(how))) != 0 ||
	    (rv = tly_contact_item(c, &c->tags, "tag", "linkedin", 8)) != 0)
		return (rv);
	return (tly_imp_contact(&x->im, c));
}

static int
google_record(csvimp *x)
{
	tly_contact *c = &x->c;
	tly_strv     sites;
	const char  *s;
	size_t       n;
	int          rv;

	if ((rv = take_name(x)) != 0)
		return (rv);
	s = field(x, x->col[C_COMPANY], &n);
	if ((rv = tly_contact_text(c, &c->org, "Organization Name", s, n)) !=
	    0)
		return (rv);
	s = field(x, x->col[C_POSITION], &n);
	if ((rv = tly_contact_text(
	         c, &c->title, "Organization Title", s, n)) != 0)
		return (rv);
	s = field(x, x->col[C_NOTES], &n);
	if ((rv = tly_contact_text(c, &c->note, "Notes", s, n)) != 0)
		return (rv);
	for (size_t i = 0; i < x->nemails; i++) {
		s = field(x, x->emails[i], &n);
		if ((rv = add_multi(x, &c->emails, "email", s, n, 0)) != 0)
			return (rv);
	}
	for (size_t i = 0; i < x->nphones; i++) {
		s = field(x, x->phones[i], &n);
		if ((rv = add_multi(x, &c->phones, "phone", s, n, 0)) != 0)
			return (rv);
	}
	s = field(x, x->col[C_LABELS], &n);
	if ((rv = add_multi(x, &c->tags, "tag", s, n, 1)) != 0)
		return (rv);
	/* One profile URL: LinkedIn's if there is one, else the first. */
	memset(&sites, 0, sizeof sites);
	for (size_t i = 0; i < x->nsites && rv == 0; i++) {
		s  = field(x, x->sites[i], &n);
		rv = add_multi(x, &sites, "website", s, n, 0);
	}
	for (size_t i = 0; rv == 0 && i < sites.n && c->url == NULL; i++)
		if (strstr(sites.v[i], "linkedin.com/") != NULL)
			rv = tly_contact_text(c, &c->url, "Website",
			    sites.v[i], strlen(sites.v[i]));
	if (rv == 0 && sites.n > 0 && c->url == NULL)
		rv = tly_contact_text(
		    c, &c->url, "Website", sites.v[0], strlen(sites.v[0]));
	tly_strv_free(&sites);
	if (rv != 0)
		return (rv);
	return (tly_imp_contact(&x->im, c));
}

/* The record in x->rec is complete. */
static int
record(csvimp *x)
{
	csvrec *r     = &x->rec;
	int     empty = 1;

	for (size_t i = 0; i < r->n && empty; i++)
		empty = is_blank_field(x, (int) i);
	if (x->ncols == 0) {
		if (!take_header(x) && ++x->scanned >= CSV_HEADER_SCAN)
			return (-1); /* no header: reported by the caller */
		return (0);
	}
	if (empty && !r->over)
		return (0); /* a line of empty cells */
	tly_imp_record(&x->im);
	if (r->over) {
		tly_imp_bad(&x->im, r->line,
		    "record too long (more than %d fields or %d bytes)",
		    CSV_MAX_FIELDS, CSV_MAX_RECORD);
		return (0);
	}
	if (r->n != x->ncols) {
		tly_imp_bad(&x->im, r->line, "expected %zu fields, got %zu",
		    x->ncols, r->n);
		return (0);
	}
	tly_contact_reset(&x->c, r->line);
	return (
	    x->kind == CSV_LINKEDIN ? linkedin_record(x) : google_record(x));
}

static void
on_record(int c, void *arg)
{
	csvimp *x = arg;
	int     rv;

	(void) c;
	if (x->rv != 0)
		return;
	if (!x->open) /* a record of no fields cannot happen; be safe */
		return;
	x->open    = 0;
	x->pending = 0;
	if ((rv = record(x)) != 0)
		x->rv = rv;
}

/* -- The file --------------------------------------------------------- */

static int
no_header(csvimp *x, const char *path)
{
	if (x->kind == CSV_LINKEDIN)
		return (tly_seterr(x->im.t, TALLY_EFORMAT,
		    "%s is not a LinkedIn Connections.csv (no header with "
		    "First Name, Last Name, URL and Connected On)",
		    path));
	return (tly_seterr(x->im.t, TALLY_EFORMAT,
	    "%s is not a Google Contacts CSV (no header with First Name, "
	    "Last Name and E-mail 1 - Value, or Name, Given Name and Family "
	    "Name)",
	    path));
}

/* Feeds one piece of a line (ending at a LF, or not). */
static int
feed(csvimp *x, const char *s, size_t n)
{
	if (!x->open && x->pending == 0)
		for (size_t i = 0; i < n; i++)
			if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
			    s[i] != '\n') {
				x->pending = x->line;
				break;
			}
	if (csv_parse(&x->cp, s, n, on_field, on_record, x) != n) {
		if (x->rv == 0)
			x->rv = tly_seterr(x->im.t, TALLY_EFORMAT,
			    "%s:%lu: a field is longer than %d bytes: is this "
			    "a CSV file?",
			    x->im.path, x->line, CSV_MAX_FIELD);
		return (x->rv);
	}
	return (x->rv);
}

static int
import_csv(tally *t, tally_import_stats *st, const char *path,
    const tally_import_opts *o, enum csv_kind kind)
{
	csvimp x;
	FILE  *f;
	char  *buf;
	size_t n;
	int    rv, first = 1;

	memset(&x, 0, sizeof x);
	x.kind = kind;
	x.line = 1;
	if ((rv = tly_imp_open(t, path, &f)) != 0)
		return (rv);
	if ((buf = malloc(TLY_IO_CHUNK)) == NULL || csv_init(&x.cp, 0) != 0) {
		free(buf);
		fclose(f);
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	}
	csv_set_realloc_func(&x.cp, bounded_realloc);
	csv_set_blk_size(&x.cp, 65536);
	if ((rv = tly_imp_begin(&x.im, t, st, path, o)) != 0)
		goto out;
	while (rv == 0 && (n = fread(buf, 1, TLY_IO_CHUNK, f)) > 0) {
		char *p = buf, *end = buf + n;
		if (first) {
			first = 0;
			if (n >= 2 &&
			    ((buf[0] == '\xff' && buf[1] == '\xfe') ||
			        (buf[0] == '\xfe' && buf[1] == '\xff'))) {
				rv = tly_seterr(t, TALLY_EFORMAT,
				    "%s is UTF-16: save it as UTF-8 and "
				    "import it again",
				    path);
				break;
			}
			if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
				p += 3; /* a byte order mark */
		}
		while (rv == 0 && p < end) {
			char *nl = memchr(p, '\n', (size_t) (end - p));
			char *e  = nl != NULL ? nl + 1 : end;
			rv       = feed(&x, p, (size_t) (e - p));
			if (nl != NULL)
				x.line++;
			p = e;
		}
	}
	if (rv == 0 && ferror(f))
		rv = tly_seterr(
		    t, TALLY_EIO, "reading %s: %s", path, strerror(errno));
	if (rv == 0) {
		/* An open quote at the end of the file is an error. */
		csv_set_opts(&x.cp, CSV_STRICT | CSV_STRICT_FINI);
		if (csv_fini(&x.cp, on_field, on_record, &x) != 0 &&
		    x.rv == 0) {
			x.im.st->rows++;
			tly_imp_bad(&x.im, x.pending ? x.pending : x.rec.line,
			    "a quoted field is not closed (a '\"' is "
			    "missing)");
		}
		rv = x.rv;
	}
	if (rv == -1 || (rv == 0 && x.ncols == 0))
		rv = no_header(&x, path);
	rv = tly_imp_end(&x.im, rv);
out:
	csv_free(&x.cp);
	free(buf);
	fclose(f);
	tly_contact_reset(&x.c, 0);
	tly_buf_free(&x.rec.data);
	free(x.rec.off);
	free(x.rec.len);
	return (rv);
}

int
tly_import_linkedin(tally *t, tally_import_stats *st, const char *path,
    const tally_import_opts *o)
{
	return (import_csv(t, st, path, o, CSV_LINKEDIN));
}

int
tly_import_google(tally *t, tally_import_stats *st, const char *path,
    const tally_import_opts *o)
{
	return (import_csv(t, st, path, o, CSV_GOOGLE));
}

/* -- Export ----------------------------------------------------------- */

/* Writes the stored JSON list joined with " ::: ". */
static int
put_list(FILE *f, const char *stored)
{
	json_t *arr = stored != NULL ? json_loads(stored, 0, NULL) : NULL;
	tly_buf b   = TLY_BUF_INIT;
	int     rv  = 0;

	for (size_t i = 0; json_is_array(arr) && i < json_array_size(arr);
	     i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		if (s == NULL)
			continue;
		if ((b.len > 0 && tly_buf_puts(&b, CSV_MULTI) != 0) ||
		    tly_buf_puts(&b, s) != 0) {
			rv = TALLY_ENOMEM;
			break;
		}
	}
	json_decref(arr);
	if (rv == 0 && csv_fwrite(f, b.p != NULL ? (void *) b.p : "", b.len))
		rv = TALLY_EIO;
	tly_buf_free(&b);
	return (rv);
}

static int
put_text(FILE *f, const char *s)
{
	return (csv_fwrite(f, s != NULL ? s : "", s != NULL ? strlen(s) : 0)
	        ? TALLY_EIO
	        : 0);
}

static int
put_time(FILE *f, sqlite3_stmt *st, int col)
{
	char iso[TLY_ISO_LEN] = "";

	if (sqlite3_column_int64(st, col) != 0)
		tly_time_iso(sqlite3_column_int64(st, col), iso);
	return (put_text(f, iso));
}

int
tly_export_csv(tally *t, FILE *out)
{
	sqlite3_stmt *st;
	int           rc = SQLITE_DONE, rv = 0;

	st = tly_stmt(t,
	    "SELECT p.id, p.name, p.org, p.title, p.emails, p.phones, p.url,"
	    " p.how_met, r.name, p.tags, p.closeness, p.note, p.last_contact,"
	    " p.created, p.updated FROM person p"
	    " LEFT JOIN person r ON r.id = p.referred_by"
	    " WHERE NOT p.is_me ORDER BY p.name_key, p.id");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	if (fputs("id,name,org,title,emails,phones,url,how_met,referred_by,"
	          "tags,closeness,note,last_contact,created,updated\r\n",
	        out) == EOF)
		rv = TALLY_EIO;
	while (rv == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char close[8] = "";
		if (sqlite3_column_type(st, 10) != SQLITE_NULL)
			snprintf(close, sizeof close, "%d",
			    sqlite3_column_int(st, 10));
		rv = put_text(out, tly_col_text(st, 0));
		for (int i = 1; rv == 0 && i < 15; i++) {
			if (fputc(',', out) == EOF) {
				rv = TALLY_EIO;
				break;
			}
			if (i == 4 || i == 5 || i == 9)
				rv = put_list(out, tly_col_text(st, i));
			else if (i == 10)
				rv = put_text(out, close);
			else if (i >= 12)
				rv = put_time(out, st, i);
			else
				rv = put_text(out, tly_col_text(st, i));
		}
		if (rv == 0 && fputs("\r\n", out) == EOF)
			rv = TALLY_EIO;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_dberr(t, "exporting");
	sqlite3_reset(st);
	if (rv == 0 && fflush(out) != 0)
		rv = TALLY_EIO;
	if (rv == TALLY_EIO)
		return (tly_seterr(
		    t, rv, "writing the export: %s", strerror(errno)));
	if (rv == TALLY_ENOMEM)
		return (tly_seterr(t, rv, "out of memory"));
	return (rv);
}
