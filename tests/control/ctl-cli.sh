#!/bin/bash
# pshim6-control + pshim6ctl against a stand-in dataplane: socket mode,
# every CLI command's output, DNS ALG / DHCP hook messages, SIGHUP reload
# (a bad file is refused and the old config kept), and a control restart
# that takes the dataplane's contexts back from its dump.
#   usage: ctl-cli.sh BUILD_DIR SOURCE_DIR
set -u
B=$1 S=$2
ctl=$B/control/pshim6-control cli=$B/control/pshim6ctl fdp=$B/tests/control/fake_dp
t=$(mktemp -d /tmp/ctl-cli.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$t"; }
trap cleanup EXIT
fail=0
check() { # description, then a command that must succeed
    local what=$1; shift
    if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}
has() { grep -q -- "$2" <<<"$1"; }

# every program answers --help and -h with its usage on stdout, exit 0
for p in "$ctl" "$cli" "$B/dataplane/pshim6-dpctl" "$B/dataplane/pshim6-dataplane" "$B/dnsalg/pshim6-dnsalg"; do
    [ -x "$p" ] || continue
    for o in --help -h; do
        check "${p##*/} $o" bash -c "\"$p\" $o 2>/dev/null | grep -qi '^usage: ${p##*/}'"
    done
done

sed -e "s|/run/pshim6/control.sock|$t/control.sock|; s|/run/pshim6/dataplane.sock|$t/dp.sock|;
        s|/run/pshim6/dnsalg.sock|$t/dnsalg.sock|; s|/var/lib/pshim6/control.state|$t/state|" \
    "$S/conf/pshim6.conf" > "$t/p.conf"
cp "$t/p.conf" "$t/good.conf"

"$fdp" "$t/dp.sock" 5 0x1111 > "$t/fdp.log" &
pids+=($!)
start_ctl() {
    "$ctl" -d -c "$t/p.conf" 2>>"$t/ctl.log" &
    ctlpid=$!
    pids+=($ctlpid)
    for _ in $(seq 50); do [ -S "$t/control.sock" ] && break; sleep 0.1; done
}
start_ctl
C() { "$cli" -s "$t/control.sock" "$@"; }

check "control socket is owner-only (0600)" test "$(stat -c %a "$t/control.sock")" = 600
for _ in $(seq 50); do C status | grep -q "dataplane:  connected" && break; sleep 0.1; done

out=$(C status); check "status shows the site, the dataplane and both ISPs" \
    bash -c 'has() { grep -q -- "$2" <<<"$1"; }; has "$1" "site site1" && has "$1" "dataplane:  connected (capacity 1000" && has "$1" "contexts:   5 of" && has "$1" "^ispx " && has "$1" "^ispy "' _ "$out"
out=$(C --json status); check "status --json is one JSON line with ok:true" \
    bash -c '[ "$(wc -l <<<"$1")" = 1 ] && grep -q "^{\"ok\":true,.*\"contexts\":5" <<<"$1"' _ "$out"
out=$(C contexts); check "contexts lists the 5 dumped contexts" \
    bash -c 'grep -q "^5 contexts" <<<"$1" && [ "$(grep -c "^0000001000" <<<"$1")" = 5 ]' _ "$out"
out=$(C contexts isp ispy); check "contexts isp ispy filters to 2" bash -c 'grep -q "^2 contexts" <<<"$1"' _ "$out"
out=$(C contexts peer fd00:2:2:1::3); check "contexts peer ULID filters to 1" bash -c 'grep -q "^1 context$" <<<"$1" && grep -q "^000000100002 " <<<"$1"' _ "$out"
out=$(C contexts limit 2); check "contexts limit 2 says output is limited" bash -c 'grep -q "5 contexts (output limited" <<<"$1"' _ "$out"
for _ in $(seq 50); do C context 100001 | grep -q "last sent    never" || break; sleep 0.1; done  # REAP poll
out=$(C context 100001); check "context TAG shows ULIDs, locators, ISP and REAP stamps" \
    bash -c 'grep -q "fd00:1:1:1::2 -> fd00:2:2:1::2" <<<"$1" && grep -q "via ispy" <<<"$1" && grep -qE "last sent    [0-9]+\.[0-9]s ago" <<<"$1" && grep -q "dataplane dump" <<<"$1"' _ "$out"
out=$(C context fd00:1:1:1::1 fd00:2:2:1::1); check "context by ULID pair" bash -c 'grep -q "^context 000000100000" <<<"$1"' _ "$out"
C context 999 2>"$t/err"; rc=$?
check "unknown context: exit 1 and a message" bash -c '[ $1 = 1 ] && grep -q "no such context" "$2"' _ $rc "$t/err"

# the DNS ALG and the DHCP hook talk to the same socket
py() { python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode()+b"\n")
print(s.makefile().readline().strip())' "$t/control.sock" "$1"; }
r=$(py '{"cmd":"peer-locators","ulid":"fd00:2:2:1::99","locators":["2001:db8:30:1::99","2001:db8:40:1::99"],"ttl":300,"name":"h9.site2.example."}')
check "peer-locators accepted" test "$r" = '{"ok":true}'
r=$(py '{"cmd":"lease","event":"add","cmula":"fd00:1:1:1::77","mode":"cga","pds":"00112233","duid":"0001","iaid":7}')
check "lease add accepted" test "$r" = '{"ok":true}'
r=$(py '{"cmd":"lease","event":"add","cmula":"fd00:99::1","mode":"cga","pds":"00","duid":"00","iaid":1}')
check "lease outside the site prefix refused" test "$r" = '{"ok":false,"error":"'"'"'cmula'"'"' is not in a site cmula prefix"}'
r=$(py 'not json'); check "malformed request gets ok:false" bash -c 'grep -q "^{\"ok\":false,\"error\":" <<<"$1"' _ "$r"
out=$(C status); check "status counts the cached peer and the lease" bash -c 'grep -q "peers:      1 cached" <<<"$1" && grep -q "leases:     1" <<<"$1"' _ "$out"
out=$(C counters); check "counters include tables, dataplane and TE" \
    bash -c 'grep -q "^peer_updates  *1" <<<"$1" && grep -q "^lease_adds  *1" <<<"$1" && grep -q "^lease_rejected  *1" <<<"$1" && grep -q "^egress_shim" <<<"$1" && grep -q "^bad_requests  *1" <<<"$1"' _ "$out"
out=$(C --json counters); check "counters --json" bash -c 'grep -q "\"tables.peer_updates\":1" <<<"$1"' _ "$out"

# config check and reload
out=$(C config check); check "config check of the running file" bash -c 'grep -q "configuration OK" <<<"$1"' _ "$out"
C config check "$S/tests/conf/bad/isps.conf" 2>"$t/err"; rc=$?
check "config check of a bad file: exit 1 and file:line errors" bash -c '[ $1 = 1 ] && grep -q "isps.conf:5: duplicate isp name" "$2"' _ $rc "$t/err"
sed -i 's/name = "site1";/name = "site1b";/' "$t/p.conf"
out=$(C reload); check "reload of a good file" bash -c 'grep -q "reloaded; 5 contexts kept" <<<"$1"' _ "$out"
out=$(C status); check "status shows the reloaded site name" bash -c 'grep -q "site site1b" <<<"$1"' _ "$out"
sed -i 's/weight = 3;/weight = 3; colour = "red";/' "$t/p.conf"
kill -HUP $ctlpid; sleep 0.5
check "SIGHUP with a bad file logs file:line" grep -q "p.conf:4[0-9]: unknown key 'colour' in isps" "$t/ctl.log"
out=$(C status); check "bad reload refused: old config and contexts kept" bash -c 'grep -q "site site1b" <<<"$1" && grep -q "contexts:   5 of" <<<"$1"' _ "$out"
C reload >/dev/null 2>"$t/err"; rc=$?
check "reload via CLI of a bad file: exit 1 with the error and its file:line, one a line" \
    bash -c '[ $1 = 1 ] && grep -q "unknown key" "$2" && grep -qx "$3:4[0-9]: unknown key .colour. in isps" "$2"' _ $rc "$t/err" "$t/p.conf"
# an ISP's PA prefix: the dataplane takes it only at its start, so control refuses it too
sed 's|pa_prefix = "2001:db8:20:1::/64";|pa_prefix = "2001:db8:20:2::/64";|' "$t/good.conf" > "$t/p.conf"
C reload >/dev/null 2>"$t/err"; rc=$?
check "reload of an ISP's changed pa_prefix: exit 1, the key named, a restart asked for" \
    bash -c '[ $1 = 1 ] && grep -q "isps\[1\].pa_prefix (ispy) changed: the dataplane takes .* only at its start; restart both daemons" "$2"' _ $rc "$t/err"
out=$(C status); check "... and the running prefix kept" bash -c 'grep -q "2001:db8:20:1::/64" <<<"$1" && ! grep -q "2001:db8:20:2::/64" <<<"$1"' _ "$out"
cp "$t/good.conf" "$t/p.conf"

# control restart: the dataplane kept its contexts, control takes them back
kill $ctlpid; wait $ctlpid 2>/dev/null
check "socket removed on exit" test ! -e "$t/control.sock"
start_ctl
for _ in $(seq 50); do C status 2>/dev/null | grep -q "contexts:   5 of" && break; sleep 0.1; done
out=$(C status); check "after restart the 5 contexts are back from the dump" bash -c 'grep -q "contexts:   5 of" <<<"$1"' _ "$out"
check "no context was installed anew (no CTX_ADD reached the dataplane)" bash -c '! grep -q "^type 10" "$1"' _ "$t/fdp.log"
check "control dumped twice (start and restart)" test "$(grep -c '^dump' "$t/fdp.log")" = 2
"$ctl" -n -c "$t/p.conf" 2>/dev/null; check "a second daemon refuses a live socket" bash -c '! "$1" -c "$2" 2>/dev/null' _ "$ctl" "$t/p.conf"
# Out of descriptors: the listener stays readable and accept() keeps
# failing.  The daemon counts it and leaves the listener alone for 100 ms at
# a time instead of spinning, and serves the waiting client afterwards.
if command -v prlimit >/dev/null; then
    low=0; while [ -e "/proc/$ctlpid/fd/$low" ]; do low=$((low + 1)); done
    hard=$(prlimit --pid "$ctlpid" --nofile --noheadings --output HARD --raw)
    cpu() { awk '{print $14 + $15}' "/proc/$ctlpid/stat"; }
    prlimit --pid "$ctlpid" --nofile="$low:$hard"
    C status > "$t/waited.out" 2>&1 & waiter=$!
    sleep 0.2; c0=$(cpu); sleep 1; c1=$(cpu)
    prlimit --pid "$ctlpid" --nofile="1024:$hard"
    wait $waiter; wrc=$?
    check "accept() out of descriptors: the daemon stays idle ($((c1 - c0)) ticks of 100 in 1 s)" test $((c1 - c0)) -le 20
    n=$(C --json counters | grep -o '"control.clients_accept_failed":[0-9]*' | cut -d: -f2)
    check "accept() out of descriptors: counted (clients_accept_failed ${n:-none}), about 10 a second" \
        bash -c '[ -n "$1" ] && [ "$1" -ge 5 ] && [ "$1" -le 40 ]' _ "$n"
    check "accept() out of descriptors: the client that waited is served" \
        bash -c '[ $1 = 0 ] && grep -q "^pshim6-control" "$2"' _ $wrc "$t/waited.out"
fi
kill $ctlpid; wait $ctlpid 2>/dev/null
# control.socket_group: group-owned 0660 socket, so a daemon running as
# another user whose primary group it is (the DNS ALG as nobody) can connect
grp=$(id -gn nobody 2>/dev/null || echo nogroup)
sed -e "s|$t/control.sock|$t/grp.sock|; s|$t/state|$t/state2|; s|$t/dp.sock|$t/nodp.sock|" \
    -e "s|socket_mode = \"0600\";|socket_mode = \"0660\"; socket_group = \"$grp\";|" "$t/good.conf" > "$t/grp.conf"
"$ctl" -d -c "$t/grp.conf" 2>>"$t/ctl.log" & gpid=$!; pids+=($gpid)
for _ in $(seq 50); do [ -S "$t/grp.sock" ] && break; sleep 0.1; done
check "socket_group: socket is 0660 and owned by group $grp" test "$(stat -c '%a %G' "$t/grp.sock" 2>/dev/null)" = "660 $grp"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    chmod 0711 "$t"
    out=$(setpriv --reuid=nobody --regid="$grp" --clear-groups "$cli" -s "$t/grp.sock" status 2>&1)
    check "socket_group: user nobody (group $grp) can use the socket" bash -c 'grep -q "^pshim6-control" <<<"$1"' _ "$out"
    out=$(setpriv --reuid=nobody --regid="$grp" --clear-groups "$cli" -s "$t/control.sock" status 2>&1)
    check "default socket stays owner-only: nobody is refused" bash -c '! grep -q "^pshim6-control" <<<"$1"' _ "$out"
fi
sed -i "s|socket_group = \"$grp\";|socket_group = \"no-such-group-x\";|; s|$t/grp.sock|$t/grp2.sock|" "$t/grp.conf"
"$ctl" -d -c "$t/grp.conf" 2>"$t/grp.err"; rc=$?
check "socket_group naming no group: the daemon refuses to start" bash -c '[ $1 != 0 ] && grep -q "no such group" "$2" && [ ! -e "$3" ]' _ $rc "$t/grp.err" "$t/grp2.sock"
kill $gpid; wait $gpid 2>/dev/null
check "no sanitizer report from the daemon" bash -c '! grep -qE "Sanitizer|runtime error" "$1"' _ "$t/ctl.log"
echo "RESULT: control CLI checks $( [ $fail = 0 ] && echo passed || echo FAILED )"
exit $fail
