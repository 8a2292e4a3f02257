# due_next.sh -- tally due and tally next on a fixed clock (TALLY_NOW):
# which items come, in which order, with which reasons.
. "$2/cli/lib.sh"

TALLY_NOW=2026-03-01T12:00:00Z
export TALLY_NOW

expect_ok init --name Me
for p in Ann Bob Carol Dan Eve Frank Gina Hal; do
	expect_ok person add "$p"
done
expect_ok due
expect_eq "nothing due" "$(out)" "due on an empty replica"
expect_ok next
expect_eq "no one to contact right now" "$(out)" "next: nobody yet"
expect_ok next --json
expect_eq "[]" "$(out | tr -d ' \n')" "next --json: nobody yet"
expect_ok person edit eve --closeness 5
expect_ok person edit gina --closeness 3
expect_ok person edit hal --closeness 2

# A promise made on March 1st is due a week later.
expect_ok favor add --from me --to dan --kind resume --status promised \
    --note "review his CV"
dan_f=$(out)

TALLY_NOW=2026-03-10T12:00:00Z
expect_ok log ann --kind coffee --at 2026-03-10T09:00
ann_c=$(out)
expect_ok log bob --kind call --at 2026-03-01 --follow-up 2026-03-04 \
    --note "send portfolio"
bob_c=$(out)
expect_ok favor add --from carol --to me --kind referral --on 2026-03-08 \
    --note "referral at Initech"
carol_f=$(out)
expect_ok log eve --kind meeting --at 2025-12-01
expect_ok log frank --kind email --follow-up +2d
frank_c=$(out)
expect_ok log gina --kind coffee --at 2026-01-20
expect_ok favor add --from me --to hal --kind advice
# Thanked already, and a favor I did: neither is due.
expect_ok favor add --from ann --to me --kind info --on 2026-03-09
expect_ok thank "$(out)"

# due: thanks within a day of a meeting or a favor done for me,
# follow-ups and promises, earliest first; overdue ones marked.
expect_ok due --json
expect_json
expect_eq 5 "$(sqlite3 :memory: "SELECT json_array_length(readfile('$OUT'))")" \
    "items due"
item()
{
	expect_eq "$2" "$(json "\$[$1].what")" "what of item $1"
	expect_eq "$3" "$(json "\$[$1].short_ref")" "ref of item $1"
	expect_eq "$4" "$(json "\$[$1].name")" "name of item $1"
	expect_eq "$5" "$(json "\$[$1].due")" "due of item $1"
	expect_eq "$6" "$(json_type "\$[$1].overdue")" "overdue of item $1"
	expect_eq "$7" "$(json "\$[$1].text")" "text of item $1"
}
item 0 thanks "$bob_c" Bob 2026-03-02T00:00:00Z true \
    "send Bob a thank-you note for the call on 2026-03-01"
item 1 follow-up "$bob_c" Bob 2026-03-04T00:00:00Z true \
    "follow up with Bob (call on 2026-03-01: send portfolio)"
item 2 promise "$dan_f" Dan 2026-03-08T12:00:00Z true \
    "you promised Dan a resume review: review his CV"
item 3 thanks "$carol_f" Carol 2026-03-09T00:00:00Z true \
    "thank Carol for the referral: referral at Initech"
item 4 thanks "$ann_c" Ann 2026-03-11T09:00:00Z false \
    "send Ann a thank-you note for the coffee on 2026-03-10"

expect_ok due
expect_eq 5 "$(out | wc -l | tr -d ' ')" "lines of due"
expect_out_has "$bob_c  follow-up 6 days ago!"
expect_out_has "$ann_c  thanks    tomorrow"
# --within widens the window: Frank's follow-up in two days.
expect_ok due --within 3 --json
expect_eq 6 "$(sqlite3 :memory: "SELECT json_array_length(readfile('$OUT'))")" \
    "items due within 3 days"
expect_eq "$frank_c" "$(json '$[5].short_ref')" "Frank's follow-up"
expect_ok due --within 0 --json
expect_eq 4 "$(sqlite3 :memory: "SELECT json_array_length(readfile('$OUT'))")" \
    "items due by now"
expect_fail 2 due --within -1
expect_fail 2 due --within x
expect_fail 2 due extra
# a clock that is not a time is refused, not silently ignored
saved_now=${TALLY_NOW:-}
TALLY_NOW=next-tuesday expect_fail 2 due
expect_err_has "TALLY_NOW 'next-tuesday' is not a time"
TALLY_NOW=$saved_now

# next: ranked, with reasons (scoring in README.md).
expect_ok next --json
expect_json
rank()
{
	expect_eq "$2" "$(json "\$[$1].name")" "name at rank $1"
	expect_eq "$3" "$(json "\$[$1].score")" "score of $2"
	expect_eq "$4" "$(json "\$[$1].reason")" "reason for $2"
}
rank 0 Bob 46 "follow-up overdue by 6 days"
rank 1 Carol 45 "you owe thanks for 1 favor; you owe them (balance -5): offer help; tapped recently: go easy"
rank 2 Frank 25 "follow-up due in 2 days"
rank 3 Eve 24 "close contact not seen in 99 days"
rank 4 Hal 16 "close contact (2/5) never logged"
rank 5 Dan 10 "1 favor asked or promised, still open"
expect_eq "" "$(json '$[6].name')" "no one else (Ann, Gina)"
expect_ok next -n 2
expect_eq 2 "$(out | wc -l | tr -d ' ')" "next -n 2"
expect_eq " 1. Bob                        46  follow-up overdue by 6 days" \
    "$(out | head -n 1)" "first line of next"
expect_ok next --count 1 --json
expect_eq Bob "$(json '$[0].name')" "next --count 1"
expect_fail 2 next -n 0
expect_fail 2 next -n 10001
expect_fail 2 next -n x

# Acting on the items takes them off both lists.
expect_ok thank "$bob_c"
expect_ok done "$bob_c"
expect_ok favor thank "$carol_f"
expect_ok favor done "$dan_f"
expect_ok thank "$ann_c"
expect_ok due
expect_eq "nothing due" "$(out)" "due after acting"
expect_ok next --json
rank 0 Frank 25 "follow-up due in 2 days"
rank 1 Eve 24 "close contact not seen in 99 days"
rank 2 Hal 16 "close contact (2/5) never logged"
rank 3 Carol 10 "you owe them (balance -5): offer help; tapped recently: go easy"
expect_eq "" "$(json '$[4].name')" "Bob and Dan are off the list"

# Words: one day, two days; kinds of favor with their article.
expect_ok person add Ivy
expect_ok log ivy --kind call --at 2026-03-01 --follow-up 2026-03-09T12:00
expect_ok favor add --from me --to ivy --kind introduction --status promised
expect_ok favor add --from ivy --to me --kind info
expect_ok next --json
expect_eq "follow-up overdue by 1 day; you owe thanks for 1 favor; you owe them (balance -1): offer help; 1 favor asked or promised, still open; tapped recently: go easy" \
    "$(sqlite3 :memory: "SELECT json_extract(value, '$.reason') FROM
        json_each(readfile('$OUT')) WHERE json_extract(value, '$.name')
        = 'Ivy'")" "reasons for Ivy"
expect_ok due --json
expect_out_has "thank Ivy for the information"
expect_ok due --within 8 --json
expect_out_has "you promised Ivy an introduction"
expect_ok person rm ivy

# A month later the thanks window and "tapped recently" have passed, and
# Frank's follow-up is overdue.
TALLY_NOW=2026-04-10T12:00:00Z
expect_ok next --json
rank 0 Frank 69 "follow-up overdue by 29 days"
expect_ok due --json
expect_eq follow-up "$(json '$[0].what')" "a month later"
expect_eq "" "$(json '$[1].what')" "only Frank's follow-up a month later"

finish
