#pragma once
/// Client side of a JSON-line connection: blocking, poll(2)-based, no Asio, so a
/// one-shot `ipcat request` starts and ends in a millisecond.
///
/// Every operation takes a Deadline. connect() retries only while nobody is
/// listening yet (ENOENT, ECONNREFUSED, EAGAIN), with exponential backoff, and
/// never after anything was written.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ipc/address.h"
#include "ipc/fd.h"
#include "ipc/json_lines.h"
#include "ipc/peer.h"

namespace ipc {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Deadline(std::chrono::milliseconds in) : m_at(Clock::now() + in) {}
  /// Milliseconds left, at least 0; for poll().
  int remaining_ms() const;
  bool expired() const { return Clock::now() >= m_at; }
  Clock::time_point at() const { return m_at; }

 private:
  Clock::time_point m_at;
};

struct ConnectOptions {
  int retries = 3;                            ///< further attempts after the first
  std::chrono::milliseconds backoff{500};     ///< first wait, doubling
  /// Called before each retry with the error that caused it (for -v).
  std::function<void(const std::string& why, std::chrono::milliseconds wait)> on_retry;
};

class ClientConnection {
 public:
  /// Connects, retrying as above. Throws Error naming the address: not_found
  /// (no such socket), refused, permission, timeout.
  static ClientConnection connect(const Address& address, const ConnectOptions& options, const Deadline& deadline);

  /// Runs the client side of the authkey handshake (auth.h). Throws Error
  /// {permission} when the server refuses the key or cannot prove it knows it,
  /// {protocol} when the server does not speak the handshake.
  void authenticate(const class AuthKey& key, const Deadline& deadline);

  /// Writes all of `data`. Throws Error{io} (peer gone) or {timeout}.
  void write_all(std::string_view data, const Deadline& deadline);
  /// Closes our sending side: the server sees EOF, answers what it has, then closes.
  void shutdown_write();
  /// The next non-blank line from the server, or nullopt at EOF. Throws Error
  /// {timeout}, {io} (reset), {protocol} (line longer than max_line).
  std::optional<std::string> read_line(const Deadline& deadline);
  /// Reads whatever is available now without blocking and queues complete lines;
  /// returns false at EOF. For pipelining (see pipeline()).
  bool read_available();
  /// A complete line already received, if any.
  std::optional<std::string> take_line();

  /// The server's credentials (SO_PEERCRED), for -v.
  PeerInfo server_peer() const;
  int fd() const noexcept { return m_fd.get(); }
  const std::string& display() const noexcept { return m_display; }
  void set_max_line(std::size_t n) { m_decoder = LineDecoder(n); }

 private:
  ClientConnection(Fd fd, std::string display) : m_fd(std::move(fd)), m_display(std::move(display)) {}
  [[noreturn]] void fail_io(int err, std::string_view doing) const;

  Fd m_fd;
  std::string m_display;
  LineDecoder m_decoder{64 * 1024 * 1024};
  bool m_eof = false;
};

/// Pipelining: reads request lines from `input_fd` (blank lines skipped) and sends
/// each as `prepare(line, line_number)` returns it, while reading replies at the same
/// time (so neither side can block the other) and passing each to `on_reply`. After
/// input EOF it shuts down writing and reads until the server closes.
/// `prepare` may throw (a bad input line): nothing after that line is sent.
void pipeline(ClientConnection& conn, int input_fd,
              const std::function<std::string(std::string_view line, std::size_t line_number)>& prepare,
              const std::function<void(std::string_view reply)>& on_reply, const Deadline& deadline);

}  // namespace ipc
