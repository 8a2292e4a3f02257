/*
 * cmd_person.c -- `tally init` and `tally person ...`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int
cmd_init(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self = cli_find("init");
	const char    *name = NULL;
	char           me[TALLY_ID_LEN + 1];
	int            ch, rv;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			name = optarg;
			break;
		case 'h':
			return (cli_help(self));
		case 'J':
			c->json = 1;
			break;
		default:
			return (cli_badopt(self, ch, argc, argv));
		}
	}
	if (optind != argc)
		return (cli_usage(self, "unexpected argument '%s'",
		    argv[optind]));
	if (cli_open(c, 1) != 0)
		return (1);
	if ((rv = tally_init(c->t, name)) == TALLY_EEXIST) {
		cli_error("the replica is already initialised");
		return (0);
	}
	if (rv != 0 || (rv = tally_me(c->t, me)) != 0)
		return (cli_fail(c, rv));
	return (cli_print_id(c, me));
}

/* -- person ------------------------------------------------------------ */

/* Growable argument lists for repeated options. */
typedef struct strv {
	const char **v;
	size_t       n;
} strv;

static int
strv_push(strv *s, const char *p)
{
	const char **v = realloc(s->v, (s->n + 1) * sizeof *v);

	if (v == NULL)
		return (-1);
	v[s->n++] = p;
	s->v      = v;
	return (0);
}

static tally_strs
strs(const strv *s)
{
	tally_strs r = { s->v, s->n };

	return (r);
}

enum {
	OPT_ORG = 256,
	OPT_TITLE,
	OPT_EMAIL,
	OPT_PHONE,
	OPT_URL,
	OPT_HOWMET,
	OPT_REFBY,
	OPT_TAG,
	OPT_CLOSE,
	OPT_NOTE,
	OPT_NAME,
	OPT_RMEMAIL,
	OPT_RMPHONE,
	OPT_RMTAG,
};

static const struct option person_opts[] = {
	{ "org", required_argument, NULL, OPT_ORG },
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "email", required_argument, NULL, OPT_EMAIL },
	{ "phone", required_argument, NULL, OPT_PHONE },
	{ "url", required_argument, NULL, OPT_URL },
	{ "how-met", required_argument, NULL, OPT_HOWMET },
	{ "referred-by", required_argument, NULL, OPT_REFBY },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "closeness", required_argument, NULL, OPT_CLOSE },
	{ "note", required_argument, NULL, OPT_NOTE },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "rm-email", required_argument, NULL, OPT_RMEMAIL },
	{ "rm-phone", required_argument, NULL, OPT_RMPHONE },
	{ "rm-tag", required_argument, NULL, OPT_RMTAG },
	{ "untag", required_argument, NULL, OPT_RMTAG },
	CLI_COMMON_OPTS,
	{ NULL, 0, NULL, 0 },
};

typedef struct person_args {
	tally_person_in in;
	strv            emails, phones, tags, rm_emails, rm_phones, rm_tags;
	const char     *refby;
	char            refid[TALLY_ID_LEN + 1];
} person_args;

static void
person_args_free(person_args *a)
{
	free(a->emails.v);
	free(a->phones.v);
	free(a->tags.v);
	free(a->rm_emails.v);
	free(a->rm_phones.v);
	free(a->rm_tags.v);
}

/* Parses person options; edit enables --name and the --rm-* options.
 * Returns -1 to continue, else an exit status. */
static int
person_parse(cli *c, const cli_cmd *self, int edit, int argc, char **argv,
    person_args *a)
{
	long v;
	int  ch;

	tally_person_in_init(&a->in);
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", person_opts, NULL)) != -1) {
		int bad = 0;
		switch (ch) {
		case OPT_ORG:
			a->in.org = optarg;
			break;
		case OPT_TITLE:
			a->in.title = optarg;
			break;
		case OPT_EMAIL:
			bad = strv_push(&a->emails, optarg);
			break;
		case OPT_PHONE:
			bad = strv_push(&a->phones, optarg);
			break;
		case OPT_URL:
			a->in.url = optarg;
			break;
		case OPT_HOWMET:
			a->in.how_met = optarg;
			break;
		case OPT_REFBY:
			a->refby = optarg;
			break;
		case OPT_TAG:
			bad = strv_push(&a->tags, optarg);
			break;
		case OPT_CLOSE:
			if (edit && *optarg == '\0') {
				a->in.closeness = -2;
				break;
			}
			if (cli_int(optarg, 0, 5, &v) != 0)
				return (cli_usage(self,
				    "--closeness '%s' is not a number from 0 "
				    "to 5",
				    optarg));
			a->in.closeness = (int) v;
			break;
		case OPT_NOTE:
			a->in.note = optarg;
			break;
		case OPT_NAME:
		case OPT_RMEMAIL:
		case OPT_RMPHONE:
		case OPT_RMTAG:
			if (!edit)
				return (cli_usage(self,
				    "that option is for 'person edit'"));
			if (ch == OPT_NAME)
				a->in.name = optarg;
			else
				bad = strv_push(ch == OPT_RMEMAIL ? &a->rm_emails
				        : ch == OPT_RMPHONE       ? &a->rm_phones
				                                  : &a->rm_tags,
				    optarg);
			break;
		case 'J':
			c->json = 1;
			break;
		case 'h':
			return (cli_help(self));
		default:
			return (cli_badopt(self, ch, argc, argv));
		}
		if (bad)
			return (cli_error("out of memory"));
	}
	a->in.add_emails = strs(&a->emails);
	a->in.add_phones = strs(&a->phones);
	a->in.add_tags   = strs(&a->tags);
	a->in.rm_emails  = strs(&a->rm_emails);
	a->in.rm_phones  = strs(&a->rm_phones);
	a->in.rm_tags    = strs(&a->rm_tags);
	return (-1);
}

/* Resolves --referred-by once the replica is open. */
static int
person_refby(cli *c, person_args *a)
{
	if (a->refby == NULL)
		return (0);
	if (*a->refby == '\0') {
		a->in.referred_by = "";
		return (0);
	}
	if (cli_resolve(c, a->refid, TALLY_PERSON, a->refby) != 0)
		return (1);
	a->in.referred_by = a->refid;
	return (0);
}

static int
person_add(cli *c, int argc, char **argv)
{
	const cli_cmd *self = cli_find("person");
	person_args    a;
	char           id[TALLY_ID_LEN + 1];
	int            rv;

	memset(&a, 0, sizeof a);
	if ((rv = person_parse(c, self, 0, argc, argv, &a)) >= 0)
		goto out;
	if (optind + 1 != argc) {
		rv = cli_usage(self, optind == argc
		        ? "person add needs a NAME"
		        : "person add takes one NAME (quote it)");
		goto out;
	}
	a.in.name = argv[optind];
	if ((rv = cli_open(c, 0)) != 0 || (rv = person_refby(c, &a)) != 0)
		goto out;
	if ((rv = tally_person_add(c->t, id, &a.in)) != 0) {
		rv = cli_fail(c, rv);
		goto out;
	}
	rv = cli_print_id(c, id);
out:
	person_args_free(&a);
	return (rv);
}

static int
person_edit(cli *c, int argc, char **argv)
{
	const cli_cmd *self = cli_find("person");
	person_args    a;
	char           id[TALLY_ID_LEN + 1];
	int            rv;

	memset(&a, 0, sizeof a);
	if ((rv = person_parse(c, self, 1, argc, argv, &a)) >= 0)
		goto out;
	if (optind + 1 != argc) {
		rv = cli_usage(self, "person edit takes one PERSON");
		goto out;
	}
	if ((rv = cli_open(c, 0)) != 0 ||
	    (rv = cli_resolve(c, id, TALLY_PERSON, argv[optind])) != 0 ||
	    (rv = person_refby(c, &a)) != 0)
		goto out;
	if ((rv = tally_person_edit(c->t, id, &a.in)) != 0)
		rv = cli_fail(c, rv);
out:
	person_args_free(&a);
	return (rv);
}

json_t *
person_json(const tally_person *p)
{
	json_t *o = json_object();
	json_t *r = json_null();

	if (p->referred_by != NULL) {
		r = json_object();
		json_object_set_new(r, "id", j_str(p->referred_by));
		json_object_set_new(r, "name", j_str(p->referred_by_name));
	}
	json_object_set_new(o, "id", j_str(p->id));
	json_object_set_new(o, "short_id", j_short(p->id));
	json_object_set_new(o, "name", j_str(p->name));
	json_object_set_new(o, "is_me", json_boolean(p->is_me));
	json_object_set_new(o, "org", j_str(p->org));
	json_object_set_new(o, "title", j_str(p->title));
	json_object_set_new(o, "emails", j_strs(p->emails));
	json_object_set_new(o, "phones", j_strs(p->phones));
	json_object_set_new(o, "url", j_str(p->url));
	json_object_set_new(o, "how_met", j_str(p->how_met));
	json_object_set_new(o, "referred_by", r);
	json_object_set_new(o, "tags", j_strs(p->tags));
	json_object_set_new(o, "closeness",
	    p->closeness == TALLY_UNSET ? json_null()
	                                : json_integer(p->closeness));
	json_object_set_new(o, "note", j_str(p->note));
	json_object_set_new(o, "last_contact", j_time(p->last_contact));
	json_object_set_new(o, "created", j_time(p->created));
	json_object_set_new(o, "updated", j_time(p->updated));
	return (o);
}

static int
list_json(void *arg, const tally_person *p)
{
	return (json_array_append_new(arg, person_json(p)));
}

static void
join(const char *label, tally_strs s)
{
	if (s.n == 0)
		return;
	printf("%-13s", label);
	for (size_t i = 0; i < s.n; i++)
		printf("%s%s", i ? ", " : "", s.v[i]);
	printf("\n");
}

static int
list_text(void *arg, const tally_person *p)
{
	char when[24];

	(void) arg;
	printf("%.8s  ", p->id);
	put_col(p->name, 24);
	putchar(' ');
	put_col(p->org ? p->org : "-", 24);
	printf(" %s\n", p->last_contact ? fmt_date(p->last_contact, when) : "-");
	return (0);
}

static int
person_list(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tag", required_argument, NULL, 't' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self = cli_find("person");
	const char    *tag  = NULL;
	json_t        *arr  = NULL;
	int            ch, rv;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":ht:", opts, NULL)) != -1) {
		if (ch == 't')
			tag = optarg;
		else if (ch == 'J')
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
		rv  = tally_person_list(c->t, tag, list_json, arr);
	} else
		rv = tally_person_list(c->t, tag, list_text, NULL);
	if (rv != 0) {
		json_decref(arr);
		return (cli_fail(c, rv));
	}
	return (c->json ? j_print(arr) : 0);
}

static int
show_text(void *arg, const tally_person *p)
{
	char buf[24];

	(void) arg;
	printf("%s%s\n", p->name, p->is_me ? " (me)" : "");
	printf("%-13s%s\n", "id", p->id);
	if (p->org || p->title)
		printf("%-13s%s%s%s\n", "works", p->title ? p->title : "",
		    p->title && p->org ? " at " : "", p->org ? p->org : "");
	join("email", p->emails);
	join("phone", p->phones);
	if (p->url)
		printf("%-13s%s\n", "url", p->url);
	if (p->how_met)
		printf("%-13s%s\n", "how met", p->how_met);
	if (p->referred_by)
		printf("%-13s%s (%.8s)\n", "referred by", p->referred_by_name,
		    p->referred_by);
	join("tags", p->tags);
	if (p->closeness != TALLY_UNSET)
		printf("%-13s%d/5\n", "closeness", p->closeness);
	if (p->note)
		printf("%-13s%s\n", "note", p->note);
	printf("%-13s%s\n", "last contact",
	    p->last_contact ? fmt_rel(p->last_contact, buf) : "never");
	return (0);
}

static int
show_json(void *arg, const tally_person *p)
{
	*(json_t **) arg = person_json(p);
	return (0);
}

static int
person_show(cli *c, int argc, char **argv)
{
	char    id[TALLY_ID_LEN + 1];
	json_t *o = NULL;
	int     rv;

	if ((rv = cli_args(c, cli_find("person"), argc, argv, 1, 1)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0 ||
	    cli_resolve(c, id, TALLY_PERSON, argv[optind]) != 0)
		return (1);
	rv = tally_person_get(c->t, id, c->json ? show_json : show_text, &o);
	if (rv != 0)
		return (cli_fail(c, rv));
	return (c->json ? j_print(o) : 0);
}

static int
person_rm(cli *c, int argc, char **argv)
{
	char id[TALLY_ID_LEN + 1];
	int  rv;

	if ((rv = cli_args(c, cli_find("person"), argc, argv, 1, 1)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0 ||
	    cli_resolve(c, id, TALLY_PERSON, argv[optind]) != 0)
		return (1);
	if ((rv = tally_person_rm(c->t, id)) != 0)
		return (cli_fail(c, rv));
	return (0);
}

int
cmd_person(cli *c, int argc, char **argv)
{
	static const cli_cmd sub[] = {
		{ "add", person_add, NULL, NULL },
		{ "list", person_list, NULL, NULL },
		{ "ls", person_list, NULL, NULL },
		{ "show", person_show, NULL, NULL },
		{ "edit", person_edit, NULL, NULL },
		{ "rm", person_rm, NULL, NULL },
		{ NULL, NULL, NULL, NULL },
	};

	return (cli_dispatch(c, "person", sub, argc, argv));
}
