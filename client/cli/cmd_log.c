/*
 * cmd_log.c -- `tally log`, `tally history`, `tally done`.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tly_time.h"

int
cmd_log(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "at", required_argument, NULL, 'a' },
		{ "minutes", required_argument, NULL, 'm' },
		{ "note", required_argument, NULL, 'n' },
		{ "follow-up", required_argument, NULL, 'f' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd    *self = cli_find("log");
	tally_interaction in;
	char              person[TALLY_ID_LEN + 1], id[TALLY_ID_LEN + 1];
	long              v;
	int               ch, rv;

	memset(&in, 0, sizeof in);
	in.minutes = TALLY_UNSET;
	in.at      = -1;
	optind     = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			in.kind = optarg;
			break;
		case 'a':
			if (cli_when(optarg, &in.at) != 0)
				return (cli_usage(self,
				    "--at '%s' is not a date (YYYY-MM-DD, "
				    "YYYY-MM-DDTHH:MM, today, -3d...)",
				    optarg));
			break;
		case 'm':
			if (cli_int(optarg, 0, 1440, &v) != 0)
				return (cli_usage(self,
				    "--minutes '%s' is not a number from 0 to "
				    "1440",
				    optarg));
			in.minutes = (int) v;
			break;
		case 'n':
			in.note = optarg;
			break;
		case 'f':
			if (cli_when(optarg, &in.follow_up) != 0)
				return (cli_usage(self,
				    "--follow-up '%s' is not a date "
				    "(YYYY-MM-DD, +3d, tomorrow...)",
				    optarg));
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
	if (optind + 1 != argc)
		return (cli_usage(self, "log takes one PERSON"));
	if (in.kind == NULL)
		return (cli_usage(self, "--kind is required"));
	if (in.at == -1)
		in.at = tly_now();
	if (cli_open(c, 0) != 0 ||
	    cli_resolve(c, person, TALLY_PERSON, argv[optind]) != 0)
		return (1);
	in.person = person;
	if ((rv = tally_log(c->t, id, &in)) != 0)
		return (cli_fail(c, rv));
	return (cli_print_id(c, id));
}

static int
history_json(void *arg, const tally_interaction *i)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", j_str(i->id));
	json_object_set_new(o, "short_id", j_short(i->id));
	json_object_set_new(o, "person", j_str(i->person));
	json_object_set_new(o, "person_name", j_str(i->person_name));
	json_object_set_new(o, "kind", j_str(i->kind));
	json_object_set_new(o, "at", j_time(i->at));
	json_object_set_new(o, "minutes",
	    i->minutes == TALLY_UNSET ? json_null() : json_integer(i->minutes));
	json_object_set_new(o, "note", j_str(i->note));
	json_object_set_new(o, "follow_up", j_time(i->follow_up));
	json_object_set_new(o, "follow_up_done", j_time(i->follow_up_done));
	json_object_set_new(o, "thanked", j_time(i->thanked));
	json_object_set_new(o, "created", j_time(i->created));
	json_object_set_new(o, "updated", j_time(i->updated));
	return (json_array_append_new(arg, o));
}

static int
history_text(void *arg, const tally_interaction *i)
{
	char at[24], fu[24];

	(void) arg;
	printf("%.8s  %s  %-8s ", i->id, fmt_time(i->at, at), i->kind);
	put_col(i->person_name, 22);
	putchar(' ');
	put_flat(i->note);
	if (i->follow_up && !i->follow_up_done)
		printf("  [follow up %s]", fmt_date(i->follow_up, fu));
	printf("\n");
	return (0);
}

int
cmd_history(cli *c, int argc, char **argv)
{
	char    id[TALLY_ID_LEN + 1];
	json_t *arr = NULL;
	int     rv;

	if ((rv = cli_args(c, cli_find("history"), argc, argv, 0, 1)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0)
		return (1);
	if (optind < argc &&
	    cli_resolve(c, id, TALLY_PERSON, argv[optind]) != 0)
		return (1);
	if (c->json)
		arr = json_array();
	rv = tally_interaction_list(c->t, optind < argc ? id : NULL,
	    c->json ? history_json : history_text, arr);
	if (rv != 0) {
		json_decref(arr);
		return (cli_fail(c, rv));
	}
	return (c->json ? j_print(arr) : 0);
}

int
cmd_done(cli *c, int argc, char **argv)
{
	char id[TALLY_ID_LEN + 1];
	int  rv;

	if ((rv = cli_args(c, cli_find("done"), argc, argv, 1, 1)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0 ||
	    cli_resolve(c, id, TALLY_INTERACTION, argv[optind]) != 0)
		return (1);
	if ((rv = tally_interaction_done(c->t, id)) != 0)
		return (cli_fail(c, rv));
	return (0);
}
