#pragma once
/// OutputWriter: writes a client's output (replies, events) to a file descriptor
/// that may block — a pipe whose reader stopped reading, a stopped terminal —
/// within a time limit (man/ipcat.1: --timeout covers a blocked standard output).
///
/// poll(2) cannot tell how much a pipe takes without blocking, and the fd's
/// O_NONBLOCK flag belongs to every process that shares it, so a blocking write
/// is interrupted instead: an interval timer (ITIMER_REAL, SIGALRM with a handler
/// installed without SA_RESTART) fires at the limit and write(2) returns early.
/// A regular file never blocks: it is written directly, with no timer.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ipc {

class OutputWriter {
 public:
  using Clock = std::chrono::steady_clock;
  /// `what` names the output in messages ("stdout").
  OutputWriter(int fd, std::string what);

  /// Writes all of `data`. With `limit`, gives up when no byte could be written for
  /// that long (Error{timeout}); a reader that went away is Error{io} (EPIPE).
  void write_all(std::string_view data, std::optional<std::chrono::milliseconds> limit);
  /// As write_all(), but the limit is a point in time (a whole-command deadline).
  void write_all_until(std::string_view data, Clock::time_point deadline);

 private:
  void write_loop(std::string_view data, std::optional<std::chrono::milliseconds> limit,
                  std::optional<Clock::time_point> deadline);

  int m_fd;
  std::string m_what;
  bool m_may_block;
};

}  // namespace ipc
