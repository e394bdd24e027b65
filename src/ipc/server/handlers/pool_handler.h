#pragma once
/// PoolHandler — `--mode pool --workers N`: N long-lived children, each reading
/// requests as lines on stdin and writing exactly one line per request on stdout
/// (`null` = no reply). One request per worker at a time.
///
///   handle() ──► queue (--max-queue, beyond: Overloaded) ──► idle worker
///   worker ──reply line──► done(reply) ──► next queued job
///   worker dies / bad line / --timeout ──► in-flight request fails,
///       worker's group killed, restarted after a backoff (doubling, capped)
///   a line that answers no request (a banner, a second line) ──► the request
///       fails BadHandlerOutput, the worker is restarted: never passed on
///   reload() (SIGHUP) ──► each worker replaced once it has no request
///   cancel(connection) ──► its queued requests dropped; a worker busy with
///       one gets SIGTERM (SIGKILL after the grace) and is restarted
///
/// A worker's stderr goes to the log line by line (worker_stderr); its last lines
/// go into the error reply of a request it fails, with its exit status or signal.
/// Workers get IPCAT_WORKER (0-based index) in their environment. When every
/// worker keeps dying at start, queued requests are failed rather than left hanging,
/// and each restart says so in the log: the server never spins.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "ipc/server/handler.h"
#include "ipc/wire/json_value.h"
#include "ipc/server/log.h"
#include "ipc/server/options.h"

namespace ipc {

struct PoolOptions {
  std::string executable;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::size_t workers = 2;
  std::size_t max_queue = 1024;
  std::chrono::milliseconds timeout{30000};  ///< 0: no limit
  std::chrono::milliseconds kill_grace{2000};
  std::size_t max_output = 1024 * 1024;  ///< longest reply line
  std::size_t max_quoted = k_default_max_quoted;  ///< bytes of output / stderr quoted (--max-quoted)
  std::chrono::milliseconds restart_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  std::string name;  ///< for logs: the route name, or empty
};

class PoolHandler : public Handler, public std::enable_shared_from_this<PoolHandler> {
 public:
  PoolHandler(boost::asio::any_io_executor executor, PoolOptions options, const Log& log);
  ~PoolHandler() override;

  /// Starts the workers. Throws Error when the executable cannot be run at all.
  void start();

  void handle(const RequestContext& context, std::string_view line, ReplyCallback done) override;
  std::size_t in_flight() const override;
  void abort_all() override;
  void cancel(std::uint64_t connection) override;
  /// SIGHUP: replaces every worker's process, each as soon as it has no request
  /// (picks up a new version of the handler; no request fails).
  void reload();

 private:
  class Worker;
  struct Job {
    std::shared_ptr<const std::string> input;  // line + '\n'; shared with the write in progress
    ReplyCallback done;
    std::uint64_t connection = 0;
  };
  friend class Worker;
  void dispatch();
  void fail_queue(const ErrorType& type, const std::string& message);
  const char* name() const noexcept { return m_options.name.empty() ? "default" : m_options.name.c_str(); }

  boost::asio::any_io_executor m_executor;
  PoolOptions m_options;
  const Log& m_log;
  std::vector<std::shared_ptr<Worker>> m_workers;
  std::deque<Job> m_queue;
  bool m_aborting = false;
};

}  // namespace ipc
