# Runs an image as a container runtime would, for tests/container/*.bats, without
# one: its root file system under a writable overlay, in new PID and mount
# namespaces, with the image's own User, WorkingDir, Env and Cmd; `container_exec`
# is `docker exec`. scripts/container-test sets up what it needs:
#   IPCAT_IMAGE_ROOTFS  the image's file system (podman image mount, read-only)
#   IPCAT_IMAGE_CONFIG  the image's configuration (podman image inspect's JSON)
# shellcheck disable=SC2034 # CONTAINER, EXEC_PID, status, elapsed... are for the tests
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

: "${IPCAT_IMAGE_ROOTFS:?set by scripts/container-test: the mounted root file system of the image}"
: "${IPCAT_IMAGE_CONFIG:?set by scripts/container-test: podman image inspect output}"

# wait_for DESCRIPTION SECONDS COMMAND...: the e2e suites' own (tests/e2e/wait_for.bash).
# test_helper.bash itself is not loaded: it wants IPCAT, a binary on the host, and
# these tests run the image's.
# shellcheck source=tests/e2e/wait_for.bash
source "${BASH_SOURCE[0]%/*}/../e2e/wait_for.bash"

# image_config FILTER: jq FILTER applied to the image's configuration (.Config).
image_config() {
  jq -r ".[0].Config | $1" "$IPCAT_IMAGE_CONFIG"
}

# image_user: sets IMAGE_UID and IMAGE_GID from the image's User (name or number,
# optionally :group), looked up in the image's own /etc/passwd and /etc/group, as a
# runtime does. An empty User is root.
image_user() {
  local user group entry
  user=$(image_config '.User // ""')
  group=
  [[ $user == *:* ]] && group=${user#*:} user=${user%%:*}
  IMAGE_UID=0 IMAGE_GID=0 IMAGE_HOME=/
  if [[ -n $user ]]; then
    entry=$(awk -F: -v u="$user" '$1 == u || $3 == u { print; exit }' "$IPCAT_IMAGE_ROOTFS/etc/passwd" 2>/dev/null)
    if [[ -n $entry ]]; then
      IFS=: read -r _ _ IMAGE_UID IMAGE_GID _ IMAGE_HOME _ <<<"$entry"
    elif [[ $user =~ ^[0-9]+$ ]]; then
      IMAGE_UID=$user IMAGE_GID=$user
    else
      fail "User '$user' is not in the image's /etc/passwd"
    fi
  fi
  if [[ -n $group ]]; then
    if [[ $group =~ ^[0-9]+$ ]]; then
      IMAGE_GID=$group
    else
      IMAGE_GID=$(awk -F: -v g="$group" '$1 == g { print $3; exit }' "$IPCAT_IMAGE_ROOTFS/etc/group" 2>/dev/null)
      [[ -n $IMAGE_GID ]] || fail "group '$group' is not in the image's /etc/group"
    fi
  fi
}

# image_env: the environment a process in the container starts with: the image's
# Env, plus HOME from /etc/passwd when Env has none, as Docker does. In IMAGE_ENV.
image_env() {
  mapfile -t IMAGE_ENV < <(image_config '.Env // [] | .[]')
  local e
  for e in "${IMAGE_ENV[@]}"; do [[ $e == HOME=* ]] && return 0; done
  IMAGE_ENV+=("HOME=${IMAGE_HOME:-/}")
}

# container_start [COMMAND...]: starts a container of the image running its
# Entrypoint + Cmd (or Entrypoint + COMMAND), like `docker run -d IMAGE [COMMAND]`.
# Sets CONTAINER (its directory: upper/ is the writable layer, stdout, stderr),
# CONTAINER_PID (the runtime's process, whose exit status is the container's) and
# INIT_PID (PID 1 inside, as the host numbers it).
container_start() {
  local cmd entry
  mapfile -t entry < <(image_config '.Entrypoint // [] | .[]')
  if (($#)); then cmd=("${entry[@]}" "$@"); else
    mapfile -t cmd < <(image_config '.Cmd // [] | .[]')
    cmd=("${entry[@]}" "${cmd[@]}")
  fi
  ((${#cmd[@]})) || fail "the image has no Cmd"
  image_user
  image_env
  local workdir
  workdir=$(image_config '.WorkingDir // ""')
  CONTAINER=$(mktemp -d "$BATS_TEST_TMPDIR/container.XXXXXX")
  mkdir "$CONTAINER/upper" "$CONTAINER/work" "$CONTAINER/root"
  # New PID and mount namespaces (private: nothing mounted here shows outside, and it
  # all goes when the last process inside exits); PID 1 is a shell that mounts the
  # writable layer over the image, /dev and /proc as a runtime does, then becomes the
  # command: chroot, working directory, the user's gid and uid (no supplementary
  # groups, capabilities dropped by the setuid), the image's environment only.
  unshare --pid --fork --mount --propagation private --kill-child -- \
    bash -c "$(declare -f _container_init); _container_init \"\$@\"" _container_init \
    "$IPCAT_IMAGE_ROOTFS" "$CONTAINER" "${workdir:-/}" "$IMAGE_UID" "$IMAGE_GID" \
    "${#IMAGE_ENV[@]}" "${IMAGE_ENV[@]}" "${cmd[@]}" \
    </dev/null >"$CONTAINER/stdout" 2>"$CONTAINER/stderr" 3>&- &
  CONTAINER_PID=$!
  local found=0
  wait_for "the container's PID 1" 10 _container_init_pid && found=1
  CONTAINERS+=("$CONTAINER_PID:$INIT_PID")
  ((found))
}

# Sets INIT_PID once the runtime process has forked PID 1 and it has become the
# command (it runs in the new root); or leaves it empty if the container is done.
_container_init_pid() {
  INIT_PID=
  _gone "$CONTAINER_PID" && return 0
  INIT_PID=$(cat "/proc/$CONTAINER_PID/task/$CONTAINER_PID/children" 2>/dev/null) || return 1
  INIT_PID=${INIT_PID%% *}
  [[ -n $INIT_PID ]] && [[ $(readlink "/proc/$INIT_PID/root") != / ]]
}

# PID 1's set-up, run in the new namespaces: ROOTFS CONTAINER WORKDIR UID GID N ENV*N CMD...
_container_init() {
  set -e
  local lower=$1 dir=$2 workdir=$3 uid=$4 gid=$5 n=$6
  shift 6
  local env=("${@:1:n}")
  shift "$n"
  local root=$dir/root d
  mount -t overlay overlay -o "lowerdir=$lower,upperdir=$dir/upper,workdir=$dir/work" "$root"
  mkdir -p "$root/proc" "$root/dev"
  mount -t tmpfs -o nosuid,mode=0755 tmpfs "$root/dev"
  for d in null zero full random urandom; do
    touch "$root/dev/$d"
    mount --bind "/dev/$d" "$root/dev/$d"
  done
  exec env -i "${env[@]}" /usr/bin/unshare --mount-proc --root="$root" --wd="$workdir" \
    --setgid="$gid" --setuid="$uid" -- "$@"
}

# container_exec [-d] COMMAND...: runs COMMAND in the running container like `docker
# exec` (and a health check) does: its namespaces, its root and working directory,
# the image's user and environment, no stdin. -d: in the background, pid in EXEC_PID.
container_exec() {
  local background=
  [[ $1 == -d ]] && background=1 && shift
  local cmd=(env -i "${IMAGE_ENV[@]}" nsenter --target "$INIT_PID" --mount --pid --root --wd
    --setgid "$IMAGE_GID" --setuid "$IMAGE_UID" -- "$@")
  if [[ -n $background ]]; then
    "${cmd[@]}" </dev/null >"$CONTAINER/exec.out" 2>&1 3>&- &
    EXEC_PID=$!
  else
    "${cmd[@]}" </dev/null
  fi
}

# image_healthcheck FILTER: jq FILTER applied to the image's HEALTHCHECK (podman
# image inspect has it beside Config, docker inspect inside).
image_healthcheck() {
  jq -r ".[0] | (.Healthcheck // .Config.Healthcheck // {}) | $1" "$IPCAT_IMAGE_CONFIG"
}

# healthcheck_command: the image's HEALTHCHECK as a command, in HEALTHCHECK (array);
# HEALTHCHECK_TIMEOUT is its --timeout in seconds.
healthcheck_command() {
  local kind
  kind=$(image_healthcheck '.Test[0] // "none"')
  case $kind in
    CMD) mapfile -t HEALTHCHECK < <(image_healthcheck '.Test[1:][]') ;;
    CMD-SHELL) HEALTHCHECK=(/bin/sh -c "$(image_healthcheck '.Test[1]')") ;;
    *) fail "the image has no HEALTHCHECK (Test: $(image_healthcheck '.Test'))" ;;
  esac
  # Nanoseconds; Docker's default is 30 s.
  HEALTHCHECK_TIMEOUT=$(image_healthcheck '(.Timeout // 30000000000) / 1e9 | floor')
}

# run_healthcheck: runs the image's health check in the container as Docker does
# (no stdin, killed at --timeout); status in $status, seconds taken in $elapsed.
run_healthcheck() {
  healthcheck_command
  local start=$EPOCHREALTIME
  run timeout --kill-after=1 "$HEALTHCHECK_TIMEOUT" env -i "${IMAGE_ENV[@]}" \
    nsenter --target "$INIT_PID" --mount --pid --root --wd \
    --setgid "$IMAGE_GID" --setuid "$IMAGE_UID" -- "${HEALTHCHECK[@]}"
  elapsed_since "$start"
}

# elapsed_since START: seconds from EPOCHREALTIME START to now, in $elapsed.
elapsed_since() {
  elapsed=$(awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
}

# assert_within_healthcheck_timeout: $elapsed is less than the HEALTHCHECK's --timeout.
assert_within_healthcheck_timeout() {
  awk -v e="$elapsed" -v t="$HEALTHCHECK_TIMEOUT" 'BEGIN { exit !(e < t) }' ||
    fail "took ${elapsed}s, the HEALTHCHECK's --timeout is ${HEALTHCHECK_TIMEOUT}s"
}

# container_procs: the host pids of every process in the container's PID namespace.
container_procs() {
  pgrep --ns "$INIT_PID" --nslist pid
}

# container_stop: sends the image's StopSignal (SIGTERM by default) to PID 1, waits
# up to 10 s (docker stop's grace period) and sets $status to the container's exit status.
container_stop() {
  local signal
  signal=$(image_config '.StopSignal // "SIGTERM"')
  kill -s "${signal#SIG}" "$INIT_PID"
  container_wait 10
}

# container_wait SECONDS: waits up to SECONDS for the container to exit; sets $status
# to its exit status.
container_wait() {
  wait_for "the container to exit" "$1" _gone "$CONTAINER_PID" || return 1
  status=0
  wait "$CONTAINER_PID" || status=$?
  # Reaped: its pid may be reused, so it is no longer ours to kill.
  local entry kept=()
  for entry in "${CONTAINERS[@]}"; do [[ ${entry%%:*} == "$CONTAINER_PID" ]] || kept+=("$entry"); done
  CONTAINERS=("${kept[@]}")
}

_gone() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
  [[ $state == Z* ]]
}

# containers_remove: kills what is left of this test's containers (teardown).
# Killing PID 1 ends every process in its namespace; the runtime process's
# --kill-child cannot, as the setuid clears that death signal. The runtime process
# is stopped first: stopped, it cannot reap PID 1, so the pid killed is PID 1's.
containers_remove() {
  local entry outer init
  for entry in "${CONTAINERS[@]}"; do
    outer=${entry%%:*} init=${entry#*:}
    kill -STOP "$outer" 2>/dev/null || true
    if [[ -n $init && $(ps -o ppid= -p "$init" 2>/dev/null) -eq $outer ]]; then
      kill -KILL "$init" 2>/dev/null || true
    fi
    kill -KILL "$outer" 2>/dev/null || true
    wait "$outer" 2>/dev/null || true
  done
  CONTAINERS=()
}
