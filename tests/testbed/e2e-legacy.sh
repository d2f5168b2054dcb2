#!/bin/bash
# Scenario 4: host 1 reaches the legacy single-homed peer (no Shim6, no
# proxy, no ULID record) through NATv6 on p1.  The peer sees a PA address of
# site 1 (one of host 1's locators), and the connection works both ways:
# curl downloads a file by name (resolved through the DNS ALG) with the same
# sha256, and iperf3 runs forward and in reverse.  Then the peer opens
# connections itself, to host 1's PA address under each ISP: NATv6 picks
# one ISP for the pair, and the connection through the other must still be
# answered from the address and through the ISP it came by.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/netns.sh"
ns_init tb
BUILD=${BUILD:-$top/build}
. "$top/tests/testbed/lib/common.sh"
work=$(mktemp -d /tmp/tb-legacy.XXXXXX)
trap 'rc=$?; "$T" down >/dev/null 2>&1; rm -rf "$work"; exit $rc' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
fail() { echo "FAIL: $*"; ctl p1 counters 2>/dev/null | grep -E 'natv6|drop' ; exit 1; }

tb_world || fail "testbed with pshim6 on p1 and p2"
leg=$(tb_addr leg.eth0)

head -c $((16 * 1024 * 1024)) /dev/urandom > "$work/data"
want=$(sha256sum < "$work/data" | cut -d' ' -f1)
"$T" exec leg sh -c "cd '$work' && exec python3 -m http.server --bind :: 80" >"$work/http.log" 2>&1 &
"$T" exec leg iperf3 -s -D -1 --logfile "$work/iperf-s1.log" >/dev/null 2>&1 || true
wait_until 10 "$T" exec leg sh -c "ss -ltn | grep -q ':80 '" || fail "http server on the legacy peer"

t0=$(date +%s%N)
"$T" exec h1 curl -sS -g --max-time 60 -o "$work/got" "http://www.legacy.example/data" || fail "curl from h1 to www.legacy.example"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
got=$(sha256sum < "$work/got" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "sha256 mismatch: $got != $want"
src=$(grep -o '^[0-9a-f:]*' "$work/http.log" | grep : | tail -1)
[ -n "$src" ] || fail "the legacy peer logged no client address"
in_net "$src" "$(tb_addr site1.pa.x)" || in_net "$src" "$(tb_addr site1.pa.y)" || fail "the legacy peer saw $src, not a PA address of site 1"
[ "$(iid_of "$src")" = "$(iid_of "$H1")" ] || fail "the legacy peer saw $src, not one of h1's locators ($H1)"
echo "ok: curl h1 -> legacy: 16 MiB, sha256 matches, ${ms} ms; the peer saw $src (h1 is $H1)"

wait_until 10 "$T" exec leg sh -c "ss -ltn | grep -q ':5201 '" || fail "iperf3 server"
fwd=$("$T" exec h1 iperf3 -c "$leg" -t 2 -J 2>/dev/null | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e6))') \
    || fail "iperf3 h1 -> legacy"
"$T" exec leg iperf3 -s -D -1 --logfile "$work/iperf-s2.log" >/dev/null 2>&1 || true
wait_until 10 "$T" exec leg sh -c "ss -ltn | grep -q ':5201 '" || fail "iperf3 server (2)"
rev=$("$T" exec h1 iperf3 -c "$leg" -R -t 2 -J 2>/dev/null | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e6))') \
    || fail "iperf3 -R legacy -> h1"
[ "$fwd" -gt 0 ] && [ "$rev" -gt 0 ] || fail "no throughput ($fwd / $rev Mbit/s)"
echo "ok: iperf3 h1 -> legacy $fwd Mbit/s, legacy -> h1 (reverse) $rev Mbit/s"
nat=$(ctl p1 -j counters | grep -o '"dataplane.natv6_out":[0-9]*\|"natv6_out":[0-9]*' | head -1 | cut -d: -f2)
echo "ok: p1 NATv6 packets out: ${nat:-?}"

# h1's PA address under an ISP: the prefix swapped, the rest kept
pa_of() { python3 -c 'import ipaddress as i,sys; n=i.IPv6Network(sys.argv[2]); m=(1<<(128-n.prefixlen))-1
print(i.IPv6Address(int(n.network_address) | (int(i.IPv6Address(sys.argv[1])) & m)))' "$1" "$2"; }
dpc() { ctl p1 -j counters | grep -o "\"\(dataplane\.\)\?$1\":[0-9]*" | head -1 | cut -d: -f2; }
"$T" exec h1 sh -c "cd '$work' && exec python3 -m http.server --bind :: 8080" >"$work/http-h1.log" 2>&1 &
wait_until 10 "$T" exec h1 sh -c "ss -ltn | grep -q ':8080 '" || fail "http server on h1"
noted0=$(dpc natv6_flows_noted); flow0=$(dpc natv6_out_flow)
for isp in x y; do
    pa=$(pa_of "$H1" "$(tb_addr site1.pa.$isp)")
    "$T" exec leg curl -sS -g --max-time 30 -o "$work/in-$isp" "http://[$pa]:8080/data" \
        || fail "curl from the legacy peer to h1 at $pa (its address under ISP $isp)"
    [ "$(sha256sum < "$work/in-$isp" | cut -d' ' -f1)" = "$want" ] || fail "sha256 mismatch from $pa"
    # an echo request is a flow too (its identifier): the replies come from $pa
    got=$("$T" exec leg ping -6 -c 3 -i 0.2 -W 2 "$pa" 2>/dev/null | grep -c "bytes from $pa") || true
    [ "$got" -eq 3 ] || fail "ping from the legacy peer to h1 at $pa: $got of 3 replies from that address"
done
noted=$(( $(dpc natv6_flows_noted) - noted0 )); flow=$(( $(dpc natv6_out_flow) - flow0 ))
[ "$noted" -ge 1 ] || fail "no connection noted as opened through the ISP NATv6 does not pick"
[ "$flow" -ge 1 ] || fail "no packet out through the ISP a connection came in by"
echo "ok: legacy -> h1 through both ISPs' addresses: 16 MiB each, sha256 matches, ping 3/3 each; flows noted $noted, packets out by their ISP $flow"
result "curl 16 MiB sha256 ok in ${ms} ms; peer saw $src; iperf3 ${fwd} Mbit/s forward, ${rev} Mbit/s reverse; natv6_out=${nat:-?}; inbound through both ISPs ok (noted $noted, out by their ISP $flow)"
