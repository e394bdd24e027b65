#!/usr/bin/env bats
# The man page, the bash/zsh/fish completions, the Dockerfile and the README, each
# checked against the binary (`ipcat SUB --help`) or the tree, so they cannot drift.
# Completions are driven for real: bash through COMP_WORDS/COMP_CWORD, zsh through
# a pseudo-terminal (zpty) pressing Tab, fish through `complete -C`.

load test_helper

ROOT=${IPCAT_SOURCE_DIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
MAN=$ROOT/man/ipcat.1
SUBCOMMANDS=(serve request notify connect fifo-send fifo-recv pidfile-run tap)

# --- what the binary says ------------------------------------------------------

# help_options SUB: every option in the Options: list of `ipcat SUB --help`, short
# and long, sorted, one per line.
help_options() {
  "$IPCAT" "$1" --help | awk '
    /^Options:/ { in_options = 1; next }
    in_options && /^$/ { in_options = 0 }
    in_options && /^  -/ { split($1, names, ","); for (i in names) print names[i] }' | sort -u
}

# help_value_options SUB: the options of SUB that take a value (a type follows the name).
help_value_options() {
  "$IPCAT" "$1" --help | awk '
    /^Options:/ { in_options = 1; next }
    in_options && /^$/ { in_options = 0 }
    in_options && /^  -/ {
      line = substr($0, 3); sub(/  .*/, "", line); n = split(line, w, " ")
      if (n >= 2 && w[2] != "Excludes:" && w[2] != "Needs:") {
        split(w[1], names, ","); for (i in names) print names[i]
      }
    }' | sort -u
}

# help_choices SUB OPTION: the values --help lists for OPTION as TEXT:{a,b,c}.
help_choices() {
  "$IPCAT" "$1" --help | grep -E "^  $2 " | sed -nE 's/.*\{([^}]*)\}.*/\1/p' | tr , '\n' | sort -u
}

# same_set WHAT EXPECTED ACTUAL: fails showing both sides and the difference.
same_set() {
  if [[ "$2" != "$3" ]]; then
    echo "$1 differ:" >&2
    diff <(echo "$2") <(echo "$3") | sed 's/^</  only in --help:/; s/^>/  only in the file:/' >&2
    return 1
  fi
}

# --- man page ----------------------------------------------------------------

# man_text: the page rendered as plain text, lines unbroken.
man_text() {
  mandoc -T ascii -O width=1000 "$MAN" | sed 's/.\x08//g'
}

# man_section SUB: the text of the "ipcat SUB" subsection.
man_section() {
  man_text | awk -v head="   ipcat $1" '
    $0 == head { on = 1; next }
    on && (/^   ipcat / || /^[A-Z]/) { on = 0 }
    on { print }'
}

@test "man page: mandoc -Tlint -W warning finds nothing" {
  run mandoc -Tlint -W warning "$MAN"
  assert_success
  assert_output ""
}

@test "man page: man -l renders it at 80 columns without a warning, every subcommand in it" {
  command -v man || skip "man-db is not installed (scripts/deps installs it)"
  run --separate-stderr env MANWIDTH=80 MAN_KEEP_FORMATTING= man -l "$MAN"
  assert_success
  assert_equal "$stderr" ""
  for sub in "${SUBCOMMANDS[@]}"; do
    assert_line --regexp "^ +ipcat $sub\$"
  done
  for section in NAME SYNOPSIS DESCRIPTION OPTIONS SUBCOMMANDS ADDRESSES PROTOCOL HANDSHAKE \
    "HANDLER ENVIRONMENT" "EXIT STATUS" SIGNALS ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
    assert_line "$section"
  done
}

@test "man page: each subcommand's section documents exactly the options of its --help" {
  local sub expected documented option
  for sub in "${SUBCOMMANDS[@]}"; do
    section=$(man_section "$sub")
    [[ -n $section ]] || fail "no 'ipcat $sub' subsection in the man page"
    # Every option --help lists is there (short ones as a word of their own);
    # -h/--help is documented once for all subcommands.
    for option in $(help_options "$sub" | grep -vxE -- '-h|--help'); do
      grep -qE -- "(^|[^a-zA-Z0-9-])$option([^a-zA-Z0-9-]|\$)" <<<"$section" ||
        fail "man page, ipcat $sub: $option (from --help) is not documented"
    done
    # And no long option is documented that the binary does not know.
    expected=$(help_options "$sub" | grep -- '^--')
    documented=$(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$section" | sort -u)
    for option in $documented; do
      grep -qxF -- "$option" <<<"$expected" ||
        fail "man page, ipcat $sub: documents $option, which ipcat $sub --help does not know"
    done
  done
}

@test "man page: the top-level options and every exit status ipcat --help lists are documented" {
  run "$IPCAT" --help
  assert_success
  local help=$output text codes code
  text=$(man_text)
  for option in $(grep -oE -- '--[a-z]+' <<<"$help" | sort -u); do
    grep -qF -- "$option" <<<"$text" || fail "man page: $option is not documented"
  done
  grep -qF 'Every subcommand accepts -h, --help.' <<<"$text" || fail "man page: does not say every subcommand takes --help"
  exit_status=$(awk '/^EXIT STATUS/ { on = 1; next } on && /^[A-Z]/ { on = 0 } on' <<<"$text")
  codes=$(sed -n '/^Exit status:/,$p' <<<"$help" | grep -oE '\b[0-9]+\b' | sort -un)
  [[ $(wc -w <<<"$codes") -ge 10 ]] || fail "could not read the exit codes from --help: $codes"
  for code in $codes; do
    grep -qE "^ +$code +[^ ]" <<<"$exit_status" || fail "man page: exit status $code is not in EXIT STATUS"
  done
}

@test "man page: the PROTOCOL table lists exactly the error types the server replies with" {
  local header listed table
  # The library's one list (k_error_types): error_object() takes no other type, as
  # the compiler checks (ErrorType is consteval).
  header=$(grep -rlE 'k_error_types\[\] = \{' "$ROOT/src")
  [[ $(wc -l <<<"$header") -eq 1 && -f $header ]] || fail "no single definition of k_error_types in src/: '$header'"
  listed=$(sed -n '/k_error_types\[\] = {/,/};/p' "$header" | grep -oE '"[A-Za-z]+"' | tr -d '"' | sort)
  [[ $(wc -l <<<"$listed") -eq $(sort -u <<<"$listed" | wc -l) ]] || fail "k_error_types repeats a type: $listed"
  table=$(man_text | awk '/^PROTOCOL/ { on = 1; next } on && /^[A-Z]/ { on = 0 } on' |
    sed -nE 's/^ +([A-Z][A-Za-z]+)  +.*/\1/p' | sort)
  [[ -n $listed && -n $table ]] || fail "could not read the types: list '$listed', table '$table'"
  same_set "error types (k_error_types vs the man page's PROTOCOL table)" "$listed" "$table"
}

# handler_variables ADDRESS ARG...: adds to $BATS_TEST_TMPDIR/seen the names of the
# variables a handler of `ipcat serve ADDRESS --clear-env ARG... jq` finds in its
# environment. With --clear-env nothing is inherited: these are what ipcat sets.
handler_variables() {
  local address=$1 err=$BATS_TEST_TMPDIR/serve.${#TRACKED_PIDS[@]}.err
  shift
  "$IPCAT" serve "$address" --clear-env "$@" -- "$(command -v jq)" --unbuffered -c '$ENV | keys' \
    </dev/null >/dev/null 2>"$err" 3>&- &
  track_pid $!
  wait_for "ipcat serve listening on $address" 10 grep -q 'listening address=' "$err"
  address=$(grep -o 'listening address=[^ ]*' "$err" | head -1 | cut -d= -f2)
  timeout 20 "$IPCAT" request --timeout 10 "$address" '{}' | jq -r '.[]' >>"$BATS_TEST_TMPDIR/seen"
}

@test "man page: every variable handlers get is in HANDLER ENVIRONMENT" {
  # What handlers get, seen by handlers of every mode, over Unix and TCP, not grepped
  # from the code that sets it: a variable set anywhere is found.
  local seen ours declared name section
  handler_variables "$BATS_TEST_TMPDIR/request.sock"
  handler_variables "$BATS_TEST_TMPDIR/pool.sock" --mode pool --workers 1
  handler_variables "$BATS_TEST_TMPDIR/connection.sock" --mode connection
  handler_variables tcp:127.0.0.1:0
  seen=$(sort -u "$BATS_TEST_TMPDIR/seen")
  # The names ipcat sets, as handler_environment() (src/ipc/process/environment.cc)
  # removes inherited copies of them: k_ours, all of its declared size.
  ours=$(awk '/k_ours = \{/ { on = 1 } on { print } on && /\};/ { exit }' "$ROOT/src/ipc/process/environment.cc" |
    grep -oE '"[A-Z][A-Z0-9_]*"' | tr -d '"' | sort -u)
  declared=$(grep -oE 'std::array<std::string_view, [0-9]+> k_ours' "$ROOT/src/ipc/process/environment.cc" | grep -oE '[0-9]+')
  assert_equal "$(wc -w <<<"$ours")" "$declared"
  for name in $seen; do
    grep -qxF -- "$name" <<<"$ours" ||
      fail "handlers get $name, which handler_environment() does not drop when inherited (k_ours)"
  done
  for name in PROTO UNIXREMOTEEUID TCPREMOTEPORT IPCAT_CONNECTION IPCAT_REQUEST IPCAT_WORKER; do
    grep -qxF -- "$name" <<<"$seen" || fail "no handler saw $name: the servers above did not run as meant"
  done
  section=$(man_text | awk '/^HANDLER ENVIRONMENT/ { on = 1; next } on && /^[A-Z]/ { on = 0 } on')
  for name in $seen $ours; do
    grep -qw -- "$name" <<<"$section" || fail "man page: $name is not in HANDLER ENVIRONMENT"
  done
}

# --- bash ----------------------------------------------------------------------

# bash_complete WORD...: what _ipcat offers for the command line WORD... (the last
# word is the one being completed), sorted and unique.
bash_complete() {
  bash --norc --noprofile -c '
    source "$1" || exit 1
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    _ipcat ipcat "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf "%s\n" "${COMPREPLY[@]}"' bash "$ROOT/completions/ipcat.bash" "$@" | sed '/^$/d' | sort -u
}

@test "bash: the file registers _ipcat for ipcat and completes the subcommands" {
  run bash --norc --noprofile -c 'source "$1" && complete -p ipcat' bash "$ROOT/completions/ipcat.bash"
  assert_success
  assert_output "complete -F _ipcat ipcat"
  run bash_complete ipcat ""
  assert_output "$(printf '%s\n' "${SUBCOMMANDS[@]}" help | sort)"
  run bash_complete ipcat ser
  assert_output serve
  run bash_complete ipcat --v
  assert_output --version
}

@test "bash: each subcommand completes exactly the options of its --help" {
  local sub
  for sub in "${SUBCOMMANDS[@]}"; do
    same_set "bash, ipcat $sub options" "$(help_options "$sub")" "$(bash_complete ipcat "$sub" -)"
  done
}

@test "bash: the options that take a value are exactly those of --help" {
  local sub
  for sub in "${SUBCOMMANDS[@]}"; do
    same_set "bash, ipcat $sub value options" "$(help_value_options "$sub")" \
      "$(bash -c 'source "$1"; _ipcat_value_options "$2"' bash "$ROOT/completions/ipcat.bash" "$sub" | tr ' ' '\n' | sed '/^$/d' | sort -u)"
  done
}

@test "bash: --mode and --log-format complete to the values --help lists" {
  run bash_complete ipcat serve --mode ""
  assert_output "$(help_choices serve --mode)"
  run bash_complete ipcat serve /tmp/x.sock --log-format ""
  assert_output "$(help_choices serve --log-format)"
  # --mode=VALUE: bash hands it over split at '=' (COMP_WORDBREAKS).
  run bash_complete ipcat serve --mode =
  assert_output "$(help_choices serve --mode)"
  run bash_complete ipcat serve --mode = po
  assert_output pool
  # A value given with '=' is no positional: the next word is still the ADDRESS.
  run bash_complete ipcat serve --mode = pool ./x.sock slee
  assert_line sleep
}

@test "bash: paths complete as files, the handler and the command after -- as commands" {
  mkdir -p "$BATS_TEST_TMPDIR/run"
  touch "$BATS_TEST_TMPDIR/run/app.sock" "$BATS_TEST_TMPDIR/run/app.pid"
  run bash_complete ipcat serve "$BATS_TEST_TMPDIR/run/app.s"
  assert_output "$BATS_TEST_TMPDIR/run/app.sock"
  run bash_complete ipcat pidfile-run -w 5 "$BATS_TEST_TMPDIR/run/app.p"
  assert_output "$BATS_TEST_TMPDIR/run/app.pid"
  run bash_complete ipcat serve --authkey-file "$BATS_TEST_TMPDIR/run/app.p"
  assert_output "$BATS_TEST_TMPDIR/run/app.pid"
  run bash_complete ipcat serve ./x.sock slee
  assert_line sleep
  run bash_complete ipcat serve --mode pool ./x.sock -- slee
  assert_line sleep
  run bash_complete ipcat pidfile-run ./x.pid slee
  assert_line sleep
  # pidfile-run reads no option after PIDFILE.
  run bash_complete ipcat pidfile-run ./x.pid -
  assert_output ""
}

@test "bash: with bash-completion loaded, the wrapped command's own completion takes over" {
  local lib=/usr/share/bash-completion/bash_completion
  [[ -f $lib ]] || skip "bash-completion is not installed (scripts/deps installs it)"
  run bash --norc --noprofile -c '
    source "$1" 2>/dev/null
    source "$2"
    COMP_WORDS=(ipcat pidfile-run ./x.pid ls --al)
    COMP_CWORD=4
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    _ipcat 2>/dev/null
    printf "%s\n" "${COMPREPLY[@]}" | sort -u' bash "$lib" "$ROOT/completions/ipcat.bash"
  assert_success
  assert_line --regexp '^--all ?$'
  assert_line --regexp '^--almost-all ?$'
}

# --- zsh -----------------------------------------------------------------------

# zsh_complete LINE: the matches zsh offers when Tab is pressed after LINE, in an
# interactive zsh on a pseudo-terminal with compinit and our _ipcat on fpath.
# compadd is wrapped to record every match it is given.
zsh_complete() {
  # A unique name: $RANDOM repeats in command substitutions, and a stale .done file
  # from another call would return that call's matches.
  local out
  out=$(mktemp "$BATS_TEST_TMPDIR/zsh.XXXXXX")
  timeout 60 zsh -f "$BATS_FILE_TMPDIR/complete.zsh" "$ROOT/completions" "$out" "$1" | sed '/^$/d' | sort -u
}

setup_file() {
  cat >"$BATS_FILE_TMPDIR/complete.zsh" <<'EOF'
# complete.zsh FPATH_DIR OUT LINE: prints the matches zsh offers for LINE<Tab>.
zmodload zsh/zpty || exit 3
dir=$1 out=$2 line=$3
zpty z zsh -f -i
zpty -w z "PROMPT= RPROMPT= PS2= ; fpath=(${(q)dir} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "compadd() { if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd \"\$@\"; return; fi; local -a __h; builtin compadd -A __h \"\$@\"; (( \$#__h )) && print -rl -- \$__h >> ${(q)out}; builtin compadd \"\$@\"; }"
zpty -w z "_capture_done() { print done > ${(q)out}.done }; comppostfuncs=(_capture_done)"
zpty -w z "bindkey '^I' complete-word"
zpty -w -n z "$line"$'\t'
for i in {1..2000}; do
  [[ -e $out.done ]] && break
  zpty -r -t z junk 2>/dev/null
  sleep 0.02
done
zpty -d z
[[ -e $out.done ]] || { print "zsh: no completion happened for: $line" >&2; exit 1 }
[[ -e $out ]] && sort -u $out
exit 0
EOF
}

@test "zsh: _ipcat parses (zsh -n) and starts with #compdef ipcat" {
  run zsh -n "$ROOT/completions/_ipcat"
  assert_success
  run head -1 "$ROOT/completions/_ipcat"
  assert_output "#compdef ipcat"
}

@test "zsh: Tab completes the subcommands" {
  run zsh_complete "ipcat "
  assert_success
  assert_output "$(printf '%s\n' "${SUBCOMMANDS[@]}" help | sort)"
  run zsh_complete "ipcat fifo-r"
  assert_output fifo-recv
}

@test "zsh: each subcommand completes exactly the options of its --help" {
  local sub
  for sub in "${SUBCOMMANDS[@]}"; do
    same_set "zsh, ipcat $sub options" "$(help_options "$sub")" "$(zsh_complete "ipcat $sub -" | grep -- '^-.')"
  done
}

@test "zsh: option values, paths, and the command after --" {
  run zsh_complete "ipcat serve --mode "
  assert_output "$(help_choices serve --mode)"
  run zsh_complete "ipcat serve --log-format "
  assert_output "$(help_choices serve --log-format)"
  touch "$BATS_TEST_TMPDIR/app.sock"
  run zsh_complete "ipcat request $BATS_TEST_TMPDIR/app.so"
  assert_output "app.sock"
  run zsh_complete "ipcat serve ./x.sock -- slee"
  assert_line sleep
  run zsh_complete "ipcat pidfile-run ./x.pid slee"
  assert_line sleep
}

# --- fish ----------------------------------------------------------------------

# fish_complete LINE: what `complete -C LINE` offers with our file loaded (names only).
fish_complete() {
  IPCAT_FISH_FILE="$ROOT/completions/ipcat.fish" IPCAT_FISH_LINE="$1" \
    fish -N -c 'source $IPCAT_FISH_FILE; and complete -C "$IPCAT_FISH_LINE"' | cut -f1 | sort -u
}

@test "fish: ipcat.fish parses (fish -n)" {
  run fish -n "$ROOT/completions/ipcat.fish"
  assert_success
  assert_output ""
}

@test "fish: complete -C 'ipcat ser' offers serve, and 'ipcat ' every subcommand" {
  run fish_complete "ipcat ser"
  assert_output serve
  run fish_complete "ipcat "
  assert_output "$(printf '%s\n' "${SUBCOMMANDS[@]}" help | sort)"
}

@test "fish: each subcommand completes exactly the options of its --help" {
  local sub
  for sub in "${SUBCOMMANDS[@]}"; do
    same_set "fish, ipcat $sub options" "$(help_options "$sub")" "$(fish_complete "ipcat $sub -")"
  done
}

@test "fish: the options that take a value are exactly those of --help" {
  local sub
  for sub in "${SUBCOMMANDS[@]}"; do
    same_set "fish, ipcat $sub value options" "$(help_value_options "$sub")" \
      "$(fish -N -c 'source $argv[1]; __ipcat_value_options $argv[2]' "$ROOT/completions/ipcat.fish" "$sub" | tr ' ' '\n' | sed '/^$/d' | sort -u)"
  done
}

@test "fish: option values, paths, and the command after --" {
  run fish_complete "ipcat serve --mode "
  assert_output "$(help_choices serve --mode)"
  run fish_complete "ipcat serve --log-format "
  assert_output "$(help_choices serve --log-format)"
  touch "$BATS_TEST_TMPDIR/app.sock"
  run fish_complete "ipcat fifo-recv $BATS_TEST_TMPDIR/app.so"
  assert_output "$BATS_TEST_TMPDIR/app.sock"
  run fish_complete "ipcat serve ./x.sock -- slee"
  assert_line sleep
  run fish_complete "ipcat pidfile-run ./x.pid slee"
  assert_line sleep
  # pidfile-run reads no option after PIDFILE.
  run fish_complete "ipcat pidfile-run ./x.pid --"
  assert_output ""
}

# --- Dockerfile ----------------------------------------------------------------

# dockerfile_instructions: the Dockerfile with comments dropped and continuation
# lines joined, one instruction per line.
dockerfile_instructions() {
  sed '/^[[:space:]]*#/d' "$ROOT/Dockerfile" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | sed '/^[[:space:]]*$/d'
}

@test "Dockerfile: stages, COPY sources and the scripts its RUN lines call all exist" {
  local instructions stages script source
  instructions=$(dockerfile_instructions)
  # A debian:12 build stage; the default (last) stage is the debian:12-slim runtime
  # image, or FROM the stage that is (tests/container runs them).
  grep -qE '^FROM debian:12 AS build$' <<<"$instructions" || fail "no 'FROM debian:12 AS build' stage"
  local last
  last=$(grep -E '^FROM ' <<<"$instructions" | tail -1)
  [[ $last == "FROM debian:12-slim" ]] || grep -qxF "FROM debian:12-slim AS ${last#FROM }" <<<"$instructions" ||
    fail "the last stage is not FROM debian:12-slim (nor FROM a stage that is): $last"
  stages=$(sed -nE 's/^FROM .* AS ([a-z0-9_-]+)$/\1/p' <<<"$instructions")
  # Every COPY --from names a stage; every other COPY source exists in the tree,
  # but the prebuilt stage's ipcat.deb, the only file of its build context.
  while read -r line; do
    if [[ $line =~ --from=([a-z0-9_-]+) ]]; then
      grep -qxF "${BASH_REMATCH[1]}" <<<"$stages" || fail "COPY --from=${BASH_REMATCH[1]}: no such stage"
    elif [[ $line == "COPY ipcat.deb /out/ipcat.deb" ]]; then
      grep -qxF "FROM scratch AS prebuilt" <<<"$instructions" || fail "COPY ipcat.deb outside a prebuilt stage"
    else
      read -ra words <<<"${line#COPY }"
      for source in "${words[@]:0:${#words[@]}-1}"; do
        [[ -e $ROOT/$source ]] || fail "COPY $source: not in the tree"
      done
    fi
  done < <(grep -E '^COPY ' <<<"$instructions")
  # Every scripts/X that a RUN calls exists and is executable.
  local scripts
  scripts=$(grep -E '^RUN ' <<<"$instructions" | grep -oE 'scripts/[A-Za-z0-9_.-]+' | sort -u)
  grep -qx scripts/test <<<"$scripts" || fail "the build stage does not run scripts/test (what CI runs)"
  for script in $scripts; do
    [[ -x $ROOT/$script ]] || fail "RUN $script: missing or not executable"
  done
  # The build context leaves out build trees.
  grep -qxF 'build*' "$ROOT/.dockerignore" || fail ".dockerignore does not exclude build*"
}

@test "Dockerfile: cpack reads the build directory scripts/test builds into" {
  local dir
  dir=$(dockerfile_instructions | grep -oE 'cpack --config /src/([^ ]+)/CPackConfig.cmake' | sed -E 's|.*/src/(.*)/CPackConfig.cmake|\1|')
  [[ -n $dir ]] || fail "no 'cpack --config /src/DIR/CPackConfig.cmake' in the Dockerfile"
  grep -qE "(^|[=\"/])\\\$root/$dir([\"[:space:]]|\$)" "$ROOT/scripts/test" ||
    fail "scripts/test does not build into $dir"
}

@test "Dockerfile: the HEALTHCHECK is the issue's probe; it passes against the CMD daemon and fails once it stops" {
  local instructions health cmd
  instructions=$(dockerfile_instructions)
  # The runtime stage's (the first); the minimal image's are tested in tests/container.
  health=$(grep -m1 -E '^HEALTHCHECK ' <<<"$instructions" | sed -E 's/.* CMD (\[.*\])$/\1/')
  cmd=$(grep -m1 -E '^CMD ' <<<"$instructions" | sed -E 's/^CMD (\[.*\])$/\1/')
  assert_equal "$(jq -c . <<<"$health")" \
    '["ipcat","request","-q","--retries","0","--timeout","0.5","/run/app/control.sock","{\"cmd\":\"ping\"}"]'
  # Run both as Docker would, with ipcat and the socket directory swapped for ours.
  local sock=$BATS_TEST_TMPDIR/control.sock
  mapfile -t daemon < <(jq -r --arg ipcat "$IPCAT" --arg sock "$sock" \
    '.[] | if . == "ipcat" then $ipcat elif . == "/run/app/control.sock" then $sock else . end' <<<"$cmd")
  mapfile -t probe < <(jq -r --arg ipcat "$IPCAT" --arg sock "$sock" \
    '.[] | if . == "ipcat" then $ipcat elif . == "/run/app/control.sock" then $sock else . end' <<<"$health")
  [[ ${daemon[0]} == "$IPCAT" && ${daemon[2]} == "$sock" ]] || fail "CMD is not 'ipcat serve /run/app/control.sock ...': $cmd"
  "${daemon[@]}" </dev/null 2>"$BATS_TEST_TMPDIR/daemon.err" 3>&- &
  local pid=$!
  track_pid "$pid"
  wait_for "the CMD daemon" 10 socket_accepts "$sock"
  run timeout 10 "${probe[@]}" </dev/null
  assert_success
  assert_output ""
  stop_pid "$pid"
  # No daemon: unhealthy, within the probe's 1 s (plus start-up), saying why on
  # stderr in far less than the 4 KiB Docker keeps.
  local start=$SECONDS
  run timeout 10 "${probe[@]}" </dev/null
  assert_failure
  [[ $((SECONDS - start)) -le 3 ]] || fail "the probe took $((SECONDS - start)) s"
  [[ ${#output} -lt 4096 ]] || fail "the probe printed ${#output} bytes"
}

teardown() {
  stop_tracked
}

# --- README --------------------------------------------------------------------

@test "README: the scripts, examples and man page it points to exist" {
  local readme=$ROOT/README.md path
  for path in $(grep -oE '(scripts|examples|man|completions)/[A-Za-z0-9_./-]*[A-Za-z0-9_]' "$readme" | sort -u); do
    [[ -e $ROOT/$path ]] || fail "README mentions $path, which is not in the tree"
  done
  for path in scripts/demo scripts/test; do
    grep -qF "$path" "$readme" || fail "README does not give the set-up command $path"
  done
  grep -qF 'man/ipcat.1' "$readme" || fail "README does not link the man page"
  [[ -e $ROOT/ARCHITECTURE.md ]] || fail "no ARCHITECTURE.md"
}

# --- references ------------------------------------------------------------------

# tree_text_files: the tree's text files (not build trees, .git or fuzz corpora),
# relative to ROOT.
tree_text_files() {
  (cd "$ROOT" && grep -rIl --exclude=.git --exclude-dir=.git --exclude-dir=build --exclude-dir=corpus '' . | sed 's|^\./||' | sort)
}

# in_tree REF: REF is a file or directory of the tree, or the prefix of some (a glob
# such as examples/systemd/ipcat-demo.*, a program built from bench/echo_server.c).
in_tree() {
  [[ -e $ROOT/$1 ]] || compgen -G "$ROOT/$1.*" >/dev/null
}

@test "references: every file the tree names is in it, every man page section it cites exists" {
  local files=() line ref cite where problems=() sections subsections
  mapfile -t files < <(tree_text_files)
  [[ ${#files[@]} -ge 100 ]] || fail "found only ${#files[@]} text files in $ROOT"
  sections=$(grep -E '^\.SH ' "$MAN" | sed -E 's/^\.SH //; s/"//g')
  subsections=$(grep -E '^\.SS ' "$MAN" | sed -E 's/^\.SS //; s/\\-/-/g')
  [[ $(wc -l <<<"$sections") -ge 10 && $(wc -l <<<"$subsections") -ge 8 ]] ||
    fail "could not read the man page's sections: $sections / $subsections"
  cd "$ROOT"
  # Paths under the tree's top-level directories (a last part in capitals, or one
  # with <...> in it, is a placeholder: scripts/X, tests/unit/<unit>_test.cc).
  while IFS=: read -r where line ref; do
    ref=${ref#[^A-Za-z.]}
    [[ ${ref##*/} =~ ^[A-Z]+$ || $ref == *'<'* ]] && continue
    in_tree "$ref" || problems+=("$where:$line: names $ref, which is not in the tree")
  done < <(grep -HnoE '(^|[] ("`'"'"'<,=[])(\.ci|bench|completions|examples|man|packaging|scripts|src|tests)/[A-Za-z0-9_./<>-]*[A-Za-z0-9_>]' "${files[@]}")
  # Documents by name, wherever they are in the tree.
  while IFS=: read -r where line ref; do
    [[ -n $(find . \( -name .git -o -name build \) -prune -o -name "$ref" -print -quit) ]] ||
      problems+=("$where:$line: names $ref, which is not in the tree")
  done < <(grep -HnoE '\b[A-Za-z0-9_-]+\.md\b' "${files[@]}")
  # Nothing outside the tree: no absolute path into a home or a checkout, no
  # ../ out of it. (The brackets keep this line from matching itself.)
  while IFS=: read -r where line ref; do
    problems+=("$where:$line: points outside the tree: $ref")
  done < <(grep -HnoE '(^|[ "'"'"'(=])/(wor[k]|hom[e])/[A-Za-z0-9_./-]*|\.\./share[d][A-Za-z0-9_./-]*' "${files[@]}")
  # Citations of the man page, as "(man/ipcat.1, PROTOCOL)" or "(man/ipcat.1, ipcat
  # tap, ...)": a name in capitals is a section, "ipcat SUB" a subsection.
  while IFS=: read -r where line cite; do
    while read -r ref; do
      [[ -z $ref ]] || grep -qxF -- "$ref" <<<"$sections" ||
        problems+=("$where:$line: cites section $ref of the man page, which has none")
    done < <(grep -oE '\b[A-Z][A-Z]+( [A-Z][A-Z]+)*\b' <<<"$cite")
    while read -r ref; do
      [[ -z $ref ]] || grep -qxF -- "$ref" <<<"$subsections" ||
        problems+=("$where:$line: cites $ref in the man page, which has no such subsection")
    done < <(grep -oE '\bipcat [a-z][a-z-]*[a-z]' <<<"$cite")
  done < <(grep -HnoE 'man/ipcat\.1(, ?| ?\(|: ?)[^);`]*' "${files[@]}")
  ((${#problems[@]} == 0)) || fail "$(printf '%s\n' "${problems[@]}")"
}

@test "README: its exit status table has every code ipcat --help lists" {
  local codes code
  codes=$("$IPCAT" --help | sed -n '/^Exit status:/,$p' | grep -oE '\b[0-9]+\b' | sort -un)
  for code in $codes; do
    grep -qE "^\| *\`?$code\`? *\|" "$ROOT/README.md" || fail "README: exit status $code is not in its table"
  done
}

# run_readme_block N DIR: runs block N of the README's "runs as copied" snippets
# (tests/e2e/handlers/readme-snippets.py) from a directory like the top of the
# repository, with `ipcat` on PATH, a fresh XDG_RUNTIME_DIR and no STATE_DIR or
# SERVICES, bounded by 60 s. Output in DIR/stdout, DIR/stderr, DIR/out/K.
run_readme_block() {
  local n=$1 dir=$2
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/out" "$dir/xdg" "$dir/top"
  ln -s "$IPCAT" "$dir/bin/ipcat"
  ln -s "$ROOT/examples" "$dir/top/examples"
  (cd "$dir/top" && env -u STATE_DIR -u SERVICES PATH="$dir/bin:$PATH" SNIPPET_TMP="$dir/tmp" \
    SNIPPET_OUT="$dir/out" XDG_RUNTIME_DIR="$dir/xdg" timeout 60 bash "$SNIPPETS/block.$n.sh") \
    </dev/null >"$dir/stdout" 2>"$dir/stderr" 3>&-
}

@test "README: the snippets marked 'runs as copied' run, and print what their comments show" {
  command -v jq && command -v python3 && command -v flock || skip "needs jq, python3 and flock(1)"
  SNIPPETS=$BATS_TEST_TMPDIR/snippets
  mkdir -p "$SNIPPETS"
  run python3 "$BATS_TEST_DIRNAME/handlers/readme-snippets.py" "$ROOT/README.md" "$SNIPPETS"
  assert_success
  local blocks=$output n dir expect k actual pattern
  [[ $blocks -ge 2 ]] || fail "expected at least the tour and the json-rpc snippet, found $blocks"
  for n in $(seq 1 "$blocks"); do
    dir=$BATS_TEST_TMPDIR/block.$n
    run_readme_block "$n" "$dir" || fail "README block $n: exit $? (124: timed out); stderr: $(cat "$dir/stderr")"
    # What a copied snippet must never show (the json-rpc one did: KeyError: 'STATE_DIR').
    if grep -E 'Traceback|Error: |parameter not set|not found|No such file|usage:' "$dir/stderr"; then
      fail "README block $n: errors on stderr: $(cat "$dir/stderr")"
    fi
    for expect in "$SNIPPETS/block.$n.expect."*; do
      [[ -e $expect ]] || continue
      k=${expect##*.}
      actual=$(tr '\n' ' ' <"$dir/out/$k" | sed 's/ *$//')
      pattern=$(cat "$expect")
      pattern=${pattern//.../*}
      # shellcheck disable=SC2053 # the pattern is a glob on purpose
      [[ $actual == $pattern ]] || fail "README block $n, command $k: printed <$actual>, its comment says <$(cat "$expect")>"
    done
    # Its daemons stopped at its `kill`: no socket is left behind.
    wait_for "block $n's sockets to go" 10 bash -c '! compgen -G "$1/*.sock" >/dev/null' _ "$dir/tmp"
  done
  # The json-rpc snippet's server logged each request and the totals per route.
  dir=$BATS_TEST_TMPDIR/block.2
  assert_equal "$(grep -c 'request_done' "$dir/stderr")" 3
  grep -q 'request_done .*method=stop .*outcome=NoSuchMethod' "$dir/stderr"
  grep -Eq 'stopped .*requests=3 ok=2 errors=1 .*routes\.restart\.requests=1 ' "$dir/stderr"
}
