# mail.sh -- records both sides confirm, through a real tallyd (ipc://)
# and three replicas: propose, sync, inbox, confirm, decline, revoke
# (before an answer and after confirming), the answers crossing, a
# proposal from a key linked to no one, the relay down, restarted and
# kill -9'd between steps, --wait, --json, usage errors, and the relay's
# data holding no plaintext.
. "$2/cli/lib.sh"
. "$2/cli/mailrelay.inc"

# state NAME RECORD: the record's state in NAME's replica ("" if none).
state()
{
	sql "$1" "SELECT state FROM record WHERE id LIKE '$2%'"
}

# same_record RECORD: Ann's and Bob's replicas hold the same signed bytes
# in the same state.
same_record()
{
	expect_eq "$(sql ann "SELECT state, hex(signed) FROM record
	    WHERE id LIKE '$1%'")" \
	    "$(sql bob "SELECT state, hex(signed) FROM record
	    WHERE id LIKE '$1%'")" "record $1 in both replicas"
}

# Usage before any relay.
as ann
expect_ok init --name "Ann Lee"
expect_fail 1 sync
expect_err_has "no relay set"
expect_fail 2 sync --wait x
expect_fail 2 sync extra
expect_fail 2 record confirm
expect_fail 1 record confirm abcd
expect_ok inbox
expect_out_has "nothing waits"
expect_ok inbox --json
expect_eq "" "$(json '$[0].id')" "empty inbox"
rm -rf "$TMP/ann"

start_tallyd
newuser ann "Ann Lee"
expect_ok person edit me --email ann@acme.example --phone "+1 555 0100"
newuser bob "Bob Ray"
newuser cat "Cat Diaz"
link ann "Bob Ray" bob
link bob "Ann Lee" ann
link cat "Bob Ray" bob # Bob has not linked Cat

# -- Confirm ---------------------------------------------------------------

as ann
expect_ok record propose favor --with "Bob Ray" --kind resume \
    --note "Reviewed my resume for the Acme role"
R1=$(out)
expect_eq proposed "$(state ann "$R1")" "Ann's proposal"
expect_ok inbox
expect_out_has "1 letter of yours waits to be sent"
sync_as ann
expect_out_has "sent your proposal of record $R1"
sync_as bob
expect_out_has "proposal $R1: Ann Lee says you did them a favor (resume)"
expect_ok inbox --json
expect_json
expect_eq record "$(json '$[0].kind')" "inbox kind"
expect_eq "$R1" "$(json '$[0].short_id')" "inbox id"
expect_eq "Ann Lee" "$(json '$[0].from.name')" "inbox sender"
expect_eq 0 "$(json '$[0].unknown')" "a linked sender"
expect_eq favor "$(json '$[0].record.kind')" "the proposal"
expect_eq "" "$(state bob "$R1")" "nothing stored before the answer"
expect_ok inbox
expect_out_has "tally record confirm $R1"
expect_ok record confirm "$R1"
expect_out_has "confirmed record $R1"
expect_eq confirmed "$(state bob "$R1")" "Bob's record"
expect_fail 1 record confirm "$R1"
expect_err_has "answered already"
sync_as bob
sync_as ann
expect_out_has "Bob Ray confirmed record $R1"
same_record "$R1"
expect_eq confirmed "$(state ann "$R1")" "Ann's record, confirmed"
as ann
expect_ok ledger "Bob Ray" --json
expect_eq 1 "$(json '$[0].confirmed')" "Ann's ledger: confirmed"
expect_eq 2 "$(json '$[0].received')" "Ann received a resume review"
as bob
expect_ok ledger "Ann Lee" --json
expect_eq 1 "$(json '$[0].confirmed')" "Bob's ledger: confirmed"
expect_eq 2 "$(json '$[0].given')" "Bob gave it"
# Nothing new: a second sync says so.
sync_as ann
expect_out_has "nothing to send, nothing new"

# -- Decline ---------------------------------------------------------------

as bob
expect_ok record propose referral --with "Ann Lee" --from me \
    --to "Ann Lee" --company Globex --note "Referred Ann to Globex"
R2=$(out)
sync_as bob
sync_as ann
expect_ok record decline "$R2" --reason "that was someone else"
expect_out_has "declined record $R2"
expect_eq declined "$(state ann "$R2")" "Ann declined"
sync_as ann
sync_as bob
expect_out_has "Ann Lee declined record $R2"
expect_out_has "that was someone else"
same_record "$R2"
expect_eq "them|that was someone else" \
    "$(sql bob "SELECT CASE closed_by_me WHEN 1 THEN 'me' ELSE 'them' END
    || '|' || reason FROM record WHERE id LIKE '$R2%'")" "Bob sees why"

# -- Revoke before an answer -----------------------------------------------

as ann
expect_ok record propose reference --with "Bob Ray" --for "data roles" \
    --note "Bob is my reference"
R3=$(out)
sync_as ann
expect_ok record revoke "$R3" --reason "asked too early"
expect_out_has "revoked record $R3"
sync_as ann
sync_as bob
expect_out_has "Ann Lee revoked record $R3"
same_record "$R3"
expect_eq revoked "$(state bob "$R3")" "withdrawn before the answer"
as bob
expect_ok inbox --json
expect_eq "" "$(json '$[0].id')" "nothing waits after a withdrawal"
expect_fail 1 record confirm "$R3"

# -- Revoke after confirm ----------------------------------------------------

as bob
expect_ok record revoke "$R1" --reason "entered twice"
sync_as bob
sync_as ann
expect_out_has "Bob Ray revoked record $R1"
same_record "$R1"
expect_eq revoked "$(state ann "$R1")" "revoked after confirm"
as ann
expect_ok ledger "Bob Ray" --json
expect_eq 0 "$(json '$[0].confirmed')" "nothing confirmed after the revoke"

# -- Crossing answers: Ann withdraws while Bob declines ------------------------

as ann
expect_ok record propose favor --with "Bob Ray" --kind advice --note "Advice"
R4=$(out)
sync_as ann
sync_as bob
expect_ok record decline "$R4"
as ann
expect_ok record revoke "$R4"
sync_as ann
sync_as bob
sync_as ann
same_record "$R4"
expect_eq revoked "$(state bob "$R4")" "revoked wins over declined"

# -- A proposal from a key linked to no one ----------------------------------

as cat
expect_ok record propose favor --with "Bob Ray" --kind info \
    --note "Told Bob about the Initech opening"
R5=$(out)
sync_as cat
sync_as bob
expect_out_has "from a key linked to no one"
expect_ok inbox
expect_out_has "an unknown key"
expect_out_has "tally peer add PERSON $(tid cat)"
expect_ok inbox --json
expect_eq 1 "$(json '$[0].unknown')" "marked unknown"
expect_eq "" "$(state bob "$R5")" "never merged"
expect_fail 1 record confirm "$R5"
expect_err_has "not linked"
expect_eq "" "$(state bob "$R5")" "still not merged"
link bob "Cat Diaz" cat
expect_ok record confirm "$R5"
sync_as bob
sync_as cat
same_record_cat=$(sql cat "SELECT state FROM record WHERE id LIKE '$R5%'")
expect_eq confirmed "$same_record_cat" "Cat's record after Bob linked her"

# -- The relay down, restarted, kill -9'd between steps ----------------------

stop_tallyd
as ann
expect_ok record propose favor --with "Bob Ray" --kind referral \
    --note "Referred me to Globex while the relay was down"
R6=$(out)
expect_fail 1 sync
expect_err_has "stays queued"
expect_eq 1 "$(sql ann "SELECT count(*) FROM mail_outbox")" "queued offline"
start_tallyd
sync_as ann
expect_out_has "sent your proposal of record $R6"
kill9_tallyd
start_tallyd
sync_as bob
expect_out_has "proposal $R6"
expect_ok record confirm "$R6"
kill9_tallyd
expect_fail 1 sync
expect_eq 1 "$(sql bob "SELECT count(*) FROM mail_outbox")" "answer queued"
start_tallyd
sync_as bob
kill9_tallyd
start_tallyd
sync_as ann
expect_out_has "Bob Ray confirmed record $R6"
same_record "$R6"
expect_eq 0 "$(sql ann "SELECT count(*) FROM mail_outbox")" "Ann's queue"
expect_eq 0 "$(sql bob "SELECT count(*) FROM mail_outbox")" "Bob's queue"

# -- --wait: a sync that waits for what is on its way ------------------------

as bob
"$TALLY" sync --wait 20 --json >"$TMP/wait.out" 2>"$TMP/wait.err" &
WPID=$!
sleep 1
as ann
expect_ok record propose favor --with "Bob Ray" --kind info --note "waited"
R7=$(out)
sync_as ann
wait "$WPID" || fail "sync --wait failed: $(cat "$TMP/wait.err")"
cp "$TMP/wait.out" "$OUT"
expect_json
expect_eq 1 "$(json '$.received')" "sync --wait received what came"
expect_eq "$R7" "$(json '$.events[0].ref' | cut -c1-8)" "the event's ref"

# -- The relay saw no plaintext -------------------------------------------------

for text in "Ann Lee" "Bob Ray" "Cat Diaz" "ann@acme.example" "555 0100" \
    "Reviewed my resume" "Globex" "someone else" "asked too early" \
    "entered twice" "Initech" "data roles" "waited"; do
	relay_grep "$text"
done
stop_tallyd
finish
