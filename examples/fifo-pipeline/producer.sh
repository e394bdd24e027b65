#!/bin/sh
# Usage: producer.sh FIFO [COUNT] [NAME]
# Queues COUNT jobs (default 5) into FIFO as JSON lines, through one fifo-send:
# every message goes in whole (at most PIPE_BUF bytes, written atomically), so
# several producers can share the FIFO without mixing their bytes. Waits up to
# 10 s for a consumer to be there (exit 75 if none comes).
# IPCAT names the ipcat binary (default: ipcat on PATH).
set -eu
fifo=$1 count=${2:-5} name=${3:-producer-$$}
i=1
while [ "$i" -le "$count" ]; do
  printf '{"id":%d,"from":"%s","task":"resize","file":"photo-%d.jpg"}\n' "$i" "$name" "$i"
  i=$((i + 1))
done | "${IPCAT:-ipcat}" fifo-send --wait 10 "$fifo"
