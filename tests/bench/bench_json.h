/*
 * bench_json.h -- a benchmark's figures as JSON, in the one shape that
 * tests/bench/run.sh gathers into its table (tests/bench/benchtab.c).
 *
 * A bench records each figure with bench_fig() (or bench_fig_clients()
 * for one measured at a number of concurrent clients), then writes them
 * all with bench_json_write() to $TALLY_BENCH_JSON (nothing when unset):
 *
 *   {"bench": "relay", "figures": [
 *     {"figure": "put (16 clients)", "unit": "ops/s", "value": 5200.0,
 *      "limit": "bare nng echo", "limit_value": 27000.0,
 *      "better": "higher", "series": "put", "clients": 16}, ...]}
 *
 * figure, unit, value: what was measured (the bench's own median where
 * it takes one).  limit, limit_value: the matching raw limit measured in
 * the same run (both null when there is none).  better: "higher" for
 * rates (a unit ending in "/s"), else "lower".  series and clients are
 * present only for figures measured at a number of clients; run.sh plots
 * every series in ms against clients.  Any bench_*.c that writes this
 * shape joins the table; header-only, as every bench is one source file.
 */
#ifndef BENCH_JSON_H
#define BENCH_JSON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_FIG_MAX 128
#define BENCH_NAME_MAX 96

struct bench_fig {
	char   figure[BENCH_NAME_MAX];
	char   unit[24];
	double value;
	char   limit[BENCH_NAME_MAX]; /* empty: no raw limit */
	double limit_value;
	char   series[BENCH_NAME_MAX]; /* with clients > 0 */
	int    clients;                /* 0: not measured per client count */
};

static struct bench_fig bench_figs[BENCH_FIG_MAX];
static int              bench_nfigs;

/* Records a figure; limit NULL when there is no raw limit (limit_value
 * is then ignored).  Returns the entry, or NULL when the table is full. */
static inline struct bench_fig *
bench_fig(const char *figure, const char *unit, double value,
    const char *limit, double limit_value)
{
	struct bench_fig *f;

	if (bench_nfigs >= BENCH_FIG_MAX)
		return (NULL);
	f = &bench_figs[bench_nfigs++];
	memset(f, 0, sizeof *f);
	snprintf(f->figure, sizeof f->figure, "%s", figure);
	snprintf(f->unit, sizeof f->unit, "%s", unit);
	f->value = value;
	if (limit != NULL) {
		snprintf(f->limit, sizeof f->limit, "%s", limit);
		f->limit_value = limit_value;
	}
	return (f);
}

/* Records series (e.g. "put p99") measured with clients concurrent
 * clients; its figure is "SERIES (N clients)". */
static inline struct bench_fig *
bench_fig_clients(const char *series, int clients, const char *unit,
    double value, const char *limit, double limit_value)
{
	char              name[BENCH_NAME_MAX];
	struct bench_fig *f;

	if (snprintf(name, sizeof name, "%s (%d client%s)", series, clients,
	        clients == 1 ? "" : "s") >= (int) sizeof name)
		return (NULL); /* too long a name */
	if ((f = bench_fig(name, unit, value, limit, limit_value)) != NULL) {
		snprintf(f->series, sizeof f->series, "%s", series);
		f->clients = clients;
	}
	return (f);
}

static inline void
bench_json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c < 0x20)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

static inline void
bench_json_num(FILE *fp, double v)
{
	/* JSON has no NaN or infinity. */
	if (v != v || v > 1e300 || v < -1e300)
		fputs("null", fp);
	else
		fprintf(fp, "%.6g", v);
}

/* Writes every recorded figure of bench to path, or to $TALLY_BENCH_JSON
 * when path is NULL; nothing when both are unset.  0, or -1 after
 * printing why. */
static inline int
bench_json_write(const char *bench, const char *path)
{
	FILE  *fp;
	size_t ul;

	if (path == NULL && (path = getenv("TALLY_BENCH_JSON")) == NULL)
		return (0);
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		return (-1);
	}
	fputs("{\"bench\": ", fp);
	bench_json_str(fp, bench);
	fputs(", \"figures\": [", fp);
	for (int i = 0; i < bench_nfigs; i++) {
		const struct bench_fig *f = &bench_figs[i];

		ul = strlen(f->unit);
		fputs(i ? ",\n  {\"figure\": " : "\n  {\"figure\": ", fp);
		bench_json_str(fp, f->figure);
		fputs(", \"unit\": ", fp);
		bench_json_str(fp, f->unit);
		fputs(", \"value\": ", fp);
		bench_json_num(fp, f->value);
		fputs(", \"limit\": ", fp);
		if (f->limit[0] != '\0') {
			bench_json_str(fp, f->limit);
			fputs(", \"limit_value\": ", fp);
			bench_json_num(fp, f->limit_value);
		} else {
			fputs("null, \"limit_value\": null", fp);
		}
		fprintf(fp, ", \"better\": \"%s\"",
		    ul >= 2 && strcmp(f->unit + ul - 2, "/s") == 0 ? "higher"
		                                                   : "lower");
		if (f->clients > 0) {
			fputs(", \"series\": ", fp);
			bench_json_str(fp, f->series);
			fprintf(fp, ", \"clients\": %d", f->clients);
		}
		fputc('}', fp);
	}
	fputs("\n]}\n", fp);
	if (fclose(fp) != 0) {
		perror(path);
		return (-1);
	}
	return (0);
}

#endif /* BENCH_JSON_H */
