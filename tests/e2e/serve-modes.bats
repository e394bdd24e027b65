#!/usr/bin/env bats
# ipcat serve --mode connection / --mode pool / --route (issue 5).

load test_helper

setup() {
  sock="$BATS_TEST_TMPDIR/s.sock"
  log="$BATS_TEST_TMPDIR/serve.log"
  handlers="$BATS_TEST_DIRNAME/handlers"
}

teardown() {
  if [ -n "${server_pid:-}" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}

# children_at_least PID N: true when PID has N or more child processes.
children_at_least() {
  (($(pgrep -c -P "$1") >= $2))
}

# start_server ARGS...: ipcat serve ARGS in the background, waits until it accepts.
start_server() {
  "$IPCAT" serve "$@" 2>"$log" 3>&- &
  server_pid=$!
  wait_for "server on $sock" 20 socket_accepts "$sock"
}

@test "connection mode: the child streams both ways and sees the client's EOF" {
  start_server "$sock" --mode connection -- sh -c 'echo hello; cat; echo "bye $PROTO $IPCAT_CONNECTION"'
  run timeout 20 socat - "UNIX-CONNECT:$sock" <<<$'x\ny'
  assert_success
  assert_output --regexp $'^hello\nx\ny\nbye UNIX [0-9]+$'
}

@test "connection mode: the client sees EOF after the child's last output, without sending EOF" {
  start_server "$sock" --mode connection -- sh -c 'echo one; echo two'
  # socat -t: keep reading after our stdin ends; the child's exit must end the session.
  run timeout 20 socat -t 30 - "UNIX-CONNECT:$sock" </dev/null
  assert_success
  assert_output $'one\ntwo'
}

@test "connection mode: --max-connections 1 makes the second client wait, then serves it" {
  go="$BATS_TEST_TMPDIR/go"
  start_server "$sock" --mode connection --max-connections 1 -- \
    sh -c "while [ ! -e '$go' ]; do sleep 0.01; done; read line; echo got \$line"
  timeout 30 socat -t 30 - "UNIX-CONNECT:$sock" <<<"first" >"$BATS_TEST_TMPDIR/out1" 3>&- &
  first=$!
  wait_for "first child" 10 pgrep -P "$server_pid" sh
  timeout 30 socat -t 30 - "UNIX-CONNECT:$sock" <<<"second" >"$BATS_TEST_TMPDIR/out2" 3>&- &
  second=$!
  # While the first holds the only slot, the second is not accepted: no second child
  # for a second, counted afresh at each poll. (A bare `! cmd` never fails a bats test.)
  run ! wait_for "a second child" 1 children_at_least "$server_pid" 2
  touch "$go"
  wait "$first"
  wait "$second"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/out1")" "got first"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/out2")" "got second"
}

@test "pool: 2 workers answer 100 pipelined requests from 4 connections in per-connection order" {
  start_server "$sock" --mode pool --workers 2 -- "$handlers/pool-pid-worker"
  clients=()
  for c in 1 2 3 4; do
    for i in $(seq 1 25); do echo "{\"c\":$c,\"i\":$i}"; done >"$BATS_TEST_TMPDIR/in$c"
    timeout 30 "$IPCAT" request "$sock" <"$BATS_TEST_TMPDIR/in$c" >"$BATS_TEST_TMPDIR/out$c" 3>&- &
    clients+=($!)
  done
  for p in "${clients[@]}"; do wait "$p"; done
  for c in 1 2 3 4; do
    # Each reply carries its request: the order per connection must be the sent order.
    run jq -c .req "$BATS_TEST_TMPDIR/out$c"
    assert_output "$(cat "$BATS_TEST_TMPDIR/in$c")"
  done
  pids=$(cat "$BATS_TEST_TMPDIR"/out? | jq .pid | sort -u | wc -l)
  # (Not `[ a ] && [ b ]`: set -e ignores a failure before the last && of a list.)
  ((pids >= 1 && pids <= 2)) || fail "$pids distinct worker pids, expected 1 or 2"
  workers=$(cat "$BATS_TEST_TMPDIR"/out? | jq .worker | sort -u | tr '\n' ' ')
  [[ "$workers" == "0 "* || "$workers" == "1 " ]]
}

@test "pool: a worker that exits after 3 requests is replaced and only the in-flight request fails" {
  start_server "$sock" --mode pool --workers 1 -- "$handlers/pool-dies-after-3"
  run timeout 30 "$IPCAT" request "$sock" <<<$'1\n2\n3\n4\n5\n6'
  assert_equal "$status" 1
  assert_equal "${#lines[@]}" 6
  first_pid=$(jq -r .pid <<<"${lines[0]}")
  for i in 0 1 2; do assert_equal "$(jq -c '[.pid,.n]' <<<"${lines[$i]}")" "[$first_pid,$((i + 1))]"; done
  assert_equal "$(jq -r .type <<<"${lines[3]}")" "HandlerFailed"
  assert_equal "$(jq -c .n <<<"${lines[4]}")" 1
  assert_equal "$(jq -c .n <<<"${lines[5]}")" 2
  [ "$(jq -r .pid <<<"${lines[4]}")" != "$first_pid" ]
  grep -q worker_exited "$log"
}

@test "pool: a worker that exits after each answer loses no request (one sent as it exits goes to its successor)" {
  start_server "$sock" -v --mode pool --workers 1 -- "$handlers/pool-exits-after-answer"
  # Pipelined: each request is handed to the worker as soon as it has answered the
  # last, before the server has seen it exit; unread (or refused with EPIPE), the
  # request is put back for its successor.
  run timeout 30 "$IPCAT" request "$sock" < <(seq 1 10)
  assert_success
  assert_output "$(seq 1 10)"
  ! grep -q "outcome=HandlerFailed" "$log"
}

@test "pool: a worker printing garbage gets BadHandlerOutput and is replaced" {
  start_server "$sock" --mode pool --workers 1 -- "$handlers/pool-garbage-on-bad"
  run timeout 30 "$IPCAT" request "$sock" <<<$'1\n"bad"\n3'
  assert_equal "$status" 1
  assert_equal "$(jq -r .type <<<"${lines[1]}")" "BadHandlerOutput"
  assert_equal "$(jq -c .ok <<<"${lines[0]}")" 1
  assert_equal "$(jq -c .ok <<<"${lines[2]}")" 3
  [ "$(jq .pid <<<"${lines[0]}")" != "$(jq .pid <<<"${lines[2]}")" ]
}

@test "pool: --timeout answers HandlerTimeout, kills the worker's group and restarts it" {
  export SLOW_PIDFILE="$BATS_TEST_TMPDIR/slow.pid"
  start_server "$sock" --mode pool --workers 1 --timeout 0.5 -- "$handlers/pool-slow-on-slow"
  run timeout 30 "$IPCAT" request --timeout 20 "$sock" <<<$'1\n"slow"\n3'
  assert_equal "$status" 1
  assert_equal "$(jq -r .type <<<"${lines[1]}")" "HandlerTimeout"
  assert_equal "$(jq -c .ok <<<"${lines[2]}")" 3
  # The worker's "sleep 1000" went with its process group.
  slow=$(cat "$SLOW_PIDFILE")
  wait_for "sleep $slow killed" 10 bash -c "! kill -0 $slow"
}

@test "pool: --max-queue answers Overloaded beyond the queue" {
  start_server "$sock" -v --mode pool --workers 1 --max-queue 1 -- "$handlers/pool-waits-for-go" "$BATS_TEST_TMPDIR/go"
  timeout 30 "$IPCAT" request --timeout 20 "$sock" <<<$'1\n2\n3' >"$BATS_TEST_TMPDIR/out" 3>&- &
  client=$!
  # Request 1 is with the worker, 2 waits in the queue, 3 finds the queue full.
  wait_for "third request read" 10 grep -Eq "request connection=[0-9]+ request=3" "$log"
  touch "$BATS_TEST_TMPDIR/go"
  wait "$client" || true
  run cat "$BATS_TEST_TMPDIR/out"
  assert_line --index 0 1
  assert_line --index 1 2
  assert_equal "$(jq -r .type <<<"${lines[2]}")" "Overloaded"
  assert_equal "$(jq -r .limit <<<"${lines[2]}")" 1
}

@test "pool: workers that keep dying at start fail requests instead of hanging, and say so" {
  start_server "$sock" --mode pool --workers 1 -- sh -c 'exit 3'
  run timeout 30 "$IPCAT" request --timeout 20 "$sock" '{"a":1}'
  assert_equal "$status" 1
  assert_equal "$(jq -r .type <<<"$output")" "HandlerFailed"
  grep -q "worker_exited.*exit status 3" "$log"
}

@test "pool: workers get IPCAT_WORKER and stop with the server" {
  start_server "$sock" --mode pool --workers 2 -- "$handlers/pool-pid-worker"
  run timeout 20 "$IPCAT" request "$sock" '{"x":1}'
  assert_success
  pid=$(jq .pid <<<"$output")
  kill -TERM "$server_pid"
  wait "$server_pid"
  server_pid=
  run kill -0 "$pid"
  assert_failure
  assert_not_exists "$sock"
}

@test "routing: two methods dispatch to their commands, unknown and missing methods get NoSuchMethod" {
  printf '#!/bin/sh\nread r\necho "{\\"state\\":\\"up\\"}"\n' >"$BATS_TEST_TMPDIR/status.sh"
  chmod +x "$BATS_TEST_TMPDIR/status.sh"
  start_server "$sock" --route "status=$BATS_TEST_TMPDIR/status.sh" --route 'restart=jq -c {restarted:.method}'
  run "$IPCAT" request "$sock" method=status
  assert_success
  assert_output '{"state":"up"}'
  run "$IPCAT" request "$sock" method=restart
  assert_success
  assert_output '{"restarted":"restart"}'
  run "$IPCAT" request "$sock" method=reboot
  assert_equal "$status" 1
  assert_equal "$(jq -r .type <<<"$output")" "NoSuchMethod"
  assert_output --partial 'no such method \"reboot\"; available: restart, status'
  run "$IPCAT" request "$sock" '{"cmd":"status"}'
  assert_equal "$status" 1
  assert_equal "$(jq -r .type <<<"$output")" "NoSuchMethod"
}

@test "routing: --route-key picks the field, and routes work in pool mode" {
  start_server "$sock" --mode pool --workers 1 --route-key cmd --route "a=$handlers/pool-pid-worker" --route 'b=cat'
  run "$IPCAT" request "$sock" cmd=b x:=1
  assert_success
  assert_output '{"cmd":"b","x":1}'
  run "$IPCAT" request "$sock" cmd=a
  assert_success
  assert_equal "$(jq -c .req <<<"$output")" '{"cmd":"a"}'
}

@test "usage: conflicting handler sources and bad routes are exit 64" {
  run "$IPCAT" serve "$sock" --echo -- cat
  assert_equal "$status" 64
  run "$IPCAT" serve "$sock" --route nocommand
  assert_equal "$status" 64
  run "$IPCAT" serve "$sock" --mode connection --echo
  assert_equal "$status" 64
  run "$IPCAT" serve "$sock" --workers 2 -- cat
  assert_equal "$status" 64
  assert_not_exists "$sock"
}

# --- what the operator sees in pool mode (man/ipcat.1, ipcat serve, LOG) ---------

# A pool worker for these tests: echoes each line, except "die" (a traceback on
# stderr, exit 4), "kill" (killed by SIGKILL), "silent" (answers nothing), "partial"
# (half a line, no newline), "debug" (a line that is not JSON), "hang" (sleeps).
pool_worker() {
  cat >"$BATS_TEST_TMPDIR/worker" <<'SH'
#!/bin/sh
echo "worker $IPCAT_WORKER up" >&2
while IFS= read -r line; do
  case $line in
    *die*) echo "Traceback (most recent call last):" >&2; echo "ValueError: boom" >&2; exit 4 ;;
    *kill*) echo "about to be killed" >&2; kill -KILL $$ ;;
    *silent*) ;;
    *partial*) printf '{"half":' ;;
    *debug*) echo "debug printed" >&2; echo "DEBUG: got $line" ;;
    *hang*) echo $$ >"$HANG_PIDFILE"; sleep 30 ;;
    *) printf '%s\n' "$line" ;;
  esac
done
SH
  chmod +x "$BATS_TEST_TMPDIR/worker"
  echo "$BATS_TEST_TMPDIR/worker"
}

@test "pool: a dying worker's HandlerFailed has its status or signal and stderr tail, as in request mode" {
  start_server "$sock" --mode pool --workers 1 -- "$(pool_worker)"
  run timeout 30 "$IPCAT" request "$sock" '"die"'
  assert_equal "$status" 1
  assert_json '.type == "HandlerFailed" and .error == "worker exit status 4 while handling the request" and .status == 4'
  assert_json '.stderr | endswith("Traceback (most recent call last):\nValueError: boom")'
  run timeout 30 "$IPCAT" request "$sock" '"kill"'
  assert_equal "$status" 1
  assert_json '.type == "HandlerFailed" and .signal == 9 and (has("status") | not) and (.stderr | endswith("about to be killed"))'
  # The log: each failed request, and the worker's stderr line by line.
  wait_for "two failures logged" 10 bash -c '[ "$(grep -c "error: request_done .*outcome=HandlerFailed" "$1")" -ge 2 ]' _ "$log"
  grep -Eq 'error: request_done connection=[0-9]+ request=1 handler_pid=[0-9]+ ms=[0-9.]+ outcome=HandlerFailed status=4 .*stderr=".*ValueError: boom"' "$log"
  grep -Eq 'error: request_done .*outcome=HandlerFailed signal=9 ' "$log"
  grep -Eq 'worker_stderr pool=default worker=0 worker_pid=[0-9]+ line="ValueError: boom"' "$log"
}

@test "pool: a worker that does not flush gets HandlerTimeout saying so, in the one duration format" {
  start_server "$sock" --mode pool --workers 1 --timeout 1 -- "$(pool_worker)"
  run timeout 30 "$IPCAT" request --timeout 20 "$sock" '"silent"'
  assert_equal "$status" 1
  assert_json '.type == "HandlerTimeout" and .limit == 1'
  assert_json '.error == "worker timed out after 1 s and was restarted; it wrote nothing: a worker must write one line per request and flush it"'
  assert_json '.stderr == "worker 0 up"'
  run timeout 30 "$IPCAT" request --timeout 20 "$sock" '"partial"'
  assert_json '.type == "HandlerTimeout" and (.error | endswith("; it wrote 8 bytes without a newline"))'
  # The worker was restarted: the next request is answered.
  run timeout 30 "$IPCAT" request --timeout 20 "$sock" '{"after":1}'
  assert_success
  assert_output '{"after":1}'
}

@test "pool: a worker line that is not JSON is quoted in BadHandlerOutput, with the stderr tail" {
  start_server "$sock" --mode pool --workers 1 -- "$(pool_worker)"
  run timeout 30 "$IPCAT" request "$sock" '"debug"'
  assert_equal "$status" 1
  assert_json '.type == "BadHandlerOutput" and .output == "DEBUG: got \"debug\"" and (.stderr | endswith("debug printed"))'
  wait_for "the failure logged" 10 grep -q 'error: request_done .*outcome=BadHandlerOutput .*output="DEBUG: got' "$log"
}

@test "pool: --cancel-on-disconnect stops the worker of an abandoned request and restarts it" {
  export HANG_PIDFILE="$BATS_TEST_TMPDIR/hang.pid"
  start_server "$sock" --mode pool --workers 1 --cancel-on-disconnect -- "$(pool_worker)"
  run timeout 30 "$IPCAT" request --timeout 0.5 --retries 0 "$sock" '"hang"'
  assert_equal "$status" 75
  wait_for "the worker to take it" 10 test -s "$HANG_PIDFILE"
  worker=$(cat "$HANG_PIDFILE")
  wait_for "the worker to be stopped" 10 process_gone "$worker"
  wait_for "the cancellation logged" 10 grep -Eq "request_done connection=[0-9]+ request=1 handler_pid=$worker ms=[0-9.]+ outcome=cancelled" "$log"
  run timeout 30 "$IPCAT" request --timeout 20 "$sock" '{"next":1}'
  assert_success
  assert_output '{"next":1}'
}

@test "routing: the log names each request's method (NoSuchMethod too); stopped has per-route counts and percentiles" {
  start_server "$sock" --route 'a=cat' --route 'b=cat' --route 'never=cat'
  for body in '{"method":"a"}' '{"method":"a"}' '{"method":"b"}' '{"method":"nope"}'; do
    timeout 20 "$IPCAT" request "$sock" "$body" >/dev/null || true
  done
  wait_for "four requests logged" 10 bash -c '[ "$(grep -c request_done "$1")" -ge 4 ]' _ "$log"
  assert_equal "$(grep -c 'request_done .*method=a handler_pid=[0-9]* ms=[0-9.]* outcome=ok status=0$' "$log")" 2
  grep -q 'request_done .*method=nope ms=[0-9.]* outcome=NoSuchMethod error="no such method \\"nope\\"; available: a, b, never"$' "$log"
  kill -TERM "$server_pid"
  wait "$server_pid"
  server_pid=
  run grep 'stopped' "$log"
  assert_output --regexp ' requests=4 ok=3 errors=1 notify=0 cancelled=0 p50_ms=[0-9.]+ p99_ms=[0-9.]+ routes\.a\.requests=2 routes\.a\.errors=0 routes\.a\.p50_ms=[0-9.]+ routes\.a\.p99_ms=[0-9.]+ routes\.b\.requests=1 .* routes\.never\.requests=0 routes\.never\.errors=0$'
}
