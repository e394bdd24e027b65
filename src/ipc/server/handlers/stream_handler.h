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

class StreamHandler {
 public:
  StreamHandler(boost::asio::any_io_executor executor, StreamOptions options, const Log& log);
  ~StreamHandler();

  /// Hands the connected socket `fd` (ours to close) to a new child; calls `done`
  /// when the child has exited.
  void serve(int fd, std::uint64_t connection, const PeerInfo& peer, std::function<void()> done);
  std::size_t running() const noexcept { return m_sessions.size(); }
  bool full() const noexcept { return m_sessions.size() >= m_options.max_handlers; }
  /// Drain time is over: kill every child.
  void abort_all();

 private:
  class Session;
  boost::asio::any_io_executor m_executor;
  StreamOptions m_options;
  const Log& m_log;
  std::map<std::uint64_t, std::shared_ptr<Session>> m_sessions;
  RateLimit m_spawn_errors;
};

}  // namespace ipc
