#!/usr/bin/env bats
# ipcat fifo-send (man/ipcat.1, ipcat fifo-send): creating the FIFO, no reader, --wait, whole and atomic
# messages, stdin lines, --allow-large, a reader that vanishes, signals.
#
# fd 3 belongs to bats: background commands close it. A test that needs messages to
# stay in the FIFO between commands holds it open on fd 7 (`exec 7<>FIFO`), as a
# script would; the kernel drops a FIFO's bytes when the last descriptor closes.

load test_helper

setup() {
  FIFO="$BATS_TEST_TMPDIR/run/events.fifo"
  BG_PIDS=()
}

teardown() {
  exec 7>&- 2>/dev/null || true
  local pid
  for pid in "${BG_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "${PUB:-}" ]; then rm -rf "$PUB"; fi
}

# fifo_is_empty: the FIFO is empty when a reader given no time finds nothing (exit 75).
fifo_is_empty() {
  run --separate-stderr "$IPCAT" fifo-recv --timeout 0.01 "$FIFO"
  [ "$status" -eq 75 ] && [ -z "$output" ]
}

mode_of() { stat -c %a "$1"; }

@test "without a reader it fails at once with 69 naming the FIFO, which it created 0600 despite umask 000" {
  umask 000
  run --separate-stderr timeout 10 "$IPCAT" fifo-send "$FIFO" '{"a":1}'
  assert_equal "$status" 69
  assert_equal "$stderr" "ipcat: fifo-send: $FIFO: no reader on FIFO"
  [ -p "$FIFO" ]
  assert_equal "$(mode_of "$FIFO")" 600
  assert_equal "$(mode_of "$(dirname "$FIFO")")" 777  # parents as mkdir -p, umask applied
}

@test "--mode sets the mode of a FIFO it creates, whatever the umask" {
  umask 077
  run timeout 10 "$IPCAT" fifo-send --mode 0660 "$FIFO" '{}'
  assert_equal "$status" 69
  assert_equal "$(mode_of "$FIFO")" 660
  run --separate-stderr "$IPCAT" fifo-send --mode 9 "$FIFO" '{}'
  assert_equal "$status" 64
}

@test "a path that exists and is not a FIFO is refused with 73 and left untouched" {
  mkdir -p "$(dirname "$FIFO")"
  printf 'precious\n' >"$FIFO"
  touch -d '2001-02-03 04:05:06' "$FIFO"
  before=$(stat -c '%s %Y %a %i' "$FIFO")
  run --separate-stderr "$IPCAT" fifo-send "$FIFO" '{"a":1}'
  assert_equal "$status" 73
  assert_equal "$stderr" "ipcat: fifo-send: $FIFO: exists and is not a FIFO (a regular file); left untouched"
  assert_equal "$(stat -c '%s %Y %a %i' "$FIFO")" "$before"
  assert_equal "$(cat "$FIFO")" precious

  run --separate-stderr "$IPCAT" fifo-send "$BATS_TEST_TMPDIR" '{"a":1}'
  assert_equal "$status" 73
  [[ "$stderr" == *"not a FIFO (a directory)"* ]]
}

@test "--wait succeeds when a reader appears later" {
  "$IPCAT" fifo-send --wait 30 "$FIFO" '{"late":"reader"}' 3>&- &
  sender=$!
  BG_PIDS+=("$sender")
  wait_for "the sender to create the FIFO" 10 test -p "$FIFO"
  run --separate-stderr timeout 30 "$IPCAT" fifo-recv --timeout 30 "$FIFO"
  assert_success
  assert_output '{"late":"reader"}'
  wait "$sender"
}

@test "--wait gives up with 75 when no reader comes" {
  run --separate-stderr timeout 10 "$IPCAT" fifo-send --wait 0.3 "$FIFO" '{}'
  assert_equal "$status" 75
  assert_equal "$stderr" "ipcat: fifo-send: $FIFO: timed out waiting for a reader on the FIFO"
}

@test "BODY and ITEMs are sent as one compact message; stdin is not read then" {
  hold_fifo
  run timeout 10 "$IPCAT" fifo-send "$FIFO" '{ "a" : [1, 2] }' <&-
  assert_success
  run timeout 10 "$IPCAT" fifo-send "$FIFO" name=x n:=1 <&-
  assert_success
  run timeout 10 "$IPCAT" fifo-recv -n 2 --timeout 10 "$FIFO"
  assert_success
  assert_output $'{"a":[1,2]}\n{"name":"x","n":1}'
}

@test "a JSON array BODY arrives whole (CLI11 would split \"[a,b]\"); an unknown option is 64, never a BODY" {
  hold_fifo
  run timeout 10 "$IPCAT" fifo-send "$FIFO" '[[1],2]' <&-
  assert_success
  run timeout 10 "$IPCAT" fifo-send "$FIFO" -- -1 <&-
  assert_success
  run timeout 10 "$IPCAT" fifo-recv -n 2 --timeout 10 "$FIFO"
  assert_output $'[[1],2]\n-1'
  run --separate-stderr timeout 10 "$IPCAT" fifo-send "$FIFO" --wiat=1 a=1 <&-
  assert_equal "$status" 64
  [[ "$stderr" == *"unknown option '--wiat=1'"* ]]
  fifo_is_empty
}

@test "an invalid BODY is 65 and sends nothing" {
  hold_fifo
  run --separate-stderr "$IPCAT" fifo-send "$FIFO" '{"a":'
  assert_equal "$status" 65
  fifo_is_empty
}

@test "stdin lines are sent in order; an invalid line stops at its number with 65, nothing after it sent" {
  hold_fifo
  run --separate-stderr timeout 10 "$IPCAT" fifo-send "$FIFO" < <(printf '{"n":1}\n\n[2]\nnot json\n{"n":4}\n')
  assert_equal "$status" 65
  [[ "$stderr" == "ipcat: fifo-send: stdin line 4: not valid JSON: "* ]]
  run timeout 10 "$IPCAT" fifo-recv -n 2 --timeout 10 "$FIFO"
  assert_success
  assert_output $'{"n":1}\n[2]'
  fifo_is_empty
}

@test "a message of exactly PIPE_BUF bytes is sent; one byte more is refused with 65 naming both sizes" {
  hold_fifo
  fits="\"$(head -c 4093 /dev/zero | tr '\0' a)\""  # 4095 bytes + newline = 4096
  run timeout 10 "$IPCAT" fifo-send "$FIFO" "$fits"
  assert_success
  run --separate-stderr timeout 10 "$IPCAT" fifo-send "$FIFO" "\"a${fits:1}"
  assert_equal "$status" 65
  assert_equal "$stderr" "ipcat: fifo-send: $FIFO: message of 4097 bytes is larger than PIPE_BUF (4096 bytes) and would not be atomic (--allow-large sends it anyway)"
  run timeout 10 "$IPCAT" fifo-recv -r --timeout 10 "$FIFO"
  assert_equal "${#output}" 4093
  fifo_is_empty
}

@test "a 200 KiB message is refused by default, nothing written, and arrives whole with --allow-large" {
  big="$BATS_TEST_TMPDIR/big.json"
  python3 -c 'import json; print(json.dumps({"blob": "x" * 204800}, separators=(",", ":")))' >"$big"
  hold_fifo
  run --separate-stderr timeout 10 "$IPCAT" fifo-send "$FIFO" <"$big"
  assert_equal "$status" 65
  [[ "$stderr" == *"stdin line 1: message of 204812 bytes is larger than PIPE_BUF (4096 bytes)"* ]]
  fifo_is_empty

  # Larger than the pipe: the sender is still writing while the reader reads.
  timeout 30 "$IPCAT" fifo-recv --timeout 30 "$FIFO" >"$BATS_TEST_TMPDIR/got" 3>&- &
  reader=$!
  BG_PIDS+=("$reader")
  run timeout 30 "$IPCAT" fifo-send --allow-large "$FIFO" <"$big"
  assert_success
  wait "$reader"
  cmp "$big" "$BATS_TEST_TMPDIR/got"
  fifo_is_empty
}

@test "8 concurrent senders of 4 KiB messages produce only whole lines" {
  timeout 60 "$IPCAT" fifo-recv -n 160 --timeout 30 "$FIFO" >"$BATS_TEST_TMPDIR/got" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
  reader=$!
  BG_PIDS+=("$reader")
  senders=()
  for letter in A B C D E F G H; do
    # 20 lines of "LLL…L" (4093 letters + quotes + newline = 4096 bytes) each.
    line="\"$(head -c 4093 /dev/zero | tr '\0' "$letter")\""
    for _ in $(seq 20); do printf '%s\n' "$line"; done >"$BATS_TEST_TMPDIR/in.$letter"
    timeout 60 "$IPCAT" fifo-send --wait 30 "$FIFO" <"$BATS_TEST_TMPDIR/in.$letter" 3>&- &
    senders+=($!)
  done
  for pid in "${senders[@]}"; do wait "$pid"; done
  wait "$reader"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" ""  # no line was cut or mixed: none invalid
  assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/got")" 160
  run grep -cvE '^"(A{4093}|B{4093}|C{4093}|D{4093}|E{4093}|F{4093}|G{4093}|H{4093})"$' "$BATS_TEST_TMPDIR/got"
  assert_output 0
  for letter in A B C D E F G H; do
    assert_equal "$(grep -c "^\"$letter" "$BATS_TEST_TMPDIR/got")" 20
  done
}

@test "a million small lines from stdin go out in PIPE_BUF-sized writes, not a write per line" {
  seq 1000000 >"$BATS_TEST_TMPDIR/lines"  # 6.9 MB
  timeout 120 "$IPCAT" fifo-recv --follow "$FIFO" >"$BATS_TEST_TMPDIR/got" 3>&- &
  reader=$!
  BG_PIDS+=("$reader")
  # /proc/PID/io of a shell counts the write() calls of the children it has reaped.
  run timeout 120 bash -c '
    before=$(awk "/^syscw/ {print \$2}" /proc/$$/io)
    "$IPCAT" fifo-send --wait 30 "$1" <"$2" || exit
    after=$(awk "/^syscw/ {print \$2}" /proc/$$/io)
    echo $((after - before))' _ "$FIFO" "$BATS_TEST_TMPDIR/lines"
  assert_success
  # 6.9 MB / 4096 ≈ 1690 full batches; allow for a partial batch per 64 KiB read.
  ((output > 1000 && output < 2500)) || fail "fifo-send made $output write calls"
  wait_for "all lines to arrive" 60 bash -c "[ \$(wc -l <'$BATS_TEST_TMPDIR/got') -eq 1000000 ]"
  kill -TERM "$reader"
  wait "$reader"
  cmp "$BATS_TEST_TMPDIR/lines" "$BATS_TEST_TMPDIR/got"
}

@test "a reader that vanishes mid-write is exit 74 naming the FIFO, not a death by SIGPIPE" {
  mkdir -p "$(dirname "$FIFO")"
  mkfifo "$FIFO"
  # A raw reader that takes 1000 bytes of a 1 MiB message and leaves.
  head -c 1000 "$FIFO" >/dev/null 3>&- &
  BG_PIDS+=($!)
  big="\"$(head -c 1048576 /dev/zero | tr '\0' z)\""
  run --separate-stderr timeout 30 "$IPCAT" fifo-send --wait 20 --allow-large "$FIFO" <<<"$big"
  assert_equal "$status" 74
  assert_equal "$stderr" "ipcat: fifo-send: $FIFO: broken pipe (the reader went away)"
}

@test "--remove removes the FIFO it created; SIGTERM while waiting cleans up, then dies by the signal" {
  run timeout 10 "$IPCAT" fifo-send --remove --wait 0.2 "$FIFO" '{}'
  assert_equal "$status" 75
  [ ! -e "$FIFO" ]

  "$IPCAT" fifo-send --remove --wait 60 "$FIFO" '{}' 3>&- &
  sender=$!
  BG_PIDS+=("$sender")
  wait_for "the sender to create the FIFO" 10 test -p "$FIFO"
  kill -TERM "$sender"
  status=0
  wait "$sender" || status=$?
  assert_equal "$status" 143
  [ ! -e "$FIFO" ]
}

@test "--remove leaves a FIFO it did not create" {
  hold_fifo
  run timeout 10 "$IPCAT" fifo-send --remove "$FIFO" '{}'
  assert_success
  [ -p "$FIFO" ]
}

@test "-q prints nothing, not even the error: the status tells" {
  run --separate-stderr timeout 10 "$IPCAT" fifo-send -q "$FIFO" '{}'
  assert_equal "$status" 69
  assert_equal "$stderr" ""
  assert_equal "$output" ""
}

@test "--help explains batching, atomicity and what an invalid stdin line leaves sent" {
  run "$IPCAT" fifo-send --help
  assert_success
  assert_output --partial "Usage: ipcat fifo-send"
  assert_output --partial "the lines before it have been"
  assert_output --partial "PIPE_BUF (4096)"
  assert_output --partial "--allow-large"
  assert_output --partial "--wait"
}

# as_nobody COMMAND...: runs COMMAND as the unprivileged user nobody.
as_nobody() {
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# has_open PID PATH: PID has PATH open.
has_open() {
  ls -l "/proc/$1/fd" 2>/dev/null | grep -qF -- "$2"
}

@test "a FIFO of another user, one others may write, or a symlink is refused with 77, nothing sent" {
  [ "$(id -u)" = 0 ] || skip "needs root to make a FIFO as another user (nobody)"
  PUB=$(mktemp -d /tmp/ipcat-fifo.XXXXXX)
  chmod 1777 "$PUB"
  # nobody makes a FIFO and reads it: what we send there would be theirs.
  as_nobody mkfifo -m 0600 "$PUB/jobs"
  setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c 'exec 7<>"$1"; exec cat <&7 >"$2"' sh "$PUB/jobs" "$PUB/got" 3>&- &
  local reader=$!
  BG_PIDS+=("$reader")
  wait_for "nobody's reader to open the FIFO" 10 has_open "$reader" "$PUB/jobs"
  local before
  before=$(stat -c '%u %a %i' "$PUB/jobs")
  run --separate-stderr timeout 10 "$IPCAT" fifo-send "$PUB/jobs" secret=1
  assert_equal "$status" 77
  assert_equal "$stderr" "ipcat: fifo-send: $PUB/jobs: owned by uid $(id -u nobody) (nobody), not by uid 0 (root); refused, left untouched"
  assert_equal "$(stat -c '%u %a %i' "$PUB/jobs")" "$before"
  kill "$reader"
  wait "$reader" 2>/dev/null || true
  [ ! -s "$PUB/got" ] || fail "nobody received: $(cat "$PUB/got")"
  # Ours, but others may write to it: refused unless --mode asks for that.
  mkfifo -m 0622 "$PUB/open"
  run --separate-stderr timeout 10 "$IPCAT" fifo-send "$PUB/open" a:=1
  assert_equal "$status" 77
  assert_equal "$stderr" "ipcat: fifo-send: $PUB/open: mode 0622 lets group and others write to it (--mode 0622 allows that); refused, left untouched"
  run --separate-stderr timeout 10 "$IPCAT" fifo-send --mode 0622 "$PUB/open" a:=1
  assert_equal "$status" 69  # accepted; nobody reads it
  # A symlink is never followed, to a FIFO or anywhere.
  ln -s "$PUB/open" "$PUB/link"
  run --separate-stderr timeout 10 "$IPCAT" fifo-send --mode 0622 "$PUB/link" a:=1
  assert_equal "$status" 77
  assert_equal "$stderr" "ipcat: fifo-send: $PUB/link: is a symbolic link; refused, left untouched"
  ln -s "$PUB/nowhere" "$PUB/dangling"
  run --separate-stderr timeout 10 "$IPCAT" fifo-send "$PUB/dangling" a:=1
  assert_equal "$status" 77
  [ ! -e "$PUB/nowhere" ]
}

@test "--wait 0 does not wait: no reader is 69 at once, as without --wait" {
  run --separate-stderr timeout 10 "$IPCAT" fifo-send --wait 0 "$FIFO" '{"a":1}'
  assert_equal "$status" 69
  assert_equal "$stderr" "ipcat: fifo-send: $FIFO: no reader on FIFO"
  run --separate-stderr "$IPCAT" fifo-send --wait inf "$FIFO" '{"a":1}'
  assert_equal "$status" 64
  assert_equal "$stderr" "ipcat: fifo-send: --wait: must be a number of seconds from 0 to 1e9, not 'inf' (see 'ipcat fifo-send --help')"
}
