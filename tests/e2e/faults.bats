#!/usr/bin/env bats
# Fault injection against ipcat serve: bad input, bad clients, bad handlers, overload and
# signals. Every case checks the reply or exit status, that the server still answers
# another client, and that nothing leaked: the server's open descriptors are back to
# their count before the fault, it has no child process or zombie left, and the socket
# directory holds nothing but the socket.
# Raw clients are tests/e2e/handlers/fault-client.py; the misbehaving handler is
# tests/e2e/handlers/fault-handler.

load test_helper

setup() {
  run_dir="$BATS_TEST_TMPDIR/run"
  state="$BATS_TEST_TMPDIR/state"
  mkdir -p "$run_dir" "$state"
  sock="$run_dir/s.sock"
  client="$HANDLERS/fault-client.py"
  handler="$HANDLERS/fault-handler"
  LEFTOVER_PIDS=()
}

teardown() {
  stop_tracked
  local pid
  for pid in "${LEFTOVER_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

# --- probes -------------------------------------------------------------------

# zombie_count PID: zombie children of PID.
zombie_count() {
  ps --ppid "$1" -o stat= 2>/dev/null | grep -c '^Z' || true
}

# file_has_lines FILE N: true once FILE exists with at least N lines.
file_has_lines() {
  [ -f "$1" ] && (($(wc -l <"$1") >= $2))
}

# --- server with a baseline ---------------------------------------------------

# start_server ARG...: `ipcat serve $sock ARG...`, one request through it (so that the
# baseline includes what the first request sets up once), then records the baseline:
# BASE_FDS (open descriptors) and BASE_HWM (peak RSS, KiB).
start_server() {
  spawn_server "$sock" "$@"
  # Any reply will do (with --route, this one is NoSuchMethod).
  run --separate-stderr timeout 20 "$IPCAT" request --timeout 15 "$sock" '{"do":"ok","warmup":true}'
  ((status <= 1)) || fail "warm-up request: exit $status: $stderr"
  wait_for "the warm-up handler to finish" 10 no_children "$SERVER_PID"
  BASE_FDS=$(settled_fd_count "$SERVER_PID")
  BASE_HWM=$(kib VmHWM "$SERVER_PID")
}

# assert_serving: another client gets its reply (both --echo and fault-handler echo it).
assert_serving() {
  run --separate-stderr timeout 30 "$IPCAT" request --timeout 20 "$sock" '{"do":"ok","still":"serving"}'
  assert_success
  assert_output '{"do":"ok","still":"serving"}'
}

# assert_no_leaks: within 20 s the server is back to BASE_FDS descriptors (+1 for a
# connection still closing), has no child or zombie, and the socket directory holds
# only the socket.
assert_no_leaks() {
  wait_for "server descriptors back to $BASE_FDS" 20 fds_at_most "$SERVER_PID" "$((BASE_FDS + 1))" || {
    ls -l "/proc/$SERVER_PID/fd" >&2
    fail "server holds $(fd_count "$SERVER_PID") descriptors, $BASE_FDS before"
  }
  wait_for "no child of the server" 20 no_children "$SERVER_PID" || {
    ps --ppid "$SERVER_PID" -o pid=,stat=,args= >&2
    fail "the server has children left"
  }
  assert_equal "$(zombie_count "$SERVER_PID")" 0
  assert_equal "$(ls -A "$run_dir")" "s.sock"
  process_running "$SERVER_PID" || fail "the server is gone"
}

# assert_hwm_grew_less_than KIB: the server's peak RSS grew by less than KIB since start_server.
assert_hwm_grew_less_than() {
  local now
  now=$(kib VmHWM "$SERVER_PID")
  (((now - BASE_HWM) < $1)) || fail "server peak RSS grew by $((now - BASE_HWM)) KiB (limit $1 KiB)"
}

# --- bad input ------------------------------------------------------------------

@test "garbage: 64 KiB of random bytes get one ParseError per line; the server serves on, nothing leaks" {
  start_server --echo
  run python3 "$client" garbage "$sock" 8 65536
  assert_success
  assert_json '.lines > 100 and .types == {"ParseError": .lines}'
  assert_serving
  assert_no_leaks
}

@test "NUL bytes: every line holding a NUL is a ParseError and never reaches the handler" {
  start_server "$handler" "$state"
  run python3 "$client" nul "$sock"
  assert_success
  assert_json '.replies | length == 4 and all(.type == "ParseError")'
  run grep -c . "$state/invocations"
  assert_output 1 # the warm-up request only
  assert_serving
  assert_no_leaks
}

@test "numbers no double can hold (1e400) in requests never take the server down" {
  start_server --echo
  run python3 "$client" lines "$sock" '1e400' '[ 1e400 ]' '{"n": -1e999}' '{"n":1e400}'
  assert_success
  # Each is answered: passed through as given or refused as ParseError.
  assert_json '.replies | length == 4 and all(type != "object" or .type == "ParseError" or has("n"))'
  assert_serving
  assert_no_leaks
}

@test "numbers no double can hold in a routed request or a handler's reply never take the server down" {
  start_server --route "ok=$handler $state ok" --route "overflow=$handler $state overflow"
  run python3 "$client" lines "$sock" '{"method":"ok","n":1e400}' '{"method": "ok", "n": 1e400}' '{"method":"overflow"}'
  assert_success
  assert_json '.replies | length == 3'
  # Passed on as the handler wrote it (man/ipcat.1, PROTOCOL: byte-exact); the
  # Python client reads numbers it cannot hold as their text.
  assert_json '.replies[2] == ["1e400"]'
  run --separate-stderr timeout 30 "$IPCAT" request --timeout 20 "$sock" '{"method":"ok","still":"serving"}'
  assert_success
  assert_output '{"method":"ok","still":"serving"}'
  assert_no_leaks
}

@test "a 100 MiB line is refused at --max-line with LineTooLong, read no further, and not buffered" {
  start_server --echo
  run python3 "$client" bigline "$sock" 100
  assert_success
  assert_json '.reply.type == "LineTooLong" and .reply.limit == 1048576'
  # The server stopped reading soon after the limit (the rest is socket buffers).
  assert_json '.sent < 16 * 1048576 and .error != null'
  assert_hwm_grew_less_than 16384
  assert_serving
  assert_no_leaks
}

@test "10,000 tiny requests pipelined on one connection are all answered, in order" {
  start_server --echo
  run python3 "$client" pipeline "$sock" 10000
  assert_success
  assert_output '{"replies":10000,"in_order":true}'
  assert_serving
  assert_no_leaks
}

@test "a request written one byte at a time is one request, answered once" {
  start_server "$handler" "$state"
  run python3 "$client" bytewise "$sock" '{"do":"ok","bytes":"one at a time"}'
  assert_success
  assert_output '{"reply":"{\"do\":\"ok\",\"bytes\":\"one at a time\"}"}'
  run grep -c 'one at a time' "$state/invocations"
  assert_output 1
  assert_serving
  assert_no_leaks
}

# --- bad clients ----------------------------------------------------------------

@test "client gone mid-request: the partial line is dropped, no handler runs" {
  start_server "$handler" "$state"
  run python3 "$client" partial "$sock" '{"do":"ok","cut":"off'
  assert_success
  assert_no_leaks
  assert_serving
  run grep -c '"cut"' "$state/invocations"
  assert_output 0
}

@test "client gone mid-reply: the failed write closes only that connection (no SIGPIPE death)" {
  start_server --echo --max-line 16777216
  run python3 "$client" midreply "$sock" 8388608
  assert_success
  assert_output '{"first":"{"}'
  assert_serving
  assert_no_leaks
}

@test "client gone while its handler runs: the handler finishes, its reply is discarded" {
  start_server "$handler" "$state"
  run python3 "$client" partial "$sock" $'{"do":"slow","gone":true}\n'
  assert_success
  wait_for "the handler to start" 10 test -e "$state/slow.started"
  touch "$state/release"
  wait_for "the handler to finish" 20 file_has_lines "$state/done" 1
  assert_no_leaks
  assert_serving
}

@test "--idle-timeout: a client that sends nothing, or half a line and no newline, is closed" {
  start_server --echo --idle-timeout 0.5
  run python3 "$client" idle "$sock"
  assert_success
  assert_json '.closed and .seconds >= 0.4 and .seconds < 10 and .data == ""'
  run python3 "$client" idle "$sock" '{"never":"ends'
  assert_success
  assert_json '.closed and .seconds >= 0.4 and .seconds < 10'
  assert_serving
  assert_no_leaks
}

# --- bad handlers ---------------------------------------------------------------

@test "handler dies of SIGSEGV: HandlerFailed with signal 11" {
  start_server "$handler" "$state"
  run --separate-stderr timeout 30 "$IPCAT" request --timeout 20 "$sock" '{"do":"segv"}'
  assert_failure 1
  assert_json '.type == "HandlerFailed" and .signal == 11'
  assert_serving
  assert_no_leaks
}

@test "handler exits 127 (command not found): HandlerFailed with status 127 and the shell's message" {
  start_server "$handler" "$state"
  run --separate-stderr timeout 30 "$IPCAT" request --timeout 20 "$sock" '{"do":"exit127"}'
  assert_failure 1
  assert_json '.type == "HandlerFailed" and .status == 127 and (.stderr | test("not found|No such file"))'
  assert_serving
  assert_no_leaks
}

@test "handler ignores SIGTERM: HandlerTimeout, and it and its grandchild are KILLed after the grace" {
  # The grace is --kill-after (default 2 s; shortened here, the suite's time).
  start_server --timeout 0.5 --kill-after 0.7 "$handler" "$state"
  local start_ms
  start_ms=$(date +%s%3N)
  run --separate-stderr timeout 30 "$IPCAT" request --timeout 20 "$sock" '{"do":"ignore-term"}'
  assert_failure 1
  assert_json '.type == "HandlerTimeout"'
  # TERM at 0.5 s was ignored; KILL came after the 0.7 s grace.
  local took=$(($(date +%s%3N) - start_ms))
  ((took >= 1200)) || fail "answered after $took ms, before the KILL grace"
  local pid
  for pid in $(cat "$state/ignore-term.pids"); do
    LEFTOVER_PIDS+=("$pid")
    wait_for "pid $pid killed" 10 process_gone "$pid"
  done
  assert_serving
  assert_no_leaks
}

@test "handler prints 100 MiB: cut at --max-output with BadHandlerOutput, not buffered" {
  start_server "$handler" "$state"
  run --separate-stderr timeout 60 "$IPCAT" request --timeout 50 "$sock" '{"do":"flood"}'
  assert_failure 1
  assert_json '.type == "BadHandlerOutput" and .limit == 1048576'
  assert_hwm_grew_less_than 16384
  assert_serving
  assert_no_leaks
}

@test "handler closes stdout and keeps running: HandlerTimeout, and it is killed" {
  start_server --timeout 1 "$handler" "$state"
  run --separate-stderr timeout 30 "$IPCAT" request --timeout 20 "$sock" '{"do":"close-stdout"}'
  assert_failure 1
  assert_json '.type == "HandlerTimeout"'
  LEFTOVER_PIDS+=("$(cat "$state/close-stdout.pid")")
  wait_for "the handler killed" 10 process_gone "$(cat "$state/close-stdout.pid")"
  assert_serving
  assert_no_leaks
}

@test "handler leaves a grandchild holding stdout: the reply comes at once, the grandchild is killed" {
  start_server --timeout 20 "$handler" "$state"
  run --separate-stderr timeout 30 "$IPCAT" request --timeout 10 "$sock" '{"do":"grandchild"}'
  assert_success
  assert_output '{"left":"grandchild"}'
  LEFTOVER_PIDS+=("$(cat "$state/grandchild.pid")")
  wait_for "the grandchild killed" 10 process_gone "$(cat "$state/grandchild.pid")"
  assert_serving
  assert_no_leaks
}

@test "handler leaves a grandchild in its own session holding stdout: the reply comes at --timeout" {
  start_server --timeout 1 "$handler" "$state"
  local start=$EPOCHREALTIME
  run --separate-stderr timeout 30 "$IPCAT" request --timeout 20 "$sock" '{"do":"setsid-grandchild"}'
  LEFTOVER_PIDS+=("$(cat "$state/setsid-grandchild.pid")")
  assert_success
  assert_output '{"left":"setsid-grandchild"}'
  # The server waited for EOF on the handler's stdout until --timeout, then let go.
  awk -v s="$start" -v e="$EPOCHREALTIME" 'BEGIN { exit !(e - s >= 0.9) }' ||
    fail "the reply came before --timeout: did the grandchild not hold the pipe?"
  # It escaped the handler's process group, so the server cannot kill it; it must
  # only not hold the server's pipes: they were closed at --timeout.
  process_running "$(cat "$state/setsid-grandchild.pid")"
  assert_serving
  assert_no_leaks
}

@test "handler never reads stdin (request larger than a pipe): its reply still comes, no SIGPIPE death" {
  start_server "$handler" "$state" no-stdin
  printf '{"do":"ok","pad":"%s"}\n' "$(head -c 524288 /dev/zero | tr '\0' p)" >"$BATS_TEST_TMPDIR/big"
  run --separate-stderr timeout 30 "$IPCAT" request --timeout 20 "$sock" <"$BATS_TEST_TMPDIR/big"
  assert_success
  assert_output '{"read":false}'
  run --separate-stderr timeout 30 "$IPCAT" request --timeout 20 "$sock" '{}'
  assert_output '{"read":false}'
  assert_no_leaks
}

# --- overload -------------------------------------------------------------------

@test "2,000 connections held open while other requests are still served; all released after" {
  local want=4300
  if (($(ulimit -n) < want)); then
    ulimit -n "$want" 2>/dev/null || skip "needs 'ulimit -n $want' (hard limit $(ulimit -Hn))"
  fi
  # One uid holds them all: --max-connections-per-uid (256 by default) is lifted.
  start_server --echo --max-connections 4096 --max-connections-per-uid 0
  python3 "$client" hold "$sock" 2000 "$state/ready" "$state/release" >"$state/hold.out" &
  local holder=$!
  track_pid "$holder"
  wait_for "2000 connections" 60 test -e "$state/ready"
  assert_equal "$(cat "$state/ready")" 2000
  wait_for "the server to accept all 2000" 30 fds_at_least "$SERVER_PID" "$((BASE_FDS + 2000))"
  local i
  for i in 1 2 3; do assert_serving; done
  touch "$state/release"
  wait_for "the holder to finish" 30 process_gone "$holder"
  assert_no_leaks
  assert_serving
}

@test "--max-connections 2: a third client waits in the backlog, then is served" {
  start_server --echo --max-connections 2
  python3 "$client" hold "$sock" 2 "$state/ready" "$state/release" >/dev/null &
  local holder=$!
  track_pid "$holder"
  wait_for "2 connections" 10 test -e "$state/ready"
  wait_for "the server to accept both" 10 fds_at_least "$SERVER_PID" "$((BASE_FDS + 2))"
  timeout 40 "$IPCAT" request --timeout 30 "$sock" '{"third":true}' >"$state/third.out" 2>&1 &
  local third=$!
  track_pid "$third"
  # A negative check needs a moment: the third client must not be served yet.
  sleep 0.5
  process_running "$third" || fail "the third client finished while both slots were taken: $(cat "$state/third.out")"
  assert_equal "$(fd_count "$SERVER_PID")" "$((BASE_FDS + 2))"
  touch "$state/release"
  wait_for "the third client served" 20 process_gone "$third"
  wait "$third"
  assert_equal "$(cat "$state/third.out")" '{"third":true}'
  assert_serving
  assert_no_leaks
}

# --- signals --------------------------------------------------------------------

@test "SIGTERM under load: in-flight requests finish, new clients are refused, socket removed, exit 0" {
  start_server --drain 10 "$handler" "$state"
  timeout 40 "$IPCAT" request --timeout 30 "$sock" '{"do":"slow","inflight":true}' >"$state/slow.out" 2>&1 &
  local slow=$!
  track_pid "$slow"
  wait_for "the slow request to start" 10 test -e "$state/slow.started"
  python3 "$client" load "$sock" 8 "$state/ready" >"$state/load.out" &
  local load=$!
  track_pid "$load"
  wait_for "load running" 20 test -e "$state/ready"

  kill -TERM "$SERVER_PID"
  local start=$SECONDS
  wait_for "the socket removed" 10 test ! -e "$sock"
  run --separate-stderr timeout 20 "$IPCAT" request --timeout 2 --retries 0 "$sock" '{"do":"ok"}'
  assert_failure
  [[ $status == 66 || $status == 69 ]] || fail "a new client got exit $status, not 66 or 69"
  process_running "$SERVER_PID" || fail "the server left before its in-flight request finished"

  touch "$state/release"
  wait_for "the server to exit" 15 process_gone "$SERVER_PID"
  local rc=0
  wait "$SERVER_PID" || rc=$?
  assert_equal "$rc" 0
  ((SECONDS - start < 10)) || fail "exit took $((SECONDS - start)) s, longer than --drain"
  wait_for "the slow client to finish" 10 process_gone "$slow"
  assert_equal "$(cat "$state/slow.out")" '{"do":"slow","inflight":true}'
  wait_for "the load to finish" 20 process_gone "$load"
  # Every request sent got its reply or ShuttingDown; at most the last one per
  # connection met an already closed connection.
  assert_json '.lost == 0 and (.types | keys - ["<reply>", "ShuttingDown"] == []) and .types["<reply>"] >= 20' \
    "$(cat "$state/load.out")"
  assert_equal "$(ls -A "$run_dir")" ""
  # No handler outlived the server.
  run pgrep -f -- "$state"
  assert_failure 1
}

@test "SIGKILL leaves a stale socket (and nothing else); the next server replaces it" {
  start_server --echo
  kill -KILL "$SERVER_PID"
  wait_for "the server gone" 10 process_gone "$SERVER_PID"
  wait "$SERVER_PID" || true
  assert_equal "$(ls -A "$run_dir")" "s.sock"
  run --separate-stderr timeout 20 "$IPCAT" request --timeout 2 --retries 0 "$sock" '{}'
  assert_failure 69
  TRACKED_PIDS=()
  start_server --echo
  assert_serving
  assert_no_leaks
  stop_tracked
  assert_equal "$(ls -A "$run_dir")" ""
}

# --- soak -----------------------------------------------------------------------

@test "after 10,000 mixed requests (ok, failing, timing out) descriptors and RSS are back near the start" {
  start_server --timeout 0.5 --max-handlers 16 \
    --route ok=/bin/cat --route fail=/bin/false --route "slow=sleep 30"
  # Warm up with the same load shape (10 connections, each deep enough to reach the
  # per-connection backpressure limit), then take the baseline: the first burst grows
  # the heap (RSS ~9 -> ~18 MB here) and malloc keeps it; a leak grows with every burst.
  run python3 "$client" mixed "$sock" 3000 10
  assert_success
  wait_for "descriptors to settle" 20 fds_at_most "$SERVER_PID" "$BASE_FDS"
  wait_for "handlers to finish" 20 no_children "$SERVER_PID"
  local rss_before
  rss_before=$(kib VmRSS "$SERVER_PID")

  run python3 "$client" mixed "$sock" 10000 10
  assert_success
  assert_json '.types == {"<reply>": 8000, "HandlerFailed": 1980, "HandlerTimeout": 20}'
  assert_no_leaks
  local rss_after
  rss_after=$(kib VmRSS "$SERVER_PID")
  echo "# VmRSS ${rss_before} KiB -> ${rss_after} KiB" >&3
  # Under AddressSanitizer freed memory sits in its quarantine (256 MB by default), so
  # RSS says nothing there; LeakSanitizer checks for leaks at exit instead.
  if ! grep -q libasan "/proc/$SERVER_PID/maps"; then
    ((rss_after - rss_before < 4096)) || fail "RSS grew from $rss_before KiB to $rss_after KiB"
  fi
  run --separate-stderr timeout 30 "$IPCAT" request --timeout 20 "$sock" '{"method":"ok","still":"serving"}'
  assert_success
  assert_output '{"method":"ok","still":"serving"}'
}
