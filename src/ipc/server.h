#pragma once
/// Server — accepts connections on one Listener and feeds JSON lines to a Handler,
/// on one single-threaded io_context (no thread per connection).
///
///        Listener ──accept──► Connection ──line──► Handler (exec / pool / echo / routes)
///            │   (paused at      │  ▲                   │
///            │   --max-connections)  └──reply, in order─┘
///          stop(): close + unlink, connections drain, then abort_all()
///
/// Access checks happen at accept: a peer whose uid/gid is not allowed gets one
/// Forbidden reply and is closed.

#include <sys/types.h>

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "ipc/auth.h"
#include "ipc/handler.h"
#include "ipc/json_lines.h"
#include "ipc/listener.h"
#include "ipc/log.h"
#include "ipc/stream_handler.h"

namespace ipc {

class Connection;

struct ServerOptions {
  std::size_t max_line = k_default_max_line;
  /// Deepest nesting of a request (ParseError with "limit" beyond it).
  std::size_t max_depth = k_default_max_depth;
  std::size_t max_connections = 1024;
  std::chrono::milliseconds idle_timeout{0};  ///< 0: off
  std::chrono::milliseconds drain{10000};
  /// Requests in flight on one connection before it stops reading (backpressure).
  std::size_t max_pending = 256;
  /// Reply bytes waiting for a slow reader before its connection stops reading.
  std::size_t max_unsent = 4 * 1024 * 1024;
  std::vector<uid_t> allow_uids;  ///< empty: anyone the socket mode lets in
  std::vector<gid_t> allow_gids;
  /// Requests in flight per peer uid (Unix sockets); beyond it: Overloaded. 0: off.
  std::size_t max_per_uid = 0;
  /// When set, every connection must pass the authkey handshake (auth.h) first.
  std::optional<AuthKey> authkey;
};

class Server {
 public:
  Server(boost::asio::io_context& io, Listener listener, std::shared_ptr<Handler> handler,
         ServerOptions options, const Log& log);
  /// `--mode connection`: each accepted connection goes to a child instead.
  Server(boost::asio::io_context& io, Listener listener, std::shared_ptr<StreamHandler> stream, ServerOptions options,
         const Log& log);
  ~Server();

  /// Starts accepting.
  void start();
  /// Graceful stop: stops accepting and removes the socket at once; connections
  /// finish what they have within --drain, then what remains is killed. Calls
  /// `on_stopped` once nothing is left.
  void stop(std::function<void()> on_stopped);

  bool stopping() const noexcept { return m_stopping; }
  std::size_t connections() const noexcept { return m_connections.size(); }
  const Listener& listener() const noexcept { return m_listener; }

 private:
  friend class Connection;
  void do_accept();
  void on_accept(boost::asio::generic::stream_protocol::socket socket);
  bool allowed(const PeerInfo& peer) const;
  void connection_closed(Connection* connection);
  void check_stopped();
  std::size_t active() const noexcept { return m_connections.size() + (m_stream ? m_stream->running() : 0); }
  std::size_t in_flight() const { return (m_handler ? m_handler->in_flight() : 0) + (m_stream ? m_stream->running() : 0); }

  boost::asio::io_context& m_io;
  Listener m_listener;
  boost::asio::basic_socket_acceptor<boost::asio::generic::stream_protocol> m_acceptor;
  std::shared_ptr<Handler> m_handler;        // line mode
  std::shared_ptr<StreamHandler> m_stream;   // connection mode
  ServerOptions m_options;
  const Log& m_log;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> m_connections;
  std::uint64_t m_next_id = 1;
  bool m_accepting = false;
  bool m_stopping = false;
  std::function<void()> m_on_stopped;
  boost::asio::steady_timer m_timer;  // accept retry after EMFILE; drain deadline
  std::vector<char> m_read_buffer;    // shared by all connections (one thread)
  std::unordered_map<uid_t, std::size_t> m_per_uid;  // requests in flight per uid (--max-per-uid)
};

}  // namespace ipc
