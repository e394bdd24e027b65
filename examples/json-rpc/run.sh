#!/bin/sh
# Usage: run.sh [SOCKET]
# An RPC daemon with two methods, routed on the request's "method" field:
#   {"method":"status"}                      -> status.sh  (shell + jq)
#   {"method":"restart","service":"web"}     -> restart.py (Python)
# Any other method gets a NoSuchMethod error reply listing these two.
# The handlers keep their state (restart counts) in STATE_DIR.
# IPCAT names the ipcat binary (default: ipcat on PATH).
here=$(cd "$(dirname "$0")" && pwd)
socket=${1:-${XDG_RUNTIME_DIR:-/tmp}/json-rpc.sock}
STATE_DIR=${STATE_DIR:-${XDG_RUNTIME_DIR:-/tmp}/ipcat-json-rpc}
SERVICES=${SERVICES:-web worker}
export STATE_DIR SERVICES
mkdir -p "$STATE_DIR"
# A route's COMMAND is split on white space, never given to a shell: keep the
# handlers at a path without spaces.
exec "${IPCAT:-ipcat}" serve "$socket" \
  --route "status=$here/status.sh" \
  --route "restart=$here/restart.py"
