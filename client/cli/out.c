/*
 * out.c -- command line plumbing: opening the replica, errors, usage,
 * number and time arguments, JSON and time formatting.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "tly_time.h"
#include "tly_util.h"

/* Length of the UTF-8 sequence at s, or 0 if s does not start one
 * (invalid, truncated, overlong, a surrogate). */
static size_t
utf8_len(const char *s)
{
	unsigned char c = (unsigned char) *s;
	size_t        n = c < 0x80      ? 1
	           : (c & 0xe0) == 0xc0 ? 2
	           : (c & 0xf0) == 0xe0 ? 3
	           : (c & 0xf8) == 0xf0 ? 4
	                                : 0;

	if (n == 0 || strnlen(s, n) < n || !tly_utf8_valid(s, n))
		return (0);
	return (n);
}

/* Writes s to f keeping it on one line: control characters and bytes
 * that are not UTF-8 are written as '?'. */
static void
put_line(FILE *f, const char *s)
{
	while (*s != '\0') {
		size_t n = utf8_len(s);
		if (n == 0 ||
		    (n == 1 && ((unsigned char) *s < 0x20 || *s == 0x7f))) {
			fputc('?', f);
			s++;
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
}

/* Prints prefix and the formatted message as one line on stderr. */
static void
err_line(const char *prefix, const char *suffix, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof msg, fmt, ap);
	fputs(prefix, stderr);
	put_line(stderr, msg);
	fputs(suffix, stderr);
	fputc('\n', stderr);
}

int
cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_line("tally: ", "", fmt, ap);
	va_end(ap);
	return (1);
}

int
cli_fail(cli *c, int rv)
{
	cli_error("%s", tally_errmsg(c->t));
	return (rv == TALLY_EINVAL ? EXIT_USAGE : 1);
}

int
cli_open(cli *c, int create)
{
	char *path = NULL;
	int   rv;

	if (c->t != NULL)
		return (0);
	if (c->db == NULL && (path = tally_default_path()) == NULL)
		return (cli_error("cannot find the replica: set TALLY_HOME, "
		                  "HOME or --db"));
	rv = tally_open(&c->t, c->db ? c->db : path,
	    create ? TALLY_OPEN_CREATE : 0);
	free(path);
	if (rv != 0) {
		cli_error("%s", tally_errmsg(c->t));
		tally_close(c->t);
		c->t = NULL;
		return (1);
	}
	return (0);
}

int
cli_help(const cli_cmd *cmd)
{
	printf("usage: tally %s\n\n%s\n", cmd->usage, cmd->help);
	return (cli_flush());
}

int
cli_usage(const cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	char prefix[64], suffix[64];

	snprintf(prefix, sizeof prefix, "tally %s: ", cmd->name);
	snprintf(suffix, sizeof suffix, " (see 'tally %s --help')", cmd->name);
	va_start(ap, fmt);
	err_line(prefix, suffix, fmt, ap);
	va_end(ap);
	return (EXIT_USAGE);
}

/* Returns 1 if arg is a cluster of short options ("-abc") holding c. */
static int
short_cluster_has(const char *arg, int c)
{
	return (arg != NULL && arg[0] == '-' && arg[1] != '-' &&
	    arg[1] != '\0' && strchr(arg + 1, c) != NULL);
}

int
cli_badopt(const cli_cmd *cmd, int ch, int argc, char **argv)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	int         n;

	if (optopt > 0 && optopt < 128 && optopt != ':' &&
	    (short_cluster_has(arg, optopt) ||
	        (optind < argc && short_cluster_has(argv[optind], optopt))))
		return (cli_usage(cmd,
		    ch == ':' ? "option '-%c' needs a value"
		              : "unknown option '-%c'",
		    optopt));
	n = (int) strcspn(arg, "=");
	if (n > 80)
		n = 80;
	if (ch == '?' && optopt != 0 && arg[n] == '=')
		return (
		    cli_usage(cmd, "option '%.*s' takes no value", n, arg));
	return (cli_usage(cmd,
	    ch == ':' ? "option '%.*s' needs a value"
	              : "unknown option '%.*s'",
	    n, arg));
}

int
cli_dispatch(cli *c, const char *group, const cli_cmd *table, int argc,
    char **argv)
{
	const cli_cmd *top = cli_find(group);

	if (argc < 2)
		return (cli_usage(top, "missing subcommand"));
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return (cli_help(top));
	for (; table->name != NULL; table++)
		if (strcmp(table->name, argv[1]) == 0)
			return (table->fn(c, argc - 1, argv + 1));
	return (cli_usage(top, "unknown subcommand '%s'", argv[1]));
}

/* Parses the options of a command that takes only --json/--help plus
 * up to max positional arguments (at least min).  Returns -1 to go on,
 * else an exit status. */
int
cli_args(cli *c, const cli_cmd *self, int argc, char **argv, int min,
    int max)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 'J')
			c->json = 1;
		else if (ch == 'h')
			return (cli_help(self));
		else
			return (cli_badopt(self, ch, argc, argv));
	}
	if (argc - optind < min)
		return (cli_usage(self, "missing argument"));
	if (argc - optind > max)
		return (cli_usage(self, "unexpected argument '%s'",
		    argv[optind + max]));
	return (-1);
}

int
cli_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	long  v;

	errno = 0;
	v     = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return (-1);
	*out = v;
	return (0);
}

int
cli_when(const char *s, int64_t *out)
{
	return (tly_when_parse(s, tly_now(), out) == 0 ? 0 : -1);
}

int
cli_resolve(cli *c, char *id, enum tally_kind kind, const char *spec)
{
	int rv = tally_resolve(c->t, id, kind, spec);

	if (rv != 0)
		return (cli_fail(c, rv));
	return (0);
}

int
cli_print_id(const cli *c, const char *id)
{
	if (c->json) {
		json_t *o = json_object();
		json_object_set_new(o, "id", j_str(id));
		json_object_set_new(o, "short_id", j_short(id));
		return (j_print(o));
	}
	printf("%.*s\n", TALLY_SHORT_ID_LEN, id);
	return (0);
}

json_t *
j_str(const char *s)
{
	json_t *v;
	char   *fixed, *w;

	if (s == NULL)
		return (json_null());
	if ((v = json_string(s)) != NULL)
		return (v);
	/* Not UTF-8 (a replica written by something else): each bad byte
	 * becomes U+FFFD, so that the key is still there. */
	if ((fixed = malloc(3 * strlen(s) + 1)) == NULL)
		return (json_null());
	for (w = fixed; *s != '\0';) {
		size_t n = utf8_len(s);
		if (n == 0) {
			memcpy(w, "\xef\xbf\xbd", 3);
			w += 3;
			s++;
		} else {
			memcpy(w, s, n);
			w += n;
			s += n;
		}
	}
	*w = '\0';
	v  = json_string(fixed);
	free(fixed);
	return (v != NULL ? v : json_null());
}

json_t *
j_short(const char *id)
{
	if (id == NULL)
		return (json_null());
	return (json_stringn(id, strnlen(id, TALLY_SHORT_ID_LEN)));
}

json_t *
j_time(int64_t t)
{
	char buf[TLY_ISO_LEN];

	if (t == 0)
		return (json_null());
	tly_time_iso(t, buf);
	return (json_string(buf));
}

json_t *
j_strs(tally_strs s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s.n; i++)
		json_array_append_new(a, j_str(s.v[i]));
	return (a);
}

json_t *
j_int(int64_t v)
{
	return (json_integer((json_int_t) v));
}

int
j_print(json_t *v)
{
	int rv = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(v);
	fputc('\n', stdout);
	return (rv == 0 ? 0 : 1);
}

const char *
fmt_time(int64_t t, char *buf)
{
	if (t == 0)
		return ("-");
	tly_time_local(t, buf);
	return (buf);
}

const char *
fmt_date(int64_t t, char *buf)
{
	if (t == 0)
		return ("-");
	tly_time_date(t, buf);
	return (buf);
}

void
put_col(const char *s, int width)
{
	int w = tly_utf8_width(s);

	fputs(s, stdout);
	if (w < width)
		printf("%*s", width - w, "");
}

void
put_flat(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		putchar(*s == '\n' || *s == '\r' || *s == '\t' ? ' ' : *s);
}

/* The local calendar day of t, as days since 1970-01-01. */
static int64_t
local_day(int64_t t)
{
	time_t    tt = (time_t) t;
	struct tm tm;
	int64_t   y, m, d, era, yoe, doy, doe;

	if (localtime_r(&tt, &tm) == NULL)
		return (t / TLY_DAY);
	y = (int64_t) tm.tm_year + 1900;
	m = tm.tm_mon + 1;
	d = tm.tm_mday;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

const char *
fmt_rel(int64_t t, char *buf)
{
	int64_t diff = local_day(t) - local_day(tly_now());
	int64_t abs  = diff < 0 ? -diff : diff;
	int     days = abs > 99999 ? 99999 : (int) abs;

	if (diff == 0)
		snprintf(buf, 24, "today");
	else if (diff == 1)
		snprintf(buf, 24, "tomorrow");
	else if (diff == -1)
		snprintf(buf, 24, "yesterday");
	else if (diff > 0)
		snprintf(buf, 24, "in %d days", days);
	else
		snprintf(buf, 24, "%d days ago", days);
	return (buf);
}

/* The process's umask, read without changing it for long. */
static mode_t
cli_umask(void)
{
	mode_t m = umask(022);

	umask(m);
	return (m);
}

FILE *
cli_out_open(const char *path, char **tmp)
{
	size_t      n = strlen(path) + sizeof ".XXXXXX";
	struct stat sb;
	FILE       *f;
	int         fd;

	*tmp = NULL;
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		/* A device or a pipe (-o /dev/stdout): write to it. */
		if ((f = fopen(path, "w")) == NULL)
			cli_error("cannot write %s: %s", path, strerror(errno));
		return (f);
	}
	if ((*tmp = malloc(n)) == NULL) {
		cli_error("out of memory");
		return (NULL);
	}
	snprintf(*tmp, n, "%s.XXXXXX", path);
	if ((fd = mkstemp(*tmp)) < 0) {
		cli_error("cannot write %s: %s", path, strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return (NULL);
	}
	(void) fchmod(fd, 0644 & ~cli_umask());
	if ((f = fdopen(fd, "w")) == NULL) {
		cli_error("cannot write %s: %s", path, strerror(errno));
		close(fd);
		unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
	}
	return (f);
}

int
cli_out_close(FILE *f, const char *path, char *tmp, int rv)
{
	int bad = fflush(f) != 0 || ferror(f) ||
	    (tmp != NULL && fsync(fileno(f)) != 0);
	int err = errno;

	if (fclose(f) != 0 && !bad) {
		bad = 1;
		err = errno;
	}
	if (rv == 0 && bad)
		rv = cli_error("writing %s failed: %s", path, strerror(err));
	if (tmp == NULL)
		return (rv);
	if (rv == 0 && rename(tmp, path) != 0)
		rv = cli_error("cannot write %s: %s", path, strerror(errno));
	if (rv != 0)
		unlink(tmp);
	free(tmp);
	return (rv);
}

int
cli_flush(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "tally: writing output failed: %s\n",
		    strerror(errno));
		return (1);
	}
	return (0);
}
