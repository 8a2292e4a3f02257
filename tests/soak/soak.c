/*
 * soak.c -- soak and load: many simulated clients against one tallyd on
 * loopback for a given time.
 *
 *   soak [--clients N] [--seconds S] [--think-ms MS] [--ramp-s S]
 *        [--tallyd PATH] [--samples FILE] [--keep]
 *
 * Starts the tallyd built next to this program (BUILD/server/tallyd, or
 * --tallyd, or $TALLYD) on a free tcp://127.0.0.1 port with a fresh data
 * directory and its default limits, then runs N clients (default 1000),
 * each a thread with its own connection and account, for S seconds
 * (default 600).  Clients join over the ramp (default S / 10, at most
 * 10 s) and register; each then waits a random think time (exponential,
 * mean MS, default 1000) and makes one request, in proportions: put 20%
 * (an envelope into another client's mailbox), list 10%, fetch 25% (one
 * envelope listed earlier), ack 10% (what it fetched), append 15% (its
 * own log), read 15% (the tail of its log), wait 5% (a 1 s long poll).
 * A fetch or ack with nothing to take becomes a list.  Clients retry
 * transient failures as the library does; what still fails is an error.
 *
 * Prints latency per request type (p50, p99, max; waits apart, as their
 * time is the poll's), errors by code with the first message of each,
 * and tallyd's memory (VmRSS, RssAnon, RssFile from /proc/PID/status)
 * sampled every S / 60 seconds (at least 1 s); --samples writes every
 * sample as "seconds rss_kb anon_kb file_kb requests".
 *
 * Fails (exit 1) when any request failed, when tallyd died, or when its
 * memory keeps growing.  The rule: the samples after warm-up (the first
 * third of the run) are cut into halves; the peak RssAnon of the second
 * half must stay within 10% + 4 MiB of the peak of the first.  RssAnon is
 * the heap: SQLite's page caches (2 MiB per connection), nng's buffers,
 * sessions.  File-backed pages (RssFile: the mapped WAL index, libraries)
 * are printed, not judged: the kernel may keep them as the database grows.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "relay_int.h"
#include "tly_err.h"

#define MAX_CLIENTS 20000
#define NBUCKETS 480 /* latency histogram: 5% steps from 1 us */
#define BUCKET_LOG 1.05
#define MAX_PENDING 16 /* envelope ids a client keeps to fetch */
#define MAX_SAMPLES 4096
#define NCODES 32
#define WAIT_SECS 1

enum op {
	OP_PUT,
	OP_LIST,
	OP_FETCH,
	OP_ACK,
	OP_APPEND,
	OP_READ,
	OP_WAIT,
	OP_REGISTER,
	NOPS
};

static const char *const op_names[NOPS] = { "put", "list", "fetch", "ack",
	"append", "read", "wait", "register" };
/* Out of 100; register is once per client. */
static const int op_weight[NOPS] = { 20, 10, 25, 10, 15, 15, 5, 0 };

struct client {
	int           n;
	unsigned char pk[32], sk[64];
	unsigned char pending[MAX_PENDING][32]; /* listed, to fetch */
	int           npending;
	unsigned char fetched[MAX_PENDING][32]; /* fetched, to ack */
	int           nfetched;
	uint64_t      mail_seq; /* highest seq listed */
	uint64_t      log_head;
	uint32_t      rng;
	_Atomic int   registered; /* others may put into its mailbox */
};

static struct {
	const char     *url;
	int             nclients;
	double          seconds, think_ms, ramp_s;
	struct client  *clients;
	_Atomic int     stop;
	double          t0;
	_Atomic int64_t hist[NOPS][NBUCKETS];
	_Atomic int64_t count[NOPS];
	_Atomic int64_t errors[NOPS];
	_Atomic int64_t max_us[NOPS];
	_Atomic int64_t code_count[NCODES];
	_Atomic int64_t wait_woken;
	_Atomic int     connected;
	pthread_mutex_t msg_lock;
	char            code_msg[NCODES][160]; /* first message: msg_lock */
} G;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double) ts.tv_sec + (double) ts.tv_nsec / 1e9);
}

static void
sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec  = (time_t) s;
	ts.tv_nsec = (long) ((s - (double) ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* xorshift32: each client its own, seeded from libsodium. */
static uint32_t
rnd(struct client *c)
{
	uint32_t x = c->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return (c->rng = x);
}

static double
unit_rand(struct client *c)
{
	return ((rnd(c) >> 8) / (double) (1u << 24));
}

static void
record(int op, double us)
{
	int     b = us < 1 ? 0 : (int) (log(us) / log(BUCKET_LOG));
	int64_t m = atomic_load(&G.max_us[op]);

	if (b >= NBUCKETS)
		b = NBUCKETS - 1;
	atomic_fetch_add(&G.hist[op][b], 1);
	atomic_fetch_add(&G.count[op], 1);
	while ((int64_t) us > m &&
	    !atomic_compare_exchange_weak(&G.max_us[op], &m, (int64_t) us))
		;
}

static void
error(int op, int rv, tly_relay *r)
{
	int code = rv > 0 && rv < NCODES ? rv : 0;

	atomic_fetch_add(&G.errors[op], 1);
	if (atomic_fetch_add(&G.code_count[code], 1) == 0) {
		pthread_mutex_lock(&G.msg_lock);
		snprintf(G.code_msg[code], sizeof G.code_msg[code], "%s: %s",
		    op_names[op], r != NULL ? tly_relay_errmsg(r) : "");
		pthread_mutex_unlock(&G.msg_lock);
	}
}

/* Percentile q (0..1) of op's histogram, in ms. */
static double
pct(int op, double q)
{
	int64_t n = atomic_load(&G.count[op]), k = 0;

	if (n == 0)
		return (0);
	for (int b = 0; b < NBUCKETS; b++) {
		k += atomic_load(&G.hist[op][b]);
		if ((double) k >= q * (double) n)
			return (pow(BUCKET_LOG, b + 0.5) / 1000.0);
	}
	return (atomic_load(&G.max_us[op]) / 1000.0);
}

static int
pick_op(struct client *c)
{
	int w = (int) (rnd(c) % 100), op;

	for (op = 0; op < NOPS; op++) {
		if (w < op_weight[op])
			break;
		w -= op_weight[op];
	}
	if (op == OP_FETCH && c->npending == 0)
		op = OP_LIST;
	if (op == OP_ACK && c->nfetched == 0)
		op = OP_LIST;
	return (op);
}

/* Whether id is one of the n in ids. */
static int
held(unsigned char (*ids)[32], int n, const unsigned char *id)
{
	for (int i = 0; i < n; i++)
		if (memcmp(ids[i], id, 32) == 0)
			return (1);
	return (0);
}

static int
do_op(struct client *c, tly_relay *r, int op)
{
	unsigned char           buf[1024], *env;
	struct tly_relay_mail  *items;
	struct tly_relay_entry *e;
	uint64_t                seq, mh, lh;
	size_t                  n, len;
	int                     more, rv;

	switch (op) {
	case OP_PUT: {
		struct client *to = &G.clients[rnd(c) % (uint32_t) G.nclients];

		if (!atomic_load(&to->registered))
			to = c; /* its account is not there yet */
		len = 128 + rnd(c) % (sizeof buf - 128);
		randombytes_buf(buf, len);
		return (tly_relay_put(r, to->pk, buf, len, NULL, NULL));
	}
	case OP_LIST:
		rv = tly_relay_list(r, 0, 100, &items, &n, &more);
		if (rv != 0)
			return (rv);
		c->npending = 0;
		for (size_t i = 0; i < n; i++) {
			if (items[i].seq > c->mail_seq)
				c->mail_seq = items[i].seq;
			if (c->npending < MAX_PENDING &&
			    !held(c->fetched, c->nfetched, items[i].id))
				memcpy(c->pending[c->npending++], items[i].id,
				    32);
		}
		free(items);
		return (0);
	case OP_FETCH:
		rv = tly_relay_fetch(
		    r, c->pending[c->npending - 1], &env, &len);
		if (rv != 0)
			return (rv);
		free(env);
		if (c->nfetched < MAX_PENDING)
			memcpy(c->fetched[c->nfetched++],
			    c->pending[c->npending - 1], 32);
		c->npending--;
		return (0);
	case OP_ACK:
		rv = tly_relay_ack(
		    r, &c->fetched[0][0], (size_t) c->nfetched, NULL);
		if (rv == 0)
			c->nfetched = 0;
		return (rv);
	case OP_APPEND:
		len = 64 + rnd(c) % 448;
		randombytes_buf(buf, len);
		rv = tly_relay_append(r, buf, len, &seq, NULL);
		if (rv == 0 && seq > c->log_head)
			c->log_head = seq;
		return (rv);
	case OP_READ:
		rv = tly_relay_read(r, c->log_head > 20 ? c->log_head - 20 : 0,
		    50, 64 << 10, &e, &n, &more);
		if (rv == 0)
			tly_relay_entries_free(e, n);
		return (rv);
	case OP_WAIT:
		rv = tly_relay_wait(
		    r, c->mail_seq, c->log_head, WAIT_SECS, &mh, &lh);
		if (rv == 0 && (mh > c->mail_seq || lh > c->log_head))
			atomic_fetch_add(&G.wait_woken, 1);
		return (rv);
	default:
		return (TALLY_EINVAL);
	}
}

static void *
client_main(void *arg)
{
	struct client        *c = arg;
	struct tly_relay_opts o;
	tly_relay            *r = NULL;
	double                t, start;
	int                   rv;

	/* Join somewhere in the ramp. */
	sleep_s(G.ramp_s * c->n / G.nclients);
	memset(&o, 0, sizeof o);
	o.timeout_ms = 10000;
	if ((rv = tly_relay_open(&r, G.url, &o)) != 0 ||
	    (rv = tly_relay_set_key(r, c->pk, c->sk)) != 0) {
		error(OP_REGISTER, rv, r);
		tly_relay_close(r);
		return (NULL);
	}
	start = now_s();
	if ((rv = tly_relay_register(r, NULL)) != 0) {
		error(OP_REGISTER, rv, r);
		tly_relay_close(r);
		return (NULL);
	}
	record(OP_REGISTER, (now_s() - start) * 1e6);
	atomic_store(&c->registered, 1);
	atomic_fetch_add(&G.connected, 1);
	while (!atomic_load(&G.stop)) {
		double think = -log(1.0 - unit_rand(c)) * G.think_ms / 1000.0;
		int    op;

		if (think > 10 * G.think_ms / 1000.0)
			think = 10 * G.think_ms / 1000.0;
		/* Sleep in slices so that the end is prompt. */
		for (t = 0; t < think && !atomic_load(&G.stop); t += 0.25)
			sleep_s(think - t < 0.25 ? think - t : 0.25);
		if (atomic_load(&G.stop))
			break;
		op    = pick_op(c);
		start = now_s();
		rv    = do_op(c, r, op);
		if (rv != 0)
			error(op, rv, r);
		else
			record(op, (now_s() - start) * 1e6);
	}
	tly_relay_close(r);
	return (NULL);
}

struct mem {
	double  t;
	long    rss, anon, file; /* kB */
	int64_t reqs;
};

static int
read_mem(pid_t pid, struct mem *m)
{
	char  path[64], line[256];
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	m->rss = m->anon = m->file = -1;
	while (fgets(line, sizeof line, fp) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			m->rss = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "RssAnon:", 8) == 0)
			m->anon = strtol(line + 8, NULL, 10);
		else if (strncmp(line, "RssFile:", 8) == 0)
			m->file = strtol(line + 8, NULL, 10);
	}
	fclose(fp);
	return (m->rss < 0 ? -1 : 0);
}

static int64_t
total_reqs(void)
{
	int64_t n = 0;

	for (int op = 0; op < NOPS; op++)
		n += atomic_load(&G.count[op]) + atomic_load(&G.errors[op]);
	return (n);
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
		perror("soak: port");
		exit(1);
	}
	port = ntohs(sa.sin_port);
	close(fd);
	return (port);
}

static void
tallyd_path(char *out, size_t n, const char *given)
{
	char    self[PATH_MAX];
	ssize_t k;

	if (given == NULL)
		given = getenv("TALLYD");
	if (given != NULL) {
		snprintf(out, n, "%s", given);
		return;
	}
	k = readlink("/proc/self/exe", self, sizeof self - 1);
	self[k > 0 ? k : 0] = '\0';
	snprintf(out, n, "%s/../../server/tallyd", dirname(self));
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: soak [--clients N] [--seconds S] [--think-ms MS] "
	    "[--ramp-s S]\n"
	    "            [--tallyd PATH] [--samples FILE] [--keep]\n");
	exit(2);
}

/* The memory rule (see the head of this file); 0 when it holds. */
static int
memory_verdict(const struct mem *s, int ns, double secs)
{
	long   peak1 = 0, peak2 = 0, first = -1;
	int    i, n1 = 0, n2 = 0;
	double w = secs / 3, mid = w + (secs - w) / 2;

	for (i = 0; i < ns; i++) {
		if (s[i].t < w)
			continue;
		if (first < 0)
			first = s[i].anon;
		if (s[i].t < mid) {
			n1++;
			if (s[i].anon > peak1)
				peak1 = s[i].anon;
		} else {
			n2++;
			if (s[i].anon > peak2)
				peak2 = s[i].anon;
		}
	}
	if (n1 == 0 || n2 == 0) {
		printf("memory: too few samples to judge growth\n");
		return (1);
	}
	printf("memory rule: peak RssAnon after warm-up, second half %ld kB "
	       "<= first half %ld kB + 10%% + 4096 kB: %s\n",
	    peak2, peak1,
	    peak2 <= peak1 + peak1 / 10 + 4096 ? "holds" : "BROKEN (growing)");
	return (peak2 <= peak1 + peak1 / 10 + 4096 ? 0 : 1);
}

int
main(int argc, char **argv)
{
	static struct mem samples[MAX_SAMPLES];
	const char       *tallyd_arg = NULL, *samples_path = NULL;
	char              dir[] = "/tmp/tly-soak-XXXXXX", conf[PATH_MAX + 32];
	char              url[64], tallyd[PATH_MAX], logp[PATH_MAX + 32];
	char              cmd[PATH_MAX + 64];
	struct rlimit     rl;
	pthread_attr_t    attr;
	pthread_t        *th;
	FILE             *fp;
	pid_t             pid;
	double            interval, next, t;
	int               keep = 0, ns = 0, fails = 0, status, dead = 0;
	int64_t           nerr = 0;

	G.nclients = 1000;
	G.seconds  = 600;
	G.think_ms = 1000;
	G.ramp_s   = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i],
		           *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--keep") == 0) {
			keep = 1;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--clients") == 0)
			G.nclients = atoi(v);
		else if (strcmp(a, "--seconds") == 0)
			G.seconds = atof(v);
		else if (strcmp(a, "--think-ms") == 0)
			G.think_ms = atof(v);
		else if (strcmp(a, "--ramp-s") == 0)
			G.ramp_s = atof(v);
		else if (strcmp(a, "--tallyd") == 0)
			tallyd_arg = v;
		else if (strcmp(a, "--samples") == 0)
			samples_path = v;
		else
			usage();
	}
	if (G.nclients < 1 || G.nclients > MAX_CLIENTS || G.seconds < 3 ||
	    G.think_ms < 1)
		usage();
	if (G.ramp_s < 0)
		G.ramp_s = G.seconds / 10 < 10 ? G.seconds / 10 : 10;
	if (sodium_init() < 0 || mkdtemp(dir) == NULL) {
		perror("soak: setup");
		return (1);
	}
	/* Two descriptors per client and some. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void) setrlimit(RLIMIT_NOFILE, &rl);
	}
	tallyd_path(tallyd, sizeof tallyd, tallyd_arg);
	snprintf(url, sizeof url, "tcp://127.0.0.1:%d", free_port());
	snprintf(conf, sizeof conf, "%s/tallyd.conf", dir);
	snprintf(logp, sizeof logp, "%s/tallyd.log", dir);
	if ((fp = fopen(conf, "w")) == NULL) {
		perror(conf);
		return (1);
	}
	/* Every simulated client signs in from the same loopback address:
	 * the per-address sign-in limit is off, as for a site behind one
	 * NAT address that raised it. */
	fprintf(fp,
	    "[server]\nlisten = %s\ndata = %s\nlog_level = warning\n"
	    "[limits]\nauth_rate = 0\n",
	    url, dir);
	fclose(fp);
	if ((pid = fork()) == 0) {
		FILE *lf = freopen(logp, "a", stderr);

		(void) lf;
		execl(tallyd, "tallyd", "--config", conf, (char *) NULL);
		perror(tallyd);
		_exit(127);
	}
	G.url     = url;
	G.clients = calloc((size_t) G.nclients, sizeof *G.clients);
	th        = calloc((size_t) G.nclients, sizeof *th);
	if (G.clients == NULL || th == NULL)
		return (1);
	pthread_mutex_init(&G.msg_lock, NULL);
	for (int i = 0; i < G.nclients; i++) {
		G.clients[i].n = i;
		crypto_sign_keypair(G.clients[i].pk, G.clients[i].sk);
		G.clients[i].rng = randombytes_random() | 1;
	}
	printf("soak: %d clients against %s (tallyd pid %d) for %.0f s, "
	       "think %.0f ms, ramp %.0f s\n",
	    G.nclients, url, (int) pid, G.seconds, G.think_ms, G.ramp_s);
	fflush(stdout);
	sleep_s(0.3); /* clients retry the connection anyway */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 << 10);
	G.t0 = now_s();
	for (int i = 0; i < G.nclients; i++)
		if (pthread_create(
		        &th[i], &attr, client_main, &G.clients[i]) != 0) {
			fprintf(stderr, "soak: cannot start client %d\n", i);
			atomic_store(&G.stop, 1);
			G.nclients = i;
			break;
		}
	interval = G.seconds / 60 < 1 ? 1 : G.seconds / 60;
	next     = 0;
	for (;;) {
		t = now_s() - G.t0;
		if (t >= G.seconds)
			break;
		if (t >= next && ns < MAX_SAMPLES) {
			struct mem *m = &samples[ns];

			if (read_mem(pid, m) != 0 ||
			    waitpid(pid, &status, WNOHANG) == pid) {
				fprintf(stderr, "soak: tallyd is gone\n");
				dead = 1;
				break;
			}
			m->t    = t;
			m->reqs = total_reqs();
			ns++;
			if (ns % 10 == 1)
				printf(
				    "  %5.0f s  %d connected  %lld requests  "
				    "RSS %ld kB (anon %ld, file %ld)\n",
				    t, atomic_load(&G.connected),
				    (long long) m->reqs, m->rss, m->anon,
				    m->file);
			fflush(stdout);
			next += interval;
		}
		sleep_s(0.1);
	}
	atomic_store(&G.stop, 1);
	for (int i = 0; i < G.nclients; i++)
		pthread_join(th[i], NULL);
	t = now_s() - G.t0;
	if (!dead && ns < MAX_SAMPLES && read_mem(pid, &samples[ns]) == 0) {
		samples[ns].t    = G.seconds;
		samples[ns].reqs = total_reqs();
		ns++;
	}

	printf("\n%-9s %9s %7s %9s %9s %9s\n", "request", "count", "errors",
	    "p50 ms", "p99 ms", "max ms");
	{
		int64_t all = 0;

		for (int op = 0; op < NOPS; op++) {
			printf("%-9s %9lld %7lld %9.3f %9.3f %9.1f\n",
			    op_names[op],
			    (long long) atomic_load(&G.count[op]),
			    (long long) atomic_load(&G.errors[op]),
			    pct(op, 0.50), pct(op, 0.99),
			    atomic_load(&G.max_us[op]) / 1000.0);
			nerr += atomic_load(&G.errors[op]);
			if (op < OP_WAIT) /* the "all" row below */
				all += atomic_load(&G.count[op]);
		}
		/* p50/p99 over every request but wait and register. */
		{
			int64_t k = 0, want50 = (all + 1) / 2,
			        want99 = (all * 99 + 99) / 100;
			double p50 = 0, p99 = 0;

			for (int b = 0; b < NBUCKETS && all > 0; b++) {
				for (int op = 0; op < OP_WAIT; op++)
					k += atomic_load(&G.hist[op][b]);
				if (p50 == 0 && k >= want50)
					p50 =
					    pow(BUCKET_LOG, b + 0.5) / 1000.0;
				if (p99 == 0 && k >= want99) {
					p99 =
					    pow(BUCKET_LOG, b + 0.5) / 1000.0;
					break;
				}
			}
			printf("%-9s %9lld %7s %9.3f %9.3f   (waits and "
			       "registrations apart)\n",
			    "all", (long long) all, "", p50, p99);
			printf("%.0f requests/s over %.0f s; %lld of %lld "
			       "waits (%d s) woken by new data\n",
			    (double) total_reqs() / t, t,
			    (long long) atomic_load(&G.wait_woken),
			    (long long) atomic_load(&G.count[OP_WAIT]),
			    WAIT_SECS);
		}
	}
	printf("errors by code:");
	if (nerr == 0)
		printf(" none\n");
	else {
		printf("\n");
		for (int c = 0; c < NCODES; c++)
			if (atomic_load(&G.code_count[c]) > 0)
				printf("  %-16s %6lld  first: %s\n",
				    tally_errname(c),
				    (long long) atomic_load(&G.code_count[c]),
				    G.code_msg[c]);
	}
	printf("tallyd memory (kB), every %.0f s:\n  %7s %8s %8s %8s\n",
	    interval, "seconds", "VmRSS", "RssAnon", "RssFile");
	for (int i = 0; i < ns; i++)
		if (i % ((ns + 11) / 12) == 0 || i == ns - 1)
			printf("  %7.0f %8ld %8ld %8ld\n", samples[i].t,
			    samples[i].rss, samples[i].anon, samples[i].file);
	if (samples_path != NULL && (fp = fopen(samples_path, "w")) != NULL) {
		fprintf(fp, "# seconds rss_kb anon_kb file_kb requests\n");
		for (int i = 0; i < ns; i++)
			fprintf(fp, "%.1f %ld %ld %ld %lld\n", samples[i].t,
			    samples[i].rss, samples[i].anon, samples[i].file,
			    (long long) samples[i].reqs);
		fclose(fp);
	}
	if (!dead)
		fails |= memory_verdict(samples, ns, G.seconds);
	if (atomic_load(&G.connected) < G.nclients) {
		printf("only %d of %d clients connected\n",
		    atomic_load(&G.connected), G.nclients);
		fails = 1;
	}
	if (nerr > 0 || dead)
		fails = 1;
	if (!dead) {
		kill(pid, SIGTERM);
		if (waitpid(pid, &status, 0) == pid &&
		    (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
			printf("tallyd exited with status %d on SIGTERM\n",
			    status);
			fails = 1;
		}
	}
	if (fails) {
		snprintf(cmd, sizeof cmd, "tail -20 '%s' >&2", logp);
		if (system(cmd) != 0)
			fprintf(stderr, "(no tallyd log)\n");
	}
	if (!keep) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "soak: could not remove %s\n", dir);
	} else
		printf("data kept in %s\n", dir);
	printf("soak: %s\n", fails ? "FAILED" : "passed");
	free(th);
	free(G.clients);
	return (fails);
}
