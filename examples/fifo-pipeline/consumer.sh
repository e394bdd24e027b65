#!/bin/sh
# Usage: consumer.sh FIFO [IDLE]
# Takes jobs from FIFO as they come, from any number of producers, and handles each
# (here: prints a line saying it was done). Stops once no job has arrived for IDLE
# seconds (default 5). FIFO is created (mode 0600) if it is missing.
# IPCAT names the ipcat binary (default: ipcat on PATH).
set -eu
fifo=$1 idle=${2:-5}
"${IPCAT:-ipcat}" fifo-recv --follow --timeout "$idle" "$fifo" |
  while IFS= read -r job; do
    printf '%s\n' "$job" | jq -r '"done: \(.from) job \(.id): \(.task) \(.file)"'
  done
