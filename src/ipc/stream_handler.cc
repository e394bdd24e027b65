#include "ipc/stream_handler.h"

#include <signal.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include "ipc/error.h"
#include "ipc/fd.h"

namespace ipc {

void StreamHandler::serve(int fd, std::uint64_t connection, const PeerInfo& peer, std::function<void()> done) {
  Fd socket(fd);
  SpawnOptions s;
  s.executable = m_options.executable;
  s.argv = m_options.argv;
  s.env = m_options.env;
  for (auto& v : peer.ucspi_env()) s.env->push_back(std::move(v));
  s.env->push_back("IPCAT_CONNECTION=" + std::to_string(connection));
  s.stdin_fd = socket.get();
  s.stdout_fd = socket.get();
  std::unique_ptr<Child> child;
  try {
    child = Child::spawn(m_executor, s);
  } catch (const Error& e) {
    m_log.error("handler_failed", {{"connection", std::to_string(connection)}, {"reason", e.what()}});
    socket.reset();
    boost::asio::post(m_executor, std::move(done));
    return;
  }
  // Ours goes now: the child's copy is the only one, so its exit is the client's EOF.
  socket.reset();
  Child* raw = child.get();
  m_children.emplace(connection, std::move(child));
  m_log.debug("connection_child", {{"connection", std::to_string(connection)}, {"pid", std::to_string(raw->pid())}});
  // Whatever the child left in its process group goes with it (as in request mode).
  raw->async_wait(
      [this, connection, done = std::move(done)](ExitStatus status) {
        if (!status.success())
          m_log.info("connection_child_exited", {{"connection", std::to_string(connection)}, {"reason", status.describe()}});
        // Erased from a posted handler: we are inside the Child's own callback now.
        boost::asio::post(m_executor, [this, connection, done] {
          m_children.erase(connection);
          done();
        });
      },
      true);
}

void StreamHandler::abort_all() {
  for (auto& [_, child] : m_children) child->signal(SIGKILL);
}

}  // namespace ipc
