/*
 * fuzz_import.h -- the harness the importers' libFuzzer targets share.
 *
 * Each input is written to a file and imported with --skip-bad and
 * --dry-run (so the replica never grows) into a replica with a user.  Any
 * crash, sanitizer report or leak is a bug; bad input must only give an
 * error code or bad-record reports.  A target defines fuzz_format and
 * calls fuzz_import() from LLVMFuzzerTestOneInput().
 */
#ifndef FUZZ_IMPORT_H
#define FUZZ_IMPORT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tally.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fuzz_format;

static tally *replicas[2];
static char   input[64];

/* Receives bad records; reads each message to the end. */
static void
on_bad(void *arg, const char *msg)
{
	*(size_t *) arg += strlen(msg);
}

static tally *
replica(const char *tag, int init)
{
	char   db[96];
	tally *t;

	snprintf(db, sizeof db, "/tmp/fuzz-%s-%d-%s.db", fuzz_format,
	    (int) getpid(), tag);
	unlink(db);
	if (tally_open(&t, db, TALLY_OPEN_CREATE) != 0 ||
	    (init && tally_init(t, "Fuzz Me") != 0))
		abort();
	return (t);
}

/* Imports data[0..size) as fuzz_format; with_empty also into a replica
 * without a user (the JSON dump brings its own). */
static int
fuzz_import(const uint8_t *data, size_t size, int with_empty)
{
	tally_import_stats st;
	tally_import_opts  o;
	size_t             said = 0;
	FILE              *f;

	if (replicas[0] == NULL) {
		replicas[0] = replica("me", 1);
		replicas[1] = with_empty ? replica("none", 0) : NULL;
		snprintf(input, sizeof input, "/tmp/fuzz-%s-%d.in",
		    fuzz_format, (int) getpid());
	}
	if ((f = fopen(input, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();
	memset(&o, 0, sizeof o);
	o.flags = TALLY_IMPORT_SKIP_BAD | TALLY_IMPORT_DRY_RUN;
	o.bad   = on_bad;
	o.arg   = &said;
	for (int i = 0; i < 2; i++) {
		if (replicas[i] == NULL)
			continue;
		/* every record is counted once (a JSON record whose link
		 * could not be set at the end counts as stored and bad) */
		if (tally_import(replicas[i], &st, fuzz_format, input, &o) ==
		        0 &&
		    !with_empty &&
		    st.added + st.updated + st.same + st.bad + st.skipped >
		        st.rows + 1)
			abort();
		(void) tally_errmsg(replicas[i]);
	}
	return (0);
}

#endif /* FUZZ_IMPORT_H */
