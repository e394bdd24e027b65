#pragma once
/// write_all — one whole buffer to a descriptor, blocking or not, stoppable by the
/// stop signals (stop_signals.h); used for stdout and FIFOs.

#include <cstddef>
#include <string_view>

#include "ipc/base/stop_signals.h"

namespace ipc {

/// Writes all of `data` to `fd`, blocking or not (EAGAIN waits for POLLOUT), across
/// short writes and EINTR. `name` is what messages call the descriptor. Returns the
/// number of write() calls made. Throws Error: io ("NAME: broken pipe" when the reader
/// is gone; the caller must ignore SIGPIPE), or io "NAME: interrupted" when a stop
/// signal arrived (the caller tells it from a failure by stop->received()).
std::size_t write_all(int fd, std::string_view data, std::string_view name,
                      const StopSignals* stop);

/// The Error thrown when a stop signal ended a blocking call on `name`.
[[noreturn]] void throw_interrupted(std::string_view name);

}  // namespace ipc
