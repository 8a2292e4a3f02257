/*
 * tallyd.h -- the relay server's internal interfaces: configuration,
 * authentication (auth.c), the nng front end (listen.c), admin commands
 * (admin.c) and metrics (metrics.c).
 */
#ifndef TALLYD_H
#define TALLYD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "frame.h"
#include "store.h"
#include "tly_buf.h"

#define TALLYD_MAX_LISTEN 8

/* Configuration (config.c): the INI file, then the command line. */
struct tallyd_conf {
	char    *listen[TALLYD_MAX_LISTEN]; /* URLs; malloc'd */
	int      nlisten;
	char    *data;     /* data directory */
	char    *metrics;  /* http://127.0.0.1:PORT or NULL */
	char    *tls_cert; /* PEM files for tls+tcp:// */
	char    *tls_key;
	int      open_reg;        /* registration = open (1) or invite (0) */
	int      workers;         /* requests in flight */
	int      readers;         /* read connections */
	uint64_t max_message;     /* largest envelope or log entry */
	uint64_t quota;           /* bytes per account */
	uint32_t rate;            /* requests per second per account */
	uint32_t burst;           /* bucket size */
	uint32_t auth_rate;       /* hello/auth/register per second per
	                             client address (0: unlimited) */
	uint32_t auth_burst;      /* their bucket size */
	int64_t  mail_expiry;     /* seconds; 0: never */
	uint32_t max_wait;        /* longest wait, seconds */
	int64_t  session_ttl;     /* seconds */
	int      probe_ms;        /* listener self-probe interval */
	int      housekeep_ms;    /* expiry and table cleanup interval */
	int      commit_delay_ms; /* testing only */
	int      discard_writes;  /* benchmarks only: store no put/append */
	int      log_level;
};

/* Fills c with the defaults.  */
void tallyd_conf_defaults(struct tallyd_conf *c);
/* Reads the INI file path into c.  TALLY_EIO, TALLY_EINVAL; err says
 * which line and why. */
int tallyd_conf_load(
    struct tallyd_conf *c, const char *path, char *err, size_t errsz);
/* Adds a listen URL (replacing the config file's on the first call from
 * the command line when reset is set).  TALLY_EINVAL when full. */
int tallyd_conf_listen(struct tallyd_conf *c, const char *url, int reset);
/* Frees the strings of c. */
void tallyd_conf_free(struct tallyd_conf *c);
/* Parses "10", "64K", "1M", "2G" into bytes.  TALLY_EINVAL. */
int tallyd_parse_size(const char *s, uint64_t *out);
/* Parses "30", "30s", "5m", "12h", "30d" into seconds.  TALLY_EINVAL. */
int tallyd_parse_duration(const char *s, int64_t *out);

/* Refusal and request counters, exported as Prometheus metrics. */
struct tallyd_metrics {
	_Atomic uint64_t requests[256];          /* by request type */
	_Atomic uint64_t refusals[TLY_W_NCODES]; /* by wire error */
	_Atomic uint64_t bytes_in, bytes_out;
	_Atomic uint64_t connections, connections_open;
	_Atomic uint64_t waits_open;
	_Atomic uint64_t listener_restarts, probe_failures;
	_Atomic uint64_t expired;
	_Atomic uint64_t auth_ok, auth_failed;
	_Atomic uint64_t registrations;
};

/* Authentication state (auth.c): challenges, sessions, rate buckets. */
typedef struct tallyd_auth tallyd_auth;

struct tallyd_session {
	int64_t       acct;
	unsigned char pk[TLY_KEY_BYTES];
};

/* Creates the tables; sid and secret come from the store. */
int  tallyd_auth_new(tallyd_auth **ap, const unsigned char *sid,
     const unsigned char *secret, const struct tallyd_conf *c);
void tallyd_auth_free(tallyd_auth *a);
/* Writes a fresh challenge (TLY_CHALLENGE_BYTES) valid for *ttl secs. */
void tallyd_auth_challenge(tallyd_auth *a, unsigned char *ch, uint32_t *ttl);
/* Checks a signed challenge (reg: a register message with invite) and
 * marks the challenge used.  TALLY_EAUTH on any failure. */
int tallyd_auth_verify(tallyd_auth *a, int reg, const struct tly_req *q);
/* Issues a session token for account acct.  TALLY_EBUSY if full. */
int tallyd_auth_session(tallyd_auth *a, int64_t acct, const unsigned char *pk,
    unsigned char *token, uint32_t *ttl);
/* Looks a token up.  TALLY_EAUTH if unknown or expired; TALLY_ERATE if
 * the account is over its request rate. */
int tallyd_auth_check(
    tallyd_auth *a, const unsigned char *token, struct tallyd_session *out);
/* Takes one sign-in request (hello, auth, register) from the bucket of
 * the client address key (keylen bytes).  TALLY_ERATE when it is empty. */
int tallyd_auth_addr_check(tallyd_auth *a, const void *key, size_t keylen);
/* Ends every session of an account (disabled). */
void tallyd_auth_drop(tallyd_auth *a, int64_t acct);
/* Forgets expired challenges and sessions. */
void tallyd_auth_sweep(tallyd_auth *a);
/* The number of live sessions. */
uint64_t tallyd_auth_sessions(tallyd_auth *a);

/* The server as a whole. */
struct tallyd {
	struct tallyd_conf   *conf;
	tly_store            *store;
	tallyd_auth          *auth;
	struct tallyd_metrics m;
	unsigned char         sid[TLY_SERVER_ID_BYTES];
	nng_socket            sock; /* rep0, all listeners */
	nng_listener          lst[TALLYD_MAX_LISTEN];
	nng_tls_config       *tls;   /* server TLS config or NULL */
	struct tallyd_front  *front; /* listen.c */
	nng_socket            admin; /* rep0 on the admin socket */
	int                   admin_open;
	pthread_t             admin_thr;
	int                   admin_started;
	void                 *http; /* metrics server */
	void                 *http_handler;
	_Atomic int           stopping;
};

/* listen.c: starts the workers and the listeners.  TALLY_EIO; err. */
int tallyd_front_start(struct tallyd *d, char *err, size_t errsz);
/* Probes each listener with a ping; re-creates a deaf one. */
void tallyd_front_probe(struct tallyd *d);
/* Stops taking requests: answers long polls, lets queued writes commit
 * and every reply go, then parks every work item.  After it returns 0
 * nothing touches the store (it may be closed).  1 if requests were still
 * in flight after a few seconds. */
int tallyd_front_drain(struct tallyd *d);
/* Drains (if not done), stops listening, closes the socket.  Returns 1
 * if nng did not close in time (then nothing is freed and the process
 * should exit), else 0. */
int tallyd_front_stop(struct tallyd *d);
/* Number of requests being handled now. */
uint64_t tallyd_front_inflight(struct tallyd *d);

/* admin.c: runs one admin command (argv as given after "tallyd") against
 * a store; d is NULL when the server is not running.  Text goes to out.
 * Returns 0 or TALLY_E*; out then holds the message. */
int tallyd_admin_exec(struct tallyd *d, tly_store *s, int argc,
    const char *const *argv, tly_buf *out);
/* Starts the owner-only admin socket in the data directory. */
int  tallyd_admin_start(struct tallyd *d, char *err, size_t errsz);
void tallyd_admin_stop(struct tallyd *d);
/* Sends a command to a running server through its admin socket.  Returns
 * TALLY_ECONNREF when nobody listens there. */
int tallyd_admin_client(
    const char *dir, int argc, const char *const *argv, tly_buf *out);
/* The admin socket URL for a data directory (buffer of n bytes). */
int tallyd_admin_url(char *buf, size_t n, const char *dir);

/* slot.c: the link rendezvous (slot put and take). */
#define TALLYD_SLOT_TTL 600 /* seconds a slot lives */
#define TALLYD_SLOTS 4096   /* slots open at most */
/* Answers the slot request q: a whole reply or error frame into out. */
void tallyd_slot_reply(
    struct tallyd *d, const struct tly_req *q, tly_buf *out);

/* metrics.c: appends the Prometheus text exposition to out. */
int tallyd_metrics_text(struct tallyd *d, tly_buf *out);
/* Starts the loopback HTTP endpoint (/metrics) if configured. */
int  tallyd_metrics_start(struct tallyd *d, char *err, size_t errsz);
void tallyd_metrics_stop(struct tallyd *d);

#endif /* TALLYD_H */
