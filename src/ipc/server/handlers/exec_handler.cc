#include "ipc/server/handlers/exec_handler.h"

#include <fcntl.h>
#include <signal.h>

#include <array>
#include <cerrno>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "ipc/process/child.h"
#include "ipc/base/error.h"
#include "ipc/base/fd.h"
#include "ipc/wire/line_decoder.h"
#include "ipc/wire/json_text.h"
#include "ipc/wire/json_value.h"
#include "ipc/server/handlers/cancelled_jobs.h"
#include "ipc/server/handlers/handler_report.h"

namespace asio = boost::asio;

namespace ipc {

namespace {

/// Out of descriptors or processes: the request is refused (Overloaded), the server carries on.
struct OutOfResources {
  std::string why;
};

Pipe pipe_or_overloaded() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) {
    int err = errno;
    if (err == EMFILE || err == ENFILE) throw OutOfResources{"cannot start the handler: " + errno_text(err)};
    throw_errno("pipe", err);
  }
  return Pipe{Fd(p[0]), Fd(p[1])};
}

}  // namespace

/// One running child and its three pipes, on its loop (`executor`: a worker's, or
/// the server's). Kept alive by its own async operations. It reads only the
/// options; whatever touches the handler's state (the queue, the log) is posted
/// to the server's loop with the reply.
class ExecHandler::Run : public std::enable_shared_from_this<Run> {
 public:
  Run(std::shared_ptr<ExecHandler> owner, const asio::any_io_executor& executor, std::size_t loop, Job job)
      : m_owner(std::move(owner)),
        m_loop(loop),
        m_options(m_owner->m_options),
        m_main(m_owner->m_executor),
        m_job(std::move(job)),
        m_in(executor),
        m_out(executor),
        m_err(executor),
        m_timer(executor) {}

  void start() {
    const ExecOptions& o = *m_options;
    try {
      Pipe in = pipe_or_overloaded(), out = pipe_or_overloaded(), err = pipe_or_overloaded();
      SpawnOptions spawn;
      spawn.executable = o.executable;
      spawn.argv = o.argv;
      spawn.env = environment_for(o, m_job);
      spawn.stdin_fd = in.read.get();
      spawn.stdout_fd = out.write.get();
      spawn.stderr_fd = err.write.get();
      m_child = Child::spawn(m_timer.get_executor(), spawn);
      m_outcome.pid = m_child->pid();
      // The child has its copies; ours of its ends must go, or EOF never comes.
      // No set_nonblocking(): Asio makes a descriptor non-blocking before its first
      // operation, and six fcntl() calls per request are measurable (scripts/bench).
      m_in.assign(in.write.release());
      m_out.assign(out.read.release());
      m_err.assign(err.read.release());
    } catch (const OutOfResources& e) {
      overloaded(e.why);
      return;
    } catch (const Error& e) {
      // EAGAIN from the spawn: out of processes for now, not a broken handler.
      if (e.kind() == ErrorKind::timeout) {
        overloaded(e.what());
        return;
      }
      Json reply = error_object("HandlerFailed", std::string("handler ") + e.what());
      reply["status"] = e.kind() == ErrorKind::not_found ? 127 : 126;
      m_outcome.status = reply["status"].get<int>();
      complete(encode(reply));
      return;
    }
    auto self = shared_from_this();
    asio::async_write(m_in, asio::buffer(m_job.input), [self](const boost::system::error_code&, std::size_t) {
      // EPIPE here only means the handler did not read its stdin: not an error.
      boost::system::error_code ignored;
      self->m_in.close(ignored);
    });
    read_stdout();
    read_stderr();
    m_child->async_wait([self](ExitStatus status) {
      self->m_status = status;
      self->m_exited = true;
      self->maybe_finish();
    });
    arm_timeout();
  }

  /// Answers Overloaded (out of fds or processes); logged at most once a second.
  void overloaded(const std::string& why) {
    m_not_started = why;
    Json reply = error_object("Overloaded", why);
    complete(encode(reply));
  }

  /// Kills the child now (shutdown after --drain); its request is answered ShuttingDown.
  void abort() {
    if (m_finished) return;
    m_aborted = true;
    if (m_child) m_child->signal(SIGKILL);
  }

  /// Its client has gone: TERM to the group, KILL after the grace; no reply.
  void cancel() {
    if (m_finished || m_cancelled || !m_child) return;
    m_cancelled = true;
    m_child->signal(SIGTERM);
    kill_after_grace();
  }

 private:
  void read_stdout() {
    auto self = shared_from_this();
    m_out.async_read_some(asio::buffer(m_out_buf), [self](const boost::system::error_code& ec, std::size_t n) {
      const std::size_t limit = self->m_options->max_output;
      if (!ec && !self->m_too_big) {
        self->m_stdout.append(self->m_out_buf.data(), n);
        if (self->m_stdout.size() > limit) {
          // Stop buffering at once: a handler printing 100 MiB must not cost 100 MiB.
          self->m_too_big = true;
          self->m_stdout.clear();
          self->m_stdout.shrink_to_fit();
          if (self->m_child) self->m_child->signal(SIGKILL);
        }
        self->read_stdout();
        return;
      }
      if (!ec) {  // too big: keep draining so the child is not blocked, discard
        self->read_stdout();
        return;
      }
      self->m_out_eof = true;
      self->maybe_finish();
    });
  }

  void read_stderr() {
    auto self = shared_from_this();
    m_err.async_read_some(asio::buffer(m_err_buf), [self](const boost::system::error_code& ec, std::size_t n) {
      if (!ec) {
        // Keep only the tail: the last lines say what went wrong.
        self->m_stderr.append(self->m_err_buf.data(), n);
        const std::size_t keep = self->m_options->max_quoted;
        // Twice what is quoted: the tail can then start at a line.
        if (self->m_stderr.size() > 2 * keep) self->m_stderr.erase(0, self->m_stderr.size() - 2 * keep);
        self->read_stderr();
        return;
      }
      self->m_err_eof = true;
      self->maybe_finish();
    });
  }

  void arm_timeout() {
    auto self = shared_from_this();
    if (m_options->timeout.count() <= 0) return;  // --timeout 0: no limit
    m_timer.expires_after(m_options->timeout);
    m_timer.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->m_finished) return;
      if (self->m_exited) {
        // It exited, but something that left its process group still holds a pipe:
        // stop waiting for EOF.
        self->close_pipes();
        self->m_out_eof = self->m_err_eof = true;
        self->maybe_finish();
        return;
      }
      self->m_timed_out = true;
      self->m_child->signal(SIGTERM);
      self->kill_after_grace();
    });
  }

  /// SIGTERM was sent: SIGKILL once the grace is over (and stop waiting for pipes
  /// something outside the group still holds).
  void kill_after_grace() {
    auto self = shared_from_this();
    m_timer.expires_after(m_options->kill_grace);
    m_timer.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->m_finished) return;
      if (self->m_child) self->m_child->signal(SIGKILL);
      if (self->m_exited) {
        self->close_pipes();
        self->m_out_eof = self->m_err_eof = true;
        self->maybe_finish();
      }
    });
  }

  void close_pipes() {
    boost::system::error_code ignored;
    m_in.close(ignored);
    m_out.close(ignored);
    m_err.close(ignored);
  }

  std::string stderr_tail() const { return excerpt_tail(m_stderr, m_options->max_quoted); }

  /// The error reply `j`, with the exit status and the stderr tail (also for the log).
  Reply failure(Json j, bool with_status = true) {
    if (with_status && m_exited) add_exit_status(j, m_status);
    m_outcome.stderr_tail = stderr_tail();
    add_stderr(j, m_outcome.stderr_tail);
    return encode(j);
  }

  void maybe_finish() {
    if (m_finished || !m_exited || !m_out_eof || !m_err_eof) return;
    m_timer.cancel();
    close_pipes();
    const ExecOptions& o = *m_options;
    m_outcome.status = m_status.signal != 0 ? -1 : m_status.code;
    m_outcome.signal = m_status.signal;
    Reply reply;
    if (m_aborted) {
      reply = encode(error_object("ShuttingDown", "server shut down before the handler finished"));
    } else if (m_cancelled) {
      // Nobody is left to read a reply (--cancel-on-disconnect).
      m_outcome.cancelled = true;
    } else if (m_timed_out) {
      Json j = error_object("HandlerTimeout", "handler timed out after " + duration_text(o.timeout) + " and was killed");
      j["limit"] = static_cast<double>(o.timeout.count()) / 1000.0;
      reply = failure(std::move(j), false);
    } else if (m_too_big) {
      Json j = error_object("BadHandlerOutput",
                            "handler output exceeds --max-output (" + std::to_string(o.max_output) + " bytes)");
      j["limit"] = o.max_output;
      reply = failure(std::move(j), false);
    } else if (!m_status.success()) {
      reply = failure(error_object("HandlerFailed", "handler " + m_status.describe()));
    } else {
      std::string_view out = trim(m_stdout);
      if (!out.empty()) {
        std::string why;
        auto value = compact_form(out, &why);
        if (value) {
          reply = std::move(*value);
        } else {
          // What it printed, from the start: a "DEBUG: starting" before the JSON
          // is then plain to see.
          Json j = error_object("BadHandlerOutput", "handler output is not one JSON value: " + why);
          m_outcome.output = excerpt_head(out, o.max_quoted);
          j["output"] = m_outcome.output;
          reply = failure(std::move(j));
        }
      } else if (!m_stderr.empty()) {
        // No reply (a notification); what it said on stderr goes to the log.
        m_outcome.stderr_tail = stderr_tail();
      }
    }
    complete(std::move(reply));
  }

  /// Back on the server's loop with the reply. The one strong reference to the
  /// handler goes with it, so the handler is never destroyed on a worker.
  void complete(Reply reply) {
    m_finished = true;
    m_child.reset();
    asio::dispatch(m_main, [owner = std::move(m_owner), done = std::move(m_job.done), reply = std::move(reply),
                            outcome = std::move(m_outcome), why = std::move(m_not_started),
                            connection = m_job.connection, request = m_job.request, loop = m_loop]() mutable {
      if (owner->m_workers) owner->m_workers->release(loop);
      if (!why.empty()) {
        owner->m_log_limiter.error(owner->m_log, "handler_not_started",
                                   {{"connection", connection}, {"request", request}, {"reason", why}});
      }
      // Free the slot first: the reply may be the last thing a stopping server waits for.
      owner->finished();
      done(std::move(reply), std::move(outcome));
    });
  }

  std::shared_ptr<ExecHandler> m_owner;  // moved to the server's loop by complete()
  std::size_t m_loop;                    // which of the worker loops (WorkerLoops::acquire)
  std::shared_ptr<const ExecOptions> m_options;
  asio::any_io_executor m_main;
  Job m_job;
  asio::posix::stream_descriptor m_in, m_out, m_err;
  asio::steady_timer m_timer;
  std::unique_ptr<Child> m_child;
  std::array<char, 16384> m_out_buf{};
  std::array<char, 4096> m_err_buf{};
  std::string m_stdout, m_stderr;
  ExitStatus m_status;
  Outcome m_outcome;
  std::string m_not_started;  // why it could not start (out of resources), for the log
  bool m_cancelled = false;
  bool m_exited = false, m_out_eof = false, m_err_eof = false;
  bool m_timed_out = false, m_too_big = false, m_aborted = false, m_finished = false;
};

ExecHandler::ExecHandler(asio::any_io_executor executor, ExecOptions options, const Log& log,
                         std::shared_ptr<WorkerLoops> workers)
    : m_executor(std::move(executor)),
      m_options(std::make_shared<const ExecOptions>(std::move(options))),
      m_log(log),
      m_workers(std::move(workers)) {
  // A handler that exits without reading its stdin must not kill the server.
  ::signal(SIGPIPE, SIG_IGN);
}

ExecHandler::~ExecHandler() = default;

std::vector<std::string> ExecHandler::environment_for(const ExecOptions& options, Job& job) {
  std::vector<std::string> env;
  env.reserve(options.env.size() + job.ucspi.size() + 2);
  env = options.env;
  for (auto& v : job.ucspi) env.push_back(std::move(v));
  env.push_back("IPCAT_CONNECTION=" + std::to_string(job.connection));
  env.push_back("IPCAT_REQUEST=" + std::to_string(job.request));
  return env;
}

void ExecHandler::handle(const RequestContext& context, std::string_view line, ReplyCallback done) {
  Job job;
  // Only the per-request variables: the whole environment is put together at
  // launch, so a queued request costs its line and little more.
  if (context.peer != nullptr) job.ucspi = context.peer->ucspi_env();
  job.input.reserve(line.size() + 1);
  job.input.append(line);
  job.input += '\n';
  job.done = std::move(done);
  job.connection = context.connection;
  job.request = context.request;
  if (m_running < m_options->max_handlers) {
    start(std::move(job));
  } else {
    m_queue.push_back(std::move(job));
  }
}

void ExecHandler::start(Job job) {
  ++m_running;
  launch(std::move(job));
}

void ExecHandler::launch(Job job) {
  const std::size_t loop = m_workers ? m_workers->acquire() : 0;
  asio::any_io_executor executor = m_workers ? m_workers->executor(loop) : m_executor;
  const std::uint64_t connection = job.connection;
  auto run = std::make_shared<Run>(shared_from_this(), executor, loop, std::move(job));
  std::erase_if(m_runs, [](const RunRef& r) { return r.run.expired(); });
  m_runs.push_back(RunRef{run, executor, connection});
  // The only strong reference goes to the run's loop.
  asio::dispatch(executor, [run = std::move(run)] { run->start(); });
}

void ExecHandler::finished() {
  if (m_queue.empty()) {
    --m_running;
    return;
  }
  // The finished run's slot passes to the next queued job. Posted, not called,
  // so a run of failing spawns cannot recurse through the whole queue.
  Job next = std::move(m_queue.front());
  m_queue.pop_front();
  asio::post(m_executor, [self = shared_from_this(), job = std::move(next)]() mutable { self->launch(std::move(job)); });
}

void ExecHandler::abort_all() {
  while (!m_queue.empty()) {
    Job job = std::move(m_queue.front());
    m_queue.pop_front();
    job.done(encode(error_object("ShuttingDown", "server shut down before the request was handled")), {});
  }
  for (auto& r : m_runs) {
    asio::dispatch(r.executor, [w = r.run] {
      if (auto run = w.lock()) run->abort();
    });
  }
}

void ExecHandler::cancel(std::uint64_t connection) {
  // Queued ones never start; callbacks called after the loop (they may queue more).
  std::vector<Job> dropped = take_jobs_of(m_queue, connection);
  for (auto& r : m_runs) {
    if (r.connection != connection) continue;
    asio::dispatch(r.executor, [w = r.run] {
      if (auto run = w.lock()) run->cancel();
    });
  }
  answer_cancelled(dropped);
}

}  // namespace ipc
