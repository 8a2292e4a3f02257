/*
 * tly_util.c -- ids, UTF-8 and case folding (libutf8proc).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <utf8proc.h>

#include "tly_enc.h"
#include "tly_util.h"

void
tly_id_new(char *out)
{
	unsigned char b[TLY_ID_BYTES];

	randombytes_buf(b, sizeof b);
	tly_hex_encode(out, b, sizeof b);
}

int
tly_id_is_prefix(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > TLY_ID_LEN)
		return (0);
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char) s[i]))
			return (0);
	return (1);
}

int
tly_utf8_valid(const void *p, size_t n)
{
	const utf8proc_uint8_t *s = p;
	utf8proc_int32_t        cp;

	while (n > 0) {
		utf8proc_ssize_t k = utf8proc_iterate(s, (utf8proc_ssize_t) n,
		    &cp);
		if (k <= 0)
			return (0);
		s += k;
		n -= (size_t) k;
	}
	return (1);
}

char *
tly_casefold(const char *s)
{
	utf8proc_uint8_t *out = NULL;

	if (utf8proc_map((const utf8proc_uint8_t *) s, 0, &out,
	        UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
	            UTF8PROC_CASEFOLD) < 0)
		return (NULL);
	return ((char *) out);
}

int
tly_utf8_width(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *) s;
	utf8proc_int32_t        cp;
	int                     w = 0;

	while (*p) {
		utf8proc_ssize_t k = utf8proc_iterate(p, -1, &cp);
		if (k <= 0) {
			p++;
			w++;
			continue;
		}
		w += utf8proc_charwidth(cp);
		p += k;
	}
	return (w);
}

char *
tly_trim(char *s)
{
	char  *b = s;
	size_t n;

	while (isspace((unsigned char) *b))
		b++;
	n = strlen(b);
	while (n > 0 && isspace((unsigned char) b[n - 1]))
		n--;
	memmove(s, b, n);
	s[n] = '\0';
	return (s);
}
