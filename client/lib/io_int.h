/*
 * io_int.h -- what the importers and exporters share.
 *
 * An import is one run of a tly_imp: tly_imp_begin() opens the
 * transaction, each parser calls tly_imp_record() per record read and
 * tly_imp_bad() for each record it rejects ("FILE:LINE: what is wrong",
 * LINE being where the record starts), and tly_imp_end() commits, or
 * rolls back on a dry run, on a failure, or when a record was bad and
 * TALLY_IMPORT_SKIP_BAD was not given.
 *
 * The contact formats (LinkedIn, Google, vCard) fill a tly_contact and
 * hand it to tly_imp_contact(), which validates it, matches it to a
 * person already in the replica (vCard UID, email, profile URL, then
 * name) and adds or completes that person.
 */
#ifndef IO_INT_H
#define IO_INT_H

#include <stdarg.h>

#include "tally_int.h"
#include "tly_buf.h"

#define TLY_IO_PROGRESS 4096 /* records between progress calls */
#define TLY_IO_MAX_ITEM 320  /* longest email, phone or tag (person.c) */
#define TLY_IO_MAX_LIST 1000 /* most emails, phones or tags per person */
#define TLY_IO_CHUNK 65536   /* bytes read from a file at a time */

/* profile URL -> person_key "u:" key; must stay URL_KEY in schema.c */
#define TLY_URL_KEY(u)                                                       \
	"rtrim(replace(replace(replace(lower(trim(" u ")), 'https://', '')," \
	"  'http://', ''), 'www.', ''), '/')"

typedef struct tly_imp {
	tally                   *t;
	tally_import_stats      *st;
	const tally_import_opts *o;
	const char              *path;   /* the file, as named in messages */
	char   old_me[TALLY_ID_LEN + 1]; /* t->me before, restored on undo */
	size_t next_progress;            /* st->rows to report at */
} tly_imp;

/* A growable list of malloc'd strings. */
typedef struct tly_strv {
	char **v;
	size_t n, cap;
} tly_strv;

/* One person as read from a contacts file.  Text fields are malloc'd,
 * NULL when absent; bad holds the first problem the parser found. */
typedef struct tly_contact {
	unsigned long line; /* where the record starts */
	char         *name, *org, *title, *url, *how_met, *note;
	char          uid[TALLY_ID_LEN + 1]; /* a tally id (vCard UID) or "" */
	tly_strv      emails, phones, tags;
	char          bad[256];
} tly_contact;

/* Opens path for reading ("rb"); on failure sets a message naming the
 * file and returns TALLY_ENOENT, TALLY_EPERM or TALLY_EIO. */
int tly_imp_open(tally *t, const char *path, FILE **fp);

/* Starts an import of path (one write transaction).  TALLY_EBUSY etc. */
int tly_imp_begin(tly_imp *im, tally *t, tally_import_stats *st,
    const char *path, const tally_import_opts *o);
/* Ends it: rv != 0 (a fatal error, message set) rolls back and returns
 * rv; bad records without SKIP_BAD roll back and return TALLY_EFORMAT;
 * a dry run rolls back and returns 0; else commits. */
int tly_imp_end(tly_imp *im, int rv);
/* Counts one record read and calls the progress callback now and then. */
void tly_imp_record(tly_imp *im);
/* Reports a bad record starting at line, and counts it. */
void tly_imp_bad(tly_imp *im, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends s[0..n) (a malloc'd copy) to v.  TALLY_ENOMEM. */
int tly_strv_add(tly_strv *v, const char *s, size_t n);
/* Frees the strings and the list; v is empty afterwards. */
void tly_strv_free(tly_strv *v);

/* Empties c (freeing its strings) for the next record at line. */
void tly_contact_reset(tly_contact *c, unsigned long line);
/* Notes the first problem of the record (later ones are dropped). */
void tly_contact_badf(tly_contact *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets *field to s[0..n) with white space trimmed (NULL when empty),
 * unless it is set already.  A NUL byte in s marks the record bad with
 * what.  TALLY_ENOMEM. */
int tly_contact_text(
    tly_contact *c, char **field, const char *what, const char *s, size_t n);
/* Adds s[0..n), trimmed, to the list l unless empty. TALLY_ENOMEM. */
int tly_contact_item(
    tly_contact *c, tly_strv *l, const char *what, const char *s, size_t n);
/* Validates c and adds or completes the person it matches; a bad
 * record is reported and counted and returns 0.  Returns a TALLY_E*
 * code only for failures that end the import (database, memory). */
int tly_imp_contact(tly_imp *im, tly_contact *c);

/* How tally import json stores rows (json.c): -1 (the default) in bulk
 * mode for files over 1 MiB when the replica's triggers are the known
 * ones, 0 always with the triggers, 1 always in bulk mode (an import
 * fails with TALLY_EINTERNAL if it cannot).  Set only by tests. */
extern int tly_json_bulk;

/* Appends s[0..n) as a JSON string (quoted, escaped; bytes that are not
 * UTF-8 become U+FFFD).  TALLY_ENOMEM. */
int tly_json_str(tly_buf *b, const char *s, size_t n);
/* Appends the JSON array of strings stored in a person column (NULL or
 * damaged text gives []) in the canonical form the dump uses. */
int tly_json_strlist(tly_buf *b, const char *stored);

#endif /* IO_INT_H */
