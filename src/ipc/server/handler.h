#pragma once
/// Handler — what answers a request. The server hands every complete, valid JSON
/// line to a Handler with a callback; the handler calls it exactly once, on the
/// server's executor, with the reply line (no '\n') or nothing (a notification).
///
/// A Handler may answer later (a child process, a worker); the server keeps replies
/// in request order per connection. Error replies are ordinary reply lines made
/// with error_object().

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ipc/net/peer.h"

namespace ipc {

/// What a handler knows of one request besides its text.
struct RequestContext {
  std::uint64_t connection = 0;  ///< connection number, from 1
  std::uint64_t request = 0;     ///< request number on that connection, from 1
  const PeerInfo* peer = nullptr;  ///< valid for the duration of handle() only
  bool compact = false;  ///< the line is already compact JSON (json_scan.h)
};

using Reply = std::optional<std::string>;
using ReplyCallback = std::function<void(Reply)>;

class Handler {
 public:
  virtual ~Handler() = default;
  /// Starts handling `line` (one trimmed JSON text). Calls `done` exactly once.
  virtual void handle(const RequestContext& context, std::string_view line, ReplyCallback done) = 0;
  /// Requests being handled or queued now.
  virtual std::size_t in_flight() const = 0;
  /// Ends everything still running (drain time is over): each pending callback is
  /// still called, with an error reply.
  virtual void abort_all() = 0;
};

}  // namespace ipc
