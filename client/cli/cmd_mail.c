/*
 * cmd_mail.c -- the command side of records through the relay:
 * `tally inbox`, `tally record confirm ID`, and the relay variants of
 * `record decline ID` and `record revoke ID` (cmd_record.c hands them
 * over).  Each answer is queued and leaves at the next `tally sync`.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Runs fn; when it needs the identity and it is locked, unlocks (asking
 * for the passphrase) and runs it once more.  Prints the reason and
 * returns 1 on failure. */
typedef int (*mail_fn)(tally *t, void *arg);

static int
with_key(cli *c, const char *passfile, mail_fn fn, void *arg)
{
	int rv = fn(c->t, arg);

	if (rv == TALLY_ENOTINIT && tally_id_locked(c->t)) {
		if (cli_unlock(c, passfile) != 0)
			return (1);
		rv = fn(c->t, arg);
	}
	return (rv != 0 ? cli_fail(c, rv) : 0);
}

/* Who a record goes to, for the words: the other party's name. */
static int
other_cb(void *arg, const tally_record *r)
{
	snprintf(arg, 200, "%s", r->person_name ? r->person_name : "them");
	return (0);
}

static void
other_name(cli *c, const char *id, char *name)
{
	snprintf(name, 200, "them");
	(void) tally_record_get(c->t, id, other_cb, name);
}

/* Prints the outcome of an answer: words, or {"id","short_id","state"}. */
static int
answered(cli *c, const char *id, const char *state, const char *words)
{
	if (c->json) {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_string(id));
		json_object_set_new(
		    o, "short_id", json_stringn(id, TALLY_SHORT_ID_LEN));
		json_object_set_new(o, "state", json_string(state));
		json_object_set_new(o, "queued", json_true());
		return (j_print(o));
	}
	printf("%s\n", words);
	return (0);
}

/* -- record confirm ---------------------------------------------------- */

typedef struct answer {
	const char *spec;
	const char *reason;
	char        id[TALLY_RECORD_ID_LEN + 1];
} answer;

static int
do_confirm(tally *t, void *arg)
{
	answer *a = arg;

	return (tally_record_confirm(t, a->id, a->spec));
}

static int
do_decline(tally *t, void *arg)
{
	answer *a = arg;

	return (tally_record_decline_mail(t, a->id, a->spec, a->reason));
}

static int
do_revoke(tally *t, void *arg)
{
	answer *a = arg;

	return (tally_record_revoke_mail(t, a->id, a->reason));
}

static const char *
when_sent(cli *c)
{
	return (tally_mail_ready(c->t)
	        ? "at the next 'tally sync'"
	        : "once a relay is set ('tally relay set URL') and you run "
	          "'tally sync'");
}

int
cmd_record_confirm(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "passphrase-file", required_argument, NULL, 'p' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self     = cli_find("record");
	const char    *passfile = NULL;
	char           name[200], words[600];
	answer         a;
	int            ch, rv;

	memset(&a, 0, sizeof a);
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 'p')
			passfile = optarg;
		else if (ch == 'J')
			c->json = 1;
		else if (ch == 'h')
			return (cli_help(self));
		else
			return (cli_badopt(self, ch, argc, argv));
	}
	if (optind + 1 != argc)
		return (cli_usage(self,
		    "record confirm takes one ID (from "
		    "'tally inbox')"));
	a.spec = argv[optind];
	if (cli_open(c, 0) != 0)
		return (1);
	if ((rv = with_key(c, passfile, do_confirm, &a)) != 0)
		return (rv);
	other_name(c, a.id, name);
	snprintf(words, sizeof words,
	    "confirmed record %.8s: signed by both; the countersignature "
	    "goes to %s %s",
	    a.id, name, when_sent(c));
	return (answered(c, a.id, "confirmed", words));
}

int
mail_record_decline(
    cli *c, const char *spec, const char *reason, const char *passfile)
{
	char   name[200], words[600];
	answer a;
	int    rv;

	memset(&a, 0, sizeof a);
	a.spec   = spec;
	a.reason = reason;
	if ((rv = with_key(c, passfile, do_decline, &a)) != 0)
		return (rv);
	other_name(c, a.id, name);
	snprintf(words, sizeof words,
	    "declined record %.8s: the decline goes to %s %s", a.id, name,
	    when_sent(c));
	return (answered(c, a.id, "declined", words));
}

int
mail_record_revoke(
    cli *c, const char *id, const char *reason, const char *passfile)
{
	char   name[200], words[600];
	answer a;
	int    rv;

	memset(&a, 0, sizeof a);
	snprintf(a.id, sizeof a.id, "%s", id);
	a.reason = reason;
	if ((rv = with_key(c, passfile, do_revoke, &a)) != 0)
		return (rv);
	other_name(c, a.id, name);
	snprintf(words, sizeof words,
	    "revoked record %.8s: the revocation goes to %s %s", a.id, name,
	    when_sent(c));
	return (answered(c, a.id, "revoked", words));
}

/* -- inbox ------------------------------------------------------------- */

typedef struct inbox_out {
	json_t *arr;
	int     n;
} inbox_out;

static int
inbox_json(inbox_out *io, const tally_inbox_item *i)
{
	json_t *o = json_object(), *from = json_object();

	json_object_set_new(o, "kind", json_string(i->kind));
	json_object_set_new(o, "id", j_str(i->id));
	json_object_set_new(
	    o, "short_id", json_stringn(i->id, TALLY_SHORT_ID_LEN));
	json_object_set_new(from, "tally_id", j_str(i->from_tally_id));
	json_object_set_new(from, "fingerprint", j_str(i->from_fingerprint));
	json_object_set_new(from, "person", j_str(i->person));
	json_object_set_new(from, "name", j_str(i->name));
	json_object_set_new(o, "from", from);
	json_object_set_new(o, "unknown", json_boolean(i->person == NULL));
	json_object_set_new(o, "text", j_str(i->text));
	json_object_set_new(o, "date", j_str(i->date));
	json_object_set_new(o, "note",
	    i->note != NULL && *i->note ? j_str(i->note) : json_null());
	json_object_set_new(o, "record",
	    i->record != NULL ? record_json(i->record, 0) : json_null());
	json_object_set_new(o, "received", j_time(i->received));
	return (json_array_append_new(io->arr, o));
}

static int
inbox_cb(void *arg, const tally_inbox_item *i)
{
	inbox_out *io  = arg;
	int        rec = strcmp(i->kind, "record") == 0;

	if (io->arr != NULL)
		return (inbox_json(io, i));
	if (io->n++ == 0)
		printf("Waiting for your answer:\n");
	printf("\n%.8s  %s from ", i->id,
	    rec ? "proposal" : "introduction request");
	if (i->person != NULL)
		printf("%s\n", i->name);
	else
		printf("an unknown key (not linked to anyone)\n");
	printf("          ");
	put_flat(i->text);
	printf("\n");
	if (i->person == NULL)
		printf("          Their tally id is %s: if you know who it is,"
		       "\n          link them first: tally peer add PERSON "
		       "%s\n",
		    i->from_tally_id, i->from_tally_id);
	if (rec)
		printf("          tally record confirm %.8s  |  tally record "
		       "decline %.8s [--reason TEXT]\n",
		    i->id, i->id);
	else
		printf("          tally intro consent %.8s [--share "
		       "email,phone]  |  tally intro decline %.8s\n",
		    i->id, i->id);
	return (0);
}

int
cmd_inbox(cli *c, int argc, char **argv)
{
	inbox_out io     = { NULL, 0 };
	unsigned  queued = 0;
	int       rv;

	if ((rv = cli_args(c, cli_find("inbox"), argc, argv, 0, 0)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0)
		return (1);
	if (c->json)
		io.arr = json_array();
	if ((rv = tally_inbox(c->t, inbox_cb, &io)) != 0) {
		json_decref(io.arr);
		return (cli_fail(c, rv));
	}
	if (c->json)
		return (j_print(io.arr));
	if (io.n == 0)
		printf("nothing waits for your answer ('tally sync' fetches "
		       "what arrived)\n");
	if (tally_mail_queued(c->t, &queued) == 0 && queued > 0)
		printf("\n%u letter%s of yours wait%s to be sent: tally "
		       "sync\n",
		    queued, queued == 1 ? "" : "s", queued == 1 ? "s" : "");
	return (0);
}
