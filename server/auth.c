/*
 * auth.c -- challenges, session tokens and per-account request rates.
 *
 * A challenge is EXPIRY(8) || RANDOM(8) || MAC(16), the MAC keyed with a
 * key drawn at each start, so the server keeps no state per challenge it
 * hands out and no challenge survives a restart.  A challenge that was
 * used is remembered until it expires: single use.  The signed message
 * binds the server id (tly_auth_msg), so a signature made for one relay
 * is useless at another.
 *
 * Sessions: a random 32-byte token maps to an account, for session_ttl
 * seconds; the tables live in memory only (a restart ends every session,
 * clients authenticate again).  Rate: one token bucket per account,
 * shared by its sessions.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "tallyd.h"
#include "tly_err.h"

#define AUTH_BUCKETS 4096
#define AUTH_CHALLENGE_TTL 60
#define AUTH_MAX_SESSIONS 200000
#define AUTH_MAX_USED 200000

struct used {
	unsigned char ch[TLY_CHALLENGE_BYTES];
	int64_t       expires;
	struct used  *next;
};

struct sess {
	unsigned char tok[TLY_TOKEN_BYTES];
	int64_t       expires;
	struct acct  *acct;
	struct sess  *next;
};

struct acct {
	int64_t       id;
	unsigned char pk[TLY_KEY_BYTES];
	double        tokens;
	int64_t       last_ns;
	struct acct  *next;
};

struct tallyd_auth {
	pthread_mutex_t lock;
	unsigned char   key[crypto_generichash_KEYBYTES]; /* challenge MAC */
	unsigned char   sid[TLY_SERVER_ID_BYTES];
	struct used    *used[AUTH_BUCKETS];  /* guarded by lock */
	struct sess    *sess[AUTH_BUCKETS];  /* guarded by lock */
	struct acct    *accts[AUTH_BUCKETS]; /* guarded by lock */
	uint64_t        nused, nsess;        /* guarded by lock */
	int64_t         ttl;
	uint32_t        rate, burst;
};

static int64_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t) ts.tv_sec);
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

static unsigned
bucket(const unsigned char *p)
{
	return ((unsigned) (p[0] | (p[1] << 8) | (p[2] << 16)) % AUTH_BUCKETS);
}

int
tallyd_auth_new(tallyd_auth **ap, const unsigned char *sid,
    const unsigned char *secret, const struct tallyd_conf *c)
{
	tallyd_auth  *a;
	unsigned char boot[32];

	if ((a = calloc(1, sizeof *a)) == NULL)
		return (TALLY_ENOMEM);
	pthread_mutex_init(&a->lock, NULL);
	randombytes_buf(boot, sizeof boot);
	crypto_generichash(
	    a->key, sizeof a->key, boot, sizeof boot, secret, 32);
	sodium_memzero(boot, sizeof boot);
	memcpy(a->sid, sid, TLY_SERVER_ID_BYTES);
	a->ttl   = c->session_ttl;
	a->rate  = c->rate;
	a->burst = c->burst;
	*ap      = a;
	return (0);
}

void
tallyd_auth_free(tallyd_auth *a)
{
	if (a == NULL)
		return;
	for (int i = 0; i < AUTH_BUCKETS; i++) {
		struct used *u, *un;
		struct sess *s, *sn;
		struct acct *c, *cn;

		for (u = a->used[i]; u != NULL; u = un) {
			un = u->next;
			free(u);
		}
		for (s = a->sess[i]; s != NULL; s = sn) {
			sn = s->next;
			sodium_memzero(s->tok, sizeof s->tok);
			free(s);
		}
		for (c = a->accts[i]; c != NULL; c = cn) {
			cn = c->next;
			free(c);
		}
	}
	sodium_memzero(a->key, sizeof a->key);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static void
challenge_mac(tallyd_auth *a, const unsigned char *ch, unsigned char *mac)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, a->key, sizeof a->key, 16);
	crypto_generichash_update(&st, a->sid, sizeof a->sid);
	crypto_generichash_update(&st, ch, 16);
	crypto_generichash_final(&st, mac, 16);
}

void
tallyd_auth_challenge(tallyd_auth *a, unsigned char *ch, uint32_t *ttl)
{
	uint64_t exp = (uint64_t) (now_s() + AUTH_CHALLENGE_TTL);

	for (int i = 0; i < 8; i++)
		ch[i] = (unsigned char) (exp >> (56 - 8 * i));
	randombytes_buf(ch + 8, 8);
	challenge_mac(a, ch, ch + 16);
	*ttl = AUTH_CHALLENGE_TTL;
}

int
tallyd_auth_verify(tallyd_auth *a, int reg, const struct tly_req *q)
{
	unsigned char mac[16];
	unsigned char msg[TLY_AUTH_MSG_MAX];
	size_t        n;
	int64_t       exp;
	struct used  *u;
	unsigned      b;

	challenge_mac(a, q->challenge, mac);
	if (crypto_verify_16(mac, q->challenge + 16) != 0)
		return (TALLY_EAUTH);
	exp = (int64_t) tly_get_u64(q->challenge);
	if (exp < now_s())
		return (TALLY_EAUTH);
	n = tly_auth_msg(msg, reg, a->sid, q->challenge, q->pubkey, q->data,
	    reg ? q->datalen : 0);
	if (crypto_sign_verify_detached(q->sig, msg, n, q->pubkey) != 0)
		return (TALLY_EAUTH);
	b = bucket(q->challenge + 8);
	pthread_mutex_lock(&a->lock);
	for (u = a->used[b]; u != NULL; u = u->next) {
		if (sodium_memcmp(u->ch, q->challenge, TLY_CHALLENGE_BYTES) ==
		    0) {
			pthread_mutex_unlock(&a->lock);
			return (TALLY_EAUTH);
		}
	}
	if (a->nused >= AUTH_MAX_USED || (u = malloc(sizeof *u)) == NULL) {
		pthread_mutex_unlock(&a->lock);
		return (TALLY_EBUSY);
	}
	memcpy(u->ch, q->challenge, TLY_CHALLENGE_BYTES);
	u->expires = exp;
	u->next    = a->used[b];
	a->used[b] = u;
	a->nused++;
	pthread_mutex_unlock(&a->lock);
	return (0);
}

/* Finds or adds the in-memory record of an account; lock held. */
static struct acct *
acct_get(tallyd_auth *a, int64_t id, const unsigned char *pk)
{
	unsigned     b = (unsigned) ((uint64_t) id % AUTH_BUCKETS);
	struct acct *c;

	for (c = a->accts[b]; c != NULL; c = c->next)
		if (c->id == id)
			return (c);
	if ((c = calloc(1, sizeof *c)) == NULL)
		return (NULL);
	c->id = id;
	memcpy(c->pk, pk, TLY_KEY_BYTES);
	c->tokens   = a->burst;
	c->last_ns  = mono_ns();
	c->next     = a->accts[b];
	a->accts[b] = c;
	return (c);
}

int
tallyd_auth_session(tallyd_auth *a, int64_t acct, const unsigned char *pk,
    unsigned char *token, uint32_t *ttl)
{
	struct sess *s;
	unsigned     b;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return (TALLY_ENOMEM);
	randombytes_buf(s->tok, sizeof s->tok);
	s->expires = now_s() + a->ttl;
	b          = bucket(s->tok);
	pthread_mutex_lock(&a->lock);
	if (a->nsess >= AUTH_MAX_SESSIONS ||
	    (s->acct = acct_get(a, acct, pk)) == NULL) {
		pthread_mutex_unlock(&a->lock);
		free(s);
		return (TALLY_EBUSY);
	}
	s->next    = a->sess[b];
	a->sess[b] = s;
	a->nsess++;
	pthread_mutex_unlock(&a->lock);
	memcpy(token, s->tok, TLY_TOKEN_BYTES);
	*ttl = (uint32_t) a->ttl;
	return (0);
}

int
tallyd_auth_check(
    tallyd_auth *a, const unsigned char *token, struct tallyd_session *out)
{
	unsigned     b = bucket(token);
	struct sess *s;
	struct acct *c;
	int64_t      now = now_s(), t;
	int          rv  = TALLY_EAUTH;

	pthread_mutex_lock(&a->lock);
	for (s = a->sess[b]; s != NULL; s = s->next) {
		if (sodium_memcmp(s->tok, token, TLY_TOKEN_BYTES) != 0)
			continue;
		if (s->expires < now)
			break;
		c         = s->acct;
		out->acct = c->id;
		memcpy(out->pk, c->pk, TLY_KEY_BYTES);
		rv = 0;
		if (a->rate > 0) {
			t = mono_ns();
			c->tokens += (double) (t - c->last_ns) * a->rate / 1e9;
			if (c->tokens > a->burst)
				c->tokens = a->burst;
			c->last_ns = t;
			if (c->tokens < 1.0)
				rv = TALLY_ERATE;
			else
				c->tokens -= 1.0;
		}
		break;
	}
	pthread_mutex_unlock(&a->lock);
	return (rv);
}

void
tallyd_auth_drop(tallyd_auth *a, int64_t acct)
{
	pthread_mutex_lock(&a->lock);
	for (int i = 0; i < AUTH_BUCKETS; i++) {
		struct sess **pp = &a->sess[i], *s;

		while ((s = *pp) != NULL) {
			if (s->acct->id == acct) {
				*pp = s->next;
				sodium_memzero(s->tok, sizeof s->tok);
				free(s);
				a->nsess--;
			} else {
				pp = &s->next;
			}
		}
	}
	pthread_mutex_unlock(&a->lock);
}

void
tallyd_auth_sweep(tallyd_auth *a)
{
	int64_t now = now_s();

	pthread_mutex_lock(&a->lock);
	for (int i = 0; i < AUTH_BUCKETS; i++) {
		struct sess **sp = &a->sess[i], *s;
		struct used **up = &a->used[i], *u;

		while ((s = *sp) != NULL) {
			if (s->expires < now) {
				*sp = s->next;
				sodium_memzero(s->tok, sizeof s->tok);
				free(s);
				a->nsess--;
			} else {
				sp = &s->next;
			}
		}
		while ((u = *up) != NULL) {
			if (u->expires < now) {
				*up = u->next;
				free(u);
				a->nused--;
			} else {
				up = &u->next;
			}
		}
	}
	pthread_mutex_unlock(&a->lock);
}

uint64_t
tallyd_auth_sessions(tallyd_auth *a)
{
	uint64_t n;

	pthread_mutex_lock(&a->lock);
	n = a->nsess;
	pthread_mutex_unlock(&a->lock);
	return (n);
}
