#!/bin/bash
# Two real pshim6-control daemons, each with its own site key and a static
# CGA host, joined by fake_wire (two stand-in dataplanes and a simulated
# wire).  Checks:
#   1. the host's first packet starts a real Shim6 handshake (CGA-signed
#      locator lists), both sides install the context, the held packet is
#      released into the fast path;
#   2. site 1's ISP x fails: REAP moves both sides to a working pair; the
#      time from the failure to the later of the two CTX_MODs is reported,
#      with the fast timers (send timeout 1 s) and with RFC default timers;
#   3. control A is killed and restarted: it takes the context back from the
#      dump; the test reports whether any new handshake (I1/I2/I2bis)
#      crossed the wire;
#   4. site 1 has no static peer: control asks the DNS ALG (a stand-in
#      answering resolve-ulid) for the locators, and the host's retransmitted
#      first packet then opens the context.
#   usage: two-proxies.sh BUILD_DIR [fast|default|both]
set -u
B=$1 MODE=${2:-both}
ctl=$B/control/pshim6-control cli=$B/control/pshim6ctl wire=$B/tests/control/fake_wire cga=$B/shim6/tool/pshim6-cga
t=$(mktemp -d /tmp/ctl-2p.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$t"; }
trap cleanup EXIT
fail=0
check() { local what=$1; shift; if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi; }
waitfor() { # seconds, pattern, file
    local n=$(( $1 * 10 ))
    for _ in $(seq $n); do grep -qE "$2" "$3" && return 0; sleep 0.1; done
    return 1
}

[ -x "$cga" ] || { echo "SKIP: pshim6-cga not built"; exit 77; }
for s in 1 2; do
    "$cga" keygen --bits 1024 --out "$t/k$s.pem" >/dev/null || exit 1
    "$cga" gen --key "$t/k$s.pem" --prefix "fd00:$s:$s:1::/64" --sec 0 > "$t/h$s" || exit 1
done
A1=$(awk '$1=="address"{print $2}' "$t/h1"); A2=$(awk '$1=="address"{print $2}' "$t/h2")

mkconf() { # site other timers [nopeers]
    local me=$1 oth=$2 h; h=$(awk '$1=="address"{print $2}' "$t/h$oth")
    local iid=${h#*:*:*:*:}
    cat > "$t/s$me.conf" <<EOC
site = { name = "site$me"; cmula_prefixes = [ "fd00:$me:$me:1::/64" ]; key_file = "$t/k$me.pem"; cga_sec = 0; };
inside = { port = "none"; };
isps = (
  { name = "x"; pa_prefix = "2001:db8:${me}1:1::/64"; port = "p1"; next_hop = "fe80::1"; },
  { name = "y"; pa_prefix = "2001:db8:${me}2:1::/64"; port = "p2"; next_hop = "fe80::1"; }
);
dataplane = { channel = "$t/dp$me.sock"; };
control = { socket = "$t/ctl$me.sock"; state_file = "$t/ctl$me.state"; };
$3
hosts = ( { name = "h"; cmula = "$(awk '$1=="address"{print $2}' "$t/h$me")"; pds = "$(awk '$1=="pds"{print $2}' "$t/h$me")"; } );
EOC
    if [ -z "${4:-}" ]; then
        echo "peers = ( { ulid = \"$h\"; locators = [ \"2001:db8:${oth}1:1:$iid\", \"2001:db8:${oth}2:1:$iid\" ]; } );" >> "$t/s$me.conf"
    else
        echo "dnsalg = { upstreams = [ \"::1\" ]; control_socket = \"$t/alg$me.sock\"; timeout_ms = 500; };" >> "$t/s$me.conf"
    fi
}

alg_run() { # the DNS ALG knows site 2's host; site 1 has no static peer
    : > "$t/down"; : > "$t/wire.log"; : > "$t/c1.log"; : > "$t/c2.log"
    mkconf 1 2 "" nopeers; mkconf 2 1 ""
    local iid=${A2#*:*:*:*:}
    python3 -c 'import socket,sys,os
p=sys.argv[1]; s=socket.socket(socket.AF_UNIX); s.bind(p); s.listen(4)
while True:
    c,_=s.accept(); l=c.makefile().readline()
    c.sendall((sys.argv[2] if sys.argv[3] in l else "{\"ok\":false,\"error\":\"not found\"}")
              .encode()+b"\n"); c.close()' "$t/alg1.sock" \
        "{\"ok\":true,\"name\":\"h2.site2.example.\",\"locators\":[\"2001:db8:21:1:$iid\",\"2001:db8:22:1:$iid\"],\"ttl\":300}" "$A2" &
    local alg=$!; pids+=($alg)
    "$wire" "$t/dp1.sock" "$t/dp2.sock" "$A1" "$A2" "$t/down" > "$t/wire.log" 2>&1 & wpid=$!; pids+=($wpid)
    sleep 0.2
    "$ctl" -d -c "$t/s1.conf" 2>>"$t/c1.log" & c1=$!; pids+=($c1)
    "$ctl" -d -c "$t/s2.conf" 2>>"$t/c2.log" & c2=$!; pids+=($c2)
    check "[alg] control asks the DNS ALG for the unknown peer" waitfor 10 "asking the DNS ALG for the locators of $A2" "$t/c1.log"
    check "[alg] the ALG's answer is cached" waitfor 10 "DNS ALG: 2 locators for $A2" "$t/c1.log"
    check "[alg] the retransmitted first packet opens the context" waitfor 15 "ctx-add A" "$t/wire.log"
    out=$("$cli" -s "$t/ctl1.sock" counters)
    check "[alg] counters: 1 lookup answered" bash -c 'grep -qE "^answered +1$" <<<"$1"' _ "$out"
    kill $c1 $c2 $wpid $alg; wait $c1 $c2 $wpid $alg 2>/dev/null
}

run() { # name timers-line
    local name=$1 timers=$2
    : > "$t/down"; : > "$t/wire.log"; : > "$t/c1.log"; : > "$t/c2.log"
    mkconf 1 2 "$timers"; mkconf 2 1 "$timers"
    "$wire" "$t/dp1.sock" "$t/dp2.sock" "$A1" "$A2" "$t/down" > "$t/wire.log" 2>&1 & wpid=$!; pids+=($wpid)
    sleep 0.2
    "$ctl" -d -c "$t/s1.conf" 2>>"$t/c1.log" & c1=$!; pids+=($c1)
    "$ctl" -d -c "$t/s2.conf" 2>>"$t/c2.log" & c2=$!; pids+=($c2)

    check "[$name] handshake: both sides install the context" waitfor 20 "ctx-add B" "$t/wire.log"
    check "[$name] handshake: side A installs it too" waitfor 5 "ctx-add A" "$t/wire.log"
    check "[$name] the held first packet is released (48 bytes)" waitfor 5 "release A len 48" "$t/wire.log"
    check "[$name] four handshake messages crossed (I1 R1 I2 R2)" \
        bash -c '[ "$(grep -cE "wire .->. type [1-4]$" "$1")" = 4 ]' _ "$t/wire.log"
    out=$("$cli" -s "$t/ctl1.sock" contexts)
    check "[$name] pshim6ctl shows the context established via ISP x" bash -c 'grep -qE "established +operational .* x +$" <<<"$1"' _ "$out"
    # TE counts the context's first pair under the ISP it chose (the
    # opening side's counter; 0 on both sides was the old defect)
    local te; te=$( { "$cli" -s "$t/ctl1.sock" --json counters; "$cli" -s "$t/ctl2.sock" --json counters; } |
        grep -o '"te\.[a-z]*":[0-9]*' | awk -F: '{s+=$2} END{print s+0}')
    check "[$name] TE counters count the new context (sum $te)" test "$te" -ge 1
    out=$("$cli" -s "$t/ctl1.sock" counters; "$cli" -s "$t/ctl2.sock" counters)
    check "[$name] counters text shows a non-zero TE line" bash -c 'grep -A2 "^traffic engineering" <<<"$1" | grep -qE "^ *(x|y) +[1-9]"' _ "$out"
    out=$("$cli" -s "$t/ctl1.sock" status)
    check "[$name] status: engine running" bash -c 'grep -q "engine:     running" <<<"$1"' _ "$out"

    sleep 1
    echo "2001:db8:11:1::/64" > "$t/down"
    check "[$name] failure seen by the wire" waitfor 5 "down-change 1" "$t/wire.log"
    check "[$name] side A moves to ISP y" waitfor 90 "ctx-mod A .* isp 1" "$t/wire.log"
    check "[$name] side B moves to A's ISP y locator" waitfor 30 "ctx-mod B .* -> 2001:db8:12:1:" "$t/wire.log"
    local t0 ta tb
    t0=$(awk '/down-change 1/{print $1; exit}' "$t/wire.log")
    ta=$(awk '/ctx-mod A .* isp 1/{print $1; exit}' "$t/wire.log")
    tb=$(awk '/ctx-mod B .* -> 2001:db8:12:1:/{print $1; exit}' "$t/wire.log")
    if [ -n "$t0" ] && [ -n "$ta" ] && [ -n "$tb" ]; then
        local last=$(( ta > tb ? ta : tb ))
        outage[$name]=$(awk -v a=$t0 -v b=$last 'BEGIN{printf "%.2f", (b-a)/1000}')
        echo "     [$name] failure to switch: A $(( ta - t0 )) ms, B $(( tb - t0 )) ms"
    else
        outage[$name]=none
    fi
    out=$("$cli" -s "$t/ctl1.sock" context fd00:1:1:1:${A1#*:*:*:*:} "$A2")
    check "[$name] pshim6ctl context shows the new pair via y and 1 change" \
        bash -c 'grep -q "via y" <<<"$1" && grep -q "1 locator pair change$" <<<"$1"' _ "$out"
    check "[$name] logs carry the context tag" grep -qE "ctx=[0-9a-f]{12} locator pair changed" "$t/c1.log"

    # control restart: context from the dump, no new handshake
    local before; before=$(wc -l < "$t/wire.log")
    kill $c1; wait $c1 2>/dev/null
    "$ctl" -d -c "$t/s1.conf" 2>>"$t/c1.log" & c1=$!; pids+=($c1)
    check "[$name] restarted control A takes the context back from the dump" waitfor 10 "dump A 1" "$t/wire.log"
    sleep 3
    out=$("$cli" -s "$t/ctl1.sock" contexts)
    check "[$name] after restart pshim6ctl lists the context (dump)" bash -c 'grep -qE "established .* y +$" <<<"$1"' _ "$out"
    # which Shim6 handshake/recovery messages crossed after the restart
    renego[$name]=$(tail -n +$((before + 1)) "$t/wire.log" | awk '/wire .->. type [1-6]$/{n[$NF]++} END{
        split("I1 R1 I2 R2 R1bis I2bis", nm, " "); s=""; for (i=1;i<=6;i++) if (n[i]) s=s nm[i] "x" n[i] " "; print (s=="" ? "none" : s)}')
    echo "     [$name] after control restart: ${renego[$name]}"
    check "[$name] no handshake or recovery message after the control restart" test "${renego[$name]}" = none
    out=$("$cli" -s "$t/ctl1.sock" --json counters)
    check "[$name] restarted control imported the context into its engine" bash -c 'grep -q "\"proxy.imported\":1" <<<"$1"' _ "$out"
    check "[$name] the dataplane kept the context (no CTX_DEL)" bash -c '! grep -q "ctx-del" "$1"' _ "$t/wire.log"
    kill $c1 $c2 $wpid; wait $c1 $c2 $wpid 2>/dev/null
    check "[$name] no sanitizer report from either daemon" bash -c '! grep -qE "Sanitizer|runtime error" "$1" "$2"' _ "$t/c1.log" "$t/c2.log"
    cp "$t/wire.log" "/tmp/two-proxies-$name.wire.log" 2>/dev/null
}

declare -A outage renego
fast='reap = { send_timeout_ms = 1000; keepalive_interval_ms = 300; initial_probe_ms = 100; initial_probes = 4; max_probe_backoff_ms = 2000; };'
[ "$MODE" = default ] || run fast "$fast"
[ "$MODE" = fast ] || run default ''
[ "$MODE" = default ] || alg_run
echo "RESULT: outage fast=${outage[fast]:-n/a}s default=${outage[default]:-n/a}s; after control restart: fast=[${renego[fast]:-n/a}] default=[${renego[default]:-n/a}]; $( [ $fail = 0 ] && echo passed || echo FAILED)"
exit $fail
