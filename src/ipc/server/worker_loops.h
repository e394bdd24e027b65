#pragma once
/// WorkerLoops — N event loops, each run by a thread of its own, for the work of
/// handler processes (serve --threads, man/ipcat.1; ARCHITECTURE.md, "Threads").
///
///   main loop: accept, connections, queue, limits, log ──post──► a worker loop
///   worker loop: pipes, posix_spawn, the child's I/O, timeouts, reaping ──post──► main
///
/// posix_spawn returns only once the child has exec'd, and every request has a
/// dozen events of its own (pipes, pidfd, timer): on one loop they queue behind
/// each other, on N they run side by side on every core. A worker loop shares no
/// state with the main loop: what it needs is posted to it, what it finds is
/// posted back. Workers are assigned round-robin.
///
/// The threads start with every signal blocked (signals are the main loop's), and
/// the destructor stops and joins them; what was still queued on them is
/// destroyed then, on the destroying thread.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace ipc {

class WorkerLoops {
 public:
  /// Starts `count` threads (at least one).
  explicit WorkerLoops(std::size_t count);
  ~WorkerLoops();
  WorkerLoops(const WorkerLoops&) = delete;
  WorkerLoops& operator=(const WorkerLoops&) = delete;

  /// The executor of the next loop, round-robin. Main-loop thread only.
  boost::asio::any_io_executor next();
  std::size_t size() const noexcept { return m_loops.size(); }

  /// The number of CPUs this process may run on (sched_getaffinity), at least 1:
  /// the default of --threads.
  static std::size_t cpus();

 private:
  struct Loop {
    boost::asio::io_context io{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
    std::thread thread;
  };
  std::vector<std::unique_ptr<Loop>> m_loops;
  std::size_t m_next = 0;
};

}  // namespace ipc
