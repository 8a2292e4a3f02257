/*
 * faultload.c -- the relay workload of the fault injection scripts
 * (tests/fault/relay.sh, diskfull.sh): writers that remember every write
 * the relay acknowledged, and the check that each one is still there.
 *
 *   faultload port                    a free tcp port on 127.0.0.1
 *   faultload ping URL MS             exit 0 once the relay answers
 *   faultload setup DIR URL N         N accounts: keys in DIR/keys
 *   faultload write DIR URL SECONDS   one writer per account
 *   faultload fill DIR URL            one writer until the relay refuses
 *   faultload drain DIR URL           empty account 1's mailbox
 *   faultload check DIR URL           every acknowledged write present?
 *   faultload integrity DB            PRAGMA integrity_check, read-only
 *
 * write: each writer appends entries to its account's log and puts
 * envelopes into the next account's mailbox, until SECONDS pass or
 * SIGTERM.  A write the relay acknowledged is journaled at once in
 * DIR/journal.I with one write(2) ("L SEQ HASH" for a log entry, "M ID"
 * for an envelope), so a journal line means "acknowledged", even if this
 * process is killed a moment later.  A write that fails (the relay is
 * down, restarting, refusing) is counted and retried as a new write; it
 * was never acknowledged, so it may or may not be stored.
 *
 * fill: account 0 puts 16 KiB envelopes into account 1's mailbox until
 * the relay refuses one (or 20,000 were stored), journaled as by write;
 * prints the refusal's code and message; exit 0 when the refusal was an
 * error reply from a running relay (not a timeout or a lost connection).
 * drain: account 1 deletes everything in its mailbox (freeing its quota);
 * account 0's journal is set aside as journal.0.drained.
 *
 * check: reads every account's log and lists every mailbox, and checks
 * each journal line: a log entry at its sequence number with the same
 * BLAKE2b-256, an envelope with its id in the mailbox.  Prints "acknowledged
 * N, lost M"; exit 1 when M > 0 or the relay cannot be read.
 *
 * Exit status: 0 success, 1 failure, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include <sqlite3.h>

#include "relay_int.h"
#include "tly_err.h"

#define MAX_ACCTS 64
#define KEY_BYTES 96 /* pk 32 || sk 64 */
#define FILL_ENTRY (16 << 10)
#define FILL_MAX 20000

struct acct {
	int           n;
	unsigned char pk[32], sk[64];
	int           journal; /* fd */
	long          acked, failed;
};

static struct acct     accts[MAX_ACCTS];
static int             naccts;
static const char     *dir, *url;
static volatile double deadline;
static _Atomic int     stop;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double) ts.tv_sec + (double) ts.tv_nsec / 1e9);
}

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
on_term(int sig)
{
	(void) sig;
	atomic_store(&stop, 1);
}

static void
hex(char *out, const unsigned char *p, size_t n)
{
	sodium_bin2hex(out, n * 2 + 1, p, n);
}

static int
load_keys(void)
{
	char          path[4096];
	unsigned char k[KEY_BYTES];
	FILE         *fp;

	snprintf(path, sizeof path, "%s/keys", dir);
	if ((fp = fopen(path, "rb")) == NULL) {
		perror(path);
		return (-1);
	}
	while (naccts < MAX_ACCTS && fread(k, 1, sizeof k, fp) == sizeof k) {
		accts[naccts].n = naccts;
		memcpy(accts[naccts].pk, k, 32);
		memcpy(accts[naccts].sk, k + 32, 64);
		naccts++;
	}
	sodium_memzero(k, sizeof k);
	fclose(fp);
	if (naccts == 0) {
		fprintf(stderr, "faultload: no keys in %s\n", path);
		return (-1);
	}
	return (0);
}

static tly_relay *
client(const struct acct *a, int retries, int timeout_ms)
{
	struct tly_relay_opts o;
	tly_relay            *r;

	memset(&o, 0, sizeof o);
	o.retries    = retries;
	o.timeout_ms = timeout_ms;
	o.backoff_ms = 50;
	if (tly_relay_open(&r, url, &o) != 0)
		return (NULL);
	if (tly_relay_set_key(r, a->pk, a->sk) != 0) {
		tly_relay_close(r);
		return (NULL);
	}
	return (r);
}

static int
journal(struct acct *a, const char *line)
{
	size_t n = strlen(line);

	if (write(a->journal, line, n) != (ssize_t) n) {
		perror("faultload: journal");
		exit(1);
	}
	a->acked++;
	return (0);
}

static int
open_journal(struct acct *a)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/journal.%d", dir, a->n);
	a->journal = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (a->journal < 0) {
		perror(path);
		return (-1);
	}
	return (0);
}

static void *
writer(void *arg)
{
	struct acct  *a  = arg;
	struct acct  *to = &accts[(a->n + 1) % naccts];
	tly_relay    *r  = client(a, 2, 1000);
	unsigned char buf[2048], h[32], id[32];
	char          line[160], hx[65];
	uint64_t      seq;
	long          i = 0;
	size_t        len;

	if (r == NULL) {
		fprintf(stderr, "faultload: no client for %d\n", a->n);
		return (NULL);
	}
	while (!atomic_load(&stop) && now_s() < deadline) {
		len = 64 + randombytes_uniform(sizeof buf - 64);
		randombytes_buf(buf, len);
		if (snprintf((char *) buf, 48, "acct %d write %ld", a->n,
		        i++) >= 48)
			continue; /* cannot happen: a label, for a reader */
		if (tly_relay_append(r, buf, len, &seq, NULL) == 0) {
			crypto_generichash(h, 32, buf, len, NULL, 0);
			hex(hx, h, 32);
			snprintf(line, sizeof line, "L %llu %s\n",
			    (unsigned long long) seq, hx);
			journal(a, line);
		} else {
			a->failed++;
			msleep(20);
		}
		buf[0] ^= 0x5a; /* another envelope */
		if (tly_relay_put(r, to->pk, buf, len, id, NULL) == 0) {
			hex(hx, id, 32);
			snprintf(line, sizeof line, "M %s\n", hx);
			journal(a, line);
		} else {
			a->failed++;
			msleep(20);
		}
	}
	tly_relay_close(r);
	return (NULL);
}

static int
cmd_setup(int n)
{
	char          path[4096];
	unsigned char k[KEY_BYTES];
	FILE         *fp;
	int           rv;

	if (n < 2 || n > MAX_ACCTS) {
		fprintf(stderr, "faultload: 2 to %d accounts\n", MAX_ACCTS);
		return (2);
	}
	snprintf(path, sizeof path, "%s/keys", dir);
	if ((fp = fopen(path, "wb")) == NULL) {
		perror(path);
		return (1);
	}
	for (int i = 0; i < n; i++) {
		crypto_sign_keypair(k, k + 32);
		fwrite(k, 1, sizeof k, fp);
	}
	sodium_memzero(k, sizeof k);
	if (fclose(fp) != 0 || load_keys() != 0)
		return (1);
	for (int i = 0; i < naccts; i++) {
		tly_relay *r = client(&accts[i], 30, 2000);

		if (r == NULL || (rv = tly_relay_register(r, NULL)) != 0) {
			fprintf(stderr, "faultload: register: %s\n",
			    r != NULL ? tly_relay_errmsg(r) : "no client");
			tly_relay_close(r);
			return (1);
		}
		tly_relay_close(r);
	}
	return (0);
}

static int
cmd_write(double secs)
{
	pthread_t th[MAX_ACCTS];
	long      acked = 0, failed = 0;

	if (load_keys() != 0)
		return (1);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	deadline = now_s() + secs;
	for (int i = 0; i < naccts; i++)
		if (open_journal(&accts[i]) != 0)
			return (1);
	for (int i = 0; i < naccts; i++)
		pthread_create(&th[i], NULL, writer, &accts[i]);
	for (int i = 0; i < naccts; i++) {
		pthread_join(th[i], NULL);
		acked += accts[i].acked;
		failed += accts[i].failed;
		close(accts[i].journal);
	}
	printf("writers: %d, acknowledged %ld, failed %ld\n", naccts, acked,
	    failed);
	return (0);
}

static int
cmd_fill(void)
{
	struct acct  *a = &accts[0];
	tly_relay    *r;
	unsigned char buf[FILL_ENTRY], id[32];
	char          line[160], hx[65];
	int           rv = 0, i;

	if (load_keys() != 0 || open_journal(a) != 0)
		return (1);
	if ((r = client(a, 1, 5000)) == NULL)
		return (1);
	for (i = 0; i < FILL_MAX; i++) {
		randombytes_buf(buf, sizeof buf);
		if ((rv = tly_relay_put(
		         r, accts[1].pk, buf, sizeof buf, id, NULL)) != 0)
			break;
		hex(hx, id, 32);
		snprintf(line, sizeof line, "M %s\n", hx);
		journal(a, line);
	}
	close(a->journal);
	if (rv == 0) {
		printf("fill: %d envelopes stored, no refusal\n", i);
		tly_relay_close(r);
		return (1);
	}
	printf("fill: %ld envelopes stored, then refused: %s (%s)\n", a->acked,
	    tly_relay_errmsg(r), tally_errname(rv));
	tly_relay_close(r);
	/* A refusal is an answer; a timeout or no connection is not. */
	return (rv == TALLY_ETIMEDOUT || rv == TALLY_ECONNREF ? 1 : 0);
}

static int
cmd_drain(void)
{
	struct tly_relay_mail *items;
	tly_relay             *r;
	static unsigned char   ids[256][32];
	size_t                 n;
	char                   from[4096], to[4096 + 16];
	unsigned               deleted, total = 0;
	int                    more = 1, rv = 0;

	if (load_keys() != 0 || (r = client(&accts[1], 3, 5000)) == NULL)
		return (1);
	while (more && rv == 0) {
		if ((rv = tly_relay_list(r, 0, 256, &items, &n, &more)) != 0 ||
		    n == 0)
			break;
		for (size_t i = 0; i < n; i++)
			memcpy(ids[i], items[i].id, 32);
		free(items);
		if ((rv = tly_relay_ack(r, &ids[0][0], n, &deleted)) == 0)
			total += deleted;
	}
	if (rv != 0) {
		fprintf(stderr, "drain: %s\n", tly_relay_errmsg(r));
		tly_relay_close(r);
		return (1);
	}
	tly_relay_close(r);
	/* What account 0 put there is gone on purpose. */
	snprintf(from, sizeof from, "%s/journal.0", dir);
	snprintf(to, sizeof to, "%s.drained", from);
	(void) rename(from, to);
	printf("drain: %u envelopes deleted\n", total);
	return (0);
}

struct seen {
	unsigned char h[32];
};

static int
cmp_id(const void *a, const void *b)
{
	return (memcmp(a, b, 32));
}

static int
cmd_check(void)
{
	long   acked = 0, lost = 0, nlog = 0, nmail = 0;
	int    bad = 0;
	size_t i, n;

	if (load_keys() != 0)
		return (1);
	for (int k = 0; k < naccts; k++) {
		struct acct *a    = &accts[k];
		struct acct *from = &accts[(k + naccts - 1) % naccts];
		tly_relay   *r    = client(a, 10, 5000);
		struct tly_relay_entry *e;
		struct tly_relay_mail  *items;
		struct seen            *log = NULL, *mail = NULL;
		size_t                  nl = 0, nm = 0;
		uint64_t                after = 0;
		int                     more = 1, rv = 0;
		char                    path[4096], line[256];
		FILE                   *fp;

		if (r == NULL)
			return (1);
		/* The whole log: entry seq at log[seq - 1]. */
		while (more && rv == 0) {
			rv = tly_relay_read(r, after, 500, 0, &e, &n, &more);
			if (rv != 0 || n == 0)
				break;
			if ((log = realloc(log, (nl + n) * sizeof *log)) ==
			    NULL) {
				fprintf(stderr, "faultload: out of memory\n");
				exit(1);
			}
			for (i = 0; i < n; i++) {
				if (e[i].seq != nl + 1) {
					fprintf(stderr,
					    "account %d: log seq %llu at "
					    "%zu\n",
					    k, (unsigned long long) e[i].seq,
					    nl + 1);
					bad = 1;
				}
				crypto_generichash(log[nl].h, 32, e[i].data,
				    e[i].len, NULL, 0);
				nl++;
				after = e[i].seq;
			}
			tly_relay_entries_free(e, n);
		}
		/* The whole mailbox (ids, sorted). */
		after = 0;
		more  = 1;
		while (more && rv == 0) {
			rv = tly_relay_list(r, after, 1000, &items, &n, &more);
			if (rv != 0 || n == 0)
				break;
			if ((mail = realloc(mail, (nm + n) * sizeof *mail)) ==
			    NULL) {
				fprintf(stderr, "faultload: out of memory\n");
				exit(1);
			}
			for (i = 0; i < n; i++)
				memcpy(mail[nm++].h, items[i].id, 32);
			after = items[n - 1].seq;
			free(items);
		}
		if (rv != 0) {
			fprintf(stderr, "faultload: account %d: %s\n", k,
			    tly_relay_errmsg(r));
			tly_relay_close(r);
			return (1);
		}
		tly_relay_close(r);
		if (nm > 0)
			qsort(mail, nm, sizeof *mail, cmp_id);
		nlog += (long) nl;
		nmail += (long) nm;
		/* This account's log entries are in its journal, the
		 * envelopes in its mailbox in the previous account's. */
		for (int pass = 0; pass < 2; pass++) {
			snprintf(path, sizeof path, "%s/journal.%d", dir,
			    pass == 0 ? a->n : from->n);
			if ((fp = fopen(path, "r")) == NULL)
				continue;
			while (fgets(line, sizeof line, fp) != NULL) {
				unsigned char      h[32];
				unsigned long long seq;
				char               hx[65];
				size_t             hl;

				if (pass == 0 &&
				    sscanf(line, "L %llu %64s", &seq, hx) ==
				        2) {
					acked++;
					if (sodium_hex2bin(h, 32, hx, 64, NULL,
					        &hl, NULL) != 0 ||
					    seq == 0 || seq > nl ||
					    memcmp(log[seq - 1].h, h, 32) !=
					        0) {
						lost++;
						fprintf(stderr,
						    "lost: account %d log "
						    "entry %llu\n",
						    k, seq);
					}
				} else if (pass == 1 &&
				    sscanf(line, "M %64s", hx) == 1) {
					acked++;
					if (sodium_hex2bin(h, 32, hx, 64, NULL,
					        &hl, NULL) != 0 ||
					    nm == 0 ||
					    bsearch(h, mail, nm, sizeof *mail,
					        cmp_id) == NULL) {
						lost++;
						fprintf(stderr,
						    "lost: envelope %.16s... "
						    "for account %d\n",
						    hx, k);
					}
				}
			}
			fclose(fp);
		}
		free(log);
		free(mail);
	}
	printf("check: acknowledged %ld, lost %ld (relay holds %ld log "
	       "entries, %ld envelopes)\n",
	    acked, lost, nlog, nmail);
	return (lost > 0 || bad ? 1 : 0);
}

static int
cmd_integrity(const char *path)
{
	sqlite3      *db;
	sqlite3_stmt *st;
	int           ok = 1, rc;

	if ((rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL)) !=
	    SQLITE_OK) {
		fprintf(
		    stderr, "integrity: %s: %s\n", path, sqlite3_errstr(rc));
		sqlite3_close(db);
		return (1);
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "integrity: %s\n", sqlite3_errmsg(db));
		sqlite3_close(db);
		return (1);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *) sqlite3_column_text(st, 0);

		if (t == NULL || strcmp(t, "ok") != 0) {
			ok = 0;
			fprintf(stderr, "integrity: %s\n", t ? t : "?");
		}
	}
	if (rc != SQLITE_DONE) {
		ok = 0;
		fprintf(stderr, "integrity: %s\n", sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (ok ? 0 : 1);
}

static int
cmd_port(void)
{
	struct sockaddr_in sa;
	socklen_t          len = sizeof sa;
	int                fd  = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof sa);
	sa.sin_family      = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *) &sa, &len) != 0) {
		perror("port");
		return (1);
	}
	printf("%d\n", ntohs(sa.sin_port));
	close(fd);
	return (0);
}

static int
cmd_ping(const char *u, int ms)
{
	struct tly_relay_opts o;
	tly_relay            *r;
	double                end = now_s() + ms / 1000.0;
	int                   rv  = TALLY_ETIMEDOUT;

	memset(&o, 0, sizeof o);
	o.retries    = -1;
	o.timeout_ms = 200;
	if (tly_relay_open(&r, u, &o) != 0)
		return (1);
	while (now_s() < end && (rv = tly_relay_ping(r)) != 0)
		msleep(20);
	tly_relay_close(r);
	return (rv == 0 ? 0 : 1);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: faultload port\n"
	    "       faultload ping URL MS\n"
	    "       faultload setup DIR URL N\n"
	    "       faultload write DIR URL SECONDS\n"
	    "       faultload fill DIR URL\n"
	    "       faultload drain DIR URL\n"
	    "       faultload check DIR URL\n"
	    "       faultload integrity DB\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	if (argc < 2 || sodium_init() < 0)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "port") == 0 && argc == 2)
		return (cmd_port());
	if (strcmp(argv[1], "ping") == 0 && argc == 4)
		return (cmd_ping(argv[2], atoi(argv[3])));
	if (strcmp(argv[1], "integrity") == 0 && argc == 3)
		return (cmd_integrity(argv[2]));
	if (argc < 4)
		usage();
	dir = argv[2];
	url = argv[3];
	if (strcmp(argv[1], "setup") == 0 && argc == 5)
		return (cmd_setup(atoi(argv[4])));
	if (strcmp(argv[1], "write") == 0 && argc == 5)
		return (cmd_write(atof(argv[4])));
	if (strcmp(argv[1], "fill") == 0 && argc == 4)
		return (cmd_fill());
	if (strcmp(argv[1], "drain") == 0 && argc == 4)
		return (cmd_drain());
	if (strcmp(argv[1], "check") == 0 && argc == 4)
		return (cmd_check());
	usage();
	return (2);
}
