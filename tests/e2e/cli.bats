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

@test "every SEC option, of every subcommand, takes the same forms and refuses the same with one message" {
  # OPTION, and the arguments that make the rest of the command line valid.
  local cmds=("fifo-recv --timeout" "fifo-send --wait" "pidfile-run --wait" "pidfile-run -w"
    "serve --timeout" "serve --idle-timeout" "serve --drain" "serve --handshake-timeout" "serve --kill-after"
    "request --timeout" "request --backoff" "notify --timeout" "notify --backoff"
    "connect --timeout" "connect --backoff" "connect --idle" "connect --linger" "tap --drain")
  local cmd sub option bad good listed
  # The list is every SEC option the subcommands' --help shows, so a new one is not missed.
  for sub in fifo-recv fifo-send pidfile-run serve request notify connect tap; do
    for option in $("$IPCAT" "$sub" --help | sed -nE 's/^  (-[a-z], ?)?(--[a-z-]+) SEC.*/\2/p'); do
      listed=0
      for cmd in "${cmds[@]}"; do [[ $cmd == "$sub $option" ]] && listed=1; done
      ((listed)) || fail "$sub $option is a SEC option this test does not check"
    done
  done
  for cmd in "${cmds[@]}"; do
    sub=${cmd%% *} option=${cmd#* }
    [[ $option == -w ]] && long=--wait || long=$option
    for bad in nan inf -inf -1 -0.5 -0 +1 ' 1' 1e10 1000000001 1e400 99999999999999999999 0x10 '' . 1e 1e+ 1,5 1s; do
      run --separate-stderr timeout 10 "$IPCAT" $cmd "$bad" "$BATS_TEST_TMPDIR/x" true
      assert_equal "$status" 64
      assert_equal "$stderr" "ipcat: $sub: $long: must be a number of seconds from 0 to 1e9, not '$bad' (see 'ipcat $sub --help')"
      # Never a C++ rendering of the number ("-1.000000").
      [[ $stderr != *.000000* ]] || fail "$cmd $bad: $stderr"
    done
  done
  # The accepted forms pass the parser (what each then does is tested per subcommand).
  for good in 0 00 2 1. 0.25 .5 1e3 1e+3 1E-3 0.0001 1e9 1000000000 1000000000.0; do
    run --separate-stderr timeout 10 "$IPCAT" fifo-recv --timeout "$good" --bogus "$BATS_TEST_TMPDIR/x"
    assert_equal "$stderr" "ipcat: fifo-recv: The following argument was not expected: --bogus (see 'ipcat fifo-recv --help')"
  done
  [ ! -e "$BATS_TEST_TMPDIR/x" ]
}

@test "a number check prints its rule, never CLI11's 300-digit bounds" {
  run --separate-stderr "$IPCAT" serve --max-line 0 "$BATS_TEST_TMPDIR/s.sock" --echo
  assert_equal "$status" 64
  assert_equal "$stderr" "ipcat: serve: --max-line: must be a whole number >= 1, not '0' (see 'ipcat serve --help')"
  run --separate-stderr "$IPCAT" request --retries -1 "$BATS_TEST_TMPDIR/s.sock" '{}'
  assert_equal "$status" 64
  assert_equal "$stderr" "ipcat: request: --retries: must be a whole number >= 0, not '-1' (see 'ipcat request --help')"
  run --separate-stderr "$IPCAT" fifo-recv -n 1.5 "$BATS_TEST_TMPDIR/f"
  assert_equal "$status" 64
  assert_equal "$stderr" "ipcat: fifo-recv: --count: must be a whole number >= 1, not '1.5' (see 'ipcat fifo-recv --help')"
  [ ! -e "$BATS_TEST_TMPDIR/s.sock" ]
}

@test "a repeatable option takes one value per occurrence and never swallows the address" {
  local sock=$BATS_TEST_TMPDIR/s.sock uid gid
  uid=$(id -u) gid=$(id -g)
  # No subcommand's --help shows an option taking a list ("TEXT ...").
  local sub
  for sub in serve request notify fifo-send fifo-recv pidfile-run; do
    run "$IPCAT" "$sub" --help
    assert_success
    if grep -E '^  -.* \.\.\.( |$)' <<<"$output"; then fail "ipcat $sub --help: an option takes a list"; fi
  done
  # Each form: the word after the value is the ADDRESS, the server starts.
  local form
  for form in "--allow-uid $uid" "--allow-uid=$uid" "--allow-gid $gid" "--pass-env HOME --clear-env" \
    "--allow-uid $uid --allow-uid 0 --allow-gid=$gid"; do
    rm -f "$sock"
    # shellcheck disable=SC2086
    "$IPCAT" serve $form "$sock" --echo </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    local server=$!
    wait_for "serve $form to listen" 10 socket_accepts "$sock" || fail "serve $form: $(cat "$BATS_TEST_TMPDIR/err")"
    run "$IPCAT" request "$sock" '{"a":1}'
    assert_output '{"a":1}'
    kill -TERM "$server"
    wait "$server" || fail "serve $form exited $?"
  done
  # --route NAME=COMMAND, twice, then the address.
  rm -f "$sock"
  "$IPCAT" serve --route a=true --route b=true "$sock" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err" 3>&- &
  local server=$!
  wait_for "serve --route to listen" 10 socket_accepts "$sock" || fail "$(cat "$BATS_TEST_TMPDIR/err")"
  kill -TERM "$server"
  wait "$server"
}

@test "subcommand --help prints one Usage: line; ipcat --help lists help too" {
  local sub
  for sub in serve request notify fifo-send fifo-recv pidfile-run; do
    run "$IPCAT" "$sub" --help
    assert_success
    assert_equal "$(grep -c '^Usage:' <<<"$output")" 1
  done
  run "$IPCAT" --help
  assert_success
  assert_line --regexp '^  help +Print a subcommand.s help'
  run "$IPCAT" help fifo-send
  assert_success
  assert_line --partial "Usage: ipcat fifo-send"
}

@test "README's exit table: a missing command is pidfile-run's 127 (126 not executable), not 66" {
  local readme=${IPCAT_SOURCE_DIR:-$BATS_TEST_DIRNAME/../..}/README.md
  run grep -E '^\| 66 \|' "$readme"
  assert_success
  refute_output --partial command
  run grep -E '^\| 126, 127 \| `pidfile-run`: the command is not executable, or not found \|$' "$readme"
  assert_success
  run -127 "$IPCAT" pidfile-run "$BATS_TEST_TMPDIR/x.pid" "$BATS_TEST_TMPDIR/no-such-command"
  assert_equal "$status" 127
}

# bash_complete_line LINE WORD...: what _ipcat offers when Tab is pressed at the end
# of LINE, which bash split into WORD... (at ':' too, as COMP_WORDBREAKS says).
bash_complete_line() {
  local line=$1
  shift
  (cd "$BATS_TEST_TMPDIR" && bash --norc --noprofile -c '
    source "$1" || exit 1
    COMP_LINE=$2
    COMP_POINT=${#COMP_LINE}
    shift 2
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    _ipcat ipcat "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf "%s\n" "${COMPREPLY[@]}"' bash "${IPCAT_SOURCE_DIR:-$BATS_TEST_DIRNAME/../..}/completions/ipcat.bash" "$line" "$@") |
    sed '/^$/d' | sort -u
}

@test "bash completion: unix:<Tab> completes the path after the prefix (not unix::)" {
  touch "$BATS_TEST_TMPDIR/app.sock"
  # readline replaces only what follows the ':', so the reply is the path alone.
  run bash_complete_line "ipcat request unix:" ipcat request unix :
  assert_output app.sock
  run bash_complete_line "ipcat serve unix:" ipcat serve unix :
  assert_output app.sock
  run bash_complete_line "ipcat request unix:ap" ipcat request unix : ap
  assert_output app.sock
  # After the address, the handler is still the second word (serve ADDRESS HANDLER).
  run bash_complete_line "ipcat serve unix:app.sock slee" ipcat serve unix : app.sock slee
  assert_line sleep
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
