#!/bin/bash
# Fast-path throughput on one lcore: net_pcap (infinite_rx) in, net_null out,
# an egress mix (CMULA -> remote ULID, header inserted) and an ingress mix
# (payload header removed), at 1k, 100k and 1M installed contexts, side by
# side with dpdk-testpmd --forward-mode=io on the same vdevs, and with the
# dataplane's floor build (bench_dp_floor: the same program whose nodes only
# forward each frame untouched).
# Prints Mpps, cycles/packet, the ratio to testpmd, the floor's ratio to
# testpmd and table bytes per context.
# MODES="nat-out nat-in" measures NATv6 instead (to peers without Shim6 and
# back; the contexts are installed all the same).
#   [MODES=...] tests/dataplane/bench-fastpath.sh [SECONDS] [SIZES...]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
DP=$BUILD/dataplane/pshim6-dataplane
FLOOR=$BUILD/tests/dataplane/bench_dp_floor
CTL=$BUILD/dataplane/pshim6-dpctl
secs=${1:-3}
shift || true
sizes=${*:-"1000 100000 1000000"}
LCORE=${LCORE:-1}
work=$(mktemp -d /tmp/dp-bench.XXXXXX)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; sleep 0.5; for p in $pids; do kill -9 $p 2>/dev/null; done; rm -rf "$work" /var/run/dpdk/dpb-$$ /var/run/dpdk/dpb-tp-$$' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 1024 ] || echo 1024 > /proc/sys/vm/nr_hugepages

. "$top/tests/dataplane/bench_lib.sh"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# testpmd io forwarding pcap -> null, one forwarding lcore; prints Mpps (median of per-second samples)
testpmd_mpps() { # pcap
    local log=$work/testpmd.log
    timeout $((secs + 8)) dpdk-testpmd -l 0,$LCORE --no-pci --file-prefix=dpb-tp-$$ --huge-unlink -m 512 \
        --vdev "net_pcap0,rx_pcap=$1,infinite_rx=1" --vdev net_null0,no-rx=1 --log-level=lib.eal:error -- \
        --forward-mode=io --nb-cores=1 --stats-period=1 --rxq=1 --txq=1 --no-lsc-interrupt \
        --burst=32 --rxd=1024 --txd=1024 --mbcache=256 --total-num-mbufs=15360 >"$log" 2>&1 &
    local p=$!
    pids="$pids $p"
    sleep $((secs + 4))
    kill -INT $p 2>/dev/null || true
    wait $p 2>/dev/null || true
    # port 0 samples after the first two seconds of warm-up
    grep -A8 'NIC statistics for port 0' "$log" | grep -o 'Rx-pps: *[0-9]*' | awk '{print $2}' | tail -n +3 | median |
        awk '{printf "%.3f", $1/1e6}'
}

dp_mpps() { # mode pcap contexts [program] -> "Mpps cycles/pkt table_bytes punts node_cycles"
    local mode=$1 pcap=$2 n=$3 conf=$work/dp.conf prog=${4:-$DP}
    bench_dp_conf "$conf" "$mode" "$pcap" "$n" "$work/dp.sock" \
        --file-prefix=dpb-$$ --huge-unlink --no-pci -l "$LCORE" --log-level=lib.eal:error
    "$prog" -c "$conf" --busy-poll --no-tap --node-clock 2>"$work/dp.log" &
    local p=$!
    pids="$pids $p"
    for i in $(seq 100); do "$CTL" -s "$work/dp.sock" hello >/dev/null 2>&1 && break; sleep 0.2; done
    "$CTL" -s "$work/dp.sock" fill count=$n >/dev/null
    sleep 1
    local key=tx_isp_packets
    case $mode in ingress|nat-in) key=tx_inside_packets ;; esac
    local samples="" prev cur punts0 nc0 np0
    punts0=$("$CTL" -s "$work/dp.sock" counters | awk '$1=="punt"{print $2}')
    nc0=$("$CTL" -s "$work/dp.sock" counters | awk '$1=="node_cycles"{print $2}')
    np0=$("$CTL" -s "$work/dp.sock" counters | awk '$1=="node_packets"{print $2}')
    prev=$("$CTL" -s "$work/dp.sock" counters | awk -v k=$key '$1==k{print $2}')
    for s in $(seq "$secs"); do
        sleep 1
        cur=$("$CTL" -s "$work/dp.sock" counters | awk -v k=$key '$1==k{print $2}')
        samples="$samples $((cur - prev))"
        prev=$cur
    done
    local punts drops nc np
    punts=$(( $("$CTL" -s "$work/dp.sock" counters | awk '$1=="punt"{print $2}') - punts0 ))
    nc=$(( $("$CTL" -s "$work/dp.sock" counters | awk '$1=="node_cycles"{print $2}') - nc0 ))
    np=$(( $("$CTL" -s "$work/dp.sock" counters | awk '$1=="node_packets"{print $2}') - np0 ))
    kill -INT $p; wait $p 2>/dev/null || true
    local hz tb pps
    hz=$(grep -o 'tsc_hz [0-9]*' "$work/dp.log" | awk '{print $2}')
    tb=$(grep -o 'table_bytes [0-9]*' "$work/dp.log" | awk '{print $2}')
    pps=$(echo $samples | tr ' ' '\n' | median)
    awk -v pps="$pps" -v hz="$hz" -v tb="$tb" -v n="$n" -v pu="$punts" -v nc="$nc" -v np="$np" \
        'BEGIN {printf "%.3f %.0f %.0f %d %.0f\n", pps/1e6, (pps > 0 ? hz/pps : 0), tb/n, pu, (np > 0 ? nc/np : 0)}'
}

# the baseline is measured right before each row, on the same pcap: the
# machine is shared, so a baseline taken once would drift from the row
echo "baseline: dpdk-testpmd --forward-mode=io on the same vdevs (pcap infinite_rx -> null), 1 lcore"
echo "both: burst 32, 1024 RX/TX descriptors, 15360-mbuf pool with a 256 cache (the dataplane's own sizing),"
echo "  Mpps = median of 1 s samples (testpmd: port 0 Rx-pps = Tx-pps on null; dataplane: TX counter), busy polling"
echo "  node cyc/pkt = TSC cycles inside the node functions per packet (--node-clock: classify, lookup,"
echo "  rewrite and the TX enqueue, which frees into the null PMD when a burst completes); the rest of"
echo "  cyc/pkt is the pcap PMD's RX copy and the poll loop, which testpmd pays too"
echo "  floor = the same run of bench_dp_floor, the dataplane built with nodes that only forward"
echo "  (no classification, lookup or rewrite; the contexts are installed all the same), and"
echo "  fl.ratio its ratio to testpmd: the most any node work could reach with this poll loop"
echo "  mem = bench_memspan: TSC cycles per packet to touch the egress node's lines (bucket, context,"
echo "  stamp) for the same 4,096 contexts in the table's layout at that size, with no packet work:"
echo "  the floor the table's memory sets on this machine (it grows with the span when the TLB does"
echo "  not cover it)"
printf '%-8s %-9s %8s %10s %9s %6s %9s %7s %8s %8s %12s\n' mix contexts Mpps cyc/pkt node mem testpmd ratio floor fl.ratio bytes/ctx
for n in $sizes; do
    mem=-
    [ -x "$BUILD/tests/dataplane/bench_memspan" ] && mem=$("$BUILD/tests/dataplane/bench_memspan" "$n" | awk '{print $3}')
    for mode in ${MODES:-egress ingress}; do
        size=128; [ $mode = ingress ] && size=136
        /usr/bin/python3 "$top/tests/dataplane/gen_pcap.py" $mode "$n" 4096 $size "$work/$mode.pcap"
        base=$(testpmd_mpps "$work/$mode.pcap")
        read -r mpps cyc bpc punts node < <(dp_mpps $mode "$work/$mode.pcap" "$n")
        floor=-; fratio=-
        if [ -x "$FLOOR" ]; then
            read -r floor _ < <(dp_mpps $mode "$work/$mode.pcap" "$n" "$FLOOR") || floor=-
            fratio=$(awk -v a="$floor" -v b="$base" 'BEGIN {printf "%.2f", (b > 0 ? a/b : 0)}')
        fi
        ratio=$(awk -v a="$mpps" -v b="$base" 'BEGIN {printf "%.2f", (b > 0 ? a/b : 0)}')
        printf '%-8s %-9s %8s %10s %9s %6s %9s %7s %8s %8s %12s\n' $mode "$n" "$mpps" "$cyc" "$node" "$mem" "$base" "$ratio" "$floor" "$fratio" "$bpc"
        [ "${punts:-0}" = 0 ] || echo "  (warning: $punts packets punted during the measurement: contexts missing?)"
    done
done
