// ipcat pidfile-run [OPTIONS] PIDFILE [--] COMMAND [ARG...]  (man/ipcat.1, ipcat pidfile-run)
//
//   parse ─► find COMMAND (127/126) ─► Pidfile::acquire (75/-E, 73, 77)
//     ├─ --exec: write our pid ─► keep the lock fd across exec ─► become COMMAND
//     └─ signalfd(TERM INT HUP QUIT USR1 USR2, less those ignored at start)
//          ─► spawn COMMAND (keeps the lock fd; on a terminal: in our process group)
//          ─► write its pid ─► forward signals to its group until it exits
//          ─► remove the pidfile, unlock ─► exit with its status (128+N for signal N)

#include <fcntl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "ipc/process/child.h"
#include "ipc/base/error.h"
#include "ipc/process/pidfile.h"

namespace cli {
// Named, so that the CLI builds as one unity file (CMakeLists.txt: start-up cost).
namespace pidfile_run_detail {
namespace {

constexpr const char* k_name = "pidfile-run";
// Shell conventions for a command that cannot be run.
constexpr int k_not_executable = 126;
constexpr int k_not_found = 127;

constexpr const char* k_description =
    "Run COMMAND holding an exclusive lock on PIDFILE, so that it never runs twice.\n\n"
    "The lock is flock(2) on PIDFILE (created 0644, parent directories made), the\n"
    "lock util-linux flock(1) takes. The lock, not the pid, is the truth: a file left\n"
    "behind with a dead or reused pid never blocks. Options are read up to PIDFILE;\n"
    "everything after it (after an optional --) is the command.\n";

constexpr const char* k_footer =
    "PIDFILE holds COMMAND's pid and a newline, fsync'd, written by the new process\n"
    "itself before it executes COMMAND: whoever reads the file while COMMAND runs\n"
    "finds its pid (the file is empty, and already locked, only before). TERM INT HUP QUIT USR1\n"
    "USR2 are forwarded to COMMAND's process group. COMMAND inherits the locked\n"
    "descriptor: if ipcat itself is killed, COMMAND keeps the lock.\n"
    "When COMMAND exits, the pidfile is removed (only if the path still names the\n"
    "file that was locked), then the lock is released. Processes COMMAND left in the\n"
    "background are not killed, but no longer count: they stop holding the lock.\n\n"
    "--exec: PIDFILE gets ipcat's own pid and ipcat becomes COMMAND (same pid), the\n"
    "locked descriptor left open in it; the lock ends with COMMAND. The file is not\n"
    "removed then: the lock, not the file, tells whether it runs.\n\n"
    "PIDFILE is opened without following a symlink. A symlink, anything but a\n"
    "regular file, or a file holding anything but nothing or one pid line is refused\n"
    "(73) and left untouched.\n\n"
    "Like flock(1): -w 0 does not wait; signals ignored when ipcat starts (nohup) are\n"
    "neither caught nor forwarded; when stdin is a terminal, COMMAND stays in ipcat's\n"
    "process group, so it can read the terminal and Ctrl-C / Ctrl-Z reach it.\n\n"
    "Exit status: COMMAND's, or 128+N when it was killed by signal N; 75 lock held\n"
    "(or -E N); 127 COMMAND not found; 126 COMMAND not executable; 73 cannot create\n"
    "PIDFILE, or it is not a pidfile; 77 permission denied; 64 usage.";

// CLI11 cannot describe "PIDFILE [--] COMMAND [ARG...]" (parsed by hand below).
class Formatter : public HelpFormatter {
 public:
  std::string make_usage(const CLI::App*, std::string) const override {
    return "Usage: ipcat pidfile-run [OPTIONS] PIDFILE [--] COMMAND [ARG...]\n";
  }
};

struct Options {
  std::optional<Seconds> wait;
  int conflict_exit_code = k_temp_fail;
  bool exec = false;
  bool quiet = false;
  std::string pidfile;
  std::vector<std::string> command;
};

// CLI11 stops at the first positional (prefix_command); split what is left into
// PIDFILE [--] COMMAND [ARG...].
std::optional<int> split_positionals(std::vector<std::string> rest, Options& o) {
  auto it = rest.begin();
  if (it != rest.end() && *it == "--") {
    ++it;
  } else if (it != rest.end() && it->size() > 1 && (*it)[0] == '-') {
    report(k_name, "unknown option " + *it + " (see 'ipcat pidfile-run --help')");
    return k_usage;
  }
  if (it == rest.end()) {
    report(k_name, "PIDFILE and COMMAND are required (see 'ipcat pidfile-run --help')");
    return k_usage;
  }
  o.pidfile = *it++;
  if (it != rest.end() && *it == "--") ++it;
  if (it == rest.end()) {
    report(k_name, "COMMAND is required (see 'ipcat pidfile-run --help')");
    return k_usage;
  }
  o.command.assign(it, rest.end());
  return std::nullopt;
}

// -w SEC: a wait, so 0 does not wait (flock -w 0; man/ipcat.1, "Durations").
std::chrono::milliseconds lock_wait(const Options& o) {
  if (!o.wait || o.wait->is_zero()) return ipc::Pidfile::k_no_wait;
  return o.wait->duration();
}

constexpr int k_forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

bool ignored(int sig) {
  struct sigaction current {};
  return ::sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_IGN;
}

// Whether COMMAND should stay in our process group: stdin is a terminal, so that it
// can read it and the terminal's Ctrl-C / Ctrl-Z reach it (flock(1) never makes a group).
bool on_terminal() { return ::isatty(STDIN_FILENO) == 1; }

int command_failure(const ipc::Error& e) {
  report(k_name, e.what());
  if (e.kind() == ipc::ErrorKind::not_found) return k_not_found;
  if (e.kind() == ipc::ErrorKind::permission) return k_not_executable;
  return exit_code_for(e.kind());
}

// Becomes COMMAND; returns only when exec failed (the pidfile is then removed).
int exec_command(ipc::Pidfile& pidfile, const std::string& executable,
                 const std::vector<std::string>& argv) {
  pidfile.write_pid(::getpid());
  int flags = ::fcntl(pidfile.fd(), F_GETFD);
  if (flags < 0 || ::fcntl(pidfile.fd(), F_SETFD, flags & ~FD_CLOEXEC) < 0) {
    ipc::throw_errno(pidfile.path() + ": fcntl", errno);
  }
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::fflush(nullptr);
  ::execv(executable.c_str(), args.data());
  int err = errno;
  report(k_name, executable + ": cannot execute: " + ipc::errno_text(err));
  return err == ENOENT ? k_not_found : k_not_executable;
}

// Runs COMMAND as our child and waits for it, forwarding signals.
int run_command(ipc::Pidfile& pidfile, const std::string& executable,
                const std::vector<std::string>& argv) {
  boost::asio::io_context io;
  // Blocked and read from a signalfd, set up before the spawn: a signal that arrives
  // right after it is queued and forwarded, not lost (nor fatal to us while the
  // pidfile is still there). Those ignored at start (nohup) stay ignored: neither
  // caught nor forwarded. The child unblocks them all before it executes COMMAND.
  sigset_t caught;
  sigemptyset(&caught);
  for (int sig : k_forwarded) {
    if (!ignored(sig)) sigaddset(&caught, sig);
  }
  ::sigprocmask(SIG_BLOCK, &caught, nullptr);
  int sfd = ::signalfd(-1, &caught, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) ipc::throw_errno("signalfd", errno);
  boost::asio::posix::stream_descriptor signals(io, sfd);

  const bool same_group = on_terminal();
  ipc::SpawnOptions spawn;
  spawn.executable = executable;
  spawn.argv = argv;
  spawn.own_process_group = !same_group;
  // Like flock(1): the lock stays held while COMMAND lives, even if we are SIGKILLed.
  spawn.keep_fd = pidfile.fd();
  spawn.pid_file_fd = pidfile.fd();  // the child writes its pid before it execs
  // What was ignored at start (nohup) stays ignored for COMMAND, as with flock(1).
  for (int sig : k_forwarded) {
    if (ignored(sig)) sigaddset(&spawn.keep_ignored, sig);
  }
  std::unique_ptr<ipc::Child> child;
  try {
    child = ipc::Child::spawn(io.get_executor(), spawn);
  } catch (const ipc::Error& e) {
    return command_failure(e);
  }
  pidfile.write_pid(child->pid());

  std::optional<ipc::ExitStatus> status;
  signalfd_siginfo info{};
  std::function<void(const boost::system::error_code&, std::size_t)> forward =
      [&](const boost::system::error_code& ec, std::size_t n) {
        // A signal already queued when the child exited must not re-arm the wait.
        if (ec || status) return;
        // In our process group, what the terminal sends (SI_KERNEL: Ctrl-C, a hangup)
        // has reached COMMAND already; only what someone sent us is passed on.
        if (n == sizeof info && !(same_group && info.ssi_code == SI_KERNEL))
          child->signal(static_cast<int>(info.ssi_signo));
        signals.async_read_some(boost::asio::buffer(&info, sizeof info), forward);
      };
  signals.async_read_some(boost::asio::buffer(&info, sizeof info), forward);
  // kill_group=false: flock(1) kills nothing, and neither do we; what COMMAND put in
  // the background outlives it (without the lock, see Pidfile::release()).
  child->async_wait(
      [&](ipc::ExitStatus s) {
        status = s;
        signals.cancel();
      },
      false);
  io.run();
  // They stay blocked until we exit: a TERM now must not kill us with the pidfile
  // still there, nor replace COMMAND's status with ours after it.
  pidfile.release();
  if (!status) throw ipc::Error(ipc::ErrorKind::internal, "lost track of the command");
  return status->shell_status();
}

}  // namespace
}  // namespace pidfile_run_detail

int cmd_pidfile_run(int argc, char** argv) {
  using namespace pidfile_run_detail;  // this file's own helpers
  Options o;
  auto app = make_app(k_name, k_description);
  add_seconds(*app, "-w,--wait", o.wait, "Wait up to SEC seconds for the lock (0: do not wait)");
  app->add_option("-E,--conflict-exit-code", o.conflict_exit_code,
                  "Exit status when the lock is held (default 75)")
      ->type_name("N")
      ->check(CLI::Range(0, 255));
  app->add_flag("--exec", o.exec, "Become COMMAND (same pid) instead of running it as a child");
  app->add_flag("-q,--quiet", o.quiet, "Print nothing when the lock is held (the exit status tells)");
  auto formatter = std::make_shared<Formatter>();
  formatter->column_width(32);
  app->formatter(formatter);
  app->footer(k_footer);
  app->prefix_command();
  if (auto stop = parse(*app, argc, argv)) return *stop;
  if (auto stop = split_positionals(app->remaining(), o)) return *stop;

  try {
    // Before locking: a mistyped command creates no pidfile.
    std::string executable;
    try {
      executable = ipc::find_executable(o.command.front());
    } catch (const ipc::Error& e) {
      return command_failure(e);
    }
    std::optional<ipc::Pidfile> pidfile;
    try {
      pidfile = ipc::Pidfile::acquire(o.pidfile, lock_wait(o));
    } catch (const ipc::Error& e) {
      if (e.kind() != ipc::ErrorKind::lock_held) throw;
      if (!o.quiet) report(k_name, e.what());
      return o.conflict_exit_code;
    }
    if (o.exec) return exec_command(*pidfile, executable, o.command);
    return run_command(*pidfile, executable, o.command);
  } catch (...) {
    return fail(k_name);
  }
}

}  // namespace cli
