#!/bin/bash
# Testbed sanity: the world pshim6 is tested in behaves as documented.
# Uses the testbed's stand-in kernel routing on the proxies, which exists only
# to check the topology; no pshim6 component is exercised here.
#   - every site reaches the other site and the legacy peer through each ISP;
#   - both ISPs drop packets whose source is not the customer's prefix
#     (spoofed other-ISP sources and leaked CMULAs), and count them;
#   - each failure control (down, loss, drop) cuts exactly one access link,
#     and restore brings it back;
#   - nsd serves AAAA, the ULID record (RFC 3597 form) and CMULA PTRs;
#   - kea-dhcp6 + dhclient -6 give the host an address on its LAN;
#   - OSPFv3+BFD prefers the primary proxy and moves to the backup when the
#     primary goes silent;
#   - down leaves nothing behind.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/netns.sh"
ns_init tb
T=$top/deploy/testbed/testbed
export TB_QUIET=1 TB_HOOK=0
trap 'rc=$?; "$T" down >/dev/null 2>&1; exit $rc' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
fail() { echo "FAIL: $*"; "$T" status || true; exit 1; }
ok() { echo "ok: $*"; }
a() { "$T" addr "$1"; }
ping_ok() { # NODE SRC DST
    local i
    for i in 1 2 3; do "$T" exec "$1" ping -n -q -c1 -W1 -I "$2" "$3" >/dev/null 2>&1 && return 0; done
    return 1
}
ping_fails() { ! "$T" exec "$1" ping -n -q -c2 -i0.2 -W1 -I "$2" "$3" >/dev/null 2>&1; }
# wait_until SECONDS cmd...: poll (by wall clock) until cmd succeeds.
wait_until() {
    local end=$(( $(date +%s) + $1 )); shift
    until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.1; done
}
drops() { # ISP CHAIN
    "$T" exec "$1" ip6tables -L FORWARD -v -x -n | awk -v c="$2" '$3 == c {print $1}'
}

start=$(date +%s.%N)
"$T" up --standin || fail "testbed up"
"$T" up --standin || fail "testbed up a second time (idempotence)"
[ "$(ip netns list | grep -c '^tb-')" = 12 ] || fail "expected 12 tb- namespaces"
up_s=$(echo "$(date +%s.%N) - $start" | bc)
ok "up twice, 12 namespaces"

# Routing converges (OSPF gives r1 its default through p1).
wait_until 20 sh -c "'$T' exec r1 ip -6 route show default | grep -q 'dev p1 '" || fail "r1 has no default via p1"

# 1. Reachability through each ISP.
h1x=$(a h1.standin.x); h1y=$(a h1.standin.y); h2x=$(a h2.standin.x); h2y=$(a h2.standin.y); leg=$(a leg.eth0)
ping_ok h1 "$h1x" "$h2x" || fail "h1 -> h2 via ISP X"
ping_ok h1 "$h1y" "$h2y" || fail "h1 -> h2 via ISP Y"
ping_ok h1 "$h1x" "$leg" || fail "h1 -> legacy via ISP X"
ping_ok h2 "$h2y" "$leg" || fail "h2 -> legacy via ISP Y"
ok "reachability h1<->h2 and to the legacy peer through both ISPs"

# 2. Ingress filtering.  Force h1's ISP-Y source out through ISP X.
before=$(drops ispx tb-in-p1)
"$T" exec p1 ip -6 rule add from "$h1y" lookup 101 pref 900
ping_fails h1 "$h1y" "$leg" || fail "ISP X forwarded a packet with an ISP Y source"
"$T" exec p1 ip -6 rule del from "$h1y" lookup 101 pref 900
after=$(drops ispx tb-in-p1)
[ "$after" -gt "$before" ] || fail "ISP X drop counter did not move ($before -> $after)"
spoof_x=$((after - before))
# A CMULA source leaking out without translation is dropped too.
cm=fd00:1:0:1::99
"$T" exec h1 ip -6 addr add "$cm/64" dev eth0 nodad
"$T" exec p1 ip -6 rule add from "$(a site1.cmula)" lookup 102 pref 901
before=$(drops ispy tb-in-p1)
ping_fails h1 "$cm" "$leg" || fail "ISP Y forwarded a packet with a CMULA source"
after=$(drops ispy tb-in-p1)
[ "$after" -gt "$before" ] || fail "ISP Y drop counter did not move for the CMULA source"
leak_y=$((after - before))
"$T" exec p1 ip -6 rule del pref 901
"$T" exec h1 ip -6 addr del "$cm/64" dev eth0
ping_ok h1 "$h1y" "$leg" || fail "h1 -> legacy via ISP Y after the spoof checks"
ok "ingress filters: ISP X dropped $spoof_x spoofed, ISP Y dropped $leak_y leaked-CMULA packets"

# 3. Failure controls, each on p1's ISP X link.
for mode in down loss drop; do
    "$T" fail p1-x $mode >/dev/null || fail "fail p1-x $mode"
    ping_fails h1 "$h1x" "$leg" || fail "p1-x $mode: traffic still flows through ISP X"
    ping_ok h1 "$h1y" "$leg" || fail "p1-x $mode: ISP Y broke too"
    "$T" restore p1-x || fail "restore p1-x"
    wait_until 10 "$T" exec h1 ping -n -q -c1 -W1 -I "$h1x" "$leg" || fail "p1-x $mode: not restored"
done
ok "failure controls down, loss, drop cut p1-x only and restore"

# 4. DNS: AAAA locators, ULID record, PTR for the CMULA.
"$T" publish h2=fd00:2:0:1:abcd::5 >/dev/null
dns=$(a dns.eth0)
q() { "$T" exec leg dig +short +time=2 +tries=2 @"$dns" "$@"; }
aaaa=$(q h2.site2.example AAAA | sort | tr '\n' ' ')
[ "$aaaa" = "2001:db8:a02:1:abcd::5 2001:db8:b02:1:abcd::5 " ] || fail "AAAA locators: '$aaaa'"
ulid=$(q h2.site2.example TYPE65300)
[ "$ulid" = '\# 16 FD00000200000001ABCD000000000005' ] || fail "ULID record: '$ulid'"
ptr=$(q -x fd00:2:0:1:abcd::5)
[ "$ptr" = "h2.site2.example." ] || fail "PTR: '$ptr'"
[ -z "$(q www.legacy.example TYPE65300)" ] || fail "legacy peer must have no ULID record"
ok "nsd: AAAA ($aaaa), ULID ($ulid), PTR ($ptr)"

# 5. DHCPv6: kea-dhcp6 on r1, dhclient -6 on h1.
lease=$("$T" dhcp h1) || fail "dhclient -6 on h1"
python3 -c 'import ipaddress,sys; sys.exit(0 if ipaddress.IPv6Address(sys.argv[1]) in ipaddress.IPv6Network(sys.argv[2]) else 1)' \
    "$lease" "$(a site1.lan)" || fail "lease $lease is not in the site 1 LAN"
ok "DHCPv6 lease $lease"

# 6. Primary/backup announcement: silence p1's bird, r1 must move to p1b.
pid=$(cat /run/pshim6-tb/bird/p1.pid)
t0=$(date +%s%N)
kill -9 "$pid"
wait_until 10 sh -c "'$T' exec r1 ip -6 route show default | grep -q 'dev p1b '" || fail "r1 did not move to p1b"
t1=$(date +%s%N)
switch_ms=$(( (t1 - t0) / 1000000 ))
"$T" exec r1 ip -6 route show "$(a site1.dns)" | grep -q 'dev p1b ' || fail "DNS service address did not move to p1b"
ok "r1 moved its default and the DNS service address to the backup proxy in ${switch_ms} ms"

# 7. Down leaves nothing.
"$T" down
[ -z "$(ip netns list | grep '^tb-' || true)" ] || fail "namespaces left after down"
[ ! -e /run/pshim6-tb ] || fail "state left after down"
ok "down: nothing left"
result "up ${up_s%???????}s; ingress drops spoofed=$spoof_x leaked-cmula=$leak_y; failure modes down/loss/drop ok; backup takeover ${switch_ms} ms (BFD 3x100ms)"
