#!/usr/bin/env bash
# The guided story: a job seeker's week with tally, on a throw-away
# replica.  Usage: bash client/demo.sh BUILD_DIR
set -euo pipefail

build=${1:-build}
tally="$(cd "$build" && pwd)/client/tally"
home=$(mktemp -d "${TMPDIR:-/tmp}/tally-demo.XXXXXX")
trap 'rm -rf "$home"' EXIT
export TALLY_HOME="$home"

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
say() { printf '\n%s%s%s\n' "$bold" "$*" "$plain"; }
# Prints the command as a person would type it.
show() {
	local a out='$ tally'
	for a in "$@"; do
		case "$a" in
		*[!A-Za-z0-9@._+:/=-]* | '') out+=" '${a//\'/\'\\\'\'}'" ;;
		*) out+=" $a" ;;
		esac
	done
	printf '%s\n' "$out"
}
run() {
	show "$@"
	"$tally" "$@"
}
# Runs a command and keeps its output (a short id) in the variable $1.
keep() {
	local var=$1
	shift
	show "$@"
	printf -v "$var" '%s' "$("$tally" "$@")"
	printf '%s\n' "${!var}"
}

say "Sam is looking for a data analyst job. Sam starts a replica (in $home):"
run init --name "Sam Rivera"

say "Sam adds the people who matter this month:"
run person add "Ann Lee" --org Acme --title "Talent partner" \
	--email ann@acme.example --tag recruiter --closeness 3
run person add "Bob Ray" --org Globex --title "Data engineer" \
	--how-met "PyData meetup" --referred-by "Ann Lee" --closeness 2
run person add "Chen Wu" --org Initech --title "Analytics lead" \
	--email chen@initech.example --tag former-manager --closeness 5
run person add "Dana Cole" --org Umbrella --title "Hiring manager" \
	--tag hiring
run log "Chen Wu" --kind coffee --at -80d --minutes 45 \
	--note "caught up; offered to be a reference"

say "Tuesday: coffee with Bob, who knows the Globex data team."
run log "Bob Ray" --kind coffee --at -1d --minutes 30 \
	--note "Globex is hiring two analysts; send him my resume" \
	--follow-up +2d

say "Favors both ways: the tally of who owes whom."
keep referral favor add --from "Ann Lee" --to me --kind referral \
	--note "referred me for the Acme analyst role"
run favor add --from me --to "Bob Ray" --kind resume \
	--note "reviewed his resume for a senior role"
run favor add --from "Chen Wu" --to me --kind reference --status promised \
	--note "will be a reference for data roles"
run reference add "Chen Wu" --for "data analyst roles"

say "Sam introduces Bob to Dana (both said yes beforehand):"
run intro add --by me --between "Bob Ray" "Dana Cole" \
	--note "Dana is hiring data engineers"

say "The ledger: favors given and received, weighted."
run ledger

say "What is due: a thank-you note to Ann, the follow-up with Bob."
run due --within 3

say "Sam thanks Ann right away:"
run favor thank "$referral"

say "Whom to contact next, and why:"
run next -n 5

say "Everything is searchable, offline:"
run search globex

say "Ann and Sam confirm the referral: each signs the same record."
export TALLY_PASSPHRASE="correct horse battery staple"
run id init
sam_id=$("$tally" id show --json | sed -n 's/.*"tally_id": *"\([^"]*\)".*/\1/p')
ann_home="$home/ann"
TALLY_HOME="$ann_home" "$tally" init --name "Ann Lee" >/dev/null
TALLY_HOME="$ann_home" "$tally" id init >/dev/null
TALLY_HOME="$ann_home" "$tally" person add "Sam Rivera" >/dev/null
TALLY_HOME="$ann_home" "$tally" peer add "Sam Rivera" "$sam_id" >/dev/null
ann_id=$(TALLY_HOME="$ann_home" "$tally" id show --json |
	sed -n 's/.*"tally_id": *"\([^"]*\)".*/\1/p')
echo "(Ann, on her own laptop, made her identity and linked Sam's tally id.)"
run peer add "Ann Lee" "$ann_id"
say "They compare the safety code on a call; both see the same digits:"
run peer verify "Ann Lee" --confirm
keep record record new referral --with "Ann Lee" --company Acme \
	--favor "$referral" --note "referred me for the Acme analyst role"
run record export "$record" -o "$home/referral.tally"
echo "(Sam emails referral.tally to Ann; she reviews it and signs.)"
TALLY_HOME="$ann_home" "$tally" record sign "$home/referral.tally" --yes
run record import "$home/referral.tally"
say "Anyone can check the file offline, with no replica at all:"
run verify "$home/referral.tally"
run favor list "Ann Lee"

echo
echo "Done. The replica was a throw-away one; 'tally init' starts yours."
