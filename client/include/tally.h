/*
 * tally.h -- libtally, a job seeker's professional network kept offline.
 *
 * This is the only public header.  A tally handle is one replica: a SQLite
 * file holding people, interactions, favors, introductions and references,
 * and the views derived from them (the ledger, what is due, whom to
 * contact next).  The `tally` command line is a thin layer over this API.
 *
 * Conventions:
 *  - Every function returns 0 on success or a positive TALLY_E* code (see
 *    tly_err.h); tally_errmsg() then holds one line saying what was wrong.
 *  - Out parameters come first.  Row ids are TALLY_ID_LEN lower-case hex
 *    characters; they are shown shortened to TALLY_SHORT_ID_LEN.
 *  - Strings passed in are copied; strings in structs handed to callbacks
 *    live only until the callback returns.
 *  - Times are Unix seconds (int64_t), 0 meaning "none".
 *  - A handle is not thread-safe: use one per thread.
 */
#ifndef TALLY_H
#define TALLY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tly_err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TALLY_API __attribute__((visibility("default")))

#define TALLY_ID_LEN       32 /* hex characters in a row id */
#define TALLY_SHORT_ID_LEN 8  /* hex characters shown for a short id */
#define TALLY_UNSET        (-1)
#define TALLY_MAX_TEXT     65536 /* longest note or field, in bytes */

typedef struct tally tally;

/* A list of strings, borrowed. */
typedef struct tally_strs {
	const char *const *v;
	size_t             n;
} tally_strs;

/* -- Opening a replica ------------------------------------------------ */

#define TALLY_OPEN_CREATE   0x1 /* create the file (and its folder) */
#define TALLY_OPEN_READONLY 0x2 /* never write */

/* Opens (and migrates) the replica at path.  On success *tp is yours to
 * tally_close().  On failure *tp may still be set so that tally_errmsg()
 * can explain; close it too.  TALLY_EIO, TALLY_ECORRUPT, TALLY_ESCHEMA
 * (made by a newer tally), TALLY_EBUSY, TALLY_EREADONLY, TALLY_ENOMEM;
 * TALLY_ENOTINIT for an empty file unless creating, TALLY_EFORMAT for an
 * SQLite file that is not a replica (neither is changed).  A write waits
 * up to 10 s for another's lock; $TALLY_BUSY_TIMEOUT_MS (0-600000) sets
 * that wait. */
TALLY_API int tally_open(tally **tp, const char *path, int flags);
/* Closes the replica.  NULL is a no-op. */
TALLY_API void tally_close(tally *t);
/* The last error message for this handle (never NULL). */
TALLY_API const char *tally_errmsg(const tally *t);
/* The library version, "MAJOR.MINOR.PATCH". */
TALLY_API const char *tally_version(void);
/* The replica's schema version (PRAGMA user_version) and the newest this
 * library knows. */
TALLY_API int tally_schema_version(tally *t, int *have, int *want);
/* The default replica path: $TALLY_HOME/tally.db, else
 * $XDG_DATA_HOME/tally/tally.db, else ~/.local/share/tally/tally.db.
 * Returns a malloc'd string (caller frees) or NULL. */
TALLY_API char *tally_default_path(void);

/* Creates the user ("me") named name (NULL: "me").  TALLY_EEXIST if the
 * replica was initialised before (the name is then left alone);
 * TALLY_ESTATE if it joined my devices (the user comes with a sync). */
TALLY_API int tally_init(tally *t, const char *name);
/* Copies the id of "me" into id (TALLY_ID_LEN + 1 bytes).
 * TALLY_ENOTINIT before tally_init(). */
TALLY_API int tally_me(tally *t, char *id);

/* Runs fn inside one write transaction: all of it is stored, or none.
 * fn returns 0 or a TALLY_E* code; that code is returned. */
TALLY_API int tally_atomic(tally *t, int (*fn)(tally *, void *), void *arg);

/* -- Finding things --------------------------------------------------- */

enum tally_kind {
	TALLY_PERSON,
	TALLY_INTERACTION,
	TALLY_FAVOR,
	TALLY_INTRO,
	TALLY_REFERENCE,
};

/* Resolves spec to a row id of the given kind.  For a person, spec is
 * "me", an id prefix (at least 4 hex characters) or a case-insensitive
 * full name; for other kinds, an id prefix.  TALLY_ENOENT, or
 * TALLY_EAMBIG with the candidates listed in tally_errmsg(). */
TALLY_API int tally_resolve(
    tally *t, char *id, enum tally_kind kind, const char *spec);

/* -- People ----------------------------------------------------------- */

typedef struct tally_person {
	const char *id;
	const char *name;
	const char *org;         /* NULL when unset, here and below */
	const char *title;
	const char *url;
	const char *how_met;
	const char *referred_by; /* person id */
	const char *referred_by_name;
	const char *note;
	tally_strs  emails;
	tally_strs  phones;
	tally_strs  tags;
	int         closeness;    /* 0-5, TALLY_UNSET when unknown */
	int         is_me;
	int64_t     last_contact; /* newest interaction, 0 if none */
	int64_t     created;
	int64_t     updated;
} tally_person;

/* What to set on a person.  NULL leaves a field as it is, "" clears it;
 * add_* append to a list (skipping duplicates), rm_* remove from it.
 * referred_by is a person id.  closeness TALLY_UNSET keeps it, -2 clears. */
typedef struct tally_person_in {
	const char *name;
	const char *org;
	const char *title;
	const char *url;
	const char *how_met;
	const char *referred_by;
	const char *note;
	tally_strs  add_emails, rm_emails;
	tally_strs  add_phones, rm_phones;
	tally_strs  add_tags, rm_tags;
	int         closeness;
} tally_person_in;

/* Initialises in to "change nothing". */
TALLY_API void tally_person_in_init(tally_person_in *in);

typedef int (*tally_person_fn)(void *arg, const tally_person *p);

/* Adds a person (in->name required); the new id goes to id
 * (TALLY_ID_LEN + 1 bytes).  TALLY_EINVAL names the bad field. */
TALLY_API int tally_person_add(tally *t, char *id, const tally_person_in *in);
/* Changes the person with this id.  TALLY_ENOENT, TALLY_EINVAL. */
TALLY_API int tally_person_edit(
    tally *t, const char *id, const tally_person_in *in);
/* Removes a person with their interactions, favors, introductions and
 * references.  "me" cannot be removed (TALLY_EPERM). */
TALLY_API int tally_person_rm(tally *t, const char *id);
/* Calls fn for one person. TALLY_ENOENT. */
TALLY_API int tally_person_get(
    tally *t, const char *id, tally_person_fn fn, void *arg);
/* Calls fn for each person (with tag, if not NULL), by name; a non-zero
 * return from fn stops the walk and is returned. */
TALLY_API int tally_person_list(
    tally *t, const char *tag, tally_person_fn fn, void *arg);

/* -- Interactions ----------------------------------------------------- */

/* Kinds: "call", "coffee", "meeting", "email", "event". */
typedef struct tally_interaction {
	const char *id;
	const char *person;
	const char *person_name;
	const char *kind;
	int64_t     at;
	int         minutes;        /* TALLY_UNSET when unknown */
	const char *note;
	int64_t     follow_up;      /* when to follow up, 0 if none */
	int64_t     follow_up_done; /* 0 while open */
	int64_t     thanked;        /* when thanks were sent, 0 if not */
	int64_t     created;
	int64_t     updated;
} tally_interaction;

typedef int (*tally_interaction_fn)(void *arg, const tally_interaction *i);

/* Logs an interaction (person, kind, at required; minutes TALLY_UNSET
 * when unknown; follow_up 0 for none).  Logging a conversation closes the
 * person's earlier open follow-ups.  New id in id.  TALLY_EINVAL. */
TALLY_API int tally_log(tally *t, char *id, const tally_interaction *in);
/* Calls fn for each interaction (of person, if not NULL), newest first. */
TALLY_API int tally_interaction_list(
    tally *t, const char *person, tally_interaction_fn fn, void *arg);
/* Marks the follow-up of an interaction done (now). */
TALLY_API int tally_interaction_done(tally *t, const char *id);

/* -- Favors ----------------------------------------------------------- */

/* Kinds: "introduction", "reference", "referral", "advice", "resume",
 * "info", "other".  States: "asked", "promised", "done", "declined". */
typedef struct tally_favor {
	const char *id;
	const char *giver;
	const char *giver_name;
	const char *receiver;
	const char *receiver_name;
	const char *kind;
	const char *status;
	int         weight;
	const char *note;
	const char *intro;   /* introduction id this favor came from */
	int64_t     done_at; /* 0 until done */
	int64_t     thanked; /* 0 until thanked */
	int         confirmed; /* both sides signed a record of it */
	int64_t     created;
	int64_t     updated;
} tally_favor;

typedef int (*tally_favor_fn)(void *arg, const tally_favor *f);

/* The default weight of a favor kind (introduction 3, reference 3,
 * referral 5, advice 1, resume 2, info 1, other 1); -1 if unknown. */
TALLY_API int tally_favor_weight(const char *kind);
/* Records a favor.  One of giver, receiver must be "me"; status NULL
 * means "done"; weight TALLY_UNSET takes the kind's default.  New id in
 * id.  TALLY_EINVAL names the bad field. */
TALLY_API int tally_favor_add(tally *t, char *id, const tally_favor *in);
/* Sets a favor's status ("done" also stamps done_at). TALLY_EINVAL. */
TALLY_API int tally_favor_status(tally *t, const char *id, const char *st);
/* Records that thanks were sent for a favor (TALLY_ESTATE if the favor
 * was not done for me) or an interaction. */
TALLY_API int tally_thank(tally *t, const char *id);
/* Calls fn for each favor (involving person, if not NULL), newest
 * first. */
TALLY_API int tally_favor_list(
    tally *t, const char *person, tally_favor_fn fn, void *arg);

/* -- The ledger ------------------------------------------------------- */

typedef struct tally_ledger_row {
	const char *person;
	const char *name;
	int         given;       /* weight of favors done by me for them */
	int         received;    /* weight of favors done by them for me */
	int         balance;     /* given - received: > 0 they owe me */
	int         n_given;
	int         n_received;
	int         pending;     /* favors asked or promised, either way */
	int         confirmed;   /* favors both sides confirmed */
	int64_t     last;        /* last exchange */
} tally_ledger_row;

typedef int (*tally_ledger_fn)(void *arg, const tally_ledger_row *r);

/* Calls fn for each person with favors (or just person, if not NULL),
 * largest imbalance first. */
TALLY_API int tally_ledger(
    tally *t, const char *person, tally_ledger_fn fn, void *arg);

/* -- Introductions and references ------------------------------------- */

typedef struct tally_intro {
	const char *id;
	const char *by;
	const char *by_name;
	const char *a;
	const char *a_name;
	const char *b;
	const char *b_name;
	const char *note;
	const char *status; /* "made", "proposed", "declined" */
	int64_t     created;
	int64_t     updated;
} tally_intro;

typedef int (*tally_intro_fn)(void *arg, const tally_intro *i);

/* Records an introduction of a and b by by (three different people).
 * When it involves me it also records the favor: by me, one for each of
 * a and b; for me, one from by.  New id in id. */
TALLY_API int tally_intro_add(tally *t, char *id, const tally_intro *in);
/* Calls fn for each introduction, newest first. */
TALLY_API int tally_intro_list(tally *t, tally_intro_fn fn, void *arg);

typedef struct tally_reference {
	const char *id;
	const char *person;
	const char *person_name;
	const char *for_what;
	int         uses;      /* times tapped */
	int64_t     last_used; /* 0 if never */
	int64_t     created;
	int64_t     updated;
} tally_reference;

typedef int (*tally_reference_fn)(void *arg, const tally_reference *r);

/* Records that person agreed to be a reference (for_what may be NULL). */
TALLY_API int tally_reference_add(
    tally *t, char *id, const char *person, const char *for_what);
/* Records one use of a reference, for what (required). */
TALLY_API int tally_reference_use(
    tally *t, const char *id, const char *for_what);
/* Calls fn for each reference, least used first. */
TALLY_API int tally_reference_list(
    tally *t, tally_reference_fn fn, void *arg);

/* -- What is due, and whom to contact next ---------------------------- */

typedef struct tally_due_item {
	const char *what;   /* "thanks", "follow-up", "promise" */
	const char *ref;    /* the favor or interaction id */
	const char *person;
	const char *name;
	const char *text;   /* in words */
	int64_t     due;
	int         overdue; /* due before now */
} tally_due_item;

typedef int (*tally_due_fn)(void *arg, const tally_due_item *d);

/* Calls fn for each item due by now + horizon seconds, earliest first. */
TALLY_API int tally_due(tally *t, int64_t horizon, tally_due_fn fn, void *arg);

typedef struct tally_next_item {
	const char *person;
	const char *name;
	int         score;
	const char *reason; /* the reasons in words, most important first */
} tally_next_item;

typedef int (*tally_next_fn)(void *arg, const tally_next_item *n);

/* Calls fn for the n people to contact first, best first (scoring in
 * README.md, "Whom to contact next"). */
TALLY_API int tally_next(tally *t, int n, tally_next_fn fn, void *arg);

/* -- Search, graph ---------------------------------------------------- */

typedef struct tally_hit {
	const char *kind;    /* "person", "interaction", "favor" */
	const char *id;
	const char *person;
	const char *name;
	const char *snippet; /* matched text, terms in [brackets] */
} tally_hit;

typedef int (*tally_hit_fn)(void *arg, const tally_hit *h);

/* Full-text search (FTS5 syntax; plain words are AND-ed, prefixes
 * allowed with *).  At most limit hits: people first, then conversations
 * and favors, each most recently recorded first.  TALLY_EINVAL for a
 * malformed query. */
TALLY_API int tally_search(
    tally *t, const char *query, int limit, tally_hit_fn fn, void *arg);

/* Writes who introduced or referred whom and which way favors flowed as
 * a Graphviz digraph to out. */
TALLY_API int tally_graph_dot(tally *t, FILE *out);

/* -- Import and export ------------------------------------------------ */

#define TALLY_IMPORT_SKIP_BAD 0x1 /* import the good rows, report the bad */
#define TALLY_IMPORT_DRY_RUN  0x2 /* parse and match, store nothing */

typedef struct tally_import_stats {
	size_t rows;    /* records read */
	size_t added;   /* people (or rows) added */
	size_t updated; /* existing people matched and completed */
	size_t same;    /* matched, nothing new */
	size_t bad;     /* rejected records */
	size_t skipped; /* records with nothing to import (a LinkedIn row
	                   of a member who left: no name, only a URL or a
	                   date) */
} tally_import_stats;

/* Receives each bad record: "FILE:LINE: what is wrong". */
typedef void (*tally_import_bad_fn)(void *arg, const char *msg);
/* Receives progress now and then: records read so far, and the total
 * when known (else 0). */
typedef void (*tally_import_progress_fn)(void *arg, size_t done,
    size_t total);

typedef struct tally_import_opts {
	int                      flags;
	tally_import_bad_fn      bad;
	tally_import_progress_fn progress;
	void                    *arg;
} tally_import_opts;

/* Imports path in format "linkedin", "google", "vcard" or "json".  By
 * default all-or-nothing: any bad record fails the import
 * (TALLY_EFORMAT) and stores nothing.  People already present (same
 * email, then profile URL, then name) are not added twice. */
TALLY_API int tally_import(tally *t, tally_import_stats *st,
    const char *format, const char *path, const tally_import_opts *opts);

/* Writes the replica in format "json" (a complete, versioned dump that
 * tally_import restores exactly), "csv" (people) or "vcard" (people). */
TALLY_API int tally_export(tally *t, const char *format, FILE *out);

/* -- Identity, peers and records both sides confirm ------------------- */

#define TALLY_TALLYID_LEN   62 /* characters in a tally id ("tly1...") */
#define TALLY_FPR_LEN       16 /* hex characters in a fingerprint */
#define TALLY_SAFETY_LEN    35 /* "ddddd ddddd ddddd ddddd ddddd ddddd" */
#define TALLY_RECORD_ID_LEN 64 /* hex characters in a record id */
#define TALLY_KEYFILE_NAME  "identity.key" /* next to the replica */
#define TALLY_RECORD_TEXT_MAX 1024 /* bytes in a record's note or reason */
#define TALLY_RECORD_NAME_MAX 200  /* bytes in "to whom" or "for what" */

/* My identity, as tally_id_get() finds it. */
typedef struct tally_identity {
	char        tally_id[TALLY_TALLYID_LEN + 1];
	char        fingerprint[TALLY_FPR_LEN + 1];
	const char *key_file;    /* its path; owned by the handle */
	int         key_error;   /* 0, or why the key file is unusable:
	                            TALLY_ENOENT, TALLY_EPERM, ... */
	const char *key_problem; /* that reason in words, or NULL */
	int         passphrase;  /* 1 sealed under a passphrase, 0 not,
	                            TALLY_UNSET when unknown */
} tally_identity;

/* Creates my identity: a new Ed25519 key whose secret rests in the key
 * file TALLY_KEYFILE_NAME in the replica's folder (mode 0600), sealed
 * under pass[0..passlen) with Argon2id (pass NULL: no passphrase), and
 * whose public key is stored in the replica.  The identity stays
 * unlocked on t.  TALLY_EEXIST (an identity or a key file exists: never
 * overwritten), TALLY_EINVAL (empty passphrase), TALLY_EIO, TALLY_ENOMEM. */
TALLY_API int tally_id_init(tally *t, const char *pass, size_t passlen);
/* Fills id with my identity and the state of the key file; needs no
 * passphrase.  TALLY_ENOTINIT before tally_id_init(). */
TALLY_API int tally_id_get(tally *t, tally_identity *id);
/* Opens the key file with pass[0..passlen) (ignored for a key without
 * passphrase) and keeps the identity unlocked on t until tally_close();
 * a no-op when already unlocked.  TALLY_ENOTINIT, TALLY_ENOENT (no key
 * file), TALLY_EPERM (readable by group or others), TALLY_EFORMAT (not a
 * key file or the wrong size), TALLY_EPASS (wrong or missing passphrase),
 * TALLY_ECRYPTO (the key of another identity), TALLY_ECORRUPT. */
TALLY_API int tally_id_unlock(tally *t, const char *pass, size_t passlen);
/* Returns 1 while the identity is not unlocked on t (calls that sign then
 * fail with TALLY_ENOTINIT), else 0. */
TALLY_API int tally_id_locked(const tally *t);

/* A person linked to another tally user's public key. */
typedef struct tally_peer {
	const char *person;
	const char *name;
	const char *tally_id;
	const char *fingerprint;
	int64_t     verified; /* when the safety code was confirmed, or 0 */
	int64_t     created;
} tally_peer;

typedef int (*tally_peer_fn)(void *arg, const tally_peer *p);

/* Links person to the tally id s (as typed or pasted: case, spaces and
 * dashes do not matter); the same link again is a no-op.  TALLY_EINVAL
 * (not a tally id, or a typo: its checksum does not match), TALLY_EEXIST
 * (person linked to another id, or the id to another person),
 * TALLY_EPERM (me, or my own id), TALLY_ENOENT. */
TALLY_API int tally_peer_add(tally *t, const char *person, const char *s);
/* Removes person's link (records made with them are kept).
 * TALLY_ENOENT. */
TALLY_API int tally_peer_rm(tally *t, const char *person);
/* Writes the safety code of my key and person's (TALLY_SAFETY_LEN + 1
 * bytes) to code: the same on both sides, compared out of band.
 * TALLY_ENOTINIT (no identity), TALLY_ENOENT (person not linked). */
TALLY_API int tally_peer_safety(tally *t, char *code, const char *person);
/* Marks person's link verified (now).  TALLY_ENOENT. */
TALLY_API int tally_peer_confirm(tally *t, const char *person);
/* Calls fn for each peer (or only person, if not NULL), by name. */
TALLY_API int tally_peer_list(
    tally *t, const char *person, tally_peer_fn fn, void *arg);

/* What a new record says.  Kinds: "favor", "referral", "reference". */
typedef struct tally_record_in {
	const char *kind;
	const char *with;       /* person id of the other party, a peer */
	int         by_me;      /* 1: I gave, referred, am the referee;
	                           0: they did it for me; TALLY_UNSET: as
	                           the linked favor, else 0 */
	const char *favor_kind; /* favor: a favor kind; NULL: as the
	                           linked favor, else "other" */
	const char *name;       /* referral: to whom (required); reference:
	                           for what (may be NULL) */
	const char *date;       /* "YYYY-MM-DD" it happened; NULL: the
	                           linked favor's day, else today */
	const char *note;       /* what happened; NULL: the linked favor's */
	const char *favor;      /* a favor id to link, or NULL to add one */
} tally_record_in;

/* One party of a record. */
typedef struct tally_record_party {
	const char *role;      /* "giver", "receiver", "referrer", ... */
	const char *tally_id;
	const char *fingerprint;
	const char *person;    /* person id here, or NULL if not linked */
	const char *name;      /* their name here, or NULL */
	int         is_me;
	const char *signature; /* "valid", "invalid" or "missing" */
} tally_record_party;

/* A record, stored or read from a file. */
typedef struct tally_record {
	const char        *id;    /* TALLY_RECORD_ID_LEN hex characters */
	const char        *kind;  /* favor, referral, reference,
	                             introduction, revocation */
	const char        *state; /* stored: proposed, confirmed, declined,
	                             revoked; from a file: complete,
	                             incomplete, invalid */
	const char        *date;  /* "YYYY-MM-DD" it happened, or NULL */
	const char        *favor_kind; /* favors only, else NULL */
	const char        *name;  /* referral: to whom; reference: for
	                             what; else NULL */
	const char        *text;  /* the note; a revocation's reason */
	const char        *target; /* revocation: the record id, else NULL */
	const char        *action; /* revocation: "decline" or "revoke" */
	const char        *person; /* stored: the other party here, or NULL */
	const char        *person_name;
	int                by_me;  /* I am the giver, referrer or referee */
	int                proposed_by_me;
	const char        *favor;  /* stored: the linked favor id, or NULL */
	const char        *reason; /* stored: why declined or revoked */
	int                closed_by_me; /* I declined or revoked it */
	size_t             nparties;
	tally_record_party parties[3];
	int                complete; /* every signature present and valid */
	int64_t            created;  /* when the record was made */
	int64_t            confirmed; /* stored: when it became confirmed */
	int64_t            closed;    /* stored: when declined or revoked */
	int64_t            updated;
} tally_record;

typedef int (*tally_record_fn)(void *arg, const tally_record *r);

/* Makes a record with the peer in->with, signs it with my (unlocked)
 * key, stores it as proposed and records its favor (or links in->favor)
 * for the ledger.  The record id goes to id (TALLY_RECORD_ID_LEN + 1).
 * TALLY_EINVAL names the bad field; TALLY_ENOENT (not a peer),
 * TALLY_ENOTINIT (no identity, or locked), TALLY_ESTATE (favor linked
 * already). */
TALLY_API int tally_record_new(tally *t, char *id, const tally_record_in *in);
/* Resolves a record id prefix (4+ hex characters) to its full id
 * (TALLY_RECORD_ID_LEN + 1).  TALLY_ENOENT, TALLY_EAMBIG. */
TALLY_API int tally_record_resolve(tally *t, char *id, const char *spec);
/* Calls fn for one stored record.  TALLY_ENOENT. */
TALLY_API int tally_record_get(
    tally *t, const char *id, tally_record_fn fn, void *arg);
/* Calls fn for each stored record (in state, if not NULL), newest
 * first.  TALLY_EINVAL for an unknown state. */
TALLY_API int tally_record_list(
    tally *t, const char *state, tally_record_fn fn, void *arg);
/* Writes the armored text of a stored record (or, with revocation set,
 * of the decline or revocation made of it) to *text, malloc'd (caller
 * frees).  TALLY_ENOENT. */
TALLY_API int tally_record_export(
    tally *t, char **text, const char *id, int revocation);

/* Checks the record file p[0..n) someone asks me to sign and says in
 * words, with names from this replica, what signing it confirms: *words
 * is malloc'd (caller frees).  Changes nothing.  TALLY_EFORMAT,
 * TALLY_ECRYPTO (a signature does not verify), TALLY_EPERM (I am not a
 * party), TALLY_ENOENT (the other party is not a peer), TALLY_ESTATE
 * (signed by me already, or declined), TALLY_EUNSUPP. */
TALLY_API int tally_record_words(
    tally *t, char **words, const void *p, size_t n);
/* Adds my signature to the record file p[0..n) (checked as by
 * tally_record_words()), stores the record as confirmed with its favor
 * (or the favor id given, if not NULL) marked confirmed, and writes the
 * armored record with both signatures to *text (malloc'd, caller frees).
 * The record id goes to id.  Needs the identity unlocked. */
TALLY_API int tally_record_sign(tally *t, char **text, char *id,
    const void *p, size_t n, const char *favor);
/* Takes in the record file p[0..n): a record I am a party of (the
 * co-signed copy of my proposal confirms it) or a decline or revocation
 * of a stored record by one of its parties.  *outcome (static) is
 * "confirmed", "stored", "declined", "revoked" or "unchanged"; the
 * record id goes to id.  Nothing changes on error: TALLY_EFORMAT,
 * TALLY_ECRYPTO, TALLY_EPERM (not a party), TALLY_ENOENT, TALLY_ESTATE. */
TALLY_API int tally_record_import(tally *t, char *id, const char **outcome,
    const void *p, size_t n);
/* Declines the proposal in the record file p[0..n) (I must be a party):
 * stores it as declined and writes the signed decline, armored, to
 * *text (malloc'd, caller frees).  reason may be NULL.  Needs the
 * identity unlocked.  TALLY_EPERM, TALLY_ESTATE (already confirmed). */
TALLY_API int tally_record_decline(tally *t, char **text, char *id,
    const void *p, size_t n, const char *reason);
/* Revokes the stored record id (proposed or confirmed): marks it
 * revoked (its favor no longer confirmed) and writes the signed
 * revocation, armored, to *text (malloc'd, caller frees).  Needs the
 * identity unlocked.  TALLY_ENOENT, TALLY_ESTATE. */
TALLY_API int tally_record_revoke(
    tally *t, char **text, const char *id, const char *reason);
/* Verifies the record file p[0..n) offline and calls fn with what it
 * says (state "complete", "incomplete" or "invalid"; names when t, which
 * may be NULL, knows the keys).  Returns 0 once fn ran, whatever the
 * signatures; otherwise a TALLY_E* code with one line in err (errlen
 * bytes): TALLY_EFORMAT, TALLY_ETOOBIG, TALLY_EUNSUPP, TALLY_EPERM. */
TALLY_API int tally_record_verify(tally *t, const void *p, size_t n,
    tally_record_fn fn, void *arg, char *err, size_t errlen);

/* -- the relay (client/lib/relay_lib.c) -------------------------------- */

#define TALLY_URL_MAX 256 /* longest relay URL, with its NUL */

/* What tally_relay_status() finds. */
typedef struct tally_relay_state {
	char     url[TALLY_URL_MAX]; /* "" when no relay is set */
	int      registered;         /* 1: the relay knows my key */
	uint64_t used, quota;        /* bytes stored for me, and my quota */
	uint32_t mails;              /* envelopes waiting in my mailbox */
	uint64_t mail_head, log_head; /* newest mail and log sequence */
} tally_relay_state;

/* Keeps url (tcp://, tls+tcp:// or ipc://) as the replica's relay.
 * TALLY_EINVAL for another scheme or a URL longer than TALLY_URL_MAX. */
TALLY_API int tally_relay_set(tally *t, const char *url);
/* Registers my identity at the relay (invite NULL where registration is
 * open).  Needs the identity unlocked.  TALLY_ENOTINIT (no relay or
 * identity), TALLY_EAUTH (refused), TALLY_ECONNREF, TALLY_ETIMEDOUT. */
TALLY_API int tally_relay_register(tally *t, const char *invite);
/* Fills st: the URL, and signing in with the unlocked identity, my usage
 * at the relay (registered = 0 when it does not know me).  Errors as
 * tally_relay_register(). */
TALLY_API int tally_relay_status(tally *t, tally_relay_state *st);

/* -- Records and introductions through the relay (mail.c, mail_intro.c) --
 *
 * Letters between two tally users travel sealed to the recipient's key
 * through the relay's mailboxes (PROTOCOL.md, part 9).  What a command
 * sends is queued in the replica, in the same transaction as the change
 * it announces, and leaves at the next tally_mail_sync(); what arrives is
 * taken in one transaction per letter, and only then acknowledged at the
 * relay.  Every call that signs or seals needs the identity unlocked. */

#define TALLY_INTRO_ID_LEN 32 /* hex characters in an introduction id */

/* One thing tally_mail_sync() did, for the user. */
typedef struct tally_mail_event {
	const char *what; /* "sent", "received", "duplicate", "rejected",
	                     "unsent" (kept in the queue) */
	const char *text; /* in words, one line */
	const char *ref;  /* the record or introduction id, or NULL */
} tally_mail_event;

typedef void (*tally_mail_fn)(void *arg, const tally_mail_event *e);

typedef struct tally_mail_stats {
	unsigned sent;       /* envelopes the relay acknowledged */
	unsigned received;   /* letters taken in */
	unsigned duplicates; /* replays and duplicate deliveries dropped */
	unsigned rejected;   /* envelopes refused and dropped */
	unsigned queued;     /* envelopes still waiting to be sent */
} tally_mail_stats;

/* Sends what is queued to the relay, then fetches, checks and takes in
 * what arrived, acknowledging each envelope only after its letter was
 * stored (or refused); answers made while taking in (an introduction's
 * next step) are sent in the same run.  With wait > 0 and nothing new,
 * waits up to wait seconds for mail first.  fn (may be NULL) hears of each
 * step.  TALLY_ENOTINIT (no relay, no identity or locked),
 * TALLY_ECONNREF / TALLY_ETIMEDOUT (the relay did not answer: the queue
 * stays), TALLY_EAUTH (not registered). */
TALLY_API int tally_mail_sync(tally *t, tally_mail_stats *st, unsigned wait,
    tally_mail_fn fn, void *arg);
/* The number of envelopes waiting to be sent. */
TALLY_API int tally_mail_queued(tally *t, unsigned *n);
/* Returns 1 when the replica has a relay set (letters can travel), else
 * 0. */
TALLY_API int tally_mail_ready(tally *t);

/* tally_record_new(), and the proposal queued for the peer, in one
 * transaction.  Errors as tally_record_new(). */
TALLY_API int tally_record_propose(
    tally *t, char *id, const tally_record_in *in);
/* Signs the proposal waiting in my inbox whose id starts with spec,
 * stores it confirmed (its favor confirmed in the ledger) and queues the
 * countersignature for the proposer.  The record id goes to id.
 * TALLY_ENOENT (no such proposal waiting; or the proposer is not linked
 * as a peer: the message says how), TALLY_EAMBIG, TALLY_ENOTINIT. */
TALLY_API int tally_record_confirm(tally *t, char *id, const char *spec);
/* Declines the proposal waiting in my inbox (spec as above; reason may
 * be NULL) and queues the signed decline for the proposer. */
TALLY_API int tally_record_decline_mail(
    tally *t, char *id, const char *spec, const char *reason);
/* tally_record_revoke() of the stored record id, and the revocation
 * queued for the other party, in one transaction. */
TALLY_API int tally_record_revoke_mail(
    tally *t, const char *id, const char *reason);
/* Resolves spec (4+ hex characters) to a proposal or an introduction
 * request waiting in my inbox; the full id goes to id (65 bytes).
 * TALLY_ENOENT, TALLY_EAMBIG. */
TALLY_API int tally_inbox_resolve(tally *t, char *id, const char *spec);

/* What waits for my decision. */
typedef struct tally_inbox_item {
	const char *kind;       /* "record" (a proposal) or "intro" (a request
	                           to consent to an introduction) */
	const char         *id; /* record id, or introduction id */
	const char         *from_tally_id;
	const char         *from_fingerprint;
	const char         *person; /* the sender here, or NULL: unknown key */
	const char         *name;   /* their name, or NULL */
	const char         *text;   /* what it asks, in words */
	const tally_record *record; /* "record": the proposal, else NULL */
	const char *note; /* "intro": the introducer's note, else NULL */
	const char *date; /* the day it happened (record) or was asked */
	int64_t     received;
} tally_inbox_item;

typedef int (*tally_inbox_fn)(void *arg, const tally_inbox_item *i);

/* Calls fn for each proposal waiting for my answer, then each
 * introduction request, each oldest first. */
TALLY_API int tally_inbox(tally *t, tally_inbox_fn fn, void *arg);

/* Proposes to introduce the peers a and b (person ids) to each other,
 * with note (the reason, which each of them reads; nothing else about
 * the other reaches either before both consented).  Records the
 * introduction as proposed, signs its record, and queues a consent
 * request for each.  The introduction id goes to id (TALLY_INTRO_ID_LEN
 * + 1).  TALLY_EINVAL, TALLY_ENOENT (not a peer), TALLY_ENOTINIT. */
TALLY_API int tally_intro_propose(
    tally *t, char *id, const char *a, const char *b, const char *note);
/* Consents to the introduction request spec, sharing with the other
 * person, once both consented, my name and the fields of my own person
 * named in share ("email,phone,org,title,url", any of them; NULL: the
 * name alone).  The full id goes to id.  TALLY_EINVAL (an unknown field),
 * TALLY_ENOENT (the introducer is not linked as a peer), TALLY_ESTATE. */
TALLY_API int tally_intro_consent(
    tally *t, char *id, const char *spec, const char *share);
/* Declines the introduction spec (reason may be NULL; only the
 * introducer reads it).  By the introducer: withdraws it.  The other
 * side learns only that it did not go ahead.  TALLY_ESTATE once made. */
TALLY_API int tally_intro_decline(
    tally *t, char *id, const char *spec, const char *reason);
/* Resolves spec (4+ hex characters) to one of my introductions through
 * the relay (TALLY_INTRO_ID_LEN + 1).  TALLY_ENOENT, TALLY_EAMBIG. */
TALLY_API int tally_intro_resolve(tally *t, char *id, const char *spec);
/* -- Sync of my devices (client/lib/sync.c, device.c) ------------------ */

#define TALLY_DEVICE_LEN 16 /* hex characters of a device id */
#define TALLY_LINK_CODE_LEN 19 /* "xxxx-xxxx-xxxx-xxxx" */

/* What tally_log_sync() moved. */
typedef struct tally_sync_stats {
	size_t   pushed;     /* my operations the relay now holds */
	size_t   batches_up; /* entries appended */
	uint64_t bytes_up;
	size_t   entries;    /* other devices' entries read */
	size_t   pulled;     /* operations in them */
	size_t   applied;    /* that changed this replica */
	size_t   skipped;    /* that could not be stored (their row's
	                        person was deleted, ...) */
	uint64_t bytes_down;
	size_t   ignored;    /* entries not applied: sealed with a key no
	                        device of mine announced, not
	                        authenticating, or written by a revoked
	                        device after its revocation */
} tally_sync_stats;

/* Progress: what is "push" (operations) or "pull" (log entries). */
typedef void (*tally_sync_progress_fn)(void *arg, const char *what,
    uint64_t done, uint64_t total);

typedef struct tally_sync_opts {
	tally_sync_progress_fn progress; /* may be NULL */
	void                  *arg;
} tally_sync_opts;

/* Syncs the replica with my other devices through the relay's account
 * log: pulls what they wrote since this device's cursor, then pushes my
 * changes, sealed with the replica key.  st (may be NULL) says what
 * moved; o may be NULL.  Interrupted anywhere, the next call resumes
 * without losing or repeating anything.  Needs the identity unlocked
 * and registered.  TALLY_ENOTINIT, TALLY_EAUTH, TALLY_ECONNREF,
 * TALLY_ETIMEDOUT, TALLY_EPERM (this device was revoked), TALLY_EFORMAT
 * (an authenticated batch that does not decode). */
TALLY_API int tally_log_sync(
    tally *t, tally_sync_stats *st, const tally_sync_opts *o);

/* What tally_log_sync_status() finds. */
typedef struct tally_sync_state {
	char     device[TALLY_DEVICE_LEN + 1]; /* this device */
	int64_t  last_sync;    /* when a sync last completed, or 0 */
	uint64_t pending_up;   /* my operations not yet on the relay */
	int64_t  pending_down; /* log entries not yet read; -1 unknown */
	uint64_t cursor;       /* the last log entry read */
	uint64_t log_head;     /* the newest, when asked */
	uint32_t epoch;        /* the newest replica key, 0 before any */
	int      revoked;      /* this device was revoked */
	char     relay_error[256]; /* why the relay could not be asked */
} tally_sync_state;

/* Fills s from the replica and, when ask_relay, the relay's log head
 * (needs the identity unlocked; an unreachable relay leaves
 * pending_down -1 and says why in relay_error). */
TALLY_API int tally_log_sync_status(
    tally *t, tally_sync_state *s, int ask_relay);

/* One of my devices. */
typedef struct tally_device {
	const char *id;   /* TALLY_DEVICE_LEN hex characters */
	const char *name;
	int64_t     created;
	int64_t     revoked; /* 0 while it syncs */
	int         is_this; /* the device of this replica */
} tally_device;

typedef int (*tally_device_fn)(void *arg, const tally_device *d);

/* A link in progress (tally_device_link). */
typedef struct tally_link tally_link;

/* Starts linking a new device: puts my identity and the replica keys,
 * sealed under a key derived from a fresh one-time code, into a relay
 * slot that lives 10 minutes, and writes the code (TALLY_LINK_CODE_LEN
 * + 1 bytes) to code.  On success *lp is yours to tally_link_free().
 * Needs the identity unlocked and registered.  TALLY_ENOTINIT,
 * TALLY_EAUTH, TALLY_ECONNREF, TALLY_ENOMEM (Argon2id needs 64 MiB). */
TALLY_API int tally_device_link(tally *t, tally_link **lp, char *code);
/* Waits up to secs for the new device to answer and records it in the
 * device list (its id and name in *d, valid until tally_link_free()).
 * TALLY_ETIMEDOUT (not yet: call again), TALLY_ESTATE (the code
 * expired), TALLY_ECRYPTO (an answer that does not authenticate). */
TALLY_API int tally_device_link_wait(
    tally_link *l, unsigned secs, tally_device *d);
/* Forgets the link (an unused code stays in the relay until it
 * expires, useless without the code).  NULL is a no-op. */
TALLY_API void tally_link_free(tally_link *l);

/* Joins this replica (new: no identity, no people) to my devices with
 * the code another device showed: takes the identity and replica keys
 * from the relay (url, or NULL for the replica's relay, which is then
 * set), keeps the identity in the key file under pass[0..passlen)
 * (NULL: none), and answers with this device's key and name (NULL: the
 * host name).  A code works once.  TALLY_EFORMAT (not a code),
 * TALLY_ENOENT (no such code: mistyped, used or expired), TALLY_ECRYPTO
 * (mistyped), TALLY_EEXIST (the replica has an identity or people). */
TALLY_API int tally_device_join(tally *t, const char *code, const char *url,
    const char *pass, size_t passlen, const char *name);
/* Calls fn for each of my devices, oldest first. */
TALLY_API int tally_device_list(tally *t, tally_device_fn fn, void *arg);
/* Revokes my device spec (an id prefix of 4+ characters, or its name):
 * syncs, then seals a new replica key to each other device, so that
 * what is written from now on is unreadable to it, and syncs again.
 * Needs the identity unlocked.  TALLY_ENOENT, TALLY_EAMBIG, TALLY_EPERM
 * (this device), TALLY_ESTATE (revoked already), and tally_log_sync()'s
 * errors. */
TALLY_API int tally_device_revoke(tally *t, const char *spec);

#ifdef __cplusplus
}
#endif

#endif /* TALLY_H */
