#!/usr/bin/env bats
# ipcat connect (man/ipcat.1, ipcat connect): an open session. Everything the server
# sends is printed as it comes; no overall time limit; bad stdin lines are reported
# and skipped; line editing and history on a terminal (driven through a pty).

load test_helper

setup() {
  sock="$BATS_TEST_TMPDIR/s.sock"
  dir="$BATS_TEST_TMPDIR"
}

teardown() {
  stop_tracked
}

# connect ARG...: ipcat connect, bounded.
connect() {
  timeout 30 "$IPCAT" connect "$@"
}

# json_server SOCK MODE [ARG]: a Python stand-in for a real daemon (handlers/json-servers.py).
json_server() {
  python3 "$HANDLERS/json-servers.py" "$@" </dev/null >/dev/null 2>"$dir/json-server.err" 3>&- &
  track_pid "$!"
  wait_for "json-servers.py $2 on $1" 10 socket_accepts "$1"
}

# pty SCRIPT ARG...: runs `ipcat connect ARG...` on a pseudo-terminal, typing SCRIPT
# (handlers/pty-session.py); output is the terminal's, then "exit N".
pty() {
  local script=$1
  shift
  run timeout 30 python3 "$HANDLERS/pty-session.py" 10 "$IPCAT" connect "$@" <<<"$script"
}

@test "BODY, then stdin lines; pushed events and replies printed as they come; -n ends it" {
  json_server "$sock" push
  run --separate-stderr connect -n 5 "$sock" id:=1 < <(echo '{"id":2}'; sleep 20)
  assert_success
  assert_output $'{"event":"hello"}\n{"event":"tick"}\n{"pong":1,"id":1}\n{"event":"tick"}\n{"pong":2,"id":2}'
}

@test "a stdin line that is not JSON is reported and not sent; the session goes on" {
  spawn_server "$sock" --echo
  run --separate-stderr connect --linger 0.5 "$sock" < <(printf '{"a":1}\nnot json\n{"b": [1, 2]}\n')
  assert_success
  assert_output $'{"a":1}\n{"b":[1,2]}'
  [[ $stderr == "ipcat: connect: stdin line 2: not valid JSON, not sent"* ]]
}

@test "ends with 0 when the server closes" {
  python3 "$HANDLERS/line-server.py" "$sock" close "$dir/received" </dev/null >/dev/null 2>&1 3>&- &
  track_pid "$!"
  wait_for "line-server.py" 10 socket_accepts "$sock"
  run --separate-stderr connect "$sock" a=1 < <(sleep 20)
  assert_success
  assert_equal "$(cat "$dir/received")" '{"a":"1"}'
}

@test "--idle ends a session without traffic; no overall limit while lines keep coming" {
  json_server "$sock" open
  SECONDS=0
  run --separate-stderr connect --idle 0.5 "$sock" a:=1 < <(sleep 20)
  assert_success
  assert_output '{"pong":1}'
  ((SECONDS < 5))
  # Replies slower than --timeout: it bounds connecting only.
  json_server "$dir/slow.sock" slow 1
  run --separate-stderr connect --timeout 0.3 -n 2 "$dir/slow.sock" < <(printf '{"a":1}\n{"a":2}\n'; sleep 20)
  assert_success
  assert_output $'{"pong":1}\n{"pong":2}'
}

@test "--linger: after stdin's end, ends that much later though the server stays open; 0 at once" {
  json_server "$sock" open
  SECONDS=0
  run --separate-stderr connect --linger 0.5 "$sock" < <(printf '{"a":1}\n{"a":2}\n')
  assert_success
  assert_output $'{"pong":1}\n{"pong":2}'
  ((SECONDS < 5))
  run --separate-stderr connect --linger 0 "$sock" </dev/null
  assert_success
  assert_output ""
}

@test "--timestamps prefixes each line received with its UTC time; --pretty re-indents, values byte-exact" {
  spawn_server "$sock" --echo
  run --separate-stderr connect --timestamps -n 1 "$sock" '{"n":1E2}'
  assert_success
  [[ $output =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z\ \{\"n\":1E2\}$ ]]
  run --separate-stderr connect -p -n 1 "$sock" '{"n":[1E2,"\u00e9"]}'
  assert_output "$(printf '%s\n' '{' '  "n": [' '    1E2,' '    "\u00e9"' '  ]' '}')"
}

@test "byte-exact both ways: big integers, escapes, duplicate keys" {
  json_server "$sock" verbatim
  run --separate-stderr connect -n 1 "$sock" < <(printf '%s\n' '{"z": 12345678901234567890123, "s": "\u00e9", "a": 1, "a": 2}'; sleep 20)
  assert_success
  assert_output '{"z":12345678901234567890123,"s":"\u00e9","a":1,"a":2}'
}

@test "--authkey-file: with the key the session runs; without it, 77 at once" {
  printf 'sesame\n' >"$dir/key"
  chmod 600 "$dir/key"
  spawn_server "$sock" --echo --authkey-file "$dir/key"
  run --separate-stderr connect --authkey-file "$dir/key" -n 1 "$sock" a:=1
  assert_success
  assert_output '{"a":1}'
  run --separate-stderr connect -n 1 "$sock" a:=1 </dev/null
  assert_equal "$status" 77
  [[ $stderr == *"requires the authkey handshake"* ]]
}

@test "a Forbidden line is printed and the exit is 77" {
  spawn_server "$sock" --echo --allow-uid 12345
  run --separate-stderr connect "$sock" a:=1 < <(sleep 20)
  assert_equal "$status" 77
  assert_json '.type == "Forbidden"'
}

@test "64: an unknown option, even --name=value, is a usage error, not an ITEM" {
  run --separate-stderr connect "$sock" --timout=1 a=1
  assert_equal "$status" 64
  run --separate-stderr connect "$sock" --count 0
  assert_equal "$status" 64
}

@test "66: no socket; the message names it" {
  run --separate-stderr connect --retries 0 "$dir/none.sock"
  assert_equal "$status" 66
  [[ $stderr == "ipcat: connect: $dir/none.sock: no such socket"* ]]
}

# --- on a terminal ------------------------------------------------------------------

@test "terminal: a prompt, line editing (Backspace), history (Up), bad lines reported, Ctrl-D ends" {
  spawn_server "$sock" --echo
  pty 'expect > 
send {"x":1}\r
expect \[K\{"x":1\}
expect > 
send {"y":1\x7f2}\r
expect \[K\{"y":2\}
expect > 
send \x1b[A\x1b[A\r
expect \[K\{"x":1\}
expect > 
send oops\r
expect stdin line 4: not valid JSON
expect > 
eof
' --linger 0.2 "$sock"
  assert_success
  assert_line --partial 'exit 0'
  # The server got exactly what was typed, edited and recalled.
  [[ $output == *'{"y":2}'* ]]
  [[ $(grep -c 'oops' <<<"$output") -ge 1 ]]
}

@test "terminal: a line the server pushes is printed above the line being typed" {
  json_server "$sock" push
  pty 'expect \{"event":"hello"\}
expect > 
send {"id":
expect \{"id":
send 5}\r
expect \{"pong":1,"id":5\}
expect > 
eof
' --linger 0.2 "$sock"
  assert_success
  assert_line --partial 'exit 0'
}

# --- mpv itself, where installed ----------------------------------------------------

@test "mpv: an observe_property subscription prints the changes" {
  spawn_mpv "$dir/mpv.sock"
  "$IPCAT" request "$dir/mpv.sock" '{"command":["set_property","volume",10]}' >/dev/null
  timeout 30 "$IPCAT" connect -n 5 "$dir/mpv.sock" '{"command":["observe_property",1,"volume"]}' \
    </dev/null >"$dir/events" 2>"$dir/events.err" &
  local client=$!
  track_pid "$client"
  # The ack and the current value, then one line per change.
  wait_for "the subscription" 10 grep -q '"data":10' "$dir/events"
  for v in 20 30 40; do
    "$IPCAT" request "$dir/mpv.sock" "{\"command\":[\"set_property\",\"volume\",$v]}" >/dev/null
    wait_for "volume $v" 10 grep -q "\"data\":$v" "$dir/events"
  done
  wait_for "connect to end after 5 lines" 10 process_gone "$client"
  wait "$client"
  run grep -c '"event":"property-change"' "$dir/events"
  assert_output 4
}
