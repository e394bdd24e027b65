#!/usr/bin/env bats
# The top-level dispatcher: help, version, unknown subcommands.

load test_helper

@test "--version names ipcat and the libraries it was built with" {
  run "$IPCAT" --version
  assert_success
  assert_output --regexp '^ipcat [0-9]+\.[0-9]+\.[0-9]+ \(Boost 1\.81\.[0-9]+, nlohmann_json 3\.[0-9]+\.[0-9]+\)$'
}

@test "--help lists the subcommands and exit codes" {
  run "$IPCAT" --help
  assert_success
  assert_output --partial "Usage: ipcat SUBCOMMAND"
  assert_output --partial "75 timeout or lock held"
}

@test "no arguments is a usage error with help on stderr" {
  run --separate-stderr "$IPCAT"
  assert_equal "$status" 64
  assert_equal "$output" ""
  [[ "$stderr" == *"Usage: ipcat SUBCOMMAND"* ]]
}

@test "an unknown subcommand is exit 64 naming it" {
  run --separate-stderr "$IPCAT" frobnicate
  assert_equal "$status" 64
  [[ "$stderr" == "ipcat: unknown subcommand 'frobnicate'; see 'ipcat --help'" ]]
}

@test "a SEC option refuses nan, inf and negatives with 64 naming the option (NaN passes a plain range check)" {
  for cmd in "fifo-recv --timeout" "fifo-send --wait" "pidfile-run --wait"; do
    for bad in nan inf -1; do
      run --separate-stderr "$IPCAT" $cmd "$bad" "$BATS_TEST_TMPDIR/x" true
      assert_equal "$status" 64
      [[ "$stderr" == *"${cmd#* }: must be a number of seconds >= 0, not '$bad'"* ]] || fail "$cmd $bad: $stderr"
    done
  done
  [ ! -e "$BATS_TEST_TMPDIR/x" ]
}

@test "start-up: no standard-stream initialiser is linked (src/cli/cli11.h)" {
  # <iostream> would build the eight standard streams and the classic locale
  # before main, in every run (~50k instructions of a one-shot request).
  command -v nm >/dev/null || skip "nm (binutils) is not installed"
  # GCC 13's libstdc++ initialises the streams once, in the library: the wrapper is
  # off there (the compiler is named in the binary's .comment section).
  local gcc_major
  gcc_major=$(readelf -p .comment "$IPCAT" | sed -n 's/.*GCC: ([^)]*) \([0-9]*\)\..*/\1/p' | sort -n | tail -1)
  [[ -n $gcc_major ]] || skip "not built by GCC"
  ((gcc_major < 13)) || skip "GCC $gcc_major: <iostream> costs nothing at start-up"
  run nm -C "$IPCAT"
  assert_success
  grep -qE ' T main$' <<<"$output" || fail "nm lists no main: a stripped binary cannot be checked"
  refute_output --partial "std::ios_base::Init::Init"
  # Nor may anything use a stream that nobody initialised.
  if grep -E ' std::(cout|cerr|clog|cin|wcout|wcerr|wclog|wcin)$' <<<"$output"; then
    fail "a standard stream is linked, but nothing initialises the streams"
  fi
  # Subcommand help still prints (it goes through stdio, not std::cout).
  run "$IPCAT" request --help
  assert_success
  assert_output --partial "Usage: ipcat request"
}
