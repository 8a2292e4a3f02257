/*
 * tly_record.h -- records two or three people sign: favors, referrals,
 * references, introductions, and the revocation or declining of one
 * (PROTOCOL.md, parts 3 and 4).
 *
 * A tly_record is the decoded form: plain fields, strings NUL-terminated
 * inside the struct (no allocation, nothing to free).  Its canonical
 * encoding is the only one the decoder accepts; the record id is
 * BLAKE2b-256 over TLY_REC_DOMAIN (with its NUL) and those bytes, and
 * every party signs those same bytes.  A tly_signed is a record with its
 * canonical bytes, id and the signatures gathered so far; decoding one
 * checks its structure only, tly_signed_verify() checks the signatures.
 *
 * Functions that refuse input also set *why (when why is not NULL) to a
 * TLY_WHY_* value (proto.h) naming the exact fault.
 */
#ifndef TLY_RECORD_H
#define TLY_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "tly_buf.h"
#include "tly_ident.h"

#define TLY_REC_VERSION 1
#define TLY_REC_DOMAIN "tally record v1" /* hashed with its NUL */
#define TLY_REC_ID_BYTES 32
#define TLY_REC_NONCE_BYTES 16
#define TLY_REC_MAX_PARTIES 3
#define TLY_REC_TEXT_MAX 1024 /* description or reason, bytes */
#define TLY_REC_NAME_MAX 200  /* referral "to", reference "for", bytes */
#define TLY_REC_MAX 1536      /* longest canonical record, bytes */
#define TLY_REC_TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z */
#define TLY_SIGNED_VERSION 1
#define TLY_SIGNED_MAX     \
	(4 + TLY_REC_MAX + \
	    TLY_REC_MAX_PARTIES * (TLY_PK_BYTES + TLY_SIG_BYTES))
#define TLY_ARMOR_RECORD "TALLY RECORD" /* the armor label */

/* Record kinds (the kind byte). */
enum tly_rec_kind {
	TLY_REC_FAVOR        = 1,
	TLY_REC_REFERRAL     = 2,
	TLY_REC_REFERENCE    = 3,
	TLY_REC_INTRODUCTION = 4,
	TLY_REC_REVOCATION   = 5,
};

/* Party roles (the role byte); each kind has its fixed sequence. */
enum tly_rec_role {
	TLY_ROLE_GIVER      = 1, /* favor: did the favor */
	TLY_ROLE_RECEIVER   = 2, /* favor: received it */
	TLY_ROLE_REFERRER   = 3, /* referral: made it */
	TLY_ROLE_REFERRED   = 4, /* referral: was referred */
	TLY_ROLE_REFEREE    = 5, /* reference: gives the reference */
	TLY_ROLE_CANDIDATE  = 6, /* reference: the person it is for */
	TLY_ROLE_INTRODUCER = 7, /* introduction: made it */
	TLY_ROLE_INTRODUCED = 8, /* introduction: one of the two introduced */
	TLY_ROLE_REVOKER    = 9, /* revocation: the party revoking */
};

/* Favor kinds, as in tally.h's favor "kind" strings. */
enum tly_favor_kind {
	TLY_FAVOR_INTRODUCTION = 1,
	TLY_FAVOR_REFERENCE    = 2,
	TLY_FAVOR_REFERRAL     = 3,
	TLY_FAVOR_ADVICE       = 4,
	TLY_FAVOR_RESUME       = 5,
	TLY_FAVOR_INFO         = 6,
	TLY_FAVOR_OTHER        = 7,
};

/* Revocation actions. */
enum tly_rec_action {
	TLY_ACTION_DECLINE = 1, /* a party declines a proposal */
	TLY_ACTION_REVOKE  = 2, /* a party withdraws a confirmed record */
};

typedef struct tly_party {
	int           role;             /* TLY_ROLE_* */
	unsigned char pk[TLY_PK_BYTES]; /* Ed25519 public key */
} tly_party;

typedef struct tly_date {
	int year;  /* 1900..9999 */
	int month; /* 1..12 */
	int day;   /* 1..31, valid for the month */
} tly_date;

typedef struct tly_record {
	int           version;                    /* TLY_REC_VERSION */
	int           kind;                       /* TLY_REC_* */
	unsigned char nonce[TLY_REC_NONCE_BYTES]; /* random, makes it unique */
	int64_t       created;  /* Unix seconds, 0..TLY_REC_TIME_MAX */
	size_t        nparties; /* 1..TLY_REC_MAX_PARTIES, by kind */
	tly_party     parties[TLY_REC_MAX_PARTIES]; /* in role order */
	tly_date      date;       /* when it happened (not revocations) */
	int           favor_kind; /* TLY_FAVOR_*: favors only */
	/* Referral: to whom (required); reference: for what (may be "");
	 * other kinds: "". */
	char name[TLY_REC_NAME_MAX + 1];
	/* The description; a revocation's reason.  May be "". */
	char          text[TLY_REC_TEXT_MAX + 1];
	unsigned char target[TLY_REC_ID_BYTES]; /* revocation: record id */
	int           action;                   /* revocation: TLY_ACTION_* */
} tly_record;

/* Starts a record of kind: zero fields, version, a random nonce, the
 * given creation time, nparties and the roles of the kind filled in
 * (keys still zero).  TALLY_EINVAL for an unknown kind. */
int tly_record_init(tly_record *r, int kind, int64_t created);

/* Appends the canonical encoding of r to out.  The two introduced
 * parties of an introduction are written in key order.  Checks every
 * field as the decoder does: TALLY_EFORMAT, TALLY_ETOOBIG, TALLY_EUNSUPP
 * with *why; TALLY_ENOMEM. */
int tly_record_encode(tly_buf *out, const tly_record *r, int *why);
/* Decodes exactly p[0..n) into r; nothing else is accepted than what
 * tly_record_encode() writes.  TALLY_EFORMAT, TALLY_ETOOBIG,
 * TALLY_EUNSUPP (other version), with *why. */
int tly_record_decode(
    tly_record *r, const unsigned char *p, size_t n, int *why);
/* Writes the record id of canonical bytes p[0..n) to id
 * (TLY_REC_ID_BYTES): BLAKE2b-256(TLY_REC_DOMAIN NUL || p). */
void tly_record_id(unsigned char *id, const unsigned char *p, size_t n);
/* Returns the index of pk among r's parties, or -1. */
int tly_record_party(const tly_record *r, const unsigned char *pk);

/* Names, for display and for the command line (NULL / 0 if unknown):
 * "favor", "referral", "reference", "introduction", "revocation". */
const char *tly_rec_kind_name(int kind);
int         tly_rec_kind_parse(const char *s);
/* "giver", "receiver", "referrer", "referred", "referee", "candidate",
 * "introducer", "introduced", "revoker". */
const char *tly_rec_role_name(int role);
/* "introduction", "reference", "referral", "advice", "resume", "info",
 * "other" (tally.h's favor kinds). */
const char *tly_favor_kind_name(int fk);
int         tly_favor_kind_parse(const char *s);
/* "decline", "revoke". */
const char *tly_action_name(int action);
int         tly_action_parse(const char *s);
/* Parses "YYYY-MM-DD" into d.  TALLY_EINVAL for anything else or an
 * impossible date. */
int tly_date_parse(tly_date *d, const char *s);
/* Writes d as "YYYY-MM-DD" and a NUL (11 bytes) to out. */
void tly_date_format(char *out, const tly_date *d);

/* -- Signed records --------------------------------------------------- */

typedef struct tly_signed {
	tly_record    rec;                /* decoded, canonical order */
	unsigned char canon[TLY_REC_MAX]; /* canonical bytes */
	size_t        canon_len;
	unsigned char id[TLY_REC_ID_BYTES];         /* record id */
	int           has_sig[TLY_REC_MAX_PARTIES]; /* by party index */
	unsigned char sig[TLY_REC_MAX_PARTIES][TLY_SIG_BYTES];
} tly_signed;

/* What tly_signed_verify() found for each party. */
enum tly_sig_state {
	TLY_SIG_MISSING = 0, /* no signature from this party yet */
	TLY_SIG_VALID   = 1,
	TLY_SIG_INVALID = 2, /* present but does not verify */
};

typedef struct tly_verify {
	size_t nparties;
	int    state[TLY_REC_MAX_PARTIES]; /* TLY_SIG_*, by party index */
	int    nvalid;
	int    complete; /* every party's signature present and valid */
} tly_verify;

/* Starts a signed record from r, with no signatures: encodes r (errors as
 * tly_record_encode()), computes the id, and keeps the decoded canonical
 * form in s->rec. */
int tly_signed_init(tly_signed *s, const tly_record *r, int *why);
/* Signs s as the party whose key is id's (replacing an earlier signature
 * of that party).  TALLY_EPERM (why TLY_WHY_NOT_PARTY) if id is not a
 * party. */
int tly_signed_sign(tly_signed *s, const tly_ident *id, int *why);
/* Adds the signature sig by pk (not checked here: tly_signed_verify()).
 * TALLY_EPERM (not a party), TALLY_EEXIST (that party already has a
 * different signature). */
int tly_signed_add(tly_signed *s, const unsigned char *pk,
    const unsigned char *sig, int *why);
/* Copies into dst the signatures of src that dst lacks; both must hold
 * the same record (TALLY_EINVAL, why TLY_WHY_TARGET, otherwise).
 * TALLY_EEXIST if a party has different signatures in the two. */
int tly_signed_merge(tly_signed *dst, const tly_signed *src, int *why);
/* Checks every signature present.  Fills v (may be NULL).  Returns
 * TALLY_ECRYPTO (why TLY_WHY_BAD_SIG) if any present signature is
 * invalid, else 0, complete or not: see v->complete. */
int tly_signed_verify(const tly_signed *s, tly_verify *v, int *why);

/* Appends the binary container (record and signatures) to out. */
int tly_signed_encode(tly_buf *out, const tly_signed *s);
/* Decodes a binary container p[0..n): the record strictly, then the
 * signatures' structure (signers are parties, in party order, once
 * each); verifies no signature.  TALLY_EFORMAT, TALLY_ETOOBIG,
 * TALLY_EUNSUPP, TALLY_EPERM (a signer not a party), with *why. */
int tly_signed_decode(
    tly_signed *s, const unsigned char *p, size_t n, int *why);

/* Appends the armored text of s to out: BEGIN line, "Kind:" and "Id:"
 * header lines (informative only), base64 body, END line. */
int tly_signed_armor(tly_buf *out, const tly_signed *s);
/* Decodes the first armored record in text[0..n) (text around it is
 * ignored); *end (may be NULL) gets the offset just past its END line,
 * for reading the next one.  Errors as tly_armor_decode() and
 * tly_signed_decode(). */
int tly_signed_dearmor(
    tly_signed *s, const char *text, size_t n, size_t *end, int *why);
/* Decodes p[0..n) as a binary container if its first byte is a control
 * character other than TAB, CR or LF (the version byte), else as armored
 * text (the first record in it). */
int tly_signed_parse(
    tly_signed *s, const unsigned char *p, size_t n, int *why);

/* -- Revocations ------------------------------------------------------ */

/* Checks that the revocation rev (decoded, its signature verified
 * separately) applies to the record target: it names target's id and
 * its revoker is one of target's parties.  TALLY_EINVAL (why
 * TLY_WHY_NOT_REVOCATION or TLY_WHY_TARGET), TALLY_EPERM (why
 * TLY_WHY_REVOKER). */
int tly_revocation_check(
    const tly_record *rev, const tly_signed *target, int *why);

#endif /* TLY_RECORD_H */
