#!/usr/bin/python3
"""Traffic for the dataplane benchmark, matching `pshim6-dpctl fill`:
context i has lulid fd00:1:1:1::i, rulid fd00:2:2:1::i, lloc 2001:db8:10:1::i,
rloc 2001:db8:30:1::i, own tag 0x200000000+i.

  gen_pcap.py egress|ingress|nat-out|nat-in CONTEXTS PACKETS SIZE OUT.pcap

egress: TCP from a site CMULA to the remote ULID of a random installed
context; ingress: the same with a payload header and the context's own tag,
from the remote locator to the local one.  nat-out: TCP from a site CMULA
to a peer without Shim6 (2001:db8:77::j, one of CONTEXTS hosts times 16
peers); nat-in: the peer's packets back, to the host's PA address.  SIZE is
the frame size.
"""
import random
import socket
import struct
import sys


def addr(base, i):
    a = bytearray(socket.inet_pton(socket.AF_INET6, base))
    a[12:16] = struct.pack(">I", i)
    return bytes(a)


def main():
    mode, n, count, size, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    rnd = random.Random(42)
    eth = bytes.fromhex("020000000001020000000002") + b"\x86\xdd"
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for _ in range(count):
            i = rnd.randrange(n)
            shim = mode == "ingress"
            l4len = size - 14 - 40 - (8 if shim else 0)
            tcp = bytearray(l4len)
            tcp[0:4] = struct.pack(">HH", 40000 + (i & 0x3FFF), 80)
            tcp[12] = 0x50
            tcp[13] = 0x10
            if mode.startswith("nat"):
                host, peer = addr("fd00:1:1:1::", i), addr("2001:db8:77::", i % 16)
                src, dst = (host, peer) if mode == "nat-out" else (peer, addr("2001:db8:10:1::", i))
                if mode == "nat-in":
                    tcp[0:4] = tcp[2:4] + tcp[0:2]
                payload = bytes(tcp)
                nh = 6
            elif shim:
                src, dst = addr("2001:db8:30:1::", i), addr("2001:db8:10:1::", i)
                payload = bytes([6, 0]) + ((1 << 47) | (0x200000000 + i)).to_bytes(6, "big") + bytes(tcp)
                nh = 140
            else:
                src, dst = addr("fd00:1:1:1::", i), addr("fd00:2:2:1::", i)
                payload = bytes(tcp)
                nh = 6
            ip = struct.pack(">IHBB", 0x60000000, len(payload), nh, 64) + src + dst + payload
            frame = eth + ip
            f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame)


if __name__ == "__main__":
    main()
