#pragma once
/// Listener — a listening socket made from an Address, and the cleanup of its path.
///
/// A Unix socket is created with its final mode (and group) before anyone can
/// connect: it is bound inside a fresh 0700 directory next to the target, given
/// its mode and group, set listening, then renamed into place. That rename also
/// replaces a stale socket atomically. At start an existing path is judged:
///   live socket (connect succeeds)   -> refused, left alone
///   stale socket (ECONNREFUSED)      -> replaced
///   anything else                    -> refused, left alone
/// The destructor removes the path only if it is still our socket (same dev/inode).

#include <sys/types.h>

#include <optional>
#include <string>

#include "ipc/net/address.h"
#include "ipc/base/fd.h"

namespace ipc {

struct ListenOptions {
  mode_t mode = 0600;                ///< Unix socket file mode
  std::optional<gid_t> group;        ///< Unix socket file group
  int backlog = 1024;
};

class Listener {
 public:
  /// Creates or adopts the listening socket for `address`. Throws Error naming it:
  /// cannot_create (live socket there, not a socket, bind failure), permission, usage.
  static Listener open(const Address& address, const ListenOptions& options);

  Listener(Listener&&) noexcept;
  Listener& operator=(Listener&&) = delete;
  ~Listener();

  int fd() const noexcept { return m_fd.get(); }
  int family() const noexcept { return m_family; }
  const Address& address() const noexcept { return m_address; }
  /// How the address reads for logs and UNIXLOCALPATH (a bound TCP port 0 shows the real port).
  const std::string& display() const noexcept { return m_display; }

  /// Closes the socket and removes the path if it is still ours. Idempotent.
  void close() noexcept;

 private:
  Listener() = default;
  Fd m_fd;
  int m_family = 0;
  Address m_address;
  std::string m_display;
  bool m_owns_path = false;
  dev_t m_dev = 0;
  ino_t m_ino = 0;
};

}  // namespace ipc
