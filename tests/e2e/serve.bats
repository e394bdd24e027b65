#!/usr/bin/env bats
# ipcat serve in request mode (HANDLER) and with --echo: wire protocol (man/ipcat.1,
# PROTOCOL), handler contract, limits, socket, lifecycle and log (ipcat serve, LOG). socat is the client wherever the
# server's own bytes matter.

load test_helper

setup() {
  sock="$BATS_TEST_TMPDIR/s.sock"
  dir="$BATS_TEST_TMPDIR"
}

teardown() {
  stop_tracked
}

# raw_client SOCK: socat as the client: stdin to the socket, replies to stdout; after
# stdin's EOF it waits (up to 10 s) for the server to close.
raw_client() {
  timeout 20 socat -t 10 - "UNIX-CONNECT:$1"
}

# socket_refuses SOCK: true once nothing accepts connections on SOCK.
socket_refuses() {
  ! socket_accepts "$1"
}

# log_events_at_least FILE EVENT N: true once the JSON log FILE has N lines of EVENT.
log_events_at_least() {
  [ "$(grep -c "\"event\":\"$2\"" "$1")" -ge "$3" ]
}

# log_lines_at_least FILE PATTERN N: true once FILE has N lines matching PATTERN.
log_lines_at_least() {
  [ "$(grep -c -- "$2" "$1")" -ge "$3" ]
}

# --- echo and framing ---------------------------------------------------------

@test "echo: a request comes back as its reply" {
  spawn_server "$sock" --echo
  run --separate-stderr request "$sock" '{"hello":"world","n":1}'
  assert_success
  assert_output '{"hello":"world","n":1}'
  assert_equal "$stderr" ""
}

@test "echo: keys keep their order and the reply is re-encoded compactly" {
  spawn_server "$sock" --echo
  run raw_client "$sock" <<<'{ "zeta" : 1 ,	"alpha" : [ 1 , 2 , { "y" : null , "b" : true } ] , "mid" : "a b" }'
  assert_success
  assert_output '{"zeta":1,"alpha":[1,2,{"y":null,"b":true}],"mid":"a b"}'
}

@test "echo: any JSON value is a request, not only objects" {
  spawn_server "$sock" --echo
  run raw_client "$sock" < <(printf '%s\n' '[1, 2]' '"text"' '42' 'null' 'true')
  assert_success
  assert_output $'[1,2]\n"text"\n42\nnull\ntrue'
}

@test "echo: 1000 requests pipelined on one connection are answered in order" {
  spawn_server "$sock" --echo
  seq 1 1000 | sed 's/.*/{"n":&}/' >"$dir/in"
  run --separate-stderr request "$sock" <"$dir/in"
  assert_success
  assert_equal "$output" "$(cat "$dir/in")"
}

@test "echo: a 5 MB request and its reply pass through intact (with --max-line 8 MB)" {
  spawn_server "$sock" --echo --max-line 8000000
  printf '{"k":"%s"}\n' "$(head -c 5000000 /dev/zero | tr '\0' x)" >"$dir/big"
  run --separate-stderr request --timeout 20 "$sock" <"$dir/big"
  assert_success
  assert_equal "$output" "$(cat "$dir/big")"
}

@test "socat as the client: 1000 pipelined lines, 1000 replies in order" {
  spawn_server "$sock" --echo
  seq 1 1000 | sed 's/.*/["socat",&]/' >"$dir/in"
  run raw_client "$sock" <"$dir/in"
  assert_success
  assert_equal "$output" "$(cat "$dir/in")"
}

@test "blank and whitespace-only lines are ignored and a trailing \\r is dropped" {
  spawn_server "$sock" --echo
  run raw_client "$sock" < <(printf '{"a":1}\r\n\n   \n\t\r\n\r\n{"b":2}\r\n')
  assert_success
  assert_output $'{"a":1}\n{"b":2}'
}

@test "a final line without a newline at EOF is still answered" {
  spawn_server "$sock" --echo
  run raw_client "$sock" < <(printf '{"a":1}\n{"last":true}')
  assert_success
  assert_output $'{"a":1}\n{"last":true}'
}

@test "ParseError for a line that is not JSON; the connection stays usable" {
  spawn_server "$sock" --echo
  run raw_client "$sock" < <(printf '%s\n' '{"a":' 'hello' '{"ok":1}')
  assert_success
  assert_equal "${#lines[@]}" 3
  assert_json '.type == "ParseError" and (.error | type == "string")' "${lines[0]}"
  assert_json '.type == "ParseError"' "${lines[1]}"
  assert_equal "${lines[2]}" '{"ok":1}'
}

@test "ParseError for invalid UTF-8; the reply is valid UTF-8 and the connection stays usable" {
  spawn_server "$sock" --echo
  run raw_client "$sock" < <(printf '\xff\n{"s":"\xc3\x28"}\n{"ok":2}\n')
  assert_success
  assert_equal "${#lines[@]}" 3
  assert_json '.type == "ParseError"' "${lines[0]}"
  assert_json '.type == "ParseError"' "${lines[1]}"
  assert_equal "${lines[2]}" '{"ok":2}'
  iconv -f UTF-8 -t UTF-8 <<<"$output" >/dev/null
}

@test "ParseError: a line that is not JSON never reaches the handler" {
  spawn_server "$sock" "$HANDLERS/gate" "$dir"
  run raw_client "$sock" < <(printf '%s\n' 'not json' '{"ok":3}')
  assert_success
  assert_equal "${#lines[@]}" 2
  assert_json '.type == "ParseError"' "${lines[0]}"
  assert_equal "${lines[1]}" '{"ok":3}'
  assert_equal "$(cat "$dir/done")" '{"ok":3}'
}

@test "--max-line: a longer line gets LineTooLong with the limit, then the connection is closed" {
  spawn_server "$sock" --echo --max-line 100
  long="{\"k\":\"$(head -c 200 /dev/zero | tr '\0' x)\"}"
  # The reply may be followed by a reset (the rest of our input is never read):
  # only what came back counts, and that the server closed (socat did not time out).
  run raw_client "$sock" < <(printf '%s\n%s\n' "$long" '{"after":1}')
  refute [ "$status" -eq 124 ]
  assert_equal "${#lines[@]}" 1
  assert_json '.type == "LineTooLong" and .limit == 100' "${lines[0]}"
  # Other connections are not affected.
  run request "$sock" '{"next":"connection"}'
  assert_success
  assert_output '{"next":"connection"}'
}

@test "--max-line: a line of exactly the limit is accepted, one byte more is not" {
  spawn_server "$sock" --echo --max-line 100
  exact="{\"k\":\"$(head -c 92 /dev/zero | tr '\0' x)\"}"
  assert_equal "${#exact}" 100
  run raw_client "$sock" <<<"$exact"
  assert_success
  assert_output "$exact"
  run raw_client "$sock" <<<"${exact%\"\}}x\"}"
  assert_json '.type == "LineTooLong"' "${lines[0]}"
}

@test "--max-line defaults to 1 MiB" {
  spawn_server "$sock" --echo
  printf '"%s"\n' "$(head -c $((1048576 - 2)) /dev/zero | tr '\0' x)" >"$dir/fits"
  run --separate-stderr request --timeout 20 "$sock" <"$dir/fits"
  assert_success
  assert_equal "$output" "$(cat "$dir/fits")"
  printf '"%s"\n' "$(head -c $((1048576 - 1)) /dev/zero | tr '\0' x)" >"$dir/too-long"
  run raw_client "$sock" <"$dir/too-long"
  assert_json '.type == "LineTooLong" and .limit == 1048576' "${lines[0]}"
}

@test "--max-line: an endless line without a newline is answered LineTooLong, not buffered" {
  spawn_server "$sock" --echo --max-line 100
  # A client that streams 1 MiB with no newline, then reads one line.
  run timeout 20 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
try:
    for _ in range(1024):
        s.sendall(b"x" * 1024)
except OSError:
    pass
print(s.makefile().readline(), end="")
' "$sock"
  assert_success
  assert_json '.type == "LineTooLong" and .limit == 100'
}

# --- request mode: the handler contract ---------------------------------------

@test "handler: gets the request on stdin and its stdout is the reply; ARGs are passed as given" {
  spawn_server "$sock" jq -c '{got: ., args: $ARGS.positional}' --args one 'two words' '$HOME *'
  run --separate-stderr request "$sock" '{"a":[1,2]}'
  assert_success
  assert_output '{"got":{"a":[1,2]},"args":["one","two words","$HOME *"]}'
}

@test "handler: its stdin is exactly the request line and a newline, then EOF" {
  spawn_server "$sock" jq -R -s -c '{raw: .}'
  run --separate-stderr request "$sock" '{"a":"b c"}'
  assert_success
  assert_output '{"raw":"{\"a\":\"b c\"}\n"}'
}

@test "handler: one that never reads its stdin still replies, even to a request larger than a pipe" {
  spawn_server "$sock" echo '{"ignored":"stdin"}'
  printf '{"k":"%s"}\n' "$(head -c 300000 /dev/zero | tr '\0' x)" >"$dir/big"
  run --separate-stderr request --timeout 10 "$sock" <"$dir/big"
  assert_success
  assert_output '{"ignored":"stdin"}'
  run --separate-stderr request "$sock" '{}'
  assert_success
  assert_output '{"ignored":"stdin"}'
}

@test "handler: inherits no descriptor beyond 0-2 (no listening socket, no connection)" {
  spawn_server "$sock" "$HANDLERS/list-fds"
  # Another connection is open meanwhile: its socket must not leak either.
  python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
open(sys.argv[2], "w").close()
time.sleep(30)
' "$sock" "$dir/connected" </dev/null >/dev/null 2>&1 3>&- &
  track_pid "$!"
  wait_for "the other connection" 10 test -e "$dir/connected"
  run --separate-stderr request "$sock" '{}'
  assert_success
  assert_output '[0,1,2]'
}

@test "handler: a background process it leaves behind does not hold its reply back" {
  spawn_server "$sock" --timeout 30 sh -c 'cat >/dev/null; echo "{\"left\":$$}"; sleep 60 &'
  run --separate-stderr request --timeout 5 "$sock" '{}'
  assert_success
  assert_json '.left | type == "number"'
}

@test "handler: a large stderr is drained as it comes and does not block a successful handler" {
  spawn_server "$sock" sh -c 'cat >/dev/null; head -c 1000000 /dev/zero >&2; echo "{\"ok\":true}"'
  run --separate-stderr request --timeout 10 "$sock" '{}'
  assert_success
  assert_output '{"ok":true}'
}

@test "handler: surrounding whitespace in its output is dropped and the reply re-encoded compactly" {
  spawn_server "$sock" printf '\n  { "b" : 2 ,  "a" : [ 1 ] }  \n\n'
  run --separate-stderr request "$sock" '{}'
  assert_success
  assert_output '{"b":2,"a":[1]}'
}

@test "handler: empty stdout sends no reply (a notification); later replies keep their order" {
  spawn_server "$sock" jq -c 'select(.reply)'
  run --separate-stderr request "$sock" \
    < <(printf '%s\n' '{"id":1,"reply":true}' '{"id":2}' '{"id":3,"reply":true}' '{"id":4}')
  assert_success
  assert_output $'{"id":1,"reply":true}\n{"id":3,"reply":true}'
}

@test "handler: non-zero exit gives HandlerFailed with the status and stderr; the connection stays open" {
  spawn_server "$sock" "$HANDLERS/fail" 3
  run --separate-stderr request "$sock" < <(printf '%s\n' '{"a":1}' '{"a":2}')
  assert_equal "$status" 1
  assert_equal "${#lines[@]}" 2
  for line in "${lines[@]}"; do
    assert_json '.type == "HandlerFailed" and .status == 3 and (has("signal") | not)
      and .stderr == "something went wrong\nthe last words" and (.error | type == "string")' "$line"
  done
}

@test "handler: only the tail of a long stderr goes into HandlerFailed" {
  spawn_server "$sock" "$HANDLERS/fail" 1 200000
  run --separate-stderr request "$sock" '{}'
  assert_equal "$status" 1
  assert_json '.type == "HandlerFailed" and .status == 1
    and (.stderr | endswith("something went wrong\nthe last words"))
    and (.stderr | length) < 65536'
}

@test "handler: killed by a signal gives HandlerFailed with the signal" {
  spawn_server "$sock" "$HANDLERS/die-by-signal" KILL
  run --separate-stderr request "$sock" '{}'
  assert_equal "$status" 1
  assert_json '.type == "HandlerFailed" and .signal == 9 and (has("status") | not)'
}

@test "handler: output that is not JSON gives BadHandlerOutput; the connection stays open" {
  spawn_server "$sock" echo 'this is not JSON'
  run --separate-stderr request "$sock" < <(printf '%s\n' '{"a":1}' '{"a":2}')
  assert_equal "$status" 1
  assert_equal "${#lines[@]}" 2
  assert_json '.type == "BadHandlerOutput"' "${lines[0]}"
  assert_json '.type == "BadHandlerOutput"' "${lines[1]}"
}

@test "handler: two JSON values, or NaN, are not one JSON value: BadHandlerOutput" {
  spawn_server "$sock" printf '{"a":1}\n{"b":2}\n'
  run --separate-stderr request "$sock" '{}'
  assert_equal "$status" 1
  assert_json '.type == "BadHandlerOutput"'

  sock2="$dir/nan.sock"
  spawn_server "$sock2" echo '{"x":NaN}'
  run --separate-stderr request "$sock2" '{}'
  assert_equal "$status" 1
  assert_json '.type == "BadHandlerOutput"'
}

@test "handler: output over --max-output gives BadHandlerOutput with the limit" {
  spawn_server "$sock" --max-output 1000 "$HANDLERS/big-reply" 2000
  run --separate-stderr request "$sock" '{}'
  assert_equal "$status" 1
  assert_json '.type == "BadHandlerOutput" and .limit == 1000'
}

@test "handler: output within --max-output is a normal reply" {
  spawn_server "$sock" --max-output 1000 "$HANDLERS/big-reply" 900
  run --separate-stderr request "$sock" '{}'
  assert_success
  assert_json 'type == "string" and length == 900'
}

@test "handler: --max-output defaults to 1 MiB" {
  spawn_server "$sock" "$HANDLERS/big-reply" 1000000
  run --separate-stderr request "$sock" '{}'
  assert_success
  assert_json 'length == 1000000'
  sock2="$dir/over.sock"
  spawn_server "$sock2" "$HANDLERS/big-reply" 1100000
  run --separate-stderr request "$sock2" '{}'
  assert_equal "$status" 1
  assert_json '.type == "BadHandlerOutput" and .limit == 1048576'
}

@test "handler: endless output is cut off at --max-output; the server carries on" {
  spawn_server "$sock" --max-output 4096 yes
  run --separate-stderr request --timeout 10 "$sock" < <(printf '%s\n' '{"a":1}' '{"a":2}')
  assert_equal "$status" 1
  assert_equal "${#lines[@]}" 2
  assert_json '.type == "BadHandlerOutput" and .limit == 4096' "${lines[0]}"
  assert_json '.type == "BadHandlerOutput" and .limit == 4096' "${lines[1]}"
  process_running "$SERVER_PID"
}

@test "handler: over --timeout gives HandlerTimeout, and its grandchild is killed too" {
  spawn_server "$sock" --timeout 0.5 "$HANDLERS/grandchild" "$dir/grandchild.pid"
  run --separate-stderr request --timeout 10 "$sock" '{}'
  assert_equal "$status" 1
  assert_json '.type == "HandlerTimeout"'
  [ -s "$dir/grandchild.pid" ]
  wait_for "the handler's grandchild to be killed" 5 process_gone "$(cat "$dir/grandchild.pid")"
}

@test "handler: a --timeout below a millisecond is 1 ms, never none (man/ipcat.1, Durations)" {
  spawn_server "$sock" --timeout 0.0001 --kill-after 0.0001 sh -c 'cat >/dev/null; exec sleep 30'
  run --separate-stderr request --timeout 10 "$sock" '{}'
  assert_equal "$status" 1
  assert_json '.type == "HandlerTimeout" and .limit == 0.001'
}

@test "handler: one that ignores SIGTERM is killed (with its grandchild) after the grace period" {
  spawn_server "$sock" --timeout 0.5 --kill-after 0.5 "$HANDLERS/grandchild" "$dir/grandchild.pid" ignore-term
  run --separate-stderr request --timeout 10 "$sock" '{}'
  assert_equal "$status" 1
  assert_json '.type == "HandlerTimeout"'
  wait_for "the handler's grandchild to be killed" 5 process_gone "$(cat "$dir/grandchild.pid")"
}

@test "handler: HandlerTimeout leaves the connection open for the next request" {
  spawn_server "$sock" --timeout 0.5 "$HANDLERS/grandchild" "$dir/grandchild.pid"
  run --separate-stderr request --timeout 10 "$sock" < <(printf '%s\n' '{"n":1}' '{"n":2}')
  assert_equal "$status" 1
  assert_equal "${#lines[@]}" 2
  assert_json '.type == "HandlerTimeout"' "${lines[0]}"
  assert_json '.type == "HandlerTimeout"' "${lines[1]}"
}

@test "handler: gets PROTO, UNIXLOCALPATH, UNIXREMOTEEUID/EGID/PID, IPCAT_CONNECTION, IPCAT_REQUEST" {
  spawn_server "$sock" "$HANDLERS/env-dump" "$dir"
  # Two requests on one connection, from a client whose pid we know.
  run --separate-stderr bash -c 'echo $$ >"$1/client.pid"; exec "$IPCAT" request --timeout 10 "$2"' \
    _ "$dir" "$sock" < <(printf '{}\n{}\n')
  assert_success
  c=$(jq -r .connection <<<"${lines[0]}")
  [[ $c =~ ^[1-9][0-9]*$ ]]
  assert_output "{\"connection\":\"$c\",\"request\":\"1\"}"$'\n'"{\"connection\":\"$c\",\"request\":\"2\"}"
  env="$dir/env.$c.1"
  assert_file_exists "$env"
  assert_equal "$(grep -E '^(PROTO|UNIXLOCALPATH|UNIXREMOTEEUID|UNIXREMOTEEGID|UNIXREMOTEPID)=' "$env" | sort)" \
    "$(printf '%s\n' "PROTO=UNIX" "UNIXLOCALPATH=$sock" "UNIXREMOTEEGID=$(id -g)" \
      "UNIXREMOTEEUID=$(id -u)" "UNIXREMOTEPID=$(cat "$dir/client.pid")")"
  assert_equal "$(grep -E '^IPCAT_(CONNECTION|REQUEST)=' "$dir/env.$c.2" | sort)" \
    "$(printf '%s\n' "IPCAT_CONNECTION=$c" "IPCAT_REQUEST=2")"
  # The next connection is numbered one more, its first request 1.
  run --separate-stderr request "$sock" '{}'
  assert_success
  assert_output "{\"connection\":\"$((c + 1))\",\"request\":\"1\"}"
}

@test "handler: IPCAT_CONNECTION counts connections from 1" {
  # No readiness probe here (it would be connection 1): the socket appears only once
  # it listens, so its existence is enough.
  "$IPCAT" serve "$sock" "$HANDLERS/env-dump" "$dir" </dev/null >/dev/null 2>"$dir/serve.err" 3>&- &
  track_pid "$!"
  wait_for "the socket" 10 test -S "$sock"
  run --separate-stderr request "$sock" '{}'
  assert_success
  assert_output '{"connection":"1","request":"1"}'
}

@test "handler: UCSPI and IPCAT_ variables in serve's own environment are replaced, not duplicated" {
  PROTO=TCP UNIXLOCALPATH=/elsewhere UNIXREMOTEPID=1 UNIXREMOTEEUID=4242 UNIXREMOTEEGID=4242 \
    IPCAT_CONNECTION=99 IPCAT_REQUEST=99 spawn_server "$sock" "$HANDLERS/env-dump" "$dir"
  run --separate-stderr request "$sock" '{}'
  assert_success
  c=$(jq -r .connection <<<"$output")
  assert_output "{\"connection\":\"$c\",\"request\":\"1\"}"
  env="$dir/env.$c.1"
  assert_file_exists "$env"
  assert_equal "$(grep -E '^(PROTO|UNIXLOCALPATH|UNIXREMOTEEUID|UNIXREMOTEEGID|IPCAT_CONNECTION|IPCAT_REQUEST)=' "$env" | sort)" \
    "$(printf '%s\n' "IPCAT_CONNECTION=$c" "IPCAT_REQUEST=1" "PROTO=UNIX" "UNIXLOCALPATH=$sock" \
      "UNIXREMOTEEGID=$(id -g)" "UNIXREMOTEEUID=$(id -u)")"
  assert_equal "$(grep -c '^UNIXREMOTEPID=' "$env")" 1
}

@test "handler: LISTEN_* and NOTIFY_SOCKET are not passed on; other variables are" {
  LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=x NOTIFY_SOCKET="$dir/nobody.sock" IPCAT_TEST_KEEP='kept value' \
    spawn_server "$sock" "$HANDLERS/env-dump" "$dir"
  run --separate-stderr request "$sock" '{}'
  assert_success
  c=$(jq -r .connection <<<"$output")
  env="$dir/env.$c.1"
  assert_file_exists "$env"
  run grep -E '^(LISTEN_[A-Z]+|NOTIFY_SOCKET)=' "$env"
  assert_failure
  grep -qx 'IPCAT_TEST_KEEP=kept value' "$env"
}

@test "handler: exec'd directly, never through a shell: neither its ARGs nor request data run" {
  spawn_server "$sock" jq -c --arg a "\$(touch $dir/from-arg); touch $dir/from-arg2 *" '{arg: $a, req: .}'
  body="{\"x\":\"\$(touch $dir/from-request)\",\"y\":\"\`touch $dir/backtick\`; touch $dir/semi\"}"
  run --separate-stderr request "$sock" "$body"
  assert_success
  assert_json ".arg == \"\$(touch $dir/from-arg); touch $dir/from-arg2 *\""
  assert_json ".req == $body"
  for f in from-arg from-arg2 from-request backtick semi; do
    assert_file_not_exists "$dir/$f"
  done
}

@test "serve: a handler that does not exist is reported at start, and no socket is made" {
  run --separate-stderr timeout 10 "$IPCAT" serve "$sock" "$dir/no-such-handler"
  assert_equal "$status" 66
  [[ $stderr == "ipcat: serve: "*"$dir/no-such-handler"*"not found"* ]]
  assert_file_not_exists "$sock"

  run --separate-stderr timeout 10 "$IPCAT" serve "$sock" no-such-handler-on-path
  assert_equal "$status" 66
  [[ $stderr == "ipcat: serve: "*"no-such-handler-on-path"*"not found"* ]]
  assert_file_not_exists "$sock"
}

@test "serve: a handler that is not executable is reported at start" {
  printf '#!/bin/sh\necho {}\n' >"$dir/not-executable"
  chmod 0644 "$dir/not-executable"
  run --separate-stderr timeout 10 "$IPCAT" serve "$sock" "$dir/not-executable"
  assert_equal "$status" 77
  [[ $stderr == "ipcat: serve: "*"$dir/not-executable"*"not executable"* ]]
  assert_file_not_exists "$sock"
}

@test "serve: --echo together with a HANDLER, or neither, is a usage error" {
  run --separate-stderr timeout 10 "$IPCAT" serve "$sock" --echo cat
  assert_equal "$status" 64
  [[ $stderr == "ipcat: serve: "* ]]
  run --separate-stderr timeout 10 "$IPCAT" serve "$sock"
  assert_equal "$status" 64
  [[ $stderr == "ipcat: serve: "* ]]
  assert_file_not_exists "$sock"
}

@test "serve: '--' before HANDLER ends serve's options; what follows is the handler's argv" {
  spawn_server "$sock" --timeout 5 -- jq -c --arg opt --echo '{opt: $opt, req: .}'
  run --separate-stderr request "$sock" '{"a":1}'
  assert_success
  assert_output '{"opt":"--echo","req":{"a":1}}'
}

# --- concurrency ----------------------------------------------------------------

@test "a slow handler on one connection does not delay another connection" {
  spawn_server "$sock" --drain 2 "$HANDLERS/gate" "$dir"
  "$IPCAT" request --timeout 30 "$sock" '{"gate":true}' >"$dir/slow.out" 2>&1 3>&- &
  slow=$!
  track_pid "$slow"
  wait_for "the slow handler to start" 10 test -e "$dir/started"
  run --separate-stderr request --timeout 5 "$sock" '{"fast":1}'
  assert_success
  assert_output '{"fast":1}'
  # The slow one was still waiting all along; let it go.
  process_running "$slow"
  touch "$dir/release"
  reap "$slow"
  assert_equal "$status" 0
  assert_equal "$(cat "$dir/slow.out")" '{"gate":true}'
}

@test "replies on one connection come in request order even when a later handler finishes first" {
  spawn_server "$sock" --drain 2 "$HANDLERS/gate" "$dir"
  timeout 30 socat -t 20 - "UNIX-CONNECT:$sock" >"$dir/out" 3>&- \
    < <(printf '%s\n' '{"id":1,"gate":true}' '{"id":2}' '{"id":3}') &
  client=$!
  track_pid "$client"
  wait_for "the first handler to start" 10 test -e "$dir/started"
  wait_for "the later handlers to finish" 10 grep -q '"id":3' "$dir/done"
  # Finished, but not sent: the first reply is not there yet.
  assert_equal "$(cat "$dir/out")" ""
  touch "$dir/release"
  wait_for "the client to finish" 10 process_gone "$client"
  assert_equal "$(cat "$dir/out")" $'{"id":1,"gate":true}\n{"id":2}\n{"id":3}'
}

@test "--max-handlers 1 makes concurrent requests wait their turn, and all are answered" {
  spawn_server "$sock" --max-handlers 1 -v --log-format json "$HANDLERS/exclusive" "$dir"
  "$IPCAT" request --timeout 30 "$sock" '{"gate":true}' >"$dir/a.out" 2>&1 3>&- &
  a=$!
  track_pid "$a"
  wait_for "the first handler to start" 10 test -e "$dir/started"
  "$IPCAT" request --timeout 30 "$sock" '{"n":2}' >"$dir/b.out" 2>&1 3>&- &
  b=$!
  track_pid "$b"
  "$IPCAT" request --timeout 30 "$sock" '{"n":3}' >"$dir/c.out" 2>&1 3>&- &
  c=$!
  track_pid "$c"
  # All three requests are in the server; only one handler runs.
  wait_for "three requests received" 10 log_events_at_least "$SERVER_ERR" request 3
  assert_equal "$(pgrep -c -P "$SERVER_PID")" 1
  touch "$dir/release"
  for p in "$a" "$b" "$c"; do
    reap "$p"
    assert_equal "$status" 0
  done
  for f in a b c; do
    assert_equal "$(cat "$dir/$f.out")" '{"overlap":false}'
  done
}

@test "20 clients at once are all answered" {
  spawn_server "$sock" --echo
  pids=()
  for i in $(seq 1 20); do
    "$IPCAT" request --timeout 20 "$sock" "{\"client\":$i}" >"$dir/client.$i" 2>&1 3>&- &
    pids+=("$!")
    track_pid "$!"
  done
  for i in $(seq 1 20); do
    reap "${pids[i - 1]}"
    assert_equal "$status" 0
    assert_equal "$(cat "$dir/client.$i")" "{\"client\":$i}"
  done
}

@test "a client that never reads its replies does not hold up other clients" {
  # --drain 1: at teardown the greedy client's unread replies can never be delivered.
  spawn_server "$sock" --echo --drain 1
  # Sends 10 KB requests as fast as it can and never reads; says so once the server
  # has stopped taking more (its sends stall for half a second).
  python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.setblocking(False)
line = b"{\"pad\":\"" + b"z" * 10000 + b"\"}\n"
stalled_since = None
while True:
    try:
        s.send(line)
        stalled_since = None
    except BlockingIOError:
        now = time.monotonic()
        stalled_since = stalled_since or now
        if now - stalled_since > 0.5:
            break
        time.sleep(0.05)
open(sys.argv[2], "w").close()
time.sleep(30)
' "$sock" "$dir/stalled" </dev/null >/dev/null 2>&1 3>&- &
  track_pid "$!"
  wait_for "the greedy client to stall" 20 test -e "$dir/stalled"
  run --separate-stderr request --timeout 5 "$sock" '{"other":"client"}'
  assert_success
  assert_output '{"other":"client"}'
}

@test "a request received whole runs to completion after its client has gone" {
  spawn_server "$sock" --drain 2 "$HANDLERS/gate" "$dir"
  run --separate-stderr request --timeout 0.5 --retries 0 "$sock" '{"gate":true,"abandoned":1}'
  assert_equal "$status" 75
  wait_for "the handler to start" 10 test -e "$dir/started"
  touch "$dir/release"
  wait_for "the abandoned request to be handled" 10 grep -qx '{"gate":true,"abandoned":1}' "$dir/done"
  run --separate-stderr request "$sock" '{"after":1}'
  assert_success
  assert_output '{"after":1}'
}

# --- the socket ------------------------------------------------------------------

@test "the socket is created 0600 whatever the umask, and nothing else is left beside it" {
  mkdir "$dir/run"
  sock="$dir/run/s.sock"
  umask 000
  spawn_server "$sock" --echo
  umask 022
  assert_equal "$(stat -c %a "$sock")" 600
  assert_equal "$(ls -A "$dir/run")" "s.sock"
}

@test "--socket-mode 0660 is applied whatever the umask" {
  umask 077
  spawn_server "$sock" --echo --socket-mode 0660
  umask 022
  assert_equal "$(stat -c %a "$sock")" 660
}

@test "a socket path of 107 bytes, the most sun_path holds, works and gets its mode" {
  local name
  name=$(head -c $((107 - ${#dir} - 1)) /dev/zero | tr '\0' s)
  sock="$dir/$name"
  assert_equal "${#sock}" 107
  umask 000
  spawn_server "$sock" --echo
  umask 022
  assert_equal "$(stat -c %a "$sock")" 600
  run --separate-stderr request "$sock" '{"long":"path"}'
  assert_success
  assert_output '{"long":"path"}'
}

@test "a path too long for sun_path is a clear error" {
  long="$dir/$(head -c 120 /dev/zero | tr '\0' d).sock"
  run --separate-stderr timeout 10 "$IPCAT" serve "$long" --echo
  assert_equal "$status" 64
  [[ $stderr == "ipcat: serve: $long: "*"sun_path"* ]]
  assert_file_not_exists "$long"
}

@test "a socket path in a directory that does not exist is an error naming it" {
  run --separate-stderr timeout 10 "$IPCAT" serve "$dir/missing/s.sock" --echo
  assert_equal "$status" 73
  [[ $stderr == "ipcat: serve: $dir/missing/s.sock: "* ]]
  assert_file_not_exists "$dir/missing"
}

@test "--socket-mode that is not an octal mode is a usage error" {
  for mode in 999 rw-rw---- 0x1ff ''; do
    run --separate-stderr timeout 10 "$IPCAT" serve "$sock" --echo --socket-mode "$mode"
    assert_equal "$status" 64
    [[ $stderr == "ipcat: serve: "*"--socket-mode"* ]]
  done
  assert_file_not_exists "$sock"
}

@test "a live socket at the path is refused with an error naming it; the first server still serves" {
  spawn_server "$sock" --echo
  first=$SERVER_PID
  run --separate-stderr timeout 10 "$IPCAT" serve "$sock" --echo
  assert_equal "$status" 73
  [[ $stderr == "ipcat: serve: $sock: "* ]]
  process_running "$first"
  run --separate-stderr request "$sock" '{"still":"here"}'
  assert_success
  assert_output '{"still":"here"}'
}

@test "a stale socket left by a SIGKILLed server is replaced" {
  spawn_server "$sock" --echo
  kill -KILL "$SERVER_PID"
  wait "$SERVER_PID" || true
  [ -S "$sock" ]
  spawn_server "$sock" --echo
  run --separate-stderr request "$sock" '{"second":"server"}'
  assert_success
  assert_output '{"second":"server"}'
}

@test "a regular file at the path is left untouched, with an error naming it" {
  echo precious >"$sock"
  run --separate-stderr timeout 10 "$IPCAT" serve "$sock" --echo
  assert_equal "$status" 73
  [[ $stderr == "ipcat: serve: $sock: "*"not a socket"* ]]
  assert_equal "$(cat "$sock")" precious
}

@test "a directory or a FIFO at the path is left untouched, with an error" {
  mkdir "$sock"
  run --separate-stderr timeout 10 "$IPCAT" serve "$sock" --echo
  assert_equal "$status" 73
  [[ $stderr == "ipcat: serve: $sock: "* ]]
  [ -d "$sock" ]
  fifo="$dir/f.sock"
  mkfifo "$fifo"
  run --separate-stderr timeout 10 "$IPCAT" serve "$fifo" --echo
  assert_equal "$status" 73
  [[ $stderr == "ipcat: serve: $fifo: "* ]]
  [ -p "$fifo" ]
}

# --- lifecycle ---------------------------------------------------------------------

@test "SIGTERM: exit 0 and the socket is removed" {
  spawn_server "$sock" --echo
  kill -TERM "$SERVER_PID"
  reap "$SERVER_PID"
  assert_equal "$status" 0
  assert_file_not_exists "$sock"
}

@test "SIGINT: exit 0 and the socket is removed" {
  spawn_server "$sock" --echo
  kill -INT "$SERVER_PID"
  reap "$SERVER_PID"
  assert_equal "$status" 0
  assert_file_not_exists "$sock"
}

@test "SIGTERM while a request is in flight: it is still answered, new connections are refused" {
  spawn_server "$sock" --drain 10 "$HANDLERS/gate" "$dir"
  "$IPCAT" request --timeout 30 "$sock" '{"gate":true}' >"$dir/inflight.out" 2>&1 3>&- &
  client=$!
  track_pid "$client"
  wait_for "the handler to start" 10 test -e "$dir/started"
  kill -TERM "$SERVER_PID"
  wait_for "the socket to stop accepting" 10 socket_refuses "$sock"
  run --separate-stderr request --retries 0 "$sock" '{"new":1}'
  [[ $status == 66 || $status == 69 ]]
  process_running "$SERVER_PID"
  touch "$dir/release"
  reap "$client"
  assert_equal "$status" 0
  assert_equal "$(cat "$dir/inflight.out")" '{"gate":true}'
  reap "$SERVER_PID"
  assert_equal "$status" 0
  assert_file_not_exists "$sock"
}

@test "a request arriving on an open connection during the drain gets ShuttingDown, after the reply in flight" {
  spawn_server "$sock" --drain 10 "$HANDLERS/gate" "$dir"
  mkfifo "$dir/in"
  # socat reads the FIFO opened read-write: it never sees EOF, so the connection stays
  # open until the server closes it (socat ends 0.1 s after that).
  timeout 30 socat -t 0.1 - "UNIX-CONNECT:$sock" <>"$dir/in" >"$dir/out" 3>&- &
  client=$!
  track_pid "$client"
  printf '{"gate":true}\n' >"$dir/in"
  wait_for "the handler to start" 10 test -e "$dir/started"
  kill -TERM "$SERVER_PID"
  wait_for "the socket to stop accepting" 10 socket_refuses "$sock"
  printf '{"late":1}\n' >"$dir/in"
  touch "$dir/release"
  # The server closes the connection after ShuttingDown, which ends socat.
  wait_for "the connection to be closed" 10 process_gone "$client"
  run cat "$dir/out"
  assert_equal "${#lines[@]}" 2
  assert_equal "${lines[0]}" '{"gate":true}'
  assert_json '.type == "ShuttingDown"' "${lines[1]}"
  assert_equal "$(grep -c late "$dir/done" || true)" 0
  reap "$SERVER_PID"
  assert_equal "$status" 0
}

@test "after --drain, a handler still running is killed, its client told ShuttingDown, and serve exits 0" {
  spawn_server "$sock" --drain 0.5 "$HANDLERS/gate" "$dir"
  "$IPCAT" request --timeout 30 "$sock" '{"gate":true}' >"$dir/inflight.out" 2>"$dir/inflight.err" 3>&- &
  client=$!
  track_pid "$client"
  wait_for "the handler to start" 10 test -s "$dir/started"
  handler=$(cat "$dir/started")
  kill -TERM "$SERVER_PID"
  reap "$SERVER_PID"
  assert_equal "$status" 0
  wait_for "the handler to be killed" 5 process_gone "$handler"
  assert_file_not_exists "$dir/done"
  reap "$client"
  assert_equal "$status" 1
  assert_json '.type == "ShuttingDown"' "$(cat "$dir/inflight.out")"
}

@test "at exit the socket is not removed if another file replaced it" {
  spawn_server "$sock" --echo
  rm "$sock"
  echo "someone else's" >"$sock"
  status=0
  stop_pid "$SERVER_PID" || status=$?
  assert_equal "$status" 0
  assert_equal "$(cat "$sock")" "someone else's"
}

@test "at exit the socket is not removed if another server's socket replaced it" {
  spawn_server "$sock" --echo
  first=$SERVER_PID
  rm "$sock"
  spawn_server "$sock" --echo
  status=0
  stop_pid "$first" || status=$?
  assert_equal "$status" 0
  [ -S "$sock" ]
  run --separate-stderr request "$sock" '{"second":"still serves"}'
  assert_success
  assert_output '{"second":"still serves"}'
}

# --- what the operator sees: error replies and the request log (man/ipcat.1, LOG) ---

@test "BadHandlerOutput quotes the start of the output, the stderr tail and the exit status" {
  spawn_server "$sock" -- sh -c 'cat >/dev/null; echo "DEBUG: starting"; echo "warn: about to answer" >&2; echo "{\"ok\":true}"'
  run --separate-stderr request "$sock" '{"x":1}'
  assert_equal "$status" 1
  assert_json '.type == "BadHandlerOutput" and (.error | startswith("handler output is not one JSON value: at byte 0"))'
  assert_json '.output == "DEBUG: starting\n{\"ok\":true}" and .stderr == "warn: about to answer" and .status == 0'
  # The same in the log, at the default verbosity, as an error.
  wait_for "the request logged" 10 grep -q 'request_done' "$SERVER_ERR"
  run grep 'request_done' "$SERVER_ERR"
  assert_output --regexp '^ipcat\[[0-9]+\]: error: request_done connection=[0-9]+ request=1 handler_pid=[0-9]+ ms=[0-9.]+ outcome=BadHandlerOutput status=0 error="handler output is not one JSON value: .*" output="DEBUG: starting\\n\{\\"ok\\":true\}" stderr="warn: about to answer"$'
}

@test "--max-quoted bounds the output and stderr quoted, escaped, never cutting a character" {
  # 300 bytes: a control character, an invalid byte, then two-byte characters (é).
  spawn_server "$sock" --max-quoted 100 -- sh -c 'cat >/dev/null; printf "\001\377"; i=0; while [ $i -lt 150 ]; do printf "\303\251"; i=$((i+1)); done
    i=0; while [ $i -lt 50 ]; do echo "stderr line $i" >&2; i=$((i+1)); done'
  run --separate-stderr request "$sock" '{}'
  assert_equal "$status" 1
  assert_json '.type == "BadHandlerOutput"'
  assert_json '(.output | startswith("\u0001\ufffd\u00e9")) and (.output | endswith("\u00e9...")) and (.output | utf8bytelength) <= 106'
  assert_json '(.stderr | startswith("stderr line")) and (.stderr | endswith("stderr line 49")) and (.stderr | utf8bytelength) <= 100'
  # 0 quotes nothing.
  stop_tracked
  spawn_server "$sock" --max-quoted 0 -- sh -c 'cat >/dev/null; echo oops >&2; echo not-json'
  run --separate-stderr request "$sock" '{}'
  assert_json '.type == "BadHandlerOutput" and .output == "..." and (has("stderr") | not)'
  run "$IPCAT" serve "$sock" --max-quoted -1 --echo
  assert_equal "$status" 64
}

@test "HandlerFailed carries status or signal and the stderr tail; HandlerTimeout says '1 s' and '500 ms'" {
  spawn_server "$sock" --timeout 1 "$HANDLERS/fail" 3
  run --separate-stderr request "$sock" '{}'
  assert_json '.type == "HandlerFailed" and .status == 3 and .stderr == "something went wrong\nthe last words"'
  wait_for "the failure logged" 10 grep -q 'error: request_done .*outcome=HandlerFailed status=3 ' "$SERVER_ERR"
  stop_tracked
  spawn_server "$sock" --timeout 0.5 -- sh -c 'cat >/dev/null; echo stuck >&2; exec sleep 30'
  run --separate-stderr request "$sock" '{}'
  assert_json '.type == "HandlerTimeout" and .error == "handler timed out after 500 ms and was killed" and .limit == 0.5 and .stderr == "stuck"'
  wait_for "the timeout logged" 10 grep -q 'error: request_done .*outcome=HandlerTimeout signal=15 ' "$SERVER_ERR"
}

@test "a handler that prints nothing: no reply (76), and the log says notify with its stderr" {
  spawn_server "$sock" -- sh -c 'cat >/dev/null; echo "forgot to print the reply" >&2'
  run --separate-stderr request --retries 0 "$sock" '{}'
  assert_equal "$status" 76
  wait_for "the request logged" 10 grep -q 'request_done' "$SERVER_ERR"
  run grep 'request_done' "$SERVER_ERR"
  assert_output --regexp '^ipcat\[[0-9]+\]: request_done connection=[0-9]+ request=1 handler_pid=[0-9]+ ms=[0-9.]+ outcome=notify status=0 stderr="forgot to print the reply"$'
}

@test "request log: one line per request, numbers as numbers in JSON, a ParseError too; totals when stopped" {
  spawn_server "$sock" --log-format json -- sh -c 'read -r line; case $line in *fail*) exit 5;; esac; printf "%s\n" "$line"'
  printf '%s\n' '{"n":1}' 'not json' '{"fail":1}' | raw_client "$sock" >/dev/null
  wait_for "three requests logged" 10 log_events_at_least "$SERVER_ERR" request_done 3
  # In the order they finished: the ParseError first. Sorted here.
  run jq -sc 'map(select(.event == "request_done")) | sort_by(.request)[] | [.request, .outcome, .status, (.ms | type), (.handler_pid | type), (.connection | type)]' "$SERVER_ERR"
  assert_line --index 0 '[1,"ok",0,"number","number","number"]'
  assert_line --index 1 '[2,"ParseError",null,"number","null","number"]'
  assert_line --index 2 '[3,"HandlerFailed",5,"number","number","number"]'
  assert_equal "$(jq -r 'select(.event == "connection_accepted") | .connection | type' "$SERVER_ERR" | sort -u)" number
  stop_pid "$SERVER_PID"
  run jq -c 'select(.event == "stopped") | [.requests, .ok, .errors, .notify, .cancelled, (.p50_ms | type), (.p99_ms | type)]' "$SERVER_ERR"
  assert_output '[3,1,2,0,0,"number","number"]'
}

@test "--cancel-on-disconnect: an abandoned probe's handler group gets SIGTERM; without it, it runs on" {
  spawn_server "$sock" --cancel-on-disconnect "$HANDLERS/gate" "$dir"
  run --separate-stderr request --timeout 0.5 --retries 0 "$sock" '{"gate":true,"probe":1}'
  assert_equal "$status" 75
  wait_for "the handler to start" 10 test -e "$dir/started"
  handler=$(cat "$dir/started")
  wait_for "the abandoned handler to be stopped" 10 process_gone "$handler"
  [ ! -e "$dir/done" ] || fail "the cancelled handler finished: $(cat "$dir/done")"
  wait_for "the cancellation logged" 10 grep -q "request_done connection=[0-9]* request=1 handler_pid=$handler ms=[0-9.]* outcome=cancelled signal=15" "$SERVER_ERR"
  grep -q 'client_gone connection=[0-9]* pending=1' "$SERVER_ERR"
  # A client that only shut down its sending side (request does, while it
  # waits) has not gone: its request runs and it gets the reply.
  rm -f "$dir/started"
  timeout 30 "$IPCAT" request --timeout 20 "$sock" '{"gate":true,"waits":1}' >"$dir/waiter.out" 2>&1 3>&- &
  waiter=$!
  track_pid "$waiter"
  wait_for "the second handler to start" 10 test -e "$dir/started"
  touch "$dir/release"
  reap "$waiter"
  assert_equal "$status" 0
  assert_equal "$(cat "$dir/waiter.out")" '{"gate":true,"waits":1}'
  # Queued requests of a client that has gone never start.
  stop_tracked
  rm -f "$dir/started" "$dir/release" "$dir/done"
  spawn_server "$sock" --cancel-on-disconnect --max-handlers 1 "$HANDLERS/gate" "$dir"
  printf '%s\n' '{"gate":true,"first":1}' '{"queued":1}' | timeout 20 "$IPCAT" request --timeout 1 --retries 0 "$sock" >/dev/null 2>&1 || true
  wait_for "both cancelled" 10 log_lines_at_least "$SERVER_ERR" 'outcome=cancelled' 2
  [ ! -e "$dir/done" ] || fail "a cancelled request ran: $(cat "$dir/done")"
}

# --- threads (--threads; man/ipcat.1, ipcat serve; ARCHITECTURE.md, Threads) --------

# threads_of PID: how many threads PID has.
threads_of() {
  ls "/proc/$1/task" | wc -l
}

# threads_said: the thread count the server's "listening" line gives.
threads_said() {
  # The socket accepts a moment before the line is written (listen(2) comes first).
  wait_for "the listening line" 10 grep -q ' listening ' "$SERVER_ERR"
  sed -n 's/.* listening .*threads=\([0-9]*\).*/\1/p' "$SERVER_ERR"
}

@test "--threads N: N worker threads beside the main one; 0: none; replies and their order the same" {
  for n in 0 3; do
    spawn_server "$sock.$n" --threads "$n" -- cat
    assert_equal "$(threads_said)" "$n"
    # There may be more (a sanitizer's runtime has one of its own), never fewer.
    assert [ "$(threads_of "$SERVER_PID")" -ge "$((n + 1))" ]
    # 40 requests pipelined on one connection: 16 handlers at once over the threads,
    # replies still in request order.
    run raw_client "$sock.$n" < <(seq 1 40)
    assert_success
    assert_output "$(seq 1 40)"
  done
}

@test "--threads: by default one per CPU, at most --max-handlers; a negative count is a usage error" {
  spawn_server "$sock" -- cat
  assert_equal "$(threads_said)" "$(($(nproc) < 16 ? $(nproc) : 16))"
  spawn_server "$sock.1" --max-handlers 1 -- cat
  assert_equal "$(threads_said)" 1
  spawn_server "$sock.2" --echo
  assert_equal "$(threads_said)" 0
  run --separate-stderr "$IPCAT" serve "$sock.3" --threads -1 -- cat
  assert_failure 64
  [[ "$stderr" == *"--threads"* ]]
}

@test "--threads: a handler on a worker thread times out as on one, and leaves no child" {
  spawn_server "$sock" --threads 2 --timeout 0.3 --kill-after 0.2 -- sh -c 'exec sleep 30'
  run request "$sock" '{"n":1}'
  assert_failure
  assert_output --partial '"type":"HandlerTimeout"'
  wait_for "no handler children left" 10 no_children "$SERVER_PID"
}
