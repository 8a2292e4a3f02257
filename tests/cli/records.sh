# records.sh -- records both sides confirm, exchanged as files between
# two replicas (Ann: passphrase from TALLY_PASSPHRASE; Bob: no
# passphrase; Carl, a third party: --passphrase-file): new, export, sign,
# import, verify, tampered copies, decline and revoke both ways, and each
# attack refused with nothing stored changed.
. "$2/cli/lib.sh"

TALLY_NOW=2026-11-22T10:00:00Z
export TALLY_NOW

# as NAME: switch the replica the next commands use.
as()
{
	unset TALLY_PASSPHRASE
	TALLY_HOME=$TMP/$1
	DB=$TALLY_HOME/tally.db
	export TALLY_HOME
	if [ "$1" = ann ]; then
		TALLY_PASSPHRASE='ann: correct horse'
		export TALLY_PASSPHRASE
	fi
}

# unchanged_since FILE WHAT: the current replica's dump equals FILE.
unchanged_since()
{
	dump_db "$TMP/now.sql"
	expect_same_file "$1" "$TMP/now.sql" "$2 changed the replica"
}

# The armored body of a record file, decoded, to stdout.
body()
{
	sed -n '/^$/,/^-----END/p' "$1" | sed '1d;$d' | tr -d '\n' | base64 -d
}

# Armors the binary container in file $1 (no header lines) to stdout.
armor()
{
	printf -- '-----BEGIN TALLY RECORD-----\n\n'
	base64 -w 64 <"$1"
	printf -- '-----END TALLY RECORD-----\n'
}

# The JSON list in file $1, ordered by id (ties in time keep the order
# rows were stored in, which a restore does not).
by_id()
{
	sqlite3 :memory: "SELECT json_group_array(json(value)) FROM (SELECT
	    value FROM json_each(readfile($(sql_path "$1")))
	    ORDER BY json_extract(value, '\$.id'))"
}

size()
{
	wc -c <"$1" | tr -d ' '
}

# -- Identities -----------------------------------------------------------

as ann
expect_ok init --name "Ann Lee"
expect_ok id init
expect_eq "-rw-------" "$(ls -l "$TALLY_HOME/identity.key" | cut -c1-10)" \
    "mode of the key file"
expect_ok id show --json
expect_json
ANN=$(json '$.tally_id')
expect_eq true "$(json_type '$.passphrase')" "Ann's key has a passphrase"
expect_ok person add "Bob Stone"
expect_ok person add "Carl Mint"

as bob
expect_ok init --name "Bob Stone"
expect_ok id init --no-passphrase
expect_err_has "warning"
expect_ok id show --json
BOB=$(json '$.tally_id')
expect_eq false "$(json_type '$.passphrase')" "Bob's key has no passphrase"
expect_ok person add "Ann Lee"

as carl
printf 'carl pass\n' >"$TMP/carl.pass"
expect_ok init --name "Carl Mint"
expect_ok id init --passphrase-file "$TMP/carl.pass"
expect_ok id show --json
CARL=$(json '$.tally_id')
expect_ok person add "Ann Lee"
expect_ok person add "Bob Stone"

case $ANN in tly1*) ;; *) fail "Ann's tally id '$ANN' does not start with tly1" ;; esac
expect_eq 62 "${#ANN}" "length of a tally id"

# -- Linking peers, safety codes -------------------------------------------

as ann
expect_ok peer add bob "$BOB"
# A record needs a linked peer.
dump_db "$TMP/before.sql"
expect_fail 1 record new favor --with carl --note "lunch"
expect_err_has "tally peer add"
unchanged_since "$TMP/before.sql" "record new with an unlinked person"

as bob
# Pasted in groups of five, upper case: the same id.
spaced=$(printf '%s' "$ANN" | tr a-z A-Z | sed 's/...../& /g')
expect_ok peer add ann $spaced
expect_ok peer list --json
expect_eq "$ANN" "$(json '$[0].tally_id')" "tally id of Bob's peer"
expect_eq null "$(json_type '$[0].verified')" "a new link is not verified"

as ann
expect_ok peer verify bob --json
code_a=$(json '$.safety_code')
as bob
expect_ok peer verify ann --confirm --json
code_b=$(json '$.safety_code')
expect_eq "$code_a" "$code_b" "safety code on both sides"
case $code_a in
[0-9][0-9][0-9][0-9][0-9]\ [0-9][0-9][0-9][0-9][0-9]\ *) ;;
*) fail "safety code '$code_a' is not groups of five digits" ;;
esac
expect_ok peer list --json
expect_eq text "$(json_type '$[0].verified')" "verified after --confirm"

as carl
expect_ok peer add ann "$ANN"
expect_ok peer add bob "$BOB"

# -- A favor confirmed by exchanging files ---------------------------------

as ann
expect_ok record new favor --with bob --kind advice --on 2026-11-20 \
    --note "reviewed my CV line by line"
R1=$(out)
case $R1 in
[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
*) fail "record new should print an 8-hex-digit id, got '$R1'" ;;
esac
expect_ok record list --state proposed --json
expect_eq proposed "$(json '$[0].state')" "state after new"
expect_eq false "$(json_type '$[0].complete')" "a proposal is not complete"
expect_eq missing "$(json '$[0].parties[0].signature')" "Bob's signature"
expect_eq valid "$(json '$[0].parties[1].signature')" "Ann's signature"
expect_eq giver "$(json '$[0].parties[0].role')" "Bob's role"
expect_ok favor list --json
expect_eq advice "$(json '$[0].kind')" "kind of the favor recorded"
expect_eq false "$(json_type '$[0].confirmed')" "favor before confirmation"
expect_ok record export "$R1" -o "$TMP/f1.txt"
expect_ok record export "$R1"
expect_out_has "-----BEGIN TALLY RECORD-----"
# Half signed: verify says so, and fails.
tly verify "$TMP/f1.txt"
expect_eq 1 "$RC" "verify of a proposal"
expect_err_has "incomplete"

as bob
expect_ok record sign "$TMP/f1.txt" --yes
expect_out_has "Ann Lee ($ANN) says you did them a favor (advice) on 2026-11-20: reviewed my CV line by line"
expect_ok record show "$R1" --json
expect_eq confirmed "$(json '$.state')" "Bob's state after signing"
expect_eq true "$(json_type '$.by_me')" "Bob gave the favor"
expect_ok favor list --json
expect_eq true "$(json_type '$[0].confirmed')" "Bob's favor confirmed"
expect_eq "Bob Stone" "$(json '$[0].from_name')" "Bob's favor giver"

expect_ok verify "$TMP/f1.txt"
expect_out_has "complete"
expect_ok verify "$TMP/f1.txt" --json
expect_json
expect_eq true "$(json_type '$.ok')" "verify --json ok"
expect_eq favor "$(json '$.kind')" "verify --json kind"
expect_eq advice "$(json '$.favor_kind')" "verify --json favor_kind"
expect_eq 2026-11-20 "$(json '$.date')" "verify --json date"
expect_eq "$ANN" "$(json '$.parties[1].tally_id')" "verify --json receiver"
expect_eq valid "$(json '$.parties[0].signature')" "verify --json sig"
expect_eq "Ann Lee" "$(json '$.parties[1].name')" "name from the replica"

as ann
expect_ok record import "$TMP/f1.txt" --json
expect_eq confirmed "$(json '$.outcome')" "outcome of the import"
expect_ok record list --state confirmed --json
expect_eq confirmed "$(json '$[0].state')" "Ann's state after import"
expect_eq true "$(json_type '$[0].complete')" "complete after import"
expect_ok favor list --json
expect_eq true "$(json_type '$[0].confirmed')" "Ann's favor confirmed"
expect_ok ledger --json
expect_eq 1 "$(json '$[0].confirmed')" "Ann's ledger counts it confirmed"
expect_eq 1 "$(json '$[0].favors_received')" "counted once"
# Taking it in again changes nothing.
dump_db "$TMP/before.sql"
expect_ok record import "$TMP/f1.txt"
expect_out_has unchanged
unchanged_since "$TMP/before.sql" "a second import"
as bob
expect_ok ledger --json
expect_eq 1 "$(json '$[0].confirmed')" "Bob's ledger counts it confirmed"

# Verify needs no replica at all.
TALLY_HOME=$TMP/nowhere "$TALLY" verify "$TMP/f1.txt" >"$OUT" 2>"$ERR"
expect_eq 0 "$?" "verify without a replica"
expect_out_has "$BOB"

# -- A second confirmed record (a referral), for the attacks below ---------

as ann
expect_ok record new referral --with bob --company Acme --on 2026-11-21 \
    --note "passed my CV to the hiring manager"
R2=$(out)
expect_ok record export "$R2" -o "$TMP/f2.txt"
as bob
expect_ok record sign "$TMP/f2.txt" --yes
expect_out_has "says you referred them to Acme on 2026-11-21"
as ann
expect_ok record import "$TMP/f2.txt"
expect_out_has confirmed

# -- Tampered copies: verify fails, and nothing is taken in ---------------

as ann
dump_db "$TMP/ann.sql"
as bob
dump_db "$TMP/bob.sql"

# A byte flipped in the middle of the base64 body.
awk 'NR == 6 { c = substr($0, 30, 1); r = (c == "A") ? "B" : "A";
    $0 = substr($0, 1, 29) r substr($0, 31) } { print }' \
    "$TMP/f1.txt" >"$TMP/flip.txt"
if cmp -s "$TMP/f1.txt" "$TMP/flip.txt"; then
	fail "the flipped copy is the same as the original"
fi
expect_fail 1 verify "$TMP/flip.txt"
# Every single body character changed, one at a time, is caught.
lines=$(sed -n '/^$/,/^-----END/p' "$TMP/f1.txt" | sed '1d;$d' | wc -l)
n=5
while [ "$n" -lt $((5 + lines)) ]; do
	awk -v L="$n" 'NR == L { c = substr($0, 2, 1);
	    r = (c == "A") ? "B" : "A"; $0 = substr($0, 1, 1) r substr($0, 3) }
	    { print }' "$TMP/f1.txt" >"$TMP/flip$n.txt"
	tly verify "$TMP/flip$n.txt"
	expect_eq 1 "$RC" "verify of a copy with body line $n changed"
	n=$((n + 1))
done

# A truncated body: the last body line gone, or the file cut short.
sed '$d' "$TMP/f1.txt" | sed '$d' >"$TMP/trunc.txt"
echo "-----END TALLY RECORD-----" >>"$TMP/trunc.txt"
expect_fail 1 verify "$TMP/trunc.txt"
head -c 200 "$TMP/f1.txt" >"$TMP/cut.txt"
expect_fail 1 verify "$TMP/cut.txt"
expect_err_has "END"

# A signature replaced by one from another record (Ann's, on R2).
body "$TMP/f1.txt" >"$TMP/f1.bin"
body "$TMP/f2.txt" >"$TMP/f2.bin"
n1=$(size "$TMP/f1.bin")
{
	head -c $((n1 - 64)) "$TMP/f1.bin"
	tail -c 64 "$TMP/f2.bin"
} >"$TMP/swap.bin"
armor "$TMP/swap.bin" >"$TMP/swap.txt"
tly verify "$TMP/swap.txt"
expect_eq 1 "$RC" "verify with a signature copied from another record"
expect_err_has "receiver's signature does not verify"
expect_out_has "signature invalid"
tly verify "$TMP/swap.txt" --json
expect_eq false "$(json_type '$.ok')" "verify --json of the swapped copy"
expect_eq invalid "$(json '$.parties[1].signature')" "the copied signature"

# A signer who is not a party: Carl's key in place of Ann's.
dd if="$TMP/carl/identity.key" of="$TMP/carl.pk" bs=1 skip=38 count=32 \
    2>/dev/null
{
	head -c $((n1 - 96)) "$TMP/f1.bin"
	cat "$TMP/carl.pk"
	tail -c 64 "$TMP/f1.bin"
} >"$TMP/nonparty.bin"
armor "$TMP/nonparty.bin" >"$TMP/nonparty.txt"
expect_fail 1 verify "$TMP/nonparty.txt"
expect_err_has "not a party"

# The same signature twice: a third entry repeating the last.
rlen=$(od -An -tu1 -j1 -N2 "$TMP/f1.bin" | awk '{ print $1 * 256 + $2 }')
{
	head -c $((3 + rlen)) "$TMP/f1.bin"
	printf '\003'
	tail -c 192 "$TMP/f1.bin"
	tail -c 96 "$TMP/f1.bin"
} >"$TMP/dup.bin"
armor "$TMP/dup.bin" >"$TMP/dup.txt"
expect_fail 1 verify "$TMP/dup.txt"
expect_err_has "twice"

# A kind that does not match the fields: the body's kind byte (favor ->
# referral), and the header's claim.
{
	head -c 4 "$TMP/f1.bin"
	printf '\002'
	tail -c +6 "$TMP/f1.bin"
} >"$TMP/kind.bin"
armor "$TMP/kind.bin" >"$TMP/kind.txt"
expect_fail 1 verify "$TMP/kind.txt"
expect_err_has "roles"
sed 's/^Kind: favor$/Kind: referral/' "$TMP/f1.txt" >"$TMP/claim.txt"
expect_fail 1 verify "$TMP/claim.txt"
expect_err_has "says it holds a referral"

# The same copies offered to the replicas: refused, nothing changed.
for f in flip trunc cut swap nonparty dup kind claim; do
	as ann
	expect_fail 1 record import "$TMP/$f.txt"
	unchanged_since "$TMP/ann.sql" "importing the $f copy"
	as bob
	expect_fail 1 record sign "$TMP/$f.txt" --yes
	unchanged_since "$TMP/bob.sql" "signing the $f copy"
done

# A record between two others: Carl can neither sign, take in nor
# decline it.
as carl
dump_db "$TMP/carl.sql"
expect_fail 1 record import "$TMP/f1.txt"
expect_err_has "not a party"
expect_fail 1 record sign "$TMP/f1.txt" --yes
expect_err_has "not a party"
expect_fail 1 record decline "$TMP/f1.txt"
expect_err_has "only a party may decline"
unchanged_since "$TMP/carl.sql" "a record for third parties"

# -- Key file and passphrase ----------------------------------------------

as ann
chmod 640 "$TALLY_HOME/identity.key"
expect_fail 1 record revoke "$R1"
expect_err_has "group or others"
chmod 600 "$TALLY_HOME/identity.key"
cp "$TALLY_HOME/identity.key" "$TMP/ann.key"
head -c 100 "$TMP/ann.key" >"$TALLY_HOME/identity.key"
expect_fail 1 record revoke "$R1"
expect_err_has "wrong size"
cp "$TMP/ann.key" "$TALLY_HOME/identity.key"
chmod 600 "$TALLY_HOME/identity.key"
TALLY_PASSPHRASE=wrong
expect_fail 1 record revoke "$R1"
expect_err_has "wrong passphrase"
as ann
unchanged_since "$TMP/ann.sql" "refused key files and passphrases"

# -- Decline, both ways ----------------------------------------------------

# Ann proposes a reference she gave Bob; Bob declines it.
as ann
expect_ok record new reference --with bob --from me --to bob \
    --for "PM role at Beta" --note "spoke to their recruiter"
R3=$(out)
expect_ok record export "$R3" -o "$TMP/f3.txt"
as bob
expect_ok record decline "$TMP/f3.txt" --reason "that was someone else" \
    -o "$TMP/d3.txt"
expect_ok record show "$R3" --json
expect_eq declined "$(json '$.state')" "Bob's state after declining"
expect_eq "that was someone else" "$(json '$.reason')" "reason"
expect_eq me "$(json '$.closed_by')" "closed by"
expect_ok verify "$TMP/d3.txt" --json
expect_eq revocation "$(json '$.kind')" "a decline is a revocation"
expect_eq decline "$(json '$.action')" "its action"
# A declined proposal cannot be signed afterwards.
expect_fail 1 record sign "$TMP/f3.txt" --yes
as ann
expect_ok record import "$TMP/d3.txt"
expect_out_has declined
expect_ok record show "$R3" --json
expect_eq declined "$(json '$.state')" "Ann's state after the decline"
expect_eq them "$(json '$.closed_by')" "declined by the other side"
expect_ok favor list --json
expect_eq reference "$(json '$[0].kind')" "the reference's favor"
expect_eq false "$(json_type '$[0].confirmed')" "a declined favor is unconfirmed"
dump_db "$TMP/before.sql"
expect_ok record import "$TMP/d3.txt"
expect_out_has unchanged
unchanged_since "$TMP/before.sql" "a second decline"

# Bob proposes a favor he received from Ann; Ann declines.
as bob
expect_ok record new favor --with ann --kind other --note "a coffee chat"
R5=$(out)
expect_ok record export "$R5" -o "$TMP/f5.txt"
as ann
expect_ok record decline "$TMP/f5.txt"
expect_out_has "-----BEGIN TALLY RECORD-----"
out >"$TMP/d5.txt"
as bob
expect_ok record import "$TMP/d5.txt"
expect_out_has declined
expect_ok record list --state declined --json
expect_eq "$R5" "$(json '$[0].short_id')" "Bob's declined record"
# Declining what is confirmed is refused: revoke it instead.
as bob
dump_db "$TMP/before.sql"
expect_fail 1 record decline "$TMP/f1.txt"
expect_err_has "revoke"
unchanged_since "$TMP/before.sql" "declining a confirmed record"

# -- Revoke, both ways -----------------------------------------------------

as ann
expect_ok record revoke "$R1" --reason "entered twice" -o "$TMP/v1.txt"
expect_ok record show "$R1" --json
expect_eq revoked "$(json '$.state')" "Ann's state after revoking"
expect_ok favor list --json
expect_ok ledger --json
expect_eq 1 "$(json '$[0].confirmed')" "only R2 still confirmed for Ann"
expect_ok verify "$TMP/v1.txt"
as bob
expect_ok record import "$TMP/v1.txt"
expect_out_has revoked
expect_ok record list --state revoked --json
expect_eq "$R1" "$(json '$[0].short_id')" "a revoked record stays"
expect_eq "entered twice" "$(json '$[0].reason')" "revocation reason"
# Revoked once is revoked.
expect_fail 1 record revoke "$R1"

as bob
expect_ok record revoke "$R2" -o "$TMP/v2.txt"
as ann
expect_ok record import "$TMP/v2.txt"
expect_out_has revoked
expect_ok ledger --json
expect_eq 0 "$(json '$[0].confirmed')" "nothing confirmed after revokes"
# The revocation can be written again.
expect_ok record export "$R1" --revocation -o "$TMP/v1again.txt"
expect_ok verify "$TMP/v1again.txt"

# A revocation of a record Carl does not hold: refused.
as carl
expect_fail 1 record import "$TMP/v1.txt"
expect_err_has "not in your replica"
unchanged_since "$TMP/carl.sql" "a revocation for someone else"

# -- The JSON dump carries the identity, peers and records ----------------

# Ann's laptop is lost: a new replica from her dump and her key file holds
# the same records, ledger and peers, and dumps the same bytes.
as ann
expect_ok export json -o "$TMP/ann.json"
expect_ok record list --json
by_id "$OUT" >"$TMP/ann-records.json"
expect_ok ledger --json
cp "$OUT" "$TMP/ann-ledger.json"
expect_ok peer list --json
cp "$OUT" "$TMP/ann-peers.json"
expect_eq 1 "$(grep -c "^\"identity\":\"$ANN\"" "$TMP/ann.json")" \
    "the dump's identity line"
as ann2
mkdir -p "$TALLY_HOME"
cp "$TMP/ann/identity.key" "$TALLY_HOME/"
expect_ok import json "$TMP/ann.json"
expect_ok record list --json
by_id "$OUT" >"$TMP/ann2-records.json"
expect_same_file "$TMP/ann-records.json" "$TMP/ann2-records.json" \
    "records after a restore"
expect_ok ledger --json
expect_same_file "$TMP/ann-ledger.json" "$OUT" "the ledger after a restore"
expect_ok peer list --json
expect_same_file "$TMP/ann-peers.json" "$OUT" "peers after a restore"
expect_ok export json -o "$TMP/ann2.json"
expect_same_file "$TMP/ann.json" "$TMP/ann2.json" "the dump after a restore"
expect_ok id show --json
expect_eq "$ANN" "$(json '$.tally_id')" "the tally id after a restore"
expect_ok verify "$TMP/f1.txt"

# A dump whose record or signature was changed, or whose by_me lies, is
# refused before anything is stored.
RECLINE='^{"id":"[0-9a-f]\{64\}"'
sed "0,/$RECLINE/{/$RECLINE/{s/\(\"signed\":\"[^\"]\{40\}\)A/\1B/;t;s/\(\"signed\":\"[^\"]\{40\}\)[^A]/\1A/}}" \
    "$TMP/ann.json" >"$TMP/bad1.json"
sed "0,/$RECLINE/{/$RECLINE/{s/\"by_me\":true/\"by_me\":X/;s/\"by_me\":false/\"by_me\":true/;s/\"by_me\":X/\"by_me\":false/}}" \
    "$TMP/ann.json" >"$TMP/bad2.json"
sed "0,/$RECLINE/{/$RECLINE/{s/A\([^\"]\{6\}\",\"revocation\)/B\1/;t;s/[^A]\([^\"]\{6\}\",\"revocation\)/A\1/}}" \
    "$TMP/ann.json" >"$TMP/bad3.json"
L1=$(grep -n "$RECLINE" "$TMP/ann.json" | head -n 1 | cut -d: -f1)
for bad in "bad1:not a signed record" bad2:by_me bad3:signature; do
	why=${bad#*:}
	bad=${bad%:*}
	if cmp -s "$TMP/ann.json" "$TMP/$bad.json"; then
		fail "$bad.json is not changed: the test's sed is wrong"
	fi
	as "ann-$bad"
	mkdir -p "$TALLY_HOME"
	cp "$TMP/ann/identity.key" "$TALLY_HOME/"
	tly import json "$TMP/$bad.json"
	expect_eq 1 "$RC" "exit status of importing $bad.json"
	expect_err_has "$TMP/$bad.json:$L1: record: "
	expect_err_has "nothing imported"
	expect_err_has "$why"
	expect_eq "" "$(sqlite3 "$TALLY_HOME/tally.db" \
	    'SELECT count(*) FROM record' 2>/dev/null | grep -v '^0$')" \
	    "records stored from $bad.json"
done

# Into a replica with another identity the records are not hers: refused.
as bob
dump_db "$TMP/bob-before.sql"
tly import json "$TMP/ann.json"
expect_eq 1 "$RC" "exit status of importing Ann's dump into Bob's replica"
expect_err_has "not between this replica's identity"
unchanged_since "$TMP/bob-before.sql" "Ann's dump imported by Bob"

# -- Signing needs a yes --------------------------------------------------

if command -v setsid >/dev/null 2>&1; then
	as ann
	expect_ok record new favor --with bob --note "a lead"
	R6=$(out)
	expect_ok record export "$R6" -o "$TMP/f6.txt"
	as bob
	dump_db "$TMP/before.sql"
	setsid -w "$TALLY" record sign "$TMP/f6.txt" </dev/null >"$OUT" 2>"$ERR"
	expect_eq 1 "$?" "sign without --yes and without a terminal"
	expect_err_has "--yes"
	unchanged_since "$TMP/before.sql" "an unconfirmed sign"
fi

finish
