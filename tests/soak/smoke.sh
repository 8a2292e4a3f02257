#!/usr/bin/env bash
# CI-sized soak: 1000 clients against one tallyd on loopback for 40 s
# (tests/soak/soak.c says what they do and what fails the run).
#
#   bash tests/soak/smoke.sh BUILD_DIR [SECONDS [CLIENTS]]
#
# The full run is BUILD_DIR/tests/soak/soak (1000 clients, 600 s).
# Exits non-zero if any request failed, tallyd died or its memory kept
# growing.  Prints one closing line "soak: N passed, M failed".
set -uo pipefail

build=${1:?usage: smoke.sh BUILD_DIR [SECONDS [CLIENTS]]}
secs=${2:-40}
clients=${3:-1000}
bin=$build/tests/soak/soak
if [ ! -x "$bin" ]; then
	echo "soak: no $bin (build the tests first)" >&2
	echo "soak: 0 passed, 1 failed"
	exit 1
fi
if "$bin" --clients "$clients" --seconds "$secs"; then
	echo "soak: 1 passed, 0 failed"
else
	echo "soak: 0 passed, 1 failed"
	exit 1
fi
