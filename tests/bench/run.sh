#!/usr/bin/env bash
# Runs every benchmark of a build several times and prints one table.
#
#   bash tests/bench/run.sh BUILD_DIR [OUT_DIR]
#
# Every BUILD_DIR/tests/bench_NAME runs BENCH_RUNS times (default 3; the
# runs of the benches are interleaved, so a noisy minute hurts every
# bench a little rather than one a lot), each writing its figures to
# OUT_DIR/runs/NAME.RUN.json through $TALLY_BENCH_JSON
# (tests/bench/bench_json.h) and its own output to OUT_DIR/logs/.  Then
# benchtab gathers them into one table (median of the runs, spread, the
# raw limit measured in the same runs, ratio), printed and written as
# OUT_DIR/table.txt and OUT_DIR/table.json (compare two with
# tests/bench/compare.sh), and gnuplot, when installed, draws the relay's
# latency against concurrent clients as OUT_DIR/relay_latency.svg.
# OUT_DIR defaults to BUILD_DIR/bench.
#
# Environment: BENCH_RUNS; BENCH_ONLY="relay record" runs only those;
# BENCH_ARGS_NAME gives bench_NAME its arguments (default for replica:
# "--runs 1", one import per run).  A bench that honours TALLY_BENCH_JSON
# in that shape joins the table without any change here.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:?usage: run.sh BUILD_DIR [OUT_DIR]}
out=${2:-$build/bench}
runs=${BENCH_RUNS:-3}
tab=$build/tests/bench/benchtab
[ -x "$tab" ] || {
	echo "bench: no $tab (build with -DTALLY_BENCH=ON)" >&2
	exit 1
}
[[ $runs =~ ^[1-9][0-9]*$ ]] || {
	echo "bench: BENCH_RUNS must be a positive number" >&2
	exit 2
}

default_args() {
	case $1 in
	replica) echo "--runs 1" ;;
	*) echo "" ;;
	esac
}

benches=()
for bin in "$build"/tests/bench_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	name=${name#bench_}
	if [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $name "* ]]; then
		continue
	fi
	benches+=("$name")
done
if [ ${#benches[@]} -eq 0 ]; then
	echo "bench: no bench_* programs in $build/tests" >&2
	exit 1
fi

rm -rf "$out/runs" "$out/logs"
mkdir -p "$out/runs" "$out/logs"
load0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
status=0
start=$SECONDS
for r in $(seq 1 "$runs"); do
	for name in "${benches[@]}"; do
		var=BENCH_ARGS_$name
		args=${!var-$(default_args "$name")}
		t0=$SECONDS
		printf 'bench: run %d/%d bench_%s %s... ' "$r" "$runs" "$name" \
		    "$args"
		# shellcheck disable=SC2086
		if TALLY_BENCH_JSON="$out/runs/$name.$r.json" \
		    "$build/tests/bench_$name" $args \
		    >"$out/logs/$name.$r.log" 2>&1; then
			echo "$((SECONDS - t0)) s"
		else
			echo "FAILED (exit $?), see $out/logs/$name.$r.log"
			tail -5 "$out/logs/$name.$r.log" | sed 's/^/  /'
			status=1
		fi
		if [ ! -s "$out/runs/$name.$r.json" ]; then
			echo "  bench_$name wrote no figures" \
			    "(TALLY_BENCH_JSON, tests/bench/bench_json.h)" >&2
			rm -f "$out/runs/$name.$r.json"
		fi
	done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")

shopt -s nullglob
files=("$out"/runs/*.json)
if [ ${#files[@]} -eq 0 ]; then
	echo "bench: no figures" >&2
	exit 1
fi
commit=$(git -C "$top" describe --always --dirty 2>/dev/null || echo "?")
echo
echo "tally $commit, $(date -u +%Y-%m-%dT%H:%MZ), $runs runs," \
    "$(nproc) cores, load $load0 -> $load1, $((SECONDS - start)) s"
"$tab" table --json "$out/table.json" --plot "$out/relay_latency.dat" \
    --meta "commit=$commit" --meta "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --meta "runs=$runs" --meta "cores=$(nproc)" \
    --meta "load=$load0 -> $load1" --meta "kernel=$(uname -r)" \
    "${files[@]}" | tee "$out/table.txt" || status=1

# The plot, when there are relay latencies and gnuplot.
if [ "$(wc -l <"$out/relay_latency.dat")" -gt 1 ]; then
	if command -v gnuplot >/dev/null; then
		ncols=$(head -1 "$out/relay_latency.dat" | grep -o '"' |
		    wc -l)
		if gnuplot -e "datafile='$out/relay_latency.dat'" \
		    -e "outfile='$out/relay_latency.svg'" \
		    -e "ncols=$((ncols / 2 + 1))" \
		    -e "subtitle='tally $commit, median of $runs runs'" \
		    "$top/tests/bench/relay_latency.gp"; then
			echo "plot: $out/relay_latency.svg"
		else
			echo "bench: gnuplot failed" >&2
			status=1
		fi
	else
		echo "plot: gnuplot not installed; data in" \
		    "$out/relay_latency.dat"
	fi
fi
echo "table: $out/table.txt, $out/table.json; each run's output in" \
    "$out/logs/"
exit $status
