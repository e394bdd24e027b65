#!/bin/sh
# Usage: session.sh [DIR] [text|json]
# A whole tap session against a live daemon, the json-rpc example:
#   1. start the daemon on DIR/rpc.sock (DIR: a new temporary directory by default)
#   2. ipcat tap --in-place: take its socket, events to stdout (text by default)
#   3. three clients, as any would run them: status, restart, an unknown method
#   4. SIGINT to the tap: the daemon's socket goes back, the summary goes to stderr
#   5. stop the daemon
# IPCAT names the ipcat binary (default: ipcat on PATH). Needs jq and python3 (the daemon's).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ipcat=${IPCAT:-ipcat}
made=""
dir=${1:-}
[ -n "$dir" ] || { dir=$(mktemp -d "${TMPDIR:-/tmp}/ipcat-tap.XXXXXX"); made=$dir; }
format=${2:-text}
mkdir -p "$dir"
sock=$dir/rpc.sock

# wait_until SECONDS COMMAND...: polls COMMAND every 20 ms, gives up after SECONDS.
wait_until() {
  n=$(($1 * 50))
  shift
  while ! "$@" 2>/dev/null; do
    n=$((n - 1))
    [ "$n" -gt 0 ] || { echo "session.sh: gave up waiting for: $*" >&2; exit 1; }
    sleep 0.02
  done
}

STATE_DIR=$dir/state "$here/../json-rpc/run.sh" "$sock" 2>"$dir/daemon.log" &
daemon=$!
trap 'kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; [ -z "$made" ] || rm -rf "$made"' EXIT
wait_until 10 "$ipcat" request -q --timeout 1 "$sock" method=status

# The tap's events go to our stdout; it says on stderr when the socket is its own.
"$ipcat" tap --in-place --format "$format" "$sock" 2>"$dir/tap.err" &
tap=$!
wait_until 10 grep -q 'tapped' "$dir/tap.err"

"$ipcat" request "$sock" method=status >/dev/null
"$ipcat" request "$sock" method=restart service=web >/dev/null
"$ipcat" request "$sock" method=stop >/dev/null || true  # NoSuchMethod: exit 1

kill -INT "$tap"
wait "$tap"
# The summary (and the line saying where the socket waited) goes to stderr.
cat "$dir/tap.err" >&2
# The daemon has its socket back: a client after the tap goes straight to it.
"$ipcat" request -q "$sock" method=status
