#!/bin/bash
# A next-hop router changes its MAC under a running TCP transfer, twice:
#   1. silently (the Linux default): pshim6-dataplane's unicast probes to the
#      old MAC go unanswered, it solicits by multicast and learns the new one;
#   2. announcing it (ndisc_notify=1: an unsolicited Override advertisement):
#      the dataplane follows at once.
# h1 (inside, a CMULA) sends 32 MiB over NATv6 through ISP x to a server
# behind the router `core`; nd_reachable_ms is 2000 so the probe cycle fits
# in the test.  Pass:
#  - the same sha256 at both ends;
#  - counters: nd_probes > 0, nd_unreachable >= 1, nd_mac_changed >= 2;
#  - tshark on the router's link sees unicast solicitations addressed to the
#    router's MAC and the dataplane's frames going to each new MAC;
#  - the stall after the silent change is bounded (< 9.5 s, TCP backoff included; the announced one follows at +11 s) and the announced
#    change costs less than 2 s.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
DP=$BUILD/dataplane/pshim6-dataplane
CTL=$BUILD/dataplane/pshim6-dpctl
PY=/usr/bin/python3
. "$top/tests/lib/netns.sh"
ns_init dpnd
[ -x "$DP" ] || { echo "no $DP (DPDK not built?)"; exit 1; }
work=$(mktemp -d /tmp/dpnd.XXXXXX)
trap 'rc=$?; set +e; ns_cleanup; rm -rf "$work" /var/run/dpdk/dpnd-$$; (exit $rc)' EXIT INT TERM
t0=$(date +%s)
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 256 ] || echo 512 > /proc/sys/vm/nr_hugepages

MAC0=02:00:00:00:0c:01 MAC1=02:00:00:00:0c:02 MAC2=02:00:00:00:0c:03
for n in h1 p1 core; do ns_add $n; done
ns_link h1 eth0 p1 p1-in
ns_link p1 p1-x core c1x
for i in p1-in p1-x; do ns_exec p1 sysctl -qw net.ipv6.conf.$i.disable_ipv6=1; done
ns_exec core ip link set dev c1x address $MAC0
ns_exec core sysctl -qw net.ipv6.conf.c1x.ndisc_notify=0
ns_exec core ip -6 addr add 2001:db8:10:ffff::1/64 dev c1x nodad
ns_exec core ip -6 addr add 2001:db8:99::1/128 dev lo
ns_exec core ip -6 route add 2001:db8:10:1::/64 via 2001:db8:10:ffff::2 dev c1x
ns_exec h1 ip -6 addr add fd00:1:1:1::11/64 dev eth0 nodad
ns_exec h1 ip -6 route add fd00:1:1:ffff::1 dev eth0
ns_exec h1 ip -6 route add default via fd00:1:1:ffff::1 dev eth0

cat > "$work/dp.conf" <<EOF
site = { name = "nd"; cmula_prefixes = [ "fd00:1:1:1::/64" ]; key_file = "/nonexistent"; mode = "cga"; };
inside = { port = "net_af_packet0,iface=p1-in"; name = "dpnd-in"; mtu = 1500;
  address = "fd00:1:1:ffff::1/64"; next_hop = "fd00:1:1:1::11"; };
isps = ( { name = "x"; pa_prefix = "2001:db8:10:1::/64"; port = "net_af_packet1,iface=p1-x";
    address = "2001:db8:10:ffff::2/64"; next_hop = "2001:db8:10:ffff::1"; mtu = 1500; weight = 1; } );
engine = { max_contexts = 64; };
dataplane = { channel = "$work/dp.sock"; max_contexts = 64; hba_hosts = 16; punt_queue = 64;
  idle_polls = 100; idle_sleep_us = 200; nd_reachable_ms = 2000;
  eal_args = [ "--file-prefix=dpnd-$$", "--huge-unlink", "--no-pci", "-l", "0", "-m", "128", "--log-level=lib.eal:error" ]; };
EOF
"$DP" -n -c "$work/dp.conf"
ns_bg p1 "$DP" -c "$work/dp.conf" --no-tap 2>"$work/dp.log"
C() { "$CTL" -s "$work/dp.sock" "$@"; }
cnt() { C counters | awk -v k="$1" '$1==k{print $2}'; }
ns_wait_for 20 C hello || { cat "$work/dp.log"; exit 1; }
ns_wait_for 15 ns_exec h1 ping -6 -c1 -W1 2001:db8:99::1 || { echo "no ping through the dataplane"; C counters; exit 1; }
fail=0
bad() { echo "FAIL: $*"; fail=1; }

ns_bg core tcpdump -q -n -U -i c1x -w "$work/c1x.pcap" icmp6 or tcp 2>/dev/null
tdx=$!

head -c $((32 * 1024 * 1024)) /dev/urandom > "$work/data"
want=$(sha256sum < "$work/data" | cut -d' ' -f1)
# the server also records the longest pause between two reads
cat > "$work/srv.py" <<'EOF'
import hashlib, socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 5001)); s.listen(1); s.settimeout(60)
c, _ = s.accept(); c.settimeout(60)
h = hashlib.sha256(); n = 0; last = time.time(); gaps = []
while True:
    b = c.recv(65536)
    now = time.time()
    if not b: break
    if now - last > 0.3: gaps.append((round(last, 2), round(now - last, 2)))
    last = now
    h.update(b); n += len(b)
open(sys.argv[1], "w").write("%s %d %s\n" % (h.hexdigest(), n, " ".join("%s:%s" % g for g in gaps)))
EOF
cat > "$work/cli.py" <<'EOF'
import socket, sys, time
data = open(sys.argv[1], "rb").read()
s = socket.create_connection(("2001:db8:99::1", 5001), timeout=60)
t0 = time.time(); step = 256 * 1024; pace = float(sys.argv[2])
for i in range(0, len(data), step):
    s.sendall(data[i:i + step])
    lag = t0 + pace * (i + step) / len(data) - time.time()
    if lag > 0: time.sleep(lag)
s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
print("%.2f" % (time.time() - t0))
EOF
ns_bg core $PY "$work/srv.py" "$work/got"
sleep 0.5
p0=$(cnt nd_probes); u0=$(cnt nd_unreachable); m0=$(cnt nd_mac_changed)
ns_exec h1 $PY "$work/cli.py" "$work/data" 16 > "$work/elapsed" &
cli=$!
sleep 3
t_silent=$(date +%s.%N)
ns_exec core ip link set dev c1x address $MAC1          # 1: silent
sleep 11
ns_exec core sysctl -qw net.ipv6.conf.c1x.ndisc_notify=1
t_notify=$(date +%s.%N)
ns_exec core ip link set dev c1x address $MAC2          # 2: announced
wait $cli || bad "client failed"
for i in $(seq 100); do [ -s "$work/got" ] && break; sleep 0.2; done
sleep 0.5
kill $tdx 2>/dev/null || true
sleep 0.5
read -r got bytes gaps < <(cat "$work/got" 2>/dev/null || echo "none 0")
probes=$(( $(cnt nd_probes) - p0 )); unr=$(( $(cnt nd_unreachable) - u0 )); chg=$(( $(cnt nd_mac_changed) - m0 ))

[ "$got" = "$want" ] || bad "sha256 $got != $want ($bytes bytes)"
[ "$probes" -gt 0 ] || bad "no unicast probes counted"
[ "$unr" -ge 1 ] || bad "the silent change was never detected (nd_unreachable $unr)"
[ "$chg" -ge 2 ] || bad "nd_mac_changed $chg, want >= 2"
grep -q "next hop unanswered" "$work/dp.log" || bad "no log line for the unanswered next hop"

# on the wire: unicast NS to the router (not its solicited-node group), and
# the data frames following the MAC
ucast=$(tshark -r "$work/c1x.pcap" -Y "icmpv6.type == 135 && ipv6.dst == 2001:db8:10:ffff::1" 2>/dev/null | wc -l)
[ "$ucast" -gt 0 ] || bad "tshark: no unicast solicitation to the router"
for m in $MAC1 $MAC2; do
    n=$(tshark -r "$work/c1x.pcap" -Y "tcp && eth.dst == $m" 2>/dev/null | wc -l)
    [ "$n" -gt 0 ] || bad "tshark: no TCP frames to $m"
done

# the longest pause after each change (receiver clock = this machine's clock)
stall() { # from to -> longest gap starting in [from, to)
    echo "$gaps" | tr ' ' '\n' | awk -F: -v a="$1" -v b="$2" '$1 >= a - 0.5 && $1 < b {if ($2 > m) m = $2} END {printf "%.2f", m + 0}'; }
s1=$(stall "$t_silent" "$t_notify"); s2=$(stall "$t_notify" "$(awk -v t="$t_notify" 'BEGIN {printf "%.2f", t + 30}')")
awk -v s="$s1" 'BEGIN {exit !(s < 9.5)}' || bad "silent change stalled the transfer ${s1}s"
awk -v s="$s2" 'BEGIN {exit !(s < 2)}' || bad "announced change stalled the transfer ${s2}s"

[ $fail = 0 ] || { C counters; tail -5 "$work/dp.log"; exit 1; }
result "32 MiB sha256 match across two next-hop MAC changes; silent change: stall ${s1}s," \
    "nd_probes +$probes nd_unreachable +$unr; announced change: stall ${s2}s; nd_mac_changed +$chg;" \
    "tshark unicast NS to the router $ucast; $(( $(date +%s) - t0 ))s"
