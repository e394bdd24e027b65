#pragma once
/// Fd — a move-only owner of one file descriptor; closes it on destruction.
///
/// Every descriptor the library opens is close-on-exec from the moment it exists
/// (O_CLOEXEC / SOCK_CLOEXEC, or set_cloexec() right after accept), so nothing
/// leaks into handlers.

#include <utility>

namespace ipc {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) noexcept : m_fd(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : m_fd(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~Fd() { reset(); }

  int get() const noexcept { return m_fd; }
  bool valid() const noexcept { return m_fd >= 0; }
  explicit operator bool() const noexcept { return valid(); }

  /// Gives up ownership; the caller closes the descriptor.
  int release() noexcept { return std::exchange(m_fd, -1); }
  /// Closes the owned descriptor (if any) and takes `fd`.
  void reset(int fd = -1) noexcept;

 private:
  int m_fd = -1;
};

/// Marks fd close-on-exec. Throws Error on failure.
void set_cloexec(int fd);
/// Sets or clears O_NONBLOCK. Throws Error on failure.
void set_nonblocking(int fd, bool on = true);

/// A pipe whose both ends are close-on-exec.
struct Pipe {
  Fd read;
  Fd write;
};
Pipe make_pipe();

}  // namespace ipc
