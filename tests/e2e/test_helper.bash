# Shared set-up for the bats suites. IPCAT is the binary under test (CMake passes it).
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

: "${IPCAT:?IPCAT must point at the ipcat binary (ctest sets it)}"
export IPCAT

# wait_for DESCRIPTION SECONDS COMMAND...: every wait in the suites is bounded by it.
# shellcheck source=tests/e2e/wait_for.bash
source "${BASH_SOURCE[0]%/*}/wait_for.bash"

# socket_accepts PATH: true once something accepts connections on the Unix socket PATH.
socket_accepts() {
  [ -S "$1" ] && socat -u /dev/null "UNIX-CONNECT:$1" 2>/dev/null
}

# --- serve / request / notify suites ----------------------------------------
# Servers started with spawn_server (and pids given to track_pid) are stopped by
# stop_tracked, which those suites call from teardown.
HANDLERS="$BATS_TEST_DIRNAME/handlers"

# process_running PID: true while PID exists and is not a zombie.
process_running() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n $state && $state != Z* ]]
}

# process_gone PID: true once PID has exited (a zombie counts as gone).
process_gone() {
  ! process_running "$1"
}

# track_pid PID: stop_tracked will TERM (then KILL) and reap PID.
track_pid() {
  TRACKED_PIDS+=("$1")
}

# spawn_server SOCK ARG...: runs `ipcat serve SOCK ARG...` in the background with its
# stderr in $SERVER_ERR, sets SERVER_PID, and waits (10 s) until SOCK accepts.
spawn_server() {
  local sock=$1
  shift
  SERVER_ERR="$BATS_TEST_TMPDIR/serve.${#TRACKED_PIDS[@]}.err"
  "$IPCAT" serve "$sock" "$@" </dev/null >"$SERVER_ERR.out" 2>"$SERVER_ERR" 3>&- &
  SERVER_PID=$!
  track_pid "$SERVER_PID"
  wait_for "ipcat serve on $sock" 10 socket_accepts "$sock" || {
    echo "--- serve stderr:" >&2
    cat "$SERVER_ERR" >&2
    return 1
  }
}

# spawn_mpv SOCK: an idle mpv (no video, audio or config) serving its JSON IPC on SOCK,
# tracked; skips the test where mpv is not installed (scripts/deps installs it). mpv
# starts slowly on a loaded machine (CI runs the sanitizer builds and fuzzers beside
# these suites): up to 60 s, and a fast failure, with its stderr, if it exits.
spawn_mpv() {
  command -v mpv >/dev/null || skip "mpv is not installed (scripts/deps installs it)"
  local sock=$1 err="$BATS_TEST_TMPDIR/mpv.err"
  mpv --idle=yes --no-video --no-audio --no-config --really-quiet --input-ipc-server="$sock" \
    </dev/null >/dev/null 2>"$err" 3>&- &
  local pid=$!
  track_pid "$pid"
  wait_for "mpv on $sock" 60 mpv_settled "$pid" "$sock"
  socket_accepts "$sock" || {
    echo "mpv (pid $pid) exited before $sock accepted; its stderr:" >&2
    cat "$err" >&2
    return 1
  }
}

# mpv_settled PID SOCK: SOCK accepts, or PID is gone (no use waiting longer).
mpv_settled() {
  socket_accepts "$2" || process_gone "$1"
}

# stop_pid PID: SIGTERM, up to 15 s to exit, then SIGKILL; reaps it and returns its status.
stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  if ! wait_for "pid $1 to exit" 15 process_gone "$1"; then
    kill -KILL "$1" 2>/dev/null || true
  fi
  wait "$1" 2>/dev/null
}

# stop_tracked: stops everything track_pid / spawn_server recorded in this test.
stop_tracked() {
  local pid
  for pid in "${TRACKED_PIDS[@]}"; do stop_pid "$pid" || true; done
  TRACKED_PIDS=()
}

# assert_json FILTER [TEXT]: TEXT ($output by default) is JSON and satisfies the jq FILTER.
assert_json() {
  local text=${2-$output}
  jq -e "$1" <<<"$text" >/dev/null 2>&1 || fail "expected <$text> to satisfy jq filter: $1"
}

# --- shared by several suites ----------------------------------------------------

# request ARG...: ipcat request, bounded.
request() {
  timeout 30 "$IPCAT" request "$@"
}

# reap PID: waits for our background PID to exit (15 s), reaps it, sets $status.
reap() {
  wait_for "pid $1 to exit" 15 process_gone "$1"
  status=0
  wait "$1" || status=$?
}

# hold_fifo: creates $FIFO (mode 0600, as ipcat makes them) and keeps it open
# read-write on fd 7: a reader is there, and bytes written stay buffered between
# the commands of a test.
hold_fifo() {
  mkdir -p "$(dirname "$FIFO")"
  [ -p "$FIFO" ] || mkfifo -m 0600 "$FIFO"
  exec 7<>"$FIFO"
}

# fd_count PID: open descriptors of PID.
fd_count() { ls "/proc/$1/fd" | wc -l; }
fds_at_least() { (($(fd_count "$1") >= $2)); }
fds_at_most() { (($(fd_count "$1") <= $2)); }
# no_children PID: true when PID has no child process, running or zombie.
no_children() { [ -z "$(ps --ppid "$1" -o pid= 2>/dev/null)" ]; }
# kib FIELD PID: a VmRSS/VmHWM-style field of /proc/PID/status, in KiB.
kib() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$2/status"; }

# settled_fd_count PID: PID's descriptor count once it has held still for 0.1 s (at most 2 s).
settled_fd_count() {
  local last=-1 same=0 n i
  for ((i = 0; i < 100 && same < 5; i++)); do
    n=$(fd_count "$1")
    if ((n == last)); then same=$((same + 1)); else same=0; fi
    last=$n
    sleep 0.02
  done
  echo "$last"
}
