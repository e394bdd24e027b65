// Pins the line handlers (src/ipc/server/handlers/) in process: routing by method,
// --echo, and one real child per request (man/ipcat.1, ipcat serve and PROTOCOL).

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>

#include "ipc/server/handlers/echo_handler.h"
#include "ipc/server/handlers/exec_handler.h"
#include "ipc/server/handlers/router_handler.h"
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

}  // namespace
