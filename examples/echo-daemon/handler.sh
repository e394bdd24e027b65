#!/bin/sh
# The handler of the echo daemon. `ipcat serve` runs it once per request, directly
# (no shell in between), with the request line on stdin; what it prints on stdout
# is the reply: one JSON value. The environment says who is asking (UCSPI names).
IFS= read -r request  # (a last line without a newline is read too)
printf '{"echo":%s,"peer_uid":%s,"connection":%s,"request":%s}\n' \
  "$request" "${UNIXREMOTEEUID:-null}" "${IPCAT_CONNECTION:-null}" "${IPCAT_REQUEST:-null}"
