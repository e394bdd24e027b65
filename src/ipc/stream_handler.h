#pragma once
/// StreamHandler — `--mode connection`: one child per connection whose stdin and
/// stdout ARE the connection (socat EXEC / ucspi unixserver style). No framing is
/// imposed; half-close works both ways because the child holds the only other
/// copy of the socket. Its stderr is the server's.

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ipc/child.h"
#include "ipc/log.h"
#include "ipc/peer.h"

namespace ipc {

struct StreamOptions {
  std::string executable;
  std::vector<std::string> argv;
  std::vector<std::string> env;
};

class StreamHandler {
 public:
  StreamHandler(boost::asio::any_io_executor executor, StreamOptions options, const Log& log)
      : m_executor(std::move(executor)), m_options(std::move(options)), m_log(log) {}

  /// Hands the connected socket `fd` (ours to close) to a new child; calls `done`
  /// when the child has exited.
  void serve(int fd, std::uint64_t connection, const PeerInfo& peer, std::function<void()> done);
  std::size_t running() const noexcept { return m_children.size(); }
  /// Drain time is over: kill every child.
  void abort_all();

 private:
  boost::asio::any_io_executor m_executor;
  StreamOptions m_options;
  const Log& m_log;
  std::map<std::uint64_t, std::unique_ptr<Child>> m_children;
};

}  // namespace ipc
