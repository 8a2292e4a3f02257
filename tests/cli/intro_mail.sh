# intro_mail.sh -- double opt-in introductions through a real tallyd
# (ipc://): Sam introduces Ann and Bob, who do not know each other.
# Both consent (the record ends signed by all three, each gets the
# other's card as a person with how-met, Sam's ledger counts the favor);
# either declines (the other learns only that it did not go ahead, and
# nothing about the decliner); Sam withdraws; a request from a key
# linked to no one; the relay restarted between steps; no plaintext at
# the relay.
. "$2/cli/lib.sh"
. "$2/cli/mailrelay.inc"

# has NAME TEXT: NAME's replica holds TEXT somewhere.
has()
{
	sqlite3 "$TMP/$1/tally.db" .dump | grep -q -F -- "$2"
}

lacks()
{
	if has "$1" "$2"; then
		fail "$1's replica holds '$2'"
	fi
}

istate()
{
	sql "$1" "SELECT state FROM mail_intro WHERE id LIKE '$2%'"
}

# syncs everyone, three times around (every step travels)
round()
{
	for _n in 1 2 3; do
		for _u in sam ann bob cat; do
			sync_as "$_u"
		done
	done
}

start_tallyd
newuser sam "Sam Rivera"
newuser ann "Ann Lee"
expect_ok person edit me --email ann@acme.example --phone "+1 555 0100" \
    --org Acme --title "Talent partner"
newuser bob "Bob Ray"
expect_ok person edit me --email bob@globex.example --phone "+1 555 0199"
link sam "Ann Lee" ann
link sam "Bob Ray" bob
link ann "Sam Rivera" sam
link bob "Sam Rivera" sam
ANN=$(tid ann)
BOB=$(tid bob)

# -- Usage -----------------------------------------------------------------

as sam
expect_fail 2 intro propose --between "Ann Lee" "Bob Ray"
expect_err_has "--note"
expect_fail 2 intro propose --note x
expect_fail 2 intro propose --between "Ann Lee" --note x
expect_fail 2 intro consent
expect_fail 2 intro decline a b
expect_fail 2 intro consent abcd --reason x
expect_fail 1 intro consent abcd
expect_fail 2 intro propose --between "Ann Lee" "Ann Lee" --note x
expect_fail 2 intro propose --between me "Ann Lee" --note x
expect_ok person add "Dee Noone"
expect_fail 1 intro propose --between "Ann Lee" "Dee Noone" --note x
expect_err_has "peer"

# -- Both consent ------------------------------------------------------------

as sam
expect_ok intro propose --between "Ann Lee" "Bob Ray" \
    --note "Bob's team at Globex hires data engineers" --json
expect_json
I1=$(json '$.short_id')
expect_eq asked "$(json '$.state')" "a proposed introduction"
expect_ok intro list --json
expect_eq proposed "$(json '$[0].status')" "Sam's intro, proposed"
sync_as sam
sync_as ann
expect_out_has "Sam Rivera would like to introduce you to someone"
expect_out_has "Globex hires data engineers"
# Ann hears of the introduction, and nothing of Bob beyond Sam's note.
expect_ok inbox --json
expect_eq intro "$(json '$[0].kind')" "a request"
expect_eq "$I1" "$(json '$[0].short_id')" "its id"
expect_eq "Sam Rivera" "$(json '$[0].from.name')" "from Sam"
lacks ann "Bob Ray"
lacks ann "$BOB"
lacks ann "bob@globex.example"
expect_fail 2 intro consent "$I1" --share email,shoe
expect_ok intro consent "$I1" --share email,phone
expect_fail 1 intro consent "$I1"
expect_err_has "already"
sync_as ann
sync_as sam
expect_out_has "Ann Lee consented"
expect_out_has "waiting for the other"
sync_as bob
lacks bob "Ann Lee"
lacks bob "$ANN"
lacks bob "ann@acme.example"
expect_ok intro consent "$I1"
sync_as bob
sync_as sam
expect_out_has "both said yes"
sync_as ann
sync_as bob
expect_out_has "introduction $I1 is made"
expect_out_has "Ann Lee <ann@acme.example>"
sync_as ann
expect_out_has "introduction $I1 is made"
sync_as sam
expect_out_has "introduction $I1 is made: Ann Lee and Bob Ray both signed it"
# All three hold the record signed by all three, and the introduction.
for u in sam ann bob; do
	expect_eq made "$(istate $u "$I1")" "$u's introduction"
	as $u
	expect_ok intro list --json
	expect_eq made "$(json '$[0].status')" "$u's intro list"
	expect_eq "$I1" "$(json '$[0].short_id')" "one id in every replica"
done
expect_eq "$(sql sam "SELECT hex(signed) FROM mail_intro")" \
    "$(sql ann "SELECT hex(signed) FROM mail_intro")" "Ann's record"
expect_eq "$(sql sam "SELECT hex(signed) FROM mail_intro")" \
    "$(sql bob "SELECT hex(signed) FROM mail_intro")" "Bob's record"
# Each introduced replica holds the other, with how they met.
as bob
expect_ok person show "Ann Lee" --json
expect_eq "ann@acme.example" "$(json '$.emails[0]')" "Ann's shared email"
expect_eq "+1 555 0100" "$(json '$.phones[0]')" "Ann's shared phone"
expect_eq "" "$(json '$.org')" "Ann did not share her org"
case $(json '$.how_met') in
"introduced by Sam Rivera on "*"Globex hires data engineers") ;;
*) fail "Bob's how-met for Ann: $(json '$.how_met')" ;;
esac
expect_ok peer list --json
expect_out_has "$ANN"
as ann
expect_ok person show "Bob Ray" --json
expect_eq "" "$(json '$.emails[0]')" "Bob shared only his name"
case $(json '$.how_met') in
"introduced by Sam Rivera"*) ;;
*) fail "Ann's how-met for Bob: $(json '$.how_met')" ;;
esac
# The favor: Sam gave an introduction to each; each owes Sam one.
as sam
expect_ok ledger --json
expect_eq 3 "$(json '$[0].given')" "Sam's ledger counts the favor"
expect_eq 3 "$(json '$[1].given')" "for both"
as ann
expect_ok ledger "Sam Rivera" --json
expect_eq 3 "$(json '$[0].received')" "Ann owes Sam an introduction"
# A late or repeated step changes nothing.
as bob
expect_fail 1 intro decline "$I1"
expect_err_has "made already"

# -- Ann declines: Bob learns only that it did not go ahead --------------------

newuser cat "Cat Diaz"
expect_ok person edit me --email cat@initech.example
link sam "Cat Diaz" cat
link cat "Sam Rivera" sam
as sam
expect_ok intro propose --between "Cat Diaz" "Ann Lee" \
    --note "Cat is moving into recruiting" --json
I2=$(json '$.short_id')
sync_as sam
sync_as cat
expect_ok intro consent "$I2" --share email
sync_as cat
sync_as ann
expect_ok intro decline "$I2" --reason "not hiring this quarter"
sync_as ann
sync_as sam
expect_out_has "Ann Lee declined introduction $I2: not hiring this quarter"
sync_as cat
expect_out_has "introduction $I2 (asked by Sam Rivera) did not go ahead"
expect_out_lacks "Ann"
expect_out_lacks "not hiring"
lacks cat "Ann Lee"
lacks cat "$ANN"
lacks cat "not hiring this quarter"
lacks ann "Cat Diaz"
lacks ann "cat@initech.example"
expect_eq cancelled "$(istate cat "$I2")" "Cat's request"
expect_eq declined "$(istate ann "$I2")" "Ann's request"
expect_eq declined "$(istate sam "$I2")" "Sam's introduction"
as sam
expect_ok intro list --json
expect_eq declined "$(json '$[0].status')" "declined in Sam's list"
expect_ok ledger "Cat Diaz" --json
expect_eq "" "$(json '$[0].given')" "no favor for a declined introduction"
as cat
expect_fail 1 intro consent "$I2"
expect_err_has "did not go ahead"

# -- Bob declines after Cat consented; the relay restarted between ---------------

as sam
expect_ok intro propose --between "Cat Diaz" "Bob Ray" --note "both in data"
I3=$(out | sed -n 's/^introduction \([0-9a-f]*\).*/\1/p')
sync_as sam
kill9_tallyd
start_tallyd
sync_as cat
expect_ok intro consent "$I3"
sync_as cat
stop_tallyd
start_tallyd
sync_as bob
expect_ok intro decline "$I3"
sync_as bob
sync_as sam
expect_out_has "Bob Ray declined introduction $I3"
sync_as cat
expect_out_has "did not go ahead"
lacks cat "Bob Ray"
lacks cat "$BOB"
expect_eq cancelled "$(istate cat "$I3")" "Cat's request"

# -- Sam withdraws before anyone answered --------------------------------------

as sam
expect_ok intro propose --between "Ann Lee" "Cat Diaz" --note "second try"
I4=$(out | sed -n 's/^introduction \([0-9a-f]*\).*/\1/p')
sync_as sam
expect_ok intro decline "$I4"
round
expect_eq cancelled "$(istate ann "$I4")" "withdrawn: Ann's request"
expect_eq cancelled "$(istate cat "$I4")" "withdrawn: Cat's request"
expect_eq cancelled "$(istate sam "$I4")" "withdrawn: Sam's"
as ann
expect_ok inbox --json
expect_eq "" "$(json '$[0].id')" "nothing waits after a withdrawal"

# -- A request from a key linked to no one -----------------------------------

newuser eve "Eve Stone"
link eve "Ann Lee" ann
link eve "Bob Ray" bob
as eve
expect_ok intro propose --between "Ann Lee" "Bob Ray" --note "trust me"
I5=$(out | sed -n 's/^introduction \([0-9a-f]*\).*/\1/p')
sync_as eve
sync_as ann
expect_out_has "a key linked to no one"
expect_ok inbox --json
expect_eq 1 "$(json '$[0].unknown')" "an unknown introducer"
expect_fail 1 intro consent "$I5"
expect_err_has "linked to no one"
expect_ok intro decline "$I5"
sync_as ann
sync_as eve
expect_out_has "declined introduction $I5"

# -- The relay saw no plaintext -------------------------------------------------

for text in "Sam Rivera" "Ann Lee" "Bob Ray" "Cat Diaz" "Eve Stone" \
    "ann@acme.example" "bob@globex.example" "cat@initech.example" \
    "555 0100" "555 0199" "Globex hires" "moving into recruiting" \
    "not hiring" "both in data" "second try" "trust me" "Acme"; do
	relay_grep "$text"
done
stop_tallyd
finish
