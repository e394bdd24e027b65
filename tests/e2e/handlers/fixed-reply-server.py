#!/usr/bin/env python3
"""A JSON-line server that is not ipcat: answers every request line with the bytes
of REPLY_FILE (sent as they are, then '\n'), until the client closes.

Usage: fixed-reply-server.py SOCK REPLY_FILE
Serves connections one at a time until killed.
"""
import socket
import sys

path, reply_file = sys.argv[1], sys.argv[2]
with open(reply_file, "rb") as f:
    reply = f.read().rstrip(b"\n") + b"\n"

server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(16)
while True:
    conn, _ = server.accept()
    with conn:
        try:
            for line in conn.makefile("rb"):
                if line.strip():
                    conn.sendall(reply)
        except OSError:
            pass
