/*
 * import_test.c -- tally_import() and tally_export() through a real
 * SQLite file: LinkedIn and Google CSV, vCard 3.0 and 4.0, the JSON dump
 * (round trip, merging into a replica with another "me"), re-imports,
 * all-or-nothing against --skip-bad with the exact "FILE:LINE:" messages,
 * dry runs, progress, and the CSV and vCard exports.
 *
 * Fixtures are in tests/fixtures/, found from this file's path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tally.h"
#include "tt.h"

#define NOW "2025-11-22T00:00:00Z"

typedef struct fixture {
	char   dir[64];
	char   db[128];
	tally *t;
	char   me[TALLY_ID_LEN + 1];
} fixture;

/* The bad-record messages of the last import. */
typedef struct badlist {
	int  n;
	char msg[16][300];
} badlist;

static void
on_bad(void *arg, const char *msg)
{
	badlist *b = arg;

	if (b->n < 16)
		snprintf(b->msg[b->n], sizeof b->msg[0], "%s", msg);
	b->n++;
}

static const char *
fixdir(void)
{
	static char dir[512];
	char       *s;

	snprintf(dir, sizeof dir, "%s", __FILE__);
	if ((s = strrchr(dir, '/')) != NULL) /* tests/unit */
		*s = '\0';
	if ((s = strrchr(dir, '/')) != NULL) /* tests */
		*s = '\0';
	strncat(dir, "/fixtures", sizeof dir - strlen(dir) - 1);
	return (dir);
}

static const char *
fixture_path(const char *name)
{
	static char path[4][600];
	static int  k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof path[k], "%s/%s", fixdir(), name);
	return (path[k]);
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);

	setenv("TALLY_NOW", NOW, 1);
	snprintf(f->dir, sizeof f->dir, "/tmp/tally-import.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return (-1);
	snprintf(f->db, sizeof f->db, "%s/tally.db", f->dir);
	if (tally_open(&f->t, f->db, TALLY_OPEN_CREATE) != 0 ||
	    tally_init(f->t, "Sam Seeker") != 0 || tally_me(f->t, f->me) != 0)
		return (-1);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	fixture *f = *state;
	char     cmd[128];

	tally_close(f->t);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	free(f);
	return (system(cmd) == 0 ? 0 : -1);
}

/* Imports with the given flags, collecting bad records into b. */
static int
import(tally *t, tally_import_stats *st, const char *format, const char *path,
    int flags, badlist *b)
{
	tally_import_opts o;

	memset(&o, 0, sizeof o);
	memset(b, 0, sizeof *b);
	o.flags = flags;
	o.bad   = on_bad;
	o.arg   = b;
	return (tally_import(t, st, format, path, &o));
}

#define STATS(st, r, a, u, s, b)           \
	do {                               \
		TT_INTEQ((st).rows, r);    \
		TT_INTEQ((st).added, a);   \
		TT_INTEQ((st).updated, u); \
		TT_INTEQ((st).same, s);    \
		TT_INTEQ((st).bad, b);     \
	} while (0)

/* One person as a line of text: what the tests compare. */
static void
join(char *out, size_t n, tally_strs s)
{
	out[0] = '\0';
	for (size_t i = 0; i < s.n; i++) {
		strncat(out, i ? "," : "", n - strlen(out) - 1);
		strncat(out, s.v[i], n - strlen(out) - 1);
	}
}

static int
grab(void *arg, const tally_person *p)
{
	char *out = arg;
	char  e[512], ph[256], tg[256];

	join(e, sizeof e, p->emails);
	join(ph, sizeof ph, p->phones);
	join(tg, sizeof tg, p->tags);
	snprintf(out, 2048, "%s|%s|%s|%s|%s|%s|%s|%s|%s", p->name,
	    p->org ? p->org : "", p->title ? p->title : "",
	    p->url ? p->url : "", p->how_met ? p->how_met : "", e, ph, tg,
	    p->note ? p->note : "");
	return (0);
}

static void
person(tally *t, const char *who, char *out)
{
	char id[TALLY_ID_LEN + 1];

	out[0] = '\0';
	TT_PASS(tally_resolve(t, id, TALLY_PERSON, who));
	TT_PASS(tally_person_get(t, id, grab, out));
}

static int
count_cb(void *arg, const tally_person *p)
{
	(void) p;
	(*(int *) arg)++;
	return (0);
}

static int
count_people(tally *t)
{
	int n = 0;

	TT_PASS(tally_person_list(t, NULL, count_cb, &n));
	return (n);
}

/* Exports format into a string (malloc'd).  The text is handed back
 * through a heap cell: GCC 12 at -O2 otherwise takes the result for a
 * pointer to the local that open_memstream() fills (-Wdangling-pointer). */
static char *
export(tally *t, const char *format)
{
	char  **cell = calloc(1, sizeof *cell);
	char   *buf;
	size_t  len = 0;
	FILE   *f;

	assert_non_null(cell);
	f = open_memstream(cell, &len);
	assert_non_null(f);
	TT_PASS(tally_export(t, format, f));
	fclose(f);
	buf = *cell;
	free(cell);
	return (buf);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* -- LinkedIn --------------------------------------------------------- */

static void
test_linkedin(void **state)
{
	fixture           *f = *state;
	tally_import_stats st;
	badlist            b;
	char               p[2048];

	TT_PASS(import(f->t, &st, "linkedin",
	    fixture_path("linkedin_connections.csv"), 0, &b));
	/* 7 rows: 5 people and 2 members who left (skipped) */
	STATS(st, 7, 5, 0, 0, 0);
	TT_INTEQ(st.skipped, 2);
	TT_INTEQ(b.n, 0);
	TT_INTEQ(count_people(f->t), 6);
	person(f->t, "Ann Lee", p);
	TT_STREQ(p,
	    "Ann Lee|Acme Corp|VP Engineering|"
	    "https://www.linkedin.com/in/annlee|"
	    "LinkedIn, connected 2024-03-12|||linkedin|");
	person(f->t, "Bob Ng", p);
	TT_STREQ(p,
	    "Bob Ng|Initech, Inc.|Director, Data Platform|"
	    "https://www.linkedin.com/in/bob-ng-4a1b2c|"
	    "LinkedIn, connected 2023-01-03|bob.ng@example.com||"
	    "linkedin|");
	person(f->t, "Chloé Dubois-Martin", p);
	TT_STREQ(p,
	    "Chloé Dubois-Martin|Société Générale|Head of \"Open\" "
	    "Banking|https://www.linkedin.com/in/chloe-dubois|"
	    "LinkedIn, connected 2020-04-01|||linkedin|");
	person(f->t, "Dmitri Ivanov", p);
	TT_STREQ(p,
	    "Dmitri Ivanov|||https://www.linkedin.com/in/divanov/|"
	    "LinkedIn, connected 2019-06-30|||linkedin|");
	person(f->t, "Eve O'Brien", p);
	TT_STREQ(p,
	    "Eve O'Brien|Globex|Recruiter|"
	    "https://www.linkedin.com/in/eveobrien|"
	    "LinkedIn, connected 2024-08-15|||linkedin|");

	/* The same file again adds nothing. */
	TT_PASS(import(f->t, &st, "linkedin",
	    fixture_path("linkedin_connections.csv"), 0, &b));
	STATS(st, 7, 0, 0, 5, 0);
	TT_INTEQ(count_people(f->t), 6);
}

static void
test_linkedin_bad(void **state)
{
	fixture           *f = *state;
	tally_import_stats st;
	badlist            b;
	const char        *path = fixture_path("linkedin_bad.csv");
	char               want[300], *before, *after;
	static const char *msgs[] = {
		"6: malformed date '31 Feb 2024' in Connected On (expected "
		"like 12 Mar 2024)",
		"7: 'gina-at-example.com' is not an email address",
		"8: expected 7 fields, got 6",
		"9: no name",
		"12: malformed date '2023-13-01' in Connected On (expected "
		"like "
		"12 Mar 2024)",
	};

	before = export(f->t, "json");
	TT_FAIL(import(f->t, &st, "linkedin", path, 0, &b), TALLY_EFORMAT);
	TT_INTEQ(b.n, 5);
	for (int i = 0; i < 5; i++) {
		snprintf(want, sizeof want, "%s:%s", path, msgs[i]);
		TT_STREQ(b.msg[i], want);
	}
	TT_INTEQ(st.bad, 5);
	if (strstr(tally_errmsg(f->t), "5 bad records") == NULL)
		fail_msg("errmsg: expected '5 bad records', got '%s'",
		    tally_errmsg(f->t));
	/* Nothing was stored. */
	after = export(f->t, "json");
	TT_STREQ(after, before);
	free(after);

	/* --skip-bad stores the others: Ann Lee and Ivy Chen (whose
	 * quoted company spans two lines). */
	TT_PASS(
	    import(f->t, &st, "linkedin", path, TALLY_IMPORT_SKIP_BAD, &b));
	STATS(st, 7, 2, 0, 0, 5);
	TT_INTEQ(b.n, 5);
	person(f->t, "Ivy Chen", before);
	TT_STREQ(before,
	    "Ivy Chen|Wayne\nEnterprises|CTO|"
	    "https://www.linkedin.com/in/ivychen|"
	    "LinkedIn, connected 2023-07-07|||linkedin|");
	free(before);
}

static void
test_not_linkedin(void **state)
{
	fixture           *f = *state;
	tally_import_stats st;
	badlist            b;
	char               want[600];

	TT_FAIL(import(f->t, &st, "linkedin", fixture_path("not_contacts.csv"),
	            0, &b),
	    TALLY_EFORMAT);
	snprintf(want, sizeof want,
	    "%s is not a LinkedIn Connections.csv (no header with First "
	    "Name, Last Name, URL and Connected On)",
	    fixture_path("not_contacts.csv"));
	TT_STREQ(tally_errmsg(f->t), want);
	TT_FAIL(import(f->t, &st, "linkedin", "/nonexistent/c.csv", 0, &b),
	    TALLY_ENOENT);
	TT_STREQ(tally_errmsg(f->t),
	    "cannot read /nonexistent/c.csv: No such file or directory");
	TT_FAIL(import(f->t, &st, "google", fixture_path("contacts_v3.vcf"), 0,
	            &b),
	    TALLY_EFORMAT);
	TT_FAIL(import(f->t, &st, "vcard", fixture_path("google_current.csv"),
	            0, &b),
	    TALLY_EFORMAT);
	snprintf(want, sizeof want, "%s is not a vCard file (no BEGIN:VCARD)",
	    fixture_path("google_current.csv"));
	TT_STREQ(tally_errmsg(f->t), want);
	TT_FAIL(
	    import(f->t, &st, "json", fixture_path("contacts_v4.vcf"), 0, &b),
	    TALLY_EFORMAT);
	TT_INTEQ(count_people(f->t), 1);
}

static void
test_dry_run(void **state)
{
	fixture           *f = *state;
	tally_import_stats st;
	badlist            b;

	TT_PASS(import(f->t, &st, "linkedin",
	    fixture_path("linkedin_connections.csv"), TALLY_IMPORT_DRY_RUN,
	    &b));
	STATS(st, 7, 5, 0, 0, 0);
	TT_INTEQ(count_people(f->t), 1);
	TT_PASS(import(f->t, &st, "json", fixture_path("dump.json"),
	    TALLY_IMPORT_DRY_RUN, &b));
	TT_INTEQ(st.bad, 0);
	TT_INTEQ(count_people(f->t), 1);
}

/* -- Google ----------------------------------------------------------- */

static void
test_google(void **state)
{
	fixture           *f = *state;
	tally_import_stats st;
	badlist            b;
	char               p[2048];

	TT_PASS(import(
	    f->t, &st, "google", fixture_path("google_current.csv"), 0, &b));
	STATS(st, 4, 4, 0, 0, 0);
	person(f->t, "Ann Lee", p);
	TT_STREQ(p,
	    "Ann Lee|Acme Corp|VP Engineering|"
	    "https://www.linkedin.com/in/annlee/||"
	    "ann@acme.example,ann.lee@mail.example|+1 415 555 0100|"
	    "Mentors|");
	person(f->t, "María José García", p);
	TT_STREQ(p,
	    "María José García|Telefónica|Ingeniera|"
	    "https://mjgarcia.example/blog||mjgarcia@correo.example|"
	    "+34 600 000 000,+34 910 000 000|Spain,Data|"
	    "Met at the Madrid meetup.\nLikes paella, hates \"small "
	    "talk\".");
	person(f->t, "Sunny", p); /* no name but a nickname */
	TT_STREQ(p, "Sunny|Ray Co||||sunny@ray.example|||");
	person(f->t, "Tom Baker", p); /* the LinkedIn site is the URL */
	TT_STREQ(p,
	    "Tom Baker|||https://linkedin.com/in/tbaker|||"
	    "555-0199,555-0198||");

	/* The legacy header; Bob is new, Kenji's name is built. */
	TT_PASS(import(
	    f->t, &st, "google", fixture_path("google_legacy.csv"), 0, &b));
	STATS(st, 2, 2, 0, 0, 0);
	person(f->t, "Bob Ng", p);
	TT_STREQ(p,
	    "Bob Ng|Initech, Inc.|Director|"
	    "https://www.linkedin.com/in/bob-ng-4a1b2c||"
	    "bob.ng@example.com|+44 20 7946 0000|Work|");
	person(f->t, "Kenji Sato", p);
	TT_STREQ(p,
	    "Kenji Sato|Sony||||kenji@sato.example,"
	    "k.sato@corp.example,kenji.sato@mail.example||"
	    "Japan,Work|Prefers email.");

	/* LinkedIn then: Ann and Bob are matched by profile URL, completed
	 * (how they met, the tag) and not added twice. */
	TT_PASS(import(f->t, &st, "linkedin",
	    fixture_path("linkedin_connections.csv"), 0, &b));
	STATS(st, 7, 3, 2, 0, 0);
	person(f->t, "Ann Lee", p);
	TT_STREQ(p,
	    "Ann Lee|Acme Corp|VP Engineering|"
	    "https://www.linkedin.com/in/annlee/|"
	    "LinkedIn, connected 2024-03-12|"
	    "ann@acme.example,ann.lee@mail.example|+1 415 555 0100|"
	    "Mentors,linkedin|");
	TT_INTEQ(count_people(f->t), 10);

	/* Both Google files again: nothing new. */
	TT_PASS(import(
	    f->t, &st, "google", fixture_path("google_current.csv"), 0, &b));
	STATS(st, 4, 0, 0, 4, 0);
	TT_PASS(import(
	    f->t, &st, "google", fixture_path("google_legacy.csv"), 0, &b));
	STATS(st, 2, 0, 0, 2, 0);
	TT_INTEQ(count_people(f->t), 10);
}

static void
test_google_bad(void **state)
{
	fixture           *f = *state;
	tally_import_stats st;
	badlist            b;
	const char        *path = fixture_path("google_bad.csv");
	char               want[400];
	static const char *msgs[] = {
		"3: no name",
		"4: 'not an address' is not an email address",
		"5: expected 31 fields, got 3",
		"6: 'call me' is not a phone number",
	};

	TT_FAIL(import(f->t, &st, "google", path, 0, &b), TALLY_EFORMAT);
	TT_INTEQ(b.n, 4);
	for (int i = 0; i < 4; i++) {
		snprintf(want, sizeof want, "%s:%s", path, msgs[i]);
		TT_STREQ(b.msg[i], want);
	}
	TT_INTEQ(count_people(f->t), 1);
	TT_PASS(import(f->t, &st, "google", path, TALLY_IMPORT_SKIP_BAD, &b));
	STATS(st, 5, 1, 0, 0, 4);
	TT_INTEQ(count_people(f->t), 2);
}

/* -- vCard ------------------------------------------------------------ */

static void
test_vcard(void **state)
{
	fixture           *f = *state;
	tally_import_stats st;
	badlist            b;
	char               p[2048];

	TT_PASS(import(
	    f->t, &st, "vcard", fixture_path("contacts_v3.vcf"), 0, &b));
	STATS(st, 3, 3, 0, 0, 0);
	person(f->t, "Ann Lee", p);
	TT_STREQ(p,
	    "Ann Lee|Acme Corp|VP Engineering|"
	    "https://www.linkedin.com/in/annlee/||ann@acme.example|"
	    "+1 (415) 555-0100|Mentors,Python|"
	    "Met at PyCon 2023, Salt Lake City.\nAsk about the "
	    "platform team; she is hiring in Q3.");
	person(f->t, "María José García", p);
	TT_STREQ(p,
	    "María José García|Telefónica||"
	    "https://www.linkedin.com/in/mjgarcia||"
	    "mjgarcia@correo.example,maria.garcia@telefonica.example|"
	    "+34 600 000 000|Spain,Data, Analytics|");
	person(f->t, "Kenji Sato", p); /* FN empty: the name from N */
	TT_STREQ(p,
	    "Kenji Sato||||||||A very long note that Apple folds "
	    "onto several lines because it is longer than "
	    "seventy-five octets; the tab also continues a line in "
	    "RFC 2426.");

	TT_PASS(import(
	    f->t, &st, "vcard", fixture_path("contacts_v4.vcf"), 0, &b));
	STATS(st, 2, 2, 0, 0, 0);
	person(f->t, "Bob Ng", p);
	TT_STREQ(p,
	    "Bob Ng|Initech, Inc.|Director, Data Platform|"
	    "https://www.linkedin.com/in/bob-ng-4a1b2c||"
	    "bob.ng@example.com|+44-20-7946-0000|work,london|"
	    "Owes me a coffee.\nPath: C:\\Users\\bob");
	person(f->t, "Zoë Ångström", p);
	TT_STREQ(p,
	    "Zoë Ångström|||||zoe@angstrom.example|+46 8 123 456||"
	    "日本語のメモ: 東京で会った。長いメモは七十五オクテットで"
	    "折り返されるが、文字の途中では切らない。");

	/* Again: all the same. */
	TT_PASS(import(
	    f->t, &st, "vcard", fixture_path("contacts_v3.vcf"), 0, &b));
	STATS(st, 3, 0, 0, 3, 0);
}

static void
test_vcard_bad(void **state)
{
	fixture           *f = *state;
	tally_import_stats st;
	badlist            b;
	const char        *path = fixture_path("vcard_bad.vcf");
	char               want[400];
	static const char *msgs[] = {
		"6: NOTE is quoted-printable (vCard 2.1), which is not "
		"supported: export the cards as vCard 3.0 or 4.0",
		"12: no name",
		"17: 'wrong.mail.example' is not an email address",
		"22: the card has no END:VCARD",
	};

	TT_FAIL(import(f->t, &st, "vcard", path, 0, &b), TALLY_EFORMAT);
	TT_INTEQ(b.n, 4);
	for (int i = 0; i < 4; i++) {
		snprintf(want, sizeof want, "%s:%s", path, msgs[i]);
		TT_STREQ(b.msg[i], want);
	}
	TT_INTEQ(count_people(f->t), 1);
	TT_PASS(import(f->t, &st, "vcard", path, TALLY_IMPORT_SKIP_BAD, &b));
	STATS(st, 6, 2, 0, 0, 4);
	TT_INTEQ(count_people(f->t), 3);
}

/* The vCard export re-imports to the same people: into the same replica
 * (matched by UID: nothing added) and into a fresh one (the same cards
 * come out again, but for the UIDs). */
static int
not_uid(char *text)
{
	char *w = text;

	for (char *r = text; *r != '\0';) {
		char *eol = strstr(r, "\r\n");
		char *end = eol ? eol + 2 : r + strlen(r);
		if (strncmp(r, "UID:", 4) != 0) {
			memmove(w, r, (size_t) (end - r));
			w += end - r;
		}
		r = end;
	}
	*w = '\0';
	return (0);
}

static void
test_vcard_export(void **state)
{
	fixture           *f = *state;
	tally_import_stats st;
	badlist            b;
	char              *v1, *v2, path[160], db2[160];
	tally             *t2;
	tally_person_in    in;
	char               id[TALLY_ID_LEN + 1];
	static const char *longnote_tags[] = { "a,b", "c;d" };

	TT_PASS(import(
	    f->t, &st, "vcard", fixture_path("contacts_v3.vcf"), 0, &b));
	TT_PASS(import(
	    f->t, &st, "vcard", fixture_path("contacts_v4.vcf"), 0, &b));
	tally_person_in_init(&in);
	in.name      = "Ünïcödé Fold";
	in.note      = "ééééééééééééééééééééééééééééééééééééééééééééééééééééé"
	               "ééééééééé line\\two; three, four";
	in.add_tags  = (tally_strs) { longnote_tags, 2 };
	in.closeness = TALLY_UNSET;
	TT_PASS(tally_person_add(f->t, id, &in));
	v1 = export(f->t, "vcard");
	/* Lines are CRLF, at most 75 octets, and not cut inside UTF-8. */
	for (char *r = v1; *r != '\0';) {
		char *eol = strstr(r, "\r\n");
		assert_non_null(eol);
		if (eol - r > 75)
			fail_msg(
			    "line of %d octets: %.80s", (int) (eol - r), r);
		if ((((unsigned char) eol[2]) & 0xc0) == 0x80 ||
		    (eol[2] == ' ' &&
		        (((unsigned char) eol[3]) & 0xc0) == 0x80))
			fail_msg("a fold splits a UTF-8 character: %.80s", r);
		r = eol + 2;
	}
	if (strstr(v1, "CATEGORIES:a\\,b,c\\;d\r\n") == NULL)
		fail_msg("expected escaped CATEGORIES in:\n%s", v1);
	if (strstr(v1, "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:") == NULL)
		fail_msg("expected a 4.0 card with a UID in:\n%s", v1);
	if (strstr(v1, "FN:Sam Seeker") != NULL)
		fail_msg("me is not exported as a contact");

	snprintf(path, sizeof path, "%s/export.vcf", f->dir);
	write_file(path, v1);
	TT_PASS(import(f->t, &st, "vcard", path, 0, &b));
	STATS(st, 6, 0, 0, 6, 0);

	snprintf(db2, sizeof db2, "%s/other.db", f->dir);
	TT_PASS(tally_open(&t2, db2, TALLY_OPEN_CREATE));
	TT_PASS(tally_init(t2, "Other Me"));
	TT_PASS(import(t2, &st, "vcard", path, 0, &b));
	STATS(st, 6, 6, 0, 0, 0);
	v2 = export(t2, "vcard");
	not_uid(v1);
	not_uid(v2);
	TT_STREQ(v2, v1);
	tally_close(t2);
	free(v1);
	free(v2);
}

/* -- JSON ------------------------------------------------------------- */

/* Fills a replica with one of everything. */
static void
populate(tally *t, const char *me)
{
	tally_person_in   in;
	tally_interaction it;
	tally_favor       fv;
	tally_intro       intro;
	char              ann[33], bob[33], cy[33], id[33], ref[33];
	const char *emails[] = { "ann@acme.example", "ann@home.example" };
	const char *tags[]   = { "python", "mentor" };
	const char *phones[] = { "+1 555 0100" };

	tally_person_in_init(&in);
	in.name       = "Ann Lee";
	in.org        = "Acme";
	in.title      = "VP \"Eng\"";
	in.url        = "https://www.linkedin.com/in/annlee";
	in.how_met    = "PyCon\t2023";
	in.note       = "Line one\nLine two \\ with a backslash, é and 😀";
	in.add_emails = (tally_strs) { emails, 2 };
	in.add_phones = (tally_strs) { phones, 1 };
	in.add_tags   = (tally_strs) { tags, 2 };
	in.closeness  = 4;
	TT_PASS(tally_person_add(t, ann, &in));
	tally_person_in_init(&in);
	in.name        = "Bob Ng";
	in.referred_by = ann;
	TT_PASS(tally_person_add(t, bob, &in));
	tally_person_in_init(&in);
	in.name = "Cy Twombly";
	TT_PASS(tally_person_add(t, cy, &in));
	/* Ann referred by Cy (an id that may sort after hers) */
	tally_person_in_init(&in);
	in.referred_by = cy;
	TT_PASS(tally_person_edit(t, ann, &in));

	memset(&it, 0, sizeof it);
	it.person    = ann;
	it.kind      = "coffee";
	it.at        = 1763700000;
	it.minutes   = 30;
	it.note      = "talked about roles";
	it.follow_up = 1764000000;
	TT_PASS(tally_log(t, id, &it));
	it.kind      = "call";
	it.minutes   = TALLY_UNSET;
	it.note      = NULL;
	it.follow_up = 0;
	it.at        = 1763000000;
	it.person    = bob;
	TT_PASS(tally_log(t, id, &it));
	TT_PASS(tally_thank(t, id));

	memset(&fv, 0, sizeof fv);
	fv.giver    = ann;
	fv.receiver = me;
	fv.kind     = "referral";
	fv.weight   = TALLY_UNSET;
	fv.note     = "referred me to Globex";
	TT_PASS(tally_favor_add(t, id, &fv));
	TT_PASS(tally_thank(t, id));
	fv.giver    = me;
	fv.receiver = bob;
	fv.kind     = "advice";
	fv.status   = "promised";
	fv.weight   = 7;
	fv.note     = NULL;
	TT_PASS(tally_favor_add(t, id, &fv));

	memset(&intro, 0, sizeof intro);
	intro.by   = me;
	intro.a    = bob;
	intro.b    = cy;
	intro.note = "both in data";
	TT_PASS(tally_intro_add(t, id, &intro));

	TT_PASS(tally_reference_add(t, ref, ann, "Acme job"));
	TT_PASS(tally_reference_use(t, ref, "Globex application"));
}

static void
test_json_roundtrip(void **state)
{
	fixture           *f = *state;
	tally_import_stats st;
	badlist            b;
	char              *d1, *d2, path[160], db2[160], me2[33];
	tally             *t2;

	populate(f->t, f->me);
	d1 = export(f->t, "json");
	if (strncmp(d1,
	        "{\"format\":\"tally\",\"version\":1,\"exported\":\""
	        "2025-11-22T00:00:00Z\",\n\"people\":[\n{\"id\":\"",
	        80) != 0)
		fail_msg("unexpected start of the dump:\n%.200s", d1);
	snprintf(path, sizeof path, "%s/dump.json", f->dir);
	write_file(path, d1);

	/* Into a replica without a user: the dump's me becomes it, and
	 * the second export is byte for byte the first. */
	snprintf(db2, sizeof db2, "%s/fresh.db", f->dir);
	TT_PASS(tally_open(&t2, db2, TALLY_OPEN_CREATE));
	TT_FAIL(tally_me(t2, me2), TALLY_ENOTINIT);
	TT_PASS(import(t2, &st, "json", path, 0, &b));
	/* 4 people, 2 interactions, 4 favors (2 from the intro), 1 intro,
	 * 1 reference, 1 use */
	STATS(st, 13, 13, 0, 0, 0);
	TT_PASS(tally_me(t2, me2));
	TT_STREQ(me2, f->me);
	d2 = export(t2, "json");
	TT_STREQ(d2, d1);
	free(d2);

	/* Again: nothing is newer, nothing changes. */
	TT_PASS(import(t2, &st, "json", path, 0, &b));
	STATS(st, 13, 0, 0, 13, 0);
	d2 = export(t2, "json");
	TT_STREQ(d2, d1);
	free(d2);
	tally_close(t2);

	/* Into a replica whose me has another id: mapped onto it. */
	snprintf(db2, sizeof db2, "%s/other.db", f->dir);
	TT_PASS(tally_open(&t2, db2, TALLY_OPEN_CREATE));
	TT_PASS(tally_init(t2, "Sam on the laptop"));
	TT_PASS(tally_me(t2, me2));
	TT_PASS(import(t2, &st, "json", path, 0, &b));
	/* me is there already (and no newer), the rest is added */
	STATS(st, 13, 12, 0, 1, 0);
	TT_INTEQ(count_people(t2), 4);
	d2 = export(t2, "json");
	if (strstr(d2, f->me) != NULL)
		fail_msg("the dump's me id should be mapped to the replica's");
	if (strstr(d2, me2) == NULL)
		fail_msg("expected the replica's me in the favors");
	free(d2);
	tally_close(t2);
	free(d1);
}

/* A newer row in the dump replaces an older one; an older one does
 * not. */
static void
test_json_newer(void **state)
{
	fixture           *f = *state;
	tally_import_stats st;
	badlist            b;
	char               path[160], text[1200], p[2048], ann[33];
	tally_person_in    in;

	tally_person_in_init(&in);
	in.name = "Ann Lee";
	in.org  = "Acme";
	TT_PASS(tally_person_add(f->t, ann, &in));
	snprintf(path, sizeof path, "%s/newer.json", f->dir);
#define ROW(org, upd)                                                     \
	"{\"format\":\"tally\",\"version\":1,\"people\":[{\"id\":\"%s\"," \
	"\"name\":\"Ann Lee\",\"org\":\"" org                             \
	"\",\"emails\":[\"a@b.example\"],"                                \
	"\"created\":\"2025-11-22T00:00:00Z\",\"updated\":\"" upd "\"}]}\n"
	snprintf(
	    text, sizeof text, ROW("Globex", "2025-11-21T00:00:00Z"), ann);
	write_file(path, text);
	TT_PASS(import(f->t, &st, "json", path, 0, &b));
	STATS(st, 1, 0, 0, 1, 0);
	person(f->t, "Ann Lee", p);
	TT_STREQ(p, "Ann Lee|Acme|||||||");
	snprintf(
	    text, sizeof text, ROW("Globex", "2025-11-23T00:00:00Z"), ann);
	write_file(path, text);
	TT_PASS(import(f->t, &st, "json", path, 0, &b));
	STATS(st, 1, 0, 1, 0, 0);
	person(f->t, "Ann Lee", p);
	TT_STREQ(p, "Ann Lee|Globex||||a@b.example|||");
#undef ROW
}

static void
test_json_bad(void **state)
{
	fixture           *f = *state;
	tally_import_stats st;
	badlist            b;
	const char        *path = fixture_path("dump_bad.json");
	char               want[600], *before, *after;
	static const char *msgs[] = {
		"5: person: \"name\" is missing",
		"6: person: \"created\" is not a UTC time like "
		"2024-03-12T09:30:00Z: '2025-13-01T00:00:00Z'",
		"7: person: 'bob(at)example.com' is not an email address",
		"8: person: \"id\" is not a tally id: 'not-an-id'",
		"11: interaction: its person is neither in the dump nor in "
		"the "
		"replica",
		"12: interaction: unknown kind 'lunch' (call, coffee, "
		"meeting, "
		"email, event)",
		"13: interaction: \"minutes\" must be an integer",
		"16: favor: neither \"from\" nor \"to\" is me",
		"17: favor: \"note\" appears twice",
		"20: introduction: an introduction is between three different "
		"people",
	};

	before = export(f->t, "json");
	TT_FAIL(import(f->t, &st, "json", path, 0, &b), TALLY_EFORMAT);
	TT_INTEQ(b.n, 10);
	for (int i = 0; i < 10 && i < b.n; i++) {
		snprintf(want, sizeof want, "%s:%s", path, msgs[i]);
		TT_STREQ(b.msg[i], want);
	}
	after = export(f->t, "json");
	TT_STREQ(after, before);
	free(after);
	free(before);
	TT_PASS(import(f->t, &st, "json", path, TALLY_IMPORT_SKIP_BAD, &b));
	STATS(st, 17, 6, 0, 1, 10);
	TT_INTEQ(count_people(f->t), 4);
}

static void
test_json_malformed(void **state)
{
	fixture           *f = *state;
	tally_import_stats st;
	badlist            b;
	char               path[160], want[300];
	static const struct {
		const char *text;
		int         rv;
		const char *msg; /* after the path */
	} cases[] = {
		{ "", TALLY_EFORMAT,
		    " is not a tally JSON dump (it does not start with '{')" },
		{ "[1,2]", TALLY_EFORMAT,
		    " is not a tally JSON dump (it does not start with '{')" },
		{ "{\"format\":\"other\",\"version\":1}", TALLY_EFORMAT,
		    " is not a tally JSON dump (\"format\" is not "
		    "\"tally\")" },
		{ "{\"format\":\"tally\",\"version\":2,\"people\":[]}",
		    TALLY_EUNSUPP,
		    ": dump version 2 is not supported (this tally reads "
		    "version "
		    "1)" },
		{ "{\"people\":[],\"format\":\"tally\",\"version\":1}",
		    TALLY_EFORMAT,
		    " is not a tally JSON dump (\"format\" and \"version\" "
		    "must "
		    "come first)" },
		{ "{\"format\":\"tally\",\"version\":1,\n\"people\":[\n{"
		  "\"id\":"
		  "\"x\",,}]}",
		    TALLY_EFORMAT, ":3: malformed JSON: expected a key" },
		{ "{\"format\":\"tally\",\"version\":1,\"people\":[]} x",
		    TALLY_EFORMAT,
		    ":1: malformed JSON: more after the end of the dump" },
		{ "{\"format\":\"tally\",\"version\":1,\"people\":[{\"name\":"
		  "\"a"
		  "\x01\"}]}",
		    TALLY_EFORMAT,
		    ":1: malformed JSON: control character in a string" },
		{ "{\"format\":\"tally\",\"version\":1,\"x\":[[[[[[[[[[[[[[[[["
		  "["
		  "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		  "[[[[[[[[[[[[[[[[[[[[[[[[[",
		    TALLY_EFORMAT,
		    ":1: malformed JSON: values nested too deeply" },
		{ "{\"format\":\"tally\",\"version\":1,\"people\":[{\"name\":"
		  "\"a",
		    TALLY_EFORMAT, ":1: malformed JSON: unterminated string" },
	};

	snprintf(path, sizeof path, "%s/m.json", f->dir);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		write_file(path, cases[i].text);
		TT_FAIL(import(f->t, &st, "json", path, 0, &b), cases[i].rv);
		snprintf(want, sizeof want, "%s%s", path, cases[i].msg);
		TT_STREQ(tally_errmsg(f->t), want);
	}
	/* An empty dump with unknown keys is fine. */
	write_file(path,
	    "{\"format\":\"tally\",\"version\":1,\"future\":"
	    "{\"a\":[1,2.5e3,true,null,\"\\u00e9\"]},"
	    "\"people\":[]}");
	TT_PASS(import(f->t, &st, "json", path, 0, &b));
	STATS(st, 0, 0, 0, 0, 0);
}

/* Bytes that are not UTF-8, fields over TALLY_MAX_TEXT, a field too long
 * to be CSV at all, UTF-16. */
static void
test_limits(void **state)
{
	fixture           *f = *state;
	tally_import_stats st;
	badlist            b;
	char               path[160], want[400];
	FILE              *out;

	snprintf(path, sizeof path, "%s/limits.csv", f->dir);
	out = fopen(path, "w");
	assert_non_null(out);
	fputs("First Name,Last Name,URL,Email Address,Company,Position,"
	      "Connected On\n",
	    out);
	fputs("Jos\xe9,Ruiz,https://www.linkedin.com/in/jr,,,,1 Jan 2020\n",
	    out);
	fputs("Long,Title,https://www.linkedin.com/in/lt,,,\"", out);
	for (int i = 0; i < 70000; i++)
		fputc('x', out);
	fputs("\",1 Jan 2020\n", out);
	fputs("Ok,Person,https://www.linkedin.com/in/op,,,,1 Jan 2020\n", out);
	fclose(out);
	TT_FAIL(import(f->t, &st, "linkedin", path, 0, &b), TALLY_EFORMAT);
	TT_INTEQ(b.n, 2);
	snprintf(want, sizeof want, "%s:2: name is not valid UTF-8", path);
	TT_STREQ(b.msg[0], want);
	snprintf(want, sizeof want,
	    "%s:3: title is too long (70000 bytes, at most 65536)", path);
	TT_STREQ(b.msg[1], want);
	TT_PASS(
	    import(f->t, &st, "linkedin", path, TALLY_IMPORT_SKIP_BAD, &b));
	STATS(st, 3, 1, 0, 0, 2);

	/* A field of megabytes: not a CSV file, whatever the flags. */
	out = fopen(path, "w");
	assert_non_null(out);
	fputs("First Name,Last Name,URL,Email Address,Company,Position,"
	      "Connected On\n\"",
	    out);
	for (int i = 0; i < 2 * 1024 * 1024; i++)
		fputc('y', out);
	fclose(out);
	TT_FAIL(import(f->t, &st, "linkedin", path, TALLY_IMPORT_SKIP_BAD, &b),
	    TALLY_EFORMAT);
	snprintf(want, sizeof want,
	    "%s:2: a field is longer than 1048576 bytes: is this a CSV "
	    "file?",
	    path);
	TT_STREQ(tally_errmsg(f->t), want);

	/* UTF-16 (as some spreadsheets save "Unicode text") */
	write_file(path,
	    "\xff\xfe"
	    "F\0i\0r\0s\0t\0");
	TT_FAIL(import(f->t, &st, "google", path, 0, &b), TALLY_EFORMAT);
	snprintf(want, sizeof want,
	    "%s is UTF-16: save it as UTF-8 and import it again", path);
	TT_STREQ(tally_errmsg(f->t), want);

	/* vCard: a NOTE over the limit; a PHOTO of any size is ignored. */
	out = fopen(path, "w");
	assert_non_null(out);
	fputs("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Big Note\r\nNOTE:", out);
	for (int i = 0; i < 70000; i++)
		fputs(i % 70 ? "n" : "\r\n ", out);
	fputs("\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Big Photo\r\n"
	      "PHOTO;ENCODING=b;TYPE=JPEG:",
	    out);
	for (int i = 0; i < 400000; i++)
		fputs(i % 70 ? "A" : "\r\n ", out);
	fputs("\r\nEND:VCARD\r\n", out);
	fclose(out);
	TT_FAIL(import(f->t, &st, "vcard", path, 0, &b), TALLY_EFORMAT);
	TT_INTEQ(b.n, 1);
	snprintf(want, sizeof want,
	    "%s:1: note is too long (69000 bytes, at most 65536)", path);
	TT_STREQ(b.msg[0], want);
	TT_PASS(import(f->t, &st, "vcard", path, TALLY_IMPORT_SKIP_BAD, &b));
	STATS(st, 2, 1, 0, 0, 1);
}

/* -- Progress and the CSV export -------------------------------------- */

static void
on_progress(void *arg, size_t done, size_t total)
{
	(void) total;
	((size_t *) arg)[0]++;
	((size_t *) arg)[1] = done;
}

static void
test_progress(void **state)
{
	fixture           *f = *state;
	tally_import_stats st;
	tally_import_opts  o;
	char               path[160];
	size_t             calls[2] = { 0, 0 };
	FILE              *out;

	snprintf(path, sizeof path, "%s/big.csv", f->dir);
	out = fopen(path, "w");
	assert_non_null(out);
	fputs("First Name,Last Name,URL,Email Address,Company,Position,"
	      "Connected On\n",
	    out);
	for (int i = 0; i < 9000; i++)
		fprintf(out,
		    "P%d,Q%d,https://www.linkedin.com/in/p%d,,,,"
		    "%d Jan 2020\n",
		    i, i, i, 1 + i % 28);
	fclose(out);
	memset(&o, 0, sizeof o);
	o.progress = on_progress;
	o.arg      = calls;
	TT_PASS(tally_import(f->t, &st, "linkedin", path, &o));
	STATS(st, 9000, 9000, 0, 0, 0);
	if (calls[0] < 2)
		fail_msg("expected progress calls, got %zu", calls[0]);
	TT_INTEQ(calls[1], 9000);
}

static void
test_csv_export(void **state)
{
	fixture          *f = *state;
	char             *csv, *row;
	static const char head[] = "id,name,org,title,emails,phones,url,"
	                           "how_met,referred_by,tags,closeness,note,"
	                           "last_contact,created,updated\r\n\"";
	static const char ann[] =
	    "\"Ann Lee\",\"Acme\",\"VP \"\"Eng\"\"\","
	    "\"ann@acme.example ::: ann@home.example\",\"+1 555 0100\","
	    "\"https://www.linkedin.com/in/annlee\",\"PyCon\t2023\","
	    "\"Cy Twombly\",\"python ::: mentor\",\"4\",\"Line one\nLine "
	    "two \\ with a backslash, é and 😀\",\"2025-11-21T04:40:00Z\","
	    "\"2025-11-22T00:00:00Z\",\"2025-11-22T00:00:00Z\"\r\n";

	populate(f->t, f->me);
	csv = export(f->t, "csv");
	if (strncmp(csv, head, strlen(head)) != 0)
		fail_msg("unexpected header:\n%.200s", csv);
	row = strstr(csv, "\"Ann Lee\"");
	assert_non_null(row);
	if (strncmp(row, ann, strlen(ann)) != 0)
		fail_msg("unexpected row:\n%.400s", row);
	if (strstr(csv, "Sam Seeker") != NULL)
		fail_msg("me is not exported as a contact");
	free(csv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_linkedin, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_linkedin_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_not_linkedin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_google, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_google_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vcard, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_vcard_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_vcard_export, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_json_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_json_newer, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_json_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_json_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_progress, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_csv_export, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
