# Shared by the tests/testbed scenarios and deploy/demo.  Source after
# tests/lib/netns.sh (or on its own in the demo).  Needs $top and $BUILD.
T=$top/deploy/testbed/testbed
CGA=$BUILD/shim6/tool/pshim6-cga
CTLCLI=$BUILD/control/pshim6ctl
export TB_QUIET=1 BUILD
tb_addr() { "$T" addr "$1"; }
in_net() { python3 -c 'import ipaddress,sys; sys.exit(ipaddress.IPv6Address(sys.argv[1]) not in ipaddress.IPv6Network(sys.argv[2]))' "$1" "$2"; }
ulid_hex() { python3 -c 'import ipaddress,sys; print(ipaddress.IPv6Address(sys.argv[1]).packed.hex())' "$1"; }
iid_of() { python3 -c 'import ipaddress,sys; print(ipaddress.IPv6Address(sys.argv[1]).exploded[20:])' "$1"; }
# wait_until SECONDS cmd...: poll (by wall clock) until cmd succeeds.
wait_until() {
    local end=$(( $(date +%s) + $1 )); shift
    until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.2; done
}
# pshim6ctl on a proxy's control socket.
ctl() { local p=$1; shift; "$CTLCLI" -s "/run/pshim6-tb/ctl/$p.sock" "$@"; }
# The whole world with the product on p1 and p2; both hosts leased and
# published in nsd.  Sets H1 and H2 (the hosts' CMULAs).
tb_world() {
    "$T" up || return 1
    "$T" pshim6 start p1 p2 || return 1
    H1=$("$T" dhcp h1) || return 1
    H2=$("$T" dhcp h2) || return 1
    "$T" publish h1="$H1" h2="$H2" >/dev/null || return 1
}
