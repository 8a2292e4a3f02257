# json.sh -- every --json output against client/JSON.md: valid JSON, the
# keys in their documented order, their types, and the null rules.
. "$2/cli/lib.sh"

TALLY_NOW=2026-03-10T12:00:00Z
export TALLY_NOW

# keys PATH: the keys of the object at PATH of the last output, in order.
keys()
{
	sqlite3 :memory: "SELECT group_concat(key, ',') FROM
	    json_each(readfile($(sql_path "$OUT")), '$1')"
}
# types PATH: the JSON types of its values, in order.
types()
{
	sqlite3 :memory: "SELECT group_concat(type, ',') FROM
	    json_each(readfile($(sql_path "$OUT")), '$1')"
}
check()
{
	# check WHAT PATH KEYS TYPES
	expect_json
	expect_eq "$3" "$(keys "$2")" "keys of $1"
	expect_eq "$4" "$(types "$2")" "types of $1"
}

expect_ok init --name "Sam Rivera" --json
check "init --json" '$' id,short_id text,text
me=$(json '$.id')

# A bare person (only a name) and a full one.
expect_ok person add "Bare Person" --json
check "person add --json" '$' id,short_id text,text
expect_ok person add "Ann Lee" --org Acme --title Partner \
    --email ann@acme.example --phone "+1 555 0100" --url https://a.example \
    --how-met meetup --referred-by "bare person" --tag recruiter \
    --closeness 3 --note "note"
PERSON_KEYS=id,short_id,name,is_me,org,title,emails,phones,url,how_met,referred_by,tags,closeness,note,last_contact,created,updated
expect_ok person show "bare person" --json
check "bare person" '$' $PERSON_KEYS \
    text,text,text,false,null,null,array,array,null,null,null,array,null,null,null,text,text
expect_eq "[]" "$(json '$.emails')" "emails of a bare person"
expect_ok log ann --kind call --at 2026-03-09 --json
check "log --json" '$' id,short_id text,text
expect_ok person show ann --json
check "full person" '$' $PERSON_KEYS \
    text,text,text,false,text,text,array,array,text,text,object,array,integer,text,text,text,text
check "referred_by" '$.referred_by' id,name text,text
expect_ok person list --json
check "person list[0]" '$[0]' $PERSON_KEYS \
    text,text,text,true,null,null,array,array,null,null,null,array,null,null,null,text,text

# history: one bare conversation, one with everything.
expect_ok log ann --kind coffee --at 2026-03-10T09:00 --minutes 20 \
    --note "coffee" --follow-up 2026-03-12
expect_ok thank "$(out)"
HIST_KEYS=id,short_id,person,person_name,kind,at,minutes,note,follow_up,follow_up_done,thanked,created,updated
expect_ok history --json
check "history[0]" '$[0]' $HIST_KEYS \
    text,text,text,text,text,text,integer,text,text,null,text,text,text
check "history[1]" '$[1]' $HIST_KEYS \
    text,text,text,text,text,text,null,null,null,null,null,text,text

# favors
expect_ok favor add --from ann --to me --kind referral --note n --json
check "favor add --json" '$' id,short_id text,text
f=$(json '$.short_id')
expect_ok favor thank "$f"
TALLY_NOW=2026-03-11T12:00:00Z \
    expect_ok favor add --from me --to ann --kind advice --status asked
FAVOR_KEYS=id,short_id,from,from_name,to,to_name,kind,status,weight,note,intro,done_at,thanked,confirmed,created,updated
expect_ok favor list --json
check "favor asked" '$[0]' $FAVOR_KEYS \
    text,text,text,text,text,text,text,text,integer,null,null,null,null,false,text,text
check "favor done, thanked" '$[1]' $FAVOR_KEYS \
    text,text,text,text,text,text,text,text,integer,text,null,text,text,false,text,text
expect_eq "$me" "$(json '$[0].from')" "from of a favor by me"
expect_eq "$me" "$(json '$[1].to')" "to of a favor for me"

# ledger
expect_ok ledger --json
check "ledger[0]" '$[0]' \
    person,short_id,name,given,received,balance,owes,favors_given,favors_received,pending,confirmed,last_exchange \
    text,text,text,integer,integer,integer,text,integer,integer,integer,integer,text

# intros and their favors
expect_ok person add "Cara Diaz"
expect_ok intro add --by me --between ann cara --json
check "intro add --json" '$' id,short_id text,text
expect_ok intro add --by ann --between cara "bare person"
expect_ok intro list --json
INTRO_KEYS=id,short_id,by,by_name,a,a_name,b,b_name,note,status,created,updated
check "intro list[0]" '$[0]' $INTRO_KEYS \
    text,text,text,text,text,text,text,text,null,text,text,text
expect_ok favor list cara --json
expect_eq text "$(json_type '$[0].intro')" "intro of an introduction favor"

# references
expect_ok reference add ann --for "data roles" --json
check "reference add --json" '$' id,short_id text,text
r=$(json '$.id')
expect_ok reference add cara
expect_ok reference use "$r" --for "Acme"
REF_KEYS=id,short_id,person,person_name,for,uses,last_used,created,updated
expect_ok reference list --json
check "reference unused" '$[0]' $REF_KEYS \
    text,text,text,text,null,integer,null,text,text
check "reference used" '$[1]' $REF_KEYS \
    text,text,text,text,text,integer,text,text,text

# due, next, search
expect_ok log cara --kind meeting --follow-up 2026-03-09T00:00 \
    --at 2026-03-08
expect_ok due --within 7 --json
check "due[0]" '$[0]' what,ref,short_ref,person,name,text,due,overdue \
    text,text,text,text,text,text,text,true
expect_ok next --json
check "next[0]" '$[0]' person,short_id,name,score,reason \
    text,text,text,integer,text
expect_ok search ann --json
check "search[0]" '$[0]' kind,id,short_id,person,name,snippet \
    text,text,text,text,text,text

# Empty lists are [] and the global --json works before the command.
rm -rf "$TALLY_HOME"
expect_ok init
for args in "person list --tag none" "history" "favor list" "ledger" \
    "intro list" "reference list" "due" "next" "search nothing"; do
	# shellcheck disable=SC2086
	expect_ok --json $args
	expect_eq "[]" "$(out)" "--json $args on an empty replica"
done
# Commands that only change something print nothing.
expect_ok person add Zed
expect_ok person edit zed --org X --json
expect_eq "" "$(out)" "person edit --json"
expect_ok person rm zed --json
expect_eq "" "$(out)" "person rm --json"
# A second init prints nothing on stdout.
expect_ok init --json
expect_eq "" "$(out)" "init --json on an initialised replica"

finish
