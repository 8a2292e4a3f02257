/*
 * tly_letter.h -- letters between two tally users, sealed into envelopes
 * that travel through the relay's mailboxes (PROTOCOL.md, part 9).
 *
 * A letter is a small typed message (a proposal, a countersignature, a
 * decline, a revocation, or one step of a double opt-in introduction)
 * signed by its sender over its own bytes, which name the sender and the
 * recipient; it is padded to a multiple of TLY_LETTER_PAD bytes and
 * sealed (crypto_box_seal) to the recipient's X25519 key.  The relay sees
 * the recipient's mailbox and the size of the envelope, never the sender
 * or a byte of the content.
 *
 *   envelope = crypto_box_seal(letter, X25519 key of `to`)
 *
 *   OFFSET SIZE  FIELD (letter; integers big-endian)
 *        0    4  magic "TLYL"
 *        4    1  version (1)
 *        5    1  type (TLY_L_*)
 *        6    2  flags, 0
 *        8   32  from: the sender's Ed25519 key
 *       40   32  to: the recipient's Ed25519 key
 *       72   16  letter id, random
 *       88    8  sent, Unix seconds
 *       96    4  n, body length (0..TLY_LETTER_BODY_MAX)
 *      100    n  body, by type (tly_mail_body)
 *    100+n   64  Ed25519 signature by `from` over
 *                TLY_LETTER_DOMAIN NUL || bytes 0 .. 100+n
 *    164+n    p  zero bytes up to a multiple of TLY_LETTER_PAD
 *
 * Decoding checks structure only; tly_letter_verify() checks the
 * signature.  Refusals set *why (proto.h) like the record codec.
 */
#ifndef TLY_LETTER_H
#define TLY_LETTER_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "tly_buf.h"
#include "tly_ident.h"
#include "tly_record.h"

#define TLY_LETTER_MAGIC "TLYL"
#define TLY_LETTER_VERSION 1
#define TLY_LETTER_DOMAIN "tally letter v1" /* signed with its NUL */
#define TLY_LETTER_ID_BYTES 16
#define TLY_LETTER_HEAD 100      /* bytes before the body */
#define TLY_LETTER_BODY_MAX 8192 /* bytes of a body */
#define TLY_LETTER_PAD 512       /* letters are a multiple of this */
#define TLY_LETTER_MAX                                            \
	((TLY_LETTER_HEAD + TLY_LETTER_BODY_MAX + TLY_SIG_BYTES + \
	     TLY_LETTER_PAD - 1) /                                \
	    TLY_LETTER_PAD * TLY_LETTER_PAD)
#define TLY_SEAL_BYTES 48 /* crypto_box_SEALBYTES */
#define TLY_ENVELOPE_MAX (TLY_LETTER_MAX + TLY_SEAL_BYTES)
#define TLY_INTRO_ID_BYTES 16 /* an introduction's id: its record nonce */
#define TLY_CARD_MAX 2048     /* bytes of an encoded contact card */
#define TLY_CARD_TEXT_MAX 200 /* bytes of one card field */
#define TLY_CARD_PHONE_MAX 64 /* bytes of a phone number */
#define TLY_CARD_LIST_MAX 4   /* emails, phones on a card */

/* Letter types (the type byte). */
enum tly_letter_type {
	TLY_L_PROPOSE       = 1,  /* a record signed by the sender */
	TLY_L_CONFIRM       = 2,  /* the record signed by both */
	TLY_L_DECLINE       = 3,  /* a decline, and the record declined */
	TLY_L_REVOKE        = 4,  /* a revocation, and the record */
	TLY_L_INTRO_ASK     = 16, /* introducer -> each: may I? */
	TLY_L_INTRO_CONSENT = 17, /* each -> introducer: yes */
	TLY_L_INTRO_DECLINE = 18, /* each -> introducer: no, and why */
	TLY_L_INTRO_CANCEL  = 19, /* introducer -> each: it did not go ahead */
	TLY_L_INTRO_RECORD  = 20, /* introducer -> each: the record to sign */
	TLY_L_INTRO_HELLO   = 21, /* each -> the other: record and card */
	TLY_L_INTRO_SIGNED  = 22, /* each -> introducer: my signature */
};

typedef struct tly_letter {
	int                  type; /* TLY_L_* */
	unsigned char        from[TLY_PK_BYTES];
	unsigned char        to[TLY_PK_BYTES];
	unsigned char        id[TLY_LETTER_ID_BYTES];
	int64_t              sent;
	const unsigned char *body; /* decoded: points into the input */
	size_t               body_len;
	unsigned char        sig[TLY_SIG_BYTES];
} tly_letter;

/* Returns the name of a letter type ("propose", "intro-ask", ...), or
 * NULL if unknown. */
const char *tly_letter_type_name(int type);

/* Appends the letter l (from = the key of me; l->sig is ignored) signed
 * by me and padded, to out.  TALLY_EINVAL (unknown type, from not me's
 * key), TALLY_ETOOBIG (body), TALLY_ENOMEM. */
int tly_letter_encode(tly_buf *out, const tly_letter *l, const tly_ident *me);
/* Decodes the structure of p[0..n) into l (l->body points into p);
 * verifies no signature.  TALLY_EFORMAT, TALLY_ETOOBIG, TALLY_EUNSUPP,
 * with *why. */
int tly_letter_decode(
    tly_letter *l, const unsigned char *p, size_t n, int *why);
/* Checks the signature of the decoded letter l (p[0..n) as decoded).
 * TALLY_ECRYPTO (why TLY_WHY_BAD_SIG). */
int tly_letter_verify(
    const tly_letter *l, const unsigned char *p, size_t n, int *why);

/* Appends crypto_box_seal(p[0..n)) for the Ed25519 key to to out.
 * TALLY_ECRYPTO (not a usable key), TALLY_ETOOBIG, TALLY_ENOMEM. */
int tly_envelope_seal(
    tly_buf *out, const unsigned char *p, size_t n, const unsigned char *to);
/* Opens the envelope e[0..n) with me's X25519 key into out (the
 * letter).  TALLY_ECRYPTO (why TLY_WHY_SEALED: not sealed to me, or
 * damaged), TALLY_ETOOBIG, TALLY_EFORMAT (too short). */
int tly_envelope_open(tly_buf *out, const unsigned char *e, size_t n,
    const tly_ident *me, int *why);

/* -- Bodies ------------------------------------------------------------ */

/* A decoded body; which fields are used depends on the type:
 *   PROPOSE, CONFIRM, INTRO_RECORD, INTRO_SIGNED: rec
 *   DECLINE, REVOKE: rec (the decline or revocation), target (the record)
 *   INTRO_ASK: intro, created, date, text (the introducer's note)
 *   INTRO_CONSENT, INTRO_CANCEL: intro
 *   INTRO_DECLINE: intro, text (the reason)
 *   INTRO_HELLO: rec, card
 * Byte strings point into the decoded input (or, to encode, the
 * caller's memory). */
typedef struct tly_mail_body {
	const unsigned char *rec;
	size_t               rec_len;
	const unsigned char *target;
	size_t               target_len;
	const unsigned char *card;
	size_t               card_len;
	unsigned char        intro[TLY_INTRO_ID_BYTES];
	int64_t              created;
	tly_date             date;
	char                 text[TLY_REC_TEXT_MAX + 1];
} tly_mail_body;

/* Appends the body of a letter of type to out.  TALLY_EINVAL (unknown
 * type, a container empty or over TLY_SIGNED_MAX, a card over
 * TLY_CARD_MAX), TALLY_EFORMAT (date, text), TALLY_ENOMEM. */
int tly_mail_body_encode(
    tly_buf *out, int type, const tly_mail_body *b, int *why);
/* Decodes the body p[0..n) of a letter of type into b.  Containers and
 * cards are bounded here and decoded by tly_signed_decode() and
 * tly_card_decode().  TALLY_EFORMAT, TALLY_ETOOBIG, with *why. */
int tly_mail_body_decode(
    tly_mail_body *b, int type, const unsigned char *p, size_t n, int *why);

/* -- Contact cards ----------------------------------------------------- */

/* What an introduced person chose to show the other: name always, the
 * rest as shared ("" when not). */
typedef struct tly_card {
	char   name[TLY_CARD_TEXT_MAX + 1];
	char   org[TLY_CARD_TEXT_MAX + 1];
	char   title[TLY_CARD_TEXT_MAX + 1];
	char   url[TLY_CARD_TEXT_MAX + 1];
	size_t nemails, nphones;
	char   emails[TLY_CARD_LIST_MAX][TLY_CARD_TEXT_MAX + 1];
	char   phones[TLY_CARD_LIST_MAX][TLY_CARD_PHONE_MAX + 1];
} tly_card;

/* Appends the card c to out (fields in tag order, empty ones left out).
 * TALLY_EFORMAT / TALLY_ETOOBIG as the decoder would refuse, with *why;
 * TALLY_ENOMEM. */
int tly_card_encode(tly_buf *out, const tly_card *c, int *why);
/* Decodes exactly p[0..n) into c: fields (tag u8, length u16, one line of
 * UTF-8) in ascending tag order, name first and required, email and
 * phone up to TLY_CARD_LIST_MAX times, the others at most once.
 * TALLY_EFORMAT, TALLY_ETOOBIG, with *why. */
int tly_card_decode(tly_card *c, const unsigned char *p, size_t n, int *why);

#endif /* TLY_LETTER_H */
