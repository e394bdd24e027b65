#!/usr/bin/env bats
# ipcat fifo-recv (man/ipcat.1, ipcat fifo-recv): the next message, -n N, --follow across writers,
# --timeout, never taking more than it prints, invalid lines, output forms, signals.
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

# put FORMAT [ARG...]: writes raw bytes (printf) into the FIFO held on fd 7.
put() {
  # shellcheck disable=SC2059
  printf "$@" >&7
}

# asleep PID: the process is blocked in the kernel (state S), not spinning.
asleep() {
  [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == S ]]
}

# lines_in FILE N: FILE has at least N lines.
lines_in() {
  [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]
}

@test "prints the next message and exits 0, leaving the rest in the FIFO" {
  hold_fifo
  put '{"n":1}\n{"n":2}\n'
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv "$FIFO"
  assert_success
  assert_output '{"n":1}'
  assert_equal "$(timeout 5 head -c 8 <&7)" '{"n":2}'
}

@test "three buffered messages are all received by -n 3" {
  hold_fifo
  "$IPCAT" fifo-send "$FIFO" < <(printf '{"n":1}\n{"n":2}\n{"n":3}\n')
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv -n 3 "$FIFO"
  assert_success
  assert_output $'{"n":1}\n{"n":2}\n{"n":3}'
  assert_equal "$stderr" ""
}

@test "two consecutive fifo-recv -n 1 get consecutive messages, whatever their sizes" {
  hold_fifo
  long="\"$(head -c 3000 /dev/zero | tr '\0' L)\""
  printf '1\n\n%s\n"three"\n{"four":4}\n' "$long" | "$IPCAT" fifo-send "$FIFO"
  expected=(1 "$long" '"three"' '{"four":4}')
  for want in "${expected[@]}"; do
    run --separate-stderr timeout 10 "$IPCAT" fifo-recv -n 1 --timeout 10 "$FIFO"
    assert_success
    assert_output "$want"
  done
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv --timeout 0.01 "$FIFO"
  assert_equal "$status" 75
}

@test "-n N with more buffered takes exactly N messages; the next reader gets the rest" {
  hold_fifo
  seq 1 500 | "$IPCAT" fifo-send "$FIFO"
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv -n 123 "$FIFO"
  assert_success
  assert_output "$(seq 1 123)"
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv -n 377 "$FIFO"
  assert_success
  assert_output "$(seq 124 500)"
}

@test "-n N waits for the next writer after one has gone: no EOF surprise" {
  timeout 30 "$IPCAT" fifo-recv -n 2 --timeout 30 "$FIFO" >"$BATS_TEST_TMPDIR/got" 3>&- &
  reader=$!
  BG_PIDS+=("$reader")
  run timeout 10 "$IPCAT" fifo-send --wait 10 "$FIFO" '{"writer":1}'
  assert_success
  run timeout 10 "$IPCAT" fifo-send --wait 10 "$FIFO" '{"writer":2}'
  assert_success
  wait "$reader"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/got")" $'{"writer":1}\n{"writer":2}'
}

@test "--follow survives writers reconnecting, sleeps in between, and ends with 0 on SIGTERM" {
  "$IPCAT" fifo-recv --follow "$FIFO" >"$BATS_TEST_TMPDIR/got" 3>&- &
  reader=$!
  BG_PIDS+=("$reader")
  for i in 1 2 3; do
    run timeout 10 "$IPCAT" fifo-send --wait 10 "$FIFO" "{\"round\":$i}"
    assert_success
    wait_for "message $i" 10 lines_in "$BATS_TEST_TMPDIR/got" "$i"
    # Every writer has closed: a reader spinning on EOF would never be asleep.
    wait_for "the reader to sleep between writers" 10 asleep "$reader"
  done
  kill -TERM "$reader"
  status=0
  wait "$reader" || status=$?
  assert_equal "$status" 0
  assert_equal "$(cat "$BATS_TEST_TMPDIR/got")" $'{"round":1}\n{"round":2}\n{"round":3}'
}

@test "--follow under timeout(1) ends with 0 although the TERM comes twice (child, then group)" {
  for round in 1 2 3; do
    run timeout --preserve-status 1 "$IPCAT" fifo-recv --follow "$FIFO"
    assert_equal "$status" 0
  done
}

@test "--timeout: 75 naming the FIFO when nothing arrives, and when fewer than N did" {
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv --timeout 0.2 "$FIFO"
  assert_equal "$status" 75
  assert_equal "$stderr" "ipcat: fifo-recv: $FIFO: timed out: no message within 200 ms (printed 0 of 1)"

  hold_fifo
  put '1\n'
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv -n 2 --timeout 0.2 "$FIFO"
  assert_equal "$status" 75
  assert_output 1
  [[ "$stderr" == *"(printed 1 of 2)" ]]
}

@test "--follow --timeout ends quietly with 0 once messages stop, 75 if none came" {
  hold_fifo
  put '1\n2\n'
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv --follow --timeout 0.2 "$FIFO"
  assert_success
  assert_output $'1\n2'
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv --follow --timeout 0.2 "$FIFO"
  assert_equal "$status" 75
}

@test "invalid lines are reported on stderr with their line number and a count, and skipped" {
  hold_fifo
  put 'not json\n\n{"ok":1}\n[1,\n'
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv "$FIFO"
  assert_success
  assert_output '{"ok":1}'
  [[ "$stderr" == "ipcat: fifo-recv: $FIFO: skipped invalid line 1: not valid JSON: "* ]]
  [[ "$stderr" == *$'\n'"ipcat: fifo-recv: $FIFO: skipped 1 invalid line(s)" ]]
  # The invalid line after the message was not taken.
  assert_equal "$(timeout 5 head -c 4 <&7)" '[1,'
}

@test "a line longer than --max-line is skipped up to its newline, framing kept" {
  hold_fifo
  put '["%s"]\n2\n' "$(head -c 100 /dev/zero | tr '\0' y)"
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv --max-line 50 "$FIFO"
  assert_success
  assert_output 2
  [[ "$stderr" == *"skipped invalid line 1: line of 104 bytes is longer than the limit of 50"* ]]
}

@test "output is compact JSON; -r prints a string bare; -q prints nothing" {
  hold_fifo
  put '{ "a" : [1, 2], "b": null }\r\n"x y"\n"quiet"\n'
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv "$FIFO"
  assert_success
  assert_output '{"a":[1,2],"b":null}'
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv -r "$FIFO"
  assert_success
  assert_output 'x y'
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv -q "$FIFO"
  assert_success
  assert_output ""
  assert_equal "$stderr" ""
  # -q took the message all the same, and stays silent about the timeout.
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv -q --timeout 0.01 "$FIFO"
  assert_equal "$status" 75
  assert_equal "$stderr" ""
}

@test "creates the FIFO 0600 whatever the umask; --remove removes only a FIFO it created" {
  umask 000
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv --timeout 0.01 "$FIFO"
  assert_equal "$status" 75
  [ -p "$FIFO" ]
  assert_equal "$(stat -c %a "$FIFO")" 600
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv --remove --timeout 0.01 "$FIFO"
  [ -p "$FIFO" ]  # not ours: left
  other="$BATS_TEST_TMPDIR/other/f"
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv --remove --mode 0640 --timeout 0.01 "$other"
  assert_equal "$status" 75
  [ ! -e "$other" ]
}

@test "a path that exists and is not a FIFO is refused with 73 and left untouched" {
  mkdir -p "$(dirname "$FIFO")"
  printf '{"not":"a fifo"}\n' >"$FIFO"
  before=$(stat -c '%s %Y %a %i' "$FIFO")
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv "$FIFO"
  assert_equal "$status" 73
  assert_equal "$stderr" "ipcat: fifo-recv: $FIFO: exists and is not a FIFO (a regular file); left untouched"
  assert_equal "$output" ""
  assert_equal "$(stat -c '%s %Y %a %i' "$FIFO")" "$before"
}

@test "SIGTERM while waiting removes a FIFO made with --remove and dies by the signal" {
  "$IPCAT" fifo-recv --remove -n 1 "$FIFO" 3>&- &
  reader=$!
  BG_PIDS+=("$reader")
  wait_for "the reader to create the FIFO" 10 test -p "$FIFO"
  wait_for "the reader to wait" 10 asleep "$reader"
  kill -TERM "$reader"
  status=0
  wait "$reader" || status=$?
  assert_equal "$status" 143
  [ ! -e "$FIFO" ]
}

@test "SIGTERM stops --follow at once under a steady flood of messages" {
  "$IPCAT" fifo-recv --follow -q "$FIFO" 3>&- &
  reader=$!
  BG_PIDS+=("$reader")
  wait_for "the reader to create the FIFO" 10 test -p "$FIFO"
  (yes '{"flood":true}' | "$IPCAT" fifo-send --wait 10 "$FIFO") 3>&- &
  BG_PIDS+=($!)
  wait_for "the reader to take a megabyte" 20 \
    bash -c "(( \$(awk '/^rchar/ {print \$2}' /proc/$reader/io) > 1000000 ))"
  kill -TERM "$reader"
  status=0
  timeout 10 tail --pid="$reader" -f /dev/null || fail "the reader ignored SIGTERM"
  wait "$reader" || status=$?
  assert_equal "$status" 0
}

@test "a closed stdout is exit 74 with a message, not a death by SIGPIPE" {
  hold_fifo
  put '{"n":1}\n'
  # stdout is a pipe whose reader is already gone (SIGPIPE at its default, as a shell leaves it).
  run --separate-stderr timeout 10 python3 -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
sys.exit(subprocess.call([os.environ["IPCAT"], "fifo-recv", sys.argv[1]], stdout=w))' "$FIFO"
  assert_equal "$status" 74
  assert_equal "$stderr" "ipcat: fifo-recv: stdout: broken pipe (the reader went away)"
}

@test "usage errors are 64: -n with --follow, -n 0" {
  run --separate-stderr "$IPCAT" fifo-recv -n 2 --follow "$FIFO"
  assert_equal "$status" 64
  run --separate-stderr "$IPCAT" fifo-recv -n 0 "$FIFO"
  assert_equal "$status" 64
  [ ! -e "$FIFO" ]
}

# unread FIFO: the number of bytes waiting in FIFO (FIONREAD), opened without
# disturbing anyone (read-write, non-blocking).
unread() {
  python3 -c 'import fcntl, os, struct, sys, termios
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NONBLOCK)
print(struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0])' "$1"
}

fifo_drained() { [ "$(unread "$FIFO")" = 0 ]; }
has_unread() { [ "$(unread "$1")" -gt 0 ]; }

# has_open PID PATH: PID has PATH open.
has_open() {
  ls -l "/proc/$1/fd" 2>/dev/null | grep -qF -- "$2"
}

@test "a writer that died mid-line loses only its fragment: the next writer's message arrives" {
  "$IPCAT" fifo-recv --timeout 20 "$FIFO" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
  local reader=$!
  BG_PIDS+=("$reader")
  wait_for "the reader to open $FIFO" 10 has_open "$reader" "$FIFO"
  printf '{"partial":' >"$FIFO"  # the writer stops there, and is gone
  wait_for "the reader to take the fragment" 10 fifo_drained
  run "$IPCAT" fifo-send "$FIFO" id:=1
  assert_success
  status=0
  wait "$reader" || status=$?
  assert_equal "$status" 0
  assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" '{"id":1}'
  run cat "$BATS_TEST_TMPDIR/err"
  assert_line --partial "$FIFO: skipped invalid line 1: not valid JSON: a message cut off"
}

# as_nobody COMMAND...: runs COMMAND as the unprivileged user nobody.
as_nobody() {
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

@test "an existing FIFO of another user, one others may write, or a symlink is refused with 77, untouched" {
  [ "$(id -u)" = 0 ] || skip "needs root to make a FIFO as another user (nobody)"
  PUB=$(mktemp -d /tmp/ipcat-fifo.XXXXXX)
  chmod 1777 "$PUB"
  # nobody makes a public FIFO and holds it open with a message in it.
  as_nobody mkfifo -m 0666 "$PUB/jobs"
  setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c 'exec 7<>"$1"; printf "{\"injected\":1}\n" >&7; exec sleep 30' sh "$PUB/jobs" 3>&- &
  BG_PIDS+=("$!")
  wait_for "nobody's message in the FIFO" 10 has_unread "$PUB/jobs"
  local before
  before=$(stat -c '%u %a %i' "$PUB/jobs")
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv --timeout 2 "$PUB/jobs"
  assert_equal "$status" 77
  assert_equal "$output" ""
  assert_equal "$stderr" "ipcat: fifo-recv: $PUB/jobs: owned by uid $(id -u nobody) (nobody), not by uid 0 (root); refused, left untouched"
  assert_equal "$(stat -c '%u %a %i' "$PUB/jobs")" "$before"
  # Our own FIFO that others may write: refused unless --mode asks for that mode.
  mkfifo -m 0666 "$PUB/open"
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv --timeout 0.2 "$PUB/open"
  assert_equal "$status" 77
  assert_equal "$stderr" "ipcat: fifo-recv: $PUB/open: mode 0666 lets group and others write to it (--mode 0666 allows that); refused, left untouched"
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv --mode 0666 --timeout 0.2 "$PUB/open"
  assert_equal "$status" 75
  # A symlink, even to a good FIFO, is never followed.
  mkfifo -m 0600 "$PUB/mine"
  ln -s "$PUB/mine" "$PUB/link"
  run --separate-stderr timeout 10 "$IPCAT" fifo-recv --timeout 0.2 "$PUB/link"
  assert_equal "$status" 77
  assert_equal "$stderr" "ipcat: fifo-recv: $PUB/link: is a symbolic link; refused, left untouched"
  [ -L "$PUB/link" ]
}

@test "--timeout 0 is no limit (as without it): the message that comes later is received" {
  "$IPCAT" fifo-recv --timeout 0 "$FIFO" >"$BATS_TEST_TMPDIR/out" 3>&- &
  local reader=$!
  BG_PIDS+=("$reader")
  wait_for "the reader to open $FIFO" 10 has_open "$reader" "$FIFO"
  run "$IPCAT" fifo-send "$FIFO" late:=1
  assert_success
  status=0
  wait "$reader" || status=$?
  assert_equal "$status" 0
  assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" '{"late":1}'
}
