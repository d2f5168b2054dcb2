#!/bin/bash
# End to end: two kea-dhcp6 servers in Kea HA hot-standby (libdhcp_ha.so +
# libdhcp_lease_cmds.so), both with libdhcp_pshim6.so.  A real dhclient -6
# gets a CMULA from the primary; the standby's own lease file must then hold
# the same lease with the pshim6 user-context, and the address must verify
# against the PDS read from the standby (pshim6-cga verify).
# Needs root.  BUILD points at the build dir (default: $top/build); KEA_ENV, if
# set, is extra NAME=VALUE words for kea-dhcp6's environment (tests/run puts a
# sanitizer runtime there).
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
HOOK=$BUILD/dhcp-hook/libdhcp_pshim6.so
CGA=$BUILD/shim6/tool/pshim6-cga
KEAHOOKS=/usr/lib/x86_64-linux-gnu/kea/hooks
. "$top/tests/lib/netns.sh"
. "$top/tests/lib/kea.sh"

fail() { # kea-*.log: Kea's own logs; s*.out: kea-dhcp6's stderr, where a sanitizer reports
    echo "FAIL: $*"
    for f in "$tmp"/kea-*.log; do [ -f "$f" ] && { echo "== $f"; grep -v DEBUG "$f" | tail -8; }; done
    for f in "$tmp"/*.out; do [ -s "$f" ] && { echo "== $f"; kea_stderr "$f"; }; done
    exit 1
}
for f in "$HOOK" "$CGA" "$KEAHOOKS/libdhcp_ha.so" "$KEAHOOKS/libdhcp_lease_cmds.so"; do
    [ -e "$f" ] || { echo "missing $f"; exit 1; }
done

tmp=$(mktemp -d /tmp/pshim6-e2e-keaha.XXXXXX)
ns_init keaha
trap 'rc=$?; set +e; ns_cleanup; rm -rf "$tmp"; (exit $rc)' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
t0=$(date +%s)

# One link: a bridge in "sw" joins both servers and the client.
ns_add sw
ns_add s1
ns_add s2
ns_add cli
ip -n keaha-sw link add br0 type bridge
ip -n keaha-sw link set br0 up
for h in s1 s2 cli; do
    ns_link "$h" e0 sw "p$h"
    ip -n keaha-sw link set "p$h" master br0
done
ip -n keaha-s1 addr add fd99::1/64 dev e0 nodad
ip -n keaha-s2 addr add fd99::2/64 dev e0 nodad
ns_wait_for 10 ip netns exec keaha-s1 ping -6 -c1 -W1 fd99::2 || fail "servers cannot reach each other"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl pkey -pubout -out "$tmp/site.pub"

start() { # NAME ADDR
    cat >"$tmp/$1.json" <<EOF
{ "Dhcp6": {
  "interfaces-config": { "interfaces": [ "e0" ] },
  "server-id": { "type": "LLT", "persist": false },
  "lease-database": { "type": "memfile", "persist": true, "name": "$tmp/leases-$1.csv", "lfc-interval": 0 },
  "multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 64 },
  "preferred-lifetime": 300, "valid-lifetime": 600,
  "subnet6": [ { "id": 1, "subnet": "fd00:1::/64", "interface": "e0",
                 "pools": [ { "pool": "fd00:1::/64" } ] } ],
  "hooks-libraries": [
    { "library": "$KEAHOOKS/libdhcp_lease_cmds.so" },
    { "library": "$KEAHOOKS/libdhcp_ha.so", "parameters": { "high-availability": [ {
        "this-server-name": "$1", "mode": "hot-standby",
        "heartbeat-delay": 1000, "max-response-delay": 4000, "max-ack-delay": 2000,
        "max-unacked-clients": 0, "sync-timeout": 10000,
        "multi-threading": { "enable-multi-threading": true, "http-dedicated-listener": true,
                             "http-listener-threads": 1, "http-client-threads": 1 },
        "peers": [ { "name": "s1", "url": "http://[fd99::1]:8001/", "role": "primary", "auto-failover": true },
                   { "name": "s2", "url": "http://[fd99::2]:8001/", "role": "standby", "auto-failover": true } ]
    } ] } },
    { "library": "$HOOK", "parameters": { "public-key-file": "$tmp/site.pub", "sec": 1,
                                         "cmula-prefix": "fd00:1::/64" } } ],
  "loggers": [ { "name": "kea-dhcp6", "severity": "INFO",
                 "output_options": [ { "output": "$tmp/kea-$1.log" } ] } ]
} }
EOF
    ip netns exec "keaha-$1" env KEA_LOCKFILE_DIR=none KEA_PIDFILE_DIR="$tmp" ${KEA_ENV:-} kea-dhcp6 -c "$tmp/$1.json" \
        >>"$tmp/$1.out" 2>&1 &
    NS_PIDS="$NS_PIDS $!"
}
start s1
start s2
ns_wait_for 60 grep -q 'HA_STATE_TRANSITION.*HOT-STANDBY' "$tmp/kea-s1.log" || fail "primary never reached hot-standby"
ns_wait_for 30 grep -q 'HA_STATE_TRANSITION.*HOT-STANDBY' "$tmp/kea-s2.log" || fail "standby never reached hot-standby"

kea_dhclient keaha-cli e0 "$tmp" || fail "dhclient got no lease"
addr=$(grep -o 'iaaddr [0-9a-f:]*' "$tmp/dhc.leases" | tail -1 | cut -d' ' -f2)
case "$addr" in fd00:1:*) ;; *) fail "no CMULA ($addr)" ;; esac
grep -q "^$addr," "$tmp/leases-s1.csv" || fail "primary has no lease for $addr"
ns_wait_for 10 grep -q "^$addr," "$tmp/leases-s2.csv" || fail "lease of $addr not replicated to the standby"
pds=$(grep "^$addr," "$tmp/leases-s2.csv" | tail -1 | grep -o '"pds": *"[0-9a-f]*"' | sed 's/.*"\([0-9a-f]*\)"$/\1/')
[ -n "$pds" ] || fail "standby's lease of $addr lacks the pshim6 user-context"
"$CGA" verify --cga "$addr" "$pds" >/dev/null || fail "$addr does not verify against the standby's PDS"
p1=$(grep "^$addr," "$tmp/leases-s1.csv" | tail -1 | grep -o '"pds": *"[0-9a-f]*"')
p2=$(grep "^$addr," "$tmp/leases-s2.csv" | tail -1 | grep -o '"pds": *"[0-9a-f]*"')
[ "$p1" = "$p2" ] || fail "primary and standby hold different PDS for $addr"
kea_dhclient_release keaha-cli e0 "$tmp" || true
result "HA hot-standby: $addr from the primary, replicated with its PDS to the standby, verifies there; dhclient restarts after a failed bind: $KEA_DHCLIENT_RESTARTS; $(( $(date +%s) - t0 ))s"
exit 0
