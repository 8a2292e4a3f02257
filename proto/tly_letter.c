/*
 * tly_letter.c -- letters, their bodies and contact cards, and the sealed
 * envelopes that carry them (tly_letter.h; PROTOCOL.md, part 9).
 *
 * Every decoder here accepts exactly what its encoder writes: fields in
 * order, every length checked before use, nothing after the end, padding
 * of zero bytes only.  Bodies of each type (integers big-endian; blob16
 * is a 2-byte length and the bytes, text a blob16 of UTF-8):
 *
 *   PROPOSE, CONFIRM, INTRO_RECORD, INTRO_SIGNED  blob16 container
 *   DECLINE, REVOKE        blob16 revocation, blob16 target container
 *   INTRO_ASK              intro id (16), created u64, date (4), text
 *   INTRO_CONSENT, CANCEL  intro id (16)
 *   INTRO_DECLINE          intro id (16), text (the reason)
 *   INTRO_HELLO            blob16 container, blob16 card
 */
#include <string.h>

#include <sodium.h>

#include "tly_err.h"
#include "tly_letter.h"
#include "tly_time.h"
#include "tly_util.h"

#define DOMAIN_LEN (sizeof TLY_LETTER_DOMAIN) /* with its NUL */
#define MAGIC_LEN 4

_Static_assert(DOMAIN_LEN == 16, "letter domain length");
_Static_assert(TLY_SEAL_BYTES == crypto_box_SEALBYTES, "seal overhead");
_Static_assert(TLY_LETTER_MAX % TLY_LETTER_PAD == 0, "letter size");

enum card_tag {
	CARD_NAME  = 1,
	CARD_ORG   = 2,
	CARD_TITLE = 3,
	CARD_EMAIL = 4,
	CARD_PHONE = 5,
	CARD_URL   = 6,
};

static int
fail(int *why, int w, int rv)
{
	if (why != NULL)
		*why = w;
	return (rv);
}

const char *
tly_letter_type_name(int type)
{
	switch (type) {
	case TLY_L_PROPOSE:
		return ("propose");
	case TLY_L_CONFIRM:
		return ("confirm");
	case TLY_L_DECLINE:
		return ("decline");
	case TLY_L_REVOKE:
		return ("revoke");
	case TLY_L_INTRO_ASK:
		return ("intro-ask");
	case TLY_L_INTRO_CONSENT:
		return ("intro-consent");
	case TLY_L_INTRO_DECLINE:
		return ("intro-decline");
	case TLY_L_INTRO_CANCEL:
		return ("intro-cancel");
	case TLY_L_INTRO_RECORD:
		return ("intro-record");
	case TLY_L_INTRO_HELLO:
		return ("intro-hello");
	case TLY_L_INTRO_SIGNED:
		return ("intro-signed");
	}
	return (NULL);
}

/* Valid UTF-8 without C0 controls (but TAB and LF when multiline), DEL or
 * C1 controls: the rule of record texts (PROTOCOL.md 3.1). */
static int
text_check(const unsigned char *p, size_t n, int multiline)
{
	if (!tly_utf8_valid(p, n))
		return (TLY_WHY_UTF8);
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 &&
		    !(multiline && (p[i] == '\t' || p[i] == '\n')))
			return (TLY_WHY_CONTROL);
		if (p[i] == 0x7f)
			return (TLY_WHY_CONTROL);
		if (p[i] == 0xc2 && i + 1 < n && p[i + 1] <= 0x9f)
			return (TLY_WHY_CONTROL);
	}
	return (TLY_WHY_NONE);
}

/* -- Letters ----------------------------------------------------------- */

/* The bytes signed: domain || p[0..n), into m (DOMAIN_LEN + n). */
static size_t
signed_msg(unsigned char *m, const unsigned char *p, size_t n)
{
	memcpy(m, TLY_LETTER_DOMAIN, DOMAIN_LEN);
	memcpy(m + DOMAIN_LEN, p, n);
	return (DOMAIN_LEN + n);
}

static size_t
padded(size_t n)
{
	return ((n + TLY_LETTER_PAD - 1) / TLY_LETTER_PAD * TLY_LETTER_PAD);
}

int
tly_letter_encode(tly_buf *out, const tly_letter *l, const tly_ident *me)
{
	static const unsigned char zero[TLY_LETTER_PAD];
	unsigned char m[DOMAIN_LEN + TLY_LETTER_HEAD + TLY_LETTER_BODY_MAX];
	unsigned char sig[TLY_SIG_BYTES];
	size_t        start = out->len, n, total;
	int           rv;

	if (tly_letter_type_name(l->type) == NULL)
		return (TALLY_EINVAL);
	if (l->body_len > TLY_LETTER_BODY_MAX)
		return (TALLY_ETOOBIG);
	if (sodium_memcmp(l->from, tly_ident_pk(me), TLY_PK_BYTES) != 0)
		return (TALLY_EINVAL);
	if ((rv = tly_buf_append(out, TLY_LETTER_MAGIC, MAGIC_LEN)) != 0 ||
	    (rv = tly_buf_u8(out, TLY_LETTER_VERSION)) != 0 ||
	    (rv = tly_buf_u8(out, (uint8_t) l->type)) != 0 ||
	    (rv = tly_buf_u16(out, 0)) != 0 ||
	    (rv = tly_buf_append(out, l->from, TLY_PK_BYTES)) != 0 ||
	    (rv = tly_buf_append(out, l->to, TLY_PK_BYTES)) != 0 ||
	    (rv = tly_buf_append(out, l->id, TLY_LETTER_ID_BYTES)) != 0 ||
	    (rv = tly_buf_u64(out, (uint64_t) l->sent)) != 0 ||
	    (rv = tly_buf_u32(out, (uint32_t) l->body_len)) != 0 ||
	    (rv = tly_buf_append(out, l->body, l->body_len)) != 0)
		goto fail;
	n = out->len - start;
	tly_ident_sign(me, sig, m, signed_msg(m, out->p + start, n));
	if ((rv = tly_buf_append(out, sig, sizeof sig)) != 0)
		goto fail;
	total = padded(n + TLY_SIG_BYTES);
	if ((rv = tly_buf_append(out, zero, total - (n + TLY_SIG_BYTES))) != 0)
		goto fail;
	return (0);
fail:
	out->len = start;
	return (rv);
}

int
tly_letter_decode(tly_letter *l, const unsigned char *p, size_t n, int *why)
{
	uint64_t sent;
	size_t   blen, end;

	memset(l, 0, sizeof *l);
	if (why != NULL)
		*why = TLY_WHY_NONE;
	if (n == 0)
		return (fail(why, TLY_WHY_EMPTY, TALLY_EFORMAT));
	if (n > TLY_LETTER_MAX)
		return (fail(why, TLY_WHY_TOO_BIG, TALLY_ETOOBIG));
	if (n < MAGIC_LEN || memcmp(p, TLY_LETTER_MAGIC, MAGIC_LEN) != 0)
		return (fail(why,
		    n < MAGIC_LEN ? TLY_WHY_TRUNCATED : TLY_WHY_MAGIC,
		    TALLY_EFORMAT));
	if (n < 5)
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	if (p[4] != TLY_LETTER_VERSION)
		return (fail(why, TLY_WHY_VERSION, TALLY_EUNSUPP));
	if (n < TLY_LETTER_HEAD)
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	l->type = p[5];
	if (tly_letter_type_name(l->type) == NULL)
		return (fail(why, TLY_WHY_LETTER_TYPE, TALLY_EFORMAT));
	if (tly_get_u16(p + 6) != 0)
		return (fail(why, TLY_WHY_FLAGS, TALLY_EFORMAT));
	memcpy(l->from, p + 8, TLY_PK_BYTES);
	memcpy(l->to, p + 40, TLY_PK_BYTES);
	memcpy(l->id, p + 72, TLY_LETTER_ID_BYTES);
	sent = tly_get_u64(p + 88);
	if (sent > (uint64_t) TLY_REC_TIME_MAX)
		return (fail(why, TLY_WHY_TIME, TALLY_EFORMAT));
	l->sent = (int64_t) sent;
	blen    = tly_get_u32(p + 96);
	if (blen > TLY_LETTER_BODY_MAX)
		return (fail(why, TLY_WHY_TOO_BIG, TALLY_ETOOBIG));
	end = TLY_LETTER_HEAD + blen + TLY_SIG_BYTES;
	if (n < end)
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	if (n != padded(end))
		return (fail(why,
		    n < padded(end) ? TLY_WHY_TRUNCATED : TLY_WHY_TRAILING,
		    TALLY_EFORMAT));
	for (size_t i = end; i < n; i++)
		if (p[i] != 0)
			return (fail(why, TLY_WHY_PADDING, TALLY_EFORMAT));
	l->body     = p + TLY_LETTER_HEAD;
	l->body_len = blen;
	memcpy(l->sig, p + TLY_LETTER_HEAD + blen, TLY_SIG_BYTES);
	return (0);
}

int
tly_letter_verify(
    const tly_letter *l, const unsigned char *p, size_t n, int *why)
{
	unsigned char m[DOMAIN_LEN + TLY_LETTER_HEAD + TLY_LETTER_BODY_MAX];
	size_t        signed_len = TLY_LETTER_HEAD + l->body_len;

	if (l->body_len > TLY_LETTER_BODY_MAX || n < signed_len)
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	if (tly_pk_verify(l->from, l->sig, m, signed_msg(m, p, signed_len)) !=
	    0)
		return (fail(why, TLY_WHY_BAD_SIG, TALLY_ECRYPTO));
	if (why != NULL)
		*why = TLY_WHY_NONE;
	return (0);
}

/* -- Envelopes --------------------------------------------------------- */

int
tly_envelope_seal(
    tly_buf *out, const unsigned char *p, size_t n, const unsigned char *to)
{
	unsigned char xpk[TLY_X25519_BYTES];
	int           rv;

	if (n > TLY_LETTER_MAX)
		return (TALLY_ETOOBIG);
	if (tly_pk_x25519(xpk, to) != 0)
		return (TALLY_ECRYPTO);
	if ((rv = tly_buf_reserve(out, n + TLY_SEAL_BYTES)) != 0)
		return (rv);
	if (crypto_box_seal(out->p + out->len, p, n, xpk) != 0)
		return (TALLY_ECRYPTO);
	out->len += n + TLY_SEAL_BYTES;
	return (0);
}

int
tly_envelope_open(tly_buf *out, const unsigned char *e, size_t n,
    const tly_ident *me, int *why)
{
	unsigned char xpk[TLY_X25519_BYTES], xsk[TLY_X25519_BYTES];
	size_t        len;
	int           rv;

	if (n > TLY_ENVELOPE_MAX)
		return (fail(why, TLY_WHY_TOO_BIG, TALLY_ETOOBIG));
	if (n <= TLY_SEAL_BYTES)
		return (fail(why, n == 0 ? TLY_WHY_EMPTY : TLY_WHY_TRUNCATED,
		    TALLY_EFORMAT));
	len = n - TLY_SEAL_BYTES;
	if ((rv = tly_buf_reserve(out, len)) != 0)
		return (rv);
	if ((rv = tly_ident_x25519(me, xpk, xsk)) != 0)
		return (rv);
	rv = crypto_box_seal_open(out->p + out->len, e, n, xpk, xsk);
	sodium_memzero(xsk, sizeof xsk);
	if (rv != 0)
		return (fail(why, TLY_WHY_SEALED, TALLY_ECRYPTO));
	out->len += len;
	if (why != NULL)
		*why = TLY_WHY_NONE;
	return (0);
}

/* -- Bodies ------------------------------------------------------------ */

typedef struct reader {
	const unsigned char *p;
	size_t               n, o;
} reader;

static int
need(const reader *rd, size_t k)
{
	return (rd->n - rd->o >= k);
}

/* A blob16 of 1..max bytes: *out points into the input. */
static int
read_blob(
    reader *rd, const unsigned char **out, size_t *len, size_t max, int *why)
{
	size_t k;

	if (!need(rd, 2))
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	k = tly_get_u16(rd->p + rd->o);
	rd->o += 2;
	if (k == 0)
		return (fail(why, TLY_WHY_EMPTY, TALLY_EFORMAT));
	if (k > max)
		return (fail(why, TLY_WHY_TOO_BIG, TALLY_ETOOBIG));
	if (!need(rd, k))
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	*out = rd->p + rd->o;
	*len = k;
	rd->o += k;
	return (0);
}

/* A text16 of 0..max bytes (multi-line) into dst (max + 1). */
static int
read_text(reader *rd, char *dst, size_t max, int *why)
{
	size_t k;
	int    w;

	if (!need(rd, 2))
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	k = tly_get_u16(rd->p + rd->o);
	rd->o += 2;
	if (k > max)
		return (fail(why, TLY_WHY_TEXT_LEN, TALLY_ETOOBIG));
	if (!need(rd, k))
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	if ((w = text_check(rd->p + rd->o, k, 1)) != TLY_WHY_NONE)
		return (fail(why, w, TALLY_EFORMAT));
	memcpy(dst, rd->p + rd->o, k);
	dst[k] = '\0';
	rd->o += k;
	return (0);
}

static int
read_intro(reader *rd, unsigned char *intro, int *why)
{
	if (!need(rd, TLY_INTRO_ID_BYTES))
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	memcpy(intro, rd->p + rd->o, TLY_INTRO_ID_BYTES);
	rd->o += TLY_INTRO_ID_BYTES;
	return (0);
}

int
tly_mail_body_decode(
    tly_mail_body *b, int type, const unsigned char *p, size_t n, int *why)
{
	reader   rd = { p, n, 0 };
	uint64_t created;
	unsigned y, m, d;
	char     date[16];
	int      rv = 0;

	memset(b, 0, sizeof *b);
	if (why != NULL)
		*why = TLY_WHY_NONE;
	switch (type) {
	case TLY_L_PROPOSE:
	case TLY_L_CONFIRM:
	case TLY_L_INTRO_RECORD:
	case TLY_L_INTRO_SIGNED:
		rv = read_blob(&rd, &b->rec, &b->rec_len, TLY_SIGNED_MAX, why);
		break;
	case TLY_L_DECLINE:
	case TLY_L_REVOKE:
		if ((rv = read_blob(
		         &rd, &b->rec, &b->rec_len, TLY_SIGNED_MAX, why)) == 0)
			rv = read_blob(&rd, &b->target, &b->target_len,
			    TLY_SIGNED_MAX, why);
		break;
	case TLY_L_INTRO_ASK:
		if ((rv = read_intro(&rd, b->intro, why)) != 0)
			break;
		if (!need(&rd, 12)) {
			rv = fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT);
			break;
		}
		created = tly_get_u64(p + rd.o);
		if (created > (uint64_t) TLY_REC_TIME_MAX) {
			rv = fail(why, TLY_WHY_TIME, TALLY_EFORMAT);
			break;
		}
		b->created = (int64_t) created;
		y          = tly_get_u16(p + rd.o + 8);
		m          = p[rd.o + 10];
		d          = p[rd.o + 11];
		rd.o += 12;
		if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1 ||
		    d > 31 ||
		    (snprintf(date, sizeof date, "%04u-%02u-%02u", y, m, d),
		        tly_date_parse(&b->date, date) != 0)) {
			rv = fail(why, TLY_WHY_DATE, TALLY_EFORMAT);
			break;
		}
		rv = read_text(&rd, b->text, TLY_REC_TEXT_MAX, why);
		break;
	case TLY_L_INTRO_CONSENT:
	case TLY_L_INTRO_CANCEL:
		rv = read_intro(&rd, b->intro, why);
		break;
	case TLY_L_INTRO_DECLINE:
		if ((rv = read_intro(&rd, b->intro, why)) == 0)
			rv = read_text(&rd, b->text, TLY_REC_TEXT_MAX, why);
		break;
	case TLY_L_INTRO_HELLO:
		if ((rv = read_blob(
		         &rd, &b->rec, &b->rec_len, TLY_SIGNED_MAX, why)) == 0)
			rv = read_blob(
			    &rd, &b->card, &b->card_len, TLY_CARD_MAX, why);
		break;
	default:
		return (fail(why, TLY_WHY_LETTER_TYPE, TALLY_EFORMAT));
	}
	if (rv != 0)
		return (rv);
	if (rd.o != n)
		return (fail(why, TLY_WHY_TRAILING, TALLY_EFORMAT));
	return (0);
}

static int
put_blob(tly_buf *out, const unsigned char *p, size_t n, size_t max)
{
	int rv;

	if (p == NULL || n == 0 || n > max)
		return (TALLY_EINVAL);
	if ((rv = tly_buf_u16(out, (uint16_t) n)) != 0)
		return (rv);
	return (tly_buf_append(out, p, n));
}

static int
put_text(tly_buf *out, const char *s, int *why)
{
	size_t n = strnlen(s, TLY_REC_TEXT_MAX + 1);
	int    w, rv;

	if (n > TLY_REC_TEXT_MAX)
		return (fail(why, TLY_WHY_TEXT_LEN, TALLY_ETOOBIG));
	if ((w = text_check((const unsigned char *) s, n, 1)) != 0)
		return (fail(why, w, TALLY_EFORMAT));
	if ((rv = tly_buf_u16(out, (uint16_t) n)) != 0)
		return (rv);
	return (tly_buf_append(out, s, n));
}

int
tly_mail_body_encode(tly_buf *out, int type, const tly_mail_body *b, int *why)
{
	char     date[TLY_DATE_LEN];
	tly_date check;
	size_t   start = out->len;
	int      rv;

	switch (type) {
	case TLY_L_PROPOSE:
	case TLY_L_CONFIRM:
	case TLY_L_INTRO_RECORD:
	case TLY_L_INTRO_SIGNED:
		rv = put_blob(out, b->rec, b->rec_len, TLY_SIGNED_MAX);
		break;
	case TLY_L_DECLINE:
	case TLY_L_REVOKE:
		if ((rv = put_blob(out, b->rec, b->rec_len, TLY_SIGNED_MAX)) ==
		    0)
			rv = put_blob(
			    out, b->target, b->target_len, TLY_SIGNED_MAX);
		break;
	case TLY_L_INTRO_ASK:
		tly_date_format(date, &b->date);
		if (b->created < 0 || b->created > TLY_REC_TIME_MAX) {
			rv = fail(why, TLY_WHY_TIME, TALLY_EFORMAT);
			break;
		}
		if (tly_date_parse(&check, date) != 0) {
			rv = fail(why, TLY_WHY_DATE, TALLY_EFORMAT);
			break;
		}
		if ((rv = tly_buf_append(out, b->intro, TLY_INTRO_ID_BYTES)) !=
		        0 ||
		    (rv = tly_buf_u64(out, (uint64_t) b->created)) != 0 ||
		    (rv = tly_buf_u16(out, (uint16_t) b->date.year)) != 0 ||
		    (rv = tly_buf_u8(out, (uint8_t) b->date.month)) != 0 ||
		    (rv = tly_buf_u8(out, (uint8_t) b->date.day)) != 0)
			break;
		rv = put_text(out, b->text, why);
		break;
	case TLY_L_INTRO_CONSENT:
	case TLY_L_INTRO_CANCEL:
		rv = tly_buf_append(out, b->intro, TLY_INTRO_ID_BYTES);
		break;
	case TLY_L_INTRO_DECLINE:
		if ((rv = tly_buf_append(out, b->intro, TLY_INTRO_ID_BYTES)) ==
		    0)
			rv = put_text(out, b->text, why);
		break;
	case TLY_L_INTRO_HELLO:
		if ((rv = put_blob(out, b->rec, b->rec_len, TLY_SIGNED_MAX)) ==
		    0)
			rv = put_blob(out, b->card, b->card_len, TLY_CARD_MAX);
		break;
	default:
		rv = fail(why, TLY_WHY_LETTER_TYPE, TALLY_EINVAL);
		break;
	}
	if (rv != 0)
		out->len = start;
	return (rv);
}

/* -- Contact cards ----------------------------------------------------- */

static size_t
tag_max(int tag)
{
	return (tag == CARD_PHONE ? TLY_CARD_PHONE_MAX : TLY_CARD_TEXT_MAX);
}

int
tly_card_decode(tly_card *c, const unsigned char *p, size_t n, int *why)
{
	reader rd   = { p, n, 0 };
	int    last = 0;

	memset(c, 0, sizeof *c);
	if (why != NULL)
		*why = TLY_WHY_NONE;
	if (n == 0)
		return (fail(why, TLY_WHY_EMPTY, TALLY_EFORMAT));
	if (n > TLY_CARD_MAX)
		return (fail(why, TLY_WHY_TOO_BIG, TALLY_ETOOBIG));
	while (rd.o < n) {
		char  *dst;
		size_t k;
		int    tag, w;

		if (!need(&rd, 3))
			return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
		tag = p[rd.o];
		k   = tly_get_u16(p + rd.o + 1);
		rd.o += 3;
		/* Ascending; only emails and phones repeat; name first. */
		if (tag < CARD_NAME || tag > CARD_URL || tag < last ||
		    (tag == last && tag != CARD_EMAIL && tag != CARD_PHONE) ||
		    (last == 0 && tag != CARD_NAME))
			return (fail(why, TLY_WHY_CARD, TALLY_EFORMAT));
		if (k == 0)
			return (fail(why, TLY_WHY_TEXT_EMPTY, TALLY_EFORMAT));
		if (k > tag_max(tag))
			return (fail(why, TLY_WHY_TEXT_LEN, TALLY_ETOOBIG));
		if (!need(&rd, k))
			return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
		if ((w = text_check(p + rd.o, k, 0)) != TLY_WHY_NONE)
			return (fail(why, w, TALLY_EFORMAT));
		switch (tag) {
		case CARD_NAME:
			dst = c->name;
			break;
		case CARD_ORG:
			dst = c->org;
			break;
		case CARD_TITLE:
			dst = c->title;
			break;
		case CARD_URL:
			dst = c->url;
			break;
		case CARD_EMAIL:
			if (c->nemails == TLY_CARD_LIST_MAX)
				return (
				    fail(why, TLY_WHY_CARD, TALLY_EFORMAT));
			dst = c->emails[c->nemails++];
			break;
		default:
			if (c->nphones == TLY_CARD_LIST_MAX)
				return (
				    fail(why, TLY_WHY_CARD, TALLY_EFORMAT));
			dst = c->phones[c->nphones++];
			break;
		}
		memcpy(dst, p + rd.o, k);
		dst[k] = '\0';
		rd.o += k;
		last = tag;
	}
	return (0);
}

static int
put_field(tly_buf *out, int tag, const char *s, int *why)
{
	size_t k = strnlen(s, tag_max(tag) + 1);
	int    w, rv;

	if (k == 0)
		return (tag == CARD_NAME
		        ? fail(why, TLY_WHY_TEXT_EMPTY, TALLY_EFORMAT)
		        : 0);
	if (k > tag_max(tag))
		return (fail(why, TLY_WHY_TEXT_LEN, TALLY_ETOOBIG));
	if ((w = text_check((const unsigned char *) s, k, 0)) != 0)
		return (fail(why, w, TALLY_EFORMAT));
	if ((rv = tly_buf_u8(out, (uint8_t) tag)) != 0 ||
	    (rv = tly_buf_u16(out, (uint16_t) k)) != 0)
		return (rv);
	return (tly_buf_append(out, s, k));
}

int
tly_card_encode(tly_buf *out, const tly_card *c, int *why)
{
	size_t start = out->len;
	int    rv;

	if (c->nemails > TLY_CARD_LIST_MAX || c->nphones > TLY_CARD_LIST_MAX)
		return (fail(why, TLY_WHY_CARD, TALLY_EFORMAT));
	if ((rv = put_field(out, CARD_NAME, c->name, why)) != 0 ||
	    (rv = put_field(out, CARD_ORG, c->org, why)) != 0 ||
	    (rv = put_field(out, CARD_TITLE, c->title, why)) != 0)
		goto fail;
	for (size_t i = 0; i < c->nemails; i++)
		if (c->emails[i][0] == '\0' ||
		    (rv = put_field(out, CARD_EMAIL, c->emails[i], why)) != 0)
			goto bad;
	for (size_t i = 0; i < c->nphones; i++)
		if (c->phones[i][0] == '\0' ||
		    (rv = put_field(out, CARD_PHONE, c->phones[i], why)) != 0)
			goto bad;
	if ((rv = put_field(out, CARD_URL, c->url, why)) != 0)
		goto fail;
	if (out->len - start > TLY_CARD_MAX) {
		rv = fail(why, TLY_WHY_TOO_BIG, TALLY_ETOOBIG);
		goto fail;
	}
	return (0);
bad:
	if (rv == 0)
		rv = fail(why, TLY_WHY_TEXT_EMPTY, TALLY_EFORMAT);
fail:
	out->len = start;
	return (rv);
}
