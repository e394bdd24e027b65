#pragma once
/// ServerOptions — the limits and access rules of `ipcat serve` (man/ipcat.1, serve
/// OPTIONS), shared by the Server and each of its Connections.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

#include "ipc/wire/auth.h"
#include "ipc/wire/json_text.h"
#include "ipc/wire/line_decoder.h"

namespace ipc {

/// Default of --max-quoted: bytes of a handler's output or stderr quoted in an
/// error reply or the log.
inline constexpr std::size_t k_default_max_quoted = 2048;

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
  /// A client that closes its socket gets its running handlers stopped
  /// (Handler::cancel); otherwise they run to completion (notify).
  bool cancel_on_disconnect = false;
  /// Bytes of an error message quoted in the request log (--max-quoted).
  std::size_t max_quoted = k_default_max_quoted;
  /// Time a client has to pass it before it is closed (--handshake-timeout); 0: off.
  std::chrono::milliseconds handshake_timeout{k_handshake_timeout};
};

}  // namespace ipc
