/*
 * mail_int.h -- what mail.c (letters about two-party records, the outbox,
 * the inbox, tally_mail_sync) shares with mail_intro.c (introductions).
 */
#ifndef TLY_MAIL_INT_H
#define TLY_MAIL_INT_H

#include "ident_int.h"
#include "tally_int.h"
#include "tly_letter.h"
#include "tly_record.h"

/* One run of tally_mail_sync(): the counters and the listener. */
typedef struct mail_run {
	tally_mail_stats *st;
	tally_mail_fn     fn;
	void             *arg;
} mail_run;

/* What taking in a letter did, when it did not refuse it. */
enum mail_outcome {
	MAIL_TAKEN   = 0, /* something changed */
	MAIL_NOTHING = 1, /* nothing new: a late or repeated step */
};

/* Tells the listener (if any): what, the record or introduction ref (may
 * be NULL), and the words (printf). */
void tly_mail_say(mail_run *mr, const char *what, const char *ref,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Writes who pk is here to buf (n bytes): the person's name, or "an
 * unknown key (FINGERPRINT)".  Copies the person id to person (may be
 * NULL; "" if unknown).  Returns 1 if pk is a linked peer, else 0. */
int tly_mail_who(
    tally *t, const unsigned char *pk, char *buf, size_t n, char *person);

/* Seals a letter of type with body b to the Ed25519 key to, signed with
 * my unlocked identity, and queues it in the outbox (inside the caller's
 * transaction); what says in words what it is ("your proposal of record
 * 3f2a9c0e to Ann Lee"), ref the record or introduction id.
 * TALLY_ENOTINIT (locked), TALLY_ECRYPTO (not a usable key). */
int tly_mail_queue(tally *t, int type, const unsigned char *to,
    const tly_mail_body *b, const char *ref, const char *what);

/* Takes in an introduction letter l with body b, already opened, checked
 * as addressed to me and signed by l->from (mail_intro.c), inside the
 * caller's transaction.  Sets *out; a refusal returns its code with the
 * message set. */
int tly_mail_intro_take(tally *t, mail_run *mr, const tly_letter *l,
    const tly_mail_body *b, int *out);

/* Calls fn for each introduction request waiting for my answer (inbox). */
int tly_mail_intro_inbox(tally *t, tally_inbox_fn fn, void *arg);

#endif /* TLY_MAIL_INT_H */
