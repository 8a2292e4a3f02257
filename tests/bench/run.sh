#!/usr/bin/env bash
# Runs every benchmark of a build and gathers their figures.
# usage: bash tests/bench/run.sh BUILD_DIR [OUT_DIR]
# Each bench_NAME prints its own table; those that honour TALLY_BENCH_JSON
# also leave their figures in OUT_DIR/NAME.json (default BUILD_DIR/bench),
# for comparing versions.
set -euo pipefail

build=${1:?usage: run.sh BUILD_DIR [OUT_DIR]}
out=${2:-$build/bench}
mkdir -p "$out"
status=0
for bench in "$build"/tests/bench_*; do
	[ -x "$bench" ] || continue
	name=$(basename "$bench")
	echo "== $name"
	if ! TALLY_BENCH_JSON="$out/${name#bench_}.json" "$bench"; then
		echo "$name failed" >&2
		status=1
	fi
	echo
done
exit $status
