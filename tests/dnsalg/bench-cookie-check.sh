#!/bin/bash
# Benchmark: CPU time of one DNS server-cookie check with 32 retired secrets
# (60 s rollovers): the check by the cookie's timestamp (at most 3 SipHashes)
# against the loop that tried every kept secret (up to 33), in the same run
# (the loop is rebuilt in bench_cookie_check.c from the public calls).
# Prints medians per case and the old/new ratio.  No network, no root.
#   BUILD=build-xyz tests/dnsalg/bench-cookie-check.sh      (RUNS=9 CHECKS=200000)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
B=$BUILD/tests/dnsalg/bench_cookie_check
[ -x "$B" ] || { echo "missing $B (set BUILD)"; exit 1; }
exec "$B" "${RUNS:-9}" "${CHECKS:-200000}"
