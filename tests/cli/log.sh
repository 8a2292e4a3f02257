# log.sh -- tally log, history, done and thank for conversations: WHEN
# forms, kinds, minutes, follow-ups, and what a bad value leaves behind.
. "$2/cli/lib.sh"

TALLY_NOW=2026-03-10T12:00:00Z
export TALLY_NOW

expect_ok init --name Me
expect_ok person add "Ann Lee"
expect_ok person add "Bob Stone"

# Every WHEN form, resolved against TALLY_NOW (TZ=UTC).
check_at()
{
	expect_ok log bob --kind email --at "$1" --json
	_id=$(json '$.id')
	expect_ok history bob --json
	expect_eq "$2" "$(sqlite3 "$DB" \
	    "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', at, 'unixepoch')
	     FROM interaction WHERE id = '$_id'")" "--at $1"
}
check_at 2026-02-03 2026-02-03T00:00:00Z
check_at 2026-02-03T14:30 2026-02-03T14:30:00Z
check_at "2026-02-03 14:30" 2026-02-03T14:30:00Z
check_at 2026-02-03T14:30:15 2026-02-03T14:30:15Z
check_at 2026-02-03T14:30:15Z 2026-02-03T14:30:15Z
check_at today 2026-03-10T12:00:00Z
check_at now 2026-03-10T12:00:00Z
check_at yesterday 2026-03-09T12:00:00Z
check_at tomorrow 2026-03-11T12:00:00Z
check_at -3d 2026-03-07T12:00:00Z
check_at +2h 2026-03-10T14:00:00Z
check_at -1w 2026-03-03T12:00:00Z
check_at -1m 2026-02-08T12:00:00Z
# TALLY_NOW also takes Unix seconds.
TALLY_NOW=1773144000 check_at today 2026-03-10T12:00:00Z

sqlite3 "$DB" "DELETE FROM interaction"
dump_db "$TMP/before"

# Bad values: exit 2, one line naming the value, nothing stored.
for when in 2026-02-30 2026-13-01 2025-02-29 2026-1-1 26-01-01 \
    2026-01-01T25:00 2026-01-01T12:60 +3x 3d + +d soon "" \
    "2026-01-01 " 2026-01-01T; do
	expect_fail 2 log ann --kind call --at "$when"
	expect_err_has "--at '$when'"
	expect_fail 2 log ann --kind call --follow-up "$when"
done
for kind in Call dance "" "call "; do
	expect_fail 2 log ann --kind "$kind"
	expect_err_has "unknown kind '$kind'"
done
expect_fail 2 log ann
expect_err_has "--kind"
for m in -1 1441 abc 1.5 "" 99999999999999999999; do
	expect_fail 2 log ann --kind call --minutes "$m"
done
expect_fail 2 log ann --kind call --at 2026-03-01 --follow-up 2026-02-01
expect_err_has "before"
expect_fail 2 log me --kind call
expect_fail 1 log nobody --kind call
expect_err_has "nobody"
expect_fail 2 log ann bob --kind call
expect_fail 2 log --kind call
expect_fail 2 log ann --kind call --note "$(printf 'bad \377 byte')"
expect_err_has "UTF-8"
dump_db "$TMP/after"
expect_same_file "$TMP/before" "$TMP/after" "replica after bad logs"

# A good log: the short id, then history shows it with every field.
expect_ok log ann --kind coffee --at 2026-03-09T09:00 --minutes 30 \
    --note "data roles at Acme" --follow-up 2026-03-12
c1=$(out)
expect_eq 8 "${#c1}" "short id of a conversation"
expect_ok history ann --json
expect_json
expect_eq coffee "$(json '$[0].kind')" "kind"
expect_eq 2026-03-09T09:00:00Z "$(json '$[0].at')" "at"
expect_eq 30 "$(json '$[0].minutes')" "minutes"
expect_eq "data roles at Acme" "$(json '$[0].note')" "note"
expect_eq 2026-03-12T00:00:00Z "$(json '$[0].follow_up')" "follow_up"
expect_eq null "$(json_type '$[0].follow_up_done')" "follow_up_done"
expect_eq null "$(json_type '$[0].thanked')" "thanked"
expect_eq "Ann Lee" "$(json '$[0].person_name')" "person_name"
expect_eq "$c1" "$(json '$[0].short_id')" "short_id"
expect_ok history ann
expect_out_has "$c1  2026-03-09 09:00  coffee"
expect_out_has "[follow up 2026-03-12]"
expect_ok person show ann --json
expect_eq 2026-03-09T09:00:00Z "$(json '$.last_contact')" "last_contact"

# No minutes: null.  History is newest first, by person or for all.
expect_ok log bob --kind call --at 2026-03-08
expect_ok log ann --kind event --at 2026-03-01
expect_ok history --json
expect_eq 2026-03-09T09:00:00Z "$(json '$[0].at')" "newest first"
expect_eq 2026-03-08T00:00:00Z "$(json '$[1].at')" "second"
expect_eq null "$(json_type '$[1].minutes')" "minutes when not given"
expect_eq 2026-03-01T00:00:00Z "$(json '$[2].at')" "oldest last"
expect_ok history bob
expect_eq 1 "$(out | wc -l | tr -d ' ')" "history of bob"
expect_fail 1 history nobody

# done closes a follow-up once; thanks for a conversation.
expect_ok done "$c1"
expect_ok history ann --json
expect_eq 2026-03-10T12:00:00Z "$(json '$[0].follow_up_done')" "done"
TALLY_NOW=2026-03-11T12:00:00Z expect_ok done "$c1"
expect_ok history ann --json
expect_eq 2026-03-10T12:00:00Z "$(json '$[0].follow_up_done')" \
    "done again keeps the first date"
expect_ok log bob --kind call --at 2026-03-10
c2=$(out)
expect_fail 1 done "$c2"
expect_err_has "no follow-up"
expect_fail 1 done ffffffff
expect_err_has "no conversation 'ffffffff'"
expect_ok thank "$c1"
expect_ok history ann --json
expect_eq 2026-03-10T12:00:00Z "$(json '$[0].thanked')" "thanked"

# A note on several lines keeps each listing row on one line (the JSON
# keeps the line break).
expect_ok log ann --kind coffee --at 2026-03-10T10:00 \
    --note "$(printf 'line one\nline two\tend')" --follow-up +1d
expect_ok history ann
expect_eq 0 "$(grep -cv '^[0-9a-f]\{8\}  ' "$OUT")" \
    "history rows that do not start with an id"
expect_out_has "line one line two end"
expect_ok due --within 2
expect_eq 0 "$(grep -cv '^[0-9a-f]\{8\}  ' "$OUT")" \
    "due rows that do not start with an id"
expect_ok search "line"
expect_eq 0 "$(grep -cv '^[0-9a-f]\{8\}  ' "$OUT")" \
    "search rows that do not start with an id"
expect_ok history ann --json
expect_eq "$(printf 'line one\nline two\tend')" "$(json '$[0].note')" \
    "the note as stored"

# A later conversation closes the person's earlier open follow-ups.
expect_ok log bob --kind call --at 2026-03-02 --follow-up 2026-03-20
c3=$(out)
expect_ok log bob --kind email --at 2026-03-05
expect_ok history bob --json
expect_eq 2026-03-10T12:00:00Z \
    "$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ',
        follow_up_done, 'unixepoch') FROM interaction
        WHERE id LIKE '$c3%'")" "follow-up closed by a later log"

finish
