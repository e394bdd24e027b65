#include "ipc/base/numbers.h"
#include "ipc/net/systemd.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "ipc/base/error.h"
#include "ipc/base/fd.h"

namespace ipc {
namespace {

constexpr int k_listen_fds_start = 3;  // SD_LISTEN_FDS_START

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

template <typename T>
bool number(const std::string& s, T& out) {
  auto value = parse_whole<T>(s);
  if (value) out = *value;
  return value.has_value();
}

}  // namespace

int systemd_listen_fd(const std::string& name) {
  std::string where = name.empty() ? "systemd" : "systemd:" + name;
  long pid = 0;
  int count = 0;
  if (!number(env("LISTEN_PID"), pid) || !number(env("LISTEN_FDS"), count) || count <= 0)
    throw Error(ErrorKind::usage, where + ": no sockets passed (LISTEN_PID/LISTEN_FDS not set; run under systemd or systemd-socket-activate)");
  if (pid != ::getpid())
    throw Error(ErrorKind::usage, where + ": LISTEN_PID=" + std::to_string(pid) + " is not our pid " + std::to_string(::getpid()));
  std::string names = env("LISTEN_FDNAMES");
  int chosen = -1;
  if (name.empty()) {
    chosen = k_listen_fds_start;
  } else {
    std::size_t start = 0;
    for (int i = 0; i < count; ++i) {
      std::size_t end = names.find(':', start);
      std::string n = names.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (n == name) {
        chosen = k_listen_fds_start + i;
        break;
      }
      if (end == std::string::npos) break;
      start = end + 1;
    }
    if (chosen < 0)
      throw Error(ErrorKind::usage, where + ": no passed socket has that name (LISTEN_FDNAMES=" + names + ")");
  }
  // The other passed fds are not ours to use: keep them out of handlers.
  for (int i = 0; i < count; ++i) set_cloexec(k_listen_fds_start + i);
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  return chosen;
}

bool sd_notify(std::string_view state) {
  std::string path = env("NOTIFY_SOCKET");
  if (path.empty()) return true;
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  if (path.size() >= sizeof sun.sun_path) return false;
  std::memcpy(sun.sun_path, path.data(), path.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  if (path[0] == '@') {
    sun.sun_path[0] = '\0';  // abstract namespace
  } else {
    ++len;  // include the terminating NUL
  }
  Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  return ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&sun), len) ==
         static_cast<ssize_t>(state.size());
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  unsigned long long usec = 0;
  if (!number(env("WATCHDOG_USEC"), usec) || usec == 0) return std::nullopt;
  std::string wpid = env("WATCHDOG_PID");
  long pid = 0;
  if (!wpid.empty() && (!number(wpid, pid) || pid != ::getpid())) return std::nullopt;
  return std::chrono::microseconds(usec / 2);
}

}  // namespace ipc
