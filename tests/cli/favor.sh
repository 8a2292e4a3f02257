# favor.sh -- tally favor add/done/decline/thank/list, thank, intro and
# reference: kinds, states, weights, thanks, and bad values.
. "$2/cli/lib.sh"

TALLY_NOW=2026-03-10T12:00:00Z
export TALLY_NOW

expect_ok init --name "Sam Rivera"
me=$(out)
expect_ok person add "Ann Lee"
ann=$(out)
expect_ok person add "Bob Stone"
bob=$(out)
expect_ok person add "Cara Diaz"
cara=$(out)

# Default weights per kind; default status done.
n=0
for kw in introduction:3 reference:3 referral:5 advice:1 resume:2 info:1 \
    other:1; do
	kind=${kw%%:*}
	w=${kw#*:}
	expect_ok favor add --from ann --to me --kind "$kind" --json
	id=$(json '$.id')
	expect_eq "$w" "$(sqlite3 "$DB" \
	    "SELECT weight FROM favor WHERE id = '$id'")" "weight of $kind"
	expect_eq done "$(sqlite3 "$DB" \
	    "SELECT status FROM favor WHERE id = '$id'")" "status of $kind"
	n=$((n + 1))
done
sqlite3 "$DB" "DELETE FROM favor"
dump_db "$TMP/before"

# Bad values: exit 2 (or 1 for an unknown person), nothing stored.
expect_fail 2 favor add --from ann --to me --kind loan
expect_err_has "unknown favor kind 'loan'"
expect_fail 2 favor add --from ann --to me --kind Advice
expect_fail 2 favor add --from ann --to me --kind advice --status maybe
expect_err_has "maybe"
expect_fail 2 favor add --from ann --to me --kind advice --weight 101
expect_fail 2 favor add --from ann --to me --kind advice --weight -1
expect_fail 2 favor add --from ann --to me --kind advice --weight x
expect_fail 2 favor add --from ann --to bob --kind advice
expect_err_has "me"
expect_fail 2 favor add --from me --to me --kind advice
expect_fail 2 favor add --from ann --kind advice
expect_fail 2 favor add --to ann --kind advice
expect_fail 2 favor add --from ann --to me
expect_fail 2 favor add --from ann --to me --kind advice --on 2026-02-31
expect_fail 2 favor add --from ann --to me --kind advice extra
expect_fail 1 favor add --from nobody --to me --kind advice
expect_err_has "nobody"
expect_fail 2 favor add --from ann --to me --kind advice \
    --note "$(printf '\377\376')"
dump_db "$TMP/after"
expect_same_file "$TMP/before" "$TMP/after" "replica after bad favors"

# Given and received, states, --on.
expect_ok favor add --from ann --to me --kind referral \
    --note "Acme analyst role" --on 2026-03-08
f_ref=$(out)
expect_ok favor add --from me --to ann --kind advice --weight 4
f_adv=$(out)
expect_ok favor add --from bob --to me --kind info --status asked
f_ask=$(out)
expect_ok favor add --from me --to cara --kind resume --status promised
f_pro=$(out)

expect_ok favor list --json
expect_json
# Newest first (done_at, else created), then by id.
expect_eq "$f_ref" "$(json '$[3].short_id')" "oldest favor last"
expect_ok favor list ann --json
expect_eq 2 "$(sqlite3 :memory: "SELECT json_array_length(readfile('$OUT'))")" \
    "favors with Ann"
expect_ok favor list me --json
expect_eq 4 "$(sqlite3 :memory: "SELECT json_array_length(readfile('$OUT'))")" \
    "favors with me: all of them"

sel()
{
	sqlite3 "$DB" "SELECT $1 FROM favor WHERE id LIKE '$2%'"
}
expect_eq 2026-03-08 "$(sel "date(done_at, 'unixepoch')" "$f_ref")" \
    "done_at from --on"
expect_eq "" "$(sel done_at "$f_ask")" "done_at of an asked favor"

# favor done / decline / thank.
expect_ok favor done "$f_ask"
expect_eq done "$(sel status "$f_ask")" "status after favor done"
expect_eq 2026-03-10 "$(sel "date(done_at, 'unixepoch')" "$f_ask")" \
    "done_at after favor done"
expect_ok favor decline "$f_pro"
expect_eq declined "$(sel status "$f_pro")" "status after decline"
expect_fail 1 favor done ffffffff
expect_fail 1 favor done abc
expect_fail 2 favor done
# Thanks: only for a done favor done for me, once.
expect_fail 1 favor thank "$f_adv"
expect_err_has "nothing to thank"
expect_ok favor add --from cara --to me --kind advice --status promised
f_open=$(out)
expect_fail 1 favor thank "$f_open"
expect_err_has "not done yet"
expect_ok favor thank "$f_ref"
expect_eq 2026-03-10 "$(sel "date(thanked, 'unixepoch')" "$f_ref")" \
    "thanked"
TALLY_NOW=2026-03-12T00:00:00Z expect_ok thank "$f_ref"
expect_eq 2026-03-10 "$(sel "date(thanked, 'unixepoch')" "$f_ref")" \
    "thanking again keeps the first date"
expect_ok favor list ann
expect_out_has "[thanked]"
expect_fail 1 thank ffffffff
expect_err_has "ffffffff"

# Introductions: by me, two favors I gave; of me, one I received.
TALLY_NOW=2026-03-01T12:00:00Z \
    expect_ok intro add --by me --between ann bob --note "both in data"
i1=$(out)
expect_eq 2 "$(sqlite3 "$DB" "SELECT count(*) FROM favor
    WHERE intro LIKE '$i1%' AND dir = 1 AND kind = 'introduction'")" \
    "favors for an intro I made"
TALLY_NOW=2026-03-02T12:00:00Z \
    expect_ok intro add --by cara --between me bob
i2=$(out)
expect_eq 1 "$(sqlite3 "$DB" "SELECT count(*) FROM favor
    WHERE intro LIKE '$i2%' AND dir = -1 AND person LIKE '$cara%'")" \
    "favor for an intro of me"
expect_ok intro add --by ann --between bob --between cara
i3=$(out)
expect_eq 0 "$(sqlite3 "$DB" "SELECT count(*) FROM favor
    WHERE intro LIKE '$i3%'")" "no favor for an intro without me"
expect_fail 2 intro add --by ann --between ann bob
expect_fail 2 intro add --by ann --between bob
expect_fail 2 intro add --between ann bob
expect_fail 1 intro add --by ann --between bob nobody
expect_ok intro list --json
expect_json
expect_eq 3 "$(sqlite3 :memory: "SELECT json_array_length(readfile('$OUT'))")" \
    "introductions"
expect_eq "Ann Lee" "$(json '$[0].by_name')" "newest intro first (by)"
expect_eq made "$(json '$[0].status')" "intro status"
expect_ok intro list
expect_out_has "Sam Rivera introduced Ann Lee and Bob Stone: both in data"

# References: add, use, least used first.
expect_ok reference add ann --for "data roles"
r1=$(out)
expect_ok reference add bob
r2=$(out)
expect_ok reference use "$r1" --for "Acme analyst"
expect_ok reference use "$r1" --for "Initech"
expect_fail 2 reference use "$r1"
expect_fail 2 reference use "$r1" --for ""
expect_fail 1 reference use ffffffff --for x
expect_fail 2 reference add me
expect_fail 1 reference add nobody
expect_ok reference list --json
expect_json
expect_eq "$r2" "$(json '$[0].short_id')" "least used first"
expect_eq 0 "$(json '$[0].uses')" "uses of an unused reference"
expect_eq null "$(json_type '$[0].last_used')" "last_used when unused"
expect_eq null "$(json_type '$[0].for')" "for when not given"
expect_eq 2 "$(json '$[1].uses')" "uses"
expect_eq "data roles" "$(json '$[1].for')" "for"
expect_eq 2026-03-10T12:00:00Z "$(json '$[1].last_used')" "last_used"

finish
