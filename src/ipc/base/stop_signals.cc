#include "ipc/base/stop_signals.h"

#include <pthread.h>
#include <unistd.h>

#include <cerrno>

#include "ipc/base/error.h"

namespace ipc {
namespace {

volatile std::sig_atomic_t s_received = 0;

extern "C" void record_stop_signal(int sig) {
  if (s_received == 0) s_received = sig;
}

timespec to_timespec(Clock::duration d) {
  if (d < Clock::duration::zero()) d = Clock::duration::zero();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(d);
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(d - secs);
  return timespec{static_cast<time_t>(secs.count()), static_cast<long>(nanos.count())};
}

}  // namespace

StopSignals::StopSignals(std::initializer_list<int> signals) {
  s_received = 0;
  sigemptyset(&m_stop_set);
  for (int sig : signals) sigaddset(&m_stop_set, sig);
  // Block first, so no signal slips in between installing the handler and the first wait.
  if (int err = pthread_sigmask(SIG_BLOCK, &m_stop_set, &m_old_mask); err != 0) {
    throw_errno("pthread_sigmask", err);
  }
  m_wait_mask = m_old_mask;
  for (int sig : signals) {
    sigdelset(&m_wait_mask, sig);
    struct sigaction action {};
    action.sa_handler = record_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: a stop must end the wait
    struct sigaction old {};
    if (::sigaction(sig, &action, &old) < 0) throw_errno("sigaction", errno);
    m_old_actions.emplace_back(sig, old);
  }
}

StopSignals::~StopSignals() {
  int saved_errno = errno;
  const bool ignore = m_ignore_repeats && s_received != 0;
  for (auto& [sig, old] : m_old_actions) {
    if (ignore) {
      ::signal(sig, SIG_IGN);
    } else {
      ::sigaction(sig, &old, nullptr);
    }
  }
  if (s_received != 0) {
    // Last thing before unblocking: the window for a repeat to slip through is two
    // system calls wide.
    timespec zero{0, 0};
    while (::sigtimedwait(&m_stop_set, nullptr, &zero) > 0 || errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &m_old_mask, nullptr);
  errno = saved_errno;
}

int StopSignals::received() const noexcept {
  if (s_received == 0) {
    // ppoll() returns at once while a descriptor is ready, and restores the mask before
    // a pending signal is delivered: under a steady flow of data a stop signal would
    // wait forever. Taking it from the pending set closes that hole.
    timespec zero{0, 0};
    int sig = ::sigtimedwait(&m_stop_set, nullptr, &zero);
    if (sig > 0) s_received = sig;
  }
  return s_received;
}

void StopSignals::reraise() const {
  int sig = s_received;
  if (sig == 0) return;
  ::signal(sig, SIG_DFL);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, sig);
  ::raise(sig);  // pending while blocked; delivered (and fatal) as soon as it is unblocked
  pthread_sigmask(SIG_UNBLOCK, &only, nullptr);
}

Wait wait_fd(int fd, short events, const Deadline& deadline, const StopSignals* stop) {
  for (;;) {
    if (stop != nullptr && stop->received() != 0) return Wait::stopped;
    timespec ts{};
    timespec* tsp = nullptr;
    if (!deadline.is_never()) {
      ts = to_timespec(deadline.at() - Clock::now());
      tsp = &ts;
    }
    pollfd p{fd, events, 0};
    int n = ::ppoll(fd >= 0 ? &p : nullptr, fd >= 0 ? 1 : 0, tsp,
                    stop != nullptr ? stop->wait_mask() : nullptr);
    if (n > 0) return Wait::ready;
    if (n == 0) {
      // ppoll may wake a little early on a coarse clock: only the deadline decides.
      if (deadline.expired()) return Wait::timeout;
      continue;
    }
    if (errno != EINTR) throw_errno("ppoll", errno);
  }
}

}  // namespace ipc
