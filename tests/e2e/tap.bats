#!/usr/bin/env bats
# ipcat tap (issue 20): a man in the middle that forwards bytes unchanged and prints
# the traffic, in front of ipcat serve (exec, pool, echo, a pushing server), of an
# independent Python server and of mpv (where installed); --in-place on a live socket
# under SIGINT, SIGTERM and SIGKILL + --restore, with clients running throughout.

load test_helper

setup() {
  d=$BATS_TEST_TMPDIR/d.sock  # the daemon
  t=$BATS_TEST_TMPDIR/t.sock  # the tap's LISTEN (proxy form)
  ev=$BATS_TEST_TMPDIR/events
  taperr=$BATS_TEST_TMPDIR/tap.err
}

teardown() {
  touch "$BATS_TEST_TMPDIR/stop"
  exec 5>&- 2>/dev/null || true
  stop_tracked
}

# start_tap ARG...: `ipcat tap ARG...` in the background, events to ${TAP_OUT:-$ev},
# stderr to $taperr; sets TAP_PID and waits (10 s) until it says it is forwarding.
start_tap() {
  "$IPCAT" tap "$@" >"${TAP_OUT:-$ev}" 2>"$taperr" </dev/null 3>&- 5>&- &
  TAP_PID=$!
  track_pid "$TAP_PID"
  wait_for "ipcat tap to start" 10 grep -qE '^ipcat tap: (listening on|.*: tapped)' "$taperr" || {
    cat "$taperr" >&2
    return 1
  }
}

# stop_tap [SIGNAL]: signals the tap (INT by default), waits (20 s) for it to exit;
# sets TAP_STATUS.
stop_tap() {
  kill "-${1:-INT}" "$TAP_PID"
  wait_for "ipcat tap to exit" 20 process_gone "$TAP_PID"
  TAP_STATUS=0
  wait "$TAP_PID" || TAP_STATUS=$?
}

# summary NAME: the count before NAME on the summary line ("3 requests" -> 3).
summary() {
  grep -E '^ipcat tap: [0-9]+ connections' "$taperr" | grep -oE "[0-9]+ $1" | head -1 | cut -d' ' -f1
}

# count_events FILTER: how many events satisfy the jq FILTER.
count_events() {
  jq -c "select($1)" "$ev" | wc -l
}

# at_least N FILE PATTERN: true once FILE has N lines matching PATTERN.
at_least() {
  [[ $(grep -c -- "$3" "$2" 2>/dev/null) -ge $1 ]]
}

@test "proxy in front of serve --echo: the reply is unchanged; events pair it with its request, byte-exact, with latency and the client's credentials" {
  spawn_server "$d" --echo
  start_tap "$t" "$d"
  local body='{"method":"ping","id":1,"big":12345678901234567890123,"e":"\u00e9","f":1E2}'
  run timeout 10 "$IPCAT" request "$t" "$body"
  assert_success
  assert_output "$body"
  stop_tap INT
  assert_equal "$TAP_STATUS" 0
  assert_not_exist "$t"

  assert_equal "$(count_events '.event == "open"')" 1
  run jq -c 'select(.event == "open")' "$ev"
  assert_json ".conn == 1 and .uid == $(id -u) and .gid == $(id -g) and .comm == \"ipcat\" and .pid > 0"
  # The message as the client wrote it, in both the request and the reply event.
  assert_equal "$(grep -cF "\"msg\":$body" "$ev")" 2
  run jq -c 'select(.dir == "request")' "$ev"
  assert_json '.conn == 1 and .seq == 1 and .msg.method == "ping" and (.ts | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))'
  run jq -c 'select(.dir == "reply")' "$ev"
  assert_json '.conn == 1 and .seq == 1 and (.ms | type == "number") and .ms >= 0'
  run jq -c 'select(.event == "close")' "$ev"
  assert_json '.conn == 1 and .requests == 1 and .replies == 1 and (has("error") | not)'

  assert_equal "$(summary requests)" 1
  assert_equal "$(summary replies)" 1
  assert_equal "$(summary errors)" 0
  grep -qE '^  ping +1 +1 +0 +[0-9.]+ +[0-9.]+$' "$taperr" || fail "no summary row for ping: $(cat "$taperr")"
}

@test "proxy in front of serve with an exec handler: pipelined requests and error replies, counted per method" {
  spawn_server "$d" -- "$HANDLERS/fail"
  start_tap "$t" "$d"
  run timeout 10 "$IPCAT" request "$t" method=boom
  assert_failure 1
  assert_json '.type == "HandlerFailed"'
  stop_pid "$SERVER_PID" || true
  spawn_server "$d" -- cat
  run timeout 10 "$IPCAT" request "$t" < <(printf '{"method":"a","n":%d}\n' 1 2 3)
  assert_success
  assert_equal "${#lines[@]}" 3
  stop_tap TERM
  assert_equal "$TAP_STATUS" 0
  assert_equal "$(count_events '.dir == "request"')" 4
  assert_equal "$(count_events '.dir == "reply" and .conn == 2 and .msg.n == .seq')" 3
  assert_equal "$(summary requests)" 4
  assert_equal "$(summary errors)" 1
  grep -qE '^  a +3 +3 +0 ' "$taperr" || fail "no row for method a: $(cat "$taperr")"
  grep -qE '^  boom +1 +1 +1 ' "$taperr" || fail "no row for method boom: $(cat "$taperr")"
}

@test "proxy in front of serve --mode pool: every reply reaches its client and pairs with its request" {
  spawn_server "$d" --mode pool --workers 2 -- cat
  start_tap "$t" "$d"
  local i pids=()
  for i in 1 2 3 4 5 6; do
    timeout 20 "$IPCAT" request "$t" "{\"method\":\"m$i\",\"n\":$i}" >"$BATS_TEST_TMPDIR/r.$i" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || fail "a client failed"; done
  for i in 1 2 3 4 5 6; do assert_equal "$(cat "$BATS_TEST_TMPDIR/r.$i")" "{\"method\":\"m$i\",\"n\":$i}"; done
  stop_tap
  assert_equal "$(count_events '.dir == "reply"')" 6
  assert_equal "$(summary requests)" 6
  assert_equal "$(summary replies)" 6
}

@test "a pushing server (serve --mode connection): with --match id, pushes are pushes and replies pair by id" {
  spawn_server "$d" --mode connection -- "$HANDLERS/tap-pusher"
  start_tap --match id "$t" "$d"
  # -t 10: after its stdin ends, socat waits for the server's EOF (the handler starts slowly under load).
  run timeout 20 socat -t 10 - "UNIX-CONNECT:$t" < <(printf '{"id":1,"method":"get"}\n{"id":"two","method":"get"}\n')
  assert_success
  assert_output $'{"event":"tick","n":1}\n{"id":1,"result":"ok"}\n{"event":"tick","n":2}\n{"id":"two","result":"ok"}'
  stop_tap
  assert_equal "$(count_events '.dir == "push"')" 2
  assert_equal "$(count_events '.dir == "push" and .msg.event == "tick" and .seq == .msg.n and (has("ms") | not)')" 2
  assert_equal "$(count_events '.dir == "reply" and .seq == 1 and .msg.id == 1 and .ms >= 0')" 1
  assert_equal "$(count_events '.dir == "reply" and .seq == 2 and .msg.id == "two"')" 1
  assert_equal "$(summary requests)" 2
  assert_equal "$(summary pushes)" 2
}

@test "in front of an independent Python server: JSON-RPC replies, a notification, a push, an error and a line that is not JSON" {
  python3 "$HANDLERS/tap-server.py" "$d" 2>"$BATS_TEST_TMPDIR/py.err" &
  track_pid $!
  wait_for "the Python server" 10 socket_accepts "$d"
  start_tap --match id "$t" "$d"
  run timeout 10 socat -t 5 - "UNIX-CONNECT:$t" < <(printf '%s\n' \
    '{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}' \
    '{"jsonrpc":"2.0","method":"log"}' \
    '{"jsonrpc":"2.0","method":"nope","params":{"push":true},"id":2}' \
    'not json at all')
  assert_success
  assert_line --index 0 '{"jsonrpc":"2.0","id":1,"result":3}'
  assert_line --index 1 '{"jsonrpc":"2.0","method":"tick"}'
  assert_equal "${#lines[@]}" 4
  stop_tap
  assert_equal "$(count_events '.dir == "request"')" 4
  assert_equal "$(count_events '.dir == "request" and .raw == "not json at all" and .seq == 4')" 1
  assert_equal "$(count_events '.dir == "reply" and .msg.result == 3 and .seq == 1')" 1
  assert_equal "$(count_events '.dir == "reply" and .msg.error.code == -32601 and .seq == 3')" 1
  # The tick and the parse error (id null answers no request) are pushes.
  assert_equal "$(count_events '.dir == "push"')" 2
  assert_equal "$(summary requests)" 4
  assert_equal "$(summary errors)" 1
}

@test "bytes that are not JSON, and a final partial line, are forwarded exactly (cmp)" {
  python3 "$HANDLERS/tap-server.py" "$d" bytes 2>"$BATS_TEST_TMPDIR/py.err" &
  track_pid $!
  wait_for "the Python server" 10 socket_accepts "$d"
  start_tap "$t" "$d"
  local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out
  { printf '{"a":1}\n\n \r\n{ "b" : [1, 2] }\r\n'; head -c 300000 /dev/urandom; printf '\n{"partial":'; } >"$in"
  timeout 20 socat -t 10 - "UNIX-CONNECT:$t" <"$in" >"$out"
  cmp "$in" "$out"
  stop_tap
  assert_equal "$TAP_STATUS" 0
  assert_equal "$(count_events '.dir == "request" and .seq == 1 and .msg == {"a":1}')" 1
  # Shown minified, never re-encoded.
  grep -qF '"seq":2,"msg":{"b":[1,2]}' "$ev" || fail "the second line is not shown minified"
  assert_equal "$(count_events '.dir == "request" and .raw == "{\"partial\":"')" 1
}

@test "serve treats a final line without newline as a request, through the tap too" {
  spawn_server "$d" --echo
  start_tap "$t" "$d"
  run timeout 10 socat -t 5 - "UNIX-CONNECT:$t" < <(printf '{"last":true}')
  assert_success
  assert_output '{"last":true}'
  stop_tap
  assert_equal "$(count_events '.dir == "reply" and .msg.last')" 1
}

@test "what the tap finds in one read is all forwarded: a request and the end of the stream; bytes after an urgent byte" {
  spawn_server "$d" --echo
  start_tap "$t" "$d"
  run timeout 20 python3 "$HANDLERS/tap-burst-client.py" "$t" "$TAP_PID" eof
  assert_success
  assert_output '{"id":2}'
  run timeout 20 python3 "$HANDLERS/tap-burst-client.py" "$t" "$TAP_PID" oob
  local replies=5
  if ((status == 77)); then
    replies=2  # no MSG_OOB on this kernel's Unix sockets
  else
    assert_success
    assert_equal "${#lines[@]}" 2
    assert_equal "${lines[0]}" '{"id":3}'
    assert_equal "${lines[1]}" '{"id":4}'
  fi
  stop_tap
  assert_equal "$TAP_STATUS" 0
  assert_equal "$(count_events '.dir == "reply"')" "$replies"
}

@test "100 concurrent clients through the tap are all answered correctly; the summary counts 100" {
  spawn_server "$d" --echo
  start_tap "$t" "$d"
  local i pids=()
  for ((i = 1; i <= 100; i++)); do
    timeout 60 "$IPCAT" request "$t" "{\"method\":\"n\",\"n\":$i}" >"$BATS_TEST_TMPDIR/r.$i" 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || fail "a client failed"; done
  for ((i = 1; i <= 100; i++)); do
    assert_equal "$(cat "$BATS_TEST_TMPDIR/r.$i")" "{\"method\":\"n\",\"n\":$i}"
  done
  stop_tap
  assert_equal "$(summary connections)" 100
  assert_equal "$(summary requests)" 100
  assert_equal "$(summary replies)" 100
  assert_equal "$(count_events '.event == "close"')" 100
  assert_equal "$(count_events '.dir == "reply"')" 100
}

# client_loop SOCK RETRIES: one `ipcat request` after another until $BATS_TEST_TMPDIR/stop
# exists; every failure (status, output) goes to loop.fail, the number done to loop.count.
client_loop() {
  local i=0 st out
  while [[ ! -e $BATS_TEST_TMPDIR/stop ]] && ((i < 100000)); do
    i=$((i + 1))
    st=0
    out=$("$IPCAT" request --retries "$2" --backoff 0.05 --timeout 10 "$1" "{\"method\":\"loop\",\"i\":$i}" \
      2>>"$BATS_TEST_TMPDIR/loop.err") || st=$?
    [[ $st -eq 0 && $out == "{\"method\":\"loop\",\"i\":$i}" ]] || echo "$i $st $out" >>"$BATS_TEST_TMPDIR/loop.fail"
    echo "$i" >"$BATS_TEST_TMPDIR/loop.count"
  done
}

# loop_done N: true once the client loop has done N requests.
loop_done() {
  [[ $(cat "$BATS_TEST_TMPDIR/loop.count" 2>/dev/null || echo 0) -ge $1 ]]
}

# in_place_under SIGNAL DAEMON...: a client loop (no retries) and a long-lived
# connection opened before the tap run throughout; the tap takes the socket, sees
# loop traffic, gets SIGNAL; nothing ever fails and the daemon's socket is back.
in_place_under() {
  local sig=$1
  shift
  "$@" </dev/null >"$BATS_TEST_TMPDIR/daemon.out" 2>"$BATS_TEST_TMPDIR/daemon.err" 3>&- &
  track_pid $!
  wait_for "the daemon" 10 socket_accepts "$d"
  local inode
  inode=$(stat -c %i "$d")

  # Opened before the tap: goes on untouched, during and after.
  local fifo=$BATS_TEST_TMPDIR/held.in held=$BATS_TEST_TMPDIR/held.out
  mkfifo "$fifo"
  timeout 60 "$IPCAT" request --timeout 30 "$d" <"$fifo" >"$held" 2>"$BATS_TEST_TMPDIR/held.err" &
  local held_pid=$!
  track_pid "$held_pid"
  exec 5>"$fifo"
  echo '{"held":1}' >&5
  wait_for "the held connection's first reply" 10 at_least 1 "$held" held

  client_loop "$d" 0 5>&- &
  track_pid $!
  wait_for "the client loop" 20 loop_done 5

  start_tap --in-place "$d"
  [ -S "$d.ipcat-tap" ]
  assert_equal "$(stat -c %i "$d.ipcat-tap")" "$inode"
  wait_for "loop requests through the tap" 20 at_least 5 "$ev" '"dir":"reply"'
  echo '{"held":2}' >&5
  wait_for "the held connection's second reply" 10 at_least 2 "$held" held

  stop_tap "$sig"
  assert_equal "$TAP_STATUS" 0
  assert_equal "$(stat -c %i "$d")" "$inode"
  assert_not_exist "$d.ipcat-tap"
  local done_at
  done_at=$(cat "$BATS_TEST_TMPDIR/loop.count")
  wait_for "the client loop after the tap" 20 loop_done $((done_at + 5))
  echo '{"held":3}' >&5
  wait_for "the held connection's third reply" 10 at_least 3 "$held" held
  exec 5>&-
  wait_for "the held connection to end" 10 process_gone "$held_pid"
  wait "$held_pid" || fail "the connection held across the tap failed: $(cat "$BATS_TEST_TMPDIR/held.err")"
  touch "$BATS_TEST_TMPDIR/stop"

  [[ ! -e $BATS_TEST_TMPDIR/loop.fail ]] ||
    fail "clients failed: $(head -5 "$BATS_TEST_TMPDIR/loop.fail") $(head -c 500 "$BATS_TEST_TMPDIR/loop.err")"
  # The tap never saw the held connection; it counted every loop request it forwarded.
  ! grep -q held "$ev" || fail "the tap saw a connection made before it started"
  assert_equal "$(summary requests)" "$(count_events '.dir == "request"')"
  assert_equal "$(summary requests)" "$(count_events '.dir == "reply"')"
}

@test "--in-place in front of serve --echo, SIGINT: the loop never fails, the socket is back, older connections untouched" {
  in_place_under INT "$IPCAT" serve "$d" --echo
}

@test "--in-place in front of serve with an exec handler, SIGTERM: the same" {
  in_place_under TERM "$IPCAT" serve "$d" -- cat
}

@test "--in-place in front of the Python server, SIGINT: the same" {
  in_place_under INT python3 "$HANDLERS/tap-server.py" "$d" bytes
}

@test "--in-place in front of serve --mode pool, SIGTERM: the same" {
  in_place_under TERM "$IPCAT" serve "$d" --mode pool --workers 2 -- cat
}

@test "--in-place in front of mpv, --match request_id: replies pair by request_id, its property-change events are pushes" {
  spawn_mpv "$d"
  "$IPCAT" request --match request_id "$d" '{"command":["set_property","volume",10],"request_id":9}' >/dev/null
  start_tap --in-place --match request_id "$d"
  # A subscriber through the tap: the ack, the current value, then one line per change.
  timeout 30 "$IPCAT" connect -n 4 "$d" '{"command":["observe_property",1,"volume"],"request_id":3}' \
    </dev/null >"$BATS_TEST_TMPDIR/sub" 2>"$BATS_TEST_TMPDIR/sub.err" 3>&- &
  local sub=$!
  track_pid "$sub"
  wait_for "the subscription" 10 grep -q '"data":10' "$BATS_TEST_TMPDIR/sub"
  run "$IPCAT" request --match request_id "$d" '{"command":["get_property","volume"],"request_id":1}'
  assert_success
  assert_output '{"data":10.000000,"request_id":1,"error":"success"}'
  run "$IPCAT" request --match request_id "$d" '{"command":["get_property","no-such-property"],"request_id":2}'
  assert_failure 1
  for v in 20 30; do
    "$IPCAT" request --match request_id "$d" "{\"command\":[\"set_property\",\"volume\",$v],\"request_id\":4$v}" >/dev/null
    wait_for "volume $v" 10 grep -q "\"data\":$v" "$BATS_TEST_TMPDIR/sub"
  done
  wait_for "the subscriber to end after 4 lines" 10 process_gone "$sub"
  wait "$sub" || fail "the subscriber failed: $(cat "$BATS_TEST_TMPDIR/sub.err")"
  stop_tap
  assert_equal "$TAP_STATUS" 0
  assert_not_exist "$d.ipcat-tap"
  # mpv's request_id pairs each reply, byte-exact as mpv wrote it.
  assert_equal "$(count_events '.dir == "reply" and .msg.request_id == 1 and .msg.data == 10 and .ms >= 0')" 1
  assert_equal "$(count_events '.dir == "reply" and .msg.request_id == 2 and .msg.error == "property not found"')" 1
  assert_equal "$(count_events '.dir == "reply" and .msg.request_id == 3 and .msg.error == "success"')" 1
  # The three property-change events (10, 20, 30) came unasked: pushes of the subscriber's connection.
  assert_equal "$(count_events '.dir == "push" and .msg.event == "property-change" and .msg.name == "volume"')" 3
  assert_equal "$(count_events '.event == "close" and .requests == 1 and .replies == 1 and .pushes == 3')" 1
  assert_equal "$(summary requests)" 5
  assert_equal "$(summary replies)" 5
  assert_equal "$(summary pushes)" 3
  assert_equal "$(summary errors)" 1
}

@test "--in-place, SIGKILL, then --restore: the loop sees no missing or refusing socket, the daemon's socket is back" {
  "$IPCAT" serve "$d" --echo </dev/null 2>"$BATS_TEST_TMPDIR/daemon.err" 3>&- &
  track_pid $!
  wait_for "the daemon" 10 socket_accepts "$d"
  local inode
  inode=$(stat -c %i "$d")
  # Retries (the default) are what carry a client over the instant between the kill
  # and --restore, when the dead tap's socket refuses.
  client_loop "$d" 5 &
  track_pid $!
  wait_for "the client loop" 20 loop_done 5
  start_tap --in-place "$d"
  wait_for "loop requests through the tap" 20 at_least 5 "$ev" '"dir":"reply"'
  stop_tap KILL
  assert_equal "$(stat -c %i "$d.ipcat-tap")" "$inode"
  run "$IPCAT" tap --restore "$d"
  assert_success
  assert_equal "$(stat -c %i "$d")" "$inode"
  assert_not_exist "$d.ipcat-tap"
  local done_at
  done_at=$(cat "$BATS_TEST_TMPDIR/loop.count")
  wait_for "the client loop after the restore" 20 loop_done $((done_at + 5))
  touch "$BATS_TEST_TMPDIR/stop"
  # Only a request in flight through the tap at the moment of the kill may fail,
  # and then as a cut connection (74/76), never as no socket (66) or refused (69).
  if [[ -e $BATS_TEST_TMPDIR/loop.fail ]]; then
    ! grep -qE '^[0-9]+ (66|69) ' "$BATS_TEST_TMPDIR/loop.fail" || fail "a client found no socket: $(cat "$BATS_TEST_TMPDIR/loop.fail")"
    [[ $(wc -l <"$BATS_TEST_TMPDIR/loop.fail") -le 1 ]] || fail "clients failed: $(cat "$BATS_TEST_TMPDIR/loop.fail")"
  fi
  ! grep -qiE 'refused|no such' "$BATS_TEST_TMPDIR/loop.err" || fail "a client saw: $(cat "$BATS_TEST_TMPDIR/loop.err")"
}

@test "--restore refuses when there is nothing aside (66) or a tap is running (73); a second --in-place is refused (73)" {
  run "$IPCAT" tap --restore "$d"
  assert_failure 66
  assert_output --partial "$d.ipcat-tap"
  spawn_server "$d" --echo
  start_tap --in-place "$d"
  run "$IPCAT" tap --restore "$d"
  assert_failure 73
  assert_output --partial "stop it instead"
  run "$IPCAT" tap --in-place "$d"
  assert_failure 73
  assert_output --partial "--restore"
  stop_tap
  run timeout 10 "$IPCAT" request "$d" ok=1
  assert_success
}

@test "usage and addresses: wrong argument counts (64), no daemon (66, 69), not a socket (64)" {
  run "$IPCAT" tap "$t"
  assert_failure 64
  run "$IPCAT" tap --in-place "$d" "$t"
  assert_failure 64
  run "$IPCAT" tap --in-place --restore "$d"
  assert_failure 64
  run "$IPCAT" tap "$t" "$d"
  assert_failure 66
  assert_output --partial "ipcat: tap: $d"
  assert_not_exist "$t"
  run "$IPCAT" tap --in-place "$d"
  assert_failure 66
  touch "$d"
  run "$IPCAT" tap --in-place "$d"
  assert_failure 64
  assert_output --partial "not a socket"
  rm "$d"
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$d"
  run "$IPCAT" tap --in-place "$d"
  assert_failure 69
  assert_output --partial "nothing to tap"
  assert_not_exist "$d.ipcat-tap"
}

@test "filters: --method (with --route-key), --conn and --uid; -n N stops the tap by itself" {
  spawn_server "$d" --echo
  start_tap --method ping "$t" "$d"
  timeout 10 "$IPCAT" request "$t" method=ping >/dev/null
  timeout 10 "$IPCAT" request "$t" method=other >/dev/null
  stop_tap
  assert_equal "$(count_events '.dir')" 2
  assert_equal "$(count_events '.dir == "reply" and .msg.method == "ping"')" 1
  assert_equal "$(summary requests)" 1

  start_tap --route-key op --method x "$t" "$d"
  timeout 10 "$IPCAT" request "$t" op=x >/dev/null
  timeout 10 "$IPCAT" request "$t" method=x >/dev/null
  stop_tap
  assert_equal "$(count_events '.dir == "request" and .msg.op == "x"')" 1
  assert_equal "$(count_events '.dir')" 2

  start_tap --conn 2 "$t" "$d"
  timeout 10 "$IPCAT" request "$t" n=1 >/dev/null
  timeout 10 "$IPCAT" request "$t" n=2 >/dev/null
  stop_tap
  assert_equal "$(count_events '.conn != 2')" 0
  assert_equal "$(count_events '.dir == "request" and .msg.n == "2"')" 1

  start_tap --uid "$(id -u)" "$t" "$d"
  timeout 10 "$IPCAT" request "$t" n=1 >/dev/null
  stop_tap
  assert_equal "$(count_events '.dir')" 2
  start_tap --uid 54321 "$t" "$d"
  timeout 10 "$IPCAT" request "$t" n=1 >/dev/null
  stop_tap
  assert_equal "$(count_events 'true')" 0
  assert_equal "$(summary requests)" 0

  start_tap -n 2 "$t" "$d"
  run timeout 10 "$IPCAT" request "$t" n=1
  assert_success
  wait_for "the tap to stop after 2 messages" 10 process_gone "$TAP_PID"
  wait "$TAP_PID"
  assert_equal "$(count_events '.dir')" 2
  assert_not_exist "$t"
}

@test "--format text: > and < lines with latency, no colour when stdout is not a terminal" {
  spawn_server "$d" --echo
  start_tap --format text "$t" "$d"
  timeout 10 "$IPCAT" request "$t" '{"a":1}' >/dev/null
  stop_tap
  run cat "$ev"
  assert_line --regexp '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} #1 open pid=[0-9]+ uid=[0-9]+ gid=[0-9]+ comm="ipcat"$'
  assert_line --regexp '^[0-9:.]+ #1 > \{"a":1\}$'
  assert_line --regexp '^[0-9:.]+ #1 < \{"a":1\}  \([0-9]+\.[0-9]{3} ms\)$'
  ! grep -q $'\033' "$ev" || fail "colour codes in a file"
}

@test "a stdout nobody reads never stalls the traffic: events are dropped (--max-queue) and counted" {
  spawn_server "$d" --echo
  local fifo=$BATS_TEST_TMPDIR/stuck
  mkfifo "$fifo"
  # Holds the FIFO open for reading, never reads.
  sleep 120 <"$fifo" &
  track_pid $!
  TAP_OUT=$fifo start_tap --max-queue 4096 "$t" "$d"
  local pad
  pad=$(printf 'x%.0s' {1..300})
  run timeout 30 "$IPCAT" request "$t" < <(for i in $(seq 1 500); do printf '{"n":%d,"pad":"%s"}\n' "$i" "$pad"; done)
  assert_success
  assert_equal "${#lines[@]}" 500
  stop_tap
  assert_equal "$TAP_STATUS" 0
  assert_equal "$(summary requests)" 500
  [[ $(summary 'events dropped') -gt 0 ]] || fail "no events dropped: $(cat "$taperr")"
}

@test "--max-line: a longer line passes whole and is shown as too_long; the next one is shown again" {
  spawn_server "$d" --echo
  start_tap --max-line 100 "$t" "$d"
  local long
  long="{\"pad\":\"$(printf 'y%.0s' {1..500})\"}"
  run timeout 10 "$IPCAT" request "$t" < <(printf '%s\n{"short":1}\n' "$long")
  assert_success
  assert_line --index 0 "$long"
  assert_line --index 1 '{"short":1}'
  stop_tap
  assert_equal "$(count_events '.dir == "request" and .seq == 1 and .too_long')" 1
  assert_equal "$(count_events '.dir == "reply" and .seq == 1 and .too_long')" 1
  assert_equal "$(count_events '.dir == "request" and .seq == 2 and .msg.short == 1')" 1
  assert_equal "$(count_events '.dir == "reply" and .seq == 2 and .msg.short == 1')" 1
}

@test "--max-depth: a line nested deeper is shown raw, still forwarded" {
  spawn_server "$d" --echo
  start_tap --max-depth 3 "$t" "$d"
  run timeout 10 "$IPCAT" request "$t" < <(printf '[[[[1]]]]\n[[1]]\n')
  assert_success
  assert_output $'[[[[1]]]]\n[[1]]'
  stop_tap
  assert_equal "$(count_events '.dir == "request" and .raw == "[[[[1]]]]"')" 1
  assert_equal "$(count_events '.dir == "request" and .msg == [[1]]')" 1
}

@test "--max-pending: requests never answered are forgotten beyond it, and counted" {
  python3 "$HANDLERS/tap-server.py" "$d" 2>"$BATS_TEST_TMPDIR/py.err" &
  track_pid $!
  wait_for "the Python server" 10 socket_accepts "$d"
  start_tap --match id --max-pending 2 "$t" "$d"
  run timeout 10 socat -t 5 - "UNIX-CONNECT:$t" < <(printf '{"method":"silent","id":%d}\n' 1 2 3; echo '{"method":"add","params":[2,2],"id":4}')
  assert_success
  assert_output '{"jsonrpc":"2.0","id":4,"result":4}'
  stop_tap
  assert_equal "$(count_events '.dir == "reply" and .seq == 4 and .msg.result == 4')" 1
  grep -qF '2 requests forgotten unanswered (--max-pending)' "$taperr" || fail "$(cat "$taperr")"
}

@test "--max-connections: further clients wait in the backlog until a connection ends" {
  spawn_server "$d" --echo
  start_tap --max-connections 1 "$t" "$d"
  local fifo=$BATS_TEST_TMPDIR/held.in held=$BATS_TEST_TMPDIR/held.out
  mkfifo "$fifo"
  timeout 60 "$IPCAT" request --timeout 30 "$t" <"$fifo" >"$held" &
  track_pid $!
  exec 5>"$fifo"
  echo '{"first":1}' >&5
  wait_for "the first client's reply" 10 at_least 1 "$held" first
  timeout 30 "$IPCAT" request --timeout 30 "$t" second=2 >"$BATS_TEST_TMPDIR/second.out" 5>&- &
  local second=$!
  track_pid "$second"
  # Not a synchronisation: the second client must still be waiting after a while.
  sleep 0.5
  process_running "$second" || fail "the second client was served past --max-connections 1"
  exec 5>&-
  wait_for "the second client" 20 process_gone "$second"
  wait "$second"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/second.out")" '{"second":"2"}'
  stop_tap
}

@test "--drain: at exit a connection still open is forwarded for --drain seconds, then cut; LISTEN goes at once" {
  spawn_server "$d" --echo
  start_tap --drain 1 "$t" "$d"
  local fifo=$BATS_TEST_TMPDIR/held.in held=$BATS_TEST_TMPDIR/held.out
  mkfifo "$fifo"
  timeout 60 "$IPCAT" request --timeout 30 "$t" <"$fifo" >"$held" 2>/dev/null &
  track_pid $!
  exec 5>"$fifo"
  echo '{"a":1}' >&5
  wait_for "the first reply" 10 at_least 1 "$held" '"a"'
  kill -INT "$TAP_PID"
  wait_for "the LISTEN path to go" 10 test ! -e "$t"
  echo '{"b":2}' >&5
  wait_for "a reply during --drain" 10 at_least 1 "$held" '"b"'
  wait_for "ipcat tap to exit" 20 process_gone "$TAP_PID"
  wait "$TAP_PID"
  assert_equal "$(count_events '.event == "close" and .error == "cut at the end of --drain"')" 1
}

@test "TCP and abstract addresses: tap tcp:127.0.0.1:0 in front of serve on TCP, @name in front of a path; non-loopback LISTEN refused" {
  "$IPCAT" serve tcp:127.0.0.1:0 --echo </dev/null 2>"$BATS_TEST_TMPDIR/serve.err" 3>&- &
  track_pid $!
  wait_for "serve on TCP" 10 grep -q 'listening address=tcp:127.0.0.1:[1-9]' "$BATS_TEST_TMPDIR/serve.err"
  local up
  up=$(grep -oE 'tcp:127\.0\.0\.1:[0-9]+' "$BATS_TEST_TMPDIR/serve.err" | head -1)
  start_tap tcp:127.0.0.1:0 "$up"
  grep -q "warning: .*every local user can reach $up" "$taperr" || fail "no warning: $(cat "$taperr")"
  local listen
  listen=$(sed -nE 's/^ipcat tap: listening on (tcp:127\.0\.0\.1:[0-9]+),.*/\1/p' "$taperr")
  [[ -n $listen ]] || fail "no LISTEN port in: $(cat "$taperr")"
  run timeout 10 "$IPCAT" request "$listen" via=tcp
  assert_success
  assert_output '{"via":"tcp"}'
  stop_tap
  run jq -c 'select(.event == "open")' "$ev"
  assert_json '.ip == "127.0.0.1" and .port > 0'

  spawn_server "$d" --echo
  start_tap "@ipcat-tap-test-$$-$BATS_TEST_NUMBER" "$d"
  run timeout 10 "$IPCAT" request "@ipcat-tap-test-$$-$BATS_TEST_NUMBER" via=abstract
  assert_success
  assert_output '{"via":"abstract"}'
  stop_tap

  run "$IPCAT" tap tcp:0.0.0.0:0 "$d"
  assert_failure 64
  assert_output --partial "loopback only"
}
