#!/usr/bin/env bats
# ipcat request (man/ipcat.1, ipcat request): bodies, items, stdin pipelining, output options, retries,
# and the exit codes of EXIT STATUS, against ipcat serve and against servers that are not ipcat.

load test_helper

setup() {
  sock="$BATS_TEST_TMPDIR/s.sock"
  dir="$BATS_TEST_TMPDIR"
}

teardown() {
  stop_tracked
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

@test "stdin: runs of compact lines mixed with spaced, error and too-deep lines give the same bytes, line numbers and exit" {
  spawn_server "$sock" --echo
  { seq 1 100 | sed 's/.*/{"i":&}/'; echo '{"error":"boom","type":"X"}'; printf '{ "s" : [1, 2] }\r\n\n'
    seq 101 200 | sed 's/.*/{"i":&}/'; echo '[[[[[1]]]]]'; echo '{"after":1}'; } >"$dir/in"
  { seq 1 100 | sed 's/.*/{"i":&}/'; echo '{"error":"boom","type":"X"}'; echo '{"s":[1,2]}'
    seq 101 200 | sed 's/.*/{"i":&}/'; } >"$dir/expected"
  run --separate-stderr request --max-depth 4 "$sock" <"$dir/in"
  assert_equal "$status" 65
  [[ $stderr == "ipcat: request: stdin line 203: "*"deeper than the limit of 4"* ]]
  assert_equal "$output" "$(cat "$dir/expected")"
  # Without the deep line (the blank one is not counted): every reply printed, the error one makes it 1.
  run --separate-stderr request "$sock" < <(head -n 203 "$dir/in")
  assert_equal "$status" 1
  assert_equal "$output" "$(cat "$dir/expected")"
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

# --- servers nobody here wrote (man/ipcat.1: which replies are errors, --match) ----

# json_server SOCK MODE [ARG]: a Python stand-in for a real daemon (handlers/json-servers.py).
json_server() {
  python3 "$HANDLERS/json-servers.py" "$@" </dev/null >/dev/null 2>"$dir/json-server.err" 3>&- &
  track_pid "$!"
  wait_for "json-servers.py $2 on $1" 10 socket_accepts "$1"
}

@test "error rule: mpv's {\"error\":\"success\"} and JSON-RPC 1.0's \"error\":null are replies, exit 0" {
  spawn_server "$sock" --echo
  run --separate-stderr request "$sock" '{"data":"mpv 0.35.1","request_id":0,"error":"success"}'
  assert_success
  assert_output '{"data":"mpv 0.35.1","request_id":0,"error":"success"}'
  run --separate-stderr request "$sock" '{"id":1,"result":[],"error":null}'
  assert_success
  run --separate-stderr request "$sock" '{"error":"success"}'
  assert_success
}

@test "error rule: ipcat's shape and a JSON-RPC 2.0 error exit 1; a malformed error object exits 1, never 70" {
  spawn_server "$sock" --echo
  for body in '{"error":"boom","type":"HandlerFailed"}' '{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}' \
    '{"error":"x","type":5}' '{"error":{"code":3},"type":"Forbidden"}' '{"type":null,"error":[1]}'; do
    run --separate-stderr request "$sock" "$body"
    assert_equal "$status" 1
    assert_output "$body"
  done
  # JSON-RPC 1.0, mpv, watchman, QMP: an "error" that is not null, false or
  # "success" is a failure, with or without "type".
  for body in '{"id":1,"result":null,"error":{"code":1}}' '{"request_id":1,"error":"property not found"}' \
    '{"error":"unknown command","version":"4.9.0"}' '{"error":{"class":"GenericError","desc":"no"}}'; do
    run --separate-stderr request "$sock" "$body"
    assert_equal "$status" 1
    assert_output "$body"
  done
}

@test "error rule: an error reply among stdin replies makes the exit 1; all are printed" {
  json_server "$sock" fixed '{"error":"x","type":5}'
  run --separate-stderr request "$sock" < <(printf '{"a":1}\n{"a":2}\n')
  assert_equal "$status" 1
  assert_output $'{"error":"x","type":5}\n{"error":"x","type":5}'
}

@test "--match: a server that pushes before replying; pushed lines are not replies (shown with -v)" {
  json_server "$sock" push
  # Without --match, the first line is the reply: the hello event.
  run --separate-stderr request "$sock" id:=1
  assert_output '{"event":"hello"}'
  run --separate-stderr request -v --match id "$sock" id:=7
  assert_success
  assert_output '{"pong":1,"id":7}'
  [[ $stderr == *"not a reply"*'{"event":"hello"}'* ]]
  [[ $stderr == *'{"event":"tick"}'* ]]
  # Without -v, nothing about them.
  run --separate-stderr request --match id "$sock" id:=7
  assert_success
  [[ $stderr != *hello* ]]
}

@test "--match numbers the requests that lack the key, and pairs stdin replies" {
  json_server "$sock" push
  run --separate-stderr request -vv --match id "$sock" < <(printf '{"a":1}\n{}\n{"id":"x","b":2}\n')
  assert_success
  assert_output $'{"pong":1,"id":1}\n{"pong":2,"id":2}\n{"pong":3,"id":"x"}'
  [[ $stderr == *'> {"a":1,"id":1}'* ]]
  [[ $stderr == *'> {"id":2}'* ]]
  [[ $stderr == *'> {"id":"x","b":2}'* ]]
}

@test "--match: an mpv-like server (request_id, events): a property read exits 0, a failure (no type) exits 1" {
  json_server "$sock" mpv
  run --separate-stderr request --match request_id "$sock" '{"command":["get_property","mpv-version"]}'
  assert_success
  assert_output '{"data":"mpv 0.35.1","request_id":1,"error":"success"}'
  run --separate-stderr request --match request_id "$sock" '{"command":["get_property","volume"],"request_id":42}'
  assert_success
  assert_output '{"data":100,"request_id":42,"error":"success"}'
  # mpv's failures carry no "type", but an "error" that is not "success": exit 1.
  run --separate-stderr request --match request_id "$sock" '{"command":["get_property","nope"]}'
  assert_failure 1
  assert_output '{"request_id":1,"error":"property not found"}'
}

@test "--match: a JSON-RPC 2.0 server with notifications; an error response exits 1" {
  json_server "$sock" jsonrpc
  run --separate-stderr request --match id "$sock" < <(printf '%s\n' \
    '{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}' '{"jsonrpc":"2.0","method":"fail","id":2}')
  assert_equal "$status" 1
  assert_output $'{"jsonrpc":"2.0","id":1,"result":[1]}\n{"jsonrpc":"2.0","id":2,"error":{"code":-32000,"message":"failed"}}'
  run --separate-stderr request --match id "$sock" '{"jsonrpc":"2.0","method":"echo","params":{"x":1},"id":9}'
  assert_success
  assert_output '{"jsonrpc":"2.0","id":9,"result":{"x":1}}'
}

@test "--match: a request that is not an object is exit 65" {
  json_server "$sock" push
  run --separate-stderr request --match id "$sock" '[1,2]'
  assert_equal "$status" 65
}

@test "a stream ends once every request has its reply, though the server stays open" {
  json_server "$sock" open
  SECONDS=0
  run --separate-stderr timeout 10 "$IPCAT" request --timeout 4 "$sock" < <(printf '{"a":1}\n{"a":2}\n')
  assert_success
  assert_output $'{"pong":1}\n{"pong":2}'
  ((SECONDS < 3))
}

@test "--timeout bounds each wait for a reply in stdin mode, not the whole stream" {
  json_server "$sock" slow 0.25
  SECONDS=0
  run --separate-stderr request --timeout 0.8 "$sock" < <(seq 1 6 | sed 's/.*/{"n":&}/')
  assert_success
  assert_equal "$(wc -l <<<"$output")" 6
  ((SECONDS >= 1))
}

@test "stdin mode: no time limit while no reply is owed (input that pauses longer than --timeout)" {
  spawn_server "$sock" --echo
  run --separate-stderr request --timeout 0.5 "$sock" < <(echo '{"a":1}'; sleep 1.2; echo '{"a":2}')
  assert_success
  assert_output $'{"a":1}\n{"a":2}'
}

@test "stdin mode: a reply that does not come within --timeout is 75" {
  json_server "$sock" slow 3
  SECONDS=0
  run --separate-stderr request --timeout 0.5 "$sock" < <(echo '{"a":1}')
  assert_equal "$status" 75
  [[ $stderr == "ipcat: request: $sock: timed out"* ]]
  ((SECONDS < 3))
}

@test "--timeout 0 is no limit" {
  json_server "$sock" slow 1.2
  run --separate-stderr request --timeout 0 "$sock" '{"a":1}'
  assert_success
  assert_output '{"pong":1}'
  run --separate-stderr request --timeout 0 "$sock" < <(echo '{"a":1}')
  assert_success
}

@test "76: a stream that got no reply at all, from a server that reads and closes" {
  line_server "$sock" close "$dir/received"
  run --separate-stderr request "$sock" < <(printf '{"a":1}\n')
  assert_equal "$status" 76
  [[ $stderr == "ipcat: request: $sock: connection closed before a reply" ]]
  assert_output ""
}

@test "76: 'reply is not JSON' names the address" {
  line_server "$sock" garbage
  run --separate-stderr request "$sock" '{"a":1}'
  assert_equal "$status" 76
  [[ $stderr == "ipcat: request: $sock: reply is not JSON"* ]]
}

@test "a bare name of an existing socket file is a path" {
  spawn_server "$dir/mpvsocket" --echo
  cd "$dir"
  run --separate-stderr request mpvsocket a=1
  assert_success
  assert_output '{"a":"1"}'
  # A bare name that is no socket is still not an address.
  run --separate-stderr request nosuchthing a=1
  assert_equal "$status" 64
}

@test "-vv shows the traffic, one line per message with its direction, byte-exact" {
  spawn_server "$sock" --echo
  run --separate-stderr request -vv "$sock" < <(printf '{"s": "\\u00e9", "n": 1E2}\n[1, 2]\n')
  assert_success
  [[ $stderr == *$'ipcat: request: > {"s":"\\u00e9","n":1E2}\n'* ]]
  [[ $stderr == *$'ipcat: request: > [1,2]\n'* ]]
  [[ $stderr == *$'ipcat: request: < {"s":"\\u00e9","n":1E2}\n'* ]]
  [[ $stderr == *$'ipcat: request: < [1,2]\n'* ]]
  # -v alone shows no traffic.
  run --separate-stderr request -v "$sock" '[1]'
  [[ $stderr != *"> [1]"* ]]
}

@test "64: an unknown option, even --name=value, is a usage error and never an ITEM" {
  line_server "$sock" close "$dir/received"
  for args in "--timout=1 cmd=restart" "--timout 1 cmd=restart" "-Z cmd=restart"; do
    # shellcheck disable=SC2086
    run --separate-stderr request "$sock" $args
    assert_equal "$status" 64
    [[ $stderr == *"unknown option"* || $stderr == *"--timout"* || $stderr == *"-Z"* ]]
  done
  assert_file_not_exists "$dir/received"
  # After --, a word is a word.
  spawn_server "$dir/e.sock" --echo
  run --separate-stderr request "$dir/e.sock" -- -1
  assert_success
  assert_output -- -1
}

@test "a blocked stdout is inside --timeout: 75, not as long as the reader sleeps" {
  spawn_server "$sock" --echo
  head -c 300000 /dev/zero | tr '\0' x >"$dir/big"
  # stdout is a pipe whose reader never reads (sleep 30): ipcat must give up at its
  # --timeout, and not wait for the reader. Prints "STATUS SECONDS".
  run bash -c 'exec 3> >(exec sleep 30); r=$!; s=$SECONDS
    "$1" request --timeout 1 "$2" data=@"$3" >&3 2>/dev/null; echo "$? $((SECONDS - s))"; kill "$r"' \
    bash "$IPCAT" "$sock" "$dir/big"
  [[ $output =~ ^75\ [0-9]+$ ]] || fail "want 75 and a duration, got: $output"
  ((${output#* } < 10)) || fail "request waited ${output#* } s for a reader that never reads"
  # And in stdin mode: no progress for --timeout.
  run bash -c 'exec 3> >(exec sleep 30); r=$!; s=$SECONDS
    echo "{\"d\":\"$(cat "$3")\"}" | "$1" request --timeout 1 "$2" >&3 2>/dev/null; echo "$? $((SECONDS - s))"; kill "$r"' \
    bash "$IPCAT" "$sock" "$dir/big"
  [[ $output =~ ^75\ [0-9]+$ ]] || fail "want 75 and a duration, got: $output"
  ((${output#* } < 10)) || fail "request waited ${output#* } s for a reader that never reads"
}

# --- byte-exact (man/ipcat.1, PROTOCOL) -----------------------------------------------

@test "byte-exact: big integers, 1E2, \\u00e9, duplicate keys and key order pass unchanged" {
  spawn_server "$sock" --echo
  local line='{"z":12345678901234567890123,"n":1E2,"s":"\u00e9","a":1,"a":2,"f":0.1000000000000000055511}'
  run --separate-stderr request "$sock" "$line"
  assert_success
  assert_output "$line"
  run --separate-stderr request "$sock" < <(sed 's/,/, /g; s/:/ : /g' <<<"$line")
  assert_success
  assert_output "$line"
  run --separate-stderr request "$sock" big:=18446744073709551617 s:='"\u00e9"'
  assert_output '{"big":18446744073709551617,"s":"\u00e9"}'
}

@test "byte-exact: a reply with whitespace is printed compact, values untouched" {
  json_server "$sock" verbatim
  run --separate-stderr request "$sock" < <(printf '%s\n' '{ "a" : [ 1E2 , "x y" ] , "b" : 18446744073709551617 }')
  assert_success
  assert_output '{"a":[1E2,"x y"],"b":18446744073709551617}'
}

@test "--pretty re-indents the reply; values are untouched" {
  spawn_server "$sock" --echo
  run --separate-stderr request -p "$sock" '{"a":[1E2,{"s":"\u00e9"}],"e":{},"l":[]}'
  assert_success
  assert_output "$(printf '%s\n' '{' '  "a": [' '    1E2,' '    {' '      "s": "\u00e9"' '    }' '  ],' '  "e": {},' '  "l": []' '}')"
}

@test "--max-depth: deeper requests are 65, deeper replies 76; a million levels crash nothing" {
  spawn_server "$sock" --echo
  run --separate-stderr request --max-depth 3 "$sock" '[[[1]]]'
  assert_success
  run --separate-stderr request --max-depth 3 "$sock" '[[[[1]]]]'
  assert_equal "$status" 65
  python3 -c 'd=1000000; print("["*d + "]"*d)' >"$dir/deep"
  run --separate-stderr request --max-line 4000000 "$sock" <"$dir/deep"
  assert_equal "$status" 65
  # A reply nested deeper than --max-depth is a protocol error.
  json_server "$dir/deep.sock" fixed '[[[[[1]]]]]'
  run --separate-stderr request --max-depth 4 "$dir/deep.sock" '{}'
  assert_equal "$status" 76
  run --separate-stderr request "$dir/deep.sock" '{}'
  assert_success
}

# --- mpv itself, where installed (scripts/deps installs it) ------------------------

@test "mpv: a property read exits 0; with --match request_id its events are never the reply" {
  spawn_mpv "$dir/mpvsocket"
  cd "$dir"
  run --separate-stderr request mpvsocket '{"command":["get_property","mpv-version"]}'
  assert_success
  assert_json '.error == "success" and (.data | startswith("mpv "))'
  run --separate-stderr request --match request_id mpvsocket '{"command":["get_property","idle-active"]}'
  assert_success
  assert_json '.request_id == 1 and .data == true'
  run --separate-stderr request --match request_id mpvsocket < <(printf '%s\n' \
    '{"command":["set_property","volume",40]}' '{"command":["get_property","volume"]}')
  assert_success
  assert_equal "$(wc -l <<<"$output")" 2
}

# --- health checks (man/ipcat.1, EXAMPLES; examples/health-check) ------------------

@test "health-check: the documented probe ends with its own status inside a 1 s budget (timeout 1)" {
  local probe="$BATS_TEST_DIRNAME/../../examples/health-check/probe.sh"
  # Not running: no socket (66), a stale one (69): at once, never killed (124).
  run env IPCAT="$IPCAT" timeout 1 "$probe" "$sock" </dev/null
  assert_equal "$status" 66
  stale_socket "$sock"
  run env IPCAT="$IPCAT" timeout 1 "$probe" "$sock" </dev/null
  assert_equal "$status" 69
  rm -f "$sock"
  # Stuck: it accepts, never answers (75); healthy (0); an error reply (1).
  json_server "$sock" slow 30
  run env IPCAT="$IPCAT" timeout 1 "$probe" "$sock" </dev/null
  assert_equal "$status" 75
  json_server "$dir/ok.sock" fixed '{"pong":true}'
  run env IPCAT="$IPCAT" timeout 1 "$probe" "$dir/ok.sock" <&-
  assert_success
  assert_output ""
  json_server "$dir/err.sock" fixed '{"error":"db down","type":"Unhealthy"}'
  run env IPCAT="$IPCAT" timeout 1 "$probe" "$dir/err.sock" </dev/null
  assert_equal "$status" 1
}
