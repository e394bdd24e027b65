# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND until it succeeds; fails
# the test after SECONDS. Every wait in the bats suites is bounded this way: the e2e
# suites get it from test_helper.bash, the container suite from
# tests/container/container.bash.
wait_for() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      echo "timed out after ${seconds}s waiting for: $what" >&2
      return 1
    fi
    sleep 0.02
  done
}
