#include "ipc/process/child.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>
#include <string>

#include "ipc/base/error.h"
#include "read_all.h"
#include "expect_error.h"

namespace {

using ipc::Child;
using ipc::SpawnOptions;

using unit_test::read_all;

SpawnOptions sh(const std::string& script) {
  SpawnOptions o;
  o.executable = "/bin/sh";
  o.argv = {"sh", "-c", script};
  return o;
}

TEST(Child, SeesNoDescriptorBeyondStdio) {
  boost::asio::io_context io;
  // A descriptor opened without O_CLOEXEC must not reach the child either.
  int leaky = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 3);
  auto out = ipc::make_pipe();
  auto o = sh("ls /proc/self/fd");
  o.stdout_fd = out.write.get();
  auto child = Child::spawn(io.get_executor(), o);
  out.write.reset();
  std::string listing = read_all(out.read.get());
  EXPECT_TRUE(child->wait().success());
  ::close(leaky);
  // ls itself opens one fd for the directory it lists: 0 1 2 and that one.
  int count = 0;
  for (char c : listing) count += c == '\n';
  EXPECT_EQ(count, 4) << listing;
}

TEST(Child, TellsExitStatusFromSignal) {
  boost::asio::io_context io;
  EXPECT_EQ(Child::spawn(io.get_executor(), sh("exit 7"))->wait().code, 7);
  auto killed = Child::spawn(io.get_executor(), sh("kill -SEGV $$"))->wait();
  EXPECT_EQ(killed.signal, SIGSEGV);
  EXPECT_EQ(killed.shell_status(), 128 + SIGSEGV);
  EXPECT_EQ(killed.describe(), "killed by signal 11 (SIGSEGV)");
}

TEST(Child, ExecFailureThrowsAndLeavesNoZombie) {
  boost::asio::io_context io;
  SpawnOptions o;
  o.executable = "/nonexistent/handler";
  o.argv = {"handler"};
  try {
    Child::spawn(io.get_executor(), o);
    FAIL();
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.kind(), ipc::ErrorKind::not_found);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/handler"), std::string::npos);
  }
  // No child of ours is left, zombie or not.
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(Child, GroupKillReachesGrandchildren) {
  boost::asio::io_context io;
  auto out = ipc::make_pipe();
  // The grandchild keeps stdout open and would outlive its parent.
  auto o = sh("sleep 1000 & echo $!; wait");
  o.stdout_fd = out.write.get();
  auto child = Child::spawn(io.get_executor(), o);
  out.write.reset();
  char buf[32] = {};
  ASSERT_GT(::read(out.read.get(), buf, sizeof buf - 1), 0);
  pid_t grandchild = std::stoi(buf);
  EXPECT_EQ(::kill(grandchild, 0), 0);
  child->signal(SIGTERM);
  auto st = child->wait();
  EXPECT_EQ(st.signal, SIGTERM);
  // The pipe reaches EOF only once the grandchild is gone too.
  EXPECT_EQ(read_all(out.read.get()), "");
}

TEST(Child, AsyncWaitKillsWhatIsLeftOfTheGroup) {
  boost::asio::io_context io;
  auto out = ipc::make_pipe();
  auto o = sh("sleep 1000 & exit 3");
  o.stdout_fd = out.write.get();
  auto child = Child::spawn(io.get_executor(), o);
  out.write.reset();
  std::optional<ipc::ExitStatus> got;
  child->async_wait([&](ipc::ExitStatus s) { got = s; });
  io.run_for(std::chrono::seconds(30));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->code, 3);
  EXPECT_EQ(read_all(out.read.get()), "");  // the backgrounded sleep was killed
}

// Out of descriptors, pidfd_open fails: the exit must still be seen, without the
// event loop ever blocking (a blocked loop froze `serve` for good).
TEST(Child, WaitsWithoutBlockingTheLoopWhenPidfdOpenFails) {
  boost::asio::io_context io;
  // Use up every descriptor (under a limit of 256), spawn, give them back: the
  // child starts fine (it gets only stdio), but there was none for the pidfd.
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  rlimit tight = old;
  tight.rlim_cur = 256;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  std::vector<int> held;
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) held.push_back(fd);
  std::unique_ptr<Child> child;
  std::string error;
  try {
    child = Child::spawn(io.get_executor(), sh("sleep 0.3"));
  } catch (const std::exception& e) {
    error = e.what();
  }
  for (int fd : held) ::close(fd);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  ASSERT_TRUE(child) << error;
  bool done = false;
  child->async_wait([&](ipc::ExitStatus s) { done = s.success(); });
  EXPECT_FALSE(done);  // not waited for in async_wait itself
  int ticks = 0;
  boost::asio::steady_timer tick(io);
  std::function<void()> arm = [&] {
    tick.expires_after(std::chrono::milliseconds(20));
    tick.async_wait([&](const boost::system::error_code& ec) {
      if (ec || done) return;
      ++ticks;
      arm();
    });
  };
  arm();
  io.run_for(std::chrono::seconds(10));
  EXPECT_TRUE(done);
  EXPECT_GE(ticks, 5);  // the loop ran while the child slept
}

TEST(Child, DestructorKillsAndReaps) {
  boost::asio::io_context io;
  pid_t pid;
  {
    auto child = Child::spawn(io.get_executor(), sh("exec sleep 1000"));
    pid = child->pid();
  }
  EXPECT_EQ(::kill(pid, 0), -1);
}

TEST(Child, FindExecutable) {
  EXPECT_EQ(ipc::find_executable("/bin/sh"), "/bin/sh");
  EXPECT_NE(ipc::find_executable("sh").find("/sh"), std::string::npos);
  EXPECT_ERROR_KIND(ipc::find_executable("no-such-command-xyz"), ipc::ErrorKind::not_found);
  try {
    ipc::find_executable("/etc/passwd");
    FAIL();
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.kind(), ipc::ErrorKind::permission);
  }
}

}  // namespace

namespace {

// The Boost.Process path (pre-exec hooks): keep_fd stays open, pid_file_fd gets
// the child's own pid before exec, nothing else leaks.
TEST(Child, HookPathKeepsOneFdAndWritesItsOwnPid) {
  boost::asio::io_context io;
  char path[] = "/tmp/ipcat-child-XXXXXX";
  ipc::Fd file(::mkstemp(path));
  ASSERT_TRUE(file.valid());
  ::unlink(path);
  auto out = ipc::make_pipe();
  auto o = sh("ls /proc/self/fd; cat /proc/self/fd/" + std::to_string(file.get()));
  o.stdout_fd = out.write.get();
  o.keep_fd = file.get();
  o.pid_file_fd = file.get();
  auto child = Child::spawn(io.get_executor(), o);
  out.write.reset();
  std::string listing = read_all(out.read.get());
  EXPECT_TRUE(child->wait().success());
  // 0 1 2, the kept fd, ls's own directory fd; then the pid the child wrote.
  EXPECT_NE(listing.find("\n" + std::to_string(file.get()) + "\n"), std::string::npos) << listing;
  EXPECT_NE(listing.find(std::to_string(child->pid()) + "\n"), std::string::npos) << listing;
}

TEST(Child, HookPathExecFailureThrows) {
  boost::asio::io_context io;
  SpawnOptions o;
  o.executable = "/nonexistent/handler";
  o.argv = {"handler"};
  o.keep_fd = 2;
  EXPECT_ERROR_KIND(Child::spawn(io.get_executor(), o), ipc::ErrorKind::not_found);
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
}

}  // namespace
