# fish completion for ipcat(1). Installed as share/fish/vendor_completions.d/ipcat.fish.
# tests/e2e/docs.bats checks the options below against `ipcat SUB --help`.

set -l __ipcat_subcommands serve request notify connect fifo-send fifo-recv pidfile-run tap help

# The options of SUB that take a value (the next word), for walking the command line.
function __ipcat_value_options -a sub
    switch $sub
        case serve
            printf '%s\n' --mode --workers --max-queue --route --route-key --socket-mode \
                --socket-group --max-line --max-depth --max-connections --max-handlers --threads --max-per-uid \
                --max-connections-per-uid --max-pending --timeout --kill-after \
                --max-output --max-quoted --idle-timeout --drain --allow-uid --allow-gid --pass-env \
                --authkey-file --handshake-timeout --pidfile --ready-fd --log-format
        case request
            printf '%s\n' --timeout --retries --backoff --authkey-file --max-depth --match --max-line
        case notify
            printf '%s\n' --timeout --retries --backoff --authkey-file --max-depth
        case connect
            printf '%s\n' --timeout --retries --backoff --authkey-file -n --count --idle --linger \
                --max-line --max-depth
        case fifo-send
            printf '%s\n' --mode --wait --max-depth
        case fifo-recv
            printf '%s\n' -n --count --timeout --mode --max-line --max-depth
        case pidfile-run
            printf '%s\n' -w --wait -E --conflict-exit-code
        case tap
            printf '%s\n' --format --match --method --route-key --conn --uid -n --count --max-queue \
                --max-line --max-depth --max-pending --max-connections --drain
    end
end

# Where the word being completed stands, printed as "SUB POSITIONALS COMMAND_START":
# the subcommand, how many positional words come before it, and the index of the
# first word of a wrapped command (serve HANDLER, pidfile-run COMMAND), 0 if none.
function __ipcat_where
    set -l tokens (commandline -opc)
    set -l sub $tokens[2]
    set -l value_options (__ipcat_value_options $sub)
    set -l positionals 0
    set -l i 3
    while test $i -le (count $tokens)
        set -l token $tokens[$i]
        if test "$token" = --; and contains -- $sub serve pidfile-run
            echo $sub $positionals (math $i + 1)
            return
        else if string match -q -- '-*' $token
            if not string match -q -- '*=*' $token; and contains -- $token $value_options
                set i (math $i + 1)
            end
        else
            set positionals (math $positionals + 1)
            if test $positionals -eq 2; and contains -- $sub serve pidfile-run
                echo $sub $positionals $i
                return
            end
        end
        set i (math $i + 1)
    end
    echo $sub $positionals 0
end

# True when the word being completed may be an option of SUB.
function __ipcat_option_of -a sub
    set -l where (string split ' ' -- (__ipcat_where))
    test "$where[1]" = $sub; or return 1
    test $where[3] -eq 0; or return 1
    # pidfile-run reads options only up to PIDFILE.
    test $sub != pidfile-run; or test $where[2] -eq 0
end

# True when the word being completed is the first positional (ADDRESS, PATH, PIDFILE).
function __ipcat_at_path
    set -l where (string split ' ' -- (__ipcat_where))
    contains -- "$where[1]" serve request notify connect fifo-send fifo-recv pidfile-run tap
    and test $where[2] -eq 0 -a $where[3] -eq 0
end

# True when the word being completed belongs to a wrapped command line.
function __ipcat_at_command
    set -l where (string split ' ' -- (__ipcat_where))
    contains -- "$where[1]" serve pidfile-run; or return 1
    test $where[3] -gt 0; or test $where[2] -eq 1
end

# Completes the wrapped command line as if it were typed on its own.
function __ipcat_complete_command
    set -l where (string split ' ' -- (__ipcat_where))
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    if test $where[3] -eq 0; or test $where[3] -gt (count $tokens)
        __fish_complete_command
    else
        __fish_complete_subcommand --commandline $tokens[$where[3]..-1] $current
    end
end

# __ipcat_option SUB ARGS...: an option of SUB, offered while options are read.
function __ipcat_option -a sub
    complete -c ipcat -n "__ipcat_option_of $sub" $argv[2..-1]
end

complete -c ipcat -f

# ipcat [--help | --version | SUBCOMMAND]
complete -c ipcat -n "not __fish_seen_subcommand_from $__ipcat_subcommands" -s h -l help -d 'Print help and exit'
complete -c ipcat -n "not __fish_seen_subcommand_from $__ipcat_subcommands" -l version -d 'Print the version and exit'
complete -c ipcat -n "not __fish_seen_subcommand_from $__ipcat_subcommands" -a serve -d 'Answer JSON-line requests with a handler'
complete -c ipcat -n "not __fish_seen_subcommand_from $__ipcat_subcommands" -a request -d 'Send requests and print the replies'
complete -c ipcat -n "not __fish_seen_subcommand_from $__ipcat_subcommands" -a notify -d 'Send requests without waiting for replies'
complete -c ipcat -n "not __fish_seen_subcommand_from $__ipcat_subcommands" -a connect -d 'Open a JSON-line session'
complete -c ipcat -n "not __fish_seen_subcommand_from $__ipcat_subcommands" -a fifo-send -d 'Send JSON messages into a FIFO'
complete -c ipcat -n "not __fish_seen_subcommand_from $__ipcat_subcommands" -a fifo-recv -d 'Receive JSON messages from a FIFO'
complete -c ipcat -n "not __fish_seen_subcommand_from $__ipcat_subcommands" -a pidfile-run -d 'Run a command under a locked pidfile'
complete -c ipcat -n "not __fish_seen_subcommand_from $__ipcat_subcommands" -a tap -d 'Watch a socket\'s traffic, forwarding it unchanged'
complete -c ipcat -n "not __fish_seen_subcommand_from $__ipcat_subcommands" -a help -d 'Show the help of a subcommand'
complete -c ipcat -n "__fish_seen_subcommand_from help; and test (count (commandline -opc)) -eq 2" \
    -a "serve request notify connect fifo-send fifo-recv pidfile-run tap"

# Positionals and wrapped commands.
complete -c ipcat -n __ipcat_at_path -F
complete -c ipcat -n __ipcat_at_command -x -a '(__ipcat_complete_command)'

# serve
__ipcat_option serve -s h -l help -d 'Print help and exit'
__ipcat_option serve -l echo -d 'Built-in handler: reply with the request'
__ipcat_option serve -l mode -x -a 'request\t"a child per request" connection\t"a child per connection" pool\t"--workers long-lived children"' -d 'How the handler is run'
__ipcat_option serve -l workers -x -d 'Pool mode: number of worker processes'
__ipcat_option serve -l max-queue -x -d 'Pool mode: requests waiting for a worker'
__ipcat_option serve -l route -x -d 'NAME=COMMAND: run COMMAND for route key NAME'
__ipcat_option serve -l route-key -x -d 'Request field that selects the route'
__ipcat_option serve -l socket-mode -x -a '0600 0660 0666' -d 'Mode of the socket file'
__ipcat_option serve -l socket-group -x -a '(__fish_complete_groups)' -d 'Group of the socket file'
__ipcat_option serve -l max-line -x -d 'Longest request line in bytes'
__ipcat_option serve -l max-depth -x -d 'Deepest nesting of a request'
__ipcat_option serve -l max-connections -x -d 'Connections served at once'
__ipcat_option serve -l max-handlers -x -d 'Handler processes at once'
__ipcat_option serve -l threads -x -d 'Threads that start and watch handler processes'
__ipcat_option serve -l max-per-uid -x -d 'Requests in flight per peer uid (0: no limit)'
__ipcat_option serve -l max-connections-per-uid -x -d 'Connections one peer uid may hold (0: no limit)'
__ipcat_option serve -l max-pending -x -d 'Requests waiting on one connection before it stops reading'
__ipcat_option serve -l timeout -x -d 'Seconds a handler may run'
__ipcat_option serve -l kill-after -x -d 'Seconds from TERM to KILL of a timed-out handler'
__ipcat_option serve -l max-output -x -d 'Largest handler reply in bytes'
__ipcat_option serve -l max-quoted -x -d 'Bytes of handler output and stderr quoted in errors and the log'
__ipcat_option serve -l cancel-on-disconnect -d 'Stop the handlers of a client that closed its socket'
__ipcat_option serve -l idle-timeout -x -d 'Close connections idle this many seconds'
__ipcat_option serve -l drain -x -d 'Seconds in-flight requests get on SIGTERM'
__ipcat_option serve -l allow-uid -x -a '(__fish_complete_users)' -d 'Only peers with this uid'
__ipcat_option serve -l allow-gid -x -a '(__fish_complete_groups)' -d 'Only peers with this gid'
__ipcat_option serve -l clear-env -d 'Handlers get only the variables named by --pass-env'
__ipcat_option serve -l pass-env -x -a '(set --names --export)' -d 'With --clear-env: keep this variable'
__ipcat_option serve -l authkey-file -r -F -d 'Require the HMAC-SHA256 handshake with this key'
__ipcat_option serve -l handshake-timeout -x -d 'Seconds a client has to pass the handshake'
__ipcat_option serve -l pidfile -r -F -d 'Hold a locked pidfile while running'
__ipcat_option serve -l ready-fd -x -d 'Write a newline to this fd once listening'
__ipcat_option serve -l log-format -x -a 'text json' -d 'Log lines as text or json'
__ipcat_option serve -s v -l verbose -d 'More detail on stderr'
__ipcat_option serve -s q -l quiet -d 'Print nothing but errors'

# request
__ipcat_option request -s h -l help -d 'Print help and exit'
__ipcat_option request -l timeout -x -d 'Seconds: whole command with a BODY, each wait with stdin; 0 = none'
__ipcat_option request -l retries -x -d 'Connect retries while the server is not there yet'
__ipcat_option request -l backoff -x -d 'Seconds before the first retry (doubling)'
__ipcat_option request -l authkey-file -r -F -d 'Authenticate with the HMAC-SHA256 handshake'
__ipcat_option request -l max-depth -x -d 'Deepest nesting accepted in requests and replies'
__ipcat_option request -l match -x -a 'request_id id' -d 'Pair replies with requests by this member'
__ipcat_option request -s p -l pretty -d 'Indent replies'
__ipcat_option request -s r -l raw -d 'Print a string reply without quotes'
__ipcat_option request -l max-line -x -d 'Longest reply line accepted, in bytes'
__ipcat_option request -s v -l verbose -d 'Peer credentials and timings on stderr'
__ipcat_option request -s q -l quiet -d 'Print nothing but errors'

# notify
__ipcat_option notify -s h -l help -d 'Print help and exit'
__ipcat_option notify -l timeout -x -d 'Seconds for the whole command'
__ipcat_option notify -l retries -x -d 'Connect retries while the server is not there yet'
__ipcat_option notify -l backoff -x -d 'Seconds before the first retry (doubling)'
__ipcat_option notify -l authkey-file -r -F -d 'Authenticate with the HMAC-SHA256 handshake'
__ipcat_option notify -l max-depth -x -d 'Deepest nesting accepted in a request'
__ipcat_option notify -s v -l verbose -d 'More detail on stderr'
__ipcat_option notify -s q -l quiet -d 'Print nothing but errors'

# connect
__ipcat_option connect -s h -l help -d 'Print help and exit'
__ipcat_option connect -l timeout -x -d 'Seconds for connecting and the handshake; 0 = none'
__ipcat_option connect -l retries -x -d 'Connect retries while the server is not there yet'
__ipcat_option connect -l backoff -x -d 'Seconds before the first retry (doubling)'
__ipcat_option connect -l authkey-file -r -F -d 'Authenticate with the HMAC-SHA256 handshake'
__ipcat_option connect -s n -l count -x -d 'End after N lines received'
__ipcat_option connect -l idle -x -d 'End after SEC without traffic'
__ipcat_option connect -l linger -x -d 'After the end of stdin, end within SEC'
__ipcat_option connect -l timestamps -d 'Prefix each line received with its UTC time'
__ipcat_option connect -s p -l pretty -d 'Indent what the server sends'
__ipcat_option connect -l max-line -x -d 'Longest line accepted from the server, in bytes'
__ipcat_option connect -l max-depth -x -d 'Deepest nesting accepted'
__ipcat_option connect -s v -l verbose -d 'More detail on stderr; twice: the traffic'
__ipcat_option connect -s q -l quiet -d 'Print nothing but errors'

# fifo-send
__ipcat_option fifo-send -s h -l help -d 'Print help and exit'
__ipcat_option fifo-send -l mode -x -a '0600 0660 0666' -d 'Mode of a FIFO this command creates'
__ipcat_option fifo-send -l wait -x -d 'With no reader yet, wait up to SEC seconds'
__ipcat_option fifo-send -l allow-large -d 'Send messages larger than PIPE_BUF, not atomic'
__ipcat_option fifo-send -l remove -d 'Remove the FIFO at exit if this command created it'
__ipcat_option fifo-send -l max-depth -x -d 'Deepest nesting of a message'
__ipcat_option fifo-send -s q -l quiet -d 'Print nothing: the exit status tells'

# fifo-recv
__ipcat_option fifo-recv -s h -l help -d 'Print help and exit'
__ipcat_option fifo-recv -s n -l count -x -d 'Print N messages, then exit'
__ipcat_option fifo-recv -l follow -d 'Print every message until interrupted'
__ipcat_option fifo-recv -l timeout -x -d 'Stop when no message arrived for SEC seconds'
__ipcat_option fifo-recv -s r -l raw -d 'Print a string message as its bare text'
__ipcat_option fifo-recv -s q -l quiet -d 'Print nothing: the exit status tells'
__ipcat_option fifo-recv -l mode -x -a '0600 0660 0666' -d 'Mode of a FIFO this command creates'
__ipcat_option fifo-recv -l remove -d 'Remove the FIFO at exit if this command created it'
__ipcat_option fifo-recv -l max-line -x -d 'Longest line taken as a message, in bytes'
__ipcat_option fifo-recv -l max-depth -x -d 'Deepest nesting of a message'

# pidfile-run
__ipcat_option pidfile-run -s h -l help -d 'Print help and exit'
__ipcat_option pidfile-run -s w -l wait -x -d 'Wait up to SEC seconds for the lock (0: do not wait)'
__ipcat_option pidfile-run -s E -l conflict-exit-code -x -d 'Exit status when the lock is held'
__ipcat_option pidfile-run -l exec -d 'Become COMMAND (same pid) instead of running it'
__ipcat_option pidfile-run -s q -l quiet -d 'Print nothing when the lock is held'

# tap
__ipcat_option tap -s h -l help -d 'Print help and exit'
__ipcat_option tap -l in-place -d 'Take a live daemon\'s SOCKET, put it back at exit'
__ipcat_option tap -l restore -d 'Put SOCKET back after a tap was killed'
__ipcat_option tap -l format -x -a 'json text' -d 'Events as JSON lines or text'
__ipcat_option tap -l match -x -d 'Pair replies with requests by this member'
__ipcat_option tap -l method -x -d 'Show only requests with this method'
__ipcat_option tap -l route-key -x -d 'The member --method reads'
__ipcat_option tap -l conn -x -d 'Show only connection N'
__ipcat_option tap -l uid -x -a '(__fish_complete_users)' -d 'Show only clients with this uid'
__ipcat_option tap -s n -l count -x -d 'Stop after N messages shown'
__ipcat_option tap -l max-queue -x -d 'Event bytes waiting for stdout'
__ipcat_option tap -l max-line -x -d 'Longest line shown, in bytes'
__ipcat_option tap -l max-depth -x -d 'Deepest nesting shown as JSON'
__ipcat_option tap -l max-pending -x -d 'Requests awaiting a reply remembered per connection'
__ipcat_option tap -l max-connections -x -d 'Connections forwarded at once'
__ipcat_option tap -l drain -x -d 'Seconds open connections keep being forwarded at exit'
