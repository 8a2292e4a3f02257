# ledger.sh -- tally ledger: weighted favors given and received, the
# balance and who owes whom, the last exchange, the order of rows.
. "$2/cli/lib.sh"

TALLY_NOW=2026-03-10T12:00:00Z
export TALLY_NOW

expect_ok init --name Me
expect_ok ledger
expect_eq "no favors recorded yet" "$(out)" "empty ledger"
expect_ok ledger --json
expect_eq "[]" "$(out | tr -d ' \n')" "empty ledger as JSON"

expect_ok person add "Ann Lee"
expect_ok person add "Bob Stone"
expect_ok person add "Cara Diaz"
expect_ok person add "Dan Wu"

# Ann: I gave advice (1) and a resume review weighted 4; she gave a
# referral (5) and an introduction (3): received 8, given 5, I owe 3.
expect_ok favor add --from me --to ann --kind advice --on 2026-03-01
expect_ok favor add --from me --to ann --kind resume --weight 4 \
    --on 2026-03-02
expect_ok favor add --from ann --to me --kind referral --on 2026-03-03
expect_ok favor add --from ann --to me --kind introduction --on 2026-03-04
# Asked, promised and declined favors do not count, but pending ones
# are shown.
expect_ok favor add --from ann --to me --kind referral --status asked
expect_ok favor add --from me --to ann --kind other --status declined
# Bob: I gave a referral (5), he gave info weighted 0: they owe me 5.
expect_ok favor add --from me --to bob --kind referral --on 2026-02-20
expect_ok favor add --from bob --to me --kind info --weight 0 \
    --on 2026-02-21
# Cara: even, 2 and 2.
expect_ok favor add --from me --to cara --kind resume --on 2026-01-10
expect_ok favor add --from cara --to me --kind resume --on 2026-01-11
# Dan: nothing.

row()
{
	expect_ok ledger "$1" --json
	expect_json
	expect_eq "$2" "$(json '$[0].given')" "given ($1)"
	expect_eq "$3" "$(json '$[0].received')" "received ($1)"
	expect_eq "$4" "$(json '$[0].balance')" "balance ($1)"
	expect_eq "$5" "$(json '$[0].owes')" "owes ($1)"
	expect_eq "$6" "$(json '$[0].favors_given')" "favors_given ($1)"
	expect_eq "$7" "$(json '$[0].favors_received')" "favors_received ($1)"
	expect_eq "$8" "$(json '$[0].pending')" "pending ($1)"
	expect_eq "$9" "$(json '$[0].last_exchange')" "last_exchange ($1)"
}
row ann 5 8 -3 "I owe them" 2 2 1 2026-03-10T12:00:00Z
row bob 5 0 5 "they owe me" 1 1 0 2026-02-21T00:00:00Z
row cara 2 2 0 even 1 1 0 2026-01-11T00:00:00Z
expect_ok ledger dan --json
expect_eq "[]" "$(out | tr -d ' \n')" "ledger of someone without favors"

# All rows: largest imbalance first, then the latest exchange.
expect_ok ledger --json
expect_eq "Bob Stone" "$(json '$[0].name')" "first row"
expect_eq "Ann Lee" "$(json '$[1].name')" "second row"
expect_eq "Cara Diaz" "$(json '$[2].name')" "third row"
expect_eq "" "$(json '$[3].name')" "no row for Dan"
expect_eq integer "$(json_type '$[0].balance')" "type of balance"
expect_eq text "$(json_type '$[0].person')" "type of person"

# The text table says who owes whom in words.
expect_ok ledger
expect_out_has "PERSON"
line=$(grep "^Ann Lee" "$OUT")
expect_eq "Ann Lee                       5         8       -3  you owe them 2026-03-10  (pending)" \
    "$line" "Ann's row"
line=$(grep "^Bob Stone" "$OUT")
expect_eq "Bob Stone                     5         0       +5  they owe you 2026-02-21" \
    "$line" "Bob's row"
line=$(grep "^Cara Diaz" "$OUT")
expect_eq "Cara Diaz                     2         2       +0  even         2026-01-11" \
    "$line" "Cara's row"
# With a person, the favors follow the row.
expect_ok ledger ann
expect_out_has "referral"
expect_out_has "declined"

# Marking done moves the balance; declining takes it out again.
id=$(sqlite3 "$DB" "SELECT substr(id, 1, 8) FROM favor
    WHERE status = 'asked'")
expect_ok favor done "$id"
row ann 5 13 -8 "I owe them" 2 3 0 2026-03-10T12:00:00Z
expect_ok favor decline "$id"
row ann 5 8 -3 "I owe them" 2 2 0 2026-03-10T12:00:00Z

# Removing a person removes their row.
expect_ok person rm bob
expect_ok ledger --json
expect_eq "Ann Lee" "$(json '$[0].name')" "first row after rm"
expect_eq "Cara Diaz" "$(json '$[1].name')" "second row after rm"
expect_eq "" "$(json '$[2].name')" "two rows after rm"

finish
