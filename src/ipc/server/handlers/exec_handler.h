#pragma once
/// ExecHandler — `--mode request`: one exec'd child per request.
///
///   request line ──► child stdin, then EOF
///   child stdout ──► the reply: one JSON value, or nothing (no reply)
///   child stderr ──► its last lines go into a HandlerFailed reply
///
///   queued ──(a slot of --max-handlers frees)──► running
///   running ──exit, stdout+stderr at EOF──► reply
///   running ──--timeout──► TERM to the group ──grace──► KILL ──► HandlerTimeout
///   running ──client gone (cancel)──► TERM to the group ──grace──► KILL ──► no reply
///
/// When the child exits, whatever it left in its process group is killed, so a
/// backgrounded grandchild cannot hold the pipes (or the machine) after it.
///
/// Threads (serve --threads; worker_loops.h): the queue, the limits and the log
/// stay on the server's loop; a run — pipes, spawn, the child's I/O, its timers,
/// reaping — is posted to a worker loop, and its reply posted back. Without
/// workers the run is on the server's loop (dispatch: called in place).

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "ipc/server/handler.h"
#include "ipc/server/log.h"
#include "ipc/server/options.h"
#include "ipc/server/worker_loops.h"

namespace ipc {

struct ExecOptions {
  std::string executable;          ///< resolved path
  std::vector<std::string> argv;   ///< argv[0] included
  std::vector<std::string> env;    ///< base environment ("NAME=value"), UCSPI added per request
  std::size_t max_handlers = 16;
  std::chrono::milliseconds timeout{30000};  ///< 0: no limit
  std::chrono::milliseconds kill_grace{2000};
  std::size_t max_output = 1024 * 1024;
  /// Bytes of stdout and of stderr quoted in error replies and the log (--max-quoted).
  std::size_t max_quoted = k_default_max_quoted;
};

class ExecHandler : public Handler, public std::enable_shared_from_this<ExecHandler> {
 public:
  /// `workers`: the loops runs go to (shared by every handler of a server), or null.
  ExecHandler(boost::asio::any_io_executor executor, ExecOptions options, const Log& log,
              std::shared_ptr<WorkerLoops> workers = nullptr);
  ~ExecHandler() override;

  void handle(const RequestContext& context, std::string_view line, ReplyCallback done) override;
  std::size_t in_flight() const override { return m_queue.size() + m_running; }
  void abort_all() override;
  void cancel(std::uint64_t connection) override;

 private:
  struct Job {
    std::vector<std::string> ucspi;  // the peer's variables (peer.h); the rest is added at launch
    std::string input;             // the request line and '\n'
    ReplyCallback done;
    std::uint64_t connection = 0, request = 0;
  };
  class Run;
  /// A run as the server's loop knows it: never a strong reference, so a run is
  /// always destroyed on its own loop.
  struct RunRef {
    std::weak_ptr<Run> run;
    boost::asio::any_io_executor executor;
    std::uint64_t connection = 0;
  };
  static std::vector<std::string> environment_for(const ExecOptions& options, Job& job);
  void start(Job job);
  void launch(Job job);
  void finished();

  boost::asio::any_io_executor m_executor;
  std::shared_ptr<const ExecOptions> m_options;  // read by runs on any loop
  const Log& m_log;
  std::shared_ptr<WorkerLoops> m_workers;
  std::deque<Job> m_queue;
  std::size_t m_running = 0;
  std::vector<RunRef> m_runs;
  RateLimit m_log_limiter;  // out-of-resources errors: at most one log line a second
};

}  // namespace ipc
