// Pins WorkerLoops (src/ipc/server/worker_loops.h; ARCHITECTURE.md, Threads): runs go
// to the least busy loop, the threads take no signals, and destruction joins them.

#include <gtest/gtest.h>

#include <signal.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "ipc/server/worker_loops.h"

namespace {

TEST(WorkerLoops, ARunGoesToTheLoopWithFewestRunsAndReleaseFreesItsPlace) {
  ipc::WorkerLoops loops(3);
  ASSERT_EQ(loops.size(), 3u);
  std::size_t a = loops.acquire(), b = loops.acquire(), c = loops.acquire();
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);
  EXPECT_NE(a, c);
  loops.release(b);
  EXPECT_EQ(loops.acquire(), b) << "the loop with no run left is not the one picked";
  loops.release(a);
  loops.release(a);  // one too many: stays at 0, never wraps
  EXPECT_EQ(loops.acquire(), a);
  EXPECT_GE(ipc::WorkerLoops::cpus(), 1u);
}

TEST(WorkerLoops, EachLoopRunsOnAThreadOfItsOwnWithEverySignalBlocked) {
  ipc::WorkerLoops loops(2);
  for (std::size_t i = 0; i < loops.size(); ++i) {
    std::promise<std::pair<std::thread::id, bool>> seen;
    boost::asio::post(loops.executor(i), [&seen] {
      sigset_t mask;
      pthread_sigmask(SIG_BLOCK, nullptr, &mask);
      seen.set_value({std::this_thread::get_id(), sigismember(&mask, SIGTERM) == 1 && sigismember(&mask, SIGCHLD) == 1});
    });
    auto result = seen.get_future();
    ASSERT_EQ(result.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    auto [thread, blocked] = result.get();
    EXPECT_NE(thread, std::this_thread::get_id());
    EXPECT_TRUE(blocked) << "a worker thread could take the server's SIGTERM";
  }
  sigset_t ours;
  pthread_sigmask(SIG_BLOCK, nullptr, &ours);
  EXPECT_EQ(sigismember(&ours, SIGTERM), 0) << "starting the loops left the caller's signals blocked";
}

TEST(WorkerLoops, DestructionJoinsTheThreadsAndDropsWhatWasStillQueued) {
  auto loops = std::make_unique<ipc::WorkerLoops>(1);
  auto token = std::make_shared<int>(0);
  std::promise<void> started;
  // The first task holds the thread while the rest queue up behind it.
  boost::asio::post(loops->executor(0), [&started] {
    started.set_value();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  });
  for (int i = 0; i < 100; ++i) boost::asio::post(loops->executor(0), [token] { ++*token; });
  ASSERT_EQ(started.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  loops.reset();
  EXPECT_EQ(token.use_count(), 1) << "queued work outlived the loops (or a thread still runs it)";
}

}  // namespace
