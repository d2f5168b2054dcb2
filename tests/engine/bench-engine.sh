#!/bin/bash
# Engine benchmark: handshakes/s (HBA, CGA RSA-2048) against the OpenSSL
# sign+verify ceiling of the same run, and simulated failover times.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
exe=$BUILD/tests/engine/bench_engine
[ -x "$exe" ] || ninja -C "$BUILD" tests/engine/bench_engine >/dev/null
taskset -c 0 "$exe" "${BENCH_SECS:-2}" 2>/dev/null || "$exe" "${BENCH_SECS:-2}"
