#!/usr/bin/env bats
# The Dockerfile's image, run as a container runtime runs it (container.bash):
# its CMD serves as its USER, its HEALTHCHECK tells a serving daemon from a wedged
# or absent one within its --timeout (exit codes: man/ipcat.1, EXIT STATUS), its
# STOPSIGNAL stops it cleanly, and nothing in it runs as root. scripts/container-test
# builds the images and runs this file once for each.

load container

setup() {
  CONTAINERS=()
  # The daemon's socket and binary, as the image's CMD names them.
  SOCK=$(image_config '.Cmd | .[index("serve") + 1]')
  BIN=$(image_config '.Cmd[0]')
  [[ $SOCK == /* ]] || fail "no 'serve SOCKET' in the image's Cmd: $(image_config '.Cmd')"
}

teardown() {
  containers_remove
}

# serving: the image's daemon is up (its socket is there, in the container's root).
serving() {
  [ -S "/proc/$INIT_PID/root$SOCK" ] && container_exec "$BIN" request -q --timeout 1 "$SOCK" cmd=ping
}

start_serving() {
  container_start
  wait_for "the image's CMD to serve on $SOCK" 10 serving || {
    cat "$CONTAINER/stderr" >&2
    return 1
  }
}

# never_root PID...: every uid and gid of each process is the image's user's,
# none is 0, and no capability is in effect or permitted.
never_root() {
  local pid f
  for pid in "$@"; do
    f=/proc/$pid/status
    [[ -r $f ]] || continue
    run awk '/^Uid:|^Gid:/ { for (i = 2; i <= 5; i++) if ($i == 0) bad = 1 }
             /^Cap(Eff|Prm):/ && $2 !~ /^0+$/ { bad = 1 }
             END { exit bad }' "$f"
    assert_success "pid $pid runs as root or with capabilities: $(grep -E '^(Name|Uid|Gid|Cap)' "$f")"
    assert_equal "$(awk '/^Uid:/ { print $2 }' "$f")" "$IMAGE_UID"
  done
}

@test "the CMD starts as the image's user, not root, and serves" {
  start_serving
  image_user
  [[ $IMAGE_UID != 0 ]] || fail "the image's User ('$(image_config .User)') is root"
  never_root "$INIT_PID"
  # PID 1 is the CMD itself, no shell in between.
  run bash -c "tr '\0' '\n' </proc/$INIT_PID/cmdline"
  assert_output "$(image_config '.Cmd[]')"
  run container_exec "$BIN" request "$SOCK" from=container
  assert_success
  assert_output '{"from":"container"}'
}

@test "HEALTHCHECK exits 0 while the daemon serves, within its --timeout" {
  start_serving
  run_healthcheck
  assert_success
  assert_output ""
  assert_within_healthcheck_timeout
}

@test "HEALTHCHECK exits 75 within its --timeout while the daemon is wedged (SIGSTOP), 0 once it runs again" {
  start_serving
  kill -STOP "$INIT_PID"
  run_healthcheck
  kill -CONT "$INIT_PID"
  # 75: a server was there but did not answer in time.
  assert_failure 75
  assert_within_healthcheck_timeout
  run_healthcheck
  assert_success
}

@test "HEALTHCHECK exits 66 within its --timeout when no daemon serves" {
  # A container of the image whose command is the probe: nobody made the socket.
  healthcheck_command
  local start=$EPOCHREALTIME
  container_start "${HEALTHCHECK[@]}"
  container_wait "$HEALTHCHECK_TIMEOUT"
  elapsed_since "$start"
  # 66: no such path (the socket).
  assert_equal "$status" 66
  assert_within_healthcheck_timeout
  assert_file_empty "$CONTAINER/stdout"
}

@test "nothing runs as root inside: the daemon, and a probe run in it" {
  start_serving
  # A wedged daemon holds the probe for its 1 s: long enough to see both processes.
  kill -STOP "$INIT_PID"
  healthcheck_command
  container_exec -d "${HEALTHCHECK[@]}"
  # Once the probe is the probe (exec'd: nsenter's child is root until then).
  local probe=${HEALTHCHECK[*]} procs
  probe_running() {
    local p
    procs=$(container_procs)
    for p in $procs; do
      [[ $p != "$INIT_PID" && $(tr '\0' ' ' <"/proc/$p/cmdline") == "$probe " ]] && return 0
    done
    return 1
  }
  wait_for "the probe to run in the container" 5 probe_running
  # shellcheck disable=SC2086 # one pid a word
  never_root $procs
  kill -CONT "$INIT_PID"
  wait "$EXEC_PID" || true
}

@test "STOPSIGNAL stops the daemon: exit 0, the socket removed" {
  start_serving
  [ -S "$CONTAINER/upper$SOCK" ]
  container_stop
  assert_equal "$status" 0
  assert_not_exist "$CONTAINER/upper$SOCK"
  # Nothing else left behind beside it (no staging directory).
  run ls -A "$CONTAINER/upper$(dirname "$SOCK")"
  assert_output ""
}

@test "minimal: the static binary and /etc/passwd, nothing else" {
  [[ $IPCAT_IMAGE == *:minimal ]] || skip "not the minimal image"
  run bash -c 'cd "$IPCAT_IMAGE_ROOTFS" && find . -not -type d | sort'
  assert_output "$(printf '%s\n' ./etc/passwd ./usr/bin/ipcat)"
  run awk -F: 'END { print NR, $1 }' "$IPCAT_IMAGE_ROOTFS/etc/passwd"
  assert_output "1 $(image_config .User)"
}

@test "runtime: the package's binary, without its C++ library files" {
  [[ $IPCAT_IMAGE == *:runtime* ]] || skip "not a runtime image"
  assert_file_executable "$IPCAT_IMAGE_ROOTFS/usr/bin/ipcat"
  # The package carries no library (CMakeLists.txt, "package"): nothing of it here.
  assert_not_exist "$IPCAT_IMAGE_ROOTFS/usr/lib/libipc.a"
  assert_not_exist "$IPCAT_IMAGE_ROOTFS/usr/include/ipc"
  assert_not_exist "$IPCAT_IMAGE_ROOTFS/usr/lib/cmake/ipcat"
  # The package is installed, as dpkg knows it.
  run grep -A1 '^Package: ipcat$' "$IPCAT_IMAGE_ROOTFS/var/lib/dpkg/status"
  assert_line 'Status: install ok installed'
}
