// Pins the tap's event logic (tap_events.h, tap_stats.h; man/ipcat.1, ipcat tap):
// pairing in order and by --match, lines split across reads, raw and too-long
// lines, and the latency histogram's precision.
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ipc/base/fd.h"
#include "ipc/tap/events.h"
#include "ipc/tap/output.h"
#include "ipc/tap/stats.h"

namespace {

using ipc::TapSide;

/// A recorder writing into a pipe; events() returns what it printed, parsed.
struct Harness {
  boost::asio::io_context io;
  ipc::Pipe pipe = ipc::make_pipe();
  ipc::TapOutput output{io, pipe.write.get(), 1 << 20};
  ipc::TapStats stats;
  ipc::TapRecorder recorder;
  ipc::PeerInfo peer;

  explicit Harness(ipc::TapEventOptions options) : recorder(std::move(options), output, stats, nullptr) {
    peer.pid = ::getpid();
    peer.uid = ::getuid();
    peer.gid = ::getgid();
  }

  std::vector<nlohmann::json> events() {
    output.finish(std::chrono::milliseconds(100));
    // The output holds descriptors of its own on the pipe: read what is there, no EOF.
    ipc::set_nonblocking(pipe.read.get());
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(pipe.read.get(), buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
    std::vector<nlohmann::json> out;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
      out.push_back(nlohmann::json::parse(text.substr(start, nl - start)));
    return out;
  }
};

TEST(LatencyHistogram, ExactBelow64MicrosecondsWithin3PercentAbove) {
  ipc::LatencyHistogram h;
  for (std::uint64_t v : {5, 7, 9}) h.add(v);
  EXPECT_EQ(h.quantile(0.5), 7);
  EXPECT_EQ(h.quantile(1.0), 9);
  for (std::uint64_t v : {100ULL, 1000ULL, 12345ULL, 1000000ULL, 123456789ULL}) {
    ipc::LatencyHistogram one;
    one.add(v);
    double q = one.quantile(0.99);
    EXPECT_NEAR(q, static_cast<double>(v), static_cast<double>(v) * 0.03) << v;
  }
  ipc::LatencyHistogram many;
  for (std::uint64_t v = 1; v <= 1000; ++v) many.add(v * 10);
  EXPECT_NEAR(many.quantile(0.5), 5000, 150);
  EXPECT_NEAR(many.quantile(0.99), 9900, 300);
}

TEST(TapRecorder, PairsInOrderAcrossReadsShowsRawAndPushes) {
  Harness h({});
  h.recorder.opened(1, h.peer);
  h.recorder.forwarded(1, TapSide::client, "{\"method\":\"a\", \"n\":1}\nnot js");
  h.recorder.forwarded(1, TapSide::client, "on\n");
  h.recorder.forwarded(1, TapSide::server, "{\"r\":1}\n{\"r\":");
  h.recorder.forwarded(1, TapSide::server, "2}\n{\"push\":true}\n");
  h.recorder.ended(1, TapSide::client);
  h.recorder.closed(1, "");
  auto ev = h.events();
  ASSERT_EQ(ev.size(), 7U);
  EXPECT_EQ(ev[0]["event"], "open");
  EXPECT_EQ(ev[0]["pid"], ::getpid());
  EXPECT_EQ(ev[1]["dir"], "request");
  EXPECT_EQ(ev[1]["msg"], nlohmann::json::parse("{\"method\":\"a\",\"n\":1}"));
  EXPECT_EQ(ev[2]["raw"], "not json");
  EXPECT_EQ(ev[2]["seq"], 2);
  EXPECT_EQ(ev[3]["dir"], "reply");
  EXPECT_EQ(ev[3]["seq"], 1);
  EXPECT_TRUE(ev[3]["ms"].is_number());
  EXPECT_EQ(ev[4]["seq"], 2);
  EXPECT_EQ(ev[5]["dir"], "push");
  EXPECT_EQ(ev[5]["seq"], 1);
  EXPECT_EQ(ev[6]["event"], "close");
  EXPECT_EQ(ev[6]["requests"], 2);
  EXPECT_EQ(ev[6]["pushes"], 1);
  EXPECT_EQ(h.stats.requests(), 2U);
}

TEST(TapRecorder, MatchPairsOutOfOrderByValue) {
  ipc::TapEventOptions o;
  o.match_key = "id";
  Harness h(o);
  h.recorder.opened(7, h.peer);
  h.recorder.forwarded(7, TapSide::client, "{\"id\":1}\n{\"id\":\"x\"}\n");
  // "\u0078" is "x": strings match by value, not by spelling.
  h.recorder.forwarded(7, TapSide::server, "{\"id\":\"\\u0078\",\"ok\":1}\n{\"event\":1}\n{\"id\":1}\n{\"id\":1}\n");
  auto ev = h.events();
  ASSERT_EQ(ev.size(), 7U);
  EXPECT_EQ(ev[3]["dir"], "reply");
  EXPECT_EQ(ev[3]["seq"], 2);
  EXPECT_EQ(ev[4]["dir"], "push");
  EXPECT_EQ(ev[5]["dir"], "reply");
  EXPECT_EQ(ev[5]["seq"], 1);
  EXPECT_EQ(ev[6]["dir"], "push");  // 1 was answered already
}

TEST(TapRecorder, ALineLongerThanMaxLineIsReportedAndTheNextOnesStillShown) {
  ipc::TapEventOptions o;
  o.max_line = 10;
  Harness h(o);
  h.recorder.opened(1, h.peer);
  h.recorder.forwarded(1, TapSide::client, "[1]\n" + std::string(30, 'x') + "\n[2]\n" + std::string(8, 'y'));
  h.recorder.forwarded(1, TapSide::client, std::string(8, 'y'));  // 16 bytes: too long again
  h.recorder.forwarded(1, TapSide::client, "yy\n[3]\n");
  auto ev = h.events();
  ASSERT_EQ(ev.size(), 6U);
  EXPECT_EQ(ev[1]["msg"], nlohmann::json::parse("[1]"));
  EXPECT_EQ(ev[2]["too_long"], true);
  EXPECT_EQ(ev[3]["msg"], nlohmann::json::parse("[2]"));
  EXPECT_EQ(ev[4]["too_long"], true);
  EXPECT_EQ(ev[5]["msg"], nlohmann::json::parse("[3]"));
  EXPECT_EQ(ev[5]["seq"], 5);
}

}  // namespace
