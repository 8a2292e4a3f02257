/*
 * tly_time.h -- times as Unix seconds (int64_t), and the WHEN syntax.
 *
 * Stored times are UTC seconds.  WHEN, as typed by a user, is one of
 *   YYYY-MM-DD             local midnight of that day
 *   YYYY-MM-DDTHH:MM[:SS]  local time (a space may replace the T)
 *   YYYY-MM-DDTHH:MM:SSZ   UTC (what --json prints)
 *   now, today, tomorrow, yesterday
 *   +N or -N followed by h, d, w or m (hours, days, weeks, 30-day months)
 * Relative forms count from tly_now(), which honours $TALLY_NOW (Unix
 * seconds or an ISO time) so that tests and demos can fix the clock.
 */
#ifndef TLY_TIME_H
#define TLY_TIME_H

#include <stdint.h>

#define TLY_ISO_LEN  21 /* "2026-11-22T01:36:56Z" + NUL */
#define TLY_DATE_LEN 11 /* "2026-11-22" + NUL */
#define TLY_DAY      86400

/* The current time: $TALLY_NOW if set and valid, else the clock. */
int64_t tly_now(void);
/* Returns 0 if $TALLY_NOW is unset or valid, TALLY_EINVAL if it is set
 * to something that is not a time (callers refuse to run then). */
int tly_now_check(void);
/* Parses WHEN relative to now into *out.  TALLY_EINVAL if s is not one of
 * the forms above or names an impossible date (2025-02-30). */
int tly_when_parse(const char *s, int64_t now, int64_t *out);
/* Formats t as UTC ISO 8601 into out (TLY_ISO_LEN bytes). */
void tly_time_iso(int64_t t, char *out);
/* Formats t as the local date YYYY-MM-DD into out (TLY_DATE_LEN bytes). */
void tly_time_date(int64_t t, char *out);
/* Formats t as local "YYYY-MM-DD HH:MM" into out (17 bytes). */
void tly_time_local(int64_t t, char *out);
/* Parses exactly "YYYY-MM-DDTHH:MM:SSZ" (UTC).  TALLY_EINVAL otherwise. */
int tly_time_parse_iso(const char *s, int64_t *out);

#endif /* TLY_TIME_H */
