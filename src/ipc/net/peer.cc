#include "ipc/net/peer.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "ipc/net/address.h"

namespace ipc {

PeerInfo peer_of(int fd, const std::string& local_path) {
  PeerInfo p;
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 && local.ss_family != AF_UNIX) {
    p.is_unix = false;
    ip_and_port(reinterpret_cast<sockaddr*>(&local), p.local_ip, p.local_port);
    sockaddr_storage remote{};
    len = sizeof remote;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &len) == 0)
      ip_and_port(reinterpret_cast<sockaddr*>(&remote), p.remote_ip, p.remote_port);
    return p;
  }
  p.local_path = local_path;
  ucred cred{};
  len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    p.pid = cred.pid;
    p.uid = cred.uid;
    p.gid = cred.gid;
  }
  // SO_PEERGROUPS (Linux 4.13): the peer's supplementary groups at connect time.
  // ERANGE tells the size needed; a process may have up to 65536 groups.
  p.groups.resize(64);
  for (int attempt = 0; attempt < 3; ++attempt) {
    len = static_cast<socklen_t>(p.groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p.groups.data(), &len) == 0) {
      p.groups.resize(len / sizeof(gid_t));
      return p;
    }
    if (errno != ERANGE) break;
    p.groups.resize(len / sizeof(gid_t) + 1);
  }
  p.groups.clear();
  return p;
}

bool PeerInfo::in_group(gid_t g) const {
  return g == gid || std::find(groups.begin(), groups.end(), g) != groups.end();
}

std::string PeerInfo::describe() const {
  if (is_unix)
    return "pid=" + std::to_string(pid) + " uid=" + std::to_string(uid) + " gid=" + std::to_string(gid);
  return "ip=" + remote_ip + " port=" + std::to_string(remote_port);
}

std::vector<std::string> PeerInfo::ucspi_env() const {
  if (is_unix) {
    return {"PROTO=UNIX", "UNIXLOCALPATH=" + local_path, "UNIXREMOTEEUID=" + std::to_string(uid),
            "UNIXREMOTEEGID=" + std::to_string(gid), "UNIXREMOTEPID=" + std::to_string(pid)};
  }
  return {"PROTO=TCP", "TCPLOCALIP=" + local_ip, "TCPLOCALPORT=" + std::to_string(local_port),
          "TCPREMOTEIP=" + remote_ip, "TCPREMOTEPORT=" + std::to_string(remote_port)};
}

}  // namespace ipc
