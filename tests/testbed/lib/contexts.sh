# Helpers over `pshim6ctl --json contexts`, for scenarios 3 and 5.  Source
# after lib/common.sh.
#
# ctx_json PROXY: the daemon's JSON reply for the contexts listing.
ctx_json() { ctl "$1" --json contexts limit 1000; }
# ctx_field PROXY LOCAL_ULID REMOTE_ULID FIELD: one field of one context ("" if none).
ctx_field() {
    ctx_json "$1" | python3 -c '
import json, sys, ipaddress
n = lambda a: ipaddress.IPv6Address(a)
l, r, f = n(sys.argv[1]), n(sys.argv[2]), sys.argv[3]
for c in json.load(sys.stdin).get("contexts", []):
    if n(c["local_ulid"]) == l and n(c["remote_ulid"]) == r:
        print(c.get(f, "")); break' "$2" "$3" "$4"
}
# ctx_snapshot PROXY: one sorted line per context with the fields that must
# not change under forged input (tags, ULIDs, locators, ISP, states, pair changes).
ctx_snapshot() {
    ctx_json "$1" | python3 -c '
import json, sys
for c in sorted(json.load(sys.stdin).get("contexts", []), key=lambda c: c["tag"]):
    print(" ".join(str(c.get(k, "")) for k in ("tag", "peer_tag", "local_ulid", "remote_ulid",
          "local_loc", "remote_loc", "isp", "state", "reap", "pair_changes", "fii")))'
}
# extra_lease HOST N: one more CMULA on HOST by DHCPv6, as a different client
# (its own DUID-LL and lease file).  Prints the address.
extra_lease() {
    local h=$1 n=$2 d=/run/pshim6-tb/dhclient duid
    mkdir -p "$d"
    duid=$(printf '\\000\\003\\000\\001\\002\\173\\000\\001\\%03o\\%03o' "$n" "$(( ${h#h} ))")
    printf 'default-duid "%s";\n' "$duid" > "$d/$h-$n.leases"
    rm -f "$d/$h-$n.addr"
    TB_ADDR_FILE=$d/$h-$n.addr "$T" dhclient "$h" /run/pshim6-tb/log/dhclient-$h-$n.log \
        -sf "$top/deploy/testbed/dhclient-script" -lf "$d/$h-$n.leases" -pf "$d/$h-$n.pid" \
        -e TB_ADDR_FILE="$d/$h-$n.addr" eth0 || return 1
    [ -s "$d/$h-$n.addr" ] && cat "$d/$h-$n.addr"
}
