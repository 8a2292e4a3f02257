/*
 * tly_time.c -- the WHEN parser and time formatting.
 *
 * UTC conversions use the days-from-civil algorithm (proleptic
 * Gregorian), so nothing depends on the non-standard timegm().
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tly_err.h"
#include "tly_time.h"

static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return (m == 2 && leap ? 29 : dm[m - 1]);
}

static int
valid_ymdhms(int y, int mo, int d, int h, int mi, int s)
{
	return (y >= 1900 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 &&
	    d <= days_in_month(y, mo) && h >= 0 && h <= 23 && mi >= 0 &&
	    mi <= 59 && s >= 0 && s <= 59);
}

/* Reads exactly n digits at *p. */
static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char) (*p)[i]))
			return (-1);
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return (0);
}

static int
local_to_unix(int y, int mo, int d, int h, int mi, int s, int64_t *out)
{
	struct tm tm;
	time_t    t;

	memset(&tm, 0, sizeof tm);
	tm.tm_year  = y - 1900;
	tm.tm_mon   = mo - 1;
	tm.tm_mday  = d;
	tm.tm_hour  = h;
	tm.tm_min   = mi;
	tm.tm_sec   = s;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t) -1)
		return (TALLY_EINVAL);
	*out = (int64_t) t;
	return (0);
}

int
tly_time_parse_iso(const char *s, int64_t *out)
{
	int         y, mo, d, h, mi, sec;
	const char *p = s;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d) || *p++ != 'T' ||
	    digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &sec) || *p++ != 'Z' || *p != '\0')
		return (TALLY_EINVAL);
	if (!valid_ymdhms(y, mo, d, h, mi, sec))
		return (TALLY_EINVAL);
	*out = days_from_civil(y, mo, d) * TLY_DAY + h * 3600 + mi * 60 + sec;
	return (0);
}

static int
parse_absolute(const char *s, int64_t *out)
{
	int         y, mo, d, h = 0, mi = 0, sec = 0;
	const char *p = s;

	if (tly_time_parse_iso(s, out) == 0)
		return (0);
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return (TALLY_EINVAL);
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return (TALLY_EINVAL);
		if (*p == ':' && (p++, digits(&p, 2, &sec)))
			return (TALLY_EINVAL);
	}
	if (*p != '\0' || !valid_ymdhms(y, mo, d, h, mi, sec))
		return (TALLY_EINVAL);
	return (local_to_unix(y, mo, d, h, mi, sec, out));
}

int
tly_when_parse(const char *s, int64_t now, int64_t *out)
{
	static const struct {
		const char *word;
		int64_t     delta;
	} words[] = {
		{ "now", 0 },
		{ "today", 0 },
		{ "tomorrow", TLY_DAY },
		{ "yesterday", -TLY_DAY },
	};

	if (s == NULL || *s == '\0')
		return (TALLY_EINVAL);
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (strcmp(s, words[i].word) == 0) {
			*out = now + words[i].delta;
			return (0);
		}
	}
	if (s[0] == '+' || s[0] == '-') {
		char         *end;
		long long     n;
		int64_t       unit;
		const char   *p = s + 1;

		if (!isdigit((unsigned char) *p))
			return (TALLY_EINVAL);
		errno = 0;
		n     = strtoll(p, &end, 10);
		if (errno != 0 || n > 100000 || end[0] == '\0' || end[1] != '\0')
			return (TALLY_EINVAL);
		switch (end[0]) {
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = TLY_DAY;
			break;
		case 'w':
			unit = 7 * TLY_DAY;
			break;
		case 'm':
			unit = 30 * TLY_DAY;
			break;
		default:
			return (TALLY_EINVAL);
		}
		*out = now + (s[0] == '-' ? -1 : 1) * (int64_t) n * unit;
		return (0);
	}
	return (parse_absolute(s, out));
}

/* Parses $TALLY_NOW into *t; 1 if set and valid, 0 if unset, -1 if
 * set to something else. */
static int
env_now(int64_t *t)
{
	const char *env = getenv("TALLY_NOW");
	char       *end;
	long long   v;

	if (env == NULL || *env == '\0')
		return (0);
	errno = 0;
	v     = strtoll(env, &end, 10);
	if (errno == 0 && *end == '\0' && v > 0) {
		*t = (int64_t) v;
		return (1);
	}
	return (parse_absolute(env, t) == 0 ? 1 : -1);
}

int64_t
tly_now(void)
{
	int64_t t;

	if (env_now(&t) == 1)
		return (t);
	return ((int64_t) time(NULL));
}

int
tly_now_check(void)
{
	int64_t t;

	return (env_now(&t) < 0 ? TALLY_EINVAL : 0);
}

void
tly_time_iso(int64_t t, char *out)
{
	int64_t days = t >= 0 ? t / TLY_DAY : (t - TLY_DAY + 1) / TLY_DAY;
	int64_t secs = t - days * TLY_DAY;
	int64_t z    = days + 719468;
	int64_t era  = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe  = z - era * 146097;
	int64_t yoe  = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy  = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp   = (5 * doy + 2) / 153;
	int     d    = (int) (doy - (153 * mp + 2) / 5 + 1);
	int     m    = (int) (mp < 10 ? mp + 3 : mp - 9);
	int64_t y    = yoe + era * 400 + (m <= 2);

	snprintf(out, TLY_ISO_LEN, "%04u-%02u-%02uT%02u:%02u:%02uZ",
	    (unsigned) (y % 10000) % 10000u, (unsigned) m % 100u,
	    (unsigned) d % 100u, (unsigned) (secs / 3600) % 100u,
	    (unsigned) (secs / 60 % 60), (unsigned) (secs % 60));
}

/* Formats t as local time: the date, and with_time the hour and minute. */
static void
local_fmt(int64_t t, int with_time, char *out, size_t n)
{
	time_t    tt = (time_t) t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL) {
		snprintf(out, n, "?");
		return;
	}
	snprintf(out, n, "%04u-%02u-%02u", (unsigned) (tm.tm_year + 1900) % 10000u,
	    (unsigned) (tm.tm_mon + 1) % 100u, (unsigned) tm.tm_mday % 100u);
	if (with_time)
		snprintf(out + 10, n - 10, " %02u:%02u",
		    (unsigned) tm.tm_hour % 100u, (unsigned) tm.tm_min % 100u);
}

void
tly_time_date(int64_t t, char *out)
{
	local_fmt(t, 0, out, TLY_DATE_LEN);
}

void
tly_time_local(int64_t t, char *out)
{
	local_fmt(t, 1, out, 17);
}
