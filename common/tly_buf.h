/*
 * tly_buf.h -- a growable byte buffer.
 *
 * Invariant: p is NULL when cap is 0; len <= cap.  A buffer starts zeroed
 * (tly_buf b = TLY_BUF_INIT) and is released with tly_buf_free().  Integer
 * appends are big-endian (network order), the order every tally wire and
 * record format uses.
 */
#ifndef TLY_BUF_H
#define TLY_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct tly_buf {
	unsigned char *p;   /* bytes; owned by the buffer */
	size_t         len; /* bytes in use */
	size_t         cap; /* bytes allocated */
} tly_buf;

#define TLY_BUF_INIT { NULL, 0, 0 }

/* Ensures room for n more bytes.  TALLY_ENOMEM on failure. */
int tly_buf_reserve(tly_buf *b, size_t n);
/* Appends n bytes from p.  TALLY_ENOMEM on failure (b unchanged). */
int tly_buf_append(tly_buf *b, const void *p, size_t n);
/* Appends a NUL-terminated string without its NUL. */
int tly_buf_puts(tly_buf *b, const char *s);
/* Appends printf-formatted text (no NUL kept in len). */
int tly_buf_printf(tly_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int tly_buf_u8(tly_buf *b, uint8_t v);
int tly_buf_u16(tly_buf *b, uint16_t v);
int tly_buf_u32(tly_buf *b, uint32_t v);
int tly_buf_u64(tly_buf *b, uint64_t v);
/* Makes the content a C string (NUL after len, not counted); returns it
 * or NULL on allocation failure.  The buffer still owns the string. */
char *tly_buf_cstr(tly_buf *b);
/* Empties the buffer, keeping its memory. */
void tly_buf_reset(tly_buf *b);
/* Wipes (sodium_memzero) and frees; b is reusable afterwards. */
void tly_buf_free(tly_buf *b);

/* Big-endian readers for already bounds-checked memory. */
uint16_t tly_get_u16(const unsigned char *p);
uint32_t tly_get_u32(const unsigned char *p);
uint64_t tly_get_u64(const unsigned char *p);

#endif /* TLY_BUF_H */
