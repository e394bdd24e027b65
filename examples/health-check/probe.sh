#!/bin/sh
# Usage: probe.sh [SOCKET]
# Health probe for a daemon served by `ipcat serve` on SOCKET (default
# /run/app/control.sock): exit 0 when it answers a ping, non-zero otherwise (66/69
# not running, 75 too slow, 76 no reply, 1 an error reply; see README.md).
# It always ends with its own status within a Kubernetes exec probe's default
# budget of 1 s: no connect retries (a daemon that is not there is 66/69 at once)
# and half a second for the reply. It reads no stdin and prints nothing but a
# one-line error (-q): Docker keeps only 4 KiB of a probe's output and goes by the
# exit status.
# IPCAT names the ipcat binary (default: ipcat on PATH).
exec "${IPCAT:-ipcat}" request -q --retries 0 --timeout 0.5 "${1:-/run/app/control.sock}" '{"cmd":"ping"}'
