#!/usr/bin/env python3
"""A client for tap.bats that makes the tap find several things in one read: the tap
is stopped (SIGSTOP) while the client sends, then continued (SIGCONT).

Usage: tap-burst-client.py SOCK TAP_PID eof|oob
  eof: a request, then shutdown(SHUT_WR): the reply and then the end of the stream
       must come back.
  oob: a request, an urgent byte (MSG_OOB), a second request: both replies must come
       back (the urgent byte is not part of the stream). Exit 77 if this kernel has
       no MSG_OOB for Unix sockets.
Prints the replies; exit 1 when something did not come back within 5 s.
"""
import os
import signal
import socket
import sys

path, tap_pid, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if case == "oob":
    a, b = socket.socketpair()
    try:
        a.send(b"!", socket.MSG_OOB)
    except OSError:
        sys.exit(77)
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.settimeout(5)


def read_until(pred):
    got = b""
    while not pred(got):
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            sys.stderr.write(f"tap-burst-client: {case}: timed out with {got!r}\n")
            sys.exit(1)
        if not chunk:
            return got, True
        got += chunk
    return got, False


# One exchange first: the tap's session is up and waiting for the next bytes.
s.sendall(b'{"id":1}\n')
read_until(lambda b: b.endswith(b"\n"))

os.kill(tap_pid, signal.SIGSTOP)
try:
    if case == "eof":
        s.sendall(b'{"id":2}\n')
        s.shutdown(socket.SHUT_WR)
    else:
        s.sendall(b'{"id":3}\n')
        s.send(b"!", socket.MSG_OOB)
        s.sendall(b'{"id":4}\n')
finally:
    os.kill(tap_pid, signal.SIGCONT)

if case == "eof":
    got, eof = read_until(lambda b: False)
    print(got.decode(), end="")
    sys.exit(0 if eof else 1)
got, _ = read_until(lambda b: b.count(b"\n") >= 2)
print(got.decode(), end="")
