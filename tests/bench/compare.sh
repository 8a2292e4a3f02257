#!/usr/bin/env bash
# Compares two benchmark tables written by tests/bench/run.sh.
#
#   bash tests/bench/compare.sh OLD.json NEW.json
#
# e.g. build-release/bench/table.json kept from one version against the
# next.  Prints one row per figure: old and new median, the change,
# "better" or "worse" when it moved by 5% or more, and the ratio against
# the raw limit of each run (a ratio that holds while the figure moves
# points at the machine, not the code).  Uses benchtab from $BENCHTAB,
# else from build-release/ or build/, else builds it into build-release/.
set -euo pipefail

[ $# -eq 2 ] || {
	echo "usage: bash tests/bench/compare.sh OLD.json NEW.json" >&2
	exit 2
}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tab=${BENCHTAB:-}
if [ -z "$tab" ]; then
	for d in "$top/build-release" "$top/build"; do
		if [ -x "$d/tests/bench/benchtab" ]; then
			tab=$d/tests/bench/benchtab
			break
		fi
	done
fi
if [ -z "$tab" ]; then
	cmake -S "$top" -B "$top/build-release" -DCMAKE_BUILD_TYPE=Release \
	    -DTALLY_BENCH=ON >/dev/null
	cmake --build "$top/build-release" --target benchtab >/dev/null
	tab=$top/build-release/tests/bench/benchtab
fi
exec "$tab" compare "$1" "$2"
