#include "ipc/base/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "ipc/base/error.h"

namespace ipc {

void Fd::reset(int fd) noexcept {
  if (m_fd >= 0) ::close(m_fd);  // close() is not retried on EINTR on Linux: the fd is gone
  m_fd = fd;
}

void set_cloexec(int fd) {
  int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0 || ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) throw_errno("fcntl(FD_CLOEXEC)", errno);
}

void set_nonblocking(int fd, bool on) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) throw_errno("fcntl(F_GETFL)", errno);
  int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) < 0) throw_errno("fcntl(O_NONBLOCK)", errno);
}

Pipe make_pipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) throw_errno("pipe", errno);
  return Pipe{Fd(p[0]), Fd(p[1])};
}

}  // namespace ipc
