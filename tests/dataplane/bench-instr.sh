#!/bin/bash
# Instructions per packet of the fast path, side by side with dpdk-testpmd
# --forward-mode=io on the same vdevs (net_pcap infinite_rx -> net_null), both
# under callgrind.  Instruction counts do not depend on what else the machine
# runs, so this is the figure to compare across commits on a shared machine;
# bench-fastpath.sh gives the cycles.  The forwarding thread's instructions
# are split by where they execute: the PMDs and DPDK libraries (the part
# testpmd also pays) and pshim6's own code; the floor build (bench_dp_floor,
# nodes that only forward) gives the own instructions of everything but the
# nodes' work.
#   [MODES=egress|ingress] tests/dataplane/bench-instr.sh [SECONDS] [SIZES...]   (default 30 s, 1000)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
DP=$BUILD/dataplane/pshim6-dataplane
CTL=$BUILD/dataplane/pshim6-dpctl
FLOOR=$BUILD/tests/dataplane/bench_dp_floor
secs=${1:-30}
shift || true
sizes=${*:-1000}
command -v valgrind >/dev/null || { echo "bench-instr: valgrind is not installed (deploy/setup installs it)"; exit 1; }
command -v dpdk-testpmd >/dev/null || { echo "bench-instr: dpdk-testpmd is not installed"; exit 1; }
work=$(mktemp -d /tmp/dp-instr.XXXXXX)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; sleep 0.5; for p in $pids; do kill -9 $p 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
# valgrind does not follow DPDK into hugepages: both sides run with --no-huge
eal_common="--no-huge -m 700 --no-shconf --no-pci --log-level=lib.eal:error"

. "$top/tests/dataplane/bench_lib.sh"

# The thread with the most instructions is the forwarding one (testpmd's
# forwarding lcore; the dataplane counts only inside its lcore loop); prints
# "total pmd own" for it (pmd = everything outside the main executable).
split_ir() { # callgrind.out prefix, executable basename
    local best="" max=0 f t
    for f in "$1"*; do
        t=$(awk '/^(summary|totals):/ {print $2; exit}' "$f")
        [ "${t:-0}" -gt "$max" ] && { max=$t; best=$f; }
    done
    [ -n "$best" ] || { echo "0 0 0"; return; }
    # self cost per function; lines for code inlined into the executable carry no object tag
    callgrind_annotate --auto=no --threshold=100 --inclusive=no "$best" 2>/dev/null |
        awk -v exe="$2" -v tot="$max" '/\[/ && $1 ~ /^[0-9,]+$/ && !index($0, "/" exe "]") { n=$1; gsub(",","",n); pmd+=n }
            END { printf "%.0f %.0f %.0f\n", tot, pmd, tot - pmd }'
}

testpmd_ir() { # pcap -> "Ir packets pmd own"
    local out=$work/tp.cg log=$work/tp.log
    rm -f "$out"*
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out" \
        dpdk-testpmd -l 0,1 $eal_common --file-prefix=dpi-tp-$$ \
        --vdev "net_pcap0,rx_pcap=$1,infinite_rx=1" --vdev net_null0,no-rx=1 -- \
        --forward-mode=io --nb-cores=1 --rxq=1 --txq=1 --no-lsc-interrupt --burst=32 \
        --rxd=1024 --txd=1024 --mbcache=256 --total-num-mbufs=15360 --stats-period=5 >"$log" 2>&1 &
    local p=$!
    pids="$pids $p"
    for _ in $(seq 600); do grep -q "io packet forwarding" "$log" && break; sleep 0.2; done
    sleep "$secs"
    kill -INT $p 2>/dev/null || true
    wait $p 2>/dev/null || true
    local pk
    pk=$(grep -A4 "Accumulated forward statistics" "$log" | grep -o 'TX-packets: *[0-9]*' | head -1 | awk '{print $2}')
    read -r tot pmd own < <(split_ir "$out" dpdk-testpmd)
    echo "$tot ${pk:-0} $pmd $own"
}

dp_ir() { # mode pcap contexts [program] -> "Ir packets pmd own"
    local mode=$1 pcap=$2 n=$3 conf=$work/dp.conf out=$work/dp.cg key=tx_isp_packets prog=${4:-$DP}
    [ "$mode" = egress ] || key=tx_inside_packets
    # shellcheck disable=SC2086 # eal_common is a list of words
    bench_dp_conf "$conf" "$mode" "$pcap" "$n" "$work/dp.sock" --file-prefix=dpi-$$ -l 1 $eal_common
    rm -f "$out"*
    # valgrind runs one thread at a time, so a polling lcore would starve the
    # channel: the ports are polled only after a delay the fill fits in
    local delay=$((15 + n / 2000)) t0 pk
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out" --toggle-collect=dp_lcore_main \
        "$prog" -c "$conf" --busy-poll --no-tap --rx-delay-ms $((delay * 1000)) 2>"$work/dp.log" &
    local p=$!
    pids="$pids $p"
    for _ in $(seq 600); do "$CTL" -s "$work/dp.sock" hello >/dev/null 2>&1 && break; sleep 0.2; done
    t0=$SECONDS
    "$CTL" -s "$work/dp.sock" fill count="$n" >/dev/null
    [ $((SECONDS - t0)) -lt "$delay" ] || echo "  (warning: the fill took longer than the start delay; punts counted)" >&2
    sleep $((delay - (SECONDS - t0) + secs))
    kill -INT $p 2>/dev/null || true
    wait $p 2>/dev/null || true
    pk=$(awk -v k="$key" '$2==k {print $3}' "$work/dp.log" | tail -1)
    read -r tot pmd own < <(split_ir "$out" "$(basename "$prog")")
    echo "$tot ${pk:-0} $pmd $own"
}

echo "instructions per packet under callgrind (independent of machine load), forwarding thread only;"
echo "baseline: dpdk-testpmd --forward-mode=io on the same vdevs (pcap infinite_rx -> null), burst 32"
echo "  pmd = instructions in the PMDs and DPDK/C libraries (testpmd pays the same work), own = pshim6's code"
echo "  ratio = testpmd instructions per packet / the dataplane's: what bench-fastpath.sh's Mpps ratio"
echo "  would be if every instruction cost the same"
echo "  floor_own = own instructions of bench_dp_floor (the same program, nodes that only forward):"
echo "  own - floor_own is the nodes' work"
printf '%-8s %-9s %10s %9s %9s %12s %7s %10s\n' mix contexts dp_ir/pkt pmd own testpmd_ir ratio floor_own
for n in $sizes; do
    for mode in ${MODES:-egress ingress}; do
        size=128; [ $mode = ingress ] && size=136
        /usr/bin/python3 "$top/tests/dataplane/gen_pcap.py" $mode "$n" 4096 $size "$work/$mode.pcap"
        read -r ttot tpk _ _ < <(testpmd_ir "$work/$mode.pcap")
        read -r dtot dpk dpmd down < <(dp_ir $mode "$work/$mode.pcap" "$n")
        fpk=0 fown=0
        if [ -x "$FLOOR" ]; then read -r _ fpk _ fown < <(dp_ir $mode "$work/$mode.pcap" "$n" "$FLOOR") || true; fi
        awk -v tt="$ttot" -v tp="$tpk" -v dt="$dtot" -v dp="$dpk" -v pm="$dpmd" -v ow="$down" -v m=$mode -v n="$n" \
            -v fp="$fpk" -v fo="$fown" 'BEGIN {
            if (tp <= 0 || dp <= 0) { printf "%-8s %-9s no packets counted (testpmd %d, dataplane %d)\n", m, n, tp, dp; exit }
            fl = fp > 0 ? sprintf("%.1f", fo/fp) : "-"
            printf "%-8s %-9s %10.1f %9.1f %9.1f %12.1f %7.2f %10s\n", m, n, dt/dp, pm/dp, ow/dp, tt/tp, (tt/tp)/(dt/dp), fl }'
    done
done
