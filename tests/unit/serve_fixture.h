#pragma once
// What the Connection and Server tests share: an io_context run until a condition
// (bounded), a client end that reads whole lines, and a Handler the test answers by
// hand, so ordering, backpressure and limits are seen without a child process.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/base/fd.h"
#include "ipc/server/handler.h"
#include "ipc/server/log.h"

namespace serve_test {

using namespace std::chrono_literals;

/// Runs `io` until `done()` holds; false after 5 s (every wait is bounded).
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done) {
  const auto limit = std::chrono::steady_clock::now() + 5s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > limit) return false;
    io.restart();
    io.run_for(5ms);
  }
  return true;
}

/// The test's end of a connection: writes requests, collects reply lines.
class Client {
 public:
  explicit Client(ipc::Fd fd) : m_fd(std::move(fd)) { ipc::set_nonblocking(m_fd.get()); }
  void send(std::string_view text) const {
    while (!text.empty()) {
      ssize_t n = ::write(m_fd.get(), text.data(), text.size());
      ASSERT_GT(n, 0) << "write to the connection failed";
      text.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  void shut_write() const { ::shutdown(m_fd.get(), SHUT_WR); }
  /// Reads what has arrived; splits it into lines.
  void poll() {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(m_fd.get(), buf, sizeof buf);
      if (n == 0) m_eof = true;
      if (n <= 0) break;
      m_partial.append(buf, static_cast<std::size_t>(n));
    }
    for (std::size_t nl; (nl = m_partial.find('\n')) != std::string::npos;) {
      lines.push_back(m_partial.substr(0, nl));
      m_partial.erase(0, nl + 1);
    }
  }
  /// Runs `io` until `n` lines have arrived (or the wait's bound).
  bool wait_lines(boost::asio::io_context& io, std::size_t n) {
    return run_until(io, [&] {
      poll();
      return lines.size() >= n;
    });
  }
  bool wait_eof(boost::asio::io_context& io) {
    return run_until(io, [&] {
      poll();
      return m_eof;
    });
  }
  std::vector<std::string> lines;

 private:
  ipc::Fd m_fd;
  std::string m_partial;
  bool m_eof = false;
};

/// A Handler answered by the test: each request waits in `requests` until answer().
class ManualHandler : public ipc::Handler {
 public:
  struct Request {
    std::string line;
    ipc::ReplyCallback done;
  };
  void handle(const ipc::RequestContext&, std::string_view line, ipc::ReplyCallback done) override {
    requests.push_back({std::string(line), std::move(done)});
    ++m_in_flight;
  }
  std::size_t in_flight() const override { return m_in_flight; }
  void abort_all() override {
    for (auto& r : requests)
      if (r.done) answer_request(r, R"({"error":"aborted","type":"ShuttingDown"})");
  }
  /// Answers request `i` (from 0) with `reply` (nullopt: a notification).
  void answer(std::size_t i, ipc::Reply reply) { answer_request(requests.at(i), std::move(reply)); }
  std::vector<Request> requests;

 private:
  void answer_request(Request& r, ipc::Reply reply) {
    auto done = std::move(r.done);
    r.done = nullptr;
    --m_in_flight;
    done(std::move(reply));
  }
  std::size_t m_in_flight = 0;
};

/// A Log that writes nowhere (the tests read replies, not log lines).
inline const ipc::Log& quiet_log() {
  static const int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  static const ipc::Log log(ipc::LogLevel::error, ipc::LogFormat::text, fd);
  return log;
}

}  // namespace serve_test
