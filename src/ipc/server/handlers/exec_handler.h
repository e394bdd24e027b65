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
///
/// When the child exits, whatever it left in its process group is killed, so a
/// backgrounded grandchild cannot hold the pipes (or the machine) after it.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "ipc/server/handler.h"
#include "ipc/server/log.h"

namespace ipc {

struct ExecOptions {
  std::string executable;          ///< resolved path
  std::vector<std::string> argv;   ///< argv[0] included
  std::vector<std::string> env;    ///< base environment ("NAME=value"), UCSPI added per request
  std::size_t max_handlers = 16;
  std::chrono::milliseconds timeout{30000};  ///< 0: no limit
  std::chrono::milliseconds kill_grace{2000};
  std::size_t max_output = 1024 * 1024;
  std::size_t stderr_tail = 2048;  ///< bytes of stderr kept for error replies
};

class ExecHandler : public Handler, public std::enable_shared_from_this<ExecHandler> {
 public:
  ExecHandler(boost::asio::any_io_executor executor, ExecOptions options, const Log& log);
  ~ExecHandler() override;

  void handle(const RequestContext& context, std::string_view line, ReplyCallback done) override;
  std::size_t in_flight() const override { return m_queue.size() + m_running; }
  void abort_all() override;

 private:
  struct Job {
    std::vector<std::string> ucspi;  // the peer's variables (peer.h); the rest is added at launch
    std::string input;             // the request line and '\n'
    ReplyCallback done;
    std::uint64_t connection = 0, request = 0;
  };
  class Run;
  std::vector<std::string> environment_for(Job& job) const;
  void start(Job job);
  void launch(Job job);
  void finished();

  boost::asio::any_io_executor m_executor;
  ExecOptions m_options;
  const Log& m_log;
  std::deque<Job> m_queue;
  std::size_t m_running = 0;
  std::vector<std::weak_ptr<Run>> m_runs;
  RateLimit m_log_limiter;  // out-of-resources errors: at most one log line a second
};

}  // namespace ipc
