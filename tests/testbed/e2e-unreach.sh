#!/bin/bash
# A peer that never answers the handshake: p2's pshim6-control is stopped
# (its dataplane still forwards, but nothing answers an I1), and host 1
# opens TCP to host 2's CMULA.  p1 holds the SYNs, gives the handshake up
# (TB_I1=fast: three I1s over about 3.5 s) and sends host 1 an ICMPv6
# Destination Unreachable for each held packet, so the connection fails at
# once instead of waiting out TCP's SYN retries (curl's 30 s limit here).  A
# second attempt, while the peer is held down, fails within a second.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/netns.sh"
ns_init tb
BUILD=${BUILD:-$top/build}
. "$top/tests/testbed/lib/common.sh"
export TB_I1=fast
trap 'rc=$?; "$T" down >/dev/null 2>&1; exit $rc' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
fail() { echo "FAIL: $*"; ctl p1 counters 2>/dev/null | grep -E '^proxy\.(held|holddown|unreach)' || true; exit 1; }
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
counter() { ctl p1 -j counters | grep -o "\"proxy\.$1\":[0-9]*" | cut -d: -f2; }

tb_world || fail "testbed with pshim6 on p1 and p2"
conf2=${TB_RUN:-/run/pshim6-tb}/pshim6/p2.conf
pkill -f "pshim6-control -d -c $conf2" || fail "no pshim6-control on p2 to stop"
wait_until 10 sh -c "! pgrep -f 'pshim6-contro[l] -d -c $conf2'" || fail "pshim6-control on p2 did not stop"
echo "ok: p2's pshim6-control stopped: nothing answers p1's I1s for host 2"

# connect: curl's exit code 7 is "failed to connect", 28 a timeout
attempt() { # WHAT: sets RC, MS, ERR
    local t0
    t0=$(ms_now)
    RC=0
    ERR=$("$T" exec h1 curl -g -sS --max-time 30 -o /dev/null "http://[$H2]:80/" 2>&1) || RC=$?
    MS=$(( $(ms_now) - t0 ))
    echo "   $1: curl exit $RC after $MS ms: $ERR"
}
# what host 1's kernel received (Icmp6InDestUnreachs), to know the error reached it
h1_unreach() { "$T" exec h1 awk '$1 == "Icmp6InDestUnreachs" {print $2}' /proc/net/snmp6; }
sent0=$(counter unreach_sent); in0=$(h1_unreach)
attempt "first connection"
[ "$RC" = 7 ] || fail "the first connection: curl exit $RC, want 7 (failed to connect)"
in1=$(h1_unreach)
[ "$in1" -gt "$in0" ] || fail "host 1's kernel counted no ICMPv6 Destination Unreachable ($in0 -> $in1)"
[ "$MS" -lt 10000 ] || fail "the first connection failed after $MS ms, want under 10 s"
sent1=$(counter unreach_sent); MS1=$MS
[ "${sent1:-0}" -gt "${sent0:-0}" ] || fail "proxy.unreach_sent $sent0 -> $sent1"
echo "ok: the handshake given up, host 1 was told at once: the connection failed after $MS ms; proxy.unreach_sent $sent0 -> $sent1, held_dropped_failed $(counter held_dropped_failed); h1 received $((in1 - in0)) Destination Unreachable"

attempt "second connection, the peer held down"
[ "$RC" = 7 ] && [ "$MS" -lt 1500 ] || fail "during the hold-down: curl exit $RC after $MS ms, want 7 within 1.5 s"
[ "$(counter holddown)" -gt 0 ] || fail "proxy.holddown $(counter holddown)"
echo "ok: during the hold-down the next connection failed after $MS ms; proxy.holddown $(counter holddown), unreach_sent $(counter unreach_sent)"
result "peer without an answer: first connection failed after $MS1 ms by ICMPv6, held down next in $MS ms; unreach_sent $(counter unreach_sent), limited $(counter unreach_limited)"
