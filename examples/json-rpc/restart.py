#!/usr/bin/env python3
"""Method "restart". Request: {"method":"restart","service":"web"}.

Reply: {"service":"web","restarted":true,"restarts":N}. An unknown or missing
service gets an error object ({"error":...,"type":"NoSuchService"}), which makes
`ipcat request` exit 1; an exception would make ipcat reply HandlerFailed with
the end of the traceback.

STATE_DIR (default: $XDG_RUNTIME_DIR/ipcat-json-rpc, or /tmp/ipcat-json-rpc) holds
the restart counts; SERVICES (default: "web worker") names the services. The
defaults are run.sh's, so the handlers also run under a bare `ipcat serve --route`.
"""
import fcntl
import json
import os
import sys

request = json.load(sys.stdin)
services = os.environ.get("SERVICES", "web worker").split()
state_dir = os.environ.get("STATE_DIR") or os.path.join(os.environ.get("XDG_RUNTIME_DIR") or "/tmp", "ipcat-json-rpc")
service = request.get("service") if isinstance(request, dict) else None

if service not in services:
    reply = {"error": f"no such service: {service}", "type": "NoSuchService", "service": service}
else:
    # ipcat runs several handlers at once (--max-handlers): count under a lock.
    os.makedirs(state_dir, exist_ok=True)
    with open(os.path.join(state_dir, service + ".restarts"), "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        restarts = int(f.read() or 0) + 1
        f.seek(0)
        f.truncate()
        f.write(f"{restarts}\n")
    reply = {"service": service, "restarted": True, "restarts": restarts}

print(json.dumps(reply, separators=(",", ":")))
