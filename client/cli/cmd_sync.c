/*
 * cmd_sync.c -- `tally sync`: the replica with my other devices through
 * the relay (tally_log_sync), and `tally sync --status`.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define BAR_WIDTH 30
#define BAR_PUSH 2000 /* operations: fewer move without a bar */
#define BAR_PULL 8    /* log entries (each up to thousands of ops) */

struct bar {
	int  on;    /* stderr is a terminal */
	int  drawn; /* a bar is on the line */
	char what[8];
};

void
cli_sync_progress(void *arg, const char *what, uint64_t done, uint64_t total)
{
	struct bar *b = arg;
	int         fill;

	if (!b->on || total < (strcmp(what, "push") == 0 ? BAR_PUSH : BAR_PULL))
		return;
	if (b->drawn && strcmp(b->what, what) != 0)
		fputc('\n', stderr);
	snprintf(b->what, sizeof b->what, "%s", what);
	fill = total > 0 ? (int) (done * BAR_WIDTH / total) : BAR_WIDTH;
	fprintf(stderr, "\r%s [%.*s%*s] %3d%% %llu/%llu %s", what, fill,
	    "##############################", BAR_WIDTH - fill, "",
	    total > 0 ? (int) (done * 100 / total) : 100,
	    (unsigned long long) done, (unsigned long long) total,
	    strcmp(what, "push") == 0 ? "operations" : "log entries");
	fflush(stderr);
	b->drawn = 1;
}

static void
bar_end(struct bar *b)
{
	if (b->drawn)
		fputc('\n', stderr);
	b->drawn = 0;
}

int
cli_sync_run(cli *c)
{
	tally_sync_stats st;
	tally_sync_opts  o;
	struct bar       b;
	int              rv;

	memset(&b, 0, sizeof b);
	b.on       = isatty(STDERR_FILENO) && !c->json;
	o.progress = cli_sync_progress;
	o.arg      = &b;
	rv         = tally_log_sync(c->t, &st, &o);
	bar_end(&b);
	if (rv != 0)
		return (cli_fail(c, rv));
	if (c->json)
		return (j_print(json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		                          "s:I, s:I}",
		    "pushed", (json_int_t) st.pushed, "batches_up",
		    (json_int_t) st.batches_up, "bytes_up",
		    (json_int_t) st.bytes_up, "entries",
		    (json_int_t) st.entries, "pulled", (json_int_t) st.pulled,
		    "applied", (json_int_t) st.applied, "skipped",
		    (json_int_t) st.skipped, "bytes_down",
		    (json_int_t) st.bytes_down, "ignored",
		    (json_int_t) st.ignored)));
	if (st.ignored > 0)
		fprintf(stderr, "tally: warning: %zu log entr%s not from a "
		                "device of yours (or sealed with an old key) "
		                "ignored\n",
		    st.ignored, st.ignored == 1 ? "y" : "ies");
	if (st.pushed == 0 && st.pulled == 0) {
		printf("up to date\n");
		return (0);
	}
	printf("pulled %zu operation%s (%zu applied", st.pulled,
	    st.pulled == 1 ? "" : "s", st.applied);
	if (st.skipped > 0)
		printf(", %zu for rows deleted elsewhere", st.skipped);
	printf("), pushed %zu\n", st.pushed);
	return (0);
}

static int
sync_status(cli *c, int ask)
{
	tally_sync_state s;
	char             when[32];
	int              rv;

	if ((rv = tally_log_sync_status(c->t, &s, ask)) != 0)
		return (cli_fail(c, rv));
	if (c->json) {
		json_t *o = json_object();

		json_object_set_new(o, "device", json_string(s.device));
		json_object_set_new(o, "last_sync", j_time(s.last_sync));
		json_object_set_new(
		    o, "pending_up", json_integer((json_int_t) s.pending_up));
		json_object_set_new(o, "pending_down",
		    s.pending_down < 0 ? json_null()
		                       : json_integer(s.pending_down));
		json_object_set_new(
		    o, "cursor", json_integer((json_int_t) s.cursor));
		json_object_set_new(o, "log_head",
		    s.pending_down < 0 ? json_null()
		                       : json_integer((json_int_t) s.log_head));
		json_object_set_new(o, "epoch", json_integer(s.epoch));
		json_object_set_new(o, "revoked", json_boolean(s.revoked));
		json_object_set_new(o, "relay_error",
		    s.relay_error[0] ? json_string(s.relay_error)
		                     : json_null());
		return (j_print(o));
	}
	printf("device      %s%s\n", s.device,
	    s.revoked ? " (revoked)" : "");
	printf("last sync   %s\n",
	    s.last_sync ? fmt_time(s.last_sync, when) : "never");
	printf("to push     %llu operation%s\n",
	    (unsigned long long) s.pending_up, s.pending_up == 1 ? "" : "s");
	if (s.pending_down >= 0)
		printf("to pull     %lld log entr%s\n",
		    (long long) s.pending_down,
		    s.pending_down == 1 ? "y" : "ies");
	else if (s.relay_error[0] != '\0')
		printf("to pull     unknown (%s)\n", s.relay_error);
	else
		printf("to pull     unknown (no relay, or no identity)\n");
	return (0);
}

int
cmd_sync(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", no_argument, NULL, 's' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd    *self     = cli_find("sync");
	const char       *passfile = NULL;
	tally_identity    id;
	int               ch, status = 0, ask;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			status = 1;
			break;
		case 'p':
			passfile = optarg;
			break;
		case 'J':
			c->json = 1;
			break;
		case 'h':
			return (cli_help(self));
		default:
			return (cli_badopt(self, ch, argc, argv));
		}
	}
	if (optind != argc)
		return (
		    cli_usage(self, "unexpected argument '%s'", argv[optind]));
	if (cli_open(c, 0) != 0)
		return (1);
	if (!status)
		return (cli_unlock(c, passfile) != 0 ? 1 : cli_sync_run(c));
	/* The status asks the relay only when there is one to ask. */
	ask = tally_id_get(c->t, &id) == 0 && id.key_error == 0;
	if (ask && cli_unlock(c, passfile) != 0)
		return (1);
	return (sync_status(c, ask));
}
