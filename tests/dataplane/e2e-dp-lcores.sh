#!/bin/bash
# pshim6-dataplane on two lcores (dataplane.lcores = [0, 1]) with two queue
# pairs per port (net_af_packet qpairs=2; the kernel spreads flows over the
# queues by PACKET_FANOUT_HASH).  Lcore i polls queue i of every port.  A
# second, one-lcore dataplane (site 2) terminates Shim6 contexts.
# Pass:
#  - HELLO reports 2 lcores;
#  - 8 parallel HTTP downloads (16 MiB each) from a legacy server through
#    NATv6 and 8 from a host behind site 2 through Shim6 (installed context)
#    all match the served file's sha256;
#  - per-lcore telemetry (/pshim6/lcore,0 and ,1): each lcore received and
#    rewrote more than 1000 packets; the per-lcore counters add up to the
#    totals pshim6-dpctl reports; REAP stamps (latest over both lcores) set;
#  - no transit drop of any kind during the transfers; drop_no_route rises
#    only by the link-local/multicast chatter the neighbours sent.
# Which lcore gets which flow is the kernel's hash: the spread per counter is
# printed, not asserted (8 flows all on one queue is a 1-in-128 event).
# Runs with --no-tap, so that the neighbours' chatter shows up as counted
# drops; the exception path with two lcores is e2e-dp-tap-lcores.sh.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/dp.sh"
dp_init dpml

# h1 - p1 (site 1, two lcores, ISP x) - core (legacy server 2001:db8:99::80
# on its loopback) - p2 (site 2, ISP x) - h2
for n in h1 p1 core p2 h2; do ns_add $n; done
dp_site_links 1 x
dp_site_links 2 x
ns_exec core sysctl -qw net.ipv6.conf.all.forwarding=1
dp_core_isp c1x 10
dp_core_isp c2x 30
ns_exec core ip -6 addr add 2001:db8:99::80/128 dev lo
dp_host h1 fd00:1:1:1::11 fd00:1:1:ffff::1
dp_host h2 fd00:2:2:1::22 fd00:2:2:ffff::1

mkconf() { # site n, cmula /64, isp prefix, qpairs, lcores line, memory
    cat > "$work/s$1.conf" <<EOF
site = { name = "site$1"; cmula_prefixes = [ "$2::/64" ]; key_file = "/nonexistent"; mode = "cga"; };
inside = { port = "net_af_packet0,iface=p$1-in,qpairs=$4"; name = "dpml$1-in"; mtu = 1500;
  address = "${2%:*}:ffff::1/64"; next_hop = "$2::$1$1"; };
isps = (
  { name = "dpml$1-x"; pa_prefix = "2001:db8:$3:1::/64"; port = "net_af_packet1,iface=p$1-x,qpairs=$4";
    address = "2001:db8:$3:ffff::2/64"; next_hop = "2001:db8:$3:ffff::1"; mtu = 1500; weight = 1; }
);
engine = { max_contexts = 64; };
dataplane = { channel = "$work/s$1.sock"; max_contexts = 64; hba_hosts = 16; punt_queue = 64;
  idle_polls = 100; idle_sleep_us = 200; $5
  eal_args = [ "--file-prefix=dpml-$1-$$", "--huge-unlink", "--no-pci", "-m", "$6", "--log-level=lib.eal:error" ]; };
EOF
}
mkconf 1 fd00:1:1:1 10 2 "lcores = [ 0, 1 ];" 256
mkconf 2 fd00:2:2:1 30 1 "lcores = [ 1 ];" 128
dp_start p1 "$work/s1.conf" "$work/dp1.log" --no-tap
dp_start p2 "$work/s2.conf" "$work/dp2.log" --no-tap
dp_wait "$work/s1.sock" "$work/dp1.log"
dp_wait "$work/s2.sock" "$work/dp2.log"
DP_SOCK=$work/s1.sock   # C: site 1
C2() { "$CTL" -s "$work/s2.sock" "$@"; }
C hello
C hello | grep -q " lcores=2 " || bad "HELLO does not report 2 lcores"

T1=0x1a2b3c4d5e6f
T2=0x0f0e0d0c0b0a
C add lulid=fd00:1:1:1::11 rulid=fd00:2:2:1::22 lloc=2001:db8:10:1::11 rloc=2001:db8:30:1::22 ptag=$T2 otag=$T1 isp=0
C2 add lulid=fd00:2:2:1::22 rulid=fd00:1:1:1::11 lloc=2001:db8:30:1::22 rloc=2001:db8:10:1::11 ptag=$T1 otag=$T2 isp=0

mkdir "$work/www"
head -c $((16 * 1024 * 1024)) /dev/urandom > "$work/www/blob"
want=$(sha256sum < "$work/www/blob" | cut -d' ' -f1)
ns_bg core $PY -m http.server --bind 2001:db8:99::80 --directory "$work/www" 8080 >/dev/null 2>&1
ns_bg h2 $PY -m http.server --bind fd00:2:2:1::22 --directory "$work/www" 8080 >/dev/null 2>&1
ns_wait_for 10 ns_exec core bash -c "ss -Hltn | grep -q ':8080'" || bad "legacy http.server did not start"
ns_wait_for 10 ns_exec h2 bash -c "ss -Hltn | grep -q ':8080'" || bad "h2 http.server did not start"
ns_wait_for 15 ns_exec h1 ping -6 -c1 -W1 2001:db8:99::80 || { bad "no ping through NATv6"; C counters; exit 1; }
ns_wait_for 15 ns_exec h1 ping -6 -c1 -W1 fd00:2:2:1::22 || { bad "no ping through Shim6"; C counters; exit 1; }
# what the neighbours send towards the dataplane that is not transit traffic
# (MLD reports, solicitations): without TAP it is dropped as drop_no_route
ns_bg h1 tcpdump -q -n -U -Q out -i eth0 -w "$work/h1.pcap" "ip6 and not tcp" 2>/dev/null; td1=$!
ns_bg core tcpdump -q -n -U -Q out -i c1x -w "$work/c1x.pcap" "ip6 and not tcp" 2>/dev/null; td2=$!
# both capture before the baseline: chatter counted but not captured would fail the check
pcap_wait "$work/h1.pcap" "$work/c1x.pcap" || bad "tcpdump did not start"
C counters > "$work/c0"

# ---- 8 parallel downloads through NATv6 and 8 through Shim6, all at once
curls=""
fetch() { # url count tag
    local i
    for i in $(seq "$2"); do
        ns_exec h1 curl -g -s --max-time 90 -o "$work/$3.$i" "$1" &
        curls="$curls $!"
    done
}
count_ok() { # count tag
    local ok=0 i
    for i in $(seq "$1"); do
        [ "$(sha256sum < "$work/$2.$i" 2>/dev/null | cut -d' ' -f1)" = "$want" ] && ok=$((ok + 1))
        rm -f "$work/$2.$i"
    done
    echo $ok
}
tn=$(date +%s%N)
fetch "http://[2001:db8:99::80]:8080/blob" 8 nat
fetch "http://[fd00:2:2:1::22]:8080/blob" 8 shim
for p in $curls; do wait $p || true; done
tn=$(( ($(date +%s%N) - tn) / 1000000 ))
nat_ok=$(count_ok 8 nat)
shim_ok=$(count_ok 8 shim)
[ "$nat_ok" = 8 ] || bad "NATv6 downloads: $nat_ok of 8 sha256 match"
[ "$shim_ok" = 8 ] || bad "Shim6 downloads: $shim_ok of 8 sha256 match"

# ---- per-lcore counters
C counters > "$work/c1"
C reap $T1 > "$work/reap"
sleep 0.3; kill $td1 $td2 2>/dev/null || true; sleep 0.3
tel() { echo "$1" | timeout 10 dpdk-telemetry.py -f "dpml-1-$$" 2>/dev/null || true; }
tel /pshim6/lcore,0 > "$work/l0"
tel /pshim6/lcore,1 > "$work/l1"
tel /pshim6/counters > "$work/lsum"
C counters > "$work/c2"   # ND may add a packet or two while telemetry is read
j() { $PY -c 'import json, sys
t = sys.stdin.read(); t = t[t.index("{"):t.rindex("}") + 1]
d = list(json.loads(t).values())[0]; print(d.get(sys.argv[1], "none"))' "$1" < "$2" 2>/dev/null || echo none; }
k() { awk -v k="$1" '$1 == k {print $2}' "$work/c1"; }
k0() { awk -v k="$1" '$1 == k {print $2}' "$work/c0"; }
cols="rx_inside_packets rx_isp_packets natv6_out natv6_in egress_shim6 ingress_shim6"
echo "per lcore: $cols"
for l in 0 1; do
    echo "  lcore $(j lcore_id "$work/l$l"): $(for c in $cols; do printf '%s ' "$(j $c "$work/l$l")"; done)"
    [ "$(j lcore_id "$work/l$l")" = $l ] || bad "telemetry /pshim6/lcore,$l: $(cat "$work/l$l")"
done
# each lcore did real work; their sum is the total
rxl=(0 0); rwl=(0 0)
for l in 0 1; do
    rx=0; rw=0
    for c in rx_inside_packets rx_isp_packets natv6_out natv6_in egress_shim6 ingress_shim6; do
        v=$(j $c "$work/l$l"); case "$v" in *[!0-9]*|"") bad "telemetry lacks $c"; v=0;; esac
        case $c in rx_*) rx=$((rx + v));; *) rw=$((rw + v));; esac
    done
    [ $rx -gt 1000 ] && [ $rw -gt 1000 ] || bad "lcore $l received $rx and rewrote $rw packets only"
    rxl[l]=$rx; rwl[l]=$rw
done
for c in $cols; do
    a=$(j $c "$work/l0"); b=$(j $c "$work/l1")
    case "$a$b" in *[!0-9]*) continue;; esac
    hi=$(awk -v k="$c" '$1 == k {print $2}' "$work/c2")
    [ $((a + b)) -ge "$(k $c)" ] && [ $((a + b)) -le "$hi" ] || bad "$c: lcores $a + $b, total $(k $c)..$hi"
done
[ "$(j egress_shim6 "$work/lsum")" = "$(k egress_shim6)" ] || bad "/pshim6/counters disagrees with dpctl counters"
grep -q "found=1" "$work/reap" && ! grep -q "last_sent_ns=0 \|last_recv_ns=0$" "$work/reap" || bad "REAP stamps: $(cat "$work/reap")"
# nothing lost on the way: no transit drop of any kind during the transfers;
# drop_no_route may only rise by the link-local/multicast chatter captured
drops=0
for c in drop_malformed drop_not_ipv6 drop_tx_full drop_header_chain drop_mtu punt_dropped; do
    drops=$((drops + $(k $c) - $(k0 $c)))
done
[ "$drops" = 0 ] || { grep drop "$work/c1"; bad "$drops packets dropped"; }
chatter=$(( $(tsh -r "$work/h1.pcap" -Y "ipv6.dst == ff00::/8 || ipv6.dst == fe80::/10" | wc -l) +
            $(tsh -r "$work/c1x.pcap" -Y "ipv6.dst == ff00::/8 || ipv6.dst == fe80::/10" | wc -l) ))
nr=$(( $(k drop_no_route) - $(k0 drop_no_route) ))
[ "$nr" -le "$chatter" ] || bad "drop_no_route rose by $nr, more than the $chatter link-local/multicast frames sent"
echo "counters:"; grep -v ' 0$' "$work/c1"
sp() { echo "$(j $1 "$work/l0")/$(j $1 "$work/l1")"; }
result "2 lcores, qpairs=2: 16 parallel 16 MiB downloads sha256 ok NATv6 $nat_ok/8 Shim6 $shim_ok/8 in $tn ms;" \
    "lcore0/lcore1 rx ${rxl[0]}/${rxl[1]} rewritten ${rwl[0]}/${rwl[1]} (natv6_in $(sp natv6_in) ingress_shim6 $(sp ingress_shim6)" \
    "egress_shim6 $(sp egress_shim6)); transit drops $drops, no_route $nr (chatter $chatter), nd_received +$(( $(k nd_received) - $(k0 nd_received) )); $(( $(date +%s) - t0 ))s"
exit $fail
