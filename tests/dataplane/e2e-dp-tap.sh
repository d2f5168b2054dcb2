#!/bin/bash
# pshim6-dataplane's exception path: started without --no-tap it creates one
# kernel (TAP) interface per port, with the port's MAC, in its namespace.  The
# appliance's addresses live on those interfaces, and the dataplane's veth
# ends have IPv6 disabled, so only the TAP path can answer.  Pass:
#  - the TAP interfaces exist with the MACs of their ports;
#  - ping6 from an inside host to the appliance's inside address: every echo
#    answered, and every request seen on the inside TAP (the kernel stack);
#  - a TCP service (python http.server) bound on the appliance's ISP-side
#    address serves a file to the ISP side with a matching sha256;
#  - the appliance's own traffic (ping to the ISP router) leaves through the
#    TAP and the ISP port;
#  - the exception counter rises by at least the packets the kernel got.
# LCORES=2 runs the same with two lcores and two queue pairs per port: each
# TAP then has one queue pair per lcore and lcore 0 reads them all
# (e2e-dp-tap-lcores.sh).
set -eu
LCORES=${LCORES:-1}
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/dp.sh"
dp_init dpmt

# h1 (inside) - p1 (the dataplane, one ISP x) - core (ISP x's router)
for n in h1 p1 core; do ns_add $n; done
dp_site_links 1 x
ns_exec p1 sysctl -qw net.ipv6.conf.default.accept_ra=0
dp_core_isp c1x 10
dp_host h1 fd00:1:1:1::11 fd00:1:1:ffff::1

cat > "$work/dp.conf" <<EOF
site = { name = "tap"; cmula_prefixes = [ "fd00:1:1:1::/64" ]; key_file = "/nonexistent"; mode = "cga"; };
inside = { port = "net_af_packet0,iface=p1-in,qpairs=$LCORES"; name = "dpmt-in"; mtu = 1500;
  address = "fd00:1:1:ffff::1/64"; next_hop = "fd00:1:1:1::11"; };
isps = (
  { name = "dpmt-x"; pa_prefix = "2001:db8:10:1::/64"; port = "net_af_packet1,iface=p1-x,qpairs=$LCORES";
    address = "2001:db8:10:ffff::2/64"; next_hop = "2001:db8:10:ffff::1"; mtu = 1500; weight = 1; }
);
engine = { max_contexts = 64; };
dataplane = { channel = "$work/dp.sock"; max_contexts = 64; hba_hosts = 16; punt_queue = 64;
  idle_polls = 100; idle_sleep_us = 200;
  eal_args = [ "--file-prefix=dpmt-$$", "--huge-unlink", "--no-pci", "-l", "0-$((LCORES - 1))", "-m", "128", "--log-level=lib.eal:error" ]; };
EOF
dp_start p1 "$work/dp.conf" "$work/dp.log"      # with the exception path (TAP)
dp_wait "$work/dp.sock" "$work/dp.log"

# the exception interfaces: named after the ports, with the ports' MACs
mac() { ns_exec p1 cat /sys/class/net/$1/address; }
ns_wait_for 10 ns_exec p1 ip link show dpmt-in || { cat "$work/dp.log"; bad "no TAP dpmt-in"; exit 1; }
ns_wait_for 10 ns_exec p1 ip link show dpmt-x || { cat "$work/dp.log"; bad "no TAP dpmt-x"; exit 1; }
[ "$(mac dpmt-in)" = "$(mac p1-in)" ] || bad "dpmt-in MAC $(mac dpmt-in) != p1-in $(mac p1-in)"
[ "$(mac dpmt-x)" = "$(mac p1-x)" ] || bad "dpmt-x MAC $(mac dpmt-x) != p1-x $(mac p1-x)"
for t in dpmt-in dpmt-x; do
    ns_exec p1 sysctl -qw net.ipv6.conf.$t.accept_dad=0 net.ipv6.conf.$t.accept_ra=0
    ns_exec p1 ip link set $t up
done
ns_exec p1 ip -6 addr add fd00:1:1:ffff::1/64 dev dpmt-in nodad
ns_exec p1 ip -6 addr add 2001:db8:10:ffff::2/64 dev dpmt-x nodad
ns_exec p1 ip -6 route add fd00:1:1:1::/64 dev dpmt-in
ns_exec p1 ip -6 route add default via 2001:db8:10:ffff::1 dev dpmt-x

ns_bg p1 tcpdump -q -n -U -i dpmt-in -w "$work/tap-in.pcap" icmp6 2>/dev/null; td=$!
sleep 1
exc0=$(cnt exception_path)

# ---- ping6 from the inside host to the appliance's inside address
ns_wait_for 10 ns_exec h1 ping -6 -c1 -W1 fd00:1:1:ffff::1 || bad "first ping6 to the inside address unanswered"
ns_exec h1 ping -6 -c 10 -i 0.2 -W 2 fd00:1:1:ffff::1 > "$work/ping" 2>&1 || true
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$work/ping")
[ "${rx:-0}" = 10 ] || { cat "$work/ping"; bad "ping6 inside: ${rx:-0} of 10 answered"; }

# ---- a TCP service on the ISP-side address, in the dataplane's namespace
mkdir "$work/www"
head -c $((4 * 1024 * 1024)) /dev/urandom > "$work/www/blob"
want=$(sha256sum < "$work/www/blob" | cut -d' ' -f1)
ns_bg p1 $PY -m http.server --bind 2001:db8:10:ffff::2 --directory "$work/www" 8080 >/dev/null 2>&1
ns_wait_for 10 ns_exec p1 bash -c "ss -Hltn | grep -q ':8080'" || bad "http.server did not start"
for i in 1 2 3; do
    ns_exec core curl -g -s --max-time 20 -o "$work/got$i" "http://[2001:db8:10:ffff::2]:8080/blob" && break
    sleep 1
done
got=$(sha256sum < "$work/got$i" 2>/dev/null | cut -d' ' -f1 || echo none)
[ "$got" = "$want" ] || bad "HTTP over the ISP TAP: sha256 $got != $want"

# ---- the appliance's own traffic out of the ISP port
ns_exec p1 ping -6 -c 3 -i 0.2 -W 2 2001:db8:10:ffff::1 > "$work/ping2" 2>&1 || true
rx2=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$work/ping2")
[ "${rx2:-0}" = 3 ] || { cat "$work/ping2"; bad "ping6 from the appliance: ${rx2:-0} of 3 answered"; }

sleep 0.5
kill $td 2>/dev/null || true
sleep 0.3
C counters > "$work/c"
k() { awk -v k="$1" '$1 == k {print $2}' "$work/c"; }
exc=$(( $(k exception_path) - exc0 ))
req=$(tsh -r "$work/tap-in.pcap" -Y "icmpv6.type == 128 && ipv6.src == fd00:1:1:1::11 && ipv6.dst == fd00:1:1:ffff::1" | wc -l)
[ "$req" -ge 10 ] || bad "only $req echo requests reached the inside TAP"
# TCP segments of a 4 MiB download plus the echo requests and ND all went through the kernel
[ "$exc" -ge $((req + 100)) ] || bad "exception counter rose by $exc only"
[ "$(k natv6_out)" = 0 ] && [ "$(k natv6_in)" = 0 ] || bad "own traffic took the NATv6 path"
echo "counters:"; grep -v ' 0$' "$work/c"
C hello | grep -q " lcores=$LCORES " || bad "HELLO does not report $LCORES lcores"
result "TAP ($LCORES lcore(s)): ping6 inside $rx/10 answered ($req requests on the TAP); HTTP 4 MiB on the ISP address sha256" \
    "$([ "$got" = "$want" ] && echo match || echo MISMATCH); own ping out ${rx2:-0}/3; exception +$exc;" \
    "tx_isp $(k tx_isp_packets); $(( $(date +%s) - t0 ))s"
exit $fail
