#!/usr/bin/env python3
"""Attacking clients for tests/e2e/attacks.bats. Each prints one JSON summary line.

Usage: attack-client.py COMMAND SOCK [ARG...]
  flood SOCK N BYTES       pipelines N requests of BYTES bytes each without reading
                           replies, until the server stops reading (no progress for
                           1.5 s) or all is sent; bytes sent
  stress SOCK SECONDS CONNS  CONNS connections, each a loop of one request / one reply
                           for SECONDS: a fixed-seed mix of pool-stress-worker modes
                           and sizes up to 512 KiB; replies per type, requests lost
"""
import json
import random
import select
import socket
import sys
import threading
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    return s


def flood(path, n, size):
    s = connect(path)
    s.setblocking(False)
    pad = size - len('{"pad":""}\n')
    line = ('{"pad":"%s"}\n' % ("x" * max(pad, 0))).encode()
    data = memoryview(line)
    sent = 0
    total = n * len(line)
    last = time.monotonic()
    off = 0
    while sent < total:
        _, w, _ = select.select([], [s], [], 0.1)
        if w:
            try:
                k = s.send(data[off:])
            except BlockingIOError:
                k = 0
            except OSError:
                break
            if k:
                sent += k
                off += k
                if off == len(line):
                    off = 0
                last = time.monotonic()
        if time.monotonic() - last > 1.5:
            break
    print(json.dumps({"sent": sent, "total": total}))
    s.close()


MODES = ["ok"] * 14 + ["early", "early", "early", "die", "slow", "two", "garbage"]


def stress(path, seconds, conns):
    lock = threading.Lock()
    types = {}
    lost = [0]
    deadline = time.monotonic() + seconds

    def worker(i):
        rnd = random.Random(i)
        s = None
        buf = b""
        while time.monotonic() < deadline:
            if s is None:
                s = connect(path)
                buf = b""
            mode = rnd.choice(MODES)
            size = rnd.choice([10, 100, 5000, 70000, 300000, 524288])
            line = ('{"do":"%s","pad":"%s"}\n' % (mode, "p" * size)).encode()
            try:
                s.sendall(line)
                while b"\n" not in buf:
                    b = s.recv(65536)
                    if not b:
                        raise ConnectionError("closed")
                    buf += b
            except (OSError, ConnectionError):
                with lock:
                    lost[0] += 1
                s.close()
                s = None
                continue
            reply, buf = buf.split(b"\n", 1)
            try:
                v = json.loads(reply)
                t = v.get("type", "<reply>") if isinstance(v, dict) and "error" in v else "<reply>"
            except ValueError:
                t = "<not json>"
            with lock:
                types[t] = types.get(t, 0) + 1
        if s is not None:
            s.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"types": types, "lost": lost[0], "total": sum(types.values())}, sort_keys=True))


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "flood":
        flood(path, int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "stress":
        stress(path, float(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
