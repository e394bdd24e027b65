#pragma once
/// StopSignals and wait_fd — waiting on a descriptor until a Deadline, stoppable by
/// SIGINT/SIGTERM/SIGHUP without races.
///
/// The FIFO commands block for long times (a reader waiting for writers, a sender
/// waiting for room in the pipe) and must still end cleanly on SIGINT/SIGTERM/SIGHUP:
/// finish the message in hand, remove a FIFO they created, then go. A flag set by a
/// handler and checked before a blocking call has a window where the signal is lost
/// and the call blocks forever. StopSignals closes it the pselect way: the stop
/// signals stay blocked, and are unblocked only atomically inside ppoll(), so a
/// signal either arrives before the wait (pending, delivered as the wait starts) or
/// during it (EINTR); both end the wait with Wait::stopped.
///
///   blocked ──ppoll(mask without stop signals)──► EINTR ──► received() != 0

#include <poll.h>
#include <signal.h>

#include <chrono>
#include <csignal>
#include <initializer_list>
#include <optional>
#include <utility>
#include <vector>

#include "ipc/base/deadline.h"

namespace ipc {

/// Blocks the given signals in the calling thread and records the first one that
/// arrives. One instance at a time per process (the handler writes a static flag).
/// The destructor restores the previous handlers and signal mask. Once a stop was
/// received, the same signals still pending are taken first: a repeated stop is the
/// same stop (`timeout`, `kill -- -PGID` after `kill PID`, a double Ctrl-C), not a
/// death by the default action during the clean-up the first one started.
class StopSignals {
 public:
  explicit StopSignals(std::initializer_list<int> signals = {SIGINT, SIGTERM, SIGHUP});
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  ~StopSignals();

  /// The stop signal received, or 0. Also takes a stop signal that is pending: one
  /// that ppoll() never delivered because a descriptor was always ready first.
  int received() const noexcept;
  /// The mask to wait with: the caller's mask with the stop signals unblocked.
  const sigset_t* wait_mask() const noexcept { return &m_wait_mask; }
  /// Dies by the received signal (default action, unblocked), as a shell expects of a
  /// command that was interrupted. Does nothing when no signal was received. Call it
  /// after cleaning up: no destructor runs.
  void reraise() const;
  /// For a command whose stop is a normal end (fifo-recv --follow): once a stop was
  /// received, the destructor leaves the stop signals ignored instead of restoring
  /// them, so a repeat arriving while the process exits (timeout(1) signals the child
  /// and then its whole group) cannot turn a clean exit into a death by the signal.
  void ignore_repeats() noexcept { m_ignore_repeats = true; }

 private:
  sigset_t m_old_mask{};
  sigset_t m_wait_mask{};
  sigset_t m_stop_set{};
  std::vector<std::pair<int, struct sigaction>> m_old_actions;
  bool m_ignore_repeats = false;
};

enum class Wait { ready, timeout, stopped };

/// Waits until `fd` is ready for `events` (POLLIN / POLLOUT; errors and hang-ups count
/// as ready: the next read/write reports them), the deadline passes, or a stop signal
/// arrives. fd < 0 just sleeps until the deadline. EINTR from other signals is retried.
Wait wait_fd(int fd, short events, const Deadline& deadline, const StopSignals* stop);


}  // namespace ipc
