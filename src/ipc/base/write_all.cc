#include "ipc/base/write_all.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "ipc/base/error.h"

namespace ipc {

std::size_t write_all(int fd, std::string_view data, std::string_view name,
                      const StopSignals* stop) {
  std::size_t calls = 0;
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    ++calls;
    if (n >= 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    int err = errno;
    if (err == EINTR) {
      if (stop != nullptr && stop->received() != 0) throw_interrupted(name);
      continue;
    }
    if (err == EAGAIN) {
      if (wait_fd(fd, POLLOUT, Deadline::never(), stop) == Wait::stopped) throw_interrupted(name);
      continue;
    }
    if (err == EPIPE)
      throw Error(ErrorKind::io, std::string(name) + ": broken pipe (the reader went away)");
    throw_errno(name, err);
  }
  return calls;
}

void throw_interrupted(std::string_view name) {
  throw Error(ErrorKind::io, std::string(name) + ": interrupted");
}

}  // namespace ipc
