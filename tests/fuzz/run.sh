#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a while.
#
#   tests/fuzz/run.sh [SECONDS] [NAME...]
#
# SECONDS (default 20) is the time given to each target; NAME picks
# targets (fuzz_NAME.c, e.g. "record"), default every tests/fuzz/fuzz_*.c.
# Each runs over a copy of its seed corpus tests/fuzz/corpus/NAME/ (new
# inputs go to the build directory, never into the tree).  The build
# directory is $TALLY_FUZZ_BUILD, default ./build-fuzz at the top of the
# tree.  Prints the executions of each target; exits non-zero if a target
# crashed (the input is kept as BUILD/artifacts/NAME-crash-*) or failed to
# build.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=20
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
	seconds=$1
	shift
fi
build=${TALLY_FUZZ_BUILD:-$top/build-fuzz}
jobs=${JOBS:-2}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for src in "$top"/tests/fuzz/fuzz_*.c; do
		[ -e "$src" ] || continue
		n=$(basename "$src" .c)
		names+=("${n#fuzz_}")
	done
fi
if [ ${#names[@]} -eq 0 ]; then
	echo "fuzz: no targets" >&2
	exit 1
fi
targets=()
for n in "${names[@]}"; do
	if [ ! -f "$top/tests/fuzz/fuzz_$n.c" ]; then
		echo "fuzz: no tests/fuzz/fuzz_$n.c" >&2
		exit 2
	fi
	targets+=("fuzz_$n")
done

echo "fuzz: building ${targets[*]} in $build"
mkdir -p "$build"
cmake -S "$top" -B "$build" -DCMAKE_C_COMPILER=clang -DTALLY_FUZZ=ON \
    -DTALLY_TESTS=ON -DTALLY_BENCH=OFF -DTALLY_WERROR=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/fuzz-cmake.log" 2>&1 || {
	tail -40 "$build/fuzz-cmake.log" >&2
	echo "fuzz: cmake failed" >&2
	exit 1
}
if ! cmake --build "$build" -j "$jobs" --target "${targets[@]}" \
    >"$build/fuzz-build.log" 2>&1; then
	tail -40 "$build/fuzz-build.log" >&2
	echo "fuzz: build failed" >&2
	exit 1
fi

mkdir -p "$build/artifacts"
status=0
for n in "${names[@]}"; do
	bin="$build/tests/fuzz/fuzz_$n"
	work="$build/corpus/$n"
	seed="$top/tests/fuzz/corpus/$n"
	log="$build/fuzz_$n.log"
	mkdir -p "$work"
	[ -d "$seed" ] || seed=$(mktemp -d)
	set +e
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	    "$bin" -max_total_time="$seconds" -print_final_stats=1 \
	    -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
	    -artifact_prefix="$build/artifacts/$n-" "$work" "$seed" \
	    >"$log" 2>&1
	rc=$?
	set -e
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	if [ $rc -eq 0 ]; then
		echo "fuzz_$n: ${execs:-?} executions in ${seconds} s," \
		    "coverage ${cov:-?}, no crash"
	else
		echo "fuzz_$n: CRASH after ${execs:-?} executions (exit $rc)"
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
		status=1
	fi
done
exit $status
