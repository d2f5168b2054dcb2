#!/bin/bash
# control.state_file: what a save costs the daemon's thread in place and
# with the fork control uses for large tables, against writing the same
# bytes (write, fsync, rename) measured in the same run.  Medians.  Twice:
# with glibc's default heap and with the heap on transparent huge pages
# (GLIBC_TUNABLES=glibc.malloc.hugetlb=1, as the systemd unit runs it).
#   tests/control/bench-state.sh [RUNS] [SIZES...]     (default 5; 1k 10k 100k 1M)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
exe=$BUILD/tests/control/bench_state
[ -x "$exe" ] || ninja -C "$BUILD" tests/control/bench_state >/dev/null
dir=$(mktemp -d /var/tmp/pshim6-bench-state.XXXXXX)   # a disk, as /var/lib/pshim6 is
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
echo "kernel THP mode: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo unknown)"
# the heap as glibc sets it up by default, then as the systemd unit starts the daemon
for tun in "" glibc.malloc.hugetlb=1; do
    echo "heap: GLIBC_TUNABLES=${tun:-(unset)}"
    GLIBC_TUNABLES=$tun "$exe" "$dir" "${1:-5}" "${@:2}"
done
