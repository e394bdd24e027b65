#!/bin/sh
# Usage: probe.sh [SOCKET]
# Health probe for a daemon served by `ipcat serve` on SOCKET (default
# /run/app/control.sock): exit 0 when it answers a ping within 1 second, non-zero
# otherwise (66/69 not running, 75 too slow, 76 no reply, 1 an error reply; see README.md).
# It reads no stdin and prints nothing but a one-line error (-q): Docker keeps only
# 4 KiB of a probe's output and goes by the exit status; Kubernetes exec probes
# allow 1 s by default.
# IPCAT names the ipcat binary (default: ipcat on PATH).
exec "${IPCAT:-ipcat}" request -q --timeout 1 "${1:-/run/app/control.sock}" '{"cmd":"ping"}'
