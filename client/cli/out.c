/*
 * out.c -- command line plumbing: opening the replica, errors, usage,
 * number and time arguments, JSON and time formatting.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "tly_time.h"

int
cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tally: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return (1);
}

int
cli_fail(cli *c, int rv)
{
	(void) rv;
	return (cli_error("%s", tally_errmsg(c->t)));
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

	fprintf(stderr, "tally %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: tally %s\n", cmd->usage);
	return (EXIT_USAGE);
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
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'J')
			c->json = 1;
		else if (ch == 'h')
			return (cli_help(self));
		else
			return (cli_usage(self, "bad option"));
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

json_t *
j_str(const char *s)
{
	return (s != NULL ? json_string(s) : json_null());
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
		json_array_append_new(a, json_string(s.v[i]));
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

const char *
fmt_rel(int64_t t, char *buf)
{
	int64_t now  = tly_now();
	int64_t span = (t > now ? t - now : now - t) / TLY_DAY;
	int     days = span > 99999 ? 99999 : (int) span;

	if (days == 0)
		snprintf(buf, 24, "today");
	else if (t > now)
		snprintf(buf, 24, "in %d day%s", days, days == 1 ? "" : "s");
	else
		snprintf(buf, 24, "%d day%s ago", days, days == 1 ? "" : "s");
	return (buf);
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
