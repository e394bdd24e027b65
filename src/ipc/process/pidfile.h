#pragma once
/// Pidfile — an exclusively flock(2)ed pidfile, owned: one instance at a time.
///
/// The lock, not the pid in the file, is the truth: a file left behind with a dead
/// or recycled pid never blocks, and a lock taken by util-linux flock(1) on the same
/// path excludes us (and ours excludes it). The lock belongs to the open file
/// description, so a child that inherits fd() (SpawnOptions::keep_fd) keeps it held
/// even if this process is killed.
///
///   acquire():  mkdir -p parent ─► open(O_CREAT|O_NOFOLLOW, 0644) ─► flock(LOCK_EX) ─►
///               path still names the locked inode? ─no─► close, start over
///                                                  └yes─► empty or one pid line?
///                                                     ─no─► refuse, file untouched
///                                                     └yes─► truncate (empty = no pid yet)
///   write_pid(): write "PID\n", fsync
///   release() / destructor: unlink PATH if it still names the locked inode (while
///               locked) ─► LOCK_UN ─► close
///
/// Unlinking before unlocking, and re-checking the inode after locking, is what keeps
/// two instances from ever running: whoever was waiting on the old inode gets a lock
/// on a file that no longer has a name, notices, and starts over on the new one.
///
/// Usage (a daemon that writes its own pid):
///   auto pidfile = ipc::Pidfile::acquire("/run/app/app.pid");  // throws lock_held
///   pidfile.write_pid(::getpid());
///   ...                                                          // run
///   // leaving scope removes the file, then releases the lock

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

#include "ipc/base/fd.h"

namespace ipc {

class Pidfile {
 public:
  /// acquire() wait: try once.
  static constexpr std::chrono::milliseconds k_no_wait{0};
  /// acquire() wait: until the lock is free.
  static constexpr std::chrono::milliseconds k_wait_forever = std::chrono::milliseconds::max();

  /// Creates PATH's missing parent directories (0755) and PATH itself (0644 whatever
  /// the umask), then takes an exclusive flock on it, waiting at most `wait` for a
  /// holder to let go (polled, to within a few tens of milliseconds; k_wait_forever
  /// blocks in flock(2)). The file is left empty until write_pid(). Throws Error:
  ///   lock_held      held by another ("PATH: locked by pid N", N read from the file)
  ///   permission     the directory or file is not ours to create or write
  ///   cannot_create  PATH is a symlink, not a regular file, or a file that holds
  ///                  anything but nothing or one pid line (someone's data: a mistyped
  ///                  PATH) — each refused and left untouched, never followed,
  ///                  truncated or removed; or anything else that stops us creating or
  ///                  opening it (a parent that is a file, a read-only fs, ...)
  static Pidfile acquire(const std::string& path, std::chrono::milliseconds wait = k_no_wait);

  /// Reads the pid written in the file at `path`; nullopt when it cannot be read or
  /// holds no pid (a holder that has not written it yet, or util-linux flock(1)).
  static std::optional<pid_t> read_pid(const std::string& path);

  Pidfile(Pidfile&& other) noexcept = default;
  Pidfile& operator=(Pidfile&& other) noexcept;
  Pidfile(const Pidfile&) = delete;
  Pidfile& operator=(const Pidfile&) = delete;
  /// release().
  ~Pidfile();

  /// Replaces the content with "PID\n" and fsyncs it. Throws Error (io) on failure.
  void write_pid(pid_t pid);

  /// Removes PATH if it still names the file we locked (a path replaced meanwhile is
  /// left alone; so is a symlink), then releases the lock — for every process sharing
  /// the descriptor, so a command's leftover background processes stop holding it —
  /// and closes it. Idempotent; never throws.
  void release() noexcept;

  bool held() const noexcept { return m_fd.valid(); }
  /// The locked descriptor (close-on-exec). Clear FD_CLOEXEC to pass the lock on
  /// through exec; the lock then lives as long as any holder of it.
  int fd() const noexcept { return m_fd.get(); }
  const std::string& path() const noexcept { return m_path; }

 private:
  Pidfile(std::string path, Fd fd, dev_t dev, ino_t ino) noexcept
      : m_path(std::move(path)), m_fd(std::move(fd)), m_dev(dev), m_ino(ino) {}

  std::string m_path;
  Fd m_fd;
  dev_t m_dev = 0;
  ino_t m_ino = 0;
};

}  // namespace ipc
