#pragma once
/// Server — accepts connections on one Listener, checks and counts them, and hands
/// each admitted one to its ConnectionHandler (connection_handler.h), on one
/// single-threaded io_context (no thread per connection).
///
///        Listener ──accept──► checks ──admitted──► ConnectionHandler
///            │   (paused at      │                   (LineConnections: Connection ──line──► Handler,
///            │   --max-connections)                   or StreamHandler: a child per connection)
///            │                   └──refused──► one Forbidden / Overloaded reply, closed
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

#include "ipc/net/listener.h"
#include "ipc/server/connection.h"
#include "ipc/server/handler.h"
#include "ipc/server/connection_handler.h"
#include "ipc/server/log.h"
#include "ipc/server/options.h"
#include "ipc/server/uid_counter.h"

namespace ipc {


class Server {
 public:
  /// `connections` gets every admitted connection (line protocol or --mode connection).
  Server(boost::asio::io_context& io, Listener listener, std::shared_ptr<ConnectionHandler> connections,
         ServerOptions options, const Log& log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Starts accepting.
  void start();
  /// Graceful stop: stops accepting and removes the socket at once; connections
  /// finish what they have within --drain, then what remains is killed. Calls
  /// `on_stopped` once nothing is left.
  void stop(std::function<void()> on_stopped);

  bool stopping() const noexcept { return m_stopping; }
  /// Connections open now: served, or being refused.
  std::size_t connections() const noexcept { return m_handler->open() + m_refused.size(); }
  const Listener& listener() const noexcept { return m_listener; }

 private:
  void do_accept();
  void on_accept(boost::asio::generic::stream_protocol::socket socket);
  bool allowed(const PeerInfo& peer) const;
  /// Sends `reply_line` (Forbidden, Overloaded) and closes.
  void refuse(boost::asio::generic::stream_protocol::socket socket, std::uint64_t id, const PeerInfo& peer,
              const std::string& reply_line);
  void connection_closed();
  /// Counts a new connection of `peer` against --max-connections-per-uid (and, when
  /// a connection is a request, --max-per-uid). False, with the refusal in `why`, when over.
  bool admit_uid(const PeerInfo& peer, std::string& why, std::size_t& limit);
  void check_stopped();

  boost::asio::io_context& m_io;
  Listener m_listener;
  boost::asio::basic_socket_acceptor<boost::asio::generic::stream_protocol> m_acceptor;
  std::shared_ptr<ConnectionHandler> m_handler;
  ServerOptions m_options;
  const Log& m_log;
  std::uint64_t m_next_id = 1;
  bool m_accepting = false;
  bool m_stopping = false;
  std::function<void()> m_on_stopped;
  boost::asio::steady_timer m_timer;  // accept retry after EMFILE; drain deadline
  UidCounter m_uid_connections;       // --max-connections-per-uid
  // Refused connections: each is sent its one reply, then closed.
  std::vector<char> m_refuse_buffer;
  UidCounter m_refuse_uids;  // unused: refused connections take no requests
  ConnectionContext m_refuse_context;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> m_refused;
  RateLimit m_accept_errors;  // EMFILE on accept: at most one log line a second
  RateLimit m_overload_log;   // connections refused Overloaded: the same
};

}  // namespace ipc
