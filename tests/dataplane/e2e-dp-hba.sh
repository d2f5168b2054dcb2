#!/bin/bash
# pshim6-dataplane with site.mode = "hba": own-site mapping through the HBA
# host table, not a prefix swap.  Site 1 (HBA, two ISPs) and site 2 (CGA)
# on veth (net_af_packet) joined by a core router that filters on source
# prefix per ISP link; a legacy server (no Shim6) behind the core.
# Host h1's HBA set is installed with pshim6-dpctl host-add; its locators
# share nothing after the prefix with its CMULA.  Pass:
#  - the config's HBA host and the dpctl one are both in the table (dump,
#    host_entries); a second add of the same CMULA is refused;
#  - NATv6 to 8 server addresses: each TCP echo returns the sha256 sent, the
#    server sees h1 as its HBA locator of the ISP the packets took (both ISPs
#    used), never as a prefix swap of the CMULA;
#  - an ICMPv6 Time Exceeded about a translated packet reaches h1 translated;
#  - Shim6 between h1 and h2 with HBA locators, locator pair moved from ISP x
#    to ISP y mid-transfer: same sha256, payload headers with the installed tag
#    from loc0 on ISP x and loc1 on ISP y;
#  - a CMULA not in the table (egress) and the prefix-swap address of h1
#    (ingress) are dropped and counted, nothing reaches the other side;
#  - after host-del, h1's traffic is dropped too.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/dp.sh"
dp_init dpmh

# h1 - p1 (site 1, HBA, ISPs x y) - core - p2 (site 2, CGA, ISPs x y) - h2,
# and the legacy server srv on the core
for n in h1 p1 core p2 h2 srv; do ns_add $n; done
dp_site_links 1 x y
dp_site_links 2 x y
ns_link srv eth0 core cs

ns_exec core sysctl -qw net.ipv6.conf.all.forwarding=1
dp_core_isp c1x 10
dp_core_isp c1y 20
dp_core_isp c2x 30
dp_core_isp c2y 40
ns_exec core ip -6 addr add 2001:db8:99::fffe/64 dev cs
dp_core_filter c1x:10 c1y:20 c2x:30 c2y:40
# the legacy server: eight addresses with unrelated interface identifiers, so
# h1's peers spread over both ISPs (peers differing only in the last octets do
# not: the ISP choice hardly depends on them)
SRV="2001:db8:99:0:f2a7:4de4:52e6:b438 2001:db8:99:0:6513:270e:269e:d37 2001:db8:99:0:c5c:7fd0:a6a3:a450
     2001:db8:99:0:d23f:824:128b:2f33 2001:db8:99:0:1818:e811:892f:902b 2001:db8:99:0:9531:985d:5d9d:c9f8
     2001:db8:99:0:e8e2:5d94:ed9:475 2001:db8:99:0:36f6:75cc:81e7:4ef5"
SRV1=2001:db8:99:0:f2a7:4de4:52e6:b438
for a in $SRV; do ns_exec srv ip -6 addr add $a/64 dev eth0 nodad; done
ns_exec srv ip -6 route add default via 2001:db8:99::fffe dev eth0

dp_host h1 fd00:1:1:1::11 fd00:1:1:ffff::1 src fd00:1:1:1::11
ns_exec h1 ip -6 addr add fd00:1:1:1::99/64 dev eth0 nodad   # a CMULA with no HBA set
dp_host h2 fd00:2:2:1::22 fd00:2:2:ffff::1

# h1's HBA set: nothing after the /64 is the CMULA's (a prefix swap would give ...::11)
LOC0=2001:db8:10:1:a1b2:c3d4:e5f6:1
LOC1=2001:db8:20:1:9988:7766:5544:2
SWAP0=2001:db8:10:1::11
mkconf() { # site n, mode, cmula /64, isp prefixes a b, lcore, hosts section
    cat > "$work/s$1.conf" <<EOF
site = { name = "site$1"; cmula_prefixes = [ "$3::/64" ]; key_file = "/nonexistent"; mode = "$2"; };
inside = { port = "net_af_packet0,iface=p$1-in"; name = "dpmh$1-in"; mtu = 1500;
  address = "${3%:*}:ffff::1/64"; next_hop = "$3::$1$1"; };
isps = (
  { name = "x"; pa_prefix = "2001:db8:$4:1::/64"; port = "net_af_packet1,iface=p$1-x";
    address = "2001:db8:$4:ffff::2/64"; next_hop = "2001:db8:$4:ffff::1"; mtu = 1500; weight = 1; },
  { name = "y"; pa_prefix = "2001:db8:$5:1::/64"; port = "net_af_packet2,iface=p$1-y";
    address = "2001:db8:$5:ffff::2/64"; next_hop = "2001:db8:$5:ffff::1"; mtu = 1500; weight = 1; }
);
engine = { max_contexts = 64; };
dataplane = { channel = "$work/s$1.sock"; max_contexts = 64; hba_hosts = 16; punt_queue = 64;
  idle_polls = 100; idle_sleep_us = 200;
  eal_args = [ "--file-prefix=dpmh-$1-$$", "--huge-unlink", "--no-pci", "-l", "$6", "-m", "128", "--log-level=lib.eal:error" ]; };
$7
EOF
}
mkconf 1 hba fd00:1:1:1 10 20 0 'hosts = ( { name = "h3"; cmula = "fd00:1:1:1::33"; hba = [ "2001:db8:10:1:3333::3", "2001:db8:20:1:4444::4" ]; } );'
mkconf 2 cga fd00:2:2:1 30 40 1 ""
dp_start p1 "$work/s1.conf" "$work/dp1.log" --no-tap
dp_start p2 "$work/s2.conf" "$work/dp2.log" --no-tap
dp_wait "$work/s1.sock" "$work/dp1.log"
dp_wait "$work/s2.sock" "$work/dp2.log"
DP_SOCK=$work/s1.sock   # C and cnt: site 1
C2() { "$CTL" -s "$work/s2.sock" "$@"; }

# ---- the host table
C host-add cmula=fd00:1:1:1::11 loc0=$LOC0 loc1=$LOC1
C host-add cmula=fd00:1:1:1::11 loc0=2001:db8:10:1::1:2 loc1=2001:db8:20:1::1:2 2>/dev/null && bad "second host-add of a CMULA accepted"
C dump what=hosts > "$work/hosts"
cat "$work/hosts"
grep -qx "host cmula=fd00:1:1:1::11 loc0=$LOC0 loc1=$LOC1" "$work/hosts" || bad "dpctl host not in dump"
grep -qx "host cmula=fd00:1:1:1::33 loc0=2001:db8:10:1:3333::3 loc1=2001:db8:20:1:4444::4" "$work/hosts" ||
    bad "config host not in dump with its locators in ISP order"
[ "$(cnt host_entries)" = 2 ] || bad "host_entries $(cnt host_entries), want 2"

# captures on the core's links to site 1
ns_bg core tcpdump -q -n -U -i c1x -w "$work/c1x.pcap" ip6 2>/dev/null; tdx=$!
ns_bg core tcpdump -q -n -U -i c1y -w "$work/c1y.pcap" ip6 2>/dev/null; tdy=$!
sleep 1

# ---- NATv6 through the host table
ns_wait_for 15 ns_exec h1 ping -6 -c1 -W1 $SRV1 || { bad "no ping through NATv6"; C counters; exit 1; }
head -c $((1024 * 1024)) /dev/urandom > "$work/small"
want_s=$(sha256sum < "$work/small" | cut -d' ' -f1)
cat > "$work/echo_srv.py" <<'EOF'
import hashlib, socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 5001)); s.listen(8); s.settimeout(60)
log = open(sys.argv[1], "a")
open(sys.argv[1] + ".ready", "w").close()
for _ in range(int(sys.argv[2])):
    c, peer = s.accept(); c.settimeout(30)
    buf = bytearray()
    while True:
        b = c.recv(65536)
        if not b: break
        buf += b
    local = c.getsockname()[0]
    c.sendall(buf); c.close()
    log.write("%s %s %s %d\n" % (local, peer[0], hashlib.sha256(buf).hexdigest(), len(buf)))
    log.flush()
EOF
cat > "$work/echo_cli.py" <<'EOF'
import hashlib, socket, sys
data = open(sys.argv[2], "rb").read()
s = socket.create_connection((sys.argv[1], 5001), timeout=30)
s.sendall(data); s.shutdown(socket.SHUT_WR)
h = hashlib.sha256(); n = 0
while True:
    b = s.recv(65536)
    if not b: break
    h.update(b); n += len(b)
print(h.hexdigest(), n)
EOF
ns_bg srv $PY "$work/echo_srv.py" "$work/srvlog" 8; esrv=$!
dp_ready "$work/srvlog"
nat_ok=0
for a in $SRV; do
    got=$(ns_exec h1 timeout 15 $PY "$work/echo_cli.py" $a "$work/small" 2>&1 | cut -d' ' -f1) || true
    [ "$got" = "$want_s" ] && nat_ok=$((nat_ok + 1)) || echo "echo to $a: $got"
done
# the server logs a connection after closing it, and ends after the eighth
# (or 60 s without one)
wait $esrv || echo "echo server: exit $?"
cat "$work/srvlog" 2>/dev/null || true
[ $nat_ok = 8 ] || bad "NATv6 echo: $nat_ok of 8 returned the sha256 sent"
[ "$(awk -v s="$want_s" '$3 == s' "$work/srvlog" | wc -l)" = 8 ] || bad "server did not receive 8 intact streams"
peers=$(awk '{print $2}' "$work/srvlog" | sort | uniq -c | awk '{printf "%s(%d) ", $2, $1}')
n0=$(awk -v a=$LOC0 '$2 == a' "$work/srvlog" | wc -l)
n1=$(awk -v a=$LOC1 '$2 == a' "$work/srvlog" | wc -l)
[ $((n0 + n1)) = 8 ] || bad "server saw h1 as $peers, not only as its HBA locators"
[ $n0 -gt 0 ] && [ $n1 -gt 0 ] || bad "NATv6 used one ISP only ($peers)"

# ---- ICMPv6 error about a translated packet: Time Exceeded from the core
ns_exec h1 ping -6 -c1 -W2 -t1 $SRV1 > "$work/ttl" 2>&1 || true
grep -q "Time exceeded" "$work/ttl" || { cat "$work/ttl"; bad "h1 did not get the translated Time Exceeded"; }
[ "$(cnt icmp_translated)" -ge 1 ] || bad "icmp_translated $(cnt icmp_translated)"

# ---- Shim6 with HBA locators: contexts on both proxies, pair moved mid-transfer
T1=0x1a2b3c4d5e6f
T2=0x0f0e0d0c0b0a
C add lulid=fd00:1:1:1::11 rulid=fd00:2:2:1::22 lloc=$LOC0 rloc=2001:db8:30:1::22 ptag=$T2 otag=$T1 isp=0
C2 add lulid=fd00:2:2:1::22 rulid=fd00:1:1:1::11 lloc=2001:db8:30:1::22 rloc=$LOC0 ptag=$T1 otag=$T2 isp=0
ns_wait_for 15 ns_exec h1 ping -6 -c1 -W1 fd00:2:2:1::22 || bad "no ping through Shim6"
head -c $((8 * 1024 * 1024)) /dev/urandom > "$work/data"
want=$(sha256sum < "$work/data" | cut -d' ' -f1)
dp_write_sha_server "$work/srv.py"
dp_write_paced_client "$work/cli.py"
ns_bg h2 $PY "$work/srv.py" 5002 "$work/got"
dp_ready "$work/got"
ns_exec h1 $PY "$work/cli.py" fd00:2:2:1::22 5002 "$work/data" 3 128 > "$work/elapsed" &
cli=$!
sleep 1.5
C mod otag=$T1 lloc=$LOC1 rloc=2001:db8:40:1::22 isp=1
C2 mod otag=$T2 lloc=2001:db8:40:1::22 rloc=$LOC1 isp=1
wait $cli || bad "Shim6 transfer client failed"
for i in $(seq 50); do [ -s "$work/got" ] && break; sleep 0.2; done
got=$(cut -d' ' -f1 "$work/got" 2>/dev/null || echo none)
gpeer=$(cut -d' ' -f3 "$work/got" 2>/dev/null || echo none)
[ "$got" = "$want" ] || bad "Shim6 sha256 $got != $want"
[ "$gpeer" = fd00:1:1:1::11 ] || bad "h2 saw the peer as $gpeer, not h1's CMULA"

# ---- a CMULA without an HBA set (egress) and a prefix-swap address (ingress)
# udp.py listen PORT CAP OUT: OUT.ready once bound; the number of datagrams
# received goes to OUT at SIGTERM (or after CAP s), once the socket is empty.
# udp.py send SRC|- DST PORT COUNT
cat > "$work/udp.py" <<'EOF'
import signal, socket, sys, time
if sys.argv[1] == "listen":
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::", int(sys.argv[2]))); s.settimeout(0.2)
    n = 0; end = time.time() + float(sys.argv[3]); stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    open(sys.argv[4] + ".ready", "w").close()
    while True:
        try: s.recv(2048); n += 1
        except socket.timeout:
            if stop or time.time() >= end: break
    open(sys.argv[4], "w").write("%d\n" % n)
else:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    if sys.argv[2] != "-": s.bind((sys.argv[2], 0))
    for i in range(int(sys.argv[5])):
        s.sendto(b"x" * 100, (sys.argv[3], int(sys.argv[4]))); time.sleep(0.01)
EOF
nat0=$(cnt natv6_out); natin0=$(cnt natv6_in); nr0=$(cnt drop_no_route)
ns_bg srv $PY "$work/udp.py" listen 5003 60 "$work/udp_srv"; lsrv=$!
ns_bg h1 $PY "$work/udp.py" listen 5004 60 "$work/udp_h1"; lh1=$!
# "0 received" means something only if the listeners were there before the
# first datagram and after the last
dp_ready "$work/udp_srv" "$work/udp_h1"
ns_exec h1 $PY "$work/udp.py" send fd00:1:1:1::99 $SRV1 5003 20
ns_exec srv $PY "$work/udp.py" send - $SWAP0 5004 20
ns_exec srv $PY "$work/udp.py" send - 2001:db8:20:1::11 5004 20
sleep 1   # for a datagram wrongly let through, still on its way
kill $lsrv $lh1 2>/dev/null || true
wait $lsrv $lh1 || true
nat1=$(cnt natv6_out); natin1=$(cnt natv6_in); nr1=$(cnt drop_no_route)
unk_drop=$((nr1 - nr0))
[ "$(cat "$work/udp_srv")" = 0 ] || bad "server received $(cat "$work/udp_srv") datagrams from a CMULA not in the table"
[ "$(cat "$work/udp_h1")" = 0 ] || bad "h1 received $(cat "$work/udp_h1") datagrams sent to a prefix-swap address"
[ $((nat1 - nat0)) = 0 ] && [ $((natin1 - natin0)) = 0 ] || bad "unknown HBA addresses translated (nat_out +$((nat1 - nat0)), nat_in +$((natin1 - natin0)))"
[ $unk_drop -ge 60 ] || bad "drop_no_route rose by $unk_drop, want >= 60"

# ---- host-del: h1 loses NATv6
C host-del cmula=fd00:1:1:1::11
[ "$(cnt host_entries)" = 1 ] || bad "host_entries $(cnt host_entries) after host-del, want 1"
ns_exec h1 ping -6 -c2 -i0.3 -W1 $SRV1 >/dev/null 2>&1 && bad "ping through NATv6 after host-del"
C counters > "$work/c1"
sleep 0.5
kill $tdx $tdy 2>/dev/null || true
sleep 0.5

# wire view: which site-1 sources appeared on each ISP link
srcs() { tsh -r "$1" -T fields -E occurrence=f -e ipv6.src | grep "^2001:db8:$2:1:" | sort -u | tr '\n' ' '; }
sx=$(srcs "$work/c1x.pcap" 10); sy=$(srcs "$work/c1y.pcap" 20)
[ "$sx" = "$LOC0 " ] || bad "sources on ISP x link: $sx (want only $LOC0)"
[ "$sy" = "$LOC1 " ] || bad "sources on ISP y link: $sy (want only $LOC1)"
tags() { tsh -r "$1" -V -Y "shim6 && ipv6.src == $2" | grep -o 'Receiver Context Tag: [0-9a-f ]*' |
         cut -d: -f2 | tr -d ' ' | sort -u | tr '\n' ' '; }
shx=$(tsh -r "$work/c1x.pcap" -Y "shim6 && ipv6.src == $LOC0" | wc -l)
shy=$(tsh -r "$work/c1y.pcap" -Y "shim6 && ipv6.src == $LOC1" | wc -l)
[ "$shx" -gt 50 ] && [ "$shy" -gt 50 ] || bad "shim6 packets from HBA locators: ISP x $shx, ISP y $shy"
[ "$(tags "$work/c1x.pcap" $LOC0)" = "0f0e0d0c0b0a " ] && [ "$(tags "$work/c1y.pcap" $LOC1)" = "0f0e0d0c0b0a " ] ||
    bad "payload-header tags: x '$(tags "$work/c1x.pcap" $LOC0)' y '$(tags "$work/c1y.pcap" $LOC1)'"
echo "site1 counters:"; grep -v ' 0$' "$work/c1"
k() { awk -v k="$1" '$1 == k {print $2}' "$work/c1"; }
result "HBA: hosts 2 (config+dpctl); NATv6 echo $nat_ok/8 sha256 ok, server saw loc0 x$n0 loc1 x$n1;" \
    "Time Exceeded translated $(grep -c 'Time exceeded' "$work/ttl");" \
    "Shim6 sha256 $([ "$got" = "$want" ] && echo match || echo MISMATCH) over 8 MiB, shim6 pkts loc0/x $shx loc1/y $shy;" \
    "unknown CMULA/PA: 60 sent, drop_no_route +$unk_drop (counts any other unroutable frame too; nat +$((nat1 - nat0))/+$((natin1 - natin0)));" \
    "egress_shim6 $(k egress_shim6) natv6_out $(k natv6_out) natv6_in $(k natv6_in); filter $filter; $(( $(date +%s) - t0 ))s"
exit $fail
