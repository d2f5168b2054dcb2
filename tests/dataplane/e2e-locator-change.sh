#!/bin/bash
# Two pshim6-dataplanes on veth (net_af_packet), two ISPs each, joined by a
# core router that filters on source prefix per ISP link.  Contexts are
# installed through the control channel with pshim6-dpctl; a host behind each
# proxy runs a TCP transfer; mid-transfer the installed locator pair moves
# from ISP x to ISP y on both proxies.  Pass: the same sha256 at both ends,
# shimmed packets seen on both ISP links with the installed tags (tshark),
# next hops resolved by Neighbor Discovery, Packet Too Big honoured.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
DP=$BUILD/dataplane/pshim6-dataplane
CTL=$BUILD/dataplane/pshim6-dpctl
PY=/usr/bin/python3
. "$top/tests/lib/netns.sh"
ns_init dp
[ -x "$DP" ] || { echo "no $DP (DPDK not built?)"; exit 1; }
work=$(mktemp -d /tmp/dp-e2e.XXXXXX)
trap 'rc=$?; set +e; rm -rf "$work" /var/run/dpdk/dp-e2e-[12]-$$; (exit $rc); ns_cleanup' EXIT INT TERM
cur=$(cat /proc/sys/vm/nr_hugepages)
[ "$cur" -ge 256 ] || echo 512 > /proc/sys/vm/nr_hugepages

for n in h1 p1 core p2 h2; do ns_add $n; done
ns_link h1 eth0 p1 p1-in
ns_link p1 p1-x core c1x
ns_link p1 p1-y core c1y
ns_link p2 p2-x core c2x
ns_link p2 p2-y core c2y
ns_link h2 eth0 p2 p2-in
for i in p1-in p1-x p1-y; do ns_exec p1 sysctl -qw net.ipv6.conf.$i.disable_ipv6=1; done
for i in p2-in p2-x p2-y; do ns_exec p2 sysctl -qw net.ipv6.conf.$i.disable_ipv6=1; done

# core router: one link per (site, ISP); ingress filtering by source prefix
ns_exec core sysctl -qw net.ipv6.conf.all.forwarding=1
ns_exec core ip -6 addr add 2001:db8:10:ffff::1/64 dev c1x
ns_exec core ip -6 addr add 2001:db8:20:ffff::1/64 dev c1y
ns_exec core ip -6 addr add 2001:db8:30:ffff::1/64 dev c2x
ns_exec core ip -6 addr add 2001:db8:40:ffff::1/64 dev c2y
ns_exec core ip -6 route add 2001:db8:10:1::/64 via 2001:db8:10:ffff::2 dev c1x
ns_exec core ip -6 route add 2001:db8:20:1::/64 via 2001:db8:20:ffff::2 dev c1y
ns_exec core ip -6 route add 2001:db8:30:1::/64 via 2001:db8:30:ffff::2 dev c2x
ns_exec core ip -6 route add 2001:db8:40:1::/64 via 2001:db8:40:ffff::2 dev c2y
filter=no
if ns_exec core ip6tables -A FORWARD -i c1x ! -s 2001:db8:10:1::/64 -j DROP 2>/dev/null; then
    ns_exec core ip6tables -A FORWARD -i c1y ! -s 2001:db8:20:1::/64 -j DROP
    ns_exec core ip6tables -A FORWARD -i c2x ! -s 2001:db8:30:1::/64 -j DROP
    ns_exec core ip6tables -A FORWARD -i c2y ! -s 2001:db8:40:1::/64 -j DROP
    filter=yes
fi

# hosts: CMULA, default route through the proxy's inside address
ns_exec h1 ip -6 addr add fd00:1:1:1::11/64 dev eth0
ns_exec h1 ip -6 route add fd00:1:1:ffff::1 dev eth0
ns_exec h1 ip -6 route add default via fd00:1:1:ffff::1 dev eth0
ns_exec h2 ip -6 addr add fd00:2:2:1::22/64 dev eth0
ns_exec h2 ip -6 route add fd00:2:2:ffff::1 dev eth0
ns_exec h2 ip -6 route add default via fd00:2:2:ffff::1 dev eth0

mkconf() { # site n, cmula /64, isp prefixes a b, lcore, inside address
    cat > "$work/s$1.conf" <<EOF
site = { name = "site$1"; cmula_prefixes = [ "$2::/64" ]; key_file = "/nonexistent"; mode = "cga"; };
inside = { port = "net_af_packet0,iface=p$1-in"; name = "dp$1-in"; mtu = 1500;
  address = "$6/64"; next_hop = "$2::$1$1"; };
isps = (
  { name = "x"; pa_prefix = "2001:db8:$3:1::/64"; port = "net_af_packet1,iface=p$1-x";
    address = "2001:db8:$3:ffff::2/64"; next_hop = "2001:db8:$3:ffff::1"; mtu = 1500; weight = 1; },
  { name = "y"; pa_prefix = "2001:db8:$4:1::/64"; port = "net_af_packet2,iface=p$1-y";
    address = "2001:db8:$4:ffff::2/64"; next_hop = "2001:db8:$4:ffff::1"; mtu = 1500; weight = 1; }
);
engine = { max_contexts = 1024; };
dataplane = { channel = "$work/s$1.sock"; max_contexts = 1024; hba_hosts = 64; punt_queue = 256;
  idle_polls = 100; idle_sleep_us = 200;
  eal_args = [ "--file-prefix=dp-e2e-$1-$$", "--huge-unlink", "--no-pci", "-l", "$5", "-m", "128", "--log-level=lib.eal:error" ]; };
EOF
}
mkconf 1 fd00:1:1:1 10 20 0 fd00:1:1:ffff::1
mkconf 2 fd00:2:2:1 30 40 1 fd00:2:2:ffff::1
"$DP" -n -c "$work/s1.conf"
"$DP" -n -c "$work/s2.conf"

ns_bg p1 "$DP" -c "$work/s1.conf" --no-tap 2>"$work/dp1.log"
ns_bg p2 "$DP" -c "$work/s2.conf" --no-tap 2>"$work/dp2.log"
ns_wait_for 20 "$CTL" -s "$work/s1.sock" hello || { cat "$work/dp1.log"; exit 1; }
ns_wait_for 20 "$CTL" -s "$work/s2.sock" hello || { cat "$work/dp2.log"; exit 1; }

T1=0x1a2b3c4d5e6f   # site 1's own tag (site 2 puts it in packets to site 1)
T2=0x0f0e0d0c0b0a
"$CTL" -s "$work/s1.sock" add lulid=fd00:1:1:1::11 rulid=fd00:2:2:1::22 \
    lloc=2001:db8:10:1::11 rloc=2001:db8:30:1::22 ptag=$T2 otag=$T1 isp=0
"$CTL" -s "$work/s2.sock" add lulid=fd00:2:2:1::22 rulid=fd00:1:1:1::11 \
    lloc=2001:db8:30:1::22 rloc=2001:db8:10:1::11 ptag=$T1 otag=$T2 isp=0
"$CTL" -s "$work/s1.sock" dump | grep -q "otag=$T1" || { echo "context not in dump"; exit 1; }

# captures on the core's links to site 1
ns_bg core tcpdump -q -n -U -i c1x -w "$work/c1x.pcap" ip6 2>/dev/null
tdx=$!
ns_bg core tcpdump -q -n -U -i c1y -w "$work/c1y.pcap" ip6 2>/dev/null
tdy=$!
sleep 1

# first packets: the proxies resolve their next hops by ND; ping until it goes through
ns_wait_for 15 ns_exec h1 ping -6 -c1 -W1 fd00:2:2:1::22 || {
    echo "no ping through the proxies"; "$CTL" -s "$work/s1.sock" counters; "$CTL" -s "$work/s2.sock" counters; exit 1; }

# the transfer: 24 MiB paced over ~6 s; the locator pair moves after ~2 s
head -c $((24 * 1024 * 1024)) /dev/urandom > "$work/data"
want=$(sha256sum < "$work/data" | cut -d' ' -f1)
cat > "$work/srv.py" <<'EOF'
import hashlib, socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 5001)); s.listen(1); s.settimeout(60)
c, _ = s.accept(); c.settimeout(30)
h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
open(sys.argv[1], "w").write("%s %d\n" % (h.hexdigest(), n))
EOF
cat > "$work/cli.py" <<'EOF'
import socket, sys, time
data = open(sys.argv[1], "rb").read()
s = socket.create_connection(("fd00:2:2:1::22", 5001), timeout=30)
t0 = time.time(); step = 256 * 1024; pace = float(sys.argv[2])
for i in range(0, len(data), step):
    s.sendall(data[i:i + step])
    lag = t0 + pace * (i + step) / len(data) - time.time()
    if lag > 0: time.sleep(lag)
s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
print("%.2f" % (time.time() - t0))
EOF
ns_bg h2 $PY "$work/srv.py" "$work/got"
sleep 0.5
ns_exec h1 $PY "$work/cli.py" "$work/data" 6 > "$work/elapsed" &
cli=$!
sleep 2
"$CTL" -s "$work/s1.sock" mod otag=$T1 lloc=2001:db8:20:1::11 rloc=2001:db8:40:1::22 isp=1
"$CTL" -s "$work/s2.sock" mod otag=$T2 lloc=2001:db8:40:1::22 rloc=2001:db8:20:1::11 isp=1
wait $cli
for i in $(seq 50); do [ -s "$work/got" ] && break; sleep 0.2; done
got=$(cut -d' ' -f1 "$work/got" 2>/dev/null || echo none)
bytes=$(cut -d' ' -f2 "$work/got" 2>/dev/null || echo 0)
"$CTL" -s "$work/s1.sock" dump | grep -q "lloc=2001:db8:20:1::11" || { echo "modify not visible in dump"; exit 1; }
"$CTL" -s "$work/s1.sock" reap $T1 > "$work/reap"
"$CTL" -s "$work/s1.sock" counters > "$work/c1"
"$CTL" -s "$work/s2.sock" counters > "$work/c2"
sleep 0.5
kill $tdx $tdy 2>/dev/null || true
sleep 0.5

cnt() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
# tshark 4.0 prints the payload header's tag as six octets, P bit masked
tags() { tshark -r "$1" -V -Y shim6 2>/dev/null | grep -o 'Receiver Context Tag: [0-9a-f ]*' | cut -d: -f2 | tr -d ' ' |
         sort | uniq -c | sort -rn | head -2 | awk '{printf "0x%s(%d) ", $2, $1}'; }
nx=$(tshark -r "$work/c1x.pcap" -Y shim6 2>/dev/null | wc -l)
ny=$(tshark -r "$work/c1y.pcap" -Y shim6 2>/dev/null | wc -l)
echo "site1 counters:"; cat "$work/c1"
echo "site2 counters:"; cat "$work/c2"
echo "reap: $(cat "$work/reap")"
echo "ISP x link: $nx shim6 packets, tags $(tags "$work/c1x.pcap")"
echo "ISP y link: $ny shim6 packets, tags $(tags "$work/c1y.pcap")"
fail=0
[ "$got" = "$want" ] || { echo "FAIL: sha256 $got != $want ($bytes bytes)"; fail=1; }
[ "$nx" -gt 100 ] && [ "$ny" -gt 100 ] || { echo "FAIL: traffic did not use both ISPs"; fail=1; }
grep -q "found=1" "$work/reap" && ! grep -q "last_sent_ns=0 " "$work/reap" || { echo "FAIL: no REAP stamps"; fail=1; }
for f in c1x c1y; do
    tags "$work/$f.pcap" | grep -q "^0x0f0e0d0c0b0a(" || { echo "FAIL: tshark does not show the installed peer tag on $f"; fail=1; }
done
[ "$(cnt egress_shim6 "$work/c1")" -gt 1000 ] || { echo "FAIL: egress counter"; fail=1; }
result "sha256 $([ "$got" = "$want" ] && echo match || echo MISMATCH) over $bytes bytes in $(cat "$work/elapsed")s;" \
    "locator change mid-transfer; shim6 pkts ISP-x $nx ISP-y $ny; ingress filter $filter;" \
    "PTB sent $(cnt icmp_generated "$work/c1"); punts $(cnt punt "$work/c1")"
exit $fail
