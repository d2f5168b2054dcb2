# Shared pieces of the primary/backup tests (tests/control/e2e-peer-*.sh):
# two real pshim6-control daemons "a" and "b" of one site, each in its own
# namespace with a stand-in dataplane (fake_dp).  Source it after setting top:
#   top=$(cd "$(dirname "$0")/../.." && pwd)
#   . "$top/tests/lib/peer_site.sh"
#   peer_init ps e2e-peer-sync    # namespaces "ps-*", work dir /tmp/e2e-peer-sync.*
# Each test still builds its own links and writes its own peer section, so
# that it reads on its own.
. "$top/tests/lib/netns.sh"
BUILD=${BUILD:-$top/build}
ctl=$BUILD/control/pshim6-control cli=$BUILD/control/pshim6ctl fdp=$BUILD/tests/control/fake_dp
cga=$BUILD/shim6/tool/pshim6-cga

# peer_init PREFIX NAME: namespaces PREFIX-*, the work dir t=/tmp/NAME.*
# removed on exit with them, the site key $t/site.pem and the pair's shared
# key $t/peer.key.  Sets bad=0 (failed checks).
peer_init() {
    local b
    ns_init "$1"
    for b in "$ctl" "$cli" "$fdp" "$cga"; do [ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }; done
    t=$(mktemp -d "/tmp/$2.XXXXXX")
    trap 'ns_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$t"' EXIT
    bad=0
    "$cga" keygen --bits 1024 --out "$t/site.pem" >/dev/null || { echo "FAIL: keygen"; exit 1; }
    (umask 077; head -c 32 /dev/urandom > "$t/peer.key")
}

# check WHAT CMD...: prints ok/FAIL for WHAT; a failure counts in bad.
check() { local w=$1; shift; if "$@" >/dev/null 2>&1; then echo "ok: $w"; else echo "FAIL: $w"; bad=$((bad + 1)); fi; }
# cnt NAME COUNTER: a counter of daemon NAME (-1 when it has none).
cnt() { "$cli" -s "$t/$1.sock" --json counters | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"].get(sys.argv[1], -1))' "$2"; }

# peer_conf NAME LOG_LEVEL PEER: $t/NAME.conf, the site both daemons serve
# (room for N contexts and 1000 more), its sockets and state file named
# after NAME, and PEER as the body of its peer section.
peer_conf() {
    cat > "$t/$1.conf" <<EOC
site = { name = "s1"; cmula_prefixes = [ "fd00:1:1:1::/64" ]; key_file = "$t/site.pem"; cga_sec = 0; };
inside = { port = "none"; };
isps = (
  { name = "x"; pa_prefix = "2001:db8:10:1::/64"; port = "p1"; next_hop = "fe80::1"; },
  { name = "y"; pa_prefix = "2001:db8:20:1::/64"; port = "p2"; next_hop = "fe80::1"; }
);
dataplane = { channel = "$t/dp-$1.sock"; };
control = { socket = "$t/$1.sock"; state_file = "$t/$1.state"; log_level = "$2"; syslog = false; };
engine = { max_contexts = $((N + 1000)); };
peer = {
  $3
};
EOC
}

# peer_ctl NAME LOG: start daemon NAME in namespace NAME, stderr appended to
# LOG, and wait (10 s) for its control socket; $! is its pid afterwards.
peer_ctl() {
    ns_bg "$1" "$ctl" -c "$t/$1.conf" 2>>"$2"
    ns_wait_for 10 test -S "$t/$1.sock" || { echo "FAIL: control $1 did not start"; exit 1; }
}

# peer_leases SOCK FROM TO [WINDOW]: leases FROM..TO-1 (decimal indexes)
# through control's socket SOCK, WINDOW requests in flight (default 1).  The
# CMULAs are fake_dp's local ULIDs, fd00:1:1:1::<i+1>.
peer_leases() {
    python3 - "$1" "$2" "$3" "${4:-1}" <<'EOP' || { echo "FAIL: leases"; exit 1; }
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
f = s.makefile("rw")
a, b, w = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for i in range(a, b):
    f.write('{"cmd":"lease","event":"add","cmula":"fd00:1:1:1::%x","mode":"cga","pds":"%064x","duid":"0001","iaid":1}\n' % (i + 1, i + 1))
    if (i - a) % w == w - 1 or i == b - 1:
        f.flush()
        for _ in range((i - a) % w + 1):
            r = f.readline()
            if '"ok":true' not in r:
                sys.exit("lease refused: " + r)
EOP
}

# peer_stop: stop every process the test started (the namespaces stay) and
# remove their sockets.
peer_stop() {
    local p
    for p in $NS_PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $NS_PIDS; do wait "$p" 2>/dev/null || true; done
    NS_PIDS=""
    rm -f "$t"/*.sock
}
