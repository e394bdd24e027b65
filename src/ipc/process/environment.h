#pragma once
/// The base environment handlers run with (man/ipcat.1, HANDLER ENVIRONMENT): ours, minus what belongs
/// to the server alone (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, NOTIFY_SOCKET,
/// WATCHDOG_PID, WATCHDOG_USEC) and minus the names ipcat sets per request or worker
/// (PROTO, UNIX*, TCP*, IPCAT_*), which always replace inherited ones; or, with
/// clear, only the names in `pass` (still without those).

#include <string>
#include <vector>

namespace ipc {

std::vector<std::string> handler_environment(bool clear, const std::vector<std::string>& pass);

}  // namespace ipc
