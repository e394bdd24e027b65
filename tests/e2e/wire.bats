#!/usr/bin/env bats
# The wire protocol across subcommands (man/ipcat.1, PROTOCOL): values pass
# through byte-exact — big numbers, 1E2, \u00e9, key order and duplicate keys as
# written, only whitespace outside strings removed — and no nesting depth crashes
# anything: deeper than --max-depth is a ParseError (serve) or exit 65 (clients),
# and the process goes on serving. socat is the client wherever the server's own
# bytes matter.

load test_helper

setup() {
  sock="$BATS_TEST_TMPDIR/s.sock"
  dir="$BATS_TEST_TMPDIR"
  # Values a re-encoding JSON library changes: each must come back exactly.
  exact='{"id":12345678901234567890123,"big":18446744073709551617,"e":1E2,"f":60.000000,"p":0.1000000000000000055511,"u":"\u00e9","z":1,"a":1,"a":2}'
  spaced='{ "id" : 12345678901234567890123 , "big":18446744073709551617, "e" : 1E2 ,"f":60.000000,"p":0.1000000000000000055511, "u": "\u00e9 keep  these spaces", "z":1, "a" : 1, "a":2 }'
  spaced_min='{"id":12345678901234567890123,"big":18446744073709551617,"e":1E2,"f":60.000000,"p":0.1000000000000000055511,"u":"\u00e9 keep  these spaces","z":1,"a":1,"a":2}'
}

teardown() {
  stop_tracked
}

raw_client() {
  timeout 20 socat -t 10 - "UNIX-CONNECT:$1"
}

# deep_file FILE KIND DEPTH: writes one line nested DEPTH deep (KIND array|object).
deep_file() {
  python3 -c "
import sys
kind, d = sys.argv[2], int(sys.argv[3])
with open(sys.argv[1], 'w') as f:
    f.write(('[' * d + ']' * d) if kind == 'array' else ('{\"a\":' * d + '1' + '}' * d))
    f.write('\n')
" "$1" "$2" "$3"
}

# served_after SOCK: another client is answered (the server survived).
served_after() {
  run raw_client "$1" <<<'{"method":"m","after":1}'
  assert_success
  assert_output '{"method":"m","after":1}'
}

@test "serve --echo passes values through byte-exact, spaces outside strings removed" {
  spawn_server "$sock" --echo
  run raw_client "$sock" <<<"$exact"
  assert_success
  assert_output "$exact"
  run raw_client "$sock" <<<"$spaced"
  assert_output "$spaced_min"
}

@test "a leading byte-order mark is dropped on every path" {
  spawn_server "$sock" -- sh -c 'cat >"$0"' "$dir/got"
  run raw_client "$sock" < <(printf '\357\273\277{"bom":1}\n')
  assert_success
  assert_equal "$(cat "$dir/got")" '{"bom":1}'
  run --separate-stderr timeout 20 "$IPCAT" request "$sock" "$(printf '\357\273\277{"bom":2}')"
  assert_equal "$(cat "$dir/got")" '{"bom":2}'
  fifo="$dir/q"
  timeout 20 "$IPCAT" fifo-recv "$fifo" >"$dir/out" 2>"$dir/err" &
  reader=$!
  wait_for "the FIFO" 10 test -p "$fifo"
  printf '\357\273\277{"bom":3}\n' | timeout 20 "$IPCAT" fifo-send --wait 10 "$fifo"
  wait "$reader"
  assert_equal "$(cat "$dir/out")" '{"bom":3}'
}

@test "an exec handler receives the request as written and its reply goes back byte-exact" {
  spawn_server "$sock" -- sh -c 'cat >"$0"; printf "%s\n" "$1"' "$dir/got" "$spaced"
  run raw_client "$sock" <<<"$exact"
  assert_success
  assert_output "$spaced_min"
  assert_equal "$(cat "$dir/got")" "$exact"
}

@test "pool workers receive and answer byte-exact" {
  spawn_server "$sock" --mode pool --workers 2 -- cat
  run raw_client "$sock" <<<"$exact"
  assert_success
  assert_output "$exact"
}

@test "routing reads the method without touching the rest of the request" {
  spawn_server "$sock" --route echo=cat --route other=false
  req='{"method":"echo","id":12345678901234567890123,"e":1E2,"u":"\u00e9","a":1,"a":2}'
  run raw_client "$sock" <<<"$req"
  assert_success
  assert_output "$req"
  # An escaped key is still the route key.
  req2='{"\u006dethod":"echo","n":1.0}'
  run raw_client "$sock" <<<"$req2"
  assert_output "$req2"
}

@test "request: BODY, ITEMs, stdin lines and printed replies are byte-exact" {
  spawn_server "$sock" --echo
  run --separate-stderr timeout 20 "$IPCAT" request "$sock" "$spaced"
  assert_success
  assert_output "$spaced_min"
  run --separate-stderr timeout 20 "$IPCAT" request "$sock" id:=18446744073709551617 e:=1E2 'u:="\u00e9"' s=text
  assert_success
  assert_output '{"id":18446744073709551617,"e":1E2,"u":"\u00e9","s":"text"}'
  run --separate-stderr timeout 20 "$IPCAT" request "$sock" <<<"$exact
$spaced"
  assert_success
  assert_equal "${lines[0]}" "$exact"
  assert_equal "${lines[1]}" "$spaced_min"
}

@test "request --pretty re-indents without touching values" {
  spawn_server "$sock" --echo
  run --separate-stderr timeout 20 "$IPCAT" request --pretty "$sock" '{"id":12345678901234567890123,"e":[1E2,{}],"a":1,"a":2}'
  assert_success
  assert_output "$(printf '{\n  "id": 12345678901234567890123,\n  "e": [\n    1E2,\n    {}\n  ],\n  "a": 1,\n  "a": 2\n}')"
}

@test "notify delivers the request byte-exact" {
  spawn_server "$sock" -- sh -c 'cat >>"$0"' "$dir/got"
  run timeout 20 "$IPCAT" notify "$sock" "$spaced"
  assert_success
  wait_for "the handler to write" 10 test -s "$dir/got"
  assert_equal "$(cat "$dir/got")" "$spaced_min"
}

@test "fifo-send and fifo-recv carry messages byte-exact" {
  fifo="$dir/q"
  timeout 20 "$IPCAT" fifo-recv -n 2 "$fifo" >"$dir/out" 2>"$dir/err" &
  reader=$!
  wait_for "the FIFO" 10 test -p "$fifo"
  run timeout 20 "$IPCAT" fifo-send --wait 10 "$fifo" "$spaced"
  assert_success
  run timeout 20 "$IPCAT" fifo-send --wait 10 "$fifo" id:=18446744073709551617 e:=1E2
  assert_success
  wait "$reader"
  assert_equal "$(sed -n 1p "$dir/out")" "$spaced_min"
  assert_equal "$(sed -n 2p "$dir/out")" '{"id":18446744073709551617,"e":1E2}'
}

@test "serve: a 1,000,000-deep line is a ParseError with the limit, in every mode, and the server goes on" {
  deep_file "$dir/deep-array" array 1000000
  deep_file "$dir/deep-object" object 1000000
  for mode in echo exec pool route; do
    rm -f "$sock"
    case $mode in
      echo) spawn_server "$sock" --max-line 8388608 --echo ;;
      exec) spawn_server "$sock" --max-line 8388608 -- cat ;;
      pool) spawn_server "$sock" --max-line 8388608 --mode pool --workers 1 -- cat ;;
      route) spawn_server "$sock" --max-line 8388608 --route m=cat ;;
    esac
    for kind in array object; do
      run raw_client "$sock" <"$dir/deep-$kind"
      assert_success
      assert_json '.type == "ParseError" and .limit == 512' "$output"
      served_after "$sock"
    done
    stop_tracked
  done
}

@test "serve --max-depth sets the limit" {
  spawn_server "$sock" --max-depth 3 --echo
  run raw_client "$sock" <<<'[[[1]]]
[[[[1]]]]'
  assert_equal "${lines[0]}" '[[[1]]]'
  assert_json '.type == "ParseError" and .limit == 3' "${lines[1]}"
}

@test "clients refuse deep input with 65 and survive a deep reply" {
  # 60,000 deep fits in one argument (the kernel's limit is 128 KiB); 400,000 on stdin.
  deep_file "$dir/deep" array 60000
  deep_file "$dir/deeper" array 400000
  spawn_server "$sock" --echo
  run --separate-stderr timeout 20 "$IPCAT" request "$sock" "$(cat "$dir/deep")"
  assert_failure 65
  run --separate-stderr timeout 20 "$IPCAT" request "$sock" "a:=$(cat "$dir/deep")"
  assert_failure 65
  run --separate-stderr timeout 20 "$IPCAT" request "$sock" <"$dir/deeper"
  assert_failure 65
  run --separate-stderr timeout 20 "$IPCAT" notify "$sock" "$(cat "$dir/deep")"
  assert_failure 65
  run --separate-stderr timeout 20 "$IPCAT" fifo-send "$dir/fifo" "$(cat "$dir/deep")"
  assert_failure 65
  # A server that answers with a deep reply: an error, not a crash.
  python3 "$HANDLERS/fixed-reply-server.py" "$dir/deep.sock" "$dir/deeper" </dev/null >/dev/null 2>&1 3>&- &
  track_pid $!
  wait_for "the deep server" 10 socket_accepts "$dir/deep.sock"
  run --separate-stderr timeout 20 "$IPCAT" request "$dir/deep.sock" '{"q":1}'
  [ "$status" -ne 0 ] && [ "$status" -lt 128 ] || fail "request ended with $status (a crash is >= 128)"
  assert_equal "$output" ""
}

@test "fifo-recv reports a deep message and goes on to the next one" {
  deep_file "$dir/deep" array 400000
  fifo="$dir/q"
  timeout 20 "$IPCAT" fifo-recv "$fifo" >"$dir/out" 2>"$dir/err" &
  reader=$!
  wait_for "the FIFO" 10 test -p "$fifo"
  { cat "$dir/deep"; echo '{"next":1}'; } >"$fifo"
  wait "$reader"
  assert_equal "$(cat "$dir/out")" '{"next":1}'
  grep -q 'limit of 512' "$dir/err" || fail "no depth error on stderr: $(cat "$dir/err")"
}
