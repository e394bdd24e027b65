// Pins Server (src/ipc/server/server.h) in process: a real Listener on a temporary
// Unix socket, clients connected with plain connect(2), and a Handler the test
// answers by hand: access checks, the per-uid and total connection limits, and the
// graceful stop (man/ipcat.1, ipcat serve and SIGNALS).

#include "ipc/server/server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "ipc/net/address.h"
#include "ipc/server/line_connections.h"
#include "serve_fixture.h"

namespace {

using serve_test::Client;
using serve_test::ManualHandler;
using serve_test::run_until;

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    std::string templ = (std::filesystem::temp_directory_path() / "ipcat-server-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp");
    m_dir = templ;
    path = m_dir + "/s.sock";
  }
  ~ServerTest() override {
    server.reset();
    std::filesystem::remove_all(m_dir);
  }
  void start() {
    auto listener = ipc::Listener::open(ipc::parse_address(path), ipc::ListenOptions{});
    connections = std::make_shared<ipc::LineConnections>(handler, options, serve_test::quiet_log());
    server = std::make_unique<ipc::Server>(io, std::move(listener), connections, options, serve_test::quiet_log());
    server->start();
  }
  std::unique_ptr<Client> connect() const {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0) << std::strerror(errno);
    return std::make_unique<Client>(ipc::Fd(fd));
  }

  boost::asio::io_context io;
  ipc::ServerOptions options;
  std::shared_ptr<ManualHandler> handler = std::make_shared<ManualHandler>();
  std::shared_ptr<ipc::LineConnections> connections;
  std::unique_ptr<ipc::Server> server;
  std::string path;

 private:
  std::string m_dir;
};

TEST_F(ServerTest, ARequestReachesTheHandlerAndItsReplyTheClient) {
  start();
  auto c = connect();
  c->send("{\"ping\":1}\n");
  ASSERT_TRUE(run_until(io, [&] { return handler->requests.size() == 1; }));
  EXPECT_EQ(handler->requests[0].line, R"({"ping":1})");
  handler->answer(0, std::string(R"({"pong":1})"));
  ASSERT_TRUE(c->wait_lines(io, 1));
  EXPECT_EQ(c->lines[0], R"({"pong":1})");
}

TEST_F(ServerTest, APeerWhoseUidIsNotAllowedGetsForbiddenAndIsClosed) {
  options.allow_uids = {::geteuid() + 12345};
  start();
  auto c = connect();
  ASSERT_TRUE(c->wait_eof(io));
  ASSERT_EQ(c->lines.size(), 1u);
  EXPECT_NE(c->lines[0].find(R"("type":"Forbidden")"), std::string::npos) << c->lines[0];
  EXPECT_TRUE(handler->requests.empty());
}

TEST_F(ServerTest, OnePastMaxConnectionsPerUidGetsOverloadedTheOthersGoOn) {
  options.max_connections_per_uid = 1;
  start();
  auto first = connect();
  first->send("1\n");
  ASSERT_TRUE(run_until(io, [&] { return handler->requests.size() == 1; }));
  auto second = connect();
  ASSERT_TRUE(second->wait_eof(io));
  ASSERT_EQ(second->lines.size(), 1u);
  EXPECT_NE(second->lines[0].find(R"("type":"Overloaded")"), std::string::npos) << second->lines[0];
  EXPECT_NE(second->lines[0].find(R"("limit":1)"), std::string::npos) << second->lines[0];
  handler->answer(0, std::string("still served"));
  ASSERT_TRUE(first->wait_lines(io, 1));
  EXPECT_EQ(first->lines[0], "still served");
}

TEST_F(ServerTest, AtMaxConnectionsTheNextClientWaitsInTheBacklogUntilOneCloses) {
  options.max_connections = 1;
  start();
  auto first = connect();
  first->send("1\n");
  ASSERT_TRUE(run_until(io, [&] { return handler->requests.size() == 1; }));
  auto second = connect();  // queued by the kernel, not accepted
  second->send("2\n");
  for (int i = 0; i < 20; ++i) io.run_for(std::chrono::milliseconds(2));
  EXPECT_EQ(handler->requests.size(), 1u) << "a connection past --max-connections was served";
  EXPECT_EQ(server->connections(), 1u);
  handler->answer(0, std::string("one"));
  first->shut_write();
  ASSERT_TRUE(first->wait_eof(io));
  ASSERT_TRUE(run_until(io, [&] { return handler->requests.size() == 2; })) << "the waiting client was never served";
  EXPECT_EQ(handler->requests[1].line, "2");
}

TEST_F(ServerTest, StopRemovesTheSocketAtOnceAndEndsWhenTheLastReplyIsOut) {
  start();
  auto c = connect();
  c->send("1\n");
  ASSERT_TRUE(run_until(io, [&] { return handler->requests.size() == 1; }));
  bool stopped = false;
  server->stop([&] { stopped = true; });
  EXPECT_FALSE(std::filesystem::exists(path)) << "the socket is still there";
  for (int i = 0; i < 20; ++i) io.run_for(std::chrono::milliseconds(2));
  EXPECT_FALSE(stopped) << "stopped with a request in flight";
  handler->answer(0, std::string("answered"));
  ASSERT_TRUE(run_until(io, [&] { return stopped; }));
  ASSERT_TRUE(c->wait_eof(io));
  EXPECT_EQ(c->lines, std::vector<std::string>{"answered"});
}

TEST_F(ServerTest, AfterTheDrainTimeWhatIsStillRunningIsAbortedAndTheServerStops) {
  options.drain = std::chrono::milliseconds(50);
  start();
  auto c = connect();
  c->send("1\n");
  ASSERT_TRUE(run_until(io, [&] { return handler->requests.size() == 1; }));
  bool stopped = false;
  server->stop([&] { stopped = true; });
  ASSERT_TRUE(run_until(io, [&] { return stopped; }));
  ASSERT_TRUE(c->wait_eof(io));
  ASSERT_EQ(c->lines.size(), 1u);
  EXPECT_NE(c->lines[0].find(R"("type":"ShuttingDown")"), std::string::npos) << c->lines[0];
}

}  // namespace
