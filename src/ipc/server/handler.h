#pragma once
/// Handler — what answers a request. The server hands every complete, valid JSON
/// line to a Handler with a callback; the handler calls it exactly once, on the
/// server's executor, with the reply line (no '\n') or nothing (a notification).
///
/// A Handler may answer later (a child process, a worker); the server keeps replies
/// in request order per connection. Error replies are ordinary reply lines made
/// with error_object(). With the reply comes an Outcome: what the server's request
/// log says about the run (man/ipcat.1, LOG).

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

/// What the handler knows of how a request went, for the request log.
struct Outcome {
  long pid = 0;          ///< the process that ran it (the child, the worker); 0: none
  int status = -1;       ///< its exit status, when it exited because of this request; -1 otherwise
  int signal = 0;        ///< the signal that killed it, or 0
  std::string route;     ///< routing: the route that ran it (empty: none, or no such method)
  std::string method;    ///< routing: the request's method (NoSuchMethod too)
  std::string stderr_tail;  ///< what it wrote on stderr, when the outcome is a failure
  std::string output;       ///< BadHandlerOutput: the start of what it printed (bounded)
  bool cancelled = false;   ///< its client went away and it was stopped (--cancel-on-disconnect)
};

using ReplyCallback = std::function<void(Reply, Outcome)>;

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
  /// The client of `connection` has gone (--cancel-on-disconnect): its queued
  /// requests are dropped and its running handlers' process groups get SIGTERM
  /// (SIGKILL after the grace). Each callback is still called, with no reply and
  /// Outcome::cancelled set.
  virtual void cancel(std::uint64_t connection) { (void)connection; }
};

}  // namespace ipc
