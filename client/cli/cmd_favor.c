/*
 * cmd_favor.c -- `tally favor`, `thank`, `ledger`, `intro`, `reference`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int
favor_add(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "kind", required_argument, NULL, 'k' },
		{ "status", required_argument, NULL, 's' },
		{ "weight", required_argument, NULL, 'w' },
		{ "note", required_argument, NULL, 'n' },
		{ "on", required_argument, NULL, 'o' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self = cli_find("favor");
	const char    *from = NULL, *to = NULL;
	char           giver[TALLY_ID_LEN + 1], receiver[TALLY_ID_LEN + 1];
	char           id[TALLY_ID_LEN + 1];
	tally_favor    f;
	long           v;
	int            ch, rv;

	memset(&f, 0, sizeof f);
	f.weight = TALLY_UNSET;
	optind   = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'k':
			f.kind = optarg;
			break;
		case 's':
			f.status = optarg;
			break;
		case 'w':
			if (cli_int(optarg, 0, 100, &v) != 0)
				return (cli_usage(self,
				    "--weight '%s' is not a number from 0 to "
				    "100",
				    optarg));
			f.weight = (int) v;
			break;
		case 'n':
			f.note = optarg;
			break;
		case 'o':
			if (cli_when(optarg, &f.done_at) != 0)
				return (cli_usage(self,
				    "--on '%s' is not a date", optarg));
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
		return (cli_usage(self, "unexpected argument '%s'",
		    argv[optind]));
	if (from == NULL || to == NULL || f.kind == NULL)
		return (cli_usage(self, "--from, --to and --kind are required"));
	if (cli_open(c, 0) != 0 ||
	    cli_resolve(c, giver, TALLY_PERSON, from) != 0 ||
	    cli_resolve(c, receiver, TALLY_PERSON, to) != 0)
		return (1);
	f.giver    = giver;
	f.receiver = receiver;
	if ((rv = tally_favor_add(c->t, id, &f)) != 0)
		return (cli_fail(c, rv));
	return (cli_print_id(c, id));
}

/* favor done|decline ID */
static int
favor_set(cli *c, int argc, char **argv)
{
	char id[TALLY_ID_LEN + 1];
	int  rv;

	if ((rv = cli_args(c, cli_find("favor"), argc, argv, 1, 1)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0 ||
	    cli_resolve(c, id, TALLY_FAVOR, argv[optind]) != 0)
		return (1);
	rv = tally_favor_status(c->t, id,
	    strcmp(argv[0], "done") == 0 ? "done" : "declined");
	return (rv != 0 ? cli_fail(c, rv) : 0);
}

/* thank ID: a favor first, then a conversation. */
static int
thank(cli *c, const char *self, int argc, char **argv)
{
	char id[TALLY_ID_LEN + 1];
	int  rv;

	if ((rv = cli_args(c, cli_find(self), argc, argv, 1, 1)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0)
		return (1);
	rv = tally_resolve(c->t, id, TALLY_FAVOR, argv[optind]);
	if (rv == TALLY_ENOENT && strcmp(self, "thank") == 0)
		rv = tally_resolve(c->t, id, TALLY_INTERACTION, argv[optind]);
	if (rv == TALLY_ENOENT && strcmp(self, "thank") == 0)
		return (cli_error("no favor or conversation '%s'",
		    argv[optind]));
	if (rv != 0 || (rv = tally_thank(c->t, id)) != 0)
		return (cli_fail(c, rv));
	return (0);
}

static int
favor_thank(cli *c, int argc, char **argv)
{
	return (thank(c, "favor", argc, argv));
}

int
cmd_thank(cli *c, int argc, char **argv)
{
	return (thank(c, "thank", argc, argv));
}

static int
favor_json(void *arg, const tally_favor *f)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", j_str(f->id));
	json_object_set_new(o, "short_id", j_short(f->id));
	json_object_set_new(o, "from", j_str(f->giver));
	json_object_set_new(o, "from_name", j_str(f->giver_name));
	json_object_set_new(o, "to", j_str(f->receiver));
	json_object_set_new(o, "to_name", j_str(f->receiver_name));
	json_object_set_new(o, "kind", j_str(f->kind));
	json_object_set_new(o, "status", j_str(f->status));
	json_object_set_new(o, "weight", json_integer(f->weight));
	json_object_set_new(o, "note", j_str(f->note));
	json_object_set_new(o, "intro", j_str(f->intro));
	json_object_set_new(o, "done_at", j_time(f->done_at));
	json_object_set_new(o, "thanked", j_time(f->thanked));
	json_object_set_new(o, "confirmed", json_boolean(f->confirmed));
	json_object_set_new(o, "created", j_time(f->created));
	json_object_set_new(o, "updated", j_time(f->updated));
	return (json_array_append_new(arg, o));
}

static int
favor_text(void *arg, const tally_favor *f)
{
	char when[24];

	(void) arg;
	printf("%.8s  %s  %-12s %-9s %s -> %s (%d)%s", f->id,
	    fmt_date(f->done_at ? f->done_at : f->created, when), f->kind,
	    f->status, f->giver_name, f->receiver_name, f->weight,
	    f->note ? ": " : "");
	put_flat(f->note);
	printf("%s%s\n", f->thanked ? " [thanked]" : "",
	    f->confirmed ? " [confirmed by both]" : "");
	return (0);
}

static int
favor_list(cli *c, int argc, char **argv)
{
	char    id[TALLY_ID_LEN + 1];
	json_t *arr = NULL;
	int     rv;

	if ((rv = cli_args(c, cli_find("favor"), argc, argv, 0, 1)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0)
		return (1);
	if (optind < argc &&
	    cli_resolve(c, id, TALLY_PERSON, argv[optind]) != 0)
		return (1);
	if (c->json)
		arr = json_array();
	rv = tally_favor_list(c->t, optind < argc ? id : NULL,
	    c->json ? favor_json : favor_text, arr);
	if (rv != 0) {
		json_decref(arr);
		return (cli_fail(c, rv));
	}
	return (c->json ? j_print(arr) : 0);
}

int
cmd_favor(cli *c, int argc, char **argv)
{
	static const cli_cmd sub[] = {
		{ "add", favor_add, NULL, NULL },
		{ "done", favor_set, NULL, NULL },
		{ "decline", favor_set, NULL, NULL },
		{ "thank", favor_thank, NULL, NULL },
		{ "list", favor_list, NULL, NULL },
		{ "ls", favor_list, NULL, NULL },
		{ NULL, NULL, NULL, NULL },
	};

	return (cli_dispatch(c, "favor", sub, argc, argv));
}

/* -- ledger ------------------------------------------------------------ */

static int
ledger_json(void *arg, const tally_ledger_row *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "person", j_str(r->person));
	json_object_set_new(o, "short_id", j_short(r->person));
	json_object_set_new(o, "name", j_str(r->name));
	json_object_set_new(o, "given", json_integer(r->given));
	json_object_set_new(o, "received", json_integer(r->received));
	json_object_set_new(o, "balance", json_integer(r->balance));
	json_object_set_new(o, "owes",
	    j_str(r->balance > 0     ? "they owe me"
	            : r->balance < 0 ? "I owe them"
	                             : "even"));
	json_object_set_new(o, "favors_given", json_integer(r->n_given));
	json_object_set_new(o, "favors_received", json_integer(r->n_received));
	json_object_set_new(o, "pending", json_integer(r->pending));
	json_object_set_new(o, "confirmed", json_integer(r->confirmed));
	json_object_set_new(o, "last_exchange", j_time(r->last));
	return (json_array_append_new(arg, o));
}

static int
ledger_text(void *arg, const tally_ledger_row *r)
{
	char when[24];
	int *n = arg;

	if ((*n)++ == 0)
		printf("%-24s %6s %9s %8s  %-12s %s\n", "PERSON", "GIVEN",
		    "RECEIVED", "BALANCE", "", "LAST");
	put_col(r->name, 24);
	printf(" %6d %9d %+8d  %-12s %s%s\n", r->given, r->received,
	    r->balance,
	    r->balance > 0   ? "they owe you"
	    : r->balance < 0 ? "you owe them"
	                     : "even",
	    fmt_date(r->last, when), r->pending ? "  (pending)" : "");
	return (0);
}

int
cmd_ledger(cli *c, int argc, char **argv)
{
	char    id[TALLY_ID_LEN + 1];
	json_t *arr = NULL;
	int     rv, n = 0;

	if ((rv = cli_args(c, cli_find("ledger"), argc, argv, 0, 1)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0)
		return (1);
	if (optind < argc &&
	    cli_resolve(c, id, TALLY_PERSON, argv[optind]) != 0)
		return (1);
	if (c->json) {
		arr = json_array();
		rv  = tally_ledger(c->t, optind < argc ? id : NULL,
		     ledger_json, arr);
	} else
		rv = tally_ledger(c->t, optind < argc ? id : NULL,
		    ledger_text, &n);
	if (rv != 0) {
		json_decref(arr);
		return (cli_fail(c, rv));
	}
	if (c->json)
		return (j_print(arr));
	if (n == 0)
		printf("no favors recorded yet\n");
	if (optind < argc) {
		printf("\n");
		rv = tally_favor_list(c->t, id, favor_text, NULL);
	}
	return (rv != 0 ? cli_fail(c, rv) : 0);
}

/* -- intro ------------------------------------------------------------- */

static int
intro_add(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "between", required_argument, NULL, 'w' },
		{ "note", required_argument, NULL, 'n' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self = cli_find("intro");
	const char    *by = NULL, *between[2] = { NULL, NULL };
	char           ids[3][TALLY_ID_LEN + 1], id[TALLY_ID_LEN + 1];
	tally_intro    in;
	int            ch, rv, nb = 0;

	memset(&in, 0, sizeof in);
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			by = optarg;
			break;
		case 'w':
			/* --between A B, or --between A --between B */
			if (nb < 2)
				between[nb++] = optarg;
			if (nb < 2 && optind < argc && argv[optind][0] != '-')
				between[nb++] = argv[optind++];
			break;
		case 'n':
			in.note = optarg;
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
		return (cli_usage(self, "unexpected argument '%s'",
		    argv[optind]));
	if (by == NULL || nb != 2)
		return (cli_usage(self,
		    "--by PERSON and --between PERSON PERSON are required"));
	if (cli_open(c, 0) != 0 ||
	    cli_resolve(c, ids[0], TALLY_PERSON, by) != 0 ||
	    cli_resolve(c, ids[1], TALLY_PERSON, between[0]) != 0 ||
	    cli_resolve(c, ids[2], TALLY_PERSON, between[1]) != 0)
		return (1);
	in.by = ids[0];
	in.a  = ids[1];
	in.b  = ids[2];
	if ((rv = tally_intro_add(c->t, id, &in)) != 0)
		return (cli_fail(c, rv));
	return (cli_print_id(c, id));
}

static int
intro_json(void *arg, const tally_intro *i)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", j_str(i->id));
	json_object_set_new(o, "short_id", j_short(i->id));
	json_object_set_new(o, "by", j_str(i->by));
	json_object_set_new(o, "by_name", j_str(i->by_name));
	json_object_set_new(o, "a", j_str(i->a));
	json_object_set_new(o, "a_name", j_str(i->a_name));
	json_object_set_new(o, "b", j_str(i->b));
	json_object_set_new(o, "b_name", j_str(i->b_name));
	json_object_set_new(o, "note", j_str(i->note));
	json_object_set_new(o, "status", j_str(i->status));
	json_object_set_new(o, "created", j_time(i->created));
	json_object_set_new(o, "updated", j_time(i->updated));
	return (json_array_append_new(arg, o));
}

static int
intro_text(void *arg, const tally_intro *i)
{
	char when[24];

	(void) arg;
	printf("%.8s  %s  %s introduced %s and %s%s", i->id,
	    fmt_date(i->created, when), i->by_name, i->a_name, i->b_name,
	    i->note ? ": " : "");
	put_flat(i->note);
	if (strcmp(i->status, "made") != 0) /* asked, or did not go ahead */
		printf("  (%s)", i->status);
	putchar('\n');
	return (0);
}

static int
intro_list(cli *c, int argc, char **argv)
{
	json_t *arr = NULL;
	int     rv;

	if ((rv = cli_args(c, cli_find("intro"), argc, argv, 0, 0)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0)
		return (1);
	if (c->json)
		arr = json_array();
	rv = tally_intro_list(c->t, c->json ? intro_json : intro_text, arr);
	if (rv != 0) {
		json_decref(arr);
		return (cli_fail(c, rv));
	}
	return (c->json ? j_print(arr) : 0);
}

int
cmd_intro(cli *c, int argc, char **argv)
{
	static const cli_cmd sub[] = {
		{ "add", intro_add, NULL, NULL },
		{ "propose", intro_propose, NULL, NULL },
		{ "consent", intro_consent, NULL, NULL },
		{ "decline", intro_decline, NULL, NULL },
		{ "list", intro_list, NULL, NULL },
		{ "ls", intro_list, NULL, NULL },
		{ NULL, NULL, NULL, NULL },
	};

	return (cli_dispatch(c, "intro", sub, argc, argv));
}

/* -- reference --------------------------------------------------------- */

/* reference add PERSON [--for TEXT], reference use ID --for TEXT */
static int
reference_add_use(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "for", required_argument, NULL, 'f' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self = cli_find("reference");
	const char    *for_what = NULL;
	char           id[TALLY_ID_LEN + 1], rid[TALLY_ID_LEN + 1];
	int            use = strcmp(argv[0], "use") == 0;
	int            ch, rv;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 'f')
			for_what = optarg;
		else if (ch == 'J')
			c->json = 1;
		else if (ch == 'h')
			return (cli_help(self));
		else
			return (cli_badopt(self, ch, argc, argv));
	}
	if (optind + 1 != argc)
		return (cli_usage(self, use ? "reference use takes one ID"
		                            : "reference add takes one PERSON"));
	if (use && for_what == NULL)
		return (cli_usage(self, "--for is required"));
	if (cli_open(c, 0) != 0 ||
	    cli_resolve(c, id, use ? TALLY_REFERENCE : TALLY_PERSON,
	        argv[optind]) != 0)
		return (1);
	if (use)
		rv = tally_reference_use(c->t, id, for_what);
	else
		rv = tally_reference_add(c->t, rid, id, for_what);
	if (rv != 0)
		return (cli_fail(c, rv));
	return (use ? 0 : cli_print_id(c, rid));
}

static int
reference_json(void *arg, const tally_reference *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", j_str(r->id));
	json_object_set_new(o, "short_id", j_short(r->id));
	json_object_set_new(o, "person", j_str(r->person));
	json_object_set_new(o, "person_name", j_str(r->person_name));
	json_object_set_new(o, "for", j_str(r->for_what));
	json_object_set_new(o, "uses", json_integer(r->uses));
	json_object_set_new(o, "last_used", j_time(r->last_used));
	json_object_set_new(o, "created", j_time(r->created));
	json_object_set_new(o, "updated", j_time(r->updated));
	return (json_array_append_new(arg, o));
}

static int
reference_text(void *arg, const tally_reference *r)
{
	char when[24];

	(void) arg;
	printf("%.8s  ", r->id);
	put_col(r->person_name, 24);
	printf(" used %d time%s (last %s)%s", r->uses, r->uses == 1 ? "" : "s",
	    fmt_date(r->last_used, when), r->for_what ? ": " : "");
	put_flat(r->for_what);
	putchar('\n');
	return (0);
}

static int
reference_list(cli *c, int argc, char **argv)
{
	json_t *arr = NULL;
	int     rv;

	if ((rv = cli_args(c, cli_find("reference"), argc, argv, 0, 0)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0)
		return (1);
	if (c->json)
		arr = json_array();
	rv = tally_reference_list(c->t,
	    c->json ? reference_json : reference_text, arr);
	if (rv != 0) {
		json_decref(arr);
		return (cli_fail(c, rv));
	}
	return (c->json ? j_print(arr) : 0);
}

int
cmd_reference(cli *c, int argc, char **argv)
{
	static const cli_cmd sub[] = {
		{ "add", reference_add_use, NULL, NULL },
		{ "use", reference_add_use, NULL, NULL },
		{ "list", reference_list, NULL, NULL },
		{ "ls", reference_list, NULL, NULL },
		{ NULL, NULL, NULL, NULL },
	};

	return (cli_dispatch(c, "reference", sub, argc, argv));
}
