# replica_faults.sh -- the relay and identity commands with a replica that
# is locked by another program or read-only: each refusal is one clear
# line and exit 1, nothing stored changes, nothing is left half done (no
# key file without its replica row), and reading goes on.  The core
# writes (person, log, favor) under the same faults are in badinput.sh.
# A real tallyd on ipc:// serves `relay register`.
. "$2/cli/lib.sh"

TALLYD=$(dirname "$TALLY")/../server/tallyd
if [ ! -x "$TALLYD" ]; then
	fail "no tallyd at $TALLYD"
	finish
fi
TPID=
HOLDER=
cleanup()
{
	[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
	[ -n "$TPID" ] && kill "$TPID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
SRV=$TMP/srv
mkdir -p "$SRV"
URL=ipc://$SRV/relay.sock
printf '[server]\nlisten = %s\ndata = %s\n' "$URL" "$SRV" >"$TMP/tallyd.conf"
"$TALLYD" --config "$TMP/tallyd.conf" 2>>"$TMP/tallyd.log" &
TPID=$!
i=0
while [ ! -S "$SRV/relay.sock" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -S "$SRV/relay.sock" ] || fail "tallyd did not start"

unset TALLY_PASSPHRASE
expect_ok init --name "Jo Seeker"
expect_ok person add "Ann Lee"

# -- Locked: another program holds the write lock. ----------------------
lock()
{
	mkfifo "$TMP/lock.fifo"
	sqlite3 "$DB" <"$TMP/lock.fifo" >/dev/null 2>&1 &
	HOLDER=$!
	exec 3>"$TMP/lock.fifo"
	# The holder waits out the probe below rather than give up.
	printf '.timeout 5000\nBEGIN IMMEDIATE;\n' >&3
	i=0
	while sqlite3 "$DB" "BEGIN IMMEDIATE; ROLLBACK;" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 200 ]; then
			fail "could not take the write lock with sqlite3"
			break
		fi
		sleep 0.05
	done
	TALLY_BUSY_TIMEOUT_MS=100
	export TALLY_BUSY_TIMEOUT_MS
}
unlock()
{
	echo "ROLLBACK;" >&3
	exec 3>&-
	wait "$HOLDER"
	HOLDER=
	rm -f "$TMP/lock.fifo"
	unset TALLY_BUSY_TIMEOUT_MS
}

sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
dump_db "$TMP/before.sql"
lock
# No identity yet: id init must not leave a key behind.
expect_fail 1 id init --no-passphrase
expect_err_has "locked"
[ -e "$TALLY_HOME/identity.key" ] &&
    fail "id init on a locked replica left identity.key behind"
expect_fail 1 relay set "$URL"
expect_err_has "locked"
unlock
dump_db "$TMP/after.sql"
expect_same_file "$TMP/before.sql" "$TMP/after.sql" "replica after the lock"

# Once free, the same commands work; then lock again for the rest.
expect_ok id init --no-passphrase
# Ann's tally id, from her own replica.
TALLY_HOME=$TMP/ann "$TALLY" init --name "Ann Lee" >/dev/null 2>&1
TALLY_HOME=$TMP/ann "$TALLY" id init --no-passphrase >/dev/null 2>&1
ID=$(TALLY_HOME=$TMP/ann "$TALLY" id show | sed -n 's/^tally id *//p')
[ -n "$ID" ] || fail "no tally id for Ann"
expect_ok relay set "$URL"
expect_ok peer add ann "$ID"
expect_ok record new favor --with ann --note "read a cover letter"
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
dump_db "$TMP/before.sql"
lock
expect_fail 1 peer verify ann --confirm
expect_err_has "locked"
expect_fail 1 record new favor --with ann --note "helped with a CV"
expect_err_has "locked"
expect_fail 1 relay set "$URL"
expect_err_has "locked"
# Registering stores nothing in the replica; reading goes on (WAL).
expect_ok relay register
expect_ok relay status
expect_out_has "$URL"
expect_ok id show
expect_ok peer list
unlock
dump_db "$TMP/after.sql"
expect_same_file "$TMP/before.sql" "$TMP/after.sql" "replica after the lock"
expect_ok relay register
expect_ok record new favor --with ann --note "helped with a CV"

# -- Read-only: the replica file mode 444.  root writes anyway, so as root
# the commands run as nobody (with the key file theirs). ----------------
as_user=
if [ "$(id -u)" -eq 0 ]; then
	if command -v setpriv >/dev/null 2>&1; then
		as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
	else
		as_user=none
	fi
fi
if [ "$as_user" = none ]; then
	printf 'note: root without setpriv: read-only not checked\n' >&2
else
	RO=$TMP/ro
	mkdir "$RO"
	chmod 755 "$TMP"
	chmod 1777 "$RO"
	sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	cp "$DB" "$RO/tally.db"
	cp "$TALLY_HOME/identity.key" "$RO/identity.key"
	[ -n "$as_user" ] && chown 65534:65534 "$RO/identity.key"
	chmod 600 "$RO/identity.key"
	chmod 444 "$RO/tally.db"
	cp "$RO/tally.db" "$TMP/ro.orig"
	ro()
	{
		LAST="--db $RO/tally.db $*"
		$as_user "$TALLY" --db "$RO/tally.db" "$@" >"$OUT" 2>"$ERR"
		RC=$?
	}
	for cmd in "relay set $URL" "peer verify ann --confirm" \
	    "record new favor --with ann --note x"; do
		# shellcheck disable=SC2086
		ro $cmd
		expect_eq 1 "$RC" "exit of '$cmd' on a read-only replica"
		expect_eq 1 "$(wc -l <"$ERR")" "lines on stderr of '$cmd'"
		expect_err_has "read-only"
	done
	for cmd in "id show" "peer list" "record list" "ledger"; do
		# shellcheck disable=SC2086
		ro $cmd
		expect_eq 0 "$RC" "exit of '$cmd' on a read-only replica"
	done
	expect_same_file "$TMP/ro.orig" "$RO/tally.db" "read-only replica"
fi

kill "$TPID"
wait "$TPID" || fail "tallyd exited with an error"
TPID=
finish
