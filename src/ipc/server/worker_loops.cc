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

boost::asio::any_io_executor WorkerLoops::next() {
  Loop& loop = *m_loops[m_next];
  m_next = (m_next + 1) % m_loops.size();
  return loop.io.get_executor();
}

std::size_t WorkerLoops::cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  int n = CPU_COUNT(&set);
  return n > 0 ? static_cast<std::size_t>(n) : 1;
}

}  // namespace ipc
