#!/usr/bin/env bats
# ipcat notify (man/ipcat.1, ipcat notify): fire and forget. It writes its requests, closes, and
# never waits for a reply; the server still runs every request it received whole.

load test_helper

setup() {
  sock="$BATS_TEST_TMPDIR/s.sock"
  dir="$BATS_TEST_TMPDIR"
}

teardown() {
  stop_tracked
}

# notify ARG...: ipcat notify, bounded.
notify() {
  timeout 30 "$IPCAT" notify "$@"
}

# lines_in FILE N: true once FILE has at least N lines.
lines_in() {
  [ -e "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]
}

@test "notify: sends the request and exits 0 at once; the handler still runs after notify exits" {
  spawn_server "$sock" --drain 2 "$HANDLERS/gate" "$dir"
  run --separate-stderr notify "$sock" '{"gate":true,"id":1}'
  assert_success
  assert_output ""
  assert_equal "$stderr" ""
  # notify is gone; its handler runs on, held at the gate.
  wait_for "the handler to start" 10 test -e "$dir/started"
  assert_file_not_exists "$dir/done"
  touch "$dir/release"
  wait_for "the handler to finish" 10 grep -qx '{"gate":true,"id":1}' "$dir/done"
}

@test "notify: does not wait for a server that never replies" {
  # Accepts, then neither reads nor replies nor closes.
  python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(16)
held = []
while True:
    held.append(s.accept()[0])
' "$sock" </dev/null >/dev/null 2>&1 3>&- &
  track_pid "$!"
  wait_for "the silent server" 10 socket_accepts "$sock"
  run --separate-stderr notify --timeout 5 "$sock" '{"a":1}'
  assert_success
  assert_output ""
}

@test "notify: stdin lines are all delivered" {
  spawn_server "$sock" "$HANDLERS/gate" "$dir"
  seq 1 50 | sed 's/.*/{"n":&}/' >"$dir/in"
  run --separate-stderr notify "$sock" <"$dir/in"
  assert_success
  assert_output ""
  wait_for "50 requests handled" 20 lines_in "$dir/done" 50
  # Handlers run concurrently: every line arrives, in whatever order they finish.
  assert_equal "$(sort "$dir/done")" "$(sort "$dir/in")"
}

@test "notify: stdin lines go over one connection, numbered in order" {
  spawn_server "$sock" "$HANDLERS/env-dump" "$dir"
  run --separate-stderr notify "$sock" < <(printf '{}\n{}\n{}\n')
  assert_success
  # Handlers run concurrently: wait for all three, not for the third to finish.
  wait_for "3 requests handled" 10 eval '(($(compgen -G "$dir/env.*.*" | wc -l) >= 3))'
  files=$(cd "$dir" && ls env.*.*)
  assert_equal "$(cut -d. -f2 <<<"$files" | sort -u | wc -l)" 1
  assert_equal "$(cut -d. -f3 <<<"$files" | sort -n | tr '\n' ' ')" "1 2 3 "
}

@test "notify: ITEMs build the request" {
  spawn_server "$sock" "$HANDLERS/gate" "$dir"
  printf 'from a file\n' >"$dir/text.txt"
  run --separate-stderr notify "$sock" a=1 'b:=[2]' "c=@$dir/text.txt"
  assert_success
  wait_for "the request to be handled" 10 test -s "$dir/done"
  assert_equal "$(cat "$dir/done")" '{"a":"1","b":[2],"c":"from a file"}'
}

@test "notify: a server that is not ipcat receives every line" {
  python3 "$HANDLERS/line-server.py" "$sock" pong "$dir/received" </dev/null >/dev/null 2>&1 3>&- &
  track_pid "$!"
  wait_for "line-server.py" 10 socket_accepts "$sock"
  run --separate-stderr notify "$sock" < <(printf '{"n":1}\n{ "n" : 2 }\n')
  assert_success
  wait_for "two lines received" 10 lines_in "$dir/received" 2
  assert_equal "$(cat "$dir/received")" $'{"n":1}\n{"n":2}'
}

@test "notify: stdin is never read when a BODY is given" {
  spawn_server "$sock" "$HANDLERS/gate" "$dir"
  mkfifo "$dir/stdin"
  run --separate-stderr notify --timeout 5 "$sock" '{"body":1}' <>"$dir/stdin"
  assert_success
  wait_for "the request to be handled" 10 test -s "$dir/done"
  assert_equal "$(cat "$dir/done")" '{"body":1}'
}

@test "notify: 66 when no socket exists, 69 when refused; the message names the socket" {
  run --separate-stderr notify --retries 0 "$dir/none.sock" '{}'
  assert_equal "$status" 66
  [[ $stderr == "ipcat: notify: $dir/none.sock: "* ]]
  python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock"
  run --separate-stderr notify --retries 0 "$sock" '{}'
  assert_equal "$status" 69
  [[ $stderr == "ipcat: notify: $sock: "*"refused"* ]]
}

@test "notify: 64 for a word that is neither JSON nor an item, 65 for a broken body" {
  run --separate-stderr notify --retries 0 "$dir/none.sock" hello
  assert_equal "$status" 64
  [[ $stderr == "ipcat: notify: "*"hello"* ]]
  run --separate-stderr notify --retries 0 "$dir/none.sock" '{"a":'
  assert_equal "$status" 65
}

@test "notify: a stdin line that is not JSON is exit 65; the lines before it are sent, none after" {
  spawn_server "$sock" "$HANDLERS/gate" "$dir"
  run --separate-stderr notify "$sock" < <(printf '{"n":1}\nnot json\n{"n":3}\n')
  assert_equal "$status" 65
  [[ $stderr == "ipcat: notify: "*"line 2"* ]]
  wait_for "the first request to be handled" 10 test -s "$dir/done"
  # The server has seen the connection end; nothing more is coming.
  run --separate-stderr timeout 30 "$IPCAT" request "$sock" '{"after":1}'
  assert_success
  wait_for "the check request to be handled" 10 grep -q after "$dir/done"
  assert_equal "$(grep -c '"n"' "$dir/done")" 1
}

@test "notify: a request started before the server is up is delivered once it is there" {
  "$IPCAT" notify -v --retries 6 --backoff 0.2 --timeout 20 "$sock" '{"early":1}' \
    >"$dir/early.out" 2>"$dir/early.err" 3>&- &
  client=$!
  track_pid "$client"
  wait_for "notify to retry" 10 grep -q retrying "$dir/early.err"
  spawn_server "$sock" "$HANDLERS/gate" "$dir"
  wait_for "notify to exit" 15 process_gone "$client"
  status=0
  wait "$client" || status=$?
  assert_equal "$status" 0
  wait_for "the request to be handled" 10 test -s "$dir/done"
  assert_equal "$(cat "$dir/done")" '{"early":1}'
}

# --- refusals notify can see (man/ipcat.1, ipcat notify) ----------------------------

@test "notify: 77 on a Forbidden line, never 0 (20 runs)" {
  spawn_server "$sock" --echo --allow-uid 12345
  local i
  for i in $(seq 1 20); do
    run --separate-stderr notify "$sock" '{"a":1}'
    assert_equal "$status" 77
    [[ $stderr == "ipcat: notify: $sock: "* ]]
  done
  # From stdin too.
  run --separate-stderr notify "$sock" < <(printf '{"a":1}\n{"a":2}\n')
  assert_equal "$status" 77
}

@test "notify: 77 on an authkey challenge it cannot answer, and the message is not handled" {
  printf 'sesame\n' >"$dir/key"
  chmod 600 "$dir/key"
  spawn_server "$sock" --authkey-file "$dir/key" "$HANDLERS/gate" "$dir"
  run --separate-stderr notify "$sock" '{"id":1}'
  assert_equal "$status" 77
  [[ $stderr == *"requires the authkey handshake"* ]]
  # With the key, it is delivered.
  run --separate-stderr notify --authkey-file "$dir/key" "$sock" '{"id":2}'
  assert_success
  wait_for "the handler to run" 10 grep -q '"id":2' "$dir/done"
  run grep -c '"id":1' "$dir/done"
  assert_output 0
}

@test "notify: 64 for an unknown option, even --name=value; nothing is sent" {
  python3 "$HANDLERS/line-server.py" "$sock" close "$dir/received" </dev/null >/dev/null 2>&1 3>&- &
  track_pid "$!"
  wait_for "line-server.py" 10 socket_accepts "$sock"
  run --separate-stderr notify "$sock" --timout=1 cmd=restart
  assert_equal "$status" 64
  [[ $stderr == *"--timout=1"* ]]
  run --separate-stderr notify "$sock" --timout 1 cmd=restart
  assert_equal "$status" 64
  assert_file_not_exists "$dir/received"
}

@test "notify: byte-exact, and --max-depth bounds what it sends" {
  python3 "$HANDLERS/line-server.py" "$sock" pong "$dir/received" </dev/null >/dev/null 2>&1 3>&- &
  track_pid "$!"
  wait_for "line-server.py" 10 socket_accepts "$sock"
  run --separate-stderr notify "$sock" < <(printf '%s\n' '{"z": 12345678901234567890123, "n": 1E2, "s": "\u00e9", "a": 1, "a": 2}')
  assert_success
  wait_for "the line to arrive" 10 lines_in "$dir/received" 1
  assert_equal "$(cat "$dir/received")" '{"z":12345678901234567890123,"n":1E2,"s":"\u00e9","a":1,"a":2}'
  run --separate-stderr notify --max-depth 2 "$sock" '[[[1]]]'
  assert_equal "$status" 65
}
