#!/bin/bash
# The primary proxy dies; the backup takes over with the replicated context.
# pshim6 runs on p1 (primary), p1b (backup) and p2, p1 and p1b with their
# `peer` sections (TB_PEER=1: replication over r1, HMAC key shared), bird2
# on p1 and p1b announcing the site's way out to r1 (OSPFv3 + BFD, p1 cost
# 10, p1b cost 100).  h1 (DHCP CMULA) opens a Shim6 context to h2 through
# p1 and p2; p1b must hold its replica.  A 50 MiB TCP transfer h1 -> h2 runs;
# mid-way p1 dies: every process in p1 is killed and its three links go
# down.  bird moves r1 to p1b, the ISPs fall through to p1b, p1b takes the
# context over from its replica, and the transfer completes with the same
# sha256.  Pass also needs: no renegotiation (R1bis/I2bis 0 at p1b and p2,
# no new context opened at p1b), the context established at p1b with the
# same tags.  RESULT: outage (longest gap in received bytes), takeover time
# (p1 killed -> p1b's takeover log line), what triggered it, counters.
# p1b also gets a peer.notify script (set by a reload) that records each
# role change; it must be told standby (at once), active (the takeover) and
# standby again (the primary's return), in that order, with the old states.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/netns.sh"
ns_init tb
BUILD=${BUILD:-$top/build}
. "$top/tests/testbed/lib/common.sh"
work=$(mktemp -d /tmp/tb-proxy-failover.XXXXXX)
srv=""; cli=""
cleanup() {
    [ -n "$cli" ] && kill "$cli" 2>/dev/null
    [ -n "$srv" ] && kill "$srv" 2>/dev/null
    "$T" down >/dev/null 2>&1
    rm -rf "$work"
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
bad=0
check() { local w=$1; shift; if "$@" >/dev/null 2>&1; then echo "ok: $w"; else echo "FAIL: $w"; bad=$((bad + 1)); fi; }
die() { echo "FAIL: $*"; exit 1; }
# one counter from pshim6ctl --json counters: GROUP.NAME
cnt() { ctl "$1" --json counters | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"].get(sys.argv[1], -1))' "$2"; }
R1=/run/pshim6-tb/bird/r1.ctl

export TB_PEER=${TB_PEER:-1}
"$T" up || die "testbed up"
# the primary first, so the backup finds it ACTIVE and stands by
"$T" pshim6 start p1 p2 p1b || die "pshim6 on p1, p2, p1b"
"$T" bird-proxy p1 inside 10 1 10.0.1.2 || die "bird on p1"
"$T" bird-proxy p1b inside 100 1 10.0.1.3 || die "bird on p1b"
check "r1 learns the way out from p1 by OSPF" \
    wait_until 30 sh -c "'$T' exec r1 ip -6 route show default proto bird | grep -q 'dev p1 '"
# pshim6 start pointed a static default at the proxy it started last (p1b);
# bird decides from here on.  A static default via p1 stays as a fallback
# under bird's (metric 2048 > 32), so a BFD flap on this loaded machine does
# not leave h1 without a route; it goes with p1's link.
"$T" exec r1 ip -6 route del default via "$(tb_addr p1b.in0)" dev p1b 2>/dev/null
"$T" exec r1 ip -6 route add default via "$(tb_addr p1.in0)" dev p1 metric 2048
H1=$("$T" dhcp h1) || die "dhcp h1"
H2=$("$T" dhcp h2) || die "dhcp h2"
"$T" publish h1="$H1" h2="$H2" >/dev/null || die "publish"
check "p1 primary and p1b backup hear each other" \
    wait_until 20 sh -c "'$CTLCLI' -s /run/pshim6-tb/ctl/p1b.sock --json status | grep -q '\"state\":\"standby\".*\"alive\":true,\"peer_state\":\"active\"'"
ctl p1b status | grep '^peer:' | sed 's/^/   /'

# peer.notify on p1b, set by a reload (it applies without a restart)
printf '#!/bin/sh\necho "$1 $2 $3" >> "%s"\n' "$work/notify.calls" > "$work/notify"
chmod 755 "$work/notify"
sed -i "s|^  role = \"backup\";|&\n  notify = \"$work/notify\";|" /run/pshim6-tb/pshim6/p1b.conf
ctl p1b reload >/dev/null || die "reload p1b with peer.notify"
check "p1b's notify script is told its state once set (standby none backup)" \
    wait_until 10 grep -qx 'standby none backup' "$work/notify.calls"

# the context, through p1
"$T" exec h1 ping -n -q -c1 -W2 "$H2" >/dev/null 2>&1 || true
check "h1 reaches h2's CMULA through p1 and p2 (Shim6 context)" wait_until 30 "$T" exec h1 ping -n -q -c1 -W1 "$H2"
tag=$(ctl p1 --json contexts | python3 -c 'import json,sys; c=json.load(sys.stdin)["contexts"]; print(c[0]["tag"] if c else "")')
ptag=$(ctl p1 --json contexts | python3 -c 'import json,sys; c=json.load(sys.stdin)["contexts"]; print(c[0]["peer_tag"] if c else "")')
[ -n "$tag" ] || die "no context at p1"
echo "   context at p1: tag $tag, peer tag $ptag"
check "p1b holds the replica" wait_until 15 sh -c "[ \"\$('$CTLCLI' -s /run/pshim6-tb/ctl/p1b.sock --json counters | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"counters\"][\"peer.replicas\"])')\" -ge 1 ]"
check "p1b serves nothing while standing by" test "$(ctl p1b --json contexts | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["contexts"]))')" = 0

# the transfer, and p1's death mid-way
mb=${STORY_MB:-50}
head -c $((mb * 1024 * 1024)) /dev/urandom > "$work/data"
want=$(sha256sum < "$work/data" | cut -d' ' -f1)
"$T" exec h2 python3 "$top/tests/testbed/lib/transfer.py" serve 5001 "$work/rx.json" &
srv=$!
wait_until 10 "$T" exec h2 sh -c "ss -ltn | grep -q ':5001 '" || die "receiver on h2"
"$T" exec h1 python3 "$top/tests/testbed/lib/transfer.py" send "$H2" 5001 "$work/data" "${STORY_SECS:-12}" > "$work/progress" 2>&1 &
cli=$!
sleep 4
echo "   progress before the failure: $(tail -1 "$work/progress")"
t_kill=$(date +%s.%N)
pids=$(ip netns pids tb-p1)
[ -n "$pids" ] && kill -9 $pids
for l in p1-x p1-y; do "$T" fail "$l" down >/dev/null; done
"$T" exec r1 ip link set p1 down
echo "   p1 killed (pids $(echo $pids | tr '\n' ' ')) and its links down at $(date -d @"${t_kill%.*}" +%T).${t_kill#*.}"
check "r1 moves the way out to p1b (OSPF/BFD)" \
    wait_until 10 sh -c "'$T' exec r1 ip -6 route show default | grep -q 'dev p1b '"
t_route=$(date +%s.%N)
wait "$cli" || true; cli=""
for _ in $(seq 100); do [ -s "$work/rx.json" ] && break; sleep 0.2; done
wait "$srv" 2>/dev/null || true; srv=""
tail -2 "$work/progress" | sed 's/^/   /'
got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sha256"])' "$work/rx.json" 2>/dev/null || echo none)
bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes"])' "$work/rx.json" 2>/dev/null || echo 0)
outage=$(python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["max_gap"])' "$work/rx.json" 2>/dev/null || echo "?")
check "the transfer completed with a matching sha256 ($bytes bytes)" test "$got" = "$want"

# the takeover at p1b
log=/run/pshim6-tb/log/control-p1b.log
line=$(grep 'peer: takeover' "$log" | tail -1)
echo "   p1b: $line"
trig=$(echo "$line" | sed -n 's/.*takeover (\([^)]*\)).*/\1/p')
takeover_s=$(python3 - "$t_kill" "$line" <<'EOF'
import sys, datetime
t_kill = float(sys.argv[1])
hms = sys.argv[2].split()[0]
d = datetime.datetime.fromtimestamp(t_kill)
h, m, s = hms.split(":")
t = d.replace(hour=int(h), minute=int(m), second=0, microsecond=0).timestamp() + float(s)
print("%.2f" % (t - t_kill))
EOF
) || takeover_s="?"
route_s=$(echo "$t_route - $t_kill" | bc | awk '{printf "%.1f", $1}')
imported=$(cnt p1b peer.takeover_imported)
check "p1b took over (imported and installed the replicated context)" test "$imported" -ge 1
check "p1b's notify script was told: active standby backup" wait_until 5 grep -qx 'active standby backup' "$work/notify.calls"
inc_b=$(cnt p1b peer.takeovers_incomplete); whole_b=$(cnt p1b peer.syncs_rx); partial_b=$(cnt p1b peer.sync_incomplete)
check "p1b's replica was complete when it took over ($whole_b whole full syncs received, $partial_b incomplete)" test "$inc_b" = 0
check "the context lives on at p1b with the same tags" sh -c "'$CTLCLI' -s /run/pshim6-tb/ctl/p1b.sock --json contexts | grep -q '\"tag\":\"$tag\",\"peer_tag\":\"$ptag\",\"state\":\"established\"'"
r1bis_b=$(cnt p1b engine.r1bis_sent); i2bis_b=$(cnt p1b engine.i2bis_sent)
r1bis_2=$(cnt p2 engine.r1bis_sent); i2bis_2=$(cnt p2 engine.i2bis_sent)
opens_b=$(cnt p1b proxy.opens); est_b=$(cnt p1b engine.ctx_established)
check "no renegotiation: R1bis/I2bis 0 at p1b ($r1bis_b/$i2bis_b) and p2 ($r1bis_2/$i2bis_2)" \
    test "$r1bis_b$i2bis_b$r1bis_2$i2bis_2" = 0000
check "no new context opened at p1b (opens $opens_b, handshakes $est_b)" test "$opens_b$est_b" = 00
echo "   p1b peer counters:"; ctl p1b counters | sed -n '/^primary\/backup/,/^reverse/p' | grep -E '^(state|replicas|hb_rx|ctx_rx|syncs_rx|sync_incomplete|rx_lost|takeovers_incomplete|takeovers|takeovers_silence|takeovers_traffic|takeover_imported|last_takeover_after_ms|last_takeover_us|standby_punts_dropped) ' | sed 's/^/     /'

# The primary returns (PRIMARY_RETURN=1, the default): mid-way through a
# second transfer p1 comes back; it finds p1b ACTIVE, takes a full sync,
# imports it and serves; p1b yields (its dataplane keeps forwarding while
# routing moves back); only then do p1's ISP links and bird come back.
ret=""
if [ "${PRIMARY_RETURN:-1}" = 1 ]; then
    head -c $((30 * 1024 * 1024)) /dev/urandom > "$work/data2"
    want2=$(sha256sum < "$work/data2" | cut -d' ' -f1)
    "$T" exec h2 python3 "$top/tests/testbed/lib/transfer.py" serve 5002 "$work/rx2.json" &
    srv=$!
    wait_until 10 "$T" exec h2 sh -c "ss -ltn | grep -q ':5002 '" || die "receiver on h2"
    "$T" exec h1 python3 "$top/tests/testbed/lib/transfer.py" send "$H2" 5002 "$work/data2" 20 > "$work/progress2" 2>&1 &
    cli=$!
    sleep 3
    t_ret=$(date +%s.%N)
    "$T" exec r1 ip link set p1 up
    "$T" pshim6 start p1 || die "pshim6 on p1 again"
    "$T" exec r1 ip -6 route del default via "$(tb_addr p1.in0)" dev p1 2>/dev/null || true
    "$T" exec r1 ip -6 route add default via "$(tb_addr p1.in0)" dev p1 metric 2048
    check "p1 comes back ACTIVE after a full sync from p1b" \
        wait_until 20 sh -c "'$CTLCLI' -s /run/pshim6-tb/ctl/p1.sock --json status | grep -q '\"role\":\"primary\",\"state\":\"active\"'"
    "$T" exec ispx ip link set p1 up; "$T" exec ispy ip link set p1 up
    "$T" restore p1-x >/dev/null; "$T" restore p1-y >/dev/null
    "$T" bird-proxy p1 inside 10 1 10.0.1.2 || die "bird on p1 again"
    check "r1 moves the way out back to p1" \
        wait_until 30 sh -c "'$T' exec r1 ip -6 route show default proto bird | grep -q 'dev p1 '"
    wait "$cli" || true; cli=""
    for _ in $(seq 100); do [ -s "$work/rx2.json" ] && break; sleep 0.2; done
    wait "$srv" 2>/dev/null || true; srv=""
    got2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sha256"])' "$work/rx2.json" 2>/dev/null || echo none)
    outage2=$(python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["max_gap"])' "$work/rx2.json" 2>/dev/null || echo "?")
    check "the second transfer, across the primary's return, completed with a matching sha256" test "$got2" = "$want2"
    grep -h 'peer: takeover\|peer: .* -> ' /run/pshim6-tb/log/control-p1.log | sed 's/^/   p1: /'
    check "p1 holds the context again with the same tags" sh -c "'$CTLCLI' -s /run/pshim6-tb/ctl/p1.sock --json contexts | grep -q '\"tag\":\"$tag\",\"peer_tag\":\"$ptag\",\"state\":\"established\"'"
    check "p1b yielded and serves nothing" sh -c "[ \"\$('$CTLCLI' -s /run/pshim6-tb/ctl/p1b.sock --json contexts | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"contexts\"]))')\" = 0 ]"
    yields=$(cnt p1b peer.yields)
    check "p1b's notify script was told: standby active backup" wait_until 5 grep -qx 'standby active backup' "$work/notify.calls"
    rr=$(( $(cnt p1 engine.r1bis_sent) + $(cnt p1 engine.i2bis_sent) + $(cnt p1b engine.r1bis_sent) + $(cnt p1b engine.i2bis_sent) + $(cnt p2 engine.r1bis_sent) + $(cnt p2 engine.i2bis_sent) ))
    opens1=$(cnt p1 proxy.opens)
    check "p1 took the site back from a complete replica (full sync from p1b whole)" test "$(cnt p1 peer.takeovers_incomplete)" = 0
    check "still no renegotiation (R1bis+I2bis at p1, p1b, p2: $rr; opens at p1: $opens1)" test "$rr$opens1" = 00
    ret="; primary return mid-transfer: 30 MiB sha256 ok, outage ${outage2}s, p1b yields $yields, R1bis+I2bis $rr"
fi
echo "   p1b notify calls: $(tr '\n' ';' < "$work/notify.calls" 2>/dev/null)"
want_calls="standby none backup;active standby backup;"
[ "${PRIMARY_RETURN:-1}" = 1 ] && want_calls="${want_calls}standby active backup;"
check "p1b's notify calls, all and in order" test "$(tr '\n' ';' < "$work/notify.calls")" = "$want_calls"
nruns=$(cnt p1b peer.notify_runs); nfail=$(cnt p1b peer.notify_failed); nskip=$(cnt p1b peer.notify_skipped)
[ "$bad" = 0 ] || { echo "FAIL: $bad checks"; exit 1; }
echo "RESULT: p1 killed + links down mid-transfer: ${mb} MiB h1->h2 sha256 ok; outage ${outage}s; takeover ${takeover_s}s after the kill (trigger: $trig; r1 on p1b after ${route_s}s); renegotiation: none (p1b R1bis $r1bis_b I2bis $i2bis_b, p2 R1bis $r1bis_2 I2bis $i2bis_2, p1b opens $opens_b); imported $imported$ret; p1b notify: $nruns runs, $nfail failed, $nskip skipped ($want_calls)"
