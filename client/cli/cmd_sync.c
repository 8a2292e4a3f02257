/*
 * cmd_sync.c -- `tally sync`: one command a person (or a cron job) runs
 * to send what is queued and take in what arrived at the relay.  The
 * mail part (records and introductions between people) is
 * tally_mail_sync(); sync_mail() below is its whole command side.
 */
#include <stdio.h>
#include <string.h>

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

int
cmd_sync(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "wait", required_argument, NULL, 'w' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self     = cli_find("sync");
	const char    *passfile = NULL;
	json_t        *o        = NULL;
	long           wait     = 0;
	int            ch, rv;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			if (cli_int(optarg, 0, WAIT_MAX, &wait) != 0)
				return (cli_usage(self,
				    "--wait takes seconds, 0 to %d",
				    WAIT_MAX));
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
	if (!tally_mail_ready(c->t))
		return (cli_error("no relay set: use 'tally relay set URL', "
		                  "then 'tally relay register'"));
	if (cli_unlock(c, passfile) != 0)
		return (1);
	if (c->json)
		o = json_object();
	if ((rv = sync_mail(c, (unsigned) wait, o)) != 0) {
		json_decref(o);
		return (rv);
	}
	return (o != NULL ? j_print(o) : 0);
}
