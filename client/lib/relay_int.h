/*
 * relay_int.h -- libtally's relay client: talks to tallyd over nng REQ
 * (tcp://, tls+tcp://, ipc://) with the frames of proto/PROTOCOL.md (part 8).
 *
 * A handle is one connection to one relay for one account; it is not
 * thread-safe (one call at a time).  Authentication is automatic: the
 * first call that needs a session signs a fresh challenge with the key
 * given to tly_relay_set_key, and a session the relay forgot (restart,
 * expiry) is renewed once per call.  Transient failures (timeout, relay
 * busy or rate limiting, no connection yet) are retried with doubling
 * back-off; every write is idempotent on the relay, so a retry never
 * stores twice.  After a failure tly_relay_errmsg() says why.
 */
#ifndef TLY_RELAY_INT_H
#define TLY_RELAY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

typedef struct tly_relay tly_relay;

struct tly_relay_opts {
	int timeout_ms;         /* per attempt; default 10000 */
	int retries;            /* extra attempts on transient errors;
	                           0: 3, negative: none */
	int         backoff_ms; /* first back-off, doubling; default 100 */
	int         resend_ms;  /* REQ resend time; default 60000 */
	size_t      recv_max;   /* largest reply accepted; default 16 MiB */
	const char *tls_ca;     /* PEM file to verify a tls+tcp:// relay;
	                           NULL: encrypt without verifying */
	const char *tls_name;   /* server name; default: the URL's host */
};

struct tly_relay_mail {
	uint64_t      seq;
	unsigned char id[TLY_MAIL_ID_BYTES];
	uint32_t      size;
	int64_t       time;
};

struct tly_relay_entry {
	uint64_t       seq;
	int64_t        time;
	unsigned char *data; /* malloc'd */
	size_t         len;
};

struct tly_relay_info {
	uint64_t used, quota, mail_head, log_head;
	uint32_t mails;
};

/* Connects (in the background) to url; o may be NULL.  On success *rp is
 * the caller's (tly_relay_close).  TALLY_EINVAL for a bad URL or TLS
 * file, TALLY_ENOMEM. */
int tly_relay_open(
    tly_relay **rp, const char *url, const struct tly_relay_opts *o);
/* Closes the connection and wipes the key.  NULL is a no-op. */
void tly_relay_close(tly_relay *r);
/* The message of the last failure (static storage in r). */
const char *tly_relay_errmsg(const tly_relay *r);

/* Sets the account key (Ed25519; sk as crypto_sign's 64 bytes); copied
 * into guarded memory and wiped on close.  TALLY_ENOMEM. */
int tly_relay_set_key(
    tly_relay *r, const unsigned char *pk, const unsigned char *sk);
/* Creates the account on the relay (invite NULL where registration is
 * open); registering an existing account succeeds.  TALLY_EAUTH if the
 * relay refuses. */
int tly_relay_register(tly_relay *r, const char *invite);
/* Authenticates now (otherwise done on demand).  TALLY_EAUTH. */
int tly_relay_auth(tly_relay *r);
/* Checks that the relay answers.  TALLY_ECONNREF, TALLY_ETIMEDOUT. */
int tly_relay_ping(tly_relay *r);

/* Puts a sealed envelope into the mailbox of to (a public key).  id gets
 * the envelope id (BLAKE2b-256 of env); *dup (may be NULL) is set if the
 * relay already had it.  TALLY_ENOENT (no such recipient), TALLY_EQUOTA,
 * TALLY_ETOOBIG. */
int tly_relay_put(tly_relay *r, const unsigned char *to, const void *env,
    size_t len, unsigned char *id, int *dup);
/* Lists up to max envelopes of the own mailbox with seq > after; *items
 * is malloc'd (caller frees). */
int tly_relay_list(tly_relay *r, uint64_t after, unsigned max,
    struct tly_relay_mail **items, size_t *n, int *more);
/* Fetches one envelope; *env is malloc'd (caller frees).  TALLY_ENOENT. */
int tly_relay_fetch(
    tly_relay *r, const unsigned char *id, unsigned char **env, size_t *len);
/* Deletes n envelopes (ids: n * 32 bytes); *deleted may be NULL. */
int tly_relay_ack(
    tly_relay *r, const unsigned char *ids, size_t n, unsigned *deleted);
/* Appends an entry to the own log; *seq gets its sequence number. */
int tly_relay_append(
    tly_relay *r, const void *p, size_t len, uint64_t *seq, int *dup);
/* Reads log entries with seq > after (at most max items and, past the
 * first, maxbytes bytes).  Free with tly_relay_entries_free. */
int tly_relay_read(tly_relay *r, uint64_t after, unsigned max, size_t maxbytes,
    struct tly_relay_entry **e, size_t *n, int *more);
void tly_relay_entries_free(struct tly_relay_entry *e, size_t n);
/* Drops the own log's entries with seq <= through (compaction, once a
 * snapshot holds them).  *deleted (may be NULL) gets how many went, *floor
 * (may be NULL) the relay's floor: entries 1..floor are gone.  Entries
 * above the head are not affected; dropping again drops nothing. */
int tly_relay_trim(
    tly_relay *r, uint64_t through, uint64_t *deleted, uint64_t *floor);
/* Waits up to secs for mail with seq > mail_after or log entries with
 * seq > log_after; returns the heads (unchanged heads: nothing came). */
int tly_relay_wait(tly_relay *r, uint64_t mail_after, uint64_t log_after,
    unsigned secs, uint64_t *mail_head, uint64_t *log_head);
/* The account's usage, quota and heads. */
int tly_relay_info(tly_relay *r, struct tly_relay_info *info);

/* The link rendezvous (no account key needed): fills slot id with
 * p[0..len) once (TALLY_ETOOBIG; a slot filled already counts as this
 * call's own), or takes what it holds (*p malloc'd, caller frees;
 * TALLY_ENOENT when empty, expired or taken; never resent, as a take
 * happens once). */
int tly_relay_slot_put(tly_relay *r, const unsigned char *id, const void *p,
    size_t len);
int tly_relay_slot_take(
    tly_relay *r, const unsigned char *id, unsigned char **p, size_t *len);

struct tally;

/* Copies the replica's relay URL to url (TALLY_URL_MAX).  TALLY_ENOTINIT
 * (message set) when none is set. */
int tly_relay_url(struct tally *t, char *url);

/* Opens a client for the replica's relay (its URL copied to url,
 * TALLY_URL_MAX) with my unlocked key; on success *rp is the caller's.
 * TALLY_ENOTINIT (no relay set, no identity or locked), TALLY_EINVAL. */
int tly_relay_connect(struct tally *t, tly_relay **rp, char *url);

#endif /* TLY_RELAY_INT_H */
