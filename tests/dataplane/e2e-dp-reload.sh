#!/bin/bash
# Config reload (SIGHUP) of a running pshim6-dataplane, NATv6 traffic from an
# inside host to a server behind two ISPs.  Pass, each checked on the wire
# with tcpdump/tshark or with ping's own report:
#  1. weights x=1 y=0: echo requests leave by ISP x (source its PA address);
#  2. reload with x=0 y=1: they leave by ISP y;
#  3. reload with y's MTU 1500 -> 1400: a 1452-octet packet draws Packet Too
#     Big with MTU 1400, a 1400-octet one still goes through;
#  4. reload changing x's PA prefix: refused, the log names the key, the
#     running config stays (still ISP y, still MTU 1400);
#  5. reload of a file with a syntax error: refused with file:line, same;
#  6. reload with a wrong static next_hop_mac for y: traffic stops; reload
#     without it: Neighbor Discovery finds the router again;
#  counters config_reloads 4 and config_reload_refused 2.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/dp.sh"
dp_init dprl

# h1 (inside) - p1 (the dataplane, ISPs x and y) - core (both ISPs' router,
# the server 2001:db8:99::1 on its loopback)
for n in h1 p1 core; do ns_add $n; done
dp_site_links 1 x y
dp_core_isp c1x 10
dp_core_isp c1y 20
ns_exec core ip -6 addr add 2001:db8:99::1/128 dev lo
dp_host h1 fd00:1:1:1::11 fd00:1:1:ffff::1

conf() { # weight_x weight_y mtu_y pa_x extra_y
    cat > "$work/dp.conf.new" <<EOF
site = { name = "rl"; cmula_prefixes = [ "fd00:1:1:1::/64" ]; key_file = "/nonexistent"; mode = "cga"; };
inside = { port = "net_af_packet0,iface=p1-in"; name = "dprl-in"; mtu = 1500;
  address = "fd00:1:1:ffff::1/64"; next_hop = "fd00:1:1:1::11"; };
isps = (
  { name = "x"; pa_prefix = "$4"; port = "net_af_packet1,iface=p1-x";
    address = "2001:db8:10:ffff::2/64"; next_hop = "2001:db8:10:ffff::1"; mtu = 1500; weight = $1; },
  { name = "y"; pa_prefix = "2001:db8:20:1::/64"; port = "net_af_packet2,iface=p1-y";
    address = "2001:db8:20:ffff::2/64"; next_hop = "2001:db8:20:ffff::1"; mtu = $3; weight = $2; $5 }
);
engine = { max_contexts = 64; };
dataplane = { channel = "$work/dp.sock"; max_contexts = 64; hba_hosts = 16; punt_queue = 64;
  idle_polls = 100; idle_sleep_us = 200; nd_reachable_ms = 2000;
  eal_args = [ "--file-prefix=dprl-$$", "--huge-unlink", "--no-pci", "-l", "0", "-m", "128", "--log-level=lib.eal:error" ]; };
EOF
    mv "$work/dp.conf.new" "$work/dp.conf"
}
PA_X=2001:db8:10:1::/64
conf 1 0 1500 $PA_X ""
dp_start p1 "$work/dp.conf" "$work/dp.log" --no-tap
dp_wait "$work/dp.sock" "$work/dp.log"
ns_wait_for 15 ns_exec h1 ping -6 -c1 -W1 2001:db8:99::1 || { echo "no ping through the dataplane"; C counters; exit 1; }
pid=$(pgrep -f "pshim6-dataplane -c $work/dp.conf" | head -1)

# a reload and wait for the dataplane to log its outcome
reload() { # pattern
    local n0
    n0=$(grep -c "reload" "$work/dp.log" || true)
    kill -HUP "$pid"
    for i in $(seq 50); do
        [ "$(grep -c "reload" "$work/dp.log" || true)" -gt "$n0" ] && break
        sleep 0.1
    done
    grep "reload" "$work/dp.log" | tail -n +$((n0 + 1)) | grep -q -- "$1" || { bad "reload: no '$1' in the log"; tail -3 "$work/dp.log"; }
}

# echo requests from h1, captured on both ISP links; prints "x y" counts
pings() { # count size
    rm -f "$work/x.pcap" "$work/y.pcap"
    ns_bg core tcpdump -q -n -U -i c1x -w "$work/x.pcap" icmp6 2>/dev/null; local tx=$!
    ns_bg core tcpdump -q -n -U -i c1y -w "$work/y.pcap" icmp6 2>/dev/null; local ty=$!
    pcap_wait "$work/x.pcap" "$work/y.pcap" || bad "tcpdump did not start"
    ns_exec h1 ping -6 -c "$1" -i 0.2 -W 1 -s "$2" 2001:db8:99::1 > "$work/ping.out" 2>&1 || true
    sleep 1
    kill $tx $ty 2>/dev/null || true
    wait $tx $ty 2>/dev/null || true
    echo "$(tsh -r "$work/x.pcap" -Y 'icmpv6.type == 128 && ipv6.src == 2001:db8:10:1::11' | wc -l)" \
         "$(tsh -r "$work/y.pcap" -Y 'icmpv6.type == 128 && ipv6.src == 2001:db8:20:1::11' | wc -l)"
}

read -r x y < <(pings 5 56)
[ "$x" = 5 ] && [ "$y" = 0 ] || bad "1: weights x=1 y=0: $x requests via x, $y via y"
r1="x $x y $y"

conf 0 1 1500 $PA_X ""
reload "isps.x.weight 1 -> 0; isps.y.weight 0 -> 1"
read -r x y < <(pings 5 56)
[ "$x" = 0 ] && [ "$y" = 5 ] || bad "2: weights x=0 y=1: $x requests via x, $y via y"
r2="x $x y $y"

conf 0 1 1400 $PA_X ""
reload "isps.y.mtu 1500 -> 1400"
ns_exec h1 ip -6 route flush cache 2>/dev/null || true
read -r x y < <(pings 2 1404)       # 1404 + 8 + 40 = 1452 octets
grep -q "Packet too big: mtu=1400" "$work/ping.out" || { bad "3: no Packet Too Big with mtu=1400"; cat "$work/ping.out"; }
read -r x y < <(pings 3 1352)       # 1400 octets: fits
[ "$y" = 3 ] || { bad "3: 1400-octet packets: $y of 3 via y"; cat "$work/ping.out"; C counters | grep -E "drop|icmp|nat|tx_isp"; }
r3="PTB mtu=1400, 1400-octet packets via y $y"

conf 0 1 1400 2001:db8:11:1::/64 ""
reload "refused: isps\[0\].pa_prefix (x) changed, which needs a restart"
echo "isps = ( oops" > "$work/dp.conf"
reload "refused: the file has errors"
grep -qE "dp.conf:[0-9]+: " "$work/dp.log" || bad "5: no file:line for the syntax error"
read -r x y < <(pings 3 56)
[ "$x" = 0 ] && [ "$y" = 3 ] || bad "4/5: after refused reloads: $x via x, $y via y"
ns_exec h1 ip -6 route flush cache 2>/dev/null || true
ns_exec h1 ping -6 -c1 -W1 -s 1404 2001:db8:99::1 2>&1 | grep -q "Packet too big: mtu=1400" ||
    bad "4/5: MTU 1400 no longer in force"

conf 0 1 1400 $PA_X 'next_hop_mac = "02:00:00:00:99:99";'
reload "isps.y.next_hop_mac (neighbor discovery) -> 02:00:00:00:99:99"
ns_exec h1 ping -6 -c2 -i 0.2 -W1 2001:db8:99::1 >/dev/null 2>&1 && bad "6: traffic still flows with a wrong static MAC"
conf 0 1 1400 $PA_X ""
reload "isps.y.next_hop_mac 02:00:00:00:99:99 -> (neighbor discovery)"
tr=$(date +%s.%N)
ns_wait_for 15 ns_exec h1 ping -6 -c1 -W1 2001:db8:99::1 || bad "6: Neighbor Discovery did not find the router again"
relearn=$(awk -v a="$tr" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')

ok=$(cnt config_reloads); ref=$(cnt config_reload_refused)
[ "$ok" = 4 ] || bad "config_reloads $ok, want 4"
[ "$ref" = 2 ] || bad "config_reload_refused $ref, want 2"
kill -0 "$pid" 2>/dev/null || bad "the dataplane died"

[ $fail = 0 ] || { C counters; tail -12 "$work/dp.log"; exit 1; }
result "reloads applied $ok refused $ref; 1: $r1; 2: $r2; 3: $r3; 4-5: refused, running config kept;" \
    "6: wrong static MAC stops traffic, back to ND in ${relearn}s; $(( $(date +%s) - t0 ))s"
