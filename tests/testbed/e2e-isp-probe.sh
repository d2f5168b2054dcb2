#!/bin/bash
# Scenario 4 through an ISP failure: host 1 and the legacy peer (no Shim6) talk
# through NATv6 on p1, whose dataplane probes each ISP (the ISP router's end
# of the access link, templates/pshim6.conf.in).  Nothing else tells NATv6
# that an ISP is dark: REAP watches only Shim6 contexts.
#
#   a. both ISPs probed and answering, none failed; then one of ISP X's two
#      targets stops answering, and X still works;
#   b. the ISP A that NATv6 picks for (h1, leg) is the one whose PA address
#      the peer sees; B is the other;
#   c. A's access link fails (FAIL_MODE, default down): the dataplane says
#      so within seconds, and a new connection of the pair goes by B;
#   d. during the outage a paced TCP transfer and a one-way UDP flow start
#      (by B); A comes back mid-way; both keep B to the end, because each
#      moved flow was noted.  The UDP flow matters: no packet of it comes
#      back, so only the note made on the way out keeps it on B (a TCP
#      connection is noted again by every packet in).  Then a new connection
#      of the pair is back on A.
#   e. ISP X, which the kernel's default route uses, fails: control.isp_notify
#      moves that route to Y, and the DNS ALG still answers a fresh name;
#   f. A drained by config (isps.drain, a reload): as if failed, then back.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/netns.sh"
ns_init tb
BUILD=${BUILD:-$top/build}
. "$top/tests/testbed/lib/common.sh"
work=$(mktemp -d /tmp/tb-isp-probe.XXXXXX)
trap 'rc=$?; "$T" down >/dev/null 2>&1; rm -rf "$work"; exit $rc' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
MODE=${FAIL_MODE:-down}
DPLOG=${TB_RUN:-/run/pshim6-tb}/log/dp-p1.log
fail() {
    echo "FAIL: $*"
    ctl p1 counters 2>/dev/null | grep -E '^(natv6_|isp_|drop_no_route)' || true
    echo "dataplane log (p1), last lines:"; tail -4 "$DPLOG" 2>/dev/null | sed 's/^/  /'
    exit 1
}

dpc() { ctl p1 -j counters | grep -o "\"\(dataplane\.\)\?$1\":[0-9]*" | head -1 | cut -d: -f2; }
# counter NAME is above N (pshim6ctl shows the dataplane's counters as the
# daemon last polled them: a fraction of a second late)
dpc_above() { local v; v=$(dpc "$1"); [ "${v:-0}" -gt "$2" ]; }
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
# poll_ms SECONDS cmd...: like wait_until, but every 50 ms, so that the time
# it took is known to a tenth of a second
poll_ms() {
    local end=$(( $(ms_now) + $1 * 1000 )); shift
    until "$@" >/dev/null 2>&1; do [ "$(ms_now)" -lt "$end" ] || return 1; sleep 0.05; done
}
log_has() { grep -q "$1" "$DPLOG"; }
# /pshim6/ports field of p1's dataplane (port 1 is ISP 0 = x, port 2 ISP 1 = y)
TEL=$(command -v dpdk-telemetry.py || true)
tel_port() { # FIELD PORT
    [ -n "$TEL" ] || return 0
    echo /pshim6/ports | timeout 10 "$TEL" -f tb-p1 2>/dev/null | python3 -c '
import json, sys
for l in sys.stdin:
    l = l.strip()
    if l.startswith("{") and "/pshim6/ports" in l:
        print(json.loads(l)["/pshim6/ports"].get(sys.argv[1], "")); break' "port$2_$1"
}
isp_state_is() { [ -z "$TEL" ] || [ "$(tel_port isp_state "$1")" = "$2" ]; }
# h1's PA address under an ISP: the prefix swapped, the rest kept
pa_of() { python3 -c 'import ipaddress as i,sys; n=i.IPv6Network(sys.argv[2]); m=(1<<(128-n.prefixlen))-1
print(i.IPv6Address(int(n.network_address) | (int(i.IPv6Address(sys.argv[1])) & m)))' "$1" "$2"; }
# the address the legacy peer's http server saw last
http_src() { grep -o '^[0-9a-f:]*' "$work/http.log" | grep : | tail -1; }
# curl a file from the peer by its address, or by its name (URL_HOST):
# the name goes through p1's DNS ALG, whose upstream queries leave p1 by
# the kernel's default route, which control.isp_notify moves (step c);
# sets SRC, the address the peer saw
curl_get() { # WHAT
    local before
    before=$(grep -c 'GET /data' "$work/http.log" || true)
    "$T" exec h1 curl -sS -g --max-time 15 -o "$work/got" "http://${URL_HOST:-[$leg]}/data" || fail "curl h1 -> legacy ($1)"
    [ "$(sha256sum < "$work/got" | cut -d' ' -f1)" = "$want" ] || fail "sha256 mismatch ($1)"
    wait_until 5 sh -c "[ \$(grep -c 'GET /data' '$work/http.log') -gt $before ]" || fail "the peer logged no request ($1)"
    SRC=$(http_src)
}
curl_from() { # PA WHAT: the peer must have seen h1 from PA
    curl_get "$2"
    [ "$SRC" = "$1" ] || fail "$2: the peer saw h1 as $SRC, want $1"
}

tb_world || fail "testbed with pshim6 on p1 and p2"
leg=$(tb_addr leg.eth0)
isp_ix() { [ "$1" = x ] && echo 0 || echo 1; }

# ---- a. both ISPs probed and answering
p0=$(dpc isp_probes); r0=$(dpc isp_probe_replies)
grew() { dpc_above isp_probes $((p0 + 4)) && dpc_above isp_probe_replies $((r0 + 4)); }
wait_until 10 grew || fail "ISP probes do not go out or are not answered (isp_probes $(dpc isp_probes), replies $(dpc isp_probe_replies))"
[ "$(dpc isp_down)" = 0 ] || fail "an ISP failed with both access links up (isp_down $(dpc isp_down))"
for p in 1 2; do
    isp_state_is $p up || fail "telemetry: port $p isp_state '$(tel_port isp_state $p)', want up"
done
rtt=$([ -n "$TEL" ] && echo "rtt $(tel_port probe_rtt_us 1)/$(tel_port probe_rtt_us 2) us" || echo "rtt not read (no dpdk-telemetry.py)")
echo "ok: both ISPs probed and answering: isp_probes $p0 -> $(dpc isp_probes), replies $r0 -> $(dpc isp_probe_replies), isp_down 0, $rtt"
# X's first target (its access-link end) drops echo requests for 8 rounds,
# more than the 3 lost in a row that fail an ISP: the core-side target's
# answers keep X working
nh_x=$(tb_addr ispx.p1)
drop_rule() { "$T" exec ispx ip6tables "$1" INPUT -d "$nh_x" -p icmpv6 --icmpv6-type echo-request -j DROP; }
drop_rule -I || fail "ip6tables on ispx"
r1=$(dpc isp_probe_replies)
sleep 2.4
dropped=$("$T" exec ispx ip6tables -L INPUT -v -n -x | awk -v a="$nh_x" '$3 == "DROP" && $0 ~ a {print $1; exit}')
drop_rule -D || fail "ip6tables on ispx (removing the rule)"
[ "${dropped:-0}" -ge 5 ] || fail "ispx dropped ${dropped:-0} echo requests to $nh_x in 2.4 s, want 5 or more"
[ "$(dpc isp_down)" = 0 ] || fail "ISP X failed with its core-side target answering (isp_down $(dpc isp_down))"
isp_state_is 1 up || fail "telemetry: port 1 isp_state '$(tel_port isp_state 1)' with one target answering, want up"
! log_has "ISP 0 (port [^)]*) failed" || fail "the dataplane logged ISP X failed with one target answering"
dpc_above isp_probe_replies $((r1 + 8)) || fail "isp_probe_replies $r1 -> $(dpc isp_probe_replies) in 2.4 s"
echo "ok: ISP X's first target silent for 2.4 s ($dropped echo requests dropped at ispx): X still works on its second target's answers (isp_down 0, replies $r1 -> $(dpc isp_probe_replies))"

# ---- b. the ISP NATv6 picks for (h1, leg)
head -c $((4 * 1024 * 1024)) /dev/urandom > "$work/data"
want=$(sha256sum < "$work/data" | cut -d' ' -f1)
"$T" exec leg sh -c "cd '$work' && exec python3 -m http.server --bind :: 80" >"$work/http.log" 2>&1 &
wait_until 10 "$T" exec leg sh -c "ss -ltn | grep -q ':80 '" || fail "http server on the legacy peer"
pax=$(pa_of "$H1" "$(tb_addr site1.pa.x)"); pay=$(pa_of "$H1" "$(tb_addr site1.pa.y)")
curl_get "both ISPs up"
case "$SRC" in
    "$pax") a=x; b=y ;;
    "$pay") a=y; b=x ;;
    *) fail "the legacy peer saw h1 as '$SRC', neither $pax nor $pay" ;;
esac
ia=$(isp_ix $a); ib=$(isp_ix $b)
pa_a=$(eval echo "\$pa$a"); pa_b=$(eval echo "\$pa$b")
curl_from "$pa_a" "both ISPs up"
echo "ok: NATv6 puts (h1, leg) on ISP ${a^^}: the peer saw $pa_a, twice; B is ${b^^}"

# ---- c. A fails
moved0=$(dpc natv6_isp_moved)
probe_a="$(tb_addr isp$a.p1), $(tb_addr isp$a.core)"
tf=$(ms_now)
"$T" fail "p1-$a" "$MODE" >/dev/null || fail "testbed fail p1-$a $MODE"
poll_ms 10 log_has "ISP $ia (port [^)]*) failed: 3 probes to $probe_a unanswered" \
    || fail "no dataplane line saying ISP $ia (${a^^}) failed, 10 s after p1-$a went $MODE"
det_log=$(( $(ms_now) - tf ))
isdown() { [ "$(dpc isp_down)" = 1 ]; }
poll_ms 5 isdown || fail "counter isp_down $(dpc isp_down), want 1"
det_cnt=$(( $(ms_now) - tf ))
isp_state_is $((ia + 1)) down || fail "telemetry: port $((ia + 1)) isp_state '$(tel_port isp_state $((ia + 1)))', want down"
isp_state_is $((ib + 1)) up || fail "telemetry: port $((ib + 1)) isp_state '$(tel_port isp_state $((ib + 1)))', want up"
echo "ok: p1-$a $MODE: the dataplane failed ISP ${a^^} after ${det_log} ms (log line), ${det_cnt} ms (isp_down = 1)"
# control hears it too (ISP_STATE): its status shows the probes' verdict per ISP
probes_of() { ctl p1 -j status | python3 -c 'import json,sys; print(json.load(sys.stdin)["isps"][int(sys.argv[1])]["probe_failed"])' "$1"; }
ctl_says() { [ "$(probes_of "$1")" = "$2" ]; }
wait_until 5 ctl_says "$ia" True || fail "pshim6-control's status: ISP ${a^^} probe_failed $(probes_of "$ia"), want True"
ctl_says "$ib" False || fail "pshim6-control's status: ISP ${b^^} probe_failed $(probes_of "$ib"), want False"
echo "ok: pshim6-control was told: its status shows ISP ${a^^} failed by the probes, ${b^^} working"
# ... and ran control.isp_notify, which keeps the appliance's own default
# route on a working ISP (templates/isp-notify.in): the DNS ALG's upstream
# queries follow it, so names still resolve
hook_log=${TB_RUN:-/run/pshim6-tb}/pshim6/p1.isp/log
wait_until 5 grep -q "failed working isp$a" "$hook_log" || fail "isp_notify was not run for ISP ${a^^}: $(tail -3 "$hook_log" 2>/dev/null | tr '\n' ';')"
def_dev=$([ "$a" = x ] && echo ispy || echo ispx)
wait_until 5 sh -c "ip -n tb-p1 -6 route show default | grep -q 'dev $def_dev'" \
    || fail "p1's default route is '$(ip -n tb-p1 -6 route show default)', want dev $def_dev"
URL_HOST=www.legacy.example curl_from "$pa_b" "by name, ISP ${a^^} failed"
echo "ok: isp_notify ran ('$(grep "isp$a" "$hook_log" | tail -1 | cut -d' ' -f2-)'), p1's own default route is on $def_dev, and h1 fetched www.legacy.example by name through the DNS ALG"
curl_from "$pa_b" "ISP ${a^^} failed"
wait_until 5 dpc_above natv6_isp_moved "${moved0:-0}" || fail "natv6_isp_moved did not grow ($moved0)"
echo "ok: during the outage a new connection goes by ISP ${b^^}: 4 MiB, sha256 matches, the peer saw $pa_b; natv6_isp_moved $moved0 -> $(dpc natv6_isp_moved)"

# ---- d. flows started in the outage keep B when A comes back
cat > "$work/udp.py" <<'EOF'
import os, socket, sys, time
if sys.argv[1] == "recv":      # recv PORT LOG: a line "source seq" a datagram
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::", int(sys.argv[2])))
    out = open(sys.argv[3], "a", buffering=1)
    while True:
        b, a = s.recvfrom(2048)
        out.write("%s %s\n" % (a[0], b.decode(errors="replace")))
else:                          # send HOST PORT STOPFILE: one socket, one flow, every 20 ms
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.connect((sys.argv[2], int(sys.argv[3])))
    n, end = 0, time.monotonic() + 60
    while not os.path.exists(sys.argv[4]) and time.monotonic() < end:
        try:
            s.send(b"%d" % n)
        except OSError:
            pass
        n += 1
        time.sleep(0.02)
EOF
head -c $((16 * 1024 * 1024)) /dev/urandom > "$work/big"
bwant=$(sha256sum < "$work/big" | cut -d' ' -f1)
"$T" exec leg python3 "$top/tests/testbed/lib/transfer.py" serve 5001 "$work/t.json" >"$work/serve.log" 2>&1 &
"$T" exec leg python3 "$work/udp.py" recv 9999 "$work/udp.log" >/dev/null 2>&1 &
wait_until 10 "$T" exec leg sh -c "ss -ltn | grep -q ':5001 ' && ss -lun | grep -q ':9999 '" || fail "transfer and UDP receivers on the legacy peer"
noted0=$(dpc natv6_flows_noted)
timeout 60 "$T" exec h1 python3 "$top/tests/testbed/lib/transfer.py" send "$leg" 5001 "$work/big" 8 >"$work/send.log" 2>&1 &
cli=$!
"$T" exec h1 python3 "$work/udp.py" send "$leg" 9999 "$work/udp.stop" >/dev/null 2>&1 &
udp=$!
udp_n() { [ -f "$work/udp.log" ] && wc -l < "$work/udp.log" || echo 0; }
udp_above() { [ "$(udp_n)" -gt "$1" ]; }
wait_until 10 sh -c "grep -q 'progress  *[1-9][0-9]%' '$work/send.log'" || fail "the transfer did not start ($(tail -1 "$work/send.log"))"
wait_until 5 udp_above 5 || fail "the UDP flow did not reach the peer"
# both noted as they left: the UDP flow has nothing else to note it
wait_until 5 dpc_above natv6_flows_noted $((${noted0:-0} + 1)) \
    || fail "two flows moved to ISP ${b^^}, natv6_flows_noted $noted0 -> $(dpc natv6_flows_noted): not each noted as it left"
echo "ok: a 16 MiB paced transfer and a UDP flow started by ISP ${b^^} (the transfer at $(tail -1 "$work/send.log" | awk '{print $2 ", " $3}')); flows noted $noted0 -> $(dpc natv6_flows_noted)"

flow0=$(dpc natv6_out_flow)
tr=$(ms_now)
"$T" restore "p1-$a" >/dev/null || fail "testbed restore p1-$a"
poll_ms 10 log_has "ISP $ia (port [^)]*) works again" || fail "no dataplane line saying ISP $ia (${a^^}) works again, 10 s after p1-$a came back"
rec_log=$(( $(ms_now) - tr ))
at=$(tail -1 "$work/send.log" | awk '{print $2 ", " $3}')
kill -0 $cli 2>/dev/null || fail "the transfer ended before ISP ${a^^} came back: nothing tells whether it kept ISP ${b^^}"
u0=$(udp_n)
isp_state_is $((ia + 1)) up || fail "telemetry: port $((ia + 1)) isp_state '$(tel_port isp_state $((ia + 1)))' after recovery, want up"
echo "ok: p1-$a restored: the dataplane says ISP ${a^^} works again after ${rec_log} ms (the transfer at $at)"
wait_until 5 ctl_says "$ia" False || fail "pshim6-control's status: ISP ${a^^} probe_failed $(probes_of "$ia") after the recovery, want False"
wait_until 5 grep -q "working failed isp$a" "$hook_log" || fail "isp_notify was not told ISP ${a^^} works again"
wait_until 5 sh -c "ip -n tb-p1 -6 route show default | grep -q 'dev ispx'" \
    || fail "p1's default route is '$(ip -n tb-p1 -6 route show default)' after the recovery, want dev ispx"

wait $cli || fail "the transfer failed after ISP ${a^^} came back: $(tail -2 "$work/send.log" | tr '\n' ' ')"
wait_until 15 test -s "$work/t.json" || fail "the receiver wrote no result"
tj() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/t.json" "$1"; }
got=$(tj sha256); peer=$(tj peer); gap=$(python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["max_gap"])' "$work/t.json")
[ "$got" = "$bwant" ] || fail "transfer sha256 mismatch ($(tj bytes) bytes): $got != $bwant"
[ "$peer" = "$pa_b" ] || fail "the transfer's peer saw h1 as $peer, want $pa_b"
wait_until 5 dpc_above natv6_out_flow "${flow0:-0}" || fail "no packet out by a noted flow's ISP after the recovery (natv6_out_flow $flow0)"
echo "ok: the transfer kept ISP ${b^^} across the recovery: 16 MiB, sha256 matches, from $peer, longest gap ${gap} s; natv6_out_flow $flow0 -> $(dpc natv6_out_flow)"

wait_until 5 udp_above $((u0 + 25)) || fail "the UDP flow stopped reaching the peer after ISP ${a^^} came back ($(udp_n) datagrams, $u0 at the recovery)"
touch "$work/udp.stop"; wait $udp 2>/dev/null || true
un=$(udp_n)
others=$(awk -v b="$pa_b" '$1 != b {print $1}' "$work/udp.log" | sort | uniq -c | awk '{printf "%s (%s) ", $2, $1}')
[ -z "$others" ] || fail "the UDP flow left ISP ${b^^} when ISP ${a^^} came back: the peer saw it from $others(want all from $pa_b; $u0 of $un came before the recovery)"
echo "ok: the UDP flow kept ISP ${b^^}: $un datagrams, $((un - u0)) after the recovery, all from $pa_b"

curl_from "$pa_a" "after ISP ${a^^} came back"
echo "ok: a new connection of the pair is back on ISP ${a^^}: the peer saw $pa_a"

# ---- e. the appliance's own traffic when ISP X (the kernel's default route) fails
# A name nobody asked before needs the DNS ALG's upstream: it must still be
# answered (NXDOMAIN or an address, not SERVFAIL or silence), because
# control.isp_notify moved p1's default route to ispy.
name_status() { "$T" exec h1 dig +time=3 +tries=1 AAAA "$1" 2>/dev/null | grep -o 'status: [A-Z]*' | cut -d' ' -f2; }
n0=$(grep -c "failed working ispx" "$hook_log" || true)
"$T" fail p1-x "$MODE" >/dev/null || fail "testbed fail p1-x $MODE"
wait_until 10 sh -c "[ \$(grep -c 'failed working ispx' '$hook_log') -gt $n0 ]" || fail "isp_notify was not told ISP X failed"
wait_until 5 sh -c "ip -n tb-p1 -6 route show default | grep -q 'dev ispy'" \
    || fail "p1's default route is '$(ip -n tb-p1 -6 route show default)' with ISP X failed, want dev ispy"
fresh=probe-$RANDOM-$RANDOM.legacy.example
st=$(name_status "$fresh")
case "$st" in NXDOMAIN|NOERROR) ;; *) fail "with ISP X failed, $fresh through p1's DNS ALG: status '${st:-no answer}'" ;; esac
"$T" restore p1-x >/dev/null || fail "testbed restore p1-x"
wait_until 10 sh -c "ip -n tb-p1 -6 route show default | grep -q 'dev ispx'" \
    || fail "p1's default route is '$(ip -n tb-p1 -6 route show default)' after ISP X came back, want dev ispx"
echo "ok: with ISP X failed, isp_notify moved p1's own default route to ispy and a fresh name ($fresh) was answered $st through the DNS ALG; back on ispx after"

# ---- f. ISP A drained by config (isps.drain, then a reload of both daemons):
# taken out as its failure took it in c, with nothing failed; back by the
# same way
conf=${TB_RUN:-/run/pshim6-tb}/pshim6/p1.conf
reload_p1() {
    local pid
    pid=$(pgrep -f "pshim6-dataplane -c $conf" | head -1)
    [ -n "$pid" ] && kill -HUP "$pid" || fail "SIGHUP to p1's dataplane"
    ctl p1 reload >/dev/null || fail "pshim6ctl reload on p1"
}
ctl_shows() { ctl p1 status | grep -q "^isp$a .* $1\$"; }
n0=$(grep -c "failed working isp$a" "$hook_log" || true); downs0=$(dpc isp_down)
sed -i "s|^    name = \"isp$a\";|&\n    drain = true;|" "$conf"
grep -q "^    drain = true;" "$conf" || fail "could not set isps.drain in $conf"
reload_p1
wait_until 5 log_has "isps.isp$a.drain false -> true" || fail "the dataplane did not log the drain on reload"
wait_until 5 isp_state_is $((ia + 1)) drained || fail "telemetry: port $((ia + 1)) isp_state '$(tel_port isp_state $((ia + 1)))', want drained"
wait_until 5 ctl_shows drained || fail "pshim6ctl status does not show ISP ${a^^} drained: $(ctl p1 status | grep "^isp$a")"
# the two reloads race: the script may hear `failed` first, then `drained`
# once control's reload takes the drain; it ends on `drained` either way
# what the script was last told about ISP A (its log: time NEW OLD ISP)
hook_now_is() { [ "$(grep " isp$a\$" "$hook_log" | tail -1 | awk '{print $2}')" = "$1" ]; }
wait_until 5 hook_now_is drained || fail "isp_notify was not told ISP ${a^^} is drained: $(grep " isp$a\$" "$hook_log" | tail -2 | tr '\n' ';')"
[ "$(grep -c 'failed working isp$a' "$hook_log")" -le $((n0 + 1)) ] || fail "isp_notify heard ISP ${a^^} fail more than once at the drain"
curl_from "$pa_b" "ISP ${a^^} drained"
[ "$(dpc isp_down)" = "$downs0" ] || fail "isp_down $downs0 -> $(dpc isp_down) at a drain: a drain is not a failure"
echo "ok: isps.drain on ISP ${a^^} and a reload: the dataplane and pshim6ctl say drained, isp_notify was told '$(grep " isp$a\$" "$hook_log" | tail -1 | cut -d' ' -f2-)', a new connection of the pair goes by ${b^^}; no failure counted"
sed -i "/^    drain = true;/d" "$conf"
reload_p1
wait_until 5 isp_state_is $((ia + 1)) up || fail "telemetry: port $((ia + 1)) isp_state '$(tel_port isp_state $((ia + 1)))' after the drain was lifted, want up"
wait_until 5 ctl_shows working || fail "pshim6ctl status after the drain was lifted: $(ctl p1 status | grep "^isp$a")"
wait_until 5 hook_now_is working || fail "isp_notify was not told ISP ${a^^} works after the drain: $(grep " isp$a\$" "$hook_log" | tail -2 | tr '\n' ';')"
curl_from "$pa_a" "drain lifted"
echo "ok: the drain lifted: ISP ${a^^} works again and the pair's next connection is back on it"

probes=$(dpc isp_probes); replies=$(dpc isp_probe_replies)
result "$MODE on p1-$a: ISP ${a^^} failed after ${det_log} ms (log), ${det_cnt} ms (counter); works again ${rec_log} ms after restore; outage curl by ${b^^} ok; 16 MiB transfer and UDP flow kept ${b^^} across the recovery (gap ${gap} s); new connection back on ${a^^}; probe $rtt; probes $probes, replies $replies, moved $(dpc natv6_isp_moved), noted $(dpc natv6_flows_noted), out by flow $(dpc natv6_out_flow)"
