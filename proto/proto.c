/*
 * proto.c -- the protocol version this build speaks, and the words for
 * the TLY_WHY_* reasons.
 */
#include <stddef.h>

#include <sodium.h>

#include "proto.h"
#include "tly_err.h"

int
tly_proto_version(void)
{
	return (TLY_PROTO_VERSION);
}

int
tly_proto_init(void)
{
	if (sodium_init() < 0)
		return (TALLY_EINTERNAL);
	return (0);
}

static const char *const whys[] = {
	[TLY_WHY_NONE]        = "no error",
	[TLY_WHY_TRUNCATED]   = "the input is truncated",
	[TLY_WHY_TRAILING]    = "unexpected bytes after the end",
	[TLY_WHY_VERSION]     = "unsupported format version",
	[TLY_WHY_KIND]        = "unknown record kind",
	[TLY_WHY_PARTY_COUNT] = "wrong number of parties for the record kind",
	[TLY_WHY_KIND_MISMATCH] =
	    "the parties' roles do not match the record kind",
	[TLY_WHY_DUP_PARTY]   = "the same key appears as two parties",
	[TLY_WHY_PARTY_ORDER] = "the introduced parties are not in key order",
	[TLY_WHY_DATE]        = "invalid date",
	[TLY_WHY_TIME]        = "creation time out of range",
	[TLY_WHY_FAVOR_KIND]  = "unknown favor kind",
	[TLY_WHY_ACTION]      = "unknown revocation action",
	[TLY_WHY_TEXT_LEN]    = "a text field is longer than its limit",
	[TLY_WHY_TEXT_EMPTY]  = "a required text field is empty",
	[TLY_WHY_UTF8]        = "a text field is not valid UTF-8",
	[TLY_WHY_CONTROL]     = "a text field holds a control character",
	[TLY_WHY_TOO_BIG]     = "the input exceeds its size limit",
	[TLY_WHY_NOT_PARTY]   = "a signer is not a party of the record",
	[TLY_WHY_SIG_ORDER]   = "the signatures are not in party order",
	[TLY_WHY_DUP_SIG]     = "the same party or signature appears twice",
	[TLY_WHY_BAD_SIG]     = "a signature does not verify",
	[TLY_WHY_REVOKER] = "the revocation is not by a party of the record",
	[TLY_WHY_TARGET]  = "the revocation names a different record",
	[TLY_WHY_NOT_REVOCATION] = "the record is not a revocation",
	[TLY_WHY_ARMOR_BEGIN]    = "no -----BEGIN line found",
	[TLY_WHY_ARMOR_END]      = "no -----END line after the body",
	[TLY_WHY_ARMOR_HEADER]   = "a malformed armor header line",
	[TLY_WHY_ARMOR_BODY]     = "a malformed armor body",
	[TLY_WHY_EMPTY]          = "the input is empty",
	[TLY_WHY_MAGIC]          = "not a tally letter",
	[TLY_WHY_LETTER_TYPE]    = "unknown letter type",
	[TLY_WHY_FLAGS]          = "reserved flags are set",
	[TLY_WHY_PADDING]        = "the padding is not zero",
	[TLY_WHY_CARD]           = "a malformed contact card field",
	[TLY_WHY_SEALED] =
	    "the envelope cannot be opened with this key (not sealed to "
	    "it, or damaged)",
};

const char *
tly_why_str(int why)
{
	if (why < 0 || (size_t) why >= sizeof whys / sizeof whys[0] ||
	    whys[why] == NULL)
		return ("unknown reason");
	return (whys[why]);
}
