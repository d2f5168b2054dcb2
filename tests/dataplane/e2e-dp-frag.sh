#!/bin/bash
# Fragmented datagrams through two pshim6-dataplanes (net_af_packet on veth,
# one ISP each, contexts installed with pshim6-dpctl).  The hosts fragment
# datagrams larger than the link MTU themselves; the proxies shim each
# fragment on its own.  Pass:
#   - UDP datagrams of 5,000 octets from h1 arrive whole and intact at h2,
#     and fragmented pings get their fragmented replies;
#   - the first fragments, with the 8-octet payload header, no longer fit the
#     ISP link: the proxy answers Packet Too Big and the hosts fragment smaller;
#   - on the ISP link every fragment carries the payload header, placed before
#     the Fragment header as RFC 5533 wants (tshark);
#   - a frame with the payload header after the Fragment header, sent from
#     the core, is dropped and counted in drop_shim6_after_fragment.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/dp.sh"
dp_init dpf

for n in h1 p1 core p2 h2; do ns_add $n; done
dp_site_links 1 x
dp_site_links 2 x
ns_exec core sysctl -qw net.ipv6.conf.all.forwarding=1
dp_core_isp c1x 10
dp_core_isp c2x 30
dp_host h1 fd00:1:1:1::11 fd00:1:1:ffff::1
dp_host h2 fd00:2:2:1::22 fd00:2:2:ffff::1

mkconf() { # site n, CMULA /64, ISP prefix number, lcore, inside address
    cat > "$work/s$1.conf" <<EOF
site = { name = "site$1"; cmula_prefixes = [ "$2::/64" ]; key_file = "/nonexistent"; mode = "cga"; };
inside = { port = "net_af_packet0,iface=p$1-in"; name = "dp$1-in"; mtu = 1500;
  address = "$5/64"; next_hop = "$2::$1$1"; };
isps = (
  { name = "x"; pa_prefix = "2001:db8:$3:1::/64"; port = "net_af_packet1,iface=p$1-x";
    address = "2001:db8:$3:ffff::2/64"; next_hop = "2001:db8:$3:ffff::1"; mtu = 1500; weight = 1; }
);
engine = { max_contexts = 64; };
dataplane = { channel = "$work/s$1.sock"; max_contexts = 64; hba_hosts = 16; punt_queue = 64;
  idle_polls = 100; idle_sleep_us = 200;
  eal_args = [ "--file-prefix=dpf-$1-$$", "--huge-unlink", "--no-pci", "-l", "$4", "-m", "128", "--log-level=lib.eal:error" ]; };
EOF
}
mkconf 1 fd00:1:1:1 10 0 fd00:1:1:ffff::1
mkconf 2 fd00:2:2:1 30 1 fd00:2:2:ffff::1
dp_start p1 "$work/s1.conf" "$work/dp1.log" --no-tap
dp_start p2 "$work/s2.conf" "$work/dp2.log" --no-tap
dp_wait "$work/s1.sock" "$work/dp1.log"
dp_wait "$work/s2.sock" "$work/dp2.log"

T1=0x1a2b3c4d5e6f
T2=0x0f0e0d0c0b0a
"$CTL" -s "$work/s1.sock" add lulid=fd00:1:1:1::11 rulid=fd00:2:2:1::22 \
    lloc=2001:db8:10:1::11 rloc=2001:db8:30:1::22 ptag=$T2 otag=$T1 isp=0
"$CTL" -s "$work/s2.sock" add lulid=fd00:2:2:1::22 rulid=fd00:1:1:1::11 \
    lloc=2001:db8:30:1::22 rloc=2001:db8:10:1::11 ptag=$T1 otag=$T2 isp=0

ns_bg core tcpdump -q -n -U --immediate-mode -s 200 -i c1x -w "$work/c1x.pcap" ip6 2>/dev/null
tdx=$!
sleep 1

# small pings until the proxies have resolved their next hops
ns_wait_for 15 ns_exec h1 ping -6 -c1 -W1 fd00:2:2:1::22 || {
    echo "no ping through the proxies"; "$CTL" -s "$work/s1.sock" counters; exit 1; }

# fragmented pings: 3,000 octets each way.  The first ones may be lost to
# Packet Too Big (a full-size fragment plus the payload header exceeds the
# ISP MTU) until each host has learned the smaller path MTU.
ns_exec h1 ping -6 -c 8 -i 0.3 -W 2 -s 3000 fd00:2:2:1::22 > "$work/ping" 2>&1 || true
prx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$work/ping")
echo "fragmented ping: $(grep -o '[0-9]* packets transmitted.*loss' "$work/ping")"
[ "${prx:-0}" -ge 5 ] || bad "fragmented pings: ${prx:-0} of 8 answered"

# UDP: 200 datagrams of 5,000 octets, each carrying its sequence number and
# the sha256 of the rest; the receiver checks every one it gets
cat > "$work/udp.py" <<'EOF'
import hashlib, os, socket, sys, time
mode = sys.argv[1]
if mode == "recv":
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    # 4 MiB, not the default ~200 KiB (about 20 reassembled datagrams, 0.1 s
    # of the stream): a receiver that waits for the CPU loses nothing.
    # SO_RCVBUFFORCE (33) is not bounded by net.core.rmem_max; we are root
    try:
        s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 4 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    rcvbuf = s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    s.bind(("::", 5002)); s.settimeout(8)
    good = bad = 0; seen = set()
    open(sys.argv[2] + ".ready", "w").close()
    try:
        while True:
            d = s.recv(65535)
            body = d[36:]
            if len(d) == 5000 and hashlib.sha256(body).digest() == d[4:36]:
                good += 1; seen.add(int.from_bytes(d[:4], "big"))
            else:
                bad += 1
            if len(seen) == 200:
                break
    except socket.timeout:
        pass
    open(sys.argv[2], "w").write("%d %d %d %d\n" % (good, bad, len(seen), rcvbuf))
else:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    for i in range(200):
        body = os.urandom(5000 - 36)
        s.sendto(i.to_bytes(4, "big") + hashlib.sha256(body).digest() + body, (sys.argv[2], 5002))
        time.sleep(0.005)
EOF
ns_bg h2 $PY "$work/udp.py" recv "$work/udp.out"
udp=$!
dp_ready "$work/udp.out"
ns_exec h1 $PY "$work/udp.py" send fd00:2:2:1::22
for _ in $(seq 100); do [ -s "$work/udp.out" ] && break; sleep 0.1; done
read -r ugood ubad useen rcvbuf < "$work/udp.out" || { ugood=0; ubad=0; useen=0; rcvbuf="?"; }
echo "UDP: $ugood datagrams of 5000 octets intact ($useen distinct), $ubad damaged (receive buffer $rcvbuf octets)"
# the host learned the path MTU from the pings: nothing should be lost here
[ "$ugood" -ge 198 ] && [ "$ubad" = 0 ] || bad "UDP datagrams: $ugood of 200 intact, $ubad damaged"

# the wrong order, from the core: Fragment header, then a payload header with
# site 1's own tag, to h1's locator
cat > "$work/raw.py" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 44)      # kernel adds the IPv6 header, next header 44
frag = struct.pack("!BBHI", 140, 0, 0x0001, 0x51515151)      # next 140, offset 0, M=1
tag = int(sys.argv[2], 16)
ph = struct.pack("!BB", 17, 0) + (0x800000000000 | tag).to_bytes(6, "big")
s.sendto(frag + ph + bytes(64), (sys.argv[1], 0))
EOF
before=$("$CTL" -s "$work/s1.sock" counters | awk '$1 == "drop_shim6_after_fragment" {print $2}')
for _ in 1 2 3; do ns_exec core $PY "$work/raw.py" 2001:db8:10:1::11 ${T1#0x}; done
sleep 0.5
"$CTL" -s "$work/s1.sock" counters > "$work/c1"
"$CTL" -s "$work/s2.sock" counters > "$work/c2"
kill $tdx 2>/dev/null || true
wait $udp 2>/dev/null || true
sleep 0.5
cntf() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
wrong=$(( $(cntf drop_shim6_after_fragment "$work/c1") - ${before:-0} ))
echo "site1 counters:"; cat "$work/c1"
echo "site2 counters:"; cat "$work/c2"
[ "$wrong" = 3 ] || bad "payload header after a Fragment header: $wrong of 3 counted in drop_shim6_after_fragment"
[ "$(cntf drop_shim6_after_fragment "$work/c2")" = 0 ] || bad "site 2 dropped fragments as out of order"
ptb1=$(cntf icmp_generated "$work/c1")
ptb2=$(cntf icmp_generated "$work/c2")
[ "$ptb1" -ge 1 ] && [ "$ptb2" -ge 1 ] || bad "no Packet Too Big for an oversized shimmed fragment (site1 $ptb1, site2 $ptb2)"

# on the wire between site 1 and the core, each frame as it is (no
# reassembly): shimmed fragments carry the payload header first (IPv6 next
# header 140, its next header 44); the only frames with the Fragment header
# first and a payload header after it are the core's three
tsh -r "$work/c1x.pcap" -o ipv6.defragment:FALSE -T fields -E separator=, \
    -e ipv6.src -e ipv6.nxt -e shim6.nxt -e ipv6.fraghdr.nxt > "$work/order" || true
nfrag=$(awk -F, '$2 == 140 && $3 == 44' "$work/order" | wc -l)
nwrong=$(awk -F, '$2 == 44 && $4 == 140 && $1 != "2001:db8:10:ffff::1"' "$work/order" | wc -l)
ncore=$(awk -F, '$2 == 44 && $4 == 140 && $1 == "2001:db8:10:ffff::1"' "$work/order" | wc -l)
echo "ISP x link: $nfrag fragments with the payload header first; Fragment header first: $nwrong from the proxy, $ncore from the core"
# both ways: 200 datagrams in 4 fragments each, and the pings
[ "$nfrag" -ge 800 ] || bad "payload header before the Fragment header: $nfrag on the wire"
[ "$nwrong" = 0 ] || bad "$nwrong shimmed fragments with the Fragment header first left a proxy"
[ "$ncore" = 3 ] || bad "the capture shows $ncore of the core's 3 wrong-order frames"

result "UDP $ugood/200 datagrams of 5000 octets intact; fragmented ping $prx/8;" \
    "PTB sent site1 $ptb1 site2 $ptb2; $nfrag fragments with payload header first on the wire;" \
    "wrong order dropped $wrong/3"
exit $fail
