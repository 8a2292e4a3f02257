/*
 * proto.h -- versions of tally's wire and record formats, and the reasons
 * a codec gives when it refuses its input.
 *
 * Every decoder in proto/ returns a TALLY_E* code (tly_err.h) and, when
 * the caller passes a `int *why`, one TLY_WHY_* value saying exactly what
 * was wrong; tly_why_str() turns it into words for a message.  The
 * specification of every format is proto/PROTOCOL.md.
 */
#ifndef TLY_PROTO_H
#define TLY_PROTO_H

#define TLY_PROTO_VERSION 1 /* bump when a wire struct changes */

/* Why a record, a signed record or an armored text was refused.  The
 * numbers are stable: append, never renumber. */
enum tly_why {
	TLY_WHY_NONE           = 0,  /* nothing wrong */
	TLY_WHY_TRUNCATED      = 1,  /* input ends inside a field */
	TLY_WHY_TRAILING       = 2,  /* bytes after the end */
	TLY_WHY_VERSION        = 3,  /* unknown format version */
	TLY_WHY_KIND           = 4,  /* unknown record kind */
	TLY_WHY_PARTY_COUNT    = 5,  /* wrong number of parties for the kind */
	TLY_WHY_KIND_MISMATCH  = 6,  /* roles are another kind's */
	TLY_WHY_DUP_PARTY      = 7,  /* one key is two parties */
	TLY_WHY_PARTY_ORDER    = 8,  /* introduced parties not in key order */
	TLY_WHY_DATE           = 9,  /* impossible date */
	TLY_WHY_TIME           = 10, /* creation time out of range */
	TLY_WHY_FAVOR_KIND     = 11, /* unknown favor kind */
	TLY_WHY_ACTION         = 12, /* unknown revocation action */
	TLY_WHY_TEXT_LEN       = 13, /* text field longer than its limit */
	TLY_WHY_TEXT_EMPTY     = 14, /* required text field is empty */
	TLY_WHY_UTF8           = 15, /* text is not valid UTF-8 */
	TLY_WHY_CONTROL        = 16, /* text holds a control character */
	TLY_WHY_TOO_BIG        = 17, /* record or container over its limit */
	TLY_WHY_NOT_PARTY      = 18, /* signer is not a party of the record */
	TLY_WHY_SIG_ORDER      = 19, /* signatures not in party order */
	TLY_WHY_DUP_SIG        = 20, /* same party or signature twice */
	TLY_WHY_BAD_SIG        = 21, /* a signature does not verify */
	TLY_WHY_REVOKER        = 22, /* revocation by a non-party */
	TLY_WHY_TARGET         = 23, /* revocation names another record */
	TLY_WHY_NOT_REVOCATION = 24, /* record is not a revocation */
	TLY_WHY_ARMOR_BEGIN    = 25, /* no BEGIN line */
	TLY_WHY_ARMOR_END      = 26, /* no END line after the body */
	TLY_WHY_ARMOR_HEADER   = 27, /* malformed header line */
	TLY_WHY_ARMOR_BODY     = 28, /* malformed base64 body */
	TLY_WHY_EMPTY          = 29, /* nothing to decode */
	/* 40..49: letters and envelopes (tly_letter.h) */
	TLY_WHY_MAGIC       = 40, /* not a tally letter */
	TLY_WHY_LETTER_TYPE = 41, /* unknown letter type */
	TLY_WHY_FLAGS       = 42, /* reserved flags set */
	TLY_WHY_PADDING     = 43, /* padding not zero */
	TLY_WHY_CARD        = 44, /* malformed contact card field */
	TLY_WHY_SEALED      = 45, /* envelope not sealed to this key */
};

/* Returns TLY_PROTO_VERSION (the codec this build speaks). */
int tly_proto_version(void);

/* Initialises libsodium; call once before any other proto/ function.
 * TALLY_EINTERNAL if libsodium cannot start. */
int tly_proto_init(void);

/* Returns a static sentence (no final period) for a TLY_WHY_* value. */
const char *tly_why_str(int why);

#endif /* TLY_PROTO_H */
