/*
 * records.c -- records both sides confirm: a favor, a referral or a
 * reference between me and a peer, signed by each over the same
 * canonical bytes (proto/tly_record), travelling as armored files.
 *
 * The life of a record, from one replica's side:
 *
 *   new (I sign)          -> proposed --import (co-signed)--> confirmed
 *   sign (they signed)    -> confirmed
 *   decline (a proposal)  -> declined     revoke (mine) -> revoked
 *   import of their decline or revocation: proposed -> declined,
 *   proposed or confirmed -> revoked
 *
 * Invariants:
 *  - a row's `signed` column holds the binary container with every
 *    signature gathered, each valid; it is the record's truth, the other
 *    columns are its decoded form for listing;
 *  - nothing is stored from a file before it decodes strictly, its
 *    signatures verify and I am one of its parties; every change of one
 *    call is one transaction, so a refusal changes nothing;
 *  - a record of a favor, a referral or a reference carries one favor
 *    row (linked by record.favor), so the ledger counts it once; the
 *    favor is confirmed while the record is;
 *  - declined and revoked records stay, with the signed decline or
 *    revocation (column `revocation`); history is never rewritten.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ident_int.h"
#include "records_int.h"
#include "tly_armor.h"
#include "tly_buf.h"
#include "tly_enc.h"
#include "tly_record.h"

#define RECORD_FILE_MAX (1024 * 1024) /* bytes of a record file read */
#define HEX_ID_LEN TLY_HEX_LEN(TLY_REC_ID_BYTES)

_Static_assert(TALLY_RECORD_ID_LEN == HEX_ID_LEN, "record id length");
_Static_assert(TALLY_RECORD_TEXT_MAX == TLY_REC_TEXT_MAX, "text limit");
_Static_assert(TALLY_RECORD_NAME_MAX == TLY_REC_NAME_MAX, "name limit");

static const char *const rec_states[] = { "proposed", "confirmed", "declined",
	"revoked", NULL };

/* -- Reading a record file --------------------------------------------- */

/* The next line of text[*pos..n) with trailing CR, spaces and tabs cut,
 * as the armor decoder reads lines.  Returns 0 at the end. */
static int
next_line(const char *text, size_t n, size_t *pos, const char **lp, size_t *ll)
{
	size_t      s = *pos, e;
	const char *nl;

	if (s >= n)
		return (0);
	nl   = memchr(text + s, '\n', n - s);
	e    = nl ? (size_t) (nl - text) : n;
	*pos = nl ? e + 1 : n;
	while (e > s &&
	    (text[e - 1] == '\r' || text[e - 1] == ' ' || text[e - 1] == '\t'))
		e--;
	*lp = text + s;
	*ll = e - s;
	return (1);
}

/* The armor's header lines are informative only, but a file whose
 * "Kind:" or "Id:" line disagrees with its body says one thing to the
 * eye and another to the codec: refuse it. */
static int
check_claims(
    char *err, size_t errlen, const char *text, size_t n, const tly_signed *s)
{
	static const char begin[] = "-----BEGIN " TLY_ARMOR_RECORD "-----";
	const char       *lp, *kind = tly_rec_kind_name(s->rec.kind);
	char              idhex[HEX_ID_LEN + 1];
	size_t            pos = 0, ll;

	tly_hex_encode(idhex, s->id, sizeof s->id);
	while (next_line(text, n, &pos, &lp, &ll))
		if (ll == sizeof begin - 1 && memcmp(lp, begin, ll) == 0)
			break;
	while (next_line(text, n, &pos, &lp, &ll) && ll > 0) {
		if (ll > 6 && memcmp(lp, "Kind: ", 6) == 0 &&
		    (ll - 6 != strlen(kind) || memcmp(lp + 6, kind, ll - 6))) {
			snprintf(err, errlen,
			    "the file says it holds a %.*s but its body is a "
			    "%s: refused",
			    (int) (ll - 6 > 40 ? 40 : ll - 6), lp + 6, kind);
			return (TALLY_EFORMAT);
		}
		if (ll > 4 && memcmp(lp, "Id: ", 4) == 0 &&
		    (ll - 4 != HEX_ID_LEN || memcmp(lp + 4, idhex, ll - 4))) {
			snprintf(err, errlen,
			    "the file's Id line does not match its body (the "
			    "body is record %.8s): refused",
			    idhex);
			return (TALLY_EFORMAT);
		}
	}
	return (0);
}

/* Decodes the record file p[0..n) into s (strictly: tly_signed_parse),
 * checks its header lines, and verifies its signatures into v.  Any
 * refusal writes one line to err and returns its code: TALLY_EFORMAT,
 * TALLY_ETOOBIG, TALLY_EUNSUPP, TALLY_EPERM; TALLY_ECRYPTO only when
 * sigs_must_verify is set. */
static int
read_file(tly_signed *s, tly_verify *v, int sigs_must_verify, char *err,
    size_t errlen, const void *p, size_t n)
{
	const unsigned char *b   = p;
	int                  why = TLY_WHY_NONE, rv;

	if (n == 0) {
		snprintf(err, errlen, "the file is empty");
		return (TALLY_EFORMAT);
	}
	if (n > RECORD_FILE_MAX) {
		snprintf(err, errlen,
		    "the file is too big for a record (%zu bytes, at most "
		    "%d)",
		    n, RECORD_FILE_MAX);
		return (TALLY_ETOOBIG);
	}
	if ((rv = tly_signed_parse(s, b, n, &why)) != 0) {
		if (why == TLY_WHY_NOT_PARTY)
			snprintf(err, errlen,
			    "a signature is by someone who is not a party of "
			    "the record: refused");
		else if (why == TLY_WHY_DUP_SIG)
			snprintf(err, errlen,
			    "the same signature or signer appears twice: "
			    "refused");
		else if (why == TLY_WHY_ARMOR_BEGIN)
			snprintf(err, errlen,
			    "no tally record in the file (no "
			    "'-----BEGIN " TLY_ARMOR_RECORD "-----' line)");
		else
			snprintf(err, errlen,
			    "not a valid tally record: %s (the file was "
			    "damaged or changed)",
			    tly_why_str(why));
		return (rv);
	}
	if (b[0] >= 0x20 || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		if ((rv = check_claims(err, errlen, p, n, s)) != 0)
			return (rv);
	}
	if (tly_signed_verify(s, v, NULL) != 0 && sigs_must_verify) {
		snprintf(err, errlen,
		    "a signature does not verify: the record was changed "
		    "after it was signed, or the signature belongs to "
		    "another record");
		return (TALLY_ECRYPTO);
	}
	return (0);
}

/* read_file() for a handle: the message goes to t. */
static int
load(tally *t, tly_signed *s, tly_verify *v, const void *p, size_t n)
{
	char err[sizeof t->err];
	int  rv;

	if ((rv = read_file(s, v, 1, err, sizeof err, p, n)) != 0)
		return (tly_seterr(t, rv, "%s", err));
	return (0);
}

/* The kinds a replica keeps: two parties, me and a peer. */
static int
kind_supported(tally *t, int kind)
{
	if (kind == TLY_REC_FAVOR || kind == TLY_REC_REFERRAL ||
	    kind == TLY_REC_REFERENCE)
		return (0);
	return (tly_seterr(t, TALLY_EUNSUPP,
	    "%s records are not supported by this replica yet",
	    tly_rec_kind_name(kind)));
}

/* Finds my index among s's parties; TALLY_EPERM naming them if I am
 * not one. */
static int
my_index(tally *t, const tly_signed *s, const char *what, int *idx)
{
	unsigned char mine[TLY_PK_BYTES];
	char          a[TLY_TALLYID_LEN + 1], b[TLY_TALLYID_LEN + 1];
	int           rv;

	if ((rv = tly_my_pk(t, mine)) != 0)
		return (rv);
	if ((*idx = tly_record_party(&s->rec, mine)) >= 0)
		return (0);
	tly_tallyid_encode(a, s->rec.parties[0].pk);
	if (s->rec.nparties > 1)
		tly_tallyid_encode(b, s->rec.parties[1].pk);
	else
		b[0] = '\0';
	return (tly_seterr(t, TALLY_EPERM,
	    "you are not a party of this record (it is between %s and %s%s): "
	    "only a party may %s it",
	    a, b, s->rec.nparties > 2 ? " and another" : "", what));
}

/* -- Stored rows ------------------------------------------------------- */

typedef struct stored {
	int        found;
	char       state[16];
	char       favor[TALLY_ID_LEN + 1]; /* "" if none */
	tly_signed s;                       /* the stored container */
} stored;

static int
stored_get(tally *t, stored *out, const char *idhex)
{
	sqlite3_stmt *st;
	int           rc, rv = 0;

	memset(out, 0, sizeof *out);
	st = tly_stmt(t,
	    "SELECT state, favor, signed FROM record"
	    " WHERE id = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, idhex);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->found = 1;
		snprintf(
		    out->state, sizeof out->state, "%s", tly_col_text(st, 0));
		if (tly_col_text(st, 1) != NULL)
			snprintf(out->favor, sizeof out->favor, "%s",
			    tly_col_text(st, 1));
		if (tly_signed_decode(&out->s, sqlite3_column_blob(st, 2),
		        (size_t) sqlite3_column_bytes(st, 2), NULL) != 0)
			rv = tly_seterr(t, TALLY_ECORRUPT,
			    "stored record %.8s is damaged", idhex);
	} else if (rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading a record");
	sqlite3_reset(st);
	return (rv);
}

/* The binary container of s, malloc'd into b. */
static int
container(tally *t, tly_buf *b, const tly_signed *s)
{
	if (tly_signed_encode(b, s) != 0)
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	return (0);
}

/* Stores s as a new row from my side (mine: my party index), with the
 * other party's person id (or NULL) and favor id (or NULL). */
static int
row_insert(tally *t, const tly_signed *s, int mine, const char *person,
    const char *state, int proposed_by_me, const char *favor)
{
	const tly_record *r = &s->rec;
	sqlite3_stmt     *st;
	tly_buf           b = TLY_BUF_INIT;
	char              idhex[HEX_ID_LEN + 1], date[TLY_DATE_LEN];
	int64_t           now = tly_now();
	int               rv;

	if ((rv = container(t, &b, s)) != 0)
		return (rv);
	st = tly_stmt(t,
	    "INSERT INTO record(id, kind, state, peer_pk, person, by_me,"
	    " proposed_by_me, happened, favor_kind, name, note, signed,"
	    " favor, created, stored, updated, confirmed_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, nullif(?10, ''),"
	    " ?11, ?12, ?13, ?14, ?15, ?15,"
	    " CASE WHEN ?3 = 'confirmed' THEN ?15 END)");
	if (st == NULL) {
		tly_buf_free(&b);
		return (TALLY_EINTERNAL);
	}
	tly_hex_encode(idhex, s->id, sizeof s->id);
	tly_date_format(date, &r->date);
	tly_bind_text(st, 1, idhex);
	tly_bind_text(st, 2, tly_rec_kind_name(r->kind));
	tly_bind_text(st, 3, state);
	sqlite3_bind_blob(
	    st, 4, r->parties[1 - mine].pk, TLY_PK_BYTES, SQLITE_TRANSIENT);
	tly_bind_text(st, 5, person);
	sqlite3_bind_int(st, 6, mine == 0);
	sqlite3_bind_int(st, 7, proposed_by_me);
	tly_bind_text(st, 8, date);
	tly_bind_text(st, 9,
	    r->kind == TLY_REC_FAVOR ? tly_favor_kind_name(r->favor_kind)
	                             : NULL);
	tly_bind_text(st, 10, r->name);
	tly_bind_text(st, 11, r->text);
	sqlite3_bind_blob(st, 12, b.p, (int) b.len, SQLITE_TRANSIENT);
	tly_bind_text(st, 13, favor);
	sqlite3_bind_int64(st, 14, r->created);
	sqlite3_bind_int64(st, 15, now);
	rv = tly_step_done(t, st, "storing a record");
	tly_buf_free(&b);
	return (rv);
}

/* Sets the confirmed flag of the favor linked to record idhex. */
static int
favor_confirm(tally *t, const char *idhex, int confirmed)
{
	sqlite3_stmt *st;

	st = tly_stmt(t,
	    "UPDATE favor SET confirmed = ?2, updated = ?3"
	    " WHERE id = (SELECT favor FROM record WHERE id = ?1)"
	    " AND confirmed <> ?2");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, idhex);
	sqlite3_bind_int(st, 2, confirmed);
	sqlite3_bind_int64(st, 3, tly_now());
	return (tly_step_done(t, st, "confirming a favor"));
}

/* The favor kind a record stands for in the ledger. */
static const char *
favor_kind_of(const tly_record *r)
{
	switch (r->kind) {
	case TLY_REC_REFERRAL:
		return ("referral");
	case TLY_REC_REFERENCE:
		return ("reference");
	default:
		return (tly_favor_kind_name(r->favor_kind));
	}
}

/* Adds the favor that record s stands for, from my side, done on its
 * date; its id goes to fid. */
static int
favor_add(
    tally *t, char *fid, const tly_signed *s, int mine, const char *person)
{
	const tly_record *r = &s->rec;
	tally_favor       f;
	tly_buf           note = TLY_BUF_INIT;
	char              date[TLY_DATE_LEN];
	int               rv;

	memset(&f, 0, sizeof f);
	tly_date_format(date, &r->date);
	if (tly_when_parse(date, tly_now(), &f.done_at) != 0)
		f.done_at = 0;
	f.giver    = mine == 0 ? t->me : person;
	f.receiver = mine == 0 ? person : t->me;
	f.kind     = favor_kind_of(r);
	f.status   = "done";
	f.weight   = TALLY_UNSET;
	if (r->kind == TLY_REC_REFERRAL ||
	    (r->kind == TLY_REC_REFERENCE && r->name[0] != '\0'))
		rv = tly_buf_printf(&note, "%s %s%s%s",
		    r->kind == TLY_REC_REFERRAL ? "to" : "for", r->name,
		    r->text[0] ? ": " : "", r->text);
	else
		rv = tly_buf_puts(&note, r->text);
	if (rv != 0 || tly_buf_cstr(&note) == NULL) {
		tly_buf_free(&note);
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	}
	f.note = note.len ? (const char *) note.p : NULL;
	rv     = tally_favor_add(t, fid, &f);
	tly_buf_free(&note);
	return (rv);
}

/* What a favor the user names says, for linking it to a record. */
typedef struct favor_info {
	char    person[TALLY_ID_LEN + 1];
	int     dir;
	char    kind[16];
	char    status[16];
	int64_t done_at;
	char   *note;                   /* malloc'd or NULL */
	char    record[HEX_ID_LEN + 1]; /* a live record linking it, or "" */
} favor_info;

static int
favor_info_get(tally *t, favor_info *fi, const char *fid)
{
	sqlite3_stmt *st;
	int           rc, rv = 0;

	memset(fi, 0, sizeof *fi);
	st = tly_stmt(t,
	    "SELECT person, dir, kind, status, done_at, note,"
	    " (SELECT id FROM record r WHERE r.favor = f.id AND"
	    "  r.state IN ('proposed', 'confirmed') LIMIT 1)"
	    " FROM favor f WHERE id = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, fid);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(
		    fi->person, sizeof fi->person, "%s", tly_col_text(st, 0));
		fi->dir = sqlite3_column_int(st, 1);
		snprintf(fi->kind, sizeof fi->kind, "%s", tly_col_text(st, 2));
		snprintf(
		    fi->status, sizeof fi->status, "%s", tly_col_text(st, 3));
		fi->done_at = sqlite3_column_int64(st, 4);
		if (tly_col_text(st, 5) != NULL &&
		    (fi->note = strdup(tly_col_text(st, 5))) == NULL)
			rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
		if (tly_col_text(st, 6) != NULL)
			snprintf(fi->record, sizeof fi->record, "%s",
			    tly_col_text(st, 6));
	} else if (rc == SQLITE_DONE)
		rv = tly_seterr(t, TALLY_ENOENT, "no favor with id %s", fid);
	else
		rv = tly_dberr(t, "reading a favor");
	sqlite3_reset(st);
	return (rv);
}

/* Checks that favor fi can stand for record r with person (mine: my
 * party index). */
static int
favor_fits(tally *t, const favor_info *fi, const char *fid,
    const tly_record *r, int mine, const char *person)
{
	if (strcmp(fi->person, person) != 0)
		return (tly_seterr(t, TALLY_EINVAL,
		    "favor %.8s is with someone else than the record's other "
		    "party",
		    fid));
	if (fi->dir != (mine == 0 ? 1 : -1))
		return (tly_seterr(t, TALLY_EINVAL,
		    "favor %.8s went the other way (%s)", fid,
		    fi->dir == 1 ? "you gave it" : "you received it"));
	if (strcmp(fi->kind, favor_kind_of(r)) != 0)
		return (tly_seterr(t, TALLY_EINVAL,
		    "favor %.8s is a %s, the record a %s", fid, fi->kind,
		    favor_kind_of(r)));
	if (strcmp(fi->status, "done") != 0)
		return (tly_seterr(t, TALLY_ESTATE,
		    "favor %.8s is not done (tally favor done %.8s)", fid,
		    fid));
	if (fi->record[0] != '\0')
		return (tly_seterr(t, TALLY_ESTATE,
		    "favor %.8s belongs to record %.8s already", fid,
		    fi->record));
	return (0);
}

/* Links the favor named by the user (fid) to record s, or adds one;
 * the favor id goes to out. */
static int
favor_for(tally *t, char *out, const char *fid, const tly_signed *s, int mine,
    const char *person)
{
	favor_info fi;
	int        rv;

	if (fid == NULL)
		return (favor_add(t, out, s, mine, person));
	if ((rv = favor_info_get(t, &fi, fid)) == 0 &&
	    (rv = favor_fits(t, &fi, fid, &s->rec, mine, person)) == 0)
		snprintf(out, TALLY_ID_LEN + 1, "%s", fid);
	free(fi.note);
	return (rv);
}

/* -- Making a record --------------------------------------------------- */

/* Copies s into dst (max bytes + NUL) after checking its length. */
static int
put_field(tally *t, char *dst, const char *s, size_t max, const char *what)
{
	size_t n = s ? strlen(s) : 0;

	if (n > max)
		return (tly_seterr(t, TALLY_EINVAL,
		    "the %s is too long for a record (%zu bytes, at most %zu)",
		    what, n, max));
	if (n > 0 && !tly_utf8_valid(s, n))
		return (tly_seterr(
		    t, TALLY_EINVAL, "the %s is not valid UTF-8", what));
	memcpy(dst, s ? s : "", n);
	dst[n] = '\0';
	return (0);
}

/* Encodes r into s (tly_signed_init) with a message naming the fault. */
static int
encode(tally *t, tly_signed *s, const tly_record *r)
{
	int why = TLY_WHY_NONE, rv;

	if ((rv = tly_signed_init(s, r, &why)) == 0)
		return (0);
	if (rv == TALLY_ENOMEM)
		return (tly_seterr(t, rv, "out of memory"));
	return (tly_seterr(
	    t, TALLY_EINVAL, "cannot make the record: %s", tly_why_str(why)));
}

int
tally_record_new(tally *t, char *id, const tally_record_in *in)
{
	const tly_ident *ident;
	unsigned char    mine[TLY_PK_BYTES], theirs[TLY_PK_BYTES];
	tly_record       r;
	tly_signed       s;
	favor_info       fi;
	char             fid[TALLY_ID_LEN + 1], date[TLY_DATE_LEN];
	const char      *fkind = in->favor_kind, *note = in->note;
	const char      *day = in->date;
	int              kind, by_me = in->by_me, m, rv;

	memset(&fi, 0, sizeof fi);
	if (t->me[0] == '\0')
		return (tly_seterr(t, TALLY_ENOTINIT,
		    "the replica has no user yet (run 'tally init')"));
	kind = tly_rec_kind_parse(in->kind);
	if (kind != TLY_REC_FAVOR && kind != TLY_REC_REFERRAL &&
	    kind != TLY_REC_REFERENCE)
		return (tly_seterr(t, TALLY_EINVAL,
		    "unknown record kind '%s' (favor, referral, reference)",
		    in->kind ? in->kind : ""));
	if (in->with == NULL)
		return (tly_seterr(t, TALLY_EINVAL,
		    "a record needs the other party (--with PERSON)"));
	if ((rv = tly_my_pk(t, mine)) != 0 ||
	    (rv = tly_peer_pk(t, in->with, theirs)) != 0)
		return (rv);
	if (in->favor != NULL) {
		/* Unset fields come from the favor. */
		if ((rv = favor_info_get(t, &fi, in->favor)) != 0)
			goto out;
		if (by_me == TALLY_UNSET)
			by_me = fi.dir == 1;
		if (fkind == NULL && kind == TLY_REC_FAVOR)
			fkind = fi.kind;
		if (note == NULL)
			note = fi.note;
		if (day == NULL && fi.done_at != 0) {
			tly_time_date(fi.done_at, date);
			day = date;
		}
	}
	if (by_me == TALLY_UNSET)
		by_me = 0;
	if (day == NULL) {
		tly_time_date(tly_now(), date);
		day = date;
	}
	if ((rv = tly_record_init(&r, kind, tly_now())) != 0)
		goto out;
	m = by_me ? 0 : 1;
	memcpy(r.parties[m].pk, mine, TLY_PK_BYTES);
	memcpy(r.parties[1 - m].pk, theirs, TLY_PK_BYTES);
	if (tly_date_parse(&r.date, day) != 0) {
		rv = tly_seterr(
		    t, TALLY_EINVAL, "'%s' is not a date (YYYY-MM-DD)", day);
		goto out;
	}
	if (kind == TLY_REC_FAVOR &&
	    (r.favor_kind = tly_favor_kind_parse(fkind ? fkind : "other")) ==
	        0) {
		rv = tly_seterr(t, TALLY_EINVAL,
		    "unknown favor kind '%s' (introduction, reference, "
		    "referral, advice, resume, info, other)",
		    fkind);
		goto out;
	}
	if (kind == TLY_REC_REFERRAL && (in->name == NULL || !*in->name)) {
		rv = tly_seterr(t, TALLY_EINVAL,
		    "a referral says to whom (--company TEXT)");
		goto out;
	}
	if (kind != TLY_REC_FAVOR &&
	    (rv = put_field(t, r.name, in->name, TLY_REC_NAME_MAX,
	         kind == TLY_REC_REFERRAL ? "company" : "'for' text")) != 0)
		goto out;
	if ((rv = put_field(t, r.text, note, TLY_REC_TEXT_MAX, "note")) != 0 ||
	    (rv = encode(t, &s, &r)) != 0)
		goto out;
	if ((ident = tly_my_ident(t)) == NULL) {
		rv = TALLY_ENOTINIT;
		goto out;
	}
	if ((rv = tly_signed_sign(&s, ident, NULL)) != 0) {
		rv = tly_seterr(t, TALLY_EINTERNAL, "cannot sign the record");
		goto out;
	}
	if ((rv = tly_begin(t)) != 0)
		goto out;
	if ((rv = favor_for(t, fid, in->favor, &s, m, in->with)) != 0 ||
	    (rv = row_insert(t, &s, m, in->with, "proposed", 1, fid)) != 0) {
		tly_rollback(t);
		goto out;
	}
	if ((rv = tly_commit(t)) == 0)
		tly_hex_encode(id, s.id, sizeof s.id);
out:
	free(fi.note);
	return (rv);
}

int
tally_record_resolve(tally *t, char *id, const char *spec)
{
	sqlite3_stmt *st;
	char          lower[HEX_ID_LEN + 1], cands[200] = "";
	size_t        len = strlen(spec), used;
	int           n   = 0, rc;

	if (len < TLY_MIN_PREFIX || len > HEX_ID_LEN)
		return (tly_seterr(t, TALLY_ENOENT,
		    "no record '%.80s' (give 4 to 64 hex characters of its "
		    "id)",
		    spec));
	for (size_t i = 0; i <= len; i++) {
		char c = spec[i];
		if (c >= 'A' && c <= 'F')
			c = (char) (c - 'A' + 'a');
		if (i < len &&
		    !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return (tly_seterr(t, TALLY_ENOENT,
			    "no record '%.80s' (a record id is hex)", spec));
		lower[i] = c;
	}
	st = tly_stmt(t,
	    "SELECT id, kind FROM record"
	    " WHERE id >= ?1 AND id < ?1 || 'g' LIMIT 9");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, lower);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == 0)
			snprintf(
			    id, HEX_ID_LEN + 1, "%s", tly_col_text(st, 0));
		used = strlen(cands);
		if (n < 8 && used < sizeof cands)
			snprintf(cands + used, sizeof cands - used,
			    "%s%.8s %s", n ? ", " : "", tly_col_text(st, 0),
			    tly_col_text(st, 1));
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (tly_dberr(t, "reading records"));
	if (n > 1)
		return (tly_seterr(t, TALLY_EAMBIG,
		    "record id '%s' is ambiguous: %s", spec, cands));
	if (n == 0)
		return (tly_seterr(t, TALLY_ENOENT, "no record '%s'", spec));
	return (0);
}

/* -- Showing records --------------------------------------------------- */

static const char *
sig_word(int state)
{
	return (state == TLY_SIG_VALID     ? "valid"
	        : state == TLY_SIG_INVALID ? "invalid"
	                                   : "missing");
}

/* The text of a record's parties and fields, for a tally_record. */
typedef struct rec_text {
	char  id[HEX_ID_LEN + 1];
	char  target[HEX_ID_LEN + 1];
	char  date[TLY_DATE_LEN];
	char  tid[TLY_REC_MAX_PARTIES][TLY_TALLYID_LEN + 1];
	char  fpr[TLY_REC_MAX_PARTIES][TLY_FPR_LEN + 1];
	char  person[TLY_REC_MAX_PARTIES][TALLY_ID_LEN + 1];
	char *name[TLY_REC_MAX_PARTIES]; /* malloc'd or NULL */
	int   is_me[TLY_REC_MAX_PARTIES];
} rec_text;

static void
rec_text_free(rec_text *rt)
{
	for (size_t i = 0; i < TLY_REC_MAX_PARTIES; i++) {
		free(rt->name[i]);
		rt->name[i] = NULL;
	}
}

/* My name in this replica, malloc'd, or NULL. */
static char *
my_name(tally *t)
{
	sqlite3_stmt *st;
	char         *name = NULL;

	st = tly_stmt(t, "SELECT name FROM person WHERE is_me");
	if (st == NULL)
		return (NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		name = strdup(tly_col_text(st, 0));
	sqlite3_reset(st);
	return (name);
}

/* Marks party i as me in rt. */
static void
party_me(tally *t, rec_text *rt, size_t i)
{
	rt->is_me[i] = 1;
	snprintf(rt->person[i], sizeof rt->person[i], "%s", t->me);
	rt->name[i] = my_name(t);
}

/* Looks up who each party of s is in this replica, by key (best
 * effort: names are only a help, a failure leaves them out). */
static void
party_lookup(tally *t, rec_text *rt, const tly_signed *s)
{
	unsigned char mine[TLY_PK_BYTES];
	int           have_me;

	if (t == NULL)
		return;
	have_me = tly_my_pk(t, mine) == 0;
	for (size_t i = 0; i < s->rec.nparties; i++) {
		if (have_me &&
		    sodium_memcmp(mine, s->rec.parties[i].pk, TLY_PK_BYTES) ==
		        0)
			party_me(t, rt, i);
		else
			(void) tly_peer_find(t, s->rec.parties[i].pk,
			    rt->person[i], &rt->name[i], NULL);
	}
}

/* Fills r from s and its verification v; strings point into s and rt. */
static void
fill(tally_record *r, rec_text *rt, const tly_signed *s, const tly_verify *v)
{
	const tly_record *rec = &s->rec;

	tly_hex_encode(rt->id, s->id, sizeof s->id);
	r->id       = rt->id;
	r->kind     = tly_rec_kind_name(rec->kind);
	r->text     = rec->text;
	r->nparties = rec->nparties;
	r->created  = rec->created;
	r->complete = v->complete;
	if (rec->kind == TLY_REC_REVOCATION) {
		tly_hex_encode(rt->target, rec->target, sizeof rec->target);
		r->target = rt->target;
		r->action = tly_action_name(rec->action);
	} else {
		tly_date_format(rt->date, &rec->date);
		r->date = rt->date;
	}
	if (rec->kind == TLY_REC_FAVOR)
		r->favor_kind = tly_favor_kind_name(rec->favor_kind);
	if (rec->kind == TLY_REC_REFERRAL ||
	    (rec->kind == TLY_REC_REFERENCE && rec->name[0] != '\0'))
		r->name = rec->name;
	for (size_t i = 0; i < rec->nparties; i++) {
		tally_record_party *p = &r->parties[i];
		tly_tallyid_encode(rt->tid[i], rec->parties[i].pk);
		tly_fingerprint(rt->fpr[i], rec->parties[i].pk);
		p->role        = tly_rec_role_name(rec->parties[i].role);
		p->tally_id    = rt->tid[i];
		p->fingerprint = rt->fpr[i];
		p->signature   = sig_word(v->state[i]);
		p->person      = rt->person[i][0] ? rt->person[i] : NULL;
		p->name        = rt->name[i];
		p->is_me       = rt->is_me[i];
	}
}

/* Walks stored records (one id, or those in state, or all). */
static int
walk(
    tally *t, const char *id, const char *state, tally_record_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int           rc, rv = 0, n = 0;

	st = tly_stmt(t,
	    "SELECT r.id, r.state, r.person, p.name, r.by_me,"
	    " r.proposed_by_me, r.favor, r.reason, r.closed_by_me,"
	    " r.confirmed_at, r.closed_at, r.updated, r.signed"
	    " FROM record r LEFT JOIN person p ON p.id = r.person"
	    " WHERE (?1 IS NULL OR r.id = ?1) AND (?2 IS NULL OR r.state = ?2)"
	    " ORDER BY r.created DESC, r.rid DESC");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	tly_bind_text(st, 2, state);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tally_record r;
		rec_text     rt;
		tly_signed   s;
		tly_verify   v;
		int          mine = sqlite3_column_int(st, 4) ? 0 : 1;

		n++;
		if (tly_signed_decode(&s, sqlite3_column_blob(st, 12),
		        (size_t) sqlite3_column_bytes(st, 12), NULL) != 0 ||
		    s.rec.nparties != 2) {
			rv = tly_seterr(t, TALLY_ECORRUPT,
			    "stored record %.8s is damaged",
			    tly_col_text(st, 0));
			break;
		}
		(void) tly_signed_verify(&s, &v, NULL);
		memset(&r, 0, sizeof r);
		memset(&rt, 0, sizeof rt);
		party_me(t, &rt, (size_t) mine);
		if (tly_col_text(st, 2) != NULL) {
			snprintf(rt.person[1 - mine], sizeof rt.person[0],
			    "%s", tly_col_text(st, 2));
			rt.name[1 - mine] = strdup(tly_col_text(st, 3));
		}
		fill(&r, &rt, &s, &v);
		r.state          = tly_col_text(st, 1);
		r.person         = tly_col_text(st, 2);
		r.person_name    = tly_col_text(st, 3);
		r.by_me          = mine == 0;
		r.proposed_by_me = sqlite3_column_int(st, 5);
		r.favor          = tly_col_text(st, 6);
		r.reason         = tly_col_text(st, 7);
		r.closed_by_me   = sqlite3_column_int(st, 8);
		r.confirmed      = sqlite3_column_int64(st, 9);
		r.closed         = sqlite3_column_int64(st, 10);
		r.updated        = sqlite3_column_int64(st, 11);
		rv               = fn(arg, &r);
		rec_text_free(&rt);
		if (rv != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = tly_dberr(t, "reading records");
	sqlite3_reset(st);
	if (rv == 0 && id != NULL && n == 0)
		rv = tly_seterr(t, TALLY_ENOENT, "no record %.8s", id);
	return (rv);
}

int
tally_record_get(tally *t, const char *id, tally_record_fn fn, void *arg)
{
	return (walk(t, id, NULL, fn, arg));
}

int
tally_record_list(tally *t, const char *state, tally_record_fn fn, void *arg)
{
	if (state != NULL && !tly_oneof(state, rec_states))
		return (tly_seterr(t, TALLY_EINVAL,
		    "unknown record state '%s' (proposed, confirmed, "
		    "declined, "
		    "revoked)",
		    state));
	return (walk(t, NULL, state, fn, arg));
}

/* Hands the armored text of s to *text (malloc'd). */
static int
armored(tally *t, char **text, const tly_signed *s)
{
	tly_buf b = TLY_BUF_INIT;
	char   *c;

	*text = NULL;
	if (tly_signed_armor(&b, s) != 0 || (c = tly_buf_cstr(&b)) == NULL ||
	    (*text = strdup(c)) == NULL) {
		tly_buf_free(&b);
		return (tly_seterr(t, TALLY_ENOMEM, "out of memory"));
	}
	tly_buf_free(&b);
	return (0);
}

int
tally_record_export(tally *t, char **text, const char *id, int revocation)
{
	sqlite3_stmt *st;
	tly_signed    s;
	int           rc, rv = 0, col = revocation ? 1 : 0;

	*text = NULL;
	st    = tly_stmt(t,
	       "SELECT signed, revocation FROM record"
	          " WHERE id = ?1");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_type(st, col) == SQLITE_NULL)
			rv = tly_seterr(t, TALLY_ENOENT,
			    "record %.8s was neither declined nor revoked",
			    id);
		else if (tly_signed_decode(&s, sqlite3_column_blob(st, col),
		             (size_t) sqlite3_column_bytes(st, col),
		             NULL) != 0)
			rv = tly_seterr(t, TALLY_ECORRUPT,
			    "stored record %.8s is damaged", id);
	} else if (rc == SQLITE_DONE)
		rv = tly_seterr(t, TALLY_ENOENT, "no record %.8s", id);
	else
		rv = tly_dberr(t, "reading a record");
	sqlite3_reset(st);
	if (rv != 0)
		return (rv);
	return (armored(t, text, &s));
}

/* -- Signing what the other side proposed ------------------------------ */

/* A record file someone asks me to sign, checked. */
typedef struct incoming {
	tly_signed s;
	tly_verify v;
	int        mine;  /* my party index */
	int        other; /* theirs */
	char       person[TALLY_ID_LEN + 1];
	char      *name; /* malloc'd */
	int64_t    verified;
} incoming;

static int
sign_check(tally *t, incoming *in, const void *p, size_t n)
{
	char   tid[TLY_TALLYID_LEN + 1], idhex[HEX_ID_LEN + 1];
	stored st;
	int    rv;

	memset(in, 0, sizeof *in);
	if ((rv = load(t, &in->s, &in->v, p, n)) != 0)
		return (rv);
	if (in->s.rec.kind == TLY_REC_REVOCATION)
		return (tly_seterr(t, TALLY_EINVAL,
		    "this is a %s, not a record to sign (take it in with "
		    "'tally record import FILE')",
		    in->s.rec.action == TLY_ACTION_DECLINE ? "decline"
		                                           : "revocation"));
	if ((rv = kind_supported(t, in->s.rec.kind)) != 0 ||
	    (rv = my_index(t, &in->s, "sign", &in->mine)) != 0)
		return (rv);
	in->other = 1 - in->mine;
	tly_hex_encode(idhex, in->s.id, sizeof in->s.id);
	if (in->s.has_sig[in->mine])
		return (tly_seterr(t, TALLY_ESTATE,
		    "you have signed record %.8s already (take a copy signed "
		    "by both in with 'tally record import FILE', or write "
		    "yours with 'tally record export %.8s')",
		    idhex, idhex));
	tly_tallyid_encode(tid, in->s.rec.parties[in->other].pk);
	if (!in->s.has_sig[in->other])
		return (tly_seterr(t, TALLY_EFORMAT,
		    "record %.8s is not signed by anyone: nothing to "
		    "confirm",
		    idhex));
	if ((rv = stored_get(t, &st, idhex)) != 0)
		return (rv);
	if (st.found)
		return (tly_seterr(t, TALLY_ESTATE,
		    "record %.8s is %s in your replica already", idhex,
		    st.state));
	rv = tly_peer_find(t, in->s.rec.parties[in->other].pk, in->person,
	    &in->name, &in->verified);
	if (rv == TALLY_ENOENT)
		return (tly_seterr(t, rv,
		    "the other party (%s) is not linked to anyone in your "
		    "replica: make sure who sent it, then 'tally peer add "
		    "PERSON %s'",
		    tid, tid));
	return (rv);
}

/* Appends to b what record r says, from my side (other: their party
 * index), naming them by name and tally id tid. */
static int
say(tly_buf *b, const tly_record *r, int other, const char *name,
    const char *tid)
{
	char date[TLY_DATE_LEN];
	int  they = other == 0; /* they gave, referred, are the referee */
	int  rv;

	tly_date_format(date, &r->date);
	switch (r->kind) {
	case TLY_REC_FAVOR:
		rv = tly_buf_printf(b,
		    they ? "%s (%s) says they did you a favor (%s) on %s"
		         : "%s (%s) says you did them a favor (%s) on %s",
		    name, tid, tly_favor_kind_name(r->favor_kind), date);
		break;
	case TLY_REC_REFERRAL:
		rv = tly_buf_printf(b,
		    they ? "%s (%s) says they referred you to %s on %s"
		         : "%s (%s) says you referred them to %s on %s",
		    name, tid, r->name, date);
		break;
	default:
		rv = tly_buf_printf(b,
		    they ? "%s (%s) says they gave you a reference%s%s on %s"
		         : "%s (%s) says you gave them a reference%s%s on %s",
		    name, tid, r->name[0] ? " for " : "", r->name, date);
		break;
	}
	if (rv == 0)
		rv = r->text[0] ? tly_buf_printf(b, ": %s", r->text)
		                : tly_buf_puts(b, ".");
	return (rv);
}

int
tally_record_words(tally *t, char **words, const void *p, size_t n)
{
	incoming in;
	tly_buf  b = TLY_BUF_INIT;
	char     tid[TLY_TALLYID_LEN + 1];
	char    *c;
	int      rv;

	*words = NULL;
	if ((rv = sign_check(t, &in, p, n)) != 0)
		goto out;
	tly_tallyid_encode(tid, in.s.rec.parties[in.other].pk);
	rv = say(&b, &in.s.rec, in.other, in.name, tid);
	if (rv == 0 && !in.verified)
		rv = tly_buf_printf(&b,
		    "\n(You have not verified %s's tally id yet: compare "
		    "safety codes with 'tally peer verify PERSON'.)",
		    in.name);
	if (rv != 0 || (c = tly_buf_cstr(&b)) == NULL ||
	    (*words = strdup(c)) == NULL)
		rv = tly_seterr(t, TALLY_ENOMEM, "out of memory");
out:
	tly_buf_free(&b);
	free(in.name);
	return (rv);
}

int
tally_record_sign(tally *t, char **text, char *id, const void *p, size_t n,
    const char *favor)
{
	const tly_ident *ident;
	incoming         in;
	tly_verify       v;
	char             idhex[HEX_ID_LEN + 1], fid[TALLY_ID_LEN + 1];
	int              rv;

	*text = NULL;
	if (t->me[0] == '\0')
		return (tly_seterr(t, TALLY_ENOTINIT,
		    "the replica has no user yet (run 'tally init')"));
	if ((rv = sign_check(t, &in, p, n)) != 0)
		goto out;
	if ((ident = tly_my_ident(t)) == NULL) {
		rv = TALLY_ENOTINIT;
		goto out;
	}
	if (tly_signed_sign(&in.s, ident, NULL) != 0 ||
	    tly_signed_verify(&in.s, &v, NULL) != 0 || !v.complete) {
		rv = tly_seterr(t, TALLY_EINTERNAL, "cannot sign the record");
		goto out;
	}
	tly_hex_encode(idhex, in.s.id, sizeof in.s.id);
	if ((rv = armored(t, text, &in.s)) != 0 || (rv = tly_begin(t)) != 0)
		goto out;
	if ((rv = favor_for(t, fid, favor, &in.s, in.mine, in.person)) != 0 ||
	    (rv = row_insert(
	         t, &in.s, in.mine, in.person, "confirmed", 0, fid)) != 0 ||
	    (rv = favor_confirm(t, idhex, 1)) != 0) {
		tly_rollback(t);
		goto out;
	}
	if ((rv = tly_commit(t)) == 0)
		memcpy(id, idhex, sizeof idhex);
out:
	if (rv != 0) {
		free(*text);
		*text = NULL;
	}
	free(in.name);
	return (rv);
}

/* -- Declines and revocations ----------------------------------------- */

/* Makes and signs my decline or revocation (action) of target. */
static int
revocation_new(tally *t, tly_signed *out, const tly_signed *target, int action,
    const char *reason)
{
	const tly_ident *ident;
	tly_record       r;
	int              rv;

	if ((rv = tly_record_init(&r, TLY_REC_REVOCATION, tly_now())) != 0)
		return (tly_seterr(t, TALLY_EINTERNAL, "bad record kind"));
	if ((rv = put_field(t, r.text, reason, TLY_REC_TEXT_MAX, "reason")) !=
	    0)
		return (rv);
	if ((ident = tly_my_ident(t)) == NULL)
		return (TALLY_ENOTINIT);
	memcpy(r.parties[0].pk, tly_ident_pk(ident), TLY_PK_BYTES);
	memcpy(r.target, target->id, TLY_REC_ID_BYTES);
	r.action = action;
	if ((rv = encode(t, out, &r)) != 0)
		return (rv);
	if (tly_signed_sign(out, ident, NULL) != 0)
		return (tly_seterr(t, TALLY_EINTERNAL, "cannot sign"));
	return (0);
}

/* Marks the stored record idhex declined or revoked by rev. */
static int
row_close(tally *t, const char *idhex, const char *state,
    const tly_signed *rev, int by_me)
{
	sqlite3_stmt *st;
	tly_buf       b   = TLY_BUF_INIT;
	int64_t       now = tly_now();
	int           rv;

	if ((rv = container(t, &b, rev)) != 0)
		return (rv);
	st = tly_stmt(t,
	    "UPDATE record SET state = ?2, revocation = ?3,"
	    " reason = nullif(?4, ''), closed_by_me = ?5, closed_at = ?6,"
	    " updated = ?6 WHERE id = ?1");
	if (st == NULL) {
		tly_buf_free(&b);
		return (TALLY_EINTERNAL);
	}
	tly_bind_text(st, 1, idhex);
	tly_bind_text(st, 2, state);
	sqlite3_bind_blob(st, 3, b.p, (int) b.len, SQLITE_TRANSIENT);
	tly_bind_text(st, 4, rev->rec.text);
	sqlite3_bind_int(st, 5, by_me);
	sqlite3_bind_int64(st, 6, now);
	rv = tly_step_done(t, st, "closing a record");
	tly_buf_free(&b);
	if (rv == 0)
		rv = favor_confirm(t, idhex, 0);
	return (rv);
}

int
tally_record_decline(tally *t, char **text, char *id, const void *p, size_t n,
    const char *reason)
{
	tly_signed s, rev;
	tly_verify v;
	stored     st;
	char       idhex[HEX_ID_LEN + 1], person[TALLY_ID_LEN + 1] = "";
	int        mine, rv;

	*text = NULL;
	if ((rv = load(t, &s, &v, p, n)) != 0)
		return (rv);
	if (s.rec.kind == TLY_REC_REVOCATION)
		return (tly_seterr(t, TALLY_EINVAL,
		    "this is already a decline or revocation: nothing to "
		    "decline"));
	if ((rv = kind_supported(t, s.rec.kind)) != 0 ||
	    (rv = my_index(t, &s, "decline", &mine)) != 0)
		return (rv);
	tly_hex_encode(idhex, s.id, sizeof s.id);
	if ((rv = stored_get(t, &st, idhex)) != 0)
		return (rv);
	if (st.found && strcmp(st.state, "proposed") != 0)
		return (tly_seterr(t, TALLY_ESTATE,
		    "record %.8s is %s already%s", idhex, st.state,
		    strcmp(st.state, "confirmed") == 0
		        ? ": revoke it instead (tally record revoke ID)"
		        : ""));
	if (!st.found && v.complete)
		return (tly_seterr(t, TALLY_ESTATE,
		    "both parties signed record %.8s: it is no proposal to "
		    "decline (take it in, then revoke it)",
		    idhex));
	if ((rv = revocation_new(t, &rev, &s, TLY_ACTION_DECLINE, reason)) !=
	        0 ||
	    (rv = armored(t, text, &rev)) != 0)
		goto out;
	if (!st.found)
		(void) tly_peer_find(
		    t, s.rec.parties[1 - mine].pk, person, NULL, NULL);
	if ((rv = tly_begin(t)) != 0)
		goto out;
	if ((!st.found &&
	        (rv = row_insert(t, &s, mine, person[0] ? person : NULL,
	             "proposed", 0, NULL)) != 0) ||
	    (rv = row_close(t, idhex, "declined", &rev, 1)) != 0) {
		tly_rollback(t);
		goto out;
	}
	if ((rv = tly_commit(t)) == 0)
		memcpy(id, idhex, sizeof idhex);
out:
	if (rv != 0) {
		free(*text);
		*text = NULL;
	}
	return (rv);
}

int
tally_record_revoke(tally *t, char **text, const char *id, const char *reason)
{
	tly_signed rev;
	stored     st;
	int        rv;

	*text = NULL;
	if ((rv = stored_get(t, &st, id)) != 0)
		return (rv);
	if (!st.found)
		return (tly_seterr(t, TALLY_ENOENT, "no record %.8s", id));
	if (strcmp(st.state, "proposed") != 0 &&
	    strcmp(st.state, "confirmed") != 0)
		return (tly_seterr(t, TALLY_ESTATE,
		    "record %.8s is %s already", id, st.state));
	if ((rv = revocation_new(t, &rev, &st.s, TLY_ACTION_REVOKE, reason)) !=
	        0 ||
	    (rv = armored(t, text, &rev)) != 0 || (rv = tly_begin(t)) != 0)
		goto out;
	if ((rv = row_close(t, id, "revoked", &rev, 1)) != 0) {
		tly_rollback(t);
		goto out;
	}
	rv = tly_commit(t);
out:
	if (rv != 0) {
		free(*text);
		*text = NULL;
	}
	return (rv);
}

/* -- Taking records in ------------------------------------------------- */

/* Takes in rev, a decline or revocation of a stored record. */
static int
import_revocation(
    tally *t, char *id, const char **outcome, const tly_signed *rev)
{
	unsigned char mine[TLY_PK_BYTES];
	char          idhex[HEX_ID_LEN + 1];
	const char   *want;
	stored        st;
	tly_verify    v;
	int           why = TLY_WHY_NONE, decline, rv;

	if (tly_signed_verify(rev, &v, NULL) != 0 || !v.complete)
		return (tly_seterr(t, TALLY_EFORMAT,
		    "the decline or revocation is not signed"));
	tly_hex_encode(idhex, rev->rec.target, sizeof rev->rec.target);
	if ((rv = stored_get(t, &st, idhex)) != 0)
		return (rv);
	decline = rev->rec.action == TLY_ACTION_DECLINE;
	if (!st.found)
		return (tly_seterr(t, TALLY_ENOENT,
		    "this %s is for record %.8s, which is not in your replica",
		    decline ? "decline" : "revocation", idhex));
	if (tly_revocation_check(&rev->rec, &st.s, &why) != 0)
		return (tly_seterr(t, TALLY_EPERM, "refused: %s (record %.8s)",
		    tly_why_str(why), idhex));
	if ((rv = tly_my_pk(t, mine)) != 0)
		return (rv);
	memcpy(id, idhex, sizeof idhex);
	want = decline ? "declined" : "revoked";
	if (strcmp(st.state, "declined") == 0 ||
	    strcmp(st.state, "revoked") == 0) {
		*outcome = "unchanged";
		return (0);
	}
	if (decline && strcmp(st.state, "proposed") != 0)
		return (tly_seterr(t, TALLY_ESTATE,
		    "record %.8s is %s: a decline only applies to a proposal",
		    idhex, st.state));
	if ((rv = tly_begin(t)) != 0)
		return (rv);
	if ((rv = row_close(t, idhex, want, rev,
	         sodium_memcmp(rev->rec.parties[0].pk, mine, TLY_PK_BYTES) ==
	             0)) != 0) {
		tly_rollback(t);
		return (rv);
	}
	if ((rv = tly_commit(t)) == 0)
		*outcome = want;
	return (rv);
}

/* Stores the state of s (a record I am party mine of) in the stored
 * row st: more signatures, and confirmed once complete. */
static int
import_known(tally *t, const char **outcome, stored *st, const tly_signed *s,
    const char *idhex)
{
	sqlite3_stmt *stmt;
	tly_buf       b = TLY_BUF_INIT;
	tly_verify    v;
	int           before = 0, after = 0, rv;

	if (strcmp(st->state, "declined") == 0 ||
	    strcmp(st->state, "revoked") == 0)
		return (tly_seterr(t, TALLY_ESTATE,
		    "record %.8s was %s: this copy is not taken in", idhex,
		    st->state));
	for (size_t i = 0; i < st->s.rec.nparties; i++)
		before += st->s.has_sig[i] != 0;
	if (tly_signed_merge(&st->s, s, NULL) != 0)
		return (tly_seterr(t, TALLY_EEXIST,
		    "the file holds another signature for record %.8s than "
		    "the one stored: refused",
		    idhex));
	for (size_t i = 0; i < st->s.rec.nparties; i++)
		after += st->s.has_sig[i] != 0;
	if (after == before) {
		*outcome = "unchanged";
		return (0);
	}
	if (tly_signed_verify(&st->s, &v, NULL) != 0)
		return (tly_seterr(
		    t, TALLY_ECRYPTO, "a signature does not verify"));
	if ((rv = container(t, &b, &st->s)) != 0)
		return (rv);
	if ((rv = tly_begin(t)) != 0)
		goto out;
	stmt = tly_stmt(t,
	    "UPDATE record SET signed = ?2, updated = ?3,"
	    " state = CASE WHEN ?4 THEN 'confirmed' ELSE state END,"
	    " confirmed_at = CASE WHEN ?4 THEN ?3 ELSE confirmed_at END"
	    " WHERE id = ?1");
	if (stmt == NULL) {
		rv = TALLY_EINTERNAL;
		tly_rollback(t);
		goto out;
	}
	tly_bind_text(stmt, 1, idhex);
	sqlite3_bind_blob(stmt, 2, b.p, (int) b.len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 3, tly_now());
	sqlite3_bind_int(stmt, 4, v.complete);
	if ((rv = tly_step_done(t, stmt, "updating a record")) != 0 ||
	    (v.complete && (rv = favor_confirm(t, idhex, 1)) != 0)) {
		tly_rollback(t);
		goto out;
	}
	if ((rv = tly_commit(t)) == 0)
		*outcome = v.complete ? "confirmed" : "unchanged";
out:
	tly_buf_free(&b);
	return (rv);
}

int
tally_record_import(
    tally *t, char *id, const char **outcome, const void *p, size_t n)
{
	char       idhex[HEX_ID_LEN + 1], tid[TLY_TALLYID_LEN + 1];
	char       person[TALLY_ID_LEN + 1], fid[TALLY_ID_LEN + 1];
	tly_signed s;
	tly_verify v;
	stored     st;
	int        mine, rv;

	*outcome = NULL;
	if ((rv = load(t, &s, &v, p, n)) != 0)
		return (rv);
	if (s.rec.kind == TLY_REC_REVOCATION)
		return (import_revocation(t, id, outcome, &s));
	if ((rv = kind_supported(t, s.rec.kind)) != 0 ||
	    (rv = my_index(t, &s, "take in", &mine)) != 0)
		return (rv);
	tly_hex_encode(idhex, s.id, sizeof s.id);
	if ((rv = stored_get(t, &st, idhex)) != 0)
		return (rv);
	if (st.found) {
		if ((rv = import_known(t, outcome, &st, &s, idhex)) == 0)
			memcpy(id, idhex, sizeof idhex);
		return (rv);
	}
	if (!s.has_sig[mine])
		return (tly_seterr(t, TALLY_ESTATE,
		    "record %.8s awaits your signature: review and sign it "
		    "with 'tally record sign FILE'",
		    idhex));
	if (t->me[0] == '\0')
		return (tly_seterr(t, TALLY_ENOTINIT,
		    "the replica has no user yet (run 'tally init')"));
	tly_tallyid_encode(tid, s.rec.parties[1 - mine].pk);
	rv = tly_peer_find(t, s.rec.parties[1 - mine].pk, person, NULL, NULL);
	if (rv == TALLY_ENOENT)
		return (tly_seterr(t, rv,
		    "the other party (%s) is not linked to anyone in your "
		    "replica: 'tally peer add PERSON %s' first",
		    tid, tid));
	if (rv != 0 || (rv = tly_begin(t)) != 0)
		return (rv);
	if ((rv = favor_add(t, fid, &s, mine, person)) != 0 ||
	    (rv = row_insert(t, &s, mine, person,
	         v.complete ? "confirmed" : "proposed", !v.complete, fid)) !=
	        0 ||
	    (v.complete && (rv = favor_confirm(t, idhex, 1)) != 0)) {
		tly_rollback(t);
		return (rv);
	}
	if ((rv = tly_commit(t)) != 0)
		return (rv);
	memcpy(id, idhex, sizeof idhex);
	*outcome = "stored";
	return (0);
}

/* -- Verifying offline ------------------------------------------------- */

int
tally_record_verify(tally *t, const void *p, size_t n, tally_record_fn fn,
    void *arg, char *err, size_t errlen)
{
	tally_record r;
	rec_text     rt;
	tly_signed   s;
	tly_verify   v;
	int          bad = 0, rv;

	if ((rv = read_file(&s, &v, 0, err, errlen, p, n)) != 0) {
		if (t != NULL)
			tly_seterr(t, rv, "%s", err);
		return (rv);
	}
	memset(&r, 0, sizeof r);
	memset(&rt, 0, sizeof rt);
	party_lookup(t, &rt, &s);
	fill(&r, &rt, &s, &v);
	for (size_t i = 0; i < v.nparties; i++)
		bad |= v.state[i] == TLY_SIG_INVALID;
	r.state = bad ? "invalid" : v.complete ? "complete" : "incomplete";
	rv      = fn(arg, &r);
	rec_text_free(&rt);
	return (rv);
}

/* -- For the relay's letters (records_int.h) --------------------------- */

int
tly_record_store(tally *t, const tly_signed *s, int mine, const char *person,
    const char *state, int proposed_by_me, const char *favor)
{
	return (row_insert(t, s, mine, person, state, proposed_by_me, favor));
}

int
tly_record_close(tally *t, const char *idhex, const char *state,
    const tly_signed *rev, int by_me)
{
	return (row_close(t, idhex, state, rev, by_me));
}
