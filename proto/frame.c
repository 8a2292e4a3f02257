/*
 * frame.c -- strict encoder and decoder of relay frames (frame.h).
 *
 * Every read goes through struct rd, which checks the remaining length
 * before it touches a byte; a body must be consumed exactly.
 */
#include <string.h>

#include "frame.h"
#include "tly_err.h"

struct rd {
	const unsigned char *p;
	size_t               left;
	int                  bad; /* set by the first failed read */
};

static const unsigned char *
rd_take(struct rd *r, size_t n)
{
	const unsigned char *p;

	if (r->bad || n > r->left) {
		r->bad = 1;
		return (NULL);
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return (p);
}

static uint8_t
rd_u8(struct rd *r)
{
	const unsigned char *p = rd_take(r, 1);

	return (p != NULL ? p[0] : 0);
}

static uint16_t
rd_u16(struct rd *r)
{
	const unsigned char *p = rd_take(r, 2);

	return (p != NULL ? tly_get_u16(p) : 0);
}

static uint32_t
rd_u32(struct rd *r)
{
	const unsigned char *p = rd_take(r, 4);

	return (p != NULL ? tly_get_u32(p) : 0);
}

static uint64_t
rd_u64(struct rd *r)
{
	const unsigned char *p = rd_take(r, 8);

	return (p != NULL ? tly_get_u64(p) : 0);
}

/* A byte string with a 32-bit length; at most max bytes. */
static const unsigned char *
rd_blob32(struct rd *r, size_t *len, size_t max)
{
	uint32_t n = rd_u32(r);

	if (r->bad || n > max || n > r->left) {
		r->bad = 1;
		*len   = 0;
		return (NULL);
	}
	*len = n;
	return (rd_take(r, n));
}

/* A byte string with a 16-bit length; at most max bytes. */
static const unsigned char *
rd_blob16(struct rd *r, size_t *len, size_t max)
{
	uint16_t n = rd_u16(r);

	if (r->bad || n > max || n > r->left) {
		r->bad = 1;
		*len   = 0;
		return (NULL);
	}
	*len = n;
	return (rd_take(r, n));
}

static int
rd_done(const struct rd *r)
{
	return (r->bad || r->left != 0 ? TALLY_EFORMAT : 0);
}

int
tly_frame_parse(struct tly_frame *f, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t             blen;

	memset(f, 0, sizeof *f);
	if (p == NULL || len < TLY_FRAME_HDR || len > TLY_FRAME_MAX)
		return (TALLY_EFORMAT);
	if (tly_get_u32(p) != TLY_FRAME_MAGIC)
		return (TALLY_EFORMAT);
	f->version = p[4];
	f->type    = p[5];
	f->reqid   = tly_get_u64(p + 8);
	if (f->version != TLY_FRAME_VERSION)
		return (TALLY_EUNSUPP);
	if (tly_get_u16(p + 6) != 0)
		return (TALLY_EFORMAT);
	blen = tly_get_u32(p + 16);
	if ((size_t) blen != len - TLY_FRAME_HDR)
		return (TALLY_EFORMAT);
	f->body    = p + TLY_FRAME_HDR;
	f->bodylen = blen;
	return (0);
}

int
tly_frame_authed(uint8_t type)
{
	switch (type) {
	case TLY_T_PUT:
	case TLY_T_LIST:
	case TLY_T_FETCH:
	case TLY_T_ACK:
	case TLY_T_APPEND:
	case TLY_T_READ:
	case TLY_T_TRIM:
	case TLY_T_WAIT:
	case TLY_T_INFO:
		return (1);
	default:
		return (0);
	}
}

int
tly_req_decode(struct tly_req *q, const void *buf, size_t len)
{
	struct tly_frame f;
	struct rd        r;
	size_t           n;
	int              rv;

	memset(q, 0, sizeof *q);
	rv       = tly_frame_parse(&f, buf, len);
	q->type  = f.type;
	q->reqid = f.reqid;
	if (rv != 0)
		return (rv);
	r.p    = f.body;
	r.left = f.bodylen;
	r.bad  = 0;
	if (tly_frame_authed(f.type))
		q->token = rd_take(&r, TLY_TOKEN_BYTES);
	switch (f.type) {
	case TLY_T_PING:
	case TLY_T_HELLO:
	case TLY_T_INFO:
		break;
	case TLY_T_AUTH:
	case TLY_T_REGISTER:
		q->pubkey    = rd_take(&r, TLY_KEY_BYTES);
		q->challenge = rd_take(&r, TLY_CHALLENGE_BYTES);
		q->sig       = rd_take(&r, TLY_SIG_BYTES);
		if (f.type == TLY_T_REGISTER)
			q->data = rd_blob16(&r, &q->datalen, TLY_INVITE_MAX);
		break;
	case TLY_T_PUT:
		q->recipient = rd_take(&r, TLY_KEY_BYTES);
		q->data      = rd_blob32(&r, &q->datalen, TLY_FRAME_MAX);
		break;
	case TLY_T_LIST:
		q->after = rd_u64(&r);
		q->max   = rd_u16(&r);
		if (q->max == 0 || q->max > TLY_LIST_MAX)
			r.bad = 1;
		break;
	case TLY_T_FETCH:
		q->id = rd_take(&r, TLY_MAIL_ID_BYTES);
		break;
	case TLY_T_ACK:
		q->nids = rd_u16(&r);
		if (q->nids == 0 || q->nids > TLY_ACK_MAX)
			r.bad = 1;
		else
			q->ids =
			    rd_take(&r, (size_t) q->nids * TLY_MAIL_ID_BYTES);
		break;
	case TLY_T_APPEND:
		q->data = rd_blob32(&r, &q->datalen, TLY_FRAME_MAX);
		break;
	case TLY_T_READ:
		q->after    = rd_u64(&r);
		q->max      = rd_u16(&r);
		q->maxbytes = rd_u32(&r);
		if (q->max == 0 || q->max > TLY_LIST_MAX || q->maxbytes == 0)
			r.bad = 1;
		break;
	case TLY_T_TRIM:
		q->through = rd_u64(&r);
		break;
	case TLY_T_WAIT:
		q->after   = rd_u64(&r);
		q->after2  = rd_u64(&r);
		q->timeout = rd_u16(&r);
		break;
	case TLY_T_SLOT_PUT:
		q->id   = rd_take(&r, TLY_SLOT_ID_BYTES);
		q->data = rd_blob32(&r, &q->datalen, TLY_SLOT_MAX);
		break;
	case TLY_T_SLOT_TAKE:
		q->id = rd_take(&r, TLY_SLOT_ID_BYTES);
		break;
	case TLY_T_ADMIN:
		q->argc = rd_u8(&r);
		if (q->argc == 0 || q->argc > TLY_ADMIN_ARGS) {
			r.bad = 1;
			break;
		}
		for (int i = 0; i < q->argc && !r.bad; i++) {
			q->argv[i] = (const char *) rd_blob16(
			    &r, &n, TLY_ADMIN_ARG_MAX);
			q->argl[i] = (uint16_t) n;
		}
		break;
	default:
		return (TALLY_EFORMAT);
	}
	return (rd_done(&r));
}

int
tly_rep_decode(struct tly_rep *p, uint8_t want, const void *buf, size_t len)
{
	struct tly_frame f;
	struct rd        r;
	size_t           n, i;
	int              rv;

	memset(p, 0, sizeof *p);
	if ((rv = tly_frame_parse(&f, buf, len)) != 0)
		return (rv == TALLY_EUNSUPP ? TALLY_EUNSUPP : TALLY_EFORMAT);
	p->reqid = f.reqid;
	r.p      = f.body;
	r.left   = f.bodylen;
	r.bad    = 0;
	if (f.type == TLY_T_ERROR) {
		p->type = TLY_T_ERROR;
		p->err  = rd_u16(&r);
		p->msg =
		    (const char *) rd_blob16(&r, &p->msglen, TLY_ERRMSG_MAX);
		if (p->err == 0 || p->err >= TLY_W_NCODES)
			r.bad = 1;
		return (rd_done(&r));
	}
	if (f.type != (want | TLY_T_REPLY))
		return (TALLY_EFORMAT);
	p->type = want;
	switch (want) {
	case TLY_T_PING:
		break;
	case TLY_T_HELLO:
		p->key       = rd_take(&r, TLY_SERVER_ID_BYTES);
		p->challenge = rd_take(&r, TLY_CHALLENGE_BYTES);
		p->ttl       = rd_u32(&r);
		break;
	case TLY_T_AUTH:
	case TLY_T_REGISTER:
		p->key = rd_take(&r, TLY_TOKEN_BYTES);
		p->ttl = rd_u32(&r);
		break;
	case TLY_T_PUT:
		p->key = rd_take(&r, TLY_MAIL_ID_BYTES);
		p->seq = rd_u64(&r);
		p->dup = rd_u8(&r);
		break;
	case TLY_T_APPEND:
		p->seq = rd_u64(&r);
		p->dup = rd_u8(&r);
		break;
	case TLY_T_LIST:
	case TLY_T_READ:
		p->count = rd_u16(&r);
		p->more  = rd_u8(&r);
		if (p->count > TLY_LIST_MAX || p->more > 1)
			r.bad = 1;
		p->items    = r.p;
		p->itemslen = r.left;
		for (i = 0; i < p->count && !r.bad; i++) {
			if (want == TLY_T_LIST) {
				(void) rd_take(&r, TLY_MAIL_ITEM_BYTES);
			} else {
				(void) rd_take(&r, 16);
				(void) rd_blob32(&r, &n, TLY_FRAME_MAX);
			}
		}
		break;
	case TLY_T_FETCH:
		p->key  = rd_take(&r, TLY_MAIL_ID_BYTES);
		p->seq  = rd_u64(&r);
		p->time = rd_u64(&r);
		p->data = rd_blob32(&r, &p->datalen, TLY_FRAME_MAX);
		break;
	case TLY_T_ACK:
		p->count = rd_u16(&r);
		break;
	case TLY_T_TRIM:
		p->trimmed = rd_u32(&r);
		p->floor   = rd_u64(&r);
		if (p->trimmed > TLY_TRIM_MAX)
			r.bad = 1;
		break;
	case TLY_T_WAIT:
		p->mail_head = rd_u64(&r);
		p->log_head  = rd_u64(&r);
		break;
	case TLY_T_INFO:
		p->used      = rd_u64(&r);
		p->quota     = rd_u64(&r);
		p->mails     = rd_u32(&r);
		p->mail_head = rd_u64(&r);
		p->log_head  = rd_u64(&r);
		break;
	case TLY_T_ADMIN:
		p->data = rd_blob32(&r, &p->datalen, TLY_FRAME_MAX);
		break;
	case TLY_T_SLOT_PUT:
		p->ttl = rd_u32(&r);
		break;
	case TLY_T_SLOT_TAKE:
		p->data = rd_blob32(&r, &p->datalen, TLY_SLOT_MAX);
		break;
	default:
		return (TALLY_EFORMAT);
	}
	return (rd_done(&r));
}

int
tly_rep_mail_next(
    const struct tly_rep *p, size_t *off, struct tly_mail_item *m)
{
	const unsigned char *q;

	if (p->type != TLY_T_LIST ||
	    *off + TLY_MAIL_ITEM_BYTES > p->itemslen ||
	    *off / TLY_MAIL_ITEM_BYTES >= p->count)
		return (0);
	q       = p->items + *off;
	m->seq  = tly_get_u64(q);
	m->id   = q + 8;
	m->size = tly_get_u32(q + 8 + TLY_MAIL_ID_BYTES);
	m->time = tly_get_u64(q + 12 + TLY_MAIL_ID_BYTES);
	*off += TLY_MAIL_ITEM_BYTES;
	return (1);
}

int
tly_rep_log_next(const struct tly_rep *p, size_t *off, struct tly_log_item *e)
{
	const unsigned char *q;
	uint32_t             n;

	if (p->type != TLY_T_READ || *off + TLY_LOG_ITEM_HDR > p->itemslen)
		return (0);
	q = p->items + *off;
	n = tly_get_u32(q + 16);
	if (n > p->itemslen - *off - TLY_LOG_ITEM_HDR)
		return (0);
	e->seq  = tly_get_u64(q);
	e->time = tly_get_u64(q + 8);
	e->len  = n;
	e->data = q + TLY_LOG_ITEM_HDR;
	*off += TLY_LOG_ITEM_HDR + n;
	return (1);
}

int
tly_rep_begin(tly_buf *b, uint8_t type, uint64_t reqid)
{
	int rv;

	if ((rv = tly_buf_u32(b, TLY_FRAME_MAGIC)) != 0 ||
	    (rv = tly_buf_u8(b, TLY_FRAME_VERSION)) != 0 ||
	    (rv = tly_buf_u8(b, type)) != 0 || (rv = tly_buf_u16(b, 0)) != 0 ||
	    (rv = tly_buf_u64(b, reqid)) != 0 || (rv = tly_buf_u32(b, 0)) != 0)
		return (rv);
	return (0);
}

void
tly_rep_end(tly_buf *b, size_t start)
{
	size_t         n = b->len - start - TLY_FRAME_HDR;
	unsigned char *p = b->p + start + 16;

	p[0] = (unsigned char) (n >> 24);
	p[1] = (unsigned char) (n >> 16);
	p[2] = (unsigned char) (n >> 8);
	p[3] = (unsigned char) n;
}

int
tly_rep_error(tly_buf *b, uint64_t reqid, int code, const char *msg)
{
	size_t start = b->len, n = strlen(msg);
	int    rv;

	if (n > TLY_ERRMSG_MAX)
		n = TLY_ERRMSG_MAX;
	if ((rv = tly_rep_begin(b, TLY_T_ERROR, reqid)) != 0 ||
	    (rv = tly_buf_u16(b, (uint16_t) code)) != 0 ||
	    (rv = tly_buf_u16(b, (uint16_t) n)) != 0 ||
	    (rv = tly_buf_append(b, msg, n)) != 0)
		return (rv);
	tly_rep_end(b, start);
	return (0);
}

static int
put_blob16(tly_buf *b, const void *p, size_t n)
{
	int rv;

	if (n > UINT16_MAX)
		return (TALLY_EINVAL);
	if ((rv = tly_buf_u16(b, (uint16_t) n)) != 0)
		return (rv);
	return (n > 0 ? tly_buf_append(b, p, n) : 0);
}

static int
put_blob32(tly_buf *b, const void *p, size_t n)
{
	int rv;

	if (n > TLY_FRAME_MAX)
		return (TALLY_ETOOBIG);
	if ((rv = tly_buf_u32(b, (uint32_t) n)) != 0)
		return (rv);
	return (n > 0 ? tly_buf_append(b, p, n) : 0);
}

int
tly_req_encode(tly_buf *b, const struct tly_req *q)
{
	size_t start = b->len;
	int    rv;

	if ((rv = tly_rep_begin(b, q->type, q->reqid)) != 0)
		return (rv);
	if (tly_frame_authed(q->type)) {
		if (q->token == NULL)
			return (TALLY_EINVAL);
		rv = tly_buf_append(b, q->token, TLY_TOKEN_BYTES);
	}
	switch (q->type) {
	case TLY_T_PING:
	case TLY_T_HELLO:
	case TLY_T_INFO:
		break;
	case TLY_T_AUTH:
	case TLY_T_REGISTER:
		if (q->pubkey == NULL || q->challenge == NULL ||
		    q->sig == NULL)
			return (TALLY_EINVAL);
		if (rv == 0)
			rv = tly_buf_append(b, q->pubkey, TLY_KEY_BYTES);
		if (rv == 0)
			rv = tly_buf_append(
			    b, q->challenge, TLY_CHALLENGE_BYTES);
		if (rv == 0)
			rv = tly_buf_append(b, q->sig, TLY_SIG_BYTES);
		if (rv == 0 && q->type == TLY_T_REGISTER) {
			if (q->datalen > TLY_INVITE_MAX)
				return (TALLY_EINVAL);
			rv = put_blob16(b, q->data, q->datalen);
		}
		break;
	case TLY_T_PUT:
		if (q->recipient == NULL)
			return (TALLY_EINVAL);
		if (rv == 0)
			rv = tly_buf_append(b, q->recipient, TLY_KEY_BYTES);
		if (rv == 0)
			rv = put_blob32(b, q->data, q->datalen);
		break;
	case TLY_T_LIST:
		if (q->max == 0 || q->max > TLY_LIST_MAX)
			return (TALLY_EINVAL);
		if (rv == 0)
			rv = tly_buf_u64(b, q->after);
		if (rv == 0)
			rv = tly_buf_u16(b, (uint16_t) q->max);
		break;
	case TLY_T_FETCH:
		if (q->id == NULL)
			return (TALLY_EINVAL);
		if (rv == 0)
			rv = tly_buf_append(b, q->id, TLY_MAIL_ID_BYTES);
		break;
	case TLY_T_ACK:
		if (q->nids == 0 || q->nids > TLY_ACK_MAX || q->ids == NULL)
			return (TALLY_EINVAL);
		if (rv == 0)
			rv = tly_buf_u16(b, q->nids);
		if (rv == 0)
			rv = tly_buf_append(
			    b, q->ids, (size_t) q->nids * TLY_MAIL_ID_BYTES);
		break;
	case TLY_T_APPEND:
		if (rv == 0)
			rv = put_blob32(b, q->data, q->datalen);
		break;
	case TLY_T_READ:
		if (q->max == 0 || q->max > TLY_LIST_MAX || q->maxbytes == 0)
			return (TALLY_EINVAL);
		if (rv == 0)
			rv = tly_buf_u64(b, q->after);
		if (rv == 0)
			rv = tly_buf_u16(b, (uint16_t) q->max);
		if (rv == 0)
			rv = tly_buf_u32(b, q->maxbytes);
		break;
	case TLY_T_TRIM:
		if (rv == 0)
			rv = tly_buf_u64(b, q->through);
		break;
	case TLY_T_WAIT:
		if (q->timeout > UINT16_MAX)
			return (TALLY_EINVAL);
		if (rv == 0)
			rv = tly_buf_u64(b, q->after);
		if (rv == 0)
			rv = tly_buf_u64(b, q->after2);
		if (rv == 0)
			rv = tly_buf_u16(b, (uint16_t) q->timeout);
		break;
	case TLY_T_SLOT_PUT:
		if (q->id == NULL || q->datalen > TLY_SLOT_MAX)
			return (TALLY_EINVAL);
		rv = tly_buf_append(b, q->id, TLY_SLOT_ID_BYTES);
		if (rv == 0)
			rv = put_blob32(b, q->data, q->datalen);
		break;
	case TLY_T_SLOT_TAKE:
		if (q->id == NULL)
			return (TALLY_EINVAL);
		rv = tly_buf_append(b, q->id, TLY_SLOT_ID_BYTES);
		break;
	case TLY_T_ADMIN:
		if (q->argc == 0 || q->argc > TLY_ADMIN_ARGS)
			return (TALLY_EINVAL);
		if (rv == 0)
			rv = tly_buf_u8(b, q->argc);
		for (int i = 0; i < q->argc && rv == 0; i++) {
			if (q->argl[i] > TLY_ADMIN_ARG_MAX)
				return (TALLY_EINVAL);
			rv = put_blob16(b, q->argv[i], q->argl[i]);
		}
		break;
	default:
		return (TALLY_EINVAL);
	}
	if (rv != 0)
		return (rv);
	tly_rep_end(b, start);
	return (0);
}

size_t
tly_auth_msg(unsigned char *out, int reg, const unsigned char *sid,
    const unsigned char *challenge, const unsigned char *pk,
    const unsigned char *invite, size_t invitelen)
{
	const char *dom = reg ? TLY_REGISTER_DOMAIN : TLY_AUTH_DOMAIN;
	size_t      n   = strlen(dom) + 1;

	memcpy(out, dom, n);
	memcpy(out + n, sid, TLY_SERVER_ID_BYTES);
	n += TLY_SERVER_ID_BYTES;
	memcpy(out + n, challenge, TLY_CHALLENGE_BYTES);
	n += TLY_CHALLENGE_BYTES;
	memcpy(out + n, pk, TLY_KEY_BYTES);
	n += TLY_KEY_BYTES;
	if (reg) {
		if (invitelen > TLY_INVITE_MAX)
			invitelen = TLY_INVITE_MAX;
		out[n++] = (unsigned char) (invitelen >> 8);
		out[n++] = (unsigned char) invitelen;
		if (invitelen > 0)
			memcpy(out + n, invite, invitelen);
		n += invitelen;
	}
	return (n);
}

int
tly_wire_to_err(int wire)
{
	switch (wire) {
	case TLY_W_BADREQ:
		return (TALLY_EPROTO);
	case TLY_W_UNAUTH:
		return (TALLY_EAUTH);
	case TLY_W_TOOBIG:
		return (TALLY_ETOOBIG);
	case TLY_W_QUOTA:
		return (TALLY_EQUOTA);
	case TLY_W_RATE:
		return (TALLY_ERATE);
	case TLY_W_NOTFOUND:
		return (TALLY_ENOENT);
	case TLY_W_BUSY:
		return (TALLY_EBUSY);
	case TLY_W_VERSION:
		return (TALLY_EUNSUPP);
	case TLY_W_EXISTS:
		return (TALLY_EEXIST);
	default:
		return (TALLY_EPROTO);
	}
}

int
tly_err_to_wire(int err)
{
	switch (err) {
	case TALLY_EAUTH:
	case TALLY_EPERM:
	case TALLY_ECRYPTO:
		return (TLY_W_UNAUTH);
	case TALLY_ETOOBIG:
		return (TLY_W_TOOBIG);
	case TALLY_EQUOTA:
		return (TLY_W_QUOTA);
	case TALLY_ERATE:
		return (TLY_W_RATE);
	case TALLY_ENOENT:
		return (TLY_W_NOTFOUND);
	case TALLY_EBUSY:
		return (TLY_W_BUSY);
	case TALLY_EUNSUPP:
		return (TLY_W_VERSION);
	case TALLY_EEXIST:
		return (TLY_W_EXISTS);
	case TALLY_EFORMAT:
	case TALLY_EINVAL:
	case TALLY_EPROTO:
		return (TLY_W_BADREQ);
	default:
		return (TLY_W_INTERNAL);
	}
}

const char *
tly_wire_errname(int wire)
{
	static const char *names[TLY_W_NCODES] = {
		[TLY_W_BADREQ]   = "bad request",
		[TLY_W_UNAUTH]   = "unauthorized",
		[TLY_W_TOOBIG]   = "too large",
		[TLY_W_QUOTA]    = "quota exceeded",
		[TLY_W_RATE]     = "rate limited",
		[TLY_W_NOTFOUND] = "not found",
		[TLY_W_BUSY]     = "server busy",
		[TLY_W_VERSION]  = "unsupported version",
		[TLY_W_INTERNAL] = "internal error",
		[TLY_W_EXISTS]   = "already exists",
	};

	if (wire <= 0 || wire >= TLY_W_NCODES)
		return ("unknown error");
	return (names[wire]);
}
