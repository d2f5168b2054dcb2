#!/bin/bash
# Benchmark: DHCPv6 leases per second (Solicit/Advertise/Request/Reply done)
# that kea-dhcp6 hands out, measured by perfdhcp, in one run for:
#   baseline  Kea alone (no hook)
#   sec0      Kea with libdhcp_pshim6.so, CGA, Sec 0
#   sec1      Kea with libdhcp_pshim6.so, CGA, Sec 1 (~2^16 SHA-1 per address)
# Each is measured RUNS times (default 3) for PERIOD seconds (default 8) at an
# offered rate of RATE exchanges/s (default 3000; RATE_SEC1, default 20, for
# Sec 1: offered far above its capacity, Solicits queue past perfdhcp's 1 s
# drop time and almost no exchange completes, which measures the overload, not
# the capacity); prints medians and ratios to the baseline.  Same Kea config otherwise (multi-threaded, 2 threads, memfile).
# Needs root.  BUILD points at the build dir (default: $top/build).
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
HOOK=$BUILD/dhcp-hook/libdhcp_pshim6.so
RUNS=${RUNS:-3}
PERIOD=${PERIOD:-8}
RATE=${RATE:-3000}
RATE_SEC1=${RATE_SEC1:-20}
. "$top/tests/lib/netns.sh"
[ -e "$HOOK" ] || { echo "missing $HOOK"; exit 1; }

tmp=$(mktemp -d /tmp/pshim6-bench-kea.XXXXXX)
ns_init keab
trap 'rc=$?; set +e; ns_cleanup; rm -rf "$tmp"; (exit $rc)' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
ns_add srv
ns_add cli
ns_link srv ks0 cli kc0
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl pkey -pubout -out "$tmp/site.pub"

kea_conf() { # CONFIG-NAME
    local hooks='[]'
    case $1 in
    sec0|sec1) hooks="[ { \"library\": \"$HOOK\", \"parameters\": { \"public-key-file\": \"$tmp/site.pub\",
                 \"sec\": ${1#sec}, \"mode\": \"cga\", \"cmula-prefix\": \"fd00:1::/64\" } } ]" ;;
    esac
    cat >"$tmp/kea.json" <<EOF
{ "Dhcp6": {
  "interfaces-config": { "interfaces": [ "ks0" ] },
  "server-id": { "type": "LLT", "persist": false },
  "lease-database": { "type": "memfile", "persist": true, "name": "$tmp/leases6-$1.csv", "lfc-interval": 0 },
  "multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 64 },
  "preferred-lifetime": 3000, "valid-lifetime": 4000,
  "subnet6": [ { "id": 1, "subnet": "fd00:1::/64", "interface": "ks0",
                 "pools": [ { "pool": "fd00:1::/64" } ] } ],
  "hooks-libraries": $hooks,
  "loggers": [ { "name": "kea-dhcp6", "severity": "WARN",
                 "output_options": [ { "output": "$tmp/kea-$1.log" } ] } ]
} }
EOF
}

measure() { # CONFIG-NAME -> leases/s of one run
    kea_conf "$1"
    rm -f "$tmp/leases6-$1.csv"
    ip netns exec keab-srv env KEA_LOCKFILE_DIR=none KEA_PIDFILE_DIR="$tmp" kea-dhcp6 -c "$tmp/kea.json" \
        >/dev/null 2>&1 &
    local pid=$!
    NS_PIDS="$NS_PIDS $pid"
    sleep 1.5
    local rate=$RATE
    [ "$1" = sec1 ] && rate=$RATE_SEC1
    ip netns exec keab-cli perfdhcp -6 -l kc0 -R 1000000 -r "$rate" -p "$PERIOD" >"$tmp/perf.out" 2>&1 || true
    kill "$pid"; wait "$pid" 2>/dev/null || true
    # Second "received packets" line is the Request/Reply exchange.
    local replies
    replies=$(grep 'received packets' "$tmp/perf.out" | sed -n 2p | awk '{print $3}')
    awk -v n="${replies:-0}" -v p="$PERIOD" 'BEGIN { printf "%.1f", n / p }'
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

declare -A med
for cfg in baseline sec0 sec1; do
    vals=""
    for i in $(seq "$RUNS"); do vals="$vals $(measure $cfg)"; done
    med[$cfg]=$(echo "$vals" | median)
    echo "$cfg: leases/s per run:$vals  median ${med[$cfg]}"
done
r0=$(awk -v a="${med[sec0]}" -v b="${med[baseline]}" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
r1=$(awk -v a="${med[sec1]}" -v b="${med[baseline]}" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
echo "RESULT: perfdhcp leases/s (median of $RUNS x ${PERIOD}s, offered $RATE/s, Sec 1 $RATE_SEC1/s): no hook ${med[baseline]}, hook Sec 0 ${med[sec0]} (ratio $r0), hook Sec 1 ${med[sec1]} (ratio $r1)"
