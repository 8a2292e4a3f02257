/*
 * cli.h -- the tally command line: shared state and output helpers.
 *
 * Exit status: 0 success, 2 usage error, 1 any other failure.  Errors go
 * to stderr as one line, "tally: what was wrong".  --json output is a
 * documented contract (client/JSON.md): add keys, never rename or drop.
 */
#ifndef TALLY_CLI_H
#define TALLY_CLI_H

#include <getopt.h>
#include <stdint.h>

#include <jansson.h>

#include "tally.h"

#define EXIT_USAGE 2

typedef struct cli {
	const char *db;   /* --db, or NULL for the default path */
	int         json; /* --json */
	tally      *t;    /* open replica, or NULL */
} cli;

/* A subcommand: argv[0] is its name. */
typedef int (*cli_cmd_fn)(cli *c, int argc, char **argv);

typedef struct cli_cmd {
	const char *name;
	cli_cmd_fn  fn;
	const char *usage; /* one or more lines, without "usage: tally " */
	const char *help;  /* one line */
} cli_cmd;

/* Opens the replica (creating it when create is set); on failure prints
 * the reason and returns 1. */
int cli_open(cli *c, int create);
/* Prints "tally: " and the handle's message for rv; returns 2 for
 * TALLY_EINVAL (a bad value given by the user), else 1. */
int cli_fail(cli *c, int rv);
/* Prints "tally: message" and returns 1. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "tally CMD: message (see 'tally CMD --help')" as one line and
 * returns 2. */
int cli_usage(const cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Reports what getopt_long (with opterr = 0 and an optstring starting
 * with ':') returned as ch, naming the option; returns 2. */
int cli_badopt(const cli_cmd *cmd, int ch, int argc, char **argv);
/* Prints the full usage and help of cmd to stdout; returns 0. */
int cli_help(const cli_cmd *cmd);
/* Runs the subcommand of table named argv[1] (argv[0] is the group). */
int cli_dispatch(cli *c, const char *group, const cli_cmd *table,
    int argc, char **argv);

/* Parses the options of a command that takes only --json and --help,
 * and between min and max positional arguments (left at argv[optind]).
 * Returns -1 to go on, else the exit status to return. */
int cli_args(cli *c, const cli_cmd *self, int argc, char **argv, int min,
    int max);
/* The JSON object of a person (client/JSON.md). */
json_t *person_json(const tally_person *p);

/* Parses a whole decimal number in [lo, hi] into *out; 0 or -1. */
int cli_int(const char *s, long lo, long hi, long *out);
/* Parses WHEN (see tly_time.h) into *out; 0 or -1. */
int cli_when(const char *s, int64_t *out);
/* Resolves a PERSON/ID argument; prints the error and returns 1 on
 * failure, 0 on success. */
int cli_resolve(cli *c, char *id, enum tally_kind kind, const char *spec);

/* Prints the id of a new item: its short form, or with --json the
 * object {"id", "short_id"}.  Returns 0, or 1 if stdout failed. */
int cli_print_id(const cli *c, const char *id);

/* JSON helpers: each returns a new reference (json_null() for NULL;
 * j_str writes bytes that are not UTF-8 as U+FFFD). */
json_t *j_str(const char *s);
json_t *j_short(const char *id); /* the first TALLY_SHORT_ID_LEN chars */
json_t *j_time(int64_t t);
json_t *j_strs(tally_strs s);
json_t *j_int(int64_t v);
/* Prints v (indented, keys in insertion order) and a newline to stdout,
 * and drops the reference.  Returns 0, or 1 if stdout failed. */
int j_print(json_t *v);

/* Formats a time for people: local "YYYY-MM-DD HH:MM", or "-" if 0.
 * Returns buf (at least 17 bytes). */
const char *fmt_time(int64_t t, char *buf);
/* Local date "YYYY-MM-DD", or "-" if 0. buf >= 11 bytes. */
const char *fmt_date(int64_t t, char *buf);
/* t against today, in local calendar days: "today", "tomorrow",
 * "yesterday", "in 3 days", "2 days ago".  buf >= 24 bytes. */
const char *fmt_rel(int64_t t, char *buf);

/* Prints s, then spaces up to width terminal columns (s is never cut). */
void put_col(const char *s, int width);
/* Prints s (NULL: nothing) with line breaks and tabs as spaces, so that
 * a row of a listing stays on one line. */
void put_flat(const char *s);

/* Opens -o FILE for writing: a temporary file next to it, which
 * cli_out_close() renames over path on success and removes on failure
 * (*tmp is its malloc'd name; NULL when path is a device or a pipe,
 * written directly).  Prints the reason and returns NULL on failure. */
FILE *cli_out_open(const char *path, char **tmp);
/* Closes f from cli_out_open() after a command that returned rv: on
 * success (rv 0, every write done) path gets the new content.  Returns
 * rv, or 1 if writing failed (the reason printed). */
int cli_out_close(FILE *f, const char *path, char *tmp, int rv);

/* Checks stdout for write errors at exit; returns 0 or 1. */
int cli_flush(void);

/* The command groups (cmd_*.c). */
int cmd_init(cli *c, int argc, char **argv);
int cmd_person(cli *c, int argc, char **argv);
int cmd_log(cli *c, int argc, char **argv);
int cmd_history(cli *c, int argc, char **argv);
int cmd_done(cli *c, int argc, char **argv);
int cmd_favor(cli *c, int argc, char **argv);
int cmd_thank(cli *c, int argc, char **argv);
int cmd_ledger(cli *c, int argc, char **argv);
int cmd_intro(cli *c, int argc, char **argv);
int cmd_reference(cli *c, int argc, char **argv);
int cmd_due(cli *c, int argc, char **argv);
int cmd_next(cli *c, int argc, char **argv);
int cmd_search(cli *c, int argc, char **argv);
int cmd_graph(cli *c, int argc, char **argv);
int cmd_import(cli *c, int argc, char **argv);
int cmd_export(cli *c, int argc, char **argv);
int cmd_id(cli *c, int argc, char **argv);
int cmd_peer(cli *c, int argc, char **argv);
int cmd_relay(cli *c, int argc, char **argv);
int cmd_record(cli *c, int argc, char **argv);
int cmd_verify(cli *c, int argc, char **argv);
int cmd_sync(cli *c, int argc, char **argv);
int cmd_device(cli *c, int argc, char **argv);

/* Device sync (cmd_sync.c): runs tally_log_sync on the open, unlocked
 * replica with a progress bar on a terminal, and prints what moved;
 * returns the exit status.  cli_sync_progress draws the bar (arg: its
 * state). */
int  cli_sync_run(cli *c);
void cli_sync_progress(
    void *arg, const char *what, uint64_t done, uint64_t total);

/* Records and introductions through the relay (cmd_sync.c, cmd_mail.c,
 * cmd_intro.c). */
int cmd_sync(cli *c, int argc, char **argv);
int cmd_inbox(cli *c, int argc, char **argv);
int cmd_record_confirm(cli *c, int argc, char **argv);
int intro_propose(cli *c, int argc, char **argv);
int intro_consent(cli *c, int argc, char **argv);
int intro_decline(cli *c, int argc, char **argv);
/* `record decline ID` of a proposal in the inbox, `record revoke ID` of
 * a record, each answer queued for the other party (printing what was
 * done).  Return the exit status. */
int mail_record_decline(
    cli *c, const char *spec, const char *reason, const char *passfile);
int mail_record_revoke(
    cli *c, const char *id, const char *reason, const char *passfile);
/* The JSON object of a record (client/JSON.md); stored adds the
 * replica's own fields (cmd_record.c). */
json_t *record_json(const tally_record *r, int stored);

/* The identity's passphrase (cmd_id.c): from --passphrase-file file (if
 * not NULL), else $TALLY_PASSPHRASE, else asked on the terminal without
 * echo (twice when confirm).  Writes it NUL-terminated to pass (cap
 * bytes; the caller wipes it), its length to *len.  Prints the reason
 * and returns 1 on failure. */
int cli_passphrase(const char *file, int confirm, char *pass, size_t cap,
    size_t *len);
/* Unlocks the open replica's identity, asking for the passphrase only
 * when the key has one.  Prints the reason and returns 1 on failure. */
int cli_unlock(cli *c, const char *passfile);

/* The usage entries of the top-level commands, for their --help. */
extern const cli_cmd cli_commands[];

/* Looks up a top-level command's entry by name. */
const cli_cmd *cli_find(const char *name);

/* getopt_long options every command accepts. */
#define CLI_COMMON_OPTS                                                      \
	{ "help", no_argument, NULL, 'h' },                                  \
	    { "json", no_argument, NULL, 'J' }

#endif /* TALLY_CLI_H */
