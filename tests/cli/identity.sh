# identity.sh -- tally id init/show and tally peer add/verify/list/rm:
# where the key rests, how the passphrase is given, the key file checks,
# tally ids with typos, and links that are refused.
. "$2/cli/lib.sh"

TALLY_NOW=2026-11-22T10:00:00Z
export TALLY_NOW
unset TALLY_PASSPHRASE
KEY=$TALLY_HOME/identity.key

# No replica, no identity.
expect_fail 1 id show
expect_err_has "tally init"
expect_ok init --name "Jo Seeker"
expect_fail 1 id show
expect_err_has "tally id init"

# Usage errors.
expect_fail 2 id
expect_fail 2 id init --no-passphrase --passphrase-file /dev/null
expect_fail 2 id show extra
expect_fail 2 id init --bogus

# An empty passphrase file, and a missing one, create nothing.
: >"$TMP/empty"
expect_fail 1 id init --passphrase-file "$TMP/empty"
expect_err_has "empty"
expect_fail 1 id init --passphrase-file "$TMP/none"
TALLY_PASSPHRASE=
export TALLY_PASSPHRASE
expect_fail 1 id init
expect_err_has "empty"
unset TALLY_PASSPHRASE
if [ -e "$KEY" ]; then
	fail "a refused id init left a key file"
fi

# From a passphrase file (its first line, without the line break).
printf 'jo pass phrase\nignored\n' >"$TMP/pass"
expect_ok id init --passphrase-file "$TMP/pass" --json
expect_json
ID=$(json '$.tally_id')
FPR=$(json '$.fingerprint')
expect_eq true "$(json_type '$.passphrase')" "passphrase"
expect_eq "$KEY" "$(json '$.key_file')" "key file next to the replica"
expect_eq "-rw-------" "$(ls -l "$KEY" | cut -c1-10)" "mode of the key file"
expect_eq 142 "$(wc -c <"$KEY" | tr -d ' ')" "size of the key file"
# The public key is in the replica: show needs no passphrase.
expect_ok id show
expect_out_has "$ID"
expect_out_has "$FPR"
expect_out_has "protected by a passphrase"

# Never overwritten.
cp "$KEY" "$TMP/key.saved"
dump_db "$TMP/before.sql"
expect_fail 1 id init --no-passphrase
expect_err_has "never replaced"
expect_same_file "$TMP/key.saved" "$KEY" "key file after a second id init"
dump_db "$TMP/now.sql"
expect_same_file "$TMP/before.sql" "$TMP/now.sql" "replica after a second id init"
# A key file alone (a replica without identity next to it) is kept too.
expect_ok --db "$TALLY_HOME/other.db" init --name Other
expect_fail 1 --db "$TALLY_HOME/other.db" id init --no-passphrase
expect_err_has "key file exists"
expect_same_file "$TMP/key.saved" "$KEY" "key file after id init elsewhere"

# The key file: readable by others, wrong size, not there.
expect_ok person add "Ann Lee"
chmod 644 "$KEY"
expect_ok id show --json
expect_eq false "$(json_type '$.key_file_ok')" "a world-readable key"
expect_ok id show
expect_out_has "group or others"
chmod 600 "$KEY"
head -c 141 "$TMP/key.saved" >"$KEY"
expect_ok id show --json
expect_eq false "$(json_type '$.key_file_ok')" "a short key file"
expect_out_has "wrong size"
rm -f "$KEY"
expect_ok id show --json
expect_out_has "missing"
cp "$TMP/key.saved" "$KEY"
chmod 600 "$KEY"
expect_ok id show --json
expect_eq true "$(json_type '$.key_file_ok')" "the key file restored"

# A second user, without passphrase (and warned about it).
H2=$TMP/ann
TALLY_HOME=$H2 "$TALLY" init --name "Ann Lee" >/dev/null
TALLY_HOME=$H2 "$TALLY" id init --no-passphrase >"$OUT" 2>"$ERR"
expect_eq 0 "$?" "id init --no-passphrase"
expect_err_has "warning"
expect_err_has "without a passphrase"
TALLY_HOME=$H2 "$TALLY" id show --json >"$OUT" 2>"$ERR"
ANN=$(json '$.tally_id')
expect_eq false "$(json_type '$.passphrase')" "Ann has no passphrase"

# -- Peers -----------------------------------------------------------------

expect_ok peer list
expect_out_has "no peers"
expect_ok person add "Bob Ray"
dump_db "$TMP/before.sql"
# A typo: one character changed, the checksum catches it.
typo=$(printf '%s' "$ANN" | sed 's/^\(tly1.....\)./\1x/')
if [ "$typo" = "$ANN" ]; then
	typo=$(printf '%s' "$ANN" | sed 's/^\(tly1.....\)./\1y/')
fi
expect_fail 2 peer add ann "$typo"
expect_err_has "typo"
expect_fail 2 peer add ann "tly1notanid"
expect_err_has "not a tally id"
expect_fail 2 peer add ann "hello"
expect_fail 1 peer add ann "$ID"
expect_err_has "your own"
expect_fail 1 peer add me "$ANN"
expect_fail 1 peer add nobody "$ANN"
expect_fail 2 peer add ann
dump_db "$TMP/now.sql"
expect_same_file "$TMP/before.sql" "$TMP/now.sql" "replica after refused links"

# Case, spaces and dashes do not matter.
dashed=$(printf '%s' "$ANN" | tr a-z A-Z | sed 's/......../&-/g')
expect_ok peer add ann "$dashed"
expect_out_has "$ANN"
expect_ok peer add ann "$ANN"
expect_fail 1 peer add bob "$ANN"
expect_err_has "linked to Ann Lee already"
expect_ok peer list --json
expect_json
expect_eq "Ann Lee" "$(json '$[0].name')" "peer name"
expect_eq "$ANN" "$(json '$[0].tally_id')" "peer tally id"
expect_eq null "$(json_type '$[0].verified')" "not verified yet"
fpr=$(json '$[0].fingerprint')
expect_eq 16 "${#fpr}" "fingerprint length"

# The safety code: the same from both sides.
expect_ok peer verify ann
code=$(out | head -n 1)
expect_out_has "--confirm"
TALLY_HOME=$H2 "$TALLY" person add "Jo Seeker" >/dev/null
TALLY_HOME=$H2 "$TALLY" peer add jo "$ID" >/dev/null
TALLY_HOME=$H2 "$TALLY" peer verify jo --json >"$OUT" 2>"$ERR"
expect_eq "$code" "$(json '$.safety_code')" "safety code on Ann's side"
expect_fail 1 peer verify bob
expect_err_has "tally peer add"
expect_ok peer verify ann --confirm
expect_out_has "verified"
expect_ok peer list --json
expect_eq text "$(json_type '$[0].verified')" "verified after --confirm"

# Relinking needs rm first.
TALLY_HOME=$TMP/carl "$TALLY" init >/dev/null
TALLY_HOME=$TMP/carl "$TALLY" id init --no-passphrase >/dev/null 2>&1
TALLY_HOME=$TMP/carl "$TALLY" id show --json >"$OUT" 2>"$ERR"
CARL=$(json '$.tally_id')
expect_fail 1 peer add ann "$CARL"
expect_err_has "another tally id"
expect_ok peer rm ann
expect_fail 1 peer rm ann
expect_ok peer list
expect_out_has "no peers"

finish
