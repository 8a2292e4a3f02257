/*
 * cmd_record.c -- `tally record` (records both sides sign, exchanged as
 * files) and `tally verify` (checks a record file offline, no replica
 * needed).
 *
 * The round trip:  A: record new -> record export -o f   (send f to B)
 *                  B: record sign f                      (send f back)
 *                  A: record import f
 * A decline or revocation travels the same way: `record decline f` or
 * `record revoke ID` writes it, the other side's `record import` takes
 * it in.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/readpassphrase.h>

#include "cli.h"

#define INPUT_MAX (1024 * 1024) /* bytes of a record file */

/* -- Files ------------------------------------------------------------- */

/* Reads path ("-": standard input) into *buf (malloc'd, NUL-terminated,
 * caller frees).  Prints the reason and returns 1 on failure. */
static int
read_input(const char *path, char **buf, size_t *len)
{
	FILE  *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char  *b = NULL;
	size_t n = 0, cap = 0;
	int    rv = 0;

	*buf = NULL;
	*len = 0;
	if (f == NULL)
		return (cli_error("%s: %s", path, strerror(errno)));
	for (;;) {
		size_t got;
		if (n + 4096 + 1 > cap) {
			char *nb;
			cap = cap ? cap * 2 : 8192;
			if ((nb = realloc(b, cap)) == NULL) {
				rv = cli_error("out of memory");
				break;
			}
			b = nb;
		}
		got = fread(b + n, 1, 4096, f);
		n += got;
		if (n > INPUT_MAX) {
			rv = cli_error("%s: too big for a record file (more "
			               "than %d bytes)",
			    path, INPUT_MAX);
			break;
		}
		if (got < 4096) {
			if (ferror(f))
				rv =
				    cli_error("%s: %s", path, strerror(errno));
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (rv != 0) {
		free(b);
		return (rv);
	}
	if (b == NULL && (b = malloc(1)) == NULL)
		return (cli_error("out of memory"));
	b[n] = '\0';
	*buf = b;
	*len = n;
	return (0);
}

/* Writes text to path through a temporary file in the same folder and a
 * rename (an existing file keeps its mode; a new one is 0600), or to
 * standard output when path is NULL or "-".  Prints the reason and
 * returns 1 on failure. */
static int
write_output(const char *path, const char *text)
{
	struct stat sb;
	size_t      plen, n = strlen(text);
	char       *tmp;
	FILE       *f;
	int         fd, rv = 0;

	if (path == NULL || strcmp(path, "-") == 0) {
		fputs(text, stdout);
		return (0);
	}
	plen = strlen(path);
	if ((tmp = malloc(plen + 8)) == NULL)
		return (cli_error("out of memory"));
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".XXXXXX", 8);
	if ((fd = mkstemp(tmp)) < 0) {
		rv = cli_error("%s: %s", path, strerror(errno));
		free(tmp);
		return (rv);
	}
	if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
		(void) fchmod(fd, sb.st_mode & 07777);
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		rv = 1;
	} else {
		if (fwrite(text, 1, n, f) != n || fflush(f) != 0 ||
		    fsync(fileno(f)) != 0)
			rv = 1;
		if (fclose(f) != 0)
			rv = 1;
	}
	if (rv == 0 && rename(tmp, path) != 0)
		rv = 1;
	if (rv != 0) {
		cli_error("%s: cannot write: %s", path, strerror(errno));
		(void) unlink(tmp);
	}
	free(tmp);
	return (rv);
}

/* -- Printing records -------------------------------------------------- */

static json_t *
party_json(const tally_record_party *p)
{
	json_t *o = json_object();

	json_object_set_new(o, "role", j_str(p->role));
	json_object_set_new(o, "tally_id", j_str(p->tally_id));
	json_object_set_new(o, "fingerprint", j_str(p->fingerprint));
	json_object_set_new(o, "person", j_str(p->person));
	json_object_set_new(o, "name", j_str(p->name));
	json_object_set_new(o, "is_me", json_boolean(p->is_me));
	json_object_set_new(o, "signature", j_str(p->signature));
	return (o);
}

json_t *
record_json(const tally_record *r, int stored)
{
	json_t *o = json_object(), *parties = json_array();

	json_object_set_new(o, "id", j_str(r->id));
	json_object_set_new(
	    o, "short_id", json_stringn(r->id, TALLY_SHORT_ID_LEN));
	json_object_set_new(o, "kind", j_str(r->kind));
	json_object_set_new(o, "state", j_str(r->state));
	json_object_set_new(o, "date", j_str(r->date));
	json_object_set_new(o, "favor_kind", j_str(r->favor_kind));
	json_object_set_new(o, "name", j_str(r->name));
	json_object_set_new(o, "text", j_str(r->text[0] ? r->text : NULL));
	json_object_set_new(o, "target", j_str(r->target));
	json_object_set_new(o, "action", j_str(r->action));
	for (size_t i = 0; i < r->nparties; i++)
		json_array_append_new(parties, party_json(&r->parties[i]));
	json_object_set_new(o, "parties", parties);
	json_object_set_new(o, "complete", json_boolean(r->complete));
	json_object_set_new(o, "created", j_time(r->created));
	if (!stored)
		return (o);
	json_object_set_new(o, "person", j_str(r->person));
	json_object_set_new(o, "person_name", j_str(r->person_name));
	json_object_set_new(o, "by_me", json_boolean(r->by_me));
	json_object_set_new(
	    o, "proposed_by_me", json_boolean(r->proposed_by_me));
	json_object_set_new(o, "favor", j_str(r->favor));
	json_object_set_new(o, "reason", j_str(r->reason));
	json_object_set_new(o, "closed_by",
	    r->closed == 0        ? json_null()
	        : r->closed_by_me ? json_string("me")
	                          : json_string("them"));
	json_object_set_new(o, "confirmed", j_time(r->confirmed));
	json_object_set_new(o, "closed", j_time(r->closed));
	json_object_set_new(o, "updated", j_time(r->updated));
	return (o);
}

/* "Ann Lee", "me" or the tally id of a party. */
static const char *
party_label(const tally_record_party *p)
{
	if (p->is_me)
		return ("me");
	return (p->name != NULL ? p->name : p->tally_id);
}

/* Prints the fields of r, one "label  value" line each. */
static void
record_lines(const tally_record *r)
{
	printf("%-10s %s\n", "record", r->id);
	if (r->favor_kind != NULL)
		printf("%-10s %s (%s)\n", "kind", r->kind, r->favor_kind);
	else if (r->action != NULL)
		printf("%-10s %s (%s)\n", "kind", r->kind, r->action);
	else
		printf("%-10s %s\n", "kind", r->kind);
	if (r->target != NULL)
		printf("%-10s %s\n", "target", r->target);
	if (r->date != NULL)
		printf("%-10s %s\n", "date", r->date);
	if (r->name != NULL)
		printf("%-10s %s\n",
		    strcmp(r->kind, "referral") == 0 ? "to" : "for", r->name);
	for (size_t i = 0; i < r->nparties; i++) {
		const tally_record_party *p = &r->parties[i];
		printf("%-10s %s", p->role, p->tally_id);
		if (p->is_me)
			printf(" (me)");
		else if (p->name != NULL)
			printf(" (%s)", p->name);
		printf("  signature %s\n", p->signature);
	}
	printf("%-10s %s\n", r->action != NULL ? "reason" : "text",
	    r->text[0] ? r->text : "-");
}

static int
show_text(void *arg, const tally_record *r)
{
	char when[24];

	(void) arg;
	record_lines(r);
	printf("%-10s %s", "state", r->state);
	if (r->closed != 0)
		printf(" by %s on %s%s%s", r->closed_by_me ? "me" : "them",
		    fmt_date(r->closed, when), r->reason ? ": " : "",
		    r->reason ? r->reason : "");
	else if (r->confirmed != 0)
		printf(" on %s", fmt_date(r->confirmed, when));
	printf("\n");
	if (r->favor != NULL)
		printf("%-10s %.8s\n", "favor", r->favor);
	return (0);
}

static int
list_json(void *arg, const tally_record *r)
{
	return (json_array_append_new(arg, record_json(r, 1)));
}

static int
list_text(void *arg, const tally_record *r)
{
	const tally_record_party *a = &r->parties[0], *b = &r->parties[1];

	(*(int *) arg)++;
	printf("%.8s  %s  %-9s %-9s %s -> %s", r->id, r->date ? r->date : "-",
	    r->kind, r->state, party_label(a), party_label(b));
	if (r->favor_kind != NULL)
		printf(" (%s)", r->favor_kind);
	if (r->name != NULL)
		printf(", %s %s",
		    strcmp(r->kind, "referral") == 0 ? "to" : "for", r->name);
	printf("%s%s\n", r->text[0] ? ": " : "", r->text);
	return (0);
}

/* -- record new -------------------------------------------------------- */

static int
record_new(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "with", required_argument, NULL, 'w' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "on", required_argument, NULL, 'o' },
		{ "note", required_argument, NULL, 'n' },
		{ "kind", required_argument, NULL, 'k' },
		{ "company", required_argument, NULL, 'C' },
		{ "to-whom", required_argument, NULL, 'C' },
		{ "for", required_argument, NULL, 'F' },
		{ "favor", required_argument, NULL, 'V' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd  *self = cli_find("record");
	const char     *with = NULL, *from = NULL, *to = NULL, *on = NULL;
	const char     *favor = NULL, *passfile = NULL, *company = NULL;
	const char     *forwhat = NULL;
	char            wid[TALLY_ID_LEN + 1], fid[TALLY_ID_LEN + 1];
	char            pid[TALLY_ID_LEN + 1], me[TALLY_ID_LEN + 1];
	char            id[TALLY_RECORD_ID_LEN + 1], day[24];
	tally_record_in in;
	int64_t         when;
	int             ch, rv, propose;

	memset(&in, 0, sizeof in);
	in.by_me = TALLY_UNSET;
	optind   = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			with = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'o':
			on = optarg;
			break;
		case 'n':
			in.note = optarg;
			break;
		case 'k':
			in.favor_kind = optarg;
			break;
		case 'C':
			company = optarg;
			break;
		case 'F':
			forwhat = optarg;
			break;
		case 'V':
			favor = optarg;
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
	if (optind + 1 != argc)
		return (cli_usage(self,
		    "record %s takes one KIND (favor, referral, reference)",
		    argv[0]));
	in.kind = argv[optind];
	if (strcmp(in.kind, "favor") != 0 &&
	    strcmp(in.kind, "referral") != 0 &&
	    strcmp(in.kind, "reference") != 0)
		return (cli_usage(self,
		    "unknown record kind '%s' (favor, referral, reference)",
		    in.kind));
	if (with == NULL)
		return (cli_usage(self, "--with PERSON is required"));
	if (in.note == NULL && favor == NULL)
		return (cli_usage(self, "--note TEXT is required"));
	if (in.favor_kind != NULL && strcmp(in.kind, "favor") != 0)
		return (cli_usage(self, "--kind is for favors only"));
	if (company != NULL && strcmp(in.kind, "referral") != 0)
		return (cli_usage(self, "--company is for referrals only"));
	if (forwhat != NULL && strcmp(in.kind, "reference") != 0)
		return (cli_usage(self, "--for is for references only"));
	if (strcmp(in.kind, "referral") == 0 && company == NULL)
		return (cli_usage(self,
		    "a referral needs --company TEXT (to whom you were "
		    "referred)"));
	in.name = company != NULL ? company : forwhat;
	if (on != NULL) {
		if (cli_when(on, &when) != 0)
			return (
			    cli_usage(self, "--on '%s' is not a date", on));
		in.date = fmt_date(when, day);
	}
	if (cli_open(c, 0) != 0 ||
	    cli_resolve(c, wid, TALLY_PERSON, with) != 0)
		return (1);
	if ((rv = tally_me(c->t, me)) != 0)
		return (cli_fail(c, rv));
	if (strcmp(wid, me) == 0)
		return (
		    cli_usage(self, "--with names another person, not you"));
	/* --from and --to: one is me, the other the --with person. */
	for (int k = 0; k < 2; k++) {
		const char *spec = k == 0 ? from : to;
		if (spec == NULL)
			continue;
		if (cli_resolve(c, pid, TALLY_PERSON, spec) != 0)
			return (1);
		if (strcmp(pid, me) != 0 && strcmp(pid, wid) != 0)
			return (cli_usage(self,
			    "--from and --to are you and the --with person"));
		rv = (k == 0) == (strcmp(pid, me) == 0); /* I did it */
		if (in.by_me != TALLY_UNSET && in.by_me != rv)
			return (cli_usage(
			    self, "--from and --to must differ: one is you"));
		in.by_me = rv;
	}
	if (favor != NULL) {
		if (cli_resolve(c, fid, TALLY_FAVOR, favor) != 0)
			return (1);
		in.favor = fid;
	}
	in.with = wid;
	/* Bad input is refused before the passphrase costs anything. */
	propose = strcmp(argv[0], "propose") == 0;
	rv      = propose ? tally_record_propose(c->t, id, &in)
	                  : tally_record_new(c->t, id, &in);
	if (rv == TALLY_ENOTINIT && tally_id_locked(c->t)) {
		if (cli_unlock(c, passfile) != 0)
			return (1);
		rv = propose ? tally_record_propose(c->t, id, &in)
		             : tally_record_new(c->t, id, &in);
	}
	if (rv != 0)
		return (cli_fail(c, rv));
	return (cli_print_id(c, id));
}

/* -- record export, show, list ----------------------------------------- */

/* Parses -o FILE, and the flags given in extra (NULL-terminated), for a
 * command with one positional argument.  Returns -1 to go on. */
typedef struct rec_opts {
	const char *out;        /* -o FILE */
	const char *passfile;   /* --passphrase-file */
	const char *reason;     /* --reason */
	const char *favor;      /* --favor */
	const char *state;      /* --state */
	int         yes;        /* --yes */
	int         revocation; /* --revocation */
} rec_opts;

static int
rec_args(cli *c, rec_opts *o, int argc, char **argv, int nargs)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "reason", required_argument, NULL, 'r' },
		{ "favor", required_argument, NULL, 'V' },
		{ "state", required_argument, NULL, 's' },
		{ "yes", no_argument, NULL, 'y' },
		{ "revocation", no_argument, NULL, 'R' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	/* Which options each subcommand takes. */
	static const struct {
		const char *cmd, *takes;
	} allowed[] = {
		{ "export", "oR" },
		{ "sign", "opVy" },
		{ "import", "" },
		{ "decline", "opr" },
		{ "revoke", "opr" },
		{ "list", "s" },
		{ "ls", "s" },
		{ "show", "" },
		{ "verify", "" },
	};
	const cli_cmd *self =
	    cli_find(strcmp(argv[0], "verify") == 0 ? "verify" : "record");
	const char *takes = "";
	int         ch;

	memset(o, 0, sizeof *o);
	for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
		if (strcmp(argv[0], allowed[i].cmd) == 0)
			takes = allowed[i].takes;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":ho:y", opts, NULL)) != -1) {
		if (ch == 'h')
			return (cli_help(self));
		if (ch == 'J') {
			c->json = 1;
			continue;
		}
		if (ch == ':' || ch == '?')
			return (cli_badopt(self, ch, argc, argv));
		if (strchr(takes, ch) == NULL) {
			const char *name = "?";
			for (size_t i = 0; opts[i].name != NULL; i++)
				if (opts[i].val == ch)
					name = opts[i].name;
			return (cli_usage(
			    self, "%s does not take --%s", argv[0], name));
		}
		switch (ch) {
		case 'o':
			o->out = optarg;
			break;
		case 'p':
			o->passfile = optarg;
			break;
		case 'r':
			o->reason = optarg;
			break;
		case 'V':
			o->favor = optarg;
			break;
		case 's':
			o->state = optarg;
			break;
		case 'y':
			o->yes = 1;
			break;
		case 'R':
			o->revocation = 1;
			break;
		}
	}
	if (argc - optind < nargs)
		return (cli_usage(self, "missing argument"));
	if (argc - optind > nargs)
		return (cli_usage(
		    self, "unexpected argument '%s'", argv[optind + nargs]));
	return (-1);
}

/* Opens the replica and resolves a record id argument. */
static int
open_record(cli *c, char *id, const char *spec)
{
	int rv;

	if (cli_open(c, 0) != 0)
		return (1);
	if ((rv = tally_record_resolve(c->t, id, spec)) != 0)
		return (cli_fail(c, rv));
	return (0);
}

static int
record_export(cli *c, int argc, char **argv)
{
	rec_opts o;
	char     id[TALLY_RECORD_ID_LEN + 1], *text = NULL;
	int      rv;

	if ((rv = rec_args(c, &o, argc, argv, 1)) >= 0)
		return (rv);
	if (open_record(c, id, argv[optind]) != 0)
		return (1);
	if ((rv = tally_record_export(c->t, &text, id, o.revocation)) != 0)
		return (cli_fail(c, rv));
	rv = write_output(o.out, text);
	free(text);
	return (rv);
}

static int
record_show(cli *c, int argc, char **argv)
{
	rec_opts o;
	char     id[TALLY_RECORD_ID_LEN + 1];
	json_t  *arr = NULL;
	int      rv;

	if ((rv = rec_args(c, &o, argc, argv, 1)) >= 0)
		return (rv);
	if (open_record(c, id, argv[optind]) != 0)
		return (1);
	if (c->json)
		arr = json_array();
	rv = tally_record_get(c->t, id, c->json ? list_json : show_text, arr);
	if (rv != 0) {
		json_decref(arr);
		return (cli_fail(c, rv));
	}
	if (c->json) {
		json_t *r = json_incref(json_array_get(arr, 0));
		json_decref(arr);
		return (j_print(r));
	}
	return (0);
}

static int
record_list(cli *c, int argc, char **argv)
{
	rec_opts o;
	json_t  *arr = NULL;
	int      rv, n = 0;

	if ((rv = rec_args(c, &o, argc, argv, 0)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0)
		return (1);
	if (c->json)
		arr = json_array();
	rv = tally_record_list(c->t, o.state, c->json ? list_json : list_text,
	    c->json ? (void *) arr : (void *) &n);
	if (rv != 0) {
		json_decref(arr);
		return (cli_fail(c, rv));
	}
	if (c->json)
		return (j_print(arr));
	if (n == 0)
		printf("no records%s%s\n", o.state ? " " : "",
		    o.state ? o.state : "");
	return (0);
}

/* -- record sign, import, decline, revoke ------------------------------ */

/* Asks "question [y/N]" on the terminal; 1 for yes. */
static int
ask_yes(const char *question)
{
	char answer[16];

	if (readpassphrase(question, answer, sizeof answer,
	        RPP_ECHO_ON | RPP_REQUIRE_TTY) == NULL)
		return (-1);
	return (strcmp(answer, "y") == 0 || strcmp(answer, "Y") == 0 ||
	    strcmp(answer, "yes") == 0);
}

static int
record_sign(cli *c, int argc, char **argv)
{
	rec_opts    o;
	const char *path;
	FILE       *say;
	char       *in = NULL, *words = NULL, *text = NULL;
	char        id[TALLY_RECORD_ID_LEN + 1], fid[TALLY_ID_LEN + 1];
	size_t      n;
	int         rv, yes;

	if ((rv = rec_args(c, &o, argc, argv, 1)) >= 0)
		return (rv);
	path = argv[optind];
	if (read_input(path, &in, &n) != 0)
		return (1);
	if (cli_open(c, 0) != 0 ||
	    (o.favor != NULL &&
	        cli_resolve(c, fid, TALLY_FAVOR, o.favor) != 0))
		goto fail;
	if ((rv = tally_record_words(c->t, &words, in, n)) != 0) {
		cli_fail(c, rv);
		goto fail;
	}
	if (o.out == NULL && strcmp(path, "-") != 0)
		o.out = path;
	/* The words go where the record does not. */
	say = o.out == NULL || strcmp(o.out, "-") == 0 ? stderr : stdout;
	fprintf(say, "%s\n", words);
	if (!o.yes) {
		fflush(say);
		if ((yes = ask_yes("Sign it? [y/N] ")) < 0) {
			cli_error("not signed: confirm on a terminal, or pass "
			          "--yes");
			goto fail;
		}
		if (!yes) {
			cli_error("not signed");
			goto fail;
		}
	}
	if (cli_unlock(c, o.passfile) != 0)
		goto fail;
	if ((rv = tally_record_sign(
	         c->t, &text, id, in, n, o.favor ? fid : NULL)) != 0) {
		cli_fail(c, rv);
		goto fail;
	}
	if (write_output(o.out, text) != 0) {
		cli_error("record %.8s is signed and stored; write it again "
		          "with 'tally record export %.8s -o FILE'",
		    id, id);
		goto fail;
	}
	if (o.out != NULL && strcmp(o.out, "-") != 0)
		printf("signed record %.8s: %s now carries both signatures; "
		       "send it back\n",
		    id, o.out);
	free(in);
	free(words);
	free(text);
	return (0);
fail:
	free(in);
	free(words);
	free(text);
	return (1);
}

static int
record_import(cli *c, int argc, char **argv)
{
	rec_opts    o;
	const char *outcome = NULL;
	char       *in      = NULL, id[TALLY_RECORD_ID_LEN + 1];
	size_t      n;
	int         rv;

	if ((rv = rec_args(c, &o, argc, argv, 1)) >= 0)
		return (rv);
	if (read_input(argv[optind], &in, &n) != 0)
		return (1);
	if (cli_open(c, 0) != 0) {
		free(in);
		return (1);
	}
	rv = tally_record_import(c->t, id, &outcome, in, n);
	free(in);
	if (rv != 0)
		return (cli_fail(c, rv));
	if (c->json) {
		json_t *o2 = json_object();
		json_object_set_new(o2, "id", json_string(id));
		json_object_set_new(
		    o2, "short_id", json_stringn(id, TALLY_SHORT_ID_LEN));
		json_object_set_new(o2, "outcome", json_string(outcome));
		return (j_print(o2));
	}
	printf("%.8s %s\n", id, outcome);
	return (0);
}

/* decline FILE | ID, revoke ID */
static int
record_close(cli *c, int argc, char **argv)
{
	rec_opts o;
	int      decline = strcmp(argv[0], "decline") == 0;
	char    *in = NULL, *text = NULL, id[TALLY_RECORD_ID_LEN + 1];
	size_t   n = 0;
	int      rv;

	if ((rv = rec_args(c, &o, argc, argv, 1)) >= 0)
		return (rv);
	/* Through the relay: decline ID of a proposal in the inbox (a file
	 * of that name wins), revoke ID when a relay is set. */
	if (decline && strcmp(argv[optind], "-") != 0 &&
	    access(argv[optind], F_OK) != 0) {
		if (cli_open(c, 0) != 0)
			return (1);
		if (o.out != NULL)
			return (cli_usage(cli_find("record"),
			    "-o is for declining a FILE; a proposal in your "
			    "inbox is answered through the relay"));
		return (mail_record_decline(
		    c, argv[optind], o.reason, o.passfile));
	}
	if (!decline) {
		if (open_record(c, id, argv[optind]) != 0)
			return (1);
		if (tally_mail_ready(c->t)) {
			if ((rv = mail_record_revoke(
			         c, id, o.reason, o.passfile)) != 0 ||
			    o.out == NULL)
				return (rv);
			if ((rv = tally_record_export(c->t, &text, id, 1)) !=
			    0)
				return (cli_fail(c, rv));
			rv = write_output(o.out, text);
			free(text);
			return (rv);
		}
	}
	if (decline) {
		if (read_input(argv[optind], &in, &n) != 0)
			return (1);
		if (cli_open(c, 0) != 0)
			goto fail;
	}
	/* Bad input is refused before the passphrase costs anything. */
	for (int tries = 0; tries < 2; tries++) {
		rv = decline
		    ? tally_record_decline(c->t, &text, id, in, n, o.reason)
		    : tally_record_revoke(c->t, &text, id, o.reason);
		if (rv != TALLY_ENOTINIT || !tally_id_locked(c->t) ||
		    tries > 0)
			break;
		if (cli_unlock(c, o.passfile) != 0)
			goto fail;
	}
	if (rv != 0) {
		cli_fail(c, rv);
		goto fail;
	}
	if (write_output(o.out, text) != 0) {
		cli_error("record %.8s is %s; write the %s again with 'tally "
		          "record export %.8s --revocation -o FILE'",
		    id, decline ? "declined" : "revoked",
		    decline ? "decline" : "revocation", id);
		goto fail;
	}
	if (o.out != NULL && strcmp(o.out, "-") != 0)
		printf("%s record %.8s: send %s to the other party\n",
		    decline ? "declined" : "revoked", id, o.out);
	free(in);
	free(text);
	return (0);
fail:
	free(in);
	free(text);
	return (1);
}

int
cmd_record(cli *c, int argc, char **argv)
{
	static const cli_cmd sub[] = {
		{ "new", record_new, NULL, NULL },
		{ "propose", record_new, NULL, NULL },
		{ "confirm", cmd_record_confirm, NULL, NULL },
		{ "export", record_export, NULL, NULL },
		{ "sign", record_sign, NULL, NULL },
		{ "import", record_import, NULL, NULL },
		{ "decline", record_close, NULL, NULL },
		{ "revoke", record_close, NULL, NULL },
		{ "list", record_list, NULL, NULL },
		{ "ls", record_list, NULL, NULL },
		{ "show", record_show, NULL, NULL },
		{ NULL, NULL, NULL, NULL },
	};

	return (cli_dispatch(c, "record", sub, argc, argv));
}

/* -- verify ------------------------------------------------------------ */

/* What verify found, for its exit status and message. */
typedef struct verdict {
	json_t *json; /* with --json */
	int     ok;
	char    problem[160];
} verdict;

static int
verify_one(void *arg, const tally_record *r)
{
	verdict *vd = arg;

	vd->ok = r->complete;
	for (size_t i = 0; i < r->nparties; i++) {
		const tally_record_party *p = &r->parties[i];
		if (strcmp(p->signature, "invalid") == 0) {
			vd->ok = 0;
			snprintf(vd->problem, sizeof vd->problem,
			    "the %s's signature does not verify: the record "
			    "was changed after signing, or the signature was "
			    "copied from another record",
			    p->role);
			break;
		}
		if (strcmp(p->signature, "missing") == 0 && !vd->problem[0])
			snprintf(vd->problem, sizeof vd->problem,
			    "incomplete: the %s has not signed it", p->role);
	}
	if (vd->json != NULL) {
		json_t *o = record_json(r, 0);
		json_object_set_new(o, "ok", json_boolean(vd->ok));
		json_object_set_new(o, "problem",
		    vd->ok ? json_null() : json_string(vd->problem));
		json_array_append_new(vd->json, o);
		return (0);
	}
	record_lines(r);
	printf("%-10s %s\n", "state",
	    vd->ok ? "complete: every party signed, every signature valid"
	           : r->state);
	return (0);
}

/* Opens the replica read-only if there is one, for names; NULL if not. */
static tally *
open_quietly(cli *c)
{
	char  *path = c->db ? NULL : tally_default_path();
	tally *t    = NULL;

	if ((c->db != NULL || path != NULL) &&
	    access(c->db ? c->db : path, R_OK) == 0 &&
	    tally_open(&t, c->db ? c->db : path, TALLY_OPEN_READONLY) != 0) {
		tally_close(t);
		t = NULL;
	}
	free(path);
	return (t);
}

int
cmd_verify(cli *c, int argc, char **argv)
{
	rec_opts o;
	verdict  vd;
	tally   *t;
	char    *in = NULL, err[512];
	size_t   n;
	int      rv;

	if ((rv = rec_args(c, &o, argc, argv, 1)) >= 0)
		return (rv);
	if (read_input(argv[optind], &in, &n) != 0)
		return (1);
	memset(&vd, 0, sizeof vd);
	if (c->json)
		vd.json = json_array();
	t  = open_quietly(c);
	rv = tally_record_verify(t, in, n, verify_one, &vd, err, sizeof err);
	tally_close(t);
	free(in);
	if (rv != 0) {
		json_decref(vd.json);
		return (cli_error("%s: %s", argv[optind], err));
	}
	if (vd.json != NULL) {
		json_t *r = json_incref(json_array_get(vd.json, 0));
		json_decref(vd.json);
		if (j_print(r) != 0)
			return (1);
	}
	if (!vd.ok)
		return (cli_error("%s: %s", argv[optind], vd.problem));
	return (0);
}
