# people.sh -- tally init and tally person add/list/show/edit/rm: short
# ids, prefixes, names, ambiguity, and what rm takes with it.
. "$2/cli/lib.sh"

TALLY_NOW=2026-03-02T10:00:00Z
export TALLY_NOW

# Before init there is no replica.
expect_fail 1 person list
expect_err_has "tally init"

expect_ok init --name "Jo Seeker"
me=$(out)
case $me in
[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
*) fail "init should print an 8-hex-digit short id, got '$me'" ;;
esac
# A second init changes nothing.
expect_ok init --name "Someone Else"
expect_ok person show me --json
expect_eq "Jo Seeker" "$(json '$.name')" "name of me after a second init"
expect_eq true "$(json_type '$.is_me')" "is_me of me"

# add prints the short id; the full id starts with it.
expect_ok person add "Ann Lee" --org Acme --title Designer \
    --email ann@acme.example --email ann.lee@mail.example \
    --phone "+1 555 0100" --url https://acme.example/ann \
    --how-met "design meetup" --tag design --tag Friends \
    --closeness 4 --note "knows everyone at Acme"
ann=$(out)
expect_eq 8 "${#ann}" "length of a short id"
expect_ok person show "$ann" --json
expect_json
full=$(json '$.id')
expect_eq 32 "${#full}" "length of a full id"
case $full in
"$ann"*) ;;
*) fail "full id $full does not start with short id $ann" ;;
esac
expect_eq "$ann" "$(json '$.short_id')" "short_id"
expect_eq Acme "$(json '$.org')" "org"
expect_eq Designer "$(json '$.title')" "title"
expect_eq '["ann@acme.example","ann.lee@mail.example"]' \
    "$(json '$.emails')" "emails"
expect_eq '["+1 555 0100"]' "$(json '$.phones')" "phones"
expect_eq '["design","Friends"]' "$(json '$.tags')" "tags"
expect_eq 4 "$(json '$.closeness')" "closeness"
expect_eq "design meetup" "$(json '$.how_met')" "how_met"
expect_eq "knows everyone at Acme" "$(json '$.note')" "note"
expect_eq null "$(json_type '$.last_contact')" "last_contact before any log"
expect_eq false "$(json_type '$.is_me')" "is_me of Ann"
expect_eq 2026-03-02T10:00:00Z "$(json '$.created')" "created"

# Prefixes: 4 characters and more, any case; 3 are not an id.
p4=$(printf '%s' "$full" | cut -c1-4)
expect_ok person show "$p4"
expect_out_has "Ann Lee"
P6=$(printf '%s' "$full" | cut -c1-6 | tr a-f A-F)
expect_ok person show "$P6"
expect_out_has "Ann Lee"
expect_ok person show "$full"
expect_out_has "Ann Lee"
p3=$(printf '%s' "$full" | cut -c1-3)
expect_fail 1 person show "$p3"
expect_err_has "at least 4 characters"

# Names: any case, a unique word, a unique word prefix.
expect_ok person show "ANN LEE"
expect_out_has "$full"
expect_ok person show ann
expect_out_has "$full"
expect_ok person show le
expect_out_has "$full"

expect_ok person add "Bob Stone" --org Beta --tag eng --referred-by ann
bob=$(out)
expect_ok person show bob --json
expect_eq "Ann Lee" "$(json '$.referred_by.name')" "referred_by.name"
expect_eq "$full" "$(json '$.referred_by.id')" "referred_by.id"
expect_ok person show ann --json
expect_eq null "$(json_type '$.referred_by')" "referred_by when unset"

# Ambiguity lists the candidates (short id and name) and changes nothing.
expect_ok person add "ann lee" --note "the other one"
ann2=$(out)
expect_fail 1 person show "Ann Lee"
expect_err_has "ambiguous"
expect_err_has "$ann Ann Lee"
expect_err_has "$ann2 ann lee"
expect_fail 1 person show ann
expect_err_has "$ann"
expect_err_has "$ann2"
expect_fail 1 log "ann lee" --kind call
expect_eq 0 "$(sqlite3 "$DB" 'SELECT count(*) FROM interaction')" \
    "interactions after an ambiguous log"
# An id always resolves.
expect_ok person show "$ann2"
expect_out_has "the other one"

# Many of the same name: eight candidates, then "...".
i=0
while [ $i -lt 10 ]; do
	tly person add "Sam Same"
	i=$((i + 1))
done
expect_fail 1 person show "sam same"
expect_err_has ", ..."
expect_eq 8 "$(grep -o 'Sam Same' "$ERR" | wc -l | tr -d ' ')" \
    "candidates listed"
sqlite3 "$DB" "DELETE FROM person WHERE name = 'Sam Same'"

# Unknown people.
expect_fail 1 person show "Nobody Here"
expect_err_has "Nobody Here"
expect_fail 1 person add Carol --referred-by "Nobody Here"
expect_eq 4 "$(sqlite3 "$DB" 'SELECT count(*) FROM person')" \
    "people after a failed add"

# list: me first, then by name; --tag; --json is an array.
expect_ok person list
expect_eq 4 "$(out | wc -l | tr -d ' ')" "lines of person list"
expect_eq "$me" "$(out | head -n 1 | cut -c1-8)" "first line of person list"
expect_ok person list --tag ENG
expect_eq 1 "$(out | wc -l | tr -d ' ')" "lines of person list --tag ENG"
expect_out_has "Bob Stone"
expect_ok person list --tag friends --json
expect_json
expect_eq "Ann Lee" "$(json '$[0].name')" "--tag friends"
expect_eq "" "$(json '$[1].name')" "--tag friends has one person"
expect_ok person list --tag nosuchtag --json
expect_eq "[]" "$(out | tr -d ' \n')" "empty --json list"
expect_ok --json person list
expect_json
expect_eq "Jo Seeker" "$(json '$[0].name')" "global --json"

# Columns line up by terminal width, not bytes: accents take one column,
# CJK characters two.
expect_ok person add "José Müller" --org "Ünïcode Ltd"
jose=$(out)
expect_ok person add "山田太郎" --org "Acme"
yamada=$(out)
expect_ok person list
pad13=$(printf '%13s' '')
expect_eq "$jose  José Müller$pad13 Ünïcode Ltd$pad13 -" \
    "$(grep "^$jose" "$OUT")" "person list line with accents"
expect_eq "$yamada  山田太郎$(printf '%16s' '') Acme$(printf '%20s' '') -" \
    "$(grep "^$yamada" "$OUT")" "person list line with wide characters"
expect_ok person rm "$jose"
expect_ok person rm "$yamada"

# edit: set, clear, add and remove list items, rename.
expect_ok person edit "$ann" --title "Lead Designer" --org "" \
    --rm-email ANN@ACME.EXAMPLE --email new@acme.example --rm-tag friends \
    --closeness 5 --name "Ann Lee-Smith"
expect_eq "" "$(out)" "output of person edit"
expect_ok person show "$ann" --json
expect_eq "Lead Designer" "$(json '$.title')" "title after edit"
expect_eq null "$(json_type '$.org')" "org cleared"
expect_eq '["ann.lee@mail.example","new@acme.example"]' "$(json '$.emails')" \
    "emails after edit"
expect_eq '["design"]' "$(json '$.tags')" "tags after edit"
expect_eq 5 "$(json '$.closeness')" "closeness after edit"
expect_eq "Ann Lee-Smith" "$(json '$.name')" "name after edit"
expect_ok person show "ann lee-smith"
expect_out_has "$full"
expect_ok person edit "$ann" --closeness ""
expect_ok person show "$ann" --json
expect_eq null "$(json_type '$.closeness')" "closeness cleared"
expect_fail 2 person edit "$ann" --closeness 6
expect_fail 2 person edit "$ann" --name ""
expect_fail 2 person edit "$ann" --referred-by "$ann"
expect_fail 2 person add Dan --name Daniel
expect_fail 2 person add Dan --email not-an-email
expect_fail 2 person add Dan --phone call-me
# "me" always means the user, so no one else may be called that.
expect_fail 2 person add ME
expect_err_has "always means you"
expect_fail 2 person edit "$ann" --name me
expect_ok person edit me --name "Jo Seeker"

# rm takes the person's conversations, favors, introductions and
# references with it, and nothing else.
expect_ok person add "Carol King" --tag eng --referred-by bob
carol=$(out)
expect_ok log bob --kind coffee --note "bob coffee"
expect_ok log carol --kind call --note "carol call"
expect_ok favor add --from bob --to me --kind advice --note "bob advice"
expect_ok favor add --from me --to carol --kind resume
expect_ok intro add --by me --between bob carol
expect_ok reference add bob --for "design roles"
expect_ok person rm bob
expect_eq "" "$(out)" "output of person rm"
expect_fail 1 person show "$bob"
for q in "interaction WHERE person LIKE '$bob%'" \
    "favor WHERE person LIKE '$bob%'" \
    "introduction WHERE a LIKE '$bob%' OR b LIKE '$bob%'" \
    "reference WHERE person LIKE '$bob%'" \
    "ledger WHERE person LIKE '$bob%'"; do
	expect_eq 0 "$(sqlite3 "$DB" "SELECT count(*) FROM $q")" "rows of $q"
done
# Carol keeps her call and the favor I did her.
expect_eq 1 "$(sqlite3 "$DB" "SELECT count(*) FROM interaction")" \
    "interactions left"
expect_eq 2 "$(sqlite3 "$DB" "SELECT count(*) FROM favor")" \
    "favors left (resume review for carol, intro favor for carol)"
expect_ok search "bob"
expect_out_lacks "bob coffee"
expect_out_lacks "bob advice"
# People Bob referred stay, referred by no one now.
expect_ok person show "$carol" --json
expect_eq "Carol King" "$(json '$.name')" "Carol after Bob's removal"
expect_eq null "$(json_type '$.referred_by')" "Carol's referrer after rm"
expect_fail 1 person rm bob
expect_fail 1 person rm me
expect_err_has "me"
expect_ok person show me

finish
