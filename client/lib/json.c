/*
 * json.c -- the JSON dump: `tally export json` and `tally import json`.
 *
 * The dump is one JSON object (client/JSON.md, "Export format"):
 *   {"format":"tally","version":1,"exported":"2024-03-12T09:30:00Z",
 *   "people":[...],"interactions":[...],"favors":[...],
 *   "introductions":[...],"references":[...],"reference_uses":[...]}
 * one record per line, every array ordered by id, every field present
 * (null when unset), so that exporting, importing into a fresh replica
 * and exporting again gives the same bytes.
 *
 * The importer streams: the file is read in chunks and parsed byte by
 * byte by a small strict JSON reader (RFC 8259: UTF-8, no duplicate keys
 * in a record, integers only where integers go); each record is decoded
 * into an arena, checked, and stored with cached statements inside the
 * import's one transaction.  Nothing is held per record once it is
 * stored, so memory stays flat for any file size.  Limits: a string is
 * cut at TALLY_MAX_TEXT bytes (the record is then bad), unknown values
 * nest at most JS_MAX_DEPTH deep (deeper is malformed).
 *
 * A syntax error ends the import (the rest cannot be trusted); a record
 * that parses but cannot be stored (a missing field, a bad time, a
 * person that is not there) is a bad record, reported at the line where
 * its '{' is.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ident_int.h"
#include "io_int.h"
#include "tly_enc.h"
#include "tly_record.h"
#include "sync_int.h"

#define DUMP_FORMAT "tally"
#define DUMP_VERSION 1
#define JS_MAX_DEPTH 64     /* nesting of values we skip */
#define JS_MAX_KEY 64       /* keys longer than this are unknown */
#define JS_OUT_FLUSH 262144 /* bytes buffered before a write */
/* The page cache while importing (-KiB): a big import touches the id
 * and person indexes all over, and pages that do not fit are spilled to
 * the WAL and read back. */
#define JS_IMPORT_CACHE (-512 * 1024)

/* -- UTF-8 ------------------------------------------------------------ */

/* Returns the length of the valid UTF-8 sequence at s (n > 0 bytes
 * left), or 0: no overlongs, no surrogates, nothing past U+10FFFF. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];

	if (c < 0x80)
		return (1);
	if (c < 0xc2 || c > 0xf4)
		return (0);
	if (c < 0xe0)
		return (n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0);
	if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
		return (0);
	if (c < 0xf0) {
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
			return (0);
		return (3);
	}
	if (n < 4 || (s[3] & 0xc0) != 0x80 || (c == 0xf0 && s[1] < 0x90) ||
	    (c == 0xf4 && s[1] >= 0x90))
		return (0);
	return (4);
}

static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t k;

	while (n > 0) {
		if (*s < 0x80) {
			s++;
			n--;
			continue;
		}
		if ((k = utf8_seq(s, n)) == 0)
			return (0);
		s += k;
		n -= k;
	}
	return (1);
}

/* -- Writing ---------------------------------------------------------- */

int
tly_json_str(tly_buf *b, const char *str, size_t n)
{
	static const char    hex[] = "0123456789abcdef";
	const unsigned char *s     = (const unsigned char *) str;
	unsigned char       *o;
	size_t               i = 0, k;
	int                  rv;

	if (n > (SIZE_MAX - 2) / 6)
		return (TALLY_ENOMEM);
	if ((rv = tly_buf_reserve(b, n * 6 + 2)) != 0)
		return (rv);
	o    = b->p + b->len;
	*o++ = '"';
	while (i < n) {
		unsigned c = s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*o++ = (unsigned char) c;
			i++;
			continue;
		}
		if (c >= 0x80) {
			if ((k = utf8_seq(s + i, n - i)) == 0) {
				memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
				o += 3;
				i++;
			} else {
				memcpy(o, s + i, k);
				o += k;
				i += k;
			}
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"':
		case '\\':
			*o++ = (unsigned char) c;
			break;
		case '\b':
			*o++ = 'b';
			break;
		case '\f':
			*o++ = 'f';
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		default:
			memcpy(o, "u00", 3);
			o += 3;
			*o++ = (unsigned char) hex[c >> 4];
			*o++ = (unsigned char) hex[c & 15];
			break;
		}
		i++;
	}
	*o++   = '"';
	b->len = (size_t) (o - b->p);
	return (0);
}

/* -- Reading: the source and the lexer -------------------------------- */

/* Bytes come from f in chunks, or (f NULL) from one string. */
typedef struct jsrc {
	FILE          *f;
	unsigned char *buf;
	size_t         pos, end, cap;
	int            eof;
	int            ioerr; /* errno of a failed read, or 0 */
	unsigned long  line;  /* of the byte at pos */
} jsrc;

static int
js_refill(jsrc *s)
{
	size_t n;

	if (s->f == NULL || s->eof)
		return (0);
	n      = fread(s->buf, 1, s->cap, s->f);
	s->pos = 0;
	s->end = n;
	if (n == 0) {
		s->eof = 1;
		if (ferror(s->f))
			s->ioerr = errno != 0 ? errno : EIO;
		return (0);
	}
	return (1);
}

static inline int
js_peek(jsrc *s)
{
	return (s->pos < s->end || js_refill(s) ? s->buf[s->pos] : -1);
}

/* Skips white space; returns the next byte (not consumed) or -1. */
static inline int
js_ws(jsrc *s)
{
	int c;

	while (
	    (c = js_peek(s)) == ' ' || c == '\n' || c == '\r' || c == '\t') {
		if (c == '\n')
			s->line++;
		s->pos++;
	}
	return (c);
}

/* Where a field of a record goes (see jfield). */
enum jtype { JT_STR, JT_INT, JT_BOOL, JT_LIST };
#define JF_REQ 0x1  /* must be there and not null */
#define JF_ID 0x2   /* a row id: TALLY_ID_LEN lower-case hex */
#define JF_TIME 0x4 /* "YYYY-MM-DDTHH:MM:SSZ", kept in i */

typedef struct jfield {
	const char   *name;
	unsigned char type;  /* enum jtype */
	unsigned char flags; /* JF_* */
	unsigned char slot;  /* JT_LIST: which of jp.lists */
	unsigned char item;  /* JT_LIST: 'e' email, 'p' phone, 't' tag */
} jfield;

typedef struct jval {
	int         set;  /* the key was there (maybe null) */
	int         null; /* its value was null */
	int64_t     i;    /* JT_INT, JT_BOOL, JF_TIME */
	size_t      off;  /* JT_STR: in the arena, NUL-terminated */
	size_t      len;
	const char *s; /* JT_STR, JT_LIST: resolved after the record */
} jval;

#define JS_NLISTS 3

typedef struct jp {
	jsrc        s;
	tally      *t;
	const char *path;
	tly_buf     arena;            /* decoded strings of one record */
	tly_buf     lists[JS_NLISTS]; /* JSON text of its lists */
	int         rv;               /* why parsing stopped */
	char        bad[256];         /* first problem of the record */
} jp;

/* Ends parsing: malformed JSON at the current line (or a read error). */
static int
js_fail(jp *p, const char *what)
{
	if (p->s.ioerr != 0)
		p->rv = tly_seterr(p->t, TALLY_EIO, "reading %s: %s", p->path,
		    strerror(p->s.ioerr));
	else
		p->rv = tly_seterr(p->t, TALLY_EFORMAT,
		    "%s:%lu: malformed JSON: %s", p->path, p->s.line, what);
	return (-1);
}

static void js_bad(jp *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
js_bad(jp *p, const char *fmt, ...)
{
	va_list ap;

	if (p->bad[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(p->bad, sizeof p->bad, fmt, ap);
	va_end(ap);
}

/* Expects the byte c next. */
static int
js_expect(jp *p, int c, const char *what)
{
	if (js_ws(&p->s) != c)
		return (js_fail(p, what));
	p->s.pos++;
	return (0);
}

static int
js_lit(jp *p, const char *word)
{
	for (const char *w = word; *w != '\0'; w++) {
		if (js_peek(&p->s) != (unsigned char) *w)
			return (js_fail(p,
			    "unknown word (not true, false or "
			    "null)"));
		p->s.pos++;
	}
	return (0);
}

/* Appends decoded bytes, keeping at most max of *total. */
static int
js_put(jp *p, const void *b, size_t n, size_t *total, size_t max)
{
	size_t room = *total < max ? max - *total : 0;

	*total += n;
	if (tly_buf_append(&p->arena, b, n < room ? n : room) != 0) {
		p->rv = tly_seterr(p->t, TALLY_ENOMEM, "out of memory");
		return (-1);
	}
	return (0);
}

static int
js_hex4(jp *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		int c = js_peek(&p->s);
		if (c >= '0' && c <= '9')
			v = v * 16 + (unsigned) (c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (unsigned) (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + (unsigned) (c - 'A' + 10);
		else
			return (js_fail(p, "bad \\u escape"));
		p->s.pos++;
	}
	*out = v;
	return (0);
}

static int
js_put_cp(jp *p, unsigned cp, size_t *total, size_t max)
{
	unsigned char u[4];
	size_t        n;

	if (cp < 0x80) {
		u[0] = (unsigned char) cp;
		n    = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char) (0xc0 | cp >> 6);
		u[1] = (unsigned char) (0x80 | (cp & 0x3f));
		n    = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char) (0xe0 | cp >> 12);
		u[1] = (unsigned char) (0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char) (0x80 | (cp & 0x3f));
		n    = 3;
	} else {
		u[0] = (unsigned char) (0xf0 | cp >> 18);
		u[1] = (unsigned char) (0x80 | (cp >> 12 & 0x3f));
		u[2] = (unsigned char) (0x80 | (cp >> 6 & 0x3f));
		u[3] = (unsigned char) (0x80 | (cp & 0x3f));
		n    = 4;
	}
	return (js_put(p, u, n, total, max));
}

/* Decodes the escape whose letter c was just consumed. */
static int
js_escape(jp *p, int c, size_t *total, size_t max, int *lone)
{
	unsigned cp, lo;
	char     ch;

	switch (c) {
	case '"':
	case '\\':
	case '/':
		ch = (char) c;
		break;
	case 'b':
		ch = '\b';
		break;
	case 'f':
		ch = '\f';
		break;
	case 'n':
		ch = '\n';
		break;
	case 'r':
		ch = '\r';
		break;
	case 't':
		ch = '\t';
		break;
	case 'u':
		if (js_hex4(p, &cp) != 0)
			return (-1);
		if (cp >= 0xdc00 && cp <= 0xdfff) {
			*lone = 1;
			return (js_put_cp(p, 0xfffd, total, max));
		}
		if (cp < 0xd800 || cp > 0xdbff)
			return (js_put_cp(p, cp, total, max));
		/* A high surrogate wants \u and a low one next. */
		if (js_peek(&p->s) != '\\') {
			*lone = 1;
			return (js_put_cp(p, 0xfffd, total, max));
		}
		p->s.pos++;
		if ((c = js_peek(&p->s)) < 0)
			return (js_fail(p, "unterminated string"));
		p->s.pos++;
		if (c != 'u') {
			*lone = 1;
			if (js_put_cp(p, 0xfffd, total, max) != 0)
				return (-1);
			return (js_escape(p, c, total, max, lone));
		}
		if (js_hex4(p, &lo) != 0)
			return (-1);
		if (lo < 0xdc00 || lo > 0xdfff) {
			*lone = 1;
			if (js_put_cp(p, 0xfffd, total, max) != 0)
				return (-1);
			return (js_put_cp(p,
			    lo >= 0xd800 && lo <= 0xdbff ? 0xfffd : lo, total,
			    max));
		}
		return (js_put_cp(p,
		    0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00), total,
		    max));
	default:
		return (js_fail(p, "bad escape in a string"));
	}
	return (js_put(p, &ch, 1, total, max));
}

/* Reads a string (its '"' is next) into the arena, NUL-terminated, at
 * *off; keeps at most max bytes.  With what, a string that is too long,
 * not UTF-8 or holds a NUL marks the record bad. */
static int
js_string(jp *p, size_t max, const char *what, size_t *off, size_t *len)
{
	jsrc  *s     = &p->s;
	size_t start = p->arena.len, total = 0;
	int    lone = 0, c;

	s->pos++;
	for (;;) {
		const unsigned char *b, *q, *e;

		if (s->pos == s->end && !js_refill(s))
			return (js_fail(p, "unterminated string"));
		b = q = s->buf + s->pos;
		e     = s->buf + s->end;
		while (q < e && *q != '"' && *q != '\\' && *q >= 0x20)
			q++;
		if (q > b) {
			if (js_put(p, b, (size_t) (q - b), &total, max) != 0)
				return (-1);
			s->pos += (size_t) (q - b);
			continue;
		}
		s->pos++;
		if (*q == '"')
			break;
		if (*q < 0x20)
			return (js_fail(p, "control character in a string"));
		if ((c = js_peek(s)) < 0)
			return (js_fail(p, "unterminated string"));
		s->pos++;
		if (js_escape(p, c, &total, max, &lone) != 0)
			return (-1);
	}
	*off = start;
	*len = p->arena.len - start;
	if (tly_buf_append(&p->arena, "", 1) != 0) {
		p->rv = tly_seterr(p->t, TALLY_ENOMEM, "out of memory");
		return (-1);
	}
	if (what == NULL)
		return (0);
	if (total > max)
		js_bad(p, "\"%s\" is too long (%zu bytes, at most %zu)", what,
		    total, max);
	else if (lone || !utf8_ok(p->arena.p + start, *len))
		js_bad(p, "\"%s\" is not valid UTF-8", what);
	else if (memchr(p->arena.p + start, '\0', *len) != NULL)
		js_bad(p, "\"%s\" contains a NUL character", what);
	return (0);
}

/* Reads a number; *isint when it is an integer that fits an int64. */
static int
js_number(jp *p, int64_t *v, int *isint)
{
	jsrc    *s   = &p->s;
	uint64_t mag = 0;
	int      neg = 0, c, nd = 0, over = 0;

	*isint = 1;
	if (js_peek(s) == '-') {
		neg = 1;
		s->pos++;
	}
	while ((c = js_peek(s)) >= '0' && c <= '9') {
		if (nd == 1 && mag == 0)
			return (js_fail(p, "number with a leading zero"));
		if (mag > (UINT64_MAX - 9) / 10)
			over = 1;
		else
			mag = mag * 10 + (uint64_t) (c - '0');
		nd++;
		s->pos++;
	}
	if (nd == 0)
		return (js_fail(p, "malformed number"));
	if (c == '.') {
		*isint = 0;
		s->pos++;
		for (nd = 0; (c = js_peek(s)) >= '0' && c <= '9'; nd++)
			s->pos++;
		if (nd == 0)
			return (js_fail(p, "malformed number"));
	}
	if (c == 'e' || c == 'E') {
		*isint = 0;
		s->pos++;
		if ((c = js_peek(s)) == '+' || c == '-')
			s->pos++;
		for (nd = 0; (c = js_peek(s)) >= '0' && c <= '9'; nd++)
			s->pos++;
		if (nd == 0)
			return (js_fail(p, "malformed number"));
	}
	if (over || mag > (uint64_t) INT64_MAX)
		*isint = 0;
	*v = !*isint ? 0 : neg ? -(int64_t) mag : (int64_t) mag;
	return (0);
}

/* Skips one value of any kind, nested at most JS_MAX_DEPTH deep. */
static int
js_skip(jp *p, int depth)
{
	size_t  mark = p->arena.len, off, len;
	int64_t v;
	int     c = js_ws(&p->s), isint, close;

	switch (c) {
	case '"':
		if (js_string(p, 0, NULL, &off, &len) != 0)
			return (-1);
		p->arena.len = mark;
		return (0);
	case 't':
		return (js_lit(p, "true"));
	case 'f':
		return (js_lit(p, "false"));
	case 'n':
		return (js_lit(p, "null"));
	case '{':
	case '[':
		break;
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return (js_number(p, &v, &isint));
		return (js_fail(p,
		    c < 0 ? "unexpected end of file"
		          : "unexpected character"));
	}
	if (depth >= JS_MAX_DEPTH)
		return (js_fail(p, "values nested too deeply"));
	close = c == '{' ? '}' : ']';
	p->s.pos++;
	if (js_ws(&p->s) == close) {
		p->s.pos++;
		return (0);
	}
	for (;;) {
		if (close == '}') {
			if (js_ws(&p->s) != '"')
				return (js_fail(p, "expected a key"));
			if (js_string(p, 0, NULL, &off, &len) != 0 ||
			    js_expect(p, ':', "expected ':'") != 0)
				return (-1);
			p->arena.len = mark;
		}
		if (js_skip(p, depth + 1) != 0)
			return (-1);
		c = js_ws(&p->s);
		p->s.pos++;
		if (c == close)
			return (0);
		if (c != ',')
			return (js_fail(p,
			    close == '}' ? "expected ',' or '}'"
			                 : "expected ',' or ']'"));
	}
}

static int
is_id(const char *s, size_t n)
{
	if (n != TALLY_ID_LEN)
		return (0);
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return (0);
	return (1);
}

static int
is_email(const char *e)
{
	const char *at = strchr(e, '@');

	return (at != NULL && at != e && at[1] != '\0' &&
	    strchr(at + 1, '@') == NULL && strpbrk(e, " \t\r\n<>,;") == NULL);
}

/* Reads a list of strings into p->lists[f->slot] as JSON text. */
static int
js_list(jp *p, const jfield *f)
{
	tly_buf *out  = &p->lists[f->slot];
	size_t   mark = p->arena.len, off, len, n = 0;
	int      c;

	p->s.pos++;
	tly_buf_reset(out);
	if (tly_buf_puts(out, "[") != 0)
		goto nomem;
	if ((c = js_ws(&p->s)) == ']') {
		p->s.pos++;
		goto done;
	}
	for (;;) {
		if (js_ws(&p->s) != '"') {
			js_bad(p, "\"%s\" must be a list of strings", f->name);
			if (js_skip(p, 1) != 0)
				return (-1);
		} else {
			const char *what = f->item == 'e' ? "email"
			    : f->item == 'p'              ? "phone"
			                                  : "tag";
			if (js_string(p, TLY_IO_MAX_ITEM, what, &off, &len) !=
			    0)
				return (-1);
			const char *item = (const char *) p->arena.p + off;
			if (p->bad[0] == '\0' && f->item == 'e' &&
			    !is_email(item))
				js_bad(p, "'%.80s' is not an email address",
				    item);
			if (p->bad[0] == '\0' && f->item == 'p' &&
			    strpbrk(item, "0123456789") == NULL)
				js_bad(
				    p, "'%.80s' is not a phone number", item);
			if (++n > TLY_IO_MAX_LIST)
				js_bad(p, "more than %d %ss", TLY_IO_MAX_LIST,
				    what);
			if (p->bad[0] == '\0' &&
			    ((n > 1 && tly_buf_puts(out, ",") != 0) ||
			        tly_json_str(out, item, len) != 0))
				goto nomem;
			p->arena.len = mark;
		}
		c = js_ws(&p->s);
		p->s.pos++;
		if (c == ']')
			break;
		if (c != ',')
			return (js_fail(p, "expected ',' or ']'"));
	}
done:
	if (tly_buf_puts(out, "]") == 0 && tly_buf_cstr(out) != NULL)
		return (0);
nomem:
	p->rv = tly_seterr(p->t, TALLY_ENOMEM, "out of memory");
	return (-1);
}

/* Reads the value of field f (its first byte is c, not consumed). */
static int
js_value(jp *p, const jfield *f, jval *v, int c)
{
	int isint;

	v->set = 1;
	if (c == 'n') {
		v->null = 1;
		return (js_lit(p, "null"));
	}
	switch (f->type) {
	case JT_STR:
		if (c == '"')
			return (js_string(
			    p, TALLY_MAX_TEXT, f->name, &v->off, &v->len));
		js_bad(p, "\"%s\" must be a string", f->name);
		break;
	case JT_INT:
		if (c == '-' || (c >= '0' && c <= '9')) {
			if (js_number(p, &v->i, &isint) != 0)
				return (-1);
			if (!isint)
				js_bad(
				    p, "\"%s\" must be an integer", f->name);
			return (0);
		}
		js_bad(p, "\"%s\" must be an integer", f->name);
		break;
	case JT_BOOL:
		if (c == 't' || c == 'f') {
			v->i = c == 't';
			return (js_lit(p, c == 't' ? "true" : "false"));
		}
		js_bad(p, "\"%s\" must be true or false", f->name);
		break;
	case JT_LIST:
		if (c == '[')
			return (js_list(p, f));
		js_bad(p, "\"%s\" must be a list of strings", f->name);
		break;
	}
	return (js_skip(p, 1));
}

/* Reads one record (an object; its '{' is next) into v[0..nf). */
static int
js_record(jp *p, const jfield *f, size_t nf, jval *v)
{
	size_t off, len;
	int    c;

	memset(v, 0, nf * sizeof *v);
	tly_buf_reset(&p->arena);
	p->bad[0] = '\0';
	p->s.pos++;
	if ((c = js_ws(&p->s)) == '}') {
		p->s.pos++;
		goto done;
	}
	for (;;) {
		size_t i;

		if (c != '"')
			return (js_fail(p, "expected a key"));
		if (js_string(p, JS_MAX_KEY, NULL, &off, &len) != 0)
			return (-1);
		for (i = 0; i < nf; i++)
			if (strcmp(f[i].name, (char *) p->arena.p + off) == 0)
				break;
		p->arena.len = off;
		if (js_expect(p, ':', "expected ':'") != 0)
			return (-1);
		c = js_ws(&p->s);
		if (i == nf) {
			if (js_skip(p, 1) != 0) /* unknown: ignored */
				return (-1);
		} else if (v[i].set) {
			js_bad(p, "\"%s\" appears twice", f[i].name);
			if (js_skip(p, 1) != 0)
				return (-1);
		} else if (js_value(p, &f[i], &v[i], c) != 0)
			return (-1);
		c = js_ws(&p->s);
		p->s.pos++;
		if (c == '}')
			break;
		if (c != ',')
			return (js_fail(p, "expected ',' or '}'"));
		c = js_ws(&p->s);
	}
done:
	/* Resolve and check what came. */
	for (size_t i = 0; i < nf; i++) {
		jval *x = &v[i];
		if (f[i].type == JT_LIST) {
			x->s = x->set && !x->null
			    ? (const char *) p->lists[f[i].slot].p
			    : "[]";
			continue;
		}
		if (f[i].type == JT_STR && x->set && !x->null) {
			x->s = (const char *) p->arena.p + x->off;
			if (x->len == 0) { /* "" is unset, as in the library */
				x->null = 1;
				x->s    = NULL;
			}
		}
		if (x->null)
			x->set = 0;
		if (!x->set) {
			if (f[i].flags & JF_REQ)
				js_bad(p, "\"%s\" is missing", f[i].name);
			continue;
		}
		if ((f[i].flags & JF_ID) && !is_id(x->s, x->len))
			js_bad(p, "\"%s\" is not a tally id: '%.40s'",
			    f[i].name, x->s);
		if ((f[i].flags & JF_TIME) && tly_time_parse_iso(x->s, &x->i))
			js_bad(p,
			    "\"%s\" is not a UTC time like "
			    "2024-03-12T09:30:00Z: '%.40s'",
			    f[i].name, x->s);
	}
	return (0);
}

/* -- Storing records -------------------------------------------------- */

enum {
	P_ID,
	P_NAME,
	P_ORG,
	P_TITLE,
	P_URL,
	P_HOW_MET,
	P_REFERRED_BY,
	P_NOTE,
	P_EMAILS,
	P_PHONES,
	P_TAGS,
	P_CLOSENESS,
	P_IS_ME,
	P_CREATED,
	P_UPDATED,
	P_N
};
static const jfield person_fields[P_N] = {
	{ "id", JT_STR, JF_REQ | JF_ID, 0, 0 },
	{ "name", JT_STR, JF_REQ, 0, 0 },
	{ "org", JT_STR, 0, 0, 0 },
	{ "title", JT_STR, 0, 0, 0 },
	{ "url", JT_STR, 0, 0, 0 },
	{ "how_met", JT_STR, 0, 0, 0 },
	{ "referred_by", JT_STR, JF_ID, 0, 0 },
	{ "note", JT_STR, 0, 0, 0 },
	{ "emails", JT_LIST, 0, 0, 'e' },
	{ "phones", JT_LIST, 0, 1, 'p' },
	{ "tags", JT_LIST, 0, 2, 't' },
	{ "closeness", JT_INT, 0, 0, 0 },
	{ "is_me", JT_BOOL, 0, 0, 0 },
	{ "created", JT_STR, JF_REQ | JF_TIME, 0, 0 },
	{ "updated", JT_STR, JF_REQ | JF_TIME, 0, 0 },
};

enum {
	I_ID,
	I_PERSON,
	I_KIND,
	I_AT,
	I_MINUTES,
	I_NOTE,
	I_FOLLOW_UP,
	I_FOLLOW_UP_DONE,
	I_THANKED,
	I_CREATED,
	I_UPDATED,
	I_N
};
static const jfield interaction_fields[I_N] = {
	{ "id", JT_STR, JF_REQ | JF_ID, 0, 0 },
	{ "person", JT_STR, JF_REQ | JF_ID, 0, 0 },
	{ "kind", JT_STR, JF_REQ, 0, 0 },
	{ "at", JT_STR, JF_REQ | JF_TIME, 0, 0 },
	{ "minutes", JT_INT, 0, 0, 0 },
	{ "note", JT_STR, 0, 0, 0 },
	{ "follow_up", JT_STR, JF_TIME, 0, 0 },
	{ "follow_up_done", JT_STR, JF_TIME, 0, 0 },
	{ "thanked", JT_STR, JF_TIME, 0, 0 },
	{ "created", JT_STR, JF_REQ | JF_TIME, 0, 0 },
	{ "updated", JT_STR, JF_REQ | JF_TIME, 0, 0 },
};

enum {
	F_ID,
	F_FROM,
	F_TO,
	F_KIND,
	F_STATUS,
	F_WEIGHT,
	F_NOTE,
	F_INTRO,
	F_DONE_AT,
	F_THANKED,
	F_CONFIRMED,
	F_CREATED,
	F_UPDATED,
	F_N
};
static const jfield favor_fields[F_N] = {
	{ "id", JT_STR, JF_REQ | JF_ID, 0, 0 },
	{ "from", JT_STR, JF_REQ | JF_ID, 0, 0 },
	{ "to", JT_STR, JF_REQ | JF_ID, 0, 0 },
	{ "kind", JT_STR, JF_REQ, 0, 0 },
	{ "status", JT_STR, JF_REQ, 0, 0 },
	{ "weight", JT_INT, 0, 0, 0 },
	{ "note", JT_STR, 0, 0, 0 },
	{ "intro", JT_STR, JF_ID, 0, 0 },
	{ "done_at", JT_STR, JF_TIME, 0, 0 },
	{ "thanked", JT_STR, JF_TIME, 0, 0 },
	{ "confirmed", JT_BOOL, 0, 0, 0 },
	{ "created", JT_STR, JF_REQ | JF_TIME, 0, 0 },
	{ "updated", JT_STR, JF_REQ | JF_TIME, 0, 0 },
};

enum { N_ID, N_BY, N_A, N_B, N_NOTE, N_STATUS, N_CREATED, N_UPDATED, N_N };
static const jfield intro_fields[N_N] = {
	{ "id", JT_STR, JF_REQ | JF_ID, 0, 0 },
	{ "by", JT_STR, JF_REQ | JF_ID, 0, 0 },
	{ "a", JT_STR, JF_REQ | JF_ID, 0, 0 },
	{ "b", JT_STR, JF_REQ | JF_ID, 0, 0 },
	{ "note", JT_STR, 0, 0, 0 },
	{ "status", JT_STR, 0, 0, 0 },
	{ "created", JT_STR, JF_REQ | JF_TIME, 0, 0 },
	{ "updated", JT_STR, JF_REQ | JF_TIME, 0, 0 },
};

enum { R_ID, R_PERSON, R_FOR, R_CREATED, R_UPDATED, R_N };
static const jfield reference_fields[R_N] = {
	{ "id", JT_STR, JF_REQ | JF_ID, 0, 0 },
	{ "person", JT_STR, JF_REQ | JF_ID, 0, 0 },
	{ "for_what", JT_STR, 0, 0, 0 },
	{ "created", JT_STR, JF_REQ | JF_TIME, 0, 0 },
	{ "updated", JT_STR, JF_REQ | JF_TIME, 0, 0 },
};

enum { U_ID, U_REFERENCE, U_FOR, U_AT, U_CREATED, U_UPDATED, U_N };
static const jfield use_fields[U_N] = {
	{ "id", JT_STR, JF_REQ | JF_ID, 0, 0 },
	{ "reference", JT_STR, JF_REQ | JF_ID, 0, 0 },
	{ "for_what", JT_STR, JF_REQ, 0, 0 },
	{ "at", JT_STR, JF_REQ | JF_TIME, 0, 0 },
	{ "created", JT_STR, JF_REQ | JF_TIME, 0, 0 },
	{ "updated", JT_STR, JF_REQ | JF_TIME, 0, 0 },
};

#define JS_MAX_FIELDS 16

/* A link to a row that may come later in the dump, set at the end. */
typedef struct fixup {
	char          row[TALLY_ID_LEN + 1];
	char          target[TALLY_ID_LEN + 1];
	int           intro;   /* 1: favor.intro, 0: person.referred_by */
	int64_t       updated; /* of the row as the dump has it */
	unsigned long line;
} fixup;

/* What import_person and import_favor work out and bind. */
typedef struct person_row {
	const char *id;       /* in this replica */
	const char *referred; /* in this replica, or NULL until fixed */
	char       *key;      /* name_key */
	int         is_me;    /* inserted as the user */
} person_row;

typedef struct favor_row {
	const char *person; /* the other party */
	const char *intro;  /* NULL until fixed */
	int         dir;
	int         weight;
} favor_row;

/*
 * People, interactions and favors are stored in batches: each record
 * goes to a staging table in temp, and every JS_BATCH records one
 * INSERT ... SELECT moves them.  A statement on these tables opens a
 * statement journal (their triggers write the FTS5 indexes), and FTS5
 * (SQLite 3.40) flushes its pending index at each one: statement per
 * row, that flush dominated.  If a batch fails (an id already there, a
 * person missing), it is rolled back and its records are stored one by
 * one, which updates or reports each as it should.
 */
#define JS_BATCH 1024

typedef struct stage {
	const char *create; /* the staging table, c1..cN and line */
	const char *put;    /* one record into it: ?1..?N as ins, line */
	const char *flush;  /* all of it into the real table */
	const char *scan;   /* c1..cN, line, in order */
	const char *clear;
	const char *ins; /* one row: ?1..?N */
	const char *upd; /* the same, when the dump's row is newer */
	int         ncols;
	const char *what; /* in messages */
	const char *fk;   /* what a foreign key failure means */
} stage;

enum { ST_PERSON, ST_INTERACTION, ST_FAVOR, ST_N };

/*
 * Bulk mode (a big file, see JS_BULK_BYTES): inside the import's
 * transaction the triggers that write derived data for new rows are
 * dropped, rows go in one by one with plain cached INSERTs, and at the
 * end set-based SQL adds what those triggers would have written for
 * the rows with a rid above the table's largest before the import,
 * before the triggers are created again from their saved text.  The
 * update triggers of person_key, last_contact and the ledger stay (the
 * end only adds to what they keep); the FTS update triggers go too (they
 * would take out of the index rows the import added and that are not in
 * it yet), and an update of a row that was there before takes it out of
 * its FTS index and puts it back itself (bulk_fts()).  When the file
 * may hold more rows than a table has, the table's plain (not UNIQUE)
 * indexes, and those of person_key and ledger, are dropped as well and
 * built again at the end: building an index from sorted keys costs far
 * less than inserting them one by one in random order.  DDL is part of
 * the transaction: a failed or dry run rolls back to the schema as it
 * was, and other connections never see a trigger or index missing.
 */
#define BK_NTRIG 9
#define BK_MAX 64         /* triggers and indexes dropped, at most */
#define BK_ROW_BYTES 1024 /* a dump's record takes fewer bytes */
/* What bulk mode dropped, in the order it comes back. */
#define BK_TABLE 1   /* an index of person, interaction or favor */
#define BK_DERIVED 2 /* an index of person_key or ledger */
#define BK_TRIGGER 3

typedef struct bulk {
	int     on;
	int64_t base[ST_N];   /* largest rid before, per table */
	char   *name[BK_MAX]; /* dropped triggers and indexes, in order */
	char   *sql[BK_MAX];  /* their CREATE text */
	int     kind[BK_MAX]; /* BK_TABLE, BK_DERIVED or BK_TRIGGER */
	sqlite3_stmt *fts_del[ST_N]; /* a row there before out of its FTS */
	sqlite3_stmt *fts_put[ST_N]; /* ... and back in */
	int           n;
} bulk;

typedef struct jx {
	tly_imp       im;
	jp            p;
	char          dump_me[TALLY_ID_LEN + 1]; /* the dump's "me" */
	fixup        *fix;
	size_t        nfix, capfix;
	unsigned long line; /* where the current record starts */
	person_row    person;
	favor_row     favor;
	size_t        staged[ST_N]; /* records waiting in each stage */
	int           scan_ncols;   /* for bind_scan */
	int           table;        /* the array being read (tables[]) */
	bulk          bk;
	struct jreport {
		unsigned long line;
		char         *msg;
	} * q; /* bad records of the batch, to say in order */
	size_t nq, capq;
} jx;

/* Reports a bad record; while a batch is waiting, the report waits
 * with it, so that reports come in the order of the file. */
static void jx_bad(jx *x, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
jx_bad(jx *x, unsigned long line, const char *fmt, ...)
{
	char    msg[512];
	int     waiting = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (int k = 0; k < ST_N; k++)
		waiting |= x->staged[k] > 0;
	if (waiting && x->nq == x->capq) {
		size_t          cap = x->capq ? x->capq * 2 : 16;
		struct jreport *q   = realloc(x->q, cap * sizeof *q);
		if (q != NULL) {
			x->q    = q;
			x->capq = cap;
		}
	}
	if (waiting && x->nq < x->capq &&
	    (x->q[x->nq].msg = strdup(msg)) != NULL) {
		x->q[x->nq++].line = line;
		return;
	}
	tly_imp_bad(&x->im, line, "%s", msg);
}

static int
report_cmp(const void *a, const void *b)
{
	const struct jreport *x = a, *y = b;

	return (x->line < y->line ? -1 : x->line > y->line);
}

/* Says the reports that waited for a batch, by line. */
static void
jx_said(jx *x)
{
	if (x->nq > 1)
		qsort(x->q, x->nq, sizeof *x->q, report_cmp);
	for (size_t i = 0; i < x->nq; i++) {
		tly_imp_bad(&x->im, x->q[i].line, "%s", x->q[i].msg);
		free(x->q[i].msg);
	}
	x->nq = 0;
}

static void
bind_str(sqlite3_stmt *st, int i, const jval *v)
{
	if (v->set)
		sqlite3_bind_text(st, i, v->s, (int) v->len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void
bind_int(sqlite3_stmt *st, int i, const jval *v)
{
	if (v->set)
		sqlite3_bind_int64(st, i, v->i);
	else
		sqlite3_bind_null(st, i);
}

/* The id a person of the dump has in this replica: the dump's "me" is
 * the replica's. */
static const char *
map_person(const jx *x, const char *id)
{
	if (id != NULL && x->dump_me[0] != '\0' && strcmp(id, x->dump_me) == 0)
		return (x->im.t->me);
	return (id);
}

static int
row_exists(jx *x, const char *sql, const char *id, int *yes)
{
	sqlite3_stmt *st = tly_stmt(x->im.t, sql);
	int           rc;

	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	rc   = sqlite3_step(st);
	*yes = rc == SQLITE_ROW;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (tly_dberr(x->im.t, "importing"));
	return (0);
}

static int
add_fixup(
    jx *x, const char *row, const char *target, int intro, int64_t updated)
{
	fixup *f;

	if (x->nfix == x->capfix) {
		size_t cap = x->capfix ? x->capfix * 2 : 64;
		if ((f = realloc(x->fix, cap * sizeof *f)) == NULL)
			return (tly_seterr(
			    x->im.t, TALLY_ENOMEM, "out of memory"));
		x->fix    = f;
		x->capfix = cap;
	}
	f = &x->fix[x->nfix++];
	snprintf(f->row, sizeof f->row, "%s", row);
	snprintf(f->target, sizeof f->target, "%s", target);
	f->intro   = intro;
	f->updated = updated;
	f->line    = x->line;
	return (0);
}

/* Binds the current row of the scan statement arg, column i to ?i+1. */
static void
bind_scan(jx *x, sqlite3_stmt *st, const void *arg)
{
	sqlite3_stmt *scan = (sqlite3_stmt *) (uintptr_t) arg;

	for (int i = 0; i < x->scan_ncols; i++)
		sqlite3_bind_value(st, i + 1, sqlite3_column_value(scan, i));
}

/* In bulk mode, runs one of the FTS statements sts (bulk) for the row
 * of the current table with the record's id, if it was there before the
 * import: what its *_fts_au trigger would do around an update.  Rows
 * added by the import are indexed at the end. */
static int
bulk_fts(jx *x, sqlite3_stmt *const *sts, const void *arg)
{
	const char   *id;
	sqlite3_stmt *st;
	int           rc;

	if (!x->bk.on || x->table < 0 || x->table >= ST_N)
		return (0);
	id = x->table == ST_PERSON ? x->person.id
	                           : ((const jval *) arg)[0].s; /* "id" */
	st = sts[x->table];
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, x->bk.base[x->table]);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return (rc == SQLITE_DONE ? 0 : tly_dberr(x->im.t, "importing"));
}

/* Binds a record with bind and stores it in one row: added, or updated
 * when the dump's row is newer, or the same; a constraint failure makes
 * it a bad record (what names it, fk says what a foreign key failure
 * means).  *stored tells whether the row was written. */
static int
store(jx *x, const char *ins, const char *upd,
    void (*bind)(jx *, sqlite3_stmt *, const void *), const void *arg,
    const char *what, const char *fk, unsigned long line, int *stored)
{
	tally        *t  = x->im.t;
	sqlite3_stmt *st = tly_stmt(t, ins);
	int           rc, ext, rv;

	*stored = 0;
	if (st == NULL)
		return (TALLY_EINTERNAL);
	bind(x, st, arg);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		sqlite3_reset(st);
		x->im.st->added++;
		*stored = 1;
		return (0);
	}
	ext = sqlite3_extended_errcode(t->db);
	sqlite3_reset(st);
	if (ext == SQLITE_CONSTRAINT_UNIQUE ||
	    ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
		if ((st = tly_stmt(t, upd)) == NULL)
			return (TALLY_EINTERNAL);
		if ((rc = bulk_fts(x, x->bk.fts_del, arg)) != 0)
			return (rc);
		bind(x, st, arg);
		rc  = sqlite3_step(st);
		ext = sqlite3_extended_errcode(t->db);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE && sqlite3_changes(t->db) > 0) {
			x->im.st->updated++;
			*stored = 1;
		} else if (rc == SQLITE_DONE)
			x->im.st->same++;
		if ((rv = bulk_fts(x, x->bk.fts_put, arg)) != 0)
			return (rv);
		if (rc == SQLITE_DONE)
			return (0);
	}
	if (ext == SQLITE_CONSTRAINT_FOREIGNKEY) {
		jx_bad(x, line, "%s: %s", what, fk);
		return (0);
	}
	if ((ext & 0xff) == SQLITE_CONSTRAINT) {
		jx_bad(x, line, "%s: %s", what, sqlite3_errmsg(t->db));
		return (0);
	}
	return (tly_dberr(t, "importing"));
}

#define C11 "c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11"
#define C13 C11 ", c12, c13"
#define C16 C13 ", c14, c15, c16"
#define Q11 "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11"
#define Q13 Q11 ", ?12, ?13"
#define Q16 Q13 ", ?14, ?15, ?16"

#define PERSON_COLS                                                        \
	"id, name, name_key, org, title, url, how_met, referred_by, note," \
	" emails, phones, tags, closeness, is_me, created, updated"
#define INTERACTION_COLS                                                  \
	"id, person, kind, at, minutes, note, follow_up, follow_up_done," \
	" thanked, created, updated"
#define FAVOR_COLS                                                     \
	"id, person, dir, kind, status, weight, note, intro, done_at," \
	" thanked, confirmed, created, updated"

static const stage stages[ST_N] = {
	[ST_PERSON] = { "CREATE TEMP TABLE IF NOT EXISTS tly_stage_person(" C16
	                ", line)",
	    "INSERT INTO temp.tly_stage_person VALUES (" Q16 ", ?17)",
	    "INSERT INTO main.person(" PERSON_COLS ") SELECT " C16
	    " FROM temp.tly_stage_person ORDER BY rowid",
	    "SELECT " C16 ", line FROM temp.tly_stage_person ORDER BY rowid",
	    "DELETE FROM temp.tly_stage_person",
	    "INSERT INTO main.person(" PERSON_COLS ") VALUES (" Q16 ")",
	    "UPDATE main.person SET name = ?2, name_key = ?3, org = ?4,"
	    " title = ?5, url = ?6, how_met = ?7, referred_by = ?8,"
	    " note = ?9, emails = ?10, phones = ?11, tags = ?12,"
	    " closeness = ?13, updated = ?16 WHERE id = ?1 AND updated < ?16",
	    16, "person", "refers to a person who is not there" },
	[ST_INTERACTION] = { "CREATE TEMP TABLE IF NOT EXISTS "
	                     "tly_stage_interaction(" C11 ", line)",
	    "INSERT INTO temp.tly_stage_interaction VALUES (" Q11 ", ?12)",
	    "INSERT INTO main.interaction(" INTERACTION_COLS ") SELECT " C11
	    " FROM temp.tly_stage_interaction ORDER BY rowid",
	    "SELECT " C11 ", line FROM temp.tly_stage_interaction"
	    " ORDER BY rowid",
	    "DELETE FROM temp.tly_stage_interaction",
	    "INSERT INTO main.interaction(" INTERACTION_COLS ") VALUES (" Q11
	    ")",
	    "UPDATE main.interaction SET person = ?2, kind = ?3, at = ?4,"
	    " minutes = ?5, note = ?6, follow_up = ?7, follow_up_done = ?8,"
	    " thanked = ?9, updated = ?11 WHERE id = ?1 AND updated < ?11",
	    11, "interaction",
	    "its person is neither in the dump nor in the replica" },
	[ST_FAVOR] = { "CREATE TEMP TABLE IF NOT EXISTS tly_stage_favor(" C13
	               ", line)",
	    "INSERT INTO temp.tly_stage_favor VALUES (" Q13 ", ?14)",
	    "INSERT INTO main.favor(" FAVOR_COLS ") SELECT " C13
	    " FROM temp.tly_stage_favor ORDER BY rowid",
	    "SELECT " C13 ", line FROM temp.tly_stage_favor ORDER BY rowid",
	    "DELETE FROM temp.tly_stage_favor",
	    "INSERT INTO main.favor(" FAVOR_COLS ") VALUES (" Q13 ")",
	    "UPDATE main.favor SET person = ?2, dir = ?3, kind = ?4,"
	    " status = ?5, weight = ?6, note = ?7, intro = ?8, done_at = ?9,"
	    " thanked = ?10, confirmed = ?11, updated = ?13"
	    " WHERE id = ?1 AND updated < ?13",
	    13, "favor",
	    "its person is neither in the dump nor in the replica" },
};

/* Moves the records waiting in stage k into their table. */
static int
flush_stage(jx *x, int k)
{
	const stage  *sg = &stages[k];
	tally        *t  = x->im.t;
	sqlite3_stmt *st, *scan;
	int           rc, ext, rv = 0, stored;

	if (x->staged[k] == 0)
		return (0);
	if ((st = tly_stmt(t, sg->flush)) == NULL)
		return (TALLY_EINTERNAL);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		sqlite3_reset(st);
		x->im.st->added += x->staged[k];
		goto clear;
	}
	ext = sqlite3_extended_errcode(t->db);
	sqlite3_reset(st);
	if ((ext & 0xff) != SQLITE_CONSTRAINT)
		return (tly_dberr(t, "importing"));
	/* Something in the batch is in the way: one by one. */
	if ((scan = tly_stmt(t, sg->scan)) == NULL)
		return (TALLY_EINTERNAL);
	x->scan_ncols = sg->ncols;
	while (rv == 0 && (rc = sqlite3_step(scan)) == SQLITE_ROW)
		rv = store(x, sg->ins, sg->upd, bind_scan, scan, sg->what,
		    sg->fk,
		    (unsigned long) sqlite3_column_int64(scan, sg->ncols),
		    &stored);
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_dberr(t, "importing");
	sqlite3_reset(scan);
	if (rv != 0)
		return (rv);
clear:
	x->staged[k] = 0;
	jx_said(x);
	if ((st = tly_stmt(t, sg->clear)) == NULL)
		return (TALLY_EINTERNAL);
	return (tly_step_done(t, st, "importing"));
}

/* Puts a record into stage k (bind sets ?1..?N); flushes a full one. */
static int
stage_put(jx *x, int k, void (*bind)(jx *, sqlite3_stmt *, const void *),
    const void *arg)
{
	const stage  *sg = &stages[k];
	sqlite3_stmt *st;
	int           rv, stored;

	if (x->bk.on) /* no trigger to batch for: straight in */
		return (store(x, sg->ins, sg->upd, bind, arg, sg->what, sg->fk,
		    x->line, &stored));
	if ((st = tly_stmt(x->im.t, sg->put)) == NULL)
		return (TALLY_EINTERNAL);
	bind(x, st, arg);
	sqlite3_bind_int64(st, sg->ncols + 1, (sqlite3_int64) x->line);
	if ((rv = tly_step_done(x->im.t, st, "importing")) != 0)
		return (rv);
	if (++x->staged[k] >= JS_BATCH)
		return (flush_stage(x, k));
	return (0);
}

static void
bind_person(jx *x, sqlite3_stmt *st, const void *arg)
{
	const person_row *row = &x->person;
	const jval       *v   = arg;

	sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
	bind_str(st, 2, &v[P_NAME]);
	sqlite3_bind_text(st, 3, row->key, -1, SQLITE_STATIC);
	bind_str(st, 4, &v[P_ORG]);
	bind_str(st, 5, &v[P_TITLE]);
	bind_str(st, 6, &v[P_URL]);
	bind_str(st, 7, &v[P_HOW_MET]);
	tly_bind_text(st, 8, row->referred);
	bind_str(st, 9, &v[P_NOTE]);
	sqlite3_bind_text(st, 10, v[P_EMAILS].s, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, v[P_PHONES].s, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, v[P_TAGS].s, -1, SQLITE_STATIC);
	bind_int(st, 13, &v[P_CLOSENESS]);
	sqlite3_bind_int(st, 14, row->is_me);
	sqlite3_bind_int64(st, 15, v[P_CREATED].i);
	sqlite3_bind_int64(st, 16, v[P_UPDATED].i);
}

static int
import_person(jx *x, const jval *v)
{
	tally      *t   = x->im.t;
	person_row *row = &x->person;
	int         rv, stored, yes;

	if (v[P_CLOSENESS].set &&
	    (v[P_CLOSENESS].i < 0 || v[P_CLOSENESS].i > 5))
		js_bad(&x->p, "closeness %lld is out of range (0-5)",
		    (long long) v[P_CLOSENESS].i);
	if (x->p.bad[0] == '\0' && v[P_IS_ME].i && x->dump_me[0] != '\0')
		js_bad(&x->p, "a second person is marked as me");
	if (x->p.bad[0] != '\0') {
		jx_bad(x, x->line, "person: %s", x->p.bad);
		return (0);
	}
	memset(row, 0, sizeof *row);
	row->id = v[P_ID].s;
	if (v[P_IS_ME].i) {
		memcpy(x->dump_me, v[P_ID].s, TALLY_ID_LEN + 1);
		if (t->me[0] == '\0')
			row->is_me = 1;
		else
			row->id = t->me;
	}
	if (v[P_REFERRED_BY].set) {
		const char *ref = map_person(x, v[P_REFERRED_BY].s);
		if ((rv = row_exists(x, "SELECT 1 FROM person WHERE id = ?1",
		         ref, &yes)) != 0)
			return (rv);
		row->referred = yes ? ref : NULL;
		/* Not there yet (later in the dump?): linked at the end. */
		if (!yes &&
		    (rv = add_fixup(x, row->id, v[P_REFERRED_BY].s, 0,
		         v[P_UPDATED].i)) != 0)
			return (rv);
	}
	if ((row->key = tly_casefold(v[P_NAME].s)) == NULL)
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	if (v[P_IS_ME].i) {
		const stage *sg = &stages[ST_PERSON];
		rv = store(x, sg->ins, sg->upd, bind_person, v, sg->what,
		    sg->fk, x->line, &stored);
		if (rv == 0 && stored && row->is_me)
			memcpy(t->me, v[P_ID].s, TALLY_ID_LEN + 1);
	} else
		rv = stage_put(x, ST_PERSON, bind_person, v);
	free(row->key);
	row->key = NULL;
	return (rv);
}

static void
bind_interaction(jx *x, sqlite3_stmt *st, const void *arg)
{
	const jval *v = arg;

	bind_str(st, 1, &v[I_ID]);
	sqlite3_bind_text(
	    st, 2, map_person(x, v[I_PERSON].s), -1, SQLITE_STATIC);
	bind_str(st, 3, &v[I_KIND]);
	sqlite3_bind_int64(st, 4, v[I_AT].i);
	bind_int(st, 5, &v[I_MINUTES]);
	bind_str(st, 6, &v[I_NOTE]);
	bind_int(st, 7, &v[I_FOLLOW_UP]);
	bind_int(st, 8, &v[I_FOLLOW_UP_DONE]);
	bind_int(st, 9, &v[I_THANKED]);
	sqlite3_bind_int64(st, 10, v[I_CREATED].i);
	sqlite3_bind_int64(st, 11, v[I_UPDATED].i);
}

static int
import_interaction(jx *x, const jval *v)
{
	static const char *const kinds[] = { "call", "coffee", "meeting",
		"email", "event", NULL };

	if (v[I_KIND].set && !tly_oneof(v[I_KIND].s, kinds))
		js_bad(&x->p,
		    "unknown kind '%.40s' (call, coffee, meeting, "
		    "email, event)",
		    v[I_KIND].s);
	if (v[I_MINUTES].set &&
	    (v[I_MINUTES].i < 0 || v[I_MINUTES].i > 24 * 60))
		js_bad(&x->p, "minutes %lld is out of range (0-1440)",
		    (long long) v[I_MINUTES].i);
	if (x->p.bad[0] != '\0') {
		jx_bad(x, x->line, "interaction: %s", x->p.bad);
		return (0);
	}
	return (stage_put(x, ST_INTERACTION, bind_interaction, v));
}

static void
bind_favor(jx *x, sqlite3_stmt *st, const void *arg)
{
	const favor_row *row = &x->favor;
	const jval      *v   = arg;

	bind_str(st, 1, &v[F_ID]);
	sqlite3_bind_text(st, 2, row->person, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, row->dir);
	bind_str(st, 4, &v[F_KIND]);
	bind_str(st, 5, &v[F_STATUS]);
	sqlite3_bind_int(st, 6, row->weight);
	bind_str(st, 7, &v[F_NOTE]);
	tly_bind_text(st, 8, row->intro);
	bind_int(st, 9, &v[F_DONE_AT]);
	bind_int(st, 10, &v[F_THANKED]);
	sqlite3_bind_int(st, 11, v[F_CONFIRMED].i != 0);
	sqlite3_bind_int64(st, 12, v[F_CREATED].i);
	sqlite3_bind_int64(st, 13, v[F_UPDATED].i);
}

static int
import_favor(jx *x, const jval *v)
{
	static const char *const states[] = { "asked", "promised", "done",
		"declined", NULL };
	const char              *me       = x->im.t->me, *from, *to;
	favor_row               *row      = &x->favor;
	int                      rv, yes;

	memset(row, 0, sizeof *row);
	if (x->p.bad[0] == '\0') {
		from = map_person(x, v[F_FROM].s);
		to   = map_person(x, v[F_TO].s);
		if (strcmp(from, to) == 0)
			js_bad(
			    &x->p, "\"from\" and \"to\" are the same person");
		else if (me[0] != '\0' && strcmp(from, me) == 0) {
			row->dir    = 1;
			row->person = to;
		} else if (me[0] != '\0' && strcmp(to, me) == 0) {
			row->dir    = -1;
			row->person = from;
		} else
			js_bad(&x->p, "neither \"from\" nor \"to\" is me");
	}
	if (x->p.bad[0] == '\0') {
		row->weight = tally_favor_weight(v[F_KIND].s);
		if (row->weight < 0)
			js_bad(&x->p,
			    "unknown kind '%.40s' (introduction, "
			    "reference, referral, advice, resume, "
			    "info, other)",
			    v[F_KIND].s);
		else if (!tly_oneof(v[F_STATUS].s, states))
			js_bad(&x->p,
			    "unknown status '%.40s' (asked, "
			    "promised, done, declined)",
			    v[F_STATUS].s);
		else if (v[F_WEIGHT].set) {
			if (v[F_WEIGHT].i < 0 || v[F_WEIGHT].i > 100)
				js_bad(&x->p,
				    "weight %lld is out of range "
				    "(0-100)",
				    (long long) v[F_WEIGHT].i);
			row->weight = (int) v[F_WEIGHT].i;
		}
	}
	if (x->p.bad[0] != '\0') {
		jx_bad(x, x->line, "favor: %s", x->p.bad);
		return (0);
	}
	if (v[F_INTRO].set) {
		if ((rv = row_exists(x,
		         "SELECT 1 FROM introduction WHERE id = ?1",
		         v[F_INTRO].s, &yes)) != 0)
			return (rv);
		row->intro = yes ? v[F_INTRO].s : NULL;
		/* Introductions come after favors in a dump. */
		if (!yes &&
		    (rv = add_fixup(
		         x, v[F_ID].s, v[F_INTRO].s, 1, v[F_UPDATED].i)) != 0)
			return (rv);
	}
	return (stage_put(x, ST_FAVOR, bind_favor, v));
}

static const char intro_ins[] =
    "INSERT INTO introduction(id, by, a, b, note, status, created,"
    " updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char intro_upd[] =
    "UPDATE introduction SET by = ?2, a = ?3, b = ?4, note = ?5,"
    " status = ?6, updated = ?8 WHERE id = ?1 AND updated < ?8";

static void
bind_intro(jx *x, sqlite3_stmt *st, const void *arg)
{
	const jval *v = arg;

	bind_str(st, 1, &v[N_ID]);
	sqlite3_bind_text(st, 2, map_person(x, v[N_BY].s), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, map_person(x, v[N_A].s), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, map_person(x, v[N_B].s), -1, SQLITE_STATIC);
	bind_str(st, 5, &v[N_NOTE]);
	if (v[N_STATUS].set)
		bind_str(st, 6, &v[N_STATUS]);
	else
		sqlite3_bind_text(st, 6, "made", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, v[N_CREATED].i);
	sqlite3_bind_int64(st, 8, v[N_UPDATED].i);
}

static int
import_intro(jx *x, const jval *v)
{
	static const char *const states[] = { "proposed", "made", "declined",
		NULL };
	int                      stored;

	if (x->p.bad[0] == '\0') {
		const char *by = map_person(x, v[N_BY].s);
		const char *a  = map_person(x, v[N_A].s);
		const char *b  = map_person(x, v[N_B].s);
		if (strcmp(by, a) == 0 || strcmp(by, b) == 0 ||
		    strcmp(a, b) == 0)
			js_bad(&x->p,
			    "an introduction is between three "
			    "different people");
		else if (v[N_STATUS].set && !tly_oneof(v[N_STATUS].s, states))
			js_bad(&x->p,
			    "unknown status '%.40s' (proposed, "
			    "made, declined)",
			    v[N_STATUS].s);
	}
	if (x->p.bad[0] != '\0') {
		jx_bad(x, x->line, "introduction: %s", x->p.bad);
		return (0);
	}
	return (store(x, intro_ins, intro_upd, bind_intro, v, "introduction",
	    "a person in it is neither in the dump nor in the replica",
	    x->line, &stored));
}

static const char reference_ins[] =
    "INSERT INTO reference(id, person, for_what, created, updated)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
static const char reference_upd[] =
    "UPDATE reference SET person = ?2, for_what = ?3, updated = ?5"
    " WHERE id = ?1 AND updated < ?5";

static void
bind_reference(jx *x, sqlite3_stmt *st, const void *arg)
{
	const jval *v = arg;

	bind_str(st, 1, &v[R_ID]);
	sqlite3_bind_text(
	    st, 2, map_person(x, v[R_PERSON].s), -1, SQLITE_STATIC);
	bind_str(st, 3, &v[R_FOR]);
	sqlite3_bind_int64(st, 4, v[R_CREATED].i);
	sqlite3_bind_int64(st, 5, v[R_UPDATED].i);
}

static int
import_reference(jx *x, const jval *v)
{
	int stored;

	if (x->p.bad[0] != '\0') {
		jx_bad(x, x->line, "reference: %s", x->p.bad);
		return (0);
	}
	return (store(x, reference_ins, reference_upd, bind_reference, v,
	    "reference",
	    "its person is neither in the dump nor in the replica", x->line,
	    &stored));
}

static const char use_ins[] =
    "INSERT INTO reference_use(id, reference, for_what, at, created,"
    " updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char use_upd[] =
    "UPDATE reference_use SET reference = ?2, for_what = ?3, at = ?4,"
    " updated = ?6 WHERE id = ?1 AND updated < ?6";

static void
bind_use(jx *x, sqlite3_stmt *st, const void *arg)
{
	const jval *v = arg;

	(void) x;
	bind_str(st, 1, &v[U_ID]);
	bind_str(st, 2, &v[U_REFERENCE]);
	bind_str(st, 3, &v[U_FOR]);
	sqlite3_bind_int64(st, 4, v[U_AT].i);
	sqlite3_bind_int64(st, 5, v[U_CREATED].i);
	sqlite3_bind_int64(st, 6, v[U_UPDATED].i);
}

static int
import_use(jx *x, const jval *v)
{
	int stored;

	if (x->p.bad[0] != '\0') {
		jx_bad(x, x->line, "reference use: %s", x->p.bad);
		return (0);
	}
	return (store(x, use_ins, use_upd, bind_use, v, "reference use",
	    "its reference is neither in the dump nor in the replica", x->line,
	    &stored));
}

/* Peers: the people linked to a key, by the person's id. */
enum { E_PERSON, E_TALLY_ID, E_VERIFIED, E_CREATED, E_UPDATED, E_N };
static const jfield peer_fields[E_N] = {
	{ "person", JT_STR, JF_REQ | JF_ID, 0, 0 },
	{ "tally_id", JT_STR, JF_REQ, 0, 0 },
	{ "verified", JT_STR, JF_TIME, 0, 0 },
	{ "created", JT_STR, JF_REQ | JF_TIME, 0, 0 },
	{ "updated", JT_STR, JF_REQ | JF_TIME, 0, 0 },
};

static const char peer_ins[] =
    "INSERT INTO peer(person, pk, verified, created, updated)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
static const char peer_upd[] =
    "UPDATE peer SET pk = ?2, verified = ?3, updated = ?5"
    " WHERE person = ?1 AND updated < ?5";

typedef struct peer_row {
	const jval   *v;
	unsigned char pk[TLY_PK_BYTES];
} peer_row;

static void
bind_peer(jx *x, sqlite3_stmt *st, const void *arg)
{
	const peer_row *r = arg;
	const jval     *v = r->v;

	sqlite3_bind_text(
	    st, 1, map_person(x, v[E_PERSON].s), -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, r->pk, TLY_PK_BYTES, SQLITE_STATIC);
	if (v[E_VERIFIED].set && !v[E_VERIFIED].null)
		sqlite3_bind_int64(st, 3, v[E_VERIFIED].i);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int64(st, 4, v[E_CREATED].i);
	sqlite3_bind_int64(st, 5, v[E_UPDATED].i);
}

static int
import_peer(jx *x, const jval *v)
{
	peer_row      r = { v, { 0 } };
	sqlite3_stmt *st;
	const char   *person;
	int           rc, stored;

	if (x->p.bad[0] == '\0' && tly_tallyid_parse(r.pk, v[E_TALLY_ID].s))
		js_bad(&x->p, "\"tally_id\" is not a tally id: %.70s",
		    v[E_TALLY_ID].s);
	if (x->p.bad[0] != '\0') {
		jx_bad(x, x->line, "peer: %s", x->p.bad);
		return (0);
	}
	person = map_person(x, v[E_PERSON].s);
	if (strcmp(person, x->im.t->me) == 0) {
		jx_bad(x, x->line, "peer: the user cannot be their own peer");
		return (0);
	}
	/* A key links one person: not silently moved to another. */
	if ((st = tly_stmt(x->im.t,
	         "SELECT 1 FROM peer WHERE pk = ?1 AND person <> ?2")) ==
	    NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_blob(st, 1, r.pk, TLY_PK_BYTES, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, person, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW) {
		jx_bad(x, x->line,
		    "peer: tally id %.12s... is linked to another person in "
		    "this replica",
		    v[E_TALLY_ID].s);
		return (0);
	}
	if (rc != SQLITE_DONE)
		return (tly_dberr(x->im.t, "importing"));
	return (store(x, peer_ins, peer_upd, bind_peer, &r, "peer",
	    "its person is neither in the dump nor in the replica", x->line,
	    &stored));
}

/* Records: what the replica keeps beside the signed container, which
 * holds the rest (kind, date, parties, text) and is checked on import
 * as strictly as a record file. */
enum {
	D_ID,
	D_STATE,
	D_PEER,
	D_BY_ME,
	D_PROPOSED_BY_ME,
	D_PERSON,
	D_FAVOR,
	D_SIGNED,
	D_REVOCATION,
	D_REASON,
	D_CLOSED_BY_ME,
	D_STORED,
	D_UPDATED,
	D_CONFIRMED_AT,
	D_CLOSED_AT,
	D_N
};
static const jfield record_fields[D_N] = {
	{ "id", JT_STR, JF_REQ, 0, 0 },
	{ "state", JT_STR, JF_REQ, 0, 0 },
	{ "peer", JT_STR, JF_REQ, 0, 0 },
	{ "by_me", JT_BOOL, JF_REQ, 0, 0 },
	{ "proposed_by_me", JT_BOOL, JF_REQ, 0, 0 },
	{ "person", JT_STR, JF_ID, 0, 0 },
	{ "favor", JT_STR, JF_ID, 0, 0 },
	{ "signed", JT_STR, JF_REQ, 0, 0 },
	{ "revocation", JT_STR, 0, 0, 0 },
	{ "reason", JT_STR, 0, 0, 0 },
	{ "closed_by_me", JT_BOOL, 0, 0, 0 },
	{ "stored", JT_STR, JF_REQ | JF_TIME, 0, 0 },
	{ "updated", JT_STR, JF_REQ | JF_TIME, 0, 0 },
	{ "confirmed_at", JT_STR, JF_TIME, 0, 0 },
	{ "closed_at", JT_STR, JF_TIME, 0, 0 },
};

#define REC_COLS                                                          \
	"id, kind, state, peer_pk, person, by_me, proposed_by_me, happened," \
	" favor_kind, name, note, signed, favor, revocation, reason,"       \
	" closed_by_me, created, stored, updated, confirmed_at, closed_at"
static const char record_ins[] = "INSERT INTO record(" REC_COLS ") VALUES"
                                 " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
                                 " ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
                                 " ?18, ?19, ?20, ?21)";
static const char record_upd[] =
    "UPDATE record SET state = ?3, person = ?5, proposed_by_me = ?7,"
    " signed = ?12, favor = ?13, revocation = ?14, reason = ?15,"
    " closed_by_me = ?16, stored = ?18, updated = ?19,"
    " confirmed_at = ?20, closed_at = ?21 WHERE id = ?1 AND updated < ?19";

typedef struct record_row {
	const jval   *v;
	tly_signed    s;                   /* the record, checked */
	unsigned char pk[TLY_PK_BYTES];    /* the peer's key */
	tly_buf       canon;               /* s re-encoded */
	unsigned char rev[TLY_SIGNED_MAX]; /* the revocation, if any */
	size_t        revlen;
} record_row;

static void
bind_opt_time(sqlite3_stmt *st, int i, const jval *v)
{
	if (v->set && !v->null)
		sqlite3_bind_int64(st, i, v->i);
	else
		sqlite3_bind_null(st, i);
}

static void
bind_record(jx *x, sqlite3_stmt *st, const void *arg)
{
	const record_row *r   = arg;
	const jval       *v   = r->v;
	const tly_record *rec = &r->s.rec;
	char              date[TLY_DATE_LEN];

	tly_date_format(date, &rec->date);
	bind_str(st, 1, &v[D_ID]);
	sqlite3_bind_text(st, 2, tly_rec_kind_name(rec->kind), -1,
	    SQLITE_STATIC);
	bind_str(st, 3, &v[D_STATE]);
	sqlite3_bind_blob(st, 4, r->pk, TLY_PK_BYTES, SQLITE_STATIC);
	if (v[D_PERSON].s != NULL)
		sqlite3_bind_text(
		    st, 5, map_person(x, v[D_PERSON].s), -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int(st, 6, (int) v[D_BY_ME].i);
	sqlite3_bind_int(st, 7, (int) v[D_PROPOSED_BY_ME].i);
	sqlite3_bind_text(st, 8, date, -1, SQLITE_TRANSIENT);
	if (rec->kind == TLY_REC_FAVOR)
		sqlite3_bind_text(st, 9, tly_favor_kind_name(rec->favor_kind),
		    -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 9);
	if (rec->name[0] != '\0')
		sqlite3_bind_text(st, 10, rec->name, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 10);
	sqlite3_bind_text(st, 11, rec->text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(
	    st, 12, r->canon.p, (int) r->canon.len, SQLITE_STATIC);
	bind_str(st, 13, &v[D_FAVOR]);
	if (r->revlen > 0)
		sqlite3_bind_blob(st, 14, r->rev, (int) r->revlen, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 14);
	bind_str(st, 15, &v[D_REASON]);
	if (v[D_CLOSED_BY_ME].set && !v[D_CLOSED_BY_ME].null)
		sqlite3_bind_int(st, 16, (int) v[D_CLOSED_BY_ME].i);
	else
		sqlite3_bind_null(st, 16);
	sqlite3_bind_int64(st, 17, rec->created);
	sqlite3_bind_int64(st, 18, v[D_STORED].i);
	sqlite3_bind_int64(st, 19, v[D_UPDATED].i);
	bind_opt_time(st, 20, &v[D_CONFIRMED_AT]);
	bind_opt_time(st, 21, &v[D_CLOSED_AT]);
}

/* Checks a record of the dump as a record file is checked, and against
 * this replica's identity; says what is wrong in x->p.bad. */
static void
check_record(jx *x, record_row *r)
{
	static const char *const states[] = { "proposed", "confirmed",
		"declined", "revoked", NULL };
	const jval              *v = r->v;
	unsigned char            buf[TLY_SIGNED_MAX], mine[TLY_PK_BYTES];
	char                     idhex[2 * TLY_REC_ID_BYTES + 1];
	size_t                   n;
	tly_verify               ver;
	tly_signed               rev;
	int                      why = TLY_WHY_NONE, me, peer;

	if (!tly_oneof(v[D_STATE].s, states)) {
		js_bad(&x->p,
		    "unknown state '%.40s' (proposed, confirmed, declined, "
		    "revoked)",
		    v[D_STATE].s);
		return;
	}
	if (tly_tallyid_parse(r->pk, v[D_PEER].s) != 0) {
		js_bad(&x->p, "\"peer\" is not a tally id: %.70s",
		    v[D_PEER].s);
		return;
	}
	if (tly_b64_decode(buf, sizeof buf, &n, v[D_SIGNED].s,
	        v[D_SIGNED].len) != 0 ||
	    tly_signed_decode(&r->s, buf, n, &why) != 0) {
		js_bad(&x->p, "\"signed\" is not a signed record: %s",
		    tly_why_str(why));
		return;
	}
	tly_hex_encode(idhex, r->s.id, sizeof r->s.id);
	if (strcmp(idhex, v[D_ID].s) != 0) {
		js_bad(&x->p, "\"id\" is not the id of the signed record (%s)",
		    idhex);
		return;
	}
	if (tly_signed_verify(&r->s, &ver, NULL) != 0) {
		js_bad(&x->p, "a signature of the record does not verify");
		return;
	}
	if (strcmp(v[D_STATE].s, "confirmed") == 0 && !ver.complete) {
		js_bad(&x->p, "a confirmed record lacks a signature");
		return;
	}
	if (tly_my_pk(x->im.t, mine) != 0) {
		js_bad(&x->p, "this replica has no identity yet: set it up "
		              "from its key file before importing records");
		return;
	}
	me   = tly_record_party(&r->s.rec, mine);
	peer = tly_record_party(&r->s.rec, r->pk);
	if (me < 0 || peer < 0 || me == peer) {
		js_bad(&x->p, "the record is not between this replica's "
		              "identity and \"peer\"");
		return;
	}
	if ((me == 0) != (v[D_BY_ME].i != 0)) {
		js_bad(&x->p, "\"by_me\" does not match the record's parties");
		return;
	}
	if (v[D_REVOCATION].s != NULL) {
		if (tly_b64_decode(r->rev, sizeof r->rev, &r->revlen,
		        v[D_REVOCATION].s, v[D_REVOCATION].len) != 0 ||
		    tly_signed_decode(&rev, r->rev, r->revlen, &why) != 0 ||
		    tly_signed_verify(&rev, &ver, NULL) != 0 || !ver.complete ||
		    tly_revocation_check(&rev.rec, &r->s, &why) != 0) {
			js_bad(&x->p,
			    "\"revocation\" is not a signed decline or "
			    "revocation of this record");
			return;
		}
	}
	if (tly_signed_encode(&r->canon, &r->s) != 0)
		js_bad(&x->p, "out of memory");
}

static int
import_record(jx *x, const jval *v)
{
	record_row *r;
	int         stored, rv = 0;

	if ((r = calloc(1, sizeof *r)) == NULL)
		return (tly_seterr(x->im.t, TALLY_ENOMEM, "out of memory"));
	r->v = v;
	if (x->p.bad[0] == '\0')
		check_record(x, r);
	if (x->p.bad[0] != '\0')
		jx_bad(x, x->line, "record: %s", x->p.bad);
	else
		rv = store(x, record_ins, record_upd, bind_record, r, "record",
		    "its person or favor is neither in the dump nor in the "
		    "replica",
		    x->line, &stored);
	tly_buf_free(&r->canon);
	free(r);
	return (rv);
}

static const struct table {
	const char   *name; /* the dump's key */
	const jfield *fields;
	size_t        nfields;
	int (*import)(jx *, const jval *);
	int stage; /* its stage, or -1 */
} tables[] = {
	{ "people", person_fields, P_N, import_person, ST_PERSON },
	{ "interactions", interaction_fields, I_N, import_interaction,
	    ST_INTERACTION },
	{ "favors", favor_fields, F_N, import_favor, ST_FAVOR },
	{ "introductions", intro_fields, N_N, import_intro, -1 },
	{ "references", reference_fields, R_N, import_reference, -1 },
	{ "reference_uses", use_fields, U_N, import_use, -1 },
	{ "peers", peer_fields, E_N, import_peer, -1 },
	{ "records", record_fields, D_N, import_record, -1 },
};

/* Reads and stores the records of one array (its '[' is next). */
static int
import_array(jx *x, const struct table *tb)
{
	jval v[JS_MAX_FIELDS];
	int  c, rv;

	x->table = tb->stage >= 0 ? tb->stage : ST_N;
	x->p.s.pos++;
	if (js_ws(&x->p.s) == ']') {
		x->p.s.pos++;
		return (0);
	}
	for (;;) {
		if (js_ws(&x->p.s) != '{')
			return (js_fail(&x->p, "expected a record ('{')"));
		x->line = x->p.s.line;
		if (js_record(&x->p, tb->fields, tb->nfields, v) != 0)
			return (-1);
		tly_imp_record(&x->im);
		if ((rv = tb->import(x, v)) != 0) {
			x->p.rv = rv;
			return (-1);
		}
		c = js_ws(&x->p.s);
		x->p.s.pos++;
		if (c == ']')
			break;
		if (c != ',')
			return (js_fail(&x->p, "expected ',' or ']'"));
	}
	/* What the next arrays refer to is stored before them. */
	if (tb->stage >= 0 && (rv = flush_stage(x, tb->stage)) != 0) {
		x->p.rv = rv;
		return (-1);
	}
	return (0);
}

/* Sets the links to rows that came later in the dump. */
static int
apply_fixups(jx *x)
{
	tally        *t = x->im.t;
	sqlite3_stmt *st;
	int           rv, yes;

	for (size_t i = 0; i < x->nfix; i++) {
		fixup      *f = &x->fix[i];
		const char *target =
		    f->intro ? f->target : map_person(x, f->target);
		if ((rv = row_exists(x,
		         f->intro ? "SELECT 1 FROM introduction WHERE id = ?1"
		                  : "SELECT 1 FROM person WHERE id = ?1",
		         target, &yes)) != 0)
			return (rv);
		/* Link the row if it holds the dump's version. */
		st = tly_stmt(t,
		    f->intro
		        ? "UPDATE favor SET intro = ?2 WHERE id = ?1"
		          " AND updated = ?3 AND ?4"
		        : "UPDATE person SET referred_by = ?2 WHERE id = ?1"
		          " AND updated = ?3 AND ?4");
		if (st == NULL)
			return (TALLY_EINTERNAL);
		tly_bind_text(st, 1, f->row);
		tly_bind_text(st, 2, target);
		sqlite3_bind_int64(st, 3, f->updated);
		sqlite3_bind_int(st, 4, yes);
		if ((rv = tly_step_done(t, st, "importing")) != 0)
			return (rv);
		if (yes)
			continue;
		/* Report it if the row was stored without its link. */
		st = tly_stmt(t,
		    f->intro
		        ? "SELECT 1 FROM favor WHERE id = ?1 AND updated = ?2"
		        : "SELECT 1 FROM person WHERE id = ?1 AND updated = "
		          "?2");
		if (st == NULL)
			return (TALLY_EINTERNAL);
		tly_bind_text(st, 1, f->row);
		sqlite3_bind_int64(st, 2, f->updated);
		yes = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_reset(st);
		if (yes)
			tly_imp_bad(&x->im, f->line,
			    f->intro ? "favor: introduction %s is neither in "
			               "the dump nor in the replica"
			             : "person: referred_by %s is neither in "
			               "the dump nor in the replica",
			    f->target);
	}
	return (0);
}

/* Refuses a file that is not a tally dump (a message naming it). */
static int
not_dump(jp *p, int rv, const char *why)
{
	p->rv = tly_seterr(
	    p->t, rv, "%s is not a tally JSON dump (%s)", p->path, why);
	return (-1);
}

/* Takes the dump's identity (its public key; the secret stays in the
 * key file) as this replica's when it has none, so that its records can
 * be read back; a replica with another identity keeps its own, and the
 * records of the dump are then refused one by one. */
static int
dump_identity(jx *x, const char *tid)
{
	unsigned char pk[TLY_PK_BYTES], have[TLY_PK_BYTES];
	char          hex[2 * TLY_PK_BYTES + 1];
	sqlite3_stmt *st;
	tally        *t = x->p.t;
	int           rv;

	if (tly_tallyid_parse(pk, tid) != 0)
		return (js_fail(&x->p, "\"identity\" is not a tally id"));
	if ((rv = tly_my_pk(t, have)) == 0)
		return (0);
	if (rv != TALLY_ENOTINIT) {
		x->p.rv = rv;
		return (-1);
	}
	tly_hex_encode(hex, pk, sizeof pk);
	if ((st = tly_stmt(t, "INSERT INTO meta(key, value) VALUES (?1, ?2)")) ==
	    NULL) {
		x->p.rv = TALLY_EINTERNAL;
		return (-1);
	}
	sqlite3_bind_text(st, 1, TLY_META_PK, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hex, -1, SQLITE_TRANSIENT);
	if ((rv = tly_step_done(t, st, "importing the identity")) != 0) {
		x->p.rv = rv;
		return (-1);
	}
	return (0);
}

/* Reads the value of the dump's member key (its first byte is c). */
static int
dump_member(jx *x, const char *key, int c, int *have_fm, int *have_ver)
{
	jp     *p = &x->p;
	size_t  off, len;
	int64_t ver;
	int     isint;

	if (strcmp(key, "format") == 0) {
		if (c != '"')
			return (not_dump(
			    p, TALLY_EFORMAT, "\"format\" is not \"tally\""));
		if (js_string(p, 64, NULL, &off, &len) != 0)
			return (-1);
		if (strcmp((char *) p->arena.p + off, DUMP_FORMAT) != 0)
			return (not_dump(
			    p, TALLY_EFORMAT, "\"format\" is not \"tally\""));
		*have_fm = 1;
		return (0);
	}
	if (strcmp(key, "version") == 0) {
		if (c != '-' && (c < '0' || c > '9'))
			return (js_fail(p, "\"version\" must be a number"));
		if (js_number(p, &ver, &isint) != 0)
			return (-1);
		if (!isint || ver != DUMP_VERSION) {
			p->rv = tly_seterr(p->t, TALLY_EUNSUPP,
			    "%s: dump version %lld is not supported (this "
			    "tally reads version %d)",
			    p->path, isint ? (long long) ver : -1LL,
			    DUMP_VERSION);
			return (-1);
		}
		*have_ver = 1;
		return (0);
	}
	if (strcmp(key, "identity") == 0) {
		if (c != '"')
			return (js_fail(p, "\"identity\" must be a tally id"));
		if (js_string(p, 128, NULL, &off, &len) != 0)
			return (-1);
		return (dump_identity(x, (char *) p->arena.p + off));
	}
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		if (strcmp(key, tables[i].name) != 0)
			continue;
		if (!*have_fm || !*have_ver)
			return (not_dump(p, TALLY_EFORMAT,
			    "\"format\" and \"version\" must come first"));
		if (c != '[')
			return (js_fail(p, "expected a list ('[')"));
		return (import_array(x, &tables[i]));
	}
	return (js_skip(p, 1)); /* "exported", and keys we do not know */
}

/* Reads the whole dump. */
static int
import_dump(jx *x)
{
	jp    *p = &x->p;
	size_t off, len;
	int    have_fm = 0, have_ver = 0, c;

	if ((c = js_ws(&p->s)) != '{') {
		if (p->s.ioerr != 0)
			return (js_fail(p, ""));
		return (
		    not_dump(p, TALLY_EFORMAT, "it does not start with '{'"));
	}
	p->s.pos++;
	if ((c = js_ws(&p->s)) == '}')
		p->s.pos++;
	while (c != '}') {
		char key[JS_MAX_KEY + 1];

		if (c != '"')
			return (js_fail(p, "expected a key"));
		tly_buf_reset(&p->arena);
		if (js_string(p, JS_MAX_KEY, NULL, &off, &len) != 0 ||
		    js_expect(p, ':', "expected ':'") != 0)
			return (-1);
		snprintf(key, sizeof key, "%s", (char *) p->arena.p + off);
		c = js_ws(&p->s);
		if (dump_member(x, key, c, &have_fm, &have_ver) != 0)
			return (-1);
		c = js_ws(&p->s);
		p->s.pos++;
		if (c == '}')
			break;
		if (c != ',')
			return (js_fail(p, "expected ',' or '}'"));
		c = js_ws(&p->s);
	}
	if (js_ws(&p->s) != -1)
		return (js_fail(p, "more after the end of the dump"));
	if (p->s.ioerr != 0)
		return (js_fail(p, ""));
	if (!have_fm)
		return (not_dump(p, TALLY_EFORMAT, "no \"format\":\"tally\""));
	return (0);
}

/* Reads an integer PRAGMA. */
static int64_t
pragma_int(tally *t, const char *sql)
{
	sqlite3_stmt *st;
	int64_t       v = 0;

	if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return (v);
}

/* Sets the connection's page cache (PRAGMA cache_size: pages, or -KiB).
 * Best effort: a cache that cannot change only costs speed. */
static void
set_cache(tally *t, int64_t cache)
{
	char sql[64];

	snprintf(
	    sql, sizeof sql, "PRAGMA cache_size = %lld", (long long) cache);
	sqlite3_exec(t->db, sql, NULL, NULL, NULL);
}

/* -- Bulk mode (see struct bulk) -------------------------------------- */

#define JS_BULK_BYTES (1L << 20) /* files above this go in bulk mode */

int tly_json_bulk = -1;

/*
 * The triggers bulk mode drops, as sqlite_master holds them: the insert
 * triggers and the FTS update triggers of schema.c.  The text must stay
 * schema.c's, letter for letter: when a replica's triggers differ (an
 * older or newer schema), the import keeps them and runs row by row.
 */
#define BK_PERSON_KEYS(who)                                        \
	"INSERT INTO person_key(person, key)"                      \
	"  SELECT " who ".id, 'e:' || lower(trim(value))"          \
	"  FROM json_each(" who ".emails) WHERE trim(value) <> ''" \
	"  UNION SELECT " who ".id, 'u:' || " TLY_URL_KEY(who      \
	    ".url") "  WHERE " who ".url IS NOT NULL AND " who ".url <> '';"
#define BK_LEDGER_COLS                                                        \
	"ledger(person, name, given, received, n_given, n_received, pending," \
	" confirmed, last)"
#define BK_LEDGER_SELECT                                               \
	"SELECT f.person, p.name,"                                     \
	"  coalesce(sum(f.weight) FILTER"                              \
	"    (WHERE f.dir = 1 AND f.status = 'done'), 0),"             \
	"  coalesce(sum(f.weight) FILTER"                              \
	"    (WHERE f.dir = -1 AND f.status = 'done'), 0),"            \
	"  count(*) FILTER (WHERE f.dir = 1 AND f.status = 'done'),"   \
	"  count(*) FILTER (WHERE f.dir = -1 AND f.status = 'done'),"  \
	"  count(*) FILTER (WHERE f.status IN ('asked', 'promised'))," \
	"  count(*) FILTER (WHERE f.confirmed),"                       \
	"  max(coalesce(f.done_at, f.created))"                        \
	"  FROM favor f JOIN person p ON p.id = f.person"
#define BK_FTS_AI(tab, cols, newcols)                                 \
	"CREATE TRIGGER " tab "_fts_ai AFTER INSERT ON " tab " BEGIN" \
	"  INSERT INTO " tab "_fts(rowid, " cols                      \
	") VALUES (new.rid, " newcols ");"                            \
	"END"
#define BK_FTS_AU(tab, cols, newcols, oldcols)                           \
	"CREATE TRIGGER " tab "_fts_au AFTER UPDATE OF " cols " ON " tab \
	" BEGIN"                                                         \
	"  INSERT INTO " tab "_fts(" tab "_fts, rowid, " cols ")"        \
	"  VALUES ('delete', old.rid, " oldcols ");"                     \
	"  INSERT INTO " tab "_fts(rowid, " cols                         \
	") VALUES (new.rid, " newcols ");"                               \
	"END"
#define BK_PERSON_FTS "name, org, title, how_met, note, emails, tags"
#define BK_PERSON_NEW                                                      \
	"new.name, new.org, new.title, new.how_met, new.note, new.emails," \
	" new.tags"
#define BK_PERSON_OLD                                                      \
	"old.name, old.org, old.title, old.how_met, old.note, old.emails," \
	" old.tags"

static const struct {
	const char *name;
	const char *sql;
} bk_triggers[BK_NTRIG] = {
	{ "person_key_ai",
	    "CREATE TRIGGER person_key_ai AFTER INSERT ON person "
	    "BEGIN " BK_PERSON_KEYS("new") "END" },
	{ "interaction_ai",
	    "CREATE TRIGGER interaction_ai AFTER INSERT ON interaction BEGIN"
	    "  UPDATE person SET last_contact = new.at"
	    "  WHERE id = new.person AND last_contact < new.at;"
	    "END" },
	{ "favor_ai",
	    "CREATE TRIGGER favor_ai AFTER INSERT ON favor BEGIN "
	    "DELETE FROM ledger WHERE person = new.person;"
	    "INSERT INTO " BK_LEDGER_COLS " " BK_LEDGER_SELECT
	    " WHERE f.person = new.person GROUP BY f.person;"
	    "END" },
	{ "person_fts_ai", BK_FTS_AI("person", BK_PERSON_FTS, BK_PERSON_NEW) },
	{ "person_fts_au",
	    BK_FTS_AU("person", BK_PERSON_FTS, BK_PERSON_NEW, BK_PERSON_OLD) },
	{ "interaction_fts_ai", BK_FTS_AI("interaction", "note", "new.note") },
	{ "interaction_fts_au",
	    BK_FTS_AU("interaction", "note", "new.note", "old.note") },
	{ "favor_fts_ai", BK_FTS_AI("favor", "note", "new.note") },
	{ "favor_fts_au", BK_FTS_AU("favor", "note", "new.note", "old.note") },
};

static const char *const bk_maxrid[ST_N] = {
	[ST_PERSON] = "SELECT coalesce(max(rid), 0) FROM main.person",
	[ST_INTERACTION] =
	    "SELECT coalesce(max(rid), 0) FROM main.interaction",
	[ST_FAVOR] = "SELECT coalesce(max(rid), 0) FROM main.favor",
};

/* What the insert triggers write, for the rows of a table with a rid
 * above ?1, in one statement each. */
static const struct {
	int         table;
	const char *sql;
} bk_fill[] = {
	/* person_key_ai */
	{ ST_PERSON,
	    "INSERT OR IGNORE INTO main.person_key(person, key)"
	    "  SELECT p.id, 'e:' || lower(trim(e.value))"
	    "  FROM main.person p, json_each(p.emails) e"
	    "  WHERE p.rid > ?1 AND trim(e.value) <> ''"
	    "  UNION SELECT id, 'u:' || " TLY_URL_KEY(
	        "url") "  FROM main.person"
	               "  WHERE rid > ?1 AND url IS NOT NULL AND url <> ''" },
	/* interaction_ai */
	{ ST_INTERACTION,
	    "UPDATE main.person SET last_contact = m.at"
	    "  FROM (SELECT person AS p, max(at) AS at FROM main.interaction"
	    "    WHERE rid > ?1 GROUP BY person) AS m"
	    "  WHERE person.id = m.p AND person.last_contact < m.at" },
	/* favor_ai */
	{ ST_FAVOR,
	    "DELETE FROM main.ledger WHERE person IN"
	    "  (SELECT person FROM main.favor WHERE rid > ?1)" },
	{ ST_FAVOR,
	    "INSERT INTO main." BK_LEDGER_COLS " " BK_LEDGER_SELECT
	    " WHERE f.person IN"
	    "  (SELECT person FROM main.favor WHERE rid > ?1)"
	    "  GROUP BY f.person" },
};

/* The FTS index of each table: the rows added (the *_fts_ai triggers),
 * and a row there before taken out of it and put back around an update
 * (the *_fts_au triggers, see bulk_fts()). */
#define BK_PERSON_TEXT "name, org, title, how_met, note, emails, tags"
static const struct {
	const char *add; /* ?1: the largest rid before */
	const char *del; /* ?1: the row's id, ?2: as add */
	const char *put;
} bk_fts[ST_N] = {
	[ST_PERSON] = { "INSERT INTO main.person_fts(rowid, " BK_PERSON_TEXT
	                ")"
	                " SELECT rid, " BK_PERSON_TEXT
	                " FROM main.person WHERE rid > ?1",
	    "INSERT INTO main.person_fts(person_fts, rowid, " BK_PERSON_TEXT
	    ") SELECT 'delete', rid, " BK_PERSON_TEXT " FROM main.person"
	    " WHERE id = ?1 AND rid <= ?2",
	    "INSERT INTO main.person_fts(rowid, " BK_PERSON_TEXT ")"
	    " SELECT rid, " BK_PERSON_TEXT " FROM main.person"
	    " WHERE id = ?1 AND rid <= ?2" },
	[ST_INTERACTION] = { "INSERT INTO main.interaction_fts(rowid, note)"
	                     " SELECT rid, note FROM main.interaction WHERE "
	                     "rid > ?1",
	    "INSERT INTO main.interaction_fts(interaction_fts, rowid, note)"
	    " SELECT 'delete', rid, note FROM main.interaction"
	    " WHERE id = ?1 AND rid <= ?2",
	    "INSERT INTO main.interaction_fts(rowid, note)"
	    " SELECT rid, note FROM main.interaction"
	    " WHERE id = ?1 AND rid <= ?2" },
	[ST_FAVOR]       = { "INSERT INTO main.favor_fts(rowid, note)"
	                           " SELECT rid, note FROM main.favor WHERE rid > ?1",
	          "INSERT INTO main.favor_fts(favor_fts, rowid, note)"
	                " SELECT 'delete', rid, note FROM main.favor"
	                " WHERE id = ?1 AND rid <= ?2",
	          "INSERT INTO main.favor_fts(rowid, note)"
	                " SELECT rid, note FROM main.favor WHERE id = ?1 AND rid <= ?2" },
};

/* Runs one statement, ?1 (if any) bound to base, to its end. */
static int
bk_exec(tally *t, const char *sql, int64_t base, int64_t *v)
{
	sqlite3_stmt *st;
	int           rc;

	if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK)
		return (tly_dberr(t, "importing"));
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, base);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (v != NULL)
			*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (tly_dberr(t, "importing"));
	return (0);
}

static void
bulk_free(bulk *bk)
{
	for (int i = 0; i < bk->n; i++) {
		free(bk->name[i]);
		free(bk->sql[i]);
	}
	for (int k = 0; k < ST_N; k++) {
		sqlite3_finalize(bk->fts_del[k]);
		sqlite3_finalize(bk->fts_put[k]);
	}
	memset(bk, 0, sizeof *bk);
}

/* Saves and drops the triggers (inside the import's transaction).
 * Stays in trigger mode when the schema is not the one expected. */
static int
bulk_begin(jx *x, int64_t size)
{
	/* the tables the import writes, and whose size they follow */
	static const struct {
		const char *name;
		int         like;
	} tabs[]         = { { "person", ST_PERSON },
		        { "interaction", ST_INTERACTION }, { "favor", ST_FAVOR },
		        { "person_key", ST_PERSON }, { "ledger", ST_FAVOR } };
	tally        *t  = x->im.t;
	bulk         *bk = &x->bk;
	sqlite3_stmt *st;
	char         *sql;
	int           rc = SQLITE_DONE, rv = 0, ok, known = 1, ntrig = 0;
	int           drop[ST_N];

	for (int k = 0; rv == 0 && k < ST_N; k++)
		rv = bk_exec(t, bk_maxrid[k], 0, &bk->base[k]);
	if (rv != 0)
		return (rv);
	/* A table's indexes are built anew when the file may well hold
	 * more rows than the table. */
	for (int k = 0; k < ST_N; k++)
		drop[k] = bk->base[k] < size / BK_ROW_BYTES;
	if (sqlite3_prepare_v2(t->db,
	        "SELECT m.type, m.name, m.tbl_name, m.sql"
	        " FROM main.sqlite_master m WHERE m.sql IS NOT NULL"
	        " AND (m.type = 'trigger' OR (m.type = 'index' AND NOT"
	        " (SELECT l.\"unique\" FROM pragma_index_list(m.tbl_name) l"
	        " WHERE l.name = m.name))) ORDER BY m.rowid",
	        -1, &st, NULL) != SQLITE_OK)
		return (tly_dberr(t, "importing"));
	while (rv == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = tly_col_text(st, 0);
		const char *name = tly_col_text(st, 1);
		const char *tab  = tly_col_text(st, 2);
		const char *text = tly_col_text(st, 3);
		int         want = 0;

		if (type == NULL || name == NULL || tab == NULL)
			continue;
		if (strcmp(type, "index") == 0) {
			for (size_t k = 0; k < sizeof tabs / sizeof tabs[0];
			     k++)
				if (drop[tabs[k].like] &&
				    strcmp(tab, tabs[k].name) == 0)
					want =
					    k < ST_N ? BK_TABLE : BK_DERIVED;
		} else
			for (int i = 0; i < BK_NTRIG; i++) {
				if (strcmp(name, bk_triggers[i].name) != 0)
					continue;
				if (strcmp(text, bk_triggers[i].sql) != 0)
					known = 0;
				else
					want = 1;
				ntrig++;
			}
		if (!want)
			continue;
		if (bk->n == BK_MAX) {
			known = 0;
			break;
		}
		bk->kind[bk->n] = type[0] == 'i' ? want : BK_TRIGGER;
		bk->name[bk->n] = strdup(name);
		bk->sql[bk->n]  = strdup(text);
		if (bk->name[bk->n] == NULL || bk->sql[bk->n] == NULL)
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
		bk->n++;
	}
	if (rv == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		rv = tly_dberr(t, "importing");
	sqlite3_finalize(st);
	/* Another schema, or rids so high that new ones are not above:
	 * the triggers stay. */
	ok = rv == 0 && known && ntrig == BK_NTRIG;
	for (int k = 0; k < ST_N; k++)
		ok = ok && bk->base[k] < INT64_MAX;
	if (!ok) {
		bulk_free(bk);
		if (rv == 0 && tly_json_bulk == 1)
			rv = tly_seterr(t, TALLY_EINTERNAL,
			    "bulk import: the replica's triggers are not the "
			    "ones json.c knows");
		return (rv);
	}
	for (int i = 0; i < bk->n; i++) {
		sql = sqlite3_mprintf(bk->kind[i] != BK_TRIGGER
		        ? "DROP INDEX main.\"%w\""
		        : "DROP TRIGGER main.\"%w\"",
		    bk->name[i]);
		if (sql == NULL)
			return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
		rc = sqlite3_exec(t->db, sql, NULL, NULL, NULL);
		sqlite3_free(sql);
		if (rc != SQLITE_OK)
			return (tly_dberr(t, "importing"));
	}
	for (int k = 0; k < ST_N; k++)
		if (sqlite3_prepare_v2(t->db, bk_fts[k].del, -1,
		        &bk->fts_del[k], NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(t->db, bk_fts[k].put, -1,
		        &bk->fts_put[k], NULL) != SQLITE_OK)
			return (tly_dberr(t, "importing"));
	bk->on = 1;
	/* The operations of device sync are recorded set-based too. */
	return (tly_sync_bulk_begin(t, size));
}

/* Creates again what was dropped of one kind, in schema order. */
static int
bulk_create(jx *x, int kind)
{
	bulk *bk = &x->bk;

	for (int i = 0; i < bk->n; i++)
		if (bk->kind[i] == kind &&
		    sqlite3_exec(x->im.t->db, bk->sql[i], NULL, NULL, NULL) !=
		        SQLITE_OK)
			return (tly_dberr(x->im.t, "importing"));
	return (0);
}

/* Writes what the dropped triggers would have and creates them again,
 * in their order, from their saved text. */
static int
bulk_end(jx *x)
{
	tally *t  = x->im.t;
	bulk  *bk = &x->bk;
	int    rv = 0;

	/* The tables' indexes first (the fill reads through them), the
	 * derived tables' after they are filled, then the triggers: each in
	 * its schema order. */
	rv = bulk_create(x, BK_TABLE);
	for (size_t i = 0; rv == 0 && i < sizeof bk_fill / sizeof bk_fill[0];
	     i++)
		rv = bk_exec(
		    t, bk_fill[i].sql, bk->base[bk_fill[i].table], NULL);
	for (int k = 0; rv == 0 && k < ST_N; k++)
		rv = bk_exec(t, bk_fts[k].add, bk->base[k], NULL);
	if (rv == 0)
		rv = bulk_create(x, BK_DERIVED);
	if (rv == 0)
		rv = bulk_create(x, BK_TRIGGER);
	if (rv == 0)
		rv = tly_sync_bulk_end(t);
	bk->on = 0;
	return (rv);
}

/* Bulk mode for a big file (or as tly_json_bulk says). */
static int
want_bulk(FILE *f, int64_t *size)
{
	struct stat sb;

	*size = fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode)
	    ? (int64_t) sb.st_size
	    : 0;
	if (tly_json_bulk >= 0)
		return (tly_json_bulk);
	return (*size > JS_BULK_BYTES);
}

int
tly_import_json(tally *t, tally_import_stats *st, const char *path,
    const tally_import_opts *o)
{
	jx      x;
	FILE   *f;
	int     rv;
	int64_t cache, size;

	memset(&x, 0, sizeof x);
	if ((rv = tly_imp_open(t, path, &f)) != 0)
		return (rv);
	x.p.t      = t;
	x.p.path   = path;
	x.p.s.f    = f;
	x.p.s.line = 1;
	x.p.s.cap  = TLY_IO_CHUNK;
	if ((x.p.s.buf = malloc(x.p.s.cap)) == NULL) {
		fclose(f);
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	}
	cache = pragma_int(t, "PRAGMA cache_size");
	set_cache(t, JS_IMPORT_CACHE);
	for (int k = 0; k < ST_N; k++)
		if (sqlite3_exec(t->db, stages[k].create, NULL, NULL, NULL) !=
		    SQLITE_OK) {
			rv = tly_dberr(t, "importing");
			goto out;
		}
	if ((rv = tly_imp_begin(&x.im, t, st, path, o)) == 0) {
		for (int k = 0; rv == 0 && k < ST_N; k++) {
			sqlite3_stmt *clr = tly_stmt(t, stages[k].clear);
			rv                = clr == NULL ? TALLY_EINTERNAL
			                                : tly_step_done(t, clr, "importing");
		}
		if (rv == 0 && want_bulk(f, &size))
			rv = bulk_begin(&x, size);
		if (rv != 0)
			;
		else if (import_dump(&x) != 0)
			rv = x.p.rv != 0 ? x.p.rv : TALLY_EINTERNAL;
		else
			rv = apply_fixups(&x);
		/* Undone anyway when it is not committed. */
		if (rv == 0 && x.bk.on && !(o->flags & TALLY_IMPORT_DRY_RUN) &&
		    (st->bad == 0 || (o->flags & TALLY_IMPORT_SKIP_BAD)))
			rv = bulk_end(&x);
		rv = tly_imp_end(&x.im, rv);
	}
out:
	bulk_free(&x.bk);
	set_cache(t, cache);
	fclose(f);
	free(x.p.s.buf);
	free(x.fix);
	for (size_t i = 0; i < x.nq; i++)
		free(x.q[i].msg);
	free(x.q);
	tly_buf_free(&x.p.arena);
	for (int i = 0; i < JS_NLISTS; i++)
		tly_buf_free(&x.p.lists[i]);
	return (rv);
}

/* -- Export ----------------------------------------------------------- */

typedef struct jout {
	tally  *t;
	FILE   *f;
	tly_buf b;
	int     err; /* what a row's writer found wrong (message set) */
} jout;

static int
jo_flush(jout *o, size_t atleast)
{
	if (o->b.len < atleast)
		return (0);
	if (o->b.len > 0 && fwrite(o->b.p, 1, o->b.len, o->f) != o->b.len)
		return (tly_seterr(o->t, TALLY_EIO, "writing the export: %s",
		    strerror(errno)));
	o->b.len = 0;
	return (0);
}

/* Appends ,"key":"text" (or null); key carries its punctuation. */
static int
jo_text(jout *o, const char *key, sqlite3_stmt *st, int col)
{
	const char *s = tly_col_text(st, col);

	if (tly_buf_puts(&o->b, key) != 0)
		return (TALLY_ENOMEM);
	if (s == NULL)
		return (tly_buf_puts(&o->b, "null"));
	return (
	    tly_json_str(&o->b, s, (size_t) sqlite3_column_bytes(st, col)));
}

static int
jo_time(jout *o, const char *key, sqlite3_stmt *st, int col)
{
	char iso[TLY_ISO_LEN];

	if (tly_buf_puts(&o->b, key) != 0)
		return (TALLY_ENOMEM);
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return (tly_buf_puts(&o->b, "null"));
	tly_time_iso(sqlite3_column_int64(st, col), iso);
	return (tly_buf_printf(&o->b, "\"%s\"", iso));
}

static int
jo_int(jout *o, const char *key, sqlite3_stmt *st, int col)
{
	if (tly_buf_puts(&o->b, key) != 0)
		return (TALLY_ENOMEM);
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return (tly_buf_puts(&o->b, "null"));
	return (tly_buf_printf(
	    &o->b, "%lld", (long long) sqlite3_column_int64(st, col)));
}

static int
jo_bool(jout *o, const char *key, sqlite3_stmt *st, int col)
{
	if (tly_buf_puts(&o->b, key) != 0)
		return (TALLY_ENOMEM);
	return (tly_buf_puts(
	    &o->b, sqlite3_column_int(st, col) ? "true" : "false"));
}

static int
jo_person(jout *o, sqlite3_stmt *st)
{
	return (jo_text(o, "{\"id\":", st, 0) ||
	    jo_text(o, ",\"name\":", st, 1) ||
	    jo_text(o, ",\"org\":", st, 2) ||
	    jo_text(o, ",\"title\":", st, 3) ||
	    jo_text(o, ",\"url\":", st, 4) ||
	    jo_text(o, ",\"how_met\":", st, 5) ||
	    jo_text(o, ",\"referred_by\":", st, 6) ||
	    jo_text(o, ",\"note\":", st, 7) ||
	    tly_buf_puts(&o->b, ",\"emails\":") ||
	    tly_json_strlist(&o->b, tly_col_text(st, 8)) ||
	    tly_buf_puts(&o->b, ",\"phones\":") ||
	    tly_json_strlist(&o->b, tly_col_text(st, 9)) ||
	    tly_buf_puts(&o->b, ",\"tags\":") ||
	    tly_json_strlist(&o->b, tly_col_text(st, 10)) ||
	    jo_int(o, ",\"closeness\":", st, 11) ||
	    jo_bool(o, ",\"is_me\":", st, 12) ||
	    jo_time(o, ",\"created\":", st, 13) ||
	    jo_time(o, ",\"updated\":", st, 14) || tly_buf_puts(&o->b, "}"));
}

static int
jo_interaction(jout *o, sqlite3_stmt *st)
{
	return (jo_text(o, "{\"id\":", st, 0) ||
	    jo_text(o, ",\"person\":", st, 1) ||
	    jo_text(o, ",\"kind\":", st, 2) || jo_time(o, ",\"at\":", st, 3) ||
	    jo_int(o, ",\"minutes\":", st, 4) ||
	    jo_text(o, ",\"note\":", st, 5) ||
	    jo_time(o, ",\"follow_up\":", st, 6) ||
	    jo_time(o, ",\"follow_up_done\":", st, 7) ||
	    jo_time(o, ",\"thanked\":", st, 8) ||
	    jo_time(o, ",\"created\":", st, 9) ||
	    jo_time(o, ",\"updated\":", st, 10) || tly_buf_puts(&o->b, "}"));
}

static int
jo_favor(jout *o, sqlite3_stmt *st)
{
	int gave = sqlite3_column_int(st, 2) == 1;

	/* Columns 13 and 1: me and the other party. */
	return (jo_text(o, "{\"id\":", st, 0) ||
	    jo_text(o, ",\"from\":", st, gave ? 13 : 1) ||
	    jo_text(o, ",\"to\":", st, gave ? 1 : 13) ||
	    jo_text(o, ",\"kind\":", st, 3) ||
	    jo_text(o, ",\"status\":", st, 4) ||
	    jo_int(o, ",\"weight\":", st, 5) ||
	    jo_text(o, ",\"note\":", st, 6) ||
	    jo_text(o, ",\"intro\":", st, 7) ||
	    jo_time(o, ",\"done_at\":", st, 8) ||
	    jo_time(o, ",\"thanked\":", st, 9) ||
	    jo_bool(o, ",\"confirmed\":", st, 10) ||
	    jo_time(o, ",\"created\":", st, 11) ||
	    jo_time(o, ",\"updated\":", st, 12) || tly_buf_puts(&o->b, "}"));
}

static int
jo_intro(jout *o, sqlite3_stmt *st)
{
	return (jo_text(o, "{\"id\":", st, 0) ||
	    jo_text(o, ",\"by\":", st, 1) || jo_text(o, ",\"a\":", st, 2) ||
	    jo_text(o, ",\"b\":", st, 3) || jo_text(o, ",\"note\":", st, 4) ||
	    jo_text(o, ",\"status\":", st, 5) ||
	    jo_time(o, ",\"created\":", st, 6) ||
	    jo_time(o, ",\"updated\":", st, 7) || tly_buf_puts(&o->b, "}"));
}

static int
jo_reference(jout *o, sqlite3_stmt *st)
{
	return (jo_text(o, "{\"id\":", st, 0) ||
	    jo_text(o, ",\"person\":", st, 1) ||
	    jo_text(o, ",\"for_what\":", st, 2) ||
	    jo_time(o, ",\"created\":", st, 3) ||
	    jo_time(o, ",\"updated\":", st, 4) || tly_buf_puts(&o->b, "}"));
}

static int
jo_use(jout *o, sqlite3_stmt *st)
{
	return (jo_text(o, "{\"id\":", st, 0) ||
	    jo_text(o, ",\"reference\":", st, 1) ||
	    jo_text(o, ",\"for_what\":", st, 2) ||
	    jo_time(o, ",\"at\":", st, 3) ||
	    jo_time(o, ",\"created\":", st, 4) ||
	    jo_time(o, ",\"updated\":", st, 5) || tly_buf_puts(&o->b, "}"));
}

/* Appends ,"key":"base64 of a blob" (or null). */
static int
jo_b64(jout *o, const char *key, sqlite3_stmt *st, int col)
{
	const unsigned char *b = sqlite3_column_blob(st, col);
	size_t               n = (size_t) sqlite3_column_bytes(st, col);
	char                 enc[TLY_B64_LEN(TLY_SIGNED_MAX) + 1];

	if (tly_buf_puts(&o->b, key) != 0)
		return (TALLY_ENOMEM);
	if (b == NULL)
		return (tly_buf_puts(&o->b, "null"));
	if (n > TLY_SIGNED_MAX)
		return (o->err = tly_seterr(o->t, TALLY_ECORRUPT,
		    "exporting: a stored record is too big (%zu bytes)", n));
	tly_b64_encode(enc, b, n);
	return (tly_buf_printf(&o->b, "\"%s\"", enc));
}

/* Appends ,"key":"tally id of a stored key". */
static int
jo_tallyid(jout *o, const char *key, sqlite3_stmt *st, int col)
{
	char id[TLY_TALLYID_LEN + 1];

	if (sqlite3_column_bytes(st, col) != TLY_PK_BYTES)
		return (o->err = tly_seterr(o->t, TALLY_ECORRUPT,
		    "exporting: a stored key is not %d bytes", TLY_PK_BYTES));
	tly_tallyid_encode(id, sqlite3_column_blob(st, col));
	if (tly_buf_puts(&o->b, key) != 0)
		return (TALLY_ENOMEM);
	return (tly_buf_printf(&o->b, "\"%s\"", id));
}

static int
jo_peer(jout *o, sqlite3_stmt *st)
{
	return (jo_text(o, "{\"person\":", st, 0) ||
	    jo_tallyid(o, ",\"tally_id\":", st, 1) ||
	    jo_time(o, ",\"verified\":", st, 2) ||
	    jo_time(o, ",\"created\":", st, 3) ||
	    jo_time(o, ",\"updated\":", st, 4) || tly_buf_puts(&o->b, "}"));
}

static int
jo_record(jout *o, sqlite3_stmt *st)
{
	return (jo_text(o, "{\"id\":", st, 0) ||
	    jo_text(o, ",\"state\":", st, 1) ||
	    jo_tallyid(o, ",\"peer\":", st, 2) ||
	    jo_bool(o, ",\"by_me\":", st, 3) ||
	    jo_bool(o, ",\"proposed_by_me\":", st, 4) ||
	    jo_text(o, ",\"person\":", st, 5) ||
	    jo_text(o, ",\"favor\":", st, 6) ||
	    jo_b64(o, ",\"signed\":", st, 7) ||
	    jo_b64(o, ",\"revocation\":", st, 8) ||
	    jo_text(o, ",\"reason\":", st, 9) ||
	    (sqlite3_column_type(st, 10) == SQLITE_NULL
	            ? tly_buf_puts(&o->b, ",\"closed_by_me\":null")
	            : jo_bool(o, ",\"closed_by_me\":", st, 10)) ||
	    jo_time(o, ",\"stored\":", st, 11) ||
	    jo_time(o, ",\"updated\":", st, 12) ||
	    jo_time(o, ",\"confirmed_at\":", st, 13) ||
	    jo_time(o, ",\"closed_at\":", st, 14) ||
	    tly_buf_puts(&o->b, "}"));
}

static const struct {
	const char *head;
	const char *sql;
	int (*row)(jout *, sqlite3_stmt *);
} dump_arrays[] = {
	{ ",\n\"people\":[",
	    "SELECT id, name, org, title, url, how_met, referred_by, note,"
	    " emails, phones, tags, closeness, is_me, created, updated"
	    " FROM person ORDER BY id",
	    jo_person },
	{ ",\n\"interactions\":[",
	    "SELECT id, person, kind, at, minutes, note, follow_up,"
	    " follow_up_done, thanked, created, updated FROM interaction"
	    " ORDER BY id",
	    jo_interaction },
	{ ",\n\"favors\":[",
	    "SELECT f.id, f.person, f.dir, f.kind, f.status, f.weight, f.note,"
	    " f.intro, f.done_at, f.thanked, f.confirmed, f.created,"
	    " f.updated, m.id FROM favor f, person m WHERE m.is_me"
	    " ORDER BY f.id",
	    jo_favor },
	{ ",\n\"introductions\":[",
	    "SELECT id, by, a, b, note, status, created, updated"
	    " FROM introduction ORDER BY id",
	    jo_intro },
	{ ",\n\"references\":[",
	    "SELECT id, person, for_what, created, updated FROM reference"
	    " ORDER BY id",
	    jo_reference },
	{ ",\n\"reference_uses\":[",
	    "SELECT id, reference, for_what, at, created, updated"
	    " FROM reference_use ORDER BY id",
	    jo_use },
	{ ",\n\"peers\":[",
	    "SELECT person, pk, verified, created, updated FROM peer"
	    " ORDER BY person",
	    jo_peer },
	{ ",\n\"records\":[",
	    "SELECT id, state, peer_pk, by_me, proposed_by_me, person, favor,"
	    " signed, revocation, reason, closed_by_me, stored, updated,"
	    " confirmed_at, closed_at FROM record ORDER BY id",
	    jo_record },
};

static int
export_array(jout *o, size_t k)
{
	sqlite3_stmt *st = tly_stmt(o->t, dump_arrays[k].sql);
	int           rc = SQLITE_DONE, rv = 0, n = 0;

	if (st == NULL)
		return (TALLY_EINTERNAL);
	if (tly_buf_puts(&o->b, dump_arrays[k].head) != 0)
		rv = TALLY_ENOMEM;
	while (rv == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (tly_buf_puts(&o->b, n++ ? ",\n" : "\n") != 0 ||
		    dump_arrays[k].row(o, st) != 0)
			rv = o->err != 0 ? o->err : TALLY_ENOMEM;
		else
			rv = jo_flush(o, JS_OUT_FLUSH);
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_dberr(o->t, "exporting");
	sqlite3_reset(st);
	if (rv == TALLY_ENOMEM)
		return (tly_seterr(o->t, rv, "out of memory"));
	if (rv == 0 && tly_buf_puts(&o->b, n ? "\n]" : "]") != 0)
		return (tly_seterr(o->t, TALLY_ENOMEM, "out of memory"));
	return (rv);
}

/* Writes ,"identity":"tly1..." when the replica has one. */
static int
export_identity(jout *o)
{
	unsigned char pk[TLY_PK_BYTES];
	char          tid[TLY_TALLYID_LEN + 1];
	int           rv;

	if ((rv = tly_my_pk(o->t, pk)) == TALLY_ENOTINIT) {
		o->t->err[0] = '\0';
		return (0);
	}
	if (rv != 0)
		return (rv);
	tly_tallyid_encode(tid, pk);
	if (tly_buf_printf(&o->b, ",\n\"identity\":\"%s\"", tid) != 0)
		return (tly_seterr(o->t, TALLY_ENOMEM, "out of memory"));
	return (0);
}

int
tly_export_json(tally *t, FILE *out)
{
	jout o = { t, out, TLY_BUF_INIT, 0 };
	char iso[TLY_ISO_LEN];
	int  rv = 0, own = sqlite3_get_autocommit(t->db);

	/* One read transaction: every array from the same snapshot. */
	if (own && sqlite3_exec(t->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return (tly_dberr(t, "exporting"));
	tly_time_iso(tly_now(), iso);
	if (tly_buf_printf(&o.b,
	        "{\"format\":\"" DUMP_FORMAT "\",\"version\":%d,"
	        "\"exported\":\"%s\"",
	        DUMP_VERSION, iso) != 0)
		rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
	if (rv == 0)
		rv = export_identity(&o);
	for (size_t k = 0;
	     rv == 0 && k < sizeof dump_arrays / sizeof dump_arrays[0]; k++)
		rv = export_array(&o, k);
	if (rv == 0 && tly_buf_puts(&o.b, "\n}\n") != 0)
		rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
	if (rv == 0)
		rv = jo_flush(&o, 0);
	if (rv == 0 && fflush(out) != 0)
		rv = tly_seterr(
		    t, TALLY_EIO, "writing the export: %s", strerror(errno));
	if (own)
		sqlite3_exec(t->db, "COMMIT", NULL, NULL, NULL);
	tly_buf_free(&o.b);
	return (rv);
}

int
tly_json_strlist(tly_buf *b, const char *stored)
{
	jp     p;
	size_t off, len, n = 0;
	int    c, rv = 0;

	memset(&p, 0, sizeof p);
	if (stored == NULL)
		return (tly_buf_puts(b, "[]"));
	p.s.buf = (unsigned char *) (uintptr_t) stored;
	p.s.end = strlen(stored);
	if (tly_buf_puts(b, "[") != 0)
		return (TALLY_ENOMEM);
	/* A damaged list reads as empty, as in person.c. */
	if (js_ws(&p.s) != '[')
		goto out;
	p.s.pos++;
	for (c = js_ws(&p.s); c == '"'; c = js_ws(&p.s)) {
		if (js_string(&p, TALLY_MAX_TEXT, NULL, &off, &len) != 0)
			break;
		if ((n++ > 0 && tly_buf_puts(b, ",") != 0) ||
		    tly_json_str(b, (char *) p.arena.p + off, len) != 0) {
			rv = TALLY_ENOMEM;
			break;
		}
		tly_buf_reset(&p.arena);
		if (js_ws(&p.s) != ',')
			break;
		p.s.pos++;
	}
out:
	tly_buf_free(&p.arena);
	if (rv == 0)
		rv = tly_buf_puts(b, "]");
	return (rv);
}
