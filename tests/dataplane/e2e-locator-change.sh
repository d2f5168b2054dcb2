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
. "$top/tests/lib/dp.sh"
dp_init dp

# h1 - p1 (site 1, ISPs x y) - core - p2 (site 2, ISPs x y) - h2
for n in h1 p1 core p2 h2; do ns_add $n; done
dp_site_links 1 x y
dp_site_links 2 x y

# core router: one link per (site, ISP); ingress filtering by source prefix
ns_exec core sysctl -qw net.ipv6.conf.all.forwarding=1
dp_core_isp c1x 10
dp_core_isp c1y 20
dp_core_isp c2x 30
dp_core_isp c2y 40
dp_core_filter c1x:10 c1y:20 c2x:30 c2y:40

# hosts: CMULA, default route through the proxy's inside address
dp_host h1 fd00:1:1:1::11 fd00:1:1:ffff::1
dp_host h2 fd00:2:2:1::22 fd00:2:2:ffff::1

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
  eal_args = [ "--file-prefix=dp-$1-$$", "--huge-unlink", "--no-pci", "-l", "$5", "-m", "128", "--log-level=lib.eal:error" ]; };
EOF
}
mkconf 1 fd00:1:1:1 10 20 0 fd00:1:1:ffff::1
mkconf 2 fd00:2:2:1 30 40 1 fd00:2:2:ffff::1
dp_start p1 "$work/s1.conf" "$work/dp1.log" --no-tap
dp_start p2 "$work/s2.conf" "$work/dp2.log" --no-tap
dp_wait "$work/s1.sock" "$work/dp1.log"
dp_wait "$work/s2.sock" "$work/dp2.log"

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
dp_write_sha_server "$work/srv.py"
dp_write_paced_client "$work/cli.py"
ns_bg h2 $PY "$work/srv.py" 5001 "$work/got"
dp_ready "$work/got"
ns_exec h1 $PY "$work/cli.py" fd00:2:2:1::22 5001 "$work/data" 6 > "$work/elapsed" &
cli=$!
# Late in the transfer, the REAP stamps must be on CLOCK_MONOTONIC, the
# clock control compares them with.  With the TSC rate DPDK reports,
# rounded to 10 MHz, they fell 0.19% of the dataplane's uptime behind: 12
# to 18 ms by then, as the machine's TSC rate is.  Each of 60 readings is
# timed on CLOCK_MONOTONIC just before the reading starts (t0) and after it
# returns (t1).  The freshest stamp, measured from t0, must be under 6 ms
# old: -2 to 1 ms in runs here, one of them beside a CPU hog.  Measured
# from t1, as this check once did, the reading's own cost counts, and a
# healthy run once took 12.2 ms.  With the clock's anchoring disabled it
# read 8.3 and 8.8 ms.  No stamp may be later than t1.
$PY - "$CTL" "$work/s1.sock" "$T1" > "$work/stampage" <<'PYEOF' &
import subprocess, sys, time
ctl, sock, tag = sys.argv[1:4]
before, after = [], []
time.sleep(4.5)
for _ in range(60):
    t0 = time.monotonic_ns()
    out = subprocess.run([ctl, "-s", sock, "reap", tag], capture_output=True, text=True).stdout
    t1 = time.monotonic_ns()
    f = dict(kv.split("=", 1) for kv in out.split() if "=" in kv)
    s = int(f.get("last_sent_ns", "0"))
    if s:
        before.append((t0 - s) / 1e6)
        after.append((t1 - s) / 1e6)
    time.sleep(0.01)
print("%.2f %.2f %d" % (min(before) if before else 1e9, min(after) if after else -1e9, len(before)))
PYEOF
stampck=$!
sleep 2
"$CTL" -s "$work/s1.sock" mod otag=$T1 lloc=2001:db8:20:1::11 rloc=2001:db8:40:1::22 isp=1
"$CTL" -s "$work/s2.sock" mod otag=$T2 lloc=2001:db8:40:1::22 rloc=2001:db8:20:1::11 isp=1
wait $cli
wait $stampck || true
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

cntf() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
# tshark 4.0 prints the payload header's tag as six octets, P bit masked
tags() { tsh -r "$1" -V -Y shim6 | grep -o 'Receiver Context Tag: [0-9a-f ]*' | cut -d: -f2 | tr -d ' ' |
         sort | uniq -c | sort -rn | head -2 | awk '{printf "0x%s(%d) ", $2, $1}'; }
nx=$(tsh -r "$work/c1x.pcap" -Y shim6 | wc -l)
ny=$(tsh -r "$work/c1y.pcap" -Y shim6 | wc -l)
# each capture's tags, read once
tx=$(tags "$work/c1x.pcap")
ty=$(tags "$work/c1y.pcap")
echo "site1 counters:"; cat "$work/c1"
echo "site2 counters:"; cat "$work/c2"
echo "reap: $(cat "$work/reap")"
echo "ISP x link: $nx shim6 packets, tags $tx"
echo "ISP y link: $ny shim6 packets, tags $ty"
[ "$got" = "$want" ] || { echo "FAIL: sha256 $got != $want ($bytes bytes)"; fail=1; }
[ "$nx" -gt 100 ] && [ "$ny" -gt 100 ] || { echo "FAIL: traffic did not use both ISPs"; fail=1; }
grep -q "found=1" "$work/reap" && ! grep -q "last_sent_ns=0 " "$work/reap" || { echo "FAIL: no REAP stamps"; fail=1; }
read -r age age1 nread < "$work/stampage" || true
echo "REAP stamps against CLOCK_MONOTONIC late in the transfer: the freshest ${age:-?} ms before its reading started, ${age1:-?} ms before one returned (${nread:-0} readings)"
awk -v a="${age:-1e9}" -v b="${age1:--1e9}" -v n="${nread:-0}" 'BEGIN {exit !(n >= 30 && a < 6 && b >= 0)}' ||
    { echo "FAIL: REAP stamps not on CLOCK_MONOTONIC"; fail=1; }
for f in "c1x $tx" "c1y $ty"; do
    set -- $f
    top_tag=${2:-}   # the most frequent tag must be the installed peer tag
    [ -n "$top_tag" ] && [ "${top_tag#0x0f0e0d0c0b0a(}" != "$top_tag" ] ||
        { echo "FAIL: tshark does not show the installed peer tag on $1"; fail=1; }
done
[ "$(cntf egress_shim6 "$work/c1")" -gt 1000 ] || { echo "FAIL: egress counter"; fail=1; }
result "sha256 $([ "$got" = "$want" ] && echo match || echo MISMATCH) over $bytes bytes in $(cat "$work/elapsed")s;" \
    "locator change mid-transfer; shim6 pkts ISP-x $nx ISP-y $ny; ingress filter $filter;" \
    "PTB sent $(cntf icmp_generated "$work/c1"); punts $(cntf punt "$work/c1")"
exit $fail
