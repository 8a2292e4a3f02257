/*
 * tly_buf.c -- growable byte buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tly_buf.h"
#include "tly_err.h"

int
tly_buf_reserve(tly_buf *b, size_t n)
{
	size_t         cap;
	unsigned char *p;

	if (n <= b->cap - b->len)
		return (0);
	if (n > SIZE_MAX / 2 - b->len)
		return (TALLY_ENOMEM);
	cap = b->cap ? b->cap : 64;
	while (cap - b->len < n)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return (TALLY_ENOMEM);
	b->p   = p;
	b->cap = cap;
	return (0);
}

int
tly_buf_append(tly_buf *b, const void *p, size_t n)
{
	int rv;

	if (n == 0)
		return (0);
	if ((rv = tly_buf_reserve(b, n)) != 0)
		return (rv);
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return (0);
}

int
tly_buf_puts(tly_buf *b, const char *s)
{
	return (tly_buf_append(b, s, strlen(s)));
}

int
tly_buf_printf(tly_buf *b, const char *fmt, ...)
{
	va_list ap;
	int     n, rv;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return (TALLY_EINVAL);
	if ((rv = tly_buf_reserve(b, (size_t) n + 1)) != 0)
		return (rv);
	va_start(ap, fmt);
	vsnprintf((char *) b->p + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
	return (0);
}

int
tly_buf_u8(tly_buf *b, uint8_t v)
{
	return (tly_buf_append(b, &v, 1));
}

int
tly_buf_u16(tly_buf *b, uint16_t v)
{
	unsigned char p[2] = { (unsigned char) (v >> 8), (unsigned char) v };

	return (tly_buf_append(b, p, sizeof p));
}

int
tly_buf_u32(tly_buf *b, uint32_t v)
{
	unsigned char p[4];

	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char) v;
	return (tly_buf_append(b, p, sizeof p));
}

int
tly_buf_u64(tly_buf *b, uint64_t v)
{
	unsigned char p[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char) v;
	return (tly_buf_append(b, p, sizeof p));
}

char *
tly_buf_cstr(tly_buf *b)
{
	if (tly_buf_reserve(b, 1) != 0)
		return (NULL);
	b->p[b->len] = '\0';
	return ((char *) b->p);
}

void
tly_buf_reset(tly_buf *b)
{
	b->len = 0;
}

void
tly_buf_free(tly_buf *b)
{
	if (b->p != NULL) {
		sodium_memzero(b->p, b->cap);
		free(b->p);
	}
	b->p   = NULL;
	b->len = 0;
	b->cap = 0;
}

uint16_t
tly_get_u16(const unsigned char *p)
{
	return ((uint16_t) ((p[0] << 8) | p[1]));
}

uint32_t
tly_get_u32(const unsigned char *p)
{
	return (((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
	    ((uint32_t) p[2] << 8) | (uint32_t) p[3]);
}

uint64_t
tly_get_u64(const unsigned char *p)
{
	return (((uint64_t) tly_get_u32(p) << 32) | tly_get_u32(p + 4));
}
