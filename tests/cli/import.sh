# import.sh -- tally import (linkedin, google, vcard, json) and tally
# export (json, csv, vcard) through the real binary: counts, re-imports,
# all-or-nothing against --skip-bad with FILE:LINE messages, --dry-run,
# and that a failed import leaves the replica as it was.
. "$2/cli/lib.sh"

FIX=$TESTS/fixtures
TALLY_NOW=2025-11-22T00:00:00Z
export TALLY_NOW

# Compares the replica's JSON export with the file $1.
same_as()
{
	expect_ok export json -o "$TMP/now.json" &&
	    expect_same_file "$1" "$TMP/now.json" "$2"
}

# Before init there is no user to import for.
expect_fail 1 import linkedin "$FIX/linkedin_connections.csv"
expect_err_has "tally init"

expect_ok init --name "Sam Seeker"

# LinkedIn: the preamble, the BOM, quoted commas, members who left.
expect_ok import linkedin "$FIX/linkedin_connections.csv"
expect_out_has "7 records: 5 added, 0 updated, 0 unchanged, 0 skipped as bad"
expect_out_has "2 records had nothing to import"
expect_ok person show "Bob Ng" --json
expect_eq "Initech, Inc." "$(json '$.org')" "org of Bob Ng"
expect_eq "Director, Data Platform" "$(json '$.title')" "title of Bob Ng"
expect_eq "LinkedIn, connected 2023-01-03" "$(json '$.how_met')" \
    "how_met of Bob Ng"
expect_eq '["linkedin"]' "$(json '$.tags')" "tags of Bob Ng"
expect_eq '["bob.ng@example.com"]' "$(json '$.emails')" "emails of Bob Ng"

# The same file again adds nothing.
expect_ok import linkedin "$FIX/linkedin_connections.csv" --json
expect_json
expect_eq "7 0 0 5 0 2" "$(json '$.rows') $(json '$.added') \
$(json '$.updated') $(json '$.unchanged') $(json '$.bad') \
$(json '$.skipped')" "rows added updated unchanged bad skipped"

# A file with bad rows: every bad row named, nothing stored.
expect_ok export json -o "$TMP/before.json"
tly import linkedin "$FIX/linkedin_bad.csv"
expect_eq 1 "$RC" "exit status of an import with bad rows"
F=$FIX/linkedin_bad.csv
cat >"$TMP/want" <<EOF
$F:6: malformed date '31 Feb 2024' in Connected On (expected like 12 Mar 2024)
$F:7: 'gina-at-example.com' is not an email address
$F:8: expected 7 fields, got 6
$F:9: no name
$F:12: malformed date '2023-13-01' in Connected On (expected like 12 Mar 2024)
tally: $F: 5 bad records, nothing imported (--skip-bad imports the others)
EOF
expect_same_file "$TMP/want" "$ERR" "messages of the bad import"
expect_eq "" "$(out)" "stdout of a failed import"
same_as "$TMP/before.json" "the replica after a failed import"

# --dry-run stores nothing either.
expect_ok import linkedin "$F" --skip-bad --dry-run
expect_out_has "dry run: 7 records: 1 added, 0 updated, 1 unchanged, 5 skipped as bad"
same_as "$TMP/before.json" "the replica after a dry run"

# --skip-bad stores the good rows and says which were left out.
expect_ok import linkedin "$F" --skip-bad
expect_out_has "7 records: 1 added, 0 updated, 1 unchanged, 5 skipped as bad"
expect_err_has "$F:9: no name"
expect_ok person show "Ivy Chen" --json
expect_eq "Wayne
Enterprises" "$(json '$.org')" "a quoted field over two lines"

# Files that are not what they are said to be.
expect_fail 1 import linkedin "$FIX/not_contacts.csv"
expect_err_has "is not a LinkedIn Connections.csv"
expect_fail 1 import google "$FIX/contacts_v3.vcf"
expect_err_has "is not a Google Contacts CSV"
expect_fail 1 import vcard "$FIX/google_current.csv"
expect_err_has "is not a vCard file (no BEGIN:VCARD)"
expect_fail 1 import json "$FIX/contacts_v4.vcf"
expect_err_has "is not a tally JSON dump"
expect_fail 1 import vcard "$TMP/missing.vcf"
expect_err_has "cannot read $TMP/missing.vcf: No such file or directory"
tly import outlook "$FIX/google_current.csv"
expect_eq 2 "$RC" "exit status of an unknown format"
tly export pdf
expect_eq 2 "$RC" "exit status of an unknown export format"

# Google, both header variants; LinkedIn people are completed, not
# added again (matched by profile URL, email, name).
expect_ok import google "$FIX/google_current.csv"
expect_out_has "4 records: 3 added, 1 updated, 0 unchanged"
expect_ok import google "$FIX/google_legacy.csv"
expect_out_has "2 records: 1 added, 1 updated, 0 unchanged"
expect_ok person show "Bob Ng" --json
expect_eq '["linkedin","Work"]' "$(json '$.tags')" "tags of Bob after Google"
expect_eq '["+44 20 7946 0000"]' "$(json '$.phones')" "phones of Bob"
expect_ok person show "María José García" --json
expect_eq '["+34 600 000 000","+34 910 000 000"]' "$(json '$.phones')" \
    "a ' ::: ' cell"
expect_eq '["Spain","Data"]' "$(json '$.tags')" "labels without system ones"

# vCard 3.0 and 4.0.
expect_ok import vcard "$FIX/contacts_v3.vcf"
expect_out_has "3 records: 0 added, 2 updated, 1 unchanged"
expect_ok import vcard "$FIX/contacts_v4.vcf"
expect_out_has "2 records: 1 added, 1 updated, 0 unchanged"
expect_ok person show "Ann Lee" --json
expect_eq "Met at PyCon 2023, Salt Lake City.
Ask about the platform team; she is hiring in Q3." "$(json '$.note')" \
    "a folded, escaped note"
# A match fills in only what was missing: Kenji's note stays.
expect_ok person show "Kenji Sato" --json
expect_eq "Prefers email." "$(json '$.note')" "a note already there"
tly import vcard "$FIX/vcard_bad.vcf"
expect_eq 1 "$RC" "exit status of a bad vCard file"
expect_err_has "$FIX/vcard_bad.vcf:6: NOTE is quoted-printable (vCard 2.1)"
expect_err_has "$FIX/vcard_bad.vcf:22: the card has no END:VCARD"

# The vCard export reads back as the same people.
expect_ok export vcard -o "$TMP/all.vcf"
n=$(grep -c '^BEGIN:VCARD' "$TMP/all.vcf")
expect_eq 11 "$n" "cards exported (everyone but me)"
if LC_ALL=C awk 'length($0) > 76 { bad = 1 } END { exit !bad }' "$TMP/all.vcf"; then
	fail "a vCard line is longer than 75 octets"
fi
expect_ok import vcard "$TMP/all.vcf"
expect_out_has "11 records: 0 added, 0 updated, 11 unchanged"

# CSV export: a header, then one row per person.
expect_ok export csv -o "$TMP/all.csv"
expect_eq "id,name,org,title,emails,phones,url,how_met,referred_by,tags,\
closeness,note,last_contact,created,updated" \
    "$(head -n 1 "$TMP/all.csv" | tr -d '\r')" "CSV header"
expect_eq 1 "$(grep -c '"Ann Lee","Acme Corp","VP Engineering"' "$TMP/all.csv")" \
    "Ann Lee in the CSV"

# JSON: restore into a new replica (no init), byte for byte.
expect_ok log "Ann Lee" --kind coffee --at 2025-11-20 --note "talked roles"
expect_ok favor add --from "Ann Lee" --to me --kind referral
expect_ok export json -o "$TMP/dump1.json"
expect_json_file()
{
	_v=$(sqlite3 :memory: \
	    "SELECT json_valid(readfile($(sql_path "$1")))" 2>&1)
	expect_eq 1 "$_v" "json_valid of $1"
}
expect_json_file "$TMP/dump1.json"
MAIN_HOME=$TALLY_HOME
TALLY_HOME=$TMP/restored
export TALLY_HOME
expect_ok import json "$TMP/dump1.json"
expect_out_has "14 records: 14 added, 0 updated, 0 unchanged, 0 skipped as bad"
expect_ok export json -o "$TMP/dump2.json"
expect_same_file "$TMP/dump1.json" "$TMP/dump2.json" "export, import, export"
expect_ok person show me --json
expect_eq "Sam Seeker" "$(json '$.name')" "me after a restore"
expect_ok import json "$TMP/dump1.json"
expect_out_has "14 records: 0 added, 0 updated, 14 unchanged"

# A malformed dump changes nothing.
sed '5s/^{"id":/{"id",/' "$TMP/dump1.json" >"$TMP/broken.json"
expect_fail 1 import json "$TMP/broken.json"
expect_err_has "$TMP/broken.json:5: malformed JSON"
same_as "$TMP/dump2.json" "the replica after a malformed dump"
TALLY_HOME=$MAIN_HOME
export TALLY_HOME

finish
