#!/bin/sh
# Method "status". Request: {"method":"status"} or {"method":"status","service":"web"}.
# Reply: every service's restart count, or one service's state; an unknown service
# gets an error object, which makes `ipcat request` exit 1.
# STATE_DIR and SERVICES default as in run.sh (and restart.py), so this runs under
# a bare `ipcat serve --route` too.
set -eu
STATE_DIR=${STATE_DIR:-${XDG_RUNTIME_DIR:-/tmp}/ipcat-json-rpc}
SERVICES=${SERVICES:-web worker}
counts={}
for service in $SERVICES; do
  n=$(cat "$STATE_DIR/$service.restarts" 2>/dev/null || true)
  counts=$(printf '%s' "$counts" | jq -c --arg s "$service" --argjson n "${n:-0}" '.[$s] = $n')
done
# The request is on stdin; jq reads it from there.
jq -c --argjson restarts "$counts" '
  if .service == null then {services: $restarts}
  elif $restarts[.service] == null then
    {error: "no such service: \(.service)", type: "NoSuchService", service: .service}
  else {service: .service, state: "running", restarts: $restarts[.service]}
  end'
