/*
 * ident_int.h -- what identity.c lends records.c: my public key, the
 * unlocked identity, and peers looked up by key.
 *
 * The public key of the replica's identity lives in the meta table
 * (key TLY_META_PK, lower-case hex) so that showing it, comparing safety
 * codes and reading records never needs the passphrase; the secret key
 * lives only in the key file next to the replica and, once unlocked, in
 * t->ident (sodium_malloc'd, wiped by tally_close()).
 */
#ifndef TLY_IDENT_INT_H
#define TLY_IDENT_INT_H

#include "tally_int.h"
#include "tly_ident.h"

#define TLY_META_PK "identity.pk" /* meta key of my public key (hex) */

/* Copies my public key (TLY_PK_BYTES) to pk.  TALLY_ENOTINIT (message
 * set) when the replica has no identity yet. */
int tly_my_pk(tally *t, unsigned char *pk);
/* Returns the unlocked identity, or NULL with TALLY_ENOTINIT's message
 * set (tally_id_unlock() was not called). */
const tly_ident *tly_my_ident(tally *t);

/* tally_id_init() with the identity of seed (TLY_SEED_BYTES; NULL: a
 * new one), as a linked device receives it. */
int tly_id_init_seed(
    tally *t, const unsigned char *seed, const char *pass, size_t passlen);

/* Finds the person linked to key pk: copies the id to person
 * (TALLY_ID_LEN + 1, may be NULL), a malloc'd copy of the name to *name
 * (name may be NULL; the caller frees *name) and when the link was
 * verified to *verified (may be NULL; 0 if not).  TALLY_ENOENT, with no
 * message set, when no one is; TALLY_ENOMEM and database errors set one. */
int tly_peer_find(tally *t, const unsigned char *pk, char *person, char **name,
    int64_t *verified);
/* Copies the key linked to person (a person id) to pk.  TALLY_ENOENT
 * with a message saying how to link them; TALLY_EPERM for me. */
int tly_peer_pk(tally *t, const char *person, unsigned char *pk);

#endif /* TLY_IDENT_INT_H */
