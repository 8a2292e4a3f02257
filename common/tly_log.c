/*
 * tly_log.c -- stderr logging.
 */
#include <stdarg.h>
#include <stdio.h>

#include "tly_log.h"

static const char *log_prog  = "tally";
static int         log_level = TLY_LOG_WARN;

void
tly_log_init(const char *prog, int level)
{
	log_prog  = prog;
	log_level = level;
}

void
tly_log(int level, const char *fmt, ...)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	va_list            ap;
	char               line[1024];

	if (level > log_level || level < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s: %s\n", log_prog, names[level], line);
}
