#pragma once
/// Child — one spawned process, owned: the only place in ipcat that spawns.
///
/// Handlers (no pre-exec hook needed) are started with posix_spawn(3): glibc's
/// vfork-style clone does not copy the server's page tables, which makes a
/// process per request several times cheaper than fork. Anything that needs code
/// run in the child before exec (keep_fd, pid_file_fd) goes through Boost.Process
/// v2 (1.81) with the fixes it needs on this platform: every inherited fd >= 3 is made close-on-exec in the child, the signal
/// mask and dispositions are reset, the child gets its own process group, stdio is
/// flushed before fork, SIGCHLD is not left ignored, and a child whose exec failed
/// is reaped at once (no zombie).
///
/// Waiting uses a pidfd, so the exit is seen *before* the child is reaped: the
/// process group is still reserved then and can be killed without any risk of
/// hitting a recycled pid (that is how grandchildren are cleaned up).
///
/// The destructor of a child still running kills its process group with SIGKILL
/// and reaps it: a forgotten Child never leaves a zombie or an orphan.

#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "ipc/base/fd.h"

namespace ipc {

/// How a child ended.
struct ExitStatus {
  int code = -1;   ///< exit status when it exited
  int signal = 0;  ///< the signal that killed it, or 0

  bool success() const noexcept { return signal == 0 && code == 0; }
  /// Shell convention: the exit status, or 128+N for signal N.
  int shell_status() const noexcept { return signal != 0 ? 128 + signal : code; }
  /// "exit status 3" / "killed by signal 9 (SIGKILL)".
  std::string describe() const;
};

struct SpawnOptions {
  std::string executable;         ///< an absolute or relative path (see find_executable)
  std::vector<std::string> argv;  ///< argv[0] included
  /// The child's environment as "NAME=value"; nullopt means inherit ours.
  std::optional<std::vector<std::string>> env;
  /// Descriptors for the child's 0, 1, 2; -1 means /dev/null, k_inherit means ours.
  int stdin_fd = k_inherit;
  int stdout_fd = k_inherit;
  int stderr_fd = k_inherit;
  /// Put the child in a process group of its own (so a group kill reaches grandchildren).
  bool own_process_group = true;
  /// Keep this fd open (not close-on-exec) in the child, at the same number; -1 for none.
  int keep_fd = -1;
  /// The child writes its own pid ("PID\n", fsync'd) into this file before exec, so
  /// a pidfile names the child before the child can run any code of its own; -1: none.
  int pid_file_fd = -1;
  /// Signals the child keeps ignored (every other disposition is reset to the
  /// default): pidfile-run passes on what was ignored when it started (nohup), as
  /// flock(1) does. Empty by default.
  sigset_t keep_ignored = empty_signal_set();

  static constexpr int k_inherit = -2;
  static sigset_t empty_signal_set() noexcept {
    sigset_t s;
    sigemptyset(&s);
    return s;
  }
};

/// Looks `name` up in PATH (a name with '/' is taken as given). Throws Error:
/// not_found (127 in shell terms) or permission (not executable, 126).
std::string find_executable(const std::string& name);

class Child {
 public:
  /// Spawns. Throws Error naming the executable and the cause when exec fails.
  /// Held by pointer: a pending async_wait refers to the object, so it never moves.
  static std::unique_ptr<Child> spawn(const boost::asio::any_io_executor& executor,
                                      const SpawnOptions& options);

  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  pid_t pid() const noexcept { return m_pid; }
  bool running() const noexcept { return m_pid > 0 && !m_status; }
  const std::optional<ExitStatus>& status() const noexcept { return m_status; }

  /// Sends `sig` to the child's process group (or the child when it has none).
  void signal(int sig) const noexcept;

  /// Calls `done` once the child has exited; it is reaped then. When `kill_group`
  /// is set, whatever is left in its process group is killed first (with SIGKILL).
  /// The callback runs on the executor; it is dropped if the Child is destroyed first.
  /// Never blocks: without a pidfd (pidfd_open failed, e.g. EMFILE) the exit is polled
  /// on a timer instead.
  void async_wait(std::function<void(ExitStatus)> done, bool kill_group = true);

  /// Blocks until the child exits and reaps it.
  ExitStatus wait(bool kill_group = true);

 private:
  Child(const boost::asio::any_io_executor& executor, pid_t pid, bool own_group);
  void reap(bool kill_group);
  void kill_and_reap() noexcept;
  void poll_exit(std::function<void(ExitStatus)> done, bool kill_group);

  pid_t m_pid = -1;
  bool m_own_group = true;
  std::optional<ExitStatus> m_status;
  boost::asio::any_io_executor m_executor;
  std::unique_ptr<boost::asio::posix::stream_descriptor> m_pidfd;
  std::unique_ptr<boost::asio::steady_timer> m_poll;  // only when there is no pidfd
};

}  // namespace ipc
