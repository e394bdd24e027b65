#include "ipc/tap/output.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <algorithm>
#include <cerrno>

namespace asio = boost::asio;

namespace ipc {
namespace {

constexpr std::chrono::milliseconds k_coalesce_time{10};
constexpr std::size_t k_coalesce_bytes = 64 * 1024;

}  // namespace

TapOutput::TapOutput(asio::io_context& io, int fd, std::size_t max_queue)
    : m_io(io), m_fd(fd), m_max(max_queue), m_timer(io), m_descriptor(io) {
  m_coalesce = ::isatty(fd) != 1;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISREG(st.st_mode)) return;
  std::string self = "/proc/self/fd/" + std::to_string(fd);
  m_own.reset(::open(self.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (m_own) {
    m_fd = m_own.get();
  } else {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0)
      m_restore_flags = flags;
  }
  int dup = ::fcntl(m_fd, F_DUPFD_CLOEXEC, 3);
  if (dup >= 0) {
    boost::system::error_code ec;
    m_descriptor.assign(dup, ec);
    if (ec) ::close(dup);
  }
}

TapOutput::~TapOutput() {
  boost::system::error_code ec;
  m_descriptor.close(ec);
  if (m_restore_flags >= 0) ::fcntl(m_fd, F_SETFL, m_restore_flags);
}

bool TapOutput::push(std::string_view line) {
  if (m_broken || queued() + line.size() > m_max) {
    ++m_dropped;
    return false;
  }
  if (m_head > 0 && m_head >= m_queue.size() / 2) {
    m_queue.erase(0, m_head);
    m_head = 0;
  }
  m_queue.append(line);
  if (m_waiting) return true;  // the fd is full: flush() runs when it drains
  if (m_coalesce && queued() >= k_coalesce_bytes) {
    m_timer.cancel();  // its flush finds nothing to do
    flush();
    return true;
  }
  if (!m_posted) {
    m_posted = true;
    if (m_coalesce) {
      m_timer.expires_after(k_coalesce_time);
      m_timer.async_wait([this](const boost::system::error_code&) {
        m_posted = false;
        flush();
      });
    } else {
      asio::post(m_io, [this] {
        m_posted = false;
        flush();
      });
    }
  }
  return true;
}

void TapOutput::flush() {
  while (queued() > 0) {
    ssize_t n = ::write(m_fd, m_queue.data() + m_head, queued());
    if (n > 0) {
      m_head += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && m_descriptor.is_open()) {
      m_waiting = true;
      m_descriptor.async_wait(asio::posix::stream_descriptor::wait_write, [this](const boost::system::error_code& ec) {
        m_waiting = false;
        if (!ec) flush();
      });
      return;
    }
    // EPIPE (the reader left) or an error we cannot wait out: drop from now on.
    m_broken = true;
    m_dropped += static_cast<std::uint64_t>(std::count(m_queue.begin() + static_cast<std::ptrdiff_t>(m_head), m_queue.end(), '\n'));
    break;
  }
  m_queue.clear();
  m_head = 0;
  if (m_queue.capacity() > m_max) std::string().swap(m_queue);
}

void TapOutput::finish(std::chrono::milliseconds patience) {
  auto deadline = std::chrono::steady_clock::now() + patience;
  boost::system::error_code ec;
  m_descriptor.cancel(ec);
  m_timer.cancel();
  m_waiting = false;
  while (queued() > 0 && !m_broken) {
    ssize_t n = ::write(m_fd, m_queue.data() + m_head, queued());
    if (n > 0) {
      m_head += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && left.count() > 0) {
      pollfd p{m_fd, POLLOUT, 0};
      ::poll(&p, 1, static_cast<int>(left.count()));
      continue;
    }
    break;
  }
  m_dropped += static_cast<std::uint64_t>(std::count(m_queue.begin() + static_cast<std::ptrdiff_t>(m_head), m_queue.end(), '\n'));
  m_queue.clear();
  m_head = 0;
}

}  // namespace ipc
