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
/// Forbidden reply and is closed; one past --max-connections-per-uid gets
/// Overloaded. On an abstract socket (no file mode to keep anyone out), with no
/// --allow-uid/--allow-gid, only the server's own uid and root are allowed.

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
  /// Requests waiting for their reply on one connection before it stops reading
  /// (backpressure, --max-pending) ...
  std::size_t max_pending = 64;
  /// ... or bytes of those requests (every mode): what a client sends never
  /// costs more memory than this per connection.
  std::size_t max_pending_bytes = 4 * 1024 * 1024;
  /// Reply bytes waiting for a slow reader before its connection stops reading.
  std::size_t max_unsent = 4 * 1024 * 1024;
  std::vector<uid_t> allow_uids;  ///< empty: anyone the socket mode lets in
  std::vector<gid_t> allow_gids;
  /// Requests in flight per peer uid (Unix sockets); beyond it: Overloaded. 0: off.
  /// In --mode connection a connection's child is its one request.
  std::size_t max_per_uid = 0;
  /// Connections one peer uid holds (Unix sockets); beyond it the new one gets
  /// Overloaded and is closed, so one user cannot lock the others out. 0: off.
  std::size_t max_connections_per_uid = 256;
  /// When set, every connection must pass the authkey handshake (auth.h) first.
  std::optional<AuthKey> authkey;
  /// Time a client has to pass it before it is closed (--handshake-timeout); 0: off.
  std::chrono::milliseconds handshake_timeout{k_handshake_timeout};
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
  /// Counts a new connection of `peer` against --max-connections-per-uid (and, in
  /// connection mode, --max-per-uid). False, with the refusal in `why`, when over.
  bool admit_uid(const PeerInfo& peer, std::string& why, std::size_t& limit);
  void release_uid(const PeerInfo& peer);
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
  std::unordered_map<uid_t, std::size_t> m_uid_connections;  // --max-connections-per-uid
  RateLimit m_accept_errors;  // EMFILE on accept: at most one log line a second
  RateLimit m_overload_log;   // connections refused Overloaded: the same
};

}  // namespace ipc
