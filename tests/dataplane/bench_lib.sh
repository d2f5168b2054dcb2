# Shared by the fast-path benchmarks: the one-ISP site they run the
# dataplane in.  bench_dp_conf FILE MODE PCAP CONTEXTS CHANNEL EAL-ARG...
# writes the config: egress (and nat-out) replays PCAP on the inside port and
# sends to a net_null ISP port, ingress (and nat-in) the other way round.
bench_dp_conf() {
    local file=$1 mode=$2 pcap=$3 n=$4 chan=$5 inside isp eal="" a
    shift 5
    for a in "$@"; do eal="$eal${eal:+, }\"$a\""; done
    if [ "$mode" = egress ] || [ "$mode" = nat-out ]; then
        inside="net_pcap0,rx_pcap=$pcap,infinite_rx=1"; isp="net_null0,no-rx=1"
    else
        inside="net_null0,no-rx=1"; isp="net_pcap0,rx_pcap=$pcap,infinite_rx=1"
    fi
    cat > "$file" <<EOF
site = { name = "bench"; cmula_prefixes = [ "fd00:1:1:1::/64" ]; key_file = "/nonexistent"; mode = "cga"; };
inside = { port = "$inside"; name = "bin"; mtu = 9000; address = "fd00:1:1:ffff::1/64";
  next_hop = "fd00:1:1:ffff::2"; next_hop_mac = "02:00:00:00:00:09"; };
isps = ( { name = "x"; pa_prefix = "2001:db8:10:1::/64"; port = "$isp"; address = "2001:db8:10:ffff::2/64";
  next_hop = "2001:db8:10:ffff::1"; next_hop_mac = "02:00:00:00:00:0a"; mtu = 9000; weight = 1; } );
engine = { max_contexts = $n; };
dataplane = { channel = "$chan"; max_contexts = $n; hba_hosts = 16; punt_queue = 1024;
  eal_args = [ $eal ]; };
EOF
}
