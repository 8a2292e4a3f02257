/*
 * itlib.c -- integration test helpers (itlib.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <sodium.h>

#include "itlib.h"
#include "tt.h"

#ifndef TALLYD_PATH
#error "TALLYD_PATH must name the tallyd binary"
#endif

void
it_msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int64_t
it_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

char *
it_slurp(const char *path)
{
	FILE  *fp = fopen(path, "r");
	char  *s;
	size_t n = 0, cap = 4096, k;

	if (fp == NULL)
		return (NULL);
	if ((s = malloc(cap)) == NULL) {
		fclose(fp);
		return (NULL);
	}
	while ((k = fread(s + n, 1, cap - n - 1, fp)) > 0) {
		n += k;
		if (cap - n - 1 == 0) {
			char *t = realloc(s, cap * 2);

			if (t == NULL)
				break;
			s = t;
			cap *= 2;
		}
	}
	s[n] = '\0';
	fclose(fp);
	return (s);
}

int
it_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t          len = sizeof sa;
	int                fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family      = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return (port);
}

void
it_keygen(struct it_key *k)
{
	crypto_sign_keypair(k->pk, k->sk);
}

tly_relay *
it_client(const char *url, const struct it_key *k, int retries, int timeout_ms)
{
	struct tly_relay_opts o;
	tly_relay            *r;

	memset(&o, 0, sizeof o);
	o.retries    = retries;
	o.timeout_ms = timeout_ms;
	o.backoff_ms = 20;
	TT_PASS(tly_relay_open(&r, url, &o));
	if (k != NULL)
		TT_PASS(tly_relay_set_key(r, k->pk, k->sk));
	return (r);
}

int
it_raw(const char *url, const void *req, size_t len, unsigned char **rep,
    size_t *replen, int timeout_ms)
{
	nng_socket s;
	nng_msg   *m;
	int        rv;

	*rep    = NULL;
	*replen = 0;
	if ((rv = nng_req0_open(&s)) != 0)
		return (rv);
	if ((rv = nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 1u << 20)) != 0 ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms)) != 0 ||
	    (rv = nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, timeout_ms)) != 0 ||
	    (rv = nng_dial(s, url, NULL, NNG_FLAG_NONBLOCK)) != 0)
		goto out;
	if ((rv = nng_msg_alloc(&m, 0)) != 0)
		goto out;
	if ((rv = nng_msg_append(m, req, len)) != 0 ||
	    (rv = nng_sendmsg(s, m, 0)) != 0) {
		nng_msg_free(m);
		goto out;
	}
	if ((rv = nng_recvmsg(s, &m, 0)) != 0)
		goto out;
	*replen = nng_msg_len(m);
	*rep    = malloc(*replen + 1);
	assert_non_null(*rep);
	memcpy(*rep, nng_msg_body(m), *replen);
	nng_msg_free(m);
out:
	nng_close(s);
	return (rv);
}

int
it_raw_code(const char *url, const void *req, size_t len, uint8_t want)
{
	unsigned char *rep;
	size_t         n;
	struct tly_rep p;
	int            code;

	if (it_raw(url, req, len, &rep, &n, 5000) != 0)
		return (-1);
	if (tly_rep_decode(&p, want, rep, n) != 0)
		code = -1;
	else
		code = p.type == TLY_T_ERROR ? p.err : 0;
	free(rep);
	return (code);
}

static void
write_conf(struct it_srv *s)
{
	FILE *fp = fopen(s->conf, "w");

	assert_non_null(fp);
	fprintf(fp,
	    "[server]\n"
	    "listen = %s\n",
	    s->url);
	if (s->port != 0)
		fprintf(fp, "listen = %s\n", s->tcp);
	fprintf(fp,
	    "data = %s\n"
	    "workers = 64\n"
	    "log_level = debug\n"
	    "%s\n",
	    s->dir, s->extra);
	fclose(fp);
}

static int
ping(const char *url)
{
	struct tly_req q;
	tly_buf        b = TLY_BUF_INIT;
	int            code;

	memset(&q, 0, sizeof q);
	q.type  = TLY_T_PING;
	q.reqid = 7;
	TT_PASS(tly_req_encode(&b, &q));
	code = it_raw_code(url, b.p, b.len, TLY_T_PING);
	tly_buf_free(&b);
	return (code);
}

/* Servers started, so that a failed test does not leave one behind. */
#define IT_MAX_SRV 16
static pid_t it_pids[IT_MAX_SRV];

static void untrack(pid_t pid);

static void
kill_all(void)
{
	for (int i = 0; i < IT_MAX_SRV; i++) {
		if (it_pids[i] > 0) {
			kill(it_pids[i], SIGKILL);
			(void) waitpid(it_pids[i], NULL, 0);
			it_pids[i] = 0;
		}
	}
}

static void
track(struct it_srv *s)
{
	static int registered;

	if (!registered) {
		atexit(kill_all);
		registered = 1;
	}
	for (int i = 0; i < IT_MAX_SRV; i++) {
		if (it_pids[i] <= 0) {
			it_pids[i] = s->pid;
			return;
		}
	}
}

int
it_teardown(void **state)
{
	(void) state;
	kill_all();
	return (0);
}

static void
spawn(struct it_srv *s)
{
	char  log[320];
	pid_t pid;
	int   fd, status, start_ms;

	snprintf(log, sizeof log, "%s/tallyd.log", s->dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Not the test's stdout: a pipe reader would wait for us. */
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execl(
		    TALLYD_PATH, "tallyd", "--config", s->conf, (char *) NULL);
		_exit(127);
	}
	s->pid = pid;
	track(s);
	/* $IT_START_MS: more time under valgrind (tests/valgrind.sh). */
	start_ms = getenv("IT_START_MS") != NULL ? atoi(getenv("IT_START_MS"))
	                                         : IT_START_MS;
	for (int64_t end = it_now_ms() + start_ms; it_now_ms() < end;) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			char *l = it_slurp(log);

			untrack(pid);
			s->pid = 0;
			fail_msg("tallyd exited at start (status %d): %s",
			    status, l != NULL ? l : "");
		}
		/* Ping only once the socket exists: a REQ socket left
		 * reconnecting to a missing path is what nng handles worst. */
		if (access(s->url + 6, F_OK) == 0 && ping(s->url) == 0)
			return;
		it_msleep(20);
	}
	fail_msg("tallyd did not answer within %d ms", start_ms);
}

void
it_start(struct it_srv *s, const char *extra, int tcp)
{
	memset(s, 0, sizeof *s);
	snprintf(s->dir, sizeof s->dir, "/tmp/tly-it-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->conf, sizeof s->conf, "%s/tallyd.conf", s->dir);
	snprintf(s->url, sizeof s->url, "ipc://%s/relay.sock", s->dir);
	if (tcp) {
		s->port = it_free_port();
		snprintf(s->tcp, sizeof s->tcp, "tcp://127.0.0.1:%d", s->port);
	}
	snprintf(s->extra, sizeof s->extra, "%s", extra != NULL ? extra : "");
	write_conf(s);
	spawn(s);
}

void
it_restart(struct it_srv *s)
{
	assert_int_equal(s->pid, 0);
	spawn(s);
}

static void
untrack(pid_t pid)
{
	for (int i = 0; i < IT_MAX_SRV; i++)
		if (it_pids[i] == pid)
			it_pids[i] = 0;
}

static int
reap(struct it_srv *s, int ms)
{
	int status;

	for (int64_t end = it_now_ms() + ms; it_now_ms() < end;) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			untrack(s->pid);
			s->pid = 0;
			return (status);
		}
		it_msleep(5);
	}
	return (-1);
}

void
it_stop(struct it_srv *s)
{
	int status;

	if (s->pid == 0)
		return;
	kill(s->pid, SIGTERM);
	if ((status = reap(s, 15000)) == -1) {
		if (getenv("IT_GDB") != NULL) {
			char cmd[128];

			snprintf(cmd, sizeof cmd,
			    "gdb -p %d -batch -ex 'thread apply all bt' >&2",
			    (int) s->pid);
			(void) system(cmd);
		}
		kill(s->pid, SIGKILL);
		(void) reap(s, 5000);
		fail_msg("tallyd did not stop on SIGTERM");
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("tallyd stopped with status %d", status);
}

void
it_kill9(struct it_srv *s)
{
	if (s->pid == 0)
		return;
	kill(s->pid, SIGKILL);
	assert_int_not_equal(reap(s, 10000), -1);
}

void
it_cleanup(struct it_srv *s)
{
	char cmd[300];

	if (s->pid != 0) {
		kill(s->pid, SIGKILL);
		(void) reap(s, 5000);
	}
	if (s->dir[0] != '\0' && getenv("IT_KEEP") == NULL) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", s->dir);
	}
}

int
it_admin(struct it_srv *s, char *out, size_t n, const char *args)
{
	char   cmd[1024];
	FILE  *fp;
	size_t k = 0, r;
	int    status;

	snprintf(cmd, sizeof cmd, "%s --config %s %s 2>&1", TALLYD_PATH,
	    s->conf, args);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	while (k + 1 < n && (r = fread(out + k, 1, n - k - 1, fp)) > 0)
		k += r;
	out[k] = '\0';
	status = pclose(fp);
	return (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}
