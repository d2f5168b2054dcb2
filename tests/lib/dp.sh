# Shared pieces of the dataplane end-to-end tests (tests/dataplane/e2e-*.sh).
# Source it after setting top:
#   top=$(cd "$(dirname "$0")/../.." && pwd)
#   . "$top/tests/lib/dp.sh"
#   dp_init dpxx            # namespaces "dpxx-*", work dir, cleanup, hugepages
# Each test still writes its own dataplane config and builds its own topology
# from the small pieces below, so that it reads on its own.
set -eu
BUILD=${BUILD:-$top/build}
DP=$BUILD/dataplane/pshim6-dataplane
CTL=$BUILD/dataplane/pshim6-dpctl
PY=/usr/bin/python3

# DPDK needs hugepages; deploy/setup reserves them, a bare machine may not have.
dp_hugepages() {
    [ "$(cat /proc/sys/vm/nr_hugepages)" -ge 256 ] || echo 512 > /proc/sys/vm/nr_hugepages
}

# dp_init PREFIX: namespaces named PREFIX-*, a work dir /tmp/PREFIX.*, and an
# EXIT trap that removes them with the DPDK runtime dirs of the test's
# dataplanes, whose --file-prefix must be PREFIX-$$ or PREFIX-<digit>-$$.
# Sets work, t0 (start, seconds), fail=0 and DP_SOCK (the socket C talks to).
dp_init() {
    DP_NS=$1
    . "$top/tests/lib/netns.sh"
    ns_init "$DP_NS"
    [ -x "$DP" ] || { echo "no $DP (DPDK not built?)"; exit 1; }
    work=$(mktemp -d "/tmp/$DP_NS.XXXXXX")
    trap 'rc=$?; set +e; ns_cleanup; rm -rf "$work" /var/run/dpdk/"$DP_NS"-$$ /var/run/dpdk/"$DP_NS"-[0-9]-$$; (exit $rc)' EXIT
    trap 'exit 130' INT; trap 'exit 143' TERM
    t0=$(date +%s)
    fail=0
    DP_SOCK=$work/dp.sock
    dp_hugepages
}

# tsh: tshark on a capture file, bounded in time (tests/lib/tshark.sh).
. "$top/tests/lib/tshark.sh"

# bad MESSAGE: a failed check; the test goes on and exits 1 at the end.
bad() { echo "FAIL: $*"; fail=1; }

# C ARGS...: pshim6-dpctl on DP_SOCK.  cnt NAME: one of its counters, now.
C() { "$CTL" -s "$DP_SOCK" "$@"; }
cnt() { C counters | awk -v k="$1" '$1 == k {print $2}'; }

# ---- topology pieces.  Names: inside host hN (eth0), proxy pN with the inside
# port pN-in and ISP ports pN-<isp>, router `core` with cN<isp> facing pN-<isp>.

# dp_site_links N ISP...: veths hN:eth0 - pN:pN-in and pN:pN-ISP - core:cNISP
# for each ISP.  The pN ends belong to the dataplane (af_packet), so the
# kernel of pN must not speak IPv6 on them (no ND, no MLD, no answers).
# (not "n": ns_exec sets a global n)
dp_site_links() {
    local site=$1 i
    shift
    ns_link_dp h$site eth0 p$site p$site-in
    for i in "$@"; do ns_link_dp core c$site$i p$site p$site-$i; done
}

# dp_core_isp DEV NET: the ISP router on DEV is 2001:db8:NET:ffff::1/64 and
# routes the site's PA prefix 2001:db8:NET:1::/64 to the proxy (...:ffff::2).
dp_core_isp() {
    ns_exec core ip -6 addr add "2001:db8:$2:ffff::1/64" dev "$1" nodad
    ns_exec core ip -6 route add "2001:db8:$2:1::/64" via "2001:db8:$2:ffff::2" dev "$1"
}

# dp_core_filter DEV:NET...: ingress filtering on the core: what arrives on
# DEV is dropped unless its source is in 2001:db8:NET:1::/64.  Sets filter to
# yes, or to no when ip6tables is not usable here.
dp_core_filter() {
    local a
    filter=no
    ns_exec core ip6tables -A FORWARD -i "${1%:*}" ! -s "2001:db8:${1#*:}:1::/64" -j DROP 2>/dev/null || return 0
    shift
    for a in "$@"; do ns_exec core ip6tables -A FORWARD -i "${a%:*}" ! -s "2001:db8:${a#*:}:1::/64" -j DROP; done
    filter=yes
}

# dp_host NS ADDR GW [ARGS...]: a host with ADDR/64 on eth0 and its default
# route through the proxy's inside address GW (ARGS go to that route).
dp_host() {
    local ns=$1 addr=$2 gw=$3
    shift 3
    ns_exec "$ns" ip -6 addr add "$addr/64" dev eth0 nodad
    ns_exec "$ns" ip -6 route add "$gw" dev eth0
    ns_exec "$ns" ip -6 route add default via "$gw" dev eth0 "$@"
}

# ---- the dataplane

# dp_start NS CONF LOG [ARGS...]: check CONF (-n), then run the dataplane in
# namespace NS with stderr to LOG; $! is its pid afterwards.
dp_start() {
    local ns=$1 conf=$2 log=$3
    shift 3
    "$DP" -n -c "$conf"
    ns_bg "$ns" "$DP" -c "$conf" "$@" 2>"$log"
}

# dp_wait SOCK LOG: wait (20 s) until the dataplane answers HELLO on SOCK;
# if it does not, show its LOG and fail the test.
dp_wait() {
    ns_wait_for 20 "$CTL" -s "$1" hello || { cat "$2"; exit 1; }
}

# ---- TCP transfers checked end to end

# dp_write_sha_server FILE: a Python server; run it as
#   FILE PORT OUT [TIMEOUT]
# It takes one connection on [::]:PORT, reads to EOF (each recv may wait
# TIMEOUT s, default 30) and writes "<sha256> <bytes> <peer> <gaps>" to OUT,
# gaps being "<start>:<seconds>" for each pause between reads over 0.3 s.
# OUT.ready appears once it listens (dp_ready OUT waits for it).
dp_write_sha_server() {
    cat > "$1" <<'EOF'
import hashlib, socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
tmo = float(sys.argv[3]) if len(sys.argv) > 3 else 30
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", port)); s.listen(1); s.settimeout(60)
open(out + ".ready", "w").close()
c, peer = s.accept(); c.settimeout(tmo)
h = hashlib.sha256(); n = 0; last = time.time(); gaps = []
while True:
    b = c.recv(65536)
    now = time.time()
    if not b: break
    if now - last > 0.3: gaps.append((round(last, 2), round(now - last, 2)))
    last = now
    h.update(b); n += len(b)
open(out, "w").write("%s %d %s %s\n" % (h.hexdigest(), n, peer[0], " ".join("%s:%s" % g for g in gaps)))
EOF
}

# dp_ready OUT...: wait (30 s each) for each server's or listener's OUT.ready;
# counts a failure for one that never comes
dp_ready() {
    local f
    for f in "$@"; do ns_wait_for 30 test -e "$f.ready" || bad "the server writing $f did not start"; done
}

# dp_write_paced_client FILE: a Python client; run it as
#   FILE HOST PORT DATA SECONDS [STEP_KIB [TIMEOUT]]
# It sends the file DATA to HOST:PORT in STEP_KIB pieces (default 256) spread
# evenly over SECONDS, waits for the server to close, prints the time taken.
dp_write_paced_client() {
    cat > "$1" <<'EOF'
import socket, sys, time
host, port, data, pace = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], "rb").read(), float(sys.argv[4])
step = int(sys.argv[5]) * 1024 if len(sys.argv) > 5 else 256 * 1024
tmo = float(sys.argv[6]) if len(sys.argv) > 6 else 30
s = socket.create_connection((host, port), timeout=tmo)
t0 = time.time()
for i in range(0, len(data), step):
    s.sendall(data[i:i + step])
    lag = t0 + pace * (i + step) / len(data) - time.time()
    if lag > 0: time.sleep(lag)
s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
print("%.2f" % (time.time() - t0))
EOF
}
