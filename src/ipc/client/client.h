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

#include "ipc/net/address.h"
#include "ipc/base/deadline.h"
#include "ipc/base/fd.h"
#include "ipc/wire/line_decoder.h"
#include "ipc/net/peer.h"

namespace ipc {

/// The address a client connects to: parse_address(text), except that a bare
/// name of an existing socket file is that path (`ipcat request mpvsocket`).
Address client_address(const std::string& text);

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
  /// As take_line(), without a copy: `line` views the receive buffer until the
  /// next read or take. False when no complete line is there.
  bool next_line(std::string_view& line);
  /// The whole lines received and not yet taken, raw (LineDecoder::whole_lines()):
  /// valid until the next read or take. skip(n) drops the first n bytes of them.
  std::string_view whole_lines() const noexcept { return m_decoder.whole_lines(); }
  void skip(std::size_t n) noexcept { m_decoder.skip(n); }
  /// True once the server closed its side (and every line before that was read).
  bool at_eof() const noexcept { return m_eof; }

  /// Bytes we sent that the server has not read yet (Unix) or acknowledged (TCP):
  /// SIOCOUTQ. notify uses it to know the server took its requests.
  std::size_t unread_by_peer() const;

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

/// What pipeline() asks of its caller.
struct PipelineHooks {
  /// Appends the request for input line `line_number` to `out` (one line, with its
  /// '\n'). May throw (a bad input line): nothing from that line on is sent, the
  /// replies owed for what was sent are still read, then the exception goes on.
  std::function<void(std::string_view line, std::size_t line_number, std::string& out)> prepare;
  /// Optional, for lines that need no change: takes a run of input lines from the
  /// start of `lines` (LineDecoder::whole_lines(); lines longer than `max_line`
  /// not among them), appends for them what `prepare` would, counts them on from
  /// `line_number`, and returns the bytes it took (0: none). The lines after the
  /// run go to `prepare` one at a time.
  std::function<std::size_t(std::string_view lines, std::size_t max_line, std::size_t& line_number, std::string& out)>
      prepare_run;
  /// A line from the server; the view is valid during the call.
  std::function<void(std::string_view line)> on_line;
  /// Optional, the same for the server's lines: takes a run of lines from the
  /// start of `lines` (ClientConnection::whole_lines()) as on_line would, and
  /// returns the bytes it took; the lines after it go to on_line.
  std::function<std::size_t(std::string_view lines)> on_run;
  /// How many requests sent are still owed a reply.
  std::function<std::size_t()> outstanding;
  /// Writes what on_line buffered; called before each wait and at the end.
  std::function<void()> flush;
};

/// Pipelining: reads request lines from `input_fd` (blank lines skipped) and sends
/// them as `prepare` writes them, while reading the server's lines at the same time
/// (so neither side can block the other). At input EOF it shuts down writing, and it
/// returns as soon as every request has its reply (outstanding() is 0) or the server
/// closes. `progress` bounds each wait while something is owed (a reply, or bytes
/// the server does not take): Error{timeout} after that long without progress;
/// nullopt waits for ever. While nothing is owed it waits on input without limit
/// (`tail -f | ipcat request`).
void pipeline(ClientConnection& conn, int input_fd, const PipelineHooks& hooks,
              std::optional<std::chrono::milliseconds> progress);

}  // namespace ipc
