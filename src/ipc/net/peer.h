#pragma once
/// Who is at the other end of a connected socket: SO_PEERCRED for Unix sockets,
/// addresses for TCP. Feeds access checks, logs and the UCSPI handler environment.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ipc {

struct PeerInfo {
  bool is_unix = true;
  // Unix: credentials of the peer process at connect time (-1 when unknown).
  pid_t pid = -1;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  std::vector<gid_t> groups;  ///< supplementary groups (SO_PEERGROUPS), for --allow-gid
  std::string local_path;  ///< UNIXLOCALPATH: the socket path (or @name)
  // TCP
  std::string local_ip, remote_ip;
  std::uint16_t local_port = 0, remote_port = 0;

  /// True when the peer's primary or a supplementary group is `g`.
  bool in_group(gid_t g) const;
  /// "pid=1 uid=0 gid=0" or "ip=127.0.0.1 port=5555", for logs.
  std::string describe() const;
  /// The UCSPI variables (PROTO=UNIX, UNIXREMOTEEUID=..., or PROTO=TCP, TCPREMOTEIP=...).
  std::vector<std::string> ucspi_env() const;
};

/// Reads the peer of a connected socket. `local_path` is how the listening address reads.
PeerInfo peer_of(int fd, const std::string& local_path);

}  // namespace ipc
