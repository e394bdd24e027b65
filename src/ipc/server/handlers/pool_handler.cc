#include "ipc/server/handlers/pool_handler.h"

#include <signal.h>
#include <unistd.h>

#include <array>
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

namespace asio = boost::asio;

namespace ipc {
namespace {

constexpr int k_failures_before_giving_up = 3;
constexpr auto k_healthy_after = std::chrono::seconds(1);

std::string ms_text(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + "ms"; }

}  // namespace

/// One worker process and its pipes; survives its child's restarts.
class PoolHandler::Worker : public std::enable_shared_from_this<Worker> {
 public:
  Worker(PoolHandler& pool, std::size_t index)
      : m_pool(pool),
        m_index(index),
        m_in(pool.m_executor),
        m_out(pool.m_executor),
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
    m_retire = false;
    m_answer.reset();
    try {
      Pipe in = make_pipe(), out = make_pipe();
      SpawnOptions s;
      s.executable = o.executable;
      s.argv = o.argv;
      s.env = o.env;
      s.env->push_back("IPCAT_WORKER=" + std::to_string(m_index));
      s.stdin_fd = in.read.get();
      s.stdout_fd = out.write.get();
      m_child = Child::spawn(m_pool.m_executor, s);
      set_nonblocking(in.write.get());
      set_nonblocking(out.read.get());
      m_in.assign(in.write.release());
      m_out.assign(out.read.release());
    } catch (const Error& e) {
      if (initial) throw;
      m_child.reset();
      on_exit(e.what());
      return;
    }
    m_started = std::chrono::steady_clock::now();
    m_pool.m_log.debug("worker_started", {pool_field(), {"worker", std::to_string(m_index)},
                                          {"pid", std::to_string(m_child->pid())}});
    read_loop();
    auto self = shared_from_this();
    int gen = m_generation;
    m_child->async_wait([self, gen](ExitStatus status) {
      if (gen != self->m_generation) return;
      self->on_exit(status.describe());
    });
  }

  void assign(Job job) {
    m_job = std::move(job);
    auto self = shared_from_this();
    int gen = m_generation;
    // The write holds its own reference to the bytes: the job may end (timeout,
    // early or bad reply) while they are still being written.
    m_writing = true;
    asio::async_write(m_in, asio::buffer(*m_job->input),
                      [self, gen, input = m_job->input](const boost::system::error_code& ec, std::size_t) {
                        if (gen != self->m_generation) return;
                        self->m_writing = false;
                        // A write error means the worker is dying: its exit is handled by on_exit.
                        if (ec) {
                          self->kill();
                          return;
                        }
                        if (!self->m_job) {
                          self->m_timer.cancel();  // the early-answer wait (finish_job) is over
                          self->became_free();
                        }
                      });
    arm_timeout(gen);
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
        self->m_pool.m_log.error("worker_stuck", {self->pool_field(), {"worker", std::to_string(self->m_index)},
                                                  {"reason", "answered but did not read its whole request"}});
        self->kill();
        return;
      }
      Json j = error_object("HandlerTimeout", "worker timed out after " + ms_text(opt.timeout) + " and was restarted");
      j["limit"] = static_cast<double>(opt.timeout.count()) / 1000.0;
      self->m_dying = true;  // before finish_job(), which hands out the next job
      self->finish_job(encode(j));
      self->m_pool.m_log.error("worker_timeout", {self->pool_field(), {"worker", std::to_string(self->m_index)}});
      self->m_child->signal(SIGTERM);
      self->m_timer.expires_after(opt.kill_grace);
      self->m_timer.async_wait([self, gen](const boost::system::error_code& e2) {
        if (!e2 && gen == self->m_generation) self->kill();
      });
    });
  }

  /// Ends the in-flight request with `reply` and kills the worker (shutdown).
  void abort(const std::string& reply) {
    if (m_job) finish_job(reply, false);
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
    m_child.reset();  // kills the group and reaps
  }

 private:
  Log::Field pool_field() const { return {"pool", m_pool.m_options.name.empty() ? "default" : m_pool.m_options.name}; }

  void kill() {
    m_dying = true;
    if (m_child) m_child->signal(SIGKILL);
  }

  void read_loop() {
    auto self = shared_from_this();
    int gen = m_generation;
    m_out.async_read_some(asio::buffer(m_buf), [self, gen](const boost::system::error_code& ec, std::size_t n) {
      if (gen != self->m_generation) return;
      if (ec) {
        // stdout closed: the worker is useless now even if it lives on.
        self->kill();
        return;
      }
      if (!self->take(n)) return;
      // An answer is held back until everything the worker has written so far is
      // read: a second line in the same breath (a banner, a stray line) must fail
      // this request and this worker, never reach the next request.
      while (self->m_answer) {
        ssize_t k = ::read(self->m_out.native_handle(), self->m_buf.data(), self->m_buf.size());
        if (k <= 0) break;  // nothing more now (EAGAIN), or EOF: the next read sees it
        if (!self->take(static_cast<std::size_t>(k))) return;
      }
      if (self->m_answer) {
        Reply reply = std::move(*self->m_answer);
        self->m_answer.reset();
        self->m_failures = 0;  // it answered: healthy
        self->finish_job(std::move(reply));
        if (gen != self->m_generation) return;
      }
      self->read_loop();
    });
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
        bad_output(encode(j), "reply too long");
        return false;
      } else {
        return true;
      }
    }
  }

  bool on_line(std::string_view line) {
    if (!m_job || m_answer) {
      bad_output(encode(error_object("BadHandlerOutput", "worker wrote a line that answers no request")),
                 m_job ? "wrote a second line for one request" : "wrote a line with no request in flight");
      return false;
    }
    std::string why;
    auto value = compact_form(line, &why);
    if (!value) {
      bad_output(encode(error_object("BadHandlerOutput", "worker reply is not one JSON value: " + why)), why);
      return false;
    }
    m_answer = *value == "null" ? Reply() : Reply(std::move(*value));
    return true;
  }

  void bad_output(const std::string& reply, const std::string& why) {
    m_pool.m_log.error("bad_worker_output", {pool_field(), {"worker", std::to_string(m_index)}, {"reason", why}});
    m_dying = true;  // before finish_job(), which hands out the next job
    m_answer.reset();
    if (m_job) finish_job(reply);
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
    m_child.reset();  // kills the group and reaps
    m_failures = 0;
    m_pool.m_log.info("worker_replaced", {pool_field(), {"worker", std::to_string(m_index)}});
    spawn(false);
    m_pool.dispatch();
  }

  void finish_job(Reply reply, bool dispatch_next = true) {
    m_timer.cancel();
    auto job = std::move(*m_job);
    m_job.reset();
    // Answered before its request was all written: give the write --timeout to finish.
    if (m_writing && !m_dying) arm_timeout(m_generation);
    int gen = m_generation;
    job.done(std::move(reply));
    if (dispatch_next && gen == m_generation) became_free();
  }

  void on_exit(const std::string& how) {
    ++m_generation;  // ignore whatever the old child's operations still report
    m_timer.cancel();
    boost::system::error_code ec;
    m_in.close(ec);
    m_out.close(ec);
    m_child.reset();
    m_dying = false;
    m_writing = false;
    m_answer.reset();
    if (m_job) {
      Json j = error_object("HandlerFailed", "worker " + how + " while handling the request");
      finish_job(encode(j), false);
    }
    if (m_stopped || m_pool.m_aborting) return;
    bool quick = std::chrono::steady_clock::now() - m_started < k_healthy_after;
    m_failures = quick ? m_failures + 1 : 0;
    const auto& o = m_pool.m_options;
    auto wait = o.restart_backoff;
    for (int i = 1; i < m_failures && wait < o.max_backoff; ++i) wait *= 2;
    wait = std::min(wait, o.max_backoff);
    m_pool.m_log.error("worker_exited", {pool_field(), {"worker", std::to_string(m_index)}, {"reason", how},
                                         {"restart_in", ms_text(wait)}, {"quick_failures", std::to_string(m_failures)}});
    if (m_failures >= k_failures_before_giving_up)
      m_pool.m_log.error("workers_failing", {pool_field(), {"worker", std::to_string(m_index)},
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
  asio::posix::stream_descriptor m_in, m_out;
  asio::steady_timer m_timer;
  LineDecoder m_decoder;
  std::array<char, 16384> m_buf{};
  std::unique_ptr<Child> m_child;
  std::optional<Job> m_job;
  std::optional<Reply> m_answer;  // the reply read, held until the worker's output is drained
  std::chrono::steady_clock::time_point m_started;
  int m_generation = 0;
  int m_failures = 0;
  bool m_dying = false;
  bool m_writing = false;  // a request is being written to stdin
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

void PoolHandler::handle(const RequestContext&, std::string_view line, ReplyCallback done) {
  if (m_queue.size() >= m_options.max_queue) {
    Json j = error_object("Overloaded", "request queue is full (--max-queue " + std::to_string(m_options.max_queue) + ")");
    j["limit"] = m_options.max_queue;
    done(encode(j));
    return;
  }
  Job job;
  auto input = std::make_shared<std::string>();
  input->reserve(line.size() + 1);
  input->append(line);
  *input += '\n';
  job.input = std::move(input);
  job.done = std::move(done);
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
    job.done(encode(error_object(type, message)));
  }
}

std::size_t PoolHandler::in_flight() const {
  std::size_t n = m_queue.size();
  for (const auto& w : m_workers) n += w->busy() ? 1 : 0;
  return n;
}

void PoolHandler::reload() {
  if (m_aborting) return;
  m_log.info("workers_reloading", {{"pool", m_options.name.empty() ? "default" : m_options.name},
                                   {"workers", std::to_string(m_workers.size())}});
  for (auto& w : m_workers) w->retire();
  dispatch();
}

void PoolHandler::abort_all() {
  m_aborting = true;
  fail_queue("ShuttingDown", "server shut down before the request was handled");
  for (auto& w : m_workers) w->abort(encode(error_object("ShuttingDown", "server shut down before the worker answered")));
}

}  // namespace ipc
