/*
 * tly_util.h -- small helpers: row ids, UTF-8 checks, case folding.
 */
#ifndef TLY_UTIL_H
#define TLY_UTIL_H

#include <stddef.h>

#define TLY_ID_BYTES     16 /* random bytes in a row id */
#define TLY_ID_LEN       32 /* hex characters in a row id */
#define TLY_SHORT_ID_LEN 8  /* characters shown for a short id */
#define TLY_MIN_PREFIX   4  /* shortest id prefix accepted */

/* Writes a fresh random row id (TLY_ID_LEN hex characters and a NUL). */
void tly_id_new(char *out);
/* Returns 1 if s is 1..TLY_ID_LEN lower- or upper-case hex characters. */
int tly_id_is_prefix(const char *s);

/* Returns 1 if p[0..n) is valid UTF-8 (no overlongs, no surrogates). */
int tly_utf8_valid(const void *p, size_t n);
/* Returns the Unicode NFC case fold of s, malloc'd (caller frees), or NULL
 * if s is not valid UTF-8 or memory ran out. */
char *tly_casefold(const char *s);
/* Returns the number of terminal columns s takes (for tables). */
int tly_utf8_width(const char *s);

/* Trims ASCII white space at both ends, in place; returns s. */
char *tly_trim(char *s);

#endif /* TLY_UTIL_H */
