#!/usr/bin/env python3
"""Misbehaving and heavy clients for tests/e2e/faults.bats. Each prints one JSON
summary line on stdout (compact), and exits non-zero only on its own failures.

Usage: fault-client.py COMMAND SOCK [ARG...]
  garbage SOCK SEED BYTES   random bytes (fixed seed), then EOF; counts the lines the
                            server must answer and the replies by type
  lines SOCK LINE...        the LINEs, then EOF; every reply, parsed ("<not json>" if not)
  nul SOCK                  lines with NUL bytes, one per line, then EOF; the replies
  bigline SOCK MIB          streams MIB MiB of 'x' (then '\\n') until the server stops
                            reading; bytes sent and the reply
  pipeline SOCK N           N tiny requests written in one go while replies are read;
                            replies in order?
  bytewise SOCK TEXT        TEXT + '\\n' one byte per write; the reply
  partial SOCK TEXT         TEXT (no newline), then close at once
  midreply SOCK BYTES       a request of BYTES bytes, read 1 byte of the reply, close
  idle SOCK [TEXT]          connect (send TEXT, no newline), wait for the server to close
                            (at most 20 s); seconds until EOF
  hold SOCK N READY RELEASE open N connections, then write READY; close them all once
                            RELEASE exists (at most 120 s); how many connected
  load SOCK CONNS READY     CONNS connections, each a loop of request/reply {"do":"ok"}
                            until the server closes it; writes READY after 20 replies;
                            per-type reply counts, requests without reply
  mixed SOCK N CONNS        N requests over CONNS pipelined connections, methods
                            ok/fail/slow in a fixed pattern; per-type reply counts
"""
import json
import os
import random
import socket
import sys
import threading
import time

WS = b" \t\r\n"


def connect(path, timeout=30.0):
    """Connects; while the listen backlog is full (EAGAIN) tries again, up to `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


def read_all(s):
    """Reads until EOF or reset; returns the bytes."""
    chunks = []
    while True:
        try:
            b = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


def reply_types(data):
    types = {}
    for line in data.split(b"\n"):
        if not line:
            continue
        try:
            v = json.loads(line)
        except ValueError:
            t = "<not json>"
        else:
            t = v.get("type", "<reply>") if isinstance(v, dict) and "error" in v else "<reply>"
        types[t] = types.get(t, 0) + 1
    return types


def out(obj):
    print(json.dumps(obj, separators=(",", ":")))


def garbage(path, seed, size):
    rng = random.Random(int(seed))
    data = bytes(rng.getrandbits(8) for _ in range(int(size)))
    lines = sum(1 for piece in data.split(b"\n") if piece.strip(WS))
    s = connect(path)
    got = []
    t = threading.Thread(target=lambda: got.append(read_all(s)))
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join()
    out({"lines": lines, "types": reply_types(got[0])})


def parse_or_mark(line):
    """The reply parsed; numbers as their text, so that 1e400 stays printable JSON."""
    try:
        return json.loads(line, parse_float=str, parse_int=str)
    except ValueError:
        return "<not json>"


def lines(path, *texts):
    s = connect(path)
    s.sendall(b"".join(t.encode() + b"\n" for t in texts))
    s.shutdown(socket.SHUT_WR)
    data = read_all(s)
    out({"replies": [parse_or_mark(l) for l in data.split(b"\n") if l]})


def nul(path):
    s = connect(path)
    s.sendall(b"\x00\x00\x00\n" + b'{"a":1}\x00junk\n' + b'"text\x00"\n' + b"\x00{}\n")
    s.shutdown(socket.SHUT_WR)
    data = read_all(s)
    out({"replies": [json.loads(l) for l in data.split(b"\n") if l]})


def bigline(path, mib):
    total = int(mib) * 1024 * 1024
    chunk = b"x" * 65536
    s = connect(path)
    sent = 0
    error = None
    try:
        while sent < total:
            sent += s.send(chunk[: min(len(chunk), total - sent)])
        s.sendall(b"\n")
    except (BrokenPipeError, ConnectionResetError) as e:
        error = type(e).__name__
    except socket.timeout:
        error = "timeout"
    data = read_all(s)
    reply = json.loads(data.split(b"\n")[0]) if data else None
    out({"sent": sent, "error": error, "reply": reply})


def pipeline(path, n):
    n = int(n)
    s = connect(path)
    data = b"".join(b'{"i":%d}\n' % i for i in range(n))
    got = []
    t = threading.Thread(target=lambda: got.append(read_all(s)))
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join()
    replies = [l for l in got[0].split(b"\n") if l]
    in_order = replies == [b'{"i":%d}' % i for i in range(n)]
    out({"replies": len(replies), "in_order": in_order})


def bytewise(path, text):
    s = connect(path)
    for b in (text + "\n").encode():
        s.send(bytes([b]))
        time.sleep(0.001)  # pacing, so that the server sees separate reads
    s.shutdown(socket.SHUT_WR)
    data = read_all(s)
    out({"reply": data.decode(errors="replace").rstrip("\n")})


def partial(path, text):
    s = connect(path)
    s.sendall(text.encode())
    s.close()
    out({"sent": len(text)})


def midreply(path, size):
    s = connect(path)
    body = b'{"k":"' + b"x" * (int(size) - 9) + b'"}\n'
    got = []
    t = threading.Thread(target=lambda: got.append(s.recv(1)))
    t.start()
    try:
        s.sendall(body)
    except (BrokenPipeError, ConnectionResetError):
        pass
    t.join()
    s.close()  # unread reply bytes: the server's write fails
    out({"first": got[0].decode(errors="replace")})


def idle(path, text=""):
    s = connect(path, timeout=20.0)
    start = time.monotonic()
    if text:
        s.sendall(text.encode())
    try:
        data = s.recv(65536)
        closed = True
    except socket.timeout:
        data, closed = b"", False
    out({"closed": closed, "seconds": round(time.monotonic() - start, 3), "data": data.decode(errors="replace")})


def hold(path, n, ready, release):
    socks = []
    error = None
    for _ in range(int(n)):
        try:
            socks.append(connect(path))
        except OSError as e:
            error = str(e)
            break
    with open(ready + ".tmp", "w") as f:
        f.write(str(len(socks)))
    os.rename(ready + ".tmp", ready)
    deadline = time.monotonic() + 120
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.02)
    for s in socks:
        s.close()
    out({"connected": len(socks), "error": error})


def load(path, conns, ready):
    results = []
    lock = threading.Lock()
    total = [0]

    def one():
        sent = replied = 0
        types = {}
        try:
            s = connect(path)
            f = s.makefile("rb")
            while True:
                try:
                    s.sendall(b'{"do":"ok"}\n')
                except OSError:
                    break
                sent += 1
                line = f.readline()
                if not line:
                    break
                replied += 1
                for t, c in reply_types(line).items():
                    types[t] = types.get(t, 0) + c
                with lock:
                    total[0] += 1
                    if total[0] == 20:
                        with open(ready + ".tmp", "w") as r:
                            r.write("20")
                        os.rename(ready + ".tmp", ready)
        except OSError:
            pass
        with lock:
            results.append((sent, replied, types))

    threads = [threading.Thread(target=one) for _ in range(int(conns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    types = {}
    for _, _, ty in results:
        for t, c in ty.items():
            types[t] = types.get(t, 0) + c
    # A request whose write failed was never sent; one sent but unanswered is lost.
    lost = sum(max(0, sent - replied - 1) for sent, replied, _ in results)
    unanswered_last = sum(1 for sent, replied, _ in results if sent > replied)
    out({"types": types, "lost": lost, "unanswered_last": unanswered_last})


def mixed(path, n, conns):
    n, conns = int(n), int(conns)
    pattern = ["ok"] * 8 + ["fail"] * 2  # and every 500th request is slow
    per = [[] for _ in range(conns)]
    for i in range(n):
        method = "slow" if i % 500 == 499 else pattern[i % len(pattern)]
        per[i % conns].append(b'{"method":"%s","i":%d}\n' % (method.encode(), i))
    totals = {}
    lock = threading.Lock()

    def one(reqs):
        s = connect(path, timeout=120.0)
        got = []
        t = threading.Thread(target=lambda: got.append(read_all(s)))
        t.start()
        s.sendall(b"".join(reqs))
        s.shutdown(socket.SHUT_WR)
        t.join()
        with lock:
            for k, c in reply_types(got[0]).items():
                totals[k] = totals.get(k, 0) + c

    threads = [threading.Thread(target=one, args=(p,)) for p in per]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out({"types": totals})


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = {
        "garbage": garbage,
        "lines": lines,
        "nul": nul,
        "bigline": bigline,
        "pipeline": pipeline,
        "bytewise": bytewise,
        "partial": partial,
        "midreply": midreply,
        "idle": idle,
        "hold": hold,
        "load": load,
        "mixed": mixed,
    }[cmd]
    fn(*args)


if __name__ == "__main__":
    main()
