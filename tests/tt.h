/*
 * tt.h -- tally's test helpers on top of cmocka.
 *
 * Each check prints what was expected and what came instead:
 *   TT_PASS(tly_buf_append(b, p, n))
 *     -> tly_buf_append(b, p, n): expected success, got TALLY_ENOMEM (2)
 */
#ifndef TT_H
#define TT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tly_err.h"

#define TT_PASS(expr)                                                        \
	do {                                                                 \
		int tt_rv_ = (expr);                                         \
		if (tt_rv_ != 0)                                             \
			fail_msg("%s: expected success, got %s (%d)", #expr, \
			    tally_errname(tt_rv_), tt_rv_);                  \
	} while (0)

#define TT_FAIL(expr, want)                                                  \
	do {                                                                 \
		int tt_rv_ = (expr);                                         \
		if (tt_rv_ != (want))                                        \
			fail_msg("%s: expected %s (%d), got %s (%d)", #expr, \
			    tally_errname(want), (int) (want),               \
			    tally_errname(tt_rv_), tt_rv_);                  \
	} while (0)

#define TT_STREQ(got, want)                                                  \
	do {                                                                 \
		const char *tt_g_ = (got), *tt_w_ = (want);                  \
		if (tt_g_ == NULL || strcmp(tt_g_, tt_w_) != 0)              \
			fail_msg("%s: expected \"%s\", got \"%s\"", #got,    \
			    tt_w_, tt_g_ ? tt_g_ : "(null)");                \
	} while (0)

#define TT_INTEQ(got, want)                                                  \
	do {                                                                 \
		long long tt_g_ = (long long) (got);                         \
		long long tt_w_ = (long long) (want);                        \
		if (tt_g_ != tt_w_)                                          \
			fail_msg("%s: expected %lld, got %lld", #got, tt_w_, \
			    tt_g_);                                          \
	} while (0)

#define TT_MEMEQ(got, want, n)                                               \
	do {                                                                 \
		if (memcmp((got), (want), (n)) != 0)                         \
			fail_msg("%s: bytes differ from %s", #got, #want);   \
	} while (0)

#endif /* TT_H */
