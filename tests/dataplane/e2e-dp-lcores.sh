#!/bin/bash
# pshim6-dataplane on two lcores (dataplane.lcores = [0, 1]) with two queue
# pairs per port (net_af_packet qpairs=2; the kernel spreads flows over the
# queues by PACKET_FANOUT_HASH).  Lcore i polls queue i of every port.
# Pass:
#  - HELLO reports 2 lcores;
#  - 8 parallel HTTP downloads (16 MiB each) from a legacy server through
#    NATv6 all match the served file's sha256;
#  - per-lcore telemetry (/pshim6/lcore,0 and ,1): both lcores received and
#    translated packets in both directions (more than 100 each); the per-lcore
#    counters add up to the totals pshim6-dpctl reports; no drop of any kind
#    during the transfer.
# Runs with --no-tap: with more than one lcore the exception interfaces are
# not created (the TAP PMD wants as many RX as TX queues).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
DP=$BUILD/dataplane/pshim6-dataplane
CTL=$BUILD/dataplane/pshim6-dpctl
PY=/usr/bin/python3
. "$top/tests/lib/netns.sh"
ns_init dpml
[ -x "$DP" ] || { echo "no $DP (DPDK not built?)"; exit 1; }
work=$(mktemp -d /tmp/dpml.XXXXXX)
trap 'rc=$?; set +e; ns_cleanup; rm -rf "$work" /var/run/dpdk/dpml-$$; (exit $rc)' EXIT INT TERM
t0=$(date +%s)
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 256 ] || echo 512 > /proc/sys/vm/nr_hugepages

for n in h1 p1 core; do ns_add $n; done
ns_link h1 eth0 p1 p1-in
ns_link p1 p1-x core c1x
for i in p1-in p1-x; do ns_exec p1 sysctl -qw net.ipv6.conf.$i.disable_ipv6=1; done
ns_exec core ip -6 addr add 2001:db8:10:ffff::1/64 dev c1x nodad
ns_exec core ip -6 addr add 2001:db8:99::80/128 dev lo
ns_exec core ip -6 route add 2001:db8:10:1::/64 via 2001:db8:10:ffff::2 dev c1x
ns_exec h1 ip -6 addr add fd00:1:1:1::11/64 dev eth0 nodad
ns_exec h1 ip -6 route add fd00:1:1:ffff::1 dev eth0
ns_exec h1 ip -6 route add default via fd00:1:1:ffff::1 dev eth0

cat > "$work/dp.conf" <<EOF
site = { name = "mlc"; cmula_prefixes = [ "fd00:1:1:1::/64" ]; key_file = "/nonexistent"; mode = "cga"; };
inside = { port = "net_af_packet0,iface=p1-in,qpairs=2"; name = "dpml-in"; mtu = 1500;
  address = "fd00:1:1:ffff::1/64"; next_hop = "fd00:1:1:1::11"; };
isps = (
  { name = "dpml-x"; pa_prefix = "2001:db8:10:1::/64"; port = "net_af_packet1,iface=p1-x,qpairs=2";
    address = "2001:db8:10:ffff::2/64"; next_hop = "2001:db8:10:ffff::1"; mtu = 1500; weight = 1; }
);
engine = { max_contexts = 64; };
dataplane = { channel = "$work/dp.sock"; max_contexts = 64; hba_hosts = 16; punt_queue = 64;
  idle_polls = 100; idle_sleep_us = 200; lcores = [ 0, 1 ];
  eal_args = [ "--file-prefix=dpml-$$", "--huge-unlink", "--no-pci", "-m", "256", "--log-level=lib.eal:error" ]; };
EOF
"$DP" -n -c "$work/dp.conf"
ns_bg p1 "$DP" -c "$work/dp.conf" --no-tap 2>"$work/dp.log"
C() { "$CTL" -s "$work/dp.sock" "$@"; }
ns_wait_for 20 C hello || { cat "$work/dp.log"; exit 1; }
fail=0
bad() { echo "FAIL: $*"; fail=1; }
# poll for SECONDS of wall time (ns_wait_for counts tries, and a ping try takes 1 s)
wait_s() { local end=$(( $(date +%s) + $1 )); shift; until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.2; done; }
C hello
C hello | grep -q " lcores=2 " || bad "HELLO does not report 2 lcores"

mkdir "$work/www"
head -c $((16 * 1024 * 1024)) /dev/urandom > "$work/www/blob"
want=$(sha256sum < "$work/www/blob" | cut -d' ' -f1)
ns_bg core $PY -m http.server --bind 2001:db8:99::80 --directory "$work/www" 8080 >/dev/null 2>&1
ns_wait_for 10 ns_exec core bash -c "ss -Hltn | grep -q ':8080'" || bad "legacy http.server did not start"
wait_s 15 ns_exec h1 ping -6 -c1 -W1 2001:db8:99::80 || { bad "no ping through NATv6"; C counters; exit 1; }
# what the neighbours send towards the dataplane that is not transit traffic
# (MLD reports, solicitations): without TAP it is dropped as drop_no_route
ns_bg h1 tcpdump -q -n -U -Q out -i eth0 -w "$work/h1.pcap" "ip6 and not tcp" 2>/dev/null; td1=$!
ns_bg core tcpdump -q -n -U -Q out -i c1x -w "$work/c1x.pcap" "ip6 and not tcp" 2>/dev/null; td2=$!
sleep 1
C counters > "$work/c0"

# ---- 8 parallel downloads through NATv6
fetch() { # url count tag
    local pids="" i
    for i in $(seq "$2"); do
        ns_exec h1 curl -g -s --max-time 60 -o "$work/$3.$i" "$1" &
        pids="$pids $!"
    done
    for i in $pids; do wait $i || true; done
    ok=0
    for i in $(seq "$2"); do
        [ "$(sha256sum < "$work/$3.$i" 2>/dev/null | cut -d' ' -f1)" = "$want" ] && ok=$((ok + 1))
        rm -f "$work/$3.$i"
    done
    echo $ok
}
tn=$(date +%s%N)
nat_ok=$(fetch "http://[2001:db8:99::80]:8080/blob" 8 nat)
tn=$(( ($(date +%s%N) - tn) / 1000000 ))
[ "$nat_ok" = 8 ] || bad "NATv6 downloads: $nat_ok of 8 sha256 match"

# ---- per-lcore counters
C counters > "$work/c1"
sleep 0.3; kill $td1 $td2 2>/dev/null || true; sleep 0.3
tel() { echo "$1" | timeout 10 dpdk-telemetry.py -f "dpml-$$" 2>/dev/null || true; }
tel /pshim6/lcore,0 > "$work/l0"
tel /pshim6/lcore,1 > "$work/l1"
tel /pshim6/counters > "$work/lsum"
C counters > "$work/c2"   # ND may add a packet or two while telemetry is read
j() { $PY -c 'import json, sys
t = sys.stdin.read(); t = t[t.index("{"):t.rindex("}") + 1]
d = list(json.loads(t).values())[0]; print(d.get(sys.argv[1], "none"))' "$1" < "$2" 2>/dev/null || echo none; }
k() { awk -v k="$1" '$1 == k {print $2}' "$work/c1"; }
echo "per lcore:      rx_inside rx_isp tx_inside tx_isp natv6_out natv6_in"
for l in 0 1; do
    echo "  lcore $(j lcore_id "$work/l$l"): $(for c in rx_inside_packets rx_isp_packets tx_inside_packets tx_isp_packets natv6_out natv6_in; do printf '%s ' "$(j $c "$work/l$l")"; done)"
done
for l in 0 1; do
    [ "$(j lcore_id "$work/l$l")" = $l ] || bad "telemetry /pshim6/lcore,$l: $(cat "$work/l$l")"
done
# both lcores forwarded in both directions; their sum is the total
both=yes
for c in rx_inside_packets rx_isp_packets natv6_out natv6_in; do
    a=$(j $c "$work/l0"); b=$(j $c "$work/l1")
    case "$a$b" in *none*) bad "telemetry lacks $c"; continue;; esac
    [ "$a" -gt 100 ] && [ "$b" -gt 100 ] || { both=no; bad "$c: lcore 0 $a, lcore 1 $b (one lcore idle)"; }
    hi=$(awk -v k="$c" '$1 == k {print $2}' "$work/c2")
    [ $((a + b)) -ge "$(k $c)" ] && [ $((a + b)) -le "$hi" ] || bad "$c: lcores $a + $b, total $(k $c)..$hi"
done
[ "$(j egress_shim6 "$work/lsum")" = "$(k egress_shim6)" ] || bad "/pshim6/counters disagrees with dpctl counters"
# nothing lost on the way: no transit drop of any kind during the transfer;
# drop_no_route may only rise by the link-local/multicast chatter captured
k0() { awk -v k="$1" '$1 == k {print $2}' "$work/c0"; }
drops=0
for c in drop_malformed drop_not_ipv6 drop_tx_full drop_header_chain drop_mtu punt_dropped; do
    drops=$((drops + $(k $c) - $(k0 $c)))
done
[ "$drops" = 0 ] || { grep drop "$work/c1"; bad "$drops packets dropped"; }
chatter=$(( $(tshark -r "$work/h1.pcap" -Y "ipv6.dst == ff00::/8 || ipv6.dst == fe80::/10" 2>/dev/null | wc -l) +
            $(tshark -r "$work/c1x.pcap" -Y "ipv6.dst == ff00::/8 || ipv6.dst == fe80::/10" 2>/dev/null | wc -l) ))
nr=$(( $(k drop_no_route) - $(k0 drop_no_route) ))
[ "$nr" -le "$chatter" ] || bad "drop_no_route rose by $nr, more than the $chatter link-local/multicast frames sent"
echo "counters:"; grep -v ' 0$' "$work/c1"
mib=$((8 * 16))
result "2 lcores, qpairs=2: NATv6 $nat_ok/8 parallel downloads sha256 ok (${mib} MiB in ${tn} ms);" \
    "rx_isp lcore0 $(j rx_isp_packets "$work/l0") lcore1 $(j rx_isp_packets "$work/l1")," \
    "rx_inside lcore0 $(j rx_inside_packets "$work/l0") lcore1 $(j rx_inside_packets "$work/l1");" \
    "both lcores forwarding: $both; transit drops $drops, no_route $nr (chatter $chatter); $(( $(date +%s) - t0 ))s"
exit $fail
