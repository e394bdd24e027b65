#pragma once
/// systemd integration without libsystemd: socket activation (LISTEN_FDS) and
/// sd_notify (READY=1, STOPPING=1, WATCHDOG=1) over the NOTIFY_SOCKET datagram.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ipc {

/// The activated socket named `name` (LISTEN_FDNAMES), or the first one when
/// `name` is empty. Honoured only when LISTEN_PID is our pid; LISTEN_PID,
/// LISTEN_FDS and LISTEN_FDNAMES are unset afterwards. Throws Error{usage}
/// saying what is missing.
int systemd_listen_fd(const std::string& name);

/// Sends `state` ("READY=1\nMAINPID=...") to $NOTIFY_SOCKET (a path, or @name for
/// the abstract namespace). Does nothing when NOTIFY_SOCKET is unset. Returns
/// false when the send failed.
bool sd_notify(std::string_view state);

/// The interval at which to send WATCHDOG=1 (half of WATCHDOG_USEC), when the
/// service manager asked for it and WATCHDOG_PID (if set) is our pid.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace ipc
