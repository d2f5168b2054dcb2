#!/bin/bash
# A full sync of a large context table between two real pshim6-control
# daemons, each in its own network namespace (veth between them), each
# with a stand-in dataplane (fake_dp): the primary's holds N established
# contexts (default 10000), which control imports into its engine from the
# dump once each host has a lease (pushed as the DHCP hook would, so the
# sync carries N leases as well); the backup's dataplane holds none.  Both
# have a `peer` section.  The primary starts alone and activates; then the
# backup starts, the primary sends it a full sync at once, paced at
# peer.sync_batch (256) messages per 10 ms, and the backup must hold all N
# replicas and leases from a sync it counts whole, with no message lost and
# the replica complete.  Then, for comparison and not checked (it depends
# on the machine's speed), once more with sync_batch = 8192, the largest
# allowed, close to the unpaced burst of before.  Then a backup that can
# take only about 50 sync messages per 10 ms (ip6tables limit on its side,
# heartbeats exempt): the primary's syncs of 256 a tick arrive incomplete,
# and it must halve its batch until one arrives whole (peer_sync_batch_adapt).
# Then the primary is killed and the backup installs all N replicas in its
# dataplane (pshim6-dataplane itself, on null ports) at once; then that
# dataplane restarts empty, and control must install all N again.
# RESULT: for each batch
# size, the sync's duration and batches at the sender, and at the receiver
# the replicas, whole/incomplete syncs, messages lost.
#   env: BUILD (build dir), N (contexts)
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/peer_site.sh"
N=${N:-10000}
peer_init ps e2e-peer-sync
ns_add a
ns_add b
ns_link a pa b pb
ip -n ps-a addr add fd00:ff::1/64 dev pa nodad
ip -n ps-b addr add fd00:ff::2/64 dev pb nodad

mkconf() { # name role other batch log_level [notify [notify_timeout_ms]]
    peer_conf "$1" "$5" "role = \"$2\"; address = \"$3\"; key_file = \"$t/peer.key\";
  heartbeat_ms = 100; dead_ms = 1000; sync_interval_ms = 600000; sync_batch = $4;
  ${6:+notify = \"$6\";} ${7:+notify_timeout_ms = $7;}"
}

# N leases through control's socket SOCK, 256 in flight
add_leases() { peer_leases "$1" 0 "$2" 256; } # sock n

# primary_up WHAT COUNT LOG [real]: with a.conf and b.conf written, the
# backup's dataplane (the stand-in, or with `real` pshim6-dataplane itself on
# null ports), then the primary alone: the hosts' leases, then its
# dataplane, whose COUNT contexts it imports; it activates after dead_ms.
# The backup, started next, gets a sync at once.  $pa is the primary's pid
# afterwards.
primary_up() {
    rm -f "$t"/*.state
    if [ "${4:-}" = real ]; then
        real_dp_b "$2"
    else
        ns_bg b "$fdp" "$t/dp-b.sock" 0 0x2222 >/dev/null
    fi
    peer_ctl a "$3"
    pa=$!
    add_leases "$t/a.sock" "$2"
    ns_bg a "$fdp" "$t/dp-a.sock" "$2" 0x1111 >/dev/null
    check "$1: the primary holds the $2 dumped contexts and is active" \
        ns_wait_for 60 sh -c "'$cli' -s '$t/a.sock' status | grep -q 'contexts:   $2 of' && '$cli' -s '$t/a.sock' status | grep -q 'peer:.*primary, active'"
}

run() { # batch checked(1|0)
    local batch=$1 must=$2 wait=60
    [ "$must" = 1 ] || wait=15
    mkconf a primary fd00:ff::2 "$batch" notice
    mkconf b backup fd00:ff::1 "$batch" debug
    "$ctl" -n -c "$t/a.conf" >/dev/null 2>&1 || { echo "FAIL: config"; exit 1; }
    primary_up "batch $batch" "$N" "$t/a-$batch.log"
    local t0; t0=$(date +%s%N)
    # checked round: a failed check fails the test; comparison round: shown only
    chk() { if [ "$must" = 1 ]; then check "$@"; else local w=$1; shift; if "$@" >/dev/null 2>&1; then echo "   (not checked) yes: $w"; else echo "   (not checked) no: $w"; fi; fi; }
    peer_ctl b "$t/b-$batch.log"
    chk "batch $batch: the backup holds $N replicas from a whole full sync" \
        ns_wait_for $wait sh -c "[ \"\$('$cli' -s '$t/b.sock' --json counters | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"counters\"]; print(c[\"peer.replicas\"], c[\"peer.syncs_rx\"] > 0)')\" = '$N True' ]"
    local t1; t1=$(date +%s%N)
    local ms=$(cnt a peer.last_sync_tx_ms) nb=$(cnt a peer.last_sync_tx_batches) items=$(cnt a peer.sync_tx_items)
    local rep=$(cnt b peer.replicas) whole=$(cnt b peer.syncs_rx) inc=$(cnt b peer.sync_incomplete)
    local lost=$(cnt b peer.rx_lost) comp=$(cnt b peer.replica_complete) full=$(cnt b peer.replica_full)
    local leases=$("$cli" -s "$t/b.sock" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["leases"])')
    chk "batch $batch: the backup holds the $N leases too ($leases)" test "$leases" = "$N"
    chk "batch $batch: no sync incomplete, nothing lost, replica complete ($inc, $lost, $comp)" \
        test "$inc$lost$comp" = 001
    # N leases, N contexts, BEGIN and END
    chk "batch $batch: paced: $(( (2 * N + 2 + batch - 1) / batch )) batches ($nb)" test "$nb" = $(( (2 * N + 2 + batch - 1) / batch ))
    # the batch against the receive buffer (8 MiB as the kernel reports the daemon's 4 MiB
    # request): 256 fits, 8192 is more than it holds, and the daemon says so at start
    if [ "$batch" -le 4096 ]; then
        check "batch $batch: no receive-buffer warning" bash -c "! grep -q 'peer.sync_batch $batch: a tick' '$t/b-$batch.log'"
    else
        check "batch $batch: the receive-buffer warning names the batch" grep -q "peer.sync_batch $batch: a tick's burst" "$t/b-$batch.log"
    fi
    local up rx
    up=$(grep -m1 'peer: the backup is up' "$t/a-$batch.log" | cut -d' ' -f1)
    rx=$(grep -m1 'full sync .* received whole' "$t/b-$batch.log" | cut -d' ' -f1)
    echo "   batch $batch: sender ${ms} ms in $nb batches, $items messages; backup $rep replicas (full $full), $leases leases, $whole whole / $inc incomplete syncs, $lost lost; backup start -> all replicas $(( (t1 - t0) / 1000000 )) ms (primary hears the backup $up, sync whole at the backup $rx)"
    R="${R}batch $batch: ${ms} ms, $nb batches, $rep/$N replicas, whole $whole, incomplete $inc, lost $lost; "
    peer_stop
}

# real_dp_b COUNT: pshim6-dataplane as the backup's dataplane, two ISPs on
# null ports (the contexts name ISPs 0 and 1), room for COUNT contexts.
real_dp_b() {
    [ "$(cat /proc/sys/vm/nr_hugepages)" -ge 256 ] || echo 512 > /proc/sys/vm/nr_hugepages
    cat > "$t/dp-b.conf" <<EOD
site = { name = "s1"; cmula_prefixes = [ "fd00:1:1:1::/64" ]; key_file = "/nonexistent"; mode = "cga"; };
inside = { port = "net_null0,no-rx=1"; name = "in"; mtu = 1500; address = "fd00:1:1:ffff::1/64";
  next_hop = "fd00:1:1:ffff::2"; next_hop_mac = "02:00:00:00:00:09"; };
isps = (
  { name = "x"; pa_prefix = "2001:db8:10:1::/64"; port = "net_null1,no-rx=1"; address = "2001:db8:10:ffff::2/64";
    next_hop = "2001:db8:10:ffff::1"; next_hop_mac = "02:00:00:00:00:0a"; weight = 1; },
  { name = "y"; pa_prefix = "2001:db8:20:1::/64"; port = "net_null2,no-rx=1"; address = "2001:db8:20:ffff::2/64";
    next_hop = "2001:db8:20:ffff::1"; next_hop_mac = "02:00:00:00:00:0b"; weight = 1; } );
engine = { max_contexts = $(($1 + 1000)); };
dataplane = { channel = "$t/dp-b.sock"; max_contexts = $(($1 + 1000)); hba_hosts = 16; punt_queue = 64;
  idle_polls = 100; idle_sleep_us = 200;
  eal_args = [ "--file-prefix=ps-dp-$$", "--huge-unlink", "--no-pci", "-l", "0", "-m", "256", "--log-level=lib.eal:error" ]; };
EOD
    ns_bg b "$BUILD/dataplane/pshim6-dataplane" -c "$t/dp-b.conf" --no-tap 2>"$t/dp-b.log"
    ns_wait_for 20 "$BUILD/dataplane/pshim6-dpctl" -s "$t/dp-b.sock" hello >/dev/null ||
        { echo "FAIL: the backup's pshim6-dataplane did not start"; cat "$t/dp-b.log"; exit 1; }
}

# The primary dies with the backup holding N replicas: the backup installs
# every one in its dataplane, pshim6-dataplane itself, in one go.  The
# dataplane answers each write, and with blocking sends the two stalled for
# good after a few hundred (control blocked in send() with the answers
# unread, the dataplane blocked sending them): a takeover of a large table
# never finished and control stopped answering its own socket.
takeover() {
    mkconf a primary fd00:ff::2 256 notice
    mkconf b backup fd00:ff::1 256 info
    primary_up takeover "$N" "$t/a-takeover.log" real
    peer_ctl b "$t/b-takeover.log"
    check "takeover: the backup holds $N replicas from a whole full sync" \
        ns_wait_for 60 sh -c "[ \"\$('$cli' -s '$t/b.sock' --json counters | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"counters\"]; print(c[\"peer.replicas\"], c[\"peer.replica_complete\"])')\" = '$N 1' ]"
    local t0; t0=$(date +%s%N)
    kill -KILL "$pa"
    check "takeover: the backup took over and installed all $N replicas" \
        ns_wait_for 60 grep -q "takeover (silence) .*: $N of $N replicated contexts imported and installed" "$t/b-takeover.log"
    check "takeover: its dataplane holds the $N contexts" \
        ns_wait_for 30 sh -c "'$BUILD/dataplane/pshim6-dpctl' -s '$t/dp-b.sock' counters | grep -q '^context_entries $N\$'"
    local t1; t1=$(date +%s%N)
    check "takeover: control still answers its socket" timeout 5 "$cli" -s "$t/b.sock" status
    local waited=$(cnt b dpchan.tx_waited) hwm=$(cnt b dpchan.tx_wait_max_octets) full=$(cnt b dpchan.tx_queue_full)
    local waiting=$(cnt b dpchan.tx_waiting)
    check "takeover: writes the socket had no room for waited and went out ($waited waited, $waiting left, $full resets)" \
        test "$waited" -gt 0 -a "$waiting" = 0 -a "$full" = 0
    echo "   takeover: $N replicas installed $(( (t1 - t0) / 1000000 )) ms after the primary was killed; $waited writes waited for room (at most $hwm octets)"
    R="${R}takeover of $N: $(( (t1 - t0) / 1000000 )) ms, $waited writes waited (max $hwm octets); "
    # that dataplane restarts: it comes back empty, and control, which kept
    # the contexts, installs all of them again at the resync after HELLO
    pkill -f -- "-c $t/dp-b.conf" || true
    ns_wait_for 10 sh -c "! pgrep -f -- '-c $t/dp-b.conf' >/dev/null" || true
    local t2; t2=$(date +%s%N)
    real_dp_b "$N"
    check "dataplane restart: control installed its $N contexts again" \
        ns_wait_for 30 sh -c "'$BUILD/dataplane/pshim6-dpctl' -s '$t/dp-b.sock' counters | grep -q '^context_entries $N\$'"
    local t3; t3=$(date +%s%N) added=$(cnt b dpchan.resync_added)
    check "dataplane restart: resync_added counts them ($added)" test "$added" = "$N"
    check "dataplane restart: the log says so" grep -q "dataplane restarted: its tables are empty; installing our $N contexts again" "$t/b-takeover.log"
    echo "   dataplane restart: $N contexts back in its table $(( (t3 - t2) / 1000000 )) ms after it was started again"
    R="${R}dataplane restart: $N back in $(( (t3 - t2) / 1000000 )) ms; "
    peer_stop
}

# Contexts the ACTIVE primary imports from its dataplane's dump while the
# backup is already replicating go out as ordinary CTX updates, paced like a
# full sync, not at the next periodic sync (sync_interval_ms is 600 s here).
# Then both are stopped with SIGTERM: peer.notify is told `stopped <state>
# <role>` once; the backup's script hangs on it and must not hold the stop
# longer than its peer.notify_timeout_ms (2 s here; the primary keeps the
# default 10 s, which its quick script never reaches).
imports() {
    printf '#!/bin/sh\necho "$1 $2 $3" >> %s\n' "$t/notify-a.out" > "$t/notify-a.sh"
    printf '#!/bin/sh\necho "$1 $2 $3" >> %s\n[ "$1" = stopped ] && exec sleep 61.25\nexit 0\n' "$t/notify-b.out" > "$t/notify-b.sh"
    chmod 755 "$t/notify-a.sh" "$t/notify-b.sh"
    mkconf a primary fd00:ff::2 256 notice "$t/notify-a.sh"
    mkconf b backup fd00:ff::1 256 debug "$t/notify-b.sh" 2000
    rm -f "$t"/*.state
    ns_bg b "$fdp" "$t/dp-b.sock" 0 0x2222 >/dev/null
    peer_ctl a "$t/a-imports.log"
    local pa=$!
    add_leases "$t/a.sock" "$N"
    peer_ctl b "$t/b-imports.log"
    local pb=$!
    check "imports: the backup holds a whole full sync (no contexts yet) from an active primary" \
        ns_wait_for 30 sh -c "[ \"\$('$cli' -s '$t/b.sock' --json counters | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"counters\"]; print(c[\"peer.syncs_rx\"] > 0)')\" = True ] && '$cli' -s '$t/a.sock' status | grep -q 'peer:.*primary, active'"
    local s0; s0=$(cnt b peer.syncs_rx)
    local t0; t0=$(date +%s%N)
    ns_bg a "$fdp" "$t/dp-a.sock" "$N" 0x1111 >/dev/null
    check "imports: the backup holds the $N imported contexts without another full sync" \
        ns_wait_for 30 sh -c "[ \"\$('$cli' -s '$t/b.sock' --json counters | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"counters\"]; print(c[\"peer.replicas\"])')\" = $N ]"
    local t1; t1=$(date +%s%N)
    local s1=$(cnt b peer.syncs_rx) sent=$(cnt a peer.import_tx_sent) nb=$(cnt a peer.import_tx_batches)
    local lost=$(cnt b peer.rx_lost) full=$(cnt a peer.import_tx_full) stx=$(cnt a peer.syncs_tx)
    check "imports: no full sync in between ($s0 -> $s1 received, $stx sent)" test "$s0" = "$s1"
    check "imports: $N sent as updates, none refused, nothing lost ($sent, $full, $lost)" test "$sent/$full/$lost" = "$N/0/0"
    check "imports: paced, at least $(( (N + 255) / 256 )) batches ($nb)" test "$nb" -ge $(( (N + 255) / 256 ))
    echo "   imports: $sent CTX updates in $nb batches, dataplane start -> $N replicas at the backup $(( (t1 - t0) / 1000000 )) ms, $lost lost, full syncs received $s0 -> $s1"
    R="${R}imports: $sent updates in $nb batches, $(( (t1 - t0) / 1000000 )) ms, lost $lost, syncs $s0 -> $s1; "

    # orderly stop of both: the hook told "stopped", bounded by its kill time
    local k0 ka kb; k0=$(date +%s%N)
    kill -TERM "$pa" "$pb"
    wait "$pa" 2>/dev/null; ka=$(( ($(date +%s%N) - k0) / 1000000 ))
    wait "$pb" 2>/dev/null; kb=$(( ($(date +%s%N) - k0) / 1000000 ))
    check "stop: the primary's hook was told 'stopped active primary' last ($(tail -1 "$t/notify-a.out"))" \
        test "$(tail -1 "$t/notify-a.out")" = "stopped active primary"
    check "stop: the primary stopped within 2 s (${ka} ms)" test "$ka" -lt 2000
    check "stop: the backup's hook was told 'stopped standby backup' last ($(tail -1 "$t/notify-b.out"))" \
        test "$(tail -1 "$t/notify-b.out")" = "stopped standby backup"
    check "stop: the backup's hanging hook was killed at its 2 s bound, notify_timeout_ms (${kb} ms)" \
        test "$kb" -ge 2000 -a "$kb" -lt 3500
    check "stop: the backup logged the kill" grep -q "still running after .* (the daemon is stopping): killed" "$t/b-imports.log"
    check "stop: nothing of the hanging hook is left" sh -c "! pgrep -f 'slee[p] 61.25'"
    echo "   stop: primary ${ka} ms ($(tr '\n' ';' < "$t/notify-a.out")), backup ${kb} ms with a hook that hangs ($(tr '\n' ';' < "$t/notify-b.out"))"
    R="${R}stop: primary ${ka} ms, backup (hook hangs) ${kb} ms; "
    peer_stop
}

# A standby whose socket takes fewer sync messages per tick than are sent:
# simulated with a rate limit on its side (heartbeats and BEGIN/END, short
# datagrams, always pass).  The primary must lower its batch until a sync
# arrives whole.
overrun() {
    local nc=3000
    mkconf a primary fd00:ff::2 256 info
    mkconf b backup fd00:ff::1 256 info
    ns_exec b ip6tables -A INPUT -p udp --dport 7340 -m length --length 0:200 -j ACCEPT
    ns_exec b ip6tables -A INPUT -p udp --dport 7340 -m limit --limit 5000/second --limit-burst 40 -j ACCEPT
    ns_exec b ip6tables -A INPUT -p udp --dport 7340 -j DROP
    primary_up overrun "$nc" "$t/a-overrun.log"
    local t0; t0=$(date +%s%N)
    peer_ctl b "$t/b-overrun.log"
    check "overrun: the backup ends with $nc replicas from a whole full sync" \
        ns_wait_for 60 sh -c "[ \"\$('$cli' -s '$t/b.sock' --json counters | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"counters\"]; print(c[\"peer.replicas\"], c[\"peer.syncs_rx\"] > 0, c[\"peer.replica_complete\"])')\" = '$nc True 1' ]"
    local t1; t1=$(date +%s%N)
    local un=$(cnt a peer.syncs_unreceived) use=$(cnt a peer.sync_batch_in_use) inc=$(cnt b peer.sync_incomplete)
    local lost=$(cnt b peer.rx_lost) drops
    drops=$(ns_exec b ip6tables -L INPUT -v -x -n | awk '$3 == "DROP" {print $1}')
    check "overrun: syncs went unreceived first ($un verdicts, $inc incomplete at the backup, $drops datagrams dropped)" \
        test "$un" -ge 1 -a "$inc" -ge 1 -a "${drops:-0}" -gt 0
    check "overrun: the batch in use came down from 256 ($use)" test "$use" -lt 256
    check "overrun: each halving logged" grep -q "full syncs now go out 128 messages per tick (was 256" "$t/a-overrun.log"
    echo "   overrun: $nc contexts whole at the backup $(( (t1 - t0) / 1000000 )) ms after its start; $un syncs unreceived, $inc incomplete, $lost messages lost, $drops dropped by the limit; batch in use now $use"
    R="${R}overrun (backup takes ~50 a tick): whole after $(( (t1 - t0) / 1000000 )) ms, $un unreceived, batch in use $use; "
    peer_stop
    ns_exec b ip6tables -F INPUT
}

R=""
overrun
run 256 1
takeover
run 8192 0
imports
[ "$bad" = 0 ] || { echo "FAIL: $bad checks"; for f in "$t"/*.log; do echo "== $f"; grep -E 'peer:|err' "$f" | tail -5; done; exit 1; }
echo "RESULT: full sync of $N contexts between two daemons: $R"
