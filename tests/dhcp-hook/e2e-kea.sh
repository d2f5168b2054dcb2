#!/bin/bash
# End to end: a real kea-dhcp6 (multi-threaded) loads libdhcp_pshim6.so; a real
# dhclient -6 and Kea's perfdhcp obtain addresses in the CMULA subnet.  Checks:
#   - every address handed out verifies as a CGA (or HBA) against the PDS that
#     Kea's own lease file holds in the lease's user-context (pshim6-cga verify);
#   - the Solicit's CMULA is the Request's (dhclient ends on the advertised one);
#   - a renew keeps the address; a release removes the lease;
#   - the control socket receives add / renew / release lines.
# Needs root.  BUILD points at the build dir (default: $top/build); KEA_ENV, if
# set, is extra NAME=VALUE words for kea-dhcp6's environment (tests/run puts a
# sanitizer runtime there).
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
HOOK=$BUILD/dhcp-hook/libdhcp_pshim6.so
CGA=$BUILD/shim6/tool/pshim6-cga
. "$top/tests/lib/netns.sh"
. "$top/tests/lib/kea.sh"

fail() { echo "FAIL: $*"; [ -f "$tmp/kea.log" ] && tail -20 "$tmp/kea.log"; kea_stderr "$tmp/kea.out"; exit 1; }
for f in "$HOOK" "$CGA"; do [ -e "$f" ] || { echo "missing $f (build with -Dkea=enabled)"; exit 1; }; done
for b in kea-dhcp6 dhclient perfdhcp python3 openssl; do command -v $b >/dev/null || { echo "missing $b"; exit 1; }; done

tmp=$(mktemp -d /tmp/pshim6-e2e-kea.XXXXXX)
ns_init kea
trap 'rc=$?; set +e; ns_cleanup; rm -rf "$tmp"; (exit $rc)' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
t0=$(date +%s)

ns_add srv
ns_add cli
ns_link srv ks0 cli kc0
ns_wait_for 10 sh -c "ip -n kea-srv -6 addr show dev ks0 scope link | grep -q 'inet6' && ! ip -n kea-srv -6 addr show dev ks0 | grep -q tentative"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/site.key" 2>/dev/null
openssl pkey -in "$tmp/site.key" -pubout -out "$tmp/site.pub"
rm -f "$tmp/site.key" # the DHCP server only ever sees the public half

# Stand-in for pshim6-control: logs each line, answers {"ok":true}.
cat >"$tmp/control.py" <<'EOF'
import os, socket, sys
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(4)
while True:
    c, _ = s.accept()
    buf = b""
    while True:
        d = c.recv(4096)
        if not d: break
        buf += d
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            try:
                with open(log, "ab") as f: f.write(line + b"\n")
            except OSError:
                sys.exit(0) # test directory gone: the test is over
            c.sendall(b'{"ok":true}\n')
    c.close()
EOF
ns_bg srv python3 "$tmp/control.py" "$tmp/control.sock" "$tmp/control.log"
ns_wait_for 5 test -S "$tmp/control.sock" || fail "control stand-in did not start"

# kea_start MODE SEC: (re)start kea-dhcp6 with the hook in that mode.
KEA_PID=""
kea_start() {
    local extra=""
    [ "$1" = hba ] && extra=',"pa-prefixes":["2001:db8:a:1::/64","2001:db8:b:1::/64"]'
    cat >"$tmp/kea.json" <<EOF
{ "Dhcp6": {
  "interfaces-config": { "interfaces": [ "ks0" ] },
  "server-id": { "type": "LLT", "persist": false },
  "lease-database": { "type": "memfile", "persist": true, "name": "$tmp/leases6.csv", "lfc-interval": 0 },
  "multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 64 },
  "preferred-lifetime": 20, "valid-lifetime": 40, "renew-timer": 5, "rebind-timer": 8,
  "expired-leases-processing": { "reclaim-timer-wait-time": 1, "hold-reclaimed-time": 0 },
  "subnet6": [ { "id": 1, "subnet": "fd00:1::/64", "interface": "ks0",
                 "pools": [ { "pool": "fd00:1::/64" } ] } ],
  "hooks-libraries": [ { "library": "$HOOK",
      "parameters": { "public-key-file": "$tmp/site.pub", "sec": $2, "mode": "$1",
                      "cmula-prefix": "fd00:1::/64", "control-socket": "$tmp/control.sock"$extra } } ],
  "loggers": [ { "name": "kea-dhcp6", "severity": "INFO",
                 "output_options": [ { "output": "$tmp/kea.log" } ] },
               { "name": "kea-dhcp6.packets", "severity": "DEBUG", "debuglevel": 50,
                 "output_options": [ { "output": "$tmp/kea-pkt.log" } ] },
               { "name": "kea-dhcp6.bad-packets", "severity": "DEBUG", "debuglevel": 50,
                 "output_options": [ { "output": "$tmp/kea-pkt.log" } ] } ]
} }
EOF
    : >"$tmp/kea.log"; : >"$tmp/kea-pkt.log"
    ip netns exec kea-srv env KEA_LOCKFILE_DIR=none KEA_PIDFILE_DIR="$tmp" ${KEA_ENV:-} kea-dhcp6 -c "$tmp/kea.json" \
        >>"$tmp/kea.out" 2>&1 &
    KEA_PID=$!
    NS_PIDS="$NS_PIDS $KEA_PID"
    ns_wait_for 15 grep -q DHCP6_STARTED "$tmp/kea.log" || fail "kea-dhcp6 did not start"
    grep -q PSHIM6_LOADED "$tmp/kea.log" || fail "hook not loaded"
}
kea_stop() { # SIGTERM, and a clean shutdown (hook unloaded) within 10 s
    kill "$KEA_PID" 2>/dev/null || true
    ns_wait_for 10 sh -c "! kill -0 $KEA_PID" || { kill -9 "$KEA_PID"; fail "kea-dhcp6 ignored SIGTERM"; }
    wait "$KEA_PID" 2>/dev/null || true
    grep -q PSHIM6_UNLOADED "$tmp/kea.log" || fail "hook not unloaded at shutdown"
}

# lease_pds ADDR: the pds hex kept in Kea's lease file for ADDR.
lease_pds() {
    grep "^$1," "$tmp/leases6.csv" | tail -1 | grep -o '"pds": *"[0-9a-f]*"' | sed 's/.*"\([0-9a-f]*\)"$/\1/'
}
verify() { # ADDR [--cga|--hba]
    local pds
    pds=$(lease_pds "$1")
    [ -n "$pds" ] || fail "no pds in lease file for $1"
    "$CGA" verify ${2:-} "$1" "$pds" >/dev/null || fail "$1 does not verify against its stored PDS"
}

# dhcp_diag: what Kea saw, for a dhclient run that got no lease.
dhcp_diag() {
    echo "  kea: $(grep -c DHCP6_BUFFER_RECEIVED "$tmp/kea-pkt.log") datagrams in," \
         "$(grep -c 'SOLICIT (type 1) received' "$tmp/kea-pkt.log") Solicits," \
         "$(grep -c 'ADVERTISE (type 2)' "$tmp/kea-pkt.log") Advertises out," \
         "$(grep -c DHCP6_LEASE_ADVERT "$tmp/kea.log") offers logged"
    grep -h 'DROP\|FAIL' "$tmp/kea-pkt.log" "$tmp/kea.log" | tail -5 | cut -c1-240
}
get_lease() { kea_dhclient kea-cli kc0 "$tmp" || { dhcp_diag; return 1; }; }

# ---- 1. CGA, Sec 1: dhclient -------------------------------------------------
kea_start cga 1
grep -q "CMULA for client" "$tmp/kea.log" && fail "allocation failure logged"
get_lease || fail "dhclient got no lease"
addr=$(grep -o 'iaaddr [0-9a-f:]*' "$tmp/dhc.leases" | tail -1 | cut -d' ' -f2)
[ -n "$addr" ] || fail "no iaaddr in dhclient lease file"
case "$addr" in fd00:1:*) ;; *) fail "address $addr not in the CMULA subnet" ;; esac
ip -n kea-cli -6 addr show dev kc0 | grep -q "$addr/" || fail "$addr not configured on kc0"
grep -q "^$addr," "$tmp/leases6.csv" || fail "$addr not in Kea's lease file"
grep "^$addr," "$tmp/leases6.csv" | grep -q '"pshim6"' || fail "lease of $addr has no pshim6 user-context"
verify "$addr" --cga
iid=$(python3 -c "import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1]).exploded.split(':')[4])" "$addr")
[ $(( 0x$iid >> 13 )) = 1 ] || fail "Sec bits of $addr are not 1"
grep -q "\"event\":\"add\",\"cmula\":\"$addr\"" "$tmp/control.log" || fail "no add line for $addr on the control socket"
echo "dhclient: $addr verifies (cga, sec 1), lease file holds its PDS"

# ---- 2. renew keeps the address (T1 = 5 s) ------------------------------------
rows=$(grep -c "^$addr," "$tmp/leases6.csv")
ns_wait_for 20 sh -c "[ \$(grep -c '^$addr,' '$tmp/leases6.csv') -gt $rows ]" || fail "no renew seen in the lease file"
ns_wait_for 5 grep -q "\"event\":\"renew\",\"cmula\":\"$addr\"" "$tmp/control.log" || fail "no renew line"
new=$(grep -o 'iaaddr [0-9a-f:]*' "$tmp/dhc.leases" | tail -1 | cut -d' ' -f2)
[ "$new" = "$addr" ] || fail "renew changed the address: $addr -> $new"
[ "$(grep -c "^$addr," "$tmp/leases6.csv")" -gt "$rows" ] || fail "renew not recorded"
verify "$addr" --cga
echo "renew: $addr kept"

# ---- 3. release removes the lease ----------------------------------------------
kea_dhclient_release kea-cli kc0 "$tmp" || true
ns_wait_for 10 grep -q "\"event\":\"release\",\"cmula\":\"$addr\"" "$tmp/control.log" || { kea_release_diag "$tmp"; fail "no release line"; }
# memfile marks a deleted lease by a last row with valid lifetime 0.
last=$(grep "^$addr," "$tmp/leases6.csv" | tail -1 | cut -d, -f3)
[ "$last" = 0 ] || fail "lease of $addr still valid after release (valid_lifetime $last)"
echo "release: lease of $addr removed"

# ---- 4. perfdhcp at Sec 0 (Sec 1 costs ~2^16 SHA-1 per address; the benchmark
#         measures it): many clients, every address verifies ----------------------
kea_stop
kea_start cga 0
before=$(wc -l <"$tmp/leases6.csv")
perf_rc=0
timeout 60 ip netns exec kea-cli perfdhcp -6 -l kc0 -R 200 -n 200 -r 100 -p 8 >"$tmp/perf.out" 2>&1 || perf_rc=$?
grep -E "sent packets|received packets" "$tmp/perf.out" | head -4
: >"$tmp/perf-addrs"
tail -n +$((before + 1)) "$tmp/leases6.csv" | grep '^fd00:1:' | cut -d, -f1 | sort -u >"$tmp/perf-addrs"
n=$(wc -l <"$tmp/perf-addrs")
[ "$n" -ge 150 ] || { cat "$tmp/perf.out"; fail "perfdhcp left only $n leases (rc $perf_rc)"; }
# One pass over Kea's lease file: address, stored PDS, Sec bits of the IID.
python3 - "$tmp/leases6.csv" "$tmp/perf-addrs" >"$tmp/perf-check" <<'EOF'
import ipaddress, re, sys
want = set(open(sys.argv[2]).read().split())
last = {}
for row in open(sys.argv[1]):
    a = row.split(",", 1)[0]
    if a in want:
        last[a] = row
for a in sorted(want):
    m = re.search(r'"pds": *"([0-9a-f]*)"', last.get(a, ""))
    sec = int(ipaddress.ip_address(a).exploded.split(":")[4], 16) >> 13
    print(a, m.group(1) if m else "-", sec)
EOF
bad=0
while read -r a pds sec; do
    [ "$sec" = 0 ] && "$CGA" verify -q --cga "$a" "$pds" || bad=$((bad + 1))
done <"$tmp/perf-check"
[ "$bad" = 0 ] || fail "$bad of $n perfdhcp addresses do not verify"
dups=$(cut -d, -f1,2 "$tmp/leases6.csv" | grep '^fd00:1:' | sort -u | cut -d, -f1 | sort | uniq -d | wc -l)
[ "$dups" = 0 ] || fail "$dups addresses leased to more than one client"
grep -q PSHIM6_ALLOC_FAILED "$tmp/kea.log" && fail "allocation failures logged"
echo "perfdhcp: $n leases, all verify as Sec 0 CGAs, no address shared"
kea_stop

# ---- 5. HBA mode over the CMULA and two PA prefixes ------------------------------
kea_start hba 1
get_lease || fail "dhclient got no lease (hba)"
haddr=$(grep -o 'iaaddr [0-9a-f:]*' "$tmp/dhc.leases" | tail -1 | cut -d' ' -f2)
verify "$haddr" --hba
pds=$(lease_pds "$haddr")
case "$pds" in *20010db8000a000120010db8000b0001*) ;; *) fail "HBA PDS lacks the PA prefixes" ;; esac
grep -q "\"cmula\":\"$haddr\",\"mode\":\"hba\"" "$tmp/control.log" || fail "no hba add line"
echo "hba: $haddr verifies as an HBA set over fd00:1::/64, 2001:db8:a:1::/64, 2001:db8:b:1::/64"
kea_dhclient_release kea-cli kc0 "$tmp" || true

# ---- 6. expiry: perfdhcp's leases (40 s) are reclaimed and announced ------------
first=$(head -1 "$tmp/perf-addrs")
ns_wait_for 60 grep -q "\"event\":\"expire\",\"cmula\":\"$first\"" "$tmp/control.log" || fail "no expire line for $first"
expired=$(grep -c '"event":"expire"' "$tmp/control.log")
echo "expiry: $expired expire lines, $first among them"
kea_stop

lines=$(wc -l <"$tmp/control.log")
result "dhclient CGA $addr verified; renew kept; release removed; perfdhcp $n leases all verified, 0 shared; HBA verified; $expired expired leases announced; $lines control lines; dhclient restarts after a failed bind: $KEA_DHCLIENT_RESTARTS; $(( $(date +%s) - t0 ))s"
exit 0
