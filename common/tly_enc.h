/*
 * tly_enc.h -- text encodings of binary data: hex, base32, base64.
 *
 * base32 is RFC 4648's alphabet in lower case without padding; decoding
 * also takes upper case.  base64 is RFC 4648 with padding (libsodium's
 * original variant).  All decoders are strict: any character outside the
 * alphabet, or a length that does not decode exactly, is TALLY_EFORMAT.
 */
#ifndef TLY_ENC_H
#define TLY_ENC_H

#include <stddef.h>

/* Characters needed (without NUL) to encode n bytes. */
#define TLY_HEX_LEN(n) ((n) *2)
#define TLY_B32_LEN(n) (((n) *8 + 4) / 5)
#define TLY_B64_LEN(n) ((((n) + 2) / 3) * 4)

/* Writes the lower-case hex of bin[0..n) and a NUL to out
 * (TLY_HEX_LEN(n) + 1 bytes). */
void tly_hex_encode(char *out, const unsigned char *bin, size_t n);
/* Decodes exactly n bytes from the hex string s (2n characters).
 * TALLY_EFORMAT if s is not exactly that. */
int tly_hex_decode(unsigned char *out, size_t n, const char *s);

/* Writes base32 of bin[0..n) and a NUL to out (TLY_B32_LEN(n) + 1). */
void tly_b32_encode(char *out, const unsigned char *bin, size_t n);
/* Decodes slen characters of s into exactly n bytes; TALLY_EFORMAT if
 * the length, an alphabet character or the unused tail bits are wrong. */
int tly_b32_decode(unsigned char *out, size_t n, const char *s, size_t slen);

/* Writes base64 of bin[0..n) and a NUL to out (TLY_B64_LEN(n) + 1). */
void tly_b64_encode(char *out, const unsigned char *bin, size_t n);
/* Decodes s[0..slen) (white space ignored) into out (cap bytes); stores
 * the decoded length in *outlen.  TALLY_EFORMAT or TALLY_ETOOBIG. */
int tly_b64_decode(unsigned char *out, size_t cap, size_t *outlen,
    const char *s, size_t slen);

#endif /* TLY_ENC_H */
