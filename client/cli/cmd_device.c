/*
 * cmd_device.c -- `tally device`: linking a new device with a one-time
 * code, joining with it, the device list, revoking a device.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"

#define PASS_MAX 1024
#define LINK_WAIT 600 /* seconds: the code's whole life */

/* Parses the options of link, list and revoke. */
static int
device_opts(cli *c, int argc, char **argv, const char **passfile,
    long *wait)
{
	static const struct option opts[] = {
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "wait", required_argument, NULL, 'w' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self = cli_find("device");
	int            ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (passfile == NULL)
				return (cli_badopt(self, ch, argc, argv));
			*passfile = optarg;
			break;
		case 'w':
			if (wait == NULL)
				return (cli_badopt(self, ch, argc, argv));
			if (cli_int(optarg, 1, LINK_WAIT, wait) != 0)
				return (cli_usage(self,
				    "--wait takes 1 to %d seconds", LINK_WAIT));
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
	return (-1);
}

static int
device_link(cli *c, int argc, char **argv)
{
	const char       *passfile = NULL;
	long              wait     = LINK_WAIT;
	char              code[TALLY_LINK_CODE_LEN + 1];
	tally_relay_state rs;
	tally_link       *l;
	tally_device      d;
	int               rv;

	if ((rv = device_opts(c, argc, argv, &passfile, &wait)) >= 0)
		return (rv);
	if (optind != argc)
		return (cli_usage(cli_find("device"),
		    "unexpected argument '%s'", argv[optind]));
	if (cli_open(c, 0) != 0 || cli_unlock(c, passfile) != 0)
		return (1);
	if ((rv = tally_device_link(c->t, &l, code)) != 0)
		return (cli_fail(c, rv));
	memset(&rs, 0, sizeof rs);
	(void) tally_relay_status(c->t, &rs);
	if (c->json) {
		/* Two lines: the code now, the device once it joined. */
		json_t *o = json_pack("{s:s, s:s, s:i}", "code", code, "relay",
		    rs.url, "expires_in", LINK_WAIT);

		if (o == NULL || json_dumpf(o, stdout, JSON_COMPACT) != 0) {
			json_decref(o);
			tally_link_free(l);
			return (cli_error("cannot write the code"));
		}
		json_decref(o);
		putchar('\n');
	} else {
		printf("On the new device, run:\n\n"
		       "    tally device join %s --relay %s\n\n"
		       "The code works once, within 10 minutes.  Waiting for "
		       "the new device...\n",
		    code, rs.url);
	}
	fflush(stdout);
	rv = tally_device_link_wait(l, (unsigned) wait, &d);
	if (rv != 0) {
		tally_link_free(l);
		return (cli_fail(c, rv));
	}
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s}", "device", d.id, "name",
		    d.name);

		tally_link_free(l);
		if (o == NULL || json_dumpf(o, stdout, JSON_COMPACT) != 0) {
			json_decref(o);
			return (cli_error("cannot write the device"));
		}
		json_decref(o);
		putchar('\n');
		return (0);
	}
	printf("linked device %s (%s); it syncs with 'tally sync'\n", d.id,
	    d.name);
	tally_link_free(l);
	return (0);
}

static int
device_join(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "relay", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "no-passphrase", no_argument, NULL, 'N' },
		{ "no-sync", no_argument, NULL, 'S' },
		CLI_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const cli_cmd *self = cli_find("device");
	const char    *url = NULL, *name = NULL, *passfile = NULL;
	char           pass[PASS_MAX];
	size_t         len = 0;
	int            ch, rv, nopass = 0, nosync = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			url = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'p':
			passfile = optarg;
			break;
		case 'N':
			nopass = 1;
			break;
		case 'S':
			nosync = 1;
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
	if (argc - optind < 1)
		return (cli_usage(self, "device join needs the CODE"));
	if (argc - optind > 1)
		return (cli_usage(
		    self, "unexpected argument '%s'", argv[optind + 1]));
	if (nopass && passfile != NULL)
		return (cli_usage(self,
		    "--no-passphrase and --passphrase-file exclude each "
		    "other"));
	if (cli_open(c, 1) != 0)
		return (1);
	if (!nopass &&
	    cli_passphrase(passfile, 1, pass, sizeof pass, &len) != 0)
		return (1);
	rv = tally_device_join(c->t, argv[optind], url, nopass ? NULL : pass,
	    len, name);
	sodium_memzero(pass, sizeof pass);
	if (rv != 0)
		return (cli_fail(c, rv));
	if (!c->json)
		printf("joined: this device has your identity and replica "
		       "key\n");
	if (nosync)
		return (c->json ? j_print(json_pack("{s:b}", "joined", 1)) : 0);
	return (cli_sync_run(c));
}

static int
list_text(void *arg, const tally_device *d)
{
	char a[32], b[32];

	(void) arg;
	printf("%-16s  %-16s  %-8s  ", d->id, fmt_time(d->created, a),
	    d->revoked ? "revoked" : "active");
	put_flat(d->name);
	if (d->is_this)
		printf(" (this device)");
	if (d->revoked)
		printf(" (since %s)", fmt_time(d->revoked, b));
	putchar('\n');
	return (0);
}

static int
list_json(void *arg, const tally_device *d)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(d->id));
	json_object_set_new(o, "name", j_str(d->name));
	json_object_set_new(o, "created", j_time(d->created));
	json_object_set_new(o, "revoked", j_time(d->revoked));
	json_object_set_new(o, "this", json_boolean(d->is_this));
	json_array_append_new(arg, o);
	return (0);
}

static int
device_list(cli *c, int argc, char **argv)
{
	json_t *a = NULL;
	int     rv;

	if ((rv = cli_args(c, cli_find("device"), argc, argv, 0, 0)) >= 0)
		return (rv);
	if (cli_open(c, 0) != 0)
		return (1);
	if (c->json) {
		a  = json_array();
		rv = tally_device_list(c->t, list_json, a);
		if (rv != 0) {
			json_decref(a);
			return (cli_fail(c, rv));
		}
		return (j_print(a));
	}
	printf("%-16s  %-16s  %-8s  %s\n", "ID", "ADDED", "STATE", "NAME");
	if ((rv = tally_device_list(c->t, list_text, NULL)) != 0)
		return (cli_fail(c, rv));
	return (0);
}

static int
device_revoke(cli *c, int argc, char **argv)
{
	const char *passfile = NULL;
	int         rv;

	if ((rv = device_opts(c, argc, argv, &passfile, NULL)) >= 0)
		return (rv);
	if (argc - optind < 1)
		return (cli_usage(
		    cli_find("device"), "device revoke needs the DEVICE"));
	if (argc - optind > 1)
		return (cli_usage(cli_find("device"),
		    "unexpected argument '%s'", argv[optind + 1]));
	if (cli_open(c, 0) != 0 || cli_unlock(c, passfile) != 0)
		return (1);
	if ((rv = tally_device_revoke(c->t, argv[optind])) != 0)
		return (cli_fail(c, rv));
	if (c->json)
		return (j_print(json_pack("{s:b}", "revoked", 1)));
	printf("revoked; the replica key changed and your other devices "
	       "get the new one at their next sync\n");
	return (0);
}

int
cmd_device(cli *c, int argc, char **argv)
{
	static const cli_cmd sub[] = {
		{ "link", device_link, NULL, NULL },
		{ "join", device_join, NULL, NULL },
		{ "list", device_list, NULL, NULL },
		{ "revoke", device_revoke, NULL, NULL },
		{ NULL, NULL, NULL, NULL },
	};

	return (cli_dispatch(c, "device", sub, argc, argv));
}
