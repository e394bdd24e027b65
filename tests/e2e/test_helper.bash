# Shared set-up for the bats suites. IPCAT is the binary under test (CMake passes it).
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

: "${IPCAT:?IPCAT must point at the ipcat binary (ctest sets it)}"
export IPCAT

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND until it succeeds; fails
# the test after SECONDS. Every wait in the suites is bounded this way.
wait_for() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      echo "timed out after ${seconds}s waiting for: $what" >&2
      return 1
    fi
    sleep 0.02
  done
}

# socket_accepts PATH: true once something accepts connections on the Unix socket PATH.
socket_accepts() {
  [ -S "$1" ] && socat -u /dev/null "UNIX-CONNECT:$1" 2>/dev/null
}
