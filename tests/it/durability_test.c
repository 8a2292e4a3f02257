/*
 * durability_test.c -- kill -9 tallyd while several clients write, start
 * it again, and check that every acknowledged write is there, unchanged,
 * and that the database passes PRAGMA integrity_check.  ROUNDS rounds.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "itlib.h"
#include "tt.h"

#define ROUNDS 20
#define NCLIENTS 4
#define MAX_WRITES 4000 /* per client over all rounds */
#define WRITE_LIMIT 400 /* per client per round */

struct acked_log {
	uint64_t      seq;
	unsigned char hash[32];
};

struct client {
	int              n; /* index */
	const char      *url;
	struct it_key    k;
	struct it_key   *peer; /* mailbox written to */
	int              round;
	struct acked_log log[MAX_WRITES];
	int              nlog;
	unsigned char    mail[MAX_WRITES][32]; /* ids put into peer's box */
	int              nmail;
	_Atomic int     *stop;
};

static struct client clients[NCLIENTS];

static void *
writer(void *arg)
{
	struct client *c = arg;
	tly_relay     *r = it_client(c->url, &c->k, -1, 400);
	unsigned char  buf[2048];
	uint64_t       seq;
	int            i, len;

	for (i = 0; i < WRITE_LIMIT && !atomic_load(c->stop) &&
	     c->nlog < MAX_WRITES && c->nmail < MAX_WRITES;
	     i++) {
		len = 64 + (int) randombytes_uniform(sizeof buf - 64);
		randombytes_buf(buf, (size_t) len);
		snprintf((char *) buf, 32, "r%d c%d i%d", c->round, c->n, i);
		if (tly_relay_append(r, buf, (size_t) len, &seq, NULL) == 0) {
			c->log[c->nlog].seq = seq;
			crypto_generichash(c->log[c->nlog].hash, 32, buf,
			    (size_t) len, NULL, 0);
			c->nlog++;
		}
		buf[0] ^= 0x55; /* a different envelope */
		if (tly_relay_put(r, c->peer->pk, buf, (size_t) len,
		        c->mail[c->nmail], NULL) == 0)
			c->nmail++;
	}
	tly_relay_close(r);
	return (NULL);
}

static void
integrity(const struct it_srv *s)
{
	sqlite3      *db;
	sqlite3_stmt *st;
	char          path[300];

	snprintf(path, sizeof path, "%s/tallyd.db", s->dir);
	assert_int_equal(
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	TT_STREQ((const char *) sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Everything a client was told is stored is there, byte for byte. */
static void
verify(const char *url, struct client *c, struct client *reader)
{
	tly_relay              *r = it_client(url, &c->k, 3, 5000);
	tly_relay              *m = it_client(url, &reader->k, 3, 5000);
	struct tly_relay_entry *e;
	struct tly_relay_mail  *items;
	unsigned char           h[32], *env;
	uint64_t                after = 0;
	size_t                  n, i, envlen;
	int                     more = 1, j, found, rv;
	static struct acked_log seen[MAX_WRITES * 2];
	size_t                  nseen = 0;

	while (more) {
		if ((rv = tly_relay_read(r, after, 500, 0, &e, &n, &more)) !=
		    0)
			fail_msg("read: %s", tly_relay_errmsg(r));
		for (i = 0; i < n; i++) {
			assert_true(nseen < MAX_WRITES * 2);
			seen[nseen].seq = e[i].seq;
			crypto_generichash(seen[nseen].hash, 32, e[i].data,
			    e[i].len, NULL, 0);
			nseen++;
			after = e[i].seq;
		}
		tly_relay_entries_free(e, n);
		if (n == 0)
			break;
	}
	/* Sequence numbers are dense from 1. */
	for (i = 0; i < nseen; i++)
		TT_INTEQ(seen[i].seq, i + 1);
	for (j = 0; j < c->nlog; j++) {
		uint64_t s = c->log[j].seq;

		if (s == 0 || s > nseen)
			fail_msg(
			    "client %d: acknowledged entry %llu is missing "
			    "(log has %zu)",
			    c->n, (unsigned long long) s, nseen);
		TT_MEMEQ(seen[s - 1].hash, c->log[j].hash, 32);
	}
	/* The mail c put into reader's box (listed page by page). */
	{
		static unsigned char ids[MAX_WRITES * NCLIENTS][32];
		size_t               nids = 0;

		after = 0;
		more  = 1;
		while (more) {
			TT_PASS(
			    tly_relay_list(m, after, 1000, &items, &n, &more));
			for (i = 0; i < n && nids < MAX_WRITES * NCLIENTS; i++)
				memcpy(ids[nids++], items[i].id, 32);
			if (n > 0)
				after = items[n - 1].seq;
			free(items);
			if (n == 0)
				break;
		}
		for (j = 0; j < c->nmail; j++) {
			found = 0;
			for (i = 0; i < nids && !found; i++)
				found = memcmp(ids[i], c->mail[j], 32) == 0;
			if (!found)
				fail_msg("client %d: acknowledged envelope %d "
				         "missing",
				    c->n, j);
		}
	}
	if (c->nmail > 0) {
		/* fetch checks the envelope against its id */
		TT_PASS(
		    tly_relay_fetch(m, c->mail[c->nmail - 1], &env, &envlen));
		crypto_generichash(h, 32, env, envlen, NULL, 0);
		TT_MEMEQ(h, c->mail[c->nmail - 1], 32);
		free(env);
	}
	tly_relay_close(r);
	tly_relay_close(m);
}

static void
test_kill9(void **state)
{
	struct it_srv s;
	pthread_t     th[NCLIENTS];
	_Atomic int   stop;
	int           round, i, total = 0;

	(void) state;
	/* A big quota: the rounds add up. */
	it_start(&s, "[limits]\nquota = 1G\nrate = 0\nmax_message = 64K\n", 0);
	for (i = 0; i < NCLIENTS; i++) {
		tly_relay *r;

		memset(&clients[i], 0, sizeof clients[i]);
		clients[i].n    = i;
		clients[i].url  = s.url;
		clients[i].stop = &stop;
		it_keygen(&clients[i].k);
		r = it_client(s.url, &clients[i].k, 0, 5000);
		TT_PASS(tly_relay_register(r, NULL));
		tly_relay_close(r);
	}
	for (i = 0; i < NCLIENTS; i++)
		clients[i].peer = &clients[(i + 1) % NCLIENTS].k;
	for (round = 0; round < ROUNDS; round++) {
		atomic_store(&stop, 0);
		for (i = 0; i < NCLIENTS; i++) {
			clients[i].round = round;
			assert_int_equal(
			    pthread_create(&th[i], NULL, writer, &clients[i]),
			    0);
		}
		it_msleep(80 + (int) randombytes_uniform(150));
		it_kill9(&s);
		atomic_store(&stop, 1);
		for (i = 0; i < NCLIENTS; i++)
			pthread_join(th[i], NULL);
		integrity(&s);
		it_restart(&s);
		for (i = 0; i < NCLIENTS; i++)
			verify(
			    s.url, &clients[i], &clients[(i + 1) % NCLIENTS]);
	}
	for (i = 0; i < NCLIENTS; i++)
		total += clients[i].nlog + clients[i].nmail;
	print_message(
	    "%d rounds, %d acknowledged writes, all present\n", ROUNDS, total);
	assert_true(total > ROUNDS);
	it_stop(&s);
	integrity(&s);
	it_cleanup(&s);
}

/* SIGTERM while clients write: tallyd finishes what it acknowledged and
 * exits 0; nothing acknowledged is lost. */
static void
test_sigterm(void **state)
{
	struct it_srv s;
	pthread_t     th[NCLIENTS];
	_Atomic int   stop;
	int           i;

	(void) state;
	it_start(&s, "[limits]\nrate = 0\n", 0);
	for (i = 0; i < NCLIENTS; i++) {
		tly_relay *r;

		memset(&clients[i], 0, sizeof clients[i]);
		clients[i].n    = i;
		clients[i].url  = s.url;
		clients[i].stop = &stop;
		it_keygen(&clients[i].k);
		r = it_client(s.url, &clients[i].k, 0, 5000);
		TT_PASS(tly_relay_register(r, NULL));
		tly_relay_close(r);
	}
	for (i = 0; i < NCLIENTS; i++)
		clients[i].peer = &clients[(i + 1) % NCLIENTS].k;
	atomic_store(&stop, 0);
	for (i = 0; i < NCLIENTS; i++)
		assert_int_equal(
		    pthread_create(&th[i], NULL, writer, &clients[i]), 0);
	it_msleep(150);
	it_stop(&s); /* fails unless exit status 0 */
	atomic_store(&stop, 1);
	for (i = 0; i < NCLIENTS; i++)
		pthread_join(th[i], NULL);
	integrity(&s);
	it_restart(&s);
	for (i = 0; i < NCLIENTS; i++)
		verify(s.url, &clients[i], &clients[(i + 1) % NCLIENTS]);
	it_stop(&s);
	it_cleanup(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_kill9, it_teardown),
		cmocka_unit_test_teardown(test_sigterm, it_teardown),
	};

	if (sodium_init() < 0)
		return (1);
	if (getenv("IT_FILTER") != NULL)
		cmocka_set_test_filter(getenv("IT_FILTER"));
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
