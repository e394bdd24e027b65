// ipcat tap: options -> TapProxy (+ SocketSwap for --in-place) + TapRecorder, run
// until SIGINT/SIGTERM or -n messages; then the summary on stderr.

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/options.h"
#include "ipc/net/address.h"
#include "ipc/client/client.h"
#include "ipc/base/error.h"
#include "ipc/net/listener.h"
#include "ipc/tap/events.h"
#include "ipc/tap/output.h"
#include "ipc/tap/proxy.h"
#include "ipc/tap/stats.h"
#include "ipc/tap/swap.h"

namespace cli {
// Named, so that the CLI builds as one unity file (CMakeLists.txt: start-up cost).
namespace tap_detail {
namespace {

/// After the socket moved back (or the LISTEN path went away), how long clients that
/// found our socket an instant before are still accepted.
constexpr std::chrono::milliseconds k_grace{200};
/// At exit, how long a slow stdout gets for the events still queued.
constexpr std::chrono::milliseconds k_output_patience{1000};

struct TapArgs {
  std::vector<std::string> addresses;
  bool in_place = false;
  bool restore = false;
  std::string format = "json";
  std::string match;
  std::vector<std::string> methods;
  std::string route_key = "method";
  std::vector<std::uint64_t> conns;
  std::vector<std::string> uids;
  std::uint64_t count = 0;
  std::size_t max_queue = ipc::k_default_tap_queue;
  std::size_t max_line = ipc::k_default_max_line;
  std::size_t max_depth = ipc::k_default_max_depth;
  std::size_t max_pending = 1024;
  std::size_t max_connections = 1024;
  Seconds drain{10};
};

void add_options(CLI::App& app, TapArgs& a) {
  app.add_option("address", a.addresses, "LISTEN UPSTREAM; or SOCKET with --in-place or --restore")->expected(1, 2);
  app.add_flag("--in-place", a.in_place, "Take a live daemon's SOCKET: move it aside, listen there, put it back at exit");
  app.add_flag("--restore", a.restore, "Put SOCKET back after a tap was killed (SIGKILL) with --in-place");
  app.add_option("--format", a.format, "Events as JSON lines, or text for people (colour on a terminal)")
      ->check(CLI::IsMember({"json", "text"}))
      ->default_val("json");
  app.add_option("--match", a.match, "Pair replies with requests by this member (id, request_id), not in order");
  app.add_option("--method", a.methods, "Show only requests (and their replies) with this method (repeatable)");
  app.add_option("--route-key", a.route_key, "The request member --method and the summary read")->default_val("method");
  app.add_option("--conn", a.conns, "Show only connection N (repeatable)");
  app.add_option("--uid", a.uids, "Show only clients with this uid (name or number; repeatable)");
  app.add_option("-n,--count", a.count, "Stop after N messages shown (0: never)")->default_val(a.count);
  app.add_option("--max-queue", a.max_queue, "Event bytes waiting for stdout; beyond it events are dropped, counted")
      ->default_val(a.max_queue)
      ->check(CLI::PositiveNumber);
  app.add_option("--max-line", a.max_line, "Longest line shown, in bytes (longer ones pass, shown as too_long)")
      ->default_val(a.max_line)
      ->check(CLI::PositiveNumber);
  app.add_option("--max-depth", a.max_depth, "Deepest nesting shown as JSON; deeper lines are shown raw")
      ->default_val(a.max_depth)
      ->check(CLI::PositiveNumber);
  app.add_option("--max-pending", a.max_pending, "Requests awaiting a reply remembered per connection")
      ->default_val(a.max_pending)
      ->check(CLI::PositiveNumber);
  app.add_option("--max-connections", a.max_connections, "Connections forwarded at once; more wait in the backlog")
      ->default_val(a.max_connections)
      ->check(CLI::PositiveNumber);
  add_seconds(app, "--drain", a.drain, "At exit, seconds open connections keep being forwarded");
  app.footer(
      "Bytes pass unchanged both ways, JSON or not. Events go to stdout, one per line; the\n"
      "summary (requests, errors, p50/p99 latency per method) to stderr at exit. --in-place:\n"
      "the daemon's socket waits at SOCKET.ipcat-tap meanwhile, and the daemon sees the tap's\n"
      "credentials, not the client's. Exit 0 after SIGINT/SIGTERM or -n N.");
}

/// Where clients' bytes go: a Unix path, @abstract or tcp:HOST:PORT.
ipc::SockAddr upstream_sockaddr(const ipc::Address& a) {
  if (a.kind == ipc::Address::Kind::unix_path || a.kind == ipc::Address::Kind::abstract) return ipc::local_sockaddr(a);
  if (a.kind == ipc::Address::Kind::tcp) {
    auto all = ipc::tcp_sockaddrs(a, false);
    if (all.empty()) throw ipc::Error(ipc::ErrorKind::not_found, a.display() + ": host resolves to no address");
    return all.front();
  }
  throw ipc::Error(ipc::ErrorKind::usage, a.display() + ": UPSTREAM must be a path, @name or tcp:HOST:PORT");
}

/// Each client costs two descriptors: take what the hard limit allows.
void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

void say(const std::string& text) {
  std::string line = "ipcat tap: " + text + "\n";
  [[maybe_unused]] auto n = ::write(2, line.data(), line.size());
}

int run(TapArgs& a) {
  if (a.in_place && a.restore) throw ipc::Error(ipc::ErrorKind::usage, "--in-place and --restore exclude each other");
  const bool one = a.in_place || a.restore;
  if (a.addresses.size() != (one ? 1U : 2U))
    throw ipc::Error(ipc::ErrorKind::usage, one ? "--in-place and --restore take one SOCKET path"
                                                : "expected LISTEN UPSTREAM (or --in-place SOCKET)");
  if (one) {
    ipc::Address s = ipc::parse_address(a.addresses[0]);
    if (s.kind != ipc::Address::Kind::unix_path)
      throw ipc::Error(ipc::ErrorKind::usage, s.display() + ": --in-place and --restore need a socket path");
    if (a.restore) {
      ipc::restore_socket(s.path);
      say(s.path + ": the daemon's socket is back in place");
      return k_ok;
    }
  }

  ipc::TapEventOptions eo;
  eo.text = a.format == "text";
  const char* no_colour = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  eo.colour = eo.text && ::isatty(1) == 1 && (no_colour == nullptr || *no_colour == '\0') &&
              !(term != nullptr && std::string_view(term) == "dumb");
  eo.match_key = a.match;
  eo.route_key = a.route_key;
  eo.methods = a.methods;
  eo.conns = a.conns;
  for (const auto& u : a.uids) eo.uids.push_back(uid_option(u, "--uid"));
  eo.count = a.count;
  eo.max_line = a.max_line;
  eo.max_depth = a.max_depth;
  eo.max_pending = a.max_pending;
  auto drain = a.drain.duration();

  // One thread runs the loop (ARCHITECTURE.md, the event-loop model): the reactor's
  // per-socket locks guard nothing, and cost a lock and an unlock per message.
  boost::asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO);
  // Signals first: a TERM during set-up must still put the socket back.
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  ::signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();

  std::optional<ipc::SocketSwap> swap;
  std::optional<ipc::Listener> listener;
  ipc::TapProxyOptions po;
  po.max_connections = a.max_connections;
  std::string where;
  if (a.in_place) {
    const std::string& path = ipc::parse_address(a.addresses[0]).path;
    std::string warning;
    swap.emplace(path, warning);
    if (!warning.empty()) say("warning: " + warning);
    po.upstream = ipc::local_sockaddr(ipc::parse_address("unix:" + swap->aside()));
    listener.emplace(swap->take_listener());
    where = path + ": tapped; the daemon's socket waits at " + swap->aside() +
            " until the tap stops (after a SIGKILL: ipcat tap --restore " + path + ")";
  } else {
    ipc::Address upstream = ipc::parse_address(a.addresses[1]);
    po.upstream = upstream_sockaddr(upstream);
    {
      // Fail now, naming it, if nobody is there (a typo), not at the first client.
      ipc::ConnectOptions co;
      co.retries = 0;
      ipc::ClientConnection::connect(upstream, co, ipc::Deadline(std::chrono::seconds(5)));
    }
    ipc::Address listen = ipc::parse_address(a.addresses[0]);
    if (listen.kind == ipc::Address::Kind::tcp) {
      bool loopback = listen.host == "localhost" || listen.host == "::1" || listen.host.rfind("127.", 0) == 0;
      if (!loopback)
        throw ipc::Error(ipc::ErrorKind::usage, listen.display() +
                                                    ": the tap listens on loopback only (it would open " +
                                                    upstream.display() + " to the network)");
      say("warning: " + listen.display() + ": every local user can reach " + upstream.display() + " through the tap");
    }
    po.own_uid_only = listen.kind == ipc::Address::Kind::abstract;
    listener.emplace(ipc::Listener::open(listen, ipc::ListenOptions{}));
    where = "listening on " + listener->display() + ", forwarding to " + upstream.display();
  }

  ipc::TapOutput output(io, 1, a.max_queue);
  ipc::TapStats stats;
  bool stopping = false;
  std::optional<ipc::TapProxy> proxy;
  std::function<void()> stop;
  ipc::TapRecorder recorder(eo, output, stats, [&] { boost::asio::post(io, [&] { stop(); }); });
  proxy.emplace(io, std::move(*listener), po, recorder);
  listener.reset();

  std::function<void()> on_signal;
  auto arm = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int) {
      if (!ec) on_signal();
    });
  };
  stop = [&] {
    if (stopping) return;
    stopping = true;
    // The daemon's socket goes back before forwarding stops: no client ever finds
    // no socket, or a refusing one.
    if (swap) {
      std::string w = swap->put_back();
      if (!w.empty()) {
        say("warning: " + w);
      } else {
        // Clients still in the tap's backlog are taken during the grace: they must
        // reach the daemon at its own name now, the aside name is gone.
        proxy->set_upstream(ipc::local_sockaddr(ipc::parse_address("unix:" + swap->socket())));
      }
    }
    proxy->stop(k_grace, drain, [&] {
      signals.cancel();
      io.stop();
    });
  };
  on_signal = [&] {
    if (stopping) {
      proxy->close_all();  // a second signal: do not wait for --drain
    } else {
      stop();
    }
    arm();
  };
  arm();
  proxy->start();
  say(where);
  io.run();
  output.finish(k_output_patience);
  std::string summary = stats.summary(output.dropped());
  [[maybe_unused]] auto n = ::write(2, summary.data(), summary.size());
  return k_ok;
}

}  // namespace
}  // namespace tap_detail

int cmd_tap(int argc, char** argv) {
  using namespace tap_detail;  // this file's own helpers
  TapArgs a;
  auto app = make_app("tap", "Forward a socket's traffic unchanged and print it: requests paired with replies,\n"
                             "latency, who sent them.\n\n"
                             "Usage: ipcat tap [OPTIONS] LISTEN UPSTREAM\n"
                             "       ipcat tap [OPTIONS] --in-place SOCKET\n"
                             "       ipcat tap --restore SOCKET");
  add_options(*app, a);
  if (auto stop = parse(*app, argc, argv)) return *stop;
  try {
    return run(a);
  } catch (...) {
    return fail("tap");
  }
}

}  // namespace cli
