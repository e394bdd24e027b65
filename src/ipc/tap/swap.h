#pragma once
/// SocketSwap — how `ipcat tap --in-place SOCKET` takes a live daemon's place and
/// gives it back (man/ipcat.1, ipcat tap, "In place"):
///
///   start   our listener is bound at SOCKET.ipcat-tap (with SOCKET's mode and group),
///           then renameat2(RENAME_EXCHANGE) swaps the two names in one step:
///           SOCKET is ours, SOCKET.ipcat-tap the daemon's. There is no moment
///           without a socket at SOCKET; connections made before go on untouched.
///   stop    rename(SOCKET.ipcat-tap, SOCKET): the daemon's socket replaces ours,
///           again in one step, before the tap stops forwarding.
///   killed  the daemon's socket stays at SOCKET.ipcat-tap; restore_socket() (`ipcat
///           tap --restore SOCKET`) moves it back over the dead tap's socket.

#include <sys/types.h>

#include <optional>
#include <string>

#include "ipc/net/listener.h"

namespace ipc {

/// Where the daemon's socket waits while it is tapped: SOCKET + ".ipcat-tap".
std::string aside_path(const std::string& socket);

class SocketSwap {
 public:
  /// Checks that `socket` is a live socket and nothing is at its aside path, makes
  /// the listener, and swaps. Throws Error naming the path: not_found, refused (no
  /// daemon there), cannot_create (aside path taken, no RENAME_EXCHANGE), permission.
  /// `warning` receives what was not copied (the group), if anything.
  SocketSwap(const std::string& socket, std::string& warning);
  SocketSwap(const SocketSwap&) = delete;
  SocketSwap& operator=(const SocketSwap&) = delete;
  /// Puts the socket back if put_back() was not called.
  ~SocketSwap();

  /// The listener, now at `socket` (take it once).
  Listener take_listener();
  const std::string& aside() const noexcept { return m_aside; }
  /// The daemon's own name, where its socket is again after put_back().
  const std::string& socket() const noexcept { return m_socket; }
  /// Puts the daemon's socket back. Returns what went wrong, or "" when it is back.
  /// Idempotent.
  std::string put_back() noexcept;

 private:
  std::string m_socket;
  std::string m_aside;
  std::optional<Listener> m_listener;
  dev_t m_our_dev = 0, m_their_dev = 0;
  ino_t m_our_ino = 0, m_their_ino = 0;
  bool m_swapped = false;
};

/// `ipcat tap --restore SOCKET`: moves SOCKET.ipcat-tap back to SOCKET after a tap
/// was killed. Throws Error: not_found (nothing aside), cannot_create (SOCKET is live:
/// a tap is running there).
void restore_socket(const std::string& socket);

}  // namespace ipc
