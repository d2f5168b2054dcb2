# Shared by the scripts that run kea-dhcp6.  Source it.
# kea_stderr FILE: what a failing test shows of kea-dhcp6's stderr.  Under a
# preloaded sanitizer runtime (tests/run) the report is longer than any tail
# and starts with the line that names the error, so show it from there;
# otherwise the last 20 lines.
kea_stderr() {
    [ -s "$1" ] || return 0
    grep -A14 -m1 "ERROR: AddressSanitizer\|runtime error" "$1" || tail -20 "$1"
}
# kea_dhclient NS IF DIR: dhclient -6 -1 -v in namespace NS on IF until bound
# (lease file DIR/dhc.leases, transcript DIR/dhclient.out); 1 if it is not.
# Needs tests/lib/netns.sh.  Waits first for IF's link-local address.
# dhclient's daemon child now and then cannot bind its link-local socket as
# it starts (EADDRNOTAVAIL: it exits within milliseconds, having sent
# nothing, and a start a moment later binds).  Such a start is retried, up to
# 3 in all, and counted in KEA_DHCLIENT_RESTARTS; any other failure, a
# server that never answers among them, is final.
KEA_DHCLIENT_RESTARTS=0
kea_dhclient() {
    local ns=$1 ifc=$2 dir=$3 n
    ns_wait_for 10 sh -c "ip -n $ns -6 addr show dev $ifc scope link | grep -q inet6 &&
        ! ip -n $ns -6 addr show dev $ifc scope link | grep -q tentative" ||
        { echo "no usable link-local address on $ifc in $ns"; return 1; }
    for n in 1 2 3; do
        rm -f "$dir/dhc.leases"
        timeout 60 ip netns exec "$ns" dhclient -6 -1 -v -lf "$dir/dhc.leases" -pf "$dir/dhc.pid" "$ifc" \
            >"$dir/dhclient.out" 2>&1 && return 0
        grep -q "Can't bind to dhcp address: Cannot assign requested address" "$dir/dhclient.out" || break
        [ $n -lt 3 ] || break
        KEA_DHCLIENT_RESTARTS=$((KEA_DHCLIENT_RESTARTS + 1))
        echo "dhclient start $n could not bind on $ifc ($(grep -m1 "Can't bind" "$dir/dhclient.out"))"
        sleep 0.2
    done
    grep -E "^(XMT|RCV|PRC): [A-Z]|[Cc]an.t|rror|exiting" "$dir/dhclient.out" | tail -8 | sed "s/^/  dhclient: /"
    return 1
}

# kea_dhclient_release NS IFC DIR: dhclient -6 -r on DIR's lease and pid
# files (the running dhclient stops, its lease is released).  A run that
# could not bind its socket sent nothing: it is run again, as above, and
# counted in KEA_DHCLIENT_RESTARTS.  The last run's output stays in
# DIR/dhclient-r.out; kea_release_diag shows it.
kea_dhclient_release() {
    local ns=$1 ifc=$2 dir=$3 n
    for n in 1 2 3; do
        timeout 20 ip netns exec "$ns" dhclient -6 -r -v -lf "$dir/dhc.leases" -pf "$dir/dhc.pid" "$ifc" \
            >"$dir/dhclient-r.out" 2>&1
        grep -q "Can't bind to dhcp address: Cannot assign requested address" "$dir/dhclient-r.out" || return 0
        [ $n -lt 3 ] || break
        KEA_DHCLIENT_RESTARTS=$((KEA_DHCLIENT_RESTARTS + 1))
        echo "dhclient release $n could not bind on $ifc"
        sleep 0.2
    done
    return 1
}
kea_release_diag() { # DIR
    grep -E "^(XMT|RCV|PRC): [A-Z]|[Cc]an.t|rror|exiting|Release" "$1/dhclient-r.out" 2>/dev/null | tail -8 | sed "s/^/  dhclient -r: /"
}
