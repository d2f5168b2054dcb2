#!/bin/bash
# Scenario 4: host 1 reaches the legacy single-homed peer (no Shim6, no
# proxy, no ULID record) through NATv6 on p1.  The peer sees a PA address of
# site 1 (one of host 1's locators), and the connection works both ways:
# curl downloads a file by name (resolved through the DNS ALG) with the same
# sha256, and iperf3 runs forward and in reverse.
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
result "curl 16 MiB sha256 ok in ${ms} ms; peer saw $src; iperf3 ${fwd} Mbit/s forward, ${rev} Mbit/s reverse; natv6_out=${nat:-?}"
