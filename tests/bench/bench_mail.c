/*
 * bench_mail.c -- records both sides confirm, through a real tallyd on
 * loopback tcp://: how long from `propose` to both replicas confirmed,
 * and how many records per second 100 pairs of users confirm at once;
 * beside it, in the same run, the relay's bare put and fetch.
 *
 *   bench_mail [RECORDS] [PAIRS] [SECONDS]
 *
 * RECORDS (default 200) round trips one after the other by one pair:
 * propose (A), sync (A sends), sync (B takes in), confirm (B), sync (B
 * sends), sync (A takes in) -- each sync as `tally sync` does it, with a
 * fresh relay connection and sign-in -- timed end to end, median and
 * p99.  Then PAIRS (default 100) pairs, each in its own thread, do the
 * same for SECONDS (default 10) seconds: confirmed records per second.
 * Last, the relay without libtally: put and fetch of envelopes of the
 * size a proposal has, one client (latency), and PAIRS clients putting
 * at once (throughput).  Replicas live in a temporary directory; starts
 * the tallyd next to this program (BUILD/server/tallyd, or $TALLYD).
 * Prints a table; with $TALLY_BENCH_JSON, writes the figures there too.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "relay_int.h"
#include "tally.h"

#define MAX_PAIRS 200
#define ENV_BYTES 560 /* a sealed proposal: one 512-byte letter + 48 */

typedef struct user {
	tally *t;
	char   tid[TALLY_TALLYID_LEN + 1];
	char   peer[TALLY_ID_LEN + 1]; /* the other, as a person here */
} user;

typedef struct pair {
	user         a, b;
	_Atomic int *stop;
	double      *lat; /* ms */
	size_t       nlat, cap;
	int          errors;
	char         err[300];
} pair;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6);
}

static void
sleep_s(double s)
{
	struct timespec ts;

	ts.tv_sec  = (time_t) s;
	ts.tv_nsec = (long) ((s - (double) ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0)
		;
}

static int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t          len = sizeof sa;
	int                fd  = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof sa);
	sa.sin_family      = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *) &sa, &len) != 0) {
		perror("port");
		exit(1);
	}
	port = ntohs(sa.sin_port);
	close(fd);
	return (port);
}

static void
die(const char *what, tally *t)
{
	fprintf(stderr, "bench_mail: %s: %s\n", what,
	    t != NULL ? tally_errmsg(t) : "");
	exit(1);
}

static void
mk_user(user *u, const char *dir, int i, char side, const char *url)
{
	tally_identity id;
	char           path[PATH_MAX], name[32];

	snprintf(path, sizeof path, "%s/%c%d/tally.db", dir, side, i);
	snprintf(name, sizeof name, "%c%d", side, i);
	if (tally_open(&u->t, path, TALLY_OPEN_CREATE) != 0 ||
	    tally_init(u->t, name) != 0 || tally_id_init(u->t, NULL, 0) != 0 ||
	    tally_relay_set(u->t, url) != 0 ||
	    tally_relay_register(u->t, NULL) != 0 ||
	    tally_id_get(u->t, &id) != 0)
		die("making a user", u->t);
	memcpy(u->tid, id.tally_id, sizeof u->tid);
}

static void
link_users(user *u, const user *v, const char *name)
{
	tally_person_in in;

	tally_person_in_init(&in);
	in.name = name;
	if (tally_person_add(u->t, u->peer, &in) != 0 ||
	    tally_peer_add(u->t, u->peer, v->tid) != 0)
		die("linking", u->t);
}

/* One record, proposed by a, confirmed by b, both replicas confirmed. */
static int
round_trip(pair *p)
{
	tally_record_in  in;
	tally_mail_stats st;
	char   id[TALLY_RECORD_ID_LEN + 1], got[TALLY_RECORD_ID_LEN + 1];
	tally *t;
	int    rv;

	memset(&in, 0, sizeof in);
	in.kind       = "favor";
	in.with       = p->a.peer;
	in.by_me      = 0;
	in.favor_kind = "advice";
	in.note       = "forty minutes on how to pitch a data portfolio";
	if ((rv = tally_record_propose(t = p->a.t, id, &in)) != 0 ||
	    (rv = tally_mail_sync(t = p->a.t, &st, 0, NULL, NULL)) != 0 ||
	    (rv = tally_mail_sync(t = p->b.t, &st, 0, NULL, NULL)) != 0 ||
	    (rv = tally_record_confirm(t = p->b.t, got, id)) != 0 ||
	    (rv = tally_mail_sync(t = p->b.t, &st, 0, NULL, NULL)) != 0 ||
	    (rv = tally_mail_sync(t = p->a.t, &st, 0, NULL, NULL)) != 0) {
		snprintf(p->err, sizeof p->err, "%s", tally_errmsg(t));
		return (rv);
	}
	if (st.received != 1) {
		snprintf(p->err, sizeof p->err,
		    "the countersignature did "
		    "not arrive");
		return (TALLY_EPROTO);
	}
	return (0);
}

static void *
pair_loop(void *arg)
{
	pair  *p = arg;
	double t0;

	while (!atomic_load(p->stop) && p->nlat < p->cap) {
		t0 = now_ms();
		if (round_trip(p) != 0) {
			p->errors++;
			continue;
		}
		p->lat[p->nlat++] = now_ms() - t0;
	}
	return (NULL);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return ((x > y) - (x < y));
}

/* Sorts v[0..n) and gives the median and the 99th percentile. */
static void
pctl(double *v, size_t n, double *p50, double *p99)
{
	qsort(v, n, sizeof *v, cmp_double);
	*p50 = n ? v[n / 2] : 0;
	*p99 = n ? v[(n * 99) / 100] : 0;
}

/* -- The bare relay ------------------------------------------------------- */

typedef struct bare {
	const char   *url;
	unsigned char pk[32], sk[64], to[32];
	_Atomic int  *stop;
	size_t        n;
	int           errors;
} bare;

static tly_relay *
bare_client(const char *url, const unsigned char *pk, const unsigned char *sk)
{
	struct tly_relay_opts o;
	tly_relay            *r;

	memset(&o, 0, sizeof o);
	o.retries    = 20;
	o.backoff_ms = 50;
	if (tly_relay_open(&r, url, &o) != 0 ||
	    tly_relay_set_key(r, pk, sk) != 0 ||
	    tly_relay_register(r, NULL) != 0) {
		fprintf(stderr, "bench_mail: relay client failed\n");
		exit(1);
	}
	return (r);
}

static void *
bare_puts(void *arg)
{
	bare         *b = arg;
	tly_relay    *r = bare_client(b->url, b->pk, b->sk);
	unsigned char env[ENV_BYTES];
	uint64_t      k = 0;

	randombytes_buf(env, sizeof env);
	while (!atomic_load(b->stop)) {
		memcpy(env, &k, sizeof k);
		k++;
		if (tly_relay_put(r, b->to, env, sizeof env, NULL, NULL) != 0)
			b->errors++;
		else
			b->n++;
	}
	tly_relay_close(r);
	return (NULL);
}

static void
tallyd_path(char *out, size_t n, const char *argv0)
{
	char    self[PATH_MAX];
	ssize_t k;

	if (getenv("TALLYD") != NULL) {
		snprintf(out, n, "%s", getenv("TALLYD"));
		return;
	}
	k = readlink("/proc/self/exe", self, sizeof self - 1);
	if (k <= 0)
		snprintf(self, sizeof self, "%s", argv0);
	else
		self[k] = '\0';
	snprintf(out, n, "%s/../server/tallyd", dirname(self));
}

int
main(int argc, char **argv)
{
	static pair   pairs[MAX_PAIRS];
	static bare   bares[MAX_PAIRS];
	pthread_t     th[MAX_PAIRS];
	struct rlimit rl;
	_Atomic int   stop  = 0;
	char          dir[] = "/tmp/tly-bench-mail-XXXXXX", conf[PATH_MAX];
	char          url[64], tallyd[PATH_MAX], cmd[2 * PATH_MAX];
	int           nrec   = argc > 1 ? atoi(argv[1]) : 200;
	int           npairs = argc > 2 ? atoi(argv[2]) : 100;
	double        secs   = argc > 3 ? atof(argv[3]) : 10.0;
	double        seq50, seq99, con50, con99, t0, t1, elapsed;
	double        put50, put99, fetch50, fetch99, empty50, empty99;
	double       *all, *plat, *flat, *elat, bare_rps;
	size_t        total = 0, k = 0, nbare = 0;
	int           errors = 0, bare_errors = 0, i;
	FILE         *fp;
	pid_t         pid;

	if (nrec < 1 || npairs < 1 || npairs > MAX_PAIRS || secs <= 0) {
		fprintf(stderr,
		    "usage: bench_mail [RECORDS] [PAIRS (1-%d)] "
		    "[SECONDS]\n",
		    MAX_PAIRS);
		return (2);
	}
	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return (1);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void) setrlimit(RLIMIT_NOFILE, &rl);
	}
	tallyd_path(tallyd, sizeof tallyd, argv[0]);
	snprintf(url, sizeof url, "tcp://127.0.0.1:%d", free_port());
	snprintf(conf, sizeof conf, "%s/tallyd.conf", dir);
	mkdir(strcat(strcpy(cmd, dir), "/relay"), 0700);
	fp = fopen(conf, "w");
	fprintf(fp,
	    "[server]\nlisten = %s\ndata = %s/relay\nlog_level = warning\n"
	    "registration = open\n[limits]\nrate = 0\nquota = 8G\n",
	    url, dir);
	fclose(fp);
	if ((pid = fork()) == 0) {
		execl(tallyd, "tallyd", "--config", conf, (char *) NULL);
		perror(tallyd);
		_exit(127);
	}
	sleep_s(0.3);

	/* The users: one pair per thread, linked to each other. */
	for (i = 0; i < npairs; i++) {
		mk_user(&pairs[i].a, dir, i, 'a', url);
		mk_user(&pairs[i].b, dir, i, 'b', url);
		link_users(&pairs[i].a, &pairs[i].b, "B");
		link_users(&pairs[i].b, &pairs[i].a, "A");
		pairs[i].stop = &stop;
		pairs[i].cap  = (size_t) (nrec > 10000 ? nrec : 10000);
		pairs[i].lat  = malloc(pairs[i].cap * sizeof *pairs[i].lat);
	}

	/* One pair, one record after the other. */
	elat = malloc((size_t) nrec * sizeof *elat);
	for (i = 0; i < nrec; i++) {
		tally_mail_stats st;

		t0 = now_ms();
		if (round_trip(&pairs[0]) != 0) {
			fprintf(stderr, "bench_mail: %s\n", pairs[0].err);
			kill(pid, SIGKILL);
			return (1);
		}
		pairs[0].lat[pairs[0].nlat++] = now_ms() - t0;
		t0                            = now_ms();
		if (tally_mail_sync(pairs[0].b.t, &st, 0, NULL, NULL) != 0)
			die("an empty sync", pairs[0].b.t);
		elat[i] = now_ms() - t0;
	}
	pctl(pairs[0].lat, pairs[0].nlat, &seq50, &seq99);
	pctl(elat, (size_t) nrec, &empty50, &empty99);
	pairs[0].nlat = 0;

	/* All pairs at once. */
	t0 = now_ms();
	for (i = 0; i < npairs; i++)
		pthread_create(&th[i], NULL, pair_loop, &pairs[i]);
	sleep_s(secs);
	atomic_store(&stop, 1);
	for (i = 0; i < npairs; i++)
		pthread_join(th[i], NULL);
	t1      = now_ms();
	elapsed = (t1 - t0) / 1e3;
	for (i = 0; i < npairs; i++) {
		total += pairs[i].nlat;
		errors += pairs[i].errors;
		if (pairs[i].errors > 0)
			fprintf(stderr, "  pair %d: %d errors, last: %s\n", i,
			    pairs[i].errors, pairs[i].err);
	}
	all = malloc((total + 1) * sizeof *all);
	for (i = 0; i < npairs; i++) {
		memcpy(all + k, pairs[i].lat, pairs[i].nlat * sizeof *all);
		k += pairs[i].nlat;
	}
	pctl(all, total, &con50, &con99);

	/* The bare relay: latency of one client, then npairs putting. */
	{
		unsigned char pk[32], sk[64], ids[64][32];
		tly_relay    *r;

		crypto_sign_keypair(pk, sk);
		r    = bare_client(url, pk, sk);
		plat = malloc((size_t) nrec * sizeof *plat);
		flat = malloc((size_t) nrec * sizeof *flat);
		for (i = 0; i < nrec; i++) {
			unsigned char env[ENV_BYTES], *got;
			size_t        glen;

			randombytes_buf(env, sizeof env);
			t0 = now_ms();
			if (tly_relay_put(r, pk, env, sizeof env, ids[i % 64],
			        NULL) != 0)
				bare_errors++;
			plat[i] = now_ms() - t0;
			t0      = now_ms();
			if (tly_relay_fetch(r, ids[i % 64], &got, &glen) != 0)
				bare_errors++;
			else
				free(got);
			flat[i] = now_ms() - t0;
			(void) tly_relay_ack(r, ids[i % 64], 1, NULL);
		}
		tly_relay_close(r);
		pctl(plat, (size_t) nrec, &put50, &put99);
		pctl(flat, (size_t) nrec, &fetch50, &fetch99);
		atomic_store(&stop, 0);
		for (i = 0; i < npairs; i++) {
			crypto_sign_keypair(bares[i].pk, bares[i].sk);
			memcpy(bares[i].to, bares[i].pk, 32);
			bares[i].url  = url;
			bares[i].stop = &stop;
		}
		t0 = now_ms();
		for (i = 0; i < npairs; i++)
			pthread_create(&th[i], NULL, bare_puts, &bares[i]);
		sleep_s(secs / 2);
		atomic_store(&stop, 1);
		for (i = 0; i < npairs; i++)
			pthread_join(th[i], NULL);
		t1 = now_ms();
		for (i = 0; i < npairs; i++) {
			nbare += bares[i].n;
			bare_errors += bares[i].errors;
		}
		bare_rps = (double) nbare / ((t1 - t0) / 1e3);
	}

	printf("records through tallyd over %s (loopback), %d-byte "
	       "envelopes\n",
	    url, ENV_BYTES);
	printf("%-44s %8s %9s %9s\n", "", "n", "p50 ms", "p99 ms");
	printf("%-44s %8d %9.2f %9.2f\n", "propose -> both confirmed, 1 pair",
	    nrec, seq50, seq99);
	printf("%-44s %8d %9.2f %9.2f\n", "  one sync with nothing to do",
	    nrec, empty50, empty99);
	printf("%-44s %8zu %9.2f %9.2f\n",
	    "propose -> both confirmed, "
	    "pairs at once",
	    total, con50, con99);
	printf("%-44s %8d %9.3f %9.3f\n", "relay put, 1 client (bare)", nrec,
	    put50, put99);
	printf("%-44s %8d %9.3f %9.3f\n", "relay fetch, 1 client (bare)", nrec,
	    fetch50, fetch99);
	printf("%d pairs at once: %.0f records confirmed/s (%zu in %.1f s, "
	       "%d errors)\n",
	    npairs, (double) total / elapsed, total, elapsed, errors);
	printf("%d clients putting at once (bare): %.0f puts/s (%d errors)\n",
	    npairs, bare_rps, bare_errors);
	printf("a confirmed record costs 4 syncs (each: connect, sign in, "
	       "list) and 2 envelopes\n");
	if (getenv("TALLY_BENCH_JSON") != NULL &&
	    (fp = fopen(getenv("TALLY_BENCH_JSON"), "w")) != NULL) {
		fprintf(fp,
		    "{\"records\": %d, \"pairs\": %d, \"secs\": %.1f,\n"
		    " \"round_trip_p50_ms\": %.3f, \"round_trip_p99_ms\": "
		    "%.3f,\n"
		    " \"empty_sync_p50_ms\": %.3f, \"empty_sync_p99_ms\": "
		    "%.3f,\n"
		    " \"concurrent_p50_ms\": %.3f, \"concurrent_p99_ms\": "
		    "%.3f,\n"
		    " \"confirmed_per_s\": %.1f, \"errors\": %d,\n"
		    " \"bare_put_p50_ms\": %.3f, \"bare_put_p99_ms\": %.3f,\n"
		    " \"bare_fetch_p50_ms\": %.3f, \"bare_fetch_p99_ms\": "
		    "%.3f,\n"
		    " \"bare_puts_per_s\": %.0f}\n",
		    nrec, npairs, secs, seq50, seq99, empty50, empty99, con50,
		    con99, (double) total / elapsed, errors, put50, put99,
		    fetch50, fetch99, bare_rps);
		fclose(fp);
	}
	for (i = 0; i < npairs; i++) {
		tally_close(pairs[i].a.t);
		tally_close(pairs[i].b.t);
		free(pairs[i].lat);
	}
	free(all);
	free(elat);
	free(plat);
	free(flat);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return (errors > 0 ? 1 : 0);
}
