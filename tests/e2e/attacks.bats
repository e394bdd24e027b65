#!/usr/bin/env bats
# ipcat serve under attack: what a local user can send or hold must not freeze the
# server, exhaust it, cross clients or slip past its access rules (man/ipcat.1,
# SECURITY and LIMITS). Multi-user cases run the attacker as nobody; their sockets
# live in a 1777 directory under /tmp that nobody can reach. Clients are
# tests/e2e/handlers/attack-client.py and fault-client.py.

load test_helper

setup() {
  state="$BATS_TEST_TMPDIR/state"
  mkdir -p "$state"
  sock="$BATS_TEST_TMPDIR/s.sock"
  client="$HANDLERS/fault-client.py"
  attack="$HANDLERS/attack-client.py"
  shared=$(mktemp -d /tmp/ipcat-attacks.XXXXXX)
  chmod 1777 "$shared"
  LEFTOVER_PIDS=()
}

teardown() {
  stop_tracked
  local pid
  for pid in "${LEFTOVER_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$shared"
}

# --- probes -------------------------------------------------------------------

child_count() { ps --ppid "$1" -o pid= 2>/dev/null | wc -l; }
children_at_least() { (($(child_count "$1") >= $2)); }
# lines_matching FILE PATTERN N: true once FILE has exactly N lines matching PATTERN.
lines_matching() { [[ -f $1 && $(grep -c -- "$2" "$1") == "$3" ]]; }
# Under AddressSanitizer RSS says nothing (freed memory sits in its quarantine).
under_asan() { grep -q libasan "/proc/$1/maps" 2>/dev/null; }

# spawn_limited FDS SOCK ARG...: spawn_server under `ulimit -n FDS`.
spawn_limited() {
  local fds=$1 where=$2
  shift 2
  SERVER_ERR="$BATS_TEST_TMPDIR/serve.${#TRACKED_PIDS[@]}.err"
  bash -c 'ulimit -n "$1"; shift; exec "$@"' _ "$fds" "$IPCAT" serve "$where" "$@" </dev/null >"$SERVER_ERR.out" 2>"$SERVER_ERR" 3>&- &
  SERVER_PID=$!
  track_pid "$SERVER_PID"
  wait_for "ipcat serve on $where" 10 socket_accepts "$where" || {
    cat "$SERVER_ERR" >&2
    return 1
  }
}

# hold N: N idle connections to $sock (fault-client.py hold) until release_held; as
# USER when HOLD_AS is set. Sets HOLDER.
hold() {
  local n=$1 dir=$shared/hold.$RANDOM
  mkdir -m 1777 "$dir"
  HOLD_DIR=$dir
  if [[ -n ${HOLD_AS:-} ]]; then
    runuser -u "$HOLD_AS" -- /usr/bin/python3 "$client" hold "$sock" "$n" "$dir/ready" "$dir/release" >"$dir/out" &
  else
    python3 "$client" hold "$sock" "$n" "$dir/ready" "$dir/release" >"$dir/out" &
  fi
  HOLDER=$!
  track_pid "$HOLDER"
  wait_for "$n connections held" 30 test -s "$dir/ready"
}

release_held() {
  touch "$HOLD_DIR/release"
  wait_for "the holder to finish" 30 process_gone "$HOLDER"
}

# assert_serving [ADDRESS]: another client is answered within a few seconds.
assert_serving() {
  run --separate-stderr timeout 20 "$IPCAT" request --timeout 5 "${1:-$sock}" '{"still":"serving"}'
  assert_success
  assert_output --partial '"still":"serving"'
}

# as_nobody CMD...: runs CMD as nobody (tests run as root in CI).
as_nobody() {
  runuser -u nobody -- "$@"
}

# --- 1: out of descriptors ----------------------------------------------------

@test "fd limit: with every descriptor but a few held, a request over 64 KiB is answered, never freezes the server" {
  spawn_limited 64 "$sock" --timeout 3 -- cat
  run --separate-stderr timeout 20 "$IPCAT" request --timeout 10 "$sock" '{"warm":"up"}'
  assert_success
  local base
  base=$(settled_fd_count "$SERVER_PID")
  printf '{"pad":"%s"}\n' "$(head -c 200000 /dev/zero | tr '\0' x)" >"$state/big"
  local free
  # The request takes 1 (socket) + 6 (pipes) + 1 (pidfd): every shortfall on the way.
  for free in 5 6 7 8 9; do
    hold $((64 - base - free))
    wait_for "the server to hold them" 10 fds_at_least "$SERVER_PID" $((64 - free))
    run --separate-stderr timeout 30 "$IPCAT" request --timeout 10 "$sock" <"$state/big"
    ((status == 0 || status == 1)) || fail "with $free descriptors free: exit $status ($stderr)"
    [[ $status == 0 ]] || assert_json '.type == "Overloaded" or .type == "HandlerFailed"'
    release_held
    wait_for "descriptors back" 10 fds_at_most "$SERVER_PID" $((base + 1))
  done
  assert_serving
}

@test "fd limit: --mode connection with 100 held connections under ulimit -n 64 still stops on SIGTERM" {
  spawn_limited 64 "$sock" --mode connection --max-handlers 200 --drain 1 -- cat
  hold 100
  wait_for "the server at its fd limit" 10 fds_at_least "$SERVER_PID" 60
  kill -TERM "$SERVER_PID"
  wait_for "the server to stop" 15 process_gone "$SERVER_PID"
  local rc=0
  wait "$SERVER_PID" || rc=$?
  assert_equal "$rc" 0
  assert_file_not_exists "$sock"
}

@test "fd limit: EMFILE on accept is logged at most once a second, and accepting resumes" {
  spawn_limited 32 "$sock" --echo
  hold 60
  # A rate, not a synchronisation: 2.5 s of EMFILE on every retry.
  sleep 2.5
  local lines
  lines=$(grep -c accept_failed "$SERVER_ERR" || true)
  ((lines >= 1 && lines <= 4)) || fail "$lines accept_failed lines in 2.5 s"
  release_held
  assert_serving
}

# --- 2: pool mode, writes that outlive their request -----------------------------

@test "pool: a worker timed out mid-write of a 1 MB request gets no freed or foreign bytes; the next request is served" {
  spawn_server "$sock" --mode pool --workers 1 --timeout 1 -- "$HANDLERS/pool-timeout-writer" "$state"
  printf '{"pad":"%s"}\n' "$(head -c 1048000 /dev/zero | tr '\0' a)" >"$state/big"
  run --separate-stderr timeout 20 "$IPCAT" request --timeout 10 "$sock" <"$state/big"
  assert_failure 1
  assert_json '.type == "HandlerTimeout"'
  run --separate-stderr timeout 20 "$IPCAT" request --timeout 10 "$sock" '{"who":"B-secret"}'
  assert_success
  assert_output '{"who":"B-secret"}'
  wait_for "the first worker's copy" 10 test -e "$state/got"
  # Only bytes of its own request ever reached the timed-out worker.
  run grep -c B-secret "$state/got"
  assert_output 0
  assert_equal "$(tr -d 'a{}":pd' <"$state/got" | tr -d '\n' | wc -c)" 0
  process_running "$SERVER_PID"
  assert_serving
}

@test "pool stress (run it under ASan): timeouts, early replies, dying workers, big requests for 4 s; the server stays up and exits 0" {
  spawn_server "$sock" --mode pool --workers 3 --timeout 0.5 --max-line 1048576 -- "$HANDLERS/pool-stress-worker"
  run timeout 60 python3 "$attack" stress "$sock" 4 6
  assert_success
  echo "# $output" >&3
  assert_json '.total > 20 and .lost == 0'
  assert_json '(.types | keys - ["<reply>", "BadHandlerOutput", "HandlerFailed", "HandlerTimeout"]) == []'
  # Workers that died at once may be in their restart backoff (up to 5 s).
  pool_answers() { timeout 20 "$IPCAT" request --timeout 5 "$sock" '{"do":"ok"}' | grep -q '^{"ok":[0-9]*}$'; }
  wait_for "a worker to answer" 20 pool_answers
  kill -TERM "$SERVER_PID"
  wait_for "the server to stop" 20 process_gone "$SERVER_PID"
  local rc=0
  wait "$SERVER_PID" || rc=$?
  assert_equal "$rc" 0
  run grep -c AddressSanitizer "$SERVER_ERR"
  assert_output 0
}

# --- 3: memory per connection ----------------------------------------------------

@test "300 pipelined 1 MB requests on one connection: reading stops near 4 MiB of waiting requests, memory stays bounded" {
  spawn_server "$sock" --max-handlers 1 --drain 1 -- sleep 30
  local before
  before=$(kib VmHWM "$SERVER_PID")
  run timeout 60 python3 "$attack" flood "$sock" 300 1000000
  assert_success
  echo "# $output" >&3
  # 4 MiB waiting + one line being read + socket buffers.
  assert_json '.sent < 16 * 1048576'
  if ! under_asan "$SERVER_PID"; then
    local now
    now=$(kib VmHWM "$SERVER_PID")
    (((now - before) < 32768)) || fail "peak RSS grew by $((now - before)) KiB"
  fi
  process_running "$SERVER_PID"
}

@test "--max-pending 2: a client pipelining 5 requests has only 2 handed to handlers at a time" {
  spawn_server "$sock" --max-pending 2 --drain 1 -- "$HANDLERS/fault-handler" "$state"
  python3 "$client" lines "$sock" '{"do":"slow","n":1}' '{"do":"slow","n":2}' '{"do":"slow","n":3}' \
    '{"do":"slow","n":4}' '{"do":"slow","n":5}' >"$state/lines.out" &
  local c=$!
  track_pid "$c"
  wait_for "two handlers" 10 lines_matching "$state/invocations" slow 2
  # A negative check needs a moment: no third one may start.
  sleep 0.5
  assert_equal "$(grep -c slow "$state/invocations")" 2
  touch "$state/release"
  wait_for "all five" 30 process_gone "$c"
  assert_equal "$(grep -c slow "$state/invocations")" 5
}

# --- 4: per-user fairness --------------------------------------------------------

@test "--max-connections-per-uid (default 256): nobody holding 300 idle connections does not lock root out" {
  sock=$shared/s.sock
  spawn_server "$sock" --echo --socket-mode 0666 --max-connections 300
  HOLD_AS=nobody hold 300
  wait_for "nobody's 256 connections" 20 fds_at_least "$SERVER_PID" 256
  assert_serving
  grep -q 'connection_overloaded' "$SERVER_ERR"
  release_held
}

@test "--max-connections-per-uid 2: the third connection of one uid gets Overloaded and is closed; another uid is served" {
  sock=$shared/s.sock
  spawn_server "$sock" --echo --socket-mode 0666 --max-connections-per-uid 2
  hold 2
  run --separate-stderr timeout 20 "$IPCAT" request --timeout 5 "$sock" '{"third":true}'
  assert_failure 1
  assert_json '.type == "Overloaded" and .limit == 2'
  run --separate-stderr as_nobody timeout 20 "$IPCAT" request --timeout 5 "$sock" '{"other":"uid"}'
  assert_success
  assert_output '{"other":"uid"}'
  release_held
  assert_serving
}

# --- 5: cross-protocol requests --------------------------------------------------

@test "an HTTP POST from a web page to a loopback TCP port runs no handler: closed at the request line" {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  spawn_server_tcp() {
    "$IPCAT" serve "tcp:127.0.0.1:$port" --route "restart=$HANDLERS/fault-handler $state ok" </dev/null \
      >"$state/serve.out" 2>"$state/serve.err" 3>&- &
    SERVER_PID=$!
    track_pid "$SERVER_PID"
  }
  spawn_server_tcp
  wait_for "the server" 10 socat -u /dev/null "TCP:127.0.0.1:$port"
  run curl -s --max-time 5 --data-binary $'\n{"method":"restart","do":"ok"}\n' "http://127.0.0.1:$port/"
  run curl -s --max-time 5 -H 'Content-Type: text/plain' --data-binary '{"method":"restart","do":"ok"}' "http://127.0.0.1:$port/"
  assert_file_not_exists "$state/invocations"
  grep -q http_request_refused "$state/serve.err"
  run --separate-stderr timeout 20 "$IPCAT" request --timeout 5 "tcp:127.0.0.1:$port" '{"method":"restart","do":"ok","real":1}'
  assert_success
  assert_output --partial '"real":1'
}

# --- 6: addresses without a file mode ---------------------------------------------

@test "--socket-mode or --socket-group with an @abstract or TCP address is a usage error" {
  run --separate-stderr timeout 10 "$IPCAT" serve --socket-mode 0600 "@ipcat-attacks-$$-$RANDOM" --echo
  assert_failure 64
  [[ $stderr == *"--socket-mode"* ]] || fail "$stderr"
  run --separate-stderr timeout 10 "$IPCAT" serve --socket-group 0 "tcp:127.0.0.1:0" --echo
  assert_failure 64
}

@test "an @abstract socket admits only the server's uid (and root) by default: nobody gets Forbidden" {
  local name="@ipcat-attacks-$$-$RANDOM"
  "$IPCAT" serve "$name" --echo </dev/null >/dev/null 2>"$state/serve.err" 3>&- &
  SERVER_PID=$!
  track_pid "$SERVER_PID"
  wait_for "the server" 10 "$IPCAT" request --timeout 1 --retries 0 "$name" '{}'
  run --separate-stderr as_nobody timeout 20 "$IPCAT" request --timeout 5 "$name" '{"from":"nobody"}'
  assert_failure 77
  run --separate-stderr timeout 20 "$IPCAT" request --timeout 5 "$name" '{"from":"root"}'
  assert_success
}

@test "an @abstract socket with --allow-uid nobody admits nobody" {
  local name="@ipcat-attacks-$$-$RANDOM"
  "$IPCAT" serve "$name" --allow-uid nobody --echo </dev/null >/dev/null 2>"$state/serve.err" 3>&- &
  SERVER_PID=$!
  track_pid "$SERVER_PID"
  wait_for "the server" 10 grep -q listening "$state/serve.err"
  run --separate-stderr as_nobody timeout 20 "$IPCAT" request --timeout 5 "$name" '{"from":"nobody"}'
  assert_success
}

@test "loopback TCP without --authkey-file: serve warns at start that every local user can connect" {
  "$IPCAT" serve "tcp:127.0.0.1:0" --echo </dev/null >/dev/null 2>"$state/serve.err" 3>&- &
  SERVER_PID=$!
  track_pid "$SERVER_PID"
  wait_for "listening" 10 grep -q listening "$state/serve.err"
  grep -q 'warning: open_to_local_users' "$state/serve.err"
}

# --- 7: pool mode, a stray line ------------------------------------------------------

@test "pool: a worker's second line never reaches the next request; its own request gets BadHandlerOutput, it restarts" {
  spawn_server "$sock" --mode pool --workers 1 -- "$HANDLERS/pool-two-lines" "$state"
  timeout 20 "$IPCAT" request --timeout 10 "$sock" '{"who":"for-A"}' >"$state/a.out" 2>&1 &
  local a=$!
  track_pid "$a"
  wait_for "A's request to be in flight" 10 test -s "$state/starts"
  sleep 0.1 # B must queue behind A (the worker takes 0.3 s)
  run --separate-stderr timeout 20 "$IPCAT" request --timeout 10 "$sock" '{"who":"B"}'
  assert_success
  assert_output '{"who":"B"}'
  wait_for "A's reply" 10 process_gone "$a"
  assert_json '.type == "BadHandlerOutput"' "$(cat "$state/a.out")"
  assert_equal "$(wc -l <"$state/starts")" 2
}

# --- 8: inherited UCSPI variables ----------------------------------------------------

@test "inherited UCSPI and IPCAT_ variables are replaced: a nobody peer's handler sees UNIXREMOTEEUID=65534 only" {
  sock=$shared/s.sock
  UNIXREMOTEEUID=0 UNIXREMOTEEGID=0 IPCAT_REQUEST=99 PROTO=TCP spawn_server "$sock" --socket-mode 0666 -- "$HANDLERS/env-raw"
  run --separate-stderr as_nobody timeout 20 "$IPCAT" request --timeout 5 "$sock" '{}'
  assert_success
  # The raw environment: a duplicate would be there, first or not.
  assert_json '.UNIXREMOTEEUID == ["65534"] and .UNIXREMOTEEGID == ["65534"] and .PROTO == ["UNIX"]'
  assert_json '.IPCAT_REQUEST == ["1"]'
}

# --- 9: two servers at once -----------------------------------------------------------

# start_together N ARG...: N `ipcat serve ARG...` released at the same instant (each
# waits for a shared flock(1) on a file this shell holds exclusively: a wait that
# takes no CPU, where a spin on the file would take the cores the servers race for);
# their pids in RACERS.
start_together() {
  local n=$1 k go=$state/go.$RANDOM hold
  shift
  exec {hold}>"$go"
  flock -x "$hold"
  RACERS=()
  for ((k = 0; k < n; k++)); do
    (
      exec {hold}>&-
      flock -s "$go" true
      exec "$IPCAT" serve "$@" </dev/null >/dev/null 2>>"$state/racers.err" 3>&-
    ) &
    RACERS+=($!)
    track_pid "$!"
  done
  wait_for "$n racers waiting on the lock" 10 flock_waiters_at_least "$go" "$n"
  exec {hold}>&-
}

# flock_waiters_at_least FILE N: N processes are blocked in flock(2) on FILE (/proc/locks
# lists each waiter as "->" under the holder).
flock_waiters_at_least() {
  local inode
  inode=$(stat -c %i "$1")
  (($(grep -c -E -- "-> FLOCK .*:$inode " /proc/locks) >= $2))
}

# gone_count PID...: how many of the PIDs have exited.
gone_count() {
  local p n=0
  for p in "$@"; do process_gone "$p" && n=$((n + 1)); done
  echo "$n"
}
all_but_one_gone() { (($(gone_count "$@") == $# - 1)); }

@test "servers started at once on one path: exactly one runs, the others exit 73 (60 trials of 4)" {
  local trial p rc running
  for ((trial = 0; trial < 60; trial++)); do
    start_together 4 "$sock" --echo
    wait_for "all but one to give up (trial $trial)" 5 all_but_one_gone "${RACERS[@]}" || {
      cat "$state/racers.err" >&2
      fail "$((4 - $(gone_count "${RACERS[@]}"))) servers run (trial $trial)"
    }
    running=0
    for p in "${RACERS[@]}"; do
      if process_gone "$p"; then
        rc=0
        wait "$p" || rc=$?
        assert_equal "$rc" 73
      else
        running=$((running + 1))
      fi
    done
    assert_equal "$running" 1
    assert_serving
    stop_tracked
  done
}

# --- 10: signals -------------------------------------------------------------------------

@test "SIGHUP outside pool mode is logged and ignored: the server, its socket and pidfile stay" {
  spawn_server "$sock" --echo --pidfile "$state/pid"
  kill -HUP "$SERVER_PID"
  wait_for "the SIGHUP logged" 10 grep -q 'signal name=SIGHUP' "$SERVER_ERR"
  process_running "$SERVER_PID"
  assert_file_exists "$state/pid"
  assert_serving
}

@test "SIGHUP in pool mode replaces every worker, one by one, and no request fails" {
  spawn_server "$sock" --mode pool --workers 2 -- "$HANDLERS/pool-pid-worker"
  wait_for "2 workers" 10 children_at_least "$SERVER_PID" 2
  local before
  before=$(ps --ppid "$SERVER_PID" -o pid= | sort | tr -d ' ')
  python3 "$client" load "$sock" 2 "$state/ready" >"$state/load.out" &
  local load=$!
  track_pid "$load"
  wait_for "load running" 20 test -e "$state/ready"
  kill -HUP "$SERVER_PID"
  new_workers() {
    local now
    now=$(ps --ppid "$SERVER_PID" -o pid= | sort | tr -d ' ')
    [[ $(wc -l <<<"$now") == 2 && -z $(comm -12 <(echo "$before") <(echo "$now")) ]]
  }
  wait_for "two new workers" 10 new_workers
  kill -TERM "$SERVER_PID"
  wait_for "the load to finish" 30 process_gone "$load"
  assert_json '.lost == 0 and (.types | keys - ["<reply>", "ShuttingDown"] == [])' "$(cat "$state/load.out")"
}

@test "SIGTERM while 100 pool workers start: exit 0, no worker left, pidfile removed" {
  local worker=$state/worker-$RANDOM
  cp "$HANDLERS/pool-pid-worker" "$worker"
  "$IPCAT" serve "$sock" --mode pool --workers 100 --pidfile "$state/pid" -- "$worker" </dev/null >/dev/null \
    2>"$state/serve.err" 3>&- &
  local pid=$!
  track_pid "$pid"
  wait_for "the pidfile" 10 test -s "$state/pid"
  kill -TERM "$pid"
  wait_for "the server to exit" 20 process_gone "$pid"
  local rc=0
  wait "$pid" || rc=$?
  assert_equal "$rc" 0
  assert_file_not_exists "$state/pid"
  assert_file_not_exists "$sock"
  wait_for "no worker left" 10 eval "! pgrep -f -- '$worker' >/dev/null"
}

# --- 11: --mode connection honours the limits ------------------------------------------

@test "--mode connection --max-handlers 2: five connections get two children, the rest wait" {
  spawn_server "$sock" --mode connection --max-handlers 2 -- cat
  hold 5
  wait_for "two children" 10 children_at_least "$SERVER_PID" 2
  sleep 0.5 # a negative check: no third child
  assert_equal "$(child_count "$SERVER_PID")" 2
  release_held
  assert_serving
}

@test "--mode connection --idle-timeout 0.5: an idle connection is closed" {
  spawn_server "$sock" --mode connection --idle-timeout 0.5 -- cat
  run timeout 30 python3 "$client" idle "$sock"
  assert_success
  assert_json '.closed and .seconds >= 0.4 and .seconds < 10'
  assert_serving
}

@test "--mode connection --timeout 0.5: a connection's child lives no longer" {
  spawn_server "$sock" --mode connection --timeout 0.5 -- sleep 30
  run timeout 30 python3 "$client" idle "$sock"
  assert_success
  assert_json '.closed and .seconds >= 0.4 and .seconds < 10'
  wait_for "no child" 10 no_children "$SERVER_PID"
}

@test "--mode connection --max-per-uid 1: a second connection of the same uid gets Overloaded" {
  spawn_server "$sock" --mode connection --max-per-uid 1 -- cat
  hold 1
  wait_for "one child" 10 children_at_least "$SERVER_PID" 1
  run --separate-stderr timeout 20 "$IPCAT" request --timeout 5 "$sock" '{"second":true}'
  assert_failure 1
  assert_json '.type == "Overloaded"'
  release_held
}

# --- 12: supplementary groups ------------------------------------------------------------

@test "--allow-gid admits a peer by a supplementary group (SO_PEERGROUPS)" {
  sock=$shared/s.sock
  spawn_server "$sock" --echo --socket-mode 0666 --allow-gid 4242
  run --separate-stderr timeout 20 setpriv --reuid=65534 --regid=65534 --groups=4242 \
    "$IPCAT" request --timeout 5 "$sock" '{"member":"by --groups"}'
  assert_success
  assert_output '{"member":"by --groups"}'
  run --separate-stderr timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$IPCAT" request --timeout 5 "$sock" '{"member":false}'
  assert_failure 77
}

# --- 13: --ready-fd -----------------------------------------------------------------------

@test "--ready-fd naming the listening socket is a usage error" {
  run --separate-stderr timeout 10 python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen()
os.dup2(s.fileno(), 3)
os.execv(sys.argv[2], [sys.argv[2], "serve", "fd:3", "--ready-fd", "3", "--echo"])' "$sock" "$IPCAT"
  assert_failure 64
  [[ $stderr == *"--ready-fd 3"* ]] || fail "$stderr"
}

# --- 14: smaller ones ----------------------------------------------------------------------

@test "--max-line shorter than the authkey handshake is refused at start" {
  printf 'k3y\n' >"$state/key"
  chmod 600 "$state/key"
  run --separate-stderr timeout 10 "$IPCAT" serve --authkey-file "$state/key" --max-line 100 "$sock" --echo
  assert_failure 64
  [[ $stderr == *"--max-line 100"* ]] || fail "$stderr"
}

@test "--timeout 0 is no limit: request and pool handlers are not killed" {
  spawn_server "$sock" --timeout 0 -- sh -c 'cat >/dev/null; sleep 0.3; echo "{\"slept\":true}"'
  run --separate-stderr timeout 20 "$IPCAT" request --timeout 10 "$sock" '{}'
  assert_success
  assert_output '{"slept":true}'
  stop_tracked
  spawn_server "$sock" --mode pool --workers 1 --timeout 0 -- "$HANDLERS/pool-pid-worker"
  run --separate-stderr timeout 20 "$IPCAT" request --timeout 10 "$sock" '{"pool":1}'
  assert_success
  assert_output --partial '"req":{"pool":1}'
}

@test "--drain 0 is no limit: an in-flight request finishes after SIGTERM" {
  spawn_server "$sock" --drain 0 -- "$HANDLERS/fault-handler" "$state"
  timeout 30 "$IPCAT" request --timeout 20 "$sock" '{"do":"slow"}' >"$state/slow.out" 2>&1 &
  local c=$!
  track_pid "$c"
  wait_for "the handler" 10 test -e "$state/slow.started"
  kill -TERM "$SERVER_PID"
  sleep 0.3 # a negative check: the request is not cut off at once
  process_running "$SERVER_PID"
  touch "$state/release"
  wait_for "the client" 20 process_gone "$c"
  assert_equal "$(cat "$state/slow.out")" '{"do":"slow"}'
}

@test "--max-per-uid -1 is refused, and a range error names no 300-digit number" {
  run --separate-stderr timeout 10 "$IPCAT" serve --max-per-uid -1 "$sock" --echo
  assert_failure 64
  run --separate-stderr timeout 10 "$IPCAT" serve --max-line 0 "$sock" --echo
  assert_failure 64
  ((${#stderr} < 200)) || fail "message of ${#stderr} bytes: $stderr"
  [[ ! $stderr =~ [0-9]{20} ]] || fail "$stderr"
}
