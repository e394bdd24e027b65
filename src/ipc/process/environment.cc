#include "ipc/process/environment.h"

#include <algorithm>
#include <array>
#include <string_view>

extern char** environ;

namespace ipc {

std::vector<std::string> handler_environment(bool clear, const std::vector<std::string>& pass) {
  static constexpr std::array<std::string_view, 6> k_server_only = {
      "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "WATCHDOG_PID", "WATCHDOG_USEC"};
  // What ipcat sets itself (UCSPI names, IPCAT_*): an inherited copy must never
  // be seen first, or be taken for the peer's (UNIXREMOTEEUID=0 from whoever
  // started the server). Removed even when --pass-env names them.
  static constexpr std::array<std::string_view, 12> k_ours = {
      "PROTO",       "UNIXLOCALPATH", "UNIXREMOTEEUID", "UNIXREMOTEEGID", "UNIXREMOTEPID", "TCPLOCALIP",
      "TCPLOCALPORT", "TCPREMOTEIP",  "TCPREMOTEPORT",  "IPCAT_WORKER",   "IPCAT_REQUEST", "IPCAT_CONNECTION"};
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    if (std::find(k_server_only.begin(), k_server_only.end(), name) != k_server_only.end()) continue;
    if (std::find(k_ours.begin(), k_ours.end(), name) != k_ours.end()) continue;
    if (clear && std::find(pass.begin(), pass.end(), name) == pass.end()) continue;
    env.emplace_back(entry);
  }
  return env;
}

}  // namespace ipc
