/*
 * benchtab.c -- gathers the JSON figures of the benchmarks into one table,
 * and compares two such tables.
 *
 *   benchtab table [--json OUT] [--plot DAT] [--meta KEY=VALUE]... FILE...
 *   benchtab compare OLD.json NEW.json
 *
 * table: each FILE is what one run of one bench wrote to
 * $TALLY_BENCH_JSON (tests/bench/bench_json.h: {"bench", "figures":
 * [{figure, unit, value, limit, limit_value, better, series?,
 * clients?}]}; the older {name, median, limit} entries are read too).
 * Figures of the same bench and name from several runs are one row: the
 * median of their values, their spread ((max - min) / median) and the
 * median of their raw limits.  ratio is the cost against the raw limit of
 * the same run, limit / value for rates ("better": "higher"), value /
 * limit otherwise (1.00x: as fast as the raw limit), the median over the
 * runs.  Prints the table; --json writes
 * it as JSON (with the --meta strings), --plot writes every series in ms
 * measured against a number of clients, and the limits of those figures,
 * as columns of a gnuplot data file (first column: clients; "?" where a
 * value is missing).
 *
 * compare: two files written by --json, row by row: old and new median,
 * the change, and "better" or "worse" when it moved by 5% or more.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define MAX_ROWS 1024
#define MAX_RUNS 64
#define MAX_META 16
#define NOISE 0.05 /* compare: a change below this is "same" */

struct row {
	char   bench[64];
	char   figure[128];
	char   unit[24];
	char   limit[128]; /* empty: none */
	char   series[128];
	int    clients;
	int    higher;                                /* higher is better */
	double v[MAX_RUNS], l[MAX_RUNS], q[MAX_RUNS]; /* q: ratio per run */
	int    nv, nl, nq;
	double value, min, max, limit_value, ratio; /* computed */
};

static struct row rows[MAX_ROWS];
static int        nrows;

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return ((x > y) - (x < y));
}

static double
median(double *v, int n)
{
	if (n == 0)
		return (NAN);
	qsort(v, (size_t) n, sizeof *v, cmp_double);
	return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

static const char *
str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return (json_is_string(v) ? json_string_value(v) : NULL);
}

static int
num(json_t *o, const char *key, double *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		return (0);
	*out = json_number_value(v);
	return (1);
}

static void
copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src != NULL ? src : "");
}

static struct row *
find_row(const char *bench, const char *figure)
{
	for (int i = 0; i < nrows; i++)
		if (strcmp(rows[i].bench, bench) == 0 &&
		    strcmp(rows[i].figure, figure) == 0)
			return (&rows[i]);
	return (NULL);
}

static double
ratio(int higher, double value, double limit)
{
	if (!(value > 0) || !(limit > 0))
		return (NAN);
	return (higher ? limit / value : value / limit);
}

/* Reads one run of one bench. */
static int
load_run(const char *path)
{
	json_error_t err;
	json_t      *root, *figs, *f;
	const char  *bench;
	size_t       i;

	if ((root = json_load_file(path, 0, &err)) == NULL) {
		fprintf(
		    stderr, "benchtab: %s:%d: %s\n", path, err.line, err.text);
		return (-1);
	}
	figs = json_object_get(root, "figures");
	if ((bench = str(root, "bench")) == NULL || !json_is_array(figs)) {
		fprintf(stderr, "benchtab: %s: no \"bench\" and \"figures\"\n",
		    path);
		json_decref(root);
		return (-1);
	}
	json_array_foreach(figs, i, f)
	{
		const char *name = str(f, "figure"), *unit = str(f, "unit");
		const char *better = str(f, "better"), *limit;
		struct row *r;
		double      v, lv = 0;
		int         has_lv;

		if (name == NULL)
			name = str(f, "name"); /* the older shape */
		if (name == NULL || unit == NULL ||
		    !(num(f, "value", &v) || num(f, "median", &v))) {
			fprintf(stderr,
			    "benchtab: %s: figure %zu lacks figure, unit or "
			    "value\n",
			    path, i);
			continue;
		}
		limit  = str(f, "limit");
		has_lv = num(f, "limit_value", &lv);
		if (limit == NULL && !has_lv && num(f, "limit", &lv) &&
		    lv > 0) { /* the older shape: limit is the number */
			limit  = "raw limit";
			has_lv = 1;
		}
		if ((r = find_row(bench, name)) == NULL) {
			if (nrows >= MAX_ROWS)
				break;
			r = &rows[nrows++];
			memset(r, 0, sizeof *r);
			copy(r->bench, sizeof r->bench, bench);
			copy(r->figure, sizeof r->figure, name);
			copy(r->unit, sizeof r->unit, unit);
			copy(r->limit, sizeof r->limit, limit);
			copy(r->series, sizeof r->series, str(f, "series"));
			r->clients = (int) json_integer_value(
			    json_object_get(f, "clients"));
			if (better != NULL)
				r->higher = strcmp(better, "higher") == 0;
			else
				r->higher = strlen(unit) >= 2 &&
				    strcmp(unit + strlen(unit) - 2, "/s") == 0;
		}
		if (r->nv < MAX_RUNS)
			r->v[r->nv++] = v;
		if (limit != NULL && has_lv && r->nl < MAX_RUNS) {
			r->l[r->nl++] = lv;
			if (r->nq < MAX_RUNS &&
			    !isnan(ratio(r->higher, v, lv)))
				r->q[r->nq++] = ratio(r->higher, v, lv);
		}
	}
	json_decref(root);
	return (0);
}

static void
compute(void)
{
	for (int i = 0; i < nrows; i++) {
		struct row *r = &rows[i];

		r->value       = median(r->v, r->nv); /* sorts v */
		r->min         = r->nv ? r->v[0] : NAN;
		r->max         = r->nv ? r->v[r->nv - 1] : NAN;
		r->limit_value = median(r->l, r->nl);
		/* The limit of the same run is the yardstick: the median
		 * of the ratios of each run. */
		r->ratio = median(r->q, r->nq);
	}
}

/* A figure in at most 10 columns: three significant digits or more. */
static const char *
fmt(char *buf, size_t n, double v)
{
	double a = fabs(v);

	if (isnan(v))
		snprintf(buf, n, "-");
	else if (a >= 100)
		snprintf(buf, n, "%.0f", v);
	else if (a >= 10)
		snprintf(buf, n, "%.1f", v);
	else if (a >= 1)
		snprintf(buf, n, "%.2f", v);
	else
		snprintf(buf, n, "%.3f", v);
	return (buf);
}

static void
print_table(void)
{
	char a[32], b[32], c[32];
	int  w = 6, lw = 9;

	for (int i = 0; i < nrows; i++) {
		int k =
		    (int) (strlen(rows[i].bench) + strlen(rows[i].figure)) + 1;

		if (k > w)
			w = k;
		if ((int) strlen(rows[i].limit) > lw)
			lw = (int) strlen(rows[i].limit);
	}
	printf("%-*s %-7s %10s %4s %7s  %-*s %10s %7s\n", w, "figure", "unit",
	    "median", "runs", "spread", lw, "raw limit", "limit", "ratio");
	for (int i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		char        name[200];

		snprintf(name, sizeof name, "%s/%s", r->bench, r->figure);
		printf("%-*s %-7s %10s %4d %6.1f%%  %-*s %10s", w, name,
		    r->unit, fmt(a, sizeof a, r->value), r->nv,
		    r->value != 0 ? 100 * (r->max - r->min) / fabs(r->value)
		                  : 0.0,
		    lw, r->limit[0] ? r->limit : "-",
		    fmt(b, sizeof b, r->limit_value));
		if (isnan(r->ratio))
			printf(" %7s\n", "-");
		else
			printf(" %6sx\n", fmt(c, sizeof c, r->ratio));
	}
	printf("median of the runs; spread = (max - min) / median; ratio = "
	       "cost against the raw\nlimit measured in the same run "
	       "(limit/value for rates, value/limit otherwise),\nmedian "
	       "over the runs\n");
}

static json_t *
jnum(double v)
{
	return (isnan(v) || isinf(v) ? json_null() : json_real(v));
}

static int
write_json(const char *path, char **meta, int nmeta)
{
	json_t *root = json_object(), *m = json_object(), *a = json_array();
	int     rv;

	for (int i = 0; i < nmeta; i++) {
		char *eq = strchr(meta[i], '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		json_object_set_new(m, meta[i], json_string(eq + 1));
		*eq = '=';
	}
	for (int i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		json_t     *o = json_object();

		json_object_set_new(o, "bench", json_string(r->bench));
		json_object_set_new(o, "figure", json_string(r->figure));
		json_object_set_new(o, "unit", json_string(r->unit));
		json_object_set_new(o, "value", jnum(r->value));
		json_object_set_new(o, "min", jnum(r->min));
		json_object_set_new(o, "max", jnum(r->max));
		json_object_set_new(o, "runs", json_integer(r->nv));
		json_object_set_new(o, "limit",
		    r->limit[0] ? json_string(r->limit) : json_null());
		json_object_set_new(o, "limit_value", jnum(r->limit_value));
		json_object_set_new(o, "ratio", jnum(r->ratio));
		json_object_set_new(
		    o, "better", json_string(r->higher ? "higher" : "lower"));
		if (r->clients > 0) {
			json_object_set_new(
			    o, "series", json_string(r->series));
			json_object_set_new(
			    o, "clients", json_integer(r->clients));
		}
		json_array_append_new(a, o);
	}
	json_object_set_new(root, "tally_bench_table", json_integer(1));
	json_object_set_new(root, "meta", m);
	json_object_set_new(root, "figures", a);
	rv = json_dump_file(root, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (rv != 0)
		fprintf(stderr, "benchtab: cannot write %s\n", path);
	return (rv);
}

/* Latency (ms) against clients: one column per series and per limit. */
static int
write_plot(const char *path)
{
	const char *cols[64];
	int         ncols = 0, xs[64], nx = 0;
	FILE       *fp;

	for (int i = 0; i < nrows; i++) {
		struct row *r        = &rows[i];
		const char *names[2] = { r->series, r->limit };

		if (r->clients <= 0 || strcmp(r->unit, "ms") != 0)
			continue;
		for (int k = 0; k < 2; k++) {
			int j;

			if (names[k][0] == '\0')
				continue;
			for (j = 0; j < ncols; j++)
				if (strcmp(cols[j], names[k]) == 0)
					break;
			if (j == ncols && ncols < 64)
				cols[ncols++] = names[k];
		}
		{
			int j;

			for (j = 0; j < nx; j++)
				if (xs[j] == r->clients)
					break;
			if (j == nx && nx < 64)
				xs[nx++] = r->clients;
		}
	}
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		return (-1);
	}
	fprintf(fp, "clients");
	for (int j = 0; j < ncols; j++)
		fprintf(fp, " \"%s\"", cols[j]);
	fprintf(fp, "\n");
	for (int a = 0; a < nx; a++)
		for (int b = a + 1; b < nx; b++)
			if (xs[b] < xs[a]) {
				int t = xs[a];
				xs[a] = xs[b];
				xs[b] = t;
			}
	for (int a = 0; a < nx; a++) {
		fprintf(fp, "%d", xs[a]);
		for (int j = 0; j < ncols; j++) {
			double v = NAN;

			for (int i = 0; i < nrows && isnan(v); i++) {
				struct row *r = &rows[i];

				if (r->clients != xs[a] ||
				    strcmp(r->unit, "ms") != 0)
					continue;
				if (strcmp(r->series, cols[j]) == 0)
					v = r->value;
				else if (strcmp(r->limit, cols[j]) == 0)
					v = r->limit_value;
			}
			if (isnan(v))
				fprintf(fp, " ?");
			else
				fprintf(fp, " %.4f", v);
		}
		fprintf(fp, "\n");
	}
	if (fclose(fp) != 0) {
		perror(path);
		return (-1);
	}
	return (ncols);
}

static json_t *
load_table(const char *path)
{
	json_error_t err;
	json_t      *root = json_load_file(path, 0, &err);

	if (root == NULL) {
		fprintf(
		    stderr, "benchtab: %s:%d: %s\n", path, err.line, err.text);
		return (NULL);
	}
	if (!json_is_array(json_object_get(root, "figures"))) {
		fprintf(
		    stderr, "benchtab: %s: not a table (no figures)\n", path);
		json_decref(root);
		return (NULL);
	}
	return (root);
}

static json_t *
find_fig(json_t *table, const char *bench, const char *figure)
{
	json_t *f;
	size_t  i;

	json_array_foreach(json_object_get(table, "figures"), i, f)
	{
		const char *b = str(f, "bench"), *n = str(f, "figure");

		if (b != NULL && n != NULL && strcmp(b, bench) == 0 &&
		    strcmp(n, figure) == 0)
			return (f);
	}
	return (NULL);
}

static void
compare_row(json_t *o, json_t *n, int w)
{
	json_t     *f      = n != NULL ? n : o;
	const char *better = str(f, "better");
	char        name[200], a[32], b[32], ra[32], rb[32];
	double      ov = NAN, nv = NAN, orat = NAN, nrat = NAN, ch = NAN;
	const char *verdict = "";

	snprintf(
	    name, sizeof name, "%s/%s", str(f, "bench"), str(f, "figure"));
	if (o != NULL) {
		num(o, "value", &ov);
		num(o, "ratio", &orat);
	}
	if (n != NULL) {
		num(n, "value", &nv);
		num(n, "ratio", &nrat);
	}
	if (o == NULL)
		verdict = "new";
	else if (n == NULL)
		verdict = "gone";
	else if (ov != 0 && !isnan(ov) && !isnan(nv)) {
		int higher = better != NULL && strcmp(better, "higher") == 0;

		ch = (nv - ov) / fabs(ov);
		if (fabs(ch) < NOISE)
			verdict = "same";
		else
			verdict = (ch > 0) == higher ? "better" : "worse";
	}
	printf("%-*s %-7s %10s %10s ", w, name, str(f, "unit") ? str(f, "unit") : "",
	    fmt(a, sizeof a, ov), fmt(b, sizeof b, nv));
	if (isnan(ch))
		printf("%8s", "-");
	else
		printf("%+7.1f%%", 100 * ch);
	printf(" %-7s %8s -> %-8s\n", verdict, fmt(ra, sizeof ra, orat),
	    fmt(rb, sizeof rb, nrat));
}

static void
print_meta(const char *label, json_t *t)
{
	json_t     *m = json_object_get(t, "meta"), *v;
	const char *k;

	printf("%s:", label);
	json_object_foreach(m, k, v) if (json_is_string(v))
	    printf(" %s=%s", k, json_string_value(v));
	printf("\n");
}

static int
compare(const char *oldp, const char *newp)
{
	json_t *o = load_table(oldp), *n = load_table(newp), *f;
	size_t  i;
	int     w = 6;

	if (o == NULL || n == NULL) {
		json_decref(o);
		json_decref(n);
		return (1);
	}
	print_meta("old", o);
	print_meta("new", n);
	for (int pass = 0; pass < 2; pass++)
		json_array_foreach(
		    json_object_get(pass ? o : n, "figures"), i, f)
		{
			int k = (int) (strlen(str(f, "bench") ? str(f, "bench")
			                                      : "") +
			            strlen(str(f, "figure") ? str(f, "figure")
			                                    : "")) +
			    1;

			if (k > w)
				w = k;
		}
	printf("%-*s %-7s %10s %10s %8s %-7s %8s    %-8s\n", w, "figure",
	    "unit", "old", "new", "change", "", "ratio", "");
	json_array_foreach(json_object_get(n, "figures"), i, f)
	{
		const char *b = str(f, "bench"), *name = str(f, "figure");

		if (b == NULL || name == NULL)
			continue;
		compare_row(find_fig(o, b, name), f, w);
	}
	json_array_foreach(json_object_get(o, "figures"), i, f)
	{
		const char *b = str(f, "bench"), *name = str(f, "figure");

		if (b != NULL && name != NULL && find_fig(n, b, name) == NULL)
			compare_row(f, NULL, w);
	}
	printf("change: new against old median; better/worse from 5%%; "
	       "ratio: cost against the\nraw limit of the same run (a "
	       "ratio that holds while the figure moves points\nat the "
	       "machine, not the code)\n");
	json_decref(o);
	json_decref(n);
	return (0);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: benchtab table [--json OUT] [--plot DAT] "
	    "[--meta KEY=VALUE]... FILE...\n"
	    "       benchtab compare OLD.json NEW.json\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *json = NULL, *plot = NULL;
	char       *meta[MAX_META];
	int         nmeta = 0, i, bad = 0;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "compare") == 0) {
		if (argc != 4)
			usage();
		return (compare(argv[2], argv[3]));
	}
	if (strcmp(argv[1], "table") != 0)
		usage();
	for (i = 2; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
			json = argv[++i];
		else if (strcmp(argv[i], "--plot") == 0 && i + 1 < argc)
			plot = argv[++i];
		else if (strcmp(argv[i], "--meta") == 0 && i + 1 < argc &&
		    nmeta < MAX_META)
			meta[nmeta++] = argv[++i];
		else
			usage();
	}
	if (i == argc)
		usage();
	for (; i < argc; i++)
		bad |= load_run(argv[i]) != 0;
	compute();
	print_table();
	if (json != NULL && write_json(json, meta, nmeta) != 0)
		bad = 1;
	if (plot != NULL && write_plot(plot) < 0)
		bad = 1;
	return (bad);
}
