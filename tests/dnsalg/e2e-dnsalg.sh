#!/bin/bash
# End-to-end test of pshim6-dnsalg with real servers: nsd (authoritative for
# an outside zone with AAAA + ULID records in RFC 3597 form, a DNSSEC-signed
# zone and a CMULA reverse zone) in one namespace, the ALG in another, dig
# and drill as clients in a third.
#   BUILD=build-xyz tests/dnsalg/e2e-dnsalg.sh
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
ALG=$BUILD/dnsalg/pshim6-dnsalg
[ -x "$ALG" ] || { echo "missing $ALG (set BUILD)"; exit 1; }
. "$top/tests/lib/netns.sh"
ns_init dns
T=$(mktemp -d /tmp/dnsalg-e2e.XXXXXX)
chmod 755 "$T"
trap 'rc=$?; rm -rf "$T"; ns_cleanup; exit $rc' EXIT INT TERM
pass=0; fail=0
ok()   { pass=$((pass + 1)); echo "ok   $*"; }
bad()  { fail=$((fail + 1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

ns_add up; ns_add alg; ns_add cl
ns_link up u0 alg a0
ns_link cl c0 alg a1
ns_exec up  ip -6 addr add fd99::53/64 dev u0 nodad
ns_exec alg ip -6 addr add fd99::1/64 dev a0 nodad
ns_exec alg ip -6 addr add fd98::1/64 dev a1 nodad
ns_exec cl  ip -6 addr add fd98::2/64 dev c0 nodad

# ---- nsd and its zones ------------------------------------------------------
ULID1=fd00:2:2:1::22; HEX1=fd000002000200010000000000000022
ULID2=fd00:2:2:1::33; HEX2=fd000002000200010000000000000033
ULIDS=fd00:2:2:1::44; HEXS=fd000002000200010000000000000044
ULIDT=fd00:2:2:1::55; HEXT=fd000002000200010000000000000055
cat > "$T/ext.zone" <<Z
\$ORIGIN ext.example.
\$TTL 300
@       SOA ns hostmaster 1 3600 600 86400 60
@       NS  ns
ns      AAAA fd99::53
peer1   AAAA 2001:db8:30:1::22
peer1   AAAA 2001:db8:40:1::22
peer1   TYPE65300 \# 16 $HEX1
www     CNAME peer1
peer2   AAAA 2001:db8:30:1::33
peer2   TYPE65300 \# 16 $HEX2
plain   AAAA 2001:db8:50::1
plain   TXT "no ULID here"
short 3 AAAA 2001:db8:30:1::55
short 3 TYPE65300 \# 16 $HEXT
Z
for i in $(seq 1 80); do printf 'big AAAA 2001:db8:60::%x\n' "$i" >> "$T/ext.zone"; done
cat > "$T/rev.zone" <<Z
\$ORIGIN 2.0.0.0.2.0.0.0.0.0.d.f.ip6.arpa.
\$TTL 300
@ SOA ns.ext.example. hostmaster.ext.example. 1 3600 600 86400 60
@ NS ns.ext.example.
$(echo 2.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0) PTR peer1.ext.example.
$(echo 3.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0) PTR peer2.ext.example.
Z
cat > "$T/sec.zone" <<Z
\$ORIGIN sec.example.
\$TTL 300
@       SOA ns.ext.example. hostmaster.ext.example. 1 3600 600 86400 60
@       NS  ns.ext.example.
speer   AAAA 2001:db8:30:1::44
speer   TYPE65300 \# 16 $HEXS
Z
( cd "$T" && k=$(ldns-keygen -a ECDSAP256SHA256 -k sec.example) && z=$(ldns-keygen -a ECDSAP256SHA256 sec.example) &&
  ldns-signzone -o sec.example sec.zone "$k" "$z" >/dev/null )
cat > "$T/nsd.conf" <<Z
server:
    ip-address: fd99::53
    port: 53
    zonesdir: "$T"
    database: ""
    zonelistfile: "$T/zone.list"
    pidfile: "$T/nsd.pid"
    xfrdfile: "$T/xfrd.state"
    xfrdir: "$T"
    logfile: "$T/nsd.log"
    username: ""
    chroot: ""
    verbosity: 1
    server-count: 1
    tcp-count: 16
    minimal-responses: no
    rrl-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: ext.example.
    zonefile: "$T/ext.zone"
zone:
    name: 2.0.0.0.2.0.0.0.0.0.d.f.ip6.arpa.
    zonefile: "$T/rev.zone"
zone:
    name: sec.example.
    zonefile: "$T/sec.zone.signed"
zone:
    name: broken.example.
    zonefile: "$T/missing.zone"
Z
nsd-checkconf "$T/nsd.conf"
ns_bg up nsd -d -c "$T/nsd.conf"
ns_wait_for 10 ns_exec up dig @fd99::53 +short +tries=1 +time=1 ns.ext.example AAAA || { cat "$T/nsd.log"; exit 1; }

# ---- a stand-in for pshim6-control's socket: records pushed lines ------------
cat > "$T/ctl.py" <<'Z'
import os, socket, sys
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); os.chmod(path, 0o666); s.listen(8)
while True:
    c, _ = s.accept()
    f = c.makefile("rwb")
    for line in f:
        open(log, "ab").write(line)
        f.write(b'{"ok":true}\n'); f.flush()
    c.close()
Z
ns_bg alg python3 "$T/ctl.py" "$T/control.sock" "$T/pushed.log"
ns_wait_for 5 test -S "$T/control.sock"

# Kea memfile lease state with one DHCP-assigned host.
exp=$(( $(date +%s) + 3600 ))
cat > "$T/leases.csv" <<Z
address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context
fd00:1:1:1::33,00:01:02,3600,$exp,1,1800,0,1,128,0,0,h3.site1.example.,,0,
Z
chmod 644 "$T/leases.csv"

# ---- the ALG (drops to nobody after binding port 53) ---------------------------
# The main instance reads the appliance config (the shipped example, with this
# testbed's addresses and paths); it has static host h1 and CMULA prefix
# fd00:1:1:1::/64.
sed -e 's|^\(  *\)socket = ".*";|\1socket = "'"$T"'/control.sock";|' \
    -e 's|^\(  *\)listen = \[.*\];|\1listen = [ "fd98::1" ];|' \
    -e 's|^\(  *\)upstreams = \[.*\];|\1upstreams = [ "fd99::53" ];|' \
    -e 's|^\(  *\)control_socket = ".*";|\1control_socket = "'"$T"'/dnsalg.sock";|' \
    -e 's|^\(  *\)user = ".*";|\1user = "nobody";|' \
    -e 's|^\(  *\)lease_file = ".*";|\1lease_file = "'"$T"'/leases.csv";|' \
    "$top/conf/pshim6.conf" > "$T/pshim6.conf"
"$ALG" -c "$T/pshim6.conf" -n -v > "$T/effective.conf"
grep -q 'listen = \[ "fd98::1" \]' "$T/effective.conf" && grep -q 'h1.site1.example.' "$T/effective.conf" ||
    { cat "$T/effective.conf"; echo "config not taken"; exit 1; }
ns_bg alg "$ALG" -c "$T/pshim6.conf"
ns_bg alg "$ALG" -l fd98::1 -p 5353 -u fd99::53 -D passthrough -s "$T/dnsalg2.sock" -C "$T/absent.sock" -e 256 -i 32
# An upstream that never answers, for the timeout case.
cat > "$T/hole.py" <<'Z'
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("fd99::1", 5399))
while True: s.recv(4096)
Z
ns_bg alg python3 "$T/hole.py"
ns_exec alg ip -6 addr add fd98::100/64 dev a1 nodad
ns_bg alg "$ALG" -l :: -p 5454 -u '[fd99::1]:5399' -T 500 -s "$T/dnsalg3.sock" -C none
ns_wait_for 10 ns_exec cl dig @fd98::1 +short +tries=1 +time=1 ns.ext.example AAAA
ns_wait_for 10 ns_exec cl dig @fd98::1 -p 5353 +short +tries=1 +time=1 ns.ext.example AAAA

ctl() { # SOCKET JSON -> reply line
    ns_exec alg python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode()+b"\n")
print(s.makefile().readline().strip())' "$1" "$2"
}
counter() { ctl "$T/dnsalg.sock" '{"cmd":"counters"}' | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
D() { ns_exec cl dig @fd98::1 +tries=1 +time=3 "$@"; }

# 1. privileges dropped
pid=$(ns_exec alg ss -ulnpH 'sport = :53' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
check "privileges dropped to nobody" test "$(ps -o user= -p "$pid")" = nobody

# 2. name with a ULID record -> CMULA, minimum TTL, cached, pushed
out=$(D +short peer1.ext.example AAAA)
check "ULID name answered with CMULA ($out)" test "$out" = "$ULID1"
ttl=$(D +noall +answer peer1.ext.example AAAA | awk '{print $2}')
check "synthesised TTL <= 300 ($ttl)" test "$ttl" -le 300 -a "$ttl" -gt 0
out=$(ns_exec cl drill @fd98::1 peer1.ext.example AAAA | sed -n '/ANSWER SECTION/,/^$/p' | awk '$4=="AAAA"{print $5}')
check "drill sees the CMULA too ($out)" test "$out" = "$ULID1"
out=$(D +short www.ext.example AAAA | tail -1)
check "CNAME chain rewritten at its end ($out)" test "$out" = "$ULID1"
ns_wait_for 5 grep -q "\"ulid\":\"$ULID1\"" "$T/pushed.log" || true
check "peer-locators pushed to control" grep -q "\"ulid\":\"$ULID1\",\"locators\":\[\"2001:db8:30:1::22\",\"2001:db8:40:1::22\"\]" "$T/pushed.log"
# 3. no ULID record -> AAAA unchanged; other types untouched
check "no-ULID name passes unchanged" test "$(D +short plain.ext.example AAAA)" = 2001:db8:50::1
check "TXT passes untouched" test "$(D +short plain.ext.example TXT)" = '"no ULID here"'
# 4. inside names
check "inside static host" test "$(D +short h1.site1.example AAAA)" = fd00:1:1:1::11
check "inside host from Kea leases" test "$(D +short h3.site1.example AAAA)" = fd00:1:1:1::33
check "PTR for a site CMULA" test "$(D +short -x fd00:1:1:1::11)" = h1.site1.example.
# SIGHUP re-reads the inside hosts
sed -i 's|^\(  *{ name = "h1"; cmula = "fd00:1:1:1::11"; }\)|\1,\n  { name = "h5"; cmula = "fd00:1:1:1::55"; }|' "$T/pshim6.conf"
kill -HUP "$pid"
ns_wait_for 5 test "$(D +short h5.site1.example AAAA)" = fd00:1:1:1::55 || true
check "SIGHUP: new config host answered" test "$(D +short h5.site1.example AAAA)" = fd00:1:1:1::55
check "SIGHUP: lease host kept" test "$(D +short h3.site1.example AAAA)" = fd00:1:1:1::33
# 5. reverse lookup on request (PTR, then AAAA + ULID)
r=$(ctl "$T/dnsalg.sock" "{\"cmd\":\"resolve-ulid\",\"ulid\":\"$ULID2\"}")
echo "resolve-ulid: $r"
check "resolve-ulid finds name and locators" grep -q '"ok":true,"locators":\["2001:db8:30:1::33"\],"ttl":[0-9]*,"name":"peer2.ext.example."' <<<"$r"
r=$(ctl "$T/dnsalg.sock" '{"cmd":"resolve-ulid","ulid":"fd00:2:2:1::99"}')
check "resolve-ulid of an unknown CMULA fails cleanly" grep -q '"ok":false' <<<"$r"
# 6. TC over UDP, full answer over TCP
D +notcp +ignore +noedns big.ext.example AAAA > "$T/tc.out"
check "oversized answer: TC over UDP" grep -q 'flags: qr tc' "$T/tc.out"
n=$(D +tcp +short big.ext.example AAAA | wc -l)
check "oversized answer: complete over TCP ($n records)" test "$n" = 80
n=$(D +short big.ext.example AAAA | wc -l)
check "dig falls back to TCP by itself ($n records)" test "$n" = 80
# 7. CD and DO
out=$(D +short +cd peer1.ext.example AAAA | sort | tr '\n' ' ')
check "CD set: no rewrite ($out)" test "$out" = "2001:db8:30:1::22 2001:db8:40:1::22 "
D +dnssec speer.sec.example AAAA > "$T/do.out"
check "DO + signed: CMULA" grep -q "AAAA.*$ULIDS" "$T/do.out"
check "DO + signed: RRSIG stripped" bash -c "! grep -q RRSIG '$T/do.out'"
check "DO + signed: EDE 4 Forged Answer" grep -q 'EDE: 4 (Forged Answer)' "$T/do.out"
ns_exec cl dig @fd98::1 -p 5353 +dnssec speer.sec.example AAAA > "$T/do2.out"
check "DO + signed, passthrough policy: signed AAAA kept" grep -q 'RRSIG.*AAAA' "$T/do2.out"
# 8. NXDOMAIN, SERVFAIL, timeout
check "NXDOMAIN passes" grep -q 'status: NXDOMAIN' <(D nosuch.ext.example AAAA)
check "upstream SERVFAIL passes" grep -q 'status: SERVFAIL' <(D x.broken.example AAAA)
t0=$(date +%s%N)
check "upstream timeout gives SERVFAIL" grep -q 'status: SERVFAIL' <(ns_exec cl dig @fd98::1 -p 5454 +tries=1 +time=5 peer1.ext.example AAAA)
tt=$(( ($(date +%s%N) - t0) / 1000000 ))
# the instance on :: answers from the address the query was sent to
check "wildcard listener answers from the queried address" grep -q 'status: SERVFAIL' \
    <(ns_exec cl dig @fd98::100 -p 5454 +tries=1 +time=3 x.ext.example TXT)
# 9. malformed queries -> FORMERR
rc=$(ns_exec cl python3 -c 'import socket
s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(bytes.fromhex("abcd0100000200000000000003777777"), ("fd98::1", 53))
d=s.recv(512); print(d[0:2].hex(), d[3] & 15, d[2] >> 7)')
check "malformed query gets FORMERR ($rc)" test "$rc" = "abcd 1 1"
# 10. cache: hits are counted, TTL expiry makes the ALG ask again
h0=$(counter cache_hits); D +short peer1.ext.example AAAA >/dev/null; h1=$(counter cache_hits)
check "cache hit ($h0 -> $h1)" test "$h1" -gt "$h0"
u0=$(counter upstream_queries)
D +short short.ext.example AAAA >/dev/null; D +short short.ext.example AAAA >/dev/null
u1=$(counter upstream_queries)
check "second query within TTL from cache (upstream $u0 -> $u1: AAAA + ULID once)" test "$u1" = $((u0 + 2))
sleep 3.2
out=$(D +short short.ext.example AAAA); u2=$(counter upstream_queries)
check "expired after TTL: asked upstream again ($u1 -> $u2), still $out" test "$u2" -gt "$u1" -a "$out" = "$ULIDT"
# 11. a flood of distinct names stays within the configured bounds
#     (instance 2: 256 cache slots, 32 queued misses)
for i in $(seq 1 30000); do echo "f$i.ext.example AAAA"; done > "$T/flood"
pid2=$(ns_exec alg ss -ulnpH 'sport = :5353' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
rss0=$(awk '/VmRSS/{print $2}' /proc/"$pid2"/status)
ns_exec cl dnsperf -s fd98::1 -p 5353 -d "$T/flood" -l 4 -c 8 -q 500 -t 1 > "$T/flood.out" 2>&1 || true
rss1=$(awk '/VmRSS/{print $2}' /proc/"$pid2"/status)
c2=$(ctl "$T/dnsalg2.sock" '{"cmd":"counters"}')
ce=$(python3 -c "import json,sys; c=json.loads(sys.argv[1]); print(c['cache_entries'], c['cache_misses'], c['inflight_full'])" "$c2")
set -- $ce
sent=$(awk '/Queries sent/{print $3}' "$T/flood.out")
echo "flood: $sent queries sent, cache entries $1, misses $2, dropped at full queue $3, RSS ${rss0} -> ${rss1} KiB"
check "flood: cache stays within 256 entries ($1)" test "$1" -le 256 -a "$2" -gt 256
limit=32768   # KiB; an ASan build keeps freed memory in quarantine (256 MiB)
nm "$ALG" 2>/dev/null | grep -q __asan_init && limit=$((256 * 1024 + 32768))
check "flood: RSS growth under $((limit / 1024)) MiB ($((rss1 - rss0)) KiB)" test $((rss1 - rss0)) -lt "$limit"
out=$(D -p 5353 +short peer1.ext.example AAAA 2>&1)
check "flood: still answering" test "$out" = "$ULID1"
sleep 0.5
pf=$(ctl "$T/dnsalg2.sock" '{"cmd":"counters"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["push_failures"])')
check "control socket absent: answered anyway, push failure counted ($pf)" test "$pf" -ge 1
# 12. counters
c=$(ctl "$T/dnsalg.sock" '{"cmd":"counters"}'); echo "counters: $c"
check "counters readable" grep -q '"ok":true,"queries_udp":' <<<"$c"

echo "passed $pass, failed $fail"
result "dnsalg e2e: $pass passed, $fail failed; timeout->SERVFAIL in ${tt} ms; flood of ${sent:-?} distinct names: RSS +$((rss1 - rss0)) KiB"
[ "$fail" = 0 ]
