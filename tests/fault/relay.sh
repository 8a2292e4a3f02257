#!/usr/bin/env bash
# relay.sh -- fault injection: workloads write through one tallyd on
# loopback while it is kill -9'd and restarted at random moments (and,
# now and then, the workload's own clients are kill -9'd and restarted);
# then every acknowledged write must be there and the database intact.
#
#   bash tests/fault/relay.sh BUILD_DIR [SECONDS [MIN_MS MAX_MS]]
#
# SECONDS (default 300) of faults; between two faults a random pause of
# MIN_MS..MAX_MS (default 100..1500) once the relay answers again.  After
# each relay crash, and at the end after a clean SIGTERM stop, the
# relay's database passes PRAGMA integrity_check (read-only connection).
# Then the relay starts once more and each workload checks what it was
# told is stored.  Prints crashes injected, operations acknowledged,
# operations lost (must be 0); exits non-zero on any loss, corruption or
# relay that does not come back.  FAULT_WORKLOADS (default
# "relay_writers") chooses the workloads; FAULT_KEEP=1 keeps the folder.
#
# A workload NAME is five functions, all run from this folder's shell:
#   wl_NAME_setup    once, with the relay up (accounts, keys, replicas)
#   wl_NAME_start    start its clients in the background (for SECONDS)
#   wl_NAME_crash    kill -9 some of its clients and start them again
#   wl_NAME_stop     stop its clients (they may be mid-operation)
#   wl_NAME_check    with the relay up: set WL_ACKED and WL_LOST, print
#                    what was wrong; non-zero status on failure
# They use $URL (the relay), $WORK (a scratch folder), $BUILD, $SECONDS_LEFT
# and $FAULTLOAD.  The users' workload (proposing, confirming, syncing
# with the tally command) joins as wl_users_* beside wl_relay_writers_*.
set -uo pipefail

BUILD=${1:?usage: relay.sh BUILD_DIR [SECONDS [MIN_MS MAX_MS]]}
BUILD=$(cd "$BUILD" && pwd)
DURATION=${2:-300}
MIN_MS=${3:-100}
MAX_MS=${4:-1500}
TALLYD=$BUILD/server/tallyd
FAULTLOAD=$BUILD/tests/fault/faultload
for f in "$TALLYD" "$FAULTLOAD"; do
	[ -x "$f" ] || {
		echo "fault: no $f (build the tests first)" >&2
		exit 1
	}
done
WORK=$(mktemp -d /tmp/tly-fault-XXXXXX)
SRV=$WORK/relay
mkdir -m 700 "$SRV"
PORT=$("$FAULTLOAD" port)
URL=tcp://127.0.0.1:$PORT
cat >"$WORK/tallyd.conf" <<EOF
[server]
listen = $URL
data = $SRV
log_level = info
probe_interval = 2s
[limits]
quota = 1G
rate = 0
EOF

TPID=
WL_PIDS=()
cleanup() {
	local p
	for p in "${WL_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	if [ -n "$TPID" ]; then
		kill -9 "$TPID" 2>/dev/null
		wait "$TPID" 2>/dev/null
	fi
	if [ "${FAULT_KEEP:-0}" = 1 ]; then
		echo "fault: kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

relay_start() {
	"$TALLYD" --config "$WORK/tallyd.conf" >>"$WORK/tallyd.log" 2>&1 &
	TPID=$!
	if ! "$FAULTLOAD" ping "$URL" 15000; then
		echo "fault: tallyd does not answer after a restart" >&2
		tail -20 "$WORK/tallyd.log" >&2
		return 1
	fi
}

relay_kill9() {
	kill -9 "$TPID"
	wait "$TPID" 2>/dev/null
	TPID=
}

relay_stop() {
	local rc
	kill -TERM "$TPID"
	wait "$TPID"
	rc=$?
	TPID=
	if [ $rc -ne 0 ]; then
		echo "fault: tallyd exited with status $rc on SIGTERM" >&2
		return 1
	fi
}

INTEGRITY_CHECKS=0
integrity() {
	INTEGRITY_CHECKS=$((INTEGRITY_CHECKS + 1))
	if ! "$FAULTLOAD" integrity "$SRV/tallyd.db"; then
		echo "fault: PRAGMA integrity_check failed ($1)" >&2
		return 1
	fi
}

# -- Workload: writers on the relay's own protocol (faultload). --------
wl_relay_writers_setup() {
	mkdir -p "$WORK/writers"
	"$FAULTLOAD" setup "$WORK/writers" "$URL" 4
}
wl_relay_writers_start() {
	"$FAULTLOAD" write "$WORK/writers" "$URL" "$SECONDS_LEFT" \
	    >>"$WORK/writers.log" 2>&1 &
	WL_RELAY_WRITERS_PID=$!
	WL_PIDS+=("$!")
}
wl_relay_writers_crash() {
	kill -9 "$WL_RELAY_WRITERS_PID" 2>/dev/null
	wait "$WL_RELAY_WRITERS_PID" 2>/dev/null
	wl_relay_writers_start
}
wl_relay_writers_stop() {
	kill -TERM "$WL_RELAY_WRITERS_PID" 2>/dev/null
	wait "$WL_RELAY_WRITERS_PID" 2>/dev/null
}
wl_relay_writers_check() {
	local out rc
	out=$("$FAULTLOAD" check "$WORK/writers" "$URL" 2>"$WORK/check.err")
	rc=$?
	echo "  relay_writers: $out"
	head -5 "$WORK/check.err" | sed 's/^/  /'
	WL_ACKED=$(echo "$out" | sed -n 's/.*acknowledged \([0-9]*\).*/\1/p')
	WL_LOST=$(echo "$out" | sed -n 's/.*lost \([0-9]*\).*/\1/p')
	WL_ACKED=${WL_ACKED:-0}
	WL_LOST=${WL_LOST:-0}
	return $rc
}

# -- The run. -----------------------------------------------------------
read -r -a workloads <<<"${FAULT_WORKLOADS:-relay_writers}"
failed=0
relay_start || exit 1
for w in "${workloads[@]}"; do
	"wl_${w}_setup" || {
		echo "fault: workload $w: setup failed" >&2
		exit 1
	}
done
echo "fault: ${workloads[*]} against $URL for $DURATION s," \
    "a fault every $MIN_MS..$MAX_MS ms"
end=$((SECONDS + DURATION))
SECONDS_LEFT=$DURATION
for w in "${workloads[@]}"; do
	"wl_${w}_start"
done
relay_crashes=0
client_crashes=0
while [ $SECONDS -lt $end ]; do
	pause=$((MIN_MS + RANDOM % (MAX_MS - MIN_MS + 1)))
	sleep "$(printf '%d.%03d' $((pause / 1000)) $((pause % 1000)))"
	[ $SECONDS -lt $end ] || break
	SECONDS_LEFT=$((end - SECONDS))
	if [ $((RANDOM % 5)) -eq 0 ]; then
		# One fault in five hits the clients instead.
		w=${workloads[$((RANDOM % ${#workloads[@]}))]}
		"wl_${w}_crash"
		client_crashes=$((client_crashes + 1))
		continue
	fi
	relay_kill9
	relay_crashes=$((relay_crashes + 1))
	integrity "after crash $relay_crashes" || failed=1
	# Down for a moment now and then, as a machine that reboots.
	[ $((RANDOM % 4)) -eq 0 ] && sleep 0.$((RANDOM % 10))
	relay_start || {
		failed=1
		break
	}
done
for w in "${workloads[@]}"; do
	"wl_${w}_stop"
done
if [ -n "$TPID" ]; then
	relay_stop || failed=1
fi
integrity "after the clean stop" || failed=1
relay_start || exit 1
acked=0
lost=0
for w in "${workloads[@]}"; do
	WL_ACKED=0
	WL_LOST=0
	"wl_${w}_check" || failed=1
	acked=$((acked + WL_ACKED))
	lost=$((lost + WL_LOST))
done
relay_stop || failed=1
integrity "at the end" || failed=1
restarts=$(grep -c "re-created" "$WORK/tallyd.log" || true)
echo "fault: crashes injected: $relay_crashes relay (kill -9)," \
    "$client_crashes client; integrity checks: $INTEGRITY_CHECKS"
echo "fault: operations acknowledged: $acked; operations lost: $lost"
[ "$lost" -eq 0 ] || failed=1
[ "$acked" -gt 0 ] || {
	echo "fault: nothing was acknowledged" >&2
	failed=1
}
[ "$restarts" = 0 ] ||
    echo "fault: (tallyd re-created a listener $restarts times, nng #1518)"
if [ $failed -eq 0 ]; then
	echo "fault: 1 passed, 0 failed"
else
	echo "fault: 0 passed, 1 failed"
	tail -5 "$WORK/tallyd.log" | sed 's/^/  tallyd: /'
fi
exit $failed
