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
 * clients authenticate again).  An account holds at most
 * AUTH_SESSIONS_PER_ACCT sessions: a new one ends its oldest, so signing in
 * again and again cannot fill the session table.  Rate: one token bucket
 * per account, shared by its sessions.
 *
 * Sign-in rate: hello, auth and register come before any session, so
 * they are limited per client address instead (tallyd_auth_addr_check):
 * a fixed table of AUTH_ADDR_SLOTS token buckets, a client's slot chosen
 * by a keyed hash of its address.  The table never grows, whatever the
 * number of addresses; two addresses that share a slot share its bucket.
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
#define AUTH_SESSIONS_PER_ACCT 64
#define AUTH_ADDR_SLOTS 16384

struct used {
	unsigned char ch[TLY_CHALLENGE_BYTES];
	int64_t       expires;
	struct used  *next;
};

struct sess {
	unsigned char tok[TLY_TOKEN_BYTES];
	int64_t       expires;
	struct acct  *acct;
	struct sess  *next;          /* token bucket chain */
	struct sess  *anext, *aprev; /* the account's, newest first */
};

struct acct {
	int64_t       id;
	unsigned char pk[TLY_KEY_BYTES];
	double        tokens;
	int64_t       last_ns;
	struct sess  *sess; /* its sessions, newest first */
	struct sess  *oldest;
	int           nsess;
	struct acct  *next;
};

/* A sign-in token bucket; last_ns 0: untouched (full). */
struct slot {
	double  tokens;
	int64_t last_ns;
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
	pthread_mutex_t slock;
	struct slot    *slots; /* AUTH_ADDR_SLOTS, guarded by slock */
	unsigned char   skey[crypto_shorthash_KEYBYTES];
	uint32_t        arate, aburst; /* sign-ins per second and burst */
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
	if ((a->slots = calloc(AUTH_ADDR_SLOTS, sizeof *a->slots)) == NULL) {
		free(a);
		return (TALLY_ENOMEM);
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_mutex_init(&a->slock, NULL);
	crypto_shorthash_keygen(a->skey);
	randombytes_buf(boot, sizeof boot);
	crypto_generichash(
	    a->key, sizeof a->key, boot, sizeof boot, secret, 32);
	sodium_memzero(boot, sizeof boot);
	memcpy(a->sid, sid, TLY_SERVER_ID_BYTES);
	a->ttl   = c->session_ttl;
	a->rate   = c->rate;
	a->burst  = c->burst;
	a->arate  = c->auth_rate;
	a->aburst = c->auth_burst;
	*ap       = a;
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
	pthread_mutex_destroy(&a->slock);
	free(a->slots);
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

/* Takes s off its account's list; lock held. */
static void
sess_unlink_acct(struct sess *s)
{
	struct acct *c = s->acct;

	if (s->aprev != NULL)
		s->aprev->anext = s->anext;
	else
		c->sess = s->anext;
	if (s->anext != NULL)
		s->anext->aprev = s->aprev;
	else
		c->oldest = s->aprev;
	c->nsess--;
}

/* Takes s out of its token chain; lock held. */
static void
sess_unlink_chain(tallyd_auth *a, struct sess *s)
{
	for (struct sess **pp = &a->sess[bucket(s->tok)]; *pp != NULL;
	     pp               = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			return;
		}
	}
}

static void
sess_destroy(tallyd_auth *a, struct sess *s)
{
	sodium_memzero(s->tok, sizeof s->tok);
	free(s);
	a->nsess--;
}

int
tallyd_auth_session(tallyd_auth *a, int64_t acct, const unsigned char *pk,
    unsigned char *token, uint32_t *ttl)
{
	struct acct *c;
	struct sess *s;
	unsigned     b;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return (TALLY_ENOMEM);
	randombytes_buf(s->tok, sizeof s->tok);
	s->expires = now_s() + a->ttl;
	b          = bucket(s->tok);
	pthread_mutex_lock(&a->lock);
	if (a->nsess >= AUTH_MAX_SESSIONS ||
	    (c = s->acct = acct_get(a, acct, pk)) == NULL) {
		pthread_mutex_unlock(&a->lock);
		free(s);
		return (TALLY_EBUSY);
	}
	s->next    = a->sess[b];
	a->sess[b] = s;
	a->nsess++;
	s->anext = c->sess;
	if (c->sess != NULL)
		c->sess->aprev = s;
	else
		c->oldest = s;
	c->sess = s;
	c->nsess++;
	if (c->nsess > AUTH_SESSIONS_PER_ACCT) {
		struct sess *old = c->oldest;

		sess_unlink_acct(old);
		sess_unlink_chain(a, old);
		sess_destroy(a, old);
	}
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
	struct acct *c;

	pthread_mutex_lock(&a->lock);
	for (c = a->accts[(uint64_t) acct % AUTH_BUCKETS]; c != NULL;
	     c = c->next) {
		if (c->id != acct)
			continue;
		while (c->sess != NULL) {
			struct sess *s = c->sess;

			sess_unlink_acct(s);
			sess_unlink_chain(a, s);
			sess_destroy(a, s);
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
				sess_unlink_acct(s);
				sess_destroy(a, s);
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

int
tallyd_auth_addr_check(tallyd_auth *a, const void *key, size_t keylen)
{
	unsigned char h[crypto_shorthash_BYTES];
	struct slot  *sl;
	int64_t       t;
	int           rv = 0;

	if (a->arate == 0)
		return (0);
	crypto_shorthash(h, key, keylen, a->skey);
	t = mono_ns();
	pthread_mutex_lock(&a->slock);
	sl = &a->slots[tly_get_u32(h) % AUTH_ADDR_SLOTS];
	if (sl->last_ns == 0) {
		sl->tokens = a->aburst;
	} else {
		sl->tokens += (double) (t - sl->last_ns) * a->arate / 1e9;
		if (sl->tokens > a->aburst)
			sl->tokens = a->aburst;
	}
	sl->last_ns = t;
	if (sl->tokens < 1.0)
		rv = TALLY_ERATE;
	else
		sl->tokens -= 1.0;
	pthread_mutex_unlock(&a->slock);
	return (rv);
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
