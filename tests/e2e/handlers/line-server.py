#!/usr/bin/env python3
"""A JSON-line server that is not ipcat, for request/notify tests.

Usage: line-server.py SOCK MODE [LOG]
  MODE close:   read one line, append it to LOG, close without replying
  MODE garbage: read one line, append it to LOG, reply with a line that is not JSON
  MODE pong:    reply {"pong":N} to every line N of the connection, until EOF
  MODE reset:   once data arrives, close without reading it (the client sees a reset)
Serves connections one at a time until killed.
"""
import json
import select
import socket
import sys

path, mode = sys.argv[1], sys.argv[2]
log = sys.argv[3] if len(sys.argv) > 3 else None

server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(16)


def send(conn, data):
    """Sends, ignoring a client that left without reading its replies (notify does)."""
    try:
        conn.sendall(data)
    except OSError:
        pass


while True:
    conn, _ = server.accept()
    with conn:
        if mode == "reset":
            select.select([conn], [], [], 10)
            continue
        reader = conn.makefile("rb")
        n = 0
        try:
            for line in reader:
                if not line.strip():
                    continue
                n += 1
                if log:
                    with open(log, "ab") as f:
                        f.write(line if line.endswith(b"\n") else line + b"\n")
                if mode == "close":
                    break
                if mode == "garbage":
                    send(conn, b"this is not json\n")
                    break
                send(conn, (json.dumps({"pong": n}, separators=(",", ":")) + "\n").encode())
        except OSError:
            pass  # reset by the client
        reader.close()
