/*
 * slot.c -- the link rendezvous (PROTOCOL.md part 8, slot put and take):
 * a device being linked has no account key yet, so it meets the device
 * that links it in a slot keyed by a hash of their one-time code.
 *
 * A slot is filled once (a second put is refused while it lives) and
 * emptied once (take returns it and forgets it); it lives TALLYD_SLOT_TTL
 * seconds.  Slots live in memory only: a restart empties them, as their
 * short life allows.  Limits: TLY_SLOT_MAX bytes a slot, TALLYD_SLOTS
 * slots in all, and one token bucket for every slot request (no account
 * to charge them to).  Slot ids come from a code with 80 random bits
 * stretched by Argon2id: nobody finds a slot by trying.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "tallyd.h"
#include "tly_err.h"
#include "tly_log.h"
#include "tly_time.h"

#define SLOT_BUCKETS 256
#define SLOT_RATE 20   /* slot requests per second, all together */
#define SLOT_BURST 200 /* bucket size */

struct slot {
	unsigned char  id[TLY_SLOT_ID_BYTES];
	unsigned char *data;
	size_t         len;
	int64_t        expires;
	struct slot   *next;
};

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot    *slots[SLOT_BUCKETS]; /* guarded by slot_lock */
static int             nslots;              /* guarded by slot_lock */
static double          tokens = SLOT_BURST; /* guarded by slot_lock */
static int64_t         refill_ms;           /* guarded by slot_lock */

static void
slot_free(struct slot *s)
{
	sodium_memzero(s->data, s->len);
	free(s->data);
	free(s);
}

/* Drops the expired slots of bucket b (slot_lock held). */
static void
sweep(unsigned b, int64_t now)
{
	struct slot **pp = &slots[b], *s;

	while ((s = *pp) != NULL) {
		if (s->expires <= now) {
			*pp = s->next;
			slot_free(s);
			nslots--;
		} else
			pp = &s->next;
	}
}

/* One token from the bucket (slot_lock held): 0, or TALLY_ERATE. */
static int
take_token(void)
{
	int64_t now = (int64_t) nng_clock();

	if (refill_ms == 0)
		refill_ms = now;
	tokens += (double) (now - refill_ms) * SLOT_RATE / 1000.0;
	if (tokens > SLOT_BURST)
		tokens = SLOT_BURST;
	refill_ms = now;
	if (tokens < 1.0)
		return (TALLY_ERATE);
	tokens -= 1.0;
	return (0);
}

/* Runs a slot request; 0 with the reply body in out, or a code. */
static int
slot_run(const struct tly_req *q, tly_buf *out)
{
	unsigned       b = q->id[0];
	int64_t        now = tly_now();
	struct slot  **pp, *s;
	int            rv;

	if ((rv = take_token()) != 0)
		return (rv);
	sweep(b, now);
	for (pp = &slots[b]; *pp != NULL; pp = &(*pp)->next)
		if (sodium_memcmp((*pp)->id, q->id, TLY_SLOT_ID_BYTES) == 0)
			break;
	if (q->type == TLY_T_SLOT_TAKE) {
		if ((s = *pp) == NULL)
			return (TALLY_ENOENT);
		if ((rv = tly_buf_u32(out, (uint32_t) s->len)) != 0 ||
		    (rv = tly_buf_append(out, s->data, s->len)) != 0)
			return (rv);
		*pp = s->next;
		slot_free(s);
		nslots--;
		return (0);
	}
	if (*pp != NULL)
		return (TALLY_EEXIST);
	if (nslots >= TALLYD_SLOTS) {
		for (unsigned i = 0; i < SLOT_BUCKETS; i++)
			sweep(i, now);
		if (nslots >= TALLYD_SLOTS)
			return (TALLY_EBUSY);
	}
	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (s->data = malloc(q->datalen > 0 ? q->datalen : 1)) == NULL) {
		free(s);
		return (TALLY_ENOMEM);
	}
	memcpy(s->id, q->id, TLY_SLOT_ID_BYTES);
	memcpy(s->data, q->data, q->datalen);
	s->len     = q->datalen;
	s->expires = now + TALLYD_SLOT_TTL;
	s->next    = slots[b];
	slots[b]   = s;
	nslots++;
	return (tly_buf_u32(out, TALLYD_SLOT_TTL));
}

void
tallyd_slot_reply(struct tallyd *d, const struct tly_req *q, tly_buf *out)
{
	int rv, code;

	tly_buf_reset(out);
	(void) tly_rep_begin(out, q->type | TLY_T_REPLY, q->reqid);
	pthread_mutex_lock(&slot_lock);
	rv = slot_run(q, out);
	pthread_mutex_unlock(&slot_lock);
	if (rv == 0) {
		tly_rep_end(out, 0);
		return;
	}
	code = tly_err_to_wire(rv);
	atomic_fetch_add(&d->m.refusals[code], 1);
	tly_buf_reset(out);
	(void) tly_rep_error(out, q->reqid, code,
	    rv == TALLY_ENOENT       ? "no such slot (expired, taken or never "
	                               "filled)"
	        : rv == TALLY_EEXIST ? "the slot is filled already"
	        : rv == TALLY_ERATE  ? "too many link requests; retry later"
	        : rv == TALLY_EBUSY  ? "too many open slots; retry later"
	                             : tly_wire_errname(code));
	tly_log(TLY_LOG_DEBUG, "slot request refused: %s",
	    tly_wire_errname(code));
}
