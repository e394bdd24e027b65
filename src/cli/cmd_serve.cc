// ipcat serve: options -> Listener + Handler + Server, run until SIGTERM/SIGINT.

#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <memory>
#include <optional>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/options.h"
#include "ipc/address.h"
#include "ipc/child.h"
#include "ipc/environment.h"
#include "ipc/error.h"
#include "ipc/exec_handler.h"
#include "ipc/listener.h"
#include "ipc/log.h"
#include "ipc/server.h"

namespace cli {
namespace {

struct ServeArgs {
  std::string address;
  std::vector<std::string> handler;
  bool echo = false;
  std::string socket_mode = "0600";
  std::string socket_group;
  std::size_t max_line = ipc::k_default_max_line;
  std::size_t max_connections = 1024;
  std::size_t max_handlers = 16;
  double timeout = 30;
  std::size_t max_output = 1024 * 1024;
  double idle_timeout = 0;
  double drain = 10;
  std::vector<std::string> allow_uid, allow_gid;
  bool clear_env = false;
  std::vector<std::string> pass_env;
  std::string log_format = "text";
  int verbose = 0;
  bool quiet = false;
};

void add_options(CLI::App& app, ServeArgs& a) {
  app.add_option("address", a.address, "Where to listen: PATH, unix:PATH, @name, tcp:HOST:PORT, fd:N, systemd[:NAME]")
      ->required();
  app.add_flag("--echo", a.echo, "Built-in handler: reply with the request (tests, demos, health checks)");
  app.add_option("--socket-mode", a.socket_mode, "Mode of the socket file, set before it is reachable")
      ->default_val("0600");
  app.add_option("--socket-group", a.socket_group, "Group of the socket file (name or gid)");
  app.add_option("--max-line", a.max_line, "Longest request line in bytes; longer: LineTooLong, then close")
      ->default_val(a.max_line)
      ->check(CLI::PositiveNumber);
  app.add_option("--max-connections", a.max_connections, "Connections served at once; more wait in the backlog")
      ->default_val(a.max_connections)
      ->check(CLI::PositiveNumber);
  app.add_option("--max-handlers", a.max_handlers, "Handler processes at once; further requests queue")
      ->default_val(a.max_handlers)
      ->check(CLI::PositiveNumber);
  app.add_option("--timeout", a.timeout, "Seconds a handler may run; then TERM to its group, KILL 2 s later")
      ->default_val(a.timeout);
  app.add_option("--max-output", a.max_output, "Largest handler reply in bytes; larger: BadHandlerOutput")
      ->default_val(a.max_output)
      ->check(CLI::PositiveNumber);
  app.add_option("--idle-timeout", a.idle_timeout, "Close connections idle this many seconds (0: never)")
      ->default_val(a.idle_timeout);
  app.add_option("--drain", a.drain, "On SIGTERM/SIGINT, seconds in-flight requests get to finish")
      ->default_val(a.drain);
  app.add_option("--allow-uid", a.allow_uid, "Only peers with this uid (name or number; repeatable)");
  app.add_option("--allow-gid", a.allow_gid, "Only peers with this gid (name or number; repeatable)");
  app.add_flag("--clear-env", a.clear_env, "Handlers get only the variables named by --pass-env (plus UCSPI ones)");
  app.add_option("--pass-env", a.pass_env, "With --clear-env: keep this variable (repeatable)");
  app.add_option("--log-format", a.log_format, "Log lines on stderr as text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->default_val("text");
  add_verbosity(app, a.verbose, a.quiet);
  app.footer(
      "HANDLER runs once per request (exec'd directly, never through a shell), with the request\n"
      "line on stdin; its stdout is the reply (one JSON value; empty: no reply). Put -- before\n"
      "HANDLER when its arguments start with '-'. Exit 0 after a clean shutdown.");
}

int run(ServeArgs& a, const std::vector<std::string>& handler_argv) {
  if (a.echo == !handler_argv.empty())
    throw ipc::Error(ipc::ErrorKind::usage, a.echo ? "--echo and a HANDLER exclude each other"
                                                   : "a HANDLER command (or --echo) is required");
  ipc::Log log(a.quiet ? ipc::LogLevel::error : (a.verbose > 0 ? ipc::LogLevel::debug : ipc::LogLevel::info),
               a.log_format == "json" ? ipc::LogFormat::json : ipc::LogFormat::text);

  ipc::Address address = ipc::parse_address(a.address);
  ipc::ListenOptions listen;
  listen.mode = mode_option(a.socket_mode, "--socket-mode");
  if (!a.socket_group.empty()) listen.group = gid_option(a.socket_group, "--socket-group");

  ipc::ServerOptions so;
  so.max_line = a.max_line;
  so.max_connections = a.max_connections;
  so.idle_timeout = seconds_option(a.idle_timeout, "--idle-timeout");
  so.drain = seconds_option(a.drain, "--drain");
  for (const auto& u : a.allow_uid) so.allow_uids.push_back(uid_option(u, "--allow-uid"));
  for (const auto& g : a.allow_gid) so.allow_gids.push_back(gid_option(g, "--allow-gid"));

  boost::asio::io_context io(1);
  std::shared_ptr<ipc::Handler> handler;
  if (a.echo) {
    handler = std::make_shared<ipc::EchoHandler>();
  } else {
    ipc::ExecOptions eo;
    // Resolve once, at start: a missing handler is reported now, not per request.
    eo.executable = ipc::find_executable(handler_argv.front());
    eo.argv = handler_argv;
    eo.env = ipc::handler_environment(a.clear_env, a.pass_env);
    eo.max_handlers = a.max_handlers;
    eo.timeout = seconds_option(a.timeout, "--timeout");
    eo.max_output = a.max_output;
    handler = std::make_shared<ipc::ExecHandler>(io.get_executor(), std::move(eo), log);
  }

  // Signals first: a TERM that arrives while we set up must not kill us uncleanly.
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  ::signal(SIGPIPE, SIG_IGN);

  ipc::Server server(io, ipc::Listener::open(address, listen), handler, so, log);
  server.start();
  log.info("listening", {{"address", server.listener().display()},
                         {"handler", a.echo ? std::string("--echo") : handler_argv.front()}});

  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log.info("signal", {{"name", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    server.stop([&] {
      signals.cancel();
      io.stop();
    });
  });
  io.run();
  log.info("stopped", {{"address", server.listener().display()}});
  return k_ok;
}

}  // namespace

int cmd_serve(int argc, char** argv) {
  ServeArgs a;
  auto app = make_app("serve", "Listen on a socket and answer each JSON-line request with a handler.\n\n"
                               "Usage: ipcat serve [OPTIONS] ADDRESS [--] HANDLER [ARG...]\n"
                               "       ipcat serve [OPTIONS] ADDRESS --echo");
  add_options(*app, a);
  // Everything from HANDLER on is the handler's, options included.
  app->prefix_command();
  if (auto stop = parse(*app, argc, argv)) return *stop;
  try {
    return run(a, app->remaining());
  } catch (...) {
    return fail("serve");
  }
}

}  // namespace cli
