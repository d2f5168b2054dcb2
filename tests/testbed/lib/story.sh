# The failover story, shared by deploy/demo and tests/testbed/e2e-failover.sh.
# Needs lib/common.sh sourced, the world up (tb_world: H1, H2 set), and
# check/tell/bold functions (the demo's, or the e2e script's).
#
# story_failover [SITE_LINK_PREFIX] [MODE] [DIR]
#   Establish a context from h1 to h2, run a paced transfer (STORY_MB MiB,
#   default 50, over STORY_SECS s, default 12) from DIR's sender to its
#   receiver ("12": h1 -> h2, "21": h2 -> h1), fail the ISP access link in
#   use at the sending site (p1-? or p2-?) with MODE (down|loss|drop), and
#   measure the outage as the longest gap between arrivals at the receiver.
#   Sets STORY_OUTAGE (seconds), STORY_FAILED (the link), STORY_SHA_OK.

# Bytes the ISP router has sent to a proxy on one access link.
link_tx() { # ISPNODE IF
    "$T" exec "$1" cat "/sys/class/net/$2/statistics/tx_bytes"
}
# Which ISP carries a site's traffic now: x or y (by bytes over 1 s, both ways).
link_in_use() { # PROXY
    local p=$1 x0 y0 x1 y1
    x0=$(( $(link_tx ispx "$p") + $("$T" exec ispx cat /sys/class/net/$p/statistics/rx_bytes) ))
    y0=$(( $(link_tx ispy "$p") + $("$T" exec ispy cat /sys/class/net/$p/statistics/rx_bytes) ))
    sleep 1
    x1=$(( $(link_tx ispx "$p") + $("$T" exec ispx cat /sys/class/net/$p/statistics/rx_bytes) ))
    y1=$(( $(link_tx ispy "$p") + $("$T" exec ispy cat /sys/class/net/$p/statistics/rx_bytes) ))
    if [ $((x1 - x0)) -ge $((y1 - y0)) ]; then echo "x $((x1 - x0)) $((y1 - y0))"; else echo "y $((y1 - y0)) $((x1 - x0))"; fi
}

story_failover() {
    local mode=${2:-down} dir=${3:-12} mb=${STORY_MB:-50} secs=${STORY_SECS:-12}
    local snd=h1 rcv=h2 dst=$H2 sp=p1 rp=p2 wd=${work:-/tmp}
    [ "$dir" = 21 ] && { snd=h2; rcv=h1; dst=$H1; sp=p2; rp=p1; }
    local lib=$top/tests/testbed/lib
    STORY_OUTAGE=""; STORY_FAILED=""; STORY_SHA_OK=0

    bold "5. Context establishment between the proxies ($snd -> $rcv)"
    "$T" exec $snd ping -n -q -c1 -W2 "$dst" >/dev/null 2>&1 || true
    check "$snd reaches $rcv's CMULA ($dst): the proxies built a Shim6 context" \
        wait_until 30 "$T" exec $snd ping -n -q -c1 -W1 "$dst"
    tell "Contexts on $sp (pshim6ctl contexts):"
    ctl $sp contexts 2>/dev/null | head -5 | sed 's/^/    /'
    check "$sp shows an established context" sh -c "'$CTLCLI' -s /run/pshim6-tb/ctl/$sp.sock contexts | grep -qi established"

    bold "6. A ${mb} MiB transfer from $snd to $rcv, and the ISP link in use fails mid-way"
    head -c $((mb * 1024 * 1024)) /dev/urandom > "$wd/story.data"
    local want
    want=$(sha256sum < "$wd/story.data" | cut -d' ' -f1)
    rm -f "$wd/story.json"
    "$T" exec $rcv python3 "$lib/transfer.py" serve 5001 "$wd/story.json" &
    local srv=$!
    wait_until 10 "$T" exec $rcv sh -c "ss -ltn | grep -q ':5001 '"
    "$T" exec $snd python3 "$lib/transfer.py" send "$dst" 5001 "$wd/story.data" "$secs" > "$wd/story.progress" 2>&1 &
    local cli=$!
    sleep 2
    local use isp other
    use=$(link_in_use $sp)
    isp=${use%% *}
    other=$([ "$isp" = x ] && echo y || echo x)
    tell "traffic of site ${sp#p} is on ISP ${isp^^} ($(echo "$use" | cut -d' ' -f2) B/s vs $(echo "$use" | cut -d' ' -f3) B/s); progress: $(tail -1 "$wd/story.progress")"
    STORY_FAILED=$sp-$isp
    local tf
    tf=$(date +%s.%N)
    "$T" fail "$STORY_FAILED" "$mode" >/dev/null
    tell "the ISP failure: link $STORY_FAILED is now '$mode' (at $(tail -1 "$wd/story.progress" | awk '{print $2}'))"
    local end=$(( $(date +%s) + 30 )) switched=0
    while [ "$(date +%s)" -lt "$end" ]; do
        [ "$(link_in_use $sp | cut -d' ' -f1)" = "$other" ] && { switched=1; break; }
    done
    if [ "$switched" = 1 ]; then
        local ts
        ts=$(date +%s.%N)
        tell "the locator switch: site ${sp#p}'s traffic now flows through ISP ${other^^}, $(printf '%.1f' "$(echo "$ts - $tf" | bc)") s after the failure (seen by the ISP routers' counters)"
        check "the context moved to the other ISP" true
    else
        check "the context moved to the other ISP" false
    fi
    wait $cli || true
    local i
    for i in $(seq 100); do [ -s "$wd/story.json" ] && break; sleep 0.2; done
    kill $srv 2>/dev/null || true
    sed 's/^/    /' "$wd/story.progress" | tail -3
    local got bytes
    got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sha256"])' "$wd/story.json" 2>/dev/null || echo none)
    bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes"])' "$wd/story.json" 2>/dev/null || echo 0)
    STORY_OUTAGE=$(python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["max_gap"])' "$wd/story.json" 2>/dev/null || echo "")
    tell "the transfer completed: $bytes bytes, sha256 ${got:0:16}... (sent ${want:0:16}...)"
    check "the transfer completed with a matching sha256" test "$got" = "$want"
    [ "$got" = "$want" ] && STORY_SHA_OK=1
    tell "the outage: ${STORY_OUTAGE:-?} s (longest gap between arrivals at $rcv)"
    tell "Live counters from $sp (pshim6ctl counters):"
    ctl $sp counters 2>/dev/null | grep -E '^(egress_shim6|ingress_shim6|punt|drop_no_route) ' | sed 's/^/    /'
    "$T" restore "$STORY_FAILED" >/dev/null
}
