/*
 * identity_test.c -- identities, peers and records both sides sign,
 * through libtally with three replicas (Ann with a passphrase, Bob and
 * Carl without): the round trip new -> sign -> import, decline and
 * revoke both ways, offline verification, and every attack refused with
 * nothing stored changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tally_int.h"
#include "tly_armor.h"
#include "tly_keyfile.h"
#include "tly_record.h"
#include "tt.h"

#define ANN_PASS "ann: correct horse"

typedef struct side {
	char   path[160];
	tally *t;
	char   me[TALLY_ID_LEN + 1];
	char   tid[TALLY_TALLYID_LEN + 1];
} side;

typedef struct fixture {
	char dir[64];
	side ann, bob, carl;
	char ann_bob[TALLY_ID_LEN + 1];  /* Bob in Ann's replica */
	char ann_carl[TALLY_ID_LEN + 1]; /* Carl in Ann's replica */
	char bob_ann[TALLY_ID_LEN + 1];  /* Ann in Bob's replica */
	char carl_ann[TALLY_ID_LEN + 1];
	char carl_bob[TALLY_ID_LEN + 1];
} fixture;

static void
add_person(tally *t, char *id, const char *name)
{
	tally_person_in in;

	tally_person_in_init(&in);
	in.name = name;
	TT_PASS(tally_person_add(t, id, &in));
}

static void
side_new(fixture *f, side *s, const char *name, const char *pass)
{
	tally_identity id;

	snprintf(s->path, sizeof s->path, "%s/%s/tally.db", f->dir, name);
	TT_PASS(tally_open(&s->t, s->path, TALLY_OPEN_CREATE));
	TT_PASS(tally_init(s->t, name));
	TT_PASS(tally_me(s->t, s->me));
	TT_PASS(tally_id_init(s->t, pass, pass ? strlen(pass) : 0));
	TT_PASS(tally_id_get(s->t, &id));
	memcpy(s->tid, id.tally_id, sizeof s->tid);
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);

	setenv("TALLY_NOW", "2026-11-22T10:00:00Z", 1);
	snprintf(f->dir, sizeof f->dir, "/tmp/tally-identity.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return (-1);
	side_new(f, &f->ann, "ann", ANN_PASS);
	side_new(f, &f->bob, "bob", NULL);
	side_new(f, &f->carl, "carl", NULL);
	add_person(f->ann.t, f->ann_bob, "Bob Stone");
	add_person(f->ann.t, f->ann_carl, "Carl Mint");
	add_person(f->bob.t, f->bob_ann, "Ann Lee");
	add_person(f->carl.t, f->carl_ann, "Ann Lee");
	add_person(f->carl.t, f->carl_bob, "Bob Stone");
	TT_PASS(tally_peer_add(f->ann.t, f->ann_bob, f->bob.tid));
	TT_PASS(tally_peer_add(f->bob.t, f->bob_ann, f->ann.tid));
	TT_PASS(tally_peer_add(f->carl.t, f->carl_ann, f->ann.tid));
	TT_PASS(tally_peer_add(f->carl.t, f->carl_bob, f->bob.tid));
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	fixture *f = *state;
	char     cmd[128];

	tally_close(f->ann.t);
	tally_close(f->bob.t);
	tally_close(f->carl.t);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return (-1);
	free(f);
	return (0);
}

/* Everything about records, favors and peers in t, as one string
 * (malloc'd), to prove that a refusal changed nothing. */
static char *
snapshot(tally *t)
{
	sqlite3_stmt *st;
	char         *s = NULL;

	assert_int_equal(
	    sqlite3_prepare_v2(t->db,
	        "SELECT group_concat(x, '|') FROM (SELECT x FROM ("
	        " SELECT id || state || hex(signed) ||"
	        "  coalesce(hex(revocation), '') ||"
	        "  coalesce(reason, '') || updated AS x FROM record"
	        " UNION ALL SELECT id || confirmed || status ||"
	        "  updated FROM favor"
	        " UNION ALL SELECT person || hex(pk) ||"
	        "  coalesce(verified, '') FROM peer"
	        " UNION ALL SELECT key || value FROM meta)"
	        " ORDER BY x)",
	        -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	s = strdup(sqlite3_column_text(st, 0)
	        ? (const char *) sqlite3_column_text(st, 0)
	        : "");
	sqlite3_finalize(st);
	return (s);
}

/* Checks that the snapshot of t is still before (and frees it). */
static void
unchanged(tally *t, char *before)
{
	char *now = snapshot(t);

	TT_STREQ(now, before);
	free(now);
	free(before);
}

/* One record's state, by callback. */
typedef struct got {
	char state[16];
	char favor[TALLY_ID_LEN + 1];
	int  complete;
	int  by_me;
	char sig[2][16];
	char reason[64];
} got;

static int
got_fn(void *arg, const tally_record *r)
{
	got *g = arg;

	snprintf(g->state, sizeof g->state, "%s", r->state);
	snprintf(g->favor, sizeof g->favor, "%s", r->favor ? r->favor : "");
	snprintf(
	    g->reason, sizeof g->reason, "%s", r->reason ? r->reason : "");
	g->complete = r->complete;
	g->by_me    = r->by_me;
	for (size_t i = 0; i < 2 && i < r->nparties; i++)
		snprintf(g->sig[i], sizeof g->sig[i], "%s",
		    r->parties[i].signature);
	return (0);
}

static got
get(tally *t, const char *id)
{
	got g;

	memset(&g, 0, sizeof g);
	TT_PASS(tally_record_get(t, id, got_fn, &g));
	return (g);
}

static int
favor_confirmed(tally *t, const char *fid)
{
	sqlite3_stmt *st;
	int           c = -1;

	sqlite3_prepare_v2(
	    t->db, "SELECT confirmed FROM favor WHERE id = ?1", -1, &st, NULL);
	sqlite3_bind_text(st, 1, fid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		c = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return (c);
}

static int
ledger_confirmed(tally *t)
{
	sqlite3_stmt *st;
	int           c = -1;

	sqlite3_prepare_v2(
	    t->db, "SELECT sum(confirmed) FROM ledger", -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		c = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return (c);
}

/* Ann proposes a favor Bob did her; the armored text goes to *text. */
static void
propose(fixture *f, char *id, char **text, const char *note)
{
	tally_record_in in;

	memset(&in, 0, sizeof in);
	in.kind       = "favor";
	in.with       = f->ann_bob;
	in.by_me      = 0;
	in.favor_kind = "advice";
	in.date       = "2026-11-20";
	in.note       = note;
	TT_PASS(tally_id_unlock(f->ann.t, ANN_PASS, strlen(ANN_PASS)));
	TT_PASS(tally_record_new(f->ann.t, id, &in));
	TT_PASS(tally_record_export(f->ann.t, text, id, 0));
}

/* The full round trip; *both gets the co-signed text. */
static void
confirm(fixture *f, char *id, char **both, const char *note)
{
	char        bid[TALLY_RECORD_ID_LEN + 1], aid[TALLY_RECORD_ID_LEN + 1];
	char       *text;
	const char *outcome;

	propose(f, id, &text, note);
	TT_PASS(tally_id_unlock(f->bob.t, NULL, 0));
	TT_PASS(
	    tally_record_sign(f->bob.t, both, bid, text, strlen(text), NULL));
	TT_STREQ(bid, id);
	TT_PASS(tally_record_import(
	    f->ann.t, aid, &outcome, *both, strlen(*both)));
	TT_STREQ(outcome, "confirmed");
	TT_STREQ(aid, id);
	free(text);
}

/* -- Identity ---------------------------------------------------------- */

static void
test_identity(void **state)
{
	fixture       *f = *state;
	tally_identity id;
	struct stat    sb;
	char           key[200];
	char          *before;

	TT_PASS(tally_id_get(f->ann.t, &id));
	TT_INTEQ(strlen(id.tally_id), TALLY_TALLYID_LEN);
	TT_INTEQ(strncmp(id.tally_id, "tly1", 4), 0);
	TT_INTEQ(strlen(id.fingerprint), TALLY_FPR_LEN);
	TT_INTEQ(id.passphrase, 1);
	TT_INTEQ(id.key_error, 0);
	snprintf(key, sizeof key, "%s/ann/identity.key", f->dir);
	TT_STREQ(id.key_file, key);
	TT_PASS(stat(key, &sb));
	TT_INTEQ(sb.st_mode & 0777, 0600);
	TT_INTEQ(sb.st_size, TLY_KEYFILE_BYTES);
	TT_PASS(tally_id_get(f->bob.t, &id));
	TT_INTEQ(id.passphrase, 0);

	/* Never replaced: neither with an identity, nor over a key file. */
	before = snapshot(f->ann.t);
	TT_FAIL(tally_id_init(f->ann.t, NULL, 0), TALLY_EEXIST);
	unchanged(f->ann.t, before);
	{
		tally *t;
		char   path[200];
		snprintf(path, sizeof path, "%s/ann/other.db", f->dir);
		TT_PASS(tally_open(&t, path, TALLY_OPEN_CREATE));
		TT_FAIL(tally_id_init(t, NULL, 0), TALLY_EEXIST);
		TT_FAIL(tally_id_get(t, &id), TALLY_ENOTINIT);
		TT_FAIL(tally_id_init(t, "", 0), TALLY_EEXIST);
		tally_close(t);
	}
}

static void
test_unlock(void **state)
{
	fixture *f = *state;
	tally   *t;
	char     key[200], saved[TLY_KEYFILE_BYTES];
	FILE    *fp;

	tally_close(f->ann.t);
	TT_PASS(tally_open(&f->ann.t, f->ann.path, 0));
	TT_INTEQ(tally_id_locked(f->ann.t), 1);
	TT_FAIL(tally_id_unlock(f->ann.t, "wrong", 5), TALLY_EPASS);
	TT_FAIL(tally_id_unlock(f->ann.t, NULL, 0), TALLY_EPASS);
	TT_INTEQ(tally_id_locked(f->ann.t), 1);
	TT_PASS(tally_id_unlock(f->ann.t, ANN_PASS, strlen(ANN_PASS)));
	TT_INTEQ(tally_id_locked(f->ann.t), 0);

	/* Readable by others, the wrong size, another identity's. */
	snprintf(key, sizeof key, "%s/ann/identity.key", f->dir);
	fp = fopen(key, "rb");
	assert_non_null(fp);
	TT_INTEQ(fread(saved, 1, sizeof saved, fp), sizeof saved);
	fclose(fp);
	TT_PASS(chmod(key, 0644));
	TT_PASS(tally_open(&t, f->ann.path, 0));
	TT_FAIL(tally_id_unlock(t, ANN_PASS, strlen(ANN_PASS)), TALLY_EPERM);
	assert_non_null(strstr(tally_errmsg(t), "group or others"));
	tally_close(t);
	TT_PASS(chmod(key, 0600));
	TT_PASS(truncate(key, TLY_KEYFILE_BYTES - 1));
	TT_PASS(tally_open(&t, f->ann.path, 0));
	TT_FAIL(tally_id_unlock(t, ANN_PASS, strlen(ANN_PASS)), TALLY_EFORMAT);
	assert_non_null(strstr(tally_errmsg(t), "wrong size"));
	tally_close(t);
	{
		char bobkey[200], cmd[500];
		snprintf(bobkey, sizeof bobkey, "%s/bob/identity.key", f->dir);
		snprintf(cmd, sizeof cmd, "cp '%s' '%s'", bobkey, key);
		TT_PASS(system(cmd));
	}
	TT_PASS(tally_open(&t, f->ann.path, 0));
	TT_FAIL(tally_id_unlock(t, NULL, 0), TALLY_ECRYPTO);
	tally_close(t);
	unlink(key);
	TT_PASS(tally_open(&t, f->ann.path, 0));
	TT_FAIL(tally_id_unlock(t, ANN_PASS, strlen(ANN_PASS)), TALLY_ENOENT);
	tally_close(t);
	fp = fopen(key, "wb");
	assert_non_null(fp);
	TT_INTEQ(fwrite(saved, 1, sizeof saved, fp), sizeof saved);
	fclose(fp);
	TT_PASS(chmod(key, 0600));
	TT_PASS(tally_open(&t, f->ann.path, 0));
	TT_PASS(tally_id_unlock(t, ANN_PASS, strlen(ANN_PASS)));
	tally_close(t);
}

/* -- Peers ------------------------------------------------------------- */

static int
count_peer(void *arg, const tally_peer *p)
{
	(void) p;
	(*(int *) arg)++;
	return (0);
}

static void
test_peers(void **state)
{
	fixture *f = *state;
	char     typo[TALLY_TALLYID_LEN + 1], a[TALLY_SAFETY_LEN + 1];
	char     b[TALLY_SAFETY_LEN + 1], me[TALLY_ID_LEN + 1];
	char    *before;
	int      n = 0;

	memcpy(typo, f->carl.tid, sizeof typo);
	typo[20] = typo[20] == 'a' ? 'b' : 'a';
	before   = snapshot(f->ann.t);
	TT_FAIL(tally_peer_add(f->ann.t, f->ann_carl, typo), TALLY_EINVAL);
	assert_non_null(strstr(tally_errmsg(f->ann.t), "typo"));
	TT_FAIL(tally_peer_add(f->ann.t, f->ann_carl, "hello"), TALLY_EINVAL);
	TT_FAIL(
	    tally_peer_add(f->ann.t, f->ann_carl, f->ann.tid), TALLY_EPERM);
	TT_PASS(tally_me(f->ann.t, me));
	TT_FAIL(tally_peer_add(f->ann.t, me, f->carl.tid), TALLY_EPERM);
	TT_FAIL(
	    tally_peer_add(f->ann.t, f->ann_bob, f->carl.tid), TALLY_EEXIST);
	TT_FAIL(
	    tally_peer_add(f->ann.t, f->ann_carl, f->bob.tid), TALLY_EEXIST);
	TT_PASS(tally_peer_add(f->ann.t, f->ann_bob, f->bob.tid));
	unchanged(f->ann.t, before);

	/* The same safety code on both sides; a different one with Carl. */
	TT_PASS(tally_peer_safety(f->ann.t, a, f->ann_bob));
	TT_PASS(tally_peer_safety(f->bob.t, b, f->bob_ann));
	TT_STREQ(a, b);
	TT_INTEQ(strlen(a), TALLY_SAFETY_LEN);
	TT_PASS(tally_peer_safety(f->carl.t, b, f->carl_ann));
	assert_string_not_equal(a, b);
	TT_FAIL(tally_peer_safety(f->ann.t, a, f->ann_carl), TALLY_ENOENT);
	assert_non_null(strstr(tally_errmsg(f->ann.t), "tally peer add"));

	TT_PASS(tally_peer_confirm(f->ann.t, f->ann_bob));
	TT_PASS(tally_peer_list(f->ann.t, NULL, count_peer, &n));
	TT_INTEQ(n, 1);
	TT_PASS(tally_peer_add(f->ann.t, f->ann_carl, f->carl.tid));
	TT_PASS(tally_peer_rm(f->ann.t, f->ann_carl));
	TT_FAIL(tally_peer_rm(f->ann.t, f->ann_carl), TALLY_ENOENT);
}

/* -- The round trip ---------------------------------------------------- */

typedef struct vres {
	char state[16];
	char name[2][32];
	int  is_me[2];
} vres;

static int
vres_fn(void *arg, const tally_record *r)
{
	vres *v = arg;

	snprintf(v->state, sizeof v->state, "%s", r->state);
	for (size_t i = 0; i < 2 && i < r->nparties; i++) {
		snprintf(v->name[i], sizeof v->name[i], "%s",
		    r->parties[i].name ? r->parties[i].name : "");
		v->is_me[i] = r->parties[i].is_me;
	}
	return (0);
}

static void
test_round_trip(void **state)
{
	fixture    *f = *state;
	char        id[TALLY_RECORD_ID_LEN + 1], *text, *words, *both;
	char        bid[TALLY_RECORD_ID_LEN + 1], err[256];
	const char *outcome;
	vres        v;
	got         g;

	propose(f, id, &text, "reviewed my CV");
	g = get(f->ann.t, id);
	TT_STREQ(g.state, "proposed");
	TT_STREQ(g.sig[0], "missing");
	TT_STREQ(g.sig[1], "valid");
	TT_INTEQ(favor_confirmed(f->ann.t, g.favor), 0);

	/* Offline: incomplete. */
	memset(&v, 0, sizeof v);
	TT_PASS(tally_record_verify(
	    NULL, text, strlen(text), vres_fn, &v, err, sizeof err));
	TT_STREQ(v.state, "incomplete");

	TT_PASS(tally_record_words(f->bob.t, &words, text, strlen(text)));
	assert_non_null(strstr(words, "Ann Lee (tly1"));
	assert_non_null(strstr(words,
	    "says you did them a favor (advice) on 2026-11-20: reviewed my "
	    "CV"));
	assert_non_null(strstr(words, "not verified"));
	free(words);

	/* Locked, Bob's replica refuses to sign (and keeps nothing). */
	tally_close(f->bob.t);
	TT_PASS(tally_open(&f->bob.t, f->bob.path, 0));
	TT_FAIL(
	    tally_record_sign(f->bob.t, &both, bid, text, strlen(text), NULL),
	    TALLY_ENOTINIT);
	TT_FAIL(tally_record_get(f->bob.t, id, got_fn, &g), TALLY_ENOENT);
	TT_PASS(tally_id_unlock(f->bob.t, NULL, 0));
	TT_PASS(
	    tally_record_sign(f->bob.t, &both, bid, text, strlen(text), NULL));
	g = get(f->bob.t, id);
	TT_STREQ(g.state, "confirmed");
	TT_INTEQ(g.by_me, 1);
	TT_INTEQ(favor_confirmed(f->bob.t, g.favor), 1);
	TT_INTEQ(ledger_confirmed(f->bob.t), 1);
	/* Signing again: refused. */
	TT_FAIL(
	    tally_record_sign(f->bob.t, &words, bid, both, strlen(both), NULL),
	    TALLY_ESTATE);

	memset(&v, 0, sizeof v);
	TT_PASS(tally_record_verify(
	    f->carl.t, both, strlen(both), vres_fn, &v, err, sizeof err));
	TT_STREQ(v.state, "complete");
	TT_STREQ(v.name[0], "Bob Stone");
	TT_STREQ(v.name[1], "Ann Lee");

	TT_PASS(
	    tally_record_import(f->ann.t, bid, &outcome, both, strlen(both)));
	TT_STREQ(outcome, "confirmed");
	g = get(f->ann.t, id);
	TT_STREQ(g.state, "confirmed");
	TT_INTEQ(g.complete, 1);
	TT_INTEQ(favor_confirmed(f->ann.t, g.favor), 1);
	TT_INTEQ(ledger_confirmed(f->ann.t), 1);
	TT_PASS(
	    tally_record_import(f->ann.t, bid, &outcome, both, strlen(both)));
	TT_STREQ(outcome, "unchanged");
	TT_PASS(
	    tally_record_import(f->ann.t, bid, &outcome, text, strlen(text)));
	TT_STREQ(outcome, "unchanged");
	free(text);
	free(both);
}

/* Linking a favor already logged: the ledger counts it once. */
static void
test_link_favor(void **state)
{
	fixture        *f = *state;
	tally_favor     fv;
	tally_record_in in;
	char            fid[TALLY_ID_LEN + 1], id[TALLY_RECORD_ID_LEN + 1];
	char            id2[TALLY_RECORD_ID_LEN + 1];
	got             g;

	memset(&fv, 0, sizeof fv);
	fv.giver    = f->ann_bob;
	fv.receiver = f->ann.me;
	fv.kind     = "referral";
	fv.weight   = TALLY_UNSET;
	fv.note     = "to Acme";
	TT_PASS(tally_favor_add(f->ann.t, fid, &fv));
	memset(&in, 0, sizeof in);
	in.kind  = "referral";
	in.with  = f->ann_bob;
	in.by_me = TALLY_UNSET;
	in.name  = "Acme";
	in.favor = fid;
	TT_PASS(tally_id_unlock(f->ann.t, ANN_PASS, strlen(ANN_PASS)));
	TT_PASS(tally_record_new(f->ann.t, id, &in));
	g = get(f->ann.t, id);
	TT_STREQ(g.favor, fid);
	TT_INTEQ(g.by_me, 0);
	/* One favor, one record. */
	TT_FAIL(tally_record_new(f->ann.t, id2, &in), TALLY_ESTATE);
	in.by_me = 1; /* the favor went the other way */
	TT_FAIL(tally_record_new(f->ann.t, id2, &in), TALLY_EINVAL);
	in.favor = NULL;
	in.kind  = "referral";
	in.name  = NULL;
	TT_FAIL(tally_record_new(f->ann.t, id2, &in), TALLY_EINVAL);
	in.kind = "introduction";
	TT_FAIL(tally_record_new(f->ann.t, id2, &in), TALLY_EINVAL);
	in.kind = "favor";
	in.with = f->ann_carl;
	TT_FAIL(tally_record_new(f->ann.t, id2, &in), TALLY_ENOENT);
	assert_non_null(strstr(tally_errmsg(f->ann.t), "tally peer add"));
	in.with = f->ann_bob;
	in.date = "2026-02-30";
	TT_FAIL(tally_record_new(f->ann.t, id2, &in), TALLY_EINVAL);
	in.date = NULL;
	in.note = "a\001b";
	TT_FAIL(tally_record_new(f->ann.t, id2, &in), TALLY_EINVAL);
}

/* -- Attacks ----------------------------------------------------------- */

/* Armors the binary container p[0..n) (malloc'd text). */
static char *
armor_raw(const unsigned char *p, size_t n)
{
	tly_buf b = TLY_BUF_INIT;
	char   *s;

	TT_PASS(tly_armor_encode(&b, TLY_ARMOR_RECORD, NULL, 0, p, n));
	s = strdup(tly_buf_cstr(&b));
	tly_buf_free(&b);
	return (s);
}

/* Offers text to Ann (import), Bob (sign, import, decline) and Carl
 * (import): each must refuse it with want (0: any error) and change
 * nothing. */
static void
refused(fixture *f, const char *text, int want)
{
	char       *sa = snapshot(f->ann.t), *sb = snapshot(f->bob.t);
	char       *sc = snapshot(f->carl.t), *out = NULL;
	char        id[TALLY_RECORD_ID_LEN + 1];
	const char *outcome;
	size_t      n = strlen(text);
	int         rv;

	TT_PASS(tally_id_unlock(f->bob.t, NULL, 0));
	rv = tally_record_import(f->ann.t, id, &outcome, text, n);
	assert_true(want ? rv == want : rv != 0);
	rv = tally_record_sign(f->bob.t, &out, id, text, n, NULL);
	assert_true(rv != 0);
	assert_null(out);
	rv = tally_record_import(f->bob.t, id, &outcome, text, n);
	assert_true(rv != 0);
	rv = tally_record_decline(f->bob.t, &out, id, text, n, NULL);
	assert_true(rv != 0);
	assert_null(out);
	rv = tally_record_import(f->carl.t, id, &outcome, text, n);
	assert_true(rv != 0);
	unchanged(f->ann.t, sa);
	unchanged(f->bob.t, sb);
	unchanged(f->carl.t, sc);
}

static void
test_attacks(void **state)
{
	fixture   *f = *state;
	char       id1[TALLY_RECORD_ID_LEN + 1], id2[TALLY_RECORD_ID_LEN + 1];
	char      *t1, *t2, *bad, err[256];
	tly_signed s1, s2, s;
	tly_buf    b = TLY_BUF_INIT;
	size_t     n, mid;
	vres       v;

	/* A proposal (t1) and a record both signed (t2). */
	propose(f, id1, &t1, "first");
	confirm(f, id2, &t2, "second");
	TT_PASS(tly_signed_parse(&s1, (unsigned char *) t1, strlen(t1), NULL));
	TT_PASS(tly_signed_parse(&s2, (unsigned char *) t2, strlen(t2), NULL));

	/* Every character of the body flipped in turn. */
	mid = strstr(t2, "\n\n") - t2 + 2;
	for (size_t i = mid; t2[i] != '-'; i++) {
		if (t2[i] == '\n' || t2[i] == '=')
			continue;
		bad    = strdup(t2);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		memset(&v, 0, sizeof v);
		if (tally_record_verify(NULL, bad, strlen(bad), vres_fn, &v,
		        err, sizeof err) == 0)
			TT_STREQ(v.state, "invalid");
		if (i % 37 == 0) /* the whole round for some of them */
			refused(f, bad, 0);
		free(bad);
	}
	/* Truncated: cut anywhere. */
	n = strlen(t2);
	for (size_t k = 1; k < n - 1; k += 41) {
		bad = strndup(t2, k);
		TT_FAIL(tally_record_verify(
		            NULL, bad, k, vres_fn, &v, err, sizeof err),
		    TALLY_EFORMAT);
		free(bad);
	}
	bad = strndup(t2, n / 2);
	refused(f, bad, TALLY_EFORMAT);
	free(bad);

	/* A signature copied from another record (Ann's, from t2, onto
	 * the record of t1). */
	s = s1;
	memcpy(s.sig[1], s2.sig[1], TLY_SIG_BYTES);
	TT_PASS(tly_signed_armor(&b, &s));
	bad = strdup(tly_buf_cstr(&b));
	tly_buf_reset(&b);
	refused(f, bad, TALLY_ECRYPTO);
	memset(&v, 0, sizeof v);
	TT_PASS(tally_record_verify(
	    NULL, bad, strlen(bad), vres_fn, &v, err, sizeof err));
	TT_STREQ(v.state, "invalid");
	free(bad);

	/* A signature by someone who is not a party: Carl's, valid over
	 * the record's bytes, in Ann's slot. */
	{
		unsigned char msg[sizeof TLY_REC_DOMAIN + TLY_REC_MAX];
		unsigned char sig[TLY_SIG_BYTES];
		size_t        mlen = sizeof TLY_REC_DOMAIN + s2.canon_len;
		const unsigned char *cpk = tly_ident_pk(f->carl.t->ident);

		memcpy(msg, TLY_REC_DOMAIN, sizeof TLY_REC_DOMAIN);
		memcpy(msg + sizeof TLY_REC_DOMAIN, s2.canon, s2.canon_len);
		tly_ident_sign(f->carl.t->ident, sig, msg, mlen);
		TT_PASS(tly_signed_encode(&b, &s2));
		memcpy(b.p + b.len - 96, cpk, TLY_PK_BYTES);
		memcpy(b.p + b.len - 64, sig, TLY_SIG_BYTES);
		bad = armor_raw(b.p, b.len);
		tly_buf_reset(&b);
		refused(f, bad, TALLY_EPERM);
		free(bad);
	}

	/* The same signature twice: the last entry repeated. */
	TT_PASS(tly_signed_encode(&b, &s2));
	b.p[3 + s2.canon_len] = 3;
	TT_PASS(tly_buf_append(&b, b.p + b.len - 96, 96));
	bad = armor_raw(b.p, b.len);
	tly_buf_reset(&b);
	refused(f, bad, TALLY_EFORMAT);
	free(bad);
	/* ... and the same signature bytes under both parties. */
	s = s2;
	memcpy(s.sig[0], s.sig[1], TLY_SIG_BYTES);
	TT_PASS(tly_signed_encode(&b, &s));
	bad = armor_raw(b.p, b.len);
	tly_buf_reset(&b);
	refused(f, bad, TALLY_EFORMAT);
	free(bad);

	/* A claimed kind that does not match the fields: in the body
	 * (favor -> referral), and in the Kind: line. */
	TT_PASS(tly_signed_encode(&b, &s2));
	b.p[4] = TLY_REC_REFERRAL;
	bad    = armor_raw(b.p, b.len);
	tly_buf_reset(&b);
	refused(f, bad, TALLY_EFORMAT);
	free(bad);
	{
		char *k = strstr(t2, "Kind: favor");
		assert_non_null(k);
		bad = malloc(strlen(t2) + 8);
		snprintf(bad, strlen(t2) + 8, "%.*sKind: referral%s",
		    (int) (k - t2), t2, k + strlen("Kind: favor"));
		refused(f, bad, TALLY_EFORMAT);
		free(bad);
	}

	/* A record between two others (Bob and Carl), both signed: Ann is
	 * no party, she can neither sign nor take it in. */
	{
		tly_record r;
		TT_PASS(tly_record_init(&r, TLY_REC_FAVOR, 1790000000));
		memcpy(r.parties[0].pk, tly_ident_pk(f->bob.t->ident),
		    TLY_PK_BYTES);
		memcpy(r.parties[1].pk, tly_ident_pk(f->carl.t->ident),
		    TLY_PK_BYTES);
		r.date.year  = 2026;
		r.date.month = 11;
		r.date.day   = 1;
		r.favor_kind = TLY_FAVOR_ADVICE;
		TT_PASS(tly_signed_init(&s, &r, NULL));
		TT_FAIL(
		    tly_signed_sign(&s, f->ann.t->ident, NULL), TALLY_EPERM);
		TT_PASS(tly_signed_sign(&s, f->bob.t->ident, NULL));
		TT_PASS(tly_signed_sign(&s, f->carl.t->ident, NULL));
		TT_PASS(tly_signed_armor(&b, &s));
		bad = strdup(tly_buf_cstr(&b));
		tly_buf_reset(&b);
		{
			char       *sa = snapshot(f->ann.t), *out = NULL;
			char        id[TALLY_RECORD_ID_LEN + 1];
			const char *oc;
			TT_FAIL(tally_record_import(
			            f->ann.t, id, &oc, bad, strlen(bad)),
			    TALLY_EPERM);
			TT_FAIL(tally_record_sign(f->ann.t, &out, id, bad,
			            strlen(bad), NULL),
			    TALLY_EPERM);
			TT_FAIL(tally_record_decline(f->ann.t, &out, id, bad,
			            strlen(bad), NULL),
			    TALLY_EPERM);
			unchanged(f->ann.t, sa);
		}
		free(bad);
	}

	/* A revocation by a non-party: Carl revokes Ann and Bob's record. */
	{
		tly_record  r;
		char        id[TALLY_RECORD_ID_LEN + 1];
		const char *oc;
		char       *sa = snapshot(f->ann.t), *sb = snapshot(f->bob.t);

		TT_PASS(tly_record_init(&r, TLY_REC_REVOCATION, 1790000000));
		memcpy(r.parties[0].pk, tly_ident_pk(f->carl.t->ident),
		    TLY_PK_BYTES);
		memcpy(r.target, s2.id, TLY_REC_ID_BYTES);
		r.action = TLY_ACTION_REVOKE;
		TT_PASS(tly_signed_init(&s, &r, NULL));
		TT_PASS(tly_signed_sign(&s, f->carl.t->ident, NULL));
		TT_PASS(tly_signed_armor(&b, &s));
		bad = strdup(tly_buf_cstr(&b));
		tly_buf_reset(&b);
		TT_FAIL(
		    tally_record_import(f->ann.t, id, &oc, bad, strlen(bad)),
		    TALLY_EPERM);
		TT_FAIL(
		    tally_record_import(f->bob.t, id, &oc, bad, strlen(bad)),
		    TALLY_EPERM);
		unchanged(f->ann.t, sa);
		unchanged(f->bob.t, sb);
		free(bad);
	}
	TT_STREQ(get(f->ann.t, id2).state, "confirmed");
	tly_buf_free(&b);
	free(t1);
	free(t2);
}

/* -- Decline and revoke ------------------------------------------------- */

static void
test_decline_revoke(void **state)
{
	fixture    *f = *state;
	char        id1[TALLY_RECORD_ID_LEN + 1], id2[TALLY_RECORD_ID_LEN + 1];
	char        id[TALLY_RECORD_ID_LEN + 1], *t1, *t2, *d, *r, *out;
	const char *outcome;
	got         g;

	/* Bob declines Ann's proposal; Ann takes the decline in. */
	propose(f, id1, &t1, "declined one");
	TT_PASS(tally_id_unlock(f->bob.t, NULL, 0));
	TT_PASS(
	    tally_record_decline(f->bob.t, &d, id, t1, strlen(t1), "not me"));
	TT_STREQ(id, id1);
	g = get(f->bob.t, id1);
	TT_STREQ(g.state, "declined");
	TT_STREQ(g.reason, "not me");
	TT_FAIL(tally_record_sign(f->bob.t, &out, id, t1, strlen(t1), NULL),
	    TALLY_ESTATE);
	TT_FAIL(tally_record_decline(f->bob.t, &out, id, t1, strlen(t1), NULL),
	    TALLY_ESTATE);
	TT_PASS(tally_record_import(f->ann.t, id, &outcome, d, strlen(d)));
	TT_STREQ(outcome, "declined");
	g = get(f->ann.t, id1);
	TT_STREQ(g.state, "declined");
	TT_INTEQ(favor_confirmed(f->ann.t, g.favor), 0);
	TT_PASS(tally_record_import(f->ann.t, id, &outcome, d, strlen(d)));
	TT_STREQ(outcome, "unchanged");

	/* Confirmed, then Bob revokes; Ann takes the revocation in. */
	confirm(f, id2, &t2, "revoked one");
	TT_FAIL(tally_record_decline(f->bob.t, &out, id, t2, strlen(t2), NULL),
	    TALLY_ESTATE);
	TT_PASS(tally_record_revoke(f->bob.t, &r, id2, "changed my mind"));
	g = get(f->bob.t, id2);
	TT_STREQ(g.state, "revoked");
	TT_INTEQ(favor_confirmed(f->bob.t, g.favor), 0);
	TT_FAIL(tally_record_revoke(f->bob.t, &out, id2, NULL), TALLY_ESTATE);
	TT_PASS(tally_record_import(f->ann.t, id, &outcome, r, strlen(r)));
	TT_STREQ(outcome, "revoked");
	g = get(f->ann.t, id2);
	TT_STREQ(g.state, "revoked");
	TT_STREQ(g.reason, "changed my mind");
	TT_INTEQ(favor_confirmed(f->ann.t, g.favor), 0);
	TT_INTEQ(ledger_confirmed(f->ann.t), 0);
	/* A revoked record stays revoked: the co-signed copy again, no. */
	{
		char *sa = snapshot(f->ann.t);
		TT_FAIL(tally_record_import(
		            f->ann.t, id, &outcome, t2, strlen(t2)),
		    TALLY_ESTATE);
		unchanged(f->ann.t, sa);
	}
	/* The decline of one record does not apply to another. */
	{
		tly_signed s;
		tly_buf    b  = TLY_BUF_INIT;
		char      *sa = snapshot(f->ann.t), *bad;
		TT_PASS(tly_signed_parse(
		    &s, (unsigned char *) d, strlen(d), NULL));
		TT_PASS(tly_signed_encode(&b, &s));
		/* target id at container 3 + 27 + 33 */
		b.p[3 + 27 + 33] ^= 1;
		bad = armor_raw(b.p, b.len);
		TT_FAIL(tally_record_import(
		            f->ann.t, id, &outcome, bad, strlen(bad)),
		    TALLY_ECRYPTO);
		unchanged(f->ann.t, sa);
		free(bad);
		tly_buf_free(&b);
	}
	/* Ann revokes what she proposed; Bob does not hold it. */
	free(t1);
	propose(f, id1, &t1, "withdrawn");
	TT_PASS(tally_record_revoke(f->ann.t, &out, id1, NULL));
	TT_STREQ(get(f->ann.t, id1).state, "revoked");
	TT_FAIL(tally_record_import(f->bob.t, id, &outcome, out, strlen(out)),
	    TALLY_ENOENT);
	free(out);
	free(t1);
	free(t2);
	free(d);
	free(r);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_identity),
		T(test_unlock),
		T(test_peers),
		T(test_round_trip),
		T(test_link_favor),
		T(test_attacks),
		T(test_decline_revoke),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
