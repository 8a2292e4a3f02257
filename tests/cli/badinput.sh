# badinput.sh -- a replica that is locked, read-only, corrupt, of a newer
# schema, empty, or not tally's: each gives one clear line and a non-zero
# exit, and nothing stored changes.
. "$2/cli/lib.sh"

TALLY_NOW=2026-03-10T12:00:00Z
export TALLY_NOW

expect_ok init --name Me
expect_ok person add "Ann Lee" --note "first"
expect_ok log ann --kind call --note "a call" --follow-up +2d
expect_ok favor add --from ann --to me --kind advice
# Everything in the main file, so that it can be copied and damaged.
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
dump_db "$TMP/orig.sql"
ROWS="SELECT * FROM person ORDER BY id; SELECT * FROM interaction ORDER BY id;
    SELECT * FROM favor ORDER BY id; SELECT * FROM ledger ORDER BY person"
sqlite3 "$DB" "$ROWS" >"$TMP/orig.rows"

# Every kind of write.
try_writes()
{
	_code=$1
	_what=$2
	shift 2
	expect_fail "$_code" "$@" person add "New Person"
	expect_err_has "$_what"
	expect_fail "$_code" "$@" log ann --kind email
	expect_err_has "$_what"
	expect_fail "$_code" "$@" favor add --from me --to ann --kind info
	expect_err_has "$_what"
	expect_fail "$_code" "$@" person edit ann --note "changed"
	expect_err_has "$_what"
	expect_fail "$_code" "$@" person rm ann
	expect_err_has "$_what"
}

# -- Locked: another program holds the write lock. ---------------------
mkfifo "$TMP/lock.fifo"
sqlite3 "$DB" <"$TMP/lock.fifo" >/dev/null 2>&1 &
holder=$!
exec 3>"$TMP/lock.fifo"
echo "BEGIN IMMEDIATE;" >&3
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
try_writes 1 "locked"
# Reading still works (WAL).
expect_ok person list
expect_out_has "Ann Lee"
expect_ok due
echo "ROLLBACK;" >&3
exec 3>&-
wait "$holder"
unset TALLY_BUSY_TIMEOUT_MS
dump_db "$TMP/after.sql"
expect_same_file "$TMP/orig.sql" "$TMP/after.sql" "replica after lock errors"
# Once the lock is gone, writing works again.
expect_ok person add "After Lock"
expect_ok person rm "after lock"
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null

# -- Read-only file (chmod 444).  root writes anyway, so as root the
# commands run as nobody. -----------------------------------------------
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
	cp "$DB" "$RO/tally.db"
	chmod 444 "$RO/tally.db"
	cp "$RO/tally.db" "$TMP/ro.orig"
	ro()
	{
		# Runs tally as in tly, maybe as another user.
		LAST="--db $RO/tally.db $*"
		$as_user "$TALLY" --db "$RO/tally.db" "$@" >"$OUT" 2>"$ERR"
		RC=$?
	}
	ro person list
	expect_eq 0 "$RC" "exit of person list on a read-only replica"
	expect_out_has "Ann Lee"
	for cmd in "person add X" "log ann --kind call" \
	    "favor add --from ann --to me --kind info" "person rm ann" \
	    "person edit ann --org Y"; do
		# shellcheck disable=SC2086
		ro $cmd
		expect_eq 1 "$RC" "exit of '$cmd' on a read-only replica"
		expect_eq 1 "$(wc -l <"$ERR")" "lines on stderr of '$cmd'"
		expect_err_has "read-only"
	done
	expect_same_file "$TMP/ro.orig" "$RO/tally.db" "read-only replica"
	# A read-only folder too: not even readable in WAL mode.
	rm -f "$RO/tally.db-wal" "$RO/tally.db-shm"
	chmod 555 "$RO"
	ro person list
	expect_eq 1 "$RC" "exit with a read-only file in a read-only folder"
	expect_eq 1 "$(wc -l <"$ERR")" "lines on stderr (read-only folder)"
	expect_err_has "read-only"
	expect_same_file "$TMP/ro.orig" "$RO/tally.db" "read-only replica"
	chmod 755 "$RO"
fi

# -- Newer schema. -----------------------------------------------------
cp "$DB" "$TMP/newer.db"
sqlite3 "$TMP/newer.db" "PRAGMA user_version=99"
sqlite3 "$TMP/newer.db" .dump >"$TMP/newer.sql"
for args in "person list" "person add X" "due" "init"; do
	# shellcheck disable=SC2086
	expect_fail 1 --db "$TMP/newer.db" $args
	expect_err_has "newer"
done
expect_eq 99 "$(sqlite3 "$TMP/newer.db" "PRAGMA user_version")" \
    "schema version after refusing"
sqlite3 "$TMP/newer.db" .dump >"$TMP/newer2.sql"
expect_same_file "$TMP/newer.sql" "$TMP/newer2.sql" "newer replica"

# -- Garbage: not a database at all. -----------------------------------
yes "this is not a database" | head -c 20000 >"$TMP/garbage.db"
cp "$TMP/garbage.db" "$TMP/garbage.orig"
for args in "person list" "person add X" "init"; do
	# shellcheck disable=SC2086
	expect_fail 1 --db "$TMP/garbage.db" $args
	expect_err_has "corrupt"
done
expect_same_file "$TMP/garbage.orig" "$TMP/garbage.db" "garbage file"

# -- A real replica with a page overwritten in the middle. -------------
cp "$DB" "$TMP/bad.db"
root=$(sqlite3 "$TMP/bad.db" \
    "SELECT rootpage FROM sqlite_master WHERE name = 'person'")
psize=$(sqlite3 "$TMP/bad.db" "PRAGMA page_size")
yes garbage | head -c 512 |
    dd of="$TMP/bad.db" bs=1 seek=$(((root - 1) * psize)) conv=notrunc \
    2>/dev/null
cp "$TMP/bad.db" "$TMP/bad.orig"
for args in "person list" "person show ann" "person add X" \
    "log ann --kind call" "next" "due" "ledger" "graph"; do
	# shellcheck disable=SC2086
	expect_fail 1 --db "$TMP/bad.db" $args
	expect_err_has "corrupt"
done
expect_same_file "$TMP/bad.orig" "$TMP/bad.db" "damaged replica"

# -- An empty file, and an SQLite database that is not tally's. --------
: >"$TMP/empty.db"
expect_fail 1 --db "$TMP/empty.db" person list
expect_err_has "tally init"
expect_fail 1 --db "$TMP/empty.db" person add X
expect_eq 0 "$(wc -c <"$TMP/empty.db" | tr -d ' ')" "size of the empty file"
sqlite3 "$TMP/other.db" "CREATE TABLE notes(x); INSERT INTO notes VALUES (1)"
sqlite3 "$TMP/other.db" .dump >"$TMP/other.sql"
for args in "person list" "person add X" "init"; do
	# shellcheck disable=SC2086
	expect_fail 1 --db "$TMP/other.db" $args
	expect_err_has "not a tally replica"
done
expect_eq delete "$(sqlite3 "$TMP/other.db" "PRAGMA journal_mode")" \
    "journal mode of a foreign database"
sqlite3 "$TMP/other.db" .dump >"$TMP/other2.sql"
expect_same_file "$TMP/other.sql" "$TMP/other2.sql" "foreign database"

# -- Missing replica, a folder in its place. ---------------------------
expect_fail 1 --db "$TMP/none/tally.db" person list
expect_err_has "tally init"
[ -e "$TMP/none" ] && fail "opening a missing replica created its folder"
mkdir "$TMP/adir"
expect_fail 1 --db "$TMP/adir" person list
expect_fail 1 --db "$TMP/adir" init

# The original replica holds what it held.
sqlite3 "$DB" "$ROWS" >"$TMP/final.rows"
expect_same_file "$TMP/orig.rows" "$TMP/final.rows" "replica at the end"

finish
