/*
 * vcard.c -- contacts from vCard 3.0 (RFC 2426) and 4.0 (RFC 6350)
 * files, and `tally export vcard` (4.0).
 *
 * Reading: physical lines end at LF (a CR before it is dropped); a line
 * starting with a space or a tab continues the one before (folding).
 * Each unfolded line is "[group.]NAME *(;PARAM):VALUE", the ':' being
 * the first one outside double quotes.  A card runs from BEGIN:VCARD to
 * END:VCARD and is reported, when bad, at its BEGIN line.  We read FN
 * (else N), ORG (its first component), TITLE, EMAIL, TEL, URL (a
 * LinkedIn one first), NOTE, CATEGORIES (tags) and UID (a tally id as a
 * urn:uuid matches that person).  Values are unescaped (\n \, \; \\;
 * any other backslash is kept).  vCard 2.1 cards are read too, but a
 * value in quoted-printable makes the card bad: export as 3.0 or 4.0.
 * Limits: an unfolded line keeps at most VC_MAX_LINE bytes; a property
 * we read that is longer makes the card bad, others (PHOTO) are ignored.
 *
 * Writing: one 4.0 card per person other than me, ordered by name,
 * CRLF line ends, text escaped, lines folded at 75 octets without
 * splitting a UTF-8 character.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "io_int.h"

#define VC_MAX_LINE (4 * TALLY_MAX_TEXT) /* bytes kept of a line */
#define VC_FOLD 75                       /* octets per written line */

/* -- Reading lines ---------------------------------------------------- */

typedef struct vline {
	tly_buf       b;    /* the line, at most VC_MAX_LINE bytes, NUL'd */
	size_t        full; /* its length before the cut */
	unsigned long line; /* the physical line it starts on */
} vline;

typedef struct vreader {
	FILE         *f;
	char         *buf;
	size_t        pos, end;
	int           eof;
	int           ioerr;
	unsigned long line; /* of the next physical line */
	vline         look; /* the next physical line, read ahead */
	int           have_look;
} vreader;

static int
vr_fill(vreader *r)
{
	size_t n;

	if (r->eof)
		return (0);
	n      = fread(r->buf, 1, TLY_IO_CHUNK, r->f);
	r->pos = 0;
	r->end = n;
	if (n == 0) {
		r->eof = 1;
		if (ferror(r->f))
			r->ioerr = errno != 0 ? errno : EIO;
		return (0);
	}
	return (1);
}

/* Appends s[0..n) to l, keeping at most VC_MAX_LINE bytes. */
static int
vl_put(vline *l, const char *s, size_t n)
{
	size_t room = l->b.len < VC_MAX_LINE ? VC_MAX_LINE - l->b.len : 0;

	l->full += n;
	return (tly_buf_append(&l->b, s, n < room ? n : room));
}

/* Reads a physical line into l (replacing it).  Returns 1, 0 at the
 * end of the file, or -1 when out of memory. */
static int
vr_phys(vreader *r, vline *l)
{
	int got = 0;

	tly_buf_reset(&l->b);
	l->full = 0;
	l->line = r->line;
	for (;;) {
		const char *s, *nl;
		size_t      k;

		if (r->pos == r->end && !vr_fill(r)) {
			if (!got)
				return (0);
			break;
		}
		got = 1;
		s   = r->buf + r->pos;
		nl  = memchr(s, '\n', r->end - r->pos);
		k   = nl != NULL ? (size_t) (nl - s) : r->end - r->pos;
		if (vl_put(l, s, k) != 0)
			return (-1);
		r->pos += k;
		if (nl != NULL) {
			r->pos++;
			break;
		}
	}
	r->line++;
	if (l->b.len > 0 && l->b.len == l->full &&
	    l->b.p[l->b.len - 1] == '\r') {
		l->b.len--;
		l->full--;
	}
	return (1);
}

/* Reads an unfolded line into out.  Returns 1, 0 at the end, -1 when
 * out of memory. */
static int
vr_line(vreader *r, vline *out)
{
	vline tmp;
	int   rv;

	if (!r->have_look) {
		if ((rv = vr_phys(r, &r->look)) <= 0)
			return (rv);
		r->have_look = 1;
	}
	tmp     = *out; /* swap: out takes the line read ahead */
	*out    = r->look;
	r->look = tmp;
	for (;;) {
		if ((rv = vr_phys(r, &r->look)) < 0)
			return (-1);
		if (rv == 0) {
			r->have_look = 0;
			break;
		}
		if (r->look.b.len == 0 ||
		    (r->look.b.p[0] != ' ' && r->look.b.p[0] != '\t'))
			break;
		if (vl_put(out, (char *) r->look.b.p + 1, r->look.b.len - 1) !=
		    0)
			return (-1);
		out->full += r->look.full - r->look.b.len;
	}
	if (tly_buf_append(&out->b, "", 1) != 0)
		return (-1);
	out->b.len--;
	return (1);
}

/* -- Properties ------------------------------------------------------- */

typedef struct vprop {
	const char *name;   /* without its group; NUL-terminated copy */
	const char *params; /* from the first ';' (may be "") */
	size_t      nparams;
	const char *value;
	size_t      nvalue;
	char        namebuf[32];
} vprop;

/* Splits a line into name, parameters and value.  -1 if there is no
 * ':' outside quotes. */
static int
vc_split_line(const char *s, size_t n, vprop *p)
{
	size_t i, name_end, colon = n;
	int    quoted = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			quoted = !quoted;
		else if (s[i] == ':' && !quoted) {
			colon = i;
			break;
		}
	}
	if (colon == n)
		return (-1);
	for (name_end = 0; name_end < colon && s[name_end] != ';'; name_end++)
		;
	p->params  = s + name_end;
	p->nparams = colon - name_end;
	p->value   = s + colon + 1;
	p->nvalue  = n - colon - 1;
	/* drop a group prefix ("item1.") */
	for (i = name_end; i > 0 && s[i - 1] != '.'; i--)
		;
	if (name_end - i >= sizeof p->namebuf)
		i = name_end - (sizeof p->namebuf - 1); /* unknown anyway */
	memcpy(p->namebuf, s + i, name_end - i);
	p->namebuf[name_end - i] = '\0';
	p->name                  = p->namebuf;
	return (0);
}

/* Returns 1 if the parameters mention word (a bare 2.1 parameter or a
 * value), ignoring case. */
static int
vc_param_has(const vprop *p, const char *word)
{
	size_t k = strlen(word);

	for (size_t i = 0; i + k <= p->nparams; i++)
		if (strncasecmp(p->params + i, word, k) == 0 &&
		    (i == 0 || strchr(";=,\"", p->params[i - 1]) != NULL) &&
		    (i + k == p->nparams ||
		        strchr(";,\"", p->params[i + k]) != NULL))
			return (1);
	return (0);
}

/* Unescapes s[0..n) into b (NUL-terminated). */
static int
vc_unescape(tly_buf *b, const char *s, size_t n)
{
	tly_buf_reset(b);
	if (tly_buf_reserve(b, n + 1) != 0)
		return (TALLY_ENOMEM);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\\' && i + 1 < n) {
			char e = s[++i];
			if (e == 'n' || e == 'N')
				c = '\n';
			else if (e == ',' || e == ';' || e == '\\' || e == ':')
				c = e;
			else {
				b->p[b->len++] = '\\';
				c              = e;
			}
		}
		b->p[b->len++] = (unsigned char) c;
	}
	b->p[b->len] = '\0';
	return (0);
}

/* Returns the length of the first component of s[0..n): up to an
 * unescaped sep. */
static size_t
vc_component(const char *s, size_t n, char sep)
{
	size_t i;

	for (i = 0; i < n && s[i] != sep; i++)
		if (s[i] == '\\')
			i++;
	return (i < n ? i : n);
}

/* -- Cards ------------------------------------------------------------ */

typedef struct vcimp {
	tly_imp       im;
	tly_contact   c;
	tly_buf       tmp;
	tly_strv      urls;
	char         *n_name; /* built from N when there is no FN */
	int           in_card;
	int           cards; /* BEGIN:VCARD seen */
	unsigned long junk;  /* first line of text outside cards */
} vcimp;

static int
card_begin(vcimp *x, unsigned long line)
{
	tly_contact_reset(&x->c, line);
	tly_strv_free(&x->urls);
	free(x->n_name);
	x->n_name  = NULL;
	x->in_card = 1;
	x->cards++;
	if (x->junk != 0) {
		tly_imp_record(&x->im);
		tly_imp_bad(&x->im, x->junk, "text outside a vCard");
	}
	x->junk = 0;
	return (0);
}

static int
card_end(vcimp *x)
{
	tly_contact *c = &x->c;
	int          rv;

	x->in_card = 0;
	tly_imp_record(&x->im);
	if (c->name == NULL && x->n_name != NULL) {
		c->name   = x->n_name;
		x->n_name = NULL;
	}
	/* One profile URL: LinkedIn's if there is one, else the first. */
	for (size_t i = 0; i < x->urls.n && c->url == NULL; i++)
		if (strstr(x->urls.v[i], "linkedin.com/") != NULL &&
		    (rv = tly_contact_text(c, &c->url, "URL", x->urls.v[i],
		         strlen(x->urls.v[i]))) != 0)
			return (rv);
	if (c->url == NULL && x->urls.n > 0 &&
	    (rv = tly_contact_text(
	         c, &c->url, "URL", x->urls.v[0], strlen(x->urls.v[0]))) != 0)
		return (rv);
	return (tly_imp_contact(&x->im, c));
}

/* Adds the values of s[0..n) separated by unescaped sep to l. */
static int
add_list(
    vcimp *x, tly_strv *l, const char *what, const char *s, size_t n, char sep)
{
	int rv;

	for (;;) {
		size_t k = vc_component(s, n, sep);
		if ((rv = vc_unescape(&x->tmp, s, k)) != 0 ||
		    (rv = tly_contact_item(
		         &x->c, l, what, (char *) x->tmp.p, x->tmp.len)) != 0)
			return (rv);
		if (k >= n)
			return (0);
		s += k + 1;
		n -= k + 1;
	}
}

/* Builds a name from N: given, additional and family names. */
static int
name_from_n(vcimp *x, const char *s, size_t n)
{
	const char *part[5];
	size_t      len[5];
	tly_buf     b  = TLY_BUF_INIT;
	int         rv = 0;
	/* N is family;given;additional;prefixes;suffixes: we say the
	 * given, additional and family names, in that order */
	static const int order[3] = { 1, 2, 0 };

	for (int i = 0; i < 5; i++) {
		size_t k = vc_component(s, n, ';');
		part[i]  = s;
		len[i]   = k;
		if (k >= n) {
			s += n;
			n = 0;
		} else {
			s += k + 1;
			n -= k + 1;
		}
	}
	for (int i = 0; i < 3 && rv == 0; i++) {
		const char *p = part[order[i]];
		size_t      k = len[order[i]];
		if ((rv = vc_unescape(&x->tmp, p, k)) != 0)
			break;
		/* several values in one component: keep them, spaced */
		for (size_t j = 0; j < x->tmp.len; j++)
			if (x->tmp.p[j] == ',')
				x->tmp.p[j] = ' ';
		while (x->tmp.len > 0 && x->tmp.p[x->tmp.len - 1] == ' ')
			x->tmp.len--;
		if (x->tmp.len == 0)
			continue;
		if (b.len > 0)
			rv = tly_buf_append(&b, " ", 1);
		if (rv == 0)
			rv = tly_buf_append(&b, x->tmp.p, x->tmp.len);
	}
	if (rv == 0 && b.len > 0)
		rv = tly_contact_text(
		    &x->c, &x->n_name, "N", (char *) b.p, b.len);
	tly_buf_free(&b);
	return (rv);
}

/* Reads a tally id from a UID such as urn:uuid:8-4-4-4-12. */
static void
take_uid(vcimp *x, const char *s, size_t n)
{
	char   id[TALLY_ID_LEN + 1];
	size_t k = 0;

	if (n >= 9 && strncasecmp(s, "urn:uuid:", 9) == 0) {
		s += 9;
		n -= 9;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '-')
			continue;
		if (c >= 'A' && c <= 'F')
			c = (char) (c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) ||
		    k == TALLY_ID_LEN)
			return;
		id[k++] = c;
	}
	if (k != TALLY_ID_LEN)
		return;
	id[k] = '\0';
	memcpy(x->c.uid, id, sizeof id);
}

/* Handles one property line inside a card. */
static int
card_prop(vcimp *x, const vline *l, const vprop *p)
{
	static const char *const used[] = { "FN", "N", "ORG", "TITLE", "EMAIL",
		"TEL", "URL", "NOTE", "CATEGORIES", "UID", "X-SOCIALPROFILE",
		"VERSION", NULL };
	tly_contact             *c      = &x->c;
	const char              *v      = p->value;
	size_t                   n      = p->nvalue, k;
	int                      u      = -1;

	for (int i = 0; used[i] != NULL; i++)
		if (strcasecmp(p->name, used[i]) == 0)
			u = i;
	if (u < 0)
		return (0);
	if (l->full > l->b.len) {
		tly_contact_badf(c, "%s is too long (more than %d bytes)",
		    used[u], VC_MAX_LINE);
		return (0);
	}
	if (vc_param_has(p, "QUOTED-PRINTABLE")) {
		tly_contact_badf(c,
		    "%s is quoted-printable (vCard 2.1), which is not "
		    "supported: export the cards as vCard 3.0 or 4.0",
		    used[u]);
		return (0);
	}
	switch (u) {
	case 0: /* FN */
		if (vc_unescape(&x->tmp, v, n) != 0)
			return (TALLY_ENOMEM);
		return (tly_contact_text(
		    c, &c->name, "FN", (char *) x->tmp.p, x->tmp.len));
	case 1: /* N */
		return (x->n_name == NULL ? name_from_n(x, v, n) : 0);
	case 2: /* ORG */
		k = vc_component(v, n, ';');
		if (vc_unescape(&x->tmp, v, k) != 0)
			return (TALLY_ENOMEM);
		return (tly_contact_text(
		    c, &c->org, "ORG", (char *) x->tmp.p, x->tmp.len));
	case 3: /* TITLE */
		if (vc_unescape(&x->tmp, v, n) != 0)
			return (TALLY_ENOMEM);
		return (tly_contact_text(
		    c, &c->title, "TITLE", (char *) x->tmp.p, x->tmp.len));
	case 4: /* EMAIL */
		if (n >= 7 && strncasecmp(v, "mailto:", 7) == 0) {
			v += 7;
			n -= 7;
		}
		if (vc_unescape(&x->tmp, v, n) != 0)
			return (TALLY_ENOMEM);
		return (tly_contact_item(
		    c, &c->emails, "email", (char *) x->tmp.p, x->tmp.len));
	case 5: /* TEL */
		if (n >= 4 && strncasecmp(v, "tel:", 4) == 0) {
			v += 4;
			n -= 4;
		}
		if (vc_unescape(&x->tmp, v, n) != 0)
			return (TALLY_ENOMEM);
		return (tly_contact_item(
		    c, &c->phones, "phone", (char *) x->tmp.p, x->tmp.len));
	case 6: /* URL */
		if (vc_unescape(&x->tmp, v, n) != 0)
			return (TALLY_ENOMEM);
		return (tly_contact_item(
		    c, &x->urls, "URL", (char *) x->tmp.p, x->tmp.len));
	case 10: /* X-SOCIALPROFILE: a LinkedIn profile only */
		if (vc_unescape(&x->tmp, v, n) != 0)
			return (TALLY_ENOMEM);
		if (strstr((char *) x->tmp.p, "linkedin.com/") == NULL)
			return (0);
		return (tly_contact_item(
		    c, &x->urls, "URL", (char *) x->tmp.p, x->tmp.len));
	case 7: /* NOTE */
		if (vc_unescape(&x->tmp, v, n) != 0)
			return (TALLY_ENOMEM);
		return (tly_contact_text(
		    c, &c->note, "NOTE", (char *) x->tmp.p, x->tmp.len));
	case 8: /* CATEGORIES */
		return (add_list(x, &c->tags, "tag", v, n, ','));
	case 9: /* UID */
		take_uid(x, v, n);
		return (0);
	case 11: /* VERSION */
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (!((n == 3 &&
		        (memcmp(v, "2.1", 3) == 0 ||
		            memcmp(v, "3.0", 3) == 0 ||
		            memcmp(v, "4.0", 3) == 0))))
			tly_contact_badf(c,
			    "vCard version '%.*s' is not "
			    "supported (2.1, 3.0, 4.0)",
			    (int) (n > 20 ? 20 : n), v);
		return (0);
	}
	return (0);
}

static int
is_blank_line(const vline *l)
{
	for (size_t i = 0; i < l->b.len; i++)
		if (l->b.p[i] != ' ' && l->b.p[i] != '\t' && l->b.p[i] != '\r')
			return (0);
	return (1);
}

static int
is_word(const vprop *p, const char *want)
{
	size_t n = p->nvalue;

	while (n > 0 && (p->value[n - 1] == ' ' || p->value[n - 1] == '\t'))
		n--;
	return (n == strlen(want) && strncasecmp(p->value, want, n) == 0);
}

/* Handles one unfolded line. */
static int
vc_line(vcimp *x, const vline *l)
{
	vprop p;
	int   rv;

	memset(&p, 0, sizeof p);
	if (vc_split_line((char *) l->b.p, l->b.len, &p) != 0) {
		if (is_blank_line(l))
			return (0);
		if (x->in_card)
			tly_contact_badf(&x->c,
			    "line %lu is not a vCard "
			    "property",
			    l->line);
		else if (x->junk == 0)
			x->junk = l->line;
		return (0);
	}
	if (strcasecmp(p.name, "BEGIN") == 0 && is_word(&p, "VCARD")) {
		if (x->in_card) {
			tly_imp_record(&x->im);
			tly_imp_bad(
			    &x->im, x->c.line, "the card has no END:VCARD");
		}
		return (card_begin(x, l->line));
	}
	if (strcasecmp(p.name, "END") == 0 && is_word(&p, "VCARD")) {
		if (x->in_card)
			return (card_end(x));
		tly_imp_record(&x->im);
		tly_imp_bad(&x->im, l->line, "END:VCARD without BEGIN:VCARD");
		return (0);
	}
	if (!x->in_card) {
		if (x->junk == 0)
			x->junk = l->line;
		return (0);
	}
	if ((rv = card_prop(x, l, &p)) == TALLY_ENOMEM)
		return (tly_seterr(x->im.t, rv, "out of memory"));
	return (rv);
}

int
tly_import_vcard(tally *t, tally_import_stats *st, const char *path,
    const tally_import_opts *o)
{
	vcimp   x;
	vreader r;
	vline   l;
	int     rv, got;

	memset(&x, 0, sizeof x);
	memset(&r, 0, sizeof r);
	memset(&l, 0, sizeof l);
	r.line = 1;
	if ((rv = tly_imp_open(t, path, &r.f)) != 0)
		return (rv);
	if ((r.buf = malloc(TLY_IO_CHUNK)) == NULL) {
		fclose(r.f);
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	}
	/* a byte order mark */
	if ((r.end = fread(r.buf, 1, TLY_IO_CHUNK, r.f)) >= 3 &&
	    memcmp(r.buf, "\xef\xbb\xbf", 3) == 0)
		r.pos = 3;
	if (r.end >= 2 &&
	    ((r.buf[0] == '\xff' && r.buf[1] == '\xfe') ||
	        (r.buf[0] == '\xfe' && r.buf[1] == '\xff'))) {
		rv = tly_seterr(t, TALLY_EFORMAT,
		    "%s is UTF-16: save it as UTF-8 and import it again",
		    path);
		goto out;
	}
	if ((rv = tly_imp_begin(&x.im, t, st, path, o)) != 0)
		goto out;
	while (rv == 0 && (got = vr_line(&r, &l)) > 0)
		rv = vc_line(&x, &l);
	if (rv == 0 && got < 0)
		rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
	if (rv == 0 && r.ioerr != 0)
		rv = tly_seterr(
		    t, TALLY_EIO, "reading %s: %s", path, strerror(r.ioerr));
	if (rv == 0 && x.in_card) {
		tly_imp_record(&x.im);
		tly_imp_bad(&x.im, x.c.line, "the card has no END:VCARD");
	}
	if (rv == 0 && x.cards == 0)
		rv = tly_seterr(t, TALLY_EFORMAT,
		    "%s is not a vCard file (no BEGIN:VCARD)", path);
	else if (rv == 0 && x.junk != 0) {
		tly_imp_record(&x.im);
		tly_imp_bad(&x.im, x.junk, "text outside a vCard");
	}
	rv = tly_imp_end(&x.im, rv);
out:
	fclose(r.f);
	free(r.buf);
	tly_buf_free(&l.b);
	tly_buf_free(&r.look.b);
	tly_buf_free(&x.tmp);
	tly_strv_free(&x.urls);
	free(x.n_name);
	tly_contact_reset(&x.c, 0);
	return (rv);
}

/* -- Export ----------------------------------------------------------- */

/* Appends s escaped as vCard text; with list, commas are escaped too
 * (they separate values). */
static int
vc_escape(tly_buf *b, const char *s, int commas)
{
	int rv = 0;

	for (; *s != '\0' && rv == 0; s++) {
		if (*s == '\\' || *s == ';' || (*s == ',' && commas))
			rv =
			    tly_buf_u8(b, '\\') || tly_buf_u8(b, (uint8_t) *s);
		else if (*s == '\r' && s[1] == '\n')
			continue;
		else if (*s == '\n' || *s == '\r')
			rv = tly_buf_puts(b, "\\n");
		else
			rv = tly_buf_u8(b, (uint8_t) *s);
	}
	return (rv);
}

/* Writes the content line in b folded at VC_FOLD octets, then CRLF. */
static int
vc_emit(FILE *f, const tly_buf *b)
{
	size_t i = 0, width = VC_FOLD;

	while (i < b->len) {
		size_t k = b->len - i <= width ? b->len - i : width;
		/* never split a UTF-8 character */
		while (i + k < b->len && k > 1 && (b->p[i + k] & 0xc0) == 0x80)
			k--;
		if ((width != VC_FOLD && fputc(' ', f) == EOF) ||
		    fwrite(b->p + i, 1, k, f) != k || fputs("\r\n", f) == EOF)
			return (TALLY_EIO);
		i += k;
		width = VC_FOLD - 1;
	}
	return (0);
}

/* Writes NAME:value with value escaped (commas too unless raw_commas). */
static int
vc_prop(FILE *f, tly_buf *b, const char *name, const char *value, int commas)
{
	tly_buf_reset(b);
	if (tly_buf_puts(b, name) != 0 || tly_buf_u8(b, ':') != 0 ||
	    vc_escape(b, value, commas) != 0)
		return (TALLY_ENOMEM);
	return (vc_emit(f, b));
}

static int
vc_card(FILE *f, tly_buf *b, sqlite3_stmt *st)
{
	const char *id = tly_col_text(st, 0), *name = tly_col_text(st, 1);
	const char *sp;
	const char *cols[] = { NULL, NULL, "ORG", "TITLE", "URL", "NOTE" };
	json_t     *lists[3];
	int         rv = 0;

	if (fputs("BEGIN:VCARD\r\nVERSION:4.0\r\n", f) == EOF)
		return (TALLY_EIO);
	if (id != NULL && strlen(id) == TALLY_ID_LEN &&
	    fprintf(f, "UID:urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s\r\n", id,
	        id + 8, id + 12, id + 16, id + 20) < 0)
		return (TALLY_EIO);
	if ((rv = vc_prop(f, b, "FN", name, 1)) != 0)
		return (rv);
	/* N: family;given;;; -- the last word is taken as the family name */
	tly_buf_reset(b);
	sp = strrchr(name, ' ');
	if (tly_buf_puts(b, "N:") != 0)
		return (TALLY_ENOMEM);
	if (sp != NULL) {
		char *given = strndup(name, (size_t) (sp - name));
		if (given == NULL)
			return (TALLY_ENOMEM);
		rv = vc_escape(b, sp + 1, 1) || tly_buf_u8(b, ';') ||
		    vc_escape(b, given, 1);
		free(given);
	} else
		rv = vc_escape(b, name, 1) || tly_buf_u8(b, ';');
	if (rv != 0 || tly_buf_puts(b, ";;;") != 0)
		return (TALLY_ENOMEM);
	if ((rv = vc_emit(f, b)) != 0)
		return (rv);
	for (int i = 2; i < 4; i++)
		if (tly_col_text(st, i) != NULL &&
		    (rv = vc_prop(f, b, cols[i], tly_col_text(st, i), 1)) != 0)
			return (rv);
	for (int i = 0; i < 3; i++) {
		const char *s = tly_col_text(st, 6 + i);
		lists[i]      = s != NULL ? json_loads(s, 0, NULL) : NULL;
	}
	for (size_t j = 0; rv == 0 && j < json_array_size(lists[0]); j++) {
		const char *e = json_string_value(json_array_get(lists[0], j));
		if (e != NULL)
			rv = vc_prop(f, b, "EMAIL", e, 1);
	}
	for (size_t j = 0; rv == 0 && j < json_array_size(lists[1]); j++) {
		const char *p = json_string_value(json_array_get(lists[1], j));
		if (p != NULL)
			rv = vc_prop(f, b, "TEL;VALUE=text", p, 1);
	}
	for (int i = 4; rv == 0 && i < 6; i++)
		if (tly_col_text(st, i) != NULL)
			/* a URL is a URI: its commas are not escaped */
			rv = vc_prop(
			    f, b, cols[i], tly_col_text(st, i), i != 4);
	if (rv == 0 && json_array_size(lists[2]) > 0) {
		tly_buf_reset(b);
		rv = tly_buf_puts(b, "CATEGORIES:");
		for (size_t j = 0; rv == 0 && j < json_array_size(lists[2]);
		     j++) {
			const char *s =
			    json_string_value(json_array_get(lists[2], j));
			if (s == NULL)
				continue;
			if (b->p[b->len - 1] != ':')
				rv = tly_buf_u8(b, ',');
			if (rv == 0)
				rv = vc_escape(b, s, 1);
		}
		if (rv == 0)
			rv = vc_emit(f, b);
	}
	for (int i = 0; i < 3; i++)
		json_decref(lists[i]);
	if (rv == 0 && fputs("END:VCARD\r\n", f) == EOF)
		rv = TALLY_EIO;
	return (rv);
}

int
tly_export_vcard(tally *t, FILE *out)
{
	sqlite3_stmt *st;
	tly_buf       b  = TLY_BUF_INIT;
	int           rc = SQLITE_DONE, rv = 0;

	st = tly_stmt(t,
	    "SELECT id, name, org, title, url, note, emails,"
	    " phones, tags FROM person WHERE NOT is_me"
	    " ORDER BY name_key, id");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	while (rv == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		rv = vc_card(out, &b, st);
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_dberr(t, "exporting");
	sqlite3_reset(st);
	tly_buf_free(&b);
	if (rv == 0 && fflush(out) != 0)
		rv = TALLY_EIO;
	if (rv == TALLY_EIO)
		return (tly_seterr(
		    t, rv, "writing the export: %s", strerror(errno)));
	if (rv == TALLY_ENOMEM)
		return (tly_seterr(t, rv, "out of memory"));
	return (rv);
}
