# oddinput.sh -- empty, huge, non-UTF-8 and control-character arguments
# everywhere: a clear error or a clean success, never a crash; and a
# replica holding bytes that are not UTF-8 still gives valid JSON.
. "$2/cli/lib.sh"

TALLY_NOW=2026-03-10T12:00:00Z
export TALLY_NOW

expect_ok init --name Me
expect_ok person add "Ann Lee"
ann=$(out)
expect_ok log ann --kind call
call=$(out)
expect_ok favor add --from ann --to me --kind advice
fav=$(out)
expect_ok reference add ann
ref=$(out)

big=$(head -c 100000 /dev/zero | tr '\0' x)
bad=$(printf 'caf\351 \377\376')
nl=$(printf 'two\nlines')
# Runs tally with $1 in place of each @ in the other arguments: the exit
# status must be 0, 1 or 2, with one line on stderr when not 0.
odd1()
{
	_v=$1
	shift
	_orig=$*
	_n=$#
	_i=0
	while [ $_i -lt $_n ]; do
		_a=$1
		shift
		[ "$_a" = @ ] && _a=$_v
		set -- "$@" "$_a"
		_i=$((_i + 1))
	done
	tly "$@"
	_shown=$(printf '%.20s' "$_v" | tr -c '[:print:]' '?')
	case $RC in
	0) ;;
	1 | 2)
		if [ "$(wc -l <"$ERR")" -ne 1 ]; then
			fail "'tally $_orig' with @ = '$_shown': not one line on stderr"
			show_last
		fi
		;;
	*)
		fail "'tally $_orig' with @ = '$_shown': exit $RC"
		show_last
		;;
	esac
}

odd()
{
	for _odd in "" " " "$big" "$bad" "$nl" "-" "--" "%_\\" "'\"" me; do
		odd1 "$_odd" "$@"
	done
}

odd person add @
odd person add "Odd One" --org @
odd person add "Odd Two" --email @
odd person add "Odd Three" --phone @
odd person add "Odd Four" --tag @
odd person add "Odd Five" --note @
odd person add "Odd Six" --url @ --how-met @
odd person add "Odd Seven" --closeness @
odd person add "Odd Eight" --referred-by @
odd person show @
odd person list --tag @
odd person edit "$ann" --title @
odd person edit "$ann" --rm-tag @ --rm-email @ --rm-phone @
odd person edit "$ann" --email @
odd person rm @
odd log @ --kind call
odd log "$ann" --kind @
odd log "$ann" --kind call --at @
odd log "$ann" --kind call --minutes @
odd log "$ann" --kind call --note @
odd log "$ann" --kind call --follow-up @
odd history @
odd done @
odd thank @
odd favor add --from @ --to me --kind advice
odd favor add --from "$ann" --to me --kind @
odd favor add --from "$ann" --to me --kind advice --status @
odd favor add --from "$ann" --to me --kind advice --weight @
odd favor add --from "$ann" --to me --kind advice --note @
odd favor add --from "$ann" --to me --kind advice --on @
odd favor done @
odd favor thank @
odd favor list @
odd ledger @
odd intro add --by me --between "$ann" @
odd intro add --by @ --between "$ann" me
odd reference add "$ann" --for @
odd reference use "$ref" --for @
odd reference use @ --for x
odd due --within @
odd next -n @
odd search @
odd search @ --limit @
odd graph --format @
odd --db @ person list
odd @
odd person @
odd person edit "$ann" --name @

# Names, organisations, titles, tags, emails and phones are one line;
# notes may have several but no other control characters.
expect_fail 2 person add "$nl"
expect_err_has "one line"
expect_fail 2 person add "X" --org "$nl"
expect_fail 2 person add "X" --tag "$nl"
expect_fail 2 person add "X" --email "$(printf 'a@b\tc')"
expect_fail 2 person add "X" --note "$(printf 'esc \033[31m red')"
expect_err_has "control character"
expect_fail 2 log "$ann" --kind call --note "$(printf 'bell \007')"
expect_ok person add "Multi Line" --note "$nl"
expect_ok person show "multi line" --json
expect_eq "$nl" "$(json '$.note')" "a note on two lines"

# Everything that printed JSON printed valid JSON, and the replica still
# passes its integrity check.
expect_eq ok "$(sqlite3 "$DB" "PRAGMA integrity_check")" "integrity_check"
for args in "person list" "history" "favor list" "ledger" "intro list" \
    "reference list" "due --within 30" "next" "search ann"; do
	# shellcheck disable=SC2086
	expect_ok $args --json
	expect_json
done

# Bytes that are not UTF-8, written behind tally's back (another
# program, a damaged sync): shown as U+FFFD in JSON, keys kept.
sqlite3 "$DB" "UPDATE person SET org = CAST(X'41FF42' AS TEXT),
    note = CAST(X'C3' AS TEXT) WHERE id LIKE '$ann%'"
expect_ok person show "$ann" --json
expect_json
expect_eq "A�B" "$(json '$.org')" "org with a bad byte"
expect_eq "�" "$(json '$.note')" "note with a truncated sequence"
expect_ok person list --json
expect_json
expect_ok person show "$ann"
expect_out_has "$ann"

finish
