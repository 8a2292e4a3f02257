/*
 * shutdown_test.c -- SIGTERM while tallyd is under full load.
 *
 * Many clients (tcp:// and ipc://) put, append, fetch and long-poll as
 * fast as they can; tallyd gets SIGTERM in the middle.  It must exit on
 * its own within seconds, with status 0, having closed its database (the
 * log says "stopped", never "without closing the database"); after a
 * restart every write it acknowledged is there and the database is
 * intact.  Repeated, because nng 1.5's nng_close was seen to hang under
 * load only some of the time: tallyd drains before it closes nng, closes
 * the database first, and bounds the wait for nng (the rounds where nng
 * still did not close are counted and printed).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "itlib.h"
#include "tt.h"

#define NCLIENTS 40
#define ROUNDS 5
#define LOAD_MS 700
#define MAX_ACKED 20000

struct client {
	const char   *url;
	struct it_key k;
	_Atomic int  *stop;
	int           kind; /* 0: put, 1: append, 2: fetch, 3: wait */
	/* Acknowledged writes: envelope ids, or log seqs. */
	unsigned char (*ids)[32];
	uint64_t     *seqs;
	size_t        nacked;
	unsigned char fetch_id[32];
	int           has_fetch;
};

static void *
client_main(void *arg)
{
	struct client *c = arg;
	tly_relay     *r = it_client(c->url, &c->k, -1, 2000);
	unsigned char  env[200], *got;
	size_t         len;
	uint64_t       n = 0, seq, mh, lh;

	randombytes_buf(env, sizeof env);
	while (!atomic_load(c->stop) && c->nacked < MAX_ACKED) {
		int rv;

		memcpy(env, &n, sizeof n);
		n++;
		switch (c->kind) {
		case 0:
			rv = tly_relay_put(r, c->k.pk, env, sizeof env,
			    c->ids[c->nacked], NULL);
			if (rv == 0)
				c->nacked++;
			break;
		case 1:
			rv = tly_relay_append(r, env, sizeof env, &seq, NULL);
			if (rv == 0)
				c->seqs[c->nacked++] = seq;
			break;
		case 2:
			rv = c->has_fetch
			    ? tly_relay_fetch(r, c->fetch_id, &got, &len)
			    : tly_relay_info(
			          r, &(struct tly_relay_info) { 0 });
			if (rv == 0 && c->has_fetch)
				free(got);
			break;
		default:
			rv = tly_relay_wait(
			    r, UINT64_MAX / 2, UINT64_MAX / 2, 5, &mh, &lh);
			break;
		}
		if (rv != 0)
			it_msleep(5); /* going away: keep trying until told */
	}
	tly_relay_close(r);
	return (NULL);
}

static void
register_all(const char *url, struct client *c)
{
	for (int i = 0; i < NCLIENTS; i++) {
		tly_relay *r = it_client(url, &c[i].k, 3, 5000);

		TT_PASS(tly_relay_register(r, NULL));
		if (c[i].kind == 2) {
			TT_PASS(tly_relay_put(
			    r, c[i].k.pk, "to fetch", 8, c[i].fetch_id, NULL));
			c[i].has_fetch = 1;
		}
		tly_relay_close(r);
	}
}

/* Every acknowledged write of c is on the (restarted) relay. */
static void
check_acked(const char *url, struct client *c)
{
	tly_relay *r = it_client(url, &c->k, 3, 5000);

	for (size_t i = 0; i < c->nacked; i++) {
		if (c->kind == 0) {
			unsigned char *env;
			size_t         len;
			int rv = tly_relay_fetch(r, c->ids[i], &env, &len);

			if (rv != 0)
				fail_msg("acknowledged put %zu of %zu lost: "
				         "%s",
				    i, c->nacked, tly_relay_errmsg(r));
			free(env);
		} else {
			struct tly_relay_entry *e;
			size_t                  n;
			int                     more;

			TT_PASS(tly_relay_read(
			    r, c->seqs[i] - 1, 1, 0, &e, &n, &more));
			if (n != 1 || e[0].seq != c->seqs[i])
				fail_msg("acknowledged append seq %llu lost",
				    (unsigned long long) c->seqs[i]);
			tly_relay_entries_free(e, n);
		}
	}
	tly_relay_close(r);
}

static void
integrity(const struct it_srv *s)
{
	sqlite3      *db;
	sqlite3_stmt *st;
	char          path[300];

	snprintf(path, sizeof path, "%s/tallyd.db", s->dir);
	assert_int_equal(
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	TT_STREQ((const char *) sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void
test_sigterm_under_load(void **state)
{
	struct it_srv  s;
	struct client *c;
	pthread_t      th[NCLIENTS];
	_Atomic int    stop;
	char           path[300], *log;
	size_t         writes = 0, logpos = 0;
	int            nng_left = 0;
	int64_t        slowest  = 0;

	(void) state;
	c = calloc(NCLIENTS, sizeof *c);
	assert_non_null(c);
	it_start(&s, "[limits]\nrate = 0\nauth_rate = 0\nquota = 1G\n", 1);
	for (int i = 0; i < NCLIENTS; i++) {
		it_keygen(&c[i].k);
		c[i].url  = i % 2 ? s.tcp : s.url;
		c[i].kind = i % 4;
		c[i].stop = &stop;
		c[i].ids  = calloc(MAX_ACKED, 32);
		c[i].seqs = calloc(MAX_ACKED, sizeof *c[i].seqs);
		assert_true(c[i].ids != NULL && c[i].seqs != NULL);
	}
	register_all(s.url, c);
	for (int round = 0; round < ROUNDS; round++) {
		int64_t t0;

		atomic_store(&stop, 0);
		if (round > 0)
			it_restart(&s);
		for (int i = 0; i < NCLIENTS; i++)
			assert_int_equal(
			    pthread_create(&th[i], NULL, client_main, &c[i]),
			    0);
		it_msleep(LOAD_MS);
		t0 = it_now_ms();
		it_stop(&s); /* fails the test after 15 s */
		if (it_now_ms() - t0 > 12000)
			fail_msg("tallyd took %lld ms to stop",
			    (long long) (it_now_ms() - t0));
		if (it_now_ms() - t0 > slowest)
			slowest = it_now_ms() - t0;
		atomic_store(&stop, 1);
		for (int i = 0; i < NCLIENTS; i++)
			pthread_join(th[i], NULL);
		snprintf(path, sizeof path, "%s/tallyd.log", s.dir);
		log = it_slurp(path);
		assert_non_null(log);
		/* This round's lines only, and their end. */
		{
			char  *l = log + logpos;
			size_t n = strlen(log);

			if (n - logpos > 1500)
				l = log + n - 1500;
			if (strstr(log + logpos, "without closing") != NULL ||
			    strstr(log + logpos, "still in flight") != NULL ||
			    strstr(log + logpos, "stopped\n") == NULL)
				fail_msg("round %d: tallyd did not stop "
				         "cleanly:\n%s",
				    round, l);
			if (strstr(log + logpos, "did not close") != NULL)
				nng_left++;
			logpos = n;
		}
		free(log);
		/* Closed, not left to recovery: the last connection's close
		 * checkpoints and removes the WAL. */
		snprintf(path, sizeof path, "%s/tallyd.db-wal", s.dir);
		if (access(path, F_OK) == 0)
			fail_msg("round %d: the database was not closed (its "
			         "WAL is still there)",
			    round);
	}
	it_restart(&s);
	for (int i = 0; i < NCLIENTS; i++) {
		check_acked(s.url, &c[i]);
		writes += c[i].nacked;
	}
	/* The test means nothing if nothing was written under load. */
	assert_true(writes > 0);
	print_message("%zu writes acknowledged under load; slowest stop "
	              "%lld ms; nng_close left to the exit in %d of %d "
	              "rounds\n",
	    writes, (long long) slowest, nng_left, ROUNDS);
	it_stop(&s);
	integrity(&s);
	for (int i = 0; i < NCLIENTS; i++) {
		free(c[i].ids);
		free(c[i].seqs);
	}
	free(c);
	it_cleanup(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(
		    test_sigterm_under_load, it_teardown),
	};

	if (sodium_init() < 0)
		return (1);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
