#pragma once
/// TapProxy — the accepting half of `ipcat tap`: every client that connects to the
/// Listener gets a TapSession with its own connection to the upstream server, all
/// on one single-threaded io_context.
///
///   Listener ──accept──► TapSession ──► upstream      (--max-connections at once;
///      │                    │                          further clients wait in the backlog)
///      │                    └── bytes ──► TapObserver
///   stop(grace, drain): keep accepting for `grace` (clients already in the backlog,
///   or that found the socket an instant before it moved, are still served), close
///   the listener, forward what is open until it ends or `drain` passes, then cut it.

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "ipc/net/address.h"
#include "ipc/net/listener.h"
#include "ipc/tap/observer.h"
#include "ipc/tap/session.h"

namespace ipc {

struct TapProxyOptions {
  SockAddr upstream;                 ///< where each client's bytes go
  std::size_t max_connections = 1024;
  /// An abstract LISTEN has no file mode: admit only our own uid (and root), as
  /// `ipcat serve` does, or any local user could reach UPSTREAM through the tap.
  bool own_uid_only = false;
};

class TapProxy {
 public:
  TapProxy(boost::asio::io_context& io, Listener listener, TapProxyOptions options, TapObserver& observer);
  ~TapProxy();

  void start();
  /// Graceful stop as above; `on_stopped` is posted once nothing is left. A Unix
  /// LISTEN path is removed at once (if it is still ours).
  void stop(std::chrono::milliseconds grace, std::chrono::milliseconds drain, std::function<void()> on_stopped);
  /// Cuts every connection now (a second SIGINT).
  void close_all();
  /// Where sessions accepted from now on connect. --in-place: once the daemon's
  /// socket is back at its own name, clients still queued in the backlog reach it
  /// there (the aside name no longer exists).
  void set_upstream(const SockAddr& upstream);

  std::size_t connections() const noexcept { return m_sessions.size(); }
  const Listener& listener() const noexcept { return m_listener; }

 private:
  using Protocol = boost::asio::generic::stream_protocol;
  void do_accept();
  void on_accept(Protocol::socket socket);
  void take_backlog();
  void session_closed(TapSession* session);
  void check_stopped();

  boost::asio::io_context& m_io;
  Listener m_listener;
  boost::asio::basic_socket_acceptor<Protocol> m_acceptor;
  TapProxyOptions m_options;
  TapSession::Endpoint m_upstream;
  TapObserver& m_observer;
  std::unordered_map<TapSession*, std::shared_ptr<TapSession>> m_sessions;
  std::uint64_t m_next_id = 1;
  bool m_accepting = false;
  bool m_stopping = false;
  bool m_listener_closed = false;
  std::function<void()> m_on_stopped;
  std::chrono::milliseconds m_drain{0};
  boost::asio::steady_timer m_timer;  // accept retry after EMFILE; grace; drain
};

}  // namespace ipc
