#include "ipc/client/output_writer.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>

#include "ipc/base/error.h"

namespace ipc {
namespace {

extern "C" void on_alarm(int /*signal*/) {}

void install_alarm_handler() {
  static bool installed = false;
  if (installed) return;
  struct sigaction sa {};
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the write returns EINTR
  ::sigaction(SIGALRM, &sa, nullptr);
  installed = true;
}

/// Arms ITIMER_REAL to fire in `ms`, then every 10 ms (a signal that lands just
/// before write(2) starts must not leave it blocked for ever); disarms at scope end.
class AlarmScope {
 public:
  explicit AlarmScope(std::chrono::milliseconds ms) {
    if (ms.count() <= 0) ms = std::chrono::milliseconds(1);
    itimerval t{};
    t.it_value.tv_sec = static_cast<time_t>(ms.count() / 1000);
    t.it_value.tv_usec = static_cast<suseconds_t>(ms.count() % 1000 * 1000);
    t.it_interval.tv_usec = 10000;
    ::setitimer(ITIMER_REAL, &t, nullptr);
  }
  ~AlarmScope() {
    itimerval off{};
    ::setitimer(ITIMER_REAL, &off, nullptr);
  }
  AlarmScope(const AlarmScope&) = delete;
  AlarmScope& operator=(const AlarmScope&) = delete;
};

}  // namespace

OutputWriter::OutputWriter(int fd, std::string what) : m_fd(fd), m_what(std::move(what)) {
  struct stat st {};
  m_may_block = ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode);
}

void OutputWriter::write_all(std::string_view data, std::optional<std::chrono::milliseconds> limit) {
  write_loop(data, limit, std::nullopt);
}

void OutputWriter::write_all_until(std::string_view data, Clock::time_point deadline) {
  write_loop(data, std::nullopt, deadline);
}

void OutputWriter::write_loop(std::string_view data, std::optional<std::chrono::milliseconds> limit,
                              std::optional<Clock::time_point> deadline) {
  bool timed = m_may_block && (limit || deadline);
  if (timed) install_alarm_handler();
  // The limit runs from the last byte written (progress), a deadline is fixed.
  auto until = deadline ? *deadline : Clock::now() + (limit ? *limit : std::chrono::milliseconds(0));
  while (!data.empty()) {
    ssize_t n;
    if (timed) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) throw Error(ErrorKind::timeout, m_what + ": timed out writing (nobody is reading)");
      AlarmScope alarm(left + std::chrono::milliseconds(1));
      n = ::write(m_fd, data.data(), data.size());
    } else {
      n = ::write(m_fd, data.data(), data.size());
    }
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      if (!deadline && limit) until = Clock::now() + *limit;
      continue;
    }
    if (n < 0 && errno == EINTR) {
      if (timed && Clock::now() >= until)
        throw Error(ErrorKind::timeout, m_what + ": timed out writing (nobody is reading)");
      continue;
    }
    if (n < 0 && errno == EPIPE) throw Error(ErrorKind::io, m_what + ": broken pipe");
    if (n < 0) throw_errno(m_what, errno);
  }
}

}  // namespace ipc
