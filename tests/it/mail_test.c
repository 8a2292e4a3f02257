/*
 * mail_test.c -- hostile envelopes against libtally's mail, with a real
 * tallyd on ipc:// and three replicas (Ann, Bob, Cat) plus Mallory, a
 * registered account that puts whatever it likes into Bob's mailbox.
 *
 * Each case: what Bob's tally_mail_sync() says (refused, duplicate),
 * that Bob's replica is byte for byte what it was (every table but the
 * FTS indexes, hashed), and that the envelope left the mailbox (it was
 * acknowledged, so it does not come back forever).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "itlib.h"
#include "tally_int.h"
#include "tly_enc.h"
#include "tly_keyfile.h"
#include "tly_letter.h"
#include "tly_record.h"
#include "tt.h"

typedef struct user {
	tally        *t;
	tly_ident    *id;
	char          tid[TALLY_TALLYID_LEN + 1];
	const char   *name;
	unsigned char pk[TLY_PK_BYTES];
} user;

static struct it_srv srv;
static char          base[] = "/tmp/tally-mailit.XXXXXX";
static user          ann, bob, cat;
static struct it_key mal;
static tly_relay    *mallory;
static char          said[8192]; /* what the last sync said */

static void
mk_user(user *u, const char *dir, const char *name)
{
	char           path[600];
	unsigned char  f[TLY_KEYFILE_BYTES];
	tally_identity id;

	snprintf(path, sizeof path, "%s/%s/tally.db", base, dir);
	TT_PASS(tally_open(&u->t, path, TALLY_OPEN_CREATE));
	TT_PASS(tally_init(u->t, name));
	TT_PASS(tally_id_init(u->t, NULL, 0));
	TT_PASS(tally_relay_set(u->t, srv.url));
	TT_PASS(tally_relay_register(u->t, NULL));
	TT_PASS(tally_id_get(u->t, &id));
	memcpy(u->tid, id.tally_id, sizeof u->tid);
	TT_PASS(tly_keyfile_load(f, id.key_file, NULL));
	TT_PASS(tly_keyfile_open(&u->id, f, sizeof f, NULL, 0));
	memcpy(u->pk, tly_ident_pk(u->id), TLY_PK_BYTES);
	u->name = name;
}

static void
link_peer(user *u, const user *v)
{
	tally_person_in in;
	char            pid[TALLY_ID_LEN + 1];

	tally_person_in_init(&in);
	in.name = v->name;
	TT_PASS(tally_person_add(u->t, pid, &in));
	TT_PASS(tally_peer_add(u->t, pid, v->tid));
}

static void
heard(void *arg, const tally_mail_event *e)
{
	size_t n = strlen(said);

	(void) arg;
	snprintf(said + n, sizeof said - n, "%s: %s\n", e->what, e->text);
}

static void
sync_user(user *u, tally_mail_stats *st)
{
	int rv;

	said[0] = '\0';
	if ((rv = tally_mail_sync(u->t, st, 0, heard, NULL)) != 0)
		fail_msg("sync of %s: %s: %s", u->name, tally_errname(rv),
		    tally_errmsg(u->t));
}

static void
said_has(const char *text)
{
	if (strstr(said, text) == NULL)
		fail_msg("expected the sync to say \"%s\"; it said:\n%s", text,
		    said);
}

/* BLAKE2b of every row of every table but the FTS ones. */
static void
snapshot(user *u, unsigned char *h)
{
	crypto_generichash_state gs;
	sqlite3_stmt            *tabs, *st;
	char                     q[200];

	crypto_generichash_init(&gs, NULL, 0, 32);
	TT_INTEQ(sqlite3_prepare_v2(u->t->db,
	             "SELECT name FROM sqlite_master WHERE type = 'table'"
	             " AND name NOT LIKE '%fts%' ORDER BY name",
	             -1, &tabs, NULL),
	    SQLITE_OK);
	while (sqlite3_step(tabs) == SQLITE_ROW) {
		snprintf(q, sizeof q, "SELECT * FROM \"%s\"",
		    sqlite3_column_text(tabs, 0));
		TT_INTEQ(
		    sqlite3_prepare_v2(u->t->db, q, -1, &st, NULL), SQLITE_OK);
		crypto_generichash_update(
		    &gs, (const unsigned char *) q, strlen(q));
		while (sqlite3_step(st) == SQLITE_ROW)
			for (int i = 0; i < sqlite3_column_count(st); i++) {
				const void *b = sqlite3_column_blob(st, i);
				int         n = sqlite3_column_bytes(st, i);
				crypto_generichash_update(&gs, b, (size_t) n);
				crypto_generichash_update(
				    &gs, (const unsigned char *) "|", 1);
			}
		sqlite3_finalize(st);
	}
	sqlite3_finalize(tabs);
	crypto_generichash_final(&gs, h, 32);
}

static void
mailbox_empty(user *u)
{
	tally_relay_state st;

	TT_PASS(tally_relay_status(u->t, &st));
	TT_INTEQ(st.mails, 0);
}

/* A letter of type from signer (its from overwritten with from when not
 * NULL: a forgery) for to, sealed to seal_to, into env. */
static void
craft(tly_buf *env, const tly_ident *signer, const unsigned char *from,
    const unsigned char *to, const unsigned char *seal_to, int type,
    const tly_mail_body *b, const unsigned char *lid)
{
	tly_letter l;
	tly_buf    body = TLY_BUF_INIT, let = TLY_BUF_INIT;
	int        why;

	memset(&l, 0, sizeof l);
	l.type = type;
	memcpy(l.from, tly_ident_pk(signer), TLY_PK_BYTES);
	memcpy(l.to, to, TLY_PK_BYTES);
	if (lid != NULL)
		memcpy(l.id, lid, sizeof l.id);
	else
		randombytes_buf(l.id, sizeof l.id);
	l.sent = 1773500000;
	TT_PASS(tly_mail_body_encode(&body, type, b, &why));
	l.body     = body.p;
	l.body_len = body.len;
	TT_PASS(tly_letter_encode(&let, &l, signer));
	if (from != NULL)
		memcpy(let.p + 8, from, TLY_PK_BYTES);
	tly_buf_reset(env);
	TT_PASS(tly_envelope_seal(env, let.p, let.len, seal_to));
	tly_buf_free(&body);
	tly_buf_free(&let);
}

static void
put(const user *to, const tly_buf *env)
{
	TT_PASS(tly_relay_put(mallory, to->pk, env->p, env->len, NULL, NULL));
}

/* A favor record from giver to receiver, signed by those in signers. */
static void
favor(tly_signed *s, const user *giver, const user *receiver, const char *text,
    int sign_giver, int sign_receiver)
{
	tly_record r;

	TT_PASS(tly_record_init(&r, TLY_REC_FAVOR, 1773500000));
	memcpy(r.parties[0].pk, giver->pk, TLY_PK_BYTES);
	memcpy(r.parties[1].pk, receiver->pk, TLY_PK_BYTES);
	TT_PASS(tly_date_parse(&r.date, "2026-03-14"));
	r.favor_kind = TLY_FAVOR_ADVICE;
	snprintf(r.text, sizeof r.text, "%s", text);
	TT_PASS(tly_signed_init(s, &r, NULL));
	if (sign_giver)
		TT_PASS(tly_signed_sign(s, giver->id, NULL));
	if (sign_receiver)
		TT_PASS(tly_signed_sign(s, receiver->id, NULL));
}

/* Bob syncs; what he holds must not change, and the mailbox empties. */
static void
refused(const char *words)
{
	tally_mail_stats st;
	unsigned char    before[32], after[32];

	snapshot(&bob, before);
	sync_user(&bob, &st);
	TT_INTEQ(st.rejected, 1);
	TT_INTEQ(st.received, 0);
	said_has(words);
	snapshot(&bob, after);
	TT_MEMEQ(after, before, 32);
	mailbox_empty(&bob);
}

static void
test_foreign(void **state)
{
	tly_buf       env = TLY_BUF_INIT;
	tly_mail_body b;
	tly_signed    s;
	unsigned char junk[300];

	(void) state;
	/* Bytes that are no envelope at all. */
	randombytes_buf(junk, sizeof junk);
	TT_PASS(tly_relay_put(mallory, bob.pk, junk, sizeof junk, NULL, NULL));
	refused("not for you");
	/* A good letter to Cat, sealed to Cat, put into Bob's mailbox. */
	favor(&s, &ann, &cat, "for Cat", 1, 0);
	memset(&b, 0, sizeof b);
	TT_PASS(tly_signed_encode(&env, &s));
	{
		tly_buf c = TLY_BUF_INIT;
		TT_PASS(tly_buf_append(&c, env.p, env.len));
		b.rec     = c.p;
		b.rec_len = c.len;
		craft(&env, ann.id, NULL, cat.pk, cat.pk, TLY_L_PROPOSE, &b,
		    NULL);
		put(&bob, &env);
		refused("does not open with your key");
		/* The same letter to Cat, sealed to Bob: forwarded. */
		craft(&env, ann.id, NULL, cat.pk, bob.pk, TLY_L_PROPOSE, &b,
		    NULL);
		put(&bob, &env);
		refused("addressed to someone else");
		tly_buf_free(&c);
	}
	tly_buf_free(&env);
}

static void
test_forged(void **state)
{
	tly_buf       env = TLY_BUF_INIT, c = TLY_BUF_INIT;
	tly_mail_body b;
	tly_signed    s, s2;
	tly_ident    *mid;

	(void) state;
	TT_PASS(tly_ident_new(&mid));
	favor(&s, &ann, &bob, "Ann helped", 1, 0);
	TT_PASS(tly_signed_encode(&c, &s));
	memset(&b, 0, sizeof b);
	b.rec     = c.p;
	b.rec_len = c.len;
	/* Mallory signs a letter and says it is from Ann. */
	craft(&env, mid, ann.pk, bob.pk, bob.pk, TLY_L_PROPOSE, &b, NULL);
	put(&bob, &env);
	refused("forged");
	/* Ann's letter, a record nobody signed. */
	favor(&s2, &ann, &bob, "unsigned", 0, 0);
	tly_buf_reset(&c);
	TT_PASS(tly_signed_encode(&c, &s2));
	b.rec     = c.p;
	b.rec_len = c.len;
	craft(&env, ann.id, NULL, bob.pk, bob.pk, TLY_L_PROPOSE, &b, NULL);
	put(&bob, &env);
	refused("not signed by its sender");
	/* Ann's signature over other words than the record's. */
	favor(&s2, &ann, &bob, "Ann helped a lot more", 0, 0);
	TT_PASS(tly_signed_add(&s2, ann.pk, s.sig[0], NULL));
	tly_buf_reset(&c);
	TT_PASS(tly_signed_encode(&c, &s2));
	b.rec     = c.p;
	b.rec_len = c.len;
	craft(&env, ann.id, NULL, bob.pk, bob.pk, TLY_L_PROPOSE, &b, NULL);
	put(&bob, &env);
	refused("does not verify");
	/* A record between Ann and Cat, in a letter from Ann to Bob. */
	favor(&s2, &ann, &cat, "not Bob's", 1, 0);
	tly_buf_reset(&c);
	TT_PASS(tly_signed_encode(&c, &s2));
	b.rec     = c.p;
	b.rec_len = c.len;
	craft(&env, ann.id, NULL, bob.pk, bob.pk, TLY_L_PROPOSE, &b, NULL);
	put(&bob, &env);
	refused("not yours");
	/* A malformed body. */
	b.rec_len = c.len - 5;
	craft(&env, ann.id, NULL, bob.pk, bob.pk, TLY_L_PROPOSE, &b, NULL);
	put(&bob, &env);
	refused("not a valid record");
	tly_ident_free(mid);
	tly_buf_free(&env);
	tly_buf_free(&c);
}

/* The envelopes Ann's replica queued, oldest first (n at most max). */
static size_t
ann_outbox(tly_buf *envs, size_t max)
{
	sqlite3_stmt *st;
	size_t        n = 0;

	TT_INTEQ(sqlite3_prepare_v2(ann.t->db,
	             "SELECT envelope FROM mail_outbox ORDER BY rid", -1, &st,
	             NULL),
	    SQLITE_OK);
	while (n < max && sqlite3_step(st) == SQLITE_ROW) {
		tly_buf_reset(&envs[n]);
		TT_PASS(tly_buf_append(&envs[n], sqlite3_column_blob(st, 0),
		    (size_t) sqlite3_column_bytes(st, 0)));
		n++;
	}
	sqlite3_finalize(st);
	return (n);
}

static void
test_replay(void **state)
{
	tally_record_in  in;
	tally_mail_stats st;
	tly_buf          envs[2] = { TLY_BUF_INIT, TLY_BUF_INIT };
	tly_buf          env = TLY_BUF_INIT, c = TLY_BUF_INIT;
	tly_mail_body    b;
	tly_signed       s;
	unsigned char    before[32], after[32], lid[16];
	char             pid[TALLY_ID_LEN + 1], rid[TALLY_RECORD_ID_LEN + 1];

	(void) state;
	TT_PASS(tally_resolve(ann.t, pid, TALLY_PERSON, "Bob Ray"));
	memset(&in, 0, sizeof in);
	in.kind  = "favor";
	in.with  = pid;
	in.by_me = 1;
	in.note  = "replayed";
	TT_PASS(tally_record_propose(ann.t, rid, &in));
	TT_INTEQ(ann_outbox(envs, 1), 1);
	sync_user(&ann, &st);
	TT_INTEQ(st.sent, 1);
	sync_user(&bob, &st);
	TT_INTEQ(st.received, 1);
	/* The relay (or anyone) puts the very same envelope again. */
	put(&bob, &envs[0]);
	snapshot(&bob, before);
	sync_user(&bob, &st);
	TT_INTEQ(st.duplicates, 1);
	TT_INTEQ(st.received, 0);
	said_has("a duplicate delivery or a replay");
	snapshot(&bob, after);
	TT_MEMEQ(after, before, 32);
	mailbox_empty(&bob);
	/* One letter, sealed twice (different envelopes): taken once. */
	favor(&s, &ann, &bob, "twice", 1, 0);
	TT_PASS(tly_signed_encode(&c, &s));
	memset(&b, 0, sizeof b);
	b.rec     = c.p;
	b.rec_len = c.len;
	memset(lid, 0x5a, sizeof lid);
	craft(&env, ann.id, NULL, bob.pk, bob.pk, TLY_L_PROPOSE, &b, lid);
	put(&bob, &env);
	craft(&env, ann.id, NULL, bob.pk, bob.pk, TLY_L_PROPOSE, &b, lid);
	put(&bob, &env);
	sync_user(&bob, &st);
	TT_INTEQ(st.received, 1);
	TT_INTEQ(st.duplicates, 1);
	mailbox_empty(&bob);
	/* The same proposal in a new letter: nothing new either. */
	craft(&env, ann.id, NULL, bob.pk, bob.pk, TLY_L_PROPOSE, &b, NULL);
	put(&bob, &env);
	snapshot(&bob, before);
	sync_user(&bob, &st);
	said_has("again");
	TT_INTEQ(st.received, 0);
	/* (only mail_seen grew: the letter id is remembered) */
	snapshot(&bob, after);
	tly_buf_free(&envs[0]);
	tly_buf_free(&envs[1]);
	tly_buf_free(&env);
	tly_buf_free(&c);
}

static void
test_reordered(void **state)
{
	tally_record_in  in;
	tally_mail_stats st;
	tly_buf          envs[2] = { TLY_BUF_INIT, TLY_BUF_INIT };
	char             pid[TALLY_ID_LEN + 1], rid[TALLY_RECORD_ID_LEN + 1];
	char             q[200];
	sqlite3_stmt    *s;

	(void) state;
	/* Ann proposes, then withdraws; the relay delivers the withdrawal
	 * first. */
	TT_PASS(tally_resolve(ann.t, pid, TALLY_PERSON, "Bob Ray"));
	memset(&in, 0, sizeof in);
	in.kind  = "favor";
	in.with  = pid;
	in.by_me = 1;
	in.note  = "reordered";
	TT_PASS(tally_record_propose(ann.t, rid, &in));
	TT_PASS(tally_record_revoke_mail(ann.t, rid, "too soon"));
	TT_INTEQ(ann_outbox(envs, 2), 2);
	put(&bob, &envs[1]);
	sync_user(&bob, &st);
	TT_INTEQ(st.received, 1);
	said_has("revoked record");
	put(&bob, &envs[0]);
	sync_user(&bob, &st);
	said_has("revoked already");
	TT_INTEQ(st.received, 0);
	snprintf(q, sizeof q, "SELECT state FROM record WHERE id = '%s'", rid);
	TT_INTEQ(sqlite3_prepare_v2(bob.t->db, q, -1, &s, NULL), SQLITE_OK);
	TT_INTEQ(sqlite3_step(s), SQLITE_ROW);
	TT_STREQ((const char *) sqlite3_column_text(s, 0), "revoked");
	sqlite3_finalize(s);
	/* Ann's own sync puts the same envelopes: duplicates for Bob. */
	sync_user(&ann, &st);
	TT_INTEQ(st.sent, 2);
	sync_user(&bob, &st);
	TT_INTEQ(st.duplicates, 2);
	mailbox_empty(&bob);
	tly_buf_free(&envs[0]);
	tly_buf_free(&envs[1]);
}

static void
test_countersignature(void **state)
{
	tally_record_in  in;
	tally_mail_stats st;
	tly_buf          c = TLY_BUF_INIT, env = TLY_BUF_INIT;
	tly_mail_body    b;
	tly_signed       s, fake;
	sqlite3_stmt    *q;
	char             pid[TALLY_ID_LEN + 1], rid[TALLY_RECORD_ID_LEN + 1];
	char             sql[200];

	(void) state;
	/* Bob proposes to Ann; Ann's replica gets hostile answers "from
	 * Bob" (written with Bob's key, the worst case). */
	TT_PASS(tally_resolve(bob.t, pid, TALLY_PERSON, "Ann Lee"));
	memset(&in, 0, sizeof in);
	in.kind  = "favor";
	in.with  = pid;
	in.by_me = 1;
	in.note  = "original words";
	TT_PASS(tally_record_propose(bob.t, rid, &in));
	sync_user(&bob, &st);
	TT_INTEQ(st.sent, 1);
	snprintf(
	    sql, sizeof sql, "SELECT signed FROM record WHERE id = '%s'", rid);
	TT_INTEQ(sqlite3_prepare_v2(bob.t->db, sql, -1, &q, NULL), SQLITE_OK);
	TT_INTEQ(sqlite3_step(q), SQLITE_ROW);
	TT_PASS(tly_signed_decode(&s, sqlite3_column_blob(q, 0),
	    (size_t) sqlite3_column_bytes(q, 0), NULL));
	sqlite3_finalize(q);
	/* Swap roles: Bob's replica is the proposer, "Ann" answers. */
	memset(&b, 0, sizeof b);
	/* A countersignature with only Bob's signature. */
	TT_PASS(tly_signed_encode(&c, &s));
	b.rec     = c.p;
	b.rec_len = c.len;
	craft(&env, ann.id, NULL, bob.pk, bob.pk, TLY_L_CONFIRM, &b, NULL);
	put(&bob, &env);
	refused("not signed by its sender");
	/* Both signatures, over other words (another record). */
	favor(&fake, &bob, &ann, "other words", 1, 1);
	tly_buf_reset(&c);
	TT_PASS(tly_signed_encode(&c, &fake));
	b.rec     = c.p;
	b.rec_len = c.len;
	craft(&env, ann.id, NULL, bob.pk, bob.pk, TLY_L_CONFIRM, &b, NULL);
	put(&bob, &env);
	refused("which you did not propose");
	/* The right record, Ann's signature copied from another record. */
	TT_PASS(tly_signed_add(&s, ann.pk, fake.sig[1], NULL));
	tly_buf_reset(&c);
	TT_PASS(tly_signed_encode(&c, &s));
	b.rec     = c.p;
	b.rec_len = c.len;
	craft(&env, ann.id, NULL, bob.pk, bob.pk, TLY_L_CONFIRM, &b, NULL);
	put(&bob, &env);
	refused("does not verify");
	/* A decline by Cat of Bob's record with Ann. */
	{
		tly_signed rev;
		tly_record r;
		tly_buf    t2 = TLY_BUF_INIT;

		TT_PASS(tly_record_init(&r, TLY_REC_REVOCATION, 1773500000));
		memcpy(r.parties[0].pk, cat.pk, TLY_PK_BYTES);
		memcpy(r.target, s.id, TLY_REC_ID_BYTES);
		r.action = TLY_ACTION_DECLINE;
		TT_PASS(tly_signed_init(&rev, &r, NULL));
		TT_PASS(tly_signed_sign(&rev, cat.id, NULL));
		tly_buf_reset(&c);
		TT_PASS(tly_signed_encode(&c, &rev));
		s.has_sig[1] = 0;
		TT_PASS(tly_signed_encode(&t2, &s));
		b.rec        = c.p;
		b.rec_len    = c.len;
		b.target     = t2.p;
		b.target_len = t2.len;
		craft(&env, cat.id, NULL, bob.pk, bob.pk, TLY_L_DECLINE, &b,
		    NULL);
		put(&bob, &env);
		refused("not by a party");
		tly_buf_free(&t2);
	}
	tly_buf_free(&c);
	tly_buf_free(&env);
}

/* An introduction record by Cat of Bob and Ann, nonce iid, with note. */
static void
intro_rec(tly_signed *s, const unsigned char *iid, const char *note)
{
	tly_record r;

	TT_PASS(tly_record_init(&r, TLY_REC_INTRODUCTION, 1773500000));
	memcpy(r.nonce, iid, TLY_INTRO_ID_BYTES);
	memcpy(r.parties[0].pk, cat.pk, TLY_PK_BYTES);
	memcpy(r.parties[1].pk, bob.pk, TLY_PK_BYTES);
	memcpy(r.parties[2].pk, ann.pk, TLY_PK_BYTES);
	TT_PASS(tly_date_parse(&r.date, "2026-03-14"));
	snprintf(r.text, sizeof r.text, "%s", note);
	TT_PASS(tly_signed_init(s, &r, NULL));
	TT_PASS(tly_signed_sign(s, cat.id, NULL));
}

static void
test_intro(void **state)
{
	tally_mail_stats st;
	tly_mail_body    b;
	tly_signed       s;
	tly_buf          env = TLY_BUF_INIT, c = TLY_BUF_INIT;
	unsigned char    iid[TLY_INTRO_ID_BYTES];
	char hex[TALLY_INTRO_ID_LEN + 1], id[TALLY_INTRO_ID_LEN + 1];

	(void) state;
	randombytes_buf(iid, sizeof iid);
	memset(&b, 0, sizeof b);
	memcpy(b.intro, iid, sizeof iid);
	b.created = 1773500000;
	TT_PASS(tly_date_parse(&b.date, "2026-03-14"));
	snprintf(b.text, sizeof b.text, "you two should talk");
	craft(&env, cat.id, NULL, bob.pk, bob.pk, TLY_L_INTRO_ASK, &b, NULL);
	put(&bob, &env);
	sync_user(&bob, &st);
	TT_INTEQ(st.received, 1);
	/* The record before Bob consented. */
	intro_rec(&s, iid, "you two should talk");
	TT_PASS(tly_signed_encode(&c, &s));
	memset(&b, 0, sizeof b);
	b.rec     = c.p;
	b.rec_len = c.len;
	craft(
	    &env, cat.id, NULL, bob.pk, bob.pk, TLY_L_INTRO_RECORD, &b, NULL);
	put(&bob, &env);
	refused("before you consented");
	/* Bob consents; then a record that says something else. */
	tly_hex_encode(hex, iid, sizeof iid);
	TT_PASS(tally_intro_consent(bob.t, id, hex, "email"));
	sync_user(&bob, &st);
	TT_INTEQ(st.sent, 1);
	intro_rec(&s, iid, "you two should talk, and Bob owes me");
	tly_buf_reset(&c);
	TT_PASS(tly_signed_encode(&c, &s));
	b.rec     = c.p;
	b.rec_len = c.len;
	craft(
	    &env, cat.id, NULL, bob.pk, bob.pk, TLY_L_INTRO_RECORD, &b, NULL);
	put(&bob, &env);
	refused("differs from what was asked");
	/* The right record, from someone who did not ask. */
	intro_rec(&s, iid, "you two should talk");
	tly_buf_reset(&c);
	TT_PASS(tly_signed_encode(&c, &s));
	b.rec     = c.p;
	b.rec_len = c.len;
	craft(
	    &env, ann.id, NULL, bob.pk, bob.pk, TLY_L_INTRO_RECORD, &b, NULL);
	put(&bob, &env);
	refused("did not ask");
	tly_buf_free(&c);
	tly_buf_free(&env);
}

static int
setup(void **state)
{
	(void) state;
	if (mkdtemp(base) == NULL)
		return (-1);
	it_start(&srv, NULL, 0);
	mk_user(&ann, "ann", "Ann Lee");
	mk_user(&bob, "bob", "Bob Ray");
	mk_user(&cat, "cat", "Cat Diaz");
	link_peer(&ann, &bob);
	link_peer(&bob, &ann);
	link_peer(&bob, &cat);
	link_peer(&cat, &bob);
	it_keygen(&mal);
	mallory = it_client(srv.url, &mal, 0, 5000);
	TT_PASS(tly_relay_register(mallory, NULL));
	return (0);
}

static int
teardown(void **state)
{
	char cmd[600];

	(void) state;
	tly_relay_close(mallory);
	tally_close(ann.t);
	tally_close(bob.t);
	tally_close(cat.t);
	tly_ident_free(ann.id);
	tly_ident_free(bob.id);
	tly_ident_free(cat.id);
	it_cleanup(&srv);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	return (system(cmd) == 0 ? 0 : -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_foreign),
		cmocka_unit_test(test_forged),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_reordered),
		cmocka_unit_test(test_countersignature),
		cmocka_unit_test(test_intro),
	};

	if (tly_proto_init() != 0)
		return (1);
	return (cmocka_run_group_tests(tests, setup, teardown));
}
