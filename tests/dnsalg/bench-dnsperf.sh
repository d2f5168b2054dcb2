#!/bin/bash
# Benchmark: cached-answer throughput and latency of pshim6-dnsalg against
# unbound configured as a plain forwarder to the same nsd, in the same run.
# dnsperf drives both from a client namespace with the same query list
# (names that carry ULID records, so the ALG serves rewritten answers).
#   BUILD=build-xyz tests/dnsalg/bench-dnsperf.sh      (RUNS=5 SECS=5 THREADS=1)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
ALG=$BUILD/dnsalg/pshim6-dnsalg
RUNS=${RUNS:-5}; SECS=${SECS:-5}; THREADS=${THREADS:-1}; NAMES=${NAMES:-200}
[ -x "$ALG" ] || { echo "missing $ALG (set BUILD)"; exit 1; }
. "$top/tests/lib/netns.sh"
ns_init dnsbench
T=$(mktemp -d /tmp/dnsalg-bench.XXXXXX); chmod 755 "$T"
trap 'rc=$?; rm -rf "$T"; ns_cleanup; exit $rc' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM

ns_add up; ns_add alg; ns_add cl
ns_link up u0 alg a0
ns_link cl c0 alg a1
ns_exec up  ip -6 addr add fd99::53/64 dev u0 nodad
ns_exec alg ip -6 addr add fd99::1/64 dev a0 nodad
ns_exec alg ip -6 addr add fd98::1/64 dev a1 nodad
ns_exec cl  ip -6 addr add fd98::2/64 dev c0 nodad

{
  echo '$ORIGIN ext.example.'; echo '$TTL 3600'
  echo '@ SOA ns hostmaster 1 3600 600 86400 3600'; echo '@ NS ns'; echo 'ns AAAA fd99::53'
  for i in $(seq 1 "$NAMES"); do
    printf 'p%d AAAA 2001:db8:30:%x::1\np%d AAAA 2001:db8:40:%x::1\n' "$i" "$i" "$i" "$i"
    printf 'p%d TYPE65300 \\# 16 fd0000020002%04x0000000000000001\n' "$i" "$i"
  done
} > "$T/ext.zone"
cat > "$T/nsd.conf" <<Z
server:
    ip-address: fd99::53
    zonesdir: "$T"
    database: ""
    zonelistfile: "$T/zone.list"
    pidfile: "$T/nsd.pid"
    xfrdfile: "$T/xfrd.state"
    logfile: "$T/nsd.log"
    username: ""
    server-count: 1
    rrl-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: ext.example.
    zonefile: "$T/ext.zone"
Z
cat > "$T/unbound.conf" <<Z
server:
    interface: fd98::1@5300
    do-ip4: no
    access-control: ::/0 allow
    username: ""
    chroot: ""
    directory: "$T"
    pidfile: "$T/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 0
    num-threads: $THREADS
    so-reuseport: yes
    module-config: "iterator"
    do-not-query-localhost: no
    harden-referral-path: no
    qname-minimisation: no
    auto-trust-anchor-file: ""
forward-zone:
    name: "."
    forward-addr: fd99::53
Z
ns_bg up nsd -d -c "$T/nsd.conf"
ns_wait_for 10 ns_exec up dig @fd99::53 +short +tries=1 +time=1 ns.ext.example AAAA
ns_bg alg unbound -d -c "$T/unbound.conf"
ns_bg alg "$ALG" -l fd98::1 -u fd99::53 -s "$T/dnsalg.sock" -C none -w "$THREADS" -r 4
ns_wait_for 10 ns_exec cl dig @fd98::1 -p 5300 +short +tries=1 +time=1 ns.ext.example AAAA
ns_wait_for 10 ns_exec cl dig @fd98::1 +short +tries=1 +time=1 ns.ext.example AAAA
check=$(ns_exec cl dig @fd98::1 +short p1.ext.example AAAA)
[ "$check" = fd00:2:2:1::1 ] || { echo "ALG does not rewrite ($check)"; exit 1; }

for i in $(seq 1 "$NAMES"); do echo "p$i.ext.example AAAA"; done > "$T/queries"
run() { # PORT SECS -> "qps latency_ms"
    ns_exec cl dnsperf -s fd98::1 -p "$1" -d "$T/queries" -l "$2" -c 4 -q 100 -t 2 2>/dev/null |
        awk '/Queries per second/{q=$4} /Average Latency/{l=$4*1000} /Queries lost/{lost=$3}
             END{printf "%s %.3f %s\n", q, l, lost}'
}
lat() { # PORT -> average latency in ms at a light, fixed load (1000 q/s, 1 in flight)
    ns_exec cl dnsperf -s fd98::1 -p "$1" -d "$T/queries" -l 3 -c 1 -q 1 -Q 1000 2>/dev/null |
        awk '/Average Latency/{printf "%.3f\n", $4*1000}'
}
run 53 2 >/dev/null; run 5300 2 >/dev/null   # warm both caches
declare -a AQ AL UQ UL
for r in $(seq 1 "$RUNS"); do
    read -r q l lost < <(run 53 "$SECS");   AQ+=("$q"); AL+=("$l"); echo "run $r pshim6-dnsalg: $q q/s, $l ms avg, lost $lost"
    read -r q l lost < <(run 5300 "$SECS"); UQ+=("$q"); UL+=("$l"); echo "run $r unbound:       $q q/s, $l ms avg, lost $lost"
done
la=$(lat 53); lu=$(lat 5300)
echo "unloaded latency (1000 q/s): pshim6-dnsalg $la ms, unbound $lu ms"
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
aq=$(med "${AQ[@]}"); al=$(med "${AL[@]}"); uq=$(med "${UQ[@]}"); ul=$(med "${UL[@]}")
ratio=$(awk -v a="$aq" -v b="$uq" 'BEGIN{printf "%.2f", a/b}')
lr=$(awk -v a="$al" -v b="$ul" 'BEGIN{printf "%.2f", a/b}')
hits=$(ns_exec alg python3 -c 'import socket,sys,json
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"{\"cmd\":\"counters\"}\n")
c=json.loads(s.makefile().readline()); print(c["cache_hits"], c["cache_misses"])' "$T/dnsalg.sock")
echo "median pshim6-dnsalg: $aq q/s, $al ms; median unbound: $uq q/s, $ul ms (cache hits/misses of the ALG: $hits)"
result "dnsperf cached AAAA, $THREADS thread(s) each, median of $RUNS x ${SECS}s: dnsalg $aq q/s ${al} ms, unbound $uq q/s ${ul} ms, qps ratio $ratio, latency ratio $lr; at 1000 q/s: dnsalg ${la} ms, unbound ${lu} ms"
