#!/bin/bash
# Mass relocation: how fast the dataplane applies locator changes for many
# contexts at once (what happens when an ISP fails under a loaded site),
# with the lcore polling (RCU readers online).  Baseline in the same run:
# installing the same contexts (CTX_ADD through the same channel).
#   tests/dataplane/bench-relocate.sh [CONTEXTS] [ROUNDS]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
DP=$BUILD/dataplane/pshim6-dataplane
CTL=$BUILD/dataplane/pshim6-dpctl
n=${1:-100000}
rounds=${2:-5}
LCORE=${LCORE:-1}
work=$(mktemp -d /tmp/dp-reloc.XXXXXX)
dpid=""
trap 'set +e; [ -n "$dpid" ] && kill $dpid 2>/dev/null; sleep 0.3; rm -rf "$work" /var/run/dpdk/dpr-$$' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 1024 ] || echo 1024 > /proc/sys/vm/nr_hugepages
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

cat > "$work/dp.conf" <<CONF
site = { name = "bench"; cmula_prefixes = [ "fd00:1:1:1::/64" ]; key_file = "/nonexistent"; mode = "cga"; };
inside = { port = "net_null0"; name = "rin"; mtu = 1500; address = "fd00:1:1:ffff::1/64";
  next_hop = "fd00:1:1:ffff::2"; next_hop_mac = "02:00:00:00:00:09"; };
isps = ( { name = "x"; pa_prefix = "2001:db8:10:1::/64"; port = "net_null1"; address = "2001:db8:10:ffff::2/64";
  next_hop = "2001:db8:10:ffff::1"; next_hop_mac = "02:00:00:00:00:0a"; mtu = 1500; weight = 1; },
  { name = "y"; pa_prefix = "2001:db8:20:1::/64"; port = "net_null2"; address = "2001:db8:20:ffff::2/64";
  next_hop = "2001:db8:20:ffff::1"; next_hop_mac = "02:00:00:00:00:0b"; mtu = 1500; weight = 1; } );
engine = { max_contexts = $n; };
dataplane = { channel = "$work/dp.sock"; max_contexts = $n; hba_hosts = 16; punt_queue = 1024;
  eal_args = [ "--file-prefix=dpr-$$", "--huge-unlink", "--no-pci", "-l", "$LCORE", "--log-level=lib.eal:error" ]; };
CONF
"$DP" -c "$work/dp.conf" --busy-poll --no-tap 2>"$work/dp.log" &
dpid=$!
for i in $(seq 100); do "$CTL" -s "$work/dp.sock" hello >/dev/null 2>&1 && break; sleep 0.2; done
adds="" moves=""
for r in $(seq "$rounds"); do
    # baseline: install n contexts
    t0=$(date +%s%N)
    "$CTL" -s "$work/dp.sock" fill count=$n >/dev/null
    t1=$(date +%s%N)
    adds="$adds $(( n * 1000000000 / (t1 - t0) ))"
    for isp in 1 0; do
        moves="$moves $("$CTL" -s "$work/dp.sock" move count=$n isp=$isp | sed -n 's/.*(\([0-9]*\) per second).*/\1/p')"
    done
    # a fresh dataplane for the next round's installs
    kill -INT $dpid; wait $dpid 2>/dev/null || true
    "$DP" -c "$work/dp.conf" --busy-poll --no-tap 2>"$work/dp.log" &
    dpid=$!
    for i in $(seq 100); do "$CTL" -s "$work/dp.sock" hello >/dev/null 2>&1 && break; sleep 0.2; done
done
a=$(echo $adds | tr ' ' '\n' | median)
m=$(echo $moves | tr ' ' '\n' | median)
echo "contexts $n, $rounds rounds, one polling lcore (RCU reader online)"
printf '%-28s %14s\n' operation "per second"
printf '%-28s %14s\n' "install (CTX_ADD, baseline)" "$a"
printf '%-28s %14s\n' "relocate (CTX_MOD locators)" "$m"
awk -v a="$a" -v m="$m" 'BEGIN {printf "ratio relocate/install %.2f; %d contexts relocated in %.0f ms (median)\n", m / a, '"$n"', '"$n"' * 1000 / m}'
