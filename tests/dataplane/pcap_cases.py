#!/usr/bin/python3
"""Input frames and expected output frames for the dataplane pcap test.

  pcap_cases.py gen DIR   writes DIR/in{0,1,2}.pcap and DIR/want{0,1,2}.pcap
  pcap_cases.py cmp DIR   compares DIR/out{N}.pcap with DIR/want{N}.pcap

Port 0 is inside, 1 is ISP x, 2 is ISP y.  Expected packets are built with
scapy (its own checksum code), independently of the dataplane.  Comparison is
from the IPv6 header on, as a multiset per port (ISP and inside processing may
interleave); the Ethernet destination must be the configured next hop.
"""
import sys

from scapy.all import Ether, IPv6, TCP, UDP, ICMPv6DestUnreach, ICMPv6PacketTooBig, Raw, rdpcap, wrpcap

H1 = "fd00:1:1:1::11"
PEER = "fd00:2:2:1::22"
PEER2 = "fd00:3:3:1::33"
NOCTX = "fd00:4:4:1::44"
LEGACY = "2001:db8:77::5"
LOCA = "2001:db8:10:1::11"        # H1 under ISP x (prefix swap)
LOCB = "2001:db8:20:1::11"        # H1 under ISP y
RLOCA = "2001:db8:30:1::22"
RLOCB = "2001:db8:50:1::33"
INSIDE = "fd00:1:1:ffff::1"
ROUTER = "2001:db8:99::1"
PA, OA = 0x0A0B0C0D0E0F, 0x111111111111   # context A: peer tag, own tag
PB, OB = 0x2B2B2B2B2B2B, 0x222222222222
NH = {0: "02:00:00:00:00:11", 1: "02:00:00:00:10:01", 2: "02:00:00:00:20:01"}
SRCMAC = "02:00:00:00:99:99"


def shim(nh, tag):
    return bytes([nh, 0]) + ((1 << 47) | tag).to_bytes(6, "big")


def l4(src, dst, proto_pkt):
    return bytes(IPv6(src=src, dst=dst) / proto_pkt)[40:]


def eth(port_mac_dst, src=SRCMAC):
    return Ether(src=src, dst=port_mac_dst)


def gen(d):
    in0, in1, want0, want1, want2 = [], [], [], [], []
    # a) egress, context A (ISP x)
    t = l4(H1, PEER, TCP(sport=40001, dport=80, flags="PA") / Raw(b"a" * 100))
    in0.append(eth("02:00:00:00:00:01", NH[0]) / IPv6(src=H1, dst=PEER, nh=6) / Raw(t))
    want1.append(IPv6(src=LOCA, dst=RLOCA, nh=140, plen=8 + len(t)) / Raw(shim(6, PA) + t))
    # b) egress, context B (ISP y), UDP
    u = l4(H1, PEER2, UDP(sport=5353, dport=53) / Raw(b"b" * 33))
    in0.append(eth("02:00:00:00:00:01", NH[0]) / IPv6(src=H1, dst=PEER2, nh=17) / Raw(u))
    want2.append(IPv6(src=LOCB, dst=RLOCB, nh=140, plen=8 + len(u)) / Raw(shim(17, PB) + u))
    # c) NATv6 out to a legacy peer: ISP x (ISP y has weight 0); checksum by scapy
    in0.append(eth("02:00:00:00:00:01", NH[0]) / IPv6(src=H1, dst=LEGACY) / TCP(sport=40002, dport=443, flags="S"))
    want1.append(IPv6(src=LOCA, dst=LEGACY) / TCP(sport=40002, dport=443, flags="S"))
    # d) to a remote CMULA without context: punted, no output
    in0.append(eth("02:00:00:00:00:01", NH[0]) / IPv6(src=H1, dst=NOCTX) / TCP(sport=40003, dport=80, flags="S"))
    # e) too big for ISP x once the header is added: Packet Too Big with 1492
    big = IPv6(src=H1, dst=PEER) / TCP(sport=40004, dport=80, flags="PA") / Raw(b"e" * 1440)
    assert len(big) == 1500
    in0.append(eth("02:00:00:00:00:01", NH[0]) / big)
    want0.append(IPv6(src=INSIDE, dst=H1, hlim=255) / ICMPv6PacketTooBig(mtu=1492) / Raw(bytes(big)[:1232]))
    # f) ingress with our own tag: header removed, ULIDs restored
    t = l4(PEER, H1, TCP(sport=80, dport=40001, flags="A") / Raw(b"f" * 200))
    in1.append(eth("02:00:00:00:00:02") / IPv6(src=RLOCA, dst=LOCA, nh=140) / Raw(shim(6, OA) + t))
    want0.append(IPv6(src=PEER, dst=H1, nh=6, plen=len(t)) / Raw(t))
    # g) unknown tag: punted
    in1.append(eth("02:00:00:00:00:02") / IPv6(src=RLOCA, dst=LOCA, nh=140) / Raw(shim(6, 0x7777) + t))
    # h) NATv6 in from the legacy peer to H1's PA address
    in1.append(eth("02:00:00:00:00:02") / IPv6(src=LEGACY, dst=LOCA) / TCP(sport=443, dport=40002, flags="SA"))
    want0.append(IPv6(src=LEGACY, dst=H1) / TCP(sport=443, dport=40002, flags="SA"))
    # i) ICMPv6 error about a shimmed packet: embedded packet back to ULIDs
    sent_t = l4(H1, PEER, TCP(sport=40001, dport=80, flags="PA") / Raw(b"i" * 60))
    sent = IPv6(src=LOCA, dst=RLOCA, nh=140, plen=8 + len(sent_t)) / Raw(shim(6, PA) + sent_t)
    in1.append(eth("02:00:00:00:00:02") / IPv6(src=ROUTER, dst=LOCA) / ICMPv6DestUnreach(code=3) / Raw(bytes(sent)))
    orig = IPv6(src=H1, dst=PEER, nh=6, plen=len(sent_t)) / Raw(sent_t)
    want0.append(IPv6(src=ROUTER, dst=H1) / ICMPv6DestUnreach(code=3) / Raw(bytes(orig)))
    # k) egress SYN in context A advertising MSS 1460: clamped to 1500 - 40 - 20 - 8
    syn = lambda mss: TCP(sport=40005, dport=80, flags="S", options=[("NOP", None), ("MSS", mss), ("SAckOK", b"")])
    t = l4(H1, PEER, syn(1460))
    in0.append(eth("02:00:00:00:00:01", NH[0]) / IPv6(src=H1, dst=PEER, nh=6) / Raw(t))
    tw = l4(H1, PEER, syn(1432))
    want1.append(IPv6(src=LOCA, dst=RLOCA, nh=140, plen=8 + len(tw)) / Raw(shim(6, PA) + tw))
    # l) NATv6 out SYN with MSS 8960: clamped to 1500 - 40 - 20
    in0.append(eth("02:00:00:00:00:01", NH[0]) / IPv6(src=H1, dst=LEGACY) / TCP(sport=40006, dport=443, flags="S", options=[("MSS", 8960)]))
    want1.append(IPv6(src=LOCA, dst=LEGACY) / TCP(sport=40006, dport=443, flags="S", options=[("MSS", 1440)]))
    # m) SYN+ACK from the peer in context A: clamped on the way in too
    sa = lambda mss: TCP(sport=80, dport=40007, flags="SA", options=[("MSS", mss)])
    t = l4(PEER, H1, sa(9000))
    in1.append(eth("02:00:00:00:00:02") / IPv6(src=RLOCA, dst=LOCA, nh=140) / Raw(shim(6, OA) + t))
    tw = l4(PEER, H1, sa(1432))
    want0.append(IPv6(src=PEER, dst=H1, nh=6, plen=len(tw)) / Raw(tw))
    # n) H1's port-unreachable about a NATv6'd datagram from the legacy peer: the
    #    quoted packet becomes what the peer sent (to H1's PA address)
    dgram_wire = IPv6(src=LEGACY, dst=LOCA) / UDP(sport=5000, dport=9999) / Raw(b"n" * 40)
    dgram_in = IPv6(src=LEGACY, dst=H1) / UDP(sport=5000, dport=9999) / Raw(b"n" * 40)
    in0.append(eth("02:00:00:00:00:01", NH[0]) / IPv6(src=H1, dst=LEGACY) / ICMPv6DestUnreach(code=4) / Raw(bytes(dgram_in)))
    want1.append(IPv6(src=LOCA, dst=LEGACY) / ICMPv6DestUnreach(code=4) / Raw(bytes(dgram_wire)))
    # o) H1's port-unreachable about a datagram from the peer in context A: in the
    #    context, quoted copy unchanged (the peer's shim hands it to its upper layer)
    dgram = IPv6(src=PEER, dst=H1) / UDP(sport=5001, dport=9998) / Raw(b"o" * 30)
    icmp = l4(H1, PEER, ICMPv6DestUnreach(code=4) / Raw(bytes(dgram)))
    in0.append(eth("02:00:00:00:00:01", NH[0]) / IPv6(src=H1, dst=PEER, nh=58) / Raw(icmp))
    want1.append(IPv6(src=LOCA, dst=RLOCA, nh=140, plen=8 + len(icmp)) / Raw(shim(58, PA) + icmp))
    # j) lying payload length and a header chain that never ends: dropped
    lie = bytearray(bytes(eth("02:00:00:00:00:02") / IPv6(src=RLOCA, dst=LOCA) / TCP()))
    lie[14 + 5] += 50
    in1.append(Ether(bytes(lie)))
    chain = b"".join(bytes([60, 0, 1, 4, 0, 0, 0, 0]) for _ in range(12))
    in1.append(eth("02:00:00:00:00:02") / IPv6(src=RLOCA, dst=LOCA, nh=60) / Raw(chain))
    wrpcap(d + "/in0.pcap", in0)
    wrpcap(d + "/in1.pcap", in1)
    wrpcap(d + "/in2.pcap", [])
    for n, w in ((0, want0), (1, want1), (2, want2)):
        wrpcap(d + "/want%d.pcap" % n, [Ether(src=SRCMAC, dst=NH[n]) / p for p in w])


def cmp(d):
    bad = 0
    for n in range(3):
        want = sorted(bytes(p)[14:] for p in rdpcap(d + "/want%d.pcap" % n))
        try:
            outp = rdpcap(d + "/out%d.pcap" % n)
        except Exception:
            outp = []
        got = sorted(bytes(p)[14:] for p in outp)
        macs = {p[Ether].dst for p in outp}
        # PTB goes back to the sender's MAC (the host), the rest to the next hop
        if macs - {NH[n]}:
            print("port %d: unexpected Ethernet destination %s" % (n, macs))
            bad += 1
        if got != want:
            print("port %d: got %d packets, want %d" % (n, len(got), len(want)))
            for g in got:
                if g not in want:
                    print("  unexpected:", IPv6(g).summary(), g.hex()[:160])
            for w in want:
                if w not in got:
                    print("  missing:   ", IPv6(w).summary(), w.hex()[:160])
            bad += 1
        else:
            print("port %d: %d packets as expected" % (n, len(got)))
    return bad


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        sys.exit(1 if cmp(sys.argv[2]) else 0)
