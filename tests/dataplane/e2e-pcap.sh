#!/bin/bash
# pshim6-dataplane on net_pcap vdevs: input pcaps in, output pcaps out,
# compared with packets built independently by scapy (egress with header
# insertion, NATv6 both ways, ingress with removal, ICMPv6 error translation,
# Packet Too Big, punts, hostile frames dropped).  tshark must read the
# output and show the installed payload-header tags.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/dp.sh"
# no namespaces here (pcap files are the ports): dp_init does not fit
work=$(mktemp -d /tmp/dp-pcap.XXXXXX)
dpid=""
trap 'rc=$?; set +e; [ -n "$dpid" ] && kill -9 $dpid 2>/dev/null; rm -rf "$work" /var/run/dpdk/dp-pcap-$$; exit $rc' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
dp_hugepages
DP_SOCK=$work/dp.sock

$PY "$top/tests/dataplane/pcap_cases.py" gen "$work"
cat > "$work/dp.conf" <<EOF
site = { name = "pcap"; cmula_prefixes = [ "fd00:1:1:1::/64" ]; key_file = "/nonexistent"; mode = "cga"; };
inside = { port = "net_pcap0,rx_pcap=$work/in0.pcap,tx_pcap=$work/out0.pcap"; name = "pin"; mtu = 1500;
  address = "fd00:1:1:ffff::1/64"; next_hop = "fd00:1:1:1::11"; next_hop_mac = "02:00:00:00:00:11"; };
isps = (
  { name = "x"; pa_prefix = "2001:db8:10:1::/64"; port = "net_pcap1,rx_pcap=$work/in1.pcap,tx_pcap=$work/out1.pcap";
    address = "2001:db8:10:ffff::2/64"; next_hop = "2001:db8:10:ffff::1"; next_hop_mac = "02:00:00:00:10:01";
    mtu = 1500; weight = 1; },
  { name = "y"; pa_prefix = "2001:db8:20:1::/64"; port = "net_pcap2,rx_pcap=$work/in2.pcap,tx_pcap=$work/out2.pcap";
    address = "2001:db8:20:ffff::2/64"; next_hop = "2001:db8:20:ffff::1"; next_hop_mac = "02:00:00:00:20:01";
    mtu = 1500; weight = 0; }
);
engine = { max_contexts = 64; };
dataplane = { channel = "$work/dp.sock"; max_contexts = 64; hba_hosts = 16; punt_queue = 16;
  idle_polls = 10; idle_sleep_us = 1000;
  eal_args = [ "--file-prefix=dp-pcap-$$", "--huge-unlink", "--no-pci", "-l", "0", "-m", "128", "--log-level=lib.eal:error" ]; };
EOF
"$DP" -c "$work/dp.conf" --no-tap --rx-delay-ms 3000 2>"$work/dp.log" &
dpid=$!
for i in $(seq 300); do C hello >/dev/null 2>&1 && break; sleep 0.1; done
C add lulid=fd00:1:1:1::11 rulid=fd00:2:2:1::22 lloc=2001:db8:10:1::11 \
    rloc=2001:db8:30:1::22 ptag=0x0a0b0c0d0e0f otag=0x111111111111 isp=0
C add lulid=fd00:1:1:1::11 rulid=fd00:3:3:1::33 lloc=2001:db8:20:1::11 \
    rloc=2001:db8:50:1::33 ptag=0x2b2b2b2b2b2b otag=0x222222222222 isp=1
# refused writes leave the table as it was
! C add lulid=fd00:1:1:1::11 rulid=fd00:9::9 lloc=2001:db8:10:1::11 \
    rloc=2001:db8:30:1::99 ptag=1 otag=0x111111111111 isp=0 2>/dev/null
! C add lulid=fd00:1:1:1::11 rulid=fd00:9::9 lloc=2001:db8:10:1::11 \
    rloc=2001:db8:30:1::99 ptag=1 otag=5 isp=7 2>/dev/null
[ "$(C dump | wc -l)" = 2 ]
# rx starts 3 s after the channel; the pcaps are a few frames: wait until
# something was received and the count has stood still for a second (a
# fixed sleep flaked on a loaded machine)
rxn() { C counters | awk '$1 == "rx_inside_packets" || $1 == "rx_isp_packets" {s += $2} END {print s + 0}'; }
prev=-1; still=0
for i in $(seq 120); do
    sleep 0.5
    cur=$(rxn)
    if [ "$cur" -gt 0 ] && [ "$cur" = "$prev" ]; then still=$((still + 1)); else still=0; fi
    [ $still -ge 2 ] && break
    prev=$cur
done
C counters > "$work/counters"
echo /pshim6/counters | timeout 10 dpdk-telemetry.py -f "dp-pcap-$$" > "$work/telemetry" 2>&1 || true
kill -TERM $dpid; wait $dpid || true; dpid=""
cntf() { awk -v k="$1" '$1 == k {print $2}' "$work/counters"; }
fail=0
$PY "$top/tests/dataplane/pcap_cases.py" cmp "$work" || fail=1
[ "$(cntf punt_dropped)" = 2 ] || { echo "FAIL: want 2 punts (no context, unknown tag), got $(cntf punt_dropped)"; fail=1; }
[ "$(cntf drop_malformed)" = 1 ] && [ "$(cntf drop_header_chain)" = 1 ] || { echo "FAIL: hostile frames not counted"; fail=1; }
tags=$(tsh -r "$work/out1.pcap" -V | grep -o 'Receiver Context Tag: [0-9a-f ]*' | cut -d: -f2 | tr -d ' ' | sort -u | tr '\n' ' ')
tags2=$(tsh -r "$work/out2.pcap" -V | grep -o 'Receiver Context Tag: [0-9a-f ]*' | cut -d: -f2 | tr -d ' ' | sort -u | tr '\n' ' ')
[ "$tags" = "0a0b0c0d0e0f " ] && [ "$tags2" = "2b2b2b2b2b2b " ] || { echo "FAIL: tshark tags '$tags' '$tags2'"; fail=1; }
grep -q '"egress_shim6": 4' "$work/telemetry" || { echo "FAIL: telemetry /pshim6/counters"; cat "$work/telemetry"; fail=1; }
[ "$(cntf mss_clamped)" = 3 ] || { echo "FAIL: want 3 SYNs clamped (shim out, NATv6 out, shim in), got $(cntf mss_clamped)"; fail=1; }
[ "$(cntf icmp_translated_out)" = 2 ] || { echo "FAIL: want 2 outbound ICMPv6 errors translated, got $(cntf icmp_translated_out)"; fail=1; }
cat "$work/counters" | grep -v ' 0$'
echo "RESULT: pcap in/out matches scapy-built expectations: $([ $fail = 0 ] && echo yes || echo NO);" \
    "tshark tags ISP x ${tags}ISP y ${tags2}; punts $(cntf punt_dropped); ptb $(cntf icmp_generated); icmp xlate in $(cntf icmp_translated) out $(cntf icmp_translated_out); mss clamped $(cntf mss_clamped)"
exit $fail
