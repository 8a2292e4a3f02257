/*
 * import.c -- tally_import() and tally_export(): format dispatch.
 * The formats live in import_csv.c (LinkedIn, Google), vcard.c and
 * json.c; every importer runs in one transaction (all or nothing unless
 * TALLY_IMPORT_SKIP_BAD) and reports bad records as "FILE:LINE: what".
 */
#include <string.h>

#include "tally_int.h"

int
tally_import(tally *t, tally_import_stats *st, const char *format,
    const char *path, const tally_import_opts *opts)
{
	static const tally_import_opts none = { 0, NULL, NULL, NULL };
	static const struct {
		const char *name;
		int (*fn)(tally *, tally_import_stats *, const char *,
		    const tally_import_opts *);
	} formats[] = {
		{ "linkedin", tly_import_linkedin },
		{ "google", tly_import_google },
		{ "vcard", tly_import_vcard },
		{ "json", tly_import_json },
	};

	memset(st, 0, sizeof *st);
	if (opts == NULL)
		opts = &none;
	if (t->me[0] == '\0')
		return (tly_seterr(t, TALLY_ENOTINIT,
		    "the replica has no user yet (run 'tally init')"));
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(format, formats[i].name) == 0)
			return (formats[i].fn(t, st, path, opts));
	return (tly_seterr(t, TALLY_EINVAL,
	    "unknown import format '%s' (linkedin, google, vcard, json)",
	    format));
}

int
tally_export(tally *t, const char *format, FILE *out)
{
	if (strcmp(format, "json") == 0)
		return (tly_export_json(t, out));
	if (strcmp(format, "csv") == 0)
		return (tly_export_csv(t, out));
	if (strcmp(format, "vcard") == 0)
		return (tly_export_vcard(t, out));
	return (tly_seterr(t, TALLY_EINVAL,
	    "unknown export format '%s' (json, csv, vcard)", format));
}
