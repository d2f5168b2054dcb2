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
# allowed, close to the unpaced burst of before.  RESULT: for each batch
# size, the sync's duration and batches at the sender, and at the receiver
# the replicas, whole/incomplete syncs, messages lost.
#   env: BUILD (build dir), N (contexts)
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/netns.sh"
ns_init ps
BUILD=${BUILD:-$top/build}
N=${N:-10000}
ctl=$BUILD/control/pshim6-control cli=$BUILD/control/pshim6ctl fdp=$BUILD/tests/control/fake_dp
cga=$BUILD/shim6/tool/pshim6-cga
for b in "$ctl" "$cli" "$fdp" "$cga"; do [ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }; done
t=$(mktemp -d /tmp/e2e-peer-sync.XXXXXX)
trap 'ns_cleanup; rm -rf "$t"' EXIT
bad=0
check() { local w=$1; shift; if "$@" >/dev/null 2>&1; then echo "ok: $w"; else echo "FAIL: $w"; bad=$((bad + 1)); fi; }
cnt() { "$cli" -s "$t/$1.sock" --json counters | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"].get(sys.argv[1], -1))' "$2"; }

"$cga" keygen --bits 1024 --out "$t/site.pem" >/dev/null || { echo "FAIL: keygen"; exit 1; }
(umask 077; head -c 32 /dev/urandom > "$t/peer.key")
ns_add a
ns_add b
ns_link a pa b pb
ip -n ps-a addr add fd00:ff::1/64 dev pa nodad
ip -n ps-b addr add fd00:ff::2/64 dev pb nodad

mkconf() { # name role other batch log_level [notify]
    local nl=""
    [ -z "${6:-}" ] || nl="notify = \"$6\";"
    cat > "$t/$1.conf" <<EOC
site = { name = "s1"; cmula_prefixes = [ "fd00:1:1:1::/64" ]; key_file = "$t/site.pem"; cga_sec = 0; };
inside = { port = "none"; };
isps = (
  { name = "x"; pa_prefix = "2001:db8:10:1::/64"; port = "p1"; next_hop = "fe80::1"; },
  { name = "y"; pa_prefix = "2001:db8:20:1::/64"; port = "p2"; next_hop = "fe80::1"; }
);
dataplane = { channel = "$t/dp-$1.sock"; };
control = { socket = "$t/$1.sock"; state_file = "$t/$1.state"; log_level = "$5"; syslog = false; };
engine = { max_contexts = $((N + 1000)); };
peer = {
  role = "$2"; address = "$3"; key_file = "$t/peer.key";
  heartbeat_ms = 100; dead_ms = 1000; sync_interval_ms = 600000; sync_batch = $4;
  $nl
};
EOC
}

# N leases through control's socket SOCK, 256 in flight; their CMULAs are
# fake_dp's local ULIDs, fd00:1:1:1::<i+1>
add_leases() { # sock n
    python3 - "$1" "$2" <<'EOP' || { echo "FAIL: leases"; exit 1; }
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
f = s.makefile("rw")
n = int(sys.argv[2])
for i in range(n):
    f.write('{"cmd":"lease","event":"add","cmula":"fd00:1:1:1::%x","mode":"cga","pds":"%064x","duid":"0001","iaid":1}\n' % (i + 1, i + 1))
    if i % 256 == 255 or i == n - 1:
        f.flush()
        for _ in range(i % 256 + 1):
            r = f.readline()
            if '"ok":true' not in r:
                sys.exit("lease refused: " + r)
EOP
}

run() { # batch checked(1|0)
    local batch=$1 must=$2 wait=60
    [ "$must" = 1 ] || wait=15
    mkconf a primary fd00:ff::2 "$batch" notice
    mkconf b backup fd00:ff::1 "$batch" debug
    "$ctl" -n -c "$t/a.conf" >/dev/null 2>&1 || { echo "FAIL: config"; exit 1; }
    rm -f "$t"/*.state
    ns_bg b "$fdp" "$t/dp-b.sock" 0 0x2222 >/dev/null
    # the primary alone first: the hosts' leases, then its dataplane, whose
    # contexts it imports; it activates after dead_ms; then the backup
    # appears and gets a sync at once
    ns_bg a "$ctl" -c "$t/a.conf" 2>>"$t/a-$batch.log"
    ns_wait_for 10 test -S "$t/a.sock" || { echo "FAIL: control a did not start"; exit 1; }
    add_leases "$t/a.sock" "$N"
    ns_bg a "$fdp" "$t/dp-a.sock" "$N" 0x1111 >/dev/null
    check "batch $batch: the primary holds the $N dumped contexts and is active" \
        ns_wait_for 60 sh -c "'$cli' -s '$t/a.sock' status | grep -q 'contexts:   $N of' && '$cli' -s '$t/a.sock' status | grep -q 'peer:.*primary, active'"
    local t0; t0=$(date +%s%N)
    # checked round: a failed check fails the test; comparison round: shown only
    chk() { if [ "$must" = 1 ]; then check "$@"; else local w=$1; shift; if "$@" >/dev/null 2>&1; then echo "   (not checked) yes: $w"; else echo "   (not checked) no: $w"; fi; fi; }
    ns_bg b "$ctl" -c "$t/b.conf" 2>>"$t/b-$batch.log"
    ns_wait_for 10 test -S "$t/b.sock" || { echo "FAIL: control b did not start"; exit 1; }
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
    ns_cleanup_pids
}
# stop this round's processes (the namespaces stay)
ns_cleanup_pids() {
    for p in $NS_PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $NS_PIDS; do wait "$p" 2>/dev/null || true; done
    NS_PIDS=""
    rm -f "$t"/*.sock
}

# Contexts the ACTIVE primary imports from its dataplane's dump while the
# backup is already replicating go out as ordinary CTX updates, paced like a
# full sync, not at the next periodic sync (sync_interval_ms is 600 s here).
# Then both are stopped with SIGTERM: peer.notify is told `stopped <state>
# <role>` once; the backup's script hangs on it and must not hold the stop
# longer than the hook's 10 s kill bound.
imports() {
    printf '#!/bin/sh\necho "$1 $2 $3" >> %s\n' "$t/notify-a.out" > "$t/notify-a.sh"
    printf '#!/bin/sh\necho "$1 $2 $3" >> %s\n[ "$1" = stopped ] && exec sleep 61.25\nexit 0\n' "$t/notify-b.out" > "$t/notify-b.sh"
    chmod 755 "$t/notify-a.sh" "$t/notify-b.sh"
    mkconf a primary fd00:ff::2 256 notice "$t/notify-a.sh"
    mkconf b backup fd00:ff::1 256 debug "$t/notify-b.sh"
    rm -f "$t"/*.state
    ns_bg b "$fdp" "$t/dp-b.sock" 0 0x2222 >/dev/null
    ns_bg a "$ctl" -c "$t/a.conf" 2>>"$t/a-imports.log"
    local pa=$!
    ns_wait_for 10 test -S "$t/a.sock" || { echo "FAIL: control a did not start"; exit 1; }
    add_leases "$t/a.sock" "$N"
    ns_bg b "$ctl" -c "$t/b.conf" 2>>"$t/b-imports.log"
    local pb=$!
    ns_wait_for 10 test -S "$t/b.sock" || { echo "FAIL: control b did not start"; exit 1; }
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
    check "stop: the backup's hanging hook was killed at the 10 s bound (${kb} ms)" \
        test "$kb" -ge 10000 -a "$kb" -lt 11500
    check "stop: the backup logged the kill" grep -q "still running after .* (the daemon is stopping): killed" "$t/b-imports.log"
    check "stop: nothing of the hanging hook is left" sh -c "! pgrep -f 'slee[p] 61.25'"
    echo "   stop: primary ${ka} ms ($(tr '\n' ';' < "$t/notify-a.out")), backup ${kb} ms with a hook that hangs ($(tr '\n' ';' < "$t/notify-b.out"))"
    R="${R}stop: primary ${ka} ms, backup (hook hangs) ${kb} ms; "
    ns_cleanup_pids
}

R=""
run 256 1
run 8192 0
imports
[ "$bad" = 0 ] || { echo "FAIL: $bad checks"; for f in "$t"/*.log; do echo "== $f"; grep -E 'peer:|err' "$f" | tail -5; done; exit 1; }
echo "RESULT: full sync of $N contexts between two daemons: $R"
