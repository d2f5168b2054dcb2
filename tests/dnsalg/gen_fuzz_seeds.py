#!/usr/bin/env python3
"""Write the cookie seeds of fuzz_dns_query, deterministically.

fuzz_dns_query.c takes its cookie secrets from a fixed random source
(K0 = 5e c2 00.., K1 = 5e c2 01.., K2 = 5e c2 02..), makes
the client's address ::N and its clock N * 977 s for an input of N octets,
and reads the query ID's top bits: 0x8000 serves the query twice, 0x4000
rolls the secrets over in between, 0x2000 makes that rollover keep the
older secrets (see the file's header).  So a seed can hold an RFC 9018
server cookie that verifies: this script computes it (SipHash-2-4 over
client cookie | version | reserved | timestamp | client address, keyed by
the secret) for the seed's own length.  The harness makes K1 current from that
very second (K2 120 s later, when the second query comes), so K0 and K1
cookies stamped with the client's clock are checked under the secret they
name: a check tries only the secrets current about a cookie's timestamp.

    tests/dnsalg/gen_fuzz_seeds.py           write the seeds into the corpus
    tests/dnsalg/gen_fuzz_seeds.py --check   compare with the committed ones
    tests/dnsalg/gen_fuzz_seeds.py --out DIR write them somewhere else

Only the standard library.  Each seed is: the client query, the marker
ff fe, then upstream answers, each prefixed by its 2-octet length.
"""
import argparse
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus", "fuzz_dns_query")

CC = bytes(range(0xC1, 0xC9))            # the client cookie every seed sends
K = [bytes([0x5E, 0xC2, g]) + bytes(13) for g in range(3)]
TXT = 16
MASK = (1 << 64) - 1


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & MASK


def siphash24(key, msg):
    """SipHash-2-4 (Aumasson and Bernstein), 64-bit output."""
    k0, k1 = struct.unpack("<QQ", key)
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D,
         k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def rnd():
        v[0] = (v[0] + v[1]) & MASK; v[1] = _rotl(v[1], 13); v[1] ^= v[0]; v[0] = _rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & MASK; v[3] = _rotl(v[3], 16); v[3] ^= v[2]
        v[0] = (v[0] + v[3]) & MASK; v[3] = _rotl(v[3], 21); v[3] ^= v[0]
        v[2] = (v[2] + v[1]) & MASK; v[1] = _rotl(v[1], 17); v[1] ^= v[2]; v[2] = _rotl(v[2], 32)

    n = len(msg) - len(msg) % 8
    for i in range(0, n, 8):
        m = struct.unpack("<Q", msg[i:i + 8])[0]
        v[3] ^= m
        rnd(); rnd()
        v[0] ^= m
    b = (len(msg) & 0xFF) << 56
    for j, c in enumerate(msg[n:]):
        b |= c << (8 * j)
    v[3] ^= b
    rnd(); rnd()
    v[0] ^= b
    v[2] ^= 0xFF
    for _ in range(4):
        rnd()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def server_cookie(secret, size):
    """The server cookie the ALG makes for an input of `size` octets: the
    harness's client is ::size (mod 256) and its clock size * 977 s."""
    ts = (size * 977) & 0xFFFFFFFF
    head = bytes([1, 0, 0, 0]) + struct.pack(">I", ts)
    addr = bytes(15) + bytes([size & 0xFF])
    h = siphash24(secret, CC + head + addr)
    return head + struct.pack("<Q", h)


def name(fqdn):
    out = b""
    for label in fqdn.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def alphabet(n):
    return bytes(0x61 + i % 26 for i in range(n))


def txt_rdata(total):
    """`total` octets of TXT RDATA: 255-octet strings, then the rest; each
    string runs through the alphabet from its start."""
    out = b""
    while total > 0:
        ln = min(255, total - 1)
        out += bytes([ln]) + alphabet(ln)
        total -= ln + 1
    return out


def query(qid, qname, cookie=None, udp=1232):
    """A TXT query with RD; EDNS when cookie is not None (b"" for no option)."""
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0 if cookie is None else 1)
    q += name(qname) + struct.pack(">HH", TXT, 1)
    if cookie is not None:
        opt = struct.pack(">HH", 10, len(cookie)) + cookie if cookie else b""
        q += b"\0" + struct.pack(">HHIH", 41, udp, 0, len(opt)) + opt
    return q


def answer(qname, rdata):
    """The upstream's answer: one TXT record (TTL 300), ID 0 (the fake
    upstream patches it), last octet even (the question is left as sent)."""
    a = struct.pack(">HHHHHH", 0, 0x8180, 1, 1, 0, 0)
    a += name(qname) + struct.pack(">HH", TXT, 1)
    a += struct.pack(">HHHIH", 0xC00C, TXT, 1, 300, len(rdata)) + rdata
    return struct.pack(">H", len(a)) + a


def seed(q, answers):
    return q + b"\xff\xfe" + b"".join(answers)


def with_cookie(qid, qname, secret, rdata_len):
    """A query carrying CC and a server cookie of `secret` for its own size."""
    placeholder = CC + bytes(16)
    size = len(seed(query(qid, qname, placeholder), [answer(qname, txt_rdata(rdata_len))]))
    full = CC + server_cookie(secret, size)
    s = seed(query(qid, qname, full), [answer(qname, txt_rdata(rdata_len))])
    assert len(s) == size
    return s


def seeds():
    return {
        # ID 0x8000: served twice (the second from the cache); K1 is current
        "cookie_current": with_cookie(0x8123, "xcv.ext.", K[1], 41),
        # K0 is the previous secret: a previous-secret hit
        "cookie_previous": with_cookie(0x0124, "cpv.ext.", K[0], 41),
        # 0xc000: rollover between the two (K2 current, K1 previous), so the
        # K1 cookie is current first and a previous-secret hit second ...
        "cookie_rollover": with_cookie(0xC125, "cro.ext.", K[1], 41),
        # ... and a K0 cookie, previous first, stale after the rollover
        "cookie_rollover_stale": with_cookie(0xC126, "crs.ext.", K[0], 41),
        # 0xe000: a rollover that keeps the older secrets (K2 current, K1 and
        # K0 retired): the K0 cookie stays valid, from a secret retired
        # before the last rollover (cookie_old_secret_hits)
        "cookie_rollover_old": with_cookie(0xE129, "cro2.ext.", K[0], 41),
        # no EDNS: an answer over 512 octets becomes TC (served twice)
        "noedns_tc": seed(query(0x8127, "xntc.ext."), [answer("xntc.ext.", txt_rdata(703))]),
        # a 512-octet client whose answer fits until the cookie is added
        "cookie_tc": seed(query(0x0128, "ctc.ext.", CC, udp=512),
                          [answer("ctc.ext.", txt_rdata(452))]),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=CORPUS, help="directory to write (default: the corpus)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 unless every seed equals the file in --out")
    a = ap.parse_args()
    bad = 0
    for fn, data in sorted(seeds().items()):
        path = os.path.join(a.out, fn)
        if a.check:
            try:
                with open(path, "rb") as f:
                    have = f.read()
            except OSError as e:
                print(f"{fn}: {e.strerror}")
                bad += 1
                continue
            same = have == data
            print(f"{fn}: {len(data)} octets, {'same' if same else 'DIFFERS'}")
            bad += not same
        else:
            with open(path, "wb") as f:
                f.write(data)
            print(f"{fn}: {len(data)} octets written")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
