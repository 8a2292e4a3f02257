/*
 * cmd_id.c -- `tally id` (my identity) and `tally peer` (people linked to
 * another tally user's key), and the passphrase plumbing the record
 * commands share.
 *
 * Where the passphrase comes from, first match wins:
 *   --passphrase-file FILE   its first line (without the line break)
 *   $TALLY_PASSPHRASE        for scripts and tests
 *   the terminal             asked without echo (twice for id init)
 * `id init --no-passphrase` is the explicit, warned-about way to keep
 * the key unprotected.  A key without passphrase never asks for one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/readpassphrase.h>
#include <sodium.h>

#include "cli.h"

#define PASS_MAX 1024 /* bytes of a passphrase, with its NUL */

/* Reads the first line of path into pass (cap bytes). */
static int
pass_from_file(const char *path, char *pass, size_t cap, size_t *len)
{
	FILE  *f;
	size_t n = 0;
	int    ch, rv = 0;

	if ((f = fopen(path, "r")) == NULL)
		return (cli_error("%s: %s", path, strerror(errno)));
	while ((ch = fgetc(f)) != EOF && ch != '\n') {
		if (n + 1 >= cap) {
			rv = cli_error(
			    "%s: the passphrase is too long (at most "
			    "%d bytes)",
			    path, PASS_MAX - 1);
			break;
		}
		pass[n++] = (char) ch;
	}
	if (rv == 0 && ferror(f))
		rv = cli_error("%s: %s", path, strerror(errno));
	fclose(f);
	if (n > 0 && pass[n - 1] == '\r')
		n--;
	pass[n] = '\0';
	if (rv == 0 && n == 0)
		rv = cli_error("%s: the passphrase is empty", path);
	*len = n;
	return (rv);
}

int
cli_passphrase(
    const char *file, int confirm, char *pass, size_t cap, size_t *len)
{
	const char *env = getenv("TALLY_PASSPHRASE");
	char        again[PASS_MAX];
	int         rv = 0;

	*len    = 0;
	pass[0] = '\0';
	if (file != NULL)
		return (pass_from_file(file, pass, cap, len));
	if (env != NULL) {
		if (*env == '\0')
			return (
			    cli_error("TALLY_PASSPHRASE is set but empty"));
		if (strlen(env) >= cap)
			return (
			    cli_error("TALLY_PASSPHRASE is too long (at most "
			              "%d bytes)",
			        PASS_MAX - 1));
		*len = strlen(env);
		memcpy(pass, env, *len + 1);
		return (0);
	}
	if (readpassphrase(
	        confirm ? "Passphrase for the new key: " : "Passphrase: ",
	        pass, cap, RPP_REQUIRE_TTY) == NULL)
		return (cli_error("no passphrase: run on a terminal, set "
		                  "TALLY_PASSPHRASE or use --passphrase-file "
		                  "FILE"));
	if (pass[0] == '\0')
		rv = cli_error("the passphrase is empty%s",
		    confirm ? " (use --no-passphrase to go without one)" : "");
	else if (confirm) {
		if (readpassphrase("Again: ", again, sizeof again,
		        RPP_REQUIRE_TTY) == NULL)
			rv = cli_error("no passphrase read");
		else if (strcmp(pass, again) != 0)
			rv = cli_error("the two passphrases differ");
		sodium_memzero(again, sizeof again);
	}
	if (rv != 0)
		sodium_memzero(pass, cap);
	else
		*len = strlen(pass);
	return (rv);
}

int
cli_unlock(cli *c, const char *passfile)
{
	tally_identity id;
	char           pass[PASS_MAX];
	size_t         len = 0;
	int            rv;

	if ((rv = tally_id_get(c->t, &id)) != 0)
		return (cli_fail(c, rv));
	if (id.key_error != 0 || id.passphrase != 1)
		rv = tally_id_unlock(c->t, NULL, 0);
	else if (cli_passphrase(passfile, 0, pass, sizeof pass, &len) != 0)
		return (1);
	else
		rv = tally_id_unlock(c->t, pass, len);
	sodium_memzero(pass, sizeof pass);
	return (rv != 0 ? cli_fail(c, rv) : 0);
}

/* -- id ---------------------------------------------------------------- */

static int
id_print(cli *c)
{
	tally_identity id;
	int            rv;

	if ((rv = tally_id_get(c->t, &id)) != 0)
		return (cli_fail(c, rv));
	if (c->json) {
		json_t *o = json_object();
		json_object_set_new(o, "tally_id", json_string(id.tally_id));
		json_object_set_new(
		    o, "fingerprint", json_string(id.fingerprint));
		json_object_set_new(o, "key_file", j_str(id.key_file));
		json_object_set_new(
		    o, "key_file_ok", json_boolean(id.key_error == 0));
		json_object_set_new(o, "key_problem", j_str(id.key_problem));
		json_object_set_new(o, "passphrase",
		    id.passphrase == TALLY_UNSET
		        ? json_null()
		        : json_boolean(id.passphrase));
		return (j_print(o));
	}
	printf("tally id     %s\n", id.tally_id);
	printf("fingerprint  %s\n", id.fingerprint);
	if (id.key_error != 0)
		printf("key file     %s (unusable: %s)\n", id.key_file,
		    id.key_problem ? id.key_problem : "unknown problem");
	else
		printf("key file     %s (%s)\n", id.key_file,
		    id.passphrase ? "protected by a passphrase"
		                  : "no passphrase");
	return (0);
}

static int
id_init(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "no-passphrase", no_argument, NULL, 'N' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self     = cli_find("id");
	const char    *passfile = NULL;
	char           pass[PASS_MAX];
	size_t         len = 0;
	int            ch, rv, nopass = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			passfile = optarg;
			break;
		case 'N':
			nopass = 1;
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
	if (nopass && passfile != NULL)
		return (cli_usage(self,
		    "--no-passphrase and "
		    "--passphrase-file exclude each other"));
	if (cli_open(c, 0) != 0)
		return (1);
	if (!nopass &&
	    cli_passphrase(passfile, 1, pass, sizeof pass, &len) != 0)
		return (1);
	rv = tally_id_init(c->t, nopass ? NULL : pass, len);
	sodium_memzero(pass, sizeof pass);
	if (rv != 0)
		return (cli_fail(c, rv));
	if (nopass)
		fprintf(stderr,
		    "tally: warning: the secret key is stored without a "
		    "passphrase: anyone who can read the key file can sign "
		    "as you\n");
	return (id_print(c));
}

static int
id_show(cli *c, int argc, char **argv)
{
	int rv;

	if ((rv = cli_args(c, cli_find("id"), argc, argv, 0, 0)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0)
		return (1);
	return (id_print(c));
}

int
cmd_id(cli *c, int argc, char **argv)
{
	static const cli_cmd sub[] = {
		{ "init", id_init, NULL, NULL },
		{ "show", id_show, NULL, NULL },
		{ NULL, NULL, NULL, NULL },
	};

	return (cli_dispatch(c, "id", sub, argc, argv));
}

/* -- peer -------------------------------------------------------------- */

static int peer_json(void *arg, const tally_peer *p);
static int peer_text(void *arg, const tally_peer *p);

/* Prints one peer's line, or its object with --json. */
static int
peer_show(cli *c, const char *person)
{
	json_t *arr = json_array();
	int     rv, n = 0;

	rv = tally_peer_list(c->t, person, c->json ? peer_json : peer_text,
	    c->json ? (void *) arr : (void *) &n);
	if (rv != 0) {
		json_decref(arr);
		return (cli_fail(c, rv));
	}
	if (c->json) {
		json_t *o = json_incref(json_array_get(arr, 0));
		json_decref(arr);
		return (j_print(o != NULL ? o : json_null()));
	}
	json_decref(arr);
	return (0);
}

static int
peer_add(cli *c, int argc, char **argv)
{
	char   person[TALLY_ID_LEN + 1], tid[512];
	size_t used = 0;
	int    rv;

	/* A pasted id may arrive split in several words: join them. */
	if ((rv = cli_args(c, cli_find("peer"), argc, argv, 2, 64)) >= 0)
		return (rv);
	tid[0] = '\0';
	for (int i = optind + 1; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (used + n >= sizeof tid)
			return (cli_usage(
			    cli_find("peer"), "TALLY_ID is too long"));
		memcpy(tid + used, argv[i], n + 1);
		used += n;
	}
	if (cli_open(c, 0) != 0 ||
	    cli_resolve(c, person, TALLY_PERSON, argv[optind]) != 0)
		return (1);
	if ((rv = tally_peer_add(c->t, person, tid)) != 0)
		return (cli_fail(c, rv));
	return (peer_show(c, person));
}

static int
peer_rm(cli *c, int argc, char **argv)
{
	char person[TALLY_ID_LEN + 1];
	int  rv;

	if ((rv = cli_args(c, cli_find("peer"), argc, argv, 1, 1)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0 ||
	    cli_resolve(c, person, TALLY_PERSON, argv[optind]) != 0)
		return (1);
	if ((rv = tally_peer_rm(c->t, person)) != 0)
		return (cli_fail(c, rv));
	return (0);
}

static int
peer_name(void *arg, const tally_peer *p)
{
	snprintf(arg, 256, "%s", p->name);
	return (0);
}

static int
peer_verify(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "confirm", no_argument, NULL, 'c' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self = cli_find("peer");
	char           person[TALLY_ID_LEN + 1], name[256] = "";
	char           code[TALLY_SAFETY_LEN + 1];
	int            ch, rv, confirm = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 'c')
			confirm = 1;
		else if (ch == 'J')
			c->json = 1;
		else if (ch == 'h')
			return (cli_help(self));
		else
			return (cli_badopt(self, ch, argc, argv));
	}
	if (optind + 1 != argc)
		return (cli_usage(self, "peer verify takes one PERSON"));
	if (cli_open(c, 0) != 0 ||
	    cli_resolve(c, person, TALLY_PERSON, argv[optind]) != 0)
		return (1);
	if ((rv = tally_peer_safety(c->t, code, person)) != 0 ||
	    (confirm && (rv = tally_peer_confirm(c->t, person)) != 0) ||
	    (rv = tally_peer_list(c->t, person, peer_name, name)) != 0)
		return (cli_fail(c, rv));
	if (c->json) {
		json_t *o = json_object();
		json_object_set_new(o, "person", json_string(person));
		json_object_set_new(o, "name", j_str(name));
		json_object_set_new(o, "safety_code", json_string(code));
		json_object_set_new(o, "confirmed", json_boolean(confirm));
		return (j_print(o));
	}
	printf("%s\n", code);
	if (confirm)
		printf("%s is marked verified.\n", name);
	else
		printf("Compare these digits with %s out of band (in person "
		       "or on a call); if they match, run 'tally peer verify "
		       "PERSON --confirm'.\n",
		    name);
	return (0);
}

static int
peer_json(void *arg, const tally_peer *p)
{
	json_t *o = json_object();

	json_object_set_new(o, "person", j_str(p->person));
	json_object_set_new(
	    o, "short_id", json_stringn(p->person, TALLY_SHORT_ID_LEN));
	json_object_set_new(o, "name", j_str(p->name));
	json_object_set_new(o, "tally_id", j_str(p->tally_id));
	json_object_set_new(o, "fingerprint", j_str(p->fingerprint));
	json_object_set_new(o, "verified", j_time(p->verified));
	json_object_set_new(o, "created", j_time(p->created));
	return (json_array_append_new(arg, o));
}

static int
peer_text(void *arg, const tally_peer *p)
{
	char when[24];

	(*(int *) arg)++;
	printf("%.8s  %-24s %s  %s\n", p->person, p->name, p->tally_id,
	    p->verified ? fmt_date(p->verified, when) : "not verified");
	return (0);
}

static int
peer_list(cli *c, int argc, char **argv)
{
	json_t *arr = NULL;
	int     rv, n = 0;

	if ((rv = cli_args(c, cli_find("peer"), argc, argv, 0, 0)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0)
		return (1);
	if (c->json)
		arr = json_array();
	rv = tally_peer_list(c->t, NULL, c->json ? peer_json : peer_text,
	    c->json ? (void *) arr : (void *) &n);
	if (rv != 0) {
		json_decref(arr);
		return (cli_fail(c, rv));
	}
	if (c->json)
		return (j_print(arr));
	if (n == 0)
		printf("no peers yet (tally peer add PERSON TALLY_ID)\n");
	return (0);
}

int
cmd_peer(cli *c, int argc, char **argv)
{
	static const cli_cmd sub[] = {
		{ "add", peer_add, NULL, NULL },
		{ "rm", peer_rm, NULL, NULL },
		{ "verify", peer_verify, NULL, NULL },
		{ "list", peer_list, NULL, NULL },
		{ "ls", peer_list, NULL, NULL },
		{ NULL, NULL, NULL, NULL },
	};

	return (cli_dispatch(c, "peer", sub, argc, argv));
}
