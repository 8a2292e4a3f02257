#!/usr/bin/env bash
# diskfull.sh -- the relay out of space: clean refusals, and writes again
# once space returns, with nothing acknowledged lost.
#
#   bash tests/fault/diskfull.sh BUILD_DIR
#
# 1. Quota: an account's mailbox is filled until tallyd refuses with
#    TALLY_EQUOTA; its owner deletes the envelopes; puts are stored again.
# 2. Disk (needs root to mount a 4 MiB tmpfs; skipped otherwise, with a
#    note): tallyd's data directory on a small file system, with a 1 MiB
#    filler beside it, is filled until tallyd refuses ("server busy",
#    TALLY_EBUSY, retried by clients; tallyd logs that the disk is full).
#    While full, tallyd answers reads, survives a kill -9 and starts
#    again; once the filler is deleted, writes are stored again.
# Each part then checks every acknowledged write (faultload check),
# stops tallyd with SIGTERM (exit 0) and runs PRAGMA integrity_check.
set -uo pipefail

BUILD=${1:?usage: diskfull.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
TALLYD=$BUILD/server/tallyd
FL=$BUILD/tests/fault/faultload
for f in "$TALLYD" "$FL"; do
	[ -x "$f" ] || {
		echo "diskfull: no $f (build the tests first)" >&2
		exit 1
	}
done
WORK=$(mktemp -d /tmp/tly-diskfull-XXXXXX)
TPID=
MOUNTED=
cleanup() {
	if [ -n "$TPID" ]; then
		kill -9 "$TPID" 2>/dev/null
		wait "$TPID" 2>/dev/null
	fi
	[ -n "$MOUNTED" ] && umount "$MOUNTED"
	rm -rf "$WORK"
}
trap cleanup EXIT
fails=0
passes=0
fail() {
	echo "diskfull: FAIL: $*" >&2
	fails=$((fails + 1))
}

# start DATA_DIR EXTRA_LIMITS
start() {
	local port
	port=$("$FL" port)
	URL=tcp://127.0.0.1:$port
	printf '[server]\nlisten = %s\ndata = %s\n[limits]\nrate = 0\n%s\n' \
	    "$URL" "$1" "$2" >"$WORK/tallyd.conf"
	restart
}
restart() {
	"$TALLYD" --config "$WORK/tallyd.conf" >>"$WORK/tallyd.log" 2>&1 &
	TPID=$!
	"$FL" ping "$URL" 15000 || {
		fail "tallyd does not answer"
		tail -5 "$WORK/tallyd.log" >&2
		return 1
	}
}
stop() {
	kill -TERM "$TPID"
	wait "$TPID" || fail "tallyd exited with status $? on SIGTERM"
	TPID=
}
# fill LABEL WANT_CODE: fills, expects a refusal with WANT_CODE
fill() {
	local out
	out=$("$FL" fill "$WORK/$1" "$URL") || fail "$1: fill: $out"
	echo "  $1: $out"
	case $out in
	*"$2"*) ;;
	*) fail "$1: expected a refusal with $2" ;;
	esac
	STORED=$(echo "$out" | sed -n 's/^fill: \([0-9]*\) envelopes.*/\1/p')
}
# finish LABEL DATA_DIR: every acknowledged write there, clean stop,
# integrity
finish() {
	local out
	out=$("$FL" check "$WORK/$1" "$URL" 2>&1) || fail "$1: $out"
	echo "  $1: $out"
	stop
	"$FL" integrity "$2/tallyd.db" || fail "$1: integrity_check"
}

# -- 1. Quota. ----------------------------------------------------------
echo "diskfull: 1. an account over its quota (512K)"
mkdir -p "$WORK/quota" "$WORK/qdata"
chmod 700 "$WORK/qdata"
start "$WORK/qdata" "quota = 512K"
"$FL" setup "$WORK/quota" "$URL" 2 || fail "quota: setup"
fill quota TALLY_EQUOTA
[ "${STORED:-0}" -gt 0 ] || fail "quota: nothing stored before the refusal"
"$FL" drain "$WORK/quota" "$URL" | sed 's/^/  quota: /'
fill quota TALLY_EQUOTA
[ "${STORED:-0}" -gt 0 ] || fail "quota: nothing stored after the drain"
finish quota "$WORK/qdata"
[ $fails -eq 0 ] && passes=$((passes + 1))

# -- 2. The disk. -------------------------------------------------------
before=$fails
echo "diskfull: 2. the relay's file system full (4 MiB tmpfs)"
mkdir -p "$WORK/fs" "$WORK/disk"
if mount -t tmpfs -o size=4m,mode=700 tmpfs "$WORK/fs" 2>/dev/null; then
	MOUNTED=$WORK/fs
	dd if=/dev/zero of="$WORK/fs/filler" bs=1024 count=1024 2>/dev/null
	mkdir -m 700 "$WORK/fs/data"
	start "$WORK/fs/data" ""
	"$FL" setup "$WORK/disk" "$URL" 2 || fail "disk: setup"
	fill disk TALLY_EBUSY
	[ "${STORED:-0}" -gt 0 ] || fail "disk: nothing stored"
	grep -q "the disk is full" "$WORK/tallyd.log" ||
	    fail "disk: tallyd did not log the full disk"
	# Still answering reads; survives kill -9 while full.
	out=$("$FL" check "$WORK/disk" "$URL" 2>&1) ||
	    fail "disk: reading while full: $out"
	echo "  disk, while full: $out"
	kill -9 "$TPID"
	wait "$TPID" 2>/dev/null
	TPID=
	restart && echo "  disk: kill -9 while full, started again"
	fill disk TALLY_EBUSY
	[ "${STORED:-1}" -eq 0 ] || fail "disk: stored $STORED while full?"
	rm -f "$WORK/fs/filler"
	echo "  disk: 1 MiB freed"
	fill disk TALLY_EBUSY
	[ "${STORED:-0}" -gt 0 ] || fail "disk: nothing stored once freed"
	finish disk "$WORK/fs/data"
	[ $fails -eq $before ] && passes=$((passes + 1))
else
	echo "  disk: skipped (cannot mount a tmpfs here: not root?)"
fi
echo "diskfull: $passes passed, $fails failed"
[ $fails -eq 0 ]
