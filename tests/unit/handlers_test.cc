// Pins the line handlers (src/ipc/server/handlers/) in process: routing by method,
// --echo, and one real child per request (man/ipcat.1, ipcat serve and PROTOCOL).

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ipc/server/handlers/echo_handler.h"
#include "ipc/server/handlers/exec_handler.h"
#include "ipc/server/handlers/router_handler.h"
#include "ipc/server/worker_loops.h"
#include "ipc/wire/json_reader.h"
#include "serve_fixture.h"

namespace {

using serve_test::ManualHandler;

/// The reply's top-level "type" (an error reply's), or "" when it has none.
std::string type_of(const ipc::Reply& reply) {
  if (!reply) return "<none>";
  auto member = ipc::top_level_member(*reply, "type");
  return member ? ipc::json_string_value(*member).value_or("") : "";
}

TEST(RouterHandler, SendsEachRequestToTheRouteItsMethodNames) {
  auto add = std::make_shared<ManualHandler>();
  auto del = std::make_shared<ManualHandler>();
  ipc::RouterHandler router("method", {{"add", add}, {"del", del}});
  ipc::Reply got;
  router.handle({}, R"({"method":"del","id":1})", [&](ipc::Reply r, const ipc::Outcome&) { got = std::move(r); });
  ASSERT_EQ(del->requests.size(), 1u);
  EXPECT_TRUE(add->requests.empty());
  EXPECT_EQ(del->requests[0].line, R"({"method":"del","id":1})") << "the route gets the line as written";
  EXPECT_EQ(router.in_flight(), 1u);
  del->answer(0, std::string(R"({"ok":true})"));
  EXPECT_EQ(got, std::optional<std::string>(R"({"ok":true})"));
}

TEST(RouterHandler, AnUnknownOrMissingMethodIsNoSuchMethodNamingTheRoutes) {
  auto add = std::make_shared<ManualHandler>();
  ipc::RouterHandler router("op", {{"add", add}});
  for (std::string line : {R"({"op":"nope"})", R"({"method":"add"})", R"({"op":7})", "[1]"}) {
    ipc::Reply got;
    router.handle({}, line, [&](ipc::Reply r, const ipc::Outcome&) { got = std::move(r); });
    EXPECT_EQ(type_of(got), "NoSuchMethod") << line << " -> " << got.value_or("<none>");
    EXPECT_NE(got.value_or("").find("add"), std::string::npos) << "the available routes are not named: " << *got;
  }
  EXPECT_TRUE(add->requests.empty());
}

TEST(RouterHandler, AbortAllReachesEveryRoute) {
  auto a = std::make_shared<ManualHandler>();
  auto b = std::make_shared<ManualHandler>();
  ipc::RouterHandler router("method", {{"a", a}, {"b", b}});
  int answered = 0;
  router.handle({}, R"({"method":"a"})", [&](ipc::Reply, const ipc::Outcome&) { ++answered; });
  router.handle({}, R"({"method":"b"})", [&](ipc::Reply, const ipc::Outcome&) { ++answered; });
  EXPECT_EQ(router.in_flight(), 2u);
  router.abort_all();
  EXPECT_EQ(answered, 2);
  EXPECT_EQ(router.in_flight(), 0u);
}

TEST(EchoHandler, RepliesAtOnceWithTheRequestInCompactFormByteExact) {
  ipc::EchoHandler echo;
  ipc::Reply got;
  echo.handle({}, R"({ "n" : 1E2, "big": 12345678901234567890123, "s":"\u00e9 x" })",
              [&](ipc::Reply r, const ipc::Outcome&) { got = std::move(r); });
  EXPECT_EQ(got, std::optional<std::string>(R"({"n":1E2,"big":12345678901234567890123,"s":"\u00e9 x"})"));
}

class ExecHandlerTest : public ::testing::Test {
 protected:
  std::shared_ptr<ipc::ExecHandler> make(const std::string& script) {
    ipc::ExecOptions o;
    o.executable = "/bin/sh";
    o.argv = {"sh", "-c", script};
    o.env = {"PATH=/usr/bin:/bin"};
    o.timeout = std::chrono::milliseconds(5000);
    return std::make_shared<ipc::ExecHandler>(io.get_executor(), o, serve_test::quiet_log());
  }
  ipc::Reply run(ipc::ExecHandler& h, std::string_view line) {
    ipc::Reply got;
    bool done = false;
    ipc::PeerInfo peer;
    ipc::RequestContext ctx{1, 1, &peer, false};
    h.handle(ctx, line, [&](ipc::Reply r, const ipc::Outcome&) {
      got = std::move(r);
      done = true;
    });
    EXPECT_TRUE(serve_test::run_until(io, [&] { return done; })) << "no reply from the handler";
    return got;
  }
  boost::asio::io_context io;
};

TEST_F(ExecHandlerTest, TheChildReadsTheRequestOnStdinAndItsStdoutIsTheReply) {
  auto h = make(R"(read -r line; printf '{"got":%s}\n' "$line")");
  EXPECT_EQ(run(*h, R"({"a":[1,2]})"), std::optional<std::string>(R"({"got":{"a":[1,2]}})"));
  EXPECT_EQ(h->in_flight(), 0u);
}

TEST_F(ExecHandlerTest, AFailingChildIsHandlerFailedAndOutputThatIsNotJsonIsBadHandlerOutput) {
  EXPECT_EQ(type_of(run(*make("cat >/dev/null; exit 3"), "{}")), "HandlerFailed");
  EXPECT_EQ(type_of(run(*make("cat >/dev/null; echo 'DEBUG: starting'"), "{}")), "BadHandlerOutput");
}

// serve --threads (worker_loops.h): runs on worker loops, replies back on the
// server's loop. Also built with ThreadSanitizer (scripts/test, stage "threads").
class ExecHandlerThreadsTest : public ::testing::Test {
 protected:
  std::shared_ptr<ipc::ExecHandler> make(const std::string& script, std::size_t max_handlers = 4,
                                         std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    ipc::ExecOptions o;
    o.executable = "/bin/sh";
    o.argv = {"sh", "-c", script};
    o.env = {"PATH=/usr/bin:/bin"};
    o.timeout = timeout;
    o.kill_grace = std::chrono::milliseconds(200);
    o.max_handlers = max_handlers;
    return std::make_shared<ipc::ExecHandler>(io.get_executor(), o, serve_test::quiet_log(), workers);
  }
  struct Answer {
    ipc::Reply reply;
    ipc::Outcome outcome;
    bool done = false;
    std::thread::id thread;
  };
  /// Sends `line` on `connection`; the answer lands in `out`.
  void send(ipc::ExecHandler& h, std::uint64_t connection, std::string_view line, Answer& out) {
    ipc::RequestContext ctx{connection, 1, &peer, false};
    h.handle(ctx, line, [&out](ipc::Reply r, ipc::Outcome o) {
      out.reply = std::move(r);
      out.outcome = std::move(o);
      out.done = true;
      out.thread = std::this_thread::get_id();
    });
  }
  bool all_done(const std::vector<Answer>& answers, std::size_t first = 0) {
    return serve_test::run_until(io, [&] {
      return std::all_of(answers.begin() + static_cast<std::ptrdiff_t>(first), answers.end(),
                         [](const Answer& a) { return a.done; });
    });
  }
  boost::asio::io_context io;
  std::shared_ptr<ipc::WorkerLoops> workers = std::make_shared<ipc::WorkerLoops>(2);
  ipc::PeerInfo peer;
};

TEST_F(ExecHandlerThreadsTest, ManyRequestsAtOnceAreEachAnsweredOnTheServersLoop) {
  auto h = make(R"(read -r line; printf '{"got":%s}\n' "$line")");
  std::vector<Answer> answers(24);
  for (std::size_t i = 0; i < answers.size(); ++i) send(*h, 1, "[" + std::to_string(i) + "]", answers[i]);
  EXPECT_LE(h->in_flight(), answers.size());
  ASSERT_TRUE(all_done(answers));
  for (std::size_t i = 0; i < answers.size(); ++i) {
    EXPECT_EQ(answers[i].reply, std::optional<std::string>("{\"got\":[" + std::to_string(i) + "]}"));
    EXPECT_EQ(answers[i].thread, std::this_thread::get_id()) << "a reply came on a worker thread";
    EXPECT_GT(answers[i].outcome.pid, 0);
  }
  EXPECT_EQ(h->in_flight(), 0u);
}

TEST_F(ExecHandlerThreadsTest, TimeoutCancelAndAbortReachRunsOnWorkerLoops) {
  auto h = make("exec sleep 30", 8, std::chrono::milliseconds(300));
  std::vector<Answer> answers(3);
  send(*h, 1, "{}", answers[0]);  // times out
  ASSERT_TRUE(serve_test::run_until(io, [&] { return answers[0].done; }));
  EXPECT_EQ(type_of(answers[0].reply), "HandlerTimeout");

  auto slow = make("exec sleep 30", 8, std::chrono::milliseconds(0));
  send(*slow, 2, "{}", answers[1]);  // its client goes
  send(*slow, 3, "{}", answers[2]);  // the server stops
  slow->cancel(2);  // reaches its run after the run's start: both were posted to its loop in order
  ASSERT_TRUE(serve_test::run_until(io, [&] { return answers[1].done; }));
  EXPECT_TRUE(answers[1].outcome.cancelled);
  EXPECT_FALSE(answers[1].reply);
  EXPECT_FALSE(answers[2].done);
  slow->abort_all();
  ASSERT_TRUE(serve_test::run_until(io, [&] { return answers[2].done; }));
  EXPECT_EQ(type_of(answers[2].reply), "ShuttingDown");
  EXPECT_EQ(slow->in_flight(), 0u);
}

}  // namespace
