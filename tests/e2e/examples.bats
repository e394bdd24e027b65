#!/usr/bin/env bats
# Every example in examples/ run as a user would run it (IPCAT points the scripts
# at the binary under test), so that none of them can rot.

load test_helper

ROOT=${IPCAT_SOURCE_DIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
EXAMPLES=$ROOT/examples

setup() {
  sock=$BATS_TEST_TMPDIR/app.sock
}

teardown() {
  stop_tracked
}

# start_daemon SCRIPT ARG...: runs an example daemon in the background (stderr kept in
# $BATS_TEST_TMPDIR/daemon.err), tracked for teardown; sets DAEMON_PID.
start_daemon() {
  "$@" </dev/null >"$BATS_TEST_TMPDIR/daemon.out" 2>"$BATS_TEST_TMPDIR/daemon.err" 3>&- &
  DAEMON_PID=$!
  track_pid "$DAEMON_PID"
}

# --- echo-daemon ---------------------------------------------------------------

@test "echo-daemon: run.sh serves handler.sh; replies carry the request, the peer's uid and request numbers" {
  start_daemon "$EXAMPLES/echo-daemon/run.sh" "$sock"
  wait_for "echo-daemon on $sock" 10 socket_accepts "$sock"

  run timeout 20 "$IPCAT" request "$sock" hello=world
  assert_success
  assert_json ".echo == {\"hello\":\"world\"} and .peer_uid == $(id -u) and .connection >= 1 and .request == 1"

  # Two requests pipelined over one connection: numbered 1 and 2, answered in order.
  run timeout 20 "$IPCAT" request "$sock" < <(printf '{"n":1}\n{"n":2}\n')
  assert_success
  assert_equal "${#lines[@]}" 2
  assert_json '.echo.n == 1 and .request == 1' "${lines[0]}"
  assert_json '.echo.n == 2 and .request == 2' "${lines[1]}"
}

@test "echo-daemon: SIGTERM stops it with status 0 and removes the socket" {
  start_daemon "$EXAMPLES/echo-daemon/run.sh" "$sock"
  wait_for "echo-daemon on $sock" 10 socket_accepts "$sock"
  local status=0
  stop_pid "$DAEMON_PID" || status=$?
  assert_equal "$status" 0
  assert_not_exist "$sock"
}

# --- json-rpc ------------------------------------------------------------------

@test "json-rpc: status (jq) and restart (Python) share state through STATE_DIR" {
  STATE_DIR=$BATS_TEST_TMPDIR/state start_daemon "$EXAMPLES/json-rpc/run.sh" "$sock"
  wait_for "json-rpc on $sock" 10 socket_accepts "$sock"

  run timeout 20 "$IPCAT" request "$sock" method=status
  assert_success
  assert_output '{"services":{"web":0,"worker":0}}'

  run timeout 20 "$IPCAT" request "$sock" method=restart service=web
  assert_success
  assert_output '{"service":"web","restarted":true,"restarts":1}'
  run timeout 20 "$IPCAT" request "$sock" method=restart service=web
  assert_output '{"service":"web","restarted":true,"restarts":2}'

  run timeout 20 "$IPCAT" request "$sock" method=status service=web
  assert_success
  assert_output '{"service":"web","state":"running","restarts":2}'
}

@test "json-rpc: concurrent restarts are all counted (the handler locks its state)" {
  STATE_DIR=$BATS_TEST_TMPDIR/state start_daemon "$EXAMPLES/json-rpc/run.sh" "$sock"
  wait_for "json-rpc on $sock" 10 socket_accepts "$sock"
  local i clients=()
  for i in 1 2 3 4 5 6; do
    timeout 20 "$IPCAT" request -q "$sock" method=restart service=worker &
    clients+=($!)
  done
  for i in "${clients[@]}"; do
    wait "$i" || fail "a restart request failed"
  done
  run timeout 20 "$IPCAT" request "$sock" method=status service=worker
  assert_output '{"service":"worker","state":"running","restarts":6}'
}

@test "json-rpc: an unknown method is NoSuchMethod and an unknown service NoSuchService, both exit 1" {
  STATE_DIR=$BATS_TEST_TMPDIR/state start_daemon "$EXAMPLES/json-rpc/run.sh" "$sock"
  wait_for "json-rpc on $sock" 10 socket_accepts "$sock"

  run timeout 20 "$IPCAT" request "$sock" method=stop
  assert_failure 1
  assert_json '.type == "NoSuchMethod" and (.error | contains("restart")) and (.error | contains("status"))'

  run timeout 20 "$IPCAT" request "$sock" method=restart service=db
  assert_failure 1
  assert_json '.type == "NoSuchService" and .service == "db"'

  run timeout 20 "$IPCAT" request "$sock" method=status service=db
  assert_failure 1
  assert_json '.type == "NoSuchService"'
}

# --- health-check --------------------------------------------------------------

@test "health-check: probe.sh exits 0 against a live daemon, reading no stdin and printing nothing" {
  start_daemon "$IPCAT" serve "$sock" --echo
  wait_for "daemon on $sock" 10 socket_accepts "$sock"
  # A closed stdin, as Docker gives a probe: nothing may be read from it.
  run timeout 10 "$EXAMPLES/health-check/probe.sh" "$sock" <&-
  assert_success
  assert_output ""
}

@test "health-check: probe.sh fails within about a second when the daemon is gone or stuck" {
  # Gone: no socket at all (66: nobody there, said rather than "timed out").
  local start=$SECONDS
  run timeout 10 "$EXAMPLES/health-check/probe.sh" "$sock" </dev/null
  assert_failure 66
  [[ $((SECONDS - start)) -le 3 ]] || fail "the probe took $((SECONDS - start)) s"

  # Stuck: the daemon accepts but its handler never answers in time.
  start_daemon "$IPCAT" serve "$sock" --drain 0.5 -- sleep 20
  wait_for "daemon on $sock" 10 socket_accepts "$sock"
  start=$SECONDS
  run timeout 10 "$EXAMPLES/health-check/probe.sh" "$sock" </dev/null
  assert_failure 75
  [[ $((SECONDS - start)) -le 3 ]] || fail "the probe took $((SECONDS - start)) s"
  [[ ${#output} -lt 4096 ]]
}

@test "health-check: probe.sh runs exactly the Dockerfile's HEALTHCHECK command" {
  local health probe
  # Each image's HEALTHCHECK (runtime, minimal), past the binary's path: all the same.
  health=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$ROOT/Dockerfile" | sed -nE 's/^HEALTHCHECK .* CMD (\[.*\])$/\1/p' |
    jq -c '.[1:]' | sort -u)
  # probe.sh's exec line, with the script's variables put back to the defaults.
  probe=$(grep -E '^exec ' "$EXAMPLES/health-check/probe.sh")
  [[ $probe == *'"${1:-/run/app/control.sock}"'* ]] || fail "probe.sh does not default to /run/app/control.sock"
  probe=${probe//'"${1:-/run/app/control.sock}"'/\/run\/app\/control.sock}
  eval "set -- ${probe#exec \"\$\{IPCAT:-ipcat\}\" }"
  assert_equal "$(printf '%s\n' "$@" | jq -R . | jq -sc .)" "$health"
}

# --- fifo-pipeline -------------------------------------------------------------

@test "fifo-pipeline: two producers, one consumer: every job arrives whole, exactly once" {
  local fifo=$BATS_TEST_TMPDIR/jobs out=$BATS_TEST_TMPDIR/consumer.out
  "$EXAMPLES/fifo-pipeline/consumer.sh" "$fifo" 5 >"$out" 2>"$BATS_TEST_TMPDIR/consumer.err" &
  local consumer=$!
  track_pid "$consumer"
  wait_for "the consumer's FIFO" 10 test -p "$fifo"

  timeout 30 "$EXAMPLES/fifo-pipeline/producer.sh" "$fifo" 20 alice &
  local alice=$!
  run timeout 30 "$EXAMPLES/fifo-pipeline/producer.sh" "$fifo" 20 bob
  assert_success
  wait "$alice"

  # The consumer stops by itself after 5 idle seconds.
  wait_for "the consumer to finish" 30 process_gone "$consumer"
  wait "$consumer"
  run sort "$out"
  assert_equal "${#lines[@]}" 40
  local i name
  for name in alice bob; do
    for ((i = 1; i <= 20; i++)); do
      assert_equal "$(grep -cxF "done: $name job $i: resize photo-$i.jpg" "$out")" 1
    done
  done
  # The FIFO stays: it is the meeting point.
  [ -p "$fifo" ]
}

# --- systemd -------------------------------------------------------------------

# unit_value FILE KEY: the value of KEY= in a unit file.
unit_value() {
  sed -nE "s/^$2=(.*)$/\1/p" "$1"
}

@test "systemd: both units pass systemd-analyze verify" {
  command -v systemd-analyze || skip "systemd-analyze is not installed"
  local dir=$BATS_TEST_TMPDIR/units
  mkdir -p "$dir"
  cp "$EXAMPLES/systemd/ipcat-demo.socket" "$dir/"
  # The binary under test instead of /usr/bin/ipcat, which verify checks exists.
  sed "s|^ExecStart=/usr/bin/ipcat |ExecStart=$IPCAT |" "$EXAMPLES/systemd/ipcat-demo.service" >"$dir/ipcat-demo.service"
  grep -q "^ExecStart=$IPCAT " "$dir/ipcat-demo.service" || fail "ExecStart does not start with /usr/bin/ipcat"
  run timeout 60 systemd-analyze verify "$dir/ipcat-demo.socket" "$dir/ipcat-demo.service"
  assert_success
  assert_output ""
}

@test "systemd: the service's ExecStart serves on the socket's ListenStream under socket activation, READY=1 sent" {
  command -v systemd-socket-activate || skip "systemd-socket-activate is not installed"
  local unit=$EXAMPLES/systemd/ipcat-demo.service socket_unit=$EXAMPLES/systemd/ipcat-demo.socket
  local exec_start fdname notify=$BATS_TEST_TMPDIR/notify.sock
  exec_start=$(unit_value "$unit" ExecStart)
  fdname=$(unit_value "$socket_unit" FileDescriptorName)
  [[ -n $(unit_value "$socket_unit" ListenStream) ]] || fail "the socket unit has no ListenStream"
  assert_equal "$(unit_value "$unit" Type)" notify
  read -ra argv <<<"$exec_start"
  assert_equal "${argv[0]}" /usr/bin/ipcat
  argv[0]=$IPCAT

  # Our stand-in for systemd's notification socket.
  socat -u "UNIX-RECV:$notify" "OPEN:$BATS_TEST_TMPDIR/notified,creat,append" &
  track_pid $!
  wait_for "the notify socket" 10 test -S "$notify"

  # systemd-socket-activate passes on only the variables it is given with -E.
  start_daemon systemd-socket-activate -l "$sock" --fdname="$fdname" -E "NOTIFY_SOCKET=$notify" "${argv[@]}"
  wait_for "socket activation on $sock" 10 test -S "$sock"
  run timeout 20 "$IPCAT" request "$sock" cmd=ping
  assert_success
  assert_output '{"cmd":"ping"}'
  wait_for "READY=1" 10 grep -q READY=1 "$BATS_TEST_TMPDIR/notified"
}

# --- tap -----------------------------------------------------------------------

@test "tap: session.sh taps the json-rpc daemon in place, pairs each request with its reply, puts the socket back" {
  local dir=$BATS_TEST_TMPDIR/tap
  mkdir -p "$dir"
  # 3>&-: the daemon and the tap run in the background; bats waits on fd 3.
  run --separate-stderr timeout 60 "$EXAMPLES/tap/session.sh" "$dir" 3>&-
  assert_success
  assert_line --regexp '^[0-9:.]+ #1 > \{"method":"status"\}$'
  assert_line --regexp '^[0-9:.]+ #1 < \{"services":\{"web":0,"worker":0\}\}  \([0-9.]+ ms\)$'
  assert_line --regexp '^[0-9:.]+ #2 < \{"service":"web","restarted":true,"restarts":1\}  \([0-9.]+ ms\)$'
  assert_line --regexp '^[0-9:.]+ #3 < \{"error":.*"type":"NoSuchMethod".*\}  \([0-9.]+ ms\)$'
  [[ $stderr == *"3 connections, 3 requests, 3 replies, 0 pushes, 1 errors, 0 events dropped"* ]] || fail "summary: $stderr"
  # The daemon's socket is back, nothing left aside.
  assert_not_exist "$dir/rpc.sock.ipcat-tap"

  mkdir -p "$BATS_TEST_TMPDIR/tap2"
  run --separate-stderr timeout 60 "$EXAMPLES/tap/session.sh" "$BATS_TEST_TMPDIR/tap2" json 3>&-
  assert_success
  assert_equal "$(jq -c 'select(.dir == "reply")' <<<"$output" | wc -l)" 3
  assert_json 'select(.dir == "reply" and .conn == 2) | .msg.restarts == 1 and .seq == 1 and .ms >= 0' \
    "$(jq -c 'select(.dir == "reply" and .conn == 2)' <<<"$output")"
}
