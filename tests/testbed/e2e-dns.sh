#!/bin/bash
# Scenario 1, name resolution: host 1 resolves host 2 by name through its
# proxy's DNS ALG and receives host 2's CMULA; the ALG keeps host 2's
# locators and pushes them to pshim6-control.  The proxies run the product
# (pshim6-dataplane with its exception interfaces, pshim6-control,
# pshim6-dnsalg); the hosts got their CMULAs from kea-dhcp6 with the hook.
# Also: a name without a ULID record (the legacy peer) passes unchanged, an
# inside name and its PTR are answered from the DHCP leases, and host 2
# resolves host 1 the same way.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/netns.sh"
ns_init tb
BUILD=${BUILD:-$top/build}
. "$top/tests/testbed/lib/common.sh"
trap 'rc=$?; "$T" down >/dev/null 2>&1; exit $rc' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
fail() { echo "FAIL: $*"; tail -5 /run/pshim6-tb/log/dnsalg-p1.log /run/pshim6-tb/log/control-p1.log 2>/dev/null; exit 1; }

tb_world || fail "testbed with pshim6 on p1 and p2"
echo "ok: h1=$H1 h2=$H2 by DHCPv6"

# h1 uses its resolv.conf: the DNS ALG on p1's inside address.
grep -q "nameserver $(tb_addr site1.resolver)" /etc/netns/tb-h1/resolv.conf || fail "h1's resolver is not p1's ALG"
t0=$(date +%s%N)
ans=$("$T" exec h1 dig +short +time=3 +tries=2 h2.site2.example AAAA)
t1=$(date +%s%N)
[ "$ans" = "$H2" ] || fail "h1 asked for h2.site2.example AAAA and got '$ans', want h2's CMULA $H2"
echo "ok: h1 resolves h2.site2.example to h2's CMULA $H2 through p1's DNS ALG"
first_ms=$(( (t1 - t0) / 1000000 ))
# The ALG pushed h2's locators to control.
wait_until 5 sh -c "'$CTLCLI' -s /run/pshim6-tb/ctl/p1.sock status | grep -q 'peers: *1 '" || fail "pshim6-control on p1 has no peer from the ALG"
ctl p1 -j counters | grep -q '"tables.peer_updates":[1-9]' || fail "control counted no peer update"
echo "ok: p1's control holds h2's locator set pushed by the ALG"

# Second query: from the cache, same answer.
t0=$(date +%s%N)
ans=$("$T" exec h1 dig +short +time=3 +tries=2 h2.site2.example AAAA)
cached_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ans" = "$H2" ] || fail "cached answer '$ans'"

# A legacy name: no ULID record, the AAAA passes unchanged.
ans=$("$T" exec h1 dig +short +time=3 +tries=2 www.legacy.example AAAA)
[ "$ans" = "$(tb_addr leg.eth0)" ] || fail "www.legacy.example AAAA through the ALG: '$ans'"
echo "ok: www.legacy.example (no ULID record) passes unchanged: $ans"

# Inside name from the lease file, and its PTR.
ans=$("$T" exec h1 dig +short +time=3 +tries=2 h1.site1.example AAAA)
[ -z "$ans" ] || [ "$ans" = "$H1" ] || fail "inside name h1.site1.example: '$ans'"
ptr=$("$T" exec h1 dig +short +time=3 +tries=2 -x "$H1")
[ -n "$ptr" ] || fail "no PTR for h1's CMULA through the ALG"
echo "ok: PTR for h1's CMULA: $ptr"

# The other direction: h2 resolves h1 through p2's ALG.
ans=$("$T" exec h2 dig +short +time=3 +tries=2 h1.site1.example AAAA)
[ "$ans" = "$H1" ] || fail "h2 asked for h1.site1.example and got '$ans', want $H1"
echo "ok: h2 resolves h1.site1.example to $H1 through p2's DNS ALG"

result "h1->h2 via ALG ${first_ms} ms first, ${cached_ms} ms cached (dig wall time incl. netns exec); locators pushed to control; legacy passthrough; reverse direction ok"
