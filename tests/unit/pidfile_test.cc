#include "ipc/process/pidfile.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "ipc/base/error.h"

namespace {

using ipc::Pidfile;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

class PidfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "pidfile_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    m_dir = pattern;
    m_path = m_dir + "/app.pid";
  }
  void TearDown() override { fs::remove_all(m_dir); }

  std::string m_dir;
  std::string m_path;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

ino_t inode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

ino_t inode_of(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

// Bounded polling for a condition; never a fixed sleep.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// How many of this process's descriptors are open on the file `path` names.
int fds_open_on(const std::string& path) {
  int count = 0;
  ino_t ino = inode_of(path);
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    struct stat st {};
    if (::stat(entry.path().c_str(), &st) == 0 && st.st_ino == ino && ino != 0) ++count;
  }
  return count;
}

// Whether someone is blocked waiting for a flock on the file `path` names (a "->"
// line in /proc/locks: "1: -> FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE 0 EOF").
bool someone_blocked_on_flock(const std::string& path) {
  // Built with append(): GCC 12 at -O2 warns (-Wrestrict, a false positive) on ":" + string.
  std::string inode(":");
  inode.append(std::to_string(inode_of(path))).append(" ");
  std::ifstream locks("/proc/locks");
  std::string line;
  while (std::getline(locks, line)) {
    if (line.find("-> FLOCK") != std::string::npos && line.find(inode) != std::string::npos)
      return true;
  }
  return false;
}

ipc::ErrorKind kind_of_acquire(const std::string& path) {
  try {
    Pidfile::acquire(path);
  } catch (const ipc::Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "acquire(" << path << ") did not throw";
  return ipc::ErrorKind::internal;
}

TEST_F(PidfileTest, SecondAcquireFailsWhileHeldNamingThePid) {
  auto held = Pidfile::acquire(m_path);
  held.write_pid(4242);
  try {
    Pidfile::acquire(m_path);
    FAIL() << "second acquire succeeded";
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.kind(), ipc::ErrorKind::lock_held);
    EXPECT_EQ(std::string(e.what()), m_path + ": locked by pid 4242");
  }
  // The failed attempt must not have disturbed the holder's file.
  EXPECT_EQ(slurp(m_path), "4242\n");
}

TEST_F(PidfileTest, WritesThePidAndANewlineReadableByOthers) {
  auto held = Pidfile::acquire(m_path);
  EXPECT_EQ(slurp(m_path), "");  // locked, pid not written yet
  EXPECT_EQ(Pidfile::read_pid(m_path), std::nullopt);
  held.write_pid(123456);
  EXPECT_EQ(slurp(m_path), "123456\n");
  held.write_pid(7);
  EXPECT_EQ(slurp(m_path), "7\n");
  EXPECT_EQ(Pidfile::read_pid(m_path), 7);
}

TEST_F(PidfileTest, ReleaseRemovesThePathAndUnlocks) {
  {
    auto held = Pidfile::acquire(m_path);
    held.write_pid(::getpid());
    ASSERT_TRUE(fs::exists(m_path));
  }
  EXPECT_FALSE(fs::exists(m_path));
  auto again = Pidfile::acquire(m_path);
  EXPECT_TRUE(again.held());
}

TEST_F(PidfileTest, WaiterOnTheOldFileFindsItUnlinkedWhenItGetsTheLock) {
  auto held = Pidfile::acquire(m_path);
  // A waiter that opened the file before we let go, blocked in flock (as util-linux
  // flock(1) would be): by the time it gets the lock, the name must be gone already,
  // or it would believe it holds the pidfile while a newcomer creates another.
  int waiter = ::open(m_path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(waiter, 0);
  std::atomic<int> stat_errno{-1};
  std::thread blocked([&] {
    if (::flock(waiter, LOCK_EX) != 0) return;
    struct stat st {};
    stat_errno = ::stat(m_path.c_str(), &st) == 0 ? 0 : errno;
  });
  ASSERT_TRUE(eventually([&] { return someone_blocked_on_flock(m_path); }));
  held.release();
  blocked.join();
  EXPECT_EQ(stat_errno.load(), ENOENT);
  ::close(waiter);
}

TEST_F(PidfileTest, PollingWaiterEndsUpHoldingTheFileThePathNames) {
  auto held = Pidfile::acquire(m_path);
  std::optional<Pidfile> second;
  std::thread waiter([&] { second = Pidfile::acquire(m_path, 20s); });
  // Once it has the old file open, it is waiting on the inode we are about to unlink.
  ASSERT_TRUE(eventually([&] { return fds_open_on(m_path) >= 2; }));
  held.release();
  waiter.join();
  ASSERT_TRUE(second && second->held());
  EXPECT_EQ(inode_of(second->fd()), inode_of(m_path));
  EXPECT_EQ(kind_of_acquire(m_path), ipc::ErrorKind::lock_held);
}

TEST_F(PidfileTest, WaiterBlockedOnTheUnlinkedFileStartsOverOnTheNewOne) {
  auto held = Pidfile::acquire(m_path);
  std::optional<Pidfile> second;
  std::thread waiter([&] { second = Pidfile::acquire(m_path, Pidfile::k_wait_forever); });
  // Blocked in flock on the file we are about to unlink: when it gets that lock, the
  // file has no name any more; holding it would exclude nobody.
  ASSERT_TRUE(eventually([&] { return someone_blocked_on_flock(m_path); }));
  held.release();
  waiter.join();
  ASSERT_TRUE(second && second->held());
  EXPECT_NE(inode_of(m_path), 0u);
  EXPECT_EQ(inode_of(second->fd()), inode_of(m_path));
  EXPECT_EQ(kind_of_acquire(m_path), ipc::ErrorKind::lock_held);
}

TEST_F(PidfileTest, PathReplacedWhileHeldIsNotRemoved) {
  auto held = Pidfile::acquire(m_path);
  held.write_pid(::getpid());
  spit(m_dir + "/other", "someone else's\n");
  ASSERT_EQ(::rename((m_dir + "/other").c_str(), m_path.c_str()), 0);
  held.release();
  EXPECT_EQ(slurp(m_path), "someone else's\n");
}

TEST_F(PidfileTest, FileLeftWithADeadPidDoesNotBlock) {
  pid_t dead = ::fork();
  ASSERT_GE(dead, 0);
  if (dead == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);
  spit(m_path, std::to_string(dead) + "\n");
  auto held = Pidfile::acquire(m_path);
  EXPECT_EQ(slurp(m_path), "");  // the stale pid is not presented as the holder's
  held.write_pid(::getpid());
  EXPECT_EQ(slurp(m_path), std::to_string(::getpid()) + "\n");
}

TEST_F(PidfileTest, BoundedWaitGivesUpOnTime) {
  auto held = Pidfile::acquire(m_path);
  held.write_pid(99);
  auto start = std::chrono::steady_clock::now();
  try {
    Pidfile::acquire(m_path, 300ms);
    FAIL() << "acquire succeeded while held";
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.kind(), ipc::ErrorKind::lock_held);
    EXPECT_EQ(std::string(e.what()), m_path + ": locked by pid 99 (gave up after 0.3s)");
  }
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 1s);  // generous for a loaded machine; the poll step is 40ms at most
}

TEST_F(PidfileTest, CreatesParentDirectoriesAndAFileReadableByAll) {
  std::string deep = m_dir + "/run/app/x.pid";
  mode_t old = ::umask(077);
  auto held = Pidfile::acquire(deep);
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(deep.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_TRUE(fs::is_directory(m_dir + "/run/app"));
}

TEST_F(PidfileTest, UncreatablePathsAreCannotCreate) {
  spit(m_dir + "/file", "");
  EXPECT_EQ(kind_of_acquire(m_dir + "/file/x.pid"), ipc::ErrorKind::cannot_create);
  fs::create_directory(m_dir + "/dir");
  EXPECT_EQ(kind_of_acquire(m_dir + "/dir"), ipc::ErrorKind::cannot_create);
  ASSERT_EQ(::mkfifo((m_dir + "/fifo").c_str(), 0600), 0);
  EXPECT_EQ(kind_of_acquire(m_dir + "/fifo"), ipc::ErrorKind::cannot_create);
}

TEST_F(PidfileTest, MovedFromPidfileReleasesNothing) {
  auto first = Pidfile::acquire(m_path);
  Pidfile moved = std::move(first);
  first.release();
  EXPECT_TRUE(fs::exists(m_path));
  EXPECT_EQ(kind_of_acquire(m_path), ipc::ErrorKind::lock_held);
  moved.release();
  EXPECT_FALSE(fs::exists(m_path));
}

TEST_F(PidfileTest, SymlinkIsRefusedNeverFollowedAndItsTargetKept) {
  spit(m_dir + "/victim", "precious\n");
  ASSERT_EQ(::symlink((m_dir + "/victim").c_str(), m_path.c_str()), 0);
  try {
    Pidfile::acquire(m_path);
    FAIL() << "acquired through a symlink";
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.kind(), ipc::ErrorKind::cannot_create);
    EXPECT_EQ(std::string(e.what()), m_path + ": is a symbolic link; refused, left untouched");
  }
  EXPECT_EQ(slurp(m_dir + "/victim"), "precious\n");
  EXPECT_TRUE(fs::is_symlink(m_path));
  // Dangling: the target is not created either.
  ASSERT_EQ(::unlink(m_path.c_str()), 0);
  ASSERT_EQ(::symlink((m_dir + "/made").c_str(), m_path.c_str()), 0);
  EXPECT_EQ(kind_of_acquire(m_path), ipc::ErrorKind::cannot_create);
  EXPECT_FALSE(fs::exists(m_dir + "/made"));
}

TEST_F(PidfileTest, AFileThatIsNotAPidfileIsRefusedAndKept) {
  for (const char* content : {"important\n", "12 34\n", "123\n456\n", "-5\n", "0\n"}) {
    spit(m_path, content);
    EXPECT_EQ(kind_of_acquire(m_path), ipc::ErrorKind::cannot_create) << content;
    EXPECT_EQ(slurp(m_path), content);
  }
  for (const char* content : {"", "\n", "4194000\n", " 4194000 \n", "4194000", "4194000\r\n"}) {
    spit(m_path, content);
    auto pidfile = Pidfile::acquire(m_path);  // a dead holder's pid, or none: taken over
    EXPECT_EQ(slurp(m_path), "") << content;
  }
}

}  // namespace
