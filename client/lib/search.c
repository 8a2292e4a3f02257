/*
 * search.c -- full-text search (FTS5) and the Graphviz graph.
 */
#include <stdio.h>
#include <string.h>

#include "tally_int.h"

int
tally_search(tally *t, const char *query, int limit, tally_hit_fn fn,
    void *arg)
{
	sqlite3_stmt *st;
	tally_hit     h;
	int           rc, rv = 0;

	if (query == NULL || query[strspn(query, " \t\r\n\f\v")] == '\0')
		return (tly_seterr(t, TALLY_EINVAL, "empty search"));
	if ((rv = tly_check_text(t, "search", query)) != 0)
		return (rv);
	if (limit <= 0)
		limit = 50;
	/* People first, then conversations and favors; within each, the
	 * most recently recorded first.  Walking each full-text index in
	 * rowid order lets a common word stop after `limit` hits instead
	 * of ranking every match. */
	st = tly_stmt(t,
	    "SELECT * FROM (SELECT 'person', p.id, p.id, p.name,"
	    "  snippet(person_fts, -1, '[', ']', '...', 12)"
	    "  FROM person_fts JOIN person p ON p.rid = person_fts.rowid"
	    "  WHERE person_fts MATCH ?1 ORDER BY person_fts.rowid DESC"
	    "  LIMIT ?2)"
	    " UNION ALL SELECT * FROM (SELECT 'interaction', i.id, i.person,"
	    "  p.name, snippet(interaction_fts, 0, '[', ']', '...', 12)"
	    "  FROM interaction_fts JOIN interaction i"
	    "  ON i.rid = interaction_fts.rowid"
	    "  JOIN person p ON p.id = i.person"
	    "  WHERE interaction_fts MATCH ?1"
	    "  ORDER BY interaction_fts.rowid DESC LIMIT ?2)"
	    " UNION ALL SELECT * FROM (SELECT 'favor', f.id, f.person, p.name,"
	    "  snippet(favor_fts, 0, '[', ']', '...', 12)"
	    "  FROM favor_fts JOIN favor f ON f.rid = favor_fts.rowid"
	    "  JOIN person p ON p.id = f.person"
	    "  WHERE favor_fts MATCH ?1 ORDER BY favor_fts.rowid DESC"
	    "  LIMIT ?2)"
	    " LIMIT ?2");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	tly_bind_text(st, 1, query);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		h.kind    = tly_col_text(st, 0);
		h.id      = tly_col_text(st, 1);
		h.person  = tly_col_text(st, 2);
		h.name    = tly_col_text(st, 3);
		h.snippet = tly_col_text(st, 4);
		if ((rv = fn(arg, &h)) != 0)
			break;
	}
	if (rv == 0 && rc != SQLITE_DONE) {
		if ((sqlite3_errcode(t->db) & 0xff) == SQLITE_ERROR)
			rv = tly_seterr(t, TALLY_EINVAL,
			    "bad search '%.60s': %s", query,
			    sqlite3_errmsg(t->db));
		else
			rv = tly_dberr(t, "searching");
	}
	sqlite3_reset(st);
	return (rv);
}

/* Writes s as a DOT quoted string. */
static void
dot_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s != NULL && *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

int
tally_graph_dot(tally *t, FILE *out)
{
	sqlite3_stmt *st;
	int           rc;

	/* Only people in some relation appear: a graph of 100k isolated
	 * nodes helps no one. */
	st = tly_stmt(t,
	    "SELECT * FROM ("
	    " SELECT 'n' AS type, id AS a, name AS b, is_me, NULL"
	    " FROM person p WHERE is_me"
	    " OR referred_by IS NOT NULL"
	    " OR EXISTS (SELECT 1 FROM person q WHERE q.referred_by = p.id)"
	    " OR EXISTS (SELECT 1 FROM favor f WHERE f.person = p.id)"
	    " OR EXISTS (SELECT 1 FROM introduction i"
	    "   WHERE p.id IN (i.by, i.a, i.b))"
	    " UNION ALL SELECT 'r', referred_by, id, 0, 'referred'"
	    " FROM person WHERE referred_by IS NOT NULL"
	    " UNION ALL SELECT 'i', by, a, 0, 'introduced' FROM introduction"
	    " UNION ALL SELECT 'i', by, b, 0, 'introduced' FROM introduction"
	    " UNION ALL SELECT 'f', CASE dir WHEN 1 THEN m.id ELSE f.person END,"
	    "  CASE dir WHEN 1 THEN f.person ELSE m.id END, sum(weight),"
	    "  group_concat(DISTINCT kind)"
	    " FROM favor f JOIN person m ON m.is_me WHERE f.status = 'done'"
	    " GROUP BY f.person, f.dir"
	    ") ORDER BY type <> 'n', type, a, b");
	if (st == NULL)
		return (TALLY_EINTERNAL);
	fputs("digraph tally {\n\trankdir=LR;\n"
	      "\tnode [shape=box, style=rounded, fontname=\"Helvetica\"];\n",
	    out);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = tly_col_text(st, 0);
		fputs("\t", out);
		dot_str(out, tly_col_text(st, 1));
		if (type[0] == 'n') {
			fputs(" [label=", out);
			dot_str(out, tly_col_text(st, 2));
			fputs(sqlite3_column_int(st, 3) ? ", penwidth=2]"
			                                : "]",
			    out);
		} else {
			fputs(" -> ", out);
			dot_str(out, tly_col_text(st, 2));
			fputs(" [label=", out);
			dot_str(out, tly_col_text(st, 4));
			if (type[0] == 'f')
				fprintf(out, ", color=darkgreen, penwidth=%d",
				    1 + sqlite3_column_int(st, 3) / 5);
			else if (type[0] == 'r')
				fputs(", style=dashed", out);
			else
				fputs(", color=steelblue", out);
			fputs("]", out);
		}
		fputs(";\n", out);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (tly_dberr(t, "drawing the graph"));
	fputs("}\n", out);
	if (ferror(out))
		return (tly_seterr(t, TALLY_EIO, "writing the graph failed"));
	return (0);
}
