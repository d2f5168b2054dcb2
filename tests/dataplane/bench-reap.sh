#!/bin/bash
# Reading the REAP stamps of a whole table, two ways, in the same run: by
# tag list (REAP_REQ, 128 contexts a request, how control read them before)
# and by a walk of the dataplane's table (REAP_SCAN_REQ, only the contexts
# with traffic since a time come back).  The lcore forwards an egress mix
# over 4,096 of the contexts meanwhile, so those carry fresh stamps and the
# tables are being read by a busy lcore.
#   tests/dataplane/bench-reap.sh [ROUNDS] [SIZES...]   (default 5, 100000 1000000)
# Prints, per size, the median requests and milliseconds of each way and
# their ratio; the walk's entries must equal the busy contexts found by
# tag list.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
DP=$BUILD/dataplane/pshim6-dataplane
CTL=$BUILD/dataplane/pshim6-dpctl
rounds=${1:-5}
shift || true
sizes=${*:-100000 1000000}
LCORE=${LCORE:-1}
work=$(mktemp -d /tmp/dp-reap.XXXXXX)
dpid=""
trap 'set +e; [ -n "$dpid" ] && kill $dpid 2>/dev/null; sleep 0.3; rm -rf "$work" /var/run/dpdk/dpq-$$' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 1024 ] || echo 1024 > /proc/sys/vm/nr_hugepages
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
. "$top/tests/dataplane/bench_lib.sh"

echo "REAP stamps of every context: tag lists (REAP_REQ, 128 a request, 64 in flight) against"
echo "a walk (REAP_SCAN_REQ, 65,536 contexts a request, one in flight), the lcore forwarding"
echo "over 4,096 of them; traffic 'since' = the last second; medians of $rounds rounds"
printf '%-9s %6s %10s %10s %8s %10s %8s %8s\n' contexts busy list_reqs list_ms walk_reqs walk_ms entries ratio
for n in $sizes; do
    /usr/bin/python3 "$top/tests/dataplane/gen_pcap.py" egress "$n" 4096 128 "$work/e.pcap"
    bench_dp_conf "$work/dp.conf" egress "$work/e.pcap" "$n" "$work/dp.sock" \
        --file-prefix=dpq-$$ --huge-unlink --no-pci -l "$LCORE" --log-level=lib.eal:error
    "$DP" -c "$work/dp.conf" --no-tap 2>"$work/dp.log" &
    dpid=$!
    for i in $(seq 100); do "$CTL" -s "$work/dp.sock" hello >/dev/null 2>&1 && break; sleep 0.2; done
    "$CTL" -s "$work/dp.sock" fill count="$n" >/dev/null
    sleep 2
    lr="" lm="" wr="" wm="" busy="" ent=""
    for r in $(seq "$rounds"); do
        out=$("$CTL" -s "$work/dp.sock" reap-time count="$n" ago_ms=1000)
        set -- $(echo "$out" | sed -n 's/^tag lists: \([0-9]*\) requests, \([0-9.]*\) ms, \([0-9]*\) with.*/\1 \2 \3/p')
        lr="$lr $1"; lm="$lm $2"; busy="$busy $3"
        set -- $(echo "$out" | sed -n 's/^walk: \([0-9]*\) requests, \([0-9.]*\) ms, \([0-9]*\) with.*/\1 \2 \3/p')
        wr="$wr $1"; wm="$wm $2"; ent="$ent $3"
        sleep 0.5
    done
    kill -INT $dpid; wait $dpid 2>/dev/null || true
    dpid=""
    m() { echo $1 | tr ' ' '\n' | median; }
    awk -v n="$n" -v b="$(m "$busy")" -v lr="$(m "$lr")" -v lm="$(m "$lm")" -v wr="$(m "$wr")" -v wm="$(m "$wm")" \
        -v e="$(m "$ent")" 'BEGIN {printf "%-9s %6d %10d %10.1f %8d %10.1f %8d %8.1f\n", n, b, lr, lm, wr, wm, e, (wm > 0 ? lm / wm : 0)}'
done
echo "ratio = tag-list time / walk time; busy and entries differ only by contexts whose traffic"
echo "crossed the one-second line between the two readings"
