/*
 * tly_record.c -- the canonical record encoding, record ids, signed
 * containers and their armored form.
 *
 * Record, version 1 (PROTOCOL.md, "Canonical record encoding"); integers
 * big-endian, n the number of parties of the kind, B = 27 + 33 n:
 *
 *   OFFSET SIZE  FIELD
 *        0    1  version (1)
 *        1    1  kind (1 favor .. 5 revocation)
 *        2   16  nonce
 *       18    8  created, Unix seconds
 *       26    1  n
 *       27 33 n  parties: role (1), Ed25519 key (32)
 *   favor, referral, reference, introduction:
 *        B    4  date: year (2), month (1), day (1)
 *   favor:       B+4 favor kind (1), then text
 *   referral:    B+4 name length (2), name (to whom, 1..200), then text
 *   reference:   B+4 name length (2), name (for what, 0..200), then text
 *   introduction: text
 *   revocation:
 *        B   32  target record id
 *      B+32   1  action
 *                then text (the reason)
 *   text: length (2), UTF-8 bytes (0..1024); nothing follows.
 *
 * Signed container, version 1:
 *
 *   OFFSET SIZE  FIELD
 *        0    1  version (1)
 *        1    2  R, record length
 *        3    R  canonical record
 *      3+R    1  m, number of signatures (0..n)
 *      4+R 96 m  signer key (32), Ed25519 signature (64), in party order
 */
#include <string.h>

#include <sodium.h>

#include "tly_armor.h"
#include "tly_enc.h"
#include "tly_err.h"
#include "tly_record.h"
#include "tly_util.h"

#define HDR_LEN 27 /* bytes before the parties */
#define PARTY_LEN (1 + TLY_PK_BYTES)
#define SIG_ENTRY (TLY_PK_BYTES + TLY_SIG_BYTES)
#define DOMAIN_LEN (sizeof TLY_REC_DOMAIN) /* with its NUL */

_Static_assert(DOMAIN_LEN == 16, "domain string length");
_Static_assert(HDR_LEN + 3 * PARTY_LEN + 4 + 2 + TLY_REC_NAME_MAX + 2 +
            TLY_REC_TEXT_MAX <=
        TLY_REC_MAX,
    "TLY_REC_MAX too small");

/* The fixed role sequence of each kind (0 ends it). */
static const int kind_roles[][TLY_REC_MAX_PARTIES + 1] = {
	[TLY_REC_FAVOR]        = { TLY_ROLE_GIVER, TLY_ROLE_RECEIVER, 0 },
	[TLY_REC_REFERRAL]     = { TLY_ROLE_REFERRER, TLY_ROLE_REFERRED, 0 },
	[TLY_REC_REFERENCE]    = { TLY_ROLE_REFEREE, TLY_ROLE_CANDIDATE, 0 },
	[TLY_REC_INTRODUCTION] = { TLY_ROLE_INTRODUCER, TLY_ROLE_INTRODUCED,
	    TLY_ROLE_INTRODUCED, 0 },
	[TLY_REC_REVOCATION]   = { TLY_ROLE_REVOKER, 0 },
};

static int
kind_known(int kind)
{
	return (kind >= TLY_REC_FAVOR && kind <= TLY_REC_REVOCATION);
}

static size_t
kind_nparties(int kind)
{
	size_t n = 0;

	while (n < TLY_REC_MAX_PARTIES && kind_roles[kind][n] != 0)
		n++;
	return (n);
}

static int
fail(int *why, int w, int rv)
{
	if (why != NULL)
		*why = w;
	return (rv);
}

/* -- Names ------------------------------------------------------------ */

static const char *const kind_names[]   = { NULL, "favor", "referral",
	  "reference", "introduction", "revocation" };
static const char *const role_names[]   = { NULL, "giver", "receiver",
	  "referrer", "referred", "referee", "candidate", "introducer",
	  "introduced", "revoker" };
static const char *const favor_names[]  = { NULL, "introduction", "reference",
	 "referral", "advice", "resume", "info", "other" };
static const char *const action_names[] = { NULL, "decline", "revoke" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *
name_of(const char *const *v, size_t n, int i)
{
	return (i > 0 && (size_t) i < n ? v[i] : NULL);
}

static int
parse_name(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 1; s != NULL && i < n; i++)
		if (strcmp(v[i], s) == 0)
			return ((int) i);
	return (0);
}

const char *
tly_rec_kind_name(int kind)
{
	return (name_of(kind_names, NELEM(kind_names), kind));
}

int
tly_rec_kind_parse(const char *s)
{
	return (parse_name(kind_names, NELEM(kind_names), s));
}

const char *
tly_rec_role_name(int role)
{
	return (name_of(role_names, NELEM(role_names), role));
}

const char *
tly_favor_kind_name(int fk)
{
	return (name_of(favor_names, NELEM(favor_names), fk));
}

int
tly_favor_kind_parse(const char *s)
{
	return (parse_name(favor_names, NELEM(favor_names), s));
}

const char *
tly_action_name(int action)
{
	return (name_of(action_names, NELEM(action_names), action));
}

int
tly_action_parse(const char *s)
{
	return (parse_name(action_names, NELEM(action_names), s));
}

/* -- Dates ------------------------------------------------------------ */

static int
date_ok(int y, int m, int d)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int              leap, max;

	if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1)
		return (0);
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	max  = mdays[m - 1] + (m == 2 && leap);
	return (d <= max);
}

int
tly_date_parse(tly_date *d, const char *s)
{
	int              v[3]     = { 0, 0, 0 };
	static const int width[3] = { 4, 2, 2 };
	size_t           o        = 0;

	for (int f = 0; f < 3; f++) {
		for (int k = 0; k < width[f]; k++, o++) {
			if (s[o] < '0' || s[o] > '9')
				return (TALLY_EINVAL);
			v[f] = v[f] * 10 + (s[o] - '0');
		}
		if (f < 2 && s[o++] != '-')
			return (TALLY_EINVAL);
	}
	if (s[o] != '\0' || !date_ok(v[0], v[1], v[2]))
		return (TALLY_EINVAL);
	d->year  = v[0];
	d->month = v[1];
	d->day   = v[2];
	return (0);
}

void
tly_date_format(char *out, const tly_date *d)
{
	int y = d->year, m = d->month, dd = d->day;

	if (!date_ok(y, m, dd))
		y = m = dd = 0;
	out[0]  = (char) ('0' + y / 1000);
	out[1]  = (char) ('0' + y / 100 % 10);
	out[2]  = (char) ('0' + y / 10 % 10);
	out[3]  = (char) ('0' + y % 10);
	out[4]  = '-';
	out[5]  = (char) ('0' + m / 10);
	out[6]  = (char) ('0' + m % 10);
	out[7]  = '-';
	out[8]  = (char) ('0' + dd / 10);
	out[9]  = (char) ('0' + dd % 10);
	out[10] = '\0';
}

/* -- Text fields ------------------------------------------------------ */

/* Valid UTF-8 without C0 controls (except TAB and LF when multiline),
 * DEL or C1 controls (U+0080..U+009F, C2 80..C2 9F). */
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

/* -- Decoding --------------------------------------------------------- */

typedef struct reader {
	const unsigned char *p;
	size_t               n, o;
} reader;

static int
need(const reader *rd, size_t k)
{
	return (rd->n - rd->o >= k);
}

/* Reads a length-prefixed text field into dst (max bytes + NUL). */
static int
read_text(
    reader *rd, char *dst, size_t max, int required, int multiline, int *why)
{
	size_t len;
	int    w;

	if (!need(rd, 2))
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	len = tly_get_u16(rd->p + rd->o);
	rd->o += 2;
	if (len > max)
		return (fail(why, TLY_WHY_TEXT_LEN, TALLY_ETOOBIG));
	if (len == 0 && required)
		return (fail(why, TLY_WHY_TEXT_EMPTY, TALLY_EFORMAT));
	if (!need(rd, len))
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	if ((w = text_check(rd->p + rd->o, len, multiline)) != TLY_WHY_NONE)
		return (fail(why, w, TALLY_EFORMAT));
	memcpy(dst, rd->p + rd->o, len);
	dst[len] = '\0';
	rd->o += len;
	return (0);
}

static int
read_date(reader *rd, tly_date *d, int *why)
{
	if (!need(rd, 4))
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	d->year  = tly_get_u16(rd->p + rd->o);
	d->month = rd->p[rd->o + 2];
	d->day   = rd->p[rd->o + 3];
	rd->o += 4;
	if (!date_ok(d->year, d->month, d->day))
		return (fail(why, TLY_WHY_DATE, TALLY_EFORMAT));
	return (0);
}

int
tly_record_decode(tly_record *r, const unsigned char *p, size_t n, int *why)
{
	reader   rd = { p, n, 0 };
	uint64_t created;
	size_t   np;
	int      rv;

	memset(r, 0, sizeof *r);
	if (why != NULL)
		*why = TLY_WHY_NONE;
	if (n == 0)
		return (fail(why, TLY_WHY_EMPTY, TALLY_EFORMAT));
	if (n > TLY_REC_MAX)
		return (fail(why, TLY_WHY_TOO_BIG, TALLY_ETOOBIG));
	if (p[0] != TLY_REC_VERSION)
		return (fail(why, TLY_WHY_VERSION, TALLY_EUNSUPP));
	if (n < 2)
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	if (!kind_known(p[1]))
		return (fail(why, TLY_WHY_KIND, TALLY_EFORMAT));
	if (n < HDR_LEN)
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	r->version = p[0];
	r->kind    = p[1];
	memcpy(r->nonce, p + 2, TLY_REC_NONCE_BYTES);
	created = tly_get_u64(p + 18);
	if (created > (uint64_t) TLY_REC_TIME_MAX)
		return (fail(why, TLY_WHY_TIME, TALLY_EFORMAT));
	r->created = (int64_t) created;
	np         = p[26];
	if (np != kind_nparties(r->kind))
		return (fail(why, TLY_WHY_PARTY_COUNT, TALLY_EFORMAT));
	rd.o = HDR_LEN;
	if (!need(&rd, np * PARTY_LEN))
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	r->nparties = np;
	for (size_t i = 0; i < np; i++) {
		r->parties[i].role = p[rd.o];
		memcpy(r->parties[i].pk, p + rd.o + 1, TLY_PK_BYTES);
		rd.o += PARTY_LEN;
		if (r->parties[i].role != kind_roles[r->kind][i])
			return (
			    fail(why, TLY_WHY_KIND_MISMATCH, TALLY_EFORMAT));
	}
	for (size_t i = 0; i < np; i++)
		for (size_t j = i + 1; j < np; j++)
			if (memcmp(r->parties[i].pk, r->parties[j].pk,
			        TLY_PK_BYTES) == 0)
				return (fail(
				    why, TLY_WHY_DUP_PARTY, TALLY_EFORMAT));
	if (r->kind == TLY_REC_INTRODUCTION &&
	    memcmp(r->parties[1].pk, r->parties[2].pk, TLY_PK_BYTES) > 0)
		return (fail(why, TLY_WHY_PARTY_ORDER, TALLY_EFORMAT));

	switch (r->kind) {
	case TLY_REC_FAVOR:
		if ((rv = read_date(&rd, &r->date, why)) != 0)
			return (rv);
		if (!need(&rd, 1))
			return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
		r->favor_kind = p[rd.o++];
		if (tly_favor_kind_name(r->favor_kind) == NULL)
			return (fail(why, TLY_WHY_FAVOR_KIND, TALLY_EFORMAT));
		break;
	case TLY_REC_REFERRAL:
	case TLY_REC_REFERENCE:
		if ((rv = read_date(&rd, &r->date, why)) != 0)
			return (rv);
		if ((rv = read_text(&rd, r->name, TLY_REC_NAME_MAX,
		         r->kind == TLY_REC_REFERRAL, 0, why)) != 0)
			return (rv);
		break;
	case TLY_REC_INTRODUCTION:
		if ((rv = read_date(&rd, &r->date, why)) != 0)
			return (rv);
		break;
	case TLY_REC_REVOCATION:
		if (!need(&rd, TLY_REC_ID_BYTES + 1))
			return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
		memcpy(r->target, p + rd.o, TLY_REC_ID_BYTES);
		rd.o += TLY_REC_ID_BYTES;
		r->action = p[rd.o++];
		if (tly_action_name(r->action) == NULL)
			return (fail(why, TLY_WHY_ACTION, TALLY_EFORMAT));
		break;
	}
	if ((rv = read_text(&rd, r->text, TLY_REC_TEXT_MAX, 0, 1, why)) != 0)
		return (rv);
	if (rd.o != n)
		return (fail(why, TLY_WHY_TRAILING, TALLY_EFORMAT));
	return (0);
}

/* -- Encoding --------------------------------------------------------- */

int
tly_record_init(tly_record *r, int kind, int64_t created)
{
	memset(r, 0, sizeof *r);
	if (!kind_known(kind))
		return (TALLY_EINVAL);
	r->version = TLY_REC_VERSION;
	r->kind    = kind;
	r->created = created;
	randombytes_buf(r->nonce, sizeof r->nonce);
	r->nparties = kind_nparties(kind);
	for (size_t i = 0; i < r->nparties; i++)
		r->parties[i].role = kind_roles[kind][i];
	return (0);
}

static int
put_text(tly_buf *b, const char *s, size_t max, int *why)
{
	size_t n = strnlen(s, max + 1);
	int    rv;

	if (n > max)
		return (fail(why, TLY_WHY_TEXT_LEN, TALLY_ETOOBIG));
	if ((rv = tly_buf_u16(b, (uint16_t) n)) != 0)
		return (rv);
	return (tly_buf_append(b, s, n));
}

static int
put_date(tly_buf *b, const tly_date *d, int *why)
{
	int rv;

	if (!date_ok(d->year, d->month, d->day))
		return (fail(why, TLY_WHY_DATE, TALLY_EFORMAT));
	if ((rv = tly_buf_u16(b, (uint16_t) d->year)) != 0 ||
	    (rv = tly_buf_u8(b, (uint8_t) d->month)) != 0)
		return (rv);
	return (tly_buf_u8(b, (uint8_t) d->day));
}

static int
put_party(tly_buf *b, const tly_party *pt)
{
	int rv;

	if ((rv = tly_buf_u8(b, (uint8_t) pt->role)) != 0)
		return (rv);
	return (tly_buf_append(b, pt->pk, TLY_PK_BYTES));
}

/* Writes r's fields; tly_record_encode() then checks the result with the
 * decoder, so the two can never disagree. */
static int
write_record(tly_buf *b, const tly_record *r, int *why)
{
	int rv;

	if (r->version != TLY_REC_VERSION)
		return (fail(why, TLY_WHY_VERSION, TALLY_EUNSUPP));
	if (!kind_known(r->kind))
		return (fail(why, TLY_WHY_KIND, TALLY_EFORMAT));
	if (r->nparties != kind_nparties(r->kind))
		return (fail(why, TLY_WHY_PARTY_COUNT, TALLY_EFORMAT));
	if (r->created < 0 || r->created > TLY_REC_TIME_MAX)
		return (fail(why, TLY_WHY_TIME, TALLY_EFORMAT));
	for (size_t i = 0; i < r->nparties; i++)
		if (r->parties[i].role < 0 || r->parties[i].role > 255)
			return (
			    fail(why, TLY_WHY_KIND_MISMATCH, TALLY_EFORMAT));
	if ((rv = tly_buf_u8(b, (uint8_t) r->version)) != 0 ||
	    (rv = tly_buf_u8(b, (uint8_t) r->kind)) != 0 ||
	    (rv = tly_buf_append(b, r->nonce, TLY_REC_NONCE_BYTES)) != 0 ||
	    (rv = tly_buf_u64(b, (uint64_t) r->created)) != 0 ||
	    (rv = tly_buf_u8(b, (uint8_t) r->nparties)) != 0)
		return (rv);
	if (r->kind == TLY_REC_INTRODUCTION) {
		/* The two introduced, in key order. */
		int sw = memcmp(r->parties[1].pk, r->parties[2].pk,
		             TLY_PK_BYTES) > 0;
		if ((rv = put_party(b, &r->parties[0])) != 0 ||
		    (rv = put_party(b, &r->parties[sw ? 2 : 1])) != 0 ||
		    (rv = put_party(b, &r->parties[sw ? 1 : 2])) != 0)
			return (rv);
	} else {
		for (size_t i = 0; i < r->nparties; i++)
			if ((rv = put_party(b, &r->parties[i])) != 0)
				return (rv);
	}
	switch (r->kind) {
	case TLY_REC_FAVOR:
		if ((rv = put_date(b, &r->date, why)) != 0)
			return (rv);
		if (tly_favor_kind_name(r->favor_kind) == NULL)
			return (fail(why, TLY_WHY_FAVOR_KIND, TALLY_EFORMAT));
		if ((rv = tly_buf_u8(b, (uint8_t) r->favor_kind)) != 0)
			return (rv);
		break;
	case TLY_REC_REFERRAL:
	case TLY_REC_REFERENCE:
		if ((rv = put_date(b, &r->date, why)) != 0 ||
		    (rv = put_text(b, r->name, TLY_REC_NAME_MAX, why)) != 0)
			return (rv);
		break;
	case TLY_REC_INTRODUCTION:
		if ((rv = put_date(b, &r->date, why)) != 0)
			return (rv);
		break;
	case TLY_REC_REVOCATION:
		if (tly_action_name(r->action) == NULL)
			return (fail(why, TLY_WHY_ACTION, TALLY_EFORMAT));
		if ((rv = tly_buf_append(b, r->target, TLY_REC_ID_BYTES)) !=
		        0 ||
		    (rv = tly_buf_u8(b, (uint8_t) r->action)) != 0)
			return (rv);
		break;
	}
	return (put_text(b, r->text, TLY_REC_TEXT_MAX, why));
}

int
tly_record_encode(tly_buf *out, const tly_record *r, int *why)
{
	tly_buf    b = TLY_BUF_INIT;
	tly_record check;
	int        rv;

	if (why != NULL)
		*why = TLY_WHY_NONE;
	if ((rv = write_record(&b, r, why)) == 0 &&
	    (rv = tly_record_decode(&check, b.p, b.len, why)) == 0)
		rv = tly_buf_append(out, b.p, b.len);
	tly_buf_free(&b);
	return (rv);
}

void
tly_record_id(unsigned char *id, const unsigned char *p, size_t n)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, TLY_REC_ID_BYTES);
	crypto_generichash_update(
	    &st, (const unsigned char *) TLY_REC_DOMAIN, DOMAIN_LEN);
	crypto_generichash_update(&st, p, n);
	crypto_generichash_final(&st, id, TLY_REC_ID_BYTES);
}

int
tly_record_party(const tly_record *r, const unsigned char *pk)
{
	for (size_t i = 0; i < r->nparties && i < TLY_REC_MAX_PARTIES; i++)
		if (sodium_memcmp(r->parties[i].pk, pk, TLY_PK_BYTES) == 0)
			return ((int) i);
	return (-1);
}

/* -- Signed records --------------------------------------------------- */

/* The signed message: the domain string with its NUL, then the record. */
static size_t
signed_msg(unsigned char *m, const tly_signed *s)
{
	memcpy(m, TLY_REC_DOMAIN, DOMAIN_LEN);
	memcpy(m + DOMAIN_LEN, s->canon, s->canon_len);
	return (DOMAIN_LEN + s->canon_len);
}

/* Fills s from canonical bytes p[0..n) (already a decoded record). */
static int
signed_from_canon(tly_signed *s, const unsigned char *p, size_t n, int *why)
{
	int rv;

	memset(s, 0, sizeof *s);
	if ((rv = tly_record_decode(&s->rec, p, n, why)) != 0)
		return (rv);
	memcpy(s->canon, p, n);
	s->canon_len = n;
	tly_record_id(s->id, p, n);
	return (0);
}

int
tly_signed_init(tly_signed *s, const tly_record *r, int *why)
{
	tly_buf b = TLY_BUF_INIT;
	int     rv;

	/* As tly_record_encode(), with the checking decode going straight
	 * into s. */
	if (why != NULL)
		*why = TLY_WHY_NONE;
	if ((rv = write_record(&b, r, why)) == 0)
		rv = signed_from_canon(s, b.p, b.len, why);
	if (rv != 0)
		memset(s, 0, sizeof *s);
	tly_buf_free(&b);
	return (rv);
}

int
tly_signed_sign(tly_signed *s, const tly_ident *id, int *why)
{
	unsigned char m[DOMAIN_LEN + TLY_REC_MAX];
	int           i;
	size_t        mlen;

	if ((i = tly_record_party(&s->rec, tly_ident_pk(id))) < 0)
		return (fail(why, TLY_WHY_NOT_PARTY, TALLY_EPERM));
	mlen = signed_msg(m, s);
	tly_ident_sign(id, s->sig[i], m, mlen);
	s->has_sig[i] = 1;
	return (0);
}

int
tly_signed_add(
    tly_signed *s, const unsigned char *pk, const unsigned char *sig, int *why)
{
	int i;

	if ((i = tly_record_party(&s->rec, pk)) < 0)
		return (fail(why, TLY_WHY_NOT_PARTY, TALLY_EPERM));
	if (s->has_sig[i]) {
		if (sodium_memcmp(s->sig[i], sig, TLY_SIG_BYTES) != 0)
			return (fail(why, TLY_WHY_DUP_SIG, TALLY_EEXIST));
		return (0);
	}
	memcpy(s->sig[i], sig, TLY_SIG_BYTES);
	s->has_sig[i] = 1;
	return (0);
}

int
tly_signed_merge(tly_signed *dst, const tly_signed *src, int *why)
{
	int rv;

	if (sodium_memcmp(dst->id, src->id, TLY_REC_ID_BYTES) != 0)
		return (fail(why, TLY_WHY_TARGET, TALLY_EINVAL));
	/* Check all first, so that a conflict changes nothing. */
	for (size_t i = 0; i < src->rec.nparties; i++)
		if (src->has_sig[i] && dst->has_sig[i] &&
		    sodium_memcmp(dst->sig[i], src->sig[i], TLY_SIG_BYTES) !=
		        0)
			return (fail(why, TLY_WHY_DUP_SIG, TALLY_EEXIST));
	for (size_t i = 0; i < src->rec.nparties; i++)
		if (src->has_sig[i] &&
		    (rv = tly_signed_add(
		         dst, src->rec.parties[i].pk, src->sig[i], why)) != 0)
			return (rv);
	return (0);
}

int
tly_signed_verify(const tly_signed *s, tly_verify *v, int *why)
{
	unsigned char m[DOMAIN_LEN + TLY_REC_MAX];
	tly_verify    res;
	size_t        mlen = 0;
	int           bad  = 0;

	memset(&res, 0, sizeof res);
	res.nparties = s->rec.nparties;
	for (size_t i = 0; i < s->rec.nparties; i++) {
		if (!s->has_sig[i]) {
			res.state[i] = TLY_SIG_MISSING;
			continue;
		}
		if (mlen == 0)
			mlen = signed_msg(m, s);
		if (crypto_sign_verify_detached(
		        s->sig[i], m, mlen, s->rec.parties[i].pk) == 0) {
			res.state[i] = TLY_SIG_VALID;
			res.nvalid++;
		} else {
			res.state[i] = TLY_SIG_INVALID;
			bad          = 1;
		}
	}
	res.complete =
	    s->rec.nparties > 0 && (size_t) res.nvalid == s->rec.nparties;
	if (v != NULL)
		*v = res;
	if (why != NULL)
		*why = bad ? TLY_WHY_BAD_SIG : TLY_WHY_NONE;
	return (bad ? TALLY_ECRYPTO : 0);
}

int
tly_signed_encode(tly_buf *out, const tly_signed *s)
{
	size_t m = 0;
	int    rv;

	for (size_t i = 0; i < s->rec.nparties; i++)
		m += s->has_sig[i] != 0;
	if (s->canon_len == 0 || s->canon_len > TLY_REC_MAX)
		return (TALLY_EINVAL);
	if ((rv = tly_buf_u8(out, TLY_SIGNED_VERSION)) != 0 ||
	    (rv = tly_buf_u16(out, (uint16_t) s->canon_len)) != 0 ||
	    (rv = tly_buf_append(out, s->canon, s->canon_len)) != 0 ||
	    (rv = tly_buf_u8(out, (uint8_t) m)) != 0)
		return (rv);
	for (size_t i = 0; i < s->rec.nparties; i++) {
		if (!s->has_sig[i])
			continue;
		if ((rv = tly_buf_append(
		         out, s->rec.parties[i].pk, TLY_PK_BYTES)) != 0 ||
		    (rv = tly_buf_append(out, s->sig[i], TLY_SIG_BYTES)) != 0)
			return (rv);
	}
	return (0);
}

int
tly_signed_decode(tly_signed *s, const unsigned char *p, size_t n, int *why)
{
	size_t rlen, m, o;
	int    prev = -1, rv;

	memset(s, 0, sizeof *s);
	if (why != NULL)
		*why = TLY_WHY_NONE;
	if (n == 0)
		return (fail(why, TLY_WHY_EMPTY, TALLY_EFORMAT));
	if (n > TLY_SIGNED_MAX)
		return (fail(why, TLY_WHY_TOO_BIG, TALLY_ETOOBIG));
	if (p[0] != TLY_SIGNED_VERSION)
		return (fail(why, TLY_WHY_VERSION, TALLY_EUNSUPP));
	if (n < 3)
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	rlen = tly_get_u16(p + 1);
	if (rlen > TLY_REC_MAX)
		return (fail(why, TLY_WHY_TOO_BIG, TALLY_ETOOBIG));
	if (n - 3 < rlen + 1)
		return (fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT));
	if ((rv = signed_from_canon(s, p + 3, rlen, why)) != 0)
		goto fail;
	m = p[3 + rlen];
	o = 4 + rlen;
	if (n - o < m * SIG_ENTRY) {
		rv = fail(why, TLY_WHY_TRUNCATED, TALLY_EFORMAT);
		goto fail;
	}
	if (n - o > m * SIG_ENTRY) {
		rv = fail(why, TLY_WHY_TRAILING, TALLY_EFORMAT);
		goto fail;
	}
	for (size_t k = 0; k < m; k++, o += SIG_ENTRY) {
		int i = tly_record_party(&s->rec, p + o);
		if (i < 0) {
			rv = fail(why, TLY_WHY_NOT_PARTY, TALLY_EPERM);
			goto fail;
		}
		if (i <= prev) {
			rv = fail(why,
			    i == prev ? TLY_WHY_DUP_SIG : TLY_WHY_SIG_ORDER,
			    TALLY_EFORMAT);
			goto fail;
		}
		for (int j = 0; j < i; j++)
			if (s->has_sig[j] &&
			    memcmp(s->sig[j], p + o + TLY_PK_BYTES,
			        TLY_SIG_BYTES) == 0) {
				rv = fail(why, TLY_WHY_DUP_SIG, TALLY_EFORMAT);
				goto fail;
			}
		memcpy(s->sig[i], p + o + TLY_PK_BYTES, TLY_SIG_BYTES);
		s->has_sig[i] = 1;
		prev          = i;
	}
	return (0);
fail:
	memset(s, 0, sizeof *s);
	return (rv);
}

/* -- Armor ------------------------------------------------------------ */

int
tly_signed_armor(tly_buf *out, const tly_signed *s)
{
	tly_buf       b = TLY_BUF_INIT;
	char          idhex[TLY_HEX_LEN(TLY_REC_ID_BYTES) + 1];
	tly_armor_hdr h[2];
	int           rv;

	tly_hex_encode(idhex, s->id, sizeof s->id);
	h[0].key   = "Kind";
	h[0].value = tly_rec_kind_name(s->rec.kind);
	h[1].key   = "Id";
	h[1].value = idhex;
	if (h[0].value == NULL)
		return (TALLY_EINVAL);
	if ((rv = tly_signed_encode(&b, s)) == 0)
		rv = tly_armor_encode(out, TLY_ARMOR_RECORD, h, 2, b.p, b.len);
	tly_buf_free(&b);
	return (rv);
}

int
tly_signed_dearmor(
    tly_signed *s, const char *text, size_t n, size_t *end, int *why)
{
	unsigned char bin[TLY_SIGNED_MAX];
	size_t        len;
	int           rv;

	memset(s, 0, sizeof *s);
	if ((rv = tly_armor_decode(bin, sizeof bin, &len, TLY_ARMOR_RECORD,
	         text, n, end, why)) != 0)
		return (rv);
	return (tly_signed_decode(s, bin, len, why));
}

int
tly_signed_parse(tly_signed *s, const unsigned char *p, size_t n, int *why)
{
	/* A binary container starts with its version, a control byte;
	 * text starts with a printable character or white space. */
	if (n > 0 && p[0] < 0x20 && p[0] != '\t' && p[0] != '\n' &&
	    p[0] != '\r')
		return (tly_signed_decode(s, p, n, why));
	return (tly_signed_dearmor(s, (const char *) p, n, NULL, why));
}

/* -- Revocations ------------------------------------------------------ */

int
tly_revocation_check(const tly_record *rev, const tly_signed *target, int *why)
{
	if (why != NULL)
		*why = TLY_WHY_NONE;
	if (rev->kind != TLY_REC_REVOCATION || rev->nparties != 1)
		return (fail(why, TLY_WHY_NOT_REVOCATION, TALLY_EINVAL));
	if (sodium_memcmp(rev->target, target->id, TLY_REC_ID_BYTES) != 0)
		return (fail(why, TLY_WHY_TARGET, TALLY_EINVAL));
	if (tly_record_party(&target->rec, rev->parties[0].pk) < 0)
		return (fail(why, TLY_WHY_REVOKER, TALLY_EPERM));
	return (0);
}
