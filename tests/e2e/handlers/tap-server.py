#!/usr/bin/env python3
"""An independent JSON-line server for tap.bats, standard library only: a stand-in
for the Python daemons people run behind `ipcat tap`.

Usage: tap-server.py SOCK [bytes]
  default: JSON-RPC 2.0 over lines, a thread per connection:
             {"method":"add","params":[a,b],"id":N}  -> {"jsonrpc":"2.0","id":N,"result":a+b}
             params {"push":true} (any method)       -> a push {"jsonrpc":"2.0","method":"tick"} first
             a request without "id" (notification)   -> no reply
             "silent" method                         -> no reply
             a line that is not JSON                 -> {"jsonrpc":"2.0","id":null,"error":{...}}
  bytes:   echoes every byte back unchanged until the client's EOF, then closes.
Serves until killed.
"""
import json
import os
import socketserver
import sys

path = sys.argv[1]
echo_bytes = len(sys.argv) > 2 and sys.argv[2] == "bytes"


class Handler(socketserver.StreamRequestHandler):
    def send(self, obj):
        self.wfile.write(json.dumps(obj, separators=(",", ":")).encode() + b"\n")
        self.wfile.flush()

    def handle(self):
        if echo_bytes:
            while True:
                data = self.request.recv(65536)
                if not data:
                    return
                self.request.sendall(data)
        for raw in self.rfile:
            line = raw.strip()
            if not line:
                continue
            try:
                req = json.loads(line)
            except ValueError:
                self.send({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
                continue
            params = req.get("params") if isinstance(req, dict) else None
            if isinstance(params, dict) and params.get("push"):
                self.send({"jsonrpc": "2.0", "method": "tick"})
            if not isinstance(req, dict) or "id" not in req or req.get("method") == "silent":
                continue
            if req.get("method") == "add" and isinstance(params, list):
                self.send({"jsonrpc": "2.0", "id": req["id"], "result": sum(params)})
            else:
                self.send({"jsonrpc": "2.0", "id": req["id"],
                           "error": {"code": -32601, "message": "no such method"}})


class Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


if os.path.exists(path):
    os.unlink(path)
with Server(path, Handler) as server:
    server.serve_forever()
