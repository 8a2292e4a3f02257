# lib.sh -- helpers shared by the CLI tests (tests/cli/*.sh).
#
# A test is run as `sh NAME.sh /path/to/tally /path/to/tests` and starts
#
#     . "$2/cli/lib.sh"
#
# which gives it a fresh temporary TALLY_HOME (removed at exit), TZ=UTC,
# and these helpers:
#
#   tly ARGS...          run tally; exit status in $RC, stdout in $OUT,
#                        stderr in $ERR (files); fails the test only on
#                        a sanitizer report
#   expect_ok ARGS...    run tally, fail the test unless it exits 0
#   expect_fail CODE ARGS...
#                        run tally, fail unless it exits CODE with exactly
#                        one line on stderr ("tally...: what was wrong")
#                        and nothing on stdout
#   expect_eq EXPECTED ACTUAL [WHAT]
#                        fail unless the two strings are equal
#   expect_out_has TEXT  fail unless stdout of the last run contains TEXT
#   expect_out_lacks TEXT, expect_err_has TEXT: likewise
#   expect_json          fail unless stdout of the last run is valid JSON
#   json PATH            print json_extract(stdout of last run, PATH),
#                        e.g. json '$[0].name' or json '$.id'
#   json_type PATH       print json_type(stdout of last run, PATH):
#                        null, true, false, integer, text, array, object
#   out                  print stdout of the last run
#   dump_db FILE         write `sqlite3 .dump` of the replica to FILE
#   expect_same_file A B [WHAT]
#                        fail unless the two files are byte for byte equal
#   fail MESSAGE         record a failure (the test goes on)
#   finish               exit 1 if anything failed, else 0 (call last)
#
# JSON is checked with SQLite's JSON1 (sqlite3 is a build dependency),
# not with tools CI may lack.

set -u

TALLY=${1:?usage: sh NAME.sh /path/to/tally /path/to/tests}
TESTS=${2:?usage: sh NAME.sh /path/to/tally /path/to/tests}
case $TALLY in
/*) ;;
*) TALLY=$(pwd)/$TALLY ;;
esac
if [ ! -x "$TALLY" ]; then
	printf '%s: no tally program at %s\n' "$0" "$TALLY" >&2
	exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tally-cli.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' HUP INT TERM
OUT=$TMP/stdout
ERR=$TMP/stderr
RC=0
FAILS=0
TZ=UTC
TALLY_HOME=$TMP/home
DB=$TALLY_HOME/tally.db
export TZ TALLY_HOME
unset TALLY_NOW TALLY_BUSY_TIMEOUT_MS XDG_DATA_HOME
: >"$OUT"
: >"$ERR"

# The command line of the last run, for messages.
LAST=

fail()
{
	FAILS=$((FAILS + 1))
	printf 'FAIL: %s\n' "$*" >&2
}

# Prints what the last run wrote, indented, for a failure message.
show_last()
{
	printf '  command: tally %.200s\n  exit:    %s\n' "$LAST" "$RC" >&2
	if [ -s "$OUT" ]; then
		printf '  stdout:\n' >&2
		head -n 20 "$OUT" | cut -c1-200 | sed 's/^/    /' >&2
	fi
	if [ -s "$ERR" ]; then
		printf '  stderr:\n' >&2
		head -n 20 "$ERR" | cut -c1-200 | sed 's/^/    /' >&2
	fi
}

tly()
{
	LAST=$*
	"$TALLY" "$@" >"$OUT" 2>"$ERR"
	RC=$?
	# Under -DTALLY_SANITIZER a report may come with an ordinary exit
	# status: never let it pass.
	if grep -qE 'Sanitizer|runtime error:' "$ERR"; then
		fail "sanitizer report from 'tally $(printf '%.200s' "$*")'"
		show_last
	fi
	return 0
}

expect_ok()
{
	tly "$@"
	if [ "$RC" -ne 0 ]; then
		fail "expected exit 0 from 'tally $*', got $RC"
		show_last
		return 1
	fi
	return 0
}

expect_fail()
{
	_code=$1
	shift
	tly "$@"
	if [ "$RC" -ne "$_code" ]; then
		fail "expected exit $_code from 'tally $*', got $RC"
		show_last
		return 1
	fi
	_lines=$(wc -l <"$ERR")
	if [ "$_lines" -ne 1 ]; then
		fail "expected one line on stderr from 'tally $*', got $_lines"
		show_last
		return 1
	fi
	case $(cat "$ERR") in
	tally*) ;;
	*)
		fail "expected stderr of 'tally $*' to start with 'tally'"
		show_last
		return 1
		;;
	esac
	if [ -s "$OUT" ]; then
		fail "expected no stdout from failing 'tally $*'"
		show_last
		return 1
	fi
	return 0
}

expect_eq()
{
	if [ "$1" != "$2" ]; then
		fail "${3:-value}: expected '$1', got '$2'"
		return 1
	fi
	return 0
}

expect_out_has()
{
	if ! grep -qF -- "$1" "$OUT"; then
		fail "expected stdout of 'tally $LAST' to contain '$1'"
		show_last
		return 1
	fi
	return 0
}

expect_out_lacks()
{
	if grep -qF -- "$1" "$OUT"; then
		fail "expected stdout of 'tally $LAST' not to contain '$1'"
		show_last
		return 1
	fi
	return 0
}

expect_err_has()
{
	if ! grep -qF -- "$1" "$ERR"; then
		fail "expected stderr of 'tally $LAST' to contain '$1'"
		show_last
		return 1
	fi
	return 0
}

out()
{
	cat "$OUT"
}

# SQLite string literal of a path (single quotes doubled).
sql_path()
{
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"
}

expect_json()
{
	_v=$(sqlite3 :memory: \
	    "SELECT json_valid(readfile($(sql_path "$OUT")))" 2>&1)
	if [ "$_v" != 1 ]; then
		fail "expected valid JSON from 'tally $LAST' (json_valid: $_v)"
		show_last
		return 1
	fi
	return 0
}

json()
{
	sqlite3 :memory: \
	    "SELECT json_extract(readfile($(sql_path "$OUT")), '$1')"
}

json_type()
{
	sqlite3 :memory: \
	    "SELECT json_type(readfile($(sql_path "$OUT")), '$1')"
}

dump_db()
{
	sqlite3 "$DB" .dump >"$1"
}

expect_same_file()
{
	if ! cmp -s "$1" "$2"; then
		fail "${3:-files}: $1 and $2 differ"
		diff "$1" "$2" 2>/dev/null | head -n 20 | sed 's/^/    /' >&2
		return 1
	fi
	return 0
}

finish()
{
	if [ "$FAILS" -ne 0 ]; then
		printf '%s: %d check(s) failed\n' "$0" "$FAILS" >&2
		exit 1
	fi
	exit 0
}
