# help.sh -- --help on every command, --version, and usage errors: exit 2
# with one line naming what was wrong.  No replica is needed for any of
# it, and none is created.
. "$2/cli/lib.sh"

expect_ok --version
case $(out) in
"tally "[0-9]*.[0-9]*.[0-9]*) ;;
*) fail "--version printed '$(out)'" ;;
esac
expect_ok --help
expect_out_has "usage: tally"
for c in init person log history done favor thank ledger intro reference \
    due next search import export graph; do
	expect_out_has "  $c "
done
expect_ok -h
expect_out_has "usage: tally"
expect_ok help
expect_out_has "usage: tally"
expect_ok help favor
expect_out_has "usage: tally favor add"

# COMMAND --help and COMMAND SUB --help print the command's usage.
for args in "init" "person" "person add" "person list" "person show" \
    "person edit" "person rm" "log" "history" "done" "favor" "favor add" \
    "favor done" "favor decline" "favor thank" "favor list" "thank" \
    "ledger" "intro" "intro add" "intro list" "reference" \
    "reference add" "reference use" "reference list" "due" "next" \
    "search" "import" "export" "graph"; do
	# shellcheck disable=SC2086
	expect_ok $args --help
	first=${args%% *}
	case $(head -n 1 "$OUT") in
	"usage: tally $first"*) ;;
	*) fail "'tally $args --help' starts '$(head -n 1 "$OUT")'" ;;
	esac
	[ -s "$ERR" ] && fail "'tally $args --help' wrote to stderr"
	# shellcheck disable=SC2086
	expect_ok $args -h
done
# The usage names every option of the contract.
expect_ok person --help
for o in --org --title --email --phone --url --how-met --referred-by \
    --tag --closeness --note; do
	expect_out_has "$o"
done
expect_ok log --help
for o in --kind --at --minutes --note --follow-up; do
	expect_out_has "$o"
done
expect_ok favor --help
for o in --from --to --kind --status --weight --note; do
	expect_out_has "$o"
done

# Usage errors: exit 2, one line, the thing that was wrong named.
expect_fail 2
expect_fail 2 frobnicate
expect_err_has "frobnicate"
expect_fail 2 --bogus
expect_err_has "--bogus"
expect_fail 2 --db
expect_err_has "--db"
expect_fail 2 person
expect_err_has "subcommand"
expect_fail 2 person frob
expect_err_has "frob"
expect_fail 2 person add
expect_err_has "NAME"
expect_fail 2 person add "Ann Lee" --bogus
expect_err_has "--bogus"
expect_fail 2 person add "Ann Lee" --org
expect_err_has "--org"
expect_err_has "needs a value"
expect_fail 2 person add "Ann Lee" --json=yes
expect_err_has "--json"
expect_fail 2 person add Ann Lee
expect_fail 2 person show
expect_fail 2 person show a b
expect_fail 2 person list extra
expect_fail 2 person rm
expect_fail 2 log
expect_fail 2 log ann
expect_err_has "--kind"
expect_fail 2 log ann --kind call -x
expect_err_has "'-x'"
expect_fail 2 history a b
expect_fail 2 done
expect_fail 2 favor
expect_fail 2 favor add
expect_fail 2 favor list a b
expect_fail 2 thank
expect_fail 2 ledger a b
expect_fail 2 intro
expect_fail 2 intro list extra
expect_fail 2 reference
expect_fail 2 reference use x
expect_fail 2 due --within
expect_fail 2 next -n
expect_err_has "'-n'"
expect_fail 2 next -q
expect_fail 2 search
expect_fail 2 graph --format jpeg
expect_fail 2 graph extra
expect_fail 2 import
expect_fail 2 import nosuchformat file
expect_fail 2 export
expect_fail 2 export nosuchformat
expect_fail 2 init extra
# Non-UTF-8 and control bytes in a bad argument stay on one line.
expect_fail 2 "$(printf 'bad\nline\377')"
expect_fail 2 person add "Ann" "$(printf 'x\ny')"

# None of this created a replica.
[ -e "$TALLY_HOME" ] && fail "help and usage errors created $TALLY_HOME"

finish
