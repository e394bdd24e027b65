#!/usr/bin/env bats
# ipcat request (DESIGN.md §5): bodies, items, stdin pipelining, output options, retries,
# and the exit codes of §8, against ipcat serve and against servers that are not ipcat.

load test_helper

setup() {
  sock="$BATS_TEST_TMPDIR/s.sock"
  dir="$BATS_TEST_TMPDIR"
}

teardown() {
  stop_tracked
}

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

# line_server SOCK MODE [LOG]: a Python JSON-line server (handlers/line-server.py).
line_server() {
  python3 "$HANDLERS/line-server.py" "$@" </dev/null >/dev/null 2>"$dir/line-server.err" 3>&- &
  track_pid "$!"
  wait_for "line-server.py on $1" 10 socket_accepts "$1"
}

# stale_socket PATH: leaves a socket file at PATH that nobody listens on.
stale_socket() {
  python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1"
  [ -S "$1" ]
}

# --- what is sent -----------------------------------------------------------------

@test "BODY: one JSON argument is the request and the reply is printed" {
  spawn_server "$sock" --echo
  run --separate-stderr request "$sock" '{"a":{"b":[1,"x"]},"c":null}'
  assert_success
  assert_output '{"a":{"b":[1,"x"]},"c":null}'
  assert_equal "$stderr" ""
}

@test "BODY: a string, a number, null or a boolean is a body too" {
  spawn_server "$sock" --echo
  for body in '"text"' '"a=b"' 42 -1.5 null true; do
    run --separate-stderr request "$sock" "$body"
    assert_success
    assert_output "$(jq -c . <<<"$body")"
  done
}

@test "BODY: a JSON array is one body, sent whole" {
  spawn_server "$sock" --echo
  for body in '[1,2]' '[1, 2]' '["a"]' '[]' '[{"a":1},[2]]'; do
    run --separate-stderr request "$sock" "$body" </dev/null
    assert_success
    assert_output "$(jq -c . <<<"$body")"
  done
}

@test "BODY: sent compactly, keys in the order given" {
  line_server "$sock" pong "$dir/received"
  run --separate-stderr request "$sock" '{ "z" : 1 , "a" : [ 1 , { "y" : 2 , "b" : 3 } ] }'
  assert_success
  assert_output '{"pong":1}'
  assert_equal "$(cat "$dir/received")" '{"z":1,"a":[1,{"y":2,"b":3}]}'
}

@test "ITEMs build an object: key=str key:=json key=@file key:=@file" {
  spawn_server "$sock" --echo
  printf 'hello\nwörld' >"$dir/text.txt"
  printf '{"x": [1, 2]}\n' >"$dir/data.json"
  run --separate-stderr request "$sock" s=str 'n:=42' 'o:={"k":true}' "f=@$dir/text.txt" "j:=@$dir/data.json" \
    'sp=with space' 'eq=a=b' 'empty='
  assert_success
  assert_output '{"s":"str","n":42,"o":{"k":true},"f":"hello\nwörld","j":{"x":[1,2]},"sp":"with space","eq":"a=b","empty":""}'
}

@test "ITEMs: a single item is an item, not a body" {
  spawn_server "$sock" --echo
  run --separate-stderr request "$sock" 'only=1'
  assert_success
  assert_output '{"only":"1"}'
}

@test "ITEMs: key=@file naming a missing file is exit 66 naming it, and nothing is sent" {
  line_server "$sock" pong "$dir/received"
  run --separate-stderr request "$sock" "f=@$dir/missing.txt"
  assert_equal "$status" 66
  [[ $stderr == "ipcat: request: "*"$dir/missing.txt"* ]]
  assert_file_not_exists "$dir/received"
}

@test "ITEMs: key:=TEXT that is not JSON is exit 65, and nothing is sent" {
  line_server "$sock" pong "$dir/received"
  run --separate-stderr request "$sock" a=1 'b:=not json'
  assert_equal "$status" 65
  [[ $stderr == "ipcat: request: "*"not valid JSON"* ]]
  assert_output ""
  assert_file_not_exists "$dir/received"
}

@test "a BODY that is broken JSON is exit 65, and nothing is sent" {
  line_server "$sock" pong "$dir/received"
  run --separate-stderr request "$sock" '{"a":'
  assert_equal "$status" 65
  [[ $stderr == "ipcat: request: "*"not valid JSON"* ]]
  assert_file_not_exists "$dir/received"
}

@test "64: a word that is neither JSON nor an item, checked before connecting" {
  run --separate-stderr request --retries 0 "$dir/nobody.sock" hello
  assert_equal "$status" 64
  [[ $stderr == "ipcat: request: "*"hello"* ]]
  run --separate-stderr request --retries 0 "$dir/nobody.sock" a=1 hello
  assert_equal "$status" 64
  [[ $stderr == "ipcat: request: "*"hello"* ]]
}

@test "64: no address, a bad address, or an unknown option" {
  run --separate-stderr request
  assert_equal "$status" 64
  run --separate-stderr request not-an-address '{}'
  assert_equal "$status" 64
  [[ $stderr == "ipcat: request: "*"not-an-address"* ]]
  run --separate-stderr request --no-such-option "$sock" '{}'
  assert_equal "$status" 64
}

@test "stdin: every line is a request over one connection, replies in order" {
  spawn_server "$sock" "$HANDLERS/env-dump" "$dir"
  run --separate-stderr request "$sock" < <(printf '{"n":1}\n{"n":2}\n{"n":3}\n')
  assert_success
  c=$(jq -r .connection <<<"${lines[0]}")
  assert_output "$(for r in 1 2 3; do printf '{"connection":"%s","request":"%s"}\n' "$c" "$r"; done)"
}

@test "stdin: lines are sent compactly, blank lines and \\r\\n endings skipped" {
  line_server "$sock" pong "$dir/received"
  run --separate-stderr request "$sock" < <(printf '{ "a" : 1 }\r\n\n   \n[ 2 ]\n')
  assert_success
  assert_output $'{"pong":1}\n{"pong":2}'
  assert_equal "$(cat "$dir/received")" $'{"a":1}\n[2]'
}

@test "stdin: a line that is not JSON is exit 65 naming the line; lines after it are not sent" {
  line_server "$sock" pong "$dir/received"
  run --separate-stderr request "$sock" < <(printf '{"a":1}\nnot json\n{"c":3}\n')
  assert_equal "$status" 65
  [[ $stderr == "ipcat: request: "*"line 2"* ]]
  assert_output '{"pong":1}'
  assert_equal "$(cat "$dir/received")" '{"a":1}'
}

@test "stdin: 5000 lines of 1 KB flow both ways without deadlock" {
  spawn_server "$sock" --echo
  pad=$(head -c 1000 /dev/zero | tr '\0' y)
  seq 1 5000 | sed "s/.*/{\"i\":&,\"pad\":\"$pad\"}/" >"$dir/in"
  run --separate-stderr request --timeout 20 "$sock" <"$dir/in"
  assert_success
  assert_equal "$output" "$(cat "$dir/in")"
}

@test "stdin: empty input sends nothing and exits 0" {
  spawn_server "$sock" --echo
  run --separate-stderr request "$sock" </dev/null
  assert_success
  assert_output ""
}

@test "stdin is never read when a BODY or ITEMs are given" {
  spawn_server "$sock" --echo
  mkfifo "$dir/stdin"
  # Opened read-write: nobody ever writes and it never reaches EOF.
  run --separate-stderr request --timeout 5 "$sock" '{"a":1}' <>"$dir/stdin"
  assert_success
  assert_output '{"a":1}'
  run --separate-stderr request --timeout 5 "$sock" a=1 <>"$dir/stdin"
  assert_success
  assert_output '{"a":"1"}'
}

# --- output -----------------------------------------------------------------------

@test "-r prints a string reply bare, other replies as JSON" {
  spawn_server "$sock" --echo
  run --separate-stderr request -r "$sock" '"hello \"world\"\tand a tab"'
  assert_success
  assert_output $'hello "world"\tand a tab'
  run --separate-stderr request --raw "$sock" '{"a":"b"}'
  assert_success
  assert_output '{"a":"b"}'
}

@test "-p pretty-prints replies" {
  spawn_server "$sock" --echo
  run --separate-stderr request -p "$sock" '{"a":[1,2],"b":{"c":null}}'
  assert_success
  assert_output '{
  "a": [
    1,
    2
  ],
  "b": {
    "c": null
  }
}'
}

@test "-q prints nothing: exit 0 for good replies, 1 for an error reply" {
  spawn_server "$sock" jq -c 'if .fail then error("boom") else . end'
  run --separate-stderr request -q "$sock" '{"fine":1}'
  assert_success
  assert_output ""
  run --separate-stderr request -q "$sock" '{"fail":true}'
  assert_equal "$status" 1
  assert_output ""
}

@test "an error reply is printed and exits 1; with stdin, every reply is still printed" {
  spawn_server "$sock" jq -c 'if .fail then error("boom") else . end'
  run --separate-stderr request "$sock" '{"fail":true}'
  assert_equal "$status" 1
  assert_json '.type == "HandlerFailed" and (.stderr | contains("boom"))'
  run --separate-stderr request "$sock" < <(printf '%s\n' '{"n":1}' '{"fail":true}' '{"n":3}')
  assert_equal "$status" 1
  assert_equal "${#lines[@]}" 3
  assert_equal "${lines[0]}" '{"n":1}'
  assert_json '.type == "HandlerFailed"' "${lines[1]}"
  assert_equal "${lines[2]}" '{"n":3}'
}

@test "-v prints the server's pid on stderr, and stdout is only the reply" {
  spawn_server "$sock" --echo
  run --separate-stderr request -v "$sock" '{"a":1}'
  assert_success
  assert_output '{"a":1}'
  [[ $stderr == *"pid=$SERVER_PID"* ]]
  [[ $stderr == *"$sock"* ]]
}

@test "the address may be unix:PATH or a relative ./PATH" {
  spawn_server "$sock" --echo
  run --separate-stderr request "unix:$sock" '{"form":"unix:"}'
  assert_success
  assert_output '{"form":"unix:"}'
  cd "$dir"
  run --separate-stderr request ./s.sock '{"form":"relative"}'
  assert_success
  assert_output '{"form":"relative"}'
}

# --- nobody there, timeouts, bad replies ------------------------------------------

@test "66: no socket at the path; the message names it" {
  run --separate-stderr request --retries 0 "$dir/none.sock" '{}'
  assert_equal "$status" 66
  [[ $stderr == "ipcat: request: $dir/none.sock: "* ]]
  assert_output ""
}

@test "66 after the retries are used up, one retry after another" {
  run --separate-stderr request -v --retries 2 --backoff 0.05 "$dir/none.sock" '{}'
  assert_equal "$status" 66
  assert_equal "$(grep -c retrying <<<"$stderr")" 2
}

@test "69: connection refused on a stale socket; the message names it" {
  stale_socket "$sock"
  run --separate-stderr request --retries 0 "$sock" '{}'
  assert_equal "$status" 69
  [[ $stderr == "ipcat: request: $sock: "*"refused"* ]]
}

@test "69: connection refused where a server was SIGKILLed" {
  spawn_server "$sock" --echo
  kill -KILL "$SERVER_PID"
  wait "$SERVER_PID" || true
  run --separate-stderr request --retries 0 "$sock" '{}'
  assert_equal "$status" 69
}

@test "75: a reply slower than --timeout" {
  spawn_server "$sock" --drain 1 "$HANDLERS/gate" "$dir"
  SECONDS=0
  run --separate-stderr request --timeout 0.5 "$sock" '{"gate":true}'
  assert_equal "$status" 75
  [[ $stderr == "ipcat: request: $sock: "*"timed out"* ]]
  ((SECONDS <= 5))
}

@test "--timeout bounds the whole command, retries and backoff included" {
  SECONDS=0
  run --separate-stderr request --timeout 1 --retries 10 --backoff 0.5 "$dir/none.sock" '{}'
  # Time ran out while nobody was there: the status says so (66), not just "timed out".
  assert_equal "$status" 66
  [[ $stderr == "ipcat: request: $dir/none.sock: no such socket"* ]]
  ((SECONDS <= 4))
}

@test "76: the server closes the connection without a reply" {
  line_server "$sock" close "$dir/received"
  run --separate-stderr request "$sock" '{"a":1}'
  assert_equal "$status" 76
  [[ $stderr == "ipcat: request: $sock: "*"closed"* ]]
  assert_output ""
}

@test "76: a handler that replies nothing to a BODY request (connection closed before a reply)" {
  spawn_server "$sock" jq -c 'select(.reply)'
  run --separate-stderr request "$sock" '{"reply":false}'
  assert_equal "$status" 76
}

@test "76: the reply is not JSON" {
  line_server "$sock" garbage
  run --separate-stderr request "$sock" '{"a":1}'
  assert_equal "$status" 76
  [[ $stderr == "ipcat: request: "*"not JSON"* ]]
}

@test "76: a reply longer than request's --max-line" {
  spawn_server "$sock" --echo
  run --separate-stderr request --max-line 100 "$sock" "\"$(head -c 200 /dev/zero | tr '\0' x)\""
  assert_equal "$status" 76
}

@test "74: the server resets the connection mid-exchange" {
  line_server "$sock" reset
  run --separate-stderr request "$sock" '{"a":1}'
  assert_equal "$status" 74
  [[ $stderr == "ipcat: request: $sock: "*"reset"* ]]
  assert_output ""
}

# --- other servers ------------------------------------------------------------------

@test "talks to a Python JSON-line server: pipelined stdin, replies in order" {
  line_server "$sock" pong "$dir/received"
  run --separate-stderr request "$sock" < <(printf '{"n":1}\n{"n":2}\n{"n":3}\n')
  assert_success
  assert_output $'{"pong":1}\n{"pong":2}\n{"pong":3}'
  assert_equal "$(cat "$dir/received")" $'{"n":1}\n{"n":2}\n{"n":3}'
}

@test "talks to socat UNIX-LISTEN,fork EXEC:cat" {
  socat "UNIX-LISTEN:$sock,fork" EXEC:cat </dev/null >/dev/null 2>&1 3>&- &
  track_pid "$!"
  wait_for "socat on $sock" 10 socket_accepts "$sock"
  run --separate-stderr request "$sock" '{"via":"socat"}'
  assert_success
  assert_output '{"via":"socat"}'
  run --separate-stderr request "$sock" < <(printf '{"n":1}\n{"n":2}\n')
  assert_success
  assert_output $'{"n":1}\n{"n":2}'
}

# --- retries ------------------------------------------------------------------------

@test "--retries/--backoff: a request started before the server is up succeeds once it is there" {
  "$IPCAT" request -v --retries 6 --backoff 0.2 --timeout 20 "$sock" '{"early":1}' \
    >"$dir/early.out" 2>"$dir/early.err" 3>&- &
  client=$!
  track_pid "$client"
  wait_for "the request to retry" 10 grep -q retrying "$dir/early.err"
  spawn_server "$sock" --echo
  reap "$client"
  assert_equal "$status" 0
  assert_equal "$(cat "$dir/early.out")" '{"early":1}'
}

@test "--retries never resends a request once it was written" {
  line_server "$sock" close "$dir/received"
  run --separate-stderr request --retries 3 --backoff 0.05 "$sock" '{"once":1}'
  assert_equal "$status" 76
  # From stdin the request may have no reply (a notification): only the count matters.
  run --separate-stderr request --retries 3 --backoff 0.05 "$sock" < <(printf '{"line":1}\n')
  assert_equal "$(cat "$dir/received")" $'{"once":1}\n{"line":1}'
}
