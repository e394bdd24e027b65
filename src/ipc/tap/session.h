#pragma once
/// TapSession — one client of `ipcat tap` and its own connection to the upstream
/// server, bytes forwarded unchanged both ways (man/ipcat.1, ipcat tap).
///
///   client ──async_read_some──► buffer ──write_some──► upstream
///      ▲                          │ partial write: the rest waits in `pending`,
///      │                          │ and this side is not read again until it is out
///      └── the same, mirrored ◄───┘ (backpressure end to end: the kernel buffers fill
///                                    and the writer blocks, as with no tap at all)
///
///   EOF from one side   -> shutdown(SHUT_WR) of the other once its pending bytes are out
///   EOF from both sides -> closed, cleanly
///   any socket error    -> both closed at once (as a broken pipe would do to the peers)
///
/// The observer is told about bytes after they were handed on. Each direction reads
/// into its own buffer, 4 KiB, doubled (up to 64 KiB) while reads fill it. A message
/// costs per hop one read, one write, and the read that answers EAGAIN before the op
/// is queued (Asio reads first; strace -c under scripts/bench tap_c8). Waiting for
/// readability instead (async_wait, as serve does) costs an epoll_ctl re-arm in its
/// place: no fewer calls. Nor may a short read count as an empty socket, to skip that
/// EAGAIN: bytes and the peer's EOF (or an urgent byte and what follows it) that come
/// in one burst are one epoll edge, and the EOF, or the rest, would wait for the next.

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ipc/tap/observer.h"

namespace ipc {

class TapSession : public std::enable_shared_from_this<TapSession> {
 public:
  using Socket = boost::asio::generic::stream_protocol::socket;
  using Endpoint = boost::asio::generic::stream_protocol::endpoint;

  /// `client` is connected; `on_closed` is called once.
  TapSession(Socket client, std::uint64_t id, TapObserver& observer, std::function<void(TapSession*)> on_closed);

  /// Connects to `upstream` (retrying while its backlog is full), then forwards.
  void start(const Endpoint& upstream);
  /// Closes both sockets now; `error` says why (empty: a clean end).
  void close(std::string_view error);

  std::uint64_t id() const noexcept { return m_id; }

 private:
  struct Direction {
    Socket* from = nullptr;
    Socket* to = nullptr;
    TapSide side = TapSide::client;
    std::vector<char> buffer;  // what async_read_some fills
    std::string pending;       // read from `from`, not yet written to `to`
    bool reading = false;
    bool writing = false;
    bool eof = false;
  };

  void connect(const Endpoint& upstream, std::chrono::milliseconds backoff);
  void start_read(Direction& d);
  void on_read(Direction& d, std::size_t n);
  void wait_writable(Direction& d);
  void on_writable(Direction& d);
  void end_of(Direction& d);

  Socket m_client;
  Socket m_upstream;
  std::uint64_t m_id;
  TapObserver& m_observer;
  std::function<void(TapSession*)> m_on_closed;
  Direction m_dir[2];  // [client -> upstream, upstream -> client]
  boost::asio::steady_timer m_timer;  // connect retry
  std::chrono::steady_clock::time_point m_connect_deadline;
  bool m_closed = false;
};

}  // namespace ipc
