#!/usr/bin/env bash
# The guided story: a job seeker's week with tally, on throw-away
# replicas, then the same week with friends: a local relay (tallyd on
# loopback, throw-away data) carries a favor both sides confirm and a
# double opt-in introduction between three people, each on "their own
# laptop" (their own TALLY_HOME).  Usage: bash client/demo.sh BUILD_DIR
set -euo pipefail

build=${1:-build}
tally="$(cd "$build" && pwd)/client/tally"
tallyd="$(cd "$build" && pwd)/server/tallyd"
home=$(mktemp -d "${TMPDIR:-/tmp}/tally-demo.XXXXXX")
relay_pid=
# The relay stops at the end, and on any error or interrupt.
cleanup() {
	if [ -n "$relay_pid" ]; then
		kill "$relay_pid" 2>/dev/null || true
		wait "$relay_pid" 2>/dev/null || true
	fi
	rm -rf "$home"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
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
# Runs a command on someone else's laptop (their own replica): on NAME.
on() {
	local who=$1
	shift
	printf '[%s] ' "$who"
	show "$@"
	TALLY_HOME="$home/$who" "$tally" "$@"
}
# The tally id of the replica in TALLY_HOME $1.
tally_id() {
	TALLY_HOME=$1 "$tally" id show --json 2>/dev/null |
	    sed -n 's/.*"tally_id": *"\([^"]*\)".*/\1/p'
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

say "Sam's friends use tally too. A relay carries what they sign together."
echo "The relay (tallyd) stores and forwards sealed envelopes: it never sees"
echo "who sends them, nor a word of what they say. Here one runs on loopback,"
echo "with a throw-away data directory:"
mkdir -p "$home/relay"
port=
for try in 1 2 3 4 5 6 7 8 9 10; do
	p=$((20000 + RANDOM % 40000))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		port=$p
		break
	fi
done
[ -n "$port" ] || { echo "demo: no free port on 127.0.0.1" >&2; exit 1; }
relay="tcp://127.0.0.1:$port"
printf '[server]\nlisten = %s\ndata = %s\nregistration = open\n' \
	"$relay" "$home/relay" >"$home/tallyd.conf"
echo "\$ tallyd --config tallyd.conf      (listen = $relay)"
"$tallyd" --config "$home/tallyd.conf" 2>"$home/tallyd.log" &
relay_pid=$!
for try in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	kill -0 "$relay_pid" 2>/dev/null ||
	    { echo "demo: tallyd did not start:" >&2; cat "$home/tallyd.log" >&2; exit 1; }
	sleep 0.1
done

say "Each of them makes an identity and registers it at the relay."
export TALLY_PASSPHRASE="correct horse battery staple"
run id init
run relay set "$relay"
run relay register
for who in ann bob; do
	name=$([ $who = ann ] && echo "Ann Lee" || echo "Bob Ray")
	TALLY_HOME="$home/$who" "$tally" init --name "$name" >/dev/null
	TALLY_HOME="$home/$who" "$tally" id init 2>/dev/null >/dev/null
	TALLY_HOME="$home/$who" "$tally" relay set "$relay"
	TALLY_HOME="$home/$who" "$tally" relay register >/dev/null
done
TALLY_HOME="$home/ann" "$tally" person edit me --email ann@acme.example \
	--phone "+1 555 0100" --org Acme
TALLY_HOME="$home/bob" "$tally" person edit me --email bob@globex.example
echo "(Ann and Bob did the same on their own laptops.)"
sam_id=$(tally_id "$home")
ann_id=$(tally_id "$home/ann")
bob_id=$(tally_id "$home/bob")

say "Sam and Ann exchange tally ids and link each other."
run peer add "Ann Lee" "$ann_id"
on ann person add "Sam Rivera"
on ann peer add "Sam Rivera" "$sam_id"
echo "They compare the safety code on a call; both see the same digits:"
run peer verify "Ann Lee" --confirm

say "Sam proposes a record of Ann's referral: signed and queued, it leaves
at the next sync (it would simply wait if Sam were offline)."
keep record record propose referral --with "Ann Lee" --company Acme \
	--favor "$referral" --note "referred me for the Acme analyst role"
run sync

say "On Ann's laptop: the proposal arrives, she reviews it and confirms."
on ann sync
on ann inbox
on ann record confirm "$record"
on ann sync

say "Back on Sam's laptop: the countersignature arrives."
run sync
run record show "$record"

say "Sam would like Ann to meet Bob (who hires at Globex), but asks both
first: a double opt-in introduction. Neither learns anything about the
other unless both say yes."
run person edit "Bob Ray" --email bob@globex.example
run peer add "Bob Ray" "$bob_id"
on bob person add "Sam Rivera"
on bob peer add "Sam Rivera" "$sam_id"
keep said intro propose --between "Ann Lee" "Bob Ray" \
	--note "Bob's team at Globex hires analysts; Ann recruits for Acme"
intro=$(printf '%s' "$said" | sed -n 's/^introduction \([0-9a-f]*\).*/\1/p')
[ -n "$intro" ] || { echo "demo: no introduction id" >&2; exit 1; }
run sync

say "Ann is asked, with Sam's note and nothing else. She says yes and
shares her email and phone (her name always goes)."
on ann sync
on ann inbox
on ann intro consent "$intro" --share email,phone
on ann sync

say "Bob is asked too, and says yes, sharing his email."
on bob sync
on bob intro consent "$intro" --share email
on bob sync

say "Both said yes: Sam's next sync sends each of them the record to
sign; their cards go straight to each other, sealed."
run sync
on ann sync
on bob sync
on ann sync
run sync

say "Now Bob knows Ann, and how they met:"
on bob person show "Ann Lee"

say "The ledgers, on each laptop:"
echo "Sam:"
run ledger
echo
echo "Ann:"
on ann ledger
echo
echo "Bob:"
on bob ledger
run intro list

say "Anyone can still check a record offline, with no replica at all:"
run record export "$record" -o "$home/referral.tally"
run verify "$home/referral.tally"

echo
echo "Done. The relay is stopped and its data, like the replicas, was a"
echo "throw-away one; 'tally init' starts yours (README: \"Confirming with"
echo "a friend over a relay\")."
