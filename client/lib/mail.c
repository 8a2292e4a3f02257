/*
 * mail.c -- records both sides confirm, carried as sealed letters through
 * the relay (PROTOCOL.md, part 9): the outbox, the inbox, and
 * tally_mail_sync() which sends the one and fills the other.
 *
 * The life of a record through the relay, from each side:
 *
 *   A: propose -> proposed, PROPOSE queued     B: PROPOSE -> inbox
 *   B: confirm -> confirmed, CONFIRM queued    A: CONFIRM -> confirmed
 *   B: decline -> declined, DECLINE queued     A: DECLINE -> declined
 *   either: revoke -> revoked, REVOKE queued   other: REVOKE -> revoked
 *
 * Invariants:
 *  - a letter is queued in the transaction of the change it announces,
 *    sealed once: its envelope bytes, hence its relay id, never change,
 *    so a put repeated after a crash is a duplicate at the relay; a row
 *    leaves mail_outbox only once the relay acknowledged its put;
 *  - an envelope is taken in within one transaction (its effect and its
 *    letter id in mail_seen), and acknowledged at the relay only after
 *    that commit, or after it was refused; a crash in between fetches it
 *    again, and mail_seen makes the second time a no-op;
 *  - nothing is stored from an envelope that does not open with my key,
 *    is not addressed to me inside, is not signed by its sender, or
 *    whose records do not decode strictly and verify; a proposal from a
 *    key linked to no one waits in the inbox, never merged;
 *  - DECLINE and REVOKE carry the record they close, so that a close
 *    arriving before its proposal (reordered) is still understood; when
 *    one side revoked and the other declined at once, revoked wins on
 *    both, so that the two replicas agree.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mail_int.h"
#include "records_int.h"
#include "relay_int.h"
#include "tly_buf.h"
#include "tly_enc.h"

#define HEX_ID_LEN TLY_HEX_LEN(TLY_REC_ID_BYTES)
#define LIST_PAGE 100 /* envelopes listed per request */
#define WORDS_MAX 1536

/* Local failures stop a sync; anything else a letter causes is a
 * refusal of that letter. */
static int
local_failure(int rv)
{
	return (rv == TALLY_ENOMEM || rv == TALLY_EIO || rv == TALLY_EBUSY ||
	    rv == TALLY_EREADONLY || rv == TALLY_ECORRUPT ||
	    rv == TALLY_EINTERNAL || rv == TALLY_ENOTINIT);
}

void
tly_mail_say(
    mail_run *mr, const char *what, const char *ref, const char *fmt, ...)
{
	tally_mail_event e;
	char             text[WORDS_MAX];
	va_list          ap;

	if (mr == NULL || mr->fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	e.what = what;
	e.text = text;
	e.ref  = ref;
	mr->fn(mr->arg, &e);
}

int
tly_mail_who(
    tally *t, const unsigned char *pk, char *buf, size_t n, char *person)
{
	char  fpr[TLY_FPR_LEN + 1], pid[TALLY_ID_LEN + 1];
	char *name = NULL;

	if (person != NULL)
		person[0] = '\0';
	if (tly_peer_find(t, pk, pid, &name, NULL) == 0 && name != NULL) {
		snprintf(buf, n, "%s", name);
		if (person != NULL)
			memcpy(person, pid, sizeof pid);
		free(name);
		return (1);
	}
	free(name);
	tly_fingerprint(fpr, pk);
	snprintf(buf, n, "an unknown key (%s)", fpr);
	return (0);
}

/* -- The outbox -------------------------------------------------------- */

int
tly_mail_queue(tally *t, int type, const unsigned char *to,
    const tly_mail_body *b, const char *ref, const char *what)
{
	const tly_ident *me;
	sqlite3_stmt    *st;
	tly_letter       l;
	tly_buf          body = TLY_BUF_INIT, letter = TLY_BUF_INIT;
	tly_buf          env = TLY_BUF_INIT;
	unsigned char    eid[TLY_REC_ID_BYTES];
	int              why = TLY_WHY_NONE, rv;

	if ((me = tly_my_ident(t)) == NULL)
		return (TALLY_ENOTINIT);
	memset(&l, 0, sizeof l);
	l.type = type;
	memcpy(l.from, tly_ident_pk(me), TLY_PK_BYTES);
	memcpy(l.to, to, TLY_PK_BYTES);
	randombytes_buf(l.id, sizeof l.id);
	l.sent = tly_now();
	if ((rv = tly_mail_body_encode(&body, type, b, &why)) != 0) {
		rv = tly_seterr(t, rv == TALLY_ENOMEM ? rv : TALLY_EINVAL,
		    "cannot write the letter: %s", tly_why_str(why));
		goto out;
	}
	l.body     = body.p;
	l.body_len = body.len;
	if ((rv = tly_letter_encode(&letter, &l, me)) != 0) {
		rv = tly_seterr(t, rv, "cannot write the letter");
		goto out;
	}
	if ((rv = tly_envelope_seal(&env, letter.p, letter.len, to)) != 0) {
		rv = tly_seterr(
		    t, rv, "cannot seal the letter to %s's key", what);
		goto out;
	}
	crypto_generichash(eid, sizeof eid, env.p, env.len, NULL, 0);
	st = tly_stmt(t,
	    "INSERT INTO mail_outbox(env_id, recipient, envelope, type, ref,"
	    " what, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	if (st == NULL) {
		rv = TALLY_EINTERNAL;
		goto out;
	}
	sqlite3_bind_blob(st, 1, eid, sizeof eid, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, to, TLY_PK_BYTES, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, env.p, (int) env.len, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, type);
	tly_bind_text(st, 5, ref);
	tly_bind_text(st, 6, what);
	sqlite3_bind_int64(st, 7, tly_now());
	rv = tly_step_done(t, st, "queueing a letter");
out:
	sodium_memzero(letter.p, letter.len);
	tly_buf_free(&body);
	tly_buf_free(&letter);
	tly_buf_free(&env);
	return (rv);
}

int
tally_mail_queued(tally *t, unsigned *n)
{
	sqlite3_stmt *st;
	int           rc;

	*n = 0;
	if ((st = tly_stmt(t, "SELECT count(*) FROM mail_outbox")) == NULL)
		return (TALLY_EINTERNAL);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*n = (unsigned) sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return (rc == SQLITE_ROW ? 0 : tly_dberr(t, "reading the outbox"));
}

int
tally_mail_ready(tally *t)
{
	sqlite3_stmt *st;
	int           yes;

	st = tly_stmt(t, "SELECT 1 FROM meta WHERE key = 'relay.url'");
	if (st == NULL)
		return (0);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return (yes);
}

/* -- Stored records ---------------------------------------------------- */

/* A stored record row, as the letters need it. */
typedef struct row {
	int        found;
	char       state[16];
	int        proposed_by_me;
	int        mine; /* my party index */
	tly_signed s;
	tly_signed rev; /* the decline or revocation, if closed */
	int        has_rev;
} row;

static int
row_get(tally *t, row *r, const char *idhex)
{
	unsigned char mine[TLY_PK_BYTES];
	sqlite3_stmt *st;
	int           rc, rv = 0;

	memset(r, 0, sizeof *r);
	st = tly_stmt(t,
	    "SELECT state, proposed_by_me, signed, revocation FROM record"
	    " WHERE id = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, idhex);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r->found = 1;
		snprintf(r->state, sizeof r->state, "%s", tly_col_text(st, 0));
		r->proposed_by_me = sqlite3_column_int(st, 1);
		if (tly_signed_decode(&r->s, sqlite3_column_blob(st, 2),
		        (size_t) sqlite3_column_bytes(st, 2), NULL) != 0 ||
		    (sqlite3_column_type(st, 3) != SQLITE_NULL &&
		        tly_signed_decode(&r->rev, sqlite3_column_blob(st, 3),
		            (size_t) sqlite3_column_bytes(st, 3), NULL) != 0))
			rv = tly_seterr(t, TALLY_ECORRUPT,
			    "stored record %.8s is damaged", idhex);
		r->has_rev = sqlite3_column_type(st, 3) != SQLITE_NULL;
	} else if (rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading a record");
	sqlite3_reset(st);
	if (rv == 0 && r->found) {
		if ((rv = tly_my_pk(t, mine)) != 0)
			return (rv);
		r->mine = tly_record_party(&r->s.rec, mine);
		if (r->mine < 0)
			rv = tly_seterr(t, TALLY_ECORRUPT,
			    "stored record %.8s is not mine", idhex);
	}
	return (rv);
}

/* The binary container of s into b. */
static int
container(tally *t, tly_buf *b, const tly_signed *s)
{
	if (tly_signed_encode(b, s) != 0)
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	return (0);
}

/* A short description of record r, for words: "favor (resume)". */
static void
rec_label(char *buf, size_t n, const tly_record *r)
{
	if (r->kind == TLY_REC_FAVOR)
		snprintf(
		    buf, n, "favor: %s", tly_favor_kind_name(r->favor_kind));
	else
		snprintf(buf, n, "%s", tly_rec_kind_name(r->kind));
}

/* Queues a letter of type carrying s (and, for DECLINE and REVOKE, the
 * closing record rev) to the other party of s. */
static int
queue_record(tally *t, int type, const tly_signed *s, const tly_signed *rev,
    int mine, const char *verb)
{
	const unsigned char *to = s->rec.parties[1 - mine].pk;
	tly_mail_body        b;
	tly_buf              a = TLY_BUF_INIT, c = TLY_BUF_INIT;
	char                 idhex[HEX_ID_LEN + 1], who[256], label[64];
	char                 what[400];
	int                  rv;

	tly_hex_encode(idhex, s->id, sizeof s->id);
	memset(&b, 0, sizeof b);
	if ((rv = container(t, &a, rev != NULL ? rev : s)) != 0 ||
	    (rev != NULL && (rv = container(t, &c, s)) != 0))
		goto out;
	b.rec     = a.p;
	b.rec_len = a.len;
	if (rev != NULL) {
		b.target     = c.p;
		b.target_len = c.len;
	}
	(void) tly_mail_who(t, to, who, sizeof who, NULL);
	rec_label(label, sizeof label, &s->rec);
	snprintf(what, sizeof what, "your %s of record %.8s (%s) to %s", verb,
	    idhex, label, who);
	rv = tly_mail_queue(t, type, to, &b, idhex, what);
out:
	tly_buf_free(&a);
	tly_buf_free(&c);
	return (rv);
}

/* -- Proposing, answering ---------------------------------------------- */

int
tally_record_propose(tally *t, char *id, const tally_record_in *in)
{
	row r;
	int rv;

	if ((rv = tly_begin(t)) != 0)
		return (rv);
	if ((rv = tally_record_new(t, id, in)) != 0 ||
	    (rv = row_get(t, &r, id)) != 0)
		goto fail;
	if (!r.found) {
		rv = tly_seterr(t, TALLY_EINTERNAL, "the new record is gone");
		goto fail;
	}
	if ((rv = queue_record(
	         t, TLY_L_PROPOSE, &r.s, NULL, r.mine, "proposal")) != 0)
		goto fail;
	return (tly_commit(t));
fail:
	tly_rollback(t);
	return (rv);
}

/* A proposal waiting in my inbox. */
typedef struct waiting {
	char           id[HEX_ID_LEN + 1];
	unsigned char  sender[TLY_PK_BYTES];
	unsigned char *signed_p; /* malloc'd */
	size_t         signed_len;
	char           state[16];
} waiting;

/* Finds the inbox proposal whose id starts with spec (any state). */
static int
inbox_find(tally *t, waiting *w, const char *spec)
{
	sqlite3_stmt *st;
	char          lower[HEX_ID_LEN + 1];
	size_t        len = strlen(spec);
	int           rc, n = 0, rv = 0;

	memset(w, 0, sizeof *w);
	if (len < TLY_MIN_PREFIX || len > HEX_ID_LEN)
		return (tly_seterr(t, TALLY_ENOENT,
		    "no proposal '%.80s' in your inbox (give 4 to 64 hex "
		    "characters of its id)",
		    spec));
	for (size_t i = 0; i <= len; i++) {
		char c = spec[i];
		if (c >= 'A' && c <= 'F')
			c = (char) (c - 'A' + 'a');
		if (i < len &&
		    !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return (tly_seterr(t, TALLY_ENOENT,
			    "no proposal '%.80s' (an id is hex)", spec));
		lower[i] = c;
	}
	st = tly_stmt(t,
	    "SELECT id, sender, signed, state FROM mail_inbox"
	    " WHERE id >= ?1 AND id < ?1 || 'g' LIMIT 2");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, lower);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ > 0)
			break;
		snprintf(w->id, sizeof w->id, "%s", tly_col_text(st, 0));
		if (sqlite3_column_bytes(st, 1) == TLY_PK_BYTES)
			memcpy(w->sender, sqlite3_column_blob(st, 1),
			    TLY_PK_BYTES);
		w->signed_len = (size_t) sqlite3_column_bytes(st, 2);
		if ((w->signed_p = malloc(w->signed_len + 1)) == NULL) {
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
			break;
		}
		memcpy(w->signed_p, sqlite3_column_blob(st, 2), w->signed_len);
		snprintf(w->state, sizeof w->state, "%s", tly_col_text(st, 3));
	}
	sqlite3_reset(st);
	if (rv == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		rv = tly_dberr(t, "reading the inbox");
	if (rv == 0 && n > 1)
		rv = tly_seterr(t, TALLY_EAMBIG,
		    "'%s' matches several proposals: give more of the id",
		    spec);
	if (rv == 0 && n == 0)
		rv = TALLY_ENOENT;
	if (rv != 0) {
		free(w->signed_p);
		w->signed_p = NULL;
	}
	return (rv);
}

/* The waiting inbox proposal spec, with a message fit for the user when
 * it is not waiting (or not in the inbox at all). */
static int
inbox_waiting(tally *t, waiting *w, const char *spec, const char *verb)
{
	char id[HEX_ID_LEN + 1];
	row  r;
	int  rv;

	if ((rv = inbox_find(t, w, spec)) == 0) {
		if (strcmp(w->state, "waiting") == 0)
			return (0);
		rv = tly_seterr(t, TALLY_ESTATE,
		    "proposal %.8s was %s already: nothing to %s", w->id,
		    strcmp(w->state, "answered") == 0 ? "answered"
		                                      : "withdrawn by them",
		    verb);
		free(w->signed_p);
		w->signed_p = NULL;
		return (rv);
	}
	if (rv != TALLY_ENOENT)
		return (rv);
	/* Not in the inbox: maybe a record of mine. */
	if (tally_record_resolve(t, id, spec) == 0 &&
	    row_get(t, &r, id) == 0 && r.found)
		return (tly_seterr(t, TALLY_ESTATE,
		    "record %.8s is %s%s: there is no proposal of theirs to "
		    "%s",
		    id, r.state, r.proposed_by_me ? " (you proposed it)" : "",
		    verb));
	return (tly_seterr(t, TALLY_ENOENT,
	    "no proposal '%.80s' in your inbox ('tally inbox' lists them; "
	    "'tally sync' fetches new ones)",
	    spec));
}

static int
inbox_set(tally *t, const char *id, const char *state)
{
	sqlite3_stmt *st;

	st = tly_stmt(
	    t, "UPDATE mail_inbox SET state = ?2, updated = ?3 WHERE id = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	tly_bind_text(st, 2, state);
	sqlite3_bind_int64(st, 3, tly_now());
	return (tly_step_done(t, st, "updating the inbox"));
}

int
tally_record_confirm(tally *t, char *id, const char *spec)
{
	waiting w;
	row     r;
	char   *text = NULL;
	int     rv;

	if ((rv = inbox_waiting(t, &w, spec, "confirm")) != 0)
		return (rv);
	if (tly_my_ident(t) == NULL) {
		free(w.signed_p);
		return (TALLY_ENOTINIT);
	}
	if ((rv = tly_begin(t)) != 0)
		goto out;
	if ((rv = tally_record_sign(
	         t, &text, id, w.signed_p, w.signed_len, NULL)) != 0 ||
	    (rv = row_get(t, &r, id)) != 0 ||
	    (rv = queue_record(t, TLY_L_CONFIRM, &r.s, NULL, r.mine,
	         "countersignature")) != 0 ||
	    (rv = inbox_set(t, w.id, "answered")) != 0) {
		tly_rollback(t);
		goto out;
	}
	rv = tly_commit(t);
out:
	free(text);
	free(w.signed_p);
	return (rv);
}

int
tally_record_decline_mail(
    tally *t, char *id, const char *spec, const char *reason)
{
	waiting w;
	row     r;
	char   *text = NULL;
	int     rv;

	if ((rv = inbox_waiting(t, &w, spec, "decline")) != 0)
		return (rv);
	if (tly_my_ident(t) == NULL) {
		free(w.signed_p);
		return (TALLY_ENOTINIT);
	}
	if ((rv = tly_begin(t)) != 0)
		goto out;
	if ((rv = tally_record_decline(
	         t, &text, id, w.signed_p, w.signed_len, reason)) != 0 ||
	    (rv = row_get(t, &r, id)) != 0)
		goto fail;
	if (!r.has_rev) {
		rv = tly_seterr(t, TALLY_EINTERNAL, "the decline is gone");
		goto fail;
	}
	if ((rv = queue_record(
	         t, TLY_L_DECLINE, &r.s, &r.rev, r.mine, "decline")) != 0 ||
	    (rv = inbox_set(t, w.id, "answered")) != 0)
		goto fail;
	rv = tly_commit(t);
	goto out;
fail:
	tly_rollback(t);
out:
	free(text);
	free(w.signed_p);
	return (rv);
}

int
tally_record_revoke_mail(tally *t, const char *id, const char *reason)
{
	row   r;
	char *text = NULL;
	int   rv;

	if ((rv = tly_begin(t)) != 0)
		return (rv);
	if ((rv = tally_record_revoke(t, &text, id, reason)) != 0 ||
	    (rv = row_get(t, &r, id)) != 0)
		goto fail;
	if (!r.has_rev) {
		rv = tly_seterr(t, TALLY_EINTERNAL, "the revocation is gone");
		goto fail;
	}
	if ((rv = queue_record(
	         t, TLY_L_REVOKE, &r.s, &r.rev, r.mine, "revocation")) != 0)
		goto fail;
	free(text);
	return (tly_commit(t));
fail:
	free(text);
	tly_rollback(t);
	return (rv);
}

int
tally_inbox_resolve(tally *t, char *id, const char *spec)
{
	waiting w;
	char    iid[TALLY_INTRO_ID_LEN + 1];
	int     rv;

	rv = inbox_find(t, &w, spec);
	free(w.signed_p);
	if (rv == 0) {
		memcpy(id, w.id, sizeof w.id);
		return (0);
	}
	if (rv != TALLY_ENOENT)
		return (rv);
	if ((rv = tally_intro_resolve(t, iid, spec)) == 0)
		memcpy(id, iid, sizeof iid);
	return (rv);
}

/* -- Words ------------------------------------------------------------- */

/* Appends to b what proposal r says, from my side: who (their name or
 * "an unknown key"), they (the sender gave, referred, is the referee). */
static int
say_record(tly_buf *b, const tly_record *r, const char *who, int they)
{
	char date[TLY_DATE_LEN];
	int  rv;

	tly_date_format(date, &r->date);
	switch (r->kind) {
	case TLY_REC_FAVOR:
		rv = tly_buf_printf(b,
		    they ? "%s says they did you a favor (%s) on %s"
		         : "%s says you did them a favor (%s) on %s",
		    who, tly_favor_kind_name(r->favor_kind), date);
		break;
	case TLY_REC_REFERRAL:
		rv = tly_buf_printf(b,
		    they ? "%s says they referred you to %s on %s"
		         : "%s says you referred them to %s on %s",
		    who, r->name, date);
		break;
	default:
		rv = tly_buf_printf(b,
		    they ? "%s says they gave you a reference%s%s on %s"
		         : "%s says you gave them a reference%s%s on %s",
		    who, r->name[0] ? " for " : "", r->name, date);
		break;
	}
	if (rv == 0 && r->text[0] != '\0') {
		size_t n = strlen(r->text);
		rv       = tly_buf_printf(b, ": %s%s", r->text,
                    strchr(".!?", r->text[n - 1]) != NULL ? "" : ".");
	} else if (rv == 0)
		rv = tly_buf_puts(b, ".");
	return (rv);
}

/* -- The inbox listing ------------------------------------------------- */

typedef struct inbox_walk {
	tally_inbox_item *item;
	tally_inbox_fn    fn;
	void             *arg;
	int               rv;
} inbox_walk;

static int
inbox_record_cb(void *arg, const tally_record *r)
{
	inbox_walk *iw = arg;

	iw->item->record = r;
	iw->item->date   = r->date;
	return (iw->rv = iw->fn(iw->arg, iw->item));
}

int
tally_inbox(tally *t, tally_inbox_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int           rc, rv = 0;

	st = tly_stmt(t,
	    "SELECT i.id, i.sender, i.signed, i.received, p.id, p.name"
	    " FROM mail_inbox i LEFT JOIN peer ON peer.pk = i.sender"
	    " LEFT JOIN person p ON p.id = peer.person"
	    " WHERE i.state = 'waiting' ORDER BY i.received, i.rid");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tally_inbox_item it;
		inbox_walk       iw;
		tly_signed       s;
		tly_buf          words = TLY_BUF_INIT;
		unsigned char    sender[TLY_PK_BYTES];
		char tid[TLY_TALLYID_LEN + 1], fpr[TLY_FPR_LEN + 1];
		char who[300], err[256];
		int  other;

		memset(&it, 0, sizeof it);
		if (sqlite3_column_bytes(st, 1) != TLY_PK_BYTES ||
		    tly_signed_decode(&s, sqlite3_column_blob(st, 2),
		        (size_t) sqlite3_column_bytes(st, 2), NULL) != 0) {
			rv = tly_seterr(t, TALLY_ECORRUPT,
			    "inbox item %.8s is damaged", tly_col_text(st, 0));
			break;
		}
		memcpy(sender, sqlite3_column_blob(st, 1), TLY_PK_BYTES);
		tly_tallyid_encode(tid, sender);
		tly_fingerprint(fpr, sender);
		it.kind             = "record";
		it.id               = tly_col_text(st, 0);
		it.from_tally_id    = tid;
		it.from_fingerprint = fpr;
		it.person           = tly_col_text(st, 4);
		it.name             = tly_col_text(st, 5);
		it.received         = sqlite3_column_int64(st, 3);
		if (it.name != NULL)
			snprintf(who, sizeof who, "%s", it.name);
		else
			snprintf(who, sizeof who,
			    "An unknown key (%s, linked to no one)", fpr);
		other = tly_record_party(&s.rec, sender);
		if (say_record(&words, &s.rec, who, other == 0) != 0 ||
		    tly_buf_cstr(&words) == NULL) {
			tly_buf_free(&words);
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
			break;
		}
		it.text = (const char *) words.p;
		iw.item = &it;
		iw.fn   = fn;
		iw.arg  = arg;
		iw.rv   = 0;
		rv      = tally_record_verify(t, sqlite3_column_blob(st, 2),
		         (size_t) sqlite3_column_bytes(st, 2), inbox_record_cb, &iw,
		         err, sizeof err);
		tly_buf_free(&words);
		if (rv != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		rv = tly_dberr(t, "reading the inbox");
	sqlite3_reset(st);
	if (rv != 0)
		return (rv);
	return (tly_mail_intro_inbox(t, fn, arg));
}

/* -- Taking letters in ------------------------------------------------- */

/* Decodes and verifies the container p[0..n): every present signature
 * valid; the message says what was wrong. */
static int
take_container(tally *t, tly_signed *s, tly_verify *v, const unsigned char *p,
    size_t n, const char *what)
{
	int why = TLY_WHY_NONE, rv;

	if ((rv = tly_signed_decode(s, p, n, &why)) != 0)
		return (
		    tly_seterr(t, rv, "the %s in it is not a valid record: %s",
		        what, tly_why_str(why)));
	if (tly_signed_verify(s, v, &why) != 0)
		return (tly_seterr(t, TALLY_ECRYPTO,
		    "a signature on the %s in it does not verify: it was "
		    "changed after it was signed",
		    what));
	return (0);
}

/* The two-party kinds that travel as PROPOSE/CONFIRM. */
static int
two_party(tally *t, const tly_signed *s)
{
	if (s->rec.kind == TLY_REC_FAVOR || s->rec.kind == TLY_REC_REFERRAL ||
	    s->rec.kind == TLY_REC_REFERENCE)
		return (0);
	return (
	    tly_seterr(t, TALLY_EUNSUPP, "%s records do not travel this way",
	        tly_rec_kind_name(s->rec.kind)));
}

/* Checks that the letter's sender and I are the two parties of s; sets
 * *mine. */
static int
parties_of(
    tally *t, const tly_signed *s, const unsigned char *sender, int *mine)
{
	unsigned char me[TLY_PK_BYTES];
	int           rv;

	if ((rv = tly_my_pk(t, me)) != 0)
		return (rv);
	*mine = tly_record_party(&s->rec, me);
	if (*mine < 0)
		return (tly_seterr(t, TALLY_EPERM,
		    "the record in it is not yours (you are no party of it)"));
	if (tly_record_party(&s->rec, sender) < 0)
		return (tly_seterr(t, TALLY_EPERM,
		    "the record in it is not the sender's (they are no party "
		    "of it)"));
	return (0);
}

/* parties_of(), and the sender signed s (v: its verification). */
static int
parties_ok(tally *t, const tly_signed *s, const tly_verify *v,
    const unsigned char *sender, int *mine)
{
	int rv;

	if ((rv = parties_of(t, s, sender, mine)) != 0)
		return (rv);
	if (v->state[1 - *mine] != TLY_SIG_VALID)
		return (tly_seterr(t, TALLY_ECRYPTO,
		    "the record in it is not signed by its sender"));
	return (0);
}

static int
inbox_add(tally *t, const char *idhex, const unsigned char *sender,
    const tly_signed *s, const char *state)
{
	sqlite3_stmt *st;
	tly_buf       b   = TLY_BUF_INIT;
	int64_t       now = tly_now();
	int           rv;

	if ((rv = container(t, &b, s)) != 0)
		return (rv);
	st = tly_stmt(t,
	    "INSERT INTO mail_inbox(id, sender, signed, state, received,"
	    " updated) VALUES (?1, ?2, ?3, ?4, ?5, ?5)");
	if (st == NULL) {
		tly_buf_free(&b);
		return (TALLY_EINTERNAL);
	}
	tly_bind_text(st, 1, idhex);
	sqlite3_bind_blob(st, 2, sender, TLY_PK_BYTES, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, b.p, (int) b.len, SQLITE_TRANSIENT);
	tly_bind_text(st, 4, state);
	sqlite3_bind_int64(st, 5, now);
	rv = tly_step_done(t, st, "storing a proposal");
	tly_buf_free(&b);
	return (rv);
}

/* The state of idhex in my inbox, "" if it is not there. */
static int
inbox_state(tally *t, const char *idhex, char *state, size_t n)
{
	sqlite3_stmt *st;
	int           rc;

	state[0] = '\0';
	st       = tly_stmt(t, "SELECT state FROM mail_inbox WHERE id = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, idhex);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		snprintf(state, n, "%s", tly_col_text(st, 0));
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (tly_dberr(t, "reading the inbox"));
	return (0);
}

static int
take_propose(tally *t, mail_run *mr, const tly_letter *l,
    const tly_mail_body *b, int *out)
{
	tly_signed s;
	tly_verify v;
	tly_buf    words = TLY_BUF_INIT;
	char       idhex[HEX_ID_LEN + 1], who[300], state[16];
	int        mine, known, rv;
	row        r;

	if ((rv = take_container(t, &s, &v, b->rec, b->rec_len, "proposal")) !=
	        0 ||
	    (rv = two_party(t, &s)) != 0 ||
	    (rv = parties_ok(t, &s, &v, l->from, &mine)) != 0)
		return (rv);
	if (v.state[mine] != TLY_SIG_MISSING)
		return (tly_seterr(t, TALLY_EFORMAT,
		    "a proposal that already carries your signature"));
	tly_hex_encode(idhex, s.id, sizeof s.id);
	known = tly_mail_who(t, l->from, who, sizeof who, NULL);
	if ((rv = row_get(t, &r, idhex)) != 0 ||
	    (rv = inbox_state(t, idhex, state, sizeof state)) != 0)
		return (rv);
	if (r.found || state[0] != '\0') {
		*out = MAIL_NOTHING;
		tly_mail_say(mr, "duplicate", idhex,
		    "proposal %.8s from %s again: it is %s already", idhex,
		    who, r.found ? r.state : state);
		return (0);
	}
	if ((rv = inbox_add(t, idhex, l->from, &s, "waiting")) != 0)
		return (rv);
	*out = MAIL_TAKEN;
	if (say_record(&words, &s.rec, who, mine == 1) != 0 ||
	    tly_buf_cstr(&words) == NULL) {
		tly_buf_free(&words);
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	}
	if (known)
		tly_mail_say(mr, "received", idhex,
		    "proposal %.8s: %s Answer with 'tally record confirm "
		    "%.8s' or 'tally record decline %.8s'.",
		    idhex, (char *) words.p, idhex, idhex);
	else
		tly_mail_say(mr, "received", idhex,
		    "proposal %.8s from a key linked to no one: %s It waits "
		    "in your inbox; link the sender first if you know them "
		    "('tally inbox' shows their tally id).",
		    idhex, (char *) words.p);
	tly_buf_free(&words);
	return (0);
}

static int
take_confirm(tally *t, mail_run *mr, const tly_letter *l,
    const tly_mail_body *b, int *out)
{
	const char *outcome = NULL;
	tly_signed  s;
	tly_verify  v;
	char        idhex[HEX_ID_LEN + 1], who[300], label[64];
	int         mine, rv;
	row         r;

	if ((rv = take_container(t, &s, &v, b->rec, b->rec_len,
	         "countersigned record")) != 0 ||
	    (rv = two_party(t, &s)) != 0 ||
	    (rv = parties_ok(t, &s, &v, l->from, &mine)) != 0)
		return (rv);
	if (!v.complete)
		return (tly_seterr(t, TALLY_EFORMAT,
		    "a countersignature that does not carry both "
		    "signatures"));
	tly_hex_encode(idhex, s.id, sizeof s.id);
	if ((rv = row_get(t, &r, idhex)) != 0)
		return (rv);
	if (!r.found || !r.proposed_by_me)
		return (tly_seterr(t, TALLY_ENOENT,
		    "a countersignature of record %.8s, which you did not "
		    "propose",
		    idhex));
	(void) tly_mail_who(t, l->from, who, sizeof who, NULL);
	rec_label(label, sizeof label, &s.rec);
	if (strcmp(r.state, "proposed") != 0) {
		*out = MAIL_NOTHING;
		tly_mail_say(mr, "received", idhex,
		    "%s confirmed record %.8s (%s), which is %s here "
		    "already: it stays %s",
		    who, idhex, label, r.state, r.state);
		return (0);
	}
	if ((rv = tally_record_import(
	         t, idhex, &outcome, b->rec, b->rec_len)) != 0)
		return (rv);
	*out = strcmp(outcome, "confirmed") == 0 ? MAIL_TAKEN : MAIL_NOTHING;
	tly_mail_say(mr, "received", idhex,
	    "%s confirmed record %.8s (%s): both signed it, and your ledger "
	    "counts it as confirmed",
	    who, idhex, label);
	return (0);
}

/* Checks a DECLINE or REVOKE: the closing record rev (by the sender,
 * for target, of the action the letter's type says) and the target
 * record (me and the sender its parties). */
static int
take_close_check(tally *t, const tly_letter *l, const tly_mail_body *b,
    tly_signed *rev, tly_signed *target, int *mine)
{
	tly_verify v, tv;
	int        action =
            l->type == TLY_L_DECLINE ? TLY_ACTION_DECLINE : TLY_ACTION_REVOKE;
	int why = TLY_WHY_NONE, rv;

	if ((rv = take_container(t, rev, &v, b->rec, b->rec_len,
	         action == TLY_ACTION_DECLINE ? "decline" : "revocation")) !=
	        0 ||
	    (rv = take_container(
	         t, target, &tv, b->target, b->target_len, "record")) != 0 ||
	    (rv = two_party(t, target)) != 0)
		return (rv);
	if (rev->rec.kind != TLY_REC_REVOCATION || rev->rec.action != action)
		return (tly_seterr(t, TALLY_EFORMAT,
		    "the letter says %s but holds no %s",
		    tly_letter_type_name(l->type),
		    action == TLY_ACTION_DECLINE ? "decline" : "revocation"));
	if (!v.complete ||
	    sodium_memcmp(rev->rec.parties[0].pk, l->from, TLY_PK_BYTES) != 0)
		return (tly_seterr(t, TALLY_ECRYPTO,
		    "the %s is not signed by the letter's sender",
		    tly_letter_type_name(l->type)));
	if (tly_revocation_check(&rev->rec, target, &why) != 0)
		return (tly_seterr(
		    t, TALLY_EPERM, "refused: %s", tly_why_str(why)));
	/* A decline is of a proposal the sender has not signed; a
	 * revocation of a record the sender signed. */
	if (action == TLY_ACTION_DECLINE)
		return (parties_of(t, target, l->from, mine));
	return (parties_ok(t, target, &tv, l->from, mine));
}

static int
take_decline(tally *t, mail_run *mr, const tly_letter *l,
    const tly_mail_body *b, int *out)
{
	const char *outcome = NULL;
	tly_signed  rev, target;
	char        idhex[HEX_ID_LEN + 1], who[300], label[64];
	int         mine = -1, rv;
	row         r;

	if ((rv = take_close_check(t, l, b, &rev, &target, &mine)) != 0)
		return (rv);
	tly_hex_encode(idhex, target.id, sizeof target.id);
	if ((rv = row_get(t, &r, idhex)) != 0)
		return (rv);
	if (!r.found || !r.proposed_by_me)
		return (tly_seterr(t, TALLY_ENOENT,
		    "a decline of record %.8s, which you did not propose",
		    idhex));
	(void) tly_mail_who(t, l->from, who, sizeof who, NULL);
	rec_label(label, sizeof label, &target.rec);
	if (strcmp(r.state, "proposed") != 0) {
		*out = MAIL_NOTHING;
		tly_mail_say(mr, "received", idhex,
		    "%s declined record %.8s (%s), which is %s here "
		    "already: it stays %s",
		    who, idhex, label, r.state, r.state);
		return (0);
	}
	if ((rv = tally_record_import(
	         t, idhex, &outcome, b->rec, b->rec_len)) != 0)
		return (rv);
	*out = MAIL_TAKEN;
	tly_mail_say(mr, "received", idhex, "%s declined record %.8s (%s)%s%s",
	    who, idhex, label, rev.rec.text[0] ? ": " : "", rev.rec.text);
	return (0);
}

static int
take_revoke(tally *t, mail_run *mr, const tly_letter *l,
    const tly_mail_body *b, int *out)
{
	const char *outcome = NULL;
	tly_signed  rev, target;
	char        idhex[HEX_ID_LEN + 1], who[300], label[64], state[16];
	char        person[TALLY_ID_LEN + 1];
	int         mine = -1, known, rv;
	row         r;

	if ((rv = take_close_check(t, l, b, &rev, &target, &mine)) != 0)
		return (rv);
	tly_hex_encode(idhex, target.id, sizeof target.id);
	known = tly_mail_who(t, l->from, who, sizeof who, person);
	rec_label(label, sizeof label, &target.rec);
	if ((rv = row_get(t, &r, idhex)) != 0 ||
	    (rv = inbox_state(t, idhex, state, sizeof state)) != 0)
		return (rv);
	*out = MAIL_TAKEN;
	if (r.found && strcmp(r.state, "revoked") == 0) {
		*out = MAIL_NOTHING;
		tly_mail_say(mr, "received", idhex,
		    "%s revoked record %.8s (%s), which is revoked here "
		    "already",
		    who, idhex, label);
		return (0);
	}
	if (r.found && strcmp(r.state, "declined") == 0) {
		/* They withdrew it while I declined it: revoked wins. */
		if ((rv = tly_record_close(t, idhex, "revoked", &rev, 0)) != 0)
			return (rv);
	} else if (r.found) {
		if ((rv = tally_record_import(
		         t, idhex, &outcome, b->rec, b->rec_len)) != 0)
			return (rv);
	} else {
		/* Their proposal, withdrawn before I answered it (or before
		 * it arrived). */
		if (strcmp(state, "waiting") == 0)
			rv = inbox_set(t, idhex, "withdrawn");
		else if (state[0] == '\0')
			rv =
			    inbox_add(t, idhex, l->from, &target, "withdrawn");
		if (rv == 0 && known)
			rv = tly_record_store(
			    t, &target, mine, person, "proposed", 0, NULL);
		if (rv == 0 && known)
			rv = tly_record_close(t, idhex, "revoked", &rev, 0);
		if (rv != 0)
			return (rv);
	}
	tly_mail_say(mr, "received", idhex, "%s revoked record %.8s (%s)%s%s",
	    who, idhex, label, rev.rec.text[0] ? ": " : "", rev.rec.text);
	return (0);
}

/* Has the letter id been taken in before? */
static int
seen(tally *t, const unsigned char *lid, int *yes)
{
	sqlite3_stmt *st;
	int           rc;

	*yes = 0;
	if ((st = tly_stmt(t, "SELECT 1 FROM mail_seen WHERE letter = ?1")) ==
	    NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_blob(st, 1, lid, TLY_LETTER_ID_BYTES, SQLITE_TRANSIENT);
	rc   = sqlite3_step(st);
	*yes = rc == SQLITE_ROW;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (tly_dberr(t, "reading the letters seen"));
	return (0);
}

static int
seen_add(tally *t, const tly_letter *l)
{
	sqlite3_stmt *st;

	st = tly_stmt(t,
	    "INSERT INTO mail_seen(letter, sender, type, received)"
	    " VALUES (?1, ?2, ?3, ?4)");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_blob(st, 1, l->id, TLY_LETTER_ID_BYTES, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, l->from, TLY_PK_BYTES, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, l->type);
	sqlite3_bind_int64(st, 4, tly_now());
	return (tly_step_done(t, st, "recording a letter"));
}

/* Takes in one envelope e[0..n) from the relay: opens, checks, applies
 * in one transaction.  Returns 0 when the envelope may be acknowledged
 * (taken, a duplicate, or refused: the listener heard which); a local
 * failure otherwise (message set; the envelope stays at the relay). */
static int
take_envelope(tally *t, mail_run *mr, const unsigned char *e, size_t n)
{
	const tly_ident *me = tly_my_ident(t);
	tly_letter       l;
	tly_mail_body    b;
	tly_buf          lb = TLY_BUF_INIT;
	char             who[300], lhex[TLY_HEX_LEN(TLY_LETTER_ID_BYTES) + 1];
	int              why = TLY_WHY_NONE, dup, out = MAIL_TAKEN, rv;

	if (me == NULL)
		return (TALLY_ENOTINIT);
	if ((rv = tly_envelope_open(&lb, e, n, me, &why)) != 0) {
		if (rv == TALLY_ENOMEM)
			goto out;
		mr->st->rejected++;
		tly_mail_say(mr, "rejected", NULL,
		    "dropped an envelope that is not for you: it does not "
		    "open with your key (%s)",
		    tly_why_str(why));
		rv = 0;
		goto out;
	}
	if ((rv = tly_letter_decode(&l, lb.p, lb.len, &why)) != 0 ||
	    (rv = tly_letter_verify(&l, lb.p, lb.len, &why)) != 0) {
		mr->st->rejected++;
		tly_mail_say(mr, "rejected", NULL,
		    "dropped a letter that is %s: %s",
		    rv == TALLY_ECRYPTO ? "forged or damaged (its signature "
		                          "does not verify)"
		                        : "malformed",
		    tly_why_str(why));
		rv = 0;
		goto out;
	}
	(void) tly_mail_who(t, l.from, who, sizeof who, NULL);
	if (sodium_memcmp(l.to, tly_ident_pk(me), TLY_PK_BYTES) != 0) {
		mr->st->rejected++;
		tly_mail_say(mr, "rejected", NULL,
		    "dropped a letter from %s addressed to someone else "
		    "(sealed to you, but written for another key: forwarded "
		    "or replayed from another mailbox)",
		    who);
		rv = 0;
		goto out;
	}
	if ((rv = tly_mail_body_decode(
	         &b, l.type, l.body, l.body_len, &why)) != 0) {
		mr->st->rejected++;
		tly_mail_say(mr, "rejected", NULL,
		    "dropped a malformed %s letter from %s: %s",
		    tly_letter_type_name(l.type), who, tly_why_str(why));
		rv = 0;
		goto out;
	}
	/* Checked inside the transaction, so that two syncs of one replica
	 * at once take a letter in once. */
	if ((rv = tly_begin(t)) != 0)
		goto out;
	if ((rv = seen(t, l.id, &dup)) != 0) {
		tly_rollback(t);
		goto out;
	}
	if (dup) {
		tly_rollback(t);
		tly_hex_encode(lhex, l.id, sizeof l.id);
		mr->st->duplicates++;
		tly_mail_say(mr, "duplicate", NULL,
		    "dropped a %s letter from %s taken in before (letter "
		    "%.8s): a duplicate delivery or a replay, nothing changed",
		    tly_letter_type_name(l.type), who, lhex);
		goto out;
	}
	t->err[0] = '\0';
	switch (l.type) {
	case TLY_L_PROPOSE:
		rv = take_propose(t, mr, &l, &b, &out);
		break;
	case TLY_L_CONFIRM:
		rv = take_confirm(t, mr, &l, &b, &out);
		break;
	case TLY_L_DECLINE:
		rv = take_decline(t, mr, &l, &b, &out);
		break;
	case TLY_L_REVOKE:
		rv = take_revoke(t, mr, &l, &b, &out);
		break;
	default:
		rv = tly_mail_intro_take(t, mr, &l, &b, &out);
		break;
	}
	if (rv == 0)
		rv = seen_add(t, &l);
	if (rv != 0) {
		tly_rollback(t);
		if (local_failure(rv))
			goto out;
		mr->st->rejected++;
		tly_mail_say(mr, "rejected", NULL,
		    "refused a %s letter from %s: %s (nothing was changed)",
		    tly_letter_type_name(l.type), who,
		    t->err[0] ? t->err : tally_strerror(rv));
		rv = 0;
		goto out;
	}
	if ((rv = tly_commit(t)) != 0)
		goto out;
	if (out == MAIL_TAKEN)
		mr->st->received++;
	else
		mr->st->duplicates++;
out:
	sodium_memzero(lb.p, lb.len);
	tly_buf_free(&lb);
	return (rv);
}

/* -- Sync -------------------------------------------------------------- */

static int
outbox_done(tally *t, sqlite3_int64 rid)
{
	sqlite3_stmt *st;

	if ((st = tly_stmt(t, "DELETE FROM mail_outbox WHERE rid = ?1")) ==
	    NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_int64(st, 1, rid);
	return (tly_step_done(t, st, "emptying the outbox"));
}

static int
outbox_failed(tally *t, sqlite3_int64 rid, const char *err)
{
	sqlite3_stmt *st;

	st = tly_stmt(t,
	    "UPDATE mail_outbox SET tries = tries + 1, error = ?2"
	    " WHERE rid = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_int64(st, 1, rid);
	tly_bind_text(st, 2, err);
	return (tly_step_done(t, st, "updating the outbox"));
}

/* One queued envelope, copied out of the statement. */
typedef struct queued {
	sqlite3_int64  rid;
	unsigned char  to[TLY_PK_BYTES];
	unsigned char *env;
	size_t         len;
	char           what[400];
	char           ref[HEX_ID_LEN + 1];
} queued;

/* The oldest queued envelope after rid, or found = 0. */
static int
outbox_next(tally *t, queued *q, sqlite3_int64 after, int *found)
{
	sqlite3_stmt *st;
	int           rc, rv = 0;

	*found = 0;
	st     = tly_stmt(t,
	        "SELECT rid, recipient, envelope, what, ref FROM mail_outbox"
	            " WHERE rid > ?1 ORDER BY rid LIMIT 1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	sqlite3_bind_int64(st, 1, after);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		q->rid = sqlite3_column_int64(st, 0);
		q->len = (size_t) sqlite3_column_bytes(st, 2);
		if (sqlite3_column_bytes(st, 1) != TLY_PK_BYTES ||
		    (q->env = malloc(q->len + 1)) == NULL) {
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
		} else {
			memcpy(
			    q->to, sqlite3_column_blob(st, 1), TLY_PK_BYTES);
			memcpy(q->env, sqlite3_column_blob(st, 2), q->len);
			snprintf(q->what, sizeof q->what, "%s",
			    tly_col_text(st, 3));
			snprintf(q->ref, sizeof q->ref, "%s",
			    tly_col_text(st, 4) ? tly_col_text(st, 4) : "");
			*found = 1;
		}
	} else if (rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading the outbox");
	sqlite3_reset(st);
	return (rv);
}

/* Puts every queued envelope; each leaves the queue once the relay
 * acknowledged it.  A relay that does not answer stops the run. */
static int
send_queue(tally *t, tly_relay *r, mail_run *mr, const char *url)
{
	sqlite3_int64 after = 0;
	queued        q;
	int           found, rv;

	for (;;) {
		memset(&q, 0, sizeof q);
		if ((rv = outbox_next(t, &q, after, &found)) != 0 || !found)
			return (rv);
		after = q.rid;
		rv    = tly_relay_put(r, q.to, q.env, q.len, NULL, NULL);
		free(q.env);
		if (rv == 0) {
			if ((rv = outbox_done(t, q.rid)) != 0)
				return (rv);
			mr->st->sent++;
			tly_mail_say(mr, "sent", q.ref[0] ? q.ref : NULL,
			    "sent %s", q.what);
			continue;
		}
		if (rv == TALLY_ECONNREF || rv == TALLY_ETIMEDOUT ||
		    rv == TALLY_EAUTH || rv == TALLY_EBUSY ||
		    rv == TALLY_ERATE || rv == TALLY_EPROTO)
			return (tly_seterr(
			    t, rv, "%s: %s", url, tly_relay_errmsg(r)));
		(void) outbox_failed(t, q.rid, tly_relay_errmsg(r));
		tly_mail_say(mr, "unsent", q.ref[0] ? q.ref : NULL,
		    "could not send %s: %s%s; it stays queued", q.what,
		    rv == TALLY_ENOENT ? "the recipient has no mailbox at "
		                         "this relay (not registered there "
		                         "yet)"
		                       : "",
		    rv == TALLY_ENOENT ? "" : tly_relay_errmsg(r));
	}
}

/* Envelopes are acknowledged (deleted at the relay) only after what
 * they brought is committed: with synchronous=FULL, so that the commit
 * survives a power cut too, not only a crash of this process.  Returns
 * the level to restore. */
static int
sync_full(tally *t)
{
	sqlite3_stmt *st;
	int           level = 1; /* NORMAL */

	if (sqlite3_prepare_v2(t->db, "PRAGMA synchronous", -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			level = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	(void) sqlite3_exec(
	    t->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	return (level);
}

static void
sync_restore(tally *t, int level)
{
	char sql[40];

	snprintf(sql, sizeof sql, "PRAGMA synchronous=%d", level);
	(void) sqlite3_exec(t->db, sql, NULL, NULL, NULL);
}

/* Lists, fetches, takes in and acknowledges what waits in my mailbox. */
static int
take_mailbox(
    tally *t, tly_relay *r, mail_run *mr, const char *url, uint64_t *head)
{
	struct tly_relay_mail *items = NULL;
	unsigned char         *acks  = NULL;
	size_t                 n, nack;
	uint64_t               after = 0;
	int                    more = 1, rv = 0;

	while (more) {
		if ((rv = tly_relay_list(
		         r, after, LIST_PAGE, &items, &n, &more)) != 0)
			return (tly_seterr(
			    t, rv, "%s: %s", url, tly_relay_errmsg(r)));
		if (n == 0) {
			free(items);
			break;
		}
		if ((acks = malloc(n * TLY_MAIL_ID_BYTES)) == NULL) {
			free(items);
			return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
		}
		nack = 0;
		for (size_t i = 0; i < n && rv == 0; i++) {
			unsigned char *env;
			size_t         len;

			if (items[i].seq > after)
				after = items[i].seq;
			if (items[i].seq > *head)
				*head = items[i].seq;
			rv = tly_relay_fetch(r, items[i].id, &env, &len);
			if (rv == TALLY_ENOENT) { /* gone meanwhile */
				rv = 0;
				continue;
			}
			if (rv != 0) {
				rv = tly_seterr(
				    t, rv, "%s: %s", url, tly_relay_errmsg(r));
				break;
			}
			rv = take_envelope(t, mr, env, len);
			free(env);
			if (rv == 0)
				memcpy(acks + nack++ * TLY_MAIL_ID_BYTES,
				    items[i].id, TLY_MAIL_ID_BYTES);
		}
		/* Acknowledged only now: what was taken in is committed. */
		if (nack > 0) {
			int arv = tly_relay_ack(r, acks, nack, NULL);
			if (arv != 0 && rv == 0)
				rv = tly_seterr(t, arv, "%s: %s", url,
				    tly_relay_errmsg(r));
		}
		free(acks);
		free(items);
		acks  = NULL;
		items = NULL;
		if (rv != 0)
			return (rv);
	}
	return (0);
}

static int
receive(tally *t, tly_relay *r, mail_run *mr, const char *url, uint64_t *head)
{
	int level = sync_full(t), rv;

	rv = take_mailbox(t, r, mr, url, head);
	sync_restore(t, level);
	return (rv);
}

int
tally_mail_sync(
    tally *t, tally_mail_stats *st, unsigned wait, tally_mail_fn fn, void *arg)
{
	struct tly_relay_info info;
	tally_mail_stats      dummy;
	mail_run              mr;
	tly_relay            *r = NULL;
	char                  url[TALLY_URL_MAX];
	uint64_t              head = 0, got;
	unsigned              before;
	int                   rv;

	if (st == NULL)
		st = &dummy;
	memset(st, 0, sizeof *st);
	mr.st  = st;
	mr.fn  = fn;
	mr.arg = arg;
	if (t->me[0] == '\0')
		return (tly_seterr(t, TALLY_ENOTINIT,
		    "the replica has no user yet (run 'tally init')"));
	if ((rv = tly_relay_connect(t, &r, url)) != 0)
		goto out;
	if ((rv = send_queue(t, r, &mr, url)) != 0)
		goto out;
	before = st->received + st->duplicates + st->rejected;
	if ((rv = receive(t, r, &mr, url, &head)) != 0)
		goto out;
	if (wait > 0 &&
	    st->received + st->duplicates + st->rejected == before) {
		if ((rv = tly_relay_info(r, &info)) != 0) {
			rv = tly_seterr(
			    t, rv, "%s: %s", url, tly_relay_errmsg(r));
			goto out;
		}
		if (info.mail_head > head)
			head = info.mail_head;
		rv = tly_relay_wait(r, head, UINT64_MAX, wait, &got, NULL);
		if (rv != 0) {
			rv = tly_seterr(
			    t, rv, "%s: %s", url, tly_relay_errmsg(r));
			goto out;
		}
		if (got > head && (rv = receive(t, r, &mr, url, &head)) != 0)
			goto out;
	}
	/* Taking letters in may have queued answers: send them now. */
	rv = send_queue(t, r, &mr, url);
out:
	tly_relay_close(r);
	if (tally_mail_queued(t, &st->queued) != 0)
		st->queued = 0;
	return (rv);
}
