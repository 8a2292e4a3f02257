/*
 * replica_test.c -- libtally through a real SQLite file: people,
 * resolving, conversations, favors, the ledger, what is due, whom to
 * contact next, search, introductions and references.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tally.h"
#include "tt.h"

#define NOW 1763769600 /* 2025-11-22T00:00:00Z */
#define DAY 86400

typedef struct fixture {
	char   dir[64];
	tally *t;
	char   me[TALLY_ID_LEN + 1];
	char   ann[TALLY_ID_LEN + 1];
	char   bob[TALLY_ID_LEN + 1];
} fixture;

static void
add(tally *t, char *id, const char *name, int closeness)
{
	tally_person_in in;

	tally_person_in_init(&in);
	in.name      = name;
	in.closeness = closeness;
	TT_PASS(tally_person_add(t, id, &in));
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	char     path[128];

	setenv("TALLY_NOW", "1763769600", 1);
	snprintf(f->dir, sizeof f->dir, "/tmp/tally-replica.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return (-1);
	snprintf(path, sizeof path, "%s/sub/tally.db", f->dir);
	if (tally_open(&f->t, path, TALLY_OPEN_CREATE) != 0 ||
	    tally_init(f->t, "Sam Rivera") != 0 || tally_me(f->t, f->me) != 0)
		return (-1);
	add(f->t, f->ann, "Ann Lee", 4);
	add(f->t, f->bob, "Bob Ray", TALLY_UNSET);
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

/* Copies the fields a test looks at out of a callback. */
typedef struct seen {
	int  n;
	char text[8][256];
	int  num[8];
} seen;

static int
see_person(void *arg, const tally_person *p)
{
	seen *s = arg;

	if (s->n < 8) {
		snprintf(s->text[s->n], 256, "%s|%s|%zu|%zu|%s", p->name,
		    p->org ? p->org : "-", p->emails.n, p->tags.n,
		    p->referred_by_name ? p->referred_by_name : "-");
		s->num[s->n] = p->closeness;
	}
	s->n++;
	return (0);
}

static void
test_person(void **state)
{
	fixture        *f = *state;
	tally_person_in in;
	const char     *emails[] = { "ann@acme.example", "ANN@acme.example" };
	const char     *tags[]   = { "recruiter" };
	const char     *rm[]     = { "ann@acme.example" };
	seen            s        = { 0 };
	char            id[TALLY_ID_LEN + 1];

	tally_person_in_init(&in);
	in.org         = "Acme";
	in.add_emails  = (tally_strs) { emails, 2 };
	in.add_tags    = (tally_strs) { tags, 1 };
	in.referred_by = f->bob;
	TT_PASS(tally_person_edit(f->t, f->ann, &in));
	TT_PASS(tally_person_get(f->t, f->ann, see_person, &s));
	/* the second spelling of the same address is not added twice */
	TT_STREQ(s.text[0], "Ann Lee|Acme|1|1|Bob Ray");
	TT_INTEQ(s.num[0], 4);

	tally_person_in_init(&in);
	in.org       = "";
	in.closeness = -2;
	in.rm_emails = (tally_strs) { rm, 1 };
	TT_PASS(tally_person_edit(f->t, f->ann, &in));
	s.n = 0;
	TT_PASS(tally_person_get(f->t, f->ann, see_person, &s));
	TT_STREQ(s.text[0], "Ann Lee|-|0|1|Bob Ray");
	TT_INTEQ(s.num[0], TALLY_UNSET);

	s.n = 0;
	TT_PASS(tally_person_list(f->t, "RECRUITER", see_person, &s));
	TT_INTEQ(s.n, 1);
	s.n = 0;
	TT_PASS(tally_person_list(f->t, NULL, see_person, &s));
	TT_INTEQ(s.n, 3);
	TT_STREQ(s.text[0], "Sam Rivera|-|0|0|-"); /* me first */

	/* refused, and nothing changed */
	tally_person_in_init(&in);
	in.closeness = 6;
	TT_FAIL(tally_person_edit(f->t, f->ann, &in), TALLY_EINVAL);
	tally_person_in_init(&in);
	in.add_emails = (tally_strs) { (const char *[]) { "not-an-email" }, 1 };
	TT_FAIL(tally_person_edit(f->t, f->ann, &in), TALLY_EINVAL);
	tally_person_in_init(&in);
	in.name = "\xff\xfe";
	TT_FAIL(tally_person_add(f->t, id, &in), TALLY_EINVAL);
	in.name = "   ";
	TT_FAIL(tally_person_add(f->t, id, &in), TALLY_EINVAL);
	tally_person_in_init(&in);
	in.referred_by = f->ann;
	TT_FAIL(tally_person_edit(f->t, f->ann, &in), TALLY_EINVAL);
	TT_FAIL(tally_person_rm(f->t, f->me), TALLY_EPERM);
	s.n = 0;
	TT_PASS(tally_person_get(f->t, f->ann, see_person, &s));
	TT_STREQ(s.text[0], "Ann Lee|-|0|1|Bob Ray");

	/* removing Bob clears the reference to him */
	TT_PASS(tally_person_rm(f->t, f->bob));
	TT_FAIL(tally_person_rm(f->t, f->bob), TALLY_ENOENT);
	s.n = 0;
	TT_PASS(tally_person_get(f->t, f->ann, see_person, &s));
	TT_STREQ(s.text[0], "Ann Lee|-|0|1|-");
}

static void
test_resolve(void **state)
{
	fixture *f = *state;
	char     id[TALLY_ID_LEN + 1], anna[TALLY_ID_LEN + 1];
	char     prefix[9];

	TT_PASS(tally_resolve(f->t, id, TALLY_PERSON, "me"));
	TT_STREQ(id, f->me);
	TT_PASS(tally_resolve(f->t, id, TALLY_PERSON, "ann lee"));
	TT_STREQ(id, f->ann);
	TT_PASS(tally_resolve(f->t, id, TALLY_PERSON, "ANN"));
	TT_STREQ(id, f->ann);
	TT_PASS(tally_resolve(f->t, id, TALLY_PERSON, "ray"));
	TT_STREQ(id, f->bob);
	snprintf(prefix, sizeof prefix, "%.8s", f->bob);
	TT_PASS(tally_resolve(f->t, id, TALLY_PERSON, prefix));
	TT_STREQ(id, f->bob);
	TT_FAIL(tally_resolve(f->t, id, TALLY_PERSON, "zed"), TALLY_ENOENT);

	add(f->t, anna, "Anna Bell", TALLY_UNSET);
	/* a whole word beats a prefix: "ann" is still Ann Lee */
	TT_PASS(tally_resolve(f->t, id, TALLY_PERSON, "ann"));
	TT_STREQ(id, f->ann);
	TT_FAIL(tally_resolve(f->t, id, TALLY_PERSON, "an"), TALLY_EAMBIG);
	if (strstr(tally_errmsg(f->t), "Anna Bell") == NULL ||
	    strstr(tally_errmsg(f->t), "Ann Lee") == NULL)
		fail_msg("ambiguity: expected both candidates, got \"%s\"",
		    tally_errmsg(f->t));
	add(f->t, id, "Ann Lee", TALLY_UNSET);
	TT_FAIL(tally_resolve(f->t, id, TALLY_PERSON, "ann lee"), TALLY_EAMBIG);
	TT_FAIL(tally_resolve(f->t, id, TALLY_FAVOR, "abcd"), TALLY_ENOENT);
}

static int
see_due(void *arg, const tally_due_item *d)
{
	seen *s = arg;

	if (s->n < 8) {
		snprintf(s->text[s->n], 256, "%s|%s|%s", d->what, d->name,
		    d->overdue ? "overdue" : "due");
		s->num[s->n] = (int) ((d->due - NOW) / 3600);
	}
	s->n++;
	return (0);
}

static void
test_log_and_due(void **state)
{
	fixture          *f = *state;
	tally_interaction in;
	seen              s = { 0 };
	char              id[TALLY_ID_LEN + 1], id2[TALLY_ID_LEN + 1];

	memset(&in, 0, sizeof in);
	in.person    = f->ann;
	in.kind      = "coffee";
	in.at        = NOW - 2 * DAY;
	in.minutes   = 30;
	in.note      = "data roles at Acme";
	in.follow_up = NOW - DAY;
	TT_PASS(tally_log(f->t, id, &in));
	TT_PASS(tally_due(f->t, 0, see_due, &s));
	TT_INTEQ(s.n, 2);
	TT_STREQ(s.text[0], "thanks|Ann Lee|overdue"); /* at + 1 day */
	TT_INTEQ(s.num[0], -24);
	TT_STREQ(s.text[1], "follow-up|Ann Lee|overdue");

	TT_PASS(tally_thank(f->t, id));
	/* a later conversation answers the follow-up */
	in.kind      = "email";
	in.at        = NOW;
	in.follow_up = 0;
	in.minutes   = TALLY_UNSET;
	TT_PASS(tally_log(f->t, id2, &in));
	s.n = 0;
	TT_PASS(tally_due(f->t, 0, see_due, &s));
	TT_INTEQ(s.n, 0);

	in.kind = "lunch";
	TT_FAIL(tally_log(f->t, id2, &in), TALLY_EINVAL);
	in.kind    = "call";
	in.minutes = 5000;
	TT_FAIL(tally_log(f->t, id2, &in), TALLY_EINVAL);
	in.minutes   = 10;
	in.follow_up = NOW - 10 * DAY;
	TT_FAIL(tally_log(f->t, id2, &in), TALLY_EINVAL);
	in.follow_up = 0;
	in.person    = "0123456789abcdef0123456789abcdef";
	TT_FAIL(tally_log(f->t, id2, &in), TALLY_ENOENT);
	TT_FAIL(tally_interaction_done(f->t, id2), TALLY_ESTATE);
}

static int
see_ledger(void *arg, const tally_ledger_row *r)
{
	seen *s = arg;

	if (s->n < 8)
		snprintf(s->text[s->n], 256, "%s|%d|%d|%d|%d|%d", r->name,
		    r->given, r->received, r->balance, r->n_given,
		    r->pending);
	s->n++;
	return (0);
}

static void
favor(fixture *f, char *id, const char *from, const char *to,
    const char *kind, const char *status, int weight)
{
	tally_favor in;

	memset(&in, 0, sizeof in);
	in.giver    = from;
	in.receiver = to;
	in.kind     = kind;
	in.status   = status;
	in.weight   = weight;
	TT_PASS(tally_favor_add(f->t, id, &in));
}

static void
test_favors_and_ledger(void **state)
{
	fixture    *f = *state;
	tally_favor bad;
	seen        s = { 0 };
	char        id[TALLY_ID_LEN + 1], asked[TALLY_ID_LEN + 1];

	favor(f, id, f->ann, f->me, "referral", NULL, TALLY_UNSET);  /* 5 */
	favor(f, id, f->me, f->ann, "advice", "done", TALLY_UNSET);  /* 1 */
	favor(f, id, f->me, f->bob, "resume", "done", 7);            /* 7 */
	favor(f, asked, f->bob, f->me, "info", "asked", TALLY_UNSET); /* 0 */
	TT_PASS(tally_ledger(f->t, NULL, see_ledger, &s));
	TT_INTEQ(s.n, 2);
	TT_STREQ(s.text[0], "Bob Ray|7|0|7|1|1");
	TT_STREQ(s.text[1], "Ann Lee|1|5|-4|1|0");

	TT_PASS(tally_favor_status(f->t, asked, "done"));
	s.n = 0;
	TT_PASS(tally_ledger(f->t, f->bob, see_ledger, &s));
	TT_INTEQ(s.n, 1);
	TT_STREQ(s.text[0], "Bob Ray|7|1|6|1|0");

	/* thanks only for a favor done for me */
	TT_FAIL(tally_thank(f->t, id), TALLY_ESTATE);
	TT_PASS(tally_thank(f->t, asked));

	memset(&bad, 0, sizeof bad);
	bad.giver    = f->ann;
	bad.receiver = f->bob;
	bad.kind     = "advice";
	bad.weight   = TALLY_UNSET;
	TT_FAIL(tally_favor_add(f->t, id, &bad), TALLY_EINVAL); /* no me */
	bad.receiver = f->me;
	bad.kind     = "bribe";
	TT_FAIL(tally_favor_add(f->t, id, &bad), TALLY_EINVAL);
	bad.kind   = "advice";
	bad.status = "maybe";
	TT_FAIL(tally_favor_add(f->t, id, &bad), TALLY_EINVAL);
	bad.status = NULL;
	bad.weight = 101;
	TT_FAIL(tally_favor_add(f->t, id, &bad), TALLY_EINVAL);
	TT_FAIL(tally_favor_status(f->t, asked, "finished"), TALLY_EINVAL);

	/* removing a person drops their favors from the ledger */
	TT_PASS(tally_person_rm(f->t, f->bob));
	s.n = 0;
	TT_PASS(tally_ledger(f->t, NULL, see_ledger, &s));
	TT_INTEQ(s.n, 1);
}

static int
see_next(void *arg, const tally_next_item *n)
{
	seen *s = arg;

	if (s->n < 8) {
		snprintf(s->text[s->n], 256, "%s|%s", n->name, n->reason);
		s->num[s->n] = n->score;
	}
	s->n++;
	return (0);
}

static void
test_next(void **state)
{
	fixture          *f = *state;
	tally_interaction in;
	seen              s = { 0 };
	char              id[TALLY_ID_LEN + 1], cara[TALLY_ID_LEN + 1];

	/* Ann: close (4) and seen 100 days ago; Bob: a follow-up overdue
	 * by 3 days; Cara: did me a favor, not thanked. */
	memset(&in, 0, sizeof in);
	in.person  = f->ann;
	in.kind    = "call";
	in.at      = NOW - 100 * DAY;
	in.minutes = TALLY_UNSET;
	TT_PASS(tally_log(f->t, id, &in));
	in.person    = f->bob;
	in.at        = NOW - 10 * DAY;
	in.follow_up = NOW - 3 * DAY;
	TT_PASS(tally_log(f->t, id, &in));
	add(f->t, cara, "Cara Diaz", TALLY_UNSET);
	favor(f, id, cara, f->me, "advice", "done", TALLY_UNSET);

	TT_PASS(tally_next(f->t, 10, see_next, &s));
	TT_INTEQ(s.n, 3);
	TT_STREQ(s.text[0], "Bob Ray|follow-up overdue by 3 days");
	TT_INTEQ(s.num[0], 43);
	if (strncmp(s.text[1], "Cara Diaz|you owe thanks for 1 favor", 36) !=
	    0)
		fail_msg("second: expected Cara and thanks, got \"%s\"",
		    s.text[1]);
	TT_STREQ(s.text[2], "Ann Lee|close contact not seen in 100 days");
	s.n = 0;
	TT_PASS(tally_next(f->t, 1, see_next, &s));
	TT_INTEQ(s.n, 1);
	TT_FAIL(tally_next(f->t, 0, see_next, &s), TALLY_EINVAL);
}

/* Every item of a ranking, as text. */
typedef struct ranked {
	int  n;
	char text[64][160];
} ranked;

static int
see_ranked(void *arg, const tally_next_item *n)
{
	ranked *r = arg;

	if (r->n < 64)
		snprintf(r->text[r->n], sizeof r->text[0], "%d|%s|%s",
		    n->score, n->name, n->reason);
	r->n++;
	return (0);
}

extern int tly_next_full;

/* tally_next() stops after the small sets (follow-ups, thanks owed)
 * only when n of their people score above what the ledger and
 * closeness alone can give: either way, the same ranking. */
static void
test_next_bound(void **state)
{
	fixture          *f = *state;
	tally_interaction in;
	char              p[TALLY_ID_LEN + 1], id[TALLY_ID_LEN + 1];
	char              name[32];
	static const int  ns[] = { 1, 5, 20, 25, 26, 28, 30, 31, 40, 64 };

	/* 40 people seen only by the ledger and closeness: close (5) and
	 * quiet for a year or never seen, owing them (favors done and
	 * thanked two months ago), something pending: up to 85 points. */
	setenv("TALLY_NOW", "1758585600", 1); /* NOW - 60 days */
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof name, "Big %02d", i);
		add(f->t, p, name, 2 + i % 4);
		favor(f, id, p, f->me, "advice", "done", 5 + i % 12);
		TT_PASS(tally_thank(f->t, id));
		if (i % 3 == 0)
			favor(f, id, f->me, p, "info", "promised", TALLY_UNSET);
		if (i % 2 == 0) {
			memset(&in, 0, sizeof in);
			in.person  = p;
			in.kind    = "email";
			in.at      = NOW - (300 + i) * DAY;
			in.minutes = TALLY_UNSET;
			TT_PASS(tally_log(f->t, id, &in));
		}
	}
	setenv("TALLY_NOW", "1763769600", 1);
	/* 25 with a follow-up a month overdue and thanks owed: 95 each. */
	for (int i = 0; i < 25; i++) {
		snprintf(name, sizeof name, "Small %02d", i);
		add(f->t, p, name, TALLY_UNSET);
		memset(&in, 0, sizeof in);
		in.person    = p;
		in.kind      = "coffee";
		in.at        = NOW - 90 * DAY;
		in.minutes   = TALLY_UNSET;
		in.follow_up = NOW - (31 + i) * DAY;
		TT_PASS(tally_log(f->t, id, &in));
		TT_PASS(tally_thank(f->t, id));
		favor(f, id, p, f->me, "info", "done", TALLY_UNSET);
	}
	/* 5 with a follow-up only: 70, below some of the 40. */
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "Mid %02d", i);
		add(f->t, p, name, TALLY_UNSET);
		memset(&in, 0, sizeof in);
		in.person    = p;
		in.kind      = "call";
		in.at        = NOW - 60 * DAY;
		in.minutes   = TALLY_UNSET;
		in.follow_up = NOW - 45 * DAY;
		TT_PASS(tally_log(f->t, id, &in));
		TT_PASS(tally_thank(f->t, id));
	}
	for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
		ranked quick = { 0 }, whole = { 0 };

		tly_next_full = 0;
		TT_PASS(tally_next(f->t, ns[k], see_ranked, &quick));
		tly_next_full = 1;
		TT_PASS(tally_next(f->t, ns[k], see_ranked, &whole));
		tly_next_full = 0;
		TT_INTEQ(quick.n, whole.n);
		for (int i = 0; i < quick.n && i < 64; i++)
			if (strcmp(quick.text[i], whole.text[i]) != 0)
				fail_msg("next -n %d, item %d: expected \"%s\" "
				         "(every set read), got \"%s\"",
				    ns[k], i + 1, whole.text[i], quick.text[i]);
	}
	/* and the ranking is the one meant: the 25 first (99 points:
	 * follow-up 70, thanks 35, owing 4, tapped -10), then the rest */
	{
		ranked r = { 0 };
		TT_PASS(tally_next(f->t, 26, see_ranked, &r));
		TT_INTEQ(r.n, 26);
		if (strncmp(r.text[24], "99|Small", 8) != 0 ||
		    strstr(r.text[25], "|Big ") == NULL ||
		    atoi(r.text[25]) > 85)
			fail_msg("expected 25 'Small' at 99, then 'Big' at 85 "
			         "or less, got \"%s\" then \"%s\"",
			    r.text[24], r.text[25]);
	}
}

static int
see_hit(void *arg, const tally_hit *h)
{
	seen *s = arg;

	if (s->n < 8)
		snprintf(s->text[s->n], 256, "%s|%s", h->kind, h->name);
	s->n++;
	return (0);
}

static void
test_search(void **state)
{
	fixture          *f = *state;
	tally_interaction in;
	tally_person_in   p;
	seen              s = { 0 };
	char              id[TALLY_ID_LEN + 1];

	memset(&in, 0, sizeof in);
	in.person  = f->bob;
	in.kind    = "meeting";
	in.at      = NOW;
	in.minutes = TALLY_UNSET;
	in.note    = "Kubernetes migration at Globex";
	TT_PASS(tally_log(f->t, id, &in));
	tally_person_in_init(&p);
	p.org = "Globex Corporation";
	TT_PASS(tally_person_edit(f->t, f->ann, &p));
	TT_PASS(tally_search(f->t, "globex", 10, see_hit, &s));
	TT_INTEQ(s.n, 2);
	s.n = 0;
	TT_PASS(tally_search(f->t, "kube*", 10, see_hit, &s));
	TT_INTEQ(s.n, 1);
	TT_STREQ(s.text[0], "interaction|Bob Ray");
	/* an edit is re-indexed: the old organisation no longer matches */
	p.org = "Initech";
	TT_PASS(tally_person_edit(f->t, f->ann, &p));
	s.n = 0;
	TT_PASS(tally_search(f->t, "globex", 10, see_hit, &s));
	TT_INTEQ(s.n, 1);
	TT_FAIL(tally_search(f->t, "\"unbalanced", 10, see_hit, &s),
	    TALLY_EINVAL);
}

static int
see_ref(void *arg, const tally_reference *r)
{
	seen *s = arg;

	if (s->n < 8)
		snprintf(s->text[s->n], 256, "%s|%d", r->person_name, r->uses);
	s->n++;
	return (0);
}

static void
test_intro_and_reference(void **state)
{
	fixture    *f = *state;
	tally_intro in;
	seen        s = { 0 };
	char        id[TALLY_ID_LEN + 1], r1[TALLY_ID_LEN + 1];
	char        r2[TALLY_ID_LEN + 1];

	memset(&in, 0, sizeof in);
	in.by   = f->me;
	in.a    = f->ann;
	in.b    = f->bob;
	in.note = "both in data";
	TT_PASS(tally_intro_add(f->t, id, &in));
	TT_PASS(tally_ledger(f->t, NULL, see_ledger, &s));
	TT_INTEQ(s.n, 2); /* an introduction I made: a favor to each */
	in.by = f->ann;
	in.a  = f->ann;
	TT_FAIL(tally_intro_add(f->t, id, &in), TALLY_EINVAL);

	TT_PASS(tally_reference_add(f->t, r1, f->ann, "analyst roles"));
	TT_PASS(tally_reference_add(f->t, r2, f->bob, NULL));
	TT_PASS(tally_reference_use(f->t, r1, "Acme application"));
	TT_PASS(tally_reference_use(f->t, r1, "Globex application"));
	TT_FAIL(tally_reference_use(f->t, r1, ""), TALLY_EINVAL);
	TT_FAIL(tally_reference_add(f->t, id, f->me, NULL), TALLY_EINVAL);
	s.n = 0;
	TT_PASS(tally_reference_list(f->t, see_ref, &s));
	TT_INTEQ(s.n, 2);
	TT_STREQ(s.text[0], "Bob Ray|0"); /* least used first */
	TT_STREQ(s.text[1], "Ann Lee|2");
}

static int
fail_on_two(tally *t, void *arg)
{
	tally_person_in in;
	char            id[TALLY_ID_LEN + 1];

	(void) arg;
	tally_person_in_init(&in);
	in.name = "Kept only if all goes well";
	if (tally_person_add(t, id, &in) != 0)
		return (TALLY_EINTERNAL);
	return (TALLY_EINVAL);
}

/* An introduction (which opens its own transaction) inside the
 * caller's, then a failure: all of it is undone. */
static int
intro_then(tally *t, void *arg)
{
	fixture    *f = arg;
	tally_intro in;
	char        id[TALLY_ID_LEN + 1];
	int         rv;

	memset(&in, 0, sizeof in);
	in.by = f->me;
	in.a  = f->ann;
	in.b  = f->bob;
	if ((rv = tally_intro_add(t, id, &in)) != 0)
		return (rv);
	return (TALLY_EINVAL);
}

static int
see_intro(void *arg, const tally_intro *i)
{
	(void) i;
	(*(int *) arg)++;
	return (0);
}

static void
test_atomic(void **state)
{
	fixture *f = *state;
	seen     s = { 0 };
	int      n = 0;

	TT_FAIL(tally_atomic(f->t, fail_on_two, NULL), TALLY_EINVAL);
	TT_PASS(tally_person_list(f->t, NULL, see_person, &s));
	TT_INTEQ(s.n, 3);

	TT_FAIL(tally_atomic(f->t, intro_then, f), TALLY_EINVAL);
	TT_PASS(tally_intro_list(f->t, see_intro, &n));
	TT_INTEQ(n, 0);
	TT_PASS(tally_ledger(f->t, NULL, see_ledger, &s));
	TT_INTEQ(s.n, 3); /* unchanged: no favors were kept */
	/* and the handle is usable afterwards */
	TT_PASS(tally_intro_add(f->t, (char[TALLY_ID_LEN + 1]) { 0 },
	    &(tally_intro) { .by = f->me, .a = f->ann, .b = f->bob }));
	TT_PASS(tally_intro_list(f->t, see_intro, &n));
	TT_INTEQ(n, 1);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_person),
		T(test_resolve),
		T(test_log_and_due),
		T(test_favors_and_ledger),
		T(test_next),
		T(test_next_bound),
		T(test_search),
		T(test_intro_and_reference),
		T(test_atomic),
	};
#undef T

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
