// ipcat serve: options -> Listener + Handler + Server, run until SIGTERM/SIGINT.

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cctype>
#include <charconv>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <optional>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/options.h"
#include "ipc/base/numbers.h"
#include "ipc/net/address.h"
#include "ipc/process/child.h"
#include "ipc/process/environment.h"
#include "ipc/base/error.h"
#include "ipc/server/handlers/exec_handler.h"
#include "ipc/server/worker_loops.h"
#include "ipc/net/listener.h"
#include "ipc/server/log.h"
#include "ipc/wire/auth.h"
#include "ipc/process/pidfile.h"
#include "ipc/net/systemd.h"
#include "ipc/server/handlers/pool_handler.h"
#include "ipc/server/handlers/router_handler.h"
#include "ipc/server/handlers/stream_handler.h"
#include "ipc/server/handlers/echo_handler.h"
#include "ipc/server/line_connections.h"
#include "ipc/server/server.h"

namespace cli {
// Named, so that the CLI builds as one unity file (CMakeLists.txt: start-up cost).
namespace serve_detail {
namespace {

struct ServeArgs {
  /// The counts bind straight to ServerOptions: its defaults are the options' defaults.
  ipc::ServerOptions server;
  std::string address;
  std::vector<std::string> handler;
  bool echo = false;
  std::string socket_mode = "0600";
  std::string socket_group;
  std::size_t max_handlers = 16;
  Seconds timeout{30};
  std::size_t max_output = 1024 * 1024;
  Seconds idle_timeout{0};
  Seconds drain{10};
  Seconds handshake_timeout{5};
  Seconds kill_after{2};
  std::vector<std::string> allow_uid, allow_gid;
  bool clear_env = false;
  std::vector<std::string> pass_env;
  std::string mode = "request";
  std::size_t workers = 0;  // 0: one per CPU
  int threads = -1;         // -1: one per CPU
  std::size_t max_queue = 1024;
  std::vector<std::string> routes;
  std::string route_key = "method";
  std::string authkey_file;
  std::string pidfile;
  int ready_fd = -1;
  bool socket_mode_given = false;  // --socket-mode/--socket-group said on the command line
  std::string log_format = "text";
  int verbose = 0;
  bool quiet = false;
};


void add_options(CLI::App& app, ServeArgs& a) {
  app.add_option("address", a.address, "Where to listen: PATH, unix:PATH, @name, tcp:HOST:PORT, fd:N, systemd[:NAME]")
      ->required();
  app.add_flag("--echo", a.echo, "Built-in handler: reply with the request (tests, demos, health checks)");
  app.add_option("--mode", a.mode, "request: a child per request; connection: a child per connection; pool: --workers children")
      ->check(CLI::IsMember({"request", "connection", "pool"}))
      ->default_val("request");
  app.add_option("--workers", a.workers, "Pool mode: number of worker processes (default: one per CPU)");
  app.add_option("--threads", a.threads,
                 "Request mode: threads that start and watch handler processes (default: one per CPU; 0: all on the event loop)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-queue", a.max_queue, "Pool mode: requests waiting for a worker; beyond it: Overloaded")
      ->default_val(a.max_queue)
      ->check(positive_check());
  app.add_option("--max-per-uid", a.server.max_per_uid, "Requests in flight per peer uid; beyond it: Overloaded (0: no limit)")
      ->default_val(a.server.max_per_uid)
      ->check(count_check());
  app.add_option("--max-connections-per-uid", a.server.max_connections_per_uid,
                 "Connections one peer uid may hold; beyond it: Overloaded, then close (0: no limit)")
      ->default_val(a.server.max_connections_per_uid)
      ->check(count_check());
  app.add_option("--max-pending", a.server.max_pending,
                 "Requests (or 4 MiB of them) waiting on one connection before it stops reading")
      ->default_val(a.server.max_pending)
      ->check(positive_check());
  app.add_option("--route", a.routes, "NAME=COMMAND: run COMMAND for requests whose route key is NAME (repeatable)");
  app.add_option("--route-key", a.route_key, "Request field that selects the route")->default_val("method");
  app.add_option("--socket-mode", a.socket_mode, "Mode of the socket file, set before it is reachable")
      ->default_val("0600");
  app.add_option("--socket-group", a.socket_group, "Group of the socket file (name or gid)");
  app.add_option("--max-line", a.server.max_line, "Longest request line in bytes; longer: LineTooLong, then close")
      ->default_val(a.server.max_line)
      ->check(positive_check());
  app.add_option("--max-depth", a.server.max_depth, "Deepest nesting of a request; deeper: ParseError with \"limit\"")
      ->default_val(a.server.max_depth)
      ->check(positive_check());
  app.add_option("--max-connections", a.server.max_connections, "Connections served at once; more wait in the backlog")
      ->default_val(a.server.max_connections)
      ->check(positive_check());
  app.add_option("--max-handlers", a.max_handlers, "Handler processes at once; further requests queue")
      ->default_val(a.max_handlers)
      ->check(positive_check());
  add_seconds(app, "--timeout", a.timeout, "Seconds a handler may run; then TERM to its group, KILL --kill-after later (0: no limit)");
  add_seconds(app, "--kill-after", a.kill_after, "Seconds from a handler's TERM to its KILL (0: KILL at once)");
  app.add_option("--max-output", a.max_output, "Largest handler reply in bytes; larger: BadHandlerOutput")
      ->default_val(a.max_output)
      ->check(positive_check());
  app.add_option("--max-quoted", a.server.max_quoted,
                 "Bytes of a handler's output and of its stderr quoted in error replies and the log")
      ->default_val(a.server.max_quoted)
      ->check(count_check());
  app.add_flag("--cancel-on-disconnect", a.server.cancel_on_disconnect,
               "Stop (SIGTERM) the handlers of a client that closed its socket; default: they run to completion");
  add_seconds(app, "--idle-timeout", a.idle_timeout, "Close connections idle this many seconds (0: never)");
  add_seconds(app, "--drain", a.drain, "On SIGTERM/SIGINT, seconds in-flight requests get to finish (0: no limit)");
  app.add_option("--allow-uid", a.allow_uid, "Only peers with this uid (name or number; repeatable)");
  app.add_option("--allow-gid", a.allow_gid, "Only peers with this gid (name or number; repeatable)");
  app.add_flag("--clear-env", a.clear_env, "Handlers get only the variables named by --pass-env (plus UCSPI ones)");
  app.add_option("--pass-env", a.pass_env, "With --clear-env: keep this variable (repeatable)");
  app.add_option("--authkey-file", a.authkey_file, "Require the HMAC-SHA256 challenge-response handshake with this key (mode 0600)");
  add_seconds(app, "--handshake-timeout", a.handshake_timeout,
              "Seconds a client has to pass the handshake; then close (0: no limit)");
  app.add_option("--pidfile", a.pidfile, "Hold a flock'd pidfile with our pid while running (exit 75 if held)");
  app.add_option("--ready-fd", a.ready_fd, "Write a newline to fd N and close it once listening (s6 readiness)");
  app.add_option("--log-format", a.log_format, "Log lines on stderr as text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->default_val("text");
  add_verbosity(app, a.verbose, a.quiet);
  app.footer(
      "HANDLER is exec'd directly, never through a shell. --mode request (default): one run per\n"
      "request, the request line on stdin, its stdout the reply (one JSON value; empty: no reply).\n"
      "--mode connection: one run per connection, stdin/stdout are the connection. --mode pool:\n"
      "--workers long-lived runs, one reply line per request line (null: no reply), each line\n"
      "flushed at once (Python: print(..., flush=True) or python3 -u; sh: one printf per line).\n"
      "Put -- before HANDLER when its arguments start with '-'. Exit 0 after a clean shutdown.");
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) words.push_back(text.substr(i, j - i));
    i = j;
  }
  return words;
}

/// The handler for one command line in request or pool mode.
std::shared_ptr<ipc::Handler> line_handler(boost::asio::io_context& io, const ServeArgs& a,
                                           const std::vector<std::string>& argv, const std::string& name,
                                           const ipc::Log& log, std::vector<std::shared_ptr<ipc::PoolHandler>>& pools,
                                           std::shared_ptr<ipc::WorkerLoops>& workers) {
  // Resolve once, at start: a missing handler is reported now, not per request.
  std::string executable = ipc::find_executable(argv.front());
  auto env = ipc::handler_environment(a.clear_env, a.pass_env);
  if (a.mode == "pool") {
    ipc::PoolOptions po;
    po.executable = executable;
    po.argv = argv;
    po.env = std::move(env);
    po.workers = a.workers > 0 ? a.workers : std::max(1u, std::thread::hardware_concurrency());
    po.max_queue = a.max_queue;
    po.timeout = a.timeout.duration();
    po.kill_grace = a.kill_after.duration();
    po.max_output = a.max_output;
    po.max_quoted = a.server.max_quoted;
    po.name = name;
    auto pool = std::make_shared<ipc::PoolHandler>(io.get_executor(), std::move(po), log);
    pools.push_back(pool);
    pool->start();
    return pool;
  }
  ipc::ExecOptions eo;
  eo.executable = executable;
  eo.argv = argv;
  eo.env = std::move(env);
  eo.max_handlers = a.max_handlers;
  eo.timeout = a.timeout.duration();
  eo.kill_grace = a.kill_after.duration();
  eo.max_output = a.max_output;
  eo.max_quoted = a.server.max_quoted;
  // One set of worker threads for all the routes' handlers, started with the first.
  // More threads than handler slots would only sit idle.
  const std::size_t threads = std::min(a.threads < 0 ? ipc::WorkerLoops::cpus() : static_cast<std::size_t>(a.threads),
                                       a.max_handlers);
  if (!workers && threads > 0) workers = std::make_shared<ipc::WorkerLoops>(threads);
  return std::make_shared<ipc::ExecHandler>(io.get_executor(), std::move(eo), log, workers);
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

/// Readiness, once the socket accepts: s6's --ready-fd and systemd's READY=1.
void announce_ready(int ready_fd) {
  if (ready_fd >= 0) {
    [[maybe_unused]] auto n = ::write(ready_fd, "\n", 1);
    ::close(ready_fd);
  }
  ipc::sd_notify("READY=1\nMAINPID=" + std::to_string(::getpid()));
}

void keep_watchdog(boost::asio::steady_timer& timer, std::chrono::microseconds interval) {
  ipc::sd_notify("WATCHDOG=1");
  timer.expires_after(interval);
  timer.async_wait([&timer, interval](const boost::system::error_code& ec) {
    if (!ec) keep_watchdog(timer, interval);
  });
}

int run(ServeArgs& a, const std::vector<std::string>& handler_argv) {
  int sources = (a.echo ? 1 : 0) + (handler_argv.empty() ? 0 : 1) + (a.routes.empty() ? 0 : 1);
  if (sources != 1)
    throw ipc::Error(ipc::ErrorKind::usage, sources == 0 ? "a HANDLER command, --echo or --route is required"
                                                         : "HANDLER, --echo and --route exclude each other");
  if (a.mode == "connection" && handler_argv.empty())
    throw ipc::Error(ipc::ErrorKind::usage, "--mode connection needs a HANDLER command");
  if (a.workers > 0 && a.mode != "pool") throw ipc::Error(ipc::ErrorKind::usage, "--workers needs --mode pool");
  ipc::Log log(a.quiet ? ipc::LogLevel::error : (a.verbose > 0 ? ipc::LogLevel::debug : ipc::LogLevel::info),
               a.log_format == "json" ? ipc::LogFormat::json : ipc::LogFormat::text);

  // Signals first, before the pidfile, the pool or the listener exist: a TERM
  // during set-up (100 workers starting) is handled once the loop runs, and
  // cleans up whatever was made; HUP never kills us.
  boost::asio::io_context io(1);
  log.batch_on(io.get_executor());
  boost::asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  ::signal(SIGPIPE, SIG_IGN);

  ipc::Address address = ipc::parse_address(a.address);
  const bool file_less = address.kind == ipc::Address::Kind::abstract || address.kind == ipc::Address::Kind::tcp;
  if (a.socket_mode_given && file_less)
    throw ipc::Error(ipc::ErrorKind::usage, address.display() + ": --socket-mode and --socket-group need a socket file " +
                                                "(an abstract or TCP socket has none; use --allow-uid/--allow-gid or --authkey-file)");
  if (a.ready_fd >= 0) {
    int listening = 0;
    socklen_t len = sizeof listening;
    const bool is_listener =
        ::getsockopt(a.ready_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening != 0;
    if (is_listener || (address.kind == ipc::Address::Kind::fd && address.fd == a.ready_fd))
      throw ipc::Error(ipc::ErrorKind::usage, "--ready-fd " + std::to_string(a.ready_fd) +
                                                  " is a listening socket (the one to serve?), not a readiness pipe");
  }
  // A pidfile first: a second instance must exit 75 before it touches the socket.
  std::optional<ipc::Pidfile> pidfile;
  if (!a.pidfile.empty()) {
    pidfile.emplace(ipc::Pidfile::acquire(a.pidfile));
    pidfile->write_pid(::getpid());
  }
  std::optional<ipc::AuthKey> authkey;
  if (!a.authkey_file.empty()) authkey = ipc::AuthKey::load(a.authkey_file);
  if (address.kind == ipc::Address::Kind::tcp && !is_loopback(address.host) && !authkey)
    throw ipc::Error(ipc::ErrorKind::usage, address.display() + ": binding a non-loopback address needs --authkey-file");
  if (authkey && a.mode == "connection")
    throw ipc::Error(ipc::ErrorKind::usage, "--authkey-file does not work with --mode connection (the child owns the stream)");
  if (a.ready_fd >= 0 && a.ready_fd <= 2) throw ipc::Error(ipc::ErrorKind::usage, "--ready-fd must be 3 or more");
  if (authkey) {
    // The handshake's lines pass through the same --max-line.
    const std::size_t handshake = ipc::client_response_line(std::string(64, '0'), ipc::new_nonce()).size();
    if (a.server.max_line < handshake)
      throw ipc::Error(ipc::ErrorKind::usage, "--max-line " + std::to_string(a.server.max_line) +
                                                  ": too short for the --authkey-file handshake (its lines take " +
                                                  std::to_string(handshake) + " bytes)");
  }
  ipc::ListenOptions listen;
  listen.mode = mode_option(a.socket_mode, "--socket-mode");
  if (!a.socket_group.empty()) listen.group = gid_option(a.socket_group, "--socket-group");

  ipc::ServerOptions so = a.server;
  so.idle_timeout = a.idle_timeout.duration();
  so.drain = a.drain.duration();
  so.handshake_timeout = a.handshake_timeout.duration();
  for (const auto& u : a.allow_uid) so.allow_uids.push_back(uid_option(u, "--allow-uid"));
  for (const auto& g : a.allow_gid) so.allow_gids.push_back(gid_option(g, "--allow-gid"));
  so.authkey = std::move(authkey);

  // Worker threads of the exec handlers (--threads): declared after the loop, so
  // they are stopped and joined before it goes.
  std::shared_ptr<ipc::WorkerLoops> workers;
  std::vector<std::shared_ptr<ipc::PoolHandler>> pools;  // SIGHUP replaces their workers
  std::shared_ptr<ipc::Handler> handler;
  std::shared_ptr<ipc::StreamHandler> stream;
  std::string what;
  std::vector<std::string> route_names;
  if (a.echo) {
    handler = std::make_shared<ipc::EchoHandler>();
    what = "--echo";
  } else if (!a.routes.empty()) {
    std::map<std::string, std::shared_ptr<ipc::Handler>> routes;
    for (const auto& r : a.routes) {
      auto eq = r.find('=');
      auto words = eq == std::string::npos ? std::vector<std::string>() : split_words(r.substr(eq + 1));
      if (eq == 0 || eq == std::string::npos || words.empty())
        throw ipc::Error(ipc::ErrorKind::usage, "--route " + r + ": expected NAME=COMMAND");
      std::string name = r.substr(0, eq);
      if (routes.count(name) != 0) throw ipc::Error(ipc::ErrorKind::usage, "--route " + name + ": given twice");
      routes.emplace(name, line_handler(io, a, words, name, log, pools, workers));
      route_names.push_back(name);
      what += (what.empty() ? "" : ",") + name;
    }
    handler = std::make_shared<ipc::RouterHandler>(a.route_key, std::move(routes));
    what = "routes:" + what;
  } else if (a.mode == "connection") {
    ipc::StreamOptions st;
    st.executable = ipc::find_executable(handler_argv.front());
    st.argv = handler_argv;
    st.env = ipc::handler_environment(a.clear_env, a.pass_env);
    st.max_handlers = a.max_handlers;
    st.timeout = a.timeout.duration();
    st.kill_grace = a.kill_after.duration();
    st.idle_timeout = so.idle_timeout;
    stream = std::make_shared<ipc::StreamHandler>(io.get_executor(), std::move(st), log);
    what = handler_argv.front();
  } else {
    handler = line_handler(io, a, handler_argv, "", log, pools, workers);
    what = handler_argv.front();
  }

  auto listener = ipc::Listener::open(address, listen);
  std::shared_ptr<ipc::ConnectionHandler> connections = stream;
  std::shared_ptr<ipc::LineConnections> lines;
  if (!connections) {
    lines = std::make_shared<ipc::LineConnections>(handler, so, log);
    for (const auto& name : route_names) lines->request_log().add_route(name);
    connections = lines;
  }
  ipc::Server server(io, std::move(listener), connections, so, log);
  server.start();
  log.info("listening", {{"address", server.listener().display()},
                         {"mode", a.echo ? "echo" : a.mode},
                         {"handler", what},
                         {"threads", workers ? workers->size() : 0}});
  if (address.kind == ipc::Address::Kind::tcp && !so.authkey)
    log.warning("open_to_local_users", {{"address", server.listener().display()},
                                        {"reason", "TCP without --authkey-file: every local user can connect"}});
  log.flush();  // what was said before ready is out before anyone is told
  announce_ready(a.ready_fd);
  boost::asio::steady_timer watchdog(io);
  if (auto interval = ipc::watchdog_interval()) keep_watchdog(watchdog, *interval);

  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        // Pool mode: a reload (new workers, one by one, no request failed).
        log.info("signal", {{"name", "SIGHUP"}, {"action", pools.empty() ? "ignored" : "replacing workers"}});
        if (!server.stopping())
          for (auto& pool : pools) pool->reload();
        wait_signal();
        return;
      }
      log.info("signal", {{"name", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      ipc::sd_notify("STOPPING=1");
      watchdog.cancel();
      server.stop([&] {
        signals.cancel();
        io.stop();
      });
      wait_signal();  // a repeated TERM is the same stop
    });
  };
  wait_signal();
  io.run();
  log.batch_on(std::nullopt);
  // The totals of the run: requests by outcome, latency percentiles, per route.
  std::vector<ipc::Log::Field> stopped{{"address", server.listener().display()}};
  if (lines)
    for (auto& f : lines->request_log().summary()) stopped.push_back(std::move(f));
  log.write(ipc::LogLevel::info, "stopped", std::span<const ipc::Log::Field>(stopped));
  return k_ok;
}

}  // namespace
}  // namespace serve_detail

int cmd_serve(int argc, char** argv) {
  using namespace serve_detail;  // this file's own helpers
  ServeArgs a;
  auto app = make_app("serve", "Listen on a socket and answer each JSON-line request with a handler.\n\n"
                               "Usage: ipcat serve [OPTIONS] ADDRESS [--] HANDLER [ARG...]\n"
                               "       ipcat serve [OPTIONS] ADDRESS --echo");
  add_options(*app, a);
  // Everything from HANDLER on is the handler's, options included.
  app->prefix_command();
  if (auto stop = parse(*app, argc, argv)) return *stop;
  try {
    auto handler = app->remaining();
    // CLI11 leaves the "--" that separates HANDLER from our options in place.
    if (!handler.empty() && handler.front() == "--") handler.erase(handler.begin());
    a.socket_mode_given = app->count("--socket-mode") + app->count("--socket-group") > 0;
    return run(a, handler);
  } catch (...) {
    return fail("serve");
  }
}

}  // namespace cli
