/*
 * mail_intro.c -- double opt-in introductions through the relay
 * (PROTOCOL.md, part 9.5).
 *
 * The introducer I asks each of A and B separately; nothing about one of
 * them reaches the other until both said yes:
 *
 *   I -> A, I -> B  ASK      intro id, date, I's note (nothing else)
 *   A -> I          CONSENT  (or DECLINE with a reason only I reads)
 *   I -> A, I -> B  RECORD   once both consented: the record, signed by I
 *   A -> B          HELLO    the record signed by A, and A's card
 *   A -> I          SIGNED   the record signed by A
 *   (B likewise)
 *
 * A decline, or I withdrawing, sends CANCEL to whoever is still waiting:
 * it says only that the introduction did not go ahead.  The record's
 * nonce is the introduction id, so the record each signs is the one the
 * request announced (same id, date and note, same introducer).  Each
 * step is taken at most once per replica; a step that comes late or
 * twice changes nothing.  The introduction row (table introduction) has
 * the introduction id as its id in all three replicas.
 *
 * States (mail_intro.state): introducer: asked -> consented (both said
 * yes) -> made (all three signed), or declined (by one of them) or
 * cancelled (withdrawn); introduced: asked -> consented -> made, or
 * declined (by me) or cancelled (it did not go ahead).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mail_int.h"
#include "tly_buf.h"
#include "tly_enc.h"

#define IID_LEN TALLY_INTRO_ID_LEN

_Static_assert(IID_LEN == TLY_HEX_LEN(TLY_INTRO_ID_BYTES), "intro id");
_Static_assert(IID_LEN == TALLY_ID_LEN, "an intro id is a row id");

/* One row of mail_intro. */
typedef struct irow {
	int           found;
	char          id[IID_LEN + 1];
	int           introducer; /* my role: 1 introducer, 0 introduced */
	unsigned char by[TLY_PK_BYTES];
	unsigned char a[TLY_PK_BYTES], b[TLY_PK_BYTES]; /* introducer's */
	unsigned char other[TLY_PK_BYTES];              /* introduced's */
	int           has_other;
	int           ans_a, ans_b;
	char          state[16];
	int64_t       created;
	char          happened[TLY_DATE_LEN];
	char          note[TLY_REC_TEXT_MAX + 1];
	char          share[64];
	tly_signed    s;
	int           has_signed;
} irow;

static int
blob32(sqlite3_stmt *st, int col, unsigned char *out)
{
	if (sqlite3_column_bytes(st, col) != TLY_PK_BYTES)
		return (0);
	memcpy(out, sqlite3_column_blob(st, col), TLY_PK_BYTES);
	return (1);
}

static int
irow_get(tally *t, irow *r, const char *id)
{
	sqlite3_stmt *st;
	int           rc, rv = 0;

	memset(r, 0, sizeof *r);
	st = tly_stmt(t,
	    "SELECT id, role, introducer, a, b, other, ans_a, ans_b, state,"
	    " created, happened, note, share, signed FROM mail_intro"
	    " WHERE id = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r->found = 1;
		snprintf(r->id, sizeof r->id, "%s", tly_col_text(st, 0));
		r->introducer = strcmp(tly_col_text(st, 1), "introducer") == 0;
		(void) blob32(st, 2, r->by);
		(void) blob32(st, 3, r->a);
		(void) blob32(st, 4, r->b);
		r->has_other = blob32(st, 5, r->other);
		r->ans_a     = sqlite3_column_int(st, 6);
		r->ans_b     = sqlite3_column_int(st, 7);
		snprintf(r->state, sizeof r->state, "%s", tly_col_text(st, 8));
		r->created = sqlite3_column_int64(st, 9);
		snprintf(r->happened, sizeof r->happened, "%s",
		    tly_col_text(st, 10));
		snprintf(r->note, sizeof r->note, "%s", tly_col_text(st, 11));
		if (tly_col_text(st, 12) != NULL)
			snprintf(r->share, sizeof r->share, "%s",
			    tly_col_text(st, 12));
		if (sqlite3_column_type(st, 13) != SQLITE_NULL) {
			r->has_signed = 1;
			if (tly_signed_decode(&r->s,
			        sqlite3_column_blob(st, 13),
			        (size_t) sqlite3_column_bytes(st, 13),
			        NULL) != 0)
				rv = tly_seterr(t, TALLY_ECORRUPT,
				    "introduction %.8s is damaged", id);
		}
	} else if (rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading introductions");
	sqlite3_reset(st);
	return (rv);
}

/* Sets the state of introduction id (and, when not NULL, its signed
 * record, reason, share, other key). */
static int
irow_set(tally *t, const char *id, const char *state, const tly_signed *s,
    const char *reason, const char *share, const unsigned char *other)
{
	sqlite3_stmt *st;
	tly_buf       b = TLY_BUF_INIT;
	int           rv;

	if (s != NULL && tly_signed_encode(&b, s) != 0)
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	st = tly_stmt(t,
	    "UPDATE mail_intro SET state = ?2, signed = coalesce(?3, signed),"
	    " reason = coalesce(?4, reason), share = coalesce(?5, share),"
	    " other = coalesce(?6, other), updated = ?7 WHERE id = ?1");
	if (st == NULL) {
		tly_buf_free(&b);
		return (TALLY_EINTERNAL);
	}
	tly_bind_text(st, 1, id);
	tly_bind_text(st, 2, state);
	if (s != NULL)
		sqlite3_bind_blob(st, 3, b.p, (int) b.len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 3);
	tly_bind_text(st, 4, reason);
	tly_bind_text(st, 5, share);
	if (other != NULL)
		sqlite3_bind_blob(
		    st, 6, other, TLY_PK_BYTES, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_int64(st, 7, tly_now());
	rv = tly_step_done(t, st, "updating an introduction");
	tly_buf_free(&b);
	return (rv);
}

/* Records the introduction row id (the introduction id) with status. */
static int
intro_row(tally *t, const char *id, const char *by, const char *a,
    const char *b, const char *note, const char *status)
{
	sqlite3_stmt *st;
	int64_t       now = tly_now();

	st = tly_stmt(t,
	    "INSERT INTO introduction(id, by, a, b, note, status, created,"
	    " updated) VALUES (?1, ?2, ?3, ?4, nullif(?5, ''), ?6, ?7, ?7)"
	    " ON CONFLICT(id) DO UPDATE SET status = ?6, updated = ?7");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	tly_bind_text(st, 2, by);
	tly_bind_text(st, 3, a);
	tly_bind_text(st, 4, b);
	tly_bind_text(st, 5, note);
	tly_bind_text(st, 6, status);
	sqlite3_bind_int64(st, 7, now);
	return (tly_step_done(t, st, "recording an introduction"));
}

static int
intro_status(tally *t, const char *id, const char *status)
{
	sqlite3_stmt *st;

	st = tly_stmt(t,
	    "UPDATE introduction SET status = ?2, updated = ?3 WHERE id = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	tly_bind_text(st, 2, status);
	sqlite3_bind_int64(st, 3, tly_now());
	return (tly_step_done(t, st, "updating an introduction"));
}

/* The favor an introduction means: giver introduced receiver. */
static int
intro_favor(tally *t, const char *intro, const char *giver,
    const char *receiver, const char *note)
{
	tally_favor f;
	char        fid[TALLY_ID_LEN + 1];

	memset(&f, 0, sizeof f);
	f.giver    = giver;
	f.receiver = receiver;
	f.kind     = "introduction";
	f.status   = "done";
	f.weight   = TALLY_UNSET;
	f.note     = note[0] ? note : NULL;
	f.intro    = intro;
	return (tally_favor_add(t, fid, &f));
}

int
tally_intro_resolve(tally *t, char *id, const char *spec)
{
	sqlite3_stmt *st;
	char          lower[IID_LEN + 1];
	size_t        len = strlen(spec);
	int           rc, n = 0;

	if (len < TLY_MIN_PREFIX || len > IID_LEN)
		return (tly_seterr(t, TALLY_ENOENT,
		    "no introduction '%.80s' (give 4 to 32 hex characters "
		    "of its id)",
		    spec));
	for (size_t i = 0; i <= len; i++) {
		char c = spec[i];
		if (c >= 'A' && c <= 'F')
			c = (char) (c - 'A' + 'a');
		if (i < len &&
		    !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return (tly_seterr(t, TALLY_ENOENT,
			    "no introduction '%.80s' (an id is hex)", spec));
		lower[i] = c;
	}
	st = tly_stmt(t,
	    "SELECT id FROM mail_intro WHERE id >= ?1 AND id < ?1 || 'g'"
	    " LIMIT 2");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, lower);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (n++ == 0)
			snprintf(id, IID_LEN + 1, "%s", tly_col_text(st, 0));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (tly_dberr(t, "reading introductions"));
	if (n > 1)
		return (tly_seterr(t, TALLY_EAMBIG,
		    "'%s' matches several introductions: give more of the "
		    "id",
		    spec));
	if (n == 0)
		return (tly_seterr(t, TALLY_ENOENT,
		    "no introduction '%s' ('tally inbox' lists the requests "
		    "waiting for you, 'tally intro list' the introductions)",
		    spec));
	return (0);
}

/* -- The introducer's side --------------------------------------------- */

/* Queues a letter of type about introduction r to pk. */
static int
queue_to(tally *t, const irow *r, int type, const unsigned char *pk,
    const tly_mail_body *b, const char *what)
{
	char who[300], words[600];

	(void) tly_mail_who(t, pk, who, sizeof who, NULL);
	snprintf(words, sizeof words, "%s %.8s to %s", what, r->id, who);
	return (tly_mail_queue(t, type, pk, b, r->id, words));
}

int
tally_intro_propose(
    tally *t, char *id, const char *a, const char *b, const char *note)
{
	const tly_ident *me;
	unsigned char    apk[TLY_PK_BYTES], bpk[TLY_PK_BYTES];
	tly_record       rec;
	tly_signed       s;
	tly_mail_body    body;
	tly_buf          c = TLY_BUF_INIT;
	irow             r;
	char             today[TLY_DATE_LEN];
	sqlite3_stmt    *st;
	int              why = TLY_WHY_NONE, rv;

	if (t->me[0] == '\0')
		return (tly_seterr(t, TALLY_ENOTINIT,
		    "the replica has no user yet (run 'tally init')"));
	if (a == NULL || b == NULL || strcmp(a, b) == 0)
		return (tly_seterr(t, TALLY_EINVAL,
		    "an introduction is between two different people"));
	if (strcmp(a, t->me) == 0 || strcmp(b, t->me) == 0)
		return (tly_seterr(t, TALLY_EINVAL,
		    "you introduce two other people, not yourself"));
	if (note == NULL)
		note = "";
	if (strlen(note) > TLY_REC_TEXT_MAX)
		return (tly_seterr(t, TALLY_EINVAL,
		    "the note is too long (%zu bytes, at most %d)",
		    strlen(note), TLY_REC_TEXT_MAX));
	if ((rv = tly_peer_pk(t, a, apk)) != 0 ||
	    (rv = tly_peer_pk(t, b, bpk)) != 0)
		return (rv);
	if ((me = tly_my_ident(t)) == NULL)
		return (TALLY_ENOTINIT);
	if ((rv = tly_record_init(&rec, TLY_REC_INTRODUCTION, tly_now())) != 0)
		return (tly_seterr(t, TALLY_EINTERNAL, "bad record kind"));
	memcpy(rec.parties[0].pk, tly_ident_pk(me), TLY_PK_BYTES);
	memcpy(rec.parties[1].pk, apk, TLY_PK_BYTES);
	memcpy(rec.parties[2].pk, bpk, TLY_PK_BYTES);
	tly_time_date(tly_now(), today);
	if (tly_date_parse(&rec.date, today) != 0)
		return (tly_seterr(t, TALLY_EINTERNAL, "bad date %s", today));
	memcpy(rec.text, note, strlen(note) + 1);
	if ((rv = tly_signed_init(&s, &rec, &why)) != 0)
		return (tly_seterr(t, rv == TALLY_ENOMEM ? rv : TALLY_EINVAL,
		    "cannot make the introduction: the note: %s",
		    tly_why_str(why)));
	if (tly_signed_sign(&s, me, NULL) != 0 || tly_signed_encode(&c, &s))
		return (tly_seterr(t, TALLY_EINTERNAL, "cannot sign"));
	memset(&r, 0, sizeof r);
	tly_hex_encode(r.id, s.rec.nonce, TLY_INTRO_ID_BYTES);
	if ((rv = tly_begin(t)) != 0)
		goto out;
	if ((rv = intro_row(t, r.id, t->me, a, b, note, "proposed")) != 0)
		goto fail;
	st = tly_stmt(t,
	    "INSERT INTO mail_intro(id, role, introducer, a, b, state,"
	    " created, happened, note, signed, intro, received, updated)"
	    " VALUES (?1, 'introducer', ?2, ?3, ?4, 'asked', ?5, ?6, ?7, ?8,"
	    " ?1, ?9, ?9)");
	if (st == NULL) {
		rv = TALLY_EINTERNAL;
		goto fail;
	}
	tly_bind_text(st, 1, r.id);
	sqlite3_bind_blob(
	    st, 2, tly_ident_pk(me), TLY_PK_BYTES, SQLITE_TRANSIENT);
	sqlite3_bind_blob(
	    st, 3, s.rec.parties[1].pk, TLY_PK_BYTES, SQLITE_TRANSIENT);
	sqlite3_bind_blob(
	    st, 4, s.rec.parties[2].pk, TLY_PK_BYTES, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, s.rec.created);
	tly_bind_text(st, 6, today);
	tly_bind_text(st, 7, note);
	sqlite3_bind_blob(st, 8, c.p, (int) c.len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 9, tly_now());
	if ((rv = tly_step_done(t, st, "recording an introduction")) != 0)
		goto fail;
	memset(&body, 0, sizeof body);
	memcpy(body.intro, s.rec.nonce, TLY_INTRO_ID_BYTES);
	body.created = s.rec.created;
	body.date    = s.rec.date;
	memcpy(body.text, note, strlen(note) + 1);
	if ((rv = queue_to(t, &r, TLY_L_INTRO_ASK, s.rec.parties[1].pk, &body,
	         "your request for consent to introduction")) != 0 ||
	    (rv = queue_to(t, &r, TLY_L_INTRO_ASK, s.rec.parties[2].pk, &body,
	         "your request for consent to introduction")) != 0)
		goto fail;
	if ((rv = tly_commit(t)) == 0)
		memcpy(id, r.id, sizeof r.id);
	goto out;
fail:
	tly_rollback(t);
out:
	tly_buf_free(&c);
	return (rv);
}

/* Which of the two introduced pk is in r: 0 (a), 1 (b), -1 neither. */
static int
which(const irow *r, const unsigned char *pk)
{
	if (sodium_memcmp(r->a, pk, TLY_PK_BYTES) == 0)
		return (0);
	if (sodium_memcmp(r->b, pk, TLY_PK_BYTES) == 0)
		return (1);
	return (-1);
}

static int
set_answer(tally *t, const char *id, int k, int ans)
{
	sqlite3_stmt *st;

	st = tly_stmt(t,
	    k == 0 ? "UPDATE mail_intro SET ans_a = ?2 WHERE id = ?1"
	           : "UPDATE mail_intro SET ans_b = ?2 WHERE id = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	sqlite3_bind_int(st, 2, ans);
	return (tly_step_done(t, st, "recording an answer"));
}

/* Both said yes: the record goes to each of them. */
static int
send_record(tally *t, const irow *r)
{
	tly_mail_body body;
	tly_buf       c = TLY_BUF_INIT;
	int           rv;

	if (!r->has_signed || tly_signed_encode(&c, &r->s) != 0)
		return (tly_seterr(t, TALLY_ECORRUPT,
		    "introduction %.8s has no record", r->id));
	memset(&body, 0, sizeof body);
	body.rec     = c.p;
	body.rec_len = c.len;
	if ((rv = queue_to(t, r, TLY_L_INTRO_RECORD, r->a, &body,
	         "the record of introduction")) == 0)
		rv = queue_to(t, r, TLY_L_INTRO_RECORD, r->b, &body,
		    "the record of introduction");
	tly_buf_free(&c);
	return (rv);
}

/* Tells whoever of the two is still in that it did not go ahead. */
static int
send_cancel(tally *t, const irow *r, int skip)
{
	tly_mail_body body;
	int           rv = 0;

	memset(&body, 0, sizeof body);
	if (tly_hex_decode(body.intro, sizeof body.intro, r->id) != 0)
		return (tly_seterr(t, TALLY_ECORRUPT, "bad introduction id"));
	if (skip != 0)
		rv = queue_to(t, r, TLY_L_INTRO_CANCEL, r->a, &body,
		    "the news that it did not go ahead, of introduction");
	if (rv == 0 && skip != 1)
		rv = queue_to(t, r, TLY_L_INTRO_CANCEL, r->b, &body,
		    "the news that it did not go ahead, of introduction");
	return (rv);
}

static int
take_consent(tally *t, mail_run *mr, irow *r, const tly_letter *l, int *out)
{
	char who[300];
	int  k = which(r, l->from), rv;

	if (k < 0)
		return (tly_seterr(t, TALLY_EPERM,
		    "a consent to introduction %.8s from someone it does not "
		    "introduce",
		    r->id));
	(void) tly_mail_who(t, l->from, who, sizeof who, NULL);
	if (strcmp(r->state, "asked") != 0 || (k == 0 ? r->ans_a : r->ans_b)) {
		*out = MAIL_NOTHING;
		tly_mail_say(mr, "received", r->id,
		    "%s consented to introduction %.8s, which is %s", who,
		    r->id,
		    strcmp(r->state, "declined") == 0 ||
		            strcmp(r->state, "cancelled") == 0
		        ? "not going ahead: nothing to do"
		        : "under way already");
		return (0);
	}
	if ((rv = set_answer(t, r->id, k, 1)) != 0)
		return (rv);
	if ((k == 0 ? r->ans_b : r->ans_a) != 1) {
		tly_mail_say(mr, "received", r->id,
		    "%s consented to introduction %.8s; waiting for the "
		    "other",
		    who, r->id);
		return (0);
	}
	if ((rv = irow_set(t, r->id, "consented", NULL, NULL, NULL, NULL)) !=
	        0 ||
	    (rv = send_record(t, r)) != 0)
		return (rv);
	tly_mail_say(mr, "received", r->id,
	    "%s consented to introduction %.8s: both said yes, the record "
	    "goes to each of them to sign",
	    who, r->id);
	return (0);
}

static int
take_decline(tally *t, mail_run *mr, irow *r, const tly_letter *l,
    const tly_mail_body *b, int *out)
{
	char who[300];
	int  k = which(r, l->from), rv;

	if (k < 0)
		return (tly_seterr(t, TALLY_EPERM,
		    "a decline of introduction %.8s from someone it does not "
		    "introduce",
		    r->id));
	(void) tly_mail_who(t, l->from, who, sizeof who, NULL);
	if (strcmp(r->state, "asked") != 0 &&
	    strcmp(r->state, "consented") != 0) {
		*out = MAIL_NOTHING;
		tly_mail_say(mr, "received", r->id,
		    "%s declined introduction %.8s, which is %s already", who,
		    r->id, r->state);
		return (0);
	}
	if ((rv = set_answer(t, r->id, k, -1)) != 0 ||
	    (rv = irow_set(t, r->id, "declined", NULL, b->text, NULL, NULL)) !=
	        0 ||
	    (rv = intro_status(t, r->id, "declined")) != 0 ||
	    (rv = send_cancel(t, r, k)) != 0)
		return (rv);
	tly_mail_say(mr, "received", r->id,
	    "%s declined introduction %.8s%s%s; the other side will learn "
	    "only that it did not go ahead",
	    who, r->id, b->text[0] ? ": " : "", b->text);
	return (0);
}

static int
introducer_made(tally *t, mail_run *mr, irow *r, const tly_signed *s)
{
	sqlite3_stmt *st;
	char          a[TALLY_ID_LEN + 1] = "", b[TALLY_ID_LEN + 1] = "";
	char          an[200] = "", bn[200] = "";
	int           rc, rv;

	st = tly_stmt(t,
	    "SELECT i.a, pa.name, i.b, pb.name FROM introduction i"
	    " JOIN person pa ON pa.id = i.a JOIN person pb ON pb.id = i.b"
	    " WHERE i.id = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, r->id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(a, sizeof a, "%s", tly_col_text(st, 0));
		snprintf(an, sizeof an, "%s", tly_col_text(st, 1));
		snprintf(b, sizeof b, "%s", tly_col_text(st, 2));
		snprintf(bn, sizeof bn, "%s", tly_col_text(st, 3));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (tly_dberr(t, "reading an introduction"));
	if ((rv = irow_set(t, r->id, "made", s, NULL, NULL, NULL)) != 0)
		return (rv);
	if (a[0] != '\0') { /* the people are still in the replica */
		if ((rv = intro_status(t, r->id, "made")) != 0 ||
		    (rv = intro_favor(t, r->id, t->me, a, r->note)) != 0 ||
		    (rv = intro_favor(t, r->id, t->me, b, r->note)) != 0)
			return (rv);
	}
	tly_mail_say(mr, "received", r->id,
	    "introduction %.8s is made: %s and %s both signed it; your "
	    "ledger counts the favor",
	    r->id, an[0] ? an : "both", bn[0] ? bn : "people");
	return (0);
}

static int
take_signed(tally *t, mail_run *mr, irow *r, const tly_letter *l,
    const tly_signed *s, const tly_verify *v, int *out)
{
	char who[300];
	int  k = which(r, l->from), p;

	if (k < 0 || !r->has_signed ||
	    sodium_memcmp(s->id, r->s.id, TLY_REC_ID_BYTES) != 0)
		return (tly_seterr(t, TALLY_EPERM,
		    "a signature of introduction %.8s that is not of its "
		    "record, or not from one of the two",
		    r->id));
	p = tly_record_party(&s->rec, l->from);
	if (p < 0 || v->state[p] != TLY_SIG_VALID)
		return (tly_seterr(t, TALLY_ECRYPTO,
		    "the record in it is not signed by its sender"));
	(void) tly_mail_who(t, l->from, who, sizeof who, NULL);
	if (strcmp(r->state, "consented") != 0) {
		*out = MAIL_NOTHING;
		tly_mail_say(mr, "received", r->id,
		    "%s signed introduction %.8s, which is %s", who, r->id,
		    r->state);
		return (0);
	}
	if (tly_signed_add(&r->s, l->from, s->sig[p], NULL) != 0)
		return (tly_seterr(t, TALLY_EEXIST,
		    "another signature by %s for introduction %.8s", who,
		    r->id));
	{
		tly_verify all;
		if (tly_signed_verify(&r->s, &all, NULL) != 0)
			return (tly_seterr(
			    t, TALLY_ECRYPTO, "a signature does not verify"));
		if (all.complete)
			return (introducer_made(t, mr, r, &r->s));
	}
	tly_mail_say(mr, "received", r->id,
	    "%s signed introduction %.8s; waiting for the other", who, r->id);
	return (irow_set(t, r->id, "consented", &r->s, NULL, NULL, NULL));
}

/* -- The side of each introduced person -------------------------------- */

/* Checks that s is the record introduction r announced: its introducer,
 * id, creation time, date and note, with me one of the introduced and
 * the introducer's signature valid. */
static int
intro_matches(tally *t, const irow *r, const tly_signed *s,
    const tly_verify *v, int *mine)
{
	unsigned char me[TLY_PK_BYTES], nonce[TLY_INTRO_ID_BYTES];
	char          date[TLY_DATE_LEN];
	int           rv;

	if ((rv = tly_my_pk(t, me)) != 0)
		return (rv);
	tly_date_format(date, &s->rec.date);
	if (s->rec.kind != TLY_REC_INTRODUCTION ||
	    tly_hex_decode(nonce, sizeof nonce, r->id) != 0 ||
	    sodium_memcmp(s->rec.nonce, nonce, sizeof nonce) != 0 ||
	    sodium_memcmp(s->rec.parties[0].pk, r->by, TLY_PK_BYTES) != 0 ||
	    s->rec.created != r->created || strcmp(date, r->happened) != 0 ||
	    strcmp(s->rec.text, r->note) != 0)
		return (tly_seterr(t, TALLY_EFORMAT,
		    "the introduction record differs from what was asked "
		    "(introducer, id, date or note): refused"));
	*mine = tly_record_party(&s->rec, me);
	if (*mine < 1)
		return (tly_seterr(t, TALLY_EPERM,
		    "the introduction record does not introduce you"));
	if (v->state[0] != TLY_SIG_VALID)
		return (tly_seterr(t, TALLY_ECRYPTO,
		    "the introduction record is not signed by the "
		    "introducer"));
	return (0);
}

/* The card of me with the fields of share. */
typedef struct card_ctx {
	tly_card   *c;
	const char *share;
} card_ctx;

static int
shared(const char *share, const char *field)
{
	size_t n = strlen(field);

	for (const char *p = share; p != NULL && *p;) {
		const char *e = strchr(p, ',');
		size_t      k = e ? (size_t) (e - p) : strlen(p);
		if (k == n && strncmp(p, field, n) == 0)
			return (1);
		p = e ? e + 1 : NULL;
	}
	return (0);
}

static void
card_put(char *dst, size_t cap, const char *s)
{
	/* A card field is one line of at most cap - 1 bytes, cut at a
	 * character boundary. */
	size_t n = 0;

	if (s == NULL)
		return;
	while (s[n] && s[n] != '\n' && s[n] != '\t' && n < cap - 1)
		n++;
	while (n > 0 && n < strlen(s) && ((unsigned char) s[n] & 0xc0) == 0x80)
		n--;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static int
card_cb(void *arg, const tally_person *p)
{
	card_ctx *cc = arg;
	tly_card *c  = cc->c;

	card_put(c->name, sizeof c->name, p->name);
	if (shared(cc->share, "org"))
		card_put(c->org, sizeof c->org, p->org);
	if (shared(cc->share, "title"))
		card_put(c->title, sizeof c->title, p->title);
	if (shared(cc->share, "url"))
		card_put(c->url, sizeof c->url, p->url);
	if (shared(cc->share, "email"))
		for (size_t i = 0;
		     i < p->emails.n && c->nemails < TLY_CARD_LIST_MAX; i++)
			card_put(c->emails[c->nemails++], sizeof c->emails[0],
			    p->emails.v[i]);
	if (shared(cc->share, "phone"))
		for (size_t i = 0;
		     i < p->phones.n && c->nphones < TLY_CARD_LIST_MAX; i++)
			card_put(c->phones[c->nphones++], sizeof c->phones[0],
			    p->phones.v[i]);
	return (0);
}

static int
my_card(tally *t, tly_buf *out, const char *share)
{
	tly_card c;
	card_ctx cc = { &c, share };
	int      why, rv;

	memset(&c, 0, sizeof c);
	if ((rv = tally_person_get(t, t->me, card_cb, &cc)) != 0)
		return (rv);
	/* Drop what does not encode (empty after cutting) rather than
	 * fail the introduction over it. */
	for (size_t i = c.nemails; i-- > 0;)
		if (c.emails[i][0] == '\0')
			c.nemails--;
	for (size_t i = c.nphones; i-- > 0;)
		if (c.phones[i][0] == '\0')
			c.nphones--;
	if (c.name[0] == '\0')
		snprintf(c.name, sizeof c.name, "%s", "me");
	if ((rv = tly_card_encode(out, &c, &why)) != 0)
		return (tly_seterr(
		    t, rv, "cannot write your card: %s", tly_why_str(why)));
	return (0);
}

/* I consented and the record came (by the introducer's RECORD, or inside
 * the other's HELLO): sign it, send it with my card to the other and my
 * signature to the introducer.  r->s is the signed record after. */
static int
sign_and_send(
    tally *t, mail_run *mr, irow *r, const tly_signed *s, const tly_verify *v)
{
	const tly_ident *me;
	tly_mail_body    body;
	tly_buf          c = TLY_BUF_INIT, card = TLY_BUF_INIT;
	char             what[200];
	int              mine = -1, rv;

	if ((rv = intro_matches(t, r, s, v, &mine)) != 0)
		return (rv);
	if ((me = tly_my_ident(t)) == NULL)
		return (TALLY_ENOTINIT);
	r->s = *s;
	if (tly_signed_sign(&r->s, me, NULL) != 0)
		return (tly_seterr(t, TALLY_EINTERNAL, "cannot sign"));
	r->has_signed = 1;
	memcpy(r->other, r->s.rec.parties[mine == 1 ? 2 : 1].pk, TLY_PK_BYTES);
	r->has_other = 1;
	if ((rv = irow_set(
	         t, r->id, "consented", &r->s, NULL, NULL, r->other)) != 0 ||
	    (rv = tly_signed_encode(&c, &r->s)) != 0 ||
	    (rv = my_card(t, &card, r->share)) != 0)
		goto out;
	memset(&body, 0, sizeof body);
	body.rec      = c.p;
	body.rec_len  = c.len;
	body.card     = card.p;
	body.card_len = card.len;
	/* They are no one here yet: say so without a fingerprint. */
	snprintf(what, sizeof what,
	    "your card and signature, for introduction %.8s, to the other "
	    "person introduced",
	    r->id);
	if ((rv = tly_mail_queue(
	         t, TLY_L_INTRO_HELLO, r->other, &body, r->id, what)) != 0)
		goto out;
	body.card     = NULL;
	body.card_len = 0;
	rv            = queue_to(t, r, TLY_L_INTRO_SIGNED, r->by, &body,
	               "your signature of introduction");
	tly_mail_say(mr, "received", r->id,
	    "introduction %.8s goes ahead: the other person said yes too; "
	    "you signed it, and your card goes to them",
	    r->id);
out:
	if (rv == TALLY_ENOMEM)
		tly_seterr(t, rv, "out of memory");
	tly_buf_free(&c);
	tly_buf_free(&card);
	return (rv);
}

/* Writes "introduced by NAME on DATE: NOTE" to buf. */
static void
how_met(char *buf, size_t n, const char *by, const irow *r)
{
	snprintf(buf, n, "introduced by %s on %s%s%s", by, r->happened,
	    r->note[0] ? ": " : "", r->note);
}

/* All three signed: the other becomes a person here (or is one
 * already), linked to their key, met by this introduction; the
 * introduction and the favor it was are recorded. */
static int
introduced_made(tally *t, mail_run *mr, irow *r, const tly_card *card)
{
	tally_person_in in;
	sqlite3_stmt   *st;
	char            byp[TALLY_ID_LEN + 1], other[TALLY_ID_LEN + 1];
	char            tid[TLY_TALLYID_LEN + 1], hm[1400], *byname = NULL;
	const char     *emails[TLY_CARD_LIST_MAX], *phones[TLY_CARD_LIST_MAX];
	int             fresh = 0, rv;

	if ((rv = tly_peer_find(t, r->by, byp, &byname, NULL)) != 0) {
		if (rv == TALLY_ENOENT)
			rv = tly_seterr(t, rv,
			    "the introducer of %.8s is linked to no one any "
			    "more: link them again first",
			    r->id);
		return (rv);
	}
	how_met(hm, sizeof hm, byname, r);
	tly_tallyid_encode(tid, r->other);
	rv = tly_peer_find(t, r->other, other, NULL, NULL);
	if (rv == TALLY_ENOENT) {
		tally_person_in_init(&in);
		for (size_t i = 0; i < card->nemails; i++)
			emails[i] = card->emails[i];
		for (size_t i = 0; i < card->nphones; i++)
			phones[i] = card->phones[i];
		in.name       = card->name;
		in.org        = card->org[0] ? card->org : NULL;
		in.title      = card->title[0] ? card->title : NULL;
		in.url        = card->url[0] ? card->url : NULL;
		in.how_met    = hm;
		in.add_emails = (tally_strs) { emails, card->nemails };
		in.add_phones = (tally_strs) { phones, card->nphones };
		if ((rv = tally_person_add(t, other, &in)) != 0 ||
		    (rv = tally_peer_add(t, other, tid)) != 0)
			goto out;
		fresh = 1;
	} else if (rv == 0) {
		/* Known already: how we met is set if it was not. */
		st = tly_stmt(t,
		    "UPDATE person SET how_met = ?2, updated = ?3"
		    " WHERE id = ?1 AND (how_met IS NULL OR how_met = '')");
		if (st == NULL) {
			rv = TALLY_EINTERNAL;
			goto out;
		}
		tly_bind_text(st, 1, other);
		tly_bind_text(st, 2, hm);
		sqlite3_bind_int64(st, 3, tly_now());
		if ((rv = tly_step_done(t, st, "updating a person")) != 0)
			goto out;
	} else
		goto out;
	if ((rv = intro_row(t, r->id, byp, t->me, other, r->note, "made")) !=
	        0 ||
	    (rv = intro_favor(t, r->id, byp, t->me, r->note)) != 0)
		goto out;
	st = tly_stmt(
	    t, "UPDATE mail_intro SET person = ?2, intro = ?1 WHERE id = ?1");
	if (st == NULL) {
		rv = TALLY_EINTERNAL;
		goto out;
	}
	tly_bind_text(st, 1, r->id);
	tly_bind_text(st, 2, other);
	if ((rv = tly_step_done(t, st, "updating an introduction")) != 0 ||
	    (rv = irow_set(t, r->id, "made", &r->s, NULL, NULL, NULL)) != 0)
		goto out;
	tly_mail_say(mr, "received", r->id,
	    "introduction %.8s is made: you and %s%s%s%s are introduced by "
	    "%s; all three signed it.  %s is %s your people, how you met: "
	    "%s",
	    r->id, card->name, card->nemails ? " <" : "",
	    card->nemails ? card->emails[0] : "", card->nemails ? ">" : "",
	    byname, card->name, fresh ? "now in" : "already among", hm);
out:
	free(byname);
	return (rv);
}

static int
take_hello(tally *t, mail_run *mr, irow *r, const tly_letter *l,
    const tly_mail_body *b, const tly_signed *s, const tly_verify *v, int *out)
{
	tly_card   card;
	tly_verify all;
	char       who[300];
	int        why = TLY_WHY_NONE, p, rv;

	if (strcmp(r->state, "asked") == 0)
		return (tly_seterr(t, TALLY_ESTATE,
		    "a card for introduction %.8s, which you have not "
		    "consented to: refused",
		    r->id));
	if (strcmp(r->state, "consented") != 0) {
		*out = MAIL_NOTHING;
		tly_mail_say(mr, "received", r->id,
		    "a card for introduction %.8s, which is %s: discarded",
		    r->id, r->state);
		return (0);
	}
	if ((rv = tly_card_decode(&card, b->card, b->card_len, &why)) != 0)
		return (tly_seterr(t, rv, "the card in it is malformed: %s",
		    tly_why_str(why)));
	p = tly_record_party(&s->rec, l->from);
	if (p < 1 || v->state[p] != TLY_SIG_VALID)
		return (tly_seterr(t, TALLY_EPERM,
		    "a card for introduction %.8s from someone it does not "
		    "introduce, or not signed by them",
		    r->id));
	if (!r->has_signed || !r->has_other) {
		/* Their HELLO came before the introducer's RECORD. */
		if ((rv = sign_and_send(t, mr, r, s, v)) != 0)
			return (rv);
	}
	if (sodium_memcmp(s->id, r->s.id, TLY_REC_ID_BYTES) != 0 ||
	    sodium_memcmp(l->from, r->other, TLY_PK_BYTES) != 0)
		return (tly_seterr(t, TALLY_EPERM,
		    "a card for introduction %.8s that is not of its record",
		    r->id));
	if (tly_signed_add(&r->s, l->from, s->sig[p], NULL) != 0 ||
	    tly_signed_verify(&r->s, &all, NULL) != 0)
		return (tly_seterr(
		    t, TALLY_ECRYPTO, "a signature does not verify"));
	(void) tly_mail_who(t, l->from, who, sizeof who, NULL);
	if (!all.complete) {
		/* Without the introducer's signature: cannot happen after
		 * intro_matches; kept for clarity. */
		return (tly_seterr(t, TALLY_ECRYPTO,
		    "the introduction record is not signed by all three"));
	}
	return (introduced_made(t, mr, r, &card));
}

static int
take_record(tally *t, mail_run *mr, irow *r, const tly_letter *l,
    const tly_signed *s, const tly_verify *v, int *out)
{
	if (sodium_memcmp(l->from, r->by, TLY_PK_BYTES) != 0)
		return (tly_seterr(t, TALLY_EPERM,
		    "the record of introduction %.8s from someone who did not "
		    "ask",
		    r->id));
	if (strcmp(r->state, "asked") == 0)
		return (tly_seterr(t, TALLY_ESTATE,
		    "the record of introduction %.8s came before you "
		    "consented: refused",
		    r->id));
	if (strcmp(r->state, "consented") != 0 || r->has_signed) {
		*out = MAIL_NOTHING;
		tly_mail_say(mr, "received", r->id,
		    "the record of introduction %.8s again, which is %s%s",
		    r->id, r->state,
		    strcmp(r->state, "consented") == 0 ? " and signed" : "");
		return (0);
	}
	return (sign_and_send(t, mr, r, s, v));
}

static int
take_cancel(tally *t, mail_run *mr, irow *r, const tly_letter *l, int *out)
{
	char who[300];
	int  rv;

	if (sodium_memcmp(l->from, r->by, TLY_PK_BYTES) != 0)
		return (tly_seterr(t, TALLY_EPERM,
		    "news of introduction %.8s from someone who did not ask",
		    r->id));
	(void) tly_mail_who(t, l->from, who, sizeof who, NULL);
	if (strcmp(r->state, "asked") != 0 &&
	    strcmp(r->state, "consented") != 0) {
		*out = MAIL_NOTHING;
		tly_mail_say(mr, "received", r->id,
		    "introduction %.8s did not go ahead (it is %s here)",
		    r->id, r->state);
		return (0);
	}
	if ((rv = irow_set(t, r->id, "cancelled", NULL, NULL, NULL, NULL)) !=
	    0)
		return (rv);
	tly_mail_say(mr, "received", r->id,
	    "introduction %.8s (asked by %s) did not go ahead", r->id, who);
	return (0);
}

static int
take_ask(tally *t, mail_run *mr, const tly_letter *l, const tly_mail_body *b,
    int *out)
{
	sqlite3_stmt *st;
	char          id[IID_LEN + 1], date[TLY_DATE_LEN], who[300];
	irow          r;
	int           known, rv;

	tly_hex_encode(id, b->intro, sizeof b->intro);
	if ((rv = irow_get(t, &r, id)) != 0)
		return (rv);
	known = tly_mail_who(t, l->from, who, sizeof who, NULL);
	if (r.found) {
		*out = MAIL_NOTHING;
		tly_mail_say(mr, "duplicate", id,
		    "the request for introduction %.8s again (it is %s)", id,
		    r.state);
		return (0);
	}
	tly_date_format(date, &b->date);
	st = tly_stmt(t,
	    "INSERT INTO mail_intro(id, role, introducer, state, created,"
	    " happened, note, received, updated)"
	    " VALUES (?1, 'introduced', ?2, 'asked', ?3, ?4, ?5, ?6, ?6)");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	sqlite3_bind_blob(st, 2, l->from, TLY_PK_BYTES, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, b->created);
	tly_bind_text(st, 4, date);
	tly_bind_text(st, 5, b->text);
	sqlite3_bind_int64(st, 6, tly_now());
	if ((rv = tly_step_done(t, st, "storing a request")) != 0)
		return (rv);
	tly_mail_say(mr, "received", id,
	    "%s%s would like to introduce you to someone (request %.8s)%s%s%s "
	    "Answer with 'tally intro consent %.8s [--share email,phone]' or "
	    "'tally intro decline %.8s'.",
	    known ? "" : "a key linked to no one, ", who, id,
	    b->text[0] ? ": \"" : ".", b->text, b->text[0] ? "\"." : "", id,
	    id);
	return (0);
}

int
tly_mail_intro_take(tally *t, mail_run *mr, const tly_letter *l,
    const tly_mail_body *b, int *out)
{
	tly_signed s;
	tly_verify v;
	irow       r;
	char       id[IID_LEN + 1];
	int        why = TLY_WHY_NONE, rv;

	*out = MAIL_TAKEN;
	memset(&s, 0, sizeof s);
	memset(&v, 0, sizeof v);
	if (l->type == TLY_L_INTRO_ASK)
		return (take_ask(t, mr, l, b, out));
	if (b->rec != NULL) {
		if ((rv = tly_signed_decode(&s, b->rec, b->rec_len, &why)) !=
		    0)
			return (tly_seterr(t, rv,
			    "the introduction record in it is not valid: %s",
			    tly_why_str(why)));
		if (s.rec.kind != TLY_REC_INTRODUCTION)
			return (tly_seterr(t, TALLY_EFORMAT,
			    "an introduction letter holding a %s record",
			    tly_rec_kind_name(s.rec.kind)));
		if (tly_signed_verify(&s, &v, NULL) != 0)
			return (tly_seterr(t, TALLY_ECRYPTO,
			    "a signature on the introduction record does not "
			    "verify: it was changed after it was signed"));
		tly_hex_encode(id, s.rec.nonce, TLY_INTRO_ID_BYTES);
	} else
		tly_hex_encode(id, b->intro, sizeof b->intro);
	if ((rv = irow_get(t, &r, id)) != 0)
		return (rv);
	if (!r.found)
		return (tly_seterr(t, TALLY_ENOENT,
		    "a %s letter for introduction %.8s, which you know "
		    "nothing of",
		    tly_letter_type_name(l->type), id));
	switch (l->type) {
	case TLY_L_INTRO_CONSENT:
	case TLY_L_INTRO_DECLINE:
	case TLY_L_INTRO_SIGNED:
		if (!r.introducer)
			break;
		if (l->type == TLY_L_INTRO_CONSENT)
			return (take_consent(t, mr, &r, l, out));
		if (l->type == TLY_L_INTRO_DECLINE)
			return (take_decline(t, mr, &r, l, b, out));
		return (take_signed(t, mr, &r, l, &s, &v, out));
	case TLY_L_INTRO_CANCEL:
	case TLY_L_INTRO_RECORD:
	case TLY_L_INTRO_HELLO:
		if (r.introducer)
			break;
		if (l->type == TLY_L_INTRO_CANCEL)
			return (take_cancel(t, mr, &r, l, out));
		if (l->type == TLY_L_INTRO_RECORD)
			return (take_record(t, mr, &r, l, &s, &v, out));
		return (take_hello(t, mr, &r, l, b, &s, &v, out));
	}
	return (tly_seterr(t, TALLY_EPERM,
	    "a %s letter for introduction %.8s, where you are the %s",
	    tly_letter_type_name(l->type), id,
	    r.introducer ? "introducer" : "one introduced"));
}

/* -- Answering a request ----------------------------------------------- */

static const char *const share_fields[] = { "email", "phone", "org", "title",
	"url", NULL };

/* Checks share ("email,phone"), writes it normalised to out (n). */
static int
share_parse(tally *t, char *out, size_t n, const char *share)
{
	size_t used = 0;

	out[0] = '\0';
	if (share == NULL || *share == '\0')
		return (0);
	for (const char *p = share; p != NULL;) {
		const char *e  = strchr(p, ',');
		size_t      k  = e ? (size_t) (e - p) : strlen(p);
		int         ok = 0;

		for (size_t i = 0; share_fields[i] != NULL; i++)
			if (k == strlen(share_fields[i]) &&
			    strncmp(p, share_fields[i], k) == 0) {
				ok = 1;
				if (!shared(out, share_fields[i])) {
					snprintf(out + used, n - used, "%s%s",
					    used ? "," : "", share_fields[i]);
					used = strlen(out);
				}
			}
		if (!ok)
			return (tly_seterr(t, TALLY_EINVAL,
			    "--share '%.*s': share email, phone, org, title "
			    "or url (comma separated); your name always goes",
			    (int) (k > 40 ? 40 : k), p));
		p = e ? e + 1 : NULL;
	}
	return (0);
}

/* The introduction spec, and a message when it is not in one of the
 * states allowed (NULL-terminated). */
static int
irow_for(tally *t, irow *r, char *id, const char *spec, const char *verb)
{
	int rv;

	if ((rv = tally_intro_resolve(t, id, spec)) != 0 ||
	    (rv = irow_get(t, r, id)) != 0)
		return (rv);
	if (!r->found)
		return (tly_seterr(t, TALLY_ENOENT, "no introduction %s", id));
	if (strcmp(r->state, "made") == 0)
		return (tly_seterr(t, TALLY_ESTATE,
		    "introduction %.8s is made already: nothing to %s", id,
		    verb));
	if (strcmp(r->state, "declined") == 0 ||
	    strcmp(r->state, "cancelled") == 0)
		return (tly_seterr(t, TALLY_ESTATE,
		    "introduction %.8s did not go ahead (%s): nothing to %s",
		    id, r->state, verb));
	return (0);
}

int
tally_intro_consent(tally *t, char *id, const char *spec, const char *share)
{
	tly_mail_body body;
	char          norm[64], tid[TLY_TALLYID_LEN + 1];
	irow          r;
	int           rv;

	if ((rv = share_parse(t, norm, sizeof norm, share)) != 0 ||
	    (rv = irow_for(t, &r, id, spec, "consent to")) != 0)
		return (rv);
	if (r.introducer)
		return (tly_seterr(t, TALLY_EPERM,
		    "you made introduction %.8s: the two people consent, not "
		    "you",
		    id));
	if (strcmp(r.state, "asked") != 0)
		return (tly_seterr(t, TALLY_ESTATE,
		    "you consented to introduction %.8s already", id));
	if ((rv = tly_peer_find(t, r.by, NULL, NULL, NULL)) != 0) {
		tly_tallyid_encode(tid, r.by);
		if (rv == TALLY_ENOENT)
			rv = tly_seterr(t, rv,
			    "the introducer (%s) is linked to no one here: "
			    "if you know who it is, 'tally peer add PERSON "
			    "%s' first",
			    tid, tid);
		return (rv);
	}
	if (tly_my_ident(t) == NULL)
		return (TALLY_ENOTINIT);
	memset(&body, 0, sizeof body);
	if (tly_hex_decode(body.intro, sizeof body.intro, r.id) != 0)
		return (tly_seterr(t, TALLY_ECORRUPT, "bad introduction id"));
	if ((rv = tly_begin(t)) != 0)
		return (rv);
	if ((rv = irow_set(t, r.id, "consented", NULL, NULL, norm, NULL)) !=
	        0 ||
	    (rv = queue_to(t, &r, TLY_L_INTRO_CONSENT, r.by, &body,
	         "your consent to introduction")) != 0) {
		tly_rollback(t);
		return (rv);
	}
	return (tly_commit(t));
}

int
tally_intro_decline(tally *t, char *id, const char *spec, const char *reason)
{
	tly_mail_body body;
	irow          r;
	int           rv;

	if (reason == NULL)
		reason = "";
	if (strlen(reason) > TLY_REC_TEXT_MAX)
		return (tly_seterr(t, TALLY_EINVAL,
		    "the reason is too long (at most %d bytes)",
		    TLY_REC_TEXT_MAX));
	if ((rv = irow_for(t, &r, id, spec, "decline")) != 0)
		return (rv);
	if (tly_my_ident(t) == NULL)
		return (TALLY_ENOTINIT);
	memset(&body, 0, sizeof body);
	if (tly_hex_decode(body.intro, sizeof body.intro, r.id) != 0)
		return (tly_seterr(t, TALLY_ECORRUPT, "bad introduction id"));
	memcpy(body.text, reason, strlen(reason) + 1);
	if ((rv = tly_begin(t)) != 0)
		return (rv);
	if (r.introducer)
		rv = irow_set(t, r.id, "cancelled", NULL, reason, NULL, NULL);
	else
		rv = irow_set(t, r.id, "declined", NULL, reason, NULL, NULL);
	if (rv == 0 && r.introducer)
		rv = intro_status(t, r.id, "declined");
	if (rv == 0 && r.introducer)
		rv = send_cancel(t, &r, -1);
	else if (rv == 0)
		rv = queue_to(t, &r, TLY_L_INTRO_DECLINE, r.by, &body,
		    "your decline of introduction");
	if (rv != 0) {
		tly_rollback(t);
		return (rv);
	}
	return (tly_commit(t));
}

/* -- The inbox --------------------------------------------------------- */

int
tly_mail_intro_inbox(tally *t, tally_inbox_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int           rc, rv = 0;

	st = tly_stmt(t,
	    "SELECT i.id, i.introducer, i.note, i.happened, i.received,"
	    " p.id, p.name FROM mail_intro i"
	    " LEFT JOIN peer ON peer.pk = i.introducer"
	    " LEFT JOIN person p ON p.id = peer.person"
	    " WHERE i.state = 'asked' AND i.role = 'introduced'"
	    " ORDER BY i.received, i.rid");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tally_inbox_item it;
		unsigned char    by[TLY_PK_BYTES];
		char        tid[TLY_TALLYID_LEN + 1], fpr[TLY_FPR_LEN + 1];
		char        text[1600];
		const char *note = tly_col_text(st, 2);

		if (!blob32(st, 1, by)) {
			rv = tly_seterr(t, TALLY_ECORRUPT,
			    "introduction %.8s is damaged",
			    tly_col_text(st, 0));
			break;
		}
		memset(&it, 0, sizeof it);
		tly_tallyid_encode(tid, by);
		tly_fingerprint(fpr, by);
		it.kind             = "intro";
		it.id               = tly_col_text(st, 0);
		it.from_tally_id    = tid;
		it.from_fingerprint = fpr;
		it.person           = tly_col_text(st, 5);
		it.name             = tly_col_text(st, 6);
		it.note             = note;
		it.date             = tly_col_text(st, 3);
		it.received         = sqlite3_column_int64(st, 4);
		if (it.name != NULL)
			snprintf(text, sizeof text, "%s", it.name);
		else
			snprintf(text, sizeof text,
			    "An unknown key (%s, linked to no one)", fpr);
		snprintf(text + strlen(text), sizeof text - strlen(text),
		    " would like to introduce you to someone%s%s",
		    note != NULL && *note ? ": " : ".",
		    note != NULL ? note : "");
		it.text = text;
		if ((rv = fn(arg, &it)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		rv = tly_dberr(t, "reading introductions");
	sqlite3_reset(st);
	return (rv);
}
