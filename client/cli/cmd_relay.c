/*
 * cmd_relay.c -- `tally relay`: which relay this replica uses, registering
 * my identity there, and what the relay holds for me.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Parses [--invite CODE] [--passphrase-file FILE] [--json]. */
static int
relay_opts(
    cli *c, int argc, char **argv, const char **invite, const char **passfile)
{
	static const struct option opts[] = {
		{ "invite", required_argument, NULL, 'i' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self = cli_find("relay");
	int            ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			if (invite == NULL)
				return (cli_badopt(self, ch, argc, argv));
			*invite = optarg;
			break;
		case 'p':
			*passfile = optarg;
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
	return (-1);
}

static int
relay_set(cli *c, int argc, char **argv)
{
	int rv;

	if ((rv = cli_args(c, cli_find("relay"), argc, argv, 1, 1)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0)
		return (1);
	if ((rv = tally_relay_set(c->t, argv[optind])) != 0)
		return (cli_fail(c, rv));
	return (0);
}

static int
relay_register(cli *c, int argc, char **argv)
{
	const char *invite = NULL, *passfile = NULL;
	int         rv;

	if ((rv = relay_opts(c, argc, argv, &invite, &passfile)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0 || cli_unlock(c, passfile) != 0)
		return (1);
	if ((rv = tally_relay_register(c->t, invite)) != 0)
		return (cli_fail(c, rv));
	if (!c->json)
		printf("registered\n");
	else
		return (j_print(json_pack("{s:b}", "registered", 1)));
	return (0);
}

static int
relay_status(cli *c, int argc, char **argv)
{
	tally_relay_state st;
	const char       *passfile = NULL;
	int               rv;

	if ((rv = relay_opts(c, argc, argv, NULL, &passfile)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0 || cli_unlock(c, passfile) != 0)
		return (1);
	if ((rv = tally_relay_status(c->t, &st)) != 0)
		return (cli_fail(c, rv));
	if (c->json) {
		json_t *o = json_object();

		json_object_set_new(o, "url", json_string(st.url));
		json_object_set_new(
		    o, "registered", json_boolean(st.registered));
		json_object_set_new(
		    o, "used", json_integer((json_int_t) st.used));
		json_object_set_new(
		    o, "quota", json_integer((json_int_t) st.quota));
		json_object_set_new(o, "mails", json_integer(st.mails));
		json_object_set_new(
		    o, "log_head", json_integer((json_int_t) st.log_head));
		return (j_print(o));
	}
	printf("relay       %s\n", st.url);
	if (!st.registered) {
		printf("registered  no (tally relay register [--invite "
		       "CODE])\n");
		return (0);
	}
	printf("registered  yes\n");
	printf("stored      %llu of %llu bytes\n",
	    (unsigned long long) st.used, (unsigned long long) st.quota);
	printf(
	    "mailbox     %u envelope%s\n", st.mails, st.mails == 1 ? "" : "s");
	printf("log         %llu entries\n", (unsigned long long) st.log_head);
	return (0);
}

int
cmd_relay(cli *c, int argc, char **argv)
{
	static const cli_cmd sub[] = {
		{ "set", relay_set, NULL, NULL },
		{ "register", relay_register, NULL, NULL },
		{ "status", relay_status, NULL, NULL },
		{ NULL, NULL, NULL, NULL },
	};

	return (cli_dispatch(c, "relay", sub, argc, argv));
}
