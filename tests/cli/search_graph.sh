# search_graph.sh -- tally search (FTS5 over people, conversation notes
# and favor notes) and tally graph (DOT, and SVG through Graphviz).
. "$2/cli/lib.sh"

TALLY_NOW=2026-03-10T12:00:00Z
export TALLY_NOW

expect_ok init --name "Sam Rivera"
expect_ok person add "Ann Lee" --org Acme --title "Talent partner" \
    --email ann@acme.example --tag recruiter --how-met "PyCon Lisbon"
ann=$(out)
expect_ok person add "Mary O'Brien" --org "Initech-Labs" \
    --note "Kubernetes expert, café regular"
mary=$(out)
expect_ok person add "Bob Stone" --referred-by ann
bob=$(out)
expect_ok log bob --kind coffee --note "talked about Postgres migrations"
bob_c=$(out)
expect_ok favor add --from mary --to me --kind advice \
    --note "reviewed my Terraform portfolio"
mary_f=$(out)

hits()
{
	sqlite3 :memory: "SELECT json_array_length(readfile('$OUT'))"
}

# People by name, organisation, title, email, tag, how met, note.
for q in ann acme talent ann@acme.example recruiter lisbon; do
	expect_ok search "$q" --json
	expect_json
	expect_eq person "$(json '$[0].kind')" "kind of hit for '$q'"
	expect_eq "$ann" "$(json '$[0].short_id')" "hit for '$q'"
done
# Diacritics are folded; prefixes with *.
expect_ok search cafe --json
expect_eq "$mary" "$(json '$[0].short_id')" "cafe finds café"
expect_ok search "kube*" --json
expect_eq "$mary" "$(json '$[0].short_id')" "prefix search"
# Conversation and favor notes, with the person they belong to.
expect_ok search postgres --json
expect_eq 1 "$(hits)" "hits for postgres"
expect_eq interaction "$(json '$[0].kind')" "kind of a note hit"
expect_eq "$bob_c" "$(json '$[0].short_id')" "conversation hit"
expect_eq "Bob Stone" "$(json '$[0].name')" "person of the conversation"
expect_eq "talked about [Postgres] migrations" "$(json '$[0].snippet')" \
    "snippet marks the match"
expect_ok search terraform --json
expect_eq favor "$(json '$[0].kind')" "kind of a favor hit"
expect_eq "$mary_f" "$(json '$[0].short_id')" "favor hit"
expect_eq "Mary O'Brien" "$(json '$[0].name')" "person of the favor"
expect_ok search terraform
expect_out_has "$mary_f  favor"
expect_out_has "[Terraform]"
# Words are AND-ed; FTS5 phrases work.
expect_ok search "postgres kubernetes" --json
expect_eq 0 "$(hits)" "AND of words in different rows"
expect_ok search '"Postgres migrations"' --json
expect_eq 1 "$(hits)" "phrase"
# Text that is not FTS5 syntax is searched as plain words.
for q in "o'brien" "initech-labs" "ann@acme.example" "postgres)" "c++"; do
	expect_ok search "$q"
done
expect_ok search "o'brien" --json
expect_eq "$mary" "$(json '$[0].short_id')" "o'brien"
expect_ok search "initech-labs" --json
expect_eq "$mary" "$(json '$[0].short_id')" "initech-labs"
expect_ok search nothing-like-this
expect_eq "no matches" "$(out)" "no matches"
expect_ok search zzz --json
expect_eq "[]" "$(out | tr -d ' \n')" "no matches as JSON"
expect_fail 2 search ""
expect_fail 2 search "   "
expect_fail 2 search
expect_fail 2 search a b
expect_fail 2 search "$(printf '\377')"
expect_fail 2 search ann --limit 0
expect_ok search "a*" --limit 1 --json
expect_eq 1 "$(hits)" "--limit 1"
# Edits and removals reach the index.
expect_ok person edit mary --note "now into Rust"
expect_ok search kubernetes --json
expect_eq 0 "$(hits)" "old note gone from the index"
expect_ok search rust --json
expect_eq "$mary" "$(json '$[0].short_id')" "new note indexed"
expect_ok person rm bob
expect_ok search postgres --json
expect_eq 0 "$(hits)" "conversation of a removed person"

# graph: valid DOT, nodes for people in a relation, labelled edges.
expect_ok person add "Bob Stone" --referred-by ann
bob=$(out)
expect_ok person add "Cara Diaz"
expect_ok person add "Lonely Person"
expect_ok intro add --by me --between ann cara
expect_ok graph
g=$TMP/g.dot
cp "$OUT" "$g"
expect_eq "digraph tally {" "$(head -n 1 "$g")" "first line of the graph"
expect_eq "}" "$(tail -n 1 "$g")" "last line of the graph"
expect_out_has '[label="Sam Rivera", penwidth=2]'
expect_out_has '[label="Mary O'"'"'Brien"]'
expect_out_lacks "Lonely Person"
expect_out_has '[label="referred", style=dashed]'
expect_out_has '[label="introduced", color=steelblue]'
expect_out_has '[label="advice", color=darkgreen, penwidth=1]'
expect_eq 2 "$(grep -c 'introduced' "$g")" "introduced edges"
# Stable: the same replica gives the same graph.
expect_ok graph
expect_same_file "$g" "$OUT" "graph printed twice"
# Names with quotes and backslashes stay inside their DOT strings.
expect_ok person add 'Quote "Q" Back\slash' --referred-by ann
expect_ok graph
expect_out_has '[label="Quote \"Q\" Back\\slash"]'
if command -v dot >/dev/null 2>&1; then
	expect_ok graph -o "$TMP/g2.dot"
	if ! dot -Tcanon "$TMP/g2.dot" >/dev/null 2>"$TMP/dot.err"; then
		fail "dot rejects the graph: $(cat "$TMP/dot.err")"
	fi
	expect_ok graph --format svg
	expect_out_has "<svg"
	expect_out_has "Sam Rivera"
	expect_ok graph --format svg -o "$TMP/g.svg"
	expect_eq "" "$(out)" "graph -o writes nothing to stdout"
	grep -q "</svg>" "$TMP/g.svg" || fail "graph -o FILE.svg is not SVG"
else
	printf 'note: Graphviz dot not installed, SVG not checked\n' >&2
fi
expect_fail 2 graph --format png
expect_fail 1 graph -o "$TMP/no/such/dir/g.dot"
# -o replaces the file only once the whole graph is written: a failure
# leaves it as it was, with no temporary file behind.
mkdir "$TMP/out"
echo old >"$TMP/out/g.dot"
cp "$DB" "$TMP/bad.db"
sqlite3 "$TMP/bad.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
root=$(sqlite3 "$TMP/bad.db" \
    "SELECT rootpage FROM sqlite_master WHERE name = 'person'")
yes garbage | head -c 512 | dd of="$TMP/bad.db" bs=1 \
    seek=$(((root - 1) * $(sqlite3 "$TMP/bad.db" "PRAGMA page_size"))) \
    conv=notrunc 2>/dev/null
expect_fail 1 --db "$TMP/bad.db" graph -o "$TMP/out/g.dot"
expect_eq old "$(cat "$TMP/out/g.dot")" "-o file after a failed graph"
expect_eq g.dot "$(ls "$TMP/out")" "files left after a failed graph"
expect_ok graph -o "$TMP/out/g.dot"
expect_eq "digraph tally {" "$(head -n 1 "$TMP/out/g.dot")" "-o file"
expect_eq g.dot "$(ls "$TMP/out")" "files left after graph -o"
if [ -w /dev/full ]; then
	expect_fail 1 graph -o /dev/full
	if command -v dot >/dev/null 2>&1; then
		tly graph --format svg
		"$TALLY" graph --format svg >/dev/full 2>"$ERR"
		expect_eq 1 "$?" "exit of graph --format svg >/dev/full"
		expect_eq 1 "$(wc -l <"$ERR" | tr -d ' ')" \
		    "stderr lines of graph --format svg >/dev/full"
	fi
fi

finish
