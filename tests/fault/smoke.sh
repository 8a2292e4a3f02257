#!/usr/bin/env bash
# CI-sized fault injection (< 60 s): relay.sh for 25 s (tallyd kill -9'd
# and restarted every 0.1-0.8 s under the writers), then diskfull.sh.
#
#   bash tests/fault/smoke.sh BUILD_DIR
#
# Prints one closing line "faults: N passed, M failed".
set -uo pipefail

build=${1:?usage: smoke.sh BUILD_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
passed=0
failed=0
if bash "$here/relay.sh" "$build" 25 100 800; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi
if bash "$here/diskfull.sh" "$build"; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi
echo "faults: $passed passed, $failed failed"
[ $failed -eq 0 ]
