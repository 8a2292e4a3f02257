/*
 * bench_sync.c -- device sync end to end, over loopback tcp://, with its
 * raw limits in the same run.
 *
 * usage: bench_sync [--scale F] [--edits N] [--json FILE]
 * (--json defaults to $TALLY_BENCH_JSON: where to leave the figures)
 *
 * Starts the tallyd next to this program (BUILD/server/tallyd, or
 * $TALLYD) in a temporary directory.  Device A imports a synthetic
 * network (100,000 people and 1,000,000 interactions at scale 1, through
 * tally_import, the path `tally import json` takes) and pushes it; device
 * B is linked with a code (tally_device_link/join) and pulls it: the
 * initial sync of a newly joined device.  Figures: operations per second
 * of the push, of the pull and end to end (all operations over push +
 * pull time), bytes of log entries per operation, the peak resident
 * memory of the pulling client; then N single edits on A, each pushed by
 * A and pulled by B (`tally sync` on each side): median and p99.  The
 * raw limits, measured in the same run: bare SQLite inserts of the same
 * rows (one transaction, no index or trigger) and XChaCha20-Poly1305 of
 * the same number of bytes.  Each client phase runs in a child process
 * (nng is never used across a fork), which reports its peak memory.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "tally.h"

#define NOW ((int64_t) 1763769600) /* 2025-11-22T00:00:00Z */
#define DAY ((int64_t) 86400)
#define GOAL_OPS 50000.0
#define CHUNK (768u << 10) /* a batch's plaintext */

static const char *const firsts[] = { "Ann", "Bob", "Chen", "Dana", "Eli",
	"Fatima", "Gus", "Hana", "Ivan", "Jo", "Kemal", "Lea", "Mo", "Nia" };
static const char *const lasts[]  = { "Lee", "Ray", "Wu", "Cole", "Diaz",
	 "Khan", "Novak", "Okafor", "Patel", "Quist", "Rossi", "Silva" };
static const char *const orgs[]   = { "Acme", "Globex", "Initech",
	  "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell" };
static const char *const words[]  = { "talked", "about", "roles", "data",
	 "pipeline", "hiring", "team", "remote", "salary", "referral",
	 "python", "sql", "dashboard", "interview", "offer", "startup" };
static const char *const ikinds[] = { "call", "coffee", "meeting", "email",
	"event" };

#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return (x * 0x2545F4914F6CDD1Dull);
}

static uint64_t
pick(uint64_t n)
{
	return (rng() % n);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double) ts.tv_sec + (double) ts.tv_nsec / 1e9);
}

static void
note(char *buf, size_t n)
{
	size_t used = 0;
	int    k    = 3 + (int) pick(4);

	buf[0] = '\0';
	for (int i = 0; i < k && used < n; i++)
		used += (size_t) snprintf(buf + used, n - used, "%s%s",
		    i ? " " : "", words[pick(N(words))]);
}

static void
iso(char *out, int64_t t)
{
	time_t    tt = (time_t) t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The network as a tally JSON dump; *rows counts its rows. */
static int
write_dump(const char *path, size_t people, size_t inter, char (*pid)[33])
{
	FILE *f = fopen(path, "w");
	char  t1[21], id[33], text[128];

	if (f == NULL)
		return (-1);
	rng_state = 0x9E3779B97F4A7C15ull;
	fprintf(f, "{\"format\":\"tally\",\"version\":1,\"exported\":"
	           "\"2025-11-22T00:00:00Z\",\n\"people\":[\n");
	for (size_t i = 0; i < people; i++) {
		const char *fn = firsts[pick(N(firsts))];
		const char *ln = lasts[pick(N(lasts))];
		snprintf(pid[i], 33, "%016" PRIx64 "%016" PRIx64, rng(), rng());
		iso(t1, NOW - (int64_t) pick(1000) * DAY);
		fprintf(f,
		    "%s{\"id\":\"%s\",\"name\":\"%s %s %zu\",\"org\":\"%s\","
		    "\"emails\":[],\"phones\":[],\"tags\":[],\"closeness\":%d,"
		    "\"is_me\":false,\"created\":\"%s\",\"updated\":\"%s\"}",
		    i ? ",\n" : "", pid[i], fn, ln, i, orgs[pick(N(orgs))],
		    (int) pick(6), t1, t1);
	}
	fputs("],\n\"interactions\":[\n", f);
	for (size_t i = 0; i < inter; i++) {
		int64_t at = NOW - (int64_t) pick(3 * 365 * DAY);
		snprintf(id, sizeof id, "%016" PRIx64 "%016" PRIx64, rng(),
		    rng());
		note(text, sizeof text);
		iso(t1, at);
		fprintf(f,
		    "%s{\"id\":\"%s\",\"person\":\"%s\",\"kind\":\"%s\","
		    "\"at\":\"%s\",\"minutes\":%d,\"note\":\"%s\","
		    "\"follow_up\":null,\"follow_up_done\":null,"
		    "\"thanked\":null,\"created\":\"%s\",\"updated\":\"%s\"}",
		    i ? ",\n" : "", id, pid[pick(people)],
		    ikinds[pick(N(ikinds))], t1, 5 + (int) pick(90), text, t1,
		    t1);
	}
	fputs("],\n\"favors\":[],\"introductions\":[],\"references\":[],"
	      "\"reference_uses\":[]}\n",
	    f);
	return (fclose(f) == 0 ? 0 : -1);
}

/* Raw limit 1: the same rows, bare tables, one transaction. */
static double
bare_inserts(const char *path, size_t people, size_t inter,
    char (*pid)[33])
{
	sqlite3      *db;
	sqlite3_stmt *p, *i;
	char          id[33], text[128];
	double        t0;

	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return (-1);
	sqlite3_exec(db,
	    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    "CREATE TABLE person(rid INTEGER PRIMARY KEY, id TEXT, name TEXT,"
	    " org TEXT, emails TEXT, closeness INT, created INT, updated INT);"
	    "CREATE TABLE interaction(rid INTEGER PRIMARY KEY, id TEXT,"
	    " person TEXT, kind TEXT, at INT, minutes INT, note TEXT,"
	    " created INT, updated INT);",
	    NULL, NULL, NULL);
	sqlite3_prepare_v2(db,
	    "INSERT INTO person VALUES (NULL,?1,?2,?3,'[]',?4,?5,?5)", -1, &p,
	    NULL);
	sqlite3_prepare_v2(db,
	    "INSERT INTO interaction VALUES (NULL,?1,?2,?3,?4,?5,?6,?4,?4)",
	    -1, &i, NULL);
	rng_state = 0x1234567ull;
	t0        = now_s();
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (size_t k = 0; k < people; k++) {
		sqlite3_bind_text(p, 1, pid[k], 32, SQLITE_STATIC);
		sqlite3_bind_text(p, 2, firsts[pick(N(firsts))], -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(p, 3, orgs[pick(N(orgs))], -1, SQLITE_STATIC);
		sqlite3_bind_int(p, 4, (int) pick(6));
		sqlite3_bind_int64(p, 5, NOW);
		sqlite3_step(p);
		sqlite3_reset(p);
	}
	for (size_t k = 0; k < inter; k++) {
		snprintf(id, sizeof id, "%016" PRIx64 "%016" PRIx64, rng(),
		    rng());
		note(text, sizeof text);
		sqlite3_bind_text(i, 1, id, 32, SQLITE_STATIC);
		sqlite3_bind_text(i, 2, pid[pick(people)], 32, SQLITE_STATIC);
		sqlite3_bind_text(i, 3, ikinds[pick(N(ikinds))], -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(i, 4, NOW - (int64_t) pick(3 * 365 * DAY));
		sqlite3_bind_int(i, 5, 5 + (int) pick(90));
		sqlite3_bind_text(i, 6, text, -1, SQLITE_STATIC);
		sqlite3_step(i);
		sqlite3_reset(i);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	t0 = now_s() - t0;
	sqlite3_finalize(p);
	sqlite3_finalize(i);
	sqlite3_close(db);
	unlink(path);
	return (t0);
}

/* Raw limit 2: XChaCha20-Poly1305 over bytes, in batch-sized chunks. */
static double
aead_bytes(uint64_t bytes)
{
	unsigned char  key[32], nonce[24];
	unsigned char *in  = malloc(CHUNK);
	unsigned char *out = malloc(CHUNK + 16);
	double         t0;

	if (in == NULL || out == NULL)
		return (-1);
	randombytes_buf(key, sizeof key);
	randombytes_buf(in, CHUNK);
	t0 = now_s();
	for (uint64_t done = 0; done < bytes; done += CHUNK) {
		size_t n = bytes - done < CHUNK ? (size_t) (bytes - done)
		                                : CHUNK;
		randombytes_buf(nonce, sizeof nonce);
		crypto_aead_xchacha20poly1305_ietf_encrypt(
		    out, NULL, in, n, nonce, 20, NULL, nonce, key);
	}
	t0 = now_s() - t0;
	free(in);
	free(out);
	return (t0);
}

/* -- Child phases ------------------------------------------------------ */

struct result {
	int              rv;
	double           secs;
	tally_sync_stats st;
	double           lat[2048]; /* incremental: ms per edit */
	int              nlat;
	long             maxrss; /* kB, the child's peak */
	char             msg[256];
};

static const char *url, *dir_a, *dir_b, *dump;
static int         edits = 200;

static int
open_unlocked(tally **t, const char *dir, int create, struct result *r)
{
	char path[PATH_MAX];
	int  rv;

	snprintf(path, sizeof path, "%s/tally.db", dir);
	if ((rv = tally_open(t, path, create ? TALLY_OPEN_CREATE : 0)) != 0 ||
	    (rv = tally_id_unlock(*t, NULL, 0)) != 0) {
		snprintf(r->msg, sizeof r->msg, "%s: %s", dir,
		    tally_errmsg(*t));
		return (rv);
	}
	return (0);
}

/* A: the replica, its identity, the relay, the network. */
static int
phase_setup(struct result *r)
{
	tally_import_stats st;
	tally             *t;
	char               path[PATH_MAX];
	int                rv;
	double             t0;

	snprintf(path, sizeof path, "%s/tally.db", dir_a);
	if ((rv = tally_open(&t, path, TALLY_OPEN_CREATE)) != 0 ||
	    (rv = tally_init(t, "Me")) != 0 ||
	    (rv = tally_id_init(t, NULL, 0)) != 0 ||
	    (rv = tally_relay_set(t, url)) != 0 ||
	    (rv = tally_relay_register(t, NULL)) != 0) {
		snprintf(r->msg, sizeof r->msg, "setup: %s", tally_errmsg(t));
		tally_close(t);
		return (rv);
	}
	t0 = now_s();
	if ((rv = tally_import(t, &st, "json", dump, NULL)) != 0)
		snprintf(r->msg, sizeof r->msg, "import: %s", tally_errmsg(t));
	r->secs = now_s() - t0;
	tally_close(t);
	return (rv);
}

static int
phase_sync(struct result *r, const char *dir)
{
	tally *t;
	int    rv;
	double t0;

	if ((rv = open_unlocked(&t, dir, 0, r)) != 0) {
		tally_close(t);
		return (rv);
	}
	t0 = now_s();
	if ((rv = tally_log_sync(t, &r->st, NULL)) != 0)
		snprintf(r->msg, sizeof r->msg, "sync: %s", tally_errmsg(t));
	r->secs = now_s() - t0;
	tally_close(t);
	return (rv);
}

/* B joins with a code A shows (both in this process, one after the
 * other: link puts the offer, join takes it and answers). */
static int
phase_link(struct result *r)
{
	tally       *a, *b = NULL;
	tally_link  *l = NULL;
	tally_device d;
	char         code[TALLY_LINK_CODE_LEN + 1], path[PATH_MAX];
	int          rv;

	if ((rv = open_unlocked(&a, dir_a, 0, r)) != 0)
		goto out;
	if ((rv = tally_device_link(a, &l, code)) != 0) {
		snprintf(r->msg, sizeof r->msg, "link: %s", tally_errmsg(a));
		goto out;
	}
	snprintf(path, sizeof path, "%s/tally.db", dir_b);
	if ((rv = tally_open(&b, path, TALLY_OPEN_CREATE)) != 0 ||
	    (rv = tally_device_join(b, code, url, NULL, 0, "bench B")) != 0) {
		snprintf(r->msg, sizeof r->msg, "join: %s", tally_errmsg(b));
		goto out;
	}
	if ((rv = tally_device_link_wait(l, 10, &d)) != 0)
		snprintf(r->msg, sizeof r->msg, "link: %s", tally_errmsg(a));
out:
	tally_link_free(l);
	tally_close(a);
	tally_close(b);
	return (rv);
}

/* One edit on A, visible on B after `sync` on each side. */
static int
phase_edits(struct result *r)
{
	tally          *a, *b;
	tally_person_in in;
	char            id[TALLY_ID_LEN + 1], org[32];
	int             rv;

	if ((rv = open_unlocked(&a, dir_a, 0, r)) != 0 ||
	    (rv = open_unlocked(&b, dir_b, 0, r)) != 0)
		return (rv);
	tally_person_in_init(&in);
	in.name = "Edit Target";
	if ((rv = tally_person_add(a, id, &in)) != 0 ||
	    (rv = tally_log_sync(a, NULL, NULL)) != 0 ||
	    (rv = tally_log_sync(b, NULL, NULL)) != 0) {
		snprintf(r->msg, sizeof r->msg, "edits: %s", tally_errmsg(a));
		return (rv);
	}
	for (int k = 0; k < edits && k < (int) N(r->lat); k++) {
		double t0 = now_s();

		tally_person_in_init(&in);
		snprintf(org, sizeof org, "Org %d", k);
		in.org = org;
		if ((rv = tally_person_edit(a, id, &in)) != 0 ||
		    (rv = tally_log_sync(a, NULL, NULL)) != 0 ||
		    (rv = tally_log_sync(b, &r->st, NULL)) != 0) {
			snprintf(r->msg, sizeof r->msg, "edit %d: %s / %s", k,
			    tally_errmsg(a), tally_errmsg(b));
			break;
		}
		if (r->st.applied != 1) {
			snprintf(r->msg, sizeof r->msg,
			    "edit %d: B applied %zu operations", k,
			    r->st.applied);
			rv = TALLY_EINTERNAL;
			break;
		}
		r->lat[r->nlat++] = (now_s() - t0) * 1e3;
	}
	tally_close(a);
	tally_close(b);
	return (rv);
}

/* Runs phase in a child; *maxrss in kB. */
static int
child(int (*phase)(struct result *), struct result *r, long *maxrss)
{
	struct rusage ru;
	int           fd[2];
	pid_t         pid;
	size_t        got = 0;

	memset(r, 0, sizeof *r);
	if (pipe(fd) != 0)
		return (-1);
	if ((pid = fork()) == 0) {
		close(fd[0]);
		r->rv = phase(r);
		if (getrusage(RUSAGE_SELF, &ru) == 0)
			r->maxrss = ru.ru_maxrss;
		if (write(fd[1], r, sizeof *r) != (ssize_t) sizeof *r)
			_exit(2);
		_exit(0);
	}
	close(fd[1]);
	while (got < sizeof *r) {
		ssize_t k = read(fd[0], (char *) r + got, sizeof *r - got);
		if (k <= 0)
			break;
		got += (size_t) k;
	}
	close(fd[0]);
	if (waitpid(pid, NULL, 0) < 0 || got != sizeof *r)
		return (-1);
	if (maxrss != NULL)
		*maxrss = r->maxrss;
	return (r->rv);
}

static int
push_a(struct result *r)
{
	return (phase_sync(r, dir_a));
}

static int
pull_b(struct result *r)
{
	return (phase_sync(r, dir_b));
}

/* -- tallyd -------------------------------------------------------------- */

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

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return (x < y ? -1 : x > y);
}

int
main(int argc, char **argv)
{
	static struct result res;
	char                 tmpl[] = "/tmp/tally-bench-sync.XXXXXX";
	char                 a[PATH_MAX], b[PATH_MAX], d[PATH_MAX];
	char                 conf[PATH_MAX], tallyd[PATH_MAX], u[64];
	char                 bare[PATH_MAX], rm[PATH_MAX + 16];
	const char          *jsonout = getenv("TALLY_BENCH_JSON");
	double               scale = 1.0, t_push, t_pull, t_bare, t_aead;
	double               e2e, ops_push, ops_pull, raw_sql, raw_aead;
	double               med = 0, p99 = 0, imp;
	size_t               people, inter, ops;
	uint64_t             up_bytes, down_bytes;
	long                 rss_pull = 0, rss_push = 0;
	char(*pid)[33];
	FILE                *fp;
	pid_t                tpid;
	int                  ok = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc)
			scale = atof(argv[++i]);
		else if (strcmp(argv[i], "--edits") == 0 && i + 1 < argc)
			edits = atoi(argv[++i]);
		else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
			jsonout = argv[++i];
		else {
			fprintf(stderr, "usage: bench_sync [--scale F] "
			                "[--edits N] [--json FILE]\n");
			return (2);
		}
	}
	if (scale <= 0 || edits < 1 || edits > 2048 || sodium_init() < 0 ||
	    mkdtemp(tmpl) == NULL)
		return (2);
	people = (size_t) (100000 * scale);
	inter  = (size_t) (1000000 * scale);
	if (people < 10)
		people = 10;
	snprintf(a, sizeof a, "%s/a", tmpl);
	snprintf(b, sizeof b, "%s/b", tmpl);
	snprintf(d, sizeof d, "%s/network.json", tmpl);
	snprintf(bare, sizeof bare, "%s/bare.db", tmpl);
	dir_a = a;
	dir_b = b;
	dump  = d;
	if ((pid = calloc(people, sizeof *pid)) == NULL ||
	    write_dump(d, people, inter, pid) != 0) {
		fprintf(stderr, "bench_sync: cannot write %s\n", d);
		return (1);
	}
	/* tallyd: no rate limit, room for the whole log */
	tallyd_path(tallyd, sizeof tallyd, argv[0]);
	snprintf(u, sizeof u, "tcp://127.0.0.1:%d", free_port());
	url = u;
	snprintf(conf, sizeof conf, "%s/tallyd.conf", tmpl);
	if ((fp = fopen(conf, "w")) == NULL)
		return (1);
	fprintf(fp,
	    "[server]\nlisten = %s\ndata = %s\nlog_level = warning\n"
	    "[limits]\nrate = 0\nquota = 16G\n",
	    url, tmpl);
	fclose(fp);
	if ((tpid = fork()) == 0) {
		execl(tallyd, "tallyd", "--config", conf, (char *) NULL);
		perror(tallyd);
		_exit(127);
	}
	printf("bench_sync: %zu people, %zu interactions, over %s\n", people,
	    inter, url);
	if (child(phase_setup, &res, NULL) != 0) {
		fprintf(stderr, "bench_sync: %s\n", res.msg);
		ok = 0;
		goto out;
	}
	imp = res.secs;
	/* A pushes everything; B, just linked, pulls it. */
	if (child(push_a, &res, &rss_push) != 0) {
		fprintf(stderr, "bench_sync: push: %s\n", res.msg);
		ok = 0;
		goto out;
	}
	t_push   = res.secs;
	ops      = res.st.pushed;
	up_bytes = res.st.bytes_up;
	if (child(phase_link, &res, NULL) != 0) {
		fprintf(stderr, "bench_sync: %s\n", res.msg);
		ok = 0;
		goto out;
	}
	if (child(pull_b, &res, &rss_pull) != 0) {
		fprintf(stderr, "bench_sync: pull: %s\n", res.msg);
		ok = 0;
		goto out;
	}
	t_pull     = res.secs;
	down_bytes = res.st.bytes_down;
	if (res.st.pulled < ops) {
		fprintf(stderr, "bench_sync: B pulled %zu of %zu operations\n",
		    res.st.pulled, ops);
		ok = 0;
		goto out;
	}
	if (child(phase_edits, &res, NULL) != 0) {
		fprintf(stderr, "bench_sync: %s\n", res.msg);
		ok = 0;
		goto out;
	}
	qsort(res.lat, (size_t) res.nlat, sizeof res.lat[0], cmp_double);
	med = res.lat[res.nlat / 2];
	p99 = res.lat[(res.nlat * 99) / 100 < res.nlat ? (res.nlat * 99) / 100
	                                               : res.nlat - 1];
	/* The raw limits, same rows and same bytes. */
	t_bare = bare_inserts(bare, people, inter, pid);
	t_aead = aead_bytes(up_bytes);
	ops_push = (double) ops / t_push;
	ops_pull = (double) ops / t_pull;
	e2e      = (double) ops / (t_push + t_pull);
	raw_sql  = (double) (people + inter) / t_bare;
	raw_aead = (double) ops / t_aead;
	printf("\n%-34s %12s %-10s %-12s\n", "figure", "value", "unit",
	    "goal");
	printf("%-34s %12.0f %-10s\n", "setup: import json", imp * 1e3, "ms");
	printf("%-34s %12zu %-10s\n", "operations synced", ops, "ops");
	printf("%-34s %12.0f %-10s\n", "push (device A)", ops_push, "ops/s");
	printf("%-34s %12.0f %-10s\n", "pull (new device B)", ops_pull,
	    "ops/s");
	printf("%-34s %12.0f %-10s >= %.0f\n", "initial sync end to end", e2e,
	    "ops/s", GOAL_OPS);
	printf("%-34s %12.1f %-10s\n", "bytes on the wire, up",
	    (double) up_bytes / (double) ops, "B/op");
	printf("%-34s %12.1f %-10s\n", "bytes on the wire, down",
	    (double) down_bytes / (double) ops, "B/op");
	printf("%-34s %12.1f %-10s\n", "peak memory, pulling client",
	    (double) rss_pull / 1024.0, "MiB");
	printf("%-34s %12.1f %-10s\n", "peak memory, pushing client",
	    (double) rss_push / 1024.0, "MiB");
	printf("%-34s %12.1f %-10s\n", "one edit A -> B, median", med, "ms");
	printf("%-34s %12.1f %-10s\n", "one edit A -> B, p99", p99, "ms");
	printf("%-34s %12.0f %-10s\n", "raw: bare SQLite inserts", raw_sql,
	    "rows/s");
	printf("%-34s %12.0f %-10s\n", "raw: XChaCha20-Poly1305", raw_aead,
	    "ops/s");
	printf("%-34s %12.2f %-10s <= 3\n", "slower raw limit / end to end",
	    (raw_sql < raw_aead ? raw_sql : raw_aead) / e2e, "x");
	if (jsonout != NULL && (fp = fopen(jsonout, "w")) != NULL) {
		fprintf(fp,
		    "{\"bench\":\"sync\",\"scale\":%g,\"figures\":["
		    "{\"name\":\"initial sync end to end\",\"unit\":\"ops/s\","
		    "\"median\":%.1f,\"limit\":%.1f},"
		    "{\"name\":\"push\",\"unit\":\"ops/s\",\"median\":%.1f},"
		    "{\"name\":\"pull\",\"unit\":\"ops/s\",\"median\":%.1f},"
		    "{\"name\":\"bytes per op up\",\"unit\":\"B\","
		    "\"median\":%.1f},"
		    "{\"name\":\"bytes per op down\",\"unit\":\"B\","
		    "\"median\":%.1f},"
		    "{\"name\":\"peak memory pulling\",\"unit\":\"MiB\","
		    "\"median\":%.1f},"
		    "{\"name\":\"one edit median\",\"unit\":\"ms\","
		    "\"median\":%.2f},"
		    "{\"name\":\"one edit p99\",\"unit\":\"ms\","
		    "\"median\":%.2f},"
		    "{\"name\":\"raw sqlite inserts\",\"unit\":\"rows/s\","
		    "\"median\":%.1f},"
		    "{\"name\":\"raw aead\",\"unit\":\"ops/s\","
		    "\"median\":%.1f}]}\n",
		    scale, e2e, raw_sql < raw_aead ? raw_sql : raw_aead,
		    ops_push, ops_pull, (double) up_bytes / (double) ops,
		    (double) down_bytes / (double) ops,
		    (double) rss_pull / 1024.0, med, p99, raw_sql, raw_aead);
		fclose(fp);
	}
out:
	kill(tpid, SIGTERM);
	waitpid(tpid, NULL, 0);
	snprintf(rm, sizeof rm, "rm -rf '%s'", tmpl);
	if (system(rm) != 0)
		fprintf(stderr, "bench_sync: could not remove %s\n", tmpl);
	free(pid);
	return (ok ? 0 : 1);
}
