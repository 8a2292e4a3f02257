/*
 * tly_armor.c -- armored text: BEGIN line, header lines, blank line,
 * base64 body at 64 columns, END line.
 *
 * The decoder walks the text one line at a time; a line is the bytes up
 * to LF (or the end of the text) with trailing CR, spaces and tabs cut.
 * Each full body line is 64 characters, a multiple of 4, so it decodes
 * on its own; padding may only end the last line.
 */
#include <string.h>

#include <sodium.h>

#include "proto.h"
#include "tly_armor.h"
#include "tly_enc.h"
#include "tly_err.h"
#include "tly_util.h"

#define DASHES "-----"

static int
label_ok(const char *label)
{
	size_t n = strlen(label);

	if (n == 0 || n > TLY_ARMOR_LABEL_MAX || label[0] == ' ' ||
	    label[n - 1] == ' ')
		return (0);
	for (size_t i = 0; i < n; i++) {
		char c = label[i];
		if (c == ' ' && label[i + 1] == ' ')
			return (0);
		if (!(c == ' ' || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9')))
			return (0);
	}
	return (1);
}

static int
key_char(int c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-');
}

/* A header value: valid UTF-8, no C0 control, no DEL, no C1 control. */
static int
value_ok(const char *v, size_t n)
{
	if (!tly_utf8_valid(v, n))
		return (0);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) v[i];
		if (c < 0x20 || c == 0x7f)
			return (0);
		if (c == 0xc2 && i + 1 < n && (unsigned char) v[i + 1] <= 0x9f)
			return (0);
	}
	return (1);
}

/* Checks "Key: value" (already cut of trailing blanks). */
static int
header_ok(const char *p, size_t n)
{
	size_t k = 0;

	if (n > TLY_ARMOR_HEADER_MAX)
		return (0);
	while (k < n && key_char((unsigned char) p[k]))
		k++;
	if (k == 0 || k > TLY_ARMOR_KEY_MAX || k + 2 > n || p[k] != ':' ||
	    p[k + 1] != ' ')
		return (0);
	return (value_ok(p + k + 2, n - k - 2));
}

int
tly_armor_encode(tly_buf *out, const char *label, const tly_armor_hdr *h,
    size_t nh, const unsigned char *p, size_t n)
{
	char line[TLY_B64_LEN(48) + 1];
	int  rv = 0;

	if (!label_ok(label) || nh > TLY_ARMOR_HEADERS_MAX)
		return (TALLY_EINVAL);
	for (size_t i = 0; i < nh; i++) {
		size_t kl = strlen(h[i].key), vl = strlen(h[i].value);
		if (kl == 0 || kl > TLY_ARMOR_KEY_MAX ||
		    kl + 2 + vl > TLY_ARMOR_HEADER_MAX)
			return (TALLY_EINVAL);
		for (size_t j = 0; j < kl; j++)
			if (!key_char((unsigned char) h[i].key[j]))
				return (TALLY_EINVAL);
		if (!value_ok(h[i].value, vl) ||
		    (vl > 0 && (h[i].value[vl - 1] == ' ')))
			return (TALLY_EINVAL);
	}
	if (n == 0)
		return (TALLY_EINVAL);
	rv = tly_buf_printf(out, DASHES "BEGIN %s" DASHES "\n", label);
	for (size_t i = 0; rv == 0 && i < nh; i++)
		rv = tly_buf_printf(out, "%s: %s\n", h[i].key, h[i].value);
	if (rv == 0)
		rv = tly_buf_puts(out, "\n");
	for (size_t o = 0; rv == 0 && o < n; o += 48) {
		size_t k = n - o < 48 ? n - o : 48;
		tly_b64_encode(line, p + o, k);
		if ((rv = tly_buf_puts(out, line)) == 0)
			rv = tly_buf_puts(out, "\n");
	}
	if (rv == 0)
		rv = tly_buf_printf(out, DASHES "END %s" DASHES "\n", label);
	return (rv);
}

/* The next line of text[*pos..n): sets *lp, *ll (trailing blanks cut) and
 * moves *pos past its LF.  Returns 0 at the end of the text. */
static int
next_line(const char *text, size_t n, size_t *pos, const char **lp, size_t *ll)
{
	size_t      s = *pos, e;
	const char *nl;

	if (s >= n)
		return (0);
	nl   = memchr(text + s, '\n', n - s);
	e    = nl ? (size_t) (nl - text) : n;
	*pos = nl ? e + 1 : n;
	while (e > s &&
	    (text[e - 1] == '\r' || text[e - 1] == ' ' || text[e - 1] == '\t'))
		e--;
	*lp = text + s;
	*ll = e - s;
	return (1);
}

/* Is line[0..ll) exactly "-----WORD label-----"? */
static int
is_marker(const char *line, size_t ll, const char *word, const char *label)
{
	size_t wl = strlen(word), lab = strlen(label);

	return (ll == 5 + wl + 1 + lab + 5 && memcmp(line, DASHES, 5) == 0 &&
	    memcmp(line + 5, word, wl) == 0 && line[5 + wl] == ' ' &&
	    memcmp(line + 6 + wl, label, lab) == 0 &&
	    memcmp(line + 6 + wl + lab, DASHES, 5) == 0);
}

static int
b64_char(int c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/');
}

static int
fail(int *why, int w, int rv)
{
	if (why != NULL)
		*why = w;
	return (rv);
}

int
tly_armor_present(const char *label, const char *text, size_t n)
{
	size_t      pos = 0, ll;
	const char *lp;

	if (!label_ok(label))
		return (0);
	while (next_line(text, n, &pos, &lp, &ll))
		if (is_marker(lp, ll, "BEGIN", label))
			return (1);
	return (0);
}

int
tly_armor_decode(unsigned char *out, size_t cap, size_t *outlen,
    const char *label, const char *text, size_t n, size_t *end, int *why)
{
	size_t      pos = 0, ll, got = 0, nh = 0;
	const char *lp;
	int         last = 0;

	*outlen = 0;
	if (why != NULL)
		*why = TLY_WHY_NONE;
	if (!label_ok(label))
		return (TALLY_EINVAL);
	for (;;) {
		if (!next_line(text, n, &pos, &lp, &ll))
			return (fail(why, TLY_WHY_ARMOR_BEGIN, TALLY_EFORMAT));
		if (is_marker(lp, ll, "BEGIN", label))
			break;
	}
	/* Header lines, then one blank line. */
	for (;;) {
		if (!next_line(text, n, &pos, &lp, &ll))
			return (fail(why, TLY_WHY_ARMOR_END, TALLY_EFORMAT));
		if (ll == 0)
			break;
		if (++nh > TLY_ARMOR_HEADERS_MAX || !header_ok(lp, ll))
			return (
			    fail(why, TLY_WHY_ARMOR_HEADER, TALLY_EFORMAT));
	}
	/* Body lines up to the END line. */
	for (;;) {
		size_t k;

		if (!next_line(text, n, &pos, &lp, &ll))
			return (fail(why, TLY_WHY_ARMOR_END, TALLY_EFORMAT));
		if (is_marker(lp, ll, "END", label))
			break;
		/* A line after a short (last) line, an empty line, a long
		 * line or a foreign character. */
		if (last || ll == 0 || ll > TLY_ARMOR_COLUMNS || ll % 4 != 0)
			return (fail(why, TLY_WHY_ARMOR_BODY, TALLY_EFORMAT));
		for (k = 0; k < ll; k++)
			if (!b64_char((unsigned char) lp[k]))
				break;
		/* Only the last line may end in one or two '='. */
		if (k < ll) {
			size_t pad = ll - k;
			if (pad > 2 || lp[k] != '=' ||
			    (pad == 2 && lp[k + 1] != '='))
				return (fail(
				    why, TLY_WHY_ARMOR_BODY, TALLY_EFORMAT));
			last = 1;
		}
		if (ll < TLY_ARMOR_COLUMNS)
			last = 1;
		if (ll / 4 * 3 > cap - got) {
			sodium_memzero(out, got);
			return (fail(why, TLY_WHY_TOO_BIG, TALLY_ETOOBIG));
		}
		if (sodium_base642bin(out + got, cap - got, lp, ll, NULL, &k,
		        NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
			sodium_memzero(out, got);
			return (fail(why, TLY_WHY_ARMOR_BODY, TALLY_EFORMAT));
		}
		got += k;
	}
	if (got == 0)
		return (fail(why, TLY_WHY_ARMOR_BODY, TALLY_EFORMAT));
	*outlen = got;
	if (end != NULL)
		*end = pos;
	return (0);
}
