#include "ipc/tap/proxy.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>

#include "ipc/base/error.h"
#include "ipc/base/fd.h"
#include "ipc/net/peer.h"

namespace asio = boost::asio;

namespace ipc {
TapProxy::TapProxy(asio::io_context& io, Listener listener, TapProxyOptions options, TapObserver& observer)
    : m_io(io),
      m_listener(std::move(listener)),
      m_acceptor(io),
      m_options(options),
      m_upstream(options.upstream.get(), options.upstream.length),
      m_observer(observer),
      m_timer(io) {
  // Asio owns (and closes) its own duplicate; the Listener keeps the path, so that it
  // can be removed while the backlog is still being taken.
  int fd = ::fcntl(m_listener.fd(), F_DUPFD_CLOEXEC, 3);
  if (fd < 0) throw_errno(m_listener.display() + ": dup", errno);
  m_acceptor.assign(Protocol(m_listener.family(), 0), fd);
  m_acceptor.non_blocking(true);
}

TapProxy::~TapProxy() {
  boost::system::error_code ec;
  m_acceptor.close(ec);
}

void TapProxy::start() {
  m_accepting = true;
  do_accept();
}

void TapProxy::do_accept() {
  if (!m_accepting || m_listener_closed) return;
  if (m_sessions.size() >= m_options.max_connections) {
    m_accepting = false;  // resumed by session_closed()
    return;
  }
  m_acceptor.async_accept([this](const boost::system::error_code& ec, Protocol::socket socket) {
    if (m_listener_closed) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // EMFILE and friends: retry shortly rather than spin.
      if (!m_stopping) {
        m_timer.expires_after(std::chrono::milliseconds(100));
        m_timer.async_wait([this](const boost::system::error_code& e) {
          if (!e) do_accept();
        });
      }
      return;
    }
    on_accept(std::move(socket));
    do_accept();
  });
}

void TapProxy::on_accept(Protocol::socket socket) {
  set_cloexec(socket.native_handle());
  std::uint64_t id = m_next_id++;
  PeerInfo peer = peer_of(socket.native_handle(), m_listener.display());
  if (m_options.own_uid_only && peer.uid != ::geteuid() && peer.uid != 0) return;  // closed unseen
  if (!peer.is_unix) {
    int one = 1;
    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  auto session =
      std::make_shared<TapSession>(std::move(socket), id, m_observer, [this](TapSession* s) { session_closed(s); });
  m_sessions.emplace(session.get(), session);
  m_observer.opened(id, peer);
  session->start(m_upstream);
}

void TapProxy::take_backlog() {
  // Whoever is in the listen backlog connected before the socket moved: serve them.
  for (;;) {
    boost::system::error_code ec;
    Protocol::socket socket(m_io);
    m_acceptor.accept(socket, ec);
    if (ec) break;
    on_accept(std::move(socket));
  }
}

void TapProxy::session_closed(TapSession* session) {
  m_sessions.erase(session);
  if (!m_accepting && !m_listener_closed) {
    m_accepting = true;
    do_accept();
  }
  check_stopped();
}

void TapProxy::stop(std::chrono::milliseconds grace, std::chrono::milliseconds drain, std::function<void()> on_stopped) {
  if (m_stopping) return;
  m_stopping = true;
  m_on_stopped = std::move(on_stopped);
  m_drain = drain;
  // New clients now find no socket (proxy form) or the daemon's own (--in-place).
  m_listener.close();
  m_timer.cancel();
  m_timer.expires_after(grace);
  m_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    take_backlog();
    m_listener_closed = true;
    boost::system::error_code ignored;
    m_acceptor.close(ignored);
    m_timer.expires_after(m_drain);
    m_timer.async_wait([this](const boost::system::error_code& e) {
      if (!e) close_all();
    });
    check_stopped();
  });
}

void TapProxy::set_upstream(const SockAddr& upstream) {
  m_upstream = TapSession::Endpoint(upstream.get(), upstream.length);
}

void TapProxy::close_all() {
  // Copy: close() erases the session from the map.
  std::vector<std::shared_ptr<TapSession>> all;
  all.reserve(m_sessions.size());
  for (auto& [_, s] : m_sessions) all.push_back(s);
  for (auto& s : all) s->close(m_stopping ? "cut at the end of --drain" : "cut");
}

void TapProxy::check_stopped() {
  if (!m_stopping || !m_listener_closed || !m_on_stopped || !m_sessions.empty()) return;
  m_timer.cancel();
  auto done = std::move(m_on_stopped);
  m_on_stopped = nullptr;
  asio::post(m_io, std::move(done));
}

}  // namespace ipc
