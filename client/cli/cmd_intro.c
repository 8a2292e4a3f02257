/*
 * cmd_intro.c -- double opt-in introductions through the relay:
 * `tally intro propose --between PERSON PERSON --note TEXT`,
 * `tally intro consent ID [--share email,phone,...]` and
 * `tally intro decline ID [--reason TEXT]` (cmd_favor.c's `intro` table
 * hands them over; `intro add` and `intro list` stay there).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct intro_args {
	const char *between[2];
	int         nb;
	const char *note;
	const char *share;
	const char *reason;
	const char *passfile;
	const char *spec;
	char        a[TALLY_ID_LEN + 1], b[TALLY_ID_LEN + 1];
	char        id[TALLY_INTRO_ID_LEN + 1];
} intro_args;

/* Parses the options of argv[0] (propose, consent, decline); returns -1
 * to go on, else the exit status. */
static int
intro_opts(cli *c, intro_args *ia, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "between", required_argument, NULL, 'w' },
		{ "note", required_argument, NULL, 'n' },
		{ "share", required_argument, NULL, 's' },
		{ "reason", required_argument, NULL, 'r' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *cmd, *takes;
	} allowed[] = {
		{ "propose", "wnp" },
		{ "consent", "sp" },
		{ "decline", "rp" },
	};
	const cli_cmd *self  = cli_find("intro");
	const char    *takes = "";
	int            ch, propose = strcmp(argv[0], "propose") == 0;

	memset(ia, 0, sizeof *ia);
	for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
		if (strcmp(argv[0], allowed[i].cmd) == 0)
			takes = allowed[i].takes;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
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
			return (cli_usage(self, "intro %s does not take --%s",
			    argv[0], name));
		}
		switch (ch) {
		case 'w':
			/* --between A B, or --between A --between B */
			if (ia->nb < 2)
				ia->between[ia->nb++] = optarg;
			if (ia->nb < 2 && optind < argc &&
			    argv[optind][0] != '-')
				ia->between[ia->nb++] = argv[optind++];
			break;
		case 'n':
			ia->note = optarg;
			break;
		case 's':
			ia->share = optarg;
			break;
		case 'r':
			ia->reason = optarg;
			break;
		case 'p':
			ia->passfile = optarg;
			break;
		}
	}
	if (propose) {
		if (optind != argc)
			return (cli_usage(
			    self, "unexpected argument '%s'", argv[optind]));
		if (ia->nb != 2)
			return (cli_usage(self,
			    "intro propose needs --between PERSON PERSON"));
		if (ia->note == NULL || *ia->note == '\0')
			return (cli_usage(self,
			    "intro propose needs --note TEXT: why the two "
			    "should meet (each of them reads it)"));
		return (-1);
	}
	if (optind + 1 != argc)
		return (cli_usage(self,
		    "intro %s takes one ID (from 'tally "
		    "inbox' or 'tally intro list')",
		    argv[0]));
	ia->spec = argv[optind];
	return (-1);
}

static int
do_propose(tally *t, void *arg)
{
	intro_args *ia = arg;

	return (tally_intro_propose(t, ia->id, ia->a, ia->b, ia->note));
}

static int
do_consent(tally *t, void *arg)
{
	intro_args *ia = arg;

	return (tally_intro_consent(t, ia->id, ia->spec, ia->share));
}

static int
do_decline(tally *t, void *arg)
{
	intro_args *ia = arg;

	return (tally_intro_decline(t, ia->id, ia->spec, ia->reason));
}

/* Runs fn, unlocking the identity when it needs it. */
static int
run(cli *c, intro_args *ia, int (*fn)(tally *, void *))
{
	int rv = fn(c->t, ia);

	if (rv == TALLY_ENOTINIT && tally_id_locked(c->t)) {
		if (cli_unlock(c, ia->passfile) != 0)
			return (1);
		rv = fn(c->t, ia);
	}
	return (rv != 0 ? cli_fail(c, rv) : 0);
}

static int
done(cli *c, const intro_args *ia, const char *state, const char *words)
{
	if (c->json) {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_string(ia->id));
		json_object_set_new(
		    o, "short_id", json_stringn(ia->id, TALLY_SHORT_ID_LEN));
		json_object_set_new(o, "state", json_string(state));
		return (j_print(o));
	}
	printf("%s\n", words);
	return (0);
}

int
intro_propose(cli *c, int argc, char **argv)
{
	intro_args ia;
	char       words[400];
	int        rv;

	if ((rv = intro_opts(c, &ia, argc, argv)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0 ||
	    cli_resolve(c, ia.a, TALLY_PERSON, ia.between[0]) != 0 ||
	    cli_resolve(c, ia.b, TALLY_PERSON, ia.between[1]) != 0)
		return (1);
	if ((rv = run(c, &ia, do_propose)) != 0)
		return (rv);
	snprintf(words, sizeof words,
	    "introduction %.8s proposed: each of the two is asked for "
	    "consent (sent at the next 'tally sync'); neither learns about "
	    "the other unless both say yes",
	    ia.id);
	return (done(c, &ia, "asked", words));
}

int
intro_consent(cli *c, int argc, char **argv)
{
	intro_args ia;
	char       words[400];
	int        rv;

	if ((rv = intro_opts(c, &ia, argc, argv)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0)
		return (1);
	if ((rv = run(c, &ia, do_consent)) != 0)
		return (rv);
	snprintf(words, sizeof words,
	    "consented to introduction %.8s (sent at the next 'tally "
	    "sync'); if the other person says yes too, you receive each "
	    "other's card: yours shows your name%s",
	    ia.id, ia.share ? " and your " : "");
	for (const char *p = ia.share; p != NULL && *p; p++) {
		size_t n = strlen(words);
		if (n + 3 >= sizeof words)
			break;
		if (*p == ',')
			snprintf(words + n, sizeof words - n, ", ");
		else
			snprintf(words + n, sizeof words - n, "%c", *p);
	}
	return (done(c, &ia, "consented", words));
}

int
intro_decline(cli *c, int argc, char **argv)
{
	intro_args ia;
	char       words[400];
	int        rv;

	if ((rv = intro_opts(c, &ia, argc, argv)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0)
		return (1);
	if ((rv = run(c, &ia, do_decline)) != 0)
		return (rv);
	snprintf(words, sizeof words,
	    "declined introduction %.8s (sent at the next 'tally sync'); "
	    "the other side learns only that it did not go ahead",
	    ia.id);
	return (done(c, &ia, "declined", words));
}
