/*
 * cmd_io.c -- `tally import` and `tally export`.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void
import_bad(void *arg, const char *msg)
{
	(void) arg;
	fprintf(stderr, "%s\n", msg);
}

/* A progress line on a terminal only: never in --json or a pipe. */
static void
import_progress(void *arg, size_t done, size_t total)
{
	(void) arg;
	if (total > 0)
		fprintf(stderr, "\rimporting: %zu of %zu records (%zu%%)", done,
		    total, done * 100 / total);
	else
		fprintf(stderr, "\rimporting: %zu records", done);
}

int
cmd_import(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "skip-bad", no_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'n' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const formats[] = { "linkedin", "google", "vcard",
		"json", NULL };
	const cli_cmd     *self = cli_find("import");
	tally_import_opts  o    = { 0, import_bad, NULL, NULL };
	tally_import_stats st;
	int                ch, rv, ok = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 's')
			o.flags |= TALLY_IMPORT_SKIP_BAD;
		else if (ch == 'n')
			o.flags |= TALLY_IMPORT_DRY_RUN;
		else if (ch == 'J')
			c->json = 1;
		else if (ch == 'h')
			return (cli_help(self));
		else
			return (cli_badopt(self, ch, argc, argv));
	}
	if (argc - optind != 2)
		return (cli_usage(self, "import takes a FORMAT and a FILE"));
	for (const char *const *f = formats; *f != NULL; f++)
		ok |= strcmp(*f, argv[optind]) == 0;
	if (!ok)
		return (cli_usage(self,
		    "unknown format '%s' (linkedin, google, vcard, json)",
		    argv[optind]));
	if (!c->json && isatty(STDERR_FILENO))
		o.progress = import_progress;
	/* A JSON dump can restore a replica that does not exist yet. */
	if (cli_open(c, strcmp(argv[optind], "json") == 0) != 0)
		return (1);
	rv = tally_import(c->t, &st, argv[optind], argv[optind + 1], &o);
	if (o.progress != NULL && st.rows > 0)
		fputc('\n', stderr);
	if (rv != 0)
		return (cli_fail(c, rv));
	if (c->json) {
		json_t *j = json_object();
		json_object_set_new(j, "rows", json_integer((json_int_t) st.rows));
		json_object_set_new(j, "added",
		    json_integer((json_int_t) st.added));
		json_object_set_new(j, "updated",
		    json_integer((json_int_t) st.updated));
		json_object_set_new(j, "unchanged",
		    json_integer((json_int_t) st.same));
		json_object_set_new(j, "bad", json_integer((json_int_t) st.bad));
		json_object_set_new(j, "skipped",
		    json_integer((json_int_t) st.skipped));
		json_object_set_new(j, "dry_run",
		    json_boolean(o.flags & TALLY_IMPORT_DRY_RUN));
		return (j_print(j));
	}
	printf("%s%zu records: %zu added, %zu updated, %zu unchanged, %zu "
	       "skipped as bad\n",
	    (o.flags & TALLY_IMPORT_DRY_RUN) ? "dry run: " : "", st.rows,
	    st.added, st.updated, st.same, st.bad);
	if (st.skipped > 0)
		printf("%zu records had nothing to import (members who left "
		       "LinkedIn)\n",
		    st.skipped);
	return (0);
}

int
cmd_export(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self = cli_find("export");
	const char    *path = NULL, *format;
	char          *tmp  = NULL;
	FILE          *out  = stdout;
	int            ch, rv;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		if (ch == 'o')
			path = optarg;
		else if (ch == 'h')
			return (cli_help(self));
		else if (ch != 'J')
			return (cli_badopt(self, ch, argc, argv));
	}
	if (argc - optind != 1)
		return (cli_usage(self, "export takes a FORMAT"));
	format = argv[optind];
	if (strcmp(format, "json") != 0 && strcmp(format, "csv") != 0 &&
	    strcmp(format, "vcard") != 0)
		return (cli_usage(self, "unknown format '%s' (json, csv, vcard)",
		    format));
	if (cli_open(c, 0) != 0)
		return (1);
	/* -o FILE is replaced only by a complete export. */
	if (path != NULL && (out = cli_out_open(path, &tmp)) == NULL)
		return (1);
	if ((rv = tally_export(c->t, format, out)) != 0)
		rv = cli_fail(c, rv);
	if (path != NULL)
		rv = cli_out_close(out, path, tmp, rv);
	return (rv);
}
