#include "ipc/fifo/fifo.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "ipc/base/error.h"

namespace ipc {
namespace {

const char* type_name(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISLNK(mode)) return "a dangling symbolic link";
  return "not a FIFO";
}

[[noreturn]] void throw_not_fifo(const std::string& path, mode_t mode) {
  throw Error(ErrorKind::cannot_create,
              path + ": exists and is not a FIFO (" + type_name(mode) + "); left untouched");
}

// Creating is refused by the file system (77) or fails for another reason (73).
[[noreturn]] void throw_create_error(const std::string& what, int err) {
  throw Error(create_error_kind(err), what + ": " + errno_text(err));
}

[[noreturn]] void throw_symlink(const std::string& path) {
  throw Error(ErrorKind::permission, path + ": is a symbolic link; refused, left untouched");
}

std::string user_text(uid_t uid) {
  std::string text = "uid " + std::to_string(uid);
  if (const passwd* pw = ::getpwuid(uid)) text += std::string(" (") + pw->pw_name + ")";
  return text;
}

std::string octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// An existing FIFO is ours to use only if we (or root) own it and nobody else may
// write to it beyond what `mode` asks for (man/ipcat.1, fifo-send): otherwise another
// user could inject messages, or read what we send (OpenSSH's ControlPath checks).
void check_owner_and_mode(const std::string& path, const struct stat& st, mode_t mode) {
  const uid_t me = ::geteuid();
  if (st.st_uid != me && st.st_uid != 0) {
    throw Error(ErrorKind::permission, path + ": owned by " + user_text(st.st_uid) + ", not by " +
                                           user_text(me) + "; refused, left untouched");
  }
  const mode_t loose = st.st_mode & 022 & ~mode;
  if (loose != 0) {
    std::string who = (loose & 020) && (loose & 002) ? "group and others" : (loose & 020) ? "group" : "others";
    throw Error(ErrorKind::permission, path + ": mode " + octal(st.st_mode) + " lets " + who +
                                           " write to it (--mode " + octal(mode | (st.st_mode & 0777)) +
                                           " allows that); refused, left untouched");
  }
}

// The descriptor must be a FIFO we may use: the path may have been replaced since we looked.
Fd checked_fifo(int raw, const std::string& path, mode_t mode) {
  Fd fd(raw);
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) throw_errno(path, errno);
  if (!S_ISFIFO(st.st_mode)) throw_not_fifo(path, st.st_mode);
  check_owner_and_mode(path, st, mode);
  return fd;
}

[[noreturn]] void throw_open_error(const std::string& path, int err) {
  if (err == EISDIR) throw_not_fifo(path, S_IFDIR);
  // O_NOFOLLOW: the last component is a symlink.
  if (err == ELOOP) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) throw_symlink(path);
  }
  throw_errno(path, err);
}

}  // namespace

EnsuredFifo ensure_fifo(const std::string& path, mode_t mode) {
  if (path.empty()) throw Error(ErrorKind::usage, "empty FIFO path");
  // Looping covers a race with another process creating the same FIFO.
  for (int attempt = 0;; ++attempt) {
    struct stat st {};
    // lstat: a symlink is never followed, to a FIFO or anywhere else.
    if (::lstat(path.c_str(), &st) == 0) {
      if (S_ISLNK(st.st_mode)) throw_symlink(path);
      if (!S_ISFIFO(st.st_mode)) throw_not_fifo(path, st.st_mode);
      check_owner_and_mode(path, st, mode);
      return EnsuredFifo{false, file_id(st)};
    }
    int err = errno;
    if (err != ENOENT) throw_create_error(path, err);

    make_parent_directories(path);
    if (::mkfifo(path.c_str(), mode) == 0) {
      // mkfifo() applied the umask; the mode asked for is meant exactly. Between the
      // two calls the FIFO is only ever more restricted than asked, never less.
      if (::chmod(path.c_str(), mode) < 0) {
        err = errno;
        ::unlink(path.c_str());
        throw_create_error(path + ": cannot set FIFO mode", err);
      }
      if (::lstat(path.c_str(), &st) < 0) throw_create_error(path, errno);
      return EnsuredFifo{true, file_id(st)};
    }
    err = errno;
    if (err != EEXIST || attempt >= 3) throw_create_error(path + ": cannot create FIFO", err);
  }
}

void FifoRemover::remove_now() noexcept {
  if (!m_armed) return;
  m_armed = false;
  unlink_if_same(m_path, m_id);
}

Fd open_fifo_writer(const std::string& path, const std::optional<Deadline>& wait, const StopSignals* stop, mode_t mode) {
  using namespace std::chrono_literals;
  Clock::duration interval = 10ms;
  for (;;) {
    // O_NONBLOCK: open() fails with ENXIO instead of blocking while there is no reader.
    int raw = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    if (raw >= 0) return checked_fifo(raw, path, mode);
    int err = errno;
    if (err == EINTR) continue;
    if (err != ENXIO) throw_open_error(path, err);
    if (!wait) throw Error(ErrorKind::refused, path + ": no reader on FIFO");
    if (wait->expired())
      throw Error(ErrorKind::timeout, path + ": timed out waiting for a reader on the FIFO");
    // Polling is the only portable way to learn that a reader opened the FIFO; the
    // interval stays short so a reader that appears is noticed within 100 ms.
    if (wait_fd(-1, 0, wait->min(Deadline(std::chrono::duration_cast<std::chrono::milliseconds>(interval))), stop) == Wait::stopped)
      throw_interrupted(path);
    interval = std::min<Clock::duration>(interval * 2, 100ms);
  }
}

Fd open_fifo_reader(const std::string& path, mode_t mode) {
  int raw = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
  if (raw < 0) throw_open_error(path, errno);
  return checked_fifo(raw, path, mode);
}

}  // namespace ipc
