# bash completion for ipcat(1)                                  -*- shell-script -*-
# Installed as share/bash-completion/completions/ipcat. Self-contained: it does not
# need the bash-completion package, but hands the words after a wrapped command
# to that command's own completion when bash-completion is loaded.
# tests/e2e/docs.bats checks the option lists below against `ipcat SUB --help`.

# _ipcat_options SUB: every option SUB accepts.
_ipcat_options() {
  case $1 in
    serve)
      printf '%s ' -h --help --echo --mode --workers --max-queue --route --route-key \
        --socket-mode --socket-group --max-line --max-depth --max-connections --max-handlers --threads \
        --max-per-uid --max-connections-per-uid --max-pending --timeout --kill-after --max-output \
        --max-quoted --cancel-on-disconnect --idle-timeout --drain --allow-uid --allow-gid \
        --clear-env --pass-env --authkey-file --handshake-timeout --pidfile --ready-fd --log-format \
        -v --verbose -q --quiet ;;
    request)
      printf '%s ' -h --help --timeout --retries --backoff --authkey-file --max-depth \
        --match -p --pretty -r --raw --max-line -v --verbose -q --quiet ;;
    notify)
      printf '%s ' -h --help --timeout --retries --backoff --authkey-file --max-depth \
        -v --verbose -q --quiet ;;
    connect)
      printf '%s ' -h --help --timeout --retries --backoff --authkey-file -n --count \
        --idle --linger --timestamps -p --pretty --max-line --max-depth -v --verbose -q --quiet ;;
    fifo-send)
      printf '%s ' -h --help --mode --wait --allow-large --remove --max-depth -q --quiet ;;
    fifo-recv)
      printf '%s ' -h --help -n --count --follow --timeout -r --raw -q --quiet --mode \
        --remove --max-line --max-depth ;;
    pidfile-run)
      printf '%s ' -h --help -w --wait -E --conflict-exit-code --exec -q --quiet ;;
    tap)
      printf '%s ' -h --help --in-place --restore --format --match --method --route-key \
        --conn --uid -n --count --max-queue --max-line --max-depth --max-pending \
        --max-connections --drain ;;
  esac
}

# _ipcat_value_options SUB: the options of SUB that take a value (the next word).
_ipcat_value_options() {
  case $1 in
    serve)
      printf '%s ' --mode --workers --max-queue --route --route-key --socket-mode \
        --socket-group --max-line --max-depth --max-connections --max-handlers --threads --max-per-uid \
        --max-connections-per-uid --max-pending --timeout --kill-after --max-output --max-quoted --idle-timeout \
        --drain --allow-uid --allow-gid --pass-env \
        --authkey-file --handshake-timeout --pidfile --ready-fd --log-format ;;
    request) printf '%s ' --timeout --retries --backoff --authkey-file --max-depth --match --max-line ;;
    notify) printf '%s ' --timeout --retries --backoff --authkey-file --max-depth ;;
    connect)
      printf '%s ' --timeout --retries --backoff --authkey-file -n --count --idle --linger \
        --max-line --max-depth ;;
    fifo-send) printf '%s ' --mode --wait --max-depth ;;
    fifo-recv) printf '%s ' -n --count --timeout --mode --max-line --max-depth ;;
    pidfile-run) printf '%s ' -w --wait -E --conflict-exit-code ;;
    tap)
      printf '%s ' --format --match --method --route-key --conn --uid -n --count --max-queue \
        --max-line --max-depth --max-pending --max-connections --drain ;;
  esac
}

# _ipcat_files: complete paths (sockets, FIFOs, pidfiles, key files), also after
# an address's unix: prefix.
_ipcat_files() {
  compopt -o filenames 2>/dev/null
  local prefix= word=$cur
  if [[ $word == unix:* ]]; then
    prefix=unix:
    word=${word#unix:}
  fi
  mapfile -t COMPREPLY < <(compgen -f -- "$word")
  [[ -z $prefix ]] || COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
}

# _ipcat_command INDEX: the word at INDEX is a command to run (HANDLER, COMMAND);
# complete it, or its arguments, like a command line of its own.
_ipcat_command() {
  if declare -F _command_offset >/dev/null; then
    _command_offset "$1"
  elif ((COMP_CWORD == $1)); then
    mapfile -t COMPREPLY < <(compgen -c -- "$cur" | sort -u)
  else
    _ipcat_files
  fi
}

# _ipcat: bash splits words at ':' (COMP_WORDBREAKS), so `unix:/run/x.sock` arrives
# as `unix` `:` `/run/x.sock`. Glue such pieces back into one word (COMP_LINE shows
# where no space was), complete that, then hand readline only what follows the
# last ':', the part it replaces (as bash-completion's __ltrim_colon_completions).
_ipcat() {
  local -a words=()
  local i w glued line=${COMP_LINE:0:COMP_POINT} cword=0
  for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
    w=${COMP_WORDS[i]}
    glued=1
    if [[ $line =~ ^[[:space:]]+ ]]; then
      glued=0
      line=${line:${#BASH_REMATCH[0]}}
    fi
    if ((i > 0 && glued)) && [[ $w == :* || ${words[-1]} == *: ]]; then
      words[-1]+=$w
    else
      words+=("$w")
    fi
    line=${line:${#w}}
    ((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
  done
  COMP_WORDS=("${words[@]}")
  COMP_CWORD=$cword
  _ipcat_complete
  local cur=${COMP_WORDS[COMP_CWORD]}
  if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
    local prefix=${cur%"${cur##*:}"}
    for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]=${COMPREPLY[i]#"$prefix"}; done
  fi
  return 0
}

_ipcat_complete() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=
  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
  COMPREPLY=()
  # --option=value: bash splits the word at '=' (COMP_WORDBREAKS) into --option,
  # '=' and value; readline completes only the part after the '='.
  if [[ $cur == = ]]; then
    cur=
  elif [[ $prev == = ]] && ((COMP_CWORD > 2)); then
    prev=${COMP_WORDS[COMP_CWORD - 2]}
  fi

  # The subcommand is the first word after ipcat.
  if ((COMP_CWORD <= 1)); then
    if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W '-h --help --version' -- "$cur"))
    else
      COMPREPLY=($(compgen -W 'serve request notify connect fifo-send fifo-recv pidfile-run tap help' -- "$cur"))
    fi
    return 0
  fi
  local sub=${COMP_WORDS[1]}
  if [[ $sub == help ]]; then
    ((COMP_CWORD == 2)) &&
      COMPREPLY=($(compgen -W 'serve request notify connect fifo-send fifo-recv pidfile-run tap' -- "$cur"))
    return 0
  fi
  local options value_options
  options=$(_ipcat_options "$sub")
  [[ -n $options ]] || return 0
  value_options=" $(_ipcat_value_options "$sub") "

  # Walk the words before the cursor: count positionals, find `--` and the
  # start of a wrapped command (serve HANDLER, pidfile-run COMMAND).
  local i word positionals=0 command_at=0
  for ((i = 2; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    if [[ $word == -- ]]; then
      command_at=$((i + 1))
      break
    elif [[ $word == -* && $value_options == *" $word "* ]]; then
      ((i++))
      # --option=value arrives as three words.
      [[ ${COMP_WORDS[i]} == = ]] && ((i++))
    elif [[ $word != -* ]]; then
      ((positionals++))
      # serve ADDRESS HANDLER / pidfile-run PIDFILE COMMAND: the second
      # positional starts the command; everything after it is its own.
      if [[ ($sub == serve || $sub == pidfile-run) && $positionals == 2 ]]; then
        command_at=$i
        break
      fi
    fi
  done
  if ((command_at > 0)); then
    _ipcat_command "$command_at"
    return 0
  fi

  # The value of an option.
  if [[ $value_options == *" $prev "* ]]; then
    case $sub:$prev in
      serve:--mode) COMPREPLY=($(compgen -W 'request connection pool' -- "$cur")) ;;
      serve:--log-format) COMPREPLY=($(compgen -W 'text json' -- "$cur")) ;;
      serve:--socket-group | serve:--allow-gid) COMPREPLY=($(compgen -g -- "$cur")) ;;
      serve:--allow-uid | tap:--uid) COMPREPLY=($(compgen -u -- "$cur")) ;;
      tap:--format) COMPREPLY=($(compgen -W 'json text' -- "$cur")) ;;
      serve:--pass-env) COMPREPLY=($(compgen -e -- "$cur")) ;;
      serve:--socket-mode | fifo-send:--mode | fifo-recv:--mode)
        COMPREPLY=($(compgen -W '0600 0660 0666' -- "$cur")) ;;
      *:--authkey-file | serve:--pidfile) _ipcat_files ;;
      *) ;; # a number, a name: nothing to offer
    esac
    return 0
  fi

  if [[ $cur == -* ]]; then
    # pidfile-run reads options only up to PIDFILE.
    if [[ $sub != pidfile-run || $positionals == 0 ]]; then
      COMPREPLY=($(compgen -W "$options" -- "$cur"))
    fi
    return 0
  fi

  case $sub:$positionals in
    serve:1 | pidfile-run:1) _ipcat_command "$COMP_CWORD" ;;
    tap:1) _ipcat_files ;; # UPSTREAM
    *:0) _ipcat_files ;; # ADDRESS, PATH, PIDFILE
    *) ;;                # BODY / ITEMs
  esac
  return 0
}

complete -F _ipcat ipcat
