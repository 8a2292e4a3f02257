/*
 * tly_enc.c -- hex, base32 and base64.  Hex and base64 are libsodium's
 * (constant-time); base32 is written here, with a strict decoder.
 */
#include <string.h>

#include <sodium.h>

#include "tly_enc.h"
#include "tly_err.h"

static const char b32_alpha[] = "abcdefghijklmnopqrstuvwxyz234567";

void
tly_hex_encode(char *out, const unsigned char *bin, size_t n)
{
	sodium_bin2hex(out, TLY_HEX_LEN(n) + 1, bin, n);
}

int
tly_hex_decode(unsigned char *out, size_t n, const char *s)
{
	size_t      got;
	const char *end;

	if (strlen(s) != TLY_HEX_LEN(n))
		return (TALLY_EFORMAT);
	if (sodium_hex2bin(out, n, s, TLY_HEX_LEN(n), NULL, &got, &end) !=
	        0 ||
	    got != n || *end != '\0')
		return (TALLY_EFORMAT);
	return (0);
}

void
tly_b32_encode(char *out, const unsigned char *bin, size_t n)
{
	unsigned int acc  = 0;
	int          bits = 0;
	size_t       o    = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | bin[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alpha[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		out[o++] = b32_alpha[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

static int
b32_value(int c)
{
	if (c >= 'a' && c <= 'z')
		return (c - 'a');
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= '2' && c <= '7')
		return (c - '2' + 26);
	return (-1);
}

int
tly_b32_decode(unsigned char *out, size_t n, const char *s, size_t slen)
{
	unsigned int acc  = 0;
	int          bits = 0;
	size_t       o    = 0;

	if (slen != TLY_B32_LEN(n))
		return (TALLY_EFORMAT);
	for (size_t i = 0; i < slen; i++) {
		int v = b32_value((unsigned char) s[i]);
		if (v < 0)
			return (TALLY_EFORMAT);
		acc = ((acc << 5) | (unsigned int) v) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char) (acc >> bits);
		}
	}
	/* The unused low bits of the last character must be zero, so
	 * that each byte string has exactly one spelling. */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return (TALLY_EFORMAT);
	return (o == n ? 0 : TALLY_EFORMAT);
}

void
tly_b64_encode(char *out, const unsigned char *bin, size_t n)
{
	sodium_bin2base64(out, TLY_B64_LEN(n) + 1, bin, n,
	    sodium_base64_VARIANT_ORIGINAL);
}

int
tly_b64_decode(unsigned char *out, size_t cap, size_t *outlen,
    const char *s, size_t slen)
{
	const char *end;

	if (slen / 4 * 3 > cap + 2)
		return (TALLY_ETOOBIG);
	if (sodium_base642bin(out, cap, s, slen, " \t\r\n", outlen, &end,
	        sodium_base64_VARIANT_ORIGINAL) != 0)
		return (TALLY_EFORMAT);
	if (end != s + slen)
		return (TALLY_EFORMAT);
	return (0);
}
