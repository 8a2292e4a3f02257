/*
 * proto.h -- versions of tally's wire and record formats.
 */
#ifndef TLY_PROTO_H
#define TLY_PROTO_H

#define TLY_PROTO_VERSION 1 /* bump when a wire struct changes */

/* Returns TLY_PROTO_VERSION (the codec this build speaks). */
int tly_proto_version(void);

#endif /* TLY_PROTO_H */
