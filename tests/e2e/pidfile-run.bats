#!/usr/bin/env bats
# ipcat pidfile-run: never twice, signals forwarded, exit status kept, pidfile gone afterwards.

load test_helper

setup() {
  D=$BATS_TEST_TMPDIR
  P=$D/run/app.pid
  # hold.sh SIDE GO [STATUS]: records its own pid in SIDE, then runs until GO exists
  # (at most ~30 s), then exits with STATUS.
  cat >"$D/hold.sh" <<'EOF'
#!/bin/sh
echo $$ >"$1.tmp" && mv "$1.tmp" "$1"
i=0
while [ ! -e "$2" ] && [ $i -lt 1500 ]; do sleep 0.02; i=$((i + 1)); done
exit "${3:-0}"
EOF
  chmod +x "$D/hold.sh"
  W=
}

teardown() {
  # Let every hold.sh still running finish, and reap the wrappers we started.
  touch "$D/go" "$D/go2"
  if [ -n "$W" ]; then timeout 10 tail --pid="$W" -f /dev/null || true; fi
  if [ -n "${PERM_DIR:-}" ]; then rm -rf "$PERM_DIR"; fi
}

# Starts `ipcat pidfile-run ARGS... PIDFILE hold.sh` in the background as $W and waits
# until the child has started and its pid is in PIDFILE.
start_holder() {
  "$IPCAT" pidfile-run "$@" "$P" "$D/hold.sh" "$D/child" "$D/go" 3>&- &
  W=$!
  wait_for "the held command to start" 20 test -s "$D/child"
  wait_for "the pid in $P" 20 test -s "$P"
}

wait_status() { # PID: waits for our background job PID, sets $status
  status=0
  wait "$1" || status=$?
}

@test "pidfile holds the child's pid while it runs and is gone after" {
  start_holder
  assert_equal "$(cat "$P")" "$(cat "$D/child")"
  [ "$(cat "$P")" != "$W" ]  # the child's pid, not the wrapper's
  run stat -c %a "$P"
  assert_output 644
  touch "$D/go"
  wait_status "$W"
  assert_equal "$status" 0
  assert_not_exist "$P"
}

@test "second instance exits 75 at once naming the holder's pid, and does not run" {
  start_holder
  run --separate-stderr "$IPCAT" pidfile-run "$P" touch "$D/ran"
  assert_equal "$status" 75
  assert_equal "$stderr" "ipcat: pidfile-run: $P: locked by pid $(cat "$D/child")"
  assert_not_exist "$D/ran"
  assert_equal "$(cat "$P")" "$(cat "$D/child")"
}

@test "-E sets the exit status for a held lock" {
  start_holder
  run --separate-stderr "$IPCAT" pidfile-run -E 9 "$P" true
  assert_equal "$status" 9
  run --separate-stderr "$IPCAT" pidfile-run --conflict-exit-code 0 "$P" touch "$D/ran"
  assert_equal "$status" 0
  assert_not_exist "$D/ran"
}

@test "util-linux flock -n fails while held, and a lock taken by flock(1) excludes us" {
  start_holder
  run flock -n "$P" true
  assert_equal "$status" 1
  touch "$D/go"
  wait_status "$W"
  assert_equal "$status" 0
  W=
  # The other way round: flock(1) holds it, pidfile-run is refused (no pid in the file).
  mkdir -p "$D/run"
  flock "$P" "$D/hold.sh" "$D/child2" "$D/go2" 3>&- &
  W=$!
  wait_for "flock(1) to run its command" 20 test -s "$D/child2"
  run --separate-stderr "$IPCAT" pidfile-run "$P" true
  assert_equal "$status" 75
  assert_equal "$stderr" "ipcat: pidfile-run: $P: locked by another process (no pid in the file)"
}

# waits_then_runs WAIT: a second instance with -w WAIT runs once the holder is done.
waits_then_runs() {
  start_holder
  "$IPCAT" pidfile-run -w "$1" "$P" sh -c 'cat "$1" >"$2"' sh "$P" "$D/ran" 3>&- &
  local waiter=$!
  # It is waiting once it has the pidfile open.
  wait_for "the second instance to wait on $P" 20 sh -c "ls -l /proc/$waiter/fd | grep -q app.pid"
  assert_not_exist "$D/ran"
  touch "$D/go"
  wait_status "$waiter"
  assert_equal "$status" 0
  # It ran with the lock, its own child's pid in the file.
  [[ "$(cat "$D/ran")" =~ ^[0-9]+$ ]]
  [ "$(cat "$D/ran")" != "$(cat "$D/child")" ]
  assert_not_exist "$P"
}

@test "-w waits for the holder to finish and then runs" {
  waits_then_runs 20
}

@test "-w 0 does not wait, as flock -w 0: 75 at once" {
  start_holder
  # timeout(1): a -w 0 that waits for ever (as it once did) fails here, not hangs.
  run --separate-stderr timeout 10 "$IPCAT" pidfile-run -w 0 "$P" touch "$D/ran"
  assert_equal "$status" 75
  assert_equal "$stderr" "ipcat: pidfile-run: $P: locked by pid $(cat "$D/child")"
  assert_not_exist "$D/ran"
  # The same forms and the same refusals as every SEC option.
  run --separate-stderr "$IPCAT" pidfile-run -w 1e10 "$P" true
  assert_equal "$status" 64
  assert_equal "$stderr" "ipcat: pidfile-run: --wait: must be a number of seconds from 0 to 1e9, not '1e10' (see 'ipcat pidfile-run --help')"
}

@test "-w SEC gives up with 75 once SEC have passed" {
  start_holder
  local start=${EPOCHREALTIME/./}
  run --separate-stderr "$IPCAT" pidfile-run -w 0.5 "$P" touch "$D/ran"
  local took_us=$((${EPOCHREALTIME/./} - start))
  assert_equal "$status" 75
  assert_equal "$stderr" "ipcat: pidfile-run: $P: locked by pid $(cat "$D/child") (gave up after 500 ms)"
  assert_not_exist "$D/ran"
  # At least the 0.5 s asked for; the upper bound is loose for a loaded machine.
  ((took_us >= 500000 && took_us < 3000000))
}

@test "stale pidfile with a dead pid does not block" {
  mkdir -p "$D/run"
  sh -c 'echo $$' >"$P"  # that shell is gone: a dead pid
  run "$IPCAT" pidfile-run "$P" sh -c 'cat "$1"; echo "$$"' sh "$P"
  assert_success
  assert_equal "${lines[0]}" "${lines[1]}"  # the file held the new child's pid, not the old one
  assert_not_exist "$P"
}

@test "exit status 7 passes through and the pidfile is removed" {
  run "$IPCAT" pidfile-run "$P" sh -c 'exit 7'
  assert_equal "$status" 7
  assert_not_exist "$P"
}

@test "-- before the command and options after PIDFILE belong to the command" {
  run "$IPCAT" pidfile-run "$P" -- sh -c 'echo "$@"' sh -w 5 --exec
  assert_success
  assert_output "-w 5 --exec"
  run "$IPCAT" pidfile-run -w 1 "$P" printf '%s|' -E 3
  assert_success
  assert_output "-E|3|"
}

@test "SIGTERM to the wrapper ends the child and yields 143 with the pidfile removed" {
  start_holder
  local child
  child=$(cat "$D/child")
  kill -TERM "$W"
  wait_status "$W"
  W=
  assert_equal "$status" 143
  assert_not_exist "$P"
  run kill -0 "$child"
  assert_failure
}

@test "USR1 is forwarded to the child's process group and its status kept" {
  "$IPCAT" pidfile-run "$P" sh -c 'trap "exit 5" USR1; echo $$ >"$1"; while :; do sleep 0.05; done' sh "$D/child" 3>&- &
  W=$!
  wait_for "the child to start" 20 test -s "$D/child"
  wait_for "the pid in $P" 20 test -s "$P"
  kill -USR1 "$W"
  wait_status "$W"
  W=
  assert_equal "$status" 5
  assert_not_exist "$P"
}

@test "a wrapper killed with SIGKILL leaves the lock with its running command" {
  start_holder
  kill -KILL "$W"
  wait_status "$W"
  W=
  assert_equal "$status" 137
  run flock -n "$P" true
  assert_equal "$status" 1
  run --separate-stderr "$IPCAT" pidfile-run "$P" true
  assert_equal "$status" 75
  assert_equal "$stderr" "ipcat: pidfile-run: $P: locked by pid $(cat "$D/child")"
  # Once the command is gone, so is the lock (the file it left does not block).
  touch "$D/go"
  wait_for "the orphaned command to exit" 20 flock -n "$P" true
  run "$IPCAT" pidfile-run "$P" true
  assert_success
  assert_not_exist "$P"
}

@test "--exec keeps the pid: the wrapper becomes the command, which holds the lock" {
  start_holder --exec
  assert_equal "$(cat "$D/child")" "$W"
  assert_equal "$(cat "$P")" "$W"
  run flock -n "$P" true
  assert_equal "$status" 1
  touch "$D/go"
  wait_status "$W"
  assert_equal "$status" 0
  # The file stays (no one is left to remove it), but it no longer blocks.
  run "$IPCAT" pidfile-run "$P" true
  assert_success
}

@test "a pidfile replaced by another file while running is not deleted" {
  run "$IPCAT" pidfile-run "$P" sh -c 'echo other >"$1.new" && mv "$1.new" "$1"' sh "$P"
  assert_success
  assert_file_exist "$P"
  assert_equal "$(cat "$P")" other
}

@test "a missing command is 127 and creates no pidfile" {
  run -127 --separate-stderr "$IPCAT" pidfile-run "$P" no-such-command-xyz
  assert_equal "$status" 127
  assert_equal "$stderr" "ipcat: pidfile-run: no-such-command-xyz: command not found"
  assert_not_exist "$P"
  assert_not_exist "$D/run"
}

@test "a command that is not executable is 126" {
  printf 'echo hi\n' >"$D/noexec.sh"
  chmod 644 "$D/noexec.sh"
  run --separate-stderr "$IPCAT" pidfile-run "$P" "$D/noexec.sh"
  assert_equal "$status" 126
  assert_equal "$stderr" "ipcat: pidfile-run: $D/noexec.sh: not executable"
  assert_not_exist "$P"
}

@test "a pidfile whose directory cannot be created is 73" {
  touch "$D/file"
  run --separate-stderr "$IPCAT" pidfile-run "$D/file/app.pid" true
  assert_equal "$status" 73
  assert_equal "$stderr" "ipcat: pidfile-run: $D/file/app.pid: cannot create directory $D/file: not a directory"
}

@test "a pidfile in a directory we may not write is 77" {
  PERM_DIR=$(mktemp -d /tmp/ipcat-pidfile.XXXXXX)
  chmod 755 "$PERM_DIR"
  mkdir -m 555 "$PERM_DIR/ro"
  local as_user=()
  if [ "$(id -u)" = 0 ]; then
    # root ignores modes: try as nobody (a real unprivileged user, nothing faked).
    as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  fi
  run --separate-stderr "${as_user[@]}" "$IPCAT" pidfile-run "$PERM_DIR/ro/app.pid" true
  assert_equal "$status" 77
  assert_equal "$stderr" "ipcat: pidfile-run: $PERM_DIR/ro/app.pid: cannot open: permission denied"
}

@test "usage errors are 64: no command, unknown option" {
  run --separate-stderr "$IPCAT" pidfile-run "$P"
  assert_equal "$status" 64
  run --separate-stderr "$IPCAT" pidfile-run --bogus "$P" true
  assert_equal "$status" 64
  assert_equal "$stderr" "ipcat: pidfile-run: unknown option --bogus (see 'ipcat pidfile-run --help')"
  run --separate-stderr "$IPCAT" pidfile-run -w -1 "$P" true
  assert_equal "$status" 64
}

@test "a symlink at PIDFILE is refused with 73, never written through (pidfile-run and serve --pidfile)" {
  mkdir -p "$D/run"
  printf 'precious\n' >"$D/victim"
  ln -s "$D/victim" "$P"
  run --separate-stderr "$IPCAT" pidfile-run "$P" touch "$D/ran"
  assert_equal "$status" 73
  assert_equal "$stderr" "ipcat: pidfile-run: $P: is a symbolic link; refused, left untouched"
  assert_equal "$(cat "$D/victim")" precious
  [ -L "$P" ] || fail "the symlink was removed"
  assert_not_exist "$D/ran"
  # serve --pidfile is the same code (timeout(1): a serve that took it would run on).
  run --separate-stderr timeout 10 "$IPCAT" serve --pidfile "$P" "$D/s.sock" --echo
  assert_equal "$status" 73
  assert_equal "$stderr" "ipcat: serve: $P: is a symbolic link; refused, left untouched"
  assert_equal "$(cat "$D/victim")" precious
  # A dangling symlink is not a way to create its target either.
  ln -sfn "$D/created-through-link" "$P"
  run --separate-stderr "$IPCAT" pidfile-run "$P" true
  assert_equal "$status" 73
  assert_not_exist "$D/created-through-link"
}

@test "an existing file that is not empty or one pid line is refused with 73 and left as it was" {
  printf 'important\n' >"$D/notes"
  run --separate-stderr "$IPCAT" pidfile-run "$D/notes" touch "$D/ran"
  assert_equal "$status" 73
  assert_equal "$stderr" "ipcat: pidfile-run: $D/notes: not a pidfile (holds something other than one pid line); refused, left untouched"
  assert_equal "$(cat "$D/notes")" important
  assert_not_exist "$D/ran"
  local content
  for content in '12 34\n' '123\n456\n' '-5\n' "$(printf '7%.0s' {1..100})\n"; do
    printf -- "$content" >"$D/other"
    cp "$D/other" "$D/other.orig"
    run "$IPCAT" pidfile-run "$D/other" true
    assert_equal "$status" 73
    cmp "$D/other" "$D/other.orig" || fail "content '$content' was changed"
  done
  # serve --pidfile refuses it too, and keeps it.
  run --separate-stderr timeout 10 "$IPCAT" serve --pidfile "$D/notes" "$D/s.sock" --echo
  assert_equal "$status" 73
  assert_equal "$(cat "$D/notes")" important
  # Not a regular file: refused without being opened.
  mkfifo "$D/fifo"
  run --separate-stderr "$IPCAT" pidfile-run "$D/fifo" true
  assert_equal "$status" 73
  assert_equal "$stderr" "ipcat: pidfile-run: $D/fifo: not a regular file; refused, left untouched"
  # What a pidfile holds is taken over: nothing, or one pid line (a dead holder's).
  mkdir -p "$D/run"
  for content in '' '\n' '4194000\n' ' 4194000 \n' '4194000'; do
    printf -- "$content" >"$P"
    run "$IPCAT" pidfile-run "$P" true
    assert_success
    assert_not_exist "$P"
  done
}

@test "-q prints nothing when the lock is held, even with -E 0; other errors still show" {
  start_holder
  run --separate-stderr "$IPCAT" pidfile-run -q "$P" touch "$D/ran"
  assert_equal "$status" 75
  assert_equal "$stderr" ""
  run --separate-stderr "$IPCAT" pidfile-run --quiet -E 0 "$P" touch "$D/ran"
  assert_equal "$status" 0
  assert_equal "$stderr" ""
  assert_not_exist "$D/ran"
  run -127 --separate-stderr "$IPCAT" pidfile-run -q "$D/other.pid" "$D/no-such-command"
  assert_equal "$status" 127
  assert_equal "$stderr" "ipcat: pidfile-run: $D/no-such-command: command not found"
}

@test "a HUP ignored at start (nohup) stays ignored: not forwarded to the command" {
  # The command traps USR1 only: a forwarded HUP would kill it (129) before the USR1
  # sent after it (pending signals are taken lowest number first) makes it exit 5.
  nohup "$IPCAT" pidfile-run "$P" sh -c 'trap "exit 5" USR1; echo $$ >"$1"; while :; do sleep 0.05; done' \
    sh "$D/child" >"$D/nohup.out" 2>&1 3>&- &
  W=$!
  wait_for "the child to start" 20 test -s "$D/child"
  wait_for "the pid in $P" 20 test -s "$P"
  kill -HUP "$W"
  kill -USR1 "$W"
  wait_status "$W"
  W=
  assert_equal "$status" 5
  assert_not_exist "$P"
}

@test "a HUP ignored at start (nohup) stays ignored for the command itself, as with flock(1)" {
  # The command hangs itself up: under nohup it lives on and exits 0.
  run timeout 20 nohup "$IPCAT" pidfile-run "$P" sh -c 'kill -HUP $$; echo alive >"$1"' sh "$D/alive" 3>&-
  assert_success
  assert_equal "$(cat "$D/alive")" alive
  # Without nohup, HUP has its default action (128 + 1).
  run timeout 20 "$IPCAT" pidfile-run "$P" sh -c 'kill -HUP $$; echo alive >"$1"' sh "$D/alive2" 3>&-
  assert_equal "$status" 129
  assert_not_exist "$D/alive2"
}

# on_pty SCRIPT KEYS: runs `ipcat pidfile-run $P SCRIPT` on a new pseudo-terminal
# the way an interactive shell does: a session leader on the terminal (the "shell")
# starts it in a process group of its own and makes that the terminal's foreground
# group. Once SCRIPT has written its pid to $D/child, types KEYS (Python escapes:
# \n, \x1a), then prints what appeared on the terminal and "status N" — or, when
# ipcat was stopped, "stopped" and "child-state S" (the command's state then; both
# are then ended). Bounded: 20 s, then "timed out".
on_pty() {
  python3 - "$IPCAT" "$P" "$1" "$D/child" "$2" "$D/pty.result" <<'EOF'
import codecs, os, pty, select, signal, sys, time
ipcat, pidfile, script, child_file, keys, result_file = sys.argv[1:7]
keys = codecs.decode(keys, "unicode_escape")
pid, fd = pty.fork()
if pid == 0:
    # The "shell": job control as bash does it.
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    job = os.fork()
    if job == 0:
        os.setpgid(0, 0)
        os.tcsetpgrp(0, os.getpid())
        signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        os.execv(ipcat, [ipcat, "pidfile-run", pidfile, script])
    try:
        os.setpgid(job, job)
    except PermissionError:
        pass  # the job exec'd first, having set its group itself (bash ignores this too)
    os.tcsetpgrp(0, job)
    _, st = os.waitpid(job, os.WUNTRACED)
    with open(result_file, "w") as out:
        if os.WIFSTOPPED(st):
            with open(child_file) as f:
                child = int(f.read())
            # The terminal's SIGTSTP reaches the command and ipcat at once, but each
            # stops on its own schedule: wait (bounded, 5 s) for the command too.
            deadline = time.monotonic() + 5
            while True:
                with open(f"/proc/{child}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                if state == "T" or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            out.write(f"stopped\nchild-state {state}\n")
            os.kill(child, signal.SIGKILL)
            os.killpg(job, signal.SIGCONT)
            os.waitpid(job, 0)
        else:
            out.write(f"status {os.waitstatus_to_exitcode(st)}\n")
    os._exit(0)
out = b""
deadline = time.time() + 20
def drain(wait):
    global out
    r, _, _ = select.select([fd], [], [], wait)
    if r:
        try:
            out += os.read(fd, 4096)
        except OSError:
            time.sleep(wait)
while time.time() < deadline and not (os.path.exists(child_file) and os.path.getsize(child_file) > 0):
    drain(0.02)
os.write(fd, keys.encode())
while time.time() < deadline and os.waitpid(pid, os.WNOHANG)[0] == 0:
    drain(0.02)
print(out.decode(errors="replace").replace("\r", ""))
if time.time() >= deadline:
    # Everything in the terminal's session: the "shell", ipcat, the command.
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[3]) == pid:
                    os.kill(int(entry), signal.SIGKILL)
        except (ValueError, OSError, IndexError):
            pass
    print("timed out")
else:
    print(open(result_file).read(), end="")
EOF
}

@test "on a terminal the command reads it (no SIGTTIN), and Ctrl-Z stops it with ipcat" {
  cat >"$D/ask.sh" <<'EOF'
#!/bin/sh
echo $$ >"$(dirname "$0")/child"
read -r line
echo "got:$line"
EOF
  chmod +x "$D/ask.sh"
  run on_pty "$D/ask.sh" 'hello\n'
  assert_success
  assert_line "got:hello"
  assert_line "status 0"
  assert_not_exist "$P"
  # Ctrl-Z goes to the terminal's foreground process group: the command is in it.
  rm -f "$D/child"
  cat >"$D/sleep.sh" <<'EOF'
#!/bin/sh
echo $$ >"$(dirname "$0")/child"
exec sleep 30
EOF
  chmod +x "$D/sleep.sh"
  run on_pty "$D/sleep.sh" '\x1a'
  assert_success
  assert_line "stopped"
  assert_line "child-state T"
}
