# sync.sh -- two (then three) devices of one person through a real tallyd
# on ipc://: link with a code, edit offline on both, sync, agree;
# a delete meets an edit; kill -9 of the client and of the relay in the
# middle of a sync; a new device's first pull cut short; revoke.
. "$2/cli/lib.sh"

TALLYD=$(dirname "$TALLY")/../server/tallyd
if [ ! -x "$TALLYD" ]; then
	fail "no tallyd at $TALLYD"
	finish
fi
TPID=
LPID=
SPID=
trap '[ -n "$TPID" ] && kill -9 "$TPID" 2>/dev/null;
    [ -n "$LPID" ] && kill -9 "$LPID" 2>/dev/null;
    [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null; rm -rf "$TMP"' EXIT
SRV=$TMP/srv
mkdir -p "$SRV"
URL=ipc://$SRV/relay.sock
A=$TMP/a
B=$TMP/b
C=$TMP/c
unset TALLY_PASSPHRASE

start_tallyd() # [COMMIT_DELAY]
{
	printf '[server]\nlisten = %s\ndata = %s\nregistration = open\n' \
	    "$URL" "$SRV" >"$TMP/tallyd.conf"
	printf 'log_level = warning\n[limits]\nrate = 0\n' >>"$TMP/tallyd.conf"
	[ -n "${1:-}" ] &&
	    printf '[testing]\ncommit_delay = %s\n' "$1" >>"$TMP/tallyd.conf"
	rm -f "$SRV/relay.sock"
	"$TALLYD" --config "$TMP/tallyd.conf" 2>>"$TMP/tallyd.log" &
	TPID=$!
	i=0
	while [ ! -S "$SRV/relay.sock" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -S "$SRV/relay.sock" ] || fail "tallyd did not start"
}

stop_tallyd()
{
	kill "$TPID"
	wait "$TPID" || fail "tallyd exited with an error"
	TPID=
}

# on DIR ARGS...: run tally with the replica in DIR
on()
{
	_home=$1
	shift
	TALLY_HOME=$_home expect_ok "$@"
}

# agree WHAT: the exports of A and B are the same (but for the first
# line, which says when)
agree()
{
	TALLY_HOME=$A tly export json
	sed 1d "$OUT" >"$TMP/a.json"
	TALLY_HOME=$B tly export json
	sed 1d "$OUT" >"$TMP/b.json"
	expect_same_file "$TMP/a.json" "$TMP/b.json" "$1"
}

# people N: a JSON dump of N people with long notes
people()
{
	awk -v n="$1" -v seed="$2" 'BEGIN {
	    printf "{\"format\":\"tally\",\"version\":1,\"exported\":"
	    printf "\"2025-11-22T00:00:00Z\",\n\"people\":[\n"
	    for (i = 0; i < n; i++)
		printf "%s{\"id\":\"%08x%08x%016x\",\"name\":\"Person %s %d\","\
		    "\"org\":\"Org %d\",\"note\":\"%s\",\"emails\":[],"\
		    "\"phones\":[],\"tags\":[],\"is_me\":false,"\
		    "\"created\":\"2025-11-20T09:00:00Z\","\
		    "\"updated\":\"2025-11-20T09:00:00Z\"}\n",
		    i ? "," : "", seed, i, i * 7919, seed, i, i % 97,
		    "met at a meetup about data pipelines, hiring and remote" \
		    " teams; follow up about the analytics lead role"
	    printf "],\"interactions\":[],\"favors\":[],\"introductions\":[],"
	    printf "\"references\":[],\"reference_uses\":[]}\n"
	}' >"$TMP/people-$2.json"
}

count() # DIR TABLE
{
	sqlite3 "$1/tally.db" "SELECT count(*) FROM $2"
}

start_tallyd

# -- Device A, and what the commands refuse ------------------------------
on "$A" init --name "Jo Seeker"
on "$A" id init --no-passphrase
on "$A" relay set "$URL"
on "$A" relay register
TALLY_HOME=$A expect_fail 2 sync extra
TALLY_HOME=$A expect_fail 2 sync --bogus
TALLY_HOME=$A expect_fail 2 device
TALLY_HOME=$A expect_fail 2 device bogus
TALLY_HOME=$B expect_fail 2 device join
TALLY_HOME=$B expect_fail 1 device join not-a-code --relay "$URL" \
    --no-passphrase
expect_err_has "not a link code"
TALLY_HOME=$A expect_fail 1 device join abcd-efgh-ijkl-mnop \
    --no-passphrase
expect_err_has "identity already"
on "$A" sync --status
expect_out_has "last sync   never"
on "$A" person add "Ann Lee" --org Acme
on "$A" person add "Carl Diaz"
on "$A" sync --status --json
expect_json
expect_eq 3 "$(json '$.pending_up')" "operations to push before sync"
on "$A" sync
on "$A" sync --status --json
expect_eq 0 "$(json '$.pending_up')" "operations to push after sync"
expect_eq 0 "$(json '$.pending_down')" "entries to pull after sync"
expect_eq 1 "$(json '$.epoch')" "replica key epoch"

# -- Link B with a code; the code works once -----------------------------
TALLY_HOME=$A "$TALLY" device link --json >"$TMP/link.out" \
    2>"$TMP/link.err" &
LPID=$!
i=0
while ! grep -q '"code"' "$TMP/link.out" 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
CODE=$(sed -n '1s/.*"code":"\([^"]*\)".*/\1/p' "$TMP/link.out")
[ -n "$CODE" ] || fail "device link showed no code"
on "$B" device join "$CODE" --relay "$URL" --no-passphrase --name laptop
expect_out_has "joined"
wait "$LPID" || fail "device link did not end well: $(cat "$TMP/link.err")"
LPID=
grep -q '"name":"laptop"' "$TMP/link.out" ||
    fail "device link did not see the new device"
TALLY_HOME=$C expect_fail 1 device join "$CODE" --relay "$URL" \
    --no-passphrase
expect_err_has "no such link code"
on "$B" person list
expect_out_has "Ann Lee"
expect_out_has "Jo Seeker"
on "$B" device list --json
expect_json
expect_eq 2 "$(sqlite3 :memory: \
    "SELECT json_array_length(readfile($(sql_path "$OUT")))")" \
    "devices listed on B"
on "$B" id show --json
B_ID=$(json '$.tally_id')
on "$A" id show --json
expect_eq "$(json '$.tally_id')" "$B_ID" "identity on both devices"
agree "after linking"

# -- Offline edits on both, conflicting edits of one field ---------------
on "$A" person edit ann --note "from A" --org Globex
on "$A" log ann --kind call --note "a call on A"
on "$B" person edit ann --note "from B" --title CTO
on "$B" person add "Bob Ray"
on "$B" log ann --kind coffee --note "coffee on B"
on "$A" sync
on "$B" sync
on "$A" sync
agree "after offline edits"
on "$A" person show ann --json
expect_eq "from B" "$(json '$.note')" "the later edit of the note wins"
expect_eq Globex "$(json '$.org')" "A's org stays"
expect_eq CTO "$(json '$.title')" "B's title stays"

# -- A delete meets an edit: the delete wins -----------------------------
on "$A" person rm carl
on "$B" person edit carl --note "still here on B"
on "$B" log carl --kind email
on "$B" sync
on "$A" sync
on "$B" sync
agree "after a delete met an edit"
TALLY_HOME=$B tly person list
expect_out_lacks "Carl Diaz"

# -- kill -9 of the client in the middle of a push -----------------------
stop_tallyd
start_tallyd 150ms
people 6000 1
on "$A" import json "$TMP/people-1.json"
TALLY_HOME=$A "$TALLY" sync >/dev/null 2>&1 &
SPID=$!
sleep 0.6
kill -9 "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
SPID=
on "$A" sync
on "$A" sync --status --json
expect_eq 0 "$(json '$.pending_up')" "nothing left to push after kill -9"
on "$B" sync --json
expect_eq "$(json '$.pulled')" "$(json '$.applied')" \
    "every operation pulled once (nothing stored twice)"
expect_eq 6003 "$(count "$A" person)" "people on A after the import"
expect_eq "$(count "$A" person)" "$(count "$B" person)" "people after kill -9"

# -- kill -9 of the relay in the middle of a push ------------------------
people 6000 2
on "$A" import json "$TMP/people-2.json"
TALLY_HOME=$A "$TALLY" sync >/dev/null 2>&1 &
SPID=$!
sleep 0.6
kill -9 "$TPID"
wait "$TPID" 2>/dev/null
TPID=
# back at once: the client's request goes again on the new connection
start_tallyd
wait "$SPID" 2>/dev/null
SPID=
on "$A" sync
on "$B" sync --json
expect_eq "$(json '$.pulled')" "$(json '$.applied')" \
    "every operation pulled once after the relay died"
expect_eq "$(count "$A" person)" "$(count "$B" person)" \
    "people after the relay died"
agree "after kill -9 of client and relay"

# -- A new device's first pull cut short, then done -----------------------
TALLY_HOME=$A "$TALLY" device link --json >"$TMP/link.out" \
    2>"$TMP/link.err" &
LPID=$!
i=0
while ! grep -q '"code"' "$TMP/link.out" 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
CODE=$(sed -n '1s/.*"code":"\([^"]*\)".*/\1/p' "$TMP/link.out")
on "$C" device join "$CODE" --relay "$URL" --no-passphrase --name desk \
    --no-sync
wait "$LPID" || fail "second device link did not end well"
LPID=
TALLY_HOME=$C expect_fail 1 init --name Other
expect_err_has "joined your devices"
TALLY_HOME=$C "$TALLY" sync >/dev/null 2>&1 &
SPID=$!
sleep 0.3
kill -9 "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
SPID=
on "$C" sync --json
expect_eq "$(json '$.pulled')" "$(json '$.applied')" \
    "a new device's first pull stores each operation once"
expect_eq "$(count "$A" person)" "$(count "$C" person)" \
    "people on the third device"
expect_eq ok "$(sqlite3 "$C/tally.db" 'PRAGMA integrity_check')" \
    "the third replica's integrity"

# -- Revoke: B can no longer read what A writes ---------------------------
TALLY_HOME=$A expect_fail 1 device revoke nosuchdevice
on "$A" device revoke laptop
on "$A" device list
expect_out_has "revoked"
on "$A" sync --status --json
expect_eq 2 "$(json '$.epoch')" "a new replica key after revoke"
on "$A" person add "Dora After"
on "$A" sync
TALLY_HOME=$B expect_fail 1 sync
expect_err_has "revoked"
TALLY_HOME=$B tly person list
expect_out_lacks "Dora After"
on "$C" sync
on "$C" person list
expect_out_has "Dora After"
TALLY_HOME=$A expect_fail 1 device revoke laptop
expect_err_has "revoked already"
stop_tallyd
finish
