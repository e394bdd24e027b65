#include "ipc/server/worker_loops.h"

#include <pthread.h>
#include <sched.h>

#include <boost/asio/steady_timer.hpp>
#include <csignal>

#include "ipc/base/error.h"

namespace ipc {

WorkerLoops::WorkerLoops(std::size_t count) {
  if (count == 0) count = 1;
  // Threads inherit the signal mask: block everything while they start, so every
  // signal is taken by the main thread (its asio::signal_set), then restore.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    for (std::size_t i = 0; i < count; ++i) {
      auto loop = std::make_unique<Loop>();
      // Asio makes a loop's epoll, eventfd and timerfd on first use: make them now,
      // so the server's descriptors are all there once it listens.
      boost::asio::steady_timer(loop->io).cancel();
      Loop* raw = loop.get();
      loop->thread = std::thread([raw] { raw->io.run(); });
      m_loops.push_back(std::move(loop));
    }
  } catch (const std::system_error& e) {
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    for (auto& loop : m_loops) {
      loop->work.reset();
      loop->io.stop();
      loop->thread.join();
    }
    throw Error(ErrorKind::internal, std::string("cannot start a worker thread: ") + e.what());
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

WorkerLoops::~WorkerLoops() {
  for (auto& loop : m_loops) {
    loop->work.reset();
    loop->io.stop();
  }
  for (auto& loop : m_loops) {
    if (loop->thread.joinable()) loop->thread.join();
  }
}

std::size_t WorkerLoops::acquire() {
  std::size_t best = m_next;
  for (std::size_t k = 0; k < m_loops.size(); ++k) {
    std::size_t i = (m_next + k) % m_loops.size();
    if (m_loops[i]->runs < m_loops[best]->runs) best = i;
  }
  m_next = (best + 1) % m_loops.size();
  ++m_loops[best]->runs;
  return best;
}

void WorkerLoops::release(std::size_t index) noexcept {
  if (index < m_loops.size() && m_loops[index]->runs > 0) --m_loops[index]->runs;
}

std::size_t WorkerLoops::cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  int n = CPU_COUNT(&set);
  return n > 0 ? static_cast<std::size_t>(n) : 1;
}

}  // namespace ipc
