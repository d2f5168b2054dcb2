#!/bin/bash
# Scenario 1 end to end and scenario 2: host 1 (CMULA by DHCPv6) resolves
# host 2 through its proxy's DNS ALG and opens TCP to host 2's CMULA; the
# proxies build a Shim6 context.  A 50 MiB transfer runs from host 1 to host
# 2; mid-transfer the ISP access link in use at site 1 fails.  Pass: the
# transfer completes with the same sha256 and the context moved to the other
# ISP.  Then the same with the failure at the other site and the transfer in
# the other direction (host 2 -> host 1, p2's link fails).  Reports the
# outage (longest gap between arrivals) for each, at TB_TIMERS (default fast).
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/netns.sh"
ns_init tb
BUILD=${BUILD:-$top/build}
. "$top/tests/testbed/lib/common.sh"
. "$top/tests/testbed/lib/story.sh"
work=$(mktemp -d /tmp/tb-failover.XXXXXX)
trap 'rc=$?; "$T" down >/dev/null 2>&1; rm -rf "$work"; exit $rc' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
bad=0
bold() { echo "== $*"; }
tell() { echo "   $*"; }
check() { local w=$1; shift; if "$@" >/dev/null 2>&1; then echo "ok: $w"; else echo "FAIL: $w"; bad=$((bad + 1)); fi; }

tb_world || { echo "FAIL: testbed with pshim6"; exit 1; }
ans=$("$T" exec h1 dig +short +time=3 +tries=2 h2.site2.example AAAA)
[ "$ans" = "$H2" ] || { echo "FAIL: h1 resolved h2 to '$ans', want $H2"; exit 1; }
echo "ok: h1 resolved h2.site2.example to its CMULA $H2 through p1's ALG"

STORY_MB=${STORY_MB:-50}
story_failover p1 "${FAIL_MODE:-down}" 12
o1=$STORY_OUTAGE; f1=$STORY_FAILED
sleep 2
story_failover p2 "${FAIL_MODE:-down}" 21
o2=$STORY_OUTAGE; f2=$STORY_FAILED
# with fast REAP timers (1 s send timeout) the switch takes about 3 s; a
# bound well above that still catches failure detection that stalls
if [ "${TB_TIMERS:-fast}" = fast ]; then
    for o in "$o1" "$o2"; do
        check "outage ${o}s under 10 s with fast REAP timers" awk -v o="${o:-999}" 'BEGIN {exit !(o < 10)}'
    done
fi
[ "$bad" = 0 ] || { echo "FAIL: $bad checks"; exit 1; }
result "timers ${TB_TIMERS:-fast}, ${FAIL_MODE:-down}: h1->h2 ${STORY_MB} MiB, $f1 failed, outage ${o1}s; h2->h1, $f2 failed, outage ${o2}s; sha256 ok both"
