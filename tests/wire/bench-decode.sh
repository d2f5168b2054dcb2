#!/bin/bash
# Benchmark: Shim6 wire decode-and-validate rate for an I2 with Locator List,
# CGA Parameter Data Structure and CGA Signature options, against a baseline
# measured in the same run (memcpy + Internet checksum of the same octets).
# Prints medians and the ratio.  Not pass/fail.
#
# Environment: BUILD  build directory (default: <top>/build)
#              RUNS   runs per figure (default 7), MS  milliseconds per run (default 300)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
bin=$BUILD/tests/wire/bench_decode
[ -x "$bin" ] || ninja -C "$BUILD" tests/wire/bench_decode >/dev/null
"$bin" "${RUNS:-7}" "${MS:-300}"
