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
trap 'rc=$?; rm -rf "$T"; ns_cleanup; exit $rc' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
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
grep -q 'listen = \[ "fd98::1" \]' "$T/effective.conf" && grep -q 'h1.site1.example.' "$T/effective.conf" &&
    grep -q '^cookie_rotate_s = 3600;' "$T/effective.conf" ||
    { cat "$T/effective.conf"; echo "config not taken"; exit 1; }
ns_bg alg "$ALG" -c "$T/pshim6.conf" 2> "$T/alg.log"
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
# Instance 6: the black hole first, nsd second, 300 ms a try.
ns_bg alg "$ALG" -l fd98::1 -p 5757 -u '[fd99::1]:5399' -u fd99::53 -T 600 -s "$T/dnsalg6.sock" -C none \
    2> "$T/alg6.log"
# An upstream that logs the EDNS options it is sent, echoes CLIENT-SUBNET with
# scope 40 (as an ECS-aware resolver does) and adds a cookie of its own;
# instance 4 forwards to it, serves at most 2 TCP connections and waits 3 s
# for a TCP client's next query.
cat > "$T/ecs.py" <<'Z'
import json, socket, struct, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("fd99::1", 5398))
def name_end(d, o):
    while d[o]: o += 1 + d[o]
    return o + 1
while True:
    d, peer = s.recvfrom(4096)
    qid, fl, qd, an, ns, ar = struct.unpack("!6H", d[:12])
    qe = name_end(d, 12); qtype = struct.unpack("!H", d[qe:qe + 2])[0]; q = d[12:qe + 4]
    o, opts = qe + 4, []
    for _ in range(ns + ar):
        o = name_end(d, o); t, _c, _t, rl = struct.unpack("!HHIH", d[o:o + 10])
        if t == 41:
            r = o + 10
            while r < o + 10 + rl:
                c, l = struct.unpack("!HH", d[r:r + 4]); opts.append((c, d[r + 4:r + 4 + l])); r += 4 + l
        o += 10 + rl
    with open(sys.argv[1], "a") as f:
        f.write(json.dumps({"qtype": qtype, "opts": [[c, v.hex()] for c, v in opts]}) + "\n")
    ans = b""
    if qtype == 28:
        ans = b"\xc0\x0c" + struct.pack("!HHIH", 28, 1, 60, 16) + socket.inet_pton(socket.AF_INET6, "2001:db8:77::1")
    ro = struct.pack("!HH", 10, 24) + bytes(8) + bytes.fromhex("01000000") + bytes(12)
    for c, v in opts:
        if c == 8: ro += struct.pack("!HH", 8, len(v)) + v[:3] + b"\x28" + v[4:]
    opt = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, len(ro)) + ro
    s.sendto(struct.pack("!6H", qid, 0x8180 | (fl & 0x0110), 1, 1 if ans else 0, 0, 1) + q + ans + opt, peer)
Z
ns_bg alg python3 "$T/ecs.py" "$T/ecs.log"
ns_bg alg "$ALG" -l fd98::1 -p 5555 -u '[fd99::1]:5398' -x 2 -I 3000 -s "$T/dnsalg4.sock" -C none
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
D +noedns plain.ext.example TXT > "$T/noedns.out"
check "a query without EDNS gets an answer without OPT (RFC 6891 §7)" \
    bash -c "grep -q 'status: NOERROR' '$T/noedns.out' && ! grep -q 'OPT PSEUDOSECTION' '$T/noedns.out'"
grep -q 'OPT PSEUDOSECTION' "$T/noedns.out" && cat "$T/noedns.out"
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
# SIGHUP applies dnsalg.cookie_rotate_s: both secrets kept (a cookie from
# before the reload still verifies), the next rollover one new interval away;
# a bad value is refused with file:line and changes nothing
cookie_get() { sed -n 's/^; COOKIE: \([0-9a-f]*\) (good)$/\1/p'; }
hck=$(D +cookie plain.ext.example TXT | cookie_get)
hr0=$(counter cookie_rotate_s)
sed -i 's|^\(  *cookie_rotate_s = \)[0-9]*;|\1120;|' "$T/pshim6.conf"
kill -HUP "$pid"
ns_wait_for 5 test "$(counter cookie_rotate_s)" = 120 || true
hr1=$(counter cookie_rotate_s); hin=$(counter cookie_rotate_in_s)
check "SIGHUP: cookie_rotate_s $hr0 -> $hr1, next rollover in $hin s" test "$hr0" = 3600 -a "$hr1" = 120 -a "$hin" -gt 110 -a "$hin" -le 120
check "SIGHUP: the change logged" grep -q 'SIGHUP: cookie secret rollover every 120 s (was every 3600 s); next in 120 s' "$T/alg.log"
hv0=$(counter cookie_valid); hrot=$(counter cookie_rotations)
D +cookie="$hck" plain.ext.example TXT > /dev/null
check "SIGHUP: a cookie from before the reload still valid ($hv0 -> $(counter cookie_valid)), no rollover ($hrot)" \
    test "$(counter cookie_valid)" = $((hv0 + 1)) -a "$(counter cookie_rotations)" = "$hrot"
sed -i 's|^\(  *cookie_rotate_s = \)[0-9]*;|\159;|' "$T/pshim6.conf"
hline=$(grep -n '^  *cookie_rotate_s = 59;' "$T/pshim6.conf" | cut -d: -f1)
kill -HUP "$pid"
ns_wait_for 5 grep -q "$T/pshim6.conf:$hline: dnsalg.cookie_rotate_s" "$T/alg.log" || true
check "SIGHUP: cookie_rotate_s = 59 refused as $T/pshim6.conf:$hline" grep -q "$T/pshim6.conf:$hline: dnsalg.cookie_rotate_s: 59" "$T/alg.log"
check "SIGHUP: after the bad value still 120 s ($(counter cookie_rotate_s)), not rescheduled ($(counter cookie_rotate_in_s) s)" \
    test "$(counter cookie_rotate_s)" = 120 -a "$(counter cookie_rotate_in_s)" -le "$hin"
check "SIGHUP: after the bad value the hosts stay" test "$(D +short h5.site1.example AAAA)" = fd00:1:1:1::55
# SIGHUP applies dnsalg.tcp_idle_ms: an idle TCP client is then closed
# after the new time (the cookie interval stays 120 s meanwhile)
sed -i -e 's|^\(  *cookie_rotate_s = \)[0-9]*;|\1120;|' -e 's|^\(  *tcp_idle_ms = \)[0-9]*;|\11500;|' "$T/pshim6.conf"
kill -HUP "$pid"
ns_wait_for 5 grep -q 'SIGHUP: TCP clients may stay idle 1500 ms (was 10000)' "$T/alg.log" || true
check "SIGHUP: tcp_idle_ms 10000 -> 1500, logged" grep -q 'SIGHUP: TCP clients may stay idle 1500 ms (was 10000)' "$T/alg.log"
idle_tcp=$(ns_exec cl python3 -c 'import socket,time
s=socket.create_connection(("fd98::1",53)); t=time.time(); s.settimeout(8)
try: r=s.recv(10)
except socket.timeout: r=None
except ConnectionResetError: r=b""
print("closed" if r==b"" else "open", int((time.time()-t)*1000))')
idle_closed() { read -r st ms <<<"$idle_tcp"; test "$st" = closed && test "$ms" -ge 1300 && test "$ms" -le 4000; }
check "SIGHUP: an idle TCP client closed after the new 1.5 s, not 10 s ($idle_tcp ms)" idle_closed
sed -i 's|^\(  *tcp_idle_ms = \)[0-9]*;|\110000;|' "$T/pshim6.conf"
kill -HUP "$pid"
ns_wait_for 5 grep -q 'SIGHUP: TCP clients may stay idle 10000 ms (was 1500)' "$T/alg.log" || true
check "SIGHUP: tcp_idle_ms back to 10000" grep -q 'SIGHUP: TCP clients may stay idle 10000 ms (was 1500)' "$T/alg.log"
# SIGHUP applies dnsalg.upstreams: to a server that never answers (a miss
# then fails, after timeout_ms: 2000 as shipped), and back to nsd (a miss
# answered again); and dnsalg.timeout_ms: 600 makes a miss to the silent
# server fail after 600 ms
qtime() { awk '/^;; Query time:/ { print $4 }' "$1"; }
sed -i -e 's|^\(  *upstreams = \)\[.*\];|\1[ "[fd99::1]:5399" ];|' -e 's|^\(  *timeout_ms = \)[0-9]*;|\12000;|' "$T/pshim6.conf"
kill -HUP "$pid"
ns_wait_for 5 grep -q 'SIGHUP: upstreams \[fd99::1\]:5399 (was fd99::53)' "$T/alg.log" || true
check "SIGHUP: upstreams fd99::53 -> [fd99::1]:5399, logged" grep -q 'SIGHUP: upstreams \[fd99::1\]:5399 (was fd99::53)' "$T/alg.log"
D up1.ext.example TXT > "$T/up1.out" || true
tmo0=$(qtime "$T/up1.out")
check "SIGHUP: a miss now goes to the silent server (SERVFAIL after ${tmo0:-?} ms)" grep -q 'status: SERVFAIL' "$T/up1.out"
sed -i 's|^\(  *timeout_ms = \)[0-9]*;|\1600;|' "$T/pshim6.conf"
kill -HUP "$pid"
ns_wait_for 5 grep -q 'SIGHUP: upstream timeout 600 ms (was 2000)' "$T/alg.log" || true
check "SIGHUP: timeout_ms 2000 -> 600, logged" grep -q 'SIGHUP: upstream timeout 600 ms (was 2000), from each thread' "$T/alg.log"
D up3.ext.example TXT > "$T/up3.out" || true
tmo1=$(qtime "$T/up3.out")
tmo_new() { grep -q 'status: SERVFAIL' "$T/up3.out" && test "${tmo0:-0}" -ge 1900 && test "${tmo1:-9999}" -ge 550 -a "${tmo1:-9999}" -le 1400; }
check "SIGHUP: a miss to the silent server now fails after the new 600 ms (${tmo1:-?} ms), not 2000 (${tmo0:-?} ms)" tmo_new
sed -i -e 's|^\(  *upstreams = \)\[.*\];|\1[ "fd99::53" ];|' -e 's|^\(  *timeout_ms = \)[0-9]*;|\12000;|' "$T/pshim6.conf"
kill -HUP "$pid"
ns_wait_for 5 grep -q 'SIGHUP: upstream timeout 2000 ms (was 600)' "$T/alg.log" || true
check "SIGHUP: upstreams and timeout_ms back, logged" bash -c "grep -q 'SIGHUP: upstreams fd99::53 (was \[fd99::1\]:5399)' '$T/alg.log' && grep -q 'SIGHUP: upstream timeout 2000 ms (was 600)' '$T/alg.log'"
check "SIGHUP: upstreams back to nsd: a miss answered (NXDOMAIN)" grep -q 'status: NXDOMAIN' <(D up2.ext.example TXT)
sed -i 's|^\(  *cookie_rotate_s = \)[0-9]*;|\13600;|' "$T/pshim6.conf"
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
# the TCP threads share the connections they keep to nsd: of 8 misses
# over TCP in a row (distinct names), 7 go on a kept connection
uo0=$(counter upstream_tcp_opened); ur0=$(counter upstream_tcp_reused)
for i in 1 2 3 4 5 6 7 8; do D +tcp +short "tcp$i.ext.example" AAAA >/dev/null; done
uo1=$(counter upstream_tcp_opened); ur1=$(counter upstream_tcp_reused)
check "upstream TCP kept: 8 misses over $((uo1 - uo0)) new and $((ur1 - ur0)) kept connections" \
    test $((uo1 - uo0 + ur1 - ur0)) -ge 8 -a $((ur1 - ur0)) -ge 7
up_tcp() { ns_exec alg ss -tnpH state established dst '[fd99::53]:53' | grep -c "pid=$pid," || true; }
kept_at=$(date +%s); kept_n=$(up_tcp)
check "upstream TCP kept: $kept_n connection(s) to nsd open after the queries" test "$kept_n" -ge 1
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
# 8b. upstream health (instance 6): the black-holed first upstream costs
#     its 300 ms share only until it is DOWN (3 failed tries); then misses
#     go straight to nsd; once its 1 s hold runs out one query is its trial
#     (still dead: no second DOWN), the next is quick again
c6() { ctl "$T/dnsalg6.sock" '{"cmd":"counters"}' | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
D6() { ns_exec cl dig @fd98::1 -p 5757 +tries=1 +time=2 "$@"; }
ns_wait_for 10 ns_exec cl dig @fd98::1 -p 5757 +short +tries=1 +time=1 hw0.ext.example TXT || true
hq=0
while [ "$(c6 upstream_down)" = 0 ] && [ "$hq" -lt 6 ]; do hq=$((hq + 1)); D6 "hw$hq.ext.example" TXT > /dev/null; done
for i in $(seq 1 10); do echo "hq$i.ext.example TXT"; done > "$T/health.batch"
D6 -f "$T/health.batch" > "$T/health.out"
hn=$(grep -c 'status: NXDOMAIN' "$T/health.out" || true)
hmax=$(awk '/^;; Query time:/ { if ($4 > m) m = $4 } END { print m + 0 }' "$T/health.out")
# slow: 250 ms or more; a quick miss takes a few ms, one that pays the black
# hole's share at least 300.  At most two slow: on a busy machine the polling
# above may outlast the 1 s hold, and one of the batch is then the trial
# (300 ms; it fails and doubles the hold to 2 s, longer than the batch), and
# one scheduling stall may make a quick miss slow.  Without the health state
# (no DOWN, or no hold) every one of the 10 pays the share: 10 slow
hslow=$(awk '/^;; Query time:/ && $4 >= 250 { n++ } END { print n + 0 }' "$T/health.out")
check "upstream health: first upstream DOWN after $hq more misses; then 10 misses answered ($hn), $hslow slow (slowest ${hmax} ms)" \
    test "$hn" = 10 -a "$hslow" -le 2
hd=$(c6 upstream_down); hs=$(c6 upstream_skipped)
check "upstream health: upstream_down $hd, upstream_skipped $hs, logged" \
    bash -c "test '$hd' = 1 -a '$hs' -ge $((10 - hslow)) && grep -q 'upstream \[fd99::1\]:5399 down after 3 failed tries in a row' '$T/alg6.log'"
sleep 2.1   # past the hold: 1 s, or 2 s from a trial the batch may have had
D6 ht1.ext.example TXT > "$T/health2.out"; D6 ht2.ext.example TXT > "$T/health3.out"
ht1=$(awk '/^;; Query time:/ { print $4 }' "$T/health2.out"); ht2=$(awk '/^;; Query time:/ { print $4 }' "$T/health3.out")
check "upstream health: after the hold one trial (${ht1:-?} ms), then quick (${ht2:-?} ms), still one upstream_down" \
    test "${ht1:-0}" -ge 280 -a "${ht2:-999}" -lt 250 -a "$(c6 upstream_down)" = 1
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
# 12. EDNS options: COOKIE answered here, CLIENT-SUBNET end to end, others ignored
c4() { ctl "$T/dnsalg4.sock" '{"cmd":"counters"}' | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
D4() { ns_exec cl dig @fd98::1 -p 5555 +tries=1 +time=3 "$@"; }
ns_wait_for 10 ns_exec cl dig @fd98::1 -p 5555 +short +tries=1 +time=1 warm.ecs.example TXT
: > "$T/ecs.log"
D4 +cookie c1.ecs.example AAAA > "$T/cookie.out"
ck=$(sed -n 's/^; COOKIE: \([0-9a-f]*\) (good)$/\1/p' "$T/cookie.out")
check "COOKIE: client cookie back with a 16-octet RFC 9018 server cookie (${ck:-none})" \
    grep -qE '^[0-9a-f]{16}01000000[0-9a-f]{24}$' <<<"$ck"
check "COOKIE: the upstream's own cookie not passed on" bash -c "! grep -q 'COOKIE: 0000000000000000' '$T/cookie.out'"
check "COOKIE: the client's cookie not sent upstream" python3 -c '
import json,sys
l=[json.loads(x) for x in open(sys.argv[1])]
sys.exit(not l or any(c == 10 for q in l for c, v in q["opts"]))' "$T/ecs.log"
v0=$(c4 cookie_valid)
D4 +cookie="$ck" c2.ecs.example AAAA > "$T/cookie2.out"
v1=$(c4 cookie_valid)
check "COOKIE: the server cookie comes back valid ($v0 -> $v1)" test "$v1" = $((v0 + 1))
# secret rollover: SIGUSR1 rolls over at once; the cookie held from before
# still verifies (previous secret) and the answer carries a new-secret one;
# after a second rollover the first cookie is stale
pid4=$(ns_exec alg ss -ulnpH 'sport = :5555' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
rot0=$(c4 cookie_rotations); p0=$(c4 cookie_prev_secret_hits); bad0=$(c4 cookie_invalid)
kill -USR1 "$pid4"
ns_wait_for 5 test "$(c4 cookie_rotations)" = $((rot0 + 1)) || true
D4 +cookie="$ck" c4.ecs.example AAAA > "$T/cookie3.out"
ck2=$(sed -n 's/^; COOKIE: \([0-9a-f]*\) (good)$/\1/p' "$T/cookie3.out")
v2=$(c4 cookie_valid); p1=$(c4 cookie_prev_secret_hits)
check "COOKIE rollover: one rollover counted ($rot0 -> $(c4 cookie_rotations))" test "$(c4 cookie_rotations)" = $((rot0 + 1))
check "COOKIE rollover: cookie from before one rollover valid ($v1 -> $v2), a previous-secret hit ($p0 -> $p1)" \
    test "$v2" = $((v1 + 1)) -a "$p1" = $((p0 + 1))
check "COOKIE rollover: a new server cookie handed out (${ck2:-none})" \
    bash -c "grep -qE '^[0-9a-f]{16}01000000[0-9a-f]{24}\$' <<<'$ck2' && test '${ck2:32}' != '${ck:32}'"
kill -USR1 "$pid4"
ns_wait_for 5 test "$(c4 cookie_rotations)" = $((rot0 + 2)) || true
D4 +cookie="$ck" c5.ecs.example AAAA > /dev/null
check "COOKIE rollover: after two rollovers the first cookie is stale (invalid $bad0 -> $(c4 cookie_invalid))" \
    test "$(c4 cookie_invalid)" = $((bad0 + 1)) -a "$(c4 cookie_prev_secret_hits)" = "$p1"
v3=$(c4 cookie_valid)
D4 +cookie="$ck2" c6.ecs.example AAAA > /dev/null
check "COOKIE rollover: the cookie from one rollover ago still valid ($v3 -> $(c4 cookie_valid))" \
    test "$(c4 cookie_valid)" = $((v3 + 1)) -a "$(c4 cookie_prev_secret_hits)" = $((p1 + 1))
check "COOKIE rollover: SIGUSR1 keeps only the secret it retires (cookie_secrets_retired $(c4 cookie_secrets_retired)), no old-secret hit ($(c4 cookie_old_secret_hits))" \
    test "$(c4 cookie_secrets_retired)" = 1 -a "$(c4 cookie_old_secret_hits)" = 0
check "COOKIE: malformed (2 octets) gets FORMERR" grep -q 'status: FORMERR' <(D4 +ednsopt=10:0102 c3.ecs.example AAAA)
: > "$T/ecs.log"
D4 +subnet=2001:db8:1234::/48 e1.ecs.example AAAA > "$T/ecs.out"
check "ECS: the upstream's scope reaches the client" grep -q 'CLIENT-SUBNET: 2001:db8:1234::/48/40' "$T/ecs.out"
check "ECS: sent upstream as the client sent it" python3 -c '
import json,sys
l=[json.loads(x) for x in open(sys.argv[1])]
sys.exit(not any([8, "00023000" + "20010db81234"] in q["opts"] for q in l if q["qtype"] == 28))' "$T/ecs.log"
u0=$(c4 upstream_queries); D4 +subnet=2001:db8:1234::/48 e1.ecs.example AAAA >/dev/null; u1=$(c4 upstream_queries)
check "ECS: answers are not cached (upstream $u0 -> $u1)" test "$u1" -gt "$u0"
check "ECS: malformed (bits past the prefix) gets FORMERR" grep -q 'status: FORMERR' \
    <(D4 +ednsopt=8:00021700ffffff e2.ecs.example AAAA)
out=$(D +short +subnet=2001:db8:1234::/48 peer1.ext.example AAAA)
check "ECS with an upstream without ECS (nsd): still the CMULA ($out)" test "$out" = "$ULID1"
check "ECS with an upstream without ECS: no CLIENT-SUBNET in the answer" \
    bash -c "! grep -q CLIENT-SUBNET <(ns_exec cl dig @fd98::1 +tries=1 +time=3 +subnet=2001:db8:1234::/48 peer1.ext.example AAAA)"
: > "$T/ecs.log"
i0=$(c4 edns_opt_ignored)
D4 +nocmd +ednsopt=65001:abcd +nsid u1.ecs.example AAAA > "$T/unk.out"
i1=$(c4 edns_opt_ignored)
check "unknown option: answered NOERROR, counted ignored ($i0 -> $i1)" \
    bash -c "grep -q 'status: NOERROR' '$T/unk.out' && test '$i1' = $((i0 + 1))"
check "unknown option and NSID: not forwarded, not echoed" python3 -c '
import json,sys
l=[json.loads(x) for x in open(sys.argv[1])]
bad=[c for q in l for c, v in q["opts"] if c in (3, 65001)]
sys.exit(bool(bad) or "65001" in open(sys.argv[2]).read() or "NSID" in open(sys.argv[2]).read())' "$T/ecs.log" "$T/unk.out"
# 13. the TCP bound: 2 connections held idle fill instance 4; the third is closed at once
r0=$(c4 tcp_rejected)
tcpfill=$(ns_exec cl python3 -c 'import socket,time
held=[]
for i in range(2):
    s=socket.create_connection(("fd98::1",5555)); held.append(s); time.sleep(0.3)
s=socket.create_connection(("fd98::1",5555)); s.settimeout(3); t=time.time()
try: r=s.recv(10); out="closed" if r==b"" else "data"
except socket.timeout: out="open"
except ConnectionResetError: out="closed"
print(out, int((time.time()-t)*1000))')
r1=$(c4 tcp_rejected)
check "TCP: with tcp_clients=2 busy, a third connection is closed ($tcpfill)" grep -q '^closed' <<<"$tcpfill"
check "TCP: tcp_rejected counts it ($r0 -> $r1)" test "$r1" = $((r0 + 1))
sleep 0.5
D4 +short t1.ecs.example AAAA >/dev/null   # this upstream has no TCP: let the answer be cached
out=$(ns_exec cl dig @fd98::1 -p 5555 +tcp +short +tries=1 +time=3 t1.ecs.example AAAA)
check "TCP: served again once the held connections close ($out)" test "$out" = 2001:db8:77::1
check "TCP: nothing more rejected ($(c4 tcp_rejected))" test "$(c4 tcp_rejected)" = "$r1"
# 13b. a client that trickles its query a byte a second keeps a TCP thread
#      no longer than tcp_idle_ms (--tcp-idle 3000 here) in all, not 3 s per byte
to0=$(c4 tcp_timeouts)
trickle=$(ns_exec cl python3 -c 'import socket,time
s=socket.create_connection(("fd98::1",5555)); t=time.time(); out="open"
s.sendall(b"\x00\x28")
for i in range(12):
    try: s.send(b"\x00")
    except OSError: out="closed"; break
    s.settimeout(1.0)
    try:
        r=s.recv(10)
        if r==b"": out="closed"; break
    except socket.timeout: pass
    except ConnectionResetError: out="closed"; break
print(out, int((time.time()-t)*1000))')
to1=$(c4 tcp_timeouts)
trickled() { read -r st ms <<<"$trickle"; test "$st" = closed && test "$ms" -ge 2700 && test "$ms" -le 5000; }
check "TCP: a query trickled a byte a second is cut off after tcp_idle_ms in all ($trickle ms)" trickled
check "TCP: tcp_timeouts counts it ($to0 -> $to1)" test "$to1" = $((to0 + 1))
# 14. the secret's random source fails (a preloaded getrandom() that fails
#     with ENOSYS while $T/nornd exists): no start without a secret; at a
#     rollover the secrets stay, the failure is counted and logged
#     The seam is built without sanitizers, so any program may load it; a
#     daemon built with a shared sanitizer runtime (gcc's libasan.so) needs
#     that runtime first in the preload list (clang links its own in).  Only
#     env and the daemon get the preload, not timeout.
FR=$BUILD/tests/dnsalg/dnsalg_failrandom.so
PRELOAD=$FR
asanrt=$(ldd "$ALG" 2>/dev/null | awk '$1 ~ /^libasan\.so/ {print $3; exit}')
[ -n "$asanrt" ] && PRELOAD=$asanrt:$FR
touch "$T/nornd"
frc=0
frout=$(ns_exec alg timeout 10 env LD_PRELOAD="$PRELOAD" PSHIM6_TEST_RANDOM_FAIL="$T/nornd" \
    "$ALG" -l fd98::1 -p 5656 -u fd99::53 -s "$T/dnsalg5.sock" -C none 2>&1) || frc=$?
fr_refused() { test "$frc" = 1 && grep -q 'cannot draw the DNS cookie secret: getrandom: Function not implemented; not starting' <<<"$frout"; }
fr_silent() { ! ns_exec alg ss -ulnH 'sport = :5656' | grep -q .; }
check "random source fails at start: refused, exit $frc ($frout)" fr_refused
check "random source fails at start: nothing left listening" fr_silent
rm -f "$T/nornd"
ns_bg alg env LD_PRELOAD="$PRELOAD" PSHIM6_TEST_RANDOM_FAIL="$T/nornd" \
    "$ALG" -l fd98::1 -p 5656 -u fd99::53 -s "$T/dnsalg5.sock" -C none 2> "$T/alg5.log"
ns_wait_for 10 ns_exec cl dig @fd98::1 -p 5656 +short +tries=1 +time=1 ns.ext.example AAAA || true
c5() { ctl "$T/dnsalg5.sock" '{"cmd":"counters"}' | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
D5() { ns_exec cl dig @fd98::1 -p 5656 +tries=1 +time=3 "$@"; }
pid5=$(ns_exec alg ss -ulnpH 'sport = :5656' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
ck5=$(D5 +cookie plain.ext.example TXT | sed -n 's/^; COOKIE: \([0-9a-f]*\) (good)$/\1/p')
touch "$T/nornd"
kill -USR1 "$pid5"
ns_wait_for 5 test "$(c5 cookie_rotate_failed)" = 1 || true
rf1=$(c5 cookie_rotate_failed); rr1=$(c5 cookie_rotations)
check "rollover with a failing source: counted (cookie_rotate_failed $rf1), no rollover ($rr1)" test "$rf1" = 1 -a "$rr1" = 0
check "rollover with a failing source: logged" grep -q 'SIGUSR1: cookie secret not rolled over: no fresh random bytes (Function not implemented); every secret kept' "$T/alg5.log"
v5=$(c5 cookie_valid)
D5 +cookie="$ck5" plain.ext.example TXT > /dev/null
check "rollover with a failing source: the secret kept, the cookie still valid ($v5 -> $(c5 cookie_valid)), not a previous-secret hit" \
    test "$(c5 cookie_valid)" = $((v5 + 1)) -a "$(c5 cookie_prev_secret_hits)" = 0
rm -f "$T/nornd"
kill -USR1 "$pid5"
ns_wait_for 5 test "$(c5 cookie_rotations)" = 1 || true
check "source back: rolled over ($(c5 cookie_rotations)), failures stay counted ($(c5 cookie_rotate_failed))" \
    test "$(c5 cookie_rotations)" = 1 -a "$(c5 cookie_rotate_failed)" = 1
check "source back: logged" grep -q 'cookie secret rolled over after 1 failed tries' "$T/alg5.log"
# 15. the kept upstream connections closed after 10 s idle (the main thread's timer)
idle_wait=$((kept_at + 12 - $(date +%s)))
[ "$idle_wait" -le 0 ] || sleep "$idle_wait"
kept_left=$(up_tcp)
check "upstream TCP kept: closed after 10 s idle ($kept_left left, $(( $(date +%s) - kept_at )) s after)" test "$kept_left" = 0
# 16. counters
c=$(ctl "$T/dnsalg.sock" '{"cmd":"counters"}'); echo "counters: $c"
check "counters readable" grep -q '"ok":true,"queries_udp":' <<<"$c"
check "counters carry cookie_rotations, cookie_prev_secret_hits and cookie_rotate_failed" \
    grep -qE '"cookie_rotations":[0-9]+,"cookie_prev_secret_hits":[0-9]+,"cookie_rotate_failed":[0-9]+' <<<"$c"

echo "passed $pass, failed $fail"
result "dnsalg e2e: $pass passed, $fail failed; SIGHUP cookie_rotate_s ${hr0:-?}->${hr1:-?} (next in ${hin:-?} s); SIGHUP timeout_ms 2000->600: silent-upstream miss ${tmo0:-?}->${tmo1:-?} ms; failing random source: start refused (exit ${frc:-?}), rollover failures counted ${rf1:-?}; timeout->SERVFAIL in ${tt} ms; upstream health: DOWN after ${hq:-?} misses, then 10 misses slowest ${hmax:-?} ms, trial ${ht1:-?} ms; cookie prev-secret hits ${p0:-?}->${p1:-?} after one rollover; flood of ${sent:-?} distinct names: RSS +$((rss1 - rss0)) KiB; third TCP connection over tcp_clients=2: ${tcpfill:-?} ms, tcp_rejected ${r0:-?}->${r1:-?}; trickled TCP query: ${trickle:-?} ms"
[ "$fail" = 0 ]
