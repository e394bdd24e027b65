#include "ipc/server/server.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <boost/asio/post.hpp>

#include "ipc/server/connection.h"
#include "ipc/base/error.h"
#include "ipc/base/fd.h"
#include "ipc/wire/json_value.h"

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
      m_read_buffer(64 * 1024),
      m_request_log(log, m_options.max_quoted),
      m_context(connection_context()) {
  // Asio owns (and closes) its own duplicate; the Listener keeps the path.
  int fd = ::fcntl(m_listener.fd(), F_DUPFD_CLOEXEC, 3);
  if (fd < 0) throw_errno(m_listener.display() + ": dup", errno);
  m_acceptor.assign(Protocol(m_listener.family(), 0), fd);
  m_acceptor.non_blocking(true);
}

Server::Server(asio::io_context& io, Listener listener, std::shared_ptr<StreamHandler> stream, ServerOptions options,
               const Log& log)
    : Server(io, std::move(listener), std::shared_ptr<Handler>(), std::move(options), log) {
  m_stream = std::move(stream);  // its connections are only ever refused ones: m_context.handler stays null
}

ConnectionContext Server::connection_context() {
  return ConnectionContext{m_options,
                           m_log,
                           m_handler.get(),
                           m_read_buffer,
                           m_per_uid,
                           [this](Connection& c) { connection_closed(&c); },
                           [this] { check_stopped(); },
                           &m_request_log};
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
  if (active() >= m_options.max_connections || (m_stream && m_stream->full())) {
    // Further clients wait in the listen backlog; resumed by connection_closed().
    // In connection mode --max-handlers children at once, the same way.
    m_accepting = false;
    return;
  }
  m_acceptor.async_accept([this](const boost::system::error_code& ec, Protocol::socket socket) {
    if (m_stopping) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // EMFILE and friends: say so (at most once a second) and retry shortly rather
      // than spin; accepting resumes by itself once descriptors free up.
      m_accept_errors.error(m_log, "accept_failed", {{"address", m_listener.display()}, {"reason", ec.message()}});
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
  if (m_options.allow_uids.empty() && m_options.allow_gids.empty()) {
    // An abstract socket has no file mode: anyone on the machine could connect.
    if (m_listener.display().starts_with('@')) return peer.is_unix && (peer.uid == ::geteuid() || peer.uid == 0);
    return true;
  }
  if (!peer.is_unix) return false;
  const auto& u = m_options.allow_uids;
  const auto& g = m_options.allow_gids;
  return std::find(u.begin(), u.end(), peer.uid) != u.end() ||
         std::any_of(g.begin(), g.end(), [&](gid_t gid) { return peer.in_group(gid); });
}

bool Server::admit_uid(const PeerInfo& peer, std::string& why, std::size_t& limit) {
  if (!peer.is_unix) return true;
  const std::string uid = std::to_string(peer.uid);
  const std::size_t held = m_uid_connections.held(peer.uid);
  if (m_options.max_connections_per_uid > 0 && held >= m_options.max_connections_per_uid) {
    limit = m_options.max_connections_per_uid;
    why = "uid " + uid + " has " + std::to_string(held) + " connections open (--max-connections-per-uid " +
          std::to_string(limit) + ")";
  } else if (m_stream && m_options.max_per_uid > 0 && held >= m_options.max_per_uid) {
    limit = m_options.max_per_uid;
    why = "uid " + uid + " has " + std::to_string(held) + " connections in flight (--max-per-uid " +
          std::to_string(limit) + ")";
  } else {
    m_uid_connections.add(peer.uid);
    return true;
  }
  return false;
}

void Server::release_uid(const PeerInfo& peer) { m_uid_connections.remove(peer.uid); }

void Server::on_accept(Protocol::socket socket) {
  // Asio accepts without SOCK_CLOEXEC: fix that before anything can fork.
  set_cloexec(socket.native_handle());
  std::uint64_t id = m_next_id++;
  PeerInfo peer = peer_of(socket.native_handle(), m_listener.display());
  const bool ok = allowed(peer);
  std::string why;
  std::size_t limit = 0;
  const bool admitted = ok && admit_uid(peer, why, limit);
  if (m_stream && admitted) {
    m_log.info("connection_accepted", {{"connection", id}, {"peer", peer.describe()}});
    int fd = socket.release();
    set_nonblocking(fd, false);  // the child expects plain blocking stdio
    m_stream->serve(fd, id, peer, [this, peer] {
      release_uid(peer);
      connection_closed(nullptr);
    });
    return;
  }
  auto connection = std::make_shared<Connection>(m_context, std::move(socket), id, peer);
  m_connections.emplace(connection.get(), connection);
  if (!ok) {
    m_log.info("connection_refused", {{"connection", id}, {"peer", peer.describe()}});
    connection->refuse(encode(error_object("Forbidden", "peer " + peer.describe() + " is not allowed")));
    return;
  }
  if (!admitted) {
    m_overload_log.error(m_log, "connection_overloaded",
                         {{"connection", id}, {"peer", peer.describe()}, {"reason", why}});
    Json j = error_object("Overloaded", why);
    j["limit"] = limit;
    connection->refuse(encode(j));
    return;
  }
  connection->count_uid();
  m_log.info("connection_accepted", {{"connection", id}, {"peer", peer.describe()}});
  connection->start();
}

void Server::connection_closed(Connection* connection) {
  if (connection != nullptr) {
    if (connection->counts_uid()) release_uid(connection->peer());
    m_connections.erase(connection);
  }
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
  m_log.info("shutting_down",
             {{"address", m_listener.display()}, {"connections", m_connections.size()}, {"in_flight", in_flight()}});
  boost::system::error_code ec;
  m_acceptor.close(ec);
  m_timer.cancel();
  // New clients now get "no such file" or "connection refused", not a hang.
  m_listener.close();
  // Copy: shutdown() may close a connection, which erases it from the map.
  std::vector<std::shared_ptr<Connection>> all;
  for (auto& [_, c] : m_connections) all.push_back(c);
  for (auto& c : all) c->shutdown();
  check_stopped();
  if (m_options.drain.count() <= 0 || !m_on_stopped) return;  // --drain 0: no limit
  m_timer.expires_after(m_options.drain);
  m_timer.async_wait([this](const boost::system::error_code& e) {
    if (e) return;
    m_log.error("drain_timeout", {{"connections", m_connections.size()}, {"in_flight", in_flight()}});
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
