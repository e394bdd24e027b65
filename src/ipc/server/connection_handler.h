#pragma once
/// ConnectionHandler — what the Server gives each connection it has admitted (peer
/// allowed, per-uid limits kept). Two kinds:
///   LineConnections (line_connections.h): the line protocol, a Connection per
///     client, every request to one Handler (exec / pool / routes / echo);
///   StreamHandler (handlers/stream_handler.h): --mode connection, a child per
///     connection whose stdin and stdout are the socket.
/// The Server only accepts, checks, counts and stops; everything after is here.

#include <boost/asio/generic/stream_protocol.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>

#include "ipc/net/peer.h"

namespace ipc {

class ConnectionHandler {
 public:
  using Socket = boost::asio::generic::stream_protocol::socket;

  virtual ~ConnectionHandler() = default;
  /// Takes an admitted connection; calls `closed` once, on the executor, when it is over.
  virtual void serve(Socket socket, std::uint64_t id, const PeerInfo& peer, std::function<void()> closed) = 0;
  /// Connections being served now.
  virtual std::size_t open() const = 0;
  /// Requests being handled now (a child per connection is one).
  virtual std::size_t in_flight() const = 0;
  /// No more connections now; accepting resumes at the next `closed`.
  virtual bool full() const { return false; }
  /// Each connection is one request: --max-per-uid then counts connections.
  virtual bool connection_is_request() const { return false; }
  /// The server is stopping: finish what is pending, take nothing new.
  virtual void shutdown() = 0;
  /// The drain time is over: end what still runs (its clients are told so).
  virtual void abort_all() = 0;
  /// The last grace is over too: close whatever is left.
  virtual void close_all() = 0;

  /// Called whenever a request ends, so a stopping server sees in_flight() fall.
  void on_progress(std::function<void()> f) { m_progress = std::move(f); }

 protected:
  void progressed() const {
    if (m_progress) m_progress();
  }

 private:
  std::function<void()> m_progress;
};

}  // namespace ipc
