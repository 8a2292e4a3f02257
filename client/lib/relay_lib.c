/*
 * relay_lib.c -- the relay as libtally's public API sees it: the relay URL
 * kept in the replica's meta table (key "relay.url"), registration and
 * status with the replica's unlocked identity (relay.c does the talking).
 */
#include <string.h>

#include <sodium.h>

#include "ident_int.h"
#include "relay_int.h"
#include "tally_int.h"

#define META_RELAY_URL "relay.url"

int
tally_relay_set(tally *t, const char *url)
{
	sqlite3_stmt *st;

	if (url == NULL || strlen(url) >= TALLY_URL_MAX ||
	    (strncmp(url, "tcp://", 6) != 0 &&
	        strncmp(url, "tls+tcp://", 10) != 0 &&
	        strncmp(url, "ipc://", 6) != 0))
		return (tly_seterr(t, TALLY_EINVAL,
		    "%s: a relay URL is tcp://HOST:PORT, tls+tcp://HOST:PORT "
		    "or ipc://PATH",
		    url != NULL ? url : "(none)"));
	if ((st = tly_stmt(t,
	         "INSERT OR REPLACE INTO meta(key, value) "
	         "VALUES (?1, ?2)")) == NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_text(st, 1, META_RELAY_URL, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, url, -1, SQLITE_TRANSIENT);
	return (tly_step_done(t, st, "setting the relay"));
}

int
tly_relay_url(tally *t, char *url)
{
	sqlite3_stmt *st;
	const char   *v;
	int           rc;

	if ((st = tly_stmt(t, "SELECT value FROM meta WHERE key = ?1")) ==
	    NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_text(st, 1, META_RELAY_URL, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && (v = tly_col_text(st, 0)) != NULL &&
	    strlen(v) < TALLY_URL_MAX) {
		memcpy(url, v, strlen(v) + 1);
		sqlite3_reset(st);
		return (0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (tly_dberr(t, "reading the relay"));
	return (tly_seterr(
	    t, TALLY_ENOTINIT, "no relay set: use 'tally relay set URL'"));
}

int
tly_relay_connect(tally *t, tly_relay **rp, char *url)
{
	const tly_ident *id;
	unsigned char    seed[TLY_SEED_BYTES];
	unsigned char    pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char    sk[crypto_sign_SECRETKEYBYTES];
	int              rv;

	*rp = NULL;
	if ((rv = tly_relay_url(t, url)) != 0)
		return (rv);
	if ((id = tly_my_ident(t)) == NULL)
		return (TALLY_ENOTINIT);
	if ((rv = tly_relay_open(rp, url, NULL)) != 0)
		return (
		    tly_seterr(t, rv, "%s: cannot use this relay URL", url));
	tly_ident_seed(id, seed);
	crypto_sign_seed_keypair(pk, sk, seed);
	rv = tly_relay_set_key(*rp, pk, sk);
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(sk, sizeof sk);
	if (rv != 0) {
		tly_relay_close(*rp);
		*rp = NULL;
		return (tly_seterr(t, rv, "out of memory"));
	}
	return (0);
}

int
tally_relay_register(tally *t, const char *invite)
{
	tly_relay *r;
	char       url[TALLY_URL_MAX];
	int        rv;

	if ((rv = tly_relay_connect(t, &r, url)) != 0)
		return (rv);
	if ((rv = tly_relay_register(r, invite)) != 0)
		tly_seterr(t, rv, "%s: %s", url, tly_relay_errmsg(r));
	tly_relay_close(r);
	return (rv);
}

int
tally_relay_status(tally *t, tally_relay_state *st)
{
	struct tly_relay_info info;
	tly_relay            *r;
	int                   rv;

	memset(st, 0, sizeof *st);
	if ((rv = tly_relay_connect(t, &r, st->url)) != 0)
		return (rv);
	rv = tly_relay_info(r, &info);
	if (rv == 0) {
		st->registered = 1;
		st->used       = info.used;
		st->quota      = info.quota;
		st->mails      = info.mails;
		st->mail_head  = info.mail_head;
		st->log_head   = info.log_head;
	} else if (rv == TALLY_EAUTH) {
		rv = 0; /* reachable; it does not know me (or refuses me) */
	} else {
		tly_seterr(t, rv, "%s: %s", st->url, tly_relay_errmsg(r));
	}
	tly_relay_close(r);
	return (rv);
}
