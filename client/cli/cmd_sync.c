/*
 * cmd_sync.c -- `tally sync`: one command a person (or a cron job) runs
 * to send what is queued and take in what arrived at the relay: letters
 * between people (tally_mail_sync(), records and introductions), then
 * this replica's changes with my other devices (tally_log_sync()); and
 * `tally sync --status`.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define WAIT_MAX 3600 /* seconds --wait may ask for */

typedef struct sync_out {
	json_t *events; /* with --json */
} sync_out;

static void
mail_event(void *arg, const tally_mail_event *e)
{
	sync_out *so = arg;

	if (so->events != NULL) {
		json_t *o = json_object();
		json_object_set_new(o, "what", json_string(e->what));
		json_object_set_new(o, "text", j_str(e->text));
		json_object_set_new(o, "ref", j_str(e->ref));
		json_array_append_new(so->events, o);
		return;
	}
	printf("%-9s %s\n", e->what, e->text);
	fflush(stdout);
}

/* Sends and takes in letters; with --json fills o.  Prints the reason
 * and returns 1 on failure. */
static int
sync_mail(cli *c, unsigned wait, json_t *o)
{
	tally_mail_stats st;
	sync_out         so = { NULL };
	int              rv;

	if (o != NULL)
		so.events = json_array();
	rv = tally_mail_sync(c->t, &st, wait, mail_event, &so);
	if (rv != 0) {
		json_decref(so.events);
		if (st.queued > 0 &&
		    (rv == TALLY_ECONNREF || rv == TALLY_ETIMEDOUT))
			return (cli_error("%s; %u letter%s stay%s queued for "
			                  "the next sync",
			    tally_errmsg(c->t), st.queued,
			    st.queued == 1 ? "" : "s",
			    st.queued == 1 ? "s" : ""));
		return (cli_fail(c, rv));
	}
	if (o != NULL) {
		json_object_set_new(o, "sent", json_integer(st.sent));
		json_object_set_new(o, "received", json_integer(st.received));
		json_object_set_new(
		    o, "duplicates", json_integer(st.duplicates));
		json_object_set_new(o, "rejected", json_integer(st.rejected));
		json_object_set_new(o, "queued", json_integer(st.queued));
		json_object_set_new(o, "events", so.events);
		return (0);
	}
	if (st.sent + st.received + st.duplicates + st.rejected == 0 &&
	    st.queued == 0)
		printf("nothing to send, nothing new\n");
	else
		printf("sync: %u sent, %u received%s%s%s%s, %u still queued\n",
		    st.sent, st.received, st.duplicates ? ", " : "",
		    st.duplicates ? "duplicates dropped" : "",
		    st.rejected ? ", " : "",
		    st.rejected ? "some envelopes refused" : "", st.queued);
	return (0);
}

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

	if (!b->on ||
	    total < (strcmp(what, "push") == 0 ? BAR_PUSH : BAR_PULL))
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

/* Pushes and pulls this replica's operations; with --json fills o.
 * Prints the reason and returns 1 on failure. */
static int
log_sync(cli *c, json_t *o, int *down)
{
	tally_sync_stats st;
	tally_sync_opts  so;
	struct bar       b;
	int              rv;

	memset(&b, 0, sizeof b);
	b.on        = isatty(STDERR_FILENO) && !c->json;
	so.progress = cli_sync_progress;
	so.arg      = &b;
	rv          = tally_log_sync(c->t, &st, &so);
	bar_end(&b);
	if (rv != 0 && down != NULL &&
	    (rv == TALLY_ECONNREF || rv == TALLY_ETIMEDOUT)) {
		*down = rv; /* the letters' sync says it, with what waits */
		return (0);
	}
	if (rv != 0)
		return (cli_fail(c, rv));
	if (st.ignored > 0)
		fprintf(stderr,
		    "tally: warning: %zu log entr%s not from a "
		    "device of yours (or sealed with an old key) "
		    "ignored\n",
		    st.ignored, st.ignored == 1 ? "y" : "ies");
	if (o != NULL) {
		json_object_set_new(
		    o, "pushed", json_integer((json_int_t) st.pushed));
		json_object_set_new(
		    o, "batches_up", json_integer((json_int_t) st.batches_up));
		json_object_set_new(
		    o, "bytes_up", json_integer((json_int_t) st.bytes_up));
		json_object_set_new(
		    o, "entries", json_integer((json_int_t) st.entries));
		json_object_set_new(
		    o, "pulled", json_integer((json_int_t) st.pulled));
		json_object_set_new(
		    o, "applied", json_integer((json_int_t) st.applied));
		json_object_set_new(
		    o, "skipped", json_integer((json_int_t) st.skipped));
		json_object_set_new(
		    o, "bytes_down", json_integer((json_int_t) st.bytes_down));
		json_object_set_new(
		    o, "ignored", json_integer((json_int_t) st.ignored));
		return (0);
	}
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

int
cli_sync_run(cli *c)
{
	json_t *o = c->json ? json_object() : NULL;
	int     rv;

	if ((rv = log_sync(c, o, NULL)) != 0) {
		json_decref(o);
		return (rv);
	}
	return (o != NULL ? j_print(o) : 0);
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
		    s.pending_down < 0
		        ? json_null()
		        : json_integer((json_int_t) s.log_head));
		json_object_set_new(o, "epoch", json_integer(s.epoch));
		json_object_set_new(o, "revoked", json_boolean(s.revoked));
		json_object_set_new(o, "relay_error",
		    s.relay_error[0] ? json_string(s.relay_error)
		                     : json_null());
		return (j_print(o));
	}
	printf("device      %s%s\n", s.device, s.revoked ? " (revoked)" : "");
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
		{ "wait", required_argument, NULL, 'w' },
		{ "status", no_argument, NULL, 's' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self     = cli_find("sync");
	const char    *passfile = NULL;
	tally_identity id;
	json_t        *o    = NULL;
	long           wait = 0;
	int            ch, status = 0, ask, rv, down = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			if (cli_int(optarg, 0, WAIT_MAX, &wait) != 0)
				return (cli_usage(self,
				    "--wait takes seconds, 0 to %d",
				    WAIT_MAX));
			break;
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
	if (status) {
		/* The status asks the relay only when there is one to ask. */
		ask = tally_id_get(c->t, &id) == 0 && id.key_error == 0;
		if (ask && cli_unlock(c, passfile) != 0)
			return (1);
		return (sync_status(c, ask));
	}
	if (!tally_mail_ready(c->t))
		return (cli_error("no relay set: use 'tally relay set URL', "
		                  "then 'tally relay register'"));
	if (cli_unlock(c, passfile) != 0)
		return (1);
	if (c->json)
		o = json_object();
	/* My devices first: a device that just joined gets its user and
	 * peers before any letter is read.  What letters change goes to my
	 * other devices at the next sync. */
	if ((rv = log_sync(c, o, &down)) != 0 ||
	    (rv = sync_mail(c, (unsigned) wait, o)) != 0) {
		json_decref(o);
		return (rv);
	}
	if (down != 0) {
		json_decref(o);
		return (cli_fail(c, down));
	}
	return (o != NULL ? j_print(o) : 0);
}
