# Shared helpers for end-to-end tests in network namespaces.  Source it:
#   . "$(dirname "$0")/../lib/netns.sh"; ns_init dp   # every namespace gets prefix "dp-"
# Everything created through these helpers is removed by the EXIT trap.
set -eu
NS_PREFIX=""
NS_LIST=""
NS_PIDS=""
ns_init() {
    NS_PREFIX="$1-"
    ns_cleanup_stale
    trap ns_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}
# Remove namespaces left by an earlier, killed run of the same test.
ns_cleanup_stale() {
    for n in $(ip netns list | awk '{print $1}' | grep "^$NS_PREFIX" || true); do
        ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip netns del "$n" 2>/dev/null || true
    done
}
# Tears down; never exits, so a script's exit status survives its EXIT trap
# (bash keeps the status of `exit` when the trap itself does not call exit).
ns_cleanup() {
    for p in $NS_PIDS; do kill "$p" 2>/dev/null || true; done
    sleep 0.2
    for p in $NS_PIDS; do kill -9 "$p" 2>/dev/null || true; done
    for n in $NS_LIST; do
        ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip netns del "$n" 2>/dev/null || true
    done
    NS_LIST=""; NS_PIDS=""
}
# ns_add NAME: create namespace $NS_PREFIX$NAME with lo up; prints nothing.
ns_add() {
    ip netns add "$NS_PREFIX$1"
    NS_LIST="$NS_LIST $NS_PREFIX$1"
    ip -n "$NS_PREFIX$1" link set lo up
    ip netns exec "$NS_PREFIX$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}
# ns_exec NAME cmd...: run in namespace.
ns_exec() { n=$1; shift; ip netns exec "$NS_PREFIX$n" "$@"; }
# ns_bg NAME cmd...: run in background in namespace; killed at exit.
ns_bg() { n=$1; shift; ip netns exec "$NS_PREFIX$n" "$@" & NS_PIDS="$NS_PIDS $!"; }
# ns_link A IFA B IFB: veth pair between namespaces A and B, both up, TX checksum offload off
# (af_packet DPDK ports see packets whose checksum the kernel has not filled in otherwise).
ns_link() { ns_veth "$1" "$2" "$3" "$4" yes; }
# ns_link_dp A IFA B IFB: the same, B's end a dataplane's (af_packet) port: its
# kernel gets no IPv6 there, disabled before the link comes up.  Disabled
# after, the Router Solicitations the kernel scheduled at link-up still go
# out seconds later, and the af_packet port receives its own kernel's frames.
ns_link_dp() { ns_veth "$1" "$2" "$3" "$4" no; }
ns_veth() { # A IFA B IFB B_IPV6
    ip link add "$2" netns "$NS_PREFIX$1" type veth peer name "$4" netns "$NS_PREFIX$3"
    [ "$5" = yes ] || ns_exec "$3" sysctl -qw "net.ipv6.conf.$4.disable_ipv6=1"
    ip -n "$NS_PREFIX$1" link set "$2" up
    ip -n "$NS_PREFIX$3" link set "$4" up
    ns_exec "$1" ethtool -K "$2" tx off >/dev/null 2>&1 || true
    ns_exec "$3" ethtool -K "$4" tx off >/dev/null 2>&1 || true
}
# ns_wait_for SECONDS cmd...: poll until cmd succeeds, for at most SECONDS of wall
# time (a try that itself takes time, like a ping, counts with its duration).
ns_wait_for() {
    local end=$(( $(date +%s%N) / 1000000 + $1 * 1000 ))
    shift
    while ! "$@" >/dev/null 2>&1; do
        [ $(( $(date +%s%N) / 1000000 )) -ge $end ] && return 1
        sleep 0.1
    done
    return 0
}
# pcap_wait FILE...: wait (10 s each) until tcpdump -w has written each FILE's
# pcap header (24 octets), which it does once it captures, then 0.3 s more;
# returns 1 if one never came.  A test that counts frames from then on misses
# none of them, however slowly a loaded machine started tcpdump.
pcap_hdr() { [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge 24 ]; }
pcap_wait() {
    local f
    for f in "$@"; do ns_wait_for 10 pcap_hdr "$f" || return 1; done
    sleep 0.3
}
# RESULT: lines are quoted in the tests/run summary.
result() { echo "RESULT: $*"; }
