#include "ipc/process/child.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/posix/default_launcher.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "ipc/base/error.h"

extern char** environ;

namespace bp2 = boost::process::v2;

namespace ipc {
namespace {

/// Runs in the child between fork and exec: only async-signal-safe calls.
struct ChildSetup {
  bool own_group;
  int keep_fd;
  int pid_file_fd;
  sigset_t keep_ignored;

  // After a failed exec, in the child: _exit, never exit() (atexit handlers and
  // stdio buffers belong to the parent's copy of the program). The launcher has
  // already sent errno to the parent, which reports it.
  template <typename Launcher>
  void on_exec_error(Launcher&, const bp2::filesystem::path&, const char* const*&, const bp2::error_code&) const {
    ::_exit(127);
  }
  // Boost 1.81 detects the hook above through this (unevaluated) five-argument form.
  template <typename Launcher>
  void on_exec_error(Launcher&, const bp2::error_code&, const bp2::filesystem::path&, const char* const*&,
                     const bp2::error_code&) const;

  // Async-signal-safe "PID\n" into the pidfile (no snprintf, no allocation).
  static void write_own_pid(int fd) {
    char buf[24];
    char* end = buf + sizeof buf;
    char* p = end;
    *--p = '\n';
    for (long v = ::getpid(); v > 0; v /= 10) *--p = static_cast<char>('0' + v % 10);
    auto len = static_cast<std::size_t>(end - p);
    if (::pwrite(fd, p, len, 0) == static_cast<ssize_t>(len)) {
      [[maybe_unused]] int rc = ::ftruncate(fd, static_cast<off_t>(len));
      ::fsync(fd);
    }
  }

  template <typename Launcher>
  bp2::error_code on_exec_setup(Launcher&, const bp2::filesystem::path&, const char* const*) const {
    // Dispositions set to SIG_IGN (SIGPIPE in the server) survive exec: reset them all.
    // (Except those the caller keeps ignored: nohup's HUP.)
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sigismember(&keep_ignored, sig) != 1) ::sigaction(sig, &dfl, nullptr);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Our own group, so a timeout can kill the handler and all it started.
    if (own_group) ::setpgid(0, 0);
    // Boost.Process 1.81 does not reliably close inherited fds: make every fd >= 3
    // close-on-exec (stdio was already dup2'd onto 0-2).
    if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
      for (int fd = 3; fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    if (keep_fd >= 0) ::fcntl(keep_fd, F_SETFD, 0);
    if (pid_file_fd >= 0) write_own_pid(pid_file_fd);
    return {};
  }
};

int open_dev_null() {
  static int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  return fd;
}

int stdio_fd(int fd, int target) {
  if (fd == SpawnOptions::k_inherit) return target;
  if (fd < 0) return open_dev_null();
  return fd;
}

void ensure_sigchld_default() {
  // An inherited SIG_IGN for SIGCHLD makes the kernel reap children itself, and
  // waitpid() then fails: restore the default once (spawns may come from several
  // threads: serve --threads; a static's initialisation runs exactly once).
  static const bool k_reset = [] {
    struct sigaction old {};
    ::sigaction(SIGCHLD, nullptr, &old);
    if (old.sa_handler == SIG_IGN) {
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      ::sigaction(SIGCHLD, &dfl, nullptr);
    }
    return true;
  }();
  (void)k_reset;
}

}  // namespace

std::string ExitStatus::describe() const {
  if (signal != 0) {
    const char* name = sigabbrev_np(signal);
    return "killed by signal " + std::to_string(signal) + (name ? std::string(" (SIG") + name + ")" : "");
  }
  return "exit status " + std::to_string(code);
}

std::string find_executable(const std::string& name) {
  if (name.empty()) throw Error(ErrorKind::not_found, "empty command name");
  auto check = [&](const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return false;
    if (S_ISDIR(st.st_mode)) throw Error(ErrorKind::permission, path + ": is a directory");
    if (::access(path.c_str(), X_OK) != 0) throw Error(ErrorKind::permission, path + ": not executable");
    return true;
  };
  if (name.find('/') != std::string::npos) {
    if (!check(name)) throw Error(ErrorKind::not_found, name + ": command not found");
    return name;
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::optional<Error> denied;
  while (true) {
    auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (dir.empty()) dir = ".";
    std::string candidate = std::move(dir);
    candidate += '/';
    candidate += name;
    try {
      if (check(candidate)) return candidate;
    } catch (const Error& e) {
      if (!denied) denied = e;  // keep looking; report it if nothing better turns up
    }
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  if (denied) throw *denied;
  throw Error(ErrorKind::not_found, name + ": command not found");
}

Child::Child(const boost::asio::any_io_executor& executor, pid_t pid, bool own_group)
    : m_pid(pid), m_own_group(own_group), m_executor(executor) {
  // pidfd_open(2) sets close-on-exec itself.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    m_pidfd = std::make_unique<boost::asio::posix::stream_descriptor>(executor, pidfd);
  }
}

namespace {

[[noreturn]] void throw_exec_error(const std::string& executable, int err) {
  ErrorKind kind = err == ENOENT ? ErrorKind::not_found
                   : (err == EACCES || err == ENOEXEC || err == EISDIR) ? ErrorKind::permission
                                                                        : kind_from_errno(err);
  throw Error(kind, executable + ": cannot execute: " + errno_text(err));
}

/// RAII for posix_spawn's two attribute objects.
struct SpawnAttributes {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnAttributes() {
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawnattr_init(&attr);
  }
  ~SpawnAttributes() {
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attr);
  }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
};

/// The handler path: no code of ours runs in the child, so glibc's posix_spawn
/// (clone with CLONE_VM|CLONE_VFORK) does the same set-up as ChildSetup — stdio,
/// every fd >= 3 closed, signal mask and dispositions reset, own process group —
/// without copying the server's page tables. Exec errors come back as its result,
/// and glibc reaps a child whose exec failed.
pid_t spawn_posix(const SpawnOptions& options, const char* const* envp) {
  SpawnAttributes sa;
  const int fds[3] = {stdio_fd(options.stdin_fd, 0), stdio_fd(options.stdout_fd, 1), stdio_fd(options.stderr_fd, 2)};
  for (int target = 0; target < 3; ++target) {
    if (fds[target] != target) ::posix_spawn_file_actions_adddup2(&sa.actions, fds[target], target);
  }
  ::posix_spawn_file_actions_addclosefrom_np(&sa.actions, 3);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (options.own_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    ::posix_spawnattr_setpgroup(&sa.attr, 0);
  }
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(&options.keep_ignored, sig) == 1) sigdelset(&all, sig);
  }
  ::posix_spawnattr_setsigmask(&sa.attr, &none);
  ::posix_spawnattr_setsigdefault(&sa.attr, &all);
  ::posix_spawnattr_setflags(&sa.attr, flags);
  std::vector<char*> argv;
  argv.reserve(options.argv.size() + 1);
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, options.executable.c_str(), &sa.actions, &sa.attr, argv.data(),
                         const_cast<char* const*>(envp != nullptr ? envp : environ));
  if (rc != 0) throw_exec_error(options.executable, rc);
  return pid;
}

}  // namespace

std::unique_ptr<Child> Child::spawn(const boost::asio::any_io_executor& executor, const SpawnOptions& options) {
  ensure_sigchld_default();
  std::fflush(nullptr);  // or buffered output is written twice, by parent and child

  std::vector<const char*> env_pointers;
  if (options.env) {
    env_pointers.reserve(options.env->size() + 1);
    for (const auto& e : *options.env) env_pointers.push_back(e.c_str());
    env_pointers.push_back(nullptr);
  }
  if (options.keep_fd < 0 && options.pid_file_fd < 0) {
    pid_t pid = spawn_posix(options, options.env ? env_pointers.data() : nullptr);
    return std::unique_ptr<Child>(new Child(executor, pid, options.own_process_group));
  }

  std::vector<std::string> args(options.argv.begin() + (options.argv.empty() ? 0 : 1), options.argv.end());
  bp2::posix::default_launcher launcher;
  if (options.env) launcher.env = env_pointers.data();
  bp2::error_code ec;
  auto proc = launcher(executor, ec, bp2::filesystem::path(options.executable), args,
                       bp2::process_stdio{stdio_fd(options.stdin_fd, 0), stdio_fd(options.stdout_fd, 1),
                                          stdio_fd(options.stderr_fd, 2)},
                       ChildSetup{options.own_process_group, options.keep_fd, options.pid_file_fd,
                                  options.keep_ignored});
  int launched_pid = launcher.pid;
  if (ec) {
    // The child exited after its exec failed: reap it, or it stays a zombie.
    if (launched_pid > 0) {
      int st = 0;
      while (::waitpid(launched_pid, &st, 0) < 0 && errno == EINTR) {
      }
    }
    throw_exec_error(options.executable, ec.value());
  }
  pid_t pid = proc.id();
  proc.detach();  // we own the pid from here: Child waits, kills and reaps it
  return std::unique_ptr<Child>(new Child(executor, pid, options.own_process_group));
}

Child::~Child() { kill_and_reap(); }

void Child::signal(int sig) const noexcept {
  if (!running()) return;
  if (m_own_group) {
    ::kill(-m_pid, sig);
  } else {
    ::kill(m_pid, sig);
  }
}

void Child::reap(bool kill_group) {
  if (!running()) return;
  // The child is a zombie (or about to be) and not reaped: its pid, and so its
  // process group id, cannot be reused yet. Kill what is left of the group now.
  if (kill_group && m_own_group) ::kill(-m_pid, SIGKILL);
  int st = 0;
  pid_t r;
  while ((r = ::waitpid(m_pid, &st, 0)) < 0 && errno == EINTR) {
  }
  ExitStatus s;
  if (r == m_pid) {
    if (WIFSIGNALED(st)) {
      s.signal = WTERMSIG(st);
    } else {
      s.code = WEXITSTATUS(st);
    }
  }
  m_status = s;
  m_pidfd.reset();
}

void Child::async_wait(std::function<void(ExitStatus)> done, bool kill_group) {
  if (m_status) {
    done(*m_status);
    return;
  }
  if (!m_pidfd) {
    // pidfd_open failed (out of descriptors, or a very old kernel). Blocking here
    // would freeze the whole server, possibly for good (a handler waiting for the
    // stdin only the event loop writes): poll instead.
    poll_exit(std::move(done), kill_group);
    return;
  }
  m_pidfd->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this, done = std::move(done), kill_group](const boost::system::error_code& ec) mutable {
                        if (ec) return;  // cancelled: the Child is being destroyed
                        // waitid(WNOWAIT) tells us it exited without reaping it. WNOHANG:
                        // a wake-up can be spurious (a stale event for a reused fd
                        // number); then we simply wait again, never block the loop.
                        siginfo_t info{};
                        int rc = ::waitid(P_PID, static_cast<id_t>(m_pid), &info, WEXITED | WNOWAIT | WNOHANG);
                        if (rc == 0 && info.si_pid == 0) {
                          async_wait(std::move(done), kill_group);
                          return;
                        }
                        reap(kill_group);
                        done(*m_status);
                      });
}

void Child::poll_exit(std::function<void(ExitStatus)> done, bool kill_group) {
  siginfo_t info{};
  int rc = ::waitid(P_PID, static_cast<id_t>(m_pid), &info, WEXITED | WNOWAIT | WNOHANG);
  if (rc != 0 || info.si_pid != 0) {
    reap(kill_group);
    done(*m_status);
    return;
  }
  if (!m_poll) m_poll = std::make_unique<boost::asio::steady_timer>(m_executor);
  m_poll->expires_after(std::chrono::milliseconds(20));
  m_poll->async_wait([this, done = std::move(done), kill_group](const boost::system::error_code& ec) mutable {
    if (ec) return;  // cancelled: the Child is being destroyed
    poll_exit(std::move(done), kill_group);
  });
}

ExitStatus Child::wait(bool kill_group) {
  if (!m_status) {
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(m_pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
    }
    reap(kill_group);
  }
  return *m_status;
}

void Child::kill_and_reap() noexcept {
  if (!running()) return;
  signal(SIGKILL);
  if (!m_own_group) ::kill(m_pid, SIGKILL);
  int st = 0;
  while (::waitpid(m_pid, &st, 0) < 0 && errno == EINTR) {
  }
  m_status = ExitStatus{-1, SIGKILL};
  m_pidfd.reset();
  m_poll.reset();
}

}  // namespace ipc
