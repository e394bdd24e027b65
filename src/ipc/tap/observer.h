#pragma once
/// TapObserver — the narrow interface between the tap's forwarding (tap_proxy.h,
/// tap_session.h), which moves bytes and knows nothing of JSON, and whoever
/// watches the traffic (tap_events.h). Every call is made on the event loop's
/// thread, after the bytes were handed to the other side: watching never delays
/// forwarding by more than the call itself.

#include <cstdint>
#include <string_view>

#include "ipc/net/peer.h"

namespace ipc {

/// Who wrote the bytes: the client (requests) or the server (replies, pushes).
enum class TapSide { client = 0, server = 1 };

class TapObserver {
 public:
  virtual ~TapObserver() = default;
  /// A client connected to the tap; `client` holds its SO_PEERCRED credentials.
  virtual void opened(std::uint64_t conn, const PeerInfo& client) = 0;
  /// `bytes` from `from` were forwarded to the other side (written or queued).
  virtual void forwarded(std::uint64_t conn, TapSide from, std::string_view bytes) = 0;
  /// `from` closed its sending side (EOF): a final unterminated line is complete.
  virtual void ended(std::uint64_t conn, TapSide from) = 0;
  /// The connection is gone (both sockets closed). `error` is empty after a clean
  /// end, else why (upstream refused, reset, cut at the end of --drain).
  virtual void closed(std::uint64_t conn, std::string_view error) = 0;
};

}  // namespace ipc
