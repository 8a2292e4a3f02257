/*
 * itlib.h -- helpers for the integration tests: a real tallyd in a fresh
 * temporary directory, started and stopped by the test; clients and raw
 * frames on ipc:// or loopback tcp://.
 *
 * Every wait here is bounded: a server that does not come up within
 * IT_START_MS fails the test instead of hanging it.
 */
#ifndef ITLIB_H
#define ITLIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "frame.h"
#include "relay_int.h"
#include "tly_buf.h"

#define IT_START_MS 10000

struct it_srv {
	char  dir[256];    /* temporary data directory */
	char  conf[300];   /* its tallyd.conf */
	char  url[300];    /* ipc:// URL of the relay */
	char  tcp[64];     /* tcp://127.0.0.1:PORT, when asked for */
	int   port;        /* that port, or 0 */
	char  extra[2048]; /* extra config lines, kept for restarts */
	pid_t pid;
};

struct it_key {
	unsigned char pk[32];
	unsigned char sk[64];
};

/* Makes the directory and config (extra: more INI lines, may hold
 * "[limits]" sections; tcp: also listen on a free loopback port), starts
 * tallyd and waits until it answers a ping. */
void it_start(struct it_srv *s, const char *extra, int tcp);
/* Starts the same server again (after a stop or kill). */
void it_restart(struct it_srv *s);
/* SIGTERM and wait; fails the test if tallyd exits non-zero. */
void it_stop(struct it_srv *s);
/* SIGKILL and reap. */
void it_kill9(struct it_srv *s);
/* Stops if running and removes the directory. */
void it_cleanup(struct it_srv *s);

/* cmocka teardown: kills every tallyd a test left running. */
int it_teardown(void **state);

/* A fresh Ed25519 key pair. */
void it_keygen(struct it_key *k);
/* A client for key k on url (retries: as in tly_relay_opts). */
tly_relay *it_client(
    const char *url, const struct it_key *k, int retries, int timeout_ms);

/* Sends a raw frame on a fresh REQ socket, returns the reply in *rep
 * (malloc'd) or an nng error (NNG_ETIMEDOUT when no reply came). */
int it_raw(const char *url, const void *req, size_t len, unsigned char **rep,
    size_t *replen, int timeout_ms);
/* it_raw and decodes an error reply: returns its wire code, 0 for a
 * non-error reply, -1 for no reply or a malformed one. */
int it_raw_code(const char *url, const void *req, size_t len, uint8_t want);

/* Runs "tallyd --config CONF ARGS..." and captures stdout into out
 * (size n); returns the exit status. */
int it_admin(struct it_srv *s, char *out, size_t n, const char *args);

/* A free TCP port on 127.0.0.1. */
int it_free_port(void);
/* Sleeps ms milliseconds. */
void it_msleep(int ms);
/* Monotonic milliseconds. */
int64_t it_now_ms(void);
/* Reads a file into a NUL-terminated malloc'd string, or NULL. */
char *it_slurp(const char *path);

#endif /* ITLIB_H */
