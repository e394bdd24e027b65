#pragma once
/// Connection — one client of the Server: reads lines, hands them to the Handler,
/// writes replies back in request order.
///
///   readable ──read──► LineDecoder ──line──► slot #n (pending) ──► Handler
///                                                 ▲                  │
///   write queue ◄── flush: leading done slots ◄───┴── reply(n) ◄─────┘
///
/// Reading pauses while too many requests (--max-pending) or request bytes are
/// waiting for their replies, or too many reply bytes are unsent (backpressure).
/// A line that begins an HTTP request closes the connection at once: a web page
/// must not reach a loopback daemon (cross-protocol requests). A request received whole runs to completion even if
/// the client goes away; its reply is then discarded. The connection closes when
///   the client's EOF has been read and every reply is written, or
///   a reply that ends the conversation (LineTooLong, Forbidden, ShuttingDown) is out, or
///   the socket fails, or --idle-timeout passes with nothing pending.
/// Idle connections hold no read buffer: the server lends one for each read.

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <functional>
#include <string_view>

#include "ipc/net/peer.h"
#include "ipc/server/handler.h"
#include "ipc/server/log.h"
#include "ipc/server/options.h"
#include "ipc/server/uid_counter.h"
#include "ipc/wire/line_decoder.h"

namespace ipc {

class Connection;

/// What a Connection uses of its owner (the Server, or a test); it must outlive
/// every Connection made with it. All of it is used on the one io_context thread.
struct ConnectionContext {
  const ServerOptions& options;
  const Log& log;
  /// Answers the requests; null for a connection that is only refused.
  Handler* handler = nullptr;
  /// Lent for each read: idle connections hold no read buffer.
  std::vector<char>& read_buffer;
  /// Requests in flight per uid, counted against options.max_per_uid.
  UidCounter& requests_per_uid;
  /// The connection has closed (called once); the owner may now drop it.
  std::function<void(Connection&)> closed;
  /// A request was answered (the owner may be waiting for in-flight work to end).
  std::function<void()> answered;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Socket = boost::asio::generic::stream_protocol::socket;

  Connection(const ConnectionContext& context, Socket socket, std::uint64_t id, PeerInfo peer);

  void start();
  /// Sends one final error reply, then closes (refused peers).
  void refuse(const std::string& reply_line);
  /// The server is stopping: finish what is pending, answer anything new with ShuttingDown.
  void shutdown();
  /// Drain time is over: close now.
  void close();

  std::uint64_t id() const noexcept { return m_id; }
  const PeerInfo& peer() const noexcept { return m_peer; }
  /// This connection counts against --max-connections-per-uid until it closes.
  void count_uid() noexcept { m_counts_uid = true; }
  bool counts_uid() const noexcept { return m_counts_uid; }

 private:
  struct Slot {
    bool done = false;
    Reply reply;
  };

  void wait_readable();
  void on_readable();
  void process_lines();
  void submit(std::string_view line);
  void add_final(std::string reply_line);
  void on_reply(std::uint64_t seq, Reply reply);
  void flush();
  void do_write();
  void maybe_resume_or_close();
  bool pending() const noexcept { return m_head < m_slots.size(); }
  bool has_room() const noexcept;
  void arm_idle_timer();
  void start_handshake();
  void on_handshake_line(std::string_view line);

  const ConnectionContext& m_ctx;
  Socket m_socket;
  std::uint64_t m_id;
  PeerInfo m_peer;
  LineDecoder m_decoder;
  std::vector<Slot> m_slots;  // slots [m_head, size) are pending replies, in order
  std::size_t m_head = 0;
  std::uint64_t m_base_seq = 0;  // sequence number of m_slots[0]
  std::uint64_t m_requests = 0;
  std::size_t m_waiting_bytes = 0;  // bytes of requests handed to the handler, not yet answered
  bool m_counts_uid = false;
  std::string m_unsent;   // replies waiting for the current write to finish
  std::string m_writing;  // the buffer of the write in progress
  std::unique_ptr<boost::asio::steady_timer> m_idle_timer;
  bool m_reading = false;  // a wait for readability is armed
  bool m_read_done = false;  // EOF, error, or no more reading (framing lost)
  bool m_write_busy = false;
  bool m_close_after_flush = false;
  bool m_shutting_down = false;
  bool m_closed = false;
  bool m_processing = false;  // inside process_lines()
  std::string m_nonce;        // our challenge while the authkey handshake is pending
  std::unique_ptr<boost::asio::steady_timer> m_handshake_timer;
};

}  // namespace ipc
