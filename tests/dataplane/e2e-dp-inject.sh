#!/bin/bash
# DPMSG_INJECT: control hands pshim6-dataplane an IPv6 packet and a port; the
# dataplane adds Ethernet (port MAC -> next hop MAC) and sends it, or, with
# DPMSG_INJECT_AS_RX, runs it through the fast path as if received on that
# port (how control releases packets held during a handshake).  The client
# here speaks dpmsg on the channel socket itself, packets built by scapy.
# Pass:
#  - next hops resolved by ND (telemetry /pshim6/ports);
#  - raw injects out of ISP x (port 1), ISP y (port 2) and the inside port
#    (port 0): each arrives at the far end's socket with its payload, and the
#    captured frames carry the port's MAC and the next hop's MAC;
#  - AS_RX on the inside port: to a legacy peer -> NATv6 (source becomes the
#    PA address); to a remote CMULA with a context -> payload header with the
#    installed tag, locators on the wire; AS_RX on ISP x to a PA address ->
#    NATv6 in, delivered to the inside host's CMULA;
#  - refused: bad port (ERR_PORT), not IPv6 (ERR_INVAL), unknown flag bits
#    (ERR_INVAL), inject before HELLO (ERR_NOHELLO).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/dp.sh"
dp_init dpmi

# h1 (inside) - p1 (the dataplane, ISPs x and y) - core (both ISPs' router)
for n in h1 p1 core; do ns_add $n; done
dp_site_links 1 x y
dp_core_isp c1x 10
dp_core_isp c1y 20
dp_host h1 fd00:1:1:1::11 fd00:1:1:ffff::1

cat > "$work/dp.conf" <<EOF
site = { name = "inj"; cmula_prefixes = [ "fd00:1:1:1::/64" ]; key_file = "/nonexistent"; mode = "cga"; };
inside = { port = "net_af_packet0,iface=p1-in"; name = "dpmi-in"; mtu = 1500;
  address = "fd00:1:1:ffff::1/64"; next_hop = "fd00:1:1:1::11"; };
isps = (
  { name = "x"; pa_prefix = "2001:db8:10:1::/64"; port = "net_af_packet1,iface=p1-x";
    address = "2001:db8:10:ffff::2/64"; next_hop = "2001:db8:10:ffff::1"; mtu = 1500; weight = 1; },
  { name = "y"; pa_prefix = "2001:db8:20:1::/64"; port = "net_af_packet2,iface=p1-y";
    address = "2001:db8:20:ffff::2/64"; next_hop = "2001:db8:20:ffff::1"; mtu = 1500; weight = 0; }
);
engine = { max_contexts = 64; };
dataplane = { channel = "$work/dp.sock"; max_contexts = 64; hba_hosts = 16; punt_queue = 64;
  idle_polls = 100; idle_sleep_us = 200;
  eal_args = [ "--file-prefix=dpmi-$$", "--huge-unlink", "--no-pci", "-l", "0", "-m", "128", "--log-level=lib.eal:error" ]; };
EOF
dp_start p1 "$work/dp.conf" "$work/dp.log" --no-tap
dp_wait "$work/dp.sock" "$work/dp.log"

# ---- the dpmsg client: per case a fresh connection, HELLO (unless told
# not to), one INJECT; prints "<case> ACK" or "<case> ERROR <name> <text>"
cat > "$work/inj.py" <<'EOF'
import socket, struct, sys
from scapy.all import IPv6, UDP, Raw
ERR = {1: "INVAL", 2: "EXISTS", 3: "NOTFOUND", 4: "FULL", 5: "PORT", 6: "VERSION", 7: "NOHELLO", 8: "INTERNAL"}
def msg(typ, seq, body):
    return struct.pack(">BBHI", 1, typ, 8 + len(body), seq) + body
def reply(s):
    while True:
        b = s.recv(4096)
        v, typ, ln, seq = struct.unpack(">BBHI", b[:8])
        assert v == 1 and ln == len(b), "bad reply header"
        if typ != 30:  # PUNT: not ours
            return typ, seq, b[8:]
def inject(sock, port, flags, hello, pkt):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sock)
    if hello:
        s.send(msg(1, 1, struct.pack(">HHIIHHQ", 1, 3, 0, 0, 0, 0, 0)))
        typ, seq, body = reply(s)
        assert typ == 1 and seq == 1, "no HELLO reply"
    s.send(msg(31, 2, struct.pack(">HH", port, flags) + pkt))
    typ, seq, body = reply(s)
    s.close()
    if seq != 2:
        return "reply for seq %d" % seq
    if typ == 2:
        return "ACK"
    if typ == 3:
        code = struct.unpack(">I", body[:4])[0]
        return "ERROR %s %s" % (ERR.get(code, code), body[4:].rstrip(b"\0").decode())
    return "reply type %d" % typ
# case port flags hello|none udp src dst dport payload   or   case port flags hello|none raw hex
for line in open(sys.argv[2]):
    f = line.split()
    if not f:
        continue
    if f[4] == "udp":
        pkt = bytes(IPv6(src=f[5], dst=f[6], hlim=64) / UDP(sport=40000, dport=int(f[7])) / Raw(f[8].encode()))
    else:
        pkt = bytes.fromhex(f[5])
    print(f[0], inject(sys.argv[1], int(f[1]), int(f[2], 0), f[3] == "hello", pkt), flush=True)
EOF
# listen.py PORT CAP OUT: OUT.ready once bound, then each datagram to OUT
# until SIGTERM (or CAP s) and its socket is empty
cat > "$work/listen.py" <<'EOF'
import signal, socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::", int(sys.argv[1]))); s.settimeout(0.2)
out = open(sys.argv[3], "w"); end = time.time() + float(sys.argv[2])
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
open(sys.argv[3] + ".ready", "w").close()
while True:
    try:
        b, peer = s.recvfrom(2048)
        out.write("%s %s\n" % (peer[0], b.decode(errors="replace"))); out.flush()
    except socket.timeout:
        if stop or time.time() >= end:
            break
EOF

# next hops resolved by ND (the channel thread solicits every second)
tel() { echo "$1" | timeout 10 dpdk-telemetry.py -f "dpmi-$$" 2>/dev/null || true; }
resolved=0
for i in $(seq 15); do
    resolved=$(tel /pshim6/ports | grep -o 'port[0-2]_next_hop_resolved": 1' | wc -l)
    [ "$resolved" = 3 ] && break
    sleep 1
done
[ "$resolved" = 3 ] || { tel /pshim6/ports; bad "telemetry /pshim6/ports: $resolved of 3 next hops resolved"; }

T1=0x111111111111
T2=0x0a0b0c0d0e0f
C add lulid=fd00:1:1:1::11 rulid=fd00:2:2:1::22 lloc=2001:db8:20:1::11 rloc=2001:db8:40:1::22 ptag=$T2 otag=$T1 isp=1

ns_bg core tcpdump -q -n -U -i c1x -w "$work/c1x.pcap" ip6 2>/dev/null; tdx=$!
ns_bg core tcpdump -q -n -U -i c1y -w "$work/c1y.pcap" ip6 2>/dev/null; tdy=$!
ns_bg h1 tcpdump -q -n -U -i eth0 -w "$work/h1.pcap" ip6 2>/dev/null; tdh=$!
ns_bg core $PY "$work/listen.py" 7001 60 "$work/core7001"; lis=($!)
ns_bg core $PY "$work/listen.py" 7003 60 "$work/core7003"; lis+=($!)
ns_bg h1 $PY "$work/listen.py" 7002 60 "$work/h17002"; lis+=($!)
ns_bg h1 $PY "$work/listen.py" 7004 60 "$work/h17004"; lis+=($!)
# no inject before every listener is bound and every capture running
dp_ready "$work/core7001" "$work/core7003" "$work/h17002" "$work/h17004"
pcap_wait "$work/c1x.pcap" "$work/c1y.pcap" "$work/h1.pcap" || bad "tcpdump did not start"
C counters > "$work/c0"

# a 48-octet IPv4 header and payload: long enough, wrong version
ip4=450000300000000040110000010203040506070800000000000000000000000000000000000000000000000000000000
cat > "$work/cases" <<EOF
raw_x   1 0      hello udp 2001:db8:10:ffff::2 2001:db8:10:ffff::1 7001 inject-raw-x
raw_y   2 0      hello udp 2001:db8:20:ffff::2 2001:db8:20:ffff::1 7001 inject-raw-y
raw_in  0 0      hello udp fd00:1:1:ffff::1 fd00:1:1:1::11 7002 inject-raw-inside
rx_nat  0 1      hello udp fd00:1:1:1::11 2001:db8:10:ffff::1 7003 inject-asrx-natv6
rx_shim 0 1      hello udp fd00:1:1:1::11 fd00:2:2:1::22 7005 inject-asrx-shim6
rx_in   1 1      hello udp 2001:db8:99::1 2001:db8:10:1::11 7004 inject-asrx-ingress
e_port  9 0      hello udp fd00:1:1:ffff::1 fd00:1:1:1::11 7002 bad-port
e_ip4   1 0      hello raw $ip4
e_flag  1 0x8000 hello udp 2001:db8:10:ffff::2 2001:db8:10:ffff::1 7001 bad-flag
e_hello 1 0      none  udp 2001:db8:10:ffff::2 2001:db8:10:ffff::1 7001 no-hello
EOF
$PY "$work/inj.py" "$work/dp.sock" "$work/cases" > "$work/replies" 2>&1 || { cat "$work/replies"; bad "dpmsg client failed"; }
cat "$work/replies"
declare -A R
while read -r k v; do R[$k]=$v; done < "$work/replies"
for k in raw_x raw_y raw_in rx_nat rx_shim rx_in; do [ "${R[$k]:-}" = ACK ] || bad "inject $k not acknowledged"; done
case "${R[e_port]:-}" in "ERROR PORT"*) ;; *) bad "port 9 not refused with ERR_PORT";; esac
case "${R[e_ip4]:-}" in "ERROR INVAL"*) ;; *) bad "IPv4 bytes not refused with ERR_INVAL";; esac
case "${R[e_flag]:-}" in "ERROR INVAL"*) ;; *) bad "unknown flag not refused with ERR_INVAL";; esac
case "${R[e_hello]:-}" in "ERROR NOHELLO"*) ;; *) bad "inject before HELLO not refused with ERR_NOHELLO";; esac

sleep 3   # the injects on the wire and in the listeners' sockets
kill $tdx $tdy $tdh "${lis[@]}" 2>/dev/null || true
wait "${lis[@]}" 2>/dev/null || true   # each writes what its socket holds first
sleep 0.3
C counters > "$work/c1"
d() { echo $(( $(awk -v k="$1" '$1 == k {print $2}' "$work/c1") - $(awk -v k="$1" '$1 == k {print $2}' "$work/c0") )); }
# delivery to sockets
grep -qx "2001:db8:10:ffff::2 inject-raw-x" "$work/core7001" || bad "raw inject on ISP x not received"
grep -qx "2001:db8:20:ffff::2 inject-raw-y" "$work/core7001" || bad "raw inject on ISP y not received"
grep -qx "fd00:1:1:ffff::1 inject-raw-inside" "$work/h17002" || bad "raw inject on the inside port not received"
grep -qx "2001:db8:10:1::11 inject-asrx-natv6" "$work/core7003" || bad "AS_RX to a legacy peer not NATv6-translated ($(cat "$work/core7003"))"
grep -qx "2001:db8:99::1 inject-asrx-ingress" "$work/h17004" || bad "AS_RX on ISP x not delivered to the CMULA ($(cat "$work/h17004"))"
! grep -q "bad-\|no-hello" "$work/core7001" "$work/h17002" || bad "a refused inject was sent"
# the frames on the wire
mac() { ns_exec "$1" cat /sys/class/net/$2/address; }
eth() { tsh -r "$1" -T fields -e eth.src -e eth.dst -Y "$2" | head -1; }
[ "$(eth "$work/c1x.pcap" 'udp.dstport == 7001')" = "$(mac p1 p1-x)	$(mac core c1x)" ] || bad "ISP x frame MACs: $(eth "$work/c1x.pcap" 'udp.dstport == 7001')"
[ "$(eth "$work/c1y.pcap" 'udp.dstport == 7001')" = "$(mac p1 p1-y)	$(mac core c1y)" ] || bad "ISP y frame MACs: $(eth "$work/c1y.pcap" 'udp.dstport == 7001')"
[ "$(eth "$work/h1.pcap" 'udp.dstport == 7002')" = "$(mac p1 p1-in)	$(mac h1 eth0)" ] || bad "inside frame MACs: $(eth "$work/h1.pcap" 'udp.dstport == 7002')"
shim=$(tsh -r "$work/c1y.pcap" -V -Y "shim6 && ipv6.src == 2001:db8:20:1::11 && ipv6.dst == 2001:db8:40:1::22" |
       grep -o 'Receiver Context Tag: [0-9a-f ]*' | cut -d: -f2 | tr -d ' ' | sort -u)
[ "$shim" = 0a0b0c0d0e0f ] || bad "AS_RX to a remote CMULA: payload header tag '$shim' on ISP y"
[ "$(d egress_shim6)" = 1 ] && [ "$(d natv6_out)" = 1 ] && [ "$(d natv6_in)" = 1 ] ||
    bad "counters: egress_shim6 +$(d egress_shim6) natv6_out +$(d natv6_out) natv6_in +$(d natv6_in), want +1 each"
result "INJECT: next hops resolved $resolved/3 (telemetry); raw out of ports 1,2,0 received with port/next-hop MACs; AS_RX natv6 out/in and shim6 tag 0x$shim;" \
    "refused $(grep -c ' ERROR ' "$work/replies")/4 (port 9, IPv4, flag 0x8000, no HELLO);" \
    "egress_shim6 +$(d egress_shim6) natv6_out +$(d natv6_out) natv6_in +$(d natv6_in); $(( $(date +%s) - t0 ))s"
exit $fail
