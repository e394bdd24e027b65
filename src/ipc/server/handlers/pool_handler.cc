#include "ipc/server/handlers/pool_handler.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <optional>

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

constexpr int k_failures_before_giving_up = 3;
constexpr auto k_healthy_after = std::chrono::seconds(1);

}  // namespace

/// One worker process and its pipes; survives its child's restarts.
class PoolHandler::Worker : public std::enable_shared_from_this<Worker> {
 public:
  Worker(PoolHandler& pool, std::size_t index)
      : m_pool(pool),
        m_index(index),
        m_in(pool.m_executor),
        m_out(pool.m_executor),
        m_err(pool.m_executor),
        m_timer(pool.m_executor),
        m_decoder(pool.m_options.max_output) {}

  bool idle() const noexcept { return m_child && !m_job && !m_dying && !m_writing && !m_retire; }
  bool busy() const noexcept { return m_job.has_value(); }
  bool given_up() const noexcept { return !m_child && m_failures >= k_failures_before_giving_up; }

  /// Starts (or restarts) the child. Throws Error only when `initial` (bad executable).
  void spawn(bool initial) {
    const PoolOptions& o = m_pool.m_options;
    ++m_generation;
    m_decoder = LineDecoder(o.max_output);
    m_dying = false;
    m_writing = false;
    m_unsent = false;
    m_answered = false;
    m_out_reading = false;
    m_exit.reset();
    m_retire = false;
    m_answer.reset();
    m_stderr.clear();
    m_err_line.clear();
    try {
      Pipe in = make_pipe(), out = make_pipe(), err = make_pipe();
      SpawnOptions s;
      s.executable = o.executable;
      s.argv = o.argv;
      s.env = o.env;
      s.env->push_back("IPCAT_WORKER=" + std::to_string(m_index));
      s.stdin_fd = in.read.get();
      s.stdout_fd = out.write.get();
      s.stderr_fd = err.write.get();
      m_child = Child::spawn(m_pool.m_executor, s);
      set_nonblocking(in.write.get());
      set_nonblocking(out.read.get());
      set_nonblocking(err.read.get());
      m_in.assign(in.write.release());
      m_out.assign(out.read.release());
      m_err.assign(err.read.release());
    } catch (const Error& e) {
      if (initial) throw;
      m_child.reset();
      on_exit(e.what(), std::nullopt);
      return;
    }
    m_started = std::chrono::steady_clock::now();
    m_pool.m_log.debug("worker_started", {pool_field(), {"worker", m_index}, {"worker_pid", m_child->pid()}});
    read_loop();
    read_stderr();
    auto self = shared_from_this();
    int gen = m_generation;
    m_child->async_wait([self, gen](ExitStatus status) {
      if (gen != self->m_generation) return;
      self->exited(status.describe(), status);
    });
  }

  void assign(Job job) {
    m_job = std::move(job);
    int gen = m_generation;
    arm_timeout(gen);
    // Written at once where the pipe has room (a request under 64 KiB, the usual
    // case), so that a worker gone before it took any of it is known here.
    const std::string& input = *m_job->input;
    ssize_t k = ::write(m_in.native_handle(), input.data(), input.size());
    if (k == static_cast<ssize_t>(input.size())) return;
    if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      // EPIPE: it closed its stdin (it exited); on_exit() puts the request back.
      m_unsent = true;
      kill();
      return;
    }
    const std::size_t sent = k > 0 ? static_cast<std::size_t>(k) : 0;
    auto self = shared_from_this();
    // The write holds its own reference to the bytes: the job may end (timeout,
    // early or bad reply) while they are still being written.
    m_writing = true;
    asio::async_write(m_in, asio::buffer(input.data() + sent, input.size() - sent),
                      [self, gen, sent, input = m_job->input](const boost::system::error_code& ec, std::size_t n) {
                        if (gen != self->m_generation) return;
                        self->m_writing = false;
                        // A write error means the worker is dying: its exit is handled by on_exit.
                        if (ec) {
                          self->m_unsent = sent + n == 0;  // it closed its stdin before any of it
                          self->kill();
                          return;
                        }
                        if (!self->m_job) {
                          self->m_timer.cancel();  // the early-answer wait (finish_job) is over
                          self->became_free();
                        }
                      });
  }

  /// The client of the request in flight has gone: stop the worker (it is restarted).
  void cancel(std::uint64_t connection) {
    if (!m_job || m_job->connection != connection || m_dying) return;
    m_dying = true;  // before finish_job(), which hands out the next job
    Outcome outcome = outcome_now();
    outcome.cancelled = true;
    finish_job(std::nullopt, std::move(outcome));
    m_pool.m_log.info("worker_cancelled", {pool_field(), {"worker", m_index}, {"connection", connection}});
    term_then_kill(m_generation);
  }

  /// SIGHUP: replace this worker's process as soon as it has no request (now, if idle).
  void retire() {
    m_retire = true;
    if (m_child && !m_job && !m_writing && !m_dying) replace();
  }

  /// --timeout for the request in flight (0: none).
  void arm_timeout(int gen) {
    const auto& o = m_pool.m_options;
    if (o.timeout.count() <= 0) return;
    auto self = shared_from_this();
    m_timer.expires_after(o.timeout);
    m_timer.async_wait([self, gen](const boost::system::error_code& ec) {
      if (ec || gen != self->m_generation) return;
      const auto& opt = self->m_pool.m_options;
      if (!self->m_job) {
        // It answered but never read the rest of its request: useless, replace it.
        self->m_pool.m_log.error("worker_stuck", {self->pool_field(), {"worker", self->m_index},
                                                  {"reason", "answered but did not read its whole request"}});
        self->kill();
        return;
      }
      // The usual cause: a reply written but not flushed (Python's stdout is
      // block-buffered on a pipe). Say what came, if anything.
      const std::size_t partial = self->m_decoder.buffered();
      std::string hint = partial > 0 ? "; it wrote " + std::to_string(partial) + " bytes without a newline"
                                     : "; it wrote nothing: a worker must write one line per request and flush it";
      Json j = error_object("HandlerTimeout", "worker timed out after " + duration_text(opt.timeout) +
                                                  " and was restarted" + hint);
      j["limit"] = static_cast<double>(opt.timeout.count()) / 1000.0;
      self->m_dying = true;  // before finish_job(), which hands out the next job
      self->drain_stderr();
      self->finish_job(self->failure(std::move(j)), self->failure_outcome());
      self->m_pool.m_log.error("worker_timeout", {self->pool_field(), {"worker", self->m_index}});
      self->term_then_kill(gen);
    });
  }

  /// SIGTERM to the worker's group now, SIGKILL after the grace.
  void term_then_kill(int gen) {
    auto self = shared_from_this();
    if (m_child) m_child->signal(SIGTERM);
    m_timer.expires_after(m_pool.m_options.kill_grace);
    m_timer.async_wait([self, gen](const boost::system::error_code& e2) {
      if (!e2 && gen == self->m_generation) self->kill();
    });
  }

  /// Ends the in-flight request with `reply` and kills the worker (shutdown).
  void abort(const std::string& reply) {
    if (m_job) finish_job(reply, outcome_now(), false);
    m_stopped = true;
    kill();
  }

  void stop() noexcept {
    m_stopped = true;
    ++m_generation;
    try {
      m_timer.cancel();  // reports a failure by throwing; a stopping worker has no use for it
    } catch (const boost::system::system_error&) {
    }
    boost::system::error_code ec;
    m_in.close(ec);
    m_out.close(ec);
    m_err.close(ec);
    m_child.reset();  // kills the group and reaps
  }

 private:
  Log::Field pool_field() const { return {"pool", m_pool.name()}; }

  /// Who is answering, for the request log.
  Outcome outcome_now() const {
    Outcome o;
    if (m_child) o.pid = m_child->pid();
    return o;
  }

  Outcome failure_outcome() const {
    Outcome o = outcome_now();
    o.stderr_tail = excerpt_tail(m_stderr, m_pool.m_options.max_quoted);
    return o;
  }

  /// The error reply `j` with the stderr tail.
  std::string failure(Json j) const {
    add_stderr(j, excerpt_tail(m_stderr, m_pool.m_options.max_quoted));
    return encode(j);
  }

  /// Waits for stderr to be readable and reads it here, not in Asio's reactor: a
  /// read the reactor has done but whose handler has not yet run would hide the
  /// worker's last words from drain_stderr() (its exit can be handled first).
  void read_stderr() {
    auto self = shared_from_this();
    int gen = m_generation;
    m_err.async_wait(asio::posix::descriptor_base::wait_read, [self, gen](const boost::system::error_code& ec) {
      if (gen != self->m_generation || ec) return;
      if (self->read_available_stderr()) self->read_stderr();  // else EOF: the worker is going; its exit says the rest
    });
  }

  /// Reads what is in the stderr pipe now. False at EOF (or an error).
  bool read_available_stderr() {
    return read_now(m_err, m_err_buf, [this](std::size_t n) {
             take_stderr(n);
             return true;
           }) == Drained::more;
  }

  enum class Drained { more, eof, killed };
  /// Reads `d` into `buf` until it would block (more) or ends (eof, or an error),
  /// giving each chunk's size to `take`; `killed` as soon as `take` says false.
  template <class Buffer, class Take>
  static Drained read_now(asio::posix::stream_descriptor& d, Buffer& buf, Take take) {
    for (;;) {
      ssize_t k = ::read(d.native_handle(), buf.data(), buf.size());
      if (k > 0) {
        if (!take(static_cast<std::size_t>(k))) return Drained::killed;
        continue;
      }
      if (k < 0 && errno == EINTR) continue;
      return k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? Drained::more : Drained::eof;
    }
  }

  /// Keeps the tail of what the worker wrote on stderr and logs it line by line.
  void take_stderr(std::size_t n) {
    const std::string_view bytes(m_err_buf.data(), n);
    const std::size_t keep = m_pool.m_options.max_quoted;
    m_stderr.append(bytes);
    if (m_stderr.size() > 2 * keep) m_stderr.erase(0, m_stderr.size() - 2 * keep);  // tail from a line start
    for (char c : bytes) {
      if (c == '\n') {
        log_stderr_line();
      } else if (m_err_line.size() < keep) {
        m_err_line += c;
      }
    }
  }

  void log_stderr_line() {
    if (!trim(m_err_line).empty())
      m_pool.m_log.info("worker_stderr", {pool_field(), {"worker", m_index},
                                          {"worker_pid", m_child ? m_child->pid() : 0}, {"line", excerpt_head(m_err_line, m_pool.m_options.max_quoted)}});
    m_err_line.clear();
  }

  /// What the exited worker left in its stderr pipe, read now: its last words
  /// (a traceback) belong in the reply of the request it failed.
  void drain_stderr() {
    if (!m_err.is_open()) return;
    read_available_stderr();  // up to EOF, or what there is now (something else may hold the pipe)
    if (!m_err_line.empty()) log_stderr_line();
  }

  /// Bytes written to the worker's stdin that it has not read (FIONREAD works on
  /// either end of a pipe).
  std::size_t unread_input() {
    int n = 0;
    if (!m_in.is_open() || ::ioctl(m_in.native_handle(), FIONREAD, &n) != 0 || n < 0) return 0;
    return static_cast<std::size_t>(n);
  }

  void kill() {
    m_dying = true;
    if (m_child) m_child->signal(SIGKILL);
  }

  /// Reads the worker's stdout. Asio reads in its reactor, so an exit heard of while
  /// a read is pending is held until that read's handler has run (exited()): the
  /// answer a worker wrote just before it exited may be in the reactor's hands.
  void read_loop() {
    auto self = shared_from_this();
    int gen = m_generation;
    m_out_reading = true;
    m_out.async_read_some(asio::buffer(m_buf), [self, gen](const boost::system::error_code& ec, std::size_t n) {
      if (gen != self->m_generation) return;
      self->m_out_reading = false;
      if (self->m_exit) {
        // It has exited: what this read brought first (unless the read was only
        // cancelled), then the exit, which reads the rest of the pipe.
        if (!ec) self->take(n);
        self->finish_exit();
        return;
      }
      if (ec) {
        // stdout closed: the worker is useless now even if it lives on.
        self->kill();
        return;
      }
      if (!self->take(n)) return;
      const Drained d = self->m_answer ? self->read_available_stdout() : Drained::more;
      if (d == Drained::killed) return;
      self->deliver_answer();
      if (gen != self->m_generation) return;
      if (d == Drained::eof) {
        self->kill();
        return;
      }
      self->read_loop();
    });
  }

  /// The child has exited: handled now, or once the pending stdout read is back.
  void exited(const std::string& how, const std::optional<ExitStatus>& status) {
    if (!m_out_reading) {
      on_exit(how, status);
      return;
    }
    m_exit = PendingExit{how, status};
    boost::system::error_code ec;
    m_out.cancel(ec);  // its handler runs at once, with what the reactor read or with none
  }

  void finish_exit() {
    PendingExit e = std::move(*m_exit);
    m_exit.reset();
    on_exit(e.how, e.status);
  }

  /// Reads all the worker's stdout holds now. An answer is held back until then: a
  /// second line in the same breath (a banner, a stray line) must fail this request
  /// and this worker, never reach the next request. `killed`: it is being killed
  /// for what it wrote. What is read is bounded (--max-output, then one line).
  Drained read_available_stdout() {
    return read_now(m_out, m_buf, [this](std::size_t n) { return take(n); });
  }

  /// Answers the request in flight with the reply read, if there is one.
  void deliver_answer(bool dispatch_next = true) {
    if (!m_answer) return;
    Reply reply = std::move(*m_answer);
    m_answer.reset();
    m_failures = 0;  // it answered: healthy
    m_answered = true;
    finish_job(std::move(reply), outcome_now(), dispatch_next);
  }

  /// Feeds `n` bytes of m_buf to the decoder and takes the lines. False once the
  /// worker is being killed for what it wrote.
  bool take(std::size_t n) {
    m_decoder.feed(std::string_view(m_buf.data(), n));
    for (;;) {
      auto r = m_decoder.next();
      if (r.status == LineDecoder::Status::line) {
        if (!on_line(r.line)) return false;
      } else if (r.status == LineDecoder::Status::too_long) {
        const auto limit = m_pool.m_options.max_output;
        Json j = error_object("BadHandlerOutput", "worker reply exceeds --max-output (" + std::to_string(limit) + " bytes)");
        j["limit"] = limit;
        bad_output(std::move(j), "reply too long");
        return false;
      } else {
        return true;
      }
    }
  }

  bool on_line(std::string_view line) {
    const std::size_t quoted = m_pool.m_options.max_quoted;
    if (!m_job || m_answer) {
      Json j = error_object("BadHandlerOutput", "worker wrote a line that answers no request");
      j["output"] = excerpt_head(line, quoted);
      bad_output(std::move(j), m_job ? "wrote a second line for one request" : "wrote a line with no request in flight",
                 line);
      return false;
    }
    std::string why;
    auto value = compact_form(line, &why);
    if (!value) {
      Json j = error_object("BadHandlerOutput", "worker reply is not one JSON value: " + why);
      j["output"] = excerpt_head(line, quoted);
      bad_output(std::move(j), why, line);
      return false;
    }
    m_answer = *value == "null" ? Reply() : Reply(std::move(*value));
    return true;
  }

  void bad_output(Json j, const std::string& why, std::string_view line = {}) {
    m_pool.m_log.error("bad_worker_output", {pool_field(), {"worker", m_index}, {"reason", why},
                                             {"output", excerpt_head(line, m_pool.m_options.max_quoted)}});
    m_dying = true;  // before finish_job(), which hands out the next job
    m_answer.reset();
    drain_stderr();  // what it said before the bad line belongs in the reply
    if (m_job) {
      Outcome outcome = failure_outcome();
      outcome.output = excerpt_head(line, m_pool.m_options.max_quoted);
      finish_job(failure(std::move(j)), std::move(outcome));
    }
    kill();
  }

  /// No request and nothing being written: a retiring worker is replaced, an idle
  /// one takes the next job.
  void became_free() {
    if (m_dying || m_writing || m_job) return;
    if (m_retire) {
      replace();
      return;
    }
    m_pool.dispatch();
  }

  /// Stops this process (it is idle) and starts a new one at once.
  void replace() {
    ++m_generation;
    m_timer.cancel();
    boost::system::error_code ec;
    m_in.close(ec);
    m_out.close(ec);
    m_err.close(ec);
    m_child.reset();  // kills the group and reaps
    m_failures = 0;
    m_pool.m_log.info("worker_replaced", {pool_field(), {"worker", m_index}});
    spawn(false);
    m_pool.dispatch();
  }

  void finish_job(Reply reply, Outcome outcome, bool dispatch_next = true) {
    m_timer.cancel();
    auto job = std::move(*m_job);
    m_job.reset();
    // Answered before its request was all written: give the write --timeout to finish.
    if (m_writing && !m_dying) arm_timeout(m_generation);
    int gen = m_generation;
    job.done(std::move(reply), std::move(outcome));
    if (dispatch_next && gen == m_generation) became_free();
  }

  void on_exit(const std::string& how, const std::optional<ExitStatus>& status) {
    ++m_generation;  // ignore whatever the old child's operations still report
    m_timer.cancel();
    // An answer written just before the exit (a worker that ends after each request,
    // or after N) is the request's answer, not a failure. (No next job for it: it is gone.)
    if (m_job && m_out.is_open() && read_available_stdout() != Drained::killed) deliver_answer(false);
    if (m_job && (m_unsent || (!m_writing && unread_input() == m_job->input->size()))) {
      // It exited before reading any of the request: a worker that ends after each
      // request (or after N) is given the next one in the moment before its exit is
      // seen. Nothing of it was done: it goes back to the head of the queue.
      m_pool.m_log.info("request_requeued", {pool_field(), {"worker", m_index}, {"connection", m_job->connection}});
      m_pool.m_queue.push_front(std::move(*m_job));
      m_job.reset();
    }
    drain_stderr();
    Outcome outcome = failure_outcome();
    boost::system::error_code ec;
    m_in.close(ec);
    m_out.close(ec);
    m_err.close(ec);
    m_child.reset();
    m_dying = false;
    m_writing = false;
    m_answer.reset();
    // Status 0 after answering, with nothing failed: a worker recycling itself
    // (after each request, or after N). Its successor starts at once: that is no
    // failure to back off from, and each restart is paid for by an answer.
    const bool recycled = !m_job && m_answered && status && status->signal == 0 && status->code == 0;
    if (m_job) {
      // As in request mode: the status (or signal) and the last lines of stderr.
      Json j = error_object("HandlerFailed", "worker " + how + " while handling the request");
      if (status) {
        add_exit_status(j, *status);
        outcome.status = status->signal != 0 ? -1 : status->code;
        outcome.signal = status->signal;
      }
      finish_job(failure(std::move(j)), std::move(outcome), false);
    }
    if (m_stopped || m_pool.m_aborting) return;
    if (recycled) {
      m_pool.m_log.debug("worker_recycled", {pool_field(), {"worker", m_index}});
      spawn(false);
      m_pool.dispatch();
      return;
    }
    bool quick = std::chrono::steady_clock::now() - m_started < k_healthy_after;
    m_failures = quick ? m_failures + 1 : 0;
    const auto& o = m_pool.m_options;
    auto wait = o.restart_backoff;
    for (int i = 1; i < m_failures && wait < o.max_backoff; ++i) wait *= 2;
    wait = std::min(wait, o.max_backoff);
    m_pool.m_log.error("worker_exited", {pool_field(), {"worker", m_index}, {"reason", how},
                                         {"restart_in_ms", wait.count()}, {"quick_failures", m_failures}});
    if (m_failures >= k_failures_before_giving_up)
      m_pool.m_log.error("workers_failing", {pool_field(), {"worker", m_index},
                                             {"reason", "the worker keeps exiting at start; requests fail until it stays up"}});
    auto self = shared_from_this();
    int gen = m_generation;
    m_timer.expires_after(wait);
    m_timer.async_wait([self, gen](const boost::system::error_code& e) {
      if (e || gen != self->m_generation || self->m_stopped) return;
      self->spawn(false);
      self->m_pool.dispatch();
    });
    m_pool.dispatch();
  }

  PoolHandler& m_pool;
  std::size_t m_index;
  asio::posix::stream_descriptor m_in, m_out, m_err;
  asio::steady_timer m_timer;
  LineDecoder m_decoder;
  std::array<char, 16384> m_buf{};
  std::array<char, 4096> m_err_buf{};
  std::string m_stderr;    // the tail of what it wrote on stderr (2 x max_quoted at most)
  std::string m_err_line;  // the stderr line being read, for the log
  std::unique_ptr<Child> m_child;
  std::optional<Job> m_job;
  std::optional<Reply> m_answer;  // the reply read, held until the worker's output is drained
  std::chrono::steady_clock::time_point m_started;
  int m_generation = 0;
  int m_failures = 0;
  bool m_dying = false;
  bool m_writing = false;  // a request is being written to stdin
  bool m_unsent = false;   // its stdin was closed before any of the request was written
  bool m_answered = false; // this process has answered a request
  bool m_out_reading = false;  // a read of its stdout is pending
  struct PendingExit {
    std::string how;
    std::optional<ExitStatus> status;
  };
  std::optional<PendingExit> m_exit;  // its exit, held for the pending stdout read
  bool m_retire = false;   // SIGHUP: replace once free
  bool m_stopped = false;
};

PoolHandler::PoolHandler(asio::any_io_executor executor, PoolOptions options, const Log& log)
    : m_executor(std::move(executor)), m_options(std::move(options)), m_log(log) {
  ::signal(SIGPIPE, SIG_IGN);  // a dying worker must not take the server with it
}

PoolHandler::~PoolHandler() {
  for (auto& w : m_workers) w->stop();
}

void PoolHandler::start() {
  for (std::size_t i = 0; i < m_options.workers; ++i) {
    auto w = std::make_shared<Worker>(*this, i);
    m_workers.push_back(w);
    w->spawn(true);
  }
}

void PoolHandler::handle(const RequestContext& context, std::string_view line, ReplyCallback done) {
  if (m_queue.size() >= m_options.max_queue) {
    Json j = error_object("Overloaded", "request queue is full (--max-queue " + std::to_string(m_options.max_queue) + ")");
    j["limit"] = m_options.max_queue;
    done(encode(j), {});
    return;
  }
  Job job;
  auto input = std::make_shared<std::string>();
  input->reserve(line.size() + 1);
  input->append(line);
  *input += '\n';
  job.input = std::move(input);
  job.done = std::move(done);
  job.connection = context.connection;
  m_queue.push_back(std::move(job));
  dispatch();
}

void PoolHandler::dispatch() {
  if (m_aborting) return;
  for (auto& w : m_workers) {
    if (m_queue.empty()) return;
    if (!w->idle()) continue;
    Job job = std::move(m_queue.front());
    m_queue.pop_front();
    w->assign(std::move(job));
  }
  if (m_queue.empty()) return;
  // Nobody to run them: if every worker keeps dying at start, fail what waits.
  bool all_given_up = true;
  for (auto& w : m_workers) all_given_up = all_given_up && w->given_up();
  if (all_given_up) fail_queue("HandlerFailed", "no worker available: workers keep exiting at start (see the server log)");
}

void PoolHandler::fail_queue(const ErrorType& type, const std::string& message) {
  while (!m_queue.empty()) {
    Job job = std::move(m_queue.front());
    m_queue.pop_front();
    job.done(encode(error_object(type, message)), {});
  }
}

std::size_t PoolHandler::in_flight() const {
  std::size_t n = m_queue.size();
  for (const auto& w : m_workers) n += w->busy() ? 1 : 0;
  return n;
}

void PoolHandler::reload() {
  if (m_aborting) return;
  m_log.info("workers_reloading", {{"pool", name()}, {"workers", m_workers.size()}});
  for (auto& w : m_workers) w->retire();
  dispatch();
}

void PoolHandler::abort_all() {
  m_aborting = true;
  fail_queue("ShuttingDown", "server shut down before the request was handled");
  for (auto& w : m_workers) w->abort(encode(error_object("ShuttingDown", "server shut down before the worker answered")));
}

}  // namespace ipc

namespace ipc {

void PoolHandler::cancel(std::uint64_t connection) {
  std::vector<Job> dropped = take_jobs_of(m_queue, connection);
  for (auto& w : m_workers) w->cancel(connection);
  answer_cancelled(dropped);
}

}  // namespace ipc
