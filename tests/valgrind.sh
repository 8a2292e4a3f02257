#!/usr/bin/env bash
# valgrind.sh -- the whole ctest suite under valgrind's memcheck.
#
#   bash tests/valgrind.sh [BUILD_DIR [CTEST_ARGS...]]
#
# Builds the tree (Debug, no sanitizers, no benches) into BUILD_DIR
# (default ./build-valgrind), then puts a wrapper in place of every
# program the tests run -- the unit and integration test programs,
# client/tally and server/tallyd (the originals move to NAME.real) -- so
# that plain ctest runs each process under memcheck: unit tests, each
# `tally` a CLI test starts, each tallyd an integration or CLI test
# starts.  Each process writes its report to BUILD_DIR/valgrind/PID.log
# (never to the test's own stderr, which the CLI tests check); a process
# with an error or a leak exits 99, so its test fails too.
#
# Counted as failures: every memcheck error, and definitely, indirectly
# and possibly lost blocks; still-reachable blocks are not leaks.
# Suppressions are in tests/valgrind.supp (library-internal only; each
# says why).  A process killed with SIGKILL on purpose (the durability
# tests) writes no summary, and is not counted.  Prints the reports with
# errors, then one closing line "valgrind: N passed, M failed" (processes).
# Extra arguments go to ctest, e.g. -R 'unit\.' or -E 'it\.durability'.
# VALGRIND_ORIGINS=1 adds --track-origins=yes.  Slow: every tally a CLI
# test runs starts valgrind (about an hour on 2 idle cores).
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$top/build-valgrind}
shift || true
jobs=${JOBS:-2}
command -v valgrind >/dev/null || {
	echo "valgrind: not installed (apt-get install valgrind)" >&2
	exit 1
}
mkdir -p "$build"
build=$(cd "$build" && pwd)
echo "valgrind: building into $build"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DTALLY_BENCH=OFF \
    -DTALLY_SANITIZER= -DTALLY_WERROR=ON >"$build/cmake.log" 2>&1 || {
	tail -20 "$build/cmake.log" >&2
	exit 1
}
if ! cmake --build "$build" -j "$jobs" >"$build/build.log" 2>&1; then
	tail -30 "$build/build.log" >&2
	exit 1
fi

logs=$build/valgrind
rm -rf "$logs"
mkdir -p "$logs"
chmod 1777 "$logs" # some CLI tests run tally as nobody
# Where uninitialised values came from: clearer reports, twice the time.
origins=
[ "${VALGRIND_ORIGINS:-0}" = 1 ] && origins=--track-origins=yes
wrap() { # wrap PROGRAM: PROGRAM.real is the binary, PROGRAM runs it
	local p=$1
	# A fresh build leaves an ELF binary in place of the wrapper.
	if head -c 4 "$p" | grep -q ELF; then
		mv -f "$p" "$p.real"
	fi
	[ -x "$p.real" ] || return 0
	cat >"$p" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck --quiet --error-exitcode=99 \\
    --leak-check=full --show-leak-kinds=definite,indirect,possible \\
    --errors-for-leak-kinds=definite,indirect,possible \\
    $origins --num-callers=30 \\
    --suppressions=$top/tests/valgrind.supp \\
    --log-file=$logs/%p.log "$p.real" "\$@"
EOF
	chmod +x "$p"
}
for p in "$build"/client/tally "$build"/server/tallyd "$build"/tests/*_test \
    "$build"/tests/it/it_*_test; do
	case $p in
	*.real) continue ;;
	esac
	[ -f "$p" ] && wrap "$p"
done

echo "valgrind: running ctest ($(ls "$build"/tests/*_test \
    "$build"/tests/it/it_*_test | grep -vc '\.real$') test programs," \
    "every tally and tallyd under memcheck)"
start=$SECONDS
# tallyd takes seconds to start under memcheck (tests/it/itlib.c).
export IT_START_MS=${IT_START_MS:-60000}
ctest --test-dir "$build" --output-on-failure -j "$jobs" "$@" \
    >"$build/ctest.log" 2>&1
ctest_rc=$?
grep -E "tests passed|Failed|Timeout|\*\*\*" "$build/ctest.log" |
    sed 's/^/  /'

# Every process that finished wrote a summary; --quiet leaves a log
# empty when there was nothing to say.
procs=0
bad=0
for f in "$logs"/*.log; do
	[ -e "$f" ] || continue
	procs=$((procs + 1))
	if [ -s "$f" ]; then
		bad=$((bad + 1))
		echo "---- $f"
		head -60 "$f"
	fi
done
echo "valgrind: $procs processes checked in $((SECONDS - start)) s," \
    "ctest exit $ctest_rc"
echo "valgrind: $((procs - bad)) passed, $bad failed"
[ $bad -eq 0 ] && [ $ctest_rc -eq 0 ]
