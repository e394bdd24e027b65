#include "ipc/server.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <boost/asio/post.hpp>

#include "ipc/connection.h"
#include "ipc/error.h"
#include "ipc/fd.h"

namespace asio = boost::asio;
using Protocol = asio::generic::stream_protocol;

namespace ipc {
namespace {

/// After --drain: how long the last replies (ShuttingDown) get to reach their clients.
constexpr std::chrono::milliseconds k_final_grace{1000};

}  // namespace

Server::Server(asio::io_context& io, Listener listener, std::shared_ptr<Handler> handler, ServerOptions options,
               const Log& log)
    : m_io(io),
      m_listener(std::move(listener)),
      m_acceptor(io),
      m_handler(std::move(handler)),
      m_options(std::move(options)),
      m_log(log),
      m_timer(io),
      m_read_buffer(64 * 1024) {
  // Asio owns (and closes) its own duplicate; the Listener keeps the path.
  int fd = ::fcntl(m_listener.fd(), F_DUPFD_CLOEXEC, 3);
  if (fd < 0) throw_errno(m_listener.display() + ": dup", errno);
  m_acceptor.assign(Protocol(m_listener.family(), 0), fd);
  m_acceptor.non_blocking(true);
}

Server::Server(asio::io_context& io, Listener listener, std::shared_ptr<StreamHandler> stream, ServerOptions options,
               const Log& log)
    : Server(io, std::move(listener), std::shared_ptr<Handler>(), std::move(options), log) {
  m_stream = std::move(stream);
}

Server::~Server() {
  boost::system::error_code ec;
  m_acceptor.close(ec);
}

void Server::start() {
  m_accepting = true;
  do_accept();
}

void Server::do_accept() {
  if (!m_accepting || m_stopping) return;
  if (active() >= m_options.max_connections) {
    // Further clients wait in the listen backlog; resumed by connection_closed().
    m_accepting = false;
    return;
  }
  m_acceptor.async_accept([this](const boost::system::error_code& ec, Protocol::socket socket) {
    if (m_stopping) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // EMFILE and friends: say so and retry shortly rather than spin.
      m_log.error("accept_failed", {{"address", m_listener.display()}, {"reason", ec.message()}});
      m_timer.expires_after(std::chrono::milliseconds(100));
      m_timer.async_wait([this](const boost::system::error_code& e) {
        if (!e) do_accept();
      });
      return;
    }
    on_accept(std::move(socket));
    do_accept();
  });
}

bool Server::allowed(const PeerInfo& peer) const {
  if (m_options.allow_uids.empty() && m_options.allow_gids.empty()) return true;
  if (!peer.is_unix) return false;
  const auto& u = m_options.allow_uids;
  const auto& g = m_options.allow_gids;
  return std::find(u.begin(), u.end(), peer.uid) != u.end() || std::find(g.begin(), g.end(), peer.gid) != g.end();
}

void Server::on_accept(Protocol::socket socket) {
  // Asio accepts without SOCK_CLOEXEC: fix that before anything can fork.
  set_cloexec(socket.native_handle());
  std::uint64_t id = m_next_id++;
  PeerInfo peer = peer_of(socket.native_handle(), m_listener.display());
  if (m_stream && allowed(peer)) {
    m_log.info("connection_accepted", {{"connection", std::to_string(id)}, {"peer", peer.describe()}});
    int fd = socket.release();
    set_nonblocking(fd, false);  // the child expects plain blocking stdio
    m_stream->serve(fd, id, peer, [this] { connection_closed(nullptr); });
    return;
  }
  auto connection = std::make_shared<Connection>(*this, std::move(socket), id, peer);
  m_connections.emplace(connection.get(), connection);
  if (!allowed(peer)) {
    m_log.info("connection_refused", {{"connection", std::to_string(id)}, {"peer", peer.describe()}});
    connection->refuse(encode(error_object("Forbidden", "peer " + peer.describe() + " is not allowed")));
    return;
  }
  m_log.info("connection_accepted", {{"connection", std::to_string(id)}, {"peer", peer.describe()}});
  connection->start();
}

void Server::connection_closed(Connection* connection) {
  if (connection != nullptr) m_connections.erase(connection);
  if (!m_accepting && !m_stopping) {
    m_accepting = true;
    do_accept();
  }
  check_stopped();
}

void Server::stop(std::function<void()> on_stopped) {
  if (m_stopping) return;
  m_stopping = true;
  m_on_stopped = std::move(on_stopped);
  m_log.info("shutting_down", {{"address", m_listener.display()},
                               {"connections", std::to_string(m_connections.size())},
                               {"in_flight", std::to_string(in_flight())}});
  boost::system::error_code ec;
  m_acceptor.close(ec);
  m_timer.cancel();
  // New clients now get "no such file" or "connection refused", not a hang.
  m_listener.close();
  // Copy: shutdown() may close a connection, which erases it from the map.
  std::vector<std::shared_ptr<Connection>> all;
  for (auto& [_, c] : m_connections) all.push_back(c);
  for (auto& c : all) c->shutdown();
  m_timer.expires_after(m_options.drain);
  m_timer.async_wait([this](const boost::system::error_code& e) {
    if (e) return;
    m_log.error("drain_timeout", {{"connections", std::to_string(m_connections.size())},
                                  {"in_flight", std::to_string(in_flight())}});
    // Killed requests are answered ShuttingDown; their connections close once that
    // is written. A client that does not read it gets k_final_grace, then is cut.
    if (m_handler) m_handler->abort_all();
    if (m_stream) m_stream->abort_all();
    m_timer.expires_after(k_final_grace);
    m_timer.async_wait([this](const boost::system::error_code& e2) {
      if (e2) return;
      std::vector<std::shared_ptr<Connection>> left;
      for (auto& [_, c] : m_connections) left.push_back(c);
      for (auto& c : left) c->close();
      check_stopped();
    });
    check_stopped();
  });
  check_stopped();
}

void Server::check_stopped() {
  if (!m_stopping || !m_on_stopped) return;
  if (!m_connections.empty() || in_flight() > 0) return;
  m_timer.cancel();
  auto done = std::move(m_on_stopped);
  m_on_stopped = nullptr;
  // Posted: we may be deep inside a connection's callback.
  asio::post(m_io, std::move(done));
}

}  // namespace ipc
