#!/bin/bash
# Primary/backup heartbeats over two paths: two real pshim6-control daemons,
# each in its own namespace with a stand-in dataplane (fake_dp), joined by
# TWO veth links (fd00:98::/64 and fd00:99::/64); each names the other's
# address on link 1 as peer.address and on link 2 in peer.alt_addresses.
# The primary holds N contexts (imported from its dump once their leases
# are in) and replicates them.
#   1. Cut link 1 (the sync link; ip link set down): the backup must stay
#      STANDBY (no split brain) for several dead intervals, the primary
#      ACTIVE, and replication must go on over link 2 (new leases reach
#      the backup, a full sync arrives whole after the cut).
#   2. Cut link 2 as well: the backup takes over after dead_ms of silence.
#   3. Both links back: the pair settles with the primary active and the
#      backup standing by.
#   3b. A one-way fault on link 1: the backup drops what the primary sends
#      over it (ip6tables) while its own heartbeats still reach the primary,
#      so the primary keeps path 0 up.  Its next full sync over path 0 is
#      not reported received: messages must move to path 1, a full sync
#      arrive over it, new leases follow, and the backup stay STANDBY.
#   4. Baseline, same run: both restarted with peer.address only (one
#      path); cutting link 1 makes the backup ACTIVE while the primary
#      stays ACTIVE: the split brain the paths are there to prevent.
#   5. peer.sources: the primary sends over link 2 from a second address
#      the kernel would not choose, and the backup lists only that one:
#      both paths up, the backup's ip6tables counters see that source only.
#      A source the host does not have: logged, counted as failed sends.
# RESULT: time to takeover, heartbeats per path, what replicated over link 2.
#   env: BUILD (build dir), N (contexts, default 200)
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/peer_site.sh"
N=${N:-200}
HB=100 DEAD=1000
peer_init pp e2e-peer-paths
st() { "$cli" -s "$t/$1.sock" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["peer"]["state"])'; }
leases() { "$cli" -s "$t/$1.sock" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["leases"])'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

ns_add a
ns_add b
ns_add c
ns_link a pa1 b pb1
ns_link a pa2 b pb2
ns_link a pa3 c pc3
# a link set down keeps its addresses (the kernel flushes IPv6 ones otherwise)
for n in a b; do ns_exec $n sysctl -qw net.ipv6.conf.all.keep_addr_on_down=1 net.ipv6.conf.default.keep_addr_on_down=1; done
for i in pa1 pa2; do ns_exec a sysctl -qw net.ipv6.conf.$i.keep_addr_on_down=1; done
for i in pb1 pb2; do ns_exec b sysctl -qw net.ipv6.conf.$i.keep_addr_on_down=1; done
ip -n pp-a addr add fd00:98::1/64 dev pa1 nodad
ip -n pp-b addr add fd00:98::2/64 dev pb1 nodad
ip -n pp-a addr add fd00:99::1/64 dev pa2 nodad
ip -n pp-b addr add fd00:99::2/64 dev pb2 nodad
# a third host that holds the key but is not a configured path
ip -n pp-a addr add fd00:97::1/64 dev pa3 nodad
ip -n pp-c addr add fd00:97::2/64 dev pc3 nodad

mkconf() { # name role address [alt [more peer keys]]
    peer_conf "$1" info "role = \"$2\"; address = \"$3\"; ${4:+alt_addresses = [ \"$4\" ];} key_file = \"$t/peer.key\";
  heartbeat_ms = $HB; dead_ms = $DEAD; sync_interval_ms = 2000; yield_linger_ms = 0; ${5:-}"
}

# leases FROM..TO-1 (decimal indexes) through control's socket, one at a time
add_leases() { peer_leases "$1" "$2" "$3"; } # sock from to

mkconf a primary fd00:98::2 fd00:99::2
# the backup starts with one path; its second comes with a reload
mkconf b backup fd00:98::1
"$ctl" -n -c "$t/a.conf" >/dev/null || { echo "FAIL: config"; exit 1; }
ns_bg b "$fdp" "$t/dp-b.sock" 0 0x2222 >/dev/null
peer_ctl a "$t/a.log"
add_leases "$t/a.sock" 0 "$N"
ns_bg a "$fdp" "$t/dp-a.sock" "$N" 0x1111 >/dev/null
peer_ctl b "$t/b.log"
pb=$!

check "start: the primary is active, the backup holds $N replicas and $N leases" \
    ns_wait_for 30 sh -c "[ \"\$(python3 -c 'import sys' && '$cli' -s '$t/b.sock' --json counters | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"counters\"]; print(c[\"peer.replicas\"], c[\"peer.syncs_rx\"] > 0)')\" = '$N True' ] && '$cli' -s '$t/a.sock' status | grep -q 'peer:.*primary, active'"
check "start: the backup has one path, and refuses the primary's heartbeats over link 2 (not a configured address)" \
    ns_wait_for 5 sh -c "[ \"\$('$cli' -s '$t/b.sock' --json counters | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"counters\"]; print(c[\"peer.paths\"], c[\"peer.rx_wrong_source\"] > 0)')\" = '1 True' ]"
# Kea HA in load balancing: the standby's own DHCP server gives a lease the
# primary's never saw (index N) and then releases it; both must reach the
# ACTIVE primary's table
fwd_ms=$(now_ms)
add_leases "$t/b.sock" "$N" $((N + 1))
check "standby's own lease: forwarded into the active primary's table ($N -> $((N + 1)) leases)" \
    ns_wait_for 5 sh -c "[ \"\$('$cli' -s '$t/a.sock' --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"leases\"])')\" = $((N + 1)) ]"
python3 - "$t/b.sock" "fd00:1:1:1::$(printf %x $((N + 1)))" <<'EOP' || { echo "FAIL: release"; exit 1; }
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.write('{"cmd":"lease","event":"release","cmula":"%s"}\n' % sys.argv[2])
f.flush()
if '"ok":true' not in f.readline():
    sys.exit("release refused")
EOP
# two forwards; a full sync under way at either may add a re-send of it
# (lease_fwd_retry, lease_fwd_release_retry), which the primary counts too
fwd_counts() {
    python3 - "$("$cli" -s "$t/a.sock" --json counters)" "$("$cli" -s "$t/b.sock" --json counters)" <<'EOP'
import json, sys
a = json.loads(sys.argv[1])["counters"]; b = json.loads(sys.argv[2])["counters"]
sent = b["peer.lease_fwd_tx"] + b["peer.lease_fwd_retry"] + b["peer.lease_fwd_release_retry"]
sys.exit(0 if b["peer.lease_fwd_tx"] == 2 and a["peer.lease_fwd_rx"] == sent else 1)
EOP
}
check "standby's own release: forwarded too, the primary back to $N leases" \
    ns_wait_for 5 sh -c "[ \"\$('$cli' -s '$t/a.sock' --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"leases\"])')\" = $N ]"
check "standby's own lease and release: 2 forwards sent, every one sent received" ns_wait_for 5 fwd_counts
fwd_ms=$(( $(now_ms) - fwd_ms ))
mkconf b backup fd00:98::1 fd00:99::1
kill -HUP "$pb"
check "reload: the backup's second path applies without a restart and is logged" \
    ns_wait_for 5 grep -q 'paths to the other proxy now \[fd00:98::1\] (other paths: fd00:99::1)' "$t/b.log"
check "reload: no 'takes effect at restart' warning for it" sh -c "! grep -q 'take effect at restart' '$t/b.log'"
check "start: both paths up at both ends" \
    ns_wait_for 5 sh -c "[ \"\$('$cli' -s '$t/a.sock' --json counters | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"counters\"][\"peer.paths_up\"])')\$('$cli' -s '$t/b.sock' --json counters | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"counters\"][\"peer.paths_up\"])')\" = 22 ]"
# peer.address applies at a reload too: swapping it with the second path
# renumbers the paths, each keeping its state, and nobody takes over
hb0=$(cnt b peer.hb_rx)
mkconf b backup fd00:99::1 fd00:98::1
kill -HUP "$pb"
check "reload of peer.address: applies without a restart, the paths swapped" \
    ns_wait_for 5 grep -q 'paths to the other proxy now \[fd00:99::1\] (other paths: fd00:98::1)' "$t/b.log"
check "reload of peer.address: status names the new one" \
    sh -c "[ \"\$('$cli' -s '$t/b.sock' --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"peer\"][\"address\"])')\" = fd00:99::1 ]"
check "reload of peer.address: both paths still up, heartbeats still heard, still standing by" \
    ns_wait_for 5 sh -c "[ \"\$('$cli' -s '$t/b.sock' --json counters | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"counters\"]; print(c[\"peer.paths_up\"], c[\"peer.hb_rx\"] > $hb0 + 4, c[\"peer.takeovers\"])')\" = '2 True 0' ]"
mkconf b backup fd00:98::1 fd00:99::1
kill -HUP "$pb"
check "reload back: peer.address is fd00:98::1 again, logged" \
    ns_wait_for 5 sh -c "[ \$(grep -c 'paths to the other proxy now \[fd00:98::1\] (other paths: fd00:99::1)' '$t/b.log') = 2 ]"
check "reloads of peer.address: no 'take effect at restart' warning" sh -c "! grep -q 'take effect at restart' '$t/b.log'"
check "start: the backup stands by" test "$(st b)" = standby
check "start: sync goes over path 0 (peer.address)" test "$(cnt a peer.sync_path)" = 0
# five heartbeats signed with the right key, from an address that is not
# peer.address nor in alt_addresses: refused on the source alone
ws0=$(cnt a peer.rx_wrong_source) mac0=$(cnt a peer.rx_bad_mac)
ns_exec c python3 - "$t/peer.key" <<'EOP'
import hashlib, hmac, os, socket, struct, sys
key = open(sys.argv[1], "rb").read()
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("fd00:97::2", 7340))
session = int.from_bytes(os.urandom(8), "big") | 1
for seq in range(1, 6):
    # version 1, HEARTBEAT, length 76, role backup (2), state standby (2)
    m = struct.pack(">BBHBBHQQQIII", 1, 1, 32 + 12 + 32, 2, 2, 0, session, 0, seq, 0, 0, 0)
    s.sendto(m + hmac.new(key, m, hashlib.sha256).digest(), ("fd00:97::1", 7340))
EOP
check "a signed heartbeat from an unconfigured address is refused (rx_wrong_source +5, no MAC failure)" \
    ns_wait_for 3 sh -c "[ \"\$('$cli' -s '$t/a.sock' --json counters | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"counters\"]; print(c[\"peer.rx_wrong_source\"] - $ws0, c[\"peer.rx_bad_mac\"] - $mac0)')\" = '5 0' ]"
check "the primary is still active and serving after it" test "$(st a)" = active
dup0=$(cnt b peer.rx_duplicate) rep0=$(cnt b peer.rx_replay)
check "start: the backup takes the second copy of each heartbeat as a duplicate, not a replay ($dup0 duplicates, $rep0 replays)" \
    test "$dup0" -gt 0 -a "$rep0" = 0

# ---- 1. cut the sync link ---------------------------------------------------
echo "--- cutting link 1 (pa1/pb1)"
sync0=$(cnt b peer.syncs_rx) p1rx0=$(cnt b peer.path1_rx) blines=$(wc -l < "$t/b.log")
ip -n pp-a link set pa1 down
tc0=$(now_ms) cut_clock=$(date +%T.%3N)
check "link 1 cut: the primary moves sync to path 1" ns_wait_for 3 sh -c "[ \"\$('$cli' -s '$t/a.sock' --json counters | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"counters\"][\"peer.sync_path\"])')\" = 1 ]"
# from the primary's log: the cut to the line that says sync moved
moved=$(python3 - "$cut_clock" "$t/a.log" <<'EOP'
import sys, datetime
def ms(s):
    t = datetime.datetime.strptime(s, "%H:%M:%S.%f")
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.microsecond // 1000
line = [l for l in open(sys.argv[2]) if "now go over path 1" in l]
print(ms(line[0].split()[0]) - ms(sys.argv[1]) if line else -1)
EOP
)
hb0a=$(cnt b peer.path0_hb_rx) hb1a=$(cnt b peer.path1_hb_rx)
add_leases "$t/a.sock" "$N" $((N + 50))
# several dead intervals with link 1 down
sleep $(( 4 * DEAD / 1000 ))
check "link 1 cut: the backup still stands by after $(( 4 * DEAD )) ms" test "$(st b)" = standby
check "link 1 cut: no takeover at the backup" test "$(cnt b peer.takeovers)" = 0
check "link 1 cut: the primary is still active" test "$(st a)" = active
check "link 1 cut: the backup sees path 0 silent, path 1 up" \
    test "$(cnt b peer.path0_up)$(cnt b peer.path1_up)" = 01
check "link 1 cut: the 50 new leases reached the backup over link 2 ($(leases b))" \
    ns_wait_for 5 sh -c "[ \"\$('$cli' -s '$t/b.sock' --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"leases\"])')\" = $((N + 50)) ]"
sync1=$(cnt b peer.syncs_rx) p1rx1=$(cnt b peer.path1_rx) comp=$(cnt b peer.replica_complete)
check "link 1 cut: full syncs go on arriving whole over path 1 ($sync0 -> $sync1, path 1 messages $p1rx0 -> $p1rx1)" \
    test "$sync1" -gt "$sync0" -a "$p1rx1" -gt "$p1rx0"
check "link 1 cut: the backup's replica is complete ($comp) with $N replicas" \
    test "$comp/$(cnt b peer.replicas)" = "1/$N"
check "link 1 cut: the backup logged path 0 silent, once" \
    test "$(tail -n +$((blines + 1)) "$t/b.log" | grep -c 'path 0 to \[fd00:98::1\] silent')" = 1
hb0b=$(cnt b peer.path0_hb_rx) hb1b=$(cnt b peer.path1_hb_rx)
check "link 1 cut: heartbeats kept coming over path 1 only (path 0 $hb0a -> $hb0b, path 1 $hb1a -> $hb1b)" \
    test "$hb1b" -ge $(( hb1a + 30 )) -a "$hb0b" = "$hb0a"

# ---- 2. cut the other one too ----------------------------------------------
echo "--- cutting link 2 (pa2/pb2)"
ip -n pp-a link set pa2 down
tc1=$(now_ms)
check "both cut: the backup takes over" ns_wait_for 5 sh -c "'$cli' -s '$t/b.sock' status | grep -q 'peer:.*backup, active'"
took=$(( $(now_ms) - tc1 ))
after=$(cnt b peer.last_takeover_after_ms) imp=$(cnt b peer.takeover_imported)
check "both cut: after dead_ms of silence ($after ms after the last heartbeat, dead_ms $DEAD)" \
    test "$after" -ge "$DEAD" -a "$after" -lt $(( DEAD + 300 ))
check "both cut: by silence, all $N replicas imported ($imp)" test "$(cnt b peer.takeovers_silence)/$imp" = "1/$N"

# ---- 3. links back -----------------------------------------------------------
echo "--- links back"
ip -n pp-a link set pa1 up
ip -n pp-a link set pa2 up
tb=$(now_ms)
check "links back: the pair settles, primary active and backup standing by" \
    ns_wait_for 20 sh -c "'$cli' -s '$t/b.sock' status | grep -q 'peer:.*backup, standby' && '$cli' -s '$t/a.sock' status | grep -q 'peer:.*primary, active'"
settle=$(( $(now_ms) - tb ))
check "links back: both paths up again at the backup" \
    ns_wait_for 3 sh -c "[ \"\$('$cli' -s '$t/b.sock' --json counters | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"counters\"][\"peer.paths_up\"])')\" = 2 ]"
"$cli" -s "$t/b.sock" status | grep -A3 '^peer:'
check "no sanitizer report in either daemon's log (when built with one)" \
    sh -c "! grep -qE 'runtime error|AddressSanitizer' '$t/a.log' '$t/b.log'"

# ---- 3b. one-way fault on link 1 ---------------------------------------------
echo "--- one-way fault: the backup drops the primary's datagrams on link 1"
un0=$(cnt a peer.syncs_unreceived) sy0=$(cnt b peer.syncs_rx) le0=$(leases b) alines=$(wc -l < "$t/a.log")
ns_exec b ip6tables -A INPUT -i pb1 -s fd00:98::1 -p udp -j DROP
to0=$(now_ms)
check "one-way: the primary still hears the backup over path 0 (it stays up there)" \
    sh -c "sleep 1; [ \"\$('$cli' -s '$t/a.sock' --json counters | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"counters\"][\"peer.path0_up\"])')\" = 1 ]"
check "one-way: a full sync over path 0 is found unreceived and messages move to path 1" \
    ns_wait_for 10 sh -c "[ \"\$('$cli' -s '$t/a.sock' --json counters | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"counters\"]; print(c[\"peer.sync_path\"], c[\"peer.path0_avoided\"], c[\"peer.syncs_unreceived\"] > $un0)')\" = '1 1 True' ]"
oneway=$(( $(now_ms) - to0 ))
# right away: the avoidance lasts only its hold, which the waits below may outlast on a busy machine
check "one-way: status says path 0 is avoided" sh -c "'$cli' -s '$t/a.sock' status | grep -q 'path 0:.*avoided for'"
check "one-way: the primary logged it once, naming path 0" \
    test "$(tail -n +$((alines + 1)) "$t/a.log" | grep -c 'over path 0 to \[fd00:98::2\] not received.*one-way')" = 1
check "one-way: a full sync then arrives whole over path 1" \
    ns_wait_for 5 sh -c "[ \$('$cli' -s '$t/b.sock' --json counters | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"counters\"][\"peer.syncs_rx\"])') -gt $sy0 ]"
add_leases "$t/a.sock" $((N + 50)) $((N + 70))
check "one-way: 20 new leases reach the backup ($le0 -> $((le0 + 20)))" \
    ns_wait_for 5 sh -c "[ \"\$('$cli' -s '$t/b.sock' --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"leases\"])')\" = $((le0 + 20)) ]"
check "one-way: the backup still stands by, the primary is active" test "$(st b)/$(st a)" = standby/active
ns_exec b ip6tables -D INPUT -i pb1 -s fd00:98::1 -p udp -j DROP

# both daemons' counters read back to back, so the per-path figures compare
"$cli" -s "$t/a.sock" --json counters > "$t/a.cnt"; "$cli" -s "$t/b.sock" --json counters > "$t/b.cnt"
hbs=$(python3 - "$t/a.cnt" "$t/b.cnt" <<'EOP'
import json, sys
a = json.load(open(sys.argv[1]))["counters"]
b = json.load(open(sys.argv[2]))["counters"]
p = "peer."
print("primary sent path0 %d (failed %d) path1 %d (failed %d), received path0 %d path1 %d; "
      "backup sent path0 %d (failed %d) path1 %d, received path0 %d path1 %d; backup duplicates %d, replays %d"
      % (a[p + "path0_hb_tx"], a[p + "path0_hb_tx_failed"], a[p + "path1_hb_tx"], a[p + "path1_hb_tx_failed"],
         a[p + "path0_hb_rx"], a[p + "path1_hb_rx"], b[p + "path0_hb_tx"], b[p + "path0_hb_tx_failed"],
         b[p + "path1_hb_tx"], b[p + "path0_hb_rx"], b[p + "path1_hb_rx"], b[p + "rx_duplicate"], b[p + "rx_replay"]))
EOP
)
# ---- 4. baseline: the same cut with one path ---------------------------------
echo "--- baseline: one path (no alt_addresses), link 1 cut"
peer_stop
rm -f "$t"/*.state
mkconf a primary fd00:98::2
mkconf b backup fd00:98::1
ns_bg b "$fdp" "$t/dp-b.sock" 0 0x2222 >/dev/null
peer_ctl a "$t/a1.log"
add_leases "$t/a.sock" 0 "$N"
ns_bg a "$fdp" "$t/dp-a.sock" "$N" 0x1111 >/dev/null
peer_ctl b "$t/b1.log"
check "baseline: one path each, the backup holds $N replicas and stands by" \
    ns_wait_for 30 sh -c "[ \"\$('$cli' -s '$t/b.sock' --json counters | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"counters\"]; print(c[\"peer.replicas\"], c[\"peer.paths\"])')\" = '$N 1' ] && '$cli' -s '$t/b.sock' status | grep -q 'peer:.*backup, standby'"
ip -n pp-a link set pa1 down
tb0=$(now_ms)
check "baseline: with one path the cut makes the backup ACTIVE" ns_wait_for 5 sh -c "'$cli' -s '$t/b.sock' status | grep -q 'peer:.*backup, active'"
split=$(( $(now_ms) - tb0 ))
check "baseline: ... while the primary stays ACTIVE (split brain)" test "$(st a)" = active
ip -n pp-a link set pa1 up
check "no sanitizer report in the baseline daemons' logs" \
    sh -c "! grep -qE 'runtime error|AddressSanitizer' '$t/a1.log' '$t/b1.log'"

# ---- 5. peer.sources: each path's source from the config ---------------------
# a gets a second address on link 2, deprecated so that the kernel never
# picks it on its own (RFC 6724 rule 3) though a socket may still ask for it;
# the backup lists only that second address for a's path 1, so path 1 comes
# up at the backup only if a really sends from the configured source.
echo "--- peer.sources: a sends over link 2 from fd00:99::11"
peer_stop
rm -f "$t"/*.state
ip -n pp-a addr add fd00:99::11/64 dev pa2 nodad preferred_lft 0
ns_exec b ip6tables -I INPUT -p udp --dport 7340 -s fd00:99::11 -j ACCEPT
ns_exec b ip6tables -I INPUT -p udp --dport 7340 -s fd00:99::1 -j ACCEPT
mkconf a primary fd00:98::2 fd00:99::2 'sources = [ "fd00:98::1", "fd00:99::11" ];'
mkconf b backup fd00:98::1 fd00:99::11
ns_bg b "$fdp" "$t/dp-b.sock" 0 0x2222 >/dev/null
peer_ctl a "$t/a2.log"
pa=$!
ns_bg a "$fdp" "$t/dp-a.sock" 0 0x1111 >/dev/null
peer_ctl b "$t/b2.log"
check "sources: both paths up at both ends" \
    ns_wait_for 10 sh -c "[ \"\$('$cli' -s '$t/a.sock' --json counters | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"counters\"][\"peer.paths_up\"])')\$('$cli' -s '$t/b.sock' --json counters | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"counters\"][\"peer.paths_up\"])')\" = 22 ]"
sleep 1
ipt() { ns_exec b ip6tables -L INPUT -v -n -x | awk -v s="$1" '$8 == s && /dpt:7340/ {print $1; exit}'; }
from11=$(ipt fd00:99::11) from1=$(ipt fd00:99::1)
check "sources: the backup received a's link-2 datagrams from fd00:99::11 ($from11), none from fd00:99::1 ($from1)" \
    test "${from11:-0}" -gt 0 -a "${from1:-1}" = 0
check "sources: the backup refused nothing on the source" test "$(cnt b peer.rx_wrong_source)" = 0
check "sources: no warning about them at start (both are a's)" sh -c "! grep -q 'peer.sources:' '$t/a2.log'"
# a source this host does not have: refused by the kernel, counted, logged
mkconf a primary fd00:98::2 fd00:99::2 'sources = [ "fd00:98::1", "fd00:99::55" ];'
f0=$(cnt a peer.path1_hb_tx_failed)
kill -HUP "$pa"
check "sources: the reload says at once that fd00:99::55 is not a's (path 1)" \
    ns_wait_for 5 grep -q 'peer.sources: fd00:99::55 (path 1) is not an address of this host now' "$t/a2.log"
check "sources: a source a does not have is logged once with the hint" \
    ns_wait_for 5 sh -c "[ \$(grep -c 'path 1: sending from fd00:99::55 to fd00:99::2: .*not an address of this host' '$t/a2.log') = 1 ]"
sleep 1
f1=$(cnt a peer.path1_hb_tx_failed)
check "sources: ... its heartbeats count as failed sends ($f0 -> $f1), path 0 still up at the backup" \
    test "$f1" -gt "$f0" -a "$(cnt b peer.path0_up)" = 1
check "sources: the pair stays primary active, backup standing by" test "$(st a)/$(st b)" = active/standby
check "no sanitizer report in the sources round's logs" \
    sh -c "! grep -qE 'runtime error|AddressSanitizer' '$t/a2.log' '$t/b2.log'"

if [ "$bad" != 0 ]; then
    echo "FAIL: $bad checks"
    for f in "$t"/*.log; do echo "== $f"; grep -E 'peer' "$f" | tail -15; done
    exit 1
fi
echo "RESULT: standby's own lease and release in the active primary's table in ${fwd_ms} ms; one-way fault on link 1: messages moved to link 2 in ${oneway} ms; link 1 cut: no takeover in $(( 4 * DEAD )) ms, sync moved to link 2 in ${moved} ms, 50 leases + $((sync1 - sync0)) full syncs over link 2; both cut: takeover ${took} ms after the cut (${after} ms after the last heartbeat, dead_ms $DEAD), $imp/$N imported; links back: settled in ${settle} ms; heartbeats: $hbs; baseline with one path: the same cut made both proxies ACTIVE after ${split} ms; peer.sources: link 2 sent from the configured address ($from11 datagrams, 0 from the kernel's choice)"
