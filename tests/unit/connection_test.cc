// Pins Connection (src/ipc/server/connection.h) in process, over a socketpair, with
// a Handler the test answers by hand: replies in request order, backpressure
// (--max-pending), the line and depth limits, --max-per-uid, the drain, and when
// the connection closes (man/ipcat.1, ipcat serve; ARCHITECTURE.md, "The actors").

#include "ipc/server/connection.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "serve_fixture.h"

namespace {

using serve_test::Client;
using serve_test::ManualHandler;

class ConnectionTest : public ::testing::Test {
 protected:
  /// Opens a connection from a uid-1000 peer; `client` is the other end.
  void open() {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    client = std::make_unique<Client>(ipc::Fd(sv[1]));
    ipc::Connection::Socket socket(io, boost::asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), sv[0]);
    ipc::PeerInfo peer;
    peer.uid = 1000;
    connection = std::make_shared<ipc::Connection>(context, std::move(socket), 1, peer);
    connection->start();
  }
  bool handler_has(std::size_t n) {
    return serve_test::run_until(io, [&] { return handler.requests.size() >= n; });
  }
  /// Gives the loop time to do anything it would do now (what must NOT happen).
  void settle() {
    for (int i = 0; i < 20; ++i) {
      io.restart();
      io.run_for(std::chrono::milliseconds(2));
    }
  }

  boost::asio::io_context io;
  ipc::ServerOptions options;
  ManualHandler handler;
  std::vector<char> buffer = std::vector<char>(64 * 1024);
  ipc::UidCounter per_uid;
  int closed = 0;
  int answered = 0;
  ipc::ConnectionContext context{options, serve_test::quiet_log(), &handler, buffer, per_uid,
                                 [this](ipc::Connection&) { ++closed; }, [this] { ++answered; }};
  std::unique_ptr<Client> client;
  std::shared_ptr<ipc::Connection> connection;
};

TEST_F(ConnectionTest, RepliesGoOutInRequestOrderWhateverOrderTheyAreAnsweredIn) {
  open();
  client->send("{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
  ASSERT_TRUE(handler_has(3));
  EXPECT_EQ(handler.requests[0].line, R"({"n":1})");
  handler.answer(2, std::string("three"));
  handler.answer(1, std::string("two"));
  settle();
  client->poll();
  EXPECT_TRUE(client->lines.empty()) << "a later reply went out before the first";
  handler.answer(0, std::string("one"));
  ASSERT_TRUE(client->wait_lines(io, 3));
  EXPECT_EQ(client->lines, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(answered, 3);
}

TEST_F(ConnectionTest, TheLineReachesTheHandlerAsWrittenAndANotificationWritesNothing) {
  open();
  client->send("\xEF\xBB\xBF{ \"id\" : 12345678901234567890123, \"a\":1, \"a\":2 }\n{\"n\":2}\n");
  ASSERT_TRUE(handler_has(2));
  EXPECT_EQ(handler.requests[0].line, R"({ "id" : 12345678901234567890123, "a":1, "a":2 })") << "BOM dropped, nothing else";
  handler.answer(0, std::nullopt);
  handler.answer(1, std::string("second"));
  ASSERT_TRUE(client->wait_lines(io, 1));
  EXPECT_EQ(client->lines, std::vector<std::string>{"second"});
}

TEST_F(ConnectionTest, StopsReadingAtMaxPendingAndResumesWhenAReplyComes) {
  options.max_pending = 2;
  open();
  client->send("1\n2\n3\n4\n5\n");
  ASSERT_TRUE(handler_has(2));
  settle();
  EXPECT_EQ(handler.requests.size(), 2u) << "read past --max-pending";
  handler.answer(0, std::string("r1"));
  ASSERT_TRUE(handler_has(3));
  settle();
  EXPECT_EQ(handler.requests.size(), 3u);
}

TEST_F(ConnectionTest, StopsReadingAtMaxPendingBytes) {
  options.max_pending_bytes = 10;
  open();
  client->send("\"0123456789\"\n\"x\"\n");
  ASSERT_TRUE(handler_has(1));
  settle();
  EXPECT_EQ(handler.requests.size(), 1u) << "read past --max-pending's byte limit";
  handler.answer(0, std::string("r"));
  ASSERT_TRUE(handler_has(2));
}

TEST_F(ConnectionTest, InvalidJsonIsAParseErrorAndTheConnectionGoesOn) {
  open();
  client->send("{\"a\":\n[1]\n");
  ASSERT_TRUE(handler_has(1));
  EXPECT_EQ(handler.requests[0].line, "[1]");
  handler.answer(0, std::string("ok"));
  ASSERT_TRUE(client->wait_lines(io, 2));
  EXPECT_NE(client->lines[0].find(R"("type":"ParseError")"), std::string::npos) << client->lines[0];
  EXPECT_EQ(client->lines[1], "ok");
  EXPECT_EQ(closed, 0);
}

TEST_F(ConnectionTest, NestingBeyondMaxDepthIsAParseErrorWithTheLimit) {
  options.max_depth = 3;
  open();
  client->send("[[[1]]]\n[[[[1]]]]\n");
  ASSERT_TRUE(handler_has(1));
  handler.answer(0, std::string("ok"));
  ASSERT_TRUE(client->wait_lines(io, 2));
  EXPECT_EQ(client->lines[0], "ok");
  EXPECT_NE(client->lines[1].find(R"("type":"ParseError")"), std::string::npos) << client->lines[1];
  EXPECT_NE(client->lines[1].find(R"("limit":3)"), std::string::npos) << client->lines[1];
}

TEST_F(ConnectionTest, ALineOverMaxLineIsLineTooLongAndTheConnectionCloses) {
  options.max_line = 16;
  open();
  client->send("[1]\n\"" + std::string(40, 'x') + "\"\n[2]\n");
  ASSERT_TRUE(handler_has(1));
  handler.answer(0, std::string("ok"));
  ASSERT_TRUE(client->wait_eof(io));
  ASSERT_EQ(client->lines.size(), 2u);
  EXPECT_NE(client->lines[1].find(R"("type":"LineTooLong")"), std::string::npos) << client->lines[1];
  EXPECT_NE(client->lines[1].find(R"("limit":16)"), std::string::npos) << client->lines[1];
  EXPECT_EQ(handler.requests.size(), 1u) << "a line after the lost framing was handled";
  EXPECT_EQ(closed, 1);
}

TEST_F(ConnectionTest, MaxPerUidAnswersOverloadedWhileTheUidIsBusy) {
  options.max_per_uid = 1;
  open();
  client->send("1\n2\n");
  ASSERT_TRUE(serve_test::run_until(io, [&] { return answered == 1; })) << "the second request was not refused";
  EXPECT_EQ(handler.requests.size(), 1u);
  EXPECT_EQ(per_uid.held(1000), 1u);
  handler.answer(0, std::string("first"));
  EXPECT_EQ(per_uid.held(1000), 0u);
  ASSERT_TRUE(client->wait_lines(io, 2));
  EXPECT_EQ(client->lines[0], "first");
  EXPECT_NE(client->lines[1].find(R"("type":"Overloaded")"), std::string::npos) << client->lines[1];
  EXPECT_NE(client->lines[1].find(R"("limit":1)"), std::string::npos) << client->lines[1];
  client->send("3\n");
  ASSERT_TRUE(handler_has(2));
}

TEST_F(ConnectionTest, ClosesOnceTheClientsEofIsReadAndEveryReplyIsOut) {
  open();
  client->send("1\n");
  client->shut_write();
  ASSERT_TRUE(handler_has(1));
  settle();
  EXPECT_EQ(closed, 0) << "closed with a reply pending";
  handler.answer(0, std::string("last"));
  ASSERT_TRUE(client->wait_eof(io));
  EXPECT_EQ(client->lines, std::vector<std::string>{"last"});
  EXPECT_EQ(closed, 1);
}

TEST_F(ConnectionTest, ShutdownLetsTheReplyInFlightOutThenAnswersShuttingDown) {
  open();
  client->send("1\n");
  ASSERT_TRUE(handler_has(1));
  connection->shutdown();
  client->send("2\n");
  ASSERT_TRUE(serve_test::run_until(io, [&] { return answered == 1; })) << "no ShuttingDown for the late line";
  client->poll();
  EXPECT_TRUE(client->lines.empty()) << "ShuttingDown went out before the reply in flight";
  handler.answer(0, std::string("in flight"));
  ASSERT_TRUE(client->wait_eof(io));
  ASSERT_EQ(client->lines.size(), 2u);
  EXPECT_EQ(client->lines[0], "in flight");
  EXPECT_NE(client->lines[1].find(R"("type":"ShuttingDown")"), std::string::npos) << client->lines[1];
  EXPECT_EQ(handler.requests.size(), 1u) << "a request taken after shutdown()";
  EXPECT_EQ(closed, 1);
}

TEST_F(ConnectionTest, AnHttpRequestClosesTheConnectionWithoutAReply) {
  open();
  client->send("POST /run HTTP/1.1\r\n");
  ASSERT_TRUE(client->wait_eof(io));
  EXPECT_TRUE(client->lines.empty());
  EXPECT_TRUE(handler.requests.empty());
  EXPECT_EQ(closed, 1);
}

TEST_F(ConnectionTest, ARefusedConnectionGetsItsOneReplyAndCloses) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  client = std::make_unique<Client>(ipc::Fd(sv[1]));
  ipc::Connection::Socket socket(io, boost::asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), sv[0]);
  context.handler = nullptr;
  connection = std::make_shared<ipc::Connection>(context, std::move(socket), 7, ipc::PeerInfo{});
  client->send("{\"ignored\":true}\n");
  connection->refuse(R"({"error":"no","type":"Forbidden"})");
  ASSERT_TRUE(client->wait_eof(io));
  EXPECT_EQ(client->lines, std::vector<std::string>{R"({"error":"no","type":"Forbidden"})"});
  EXPECT_EQ(closed, 1);
}

}  // namespace
