# relay.sh -- tally relay set/register/status against a real tallyd on
# ipc:// (the tallyd built next to this tally), open and invite-only.
. "$2/cli/lib.sh"

TALLYD=$(dirname "$TALLY")/../server/tallyd
if [ ! -x "$TALLYD" ]; then
	fail "no tallyd at $TALLYD"
	finish
fi
TPID=
trap '[ -n "$TPID" ] && kill "$TPID" 2>/dev/null; rm -rf "$TMP"' EXIT
SRV=$TMP/srv
mkdir -p "$SRV"
URL=ipc://$SRV/relay.sock

start_tallyd() # REGISTRATION
{
	printf '[server]\nlisten = %s\ndata = %s\nregistration = %s\n' \
	    "$URL" "$SRV" "$1" >"$TMP/tallyd.conf"
	"$TALLYD" --config "$TMP/tallyd.conf" 2>>"$TMP/tallyd.log" &
	TPID=$!
	i=0
	while [ ! -S "$SRV/relay.sock" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -S "$SRV/relay.sock" ] || fail "tallyd did not start"
}

stop_tallyd()
{
	kill "$TPID"
	wait "$TPID" || fail "tallyd exited with an error"
	TPID=
}

unset TALLY_PASSPHRASE
expect_ok init --name "Jo Seeker"
expect_ok id init --no-passphrase

# Usage and URL checks.
expect_fail 2 relay
expect_fail 2 relay set
expect_fail 2 relay set a b
expect_fail 2 relay set http://example.org
expect_fail 1 relay status
expect_err_has "tally relay set"
expect_fail 2 relay register --bogus

start_tallyd open
expect_ok relay set "$URL"
expect_ok relay status
expect_out_has "registered  no"
expect_ok relay register
expect_out_has "registered"
expect_ok relay register
expect_ok relay status --json
expect_json
expect_eq "$(json '$.registered')" 1 "registered"
expect_eq "$(json '$.url')" "$URL" "url"
stop_tallyd

# Invite only: refused without a code, accepted with one.
rm -rf "$SRV"
mkdir -p "$SRV"
start_tallyd invite
expect_fail 1 relay register
expect_err_has "unauthorized"
CODE=$("$TALLYD" --config "$TMP/tallyd.conf" invite create --uses 1)
expect_ok relay register --invite "$CODE"
expect_ok relay status
expect_out_has "registered  yes"
stop_tallyd

# A relay that is not running.
expect_fail 1 relay register
finish
