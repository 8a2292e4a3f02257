# concurrency.sh -- tally processes writing (and reading) the same replica
# at once all succeed (WAL and a busy timeout), and nothing is lost.
. "$2/cli/lib.sh"

N=40

expect_ok init --name Me
expect_ok person add "Ann Lee"
expect_ok person add "Bob Stone"

# Writer W: N people, N conversations with Ann, N favors with Bob, each
# its own tally process; failures are counted in $TMP/W.fails.
writer()
{
	_w=$1
	_fails=0
	_i=0
	while [ $_i -lt $N ]; do
		"$TALLY" person add "P $_w $_i" --tag "w$_w" \
		    >/dev/null 2>>"$TMP/$_w.err" || _fails=$((_fails + 1))
		"$TALLY" log ann --kind call --note "w$_w call $_i" \
		    >/dev/null 2>>"$TMP/$_w.err" || _fails=$((_fails + 1))
		"$TALLY" favor add --from bob --to me --kind info \
		    >/dev/null 2>>"$TMP/$_w.err" || _fails=$((_fails + 1))
		_i=$((_i + 1))
	done
	echo $_fails >"$TMP/$_w.fails"
}

reader()
{
	_fails=0
	_i=0
	while [ $_i -lt $N ]; do
		"$TALLY" ledger --json >/dev/null 2>>"$TMP/r.err" ||
		    _fails=$((_fails + 1))
		"$TALLY" next >/dev/null 2>>"$TMP/r.err" ||
		    _fails=$((_fails + 1))
		_i=$((_i + 1))
	done
	echo $_fails >"$TMP/r.fails"
}

writer 1 &
p1=$!
writer 2 &
p2=$!
reader &
p3=$!
wait $p1
wait $p2
wait $p3

for w in 1 2 r; do
	expect_eq 0 "$(cat "$TMP/$w.fails")" "failed commands of process $w"
	if [ -s "$TMP/$w.err" ]; then
		fail "stderr of process $w: $(head -n 3 "$TMP/$w.err")"
	fi
done
expect_eq $((2 * N + 3)) "$(sqlite3 "$DB" "SELECT count(*) FROM person")" \
    "people after concurrent adds"
expect_eq $((2 * N)) "$(sqlite3 "$DB" "SELECT count(*) FROM interaction")" \
    "conversations after concurrent logs"
expect_eq $((2 * N)) "$(sqlite3 "$DB" "SELECT count(*) FROM favor")" \
    "favors after concurrent adds"
expect_ok ledger bob --json
expect_eq $((2 * N)) "$(json '$[0].received')" "ledger kept in step"
expect_ok person list --tag w1 --json
expect_eq $N "$(sqlite3 :memory: \
    "SELECT json_array_length(readfile('$OUT'))")" "people of writer 1"
expect_ok search "w2" --limit 1000 --json
expect_eq $((2 * N)) "$(sqlite3 :memory: \
    "SELECT json_array_length(readfile('$OUT'))")" \
    "search index kept in step (people and their calls)"
expect_eq ok "$(sqlite3 "$DB" "PRAGMA integrity_check")" "integrity_check"
expect_eq wal "$(sqlite3 "$DB" "PRAGMA journal_mode")" "journal mode"

finish
