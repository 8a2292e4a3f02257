/*
 * tly_err.h -- the one list of error codes used across tally.
 *
 * 0 is success; every failure is a positive TALLY_E* code.  A SQLite rc,
 * an nng rv or a libsodium -1 becomes one of these where it is first seen.
 * The numbers are part of the library's ABI: append, never renumber.
 * This header is also installed with libtally (tally.h includes it).
 */
#ifndef TLY_ERR_H
#define TLY_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

enum tally_errno {
	TALLY_OK        = 0,
	TALLY_EINVAL    = 1,  /* invalid argument or value */
	TALLY_ENOMEM    = 2,  /* out of memory */
	TALLY_ENOENT    = 3,  /* no such item */
	TALLY_EAMBIG    = 4,  /* a name or id prefix matches several items */
	TALLY_EEXIST    = 5,  /* item already exists */
	TALLY_EIO       = 6,  /* file or disk error */
	TALLY_EBUSY     = 7,  /* database locked by another process */
	TALLY_EREADONLY = 8,  /* database or file is read-only */
	TALLY_ECORRUPT  = 9,  /* database or file is corrupt */
	TALLY_ESCHEMA   = 10, /* database made by a newer tally */
	TALLY_EFORMAT   = 11, /* malformed input */
	TALLY_ECRYPTO   = 12, /* bad signature, MAC or key */
	TALLY_EPERM     = 13, /* permission denied (file modes, not allowed) */
	TALLY_ETOOBIG   = 14, /* input exceeds a size limit */
	TALLY_ESTATE    = 15, /* operation not valid in the item's state */
	TALLY_EINTERNAL = 16, /* a bug: please report */
	TALLY_ENOTINIT  = 17, /* replica or identity not initialised */
	TALLY_EPASS     = 18, /* wrong passphrase */
	TALLY_ETIMEDOUT = 19, /* timed out */
	TALLY_ECONNREF  = 20, /* relay unreachable */
	TALLY_EPROTO    = 21, /* protocol error from a peer */
	TALLY_EUNSUPP   = 22, /* unsupported version or feature */
	TALLY_EQUOTA    = 23, /* quota exceeded */
	TALLY_ERATE     = 24, /* rate limited */
	TALLY_EAUTH     = 25  /* not authenticated or not authorised */
};

/* Returns a static, human-readable description of code rv. */
const char *tally_strerror(int rv);

/* Returns the symbolic name of rv ("TALLY_ENOMEM"), for test messages. */
const char *tally_errname(int rv);

#ifdef __cplusplus
}
#endif

#endif /* TLY_ERR_H */
