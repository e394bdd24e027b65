#include "ipc/fifo/fifo.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "ipc/base/error.h"
#include "ipc/fifo/fifo_reader.h"
#include "ipc/fifo/fifo_writer.h"
#include "ipc/wire/json_value.h"
#include "expect_error.h"
#include "read_all.h"

namespace {

using namespace std::chrono_literals;
using ipc::ErrorKind;
using ipc::FifoReader;
using ipc::FifoWriter;
using Kind = ipc::FifoReader::Event::Kind;

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "ipcat-fifo-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp");
    m_path = templ;
  }
  ~TempDir() { std::filesystem::remove_all(m_path); }
  std::string operator/(const std::string& name) const { return m_path + "/" + name; }

 private:
  std::string m_path;
};

// A SOCK_SEQPACKET pair keeps write() boundaries: each recv() returns exactly what one
// write() sent, so a test can see how the writer cut its batches.
struct Packets {
  ipc::Fd writer;
  ipc::Fd reader;
};
Packets packet_pair() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    throw std::runtime_error("socketpair");
  int big = 4 * 1024 * 1024;
  ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  ::setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  return Packets{ipc::Fd(sv[0]), ipc::Fd(sv[1])};
}
std::vector<std::string> packets_in(int fd) {
  std::vector<std::string> out;
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n <= 0) break;
    out.emplace_back(buf.data(), static_cast<std::size_t>(n));
  }
  return out;
}

using unit_test::read_all;

void write_str(int fd, const std::string& s) {
  ASSERT_EQ(::write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size()));
}

int bytes_in_pipe(int fd) {
  int n = -1;
  ::ioctl(fd, FIONREAD, &n);
  return n;
}

// --- FifoWriter: batching ----------------------------------------------------------

TEST(FifoWriter, BatchesManySmallMessagesIntoFewWritesOfWholeLines) {
  auto p = packet_pair();
  FifoWriter w(std::move(p.writer), "test");
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    std::string m = "{\"i\":" + std::to_string(i) + "}";
    w.send(m);
    expected += m + "\n";
  }
  w.flush();
  auto packets = packets_in(p.reader.get());
  std::string joined;
  for (const auto& pk : packets) {
    EXPECT_LE(pk.size(), ipc::k_pipe_buf);
    EXPECT_EQ(pk.back(), '\n');  // whole lines only
    joined += pk;
  }
  EXPECT_EQ(joined, expected);
  EXPECT_EQ(w.write_calls(), packets.size());
  // ~11 KB of messages: 3 writes of up to 4 KiB, not 1000.
  EXPECT_LE(packets.size(), expected.size() / (ipc::k_pipe_buf - 16) + 1);
  EXPECT_EQ(w.sent(), 1000u);
}

TEST(FifoWriter, NeverSplitsAMessageAcrossTheAtomicBoundary) {
  auto p = packet_pair();
  FifoWriter w(std::move(p.writer), "test");
  // 1000-byte lines: 4 fit in 4096 bytes, the 5th must start the next write.
  std::string m = "\"" + std::string(997, 'x') + "\"";
  ASSERT_EQ(m.size() + 1, 1000u);
  for (int i = 0; i < 10; ++i) w.send(m);
  w.flush();
  auto packets = packets_in(p.reader.get());
  ASSERT_EQ(packets.size(), 3u);
  EXPECT_EQ(packets[0].size(), 4000u);
  EXPECT_EQ(packets[1].size(), 4000u);
  EXPECT_EQ(packets[2].size(), 2000u);
}

TEST(FifoWriter, MessageOfExactlyPipeBufIsSentOneByteMoreIsRefusedUnwritten) {
  auto p = packet_pair();
  FifoWriter w(std::move(p.writer), "/x/fifo", ipc::WriterOptions{false, " (hint)"});
  std::string fits = "\"" + std::string(ipc::k_pipe_buf - 3, 'a') + "\"";  // + '\n' = PIPE_BUF
  std::string over = "\"" + std::string(ipc::k_pipe_buf - 2, 'a') + "\"";
  try {
    w.send(over);
    FAIL() << "a message over PIPE_BUF was accepted";
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_input);
    EXPECT_EQ(std::string(e.what()),
              "/x/fifo: message of 4097 bytes is larger than PIPE_BUF (4096 bytes) and would not "
              "be atomic (hint)");
  }
  w.flush();
  EXPECT_TRUE(packets_in(p.reader.get()).empty());
  w.send(fits);
  w.flush();
  auto packets = packets_in(p.reader.get());
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0], fits + "\n");
}

TEST(FifoWriter, LargeMessageIsWrittenWholeAcrossShortWritesAfterWhatWasQueued) {
  auto pipe = ipc::make_pipe();
  ASSERT_GE(::fcntl(pipe.write.get(), F_SETPIPE_SZ, 4096), 0);
  ipc::set_nonblocking(pipe.write.get());  // short writes and EAGAIN, not one blocking call
  std::string got;
  std::thread drain([&, fd = pipe.read.get()] {
    char buf[1000];  // small reads: the writer keeps finding the pipe full
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
  });
  std::string large = "\"" + std::string(200 * 1024, 'L') + "\"";
  {
    FifoWriter w(std::move(pipe.write), "test", ipc::WriterOptions{true, ""});
    w.send("1");
    w.send(large);
    w.send("2");
    w.flush();
    EXPECT_GT(w.write_calls(), 3u);  // the large one needed several writes
  }
  drain.join();
  EXPECT_EQ(got, "1\n" + large + "\n2\n");
}

TEST(FifoWriter, VanishedReaderIsABrokenPipeError) {
  auto old = std::signal(SIGPIPE, SIG_IGN);
  auto pipe = ipc::make_pipe();
  pipe.read.reset();
  FifoWriter w(std::move(pipe.write), "/x/fifo");
  w.send("{}");
  try {
    w.flush();
    FAIL() << "no error";
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_EQ(std::string(e.what()), "/x/fifo: broken pipe (the reader went away)");
  }
  std::signal(SIGPIPE, old);
}

TEST(FifoWriter, RefusesAMessageContainingANewline) {
  auto p = packet_pair();
  FifoWriter w(std::move(p.writer), "test");
  EXPECT_ERROR_KIND(w.send("1\n2"), ErrorKind::invalid_input);
}

// --- send_lines: stdin lines ---------------------------------------------------------

TEST(FifoSendLines, InvalidLineStopsAfterSendingEverythingBeforeIt) {
  auto in = ipc::make_pipe();
  write_str(in.write.get(), "1\n\n[2]\nnope\n3\n");
  in.write.reset();
  auto p = packet_pair();
  FifoWriter w(std::move(p.writer), "test");
  try {
    ipc::send_lines(in.read.get(), w, "stdin");
    FAIL() << "no error";
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_input);
    EXPECT_EQ(std::string(e.what()).rfind("stdin line 4: not valid JSON: ", 0), 0u) << e.what();
  }
  std::string joined;
  for (const auto& pk : packets_in(p.reader.get())) joined += pk;
  EXPECT_EQ(joined, "1\n[2]\n");
}

TEST(FifoSendLines, TooLargeLineIsRefusedNamingItsLine) {
  auto in = ipc::make_pipe();
  std::thread feed([&] {
    write_str(in.write.get(), "1\n\"" + std::string(5000, 'z') + "\"\n2\n");
    in.write.reset();
  });
  auto p = packet_pair();
  FifoWriter w(std::move(p.writer), "test");
  try {
    ipc::send_lines(in.read.get(), w, "stdin");
    FAIL() << "no error";
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_input);
    EXPECT_EQ(std::string(e.what()).rfind(
                  "stdin line 2: message of 5003 bytes is larger than PIPE_BUF", 0),
              0u)
        << e.what();
  }
  feed.join();
  std::string joined;
  for (const auto& pk : packets_in(p.reader.get())) joined += pk;
  EXPECT_EQ(joined, "1\n");
}

TEST(FifoSendLines, TrimsSkipsBlankLinesAndSendsAFinalLineWithoutNewline) {
  auto in = ipc::make_pipe();
  write_str(in.write.get(), "  {\"a\":1} \r\n\n\t\n\"last\"");
  in.write.reset();
  auto p = packet_pair();
  FifoWriter w(std::move(p.writer), "test");
  EXPECT_EQ(ipc::send_lines(in.read.get(), w), 2u);
  std::string joined;
  for (const auto& pk : packets_in(p.reader.get())) joined += pk;
  EXPECT_EQ(joined, "{\"a\":1}\n\"last\"\n");
}

TEST(FifoSendLines, ASlowProducersLineGoesOutWithoutWaitingForMore) {
  auto in = ipc::make_pipe();
  auto p = packet_pair();
  int packets_fd = p.reader.get();
  FifoWriter w(std::move(p.writer), "test");
  std::thread sender([&] { ipc::send_lines(in.read.get(), w); });
  write_str(in.write.get(), "{\"first\":true}\n");
  // The line must arrive while the producer is still silent (stdin not closed).
  pollfd pfd{packets_fd, POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 10000), 1) << "the line was held back";
  auto packets = packets_in(packets_fd);
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0], "{\"first\":true}\n");
  in.write.reset();
  sender.join();
}

TEST(FifoSendLines, AFileOfManySmallLinesTakesAboutOneWritePerPipeBuf) {
  TempDir dir;
  std::string path = dir / "lines";
  std::size_t total = 0;
  {
    std::ofstream f(path);
    for (int i = 0; i < 100000; ++i) {
      std::string line = std::to_string(i) + "\n";
      total += line.size();
      f << line;
    }
  }
  ipc::Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  auto pipe = ipc::make_pipe();
  std::size_t received = 0;
  std::thread drain([&, fd = pipe.read.get()] { received = read_all(fd).size(); });
  std::size_t calls = 0;
  {
    FifoWriter w(std::move(pipe.write), "test");
    EXPECT_EQ(ipc::send_lines(in.get(), w), 100000u);
    calls = w.write_calls();
  }
  drain.join();
  EXPECT_EQ(received, total);
  // One flush per 64 KiB read of the file adds a partial batch: allow 10% over.
  EXPECT_LE(calls, total / ipc::k_pipe_buf * 11 / 10 + 2)
      << calls << " writes for " << total << " bytes";
}

// --- FifoReader -------------------------------------------------------------------

class FifoReaderTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    m_path = m_dir / "fifo";
    ASSERT_TRUE(ipc::ensure_fifo(m_path).created);
    // A second handle keeps the FIFO's bytes alive between readers, like `exec 3<>PATH`.
    m_holder = ipc::Fd(::open(m_path.c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(m_holder.valid());
  }
  FifoReader reader(std::optional<std::size_t> limit,
                    std::size_t max_line = ipc::k_default_max_line) {
    ipc::ReaderOptions o;
    o.limit = limit;
    o.max_line = max_line;
    o.peek = GetParam();
    return FifoReader(ipc::open_fifo_reader(m_path), m_path, o);
  }
  ipc::Deadline soon() { return ipc::Deadline::after_seconds(10); }

  TempDir m_dir;
  std::string m_path;
  ipc::Fd m_holder;
};

INSTANTIATE_TEST_SUITE_P(PeekOrBoundedReads, FifoReaderTest, ::testing::Values(true, false),
                         [](const auto& param_info) {
                           return param_info.param ? "peek" : "bounded";
                         });

TEST_P(FifoReaderTest, WithALimitConsumesNoByteBeyondTheLastMessage) {
  write_str(m_holder.get(), "{\"a\":1}\n\n[2]\n\"three\"\n4\n");
  {
    auto r = reader(2);
    auto e1 = r.next(soon(), nullptr);
    ASSERT_EQ(e1.kind, Kind::message);
    EXPECT_EQ(e1.value, "{\"a\":1}");
    auto e2 = r.next(soon(), nullptr);
    ASSERT_EQ(e2.kind, Kind::message);
    EXPECT_EQ(e2.value, "[2]");
    EXPECT_EQ(e2.line, 3u);
  }
  EXPECT_EQ(bytes_in_pipe(m_holder.get()), static_cast<int>(std::string("\"three\"\n4\n").size()));
  auto next = reader(1);
  auto e3 = next.next(soon(), nullptr);
  ASSERT_EQ(e3.kind, Kind::message);
  EXPECT_EQ(e3.value, "\"three\"");
  EXPECT_EQ(bytes_in_pipe(m_holder.get()), 2);
}

TEST_P(FifoReaderTest, InvalidLinesAreReportedWithTheirNumberAndSkipped) {
  write_str(m_holder.get(), "not json\n\n{\"ok\":true}\n");
  auto r = reader(1);
  auto bad = r.next(soon(), nullptr);
  ASSERT_EQ(bad.kind, Kind::invalid);
  EXPECT_EQ(bad.line, 1u);
  EXPECT_EQ(bad.why.rfind("not valid JSON: ", 0), 0u) << bad.why;
  auto good = r.next(soon(), nullptr);
  ASSERT_EQ(good.kind, Kind::message);
  EXPECT_EQ(good.line, 3u);
  EXPECT_EQ(bytes_in_pipe(m_holder.get()), 0);
}

TEST_P(FifoReaderTest, ATooLongLineIsSkippedUpToItsNewline) {
  write_str(m_holder.get(), "[\"" + std::string(100, 'y') + "\"]\n7\n");
  auto r = reader(1, 16);
  auto bad = r.next(soon(), nullptr);
  ASSERT_EQ(bad.kind, Kind::invalid);
  EXPECT_EQ(bad.why, "line of 104 bytes is longer than the limit of 16");
  auto good = r.next(soon(), nullptr);
  ASSERT_EQ(good.kind, Kind::message);
  EXPECT_EQ(good.value, "7");
}

TEST_P(FifoReaderTest, TimesOutWhenNothingArrives) {
  auto r = reader(1);
  auto start = ipc::Clock::now();
  auto e = r.next(ipc::Deadline::after_seconds(0.05), nullptr);
  EXPECT_EQ(e.kind, Kind::timeout);
  EXPECT_GE(ipc::Clock::now() - start, 50ms);
}

TEST_P(FifoReaderTest, ALargeMessageArrivesWholeWhileItIsStillBeingWritten) {
  std::string large = "\"" + std::string(GetParam() ? 300 * 1024 : 20 * 1024, 'q') + "\"";
  auto r = reader(1);
  std::thread writer([&] {
    ipc::FifoWriter w(ipc::open_fifo_writer(m_path, std::nullopt, nullptr), m_path,
                      ipc::WriterOptions{true, ""});
    w.send(large);
    w.send("\"after\"");
    w.flush();
  });
  auto e = r.next(soon(), nullptr);
  writer.join();
  ASSERT_EQ(e.kind, Kind::message);
  EXPECT_EQ(ipc::Json::parse(e.value).get<std::string>().size(), large.size() - 2);
  EXPECT_EQ(bytes_in_pipe(m_holder.get()), static_cast<int>(std::string("\"after\"\n").size()));
  // Peeking costs a few calls per 64 KiB, not one per byte.
  if (GetParam()) {
    EXPECT_LT(r.read_calls(), 100u);
  }
}

TEST_P(FifoReaderTest, WithoutALimitReadsAcrossWritersComingAndGoing) {
  m_holder.reset();  // only the reader keeps it open now
  auto r = reader(std::nullopt);
  for (int i = 0; i < 3; ++i) {
    {
      ipc::FifoWriter w(ipc::open_fifo_writer(m_path, std::nullopt, nullptr), m_path);
      w.send(std::to_string(i));
      w.flush();
    }  // the writer is gone: no EOF for the reader
    auto e = r.next(soon(), nullptr);
    ASSERT_EQ(e.kind, Kind::message);
    EXPECT_EQ(e.value, std::to_string(i));
  }
  EXPECT_EQ(r.next(ipc::Deadline::after_seconds(0.05), nullptr).kind, Kind::timeout);
}

TEST_P(FifoReaderTest, AStopSignalEndsTheWait) {
  ipc::StopSignals stop({SIGUSR1});
  auto r = reader(1);
  ::raise(SIGUSR1);  // blocked: pending until the reader waits, never lost
  auto e = r.next(soon(), &stop);
  EXPECT_EQ(e.kind, Kind::stopped);
  EXPECT_EQ(stop.received(), SIGUSR1);
}

TEST(StopSignals, AreSeenEvenWhileTheDescriptorIsAlwaysReady) {
  // ppoll() on a ready descriptor returns without delivering a pending signal: a
  // steady flow of data must not hide a stop.
  auto pipe = ipc::make_pipe();
  write_str(pipe.write.get(), "{}\n");
  ipc::StopSignals stop({SIGUSR2});
  EXPECT_EQ(ipc::wait_fd(pipe.read.get(), POLLIN, ipc::Deadline::never(), &stop), ipc::Wait::ready);
  ::raise(SIGUSR2);
  EXPECT_EQ(ipc::wait_fd(pipe.read.get(), POLLIN, ipc::Deadline::never(), &stop), ipc::Wait::stopped);
  EXPECT_EQ(stop.received(), SIGUSR2);
}


TEST(StopSignals, WithIgnoreRepeatsAStopArrivingAfterTheObjectIsGoneIsNoDeath) {
  EXPECT_EXIT(
      {
        {
          ipc::StopSignals stop({SIGUSR2});
          stop.ignore_repeats();
          ::raise(SIGUSR2);
          if (stop.received() != SIGUSR2) std::_Exit(2);
        }
        ::raise(SIGUSR2);  // on the way out: ignored, not fatal
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(StopSignals, ARepeatedStopDuringCleanUpIsTheSameStopNotADeath) {
  // `timeout` sends SIGTERM to its child and then to the whole group: the second
  // arrives while the first one's clean-up runs. Unblocking it with the default
  // action restored would kill a `--follow` that is ending with status 0.
  EXPECT_EXIT(
      {
        {
          ipc::StopSignals stop({SIGUSR2});
          ::raise(SIGUSR2);
          if (stop.received() != SIGUSR2) std::_Exit(2);
          ::raise(SIGUSR2);  // pending again, behind the one already taken
        }
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}
// --- the FIFO path ---------------------------------------------------------------

TEST(FifoPath, IsCreatedWithExactlyTheModeAskedWhateverTheUmask) {
  TempDir dir;
  mode_t old = ::umask(077);
  auto a = ipc::ensure_fifo(dir / "a", 0660);
  ::umask(0);
  auto b = ipc::ensure_fifo(dir / "b");
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "a").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  ASSERT_EQ(::stat((dir / "b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_TRUE(a.created);
  EXPECT_TRUE(b.created);
}

TEST(FifoPath, MissingParentDirectoriesAreMade) {
  TempDir dir;
  auto f = ipc::ensure_fifo(dir / "x/y/z/fifo");
  EXPECT_TRUE(f.created);
  EXPECT_TRUE(std::filesystem::is_fifo(dir / "x/y/z/fifo"));
}

TEST(FifoPath, AnExistingFifoIsUsedAsItIs) {
  TempDir dir;
  auto first = ipc::ensure_fifo(dir / "f", 0644);
  auto again = ipc::ensure_fifo(dir / "f", 0600);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.id.ino, first.id.ino);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST(FifoPath, APathThatIsNotAFifoIsRefusedAndLeftUntouched) {
  TempDir dir;
  std::string file = dir / "file";
  std::ofstream(file) << "keep me\n";
  try {
    ipc::ensure_fifo(file);
    FAIL() << "no error";
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::cannot_create);
    EXPECT_EQ(std::string(e.what()),
              file + ": exists and is not a FIFO (a regular file); left untouched");
  }
  std::ifstream in(file);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "keep me\n");
  // The writer's own check catches a path that stopped being a FIFO after ensure_fifo.
  EXPECT_ERROR_KIND(ipc::open_fifo_writer(file, std::nullopt, nullptr), ErrorKind::cannot_create);

  std::string dangling = dir / "dangling";
  ASSERT_EQ(::symlink("nowhere", dangling.c_str()), 0);
  EXPECT_ERROR_KIND(ipc::ensure_fifo(dangling), ErrorKind::permission);
  EXPECT_FALSE(std::filesystem::exists(dir / "nowhere"));
}

TEST(FifoPath, RemoverRemovesOnlyTheFifoItWasGiven) {
  TempDir dir;
  std::string path = dir / "f";
  {
    auto f = ipc::ensure_fifo(path);
    ipc::FifoRemover remover(path, f.id);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  {
    auto f = ipc::ensure_fifo(path);
    ipc::FifoRemover remover(path, f.id);
    // Someone replaced it meanwhile (renaming ours keeps its inode from being reused).
    ASSERT_EQ(::rename(path.c_str(), (path + ".ours").c_str()), 0);
    ASSERT_TRUE(ipc::ensure_fifo(path).created);
  }
  EXPECT_TRUE(std::filesystem::is_fifo(path));
}

TEST(FifoOpen, WithoutAReaderTheWriterIsRefusedAtOnceOrAfterItsWait) {
  TempDir dir;
  std::string path = dir / "f";
  ipc::ensure_fifo(path);
  try {
    ipc::open_fifo_writer(path, std::nullopt, nullptr);
    FAIL() << "opened without a reader";
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::refused);
    EXPECT_EQ(std::string(e.what()), path + ": no reader on FIFO");
  }
  try {
    ipc::open_fifo_writer(path, ipc::Deadline::after_seconds(0.1), nullptr);
    FAIL() << "opened without a reader";
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::timeout);
  }
}

TEST(FifoOpen, AWaitingWriterOpensOnceAReaderAppears) {
  TempDir dir;
  std::string path = dir / "f";
  ipc::ensure_fifo(path);
  ipc::Fd reader_fd;
  std::thread late_reader([&] {
    std::this_thread::sleep_for(100ms);  // the point of the test: the reader comes later
    reader_fd = ipc::open_fifo_reader(path);
  });
  ipc::Fd w = ipc::open_fifo_writer(path, ipc::Deadline::after_seconds(20), nullptr);
  late_reader.join();
  EXPECT_TRUE(w.valid());
}

TEST(FifoPath, ASymlinkOrALooserModeIsRefusedUnlessAsked) {
  TempDir dir;
  std::string fifo = dir / "f";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string link = dir / "link";
  ASSERT_EQ(::symlink(fifo.c_str(), link.c_str()), 0);
  try {
    ipc::ensure_fifo(link);
    FAIL() << "a symlink was followed";
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::permission);
    EXPECT_EQ(std::string(e.what()), link + ": is a symbolic link; refused, left untouched");
  }
  // The open itself does not follow one either (the path may change after the check).
  EXPECT_ERROR_KIND(ipc::open_fifo_reader(link), ErrorKind::permission);
  EXPECT_ERROR_KIND(ipc::open_fifo_writer(link, std::nullopt, nullptr), ErrorKind::permission);

  ASSERT_EQ(::chmod(fifo.c_str(), 0622), 0);
  try {
    ipc::ensure_fifo(fifo);
    FAIL() << "a FIFO others may write was used";
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::permission);
    EXPECT_EQ(std::string(e.what()), fifo +
                                         ": mode 0622 lets group and others write to it (--mode 0622 allows "
                                         "that); refused, left untouched");
  }
  EXPECT_ERROR_KIND(ipc::open_fifo_reader(fifo), ErrorKind::permission);
  // Asked for: used.
  EXPECT_FALSE(ipc::ensure_fifo(fifo, 0622).created);
  EXPECT_TRUE(ipc::open_fifo_reader(fifo, 0622).valid());
}

}  // namespace
