#include "ipc/server/handlers/stream_handler.h"

#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>

#include "ipc/base/error.h"
#include "ipc/base/fd.h"

namespace asio = boost::asio;

namespace ipc {

/// One connection's child, its --timeout and its --idle-timeout watch.
class StreamHandler::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(StreamHandler& owner, std::uint64_t connection, std::unique_ptr<Child> child)
      : m_owner(owner),
        m_connection(connection),
        m_child(std::move(child)),
        m_life(owner.m_executor),
        m_idle(owner.m_executor),
        m_watch(owner.m_executor) {}

  Child& child() { return *m_child; }

  void start(int socket_fd) {
    const StreamOptions& o = m_owner.m_options;
    if (o.timeout.count() > 0) {
      m_life.expires_after(o.timeout);
      m_life.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) self->stop("connection_timeout");
      });
    }
    if (o.idle_timeout.count() > 0 && watch(socket_fd)) {
      m_last = std::chrono::steady_clock::now();
      arm_idle();
    }
  }

  /// The child has exited: nothing of ours may outlive it.
  void finish() noexcept {
    m_done = true;
    try {
      m_life.cancel();  // reports a failure by throwing; a finished session has no use for it
      m_idle.cancel();
    } catch (const boost::system::system_error&) {
    }
    boost::system::error_code ec;
    m_watch.close(ec);
  }

  void kill() { m_child->signal(SIGKILL); }

 private:
  /// Registers the socket edge-triggered in an epoll set of our own; the set's
  /// descriptor becomes readable on every new edge. No copy of the socket is
  /// kept: the registration lasts while the child holds it.
  bool watch(int socket_fd) {
    Fd ep(::epoll_create1(EPOLL_CLOEXEC));
    if (!ep) return false;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, socket_fd, &ev) != 0) return false;
    m_watch.assign(ep.release());
    wait_traffic();
    return true;
  }

  void wait_traffic() {
    m_watch.async_wait(asio::posix::stream_descriptor::wait_read,
                       [self = shared_from_this()](const boost::system::error_code& ec) {
                         if (ec || self->m_done) return;
                         std::array<epoll_event, 4> events{};
                         while (::epoll_wait(self->m_watch.native_handle(), events.data(),
                                             static_cast<int>(events.size()), 0) > 0) {
                         }
                         self->m_last = std::chrono::steady_clock::now();
                         self->wait_traffic();
                       });
  }

  void arm_idle() {
    const auto idle = m_owner.m_options.idle_timeout;
    m_idle.expires_at(m_last + idle);
    m_idle.async_wait([self = shared_from_this(), idle](const boost::system::error_code& ec) {
      if (ec || self->m_done) return;
      if (std::chrono::steady_clock::now() - self->m_last < idle) {
        self->arm_idle();
        return;
      }
      self->stop("idle_timeout");
    });
  }

  /// TERM to the child's group, KILL after the grace.
  void stop(const char* event) {
    if (m_done || m_stopping) return;
    m_stopping = true;
    m_owner.m_log.info(event, {{"connection", std::to_string(m_connection)}});
    m_child->signal(SIGTERM);
    m_life.expires_after(m_owner.m_options.kill_grace);
    m_life.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec && !self->m_done) self->kill();
    });
  }

  StreamHandler& m_owner;
  std::uint64_t m_connection;
  std::unique_ptr<Child> m_child;
  asio::steady_timer m_life;  // --timeout, then the KILL grace
  asio::steady_timer m_idle;
  asio::posix::stream_descriptor m_watch;  // the epoll set (--idle-timeout)
  std::chrono::steady_clock::time_point m_last;
  bool m_done = false;
  bool m_stopping = false;
};

StreamHandler::StreamHandler(asio::any_io_executor executor, StreamOptions options, const Log& log)
    : m_executor(std::move(executor)), m_options(std::move(options)), m_log(log) {}

StreamHandler::~StreamHandler() {
  for (auto& [_, session] : m_sessions) session->finish();
}

void StreamHandler::serve(Socket connected, std::uint64_t connection, const PeerInfo& peer,
                          std::function<void()> done) {
  Fd socket(connected.release());
  set_nonblocking(socket.get(), false);  // the child expects plain blocking stdio
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
    m_spawn_errors.error(m_log, "handler_failed", {{"connection", std::to_string(connection)}, {"reason", e.what()}});
    socket.reset();
    asio::post(m_executor, std::move(done));
    return;
  }
  auto session = std::make_shared<Session>(*this, connection, std::move(child));
  m_sessions.emplace(connection, session);
  m_log.debug("connection_child", {{"connection", std::to_string(connection)}, {"pid", std::to_string(session->child().pid())}});
  session->start(socket.get());
  // Ours goes now: the child's copy is the only one, so its exit is the client's EOF.
  socket.reset();
  // Whatever the child left in its process group goes with it (as in request mode).
  session->child().async_wait(
      [this, connection, done = std::move(done)](ExitStatus status) {
        if (!status.success())
          m_log.info("connection_child_exited", {{"connection", std::to_string(connection)}, {"reason", status.describe()}});
        // Erased from a posted handler: we are inside the Child's own callback now.
        asio::post(m_executor, [this, connection, done] {
          auto it = m_sessions.find(connection);
          if (it != m_sessions.end()) {
            it->second->finish();
            m_sessions.erase(it);
          }
          done();
        });
      },
      true);
}

void StreamHandler::abort_all() {
  for (auto& [_, session] : m_sessions) session->kill();
}

}  // namespace ipc
