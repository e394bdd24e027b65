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

Server::Server(asio::io_context& io, Listener listener, std::shared_ptr<ConnectionHandler> connections,
               ServerOptions options, const Log& log)
    : m_io(io),
      m_listener(std::move(listener)),
      m_acceptor(io),
      m_handler(std::move(connections)),
      m_options(std::move(options)),
      m_log(log),
      m_timer(io),
      m_refuse_buffer(4096),
      m_refuse_context{m_options,
                       m_log,
                       nullptr,
                       m_refuse_buffer,
                       m_refuse_uids,
                       [this](Connection& c) {
                         m_refused.erase(&c);
                         connection_closed();
                       },
                       [] {}} {
  // Asio owns (and closes) its own duplicate; the Listener keeps the path.
  int fd = ::fcntl(m_listener.fd(), F_DUPFD_CLOEXEC, 3);
  if (fd < 0) throw_errno(m_listener.display() + ": dup", errno);
  m_acceptor.assign(Protocol(m_listener.family(), 0), fd);
  m_acceptor.non_blocking(true);
  m_handler->on_progress([this] { check_stopped(); });
}

Server::~Server() {
  m_handler->on_progress(nullptr);
  boost::system::error_code ec;
  m_acceptor.close(ec);
}

void Server::start() {
  m_accepting = true;
  do_accept();
}

void Server::do_accept() {
  if (!m_accepting || m_stopping) return;
  if (connections() >= m_options.max_connections || m_handler->full()) {
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
  } else if (m_handler->connection_is_request() && m_options.max_per_uid > 0 && held >= m_options.max_per_uid) {
    limit = m_options.max_per_uid;
    why = "uid " + uid + " has " + std::to_string(held) + " connections in flight (--max-per-uid " +
          std::to_string(limit) + ")";
  } else {
    m_uid_connections.add(peer.uid);
    return true;
  }
  return false;
}

void Server::on_accept(Protocol::socket socket) {
  // Asio accepts without SOCK_CLOEXEC: fix that before anything can fork.
  set_cloexec(socket.native_handle());
  std::uint64_t id = m_next_id++;
  PeerInfo peer = peer_of(socket.native_handle(), m_listener.display());
  if (!allowed(peer)) {
    m_log.info("connection_refused", {{"connection", std::to_string(id)}, {"peer", peer.describe()}});
    refuse(std::move(socket), id, peer, encode(error_object("Forbidden", "peer " + peer.describe() + " is not allowed")));
    return;
  }
  std::string why;
  std::size_t limit = 0;
  if (!admit_uid(peer, why, limit)) {
    m_overload_log.error(m_log, "connection_overloaded",
                         {{"connection", std::to_string(id)}, {"peer", peer.describe()}, {"reason", why}});
    Json j = error_object("Overloaded", why);
    j["limit"] = limit;
    refuse(std::move(socket), id, peer, encode(j));
    return;
  }
  m_log.info("connection_accepted", {{"connection", std::to_string(id)}, {"peer", peer.describe()}});
  m_handler->serve(std::move(socket), id, peer, [this, peer] {
    if (peer.is_unix) m_uid_connections.remove(peer.uid);
    connection_closed();
  });
}

void Server::refuse(Protocol::socket socket, std::uint64_t id, const PeerInfo& peer, const std::string& reply_line) {
  auto connection = std::make_shared<Connection>(m_refuse_context, std::move(socket), id, peer);
  m_refused.emplace(connection.get(), connection);
  connection->refuse(reply_line);
}

void Server::connection_closed() {
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
                               {"connections", std::to_string(connections())},
                               {"in_flight", std::to_string(m_handler->in_flight())}});
  boost::system::error_code ec;
  m_acceptor.close(ec);
  m_timer.cancel();
  // New clients now get "no such file" or "connection refused", not a hang.
  m_listener.close();
  m_handler->shutdown();
  check_stopped();
  if (m_options.drain.count() <= 0 || !m_on_stopped) return;  // --drain 0: no limit
  m_timer.expires_after(m_options.drain);
  m_timer.async_wait([this](const boost::system::error_code& e) {
    if (e) return;
    m_log.error("drain_timeout", {{"connections", std::to_string(connections())},
                                  {"in_flight", std::to_string(m_handler->in_flight())}});
    // Killed requests are answered ShuttingDown; their connections close once that
    // is written. A client that does not read it gets k_final_grace, then is cut.
    m_handler->abort_all();
    m_timer.expires_after(k_final_grace);
    m_timer.async_wait([this](const boost::system::error_code& e2) {
      if (e2) return;
      m_handler->close_all();
      std::vector<std::shared_ptr<Connection>> left;
      for (auto& [_, c] : m_refused) left.push_back(c);
      for (auto& c : left) c->close();
      check_stopped();
    });
    check_stopped();
  });
  check_stopped();
}

void Server::check_stopped() {
  if (!m_stopping || !m_on_stopped) return;
  if (connections() > 0 || m_handler->in_flight() > 0) return;
  m_timer.cancel();
  auto done = std::move(m_on_stopped);
  m_on_stopped = nullptr;
  // Posted: we may be deep inside a connection's callback.
  asio::post(m_io, std::move(done));
}

}  // namespace ipc
