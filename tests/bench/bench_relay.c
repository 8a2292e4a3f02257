/*
 * bench_relay.c -- tallyd throughput and latency over loopback tcp://.
 *
 *   bench_relay [SECONDS [ONLY]]    (default 3 s per measurement)
 *
 * Starts the tallyd next to this program (BUILD/server/tallyd, or
 * $TALLYD) in a temporary directory, then measures with 1, 16 and 64
 * concurrent clients: durable puts (acknowledged after a synchronous=FULL
 * group commit), fetches, and, for the transport's limit, a bare nng
 * REQ/REP echo server (contexts and aio, in this process) with replies of
 * the fetch's size.  Last, the resident memory of tallyd with 1000
 * connected clients.  "tallyd us" is tallyd's CPU time (user + system, all
 * threads) per request, "bench us" this program's (the clients, and for
 * echo the echo server too): unlike the rates, they move little when other
 * programs share the cores.  Prints a table; with $TALLY_BENCH_JSON, writes
 * the figures there too.  ONLY ("put", "fetch:64", ":16", ...) measures just
 * the matching figures (for profiling), and skips the memory figure.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <fcntl.h>
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
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>
#include <sodium.h>

#include "bench_json.h"
#include "relay_int.h"

#define ENV_BYTES 256
#define MAX_LAT 2000000
#define ECHO_WORKS 128
#define IDLE_CONNS 1000

enum { OP_PUT, OP_FETCH, OP_PUTNODB, OP_ECHO, NOPS };

struct result {
	double ops, p50, p99;
	double cpu_us;   /* tallyd's CPU time (user + system) per request */
	double bench_us; /* this program's: clients (and the echo server) */
	double batch;    /* put: operations per commit */
};

struct job {
	int           op;
	const char   *url;
	unsigned char pk[32], sk[64];
	unsigned char ids[64][32]; /* envelopes to fetch */
	int           nids;
	_Atomic int  *stop;
	float        *lat; /* microseconds */
	size_t        nlat, cap;
	int           errors;
};

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3);
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

/* The bare echo server: nng's aio/ctx pattern, no work per request. */
struct echo {
	nng_aio *aio;
	nng_ctx  ctx;
	int      sending;
};

static void
echo_cb(void *arg)
{
	struct echo *e = arg;
	nng_msg     *m;

	if (nng_aio_result(e->aio) != 0) {
		if (e->sending)
			nng_msg_free(nng_aio_get_msg(e->aio));
		if (nng_aio_result(e->aio) == NNG_ECLOSED)
			return;
		e->sending = 0;
		nng_ctx_recv(e->ctx, e->aio);
		return;
	}
	if (e->sending) {
		e->sending = 0;
		nng_ctx_recv(e->ctx, e->aio);
		return;
	}
	m = nng_aio_get_msg(e->aio);
	nng_aio_set_msg(e->aio, m);
	e->sending = 1;
	nng_ctx_send(e->ctx, e->aio);
}

static void *
worker(void *arg)
{
	struct job           *j = arg;
	struct tly_relay_opts o;
	tly_relay            *r = NULL;
	nng_socket            s;
	unsigned char         env[ENV_BYTES + 64], *got;
	size_t                gotlen;
	uint64_t              n = 0;
	double                t0;
	int                   rv;

	memset(&o, 0, sizeof o);
	o.timeout_ms = 10000;
	o.retries    = -1;
	if (j->op == OP_ECHO) {
		if (nng_req0_open(&s) != 0 ||
		    nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 1 << 20) != 0 ||
		    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000) != 0 ||
		    nng_dial(s, j->url, NULL, 0) != 0) {
			j->errors++;
			return (NULL);
		}
	} else {
		if (tly_relay_open(&r, j->url, &o) != 0 ||
		    tly_relay_set_key(r, j->pk, j->sk) != 0 ||
		    tly_relay_auth(r) != 0) {
			j->errors++;
			tly_relay_close(r);
			return (NULL);
		}
	}
	randombytes_buf(env, sizeof env);
	while (!atomic_load(j->stop) && j->nlat < j->cap) {
		t0 = now_us();
		if (j->op == OP_PUT || j->op == OP_PUTNODB) {
			memcpy(env, &n, sizeof n); /* each envelope new */
			n++;
			rv = tly_relay_put(
			    r, j->pk, env, ENV_BYTES, NULL, NULL);
		} else if (j->op == OP_FETCH) {
			rv = tly_relay_fetch(r,
			    j->ids[n++ % (uint64_t) j->nids], &got, &gotlen);
			if (rv == 0)
				free(got);
		} else {
			nng_msg *m;

			/* Same size as a fetch reply of ENV_BYTES. */
			rv = nng_msg_alloc(&m, 0);
			if (rv == 0 &&
			    (rv = nng_msg_append(m, env, ENV_BYTES + 68)) ==
			        0 &&
			    (rv = nng_sendmsg(s, m, 0)) == 0 &&
			    (rv = nng_recvmsg(s, &m, 0)) == 0)
				nng_msg_free(m);
		}
		if (rv != 0) {
			j->errors++;
			continue;
		}
		j->lat[j->nlat++] = (float) (now_us() - t0);
	}
	if (j->op == OP_ECHO)
		nng_close(s);
	tly_relay_close(r);
	return (NULL);
}

static int
cmp_float(const void *a, const void *b)
{
	float x = *(const float *) a, y = *(const float *) b;

	return ((x > y) - (x < y));
}

/* User + system CPU time of a process so far, in microseconds. */
static double
cpu_us(pid_t pid)
{
	char               path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE              *fp;
	size_t             n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
	if ((fp = fopen(path, "r")) == NULL)
		return (0);
	n      = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	/* Fields 14 and 15, counted after the ")" that ends the name. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2,
	        "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
	        &st) != 2)
		return (0);
	return ((double) (ut + st) * 1e6 / (double) sysconf(_SC_CLK_TCK));
}

static struct result
run(int op, const char *url, struct job *jobs, int nclients, double secs,
    pid_t pid)
{
	pthread_t     th[64];
	_Atomic int   stop = 0;
	struct result res;
	size_t        total = 0, k = 0;
	float        *all;
	double        t0, t1, c0, c1, b0, b1;
	int           i, errors = 0;

	for (i = 0; i < nclients; i++) {
		jobs[i].op   = op;
		jobs[i].url  = url;
		jobs[i].stop = &stop;
		jobs[i].nlat = 0;
		pthread_create(&th[i], NULL, worker, &jobs[i]);
	}
	c0 = cpu_us(pid);
	b0 = cpu_us(getpid());
	t0 = now_us();
	nng_msleep((nng_duration) (secs * 1000));
	atomic_store(&stop, 1);
	for (i = 0; i < nclients; i++)
		pthread_join(th[i], NULL);
	t1 = now_us();
	c1 = cpu_us(pid);
	b1 = cpu_us(getpid());
	for (i = 0; i < nclients; i++) {
		total += jobs[i].nlat;
		errors += jobs[i].errors;
		jobs[i].errors = 0;
	}
	all = malloc((total + 1) * sizeof *all);
	for (i = 0; i < nclients; i++) {
		memcpy(all + k, jobs[i].lat, jobs[i].nlat * sizeof *all);
		k += jobs[i].nlat;
	}
	qsort(all, total, sizeof *all, cmp_float);
	res.ops = (double) total / ((t1 - t0) / 1e6);
	res.p50 = total ? all[total / 2] / 1000.0 : 0;
	res.p99 = total ? all[(total * 99) / 100] / 1000.0 : 0;
	res.cpu_us   = total && op != OP_ECHO ? (c1 - c0) / (double) total : 0;
	res.bench_us = total ? (b1 - b0) / (double) total : 0;
	free(all);
	if (errors > 0)
		fprintf(stderr, "  (%d errors)\n", errors);
	return (res);
}

static const char *const op_names[NOPS] = { "put", "fetch", "put-nodb",
	"echo" };

/* Whether ONLY ("put", "put:64", ":64"; NULL: all) asks for this
 * figure. */
static int
wanted(const char *only, int op, int clients)
{
	size_t n;

	if (only == NULL)
		return (1);
	n = strcspn(only, ":");
	if (n > 0 &&
	    (strlen(op_names[op]) != n || strncmp(only, op_names[op], n) != 0))
		return (0);
	return (only[n] == '\0' || atoi(only + n + 1) == clients);
}

/* Picks the echo server's address. */
static const char *
eurl_set(char *url, size_t n)
{
	snprintf(url, n, "tcp://127.0.0.1:%d", free_port());
	return (url);
}

static long
rss_kb(pid_t pid)
{
	char  path[64], line[256];
	FILE *fp;
	long  kb = -1;

	snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof line, fp) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(fp);
	return (kb);
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

/* A tallyd of its own in dir/name: returns its pid; url is filled. */
static pid_t
start_tallyd(const char *tallyd, const char *dir, const char *name,
    const char *extra, char *url, size_t urlsz, char *conf, size_t confsz)
{
	char  data[PATH_MAX];
	FILE *fp;
	pid_t pid;

	snprintf(url, urlsz, "tcp://127.0.0.1:%d", free_port());
	snprintf(data, sizeof data, "%s/%s", dir, name);
	snprintf(conf, confsz, "%s/%s.conf", dir, name);
	if ((fp = fopen(conf, "w")) == NULL) {
		perror(conf);
		exit(1);
	}
	fprintf(fp,
	    "[server]\nlisten = %s\ndata = %s\nlog_level = warning\n"
	    "[limits]\nrate = 0\nauth_rate = 0\nquota = 8G\n%s",
	    url, data, extra);
	fclose(fp);
	if ((pid = fork()) == 0) {
		execl(tallyd, "tallyd", "--config", conf, (char *) NULL);
		perror(tallyd);
		_exit(127);
	}
	return (pid);
}

/* Registers the accounts of jobs at url (and, with ids, puts the
 * envelopes that fetch will ask for).  0 or -1. */
static int
prepare(const char *url, struct job *jobs, int ids)
{
	for (int i = 0; i < 64; i++) {
		struct tly_relay_opts o;
		tly_relay            *r;

		memset(&o, 0, sizeof o);
		o.retries    = 20;
		o.backoff_ms = 50;
		if (tly_relay_open(&r, url, &o) != 0 ||
		    tly_relay_set_key(r, jobs[i].pk, jobs[i].sk) != 0 ||
		    tly_relay_register(r, NULL) != 0) {
			fprintf(stderr,
			    "bench_relay: cannot register with %s: %s\n", url,
			    r != NULL ? tly_relay_errmsg(r) : "");
			tly_relay_close(r);
			return (-1);
		}
		if (ids)
			jobs[i].nids = 0;
		for (int k = 0; ids && k < 64; k++) {
			unsigned char env[ENV_BYTES];

			randombytes_buf(env, sizeof env);
			if (tly_relay_put(r, jobs[i].pk, env, sizeof env,
			        jobs[i].ids[jobs[i].nids], NULL) == 0)
				jobs[i].nids++;
		}
		tly_relay_close(r);
	}
	return (0);
}

/* Transactions and operations committed so far (tallyd stats). */
static void
commits(const char *tallyd, const char *conf, double *tx, double *ops)
{
	char  cmd[3 * PATH_MAX], line[256];
	FILE *fp;

	*tx = *ops = 0;
	snprintf(cmd, sizeof cmd, "'%s' --config '%s' stats", tallyd, conf);
	if ((fp = popen(cmd, "r")) == NULL)
		return;
	while (fgets(line, sizeof line, fp) != NULL) {
		if (strncmp(line, "tallyd_commits_total ", 21) == 0)
			*tx = atof(line + 21);
		else if (strncmp(line, "tallyd_committed_ops_total ", 27) == 0)
			*ops = atof(line + 27);
	}
	if (pclose(fp) != 0)
		fprintf(stderr, "bench_relay: tallyd stats failed\n");
}

int
main(int argc, char **argv)
{
	static struct job jobs[64];
	struct echo       echo[ECHO_WORKS];
	struct rlimit     rl;
	struct result     res[3][NOPS];
	const int         conc[3] = { 1, 16, 64 };
	char              dir[]   = "/tmp/tly-bench-XXXXXX";
	char              conf[PATH_MAX], nconf[PATH_MAX], cmd[PATH_MAX + 16];
	char              url[64], nurl[64], eurl[64], tallyd[PATH_MAX];
	double            secs = argc > 1 ? atof(argv[1]) : 3.0;
	double            tx0, tx1, ops0, ops1;
	const char       *only = argc > 2 ? argv[2] : NULL;
	nng_socket        es;
	tly_relay        *idle[IDLE_CONNS];
	pid_t             pid, npid;
	long              rss0, rss1;
	int               i, c, nidle = 0;

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return (1);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void) setrlimit(RLIMIT_NOFILE, &rl);
	}
	tallyd_path(tallyd, sizeof tallyd, argv[0]);
	/* The relay, and one that answers puts without storing them: the
	 * same path through nng, the front end and the writer thread, no
	 * SQLite. */
	pid = start_tallyd(
	    tallyd, dir, "relay", "", url, sizeof url, conf, sizeof conf);
	npid = start_tallyd(tallyd, dir, "nodb",
	    "[testing]\ndiscard_writes = yes\n", nurl, sizeof nurl, nconf,
	    sizeof nconf);
	for (i = 0; i < 64; i++) {
		crypto_sign_keypair(jobs[i].pk, jobs[i].sk);
		jobs[i].cap = MAX_LAT / 64;
		jobs[i].lat = malloc(jobs[i].cap * sizeof *jobs[i].lat);
	}
	if (prepare(url, jobs, 1) != 0 || prepare(nurl, jobs, 0) != 0) {
		kill(pid, SIGKILL);
		kill(npid, SIGKILL);
		return (1);
	}
	/* The bare echo server. */
	nng_rep0_open(&es);
	nng_socket_set_size(es, NNG_OPT_RECVMAXSZ, 1 << 20);
	for (i = 0; i < ECHO_WORKS; i++) {
		nng_aio_alloc(&echo[i].aio, echo_cb, &echo[i]);
		nng_ctx_open(&echo[i].ctx, es);
		echo[i].sending = 0;
	}
	if (nng_listen(es, eurl_set(eurl, sizeof eurl), NULL, 0) != 0)
		return (1);
	for (i = 0; i < ECHO_WORKS; i++)
		nng_ctx_recv(echo[i].ctx, echo[i].aio);

	memset(res, 0, sizeof res);
	for (c = 0; c < 3; c++) {
		for (i = 0; i < NOPS; i++) {
			if (!wanted(only, i, conc[c]))
				continue;
			if (i == OP_PUT)
				commits(tallyd, conf, &tx0, &ops0);
			res[c][i] = run(i,
			    i == OP_ECHO          ? eurl
			        : i == OP_PUTNODB ? nurl
			                          : url,
			    jobs, conc[c], secs,
			    i == OP_ECHO          ? 0
			        : i == OP_PUTNODB ? npid
			                          : pid);
			if (i == OP_PUT) {
				commits(tallyd, conf, &tx1, &ops1);
				if (tx1 > tx0)
					res[c][i].batch =
					    (ops1 - ops0) / (tx1 - tx0);
			}
		}
	}
	/* Memory with 1000 connected (authenticated) clients. */
	rss0 = rss_kb(pid);
	for (i = 0; i < (only != NULL ? 0 : IDLE_CONNS); i++) {
		struct tly_relay_opts o;

		memset(&o, 0, sizeof o);
		o.retries = 5;
		if (tly_relay_open(&idle[nidle], url, &o) != 0)
			break;
		if (tly_relay_set_key(
		        idle[nidle], jobs[i % 64].pk, jobs[i % 64].sk) != 0 ||
		    tly_relay_auth(idle[nidle]) != 0) {
			tly_relay_close(idle[nidle]);
			break;
		}
		nidle++;
	}
	rss1 = rss_kb(pid);

	printf("tallyd over %s, %d-byte envelopes, %.0f s per figure; "
	       "put-nodb: puts answered without SQLite\n",
	    url, ENV_BYTES, secs);
	printf("%-8s %8s %10s %9s %9s %10s %9s %7s\n", "clients", "op",
	    "req/s", "p50 ms", "p99 ms", "tallyd us", "bench us", "ops/tx");
	for (c = 0; c < 3; c++) {
		for (i = 0; i < NOPS; i++) {
			if (!wanted(only, i, conc[c]))
				continue;
			printf("%-8d %8s %10.0f %9.3f %9.3f", conc[c],
			    op_names[i], res[c][i].ops, res[c][i].p50,
			    res[c][i].p99);
			if (i == OP_ECHO)
				printf(" %10s", "-");
			else
				printf(" %10.1f", res[c][i].cpu_us);
			printf(" %9.1f", res[c][i].bench_us);
			if (i == OP_PUT)
				printf(" %7.1f", res[c][i].batch);
			printf("\n");
		}
	}
	printf("tallyd RSS: %ld kB before, %ld kB with %d connected clients\n",
	    rss0, rss1, nidle);
	/* The figures (bench_json.h): the raw limit of each is the bare
	 * echo at the same number of clients. */
	for (c = 0; c < 3; c++) {
		bench_fig_clients("put", conc[c], "ops/s", res[c][OP_PUT].ops,
		    "bare nng echo", res[c][OP_ECHO].ops);
		bench_fig_clients("put p50", conc[c], "ms", res[c][OP_PUT].p50,
		    "bare nng echo p50", res[c][OP_ECHO].p50);
		bench_fig_clients("put p99", conc[c], "ms", res[c][OP_PUT].p99,
		    "bare nng echo p99", res[c][OP_ECHO].p99);
		bench_fig_clients("fetch", conc[c], "ops/s",
		    res[c][OP_FETCH].ops, "bare nng echo",
		    res[c][OP_ECHO].ops);
		bench_fig_clients("fetch p50", conc[c], "ms",
		    res[c][OP_FETCH].p50, "bare nng echo p50",
		    res[c][OP_ECHO].p50);
		bench_fig_clients("fetch p99", conc[c], "ms",
		    res[c][OP_FETCH].p99, "bare nng echo p99",
		    res[c][OP_ECHO].p99);
	}
	bench_fig("tallyd RSS, 1000 clients connected", "MB",
	    (double) rss1 / 1024.0, NULL, 0);
	if (bench_json_write("relay", NULL) != 0)
		fprintf(stderr, "bench_relay: could not write the figures\n");
	for (i = 0; i < nidle; i++)
		tly_relay_close(idle[i]);
	kill(pid, SIGTERM);
	kill(npid, SIGTERM);
	waitpid(pid, NULL, 0);
	waitpid(npid, NULL, 0);
	nng_close(es);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return (0);
}
