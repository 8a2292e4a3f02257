/*
 * tly_armor.h -- the armored text form of binary data, as pasted into an
 * email or a chat (PROTOCOL.md, part 4):
 *
 *   -----BEGIN TALLY RECORD-----
 *   Kind: favor                      (optional "Key: value" lines)
 *                                    (one blank line)
 *   AQAB...                          (base64, 64 characters a line)
 *   -----END TALLY RECORD-----
 *
 * The decoder ignores text before the BEGIN line and after the END line,
 * CR before LF and spaces or tabs at the end of any line; inside the block
 * it is strict.  Header lines are checked for form, then ignored: only the
 * body counts.
 */
#ifndef TLY_ARMOR_H
#define TLY_ARMOR_H

#include <stddef.h>

#include "tly_buf.h"

#define TLY_ARMOR_COLUMNS 64     /* base64 characters in a full line */
#define TLY_ARMOR_HEADERS_MAX 16 /* header lines in one block */
#define TLY_ARMOR_HEADER_MAX 256 /* bytes in one header line */
#define TLY_ARMOR_KEY_MAX 32     /* bytes in a header key */
#define TLY_ARMOR_LABEL_MAX 32   /* bytes in a label ("TALLY RECORD") */

typedef struct tly_armor_hdr {
	const char *key;   /* [A-Za-z0-9-], 1..TLY_ARMOR_KEY_MAX bytes */
	const char *value; /* printable UTF-8, no line breaks */
} tly_armor_hdr;

/* Appends the armored form of p[0..n) to out, with label (upper-case
 * letters, digits and single spaces) and nh header lines.  TALLY_EINVAL
 * (bad label or header), TALLY_ENOMEM. */
int tly_armor_encode(tly_buf *out, const char *label, const tly_armor_hdr *h,
    size_t nh, const unsigned char *p, size_t n);

/* Finds the first block labelled label in text[0..n) and decodes its body
 * into out (cap bytes), its length in *outlen.  *end (may be NULL) gets
 * the offset just past the END line.  TALLY_EFORMAT (why
 * TLY_WHY_ARMOR_BEGIN, _HEADER, _BODY, _END), TALLY_ETOOBIG (body
 * over cap: TLY_WHY_TOO_BIG), TALLY_EINVAL (bad label). */
int tly_armor_decode(unsigned char *out, size_t cap, size_t *outlen,
    const char *label, const char *text, size_t n, size_t *end, int *why);

/* Returns 1 if text[0..n) holds a BEGIN line for label, else 0. */
int tly_armor_present(const char *label, const char *text, size_t n);

#endif /* TLY_ARMOR_H */
