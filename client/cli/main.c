/*
 * main.c -- `tally`: global options and the command table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tly_time.h"

const cli_cmd cli_commands[] = {
	{ "init", cmd_init, "init [--name NAME]",
	    "create the replica and the user ('me')" },
	{ "person", cmd_person,
	    "person add NAME [--org ORG] [--title T] [--email E]... "
	    "[--phone P]...\n"
	    "         [--url U] [--how-met TEXT] [--referred-by PERSON] "
	    "[--tag T]...\n"
	    "         [--closeness 0-5] [--note TEXT]\n"
	    "       tally person list [--tag T] [--json]\n"
	    "       tally person show PERSON [--json]\n"
	    "       tally person edit PERSON [same options as add]\n"
	    "         [--rm-email E]... [--rm-phone P]... [--rm-tag T]... "
	    "[--name NAME]\n"
	    "       tally person rm PERSON",
	    "the people in your network" },
	{ "log", cmd_log,
	    "log PERSON --kind call|coffee|meeting|email|event [--at WHEN]\n"
	    "         [--minutes N] [--note TEXT] [--follow-up WHEN]",
	    "record a conversation" },
	{ "history", cmd_history, "history [PERSON] [--json]",
	    "list conversations, newest first" },
	{ "done", cmd_done, "done ID", "close the follow-up of a conversation" },
	{ "favor", cmd_favor,
	    "favor add --from PERSON|me --to PERSON|me --kind KIND\n"
	    "         [--status asked|promised|done|declined] [--weight N]\n"
	    "         [--note TEXT] [--on WHEN]\n"
	    "       tally favor done ID\n"
	    "       tally favor decline ID\n"
	    "       tally favor thank ID\n"
	    "       tally favor list [PERSON] [--json]\n"
	    "  KIND: introduction, reference, referral, advice, resume, info, "
	    "other",
	    "favors given and received" },
	{ "thank", cmd_thank, "thank ID",
	    "record thanks sent for a favor or a conversation" },
	{ "ledger", cmd_ledger, "ledger [PERSON] [--json]",
	    "who owes whom: favors given and received, weighted" },
	{ "intro", cmd_intro,
	    "intro add --by PERSON|me --between PERSON PERSON [--note TEXT]\n"
	    "       tally intro propose --between PERSON PERSON --note TEXT "
	    "[--json]\n"
	    "       tally intro consent ID [--share email,phone,org,title,url]"
	    "\n"
	    "       tally intro decline ID [--reason TEXT]\n"
	    "       tally intro list [--json]\n"
	    "  'intro add' records one that happened; 'intro propose' asks\n"
	    "  both peers through the relay first (double opt-in).",
	    "introductions" },
	{ "reference", cmd_reference,
	    "reference add PERSON [--for TEXT]\n"
	    "       tally reference use ID --for TEXT\n"
	    "       tally reference list [--json]",
	    "references, and how often each was tapped" },
	{ "due", cmd_due, "due [--within DAYS] [--json]",
	    "thanks to send, follow-ups and promises due" },
	{ "next", cmd_next, "next [-n N] [--json]",
	    "whom to contact first, with the reason" },
	{ "search", cmd_search, "search TEXT [--limit N] [--json]",
	    "full-text search over people, notes and conversations" },
	{ "import", cmd_import,
	    "import linkedin|google|vcard|json FILE [--skip-bad] [--dry-run] "
	    "[--json]",
	    "import contacts (LinkedIn, Google CSV, vCard, tally JSON)" },
	{ "export", cmd_export, "export json|csv|vcard [-o FILE]",
	    "export the replica" },
	{ "graph", cmd_graph, "graph [--format dot|svg] [-o FILE]",
	    "who introduced or referred whom, as Graphviz" },
	{ "id", cmd_id,
	    "id init [--passphrase-file FILE | --no-passphrase] [--json]\n"
	    "       tally id show [--json]\n"
	    "  The secret key rests in identity.key next to the replica\n"
	    "  (mode 0600), sealed under a passphrase asked on the terminal,\n"
	    "  read from --passphrase-file FILE or $TALLY_PASSPHRASE.",
	    "your identity: the tally id others link you by" },
	{ "peer", cmd_peer,
	    "peer add PERSON TALLY_ID\n"
	    "       tally peer verify PERSON [--confirm] [--json]\n"
	    "       tally peer list [--json]\n"
	    "       tally peer rm PERSON",
	    "people linked to their tally id; safety codes" },
	{ "record", cmd_record,
	    "record new favor|referral|reference --with PERSON --note TEXT\n"
	    "         [--from me|PERSON] [--to me|PERSON] [--on DATE]\n"
	    "         [--kind KIND] (favor) [--company TEXT] (referral)\n"
	    "         [--for TEXT] (reference) [--favor ID] "
	    "[--passphrase-file FILE]\n"
	    "       tally record export ID [-o FILE] [--revocation]\n"
	    "       tally record sign FILE [--yes] [-o FILE] [--favor ID] "
	    "[--passphrase-file F]\n"
	    "       tally record import FILE [--json]\n"
	    "       tally record decline FILE [--reason TEXT] [-o FILE] "
	    "[--passphrase-file F]\n"
	    "       tally record revoke ID [--reason TEXT] [-o FILE] "
	    "[--passphrase-file F]\n"
	    "       tally record propose favor|referral|reference --with "
	    "PERSON ... (as new)\n"
	    "       tally record confirm ID [--passphrase-file F]\n"
	    "       tally record decline ID [--reason TEXT]\n"
	    "       tally record list [--state proposed|confirmed|declined|"
	    "revoked] [--json]\n"
	    "       tally record show ID [--json]\n"
	    "  Without --from/--to the other person did it for you.\n"
	    "  propose, confirm, decline ID go through the relay (tally sync);"
	    "\n  with a relay set, revoke sends the revocation too.",
	    "records both sides sign, exchanged as files" },
	{ "verify", cmd_verify, "verify FILE [--json]",
	    "check a record file offline: exit 0 if complete and valid" },
	{ "relay", cmd_relay,
	    "relay set URL\n"
	    "       tally relay register [--invite CODE] "
	    "[--passphrase-file FILE] [--json]\n"
	    "       tally relay status [--passphrase-file FILE] [--json]",
	    "the relay that syncs your devices: set, register, status" },
	{ "sync", cmd_sync,
	    "sync [--wait N] [--passphrase-file FILE] [--json]\n"
	    "       tally sync --status [--passphrase-file FILE] [--json]\n"
	    "  Sends what is queued (letters, and this device's changes) and\n"
	    "  takes in what arrived at the relay; --wait N waits up to N\n"
	    "  seconds for mail when nothing came.",
	    "send and receive through the relay; sync your devices" },
	{ "inbox", cmd_inbox, "inbox [--json]",
	    "proposals and introduction requests waiting for your answer" },
	{ "device", cmd_device,
	    "device link [--wait SECONDS] [--passphrase-file FILE] [--json]\n"
	    "       tally device join CODE [--relay URL] [--name NAME]\n"
	    "         [--passphrase-file FILE | --no-passphrase] [--no-sync] "
	    "[--json]\n"
	    "       tally device list [--json]\n"
	    "       tally device revoke DEVICE [--passphrase-file FILE] "
	    "[--json]\n"
	    "  link shows a one-time code and waits; on the new device, join\n"
	    "  with it (a new, empty replica) to get your identity and data.",
	    "your devices: link a new one, list, revoke" },
	{ NULL, NULL, NULL, NULL },
};

const cli_cmd *
cli_find(const char *name)
{
	for (const cli_cmd *c = cli_commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return (c);
	return (NULL);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tally [--db PATH] [--json] COMMAND [ARGS]\n"
	    "       tally --version | --help | COMMAND --help\n\n"
	    "A job seeker's professional network, kept offline.\n\n"
	    "Commands:\n");
	for (const cli_cmd *c = cli_commands; c->name != NULL; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->help);
	fprintf(f,
	    "\nPERSON is a short id, a full name (any case) or 'me'.\n"
	    "WHEN is YYYY-MM-DD, YYYY-MM-DDTHH:MM, today, tomorrow, "
	    "yesterday,\nor +N/-N with h, d, w or m (e.g. +3d).\n"
	    "The replica is $TALLY_HOME/tally.db (default "
	    "~/.local/share/tally).\n");
}

int
main(int argc, char **argv)
{
	cli            c = { NULL, 0, NULL };
	const cli_cmd *cmd;
	int            i, rv;

	opterr = 0; /* the commands word their own option errors */
	if (tly_now_check() != 0) {
		fprintf(stderr, "tally: TALLY_NOW '%s' is not a time (Unix "
		                "seconds or YYYY-MM-DDTHH:MM:SSZ)\n",
		    getenv("TALLY_NOW"));
		return (EXIT_USAGE);
	}
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			c.db = argv[++i];
		else if (strncmp(argv[i], "--db=", 5) == 0)
			c.db = argv[i] + 5;
		else if (strcmp(argv[i], "--db") == 0) {
			fprintf(stderr, "tally: --db needs a PATH\n");
			return (EXIT_USAGE);
		} else if (strcmp(argv[i], "--json") == 0)
			c.json = 1;
		else if (strcmp(argv[i], "--version") == 0) {
			printf("tally %s\n", tally_version());
			return (cli_flush());
		} else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return (cli_flush());
		} else {
			cli_error("unknown option '%s' (see 'tally --help')",
			    argv[i]);
			return (EXIT_USAGE);
		}
	}
	if (c.db != NULL && *c.db == '\0') {
		fprintf(stderr, "tally: --db needs a PATH\n");
		return (EXIT_USAGE);
	}
	if (i == argc) {
		fprintf(
		    stderr, "tally: no command given (see 'tally --help')\n");
		return (EXIT_USAGE);
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 < argc && (cmd = cli_find(argv[i + 1])) != NULL)
			return (cli_help(cmd));
		usage(stdout);
		return (cli_flush());
	}
	if ((cmd = cli_find(argv[i])) == NULL) {
		cli_error(
		    "unknown command '%s' (see 'tally --help')", argv[i]);
		return (EXIT_USAGE);
	}
	rv = cmd->fn(&c, argc - i, argv + i);
	tally_close(c.t);
	/* A command that failed has said why: one line is enough. */
	if (rv == 0 && cli_flush() != 0)
		rv = 1;
	else if (rv != 0)
		(void) fflush(stdout);
	return (rv);
}
