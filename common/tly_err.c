/*
 * tly_err.c -- names and messages for the TALLY_E* codes.
 */
#include <stddef.h>

#include "tly_err.h"

static const struct {
	const char *name;
	const char *msg;
} errs[] = {
	[TALLY_OK]        = { "TALLY_OK", "success" },
	[TALLY_EINVAL]    = { "TALLY_EINVAL", "invalid argument" },
	[TALLY_ENOMEM]    = { "TALLY_ENOMEM", "out of memory" },
	[TALLY_ENOENT]    = { "TALLY_ENOENT", "not found" },
	[TALLY_EAMBIG]    = { "TALLY_EAMBIG", "ambiguous" },
	[TALLY_EEXIST]    = { "TALLY_EEXIST", "already exists" },
	[TALLY_EIO]       = { "TALLY_EIO", "input/output error" },
	[TALLY_EBUSY]     = { "TALLY_EBUSY", "database is locked" },
	[TALLY_EREADONLY] = { "TALLY_EREADONLY", "read-only" },
	[TALLY_ECORRUPT]  = { "TALLY_ECORRUPT", "corrupt" },
	[TALLY_ESCHEMA]   = { "TALLY_ESCHEMA",
                "database made by a newer version of tally" },
	[TALLY_EFORMAT]   = { "TALLY_EFORMAT", "malformed input" },
	[TALLY_ECRYPTO]   = { "TALLY_ECRYPTO", "cryptographic check failed" },
	[TALLY_EPERM]     = { "TALLY_EPERM", "permission denied" },
	[TALLY_ETOOBIG]   = { "TALLY_ETOOBIG", "too large" },
	[TALLY_ESTATE]    = { "TALLY_ESTATE", "not allowed in this state" },
	[TALLY_EINTERNAL] = { "TALLY_EINTERNAL", "internal error" },
	[TALLY_ENOTINIT]  = { "TALLY_ENOTINIT", "not initialised" },
	[TALLY_EPASS]     = { "TALLY_EPASS", "wrong passphrase" },
	[TALLY_ETIMEDOUT] = { "TALLY_ETIMEDOUT", "timed out" },
	[TALLY_ECONNREF]  = { "TALLY_ECONNREF", "relay unreachable" },
	[TALLY_EPROTO]    = { "TALLY_EPROTO", "protocol error" },
	[TALLY_EUNSUPP]   = { "TALLY_EUNSUPP", "unsupported version" },
	[TALLY_EQUOTA]    = { "TALLY_EQUOTA", "quota exceeded" },
	[TALLY_ERATE]     = { "TALLY_ERATE", "rate limited" },
	[TALLY_EAUTH]     = { "TALLY_EAUTH", "not authorised" },
};

#define NERRS (sizeof errs / sizeof errs[0])

const char *
tally_strerror(int rv)
{
	if (rv < 0 || (size_t) rv >= NERRS || errs[rv].msg == NULL)
		return ("unknown error");
	return (errs[rv].msg);
}

const char *
tally_errname(int rv)
{
	if (rv < 0 || (size_t) rv >= NERRS || errs[rv].name == NULL)
		return ("TALLY_E?");
	return (errs[rv].name);
}
