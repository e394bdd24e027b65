#!/bin/sh
# Usage: run.sh [SOCKET]
# Turns handler.sh into a daemon listening on SOCKET (default:
# ${XDG_RUNTIME_DIR:-/tmp}/echo-daemon.sock). Stop it with Ctrl-C or SIGTERM:
# requests in flight finish, the socket is removed, the exit status is 0.
# IPCAT names the ipcat binary (default: ipcat on PATH).
here=$(cd "$(dirname "$0")" && pwd)
socket=${1:-${XDG_RUNTIME_DIR:-/tmp}/echo-daemon.sock}
exec "${IPCAT:-ipcat}" serve "$socket" --timeout 5 -- "$here/handler.sh"
