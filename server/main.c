/*
 * main.c -- tallyd: the relay server and its admin subcommands.
 *
 *   tallyd [--config FILE] [--listen URL]... [--data DIR] [-v]
 *   tallyd [--config FILE] [--data DIR] invite create [--uses N]
 *                                              [--expires WHEN]
 *   tallyd ... accounts list | accounts disable KEY | stats | backup FILE
 *
 * The data directory holds tallyd.db (and its WAL), tallyd.lock (held
 * with flock by whoever owns the database: the server, or an admin command
 * while the server is stopped) and admin.sock.
 */
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "tallyd.h"
#include "tly_err.h"
#include "tly_log.h"

#ifndef TALLY_VERSION_STRING
#define TALLY_VERSION_STRING "0"
#endif

#define DEFAULT_LISTEN "tcp://127.0.0.1:7690"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tallyd [--config FILE] [--listen URL]... [--data DIR] "
	    "[-v]\n"
	    "       tallyd [--config FILE] [--data DIR] COMMAND\n"
	    "commands:\n"
	    "  invite create [--uses N] [--expires WHEN]\n"
	    "  accounts list\n"
	    "  accounts disable KEY\n"
	    "  stats\n"
	    "  backup FILE\n");
}

/* Tells systemd (Type=notify) about a state change; no-op without it. */
static void
sd_notify_state(const char *state)
{
	const char        *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t             n;
	int                fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (n = strlen(path)) >= sizeof sa.sun_path)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	(void) sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *) &sa,
	    (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n));
	close(fd);
}

static char *
default_data(void)
{
	const char *xdg  = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	char        buf[PATH_MAX];

	if (geteuid() == 0)
		return (strdup("/var/lib/tallyd"));
	if (xdg != NULL && xdg[0] == '/')
		snprintf(buf, sizeof buf, "%s/tallyd", xdg);
	else if (home != NULL)
		snprintf(buf, sizeof buf, "%s/.local/share/tallyd", home);
	else
		return (NULL);
	return (strdup(buf));
}

/* Creates dir (mode 0700) if missing. */
static int
make_dir(const char *dir)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		tly_log(TLY_LOG_ERROR, "%s: %s", dir, strerror(errno));
		return (TALLY_EIO);
	}
	return (0);
}

/* Takes the data directory's lock; -1 on error, 0 if another process
 * holds it, else the file descriptor (kept open while owned). */
static int
lock_dir(const char *dir, int *fdp)
{
	char path[PATH_MAX];
	int  fd;

	*fdp = -1;
	snprintf(path, sizeof path, "%s/tallyd.lock", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		tly_log(TLY_LOG_ERROR, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return (errno == EWOULDBLOCK ? 0 : -1);
	}
	*fdp = fd;
	return (1);
}

static void
store_opts(const struct tallyd_conf *c, struct tly_store_opts *o)
{
	memset(o, 0, sizeof *o);
	o->readers         = c->readers;
	o->quota           = c->quota;
	o->commit_delay_ms = c->commit_delay_ms;
	o->discard_writes  = c->discard_writes;
}

/* A connection is a descriptor: allow as many as the hard limit. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void) setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
run_server(struct tallyd_conf *c)
{
	struct tallyd        *d;
	struct tly_store_opts o;
	sigset_t              set;
	char                  err[512];
	int                   sig = 0, rv, fd;

	if ((d = calloc(1, sizeof *d)) == NULL)
		return (1);
	d->conf = c;
	raise_nofile();
	if (make_dir(c->data) != 0) {
		free(d);
		return (1);
	}
	if ((rv = lock_dir(c->data, &fd)) <= 0) {
		tly_log(TLY_LOG_ERROR, "%s: %s", c->data,
		    rv == 0 ? "another tallyd is running on this data "
		              "directory"
		            : "cannot take the lock");
		free(d);
		return (1);
	}
	store_opts(c, &o);
	if ((rv = tly_store_open(&d->store, c->data, &o, err, sizeof err)) !=
	    0) {
		tly_log(TLY_LOG_ERROR, "%s", err);
		free(d);
		close(fd);
		return (1);
	}
	tly_store_server_id(d->store, d->sid, NULL);
	{
		unsigned char secret[32];

		tly_store_server_id(d->store, NULL, secret);
		rv = tallyd_auth_new(&d->auth, d->sid, secret, c);
		sodium_memzero(secret, sizeof secret);
		if (rv != 0) {
			tly_log(TLY_LOG_ERROR, "out of memory");
			tly_store_close(d->store);
			free(d);
			close(fd);
			return (1);
		}
	}
	if ((rv = tallyd_front_start(d, err, sizeof err)) != 0 ||
	    (rv = tallyd_admin_start(d, err, sizeof err)) != 0 ||
	    (rv = tallyd_metrics_start(d, err, sizeof err)) != 0) {
		tly_log(TLY_LOG_ERROR, "%s", err);
		tallyd_metrics_stop(d);
		tallyd_admin_stop(d);
		tallyd_front_stop(d);
		tly_store_close(d->store);
		tallyd_auth_free(d->auth);
		free(d);
		close(fd);
		return (1);
	}
	tly_log(TLY_LOG_INFO,
	    "tallyd %s ready: data %s, registration %s, %d workers",
	    TALLY_VERSION_STRING, c->data, c->open_reg ? "open" : "by invite",
	    c->workers);
	if (c->discard_writes)
		tly_log(TLY_LOG_WARN,
		    "[testing] discard_writes is set: puts and appends are "
		    "answered but NOT stored (benchmarks only)");
	sd_notify_state("READY=1");
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	while (sigwait(&set, &sig) != 0)
		;
	sd_notify_state("STOPPING=1");
	tly_log(TLY_LOG_INFO, "%s: finishing in-flight requests",
	    sig == SIGINT ? "SIGINT" : "SIGTERM");
	tallyd_metrics_stop(d);
	tallyd_admin_stop(d);
	/* The database is closed before the nng socket: closing nng 1.5
	 * under load can hang (see listen.c), the database must not wait. */
	if (tallyd_front_drain(d) == 0) {
		tly_store_close(d->store);
		d->store = NULL;
	}
	if (tallyd_front_stop(d) != 0) {
		/* Every acknowledged write is committed (the store drained
		 * before the socket was closed); SQLite recovers the WAL. */
		if (d->store != NULL)
			tly_log(TLY_LOG_WARN,
			    "stopped without closing the database");
		else
			tly_log(TLY_LOG_INFO, "stopped");
		_exit(0);
	}
	tly_store_close(d->store);
	tallyd_auth_free(d->auth);
	free(d);
	close(fd);
	tly_log(TLY_LOG_INFO, "stopped");
	return (0);
}

static int
run_admin(struct tallyd_conf *c, int argc, const char *const *argv)
{
	tly_buf               out = TLY_BUF_INIT;
	struct tly_store_opts o;
	tly_store            *s;
	char                  err[512], abs[PATH_MAX], *dup;
	const char           *args[TLY_ADMIN_ARGS];
	int                   rv, fd, locked;

	if (argc > TLY_ADMIN_ARGS) {
		usage(stderr);
		return (2);
	}
	for (int i = 0; i < argc; i++)
		args[i] = argv[i];
	/* The server may run elsewhere: backup paths go absolute. */
	if (argc == 2 && strcmp(argv[0], "backup") == 0 && argv[1][0] != '/') {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof cwd) == NULL ||
		    (size_t) snprintf(abs, sizeof abs, "%s/%s", cwd,
		        argv[1]) >= sizeof abs) {
			fprintf(
			    stderr, "tallyd: %s: path too long\n", argv[1]);
			return (1);
		}
		args[1] = abs;
	}
	if (make_dir(c->data) != 0)
		return (1);
	if ((locked = lock_dir(c->data, &fd)) < 0)
		return (1);
	if (locked == 0) {
		/* The server owns the database: ask it. */
		rv = tallyd_admin_client(c->data, argc, args, &out);
		if (rv == TALLY_ECONNREF)
			fprintf(stderr,
			    "tallyd: %s: tallyd holds the data "
			    "directory but its admin socket does "
			    "not answer\n",
			    c->data);
	} else {
		store_opts(c, &o);
		if ((rv = tly_store_open(&s, c->data, &o, err, sizeof err)) !=
		    0) {
			fprintf(stderr, "tallyd: %s\n", err);
			close(fd);
			return (1);
		}
		rv = tallyd_admin_exec(NULL, s, argc, args, &out);
		tly_store_close(s);
		close(fd);
	}
	if (out.len > 0 && (dup = tly_buf_cstr(&out)) != NULL)
		fputs(dup, rv == 0 ? stdout : stderr);
	else if (rv != 0 && rv != TALLY_ECONNREF)
		fprintf(stderr, "tallyd: %s\n", tally_strerror(rv));
	tly_buf_free(&out);
	return (rv == 0 ? 0 : (rv == TALLY_EINVAL ? 2 : 1));
}

int
main(int argc, char **argv)
{
	struct tallyd_conf c;
	sigset_t           set;
	const char        *config = NULL, *data = NULL;
	const char        *listen[TALLYD_MAX_LISTEN];
	const char        *cmd[TLY_ADMIN_ARGS + 1];
	char               err[512];
	int                nlisten = 0, ncmd = 0, verbose = 0, rv, i;

	/* Before any thread: the signals go to sigwait in main. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	umask(077); /* the database and sockets are the owner's alone */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) &&
		    i + 1 < argc)
			config = argv[++i];
		else if ((strcmp(a, "--data") == 0 || strcmp(a, "-d") == 0) &&
		    i + 1 < argc)
			data = argv[++i];
		else if ((strcmp(a, "--listen") == 0 ||
		             strcmp(a, "-l") == 0) &&
		    i + 1 < argc && nlisten < TALLYD_MAX_LISTEN && ncmd == 0)
			listen[nlisten++] = argv[++i];
		else if (strcmp(a, "-v") == 0 && ncmd == 0)
			verbose = 1;
		else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return (0);
		} else if (strcmp(a, "--version") == 0) {
			printf("tallyd %s\n", TALLY_VERSION_STRING);
			return (0);
		} else if (a[0] == '-' && ncmd == 0) {
			fprintf(stderr, "tallyd: unknown option %s\n", a);
			usage(stderr);
			return (2);
		} else if (ncmd < TLY_ADMIN_ARGS) {
			cmd[ncmd++] = a;
		} else {
			usage(stderr);
			return (2);
		}
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "tallyd: cannot initialise libsodium\n");
		return (1);
	}
	tallyd_conf_defaults(&c);
	if (config != NULL &&
	    (rv = tallyd_conf_load(&c, config, err, sizeof err)) != 0) {
		fprintf(stderr, "tallyd: %s\n", err);
		tallyd_conf_free(&c);
		return (2);
	}
	for (i = 0; i < nlisten; i++) {
		if (tallyd_conf_listen(&c, listen[i], i == 0) != 0) {
			tallyd_conf_free(&c);
			return (2);
		}
	}
	if (c.nlisten == 0)
		(void) tallyd_conf_listen(&c, DEFAULT_LISTEN, 0);
	if (data != NULL) {
		free(c.data);
		c.data = strdup(data);
	} else if (c.data == NULL) {
		c.data = default_data();
	}
	if (c.data == NULL) {
		fprintf(stderr, "tallyd: no data directory: use --data DIR\n");
		tallyd_conf_free(&c);
		return (2);
	}
	tly_log_init("tallyd", verbose ? TLY_LOG_DEBUG : c.log_level);
	if (ncmd > 0)
		rv = run_admin(&c, ncmd, cmd);
	else
		rv = run_server(&c);
	tallyd_conf_free(&c);
	return (rv);
}
