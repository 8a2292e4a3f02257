/*
 * cmd_views.c -- `tally due`, `next`, `search`, `graph`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "tly_time.h"

static int
due_json(void *arg, const tally_due_item *d)
{
	json_t *o = json_object();

	json_object_set_new(o, "what", j_str(d->what));
	json_object_set_new(o, "ref", j_str(d->ref));
	json_object_set_new(o, "short_ref", j_short(d->ref));
	json_object_set_new(o, "person", j_str(d->person));
	json_object_set_new(o, "name", j_str(d->name));
	json_object_set_new(o, "text", j_str(d->text));
	json_object_set_new(o, "due", j_time(d->due));
	json_object_set_new(o, "overdue", json_boolean(d->overdue));
	return (json_array_append_new(arg, o));
}

static int
due_text(void *arg, const tally_due_item *d)
{
	char rel[24];
	int *n = arg;

	(*n)++;
	printf("%.8s  %-9s %-12s ", d->ref, d->what,
	    d->overdue ? (fmt_rel(d->due, rel), strcat(rel, "!"))
	               : fmt_rel(d->due, rel));
	put_flat(d->text);
	putchar('\n');
	return (0);
}

int
cmd_due(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "within", required_argument, NULL, 'w' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self = cli_find("due");
	json_t        *arr  = NULL;
	long           days = 1;
	int            ch, rv, n = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 'w') {
			if (cli_int(optarg, 0, 3650, &days) != 0)
				return (cli_usage(self,
				    "--within '%s' is not a number of days",
				    optarg));
		} else if (ch == 'J')
			c->json = 1;
		else if (ch == 'h')
			return (cli_help(self));
		else
			return (cli_badopt(self, ch, argc, argv));
	}
	if (optind != argc)
		return (cli_usage(self, "unexpected argument '%s'",
		    argv[optind]));
	if (cli_open(c, 0) != 0)
		return (1);
	if (c->json) {
		arr = json_array();
		rv  = tally_due(c->t, days * TLY_DAY, due_json, arr);
	} else
		rv = tally_due(c->t, days * TLY_DAY, due_text, &n);
	if (rv != 0) {
		json_decref(arr);
		return (cli_fail(c, rv));
	}
	if (c->json)
		return (j_print(arr));
	if (n == 0)
		printf("nothing due\n");
	return (0);
}

static int
next_json(void *arg, const tally_next_item *it)
{
	json_t *o = json_object();

	json_object_set_new(o, "person", j_str(it->person));
	json_object_set_new(o, "short_id", j_short(it->person));
	json_object_set_new(o, "name", j_str(it->name));
	json_object_set_new(o, "score", json_integer(it->score));
	json_object_set_new(o, "reason", j_str(it->reason));
	return (json_array_append_new(arg, o));
}

static int
next_text(void *arg, const tally_next_item *it)
{
	int *n = arg;

	printf("%2d. ", ++*n);
	put_col(it->name, 24);
	printf(" %4d  %s\n", it->score, it->reason);
	return (0);
}

int
cmd_next(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self = cli_find("next");
	json_t        *arr  = NULL;
	long           count = 10;
	int            ch, rv, n = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":hn:", opts, NULL)) != -1) {
		if (ch == 'n') {
			if (cli_int(optarg, 1, 10000, &count) != 0)
				return (cli_usage(self,
				    "-n '%s' is not a number from 1 to 10000",
				    optarg));
		} else if (ch == 'J')
			c->json = 1;
		else if (ch == 'h')
			return (cli_help(self));
		else
			return (cli_badopt(self, ch, argc, argv));
	}
	if (optind != argc)
		return (cli_usage(self, "unexpected argument '%s'",
		    argv[optind]));
	if (cli_open(c, 0) != 0)
		return (1);
	if (c->json) {
		arr = json_array();
		rv  = tally_next(c->t, (int) count, next_json, arr);
	} else
		rv = tally_next(c->t, (int) count, next_text, &n);
	if (rv != 0) {
		json_decref(arr);
		return (cli_fail(c, rv));
	}
	if (c->json)
		return (j_print(arr));
	if (n == 0)
		printf("no one to contact right now\n");
	return (0);
}

typedef struct hits {
	json_t *arr; /* --json: the array being built, else NULL */
	int     n;   /* hits seen */
} hits;

static int
hit_print(void *arg, const tally_hit *h)
{
	hits   *s = arg;
	json_t *o;

	s->n++;
	if (s->arr == NULL) {
		printf("%.8s  %-11s ", h->id, h->kind);
		put_col(h->name, 24);
		putchar(' ');
		put_flat(h->snippet);
		putchar('\n');
		return (0);
	}
	o = json_object();
	json_object_set_new(o, "kind", j_str(h->kind));
	json_object_set_new(o, "id", j_str(h->id));
	json_object_set_new(o, "short_id", j_short(h->id));
	json_object_set_new(o, "person", j_str(h->person));
	json_object_set_new(o, "name", j_str(h->name));
	json_object_set_new(o, "snippet", j_str(h->snippet));
	return (json_array_append_new(s->arr, o));
}

/* Turns text into an FTS5 query of plain words: each run of non-blank
 * bytes becomes a quoted phrase (a trailing '*' kept as a prefix
 * search), so that "o'brien", "acme-corp" or "ann@acme.example" find
 * what they say.  Returns malloc'd text ("" when no word is left), or
 * NULL when memory ran out. */
static char *
plain_query(const char *s)
{
	static const char blank[] = " \t\r\n\f\v";
	char             *q, *w;

	if ((q = malloc(4 * strlen(s) + 1)) == NULL)
		return (NULL);
	w = q;
	while (*s != '\0') {
		size_t len, stars = 0;
		s += strspn(s, blank);
		len = strcspn(s, blank);
		while (stars < len && s[len - 1 - stars] == '*')
			stars++;
		if (len > stars) {
			if (w != q)
				*w++ = ' ';
			*w++ = '"';
			for (size_t i = 0; i < len - stars; i++) {
				if (s[i] == '"')
					*w++ = '"';
				*w++ = s[i];
			}
			*w++ = '"';
			if (stars > 0)
				*w++ = '*';
		}
		s += len;
	}
	*w = '\0';
	return (q);
}

int
cmd_search(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'l' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self  = cli_find("search");
	hits           s     = { NULL, 0 };
	long           limit = 50;
	char          *plain, why[512];
	int            ch, rv;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 'l') {
			if (cli_int(optarg, 1, 100000, &limit) != 0)
				return (cli_usage(self,
				    "--limit '%s' is not a number from 1 to "
				    "100000",
				    optarg));
		} else if (ch == 'J')
			c->json = 1;
		else if (ch == 'h')
			return (cli_help(self));
		else
			return (cli_badopt(self, ch, argc, argv));
	}
	if (optind + 1 != argc)
		return (cli_usage(self, "search takes one TEXT (quote it)"));
	if (cli_open(c, 0) != 0)
		return (1);
	if (c->json)
		s.arr = json_array();
	rv = tally_search(c->t, argv[optind], (int) limit, hit_print, &s);
	if (rv == TALLY_EINVAL && s.n == 0 &&
	    strncmp(tally_errmsg(c->t), "bad search", 10) == 0) {
		/* Not FTS5 syntax: look for the words as typed. */
		snprintf(why, sizeof why, "%s", tally_errmsg(c->t));
		if ((plain = plain_query(argv[optind])) == NULL) {
			json_decref(s.arr);
			return (cli_error("out of memory"));
		}
		if (*plain == '\0')
			rv = 0;
		else
			rv = tally_search(
			    c->t, plain, (int) limit, hit_print, &s);
		free(plain);
		if (rv == TALLY_EINVAL) {
			json_decref(s.arr);
			cli_error("%s", why);
			return (EXIT_USAGE);
		}
	}
	if (rv != 0) {
		json_decref(s.arr);
		return (cli_fail(c, rv));
	}
	if (c->json)
		return (j_print(s.arr));
	if (s.n == 0)
		printf("no matches\n");
	return (0);
}

/* Renders the graph with Graphviz's dot -Tsvg into out.  The DOT text
 * is made first, in a temporary file, so that a failing replica never
 * feeds dot half a graph; dot's output passes through here, so that a
 * write error on out is seen. */
static int
graph_svg(cli *c, FILE *out)
{
	FILE   *dot;
	char    buf[8192];
	ssize_t n;
	int     fds[2], status, rv;
	pid_t   pid;

	if ((dot = tmpfile()) == NULL)
		return (cli_error("cannot make a temporary file: %s",
		    strerror(errno)));
	if ((rv = tally_graph_dot(c->t, dot)) != 0) {
		fclose(dot);
		return (cli_fail(c, rv));
	}
	if (fflush(dot) != 0 || fseek(dot, 0, SEEK_SET) != 0) {
		fclose(dot);
		return (cli_error("writing a temporary file failed: %s",
		    strerror(errno)));
	}
	if (pipe(fds) != 0) {
		fclose(dot);
		return (cli_error("pipe: %s", strerror(errno)));
	}
	if ((pid = fork()) < 0) {
		fclose(dot);
		close(fds[0]);
		close(fds[1]);
		return (cli_error("fork: %s", strerror(errno)));
	}
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(fileno(dot), STDIN_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		if (null >= 0)
			dup2(null, STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		execlp("dot", "dot", "-Tsvg", (char *) NULL);
		_exit(127);
	}
	fclose(dot);
	close(fds[1]);
	while ((n = read(fds[0], buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		fwrite(buf, 1, (size_t) n, out);
	}
	close(fds[0]);
	while ((rv = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (rv < 0 || !WIFEXITED(status))
		return (cli_error("Graphviz's dot failed"));
	if (WEXITSTATUS(status) == 127)
		return (cli_error("--format svg needs Graphviz's 'dot' "
		                  "(apt-get install graphviz)"));
	if (WEXITSTATUS(status) != 0)
		return (cli_error("Graphviz's dot failed (exit status %d)",
		    WEXITSTATUS(status)));
	if (fflush(out) != 0 || ferror(out))
		return (cli_error("writing the graph failed: %s",
		    strerror(errno)));
	return (0);
}

int
cmd_graph(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self   = cli_find("graph");
	const char    *format = "dot", *path = NULL;
	char          *tmp    = NULL;
	FILE          *out    = stdout;
	int            ch, rv;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		if (ch == 'f')
			format = optarg;
		else if (ch == 'o')
			path = optarg;
		else if (ch == 'h')
			return (cli_help(self));
		else if (ch != 'J')
			return (cli_badopt(self, ch, argc, argv));
	}
	if (optind != argc)
		return (cli_usage(self, "unexpected argument '%s'",
		    argv[optind]));
	if (strcmp(format, "dot") != 0 && strcmp(format, "svg") != 0)
		return (cli_usage(self, "unknown format '%s' (dot, svg)",
		    format));
	if (cli_open(c, 0) != 0)
		return (1);
	if (path != NULL && (out = cli_out_open(path, &tmp)) == NULL)
		return (1);
	if (strcmp(format, "svg") == 0)
		rv = graph_svg(c, out);
	else if ((rv = tally_graph_dot(c->t, out)) != 0)
		rv = cli_fail(c, rv);
	if (out != stdout)
		rv = cli_out_close(out, path, tmp, rv);
	return (rv);
}
