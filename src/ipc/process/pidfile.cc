#include "ipc/process/pidfile.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <thread>
#include <utility>

#include "ipc/base/error.h"
#include "ipc/base/files.h"

namespace ipc {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Polling interval while waiting for a holder: short enough to honour a timeout
// within a few tens of milliseconds, long enough to cost nothing.
constexpr milliseconds k_poll_min{5};
constexpr milliseconds k_poll_max{40};

[[noreturn]] void throw_create(const std::string& path, const std::string& what, int err) {
  throw Error(create_error_kind(err), path + ": " + what + ": " + errno_text(err));
}

// The largest file that can still be "one pid line" (a pid, blanks, a newline).
constexpr off_t k_max_pidfile_size = 64;

[[noreturn]] void throw_refused(const std::string& path, const std::string& why) {
  throw Error(ErrorKind::cannot_create, path + ": " + why + "; refused, left untouched");
}

// Opens (creating it 0644 if missing) the file at `path`, close-on-exec. Never through
// a symlink (O_NOFOLLOW; O_EXCL does not follow one either), and never anything but
// a regular file: a device or FIFO is not even opened.
Fd open_file(const std::string& path) {
  constexpr int k_flags = O_RDWR | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK;
  for (int attempt = 0;; ++attempt) {
    Fd fd(::open(path.c_str(), k_flags | O_CREAT | O_EXCL, 0644));
    if (fd) {
      // The umask must not hide the pid from the readers a pidfile is for.
      struct stat st {};
      if (::fstat(fd.get(), &st) == 0 && (st.st_mode & 07777) != 0644) ::fchmod(fd.get(), 0644);
      return fd;
    }
    if (errno != EEXIST) throw_create(path, "cannot open", errno);
    // Something is there: look at it before opening it.
    struct stat named {};
    if (::lstat(path.c_str(), &named) != 0) {
      if (errno == ENOENT && attempt < 3) continue;  // removed meanwhile: create it
      throw_create(path, "cannot stat", errno);
    }
    if (S_ISLNK(named.st_mode)) throw_refused(path, "is a symbolic link");
    if (!S_ISREG(named.st_mode)) throw_refused(path, "not a regular file");
    fd.reset(::open(path.c_str(), k_flags));
    if (!fd) {
      int err = errno;
      if (err == ENOENT && attempt < 3) continue;
      if (err == ELOOP) throw_refused(path, "is a symbolic link");
      throw_create(path, "cannot open", err);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_create(path, "cannot stat", errno);
    if (!S_ISREG(st.st_mode)) throw_refused(path, "not a regular file");
    return fd;
  }
}

// Whether `path` itself (not a symlink's target) names the file open on `fd`.
bool names_same_file(const std::string& path, int fd, struct stat* out = nullptr) {
  struct stat opened {};
  struct stat named {};
  if (::fstat(fd, &opened) != 0 || ::lstat(path.c_str(), &named) != 0) return false;
  if (out) *out = opened;
  return opened.st_dev == named.st_dev && opened.st_ino == named.st_ino;
}

std::optional<pid_t> parse_pid(std::string_view text) {
  auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return std::nullopt;
  text.remove_prefix(first);
  long pid = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc{} || pid <= 0 || pid > 0x3fffffff) return std::nullopt;
  if (end != text.data() + text.size() && *end != '\n' && *end != ' ' && *end != '\t')
    return std::nullopt;
  return static_cast<pid_t>(pid);
}

std::optional<pid_t> read_pid_from(int fd) {
  char buf[32];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  if (n <= 0) return std::nullopt;
  return parse_pid(std::string_view(buf, static_cast<std::size_t>(n)));
}

// Empty (or blank), or one pid line: what a pidfile holds. Anything else is someone's
// data that a mistyped PIDFILE must not destroy.
bool looks_like_pidfile(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size > k_max_pidfile_size) return false;
  char buf[k_max_pidfile_size + 1];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  if (n < 0) return false;
  std::string_view text(buf, static_cast<std::size_t>(n));
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return true;  // empty: a holder before write_pid()
  auto last = text.find_last_not_of(" \t\r\n");
  std::string_view pid = text.substr(first, last + 1 - first);
  if (pid.find_first_not_of("0123456789") != std::string_view::npos) return false;
  // One line: nothing after the pid but blanks and at most one line end.
  std::string_view tail = text.substr(last + 1);
  return tail.find('\n') == tail.rfind('\n') && parse_pid(pid).has_value();
}

std::string seconds_text(milliseconds ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

[[noreturn]] void throw_held(const std::string& path, int fd,
                             std::optional<milliseconds> waited_for) {
  auto pid = read_pid_from(fd);
  std::string message =
      path + ": locked by " +
      (pid ? "pid " + std::to_string(*pid) : std::string("another process (no pid in the file)"));
  if (waited_for) message += " (gave up after " + seconds_text(*waited_for) + "s)";
  throw Error(ErrorKind::lock_held, message);
}

}  // namespace

Pidfile Pidfile::acquire(const std::string& path, milliseconds wait) {
  if (path.empty()) throw Error(ErrorKind::usage, "empty pidfile path");
  make_parent_directories(path);
  const bool forever = wait == k_wait_forever;
  const auto start = Clock::now();
  auto poll = k_poll_min;
  Fd fd;
  while (true) {
    if (!fd) fd = open_file(path);
    // Forever: block in the kernel, as flock(1) does. Bounded: poll, so the deadline holds.
    if (::flock(fd.get(), forever ? LOCK_EX : LOCK_EX | LOCK_NB) == 0) {
      struct stat st {};
      if (names_same_file(path, fd.get(), &st)) {
        // Locked: nobody else following these rules writes it now. Not a pidfile? Then
        // PATH was mistyped: leave the file as it is (closing fd drops the lock).
        if (!looks_like_pidfile(fd.get())) throw_refused(path, "not a pidfile (holds something other than one pid line)");
        // A previous holder that was killed left its pid: the file is ours now.
        if (::ftruncate(fd.get(), 0) != 0) throw_errno(path + ": truncate", errno);
        return Pidfile(path, std::move(fd), st.st_dev, st.st_ino);
      }
      // The previous holder removed the file between our open and our lock: this
      // lock is on a file nobody can find any more. Start over on the path.
      fd.reset();
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) throw_errno(path + ": flock", errno);
    auto waited = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    if (waited >= wait) {
      throw_held(path, fd.get(), wait > milliseconds::zero() ? std::optional(wait) : std::nullopt);
    }
    std::this_thread::sleep_for(std::min(poll, wait - waited));
    poll = std::min(poll * 2, k_poll_max);
    // The file we wait on may have been replaced meanwhile: wait on what the path names.
    if (!names_same_file(path, fd.get())) fd.reset();
  }
}

std::optional<pid_t> Pidfile::read_pid(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW));
  if (!fd) return std::nullopt;
  return read_pid_from(fd.get());
}

Pidfile& Pidfile::operator=(Pidfile&& other) noexcept {
  if (this != &other) {
    release();
    m_path = std::move(other.m_path);
    m_fd = std::move(other.m_fd);
    m_dev = other.m_dev;
    m_ino = other.m_ino;
  }
  return *this;
}

Pidfile::~Pidfile() {
  release();
}

void Pidfile::write_pid(pid_t pid) {
  std::string text = std::to_string(pid) + "\n";
  // Write first, then cut to length: a reader sees the old pid or the new one, never
  // an empty file (after acquire() it is empty anyway).
  ssize_t n;
  while ((n = ::pwrite(m_fd.get(), text.data(), text.size(), 0)) < 0 && errno == EINTR) {
  }
  if (n < 0) throw_errno(m_path + ": write", errno);
  if (static_cast<std::size_t>(n) != text.size())
    throw Error(ErrorKind::io, m_path + ": short write");
  if (::ftruncate(m_fd.get(), static_cast<off_t>(text.size())) != 0)
    throw_errno(m_path + ": truncate", errno);
  if (::fsync(m_fd.get()) != 0) throw_errno(m_path + ": fsync", errno);
}

void Pidfile::release() noexcept {
  if (!m_fd) return;
  // Still locked here: nobody else can be between their lock and their inode check
  // on this file. lstat, not stat: we unlink the name itself, so it must be our file
  // and not a symlink to it. (A rename over the path between this check and the
  // unlink by something that ignores the lock cannot be told apart; ipcat never does.)
  unlink_if_same(m_path, FileId{m_dev, m_ino});
  // Explicitly, not by close(): processes that inherited the descriptor (a command's
  // leftover background jobs) share the lock, and it must end with us.
  ::flock(m_fd.get(), LOCK_UN);
  m_fd.reset();
}

}  // namespace ipc
