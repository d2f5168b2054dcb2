#!/usr/bin/env python3
"""TCP transfer with an outage measure, for the testbed scenarios and the demo.

  transfer.py serve PORT OUT.json        receive one connection; write sha256,
                                         bytes and the longest gap between
                                         arrivals (the outage) to OUT.json
  transfer.py send HOST PORT FILE SECS   send FILE paced over SECS seconds,
                                         printing progress lines
"""
import hashlib
import json
import socket
import sys
import time


def serve(port, out):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    s.listen(1)
    s.settimeout(120)
    c, peer = s.accept()
    c.settimeout(120)
    h = hashlib.sha256()
    n = 0
    first = last = None
    gap = 0.0
    gap_at = 0
    while True:
        b = c.recv(262144)
        now = time.monotonic()
        if not b:
            break
        if last is not None and now - last > gap:
            gap, gap_at = now - last, n
        if first is None:
            first = now
        last = now
        h.update(b)
        n += len(b)
    c.close()
    with open(out, "w") as f:
        json.dump({"sha256": h.hexdigest(), "bytes": n, "peer": peer[0],
                   "seconds": (last - first) if first else 0.0,
                   "max_gap": gap, "gap_at_bytes": gap_at}, f)


def send(host, port, path, secs):
    data = open(path, "rb").read()
    s = socket.create_connection((host, port), timeout=120)
    t0 = time.monotonic()
    step = 256 * 1024
    shown = -1
    for i in range(0, len(data), step):
        s.sendall(data[i:i + step])
        lag = t0 + secs * (i + step) / len(data) - time.monotonic()
        if lag > 0:
            time.sleep(lag)
        pct = (i + step) * 100 // len(data)
        if pct // 10 != shown:
            shown = pct // 10
            print("progress %3d%% %5.1fs" % (min(pct, 100), time.monotonic() - t0), flush=True)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
    print("sent %d bytes in %.2fs" % (len(data), time.monotonic() - t0), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 6 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
