#pragma once
/// StreamHandler — `--mode connection`: one child per connection whose stdin and
/// stdout ARE the connection (socat EXEC / ucspi unixserver style). No framing is
/// imposed; half-close works both ways because the child holds the only other
/// copy of the socket. Its stderr is the server's.
///
///   serve() ──spawn──► child running ──exit──► done()
///                         │ --timeout: TERM to its group ──grace──► KILL
///                         │ --idle-timeout with no traffic either way: the same
///   --max-handlers children at once: the Server stops accepting while full().
///
/// Traffic is seen without holding a copy of the socket (which would delay the
/// client's EOF): the socket is registered edge-triggered in an epoll set of the
/// session's own, and every new arrival or drained send buffer is an edge.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ipc/process/child.h"
#include "ipc/server/connection_handler.h"
#include "ipc/server/log.h"
#include "ipc/net/peer.h"

namespace ipc {

struct StreamOptions {
  std::string executable;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::size_t max_handlers = 16;              ///< children at once
  std::chrono::milliseconds timeout{0};       ///< longest life of one child; 0: no limit
  std::chrono::milliseconds idle_timeout{0};  ///< no traffic this long: the child is stopped; 0: off
  std::chrono::milliseconds kill_grace{2000};
};

class StreamHandler : public ConnectionHandler {
 public:
  StreamHandler(boost::asio::any_io_executor executor, StreamOptions options, const Log& log);
  ~StreamHandler();

  StreamHandler(const StreamHandler&) = delete;
  StreamHandler& operator=(const StreamHandler&) = delete;

  /// Hands the connected socket to a new child; calls `closed` when the child has exited.
  void serve(Socket connected, std::uint64_t connection, const PeerInfo& peer, std::function<void()> done) override;
  std::size_t open() const override { return m_sessions.size(); }
  std::size_t in_flight() const override { return m_sessions.size(); }
  bool full() const override { return m_sessions.size() >= m_options.max_handlers; }
  bool connection_is_request() const override { return true; }
  /// A child's connection is the child's: it finishes on its own (within --drain).
  void shutdown() override {}
  /// Drain time is over: kill every child.
  void abort_all() override;
  void close_all() override {}

 private:
  class Session;
  boost::asio::any_io_executor m_executor;
  StreamOptions m_options;
  const Log& m_log;
  std::map<std::uint64_t, std::shared_ptr<Session>> m_sessions;
  RateLimit m_spawn_errors;
};

}  // namespace ipc
