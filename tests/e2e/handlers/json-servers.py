#!/usr/bin/env python3
"""JSON-line servers that are not ipcat, as real daemons behave (standard library only).

Usage: json-servers.py SOCK MODE [ARG]
  mpv      like mpv's --input-ipc-server: {"command":[...],"request_id":N} gets
           {"data":...,"request_id":N,"error":"success"} (or "error":"property not
           found"); observe_property pushes {"event":"property-change",...} lines,
           and every request is preceded by an {"event":"tick"} push. Closes at EOF.
  jsonrpc  JSON-RPC 2.0: each request with an "id" gets a notification
           {"jsonrpc":"2.0","method":"progress",...} first, then its response;
           method "fail" gets an "error" member; a request without "id" gets nothing.
  open     replies {"pong":N} to line N and stays open after the client's EOF.
  push     sends {"event":"hello"} at once, then answers line N with {"event":"tick"}
           followed by {"pong":N,...the request's "id" if any}.
  fixed    replies ARG (sent as given, byte for byte) to every line; closes at EOF.
  verbatim replies each line exactly as received (whitespace and all); closes at EOF.
  slow     replies {"pong":N} to line N after ARG seconds; closes at EOF.
Each connection is served on its own thread, until the server is killed.
"""
import json
import socket
import sys
import threading
import time

path, mode = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else None


def dump(value):
    return (json.dumps(value, separators=(",", ":")) + "\n").encode()


def send(conn, data):
    try:
        conn.sendall(data)
        return True
    except OSError:
        return False


def lines(conn):
    reader = conn.makefile("rb")
    try:
        for line in reader:
            if line.strip():
                yield line
    except OSError:
        pass


def serve_mpv(conn):
    props = {"mpv-version": "mpv 0.35.1", "volume": 100}
    observed = {}
    for raw in lines(conn):
        try:
            req = json.loads(raw)
        except ValueError:
            send(conn, dump({"error": "invalid parameter"}))
            continue
        rid = req.get("request_id", 0)
        cmd = req.get("command", [])
        send(conn, dump({"event": "tick"}))
        if cmd[:1] == ["get_property"] and len(cmd) == 2:
            if cmd[1] in props:
                send(conn, dump({"data": props[cmd[1]], "request_id": rid, "error": "success"}))
            else:
                send(conn, dump({"request_id": rid, "error": "property not found"}))
        elif cmd[:1] == ["set_property"] and len(cmd) == 3:
            props[cmd[1]] = cmd[2]
            send(conn, dump({"request_id": rid, "error": "success"}))
            for oid, name in observed.items():
                if name == cmd[1]:
                    send(conn, dump({"event": "property-change", "id": oid, "name": name, "data": cmd[2]}))
        elif cmd[:1] == ["observe_property"] and len(cmd) == 3:
            observed[cmd[1]] = cmd[2]
            send(conn, dump({"request_id": rid, "error": "success"}))
            # mpv reports the current value at once, then each change.
            send(conn, dump({"event": "property-change", "id": cmd[1], "name": cmd[2], "data": props.get(cmd[2])}))
            for i in range(1, 3):
                send(conn, dump({"event": "property-change", "id": cmd[1], "name": cmd[2], "data": i}))
        else:
            send(conn, dump({"request_id": rid, "error": "invalid parameter"}))


def serve_jsonrpc(conn):
    for raw in lines(conn):
        req = json.loads(raw)
        if "id" not in req:
            continue
        send(conn, dump({"jsonrpc": "2.0", "method": "progress", "params": {"for": req["id"]}}))
        if req.get("method") == "fail":
            send(conn, dump({"jsonrpc": "2.0", "id": req["id"], "error": {"code": -32000, "message": "failed"}}))
        else:
            send(conn, dump({"jsonrpc": "2.0", "id": req["id"], "result": req.get("params")}))


def serve_open(conn):
    n = 0
    for _ in lines(conn):
        n += 1
        send(conn, dump({"pong": n}))
    # The client's EOF: stay open until it closes (recv returns b"" or fails).
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass


def serve_push(conn):
    send(conn, dump({"event": "hello"}))
    n = 0
    for raw in lines(conn):
        n += 1
        send(conn, dump({"event": "tick"}))
        reply = {"pong": n}
        req = json.loads(raw)
        if isinstance(req, dict) and "id" in req:
            reply["id"] = req["id"]
        send(conn, dump(reply))


def serve_fixed(conn):
    for _ in lines(conn):
        send(conn, arg.encode() + b"\n")


def serve_verbatim(conn):
    for raw in lines(conn):
        send(conn, raw if raw.endswith(b"\n") else raw + b"\n")


def serve_slow(conn):
    n = 0
    for _ in lines(conn):
        n += 1
        time.sleep(float(arg))
        send(conn, dump({"pong": n}))


SERVE = {"mpv": serve_mpv, "jsonrpc": serve_jsonrpc, "open": serve_open, "push": serve_push,
         "fixed": serve_fixed, "verbatim": serve_verbatim, "slow": serve_slow}[mode]


def run(conn):
    with conn:
        SERVE(conn)


server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(16)
while True:
    c, _ = server.accept()
    threading.Thread(target=run, args=(c,), daemon=True).start()
