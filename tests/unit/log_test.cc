// Log lines (man/ipcat.1, LOG): numbers stay numbers in JSON, objects flatten in
// text, one duration format; the request log's outcome and totals.
#include "ipc/server/log.h"

#include <gtest/gtest.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <string>

#include "ipc/server/handlers/handler_report.h"
#include "ipc/server/request_log.h"

namespace {

using namespace std::chrono_literals;

/// Everything a Log writes, read back from a pipe.
class Captured {
 public:
  Captured() {
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    m_read = p[0];
    m_write = p[1];
  }
  ~Captured() {
    ::close(m_read);
    ::close(m_write);
  }
  int fd() const { return m_write; }
  /// Bytes written and not read yet.
  int waiting() const {
    int n = -1;
    ::ioctl(m_read, FIONREAD, &n);
    return n;
  }
  std::string text() const {
    char buf[8192];
    ssize_t n = ::read(m_read, buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  int m_read = -1, m_write = -1;
};

TEST(Log, JsonNumbersAreNumbersAndTextQuotesWhatNeedsIt) {
  Captured out;
  ipc::Log json(ipc::LogLevel::info, ipc::LogFormat::json, out.fd());
  json.info("x", {{"connection", std::uint64_t{7}}, {"ms", 1.5}, {"peer", "pid=1 uid=2"}});
  auto line = ipc::parse_json(out.text());
  ASSERT_TRUE(line);
  EXPECT_TRUE((*line)["connection"].is_number_integer());
  EXPECT_EQ((*line)["connection"], 7);
  EXPECT_EQ((*line)["ms"], 1.5);
  EXPECT_EQ((*line)["peer"], "pid=1 uid=2");

  ipc::Log text(ipc::LogLevel::info, ipc::LogFormat::text, out.fd());
  ipc::Json routes = {{"status", {{"requests", 2}, {"errors", 0}}}};
  text.info("stopped", {{"requests", 2}, {"routes", routes}, {"why", "a b"}});
  EXPECT_NE(out.text().find(": stopped requests=2 routes.status.requests=2 routes.status.errors=0 why=\"a b\"\n"),
            std::string::npos);
}

TEST(Log, WhileTheLoopRunsLinesOfOneTurnShareAWriteAndNoneIsLost) {
  Captured out;
  boost::asio::io_context io;
  {
    ipc::Log log(ipc::LogLevel::info, ipc::LogFormat::text, out.fd());
    log.batch_on(io.get_executor());
    log.info("one", {{"n", 1}});
    log.info("two", {{"n", 2}});
    EXPECT_EQ(out.waiting(), 0) << "written before the loop's turn was over";
    io.run();
    EXPECT_EQ(out.text(), "ipcat[" + std::to_string(::getpid()) + "]: one n=1\nipcat[" + std::to_string(::getpid()) +
                              "]: two n=2\n");
    // A line too long to share a write goes out alone, after what was gathered.
    log.info("short");
    log.info("long", {{"text", std::string(PIPE_BUF, 'x')}});
    EXPECT_GT(out.waiting(), PIPE_BUF) << "the long line waited";
    out.text();  // (reads up to 8 KiB: both)
    // Stopping the batching, or the Log's end, writes what is gathered.
    log.info("gathered");
    log.batch_on(std::nullopt);
    EXPECT_NE(out.text().find("gathered"), std::string::npos);
    log.info("direct");
    EXPECT_NE(out.text().find("direct"), std::string::npos);
    log.batch_on(io.get_executor());
    log.info("at the end");
  }
  EXPECT_NE(out.text().find("at the end"), std::string::npos) << "lost when the Log ended";
}

TEST(Log, OneDurationFormat) {
  EXPECT_EQ(ipc::duration_text(2000ms), "2 s");
  EXPECT_EQ(ipc::duration_text(1500ms), "1.5 s");
  EXPECT_EQ(ipc::duration_text(500ms), "500 ms");
  EXPECT_EQ(ipc::duration_text(412us), "0.412 ms");
  EXPECT_EQ(ipc::duration_text(30s), "30 s");
  EXPECT_DOUBLE_EQ(ipc::duration_ms(3214567ns), 3.215);
}

TEST(HandlerReport, ExcerptsAreBoundedAndCutAtCharacters) {
  EXPECT_EQ(ipc::excerpt_head("short", 10), "short");
  EXPECT_EQ(ipc::excerpt_head("abcdef", 3), "abc...");
  // "é" is two bytes: a cut inside it goes back to before it.
  EXPECT_EQ(ipc::excerpt_head("a\xc3\xa9", 2), "a...");
  EXPECT_EQ(ipc::excerpt_head("anything", 0), "...");
  EXPECT_EQ(ipc::excerpt_tail("one\ntwo\nthree\n", 100), "one\ntwo\nthree");
  EXPECT_EQ(ipc::excerpt_tail("one\ntwo\nthree\n", 9), "three");  // from a line start
  EXPECT_EQ(ipc::excerpt_tail("\xc3\xa9\xc3\xa9", 3), "\xc3\xa9");  // no half character
  EXPECT_EQ(ipc::excerpt_tail("anything", 0), "");
}

TEST(RequestLog, OutcomeFromTheReplyAndTotalsPerRoute) {
  Captured out;
  ipc::Log log(ipc::LogLevel::info, ipc::LogFormat::json, out.fd());
  ipc::RequestLog requests(log, 2048);
  requests.add_route("idle");
  ipc::Outcome routed;
  routed.route = routed.method = "status";
  routed.pid = 42;
  routed.status = 0;
  requests.finished(1, 1, 2ms, std::string(R"({"ok":true})"), routed);
  auto ok = ipc::parse_json(out.text());
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["event"], "request_done");
  EXPECT_EQ((*ok)["outcome"], "ok");
  EXPECT_EQ((*ok)["method"], "status");
  EXPECT_EQ((*ok)["handler_pid"], 42);
  EXPECT_EQ((*ok)["ms"], 2.0);

  // A handler's own error object counts by its type; an error with none as "error".
  requests.finished(1, 2, 1ms, std::string(R"({"error":"no such service","type":"NoSuchService"})"), routed);
  EXPECT_NE(out.text().find(R"("outcome":"NoSuchService","status":0,"error":"no such service")"), std::string::npos);
  requests.finished(1, 3, 1ms, std::string(R"({"jsonrpc":"2.0","error":{"code":1}})"), {});
  EXPECT_NE(out.text().find(R"("outcome":"error")"), std::string::npos);
  requests.finished(1, 4, 1ms, std::nullopt, {});
  EXPECT_NE(out.text().find(R"("outcome":"notify")"), std::string::npos);
  ipc::Outcome gone;
  gone.cancelled = true;
  requests.finished(1, 5, 1ms, std::nullopt, gone);
  EXPECT_NE(out.text().find(R"("outcome":"cancelled")"), std::string::npos);

  log.write(ipc::LogLevel::info, "stopped", std::span<const ipc::Log::Field>(requests.summary()));
  auto stopped = ipc::parse_json(out.text());
  ASSERT_TRUE(stopped);
  EXPECT_EQ((*stopped)["requests"], 5);
  EXPECT_EQ((*stopped)["ok"], 1);
  EXPECT_EQ((*stopped)["errors"], 2);
  EXPECT_EQ((*stopped)["notify"], 1);
  EXPECT_EQ((*stopped)["cancelled"], 1);
  EXPECT_EQ((*stopped)["routes"]["status"]["requests"], 2);
  EXPECT_EQ((*stopped)["routes"]["status"]["errors"], 1);
  EXPECT_TRUE((*stopped)["routes"]["status"]["p99_ms"].is_number());
  EXPECT_EQ((*stopped)["routes"]["idle"]["requests"], 0);
}

}  // namespace
