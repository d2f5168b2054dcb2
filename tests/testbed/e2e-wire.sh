#!/bin/bash
# Scenario 6: what crosses the wire.  Captures site 1's two ISP access links
# (on the ISP routers' side) while p1 and p2 build a context, carry a
# transfer and move it after p1's ISP X link fails.  Checks:
#   - tshark decodes every Shim6 control message with a correct checksum;
#   - the handshake's message types (I1, R1, I2, R2) are all there;
#   - every payload header's context tag (decoded here from the raw bytes)
#     is a tag the proxies list in `pshim6ctl contexts`.
# Debian's tshark 4.0 reads other control-message fields one octet off
# (see FACTS), so only checksum status and type are taken from it.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/netns.sh"
ns_init tb
BUILD=${BUILD:-$top/build}
. "$top/tests/testbed/lib/common.sh"
# tsh: tshark bounded in time, TCP not dissected (only Shim6 fields are read)
. "$top/tests/lib/tshark.sh"
work=$(mktemp -d /tmp/tb-wire.XXXXXX)
trap 'rc=$?; "$T" down >/dev/null 2>&1; rm -rf "$work"; exit $rc' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
fail() { echo "FAIL: $*"; exit 1; }

tb_world || fail "testbed with pshim6 on p1 and p2"
"$T" exec ispx tcpdump -q -n -U -s 0 -i p1 -w "$work/x.pcap" ip6 >/dev/null 2>&1 &
"$T" exec ispy tcpdump -q -n -U -s 0 -i p1 -w "$work/y.pcap" ip6 >/dev/null 2>&1 &
# the first ping below makes the only handshake: both captures must be on
pcap_wait "$work/x.pcap" "$work/y.pcap" || fail "tcpdump on the ISP links did not start"
wait_until 30 "$T" exec h1 ping -n -q -c1 -W1 "$H2" || fail "no context h1 -> h2"
head -c $((8 * 1024 * 1024)) /dev/urandom > "$work/data"
"$T" exec h2 python3 "$top/tests/testbed/lib/transfer.py" serve 5001 "$work/got.json" &
wait_until 10 "$T" exec h2 sh -c "ss -ltn | grep -q ':5001 '"
"$T" exec h1 python3 "$top/tests/testbed/lib/transfer.py" send "$H2" 5001 "$work/data" 4 >/dev/null &
cli=$!
sleep 1.5
"$T" fail p1-x down >/dev/null
wait $cli || fail "transfer"
for i in $(seq 50); do [ -s "$work/got.json" ] && break; sleep 0.2; done
"$T" restore p1-x
sleep 1
tags=$( { ctl p1 contexts; ctl p2 contexts; } | awk '$2 == "established" || $2 ~ /^[a-z-]+$/ {print $1}' | grep -E '^[0-9a-f]+$' | sort -u)
[ -n "$tags" ] || fail "the proxies list no context"
for n in ispx ispy; do ip netns pids tb-$n | while read -r p; do [ "$(cat /proc/$p/comm)" = tcpdump ] && kill "$p"; done; done
sleep 1

ctl_lines=$(for f in x y; do tsh -r "$work/$f.pcap" -Y 'shim6 && shim6.p == 0' -T fields -e shim6.type -e shim6.checksum.status; done)
n_ctl=$(echo "$ctl_lines" | grep -c . || true)
[ "$n_ctl" -gt 0 ] || fail "no Shim6 control message captured"
bad=$(echo "$ctl_lines" | awk -F'\t' '$2 != 1' | grep -c . || true)
[ "$bad" = 0 ] || fail "$bad of $n_ctl control messages without a good checksum in tshark: $(echo "$ctl_lines" | awk -F'\t' '$2 != 1' | head -3 | tr '\n' ' ')"
types=$(echo "$ctl_lines" | cut -f1 | sort -n | uniq -c | awk '{printf "%s:%s ", $2, $1}')
for t in 1 2 3 4; do echo "$ctl_lines" | cut -f1 | grep -qx $t || fail "no message of type $t on the wire (seen: $types)"; done
echo "ok: $n_ctl control messages, all with a correct checksum in tshark; types (type:count) $types"

# Payload headers: IPv6 next header 140 with the P bit set; tag = low 47 bits.
python3 - "$work/x.pcap" "$work/y.pcap" > "$work/wiretags" <<'EOF'
import struct, sys
for path in sys.argv[1:]:
    f = open(path, "rb"); hdr = f.read(24)
    le = hdr[:4] == b"\xd4\xc3\xb2\xa1"
    while True:
        h = f.read(16)
        if len(h) < 16: break
        _, _, incl, _ = struct.unpack(("<" if le else ">") + "IIII", h)
        pkt = f.read(incl)
        if len(pkt) < 14 + 40 + 8 or pkt[12:14] != b"\x86\xdd": continue
        ip = pkt[14:]
        if ip[6] != 140 or not (ip[40 + 2] & 0x80): continue
        tag = int.from_bytes(ip[40 + 2:40 + 8], "big") & ((1 << 47) - 1)
        print("%x" % tag)
EOF
n_pl=$(wc -l < "$work/wiretags")
[ "$n_pl" -gt 100 ] || fail "only $n_pl payload headers captured"
unknown=0
for t in $(sort -u "$work/wiretags"); do
    echo "$tags" | grep -qx "$t" || echo "$tags" | grep -qx "$(printf '%012x' "0x$t")" || { echo "unknown tag $t"; unknown=$((unknown + 1)); }
done
[ "$unknown" = 0 ] || fail "$unknown payload-header tags not listed by the proxies (listed: $(echo $tags))"
echo "ok: $n_pl payload headers; their tags ($(sort -u "$work/wiretags" | tr '\n' ' ')) are the proxies' context tags"
result "$n_ctl control messages all checksum-good (types $types); $n_pl payload headers, $(sort -u "$work/wiretags" | wc -l) tags, all known to the proxies"
