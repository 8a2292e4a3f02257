/*
 * records_int.h -- what records.c lends the relay's letters (mail.c):
 * storing a record row and closing one, inside the caller's transaction.
 */
#ifndef TLY_RECORDS_INT_H
#define TLY_RECORDS_INT_H

#include "tally_int.h"
#include "tly_record.h"

/* Stores the two-party record s as a new row from my side (mine: my party
 * index) in state, with the other party's person id and the favor id
 * (either may be NULL).  Database errors set the message. */
int tly_record_store(tally *t, const tly_signed *s, int mine,
    const char *person, const char *state, int proposed_by_me,
    const char *favor);
/* Marks the stored record idhex declined or revoked (state) by the
 * revocation rev, made by me (by_me) or the other party; its favor is no
 * longer confirmed. */
int tly_record_close(tally *t, const char *idhex, const char *state,
    const tly_signed *rev, int by_me);

#endif /* TLY_RECORDS_INT_H */
