#!/bin/bash
# Scenario 1, first step: each site's legacy host gets a CGA CMULA by DHCPv6
# in the testbed.  kea-dhcp6 on the site router loads libdhcp_pshim6.so with
# only the site's public key; dhclient -6 runs on the host.  Checks:
#   - the address is in the site's CMULA subnet and is not a plain pool pick;
#   - it verifies (pshim6-cga verify) against the CGA Parameter Data Structure
#     Kea keeps in the lease's user-context, and that PDS holds the site key;
#   - nsd then publishes it (AAAA locators by prefix swap, ULID, PTR).
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/netns.sh"
ns_init tb
BUILD=${BUILD:-$top/build}
export BUILD TB_QUIET=1
T=$top/deploy/testbed/testbed
CGA=$BUILD/shim6/tool/pshim6-cga
HOOK=$BUILD/dhcp-hook/libdhcp_pshim6.so
trap 'rc=$?; "$T" down >/dev/null 2>&1; exit $rc' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$CGA" ] || fail "no $CGA (build first)"
[ -f "$HOOK" ] || fail "no $HOOK (build with Kea)"
in_net() { python3 -c 'import ipaddress,sys; sys.exit(ipaddress.IPv6Address(sys.argv[1]) not in ipaddress.IPv6Network(sys.argv[2]))' "$1" "$2"; }

"$T" up || fail "testbed up"
grep -q PSHIM6_LOADED /run/pshim6-tb/log/kea-r1.log || fail "kea on r1 did not load the hook"
grep -q PSHIM6_LOADED /run/pshim6-tb/log/kea-r2.log || fail "kea on r2 did not load the hook"

declare -A CM
t0=$(date +%s%N)
for s in 1 2; do
    h=h$s
    addr=$("$T" dhcp $h) || fail "dhclient -6 on $h"
    in_net "$addr" "$("$T" addr site$s.lan)" || fail "$h got $addr, outside site $s's CMULA subnet"
    in_net "$addr" "$("$T" addr site$s.lan | sed 's#::/64#::1000/116#')" && fail "$h got a plain pool address $addr"
    pds=$(grep "^$addr," /run/pshim6-tb/kea/r$s.leases | tail -1 | grep -o '"pds": *"[0-9a-fA-F]*"' | sed 's/.*"\([0-9a-fA-F]*\)"$/\1/')
    [ -n "$pds" ] || fail "no PDS in r$s's lease file for $addr"
    "$CGA" verify -q --cga "$addr" "$pds" || fail "$addr does not verify as a CGA against its stored PDS"
    spki=$(openssl pkey -pubin -in /run/pshim6-tb/keys/site$s.pub.pem -outform DER | od -An -v -tx1 | tr -d ' \n')
    echo "$pds" | tr A-F a-f | grep -q "$spki" || fail "the PDS of $addr does not hold site $s's public key"
    "$T" exec $h ip -6 addr show dev eth0 | grep -q "inet6 $addr/128" || fail "$addr not applied on $h"
    CM[$h]=$addr
    echo "ok: $h got CGA CMULA $addr (verified against the PDS in Kea's lease)"
done
dhcp_ms=$(( ($(date +%s%N) - t0) / 2000000 ))
[ "${CM[h1]}" != "${CM[h2]}" ] || fail "both hosts got the same address"

"$T" publish h1="${CM[h1]}" h2="${CM[h2]}" >/dev/null
dns=$("$T" addr dns.eth0)
q() { "$T" exec leg dig +short +time=2 +tries=2 @"$dns" "$@"; }
want=$(python3 -c 'import ipaddress,sys; print(ipaddress.IPv6Address(sys.argv[1]).packed.hex())' "${CM[h2]}")
got=$(q h2.site2.example TYPE65300 | sed 's/^\\# 16 //' | tr -d ' ' | tr A-F a-f)
[ "$got" = "$want" ] || fail "ULID record of h2: '$got', want '$want'"
[ "$(q -x "${CM[h2]}")" = "h2.site2.example." ] || fail "PTR of h2's CMULA"
iid=$(python3 -c 'import ipaddress,sys; print(ipaddress.IPv6Address(sys.argv[1]).exploded[20:])' "${CM[h2]}")
for l in $(q h2.site2.example AAAA); do
    [ "$(python3 -c 'import ipaddress,sys; print(ipaddress.IPv6Address(sys.argv[1]).exploded[20:])' "$l")" = "$iid" ] \
        || fail "locator $l does not carry h2's interface identifier"
done
echo "ok: nsd publishes h2's ULID, PTR and two locators"
result "h1=${CM[h1]} h2=${CM[h2]}; both verify as CGAs of their site key; ${dhcp_ms} ms per DHCPv6 exchange (Sec 1)"
