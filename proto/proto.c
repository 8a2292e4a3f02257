/*
 * proto.c -- the protocol version this build speaks.
 */
#include "proto.h"

int
tly_proto_version(void)
{
	return (TLY_PROTO_VERSION);
}
