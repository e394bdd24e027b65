#pragma once
/// ipc::Error — the one exception type the library throws.
///
/// Every failure carries a kind (what went wrong, as a caller must react to it)
/// and a message that names the path or address and the cause, e.g.
/// "/run/app.sock: connection refused (is the daemon running?)".
/// The CLI maps kinds to exit codes in one place (cli/exit_codes.h).

#include <stdexcept>
#include <string>
#include <string_view>

namespace ipc {

enum class ErrorKind {
  usage,          ///< caller passed something malformed (bad address, bad item)
  invalid_input,  ///< data is not valid JSON / too large for its channel
  not_found,      ///< path does not exist
  refused,        ///< nobody there: connection refused, no FIFO reader
  internal,       ///< a bug or an unexpected system failure
  cannot_create,  ///< cannot create socket / FIFO / pidfile
  io,             ///< I/O error mid-exchange (reset, broken pipe)
  timeout,        ///< a deadline passed
  lock_held,      ///< a lock is held by someone else
  protocol,       ///< the peer spoke something other than JSON lines
  permission,     ///< refused by the file system, the peer, or the handshake
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), m_kind(kind) {}
  ErrorKind kind() const noexcept { return m_kind; }

 private:
  ErrorKind m_kind;
};

/// The kind an errno value from connect/open/bind falls into.
ErrorKind kind_from_errno(int err) noexcept;

/// Throws Error{kind_from_errno(err), "<what>: <strerror(err)>"}.
[[noreturn]] void throw_errno(std::string_view what, int err);

/// strerror(err) in lower case, the way our messages read ("no such file or directory").
std::string errno_text(int err);

}  // namespace ipc
