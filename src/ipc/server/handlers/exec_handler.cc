#include "ipc/server/handlers/exec_handler.h"

#include <fcntl.h>
#include <signal.h>

#include <array>
#include <cerrno>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "ipc/process/child.h"
#include "ipc/base/error.h"
#include "ipc/base/fd.h"
#include "ipc/wire/line_decoder.h"
#include "ipc/wire/json_text.h"
#include "ipc/wire/json_value.h"

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

std::string seconds_text(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + " s";
  return std::to_string(ms.count()) + " ms";
}

}  // namespace

/// One running child and its three pipes. Kept alive by its own async operations.
class ExecHandler::Run : public std::enable_shared_from_this<Run> {
 public:
  Run(std::shared_ptr<ExecHandler> owner, Job job)
      : m_owner(std::move(owner)),
        m_job(std::move(job)),
        m_in(m_owner->m_executor),
        m_out(m_owner->m_executor),
        m_err(m_owner->m_executor),
        m_timer(m_owner->m_executor) {}

  void start() {
    const ExecOptions& o = m_owner->m_options;
    try {
      Pipe in = pipe_or_overloaded(), out = pipe_or_overloaded(), err = pipe_or_overloaded();
      SpawnOptions spawn;
      spawn.executable = o.executable;
      spawn.argv = o.argv;
      spawn.env = m_owner->environment_for(m_job);
      spawn.stdin_fd = in.read.get();
      spawn.stdout_fd = out.write.get();
      spawn.stderr_fd = err.write.get();
      m_child = Child::spawn(m_owner->m_executor, spawn);
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
      m_owner->m_log.error("handler_failed", {{"connection", std::to_string(m_job.connection)},
                                               {"request", std::to_string(m_job.request)},
                                               {"reason", e.what()}});
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
    m_owner->m_log_limiter.error(m_owner->m_log, "handler_not_started",
                                 {{"connection", std::to_string(m_job.connection)},
                                  {"request", std::to_string(m_job.request)}, {"reason", why}});
    Json reply = error_object("Overloaded", why);
    complete(encode(reply));
  }

  /// Kills the child now (shutdown after --drain); its request is answered ShuttingDown.
  void abort() {
    if (m_finished) return;
    m_aborted = true;
    if (m_child) m_child->signal(SIGKILL);
  }

 private:
  void read_stdout() {
    auto self = shared_from_this();
    m_out.async_read_some(asio::buffer(m_out_buf), [self](const boost::system::error_code& ec, std::size_t n) {
      const std::size_t limit = self->m_owner->m_options.max_output;
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
        const std::size_t keep = self->m_owner->m_options.stderr_tail;
        if (self->m_stderr.size() > 2 * keep) self->m_stderr.erase(0, self->m_stderr.size() - keep);
        self->read_stderr();
        return;
      }
      self->m_err_eof = true;
      self->maybe_finish();
    });
  }

  void arm_timeout() {
    auto self = shared_from_this();
    if (m_owner->m_options.timeout.count() <= 0) return;  // --timeout 0: no limit
    m_timer.expires_after(m_owner->m_options.timeout);
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
      self->m_timer.expires_after(self->m_owner->m_options.kill_grace);
      self->m_timer.async_wait([self](const boost::system::error_code& ec2) {
        if (ec2 || self->m_finished) return;
        if (self->m_child) self->m_child->signal(SIGKILL);
        if (self->m_exited) {
          self->close_pipes();
          self->m_out_eof = self->m_err_eof = true;
          self->maybe_finish();
        }
      });
    });
  }

  void close_pipes() {
    boost::system::error_code ignored;
    m_in.close(ignored);
    m_out.close(ignored);
    m_err.close(ignored);
  }

  std::string stderr_tail() const {
    std::string_view s = m_stderr;
    const std::size_t keep = m_owner->m_options.stderr_tail;
    if (s.size() > keep) {
      s.remove_prefix(s.size() - keep);
      auto nl = s.find('\n');
      if (nl != std::string_view::npos && nl + 1 < s.size()) s.remove_prefix(nl + 1);
    }
    return std::string(trim(s));
  }

  void maybe_finish() {
    if (m_finished || !m_exited || !m_out_eof || !m_err_eof) return;
    m_timer.cancel();
    close_pipes();
    const ExecOptions& o = m_owner->m_options;
    const Log& log = m_owner->m_log;
    Log::Field conn{"connection", std::to_string(m_job.connection)};
    Log::Field req{"request", std::to_string(m_job.request)};
    Reply reply;
    if (m_aborted) {
      reply = encode(error_object("ShuttingDown", "server shut down before the handler finished"));
    } else if (m_timed_out) {
      Json j = error_object("HandlerTimeout", "handler timed out after " + seconds_text(o.timeout) + " and was killed");
      j["limit"] = static_cast<double>(o.timeout.count()) / 1000.0;
      log.error("handler_timeout", {conn, req, {"limit", seconds_text(o.timeout)}});
      reply = encode(j);
    } else if (m_too_big) {
      Json j = error_object("BadHandlerOutput",
                            "handler output exceeds --max-output (" + std::to_string(o.max_output) + " bytes)");
      j["limit"] = o.max_output;
      log.error("handler_output_too_large", {conn, req, {"limit", std::to_string(o.max_output)}});
      reply = encode(j);
    } else if (!m_status.success()) {
      Json j = error_object("HandlerFailed", "handler " + m_status.describe());
      if (m_status.signal != 0) {
        j["signal"] = m_status.signal;
      } else {
        j["status"] = m_status.code;
      }
      std::string tail = stderr_tail();
      if (!tail.empty()) j["stderr"] = tail;
      log.error("handler_failed", {conn, req, {"reason", m_status.describe()}, {"stderr", tail}});
      reply = encode(j);
    } else {
      std::string_view out = trim(m_stdout);
      if (!out.empty()) {
        std::string why;
        auto value = compact_form(out, &why);
        if (value) {
          reply = std::move(*value);
        } else {
          Json j = error_object("BadHandlerOutput", "handler output is not one JSON value: " + why);
          log.error("bad_handler_output", {conn, req, {"reason", why}});
          reply = encode(j);
        }
      }
      if (!m_stderr.empty()) log.debug("handler_stderr", {conn, req, {"stderr", stderr_tail()}});
    }
    complete(std::move(reply));
  }

  void complete(Reply reply) {
    m_finished = true;
    m_child.reset();
    auto done = std::move(m_job.done);
    // Free the slot first: the reply may be the last thing a stopping server waits for.
    m_owner->finished();
    done(std::move(reply));
  }

  std::shared_ptr<ExecHandler> m_owner;
  Job m_job;
  asio::posix::stream_descriptor m_in, m_out, m_err;
  asio::steady_timer m_timer;
  std::unique_ptr<Child> m_child;
  std::array<char, 16384> m_out_buf{};
  std::array<char, 4096> m_err_buf{};
  std::string m_stdout, m_stderr;
  ExitStatus m_status;
  bool m_exited = false, m_out_eof = false, m_err_eof = false;
  bool m_timed_out = false, m_too_big = false, m_aborted = false, m_finished = false;
};

ExecHandler::ExecHandler(asio::any_io_executor executor, ExecOptions options, const Log& log)
    : m_executor(std::move(executor)), m_options(std::move(options)), m_log(log) {
  // A handler that exits without reading its stdin must not kill the server.
  ::signal(SIGPIPE, SIG_IGN);
}

ExecHandler::~ExecHandler() = default;

std::vector<std::string> ExecHandler::environment_for(Job& job) const {
  std::vector<std::string> env;
  env.reserve(m_options.env.size() + job.ucspi.size() + 2);
  env = m_options.env;
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
  if (m_running < m_options.max_handlers) {
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
  auto run = std::make_shared<Run>(shared_from_this(), std::move(job));
  std::erase_if(m_runs, [](const std::weak_ptr<Run>& w) { return w.expired(); });
  m_runs.push_back(run);
  run->start();
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
    job.done(encode(error_object("ShuttingDown", "server shut down before the request was handled")));
  }
  for (auto& w : m_runs) {
    if (auto run = w.lock()) run->abort();
  }
}

}  // namespace ipc
