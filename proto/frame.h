/*
 * frame.h -- the relay wire format (proto/PROTOCOL.md (part 8)): one frame per nng
 * REQ/REP message, a fixed header and a typed body.
 *
 * Header, big-endian:
 *   OFFSET SIZE
 *        0    4  magic "TLYR"
 *        4    1  version (TLY_FRAME_VERSION)
 *        5    1  type (TLY_T_*; a reply is type | 0x80, an error 0xff)
 *        6    2  flags, must be 0
 *        8    8  request id, echoed in the reply
 *       16    4  body length; the frame is exactly 20 + this many bytes
 *       20    n  body
 *
 * The decoders are strict: they never read past the buffer, and reject
 * a short or long frame, trailing bytes, unknown types, non-zero flags and
 * out-of-range counts.  Decoded pointers point into the caller's buffer.
 *
 * Bump TLY_FRAME_VERSION when these structures change.
 */
#ifndef TLY_FRAME_H
#define TLY_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "tly_buf.h"

#define TLY_FRAME_MAGIC 0x544c5952u /* "TLYR" */
#define TLY_FRAME_VERSION 1
#define TLY_FRAME_HDR 20
#define TLY_FRAME_MAX (64u << 20) /* no frame is ever larger */

#define TLY_KEY_BYTES 32 /* Ed25519 public key: an account */
#define TLY_SIG_BYTES 64 /* Ed25519 signature */
#define TLY_CHALLENGE_BYTES 32
#define TLY_TOKEN_BYTES 32 /* session token */
#define TLY_SERVER_ID_BYTES 32
#define TLY_MAIL_ID_BYTES 32 /* BLAKE2b-256 of an envelope */
#define TLY_INVITE_MAX 64    /* longest invite code */
#define TLY_ACK_MAX 256      /* most ids in one ack */
#define TLY_LIST_MAX 1000    /* most items in one list or read */
#define TLY_TRIM_MAX 10000   /* most log entries one trim drops */
#define TLY_ADMIN_ARGS 16
#define TLY_ADMIN_ARG_MAX 1024
#define TLY_ERRMSG_MAX 200
#define TLY_SLOT_ID_BYTES 32 /* a rendezvous slot id */
#define TLY_SLOT_MAX 4096    /* most bytes in a slot */

/* Sizes of the items in list and read replies (before the data). */
#define TLY_MAIL_ITEM_BYTES (8 + TLY_MAIL_ID_BYTES + 4 + 8)
#define TLY_LOG_ITEM_HDR (8 + 8 + 4)

/* Signed-message domains (the NUL is part of the signed bytes). */
#define TLY_AUTH_DOMAIN "tally-relay-auth-v1"
#define TLY_REGISTER_DOMAIN "tally-relay-register-v1"
#define TLY_AUTH_MSG_MAX (24 + 32 + 32 + 32 + 2 + TLY_INVITE_MAX)

enum tly_frame_type {
	TLY_T_PING     = 0x01, /* no auth: liveness */
	TLY_T_HELLO    = 0x02, /* no auth: get a challenge */
	TLY_T_AUTH     = 0x03, /* signed challenge -> session token */
	TLY_T_REGISTER = 0x04, /* signed challenge + invite -> account */
	TLY_T_PUT      = 0x10, /* envelope into a mailbox */
	TLY_T_LIST     = 0x11, /* own mailbox, after a cursor */
	TLY_T_FETCH    = 0x12, /* one envelope of the own mailbox */
	TLY_T_ACK      = 0x13, /* delete envelopes of the own mailbox */
	TLY_T_APPEND   = 0x20, /* entry onto the own log */
	TLY_T_READ     = 0x21, /* own log entries after a cursor */
	TLY_T_TRIM     = 0x22, /* drop own log entries up to a seq */
	TLY_T_WAIT     = 0x30, /* long poll for mail or log entries */
	TLY_T_INFO     = 0x31, /* own usage and heads */
	TLY_T_SLOT_PUT  = 0x40, /* no auth: fill a rendezvous slot once */
	TLY_T_SLOT_TAKE = 0x41, /* no auth: empty it, once */
	TLY_T_ADMIN    = 0x60, /* admin socket only */
	TLY_T_REPLY    = 0x80, /* OR-ed into the request type */
	TLY_T_ERROR    = 0xff
};

/* Error codes carried by an error reply (stable; append only). */
enum tly_wire_err {
	TLY_W_BADREQ   = 1, /* malformed or unknown request */
	TLY_W_UNAUTH   = 2, /* not authenticated or not allowed */
	TLY_W_TOOBIG   = 3, /* message or item too large */
	TLY_W_QUOTA    = 4, /* account storage quota exceeded */
	TLY_W_RATE     = 5, /* too many requests; retry later */
	TLY_W_NOTFOUND = 6, /* no such item */
	TLY_W_BUSY     = 7, /* server busy or shutting down; retry later */
	TLY_W_VERSION  = 8, /* unsupported protocol version */
	TLY_W_INTERNAL = 9, /* server error */
	TLY_W_EXISTS   = 10, /* the slot is taken */
	TLY_W_NCODES   = 11
};

/* A decoded header. */
struct tly_frame {
	uint8_t              version;
	uint8_t              type;
	uint64_t             reqid;
	const unsigned char *body; /* points into the buffer */
	size_t               bodylen;
};

/* A request: the fields its type uses are set, the others are zero. */
struct tly_req {
	uint8_t              type;
	uint64_t             reqid;
	const unsigned char *token;     /* TLY_TOKEN_BYTES, authed types */
	const unsigned char *pubkey;    /* auth, register */
	const unsigned char *challenge; /* auth, register */
	const unsigned char *sig;       /* auth, register */
	const unsigned char *recipient; /* put */
	const unsigned char *id;        /* fetch; slot put and take */
	const unsigned char *ids;       /* ack: nids * TLY_MAIL_ID_BYTES */
	uint16_t             nids;
	const unsigned char *data; /* put, append, register (invite),
	                              slot put */
	size_t               datalen;
	uint64_t             after;    /* list, read; wait: mail cursor */
	uint64_t             after2;   /* wait: log cursor */
	uint64_t             through;  /* trim: last seq to drop */
	uint32_t             max;      /* list, read: most items */
	uint32_t             maxbytes; /* read: most data bytes */
	uint32_t             timeout;  /* wait: seconds */
	uint8_t              argc;     /* admin */
	const char          *argv[TLY_ADMIN_ARGS]; /* admin; not terminated */
	uint16_t             argl[TLY_ADMIN_ARGS];
};

/* A reply; fields by type as in PROTOCOL.md, part 8. */
struct tly_rep {
	uint8_t              type; /* request type, or TLY_T_ERROR */
	uint64_t             reqid;
	uint16_t             err; /* TLY_W_* when type is TLY_T_ERROR */
	const char          *msg; /* error message, msglen bytes */
	size_t               msglen;
	const unsigned char *key;       /* hello: server id; auth: token;
	                                   put, fetch: mail id */
	const unsigned char *challenge; /* hello */
	uint32_t             ttl;       /* hello, auth, register, slot
	                                   put: seconds */
	uint64_t             seq;       /* put, fetch, append */
	uint64_t             time;      /* fetch: received */
	uint8_t              dup;       /* put, append: already stored */
	uint16_t             count;     /* list, read: items; ack: deleted */
	uint8_t              more;      /* list, read: more items wait */
	const unsigned char *items;     /* list, read: raw items */
	size_t               itemslen;
	const unsigned char *data; /* fetch: envelope; admin: text; slot
	                              take: its bytes */
	size_t               datalen;
	uint64_t             used, quota;         /* info */
	uint32_t             mails;               /* info */
	uint64_t             mail_head, log_head; /* wait, info */
	uint32_t             trimmed;             /* trim: entries dropped */
	uint64_t             floor; /* trim: entries 1..floor are gone */
};

/* An item of a list reply. */
struct tly_mail_item {
	uint64_t             seq;
	const unsigned char *id; /* TLY_MAIL_ID_BYTES */
	uint32_t             size;
	uint64_t             time; /* received, Unix seconds */
};

/* An item of a read reply. */
struct tly_log_item {
	uint64_t             seq;
	uint64_t             time;
	const unsigned char *data;
	uint32_t             len;
};

/* Returns 1 if a request of this type carries a session token. */
int tly_frame_authed(uint8_t type);

/* Decodes the header of buf[0..len).  TALLY_EFORMAT if the magic, flags
 * or length are wrong; TALLY_EUNSUPP for another version (f->version and
 * f->reqid are then set, so the error can be answered). */
int tly_frame_parse(struct tly_frame *f, const void *buf, size_t len);

/* Decodes a whole request.  TALLY_EFORMAT for a malformed body or an
 * unknown type, TALLY_EUNSUPP for another version. */
int tly_req_decode(struct tly_req *r, const void *buf, size_t len);

/* Decodes a whole reply to a request of type want (or an error reply).
 * TALLY_EFORMAT if malformed or of another type. */
int tly_rep_decode(
    struct tly_rep *r, uint8_t want, const void *buf, size_t len);

/* Iterates the items of a decoded list or read reply: *off starts at 0.
 * Returns 1 and fills *m or *e while items remain, else 0. */
int tly_rep_mail_next(
    const struct tly_rep *r, size_t *off, struct tly_mail_item *m);
int tly_rep_log_next(
    const struct tly_rep *r, size_t *off, struct tly_log_item *e);

/* Appends the encoded request r to b.  TALLY_EINVAL if a field is out of
 * range, TALLY_ENOMEM. */
int tly_req_encode(tly_buf *b, const struct tly_req *r);

/* Reply writers: tly_rep_begin writes a header (body length patched by
 * tly_rep_end); the caller appends the body with tly_buf_* in between. */
int  tly_rep_begin(tly_buf *b, uint8_t type, uint64_t reqid);
void tly_rep_end(tly_buf *b, size_t start);

/* Appends a complete error reply. */
int tly_rep_error(tly_buf *b, uint64_t reqid, int code, const char *msg);

/* Writes the bytes a client signs to authenticate (invite NULL) or to
 * register into out (TLY_AUTH_MSG_MAX bytes); returns their length. */
size_t tly_auth_msg(unsigned char *out, int reg, const unsigned char *sid,
    const unsigned char *challenge, const unsigned char *pk,
    const unsigned char *invite, size_t invitelen);

/* Maps a wire error code to a TALLY_E* code and back. */
int tly_wire_to_err(int wire);
int tly_err_to_wire(int err);

/* Returns the symbolic name of a wire error ("quota exceeded"). */
const char *tly_wire_errname(int wire);

#endif /* TLY_FRAME_H */
