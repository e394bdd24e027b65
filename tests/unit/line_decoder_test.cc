// Pins LineDecoder (src/ipc/wire/line_decoder.h): framing at every split point and the
// --max-line limit.
#include "ipc/wire/line_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using ipc::LineDecoder;

// Feeds `input` in pieces at the given cut points and collects every line (and a
// marker for too_long), finishing with EOF.
std::vector<std::string> decode(const std::string& input, const std::vector<std::size_t>& cuts,
                                std::size_t max_line = 1024) {
  LineDecoder d(max_line);
  std::vector<std::string> out;
  auto drain = [&] {
    for (;;) {
      auto r = d.next();
      if (r.status == LineDecoder::Status::line) {
        out.emplace_back(r.line);
      } else {
        if (r.status == LineDecoder::Status::too_long) out.emplace_back("<too_long>");
        return r.status;
      }
    }
  };
  std::size_t prev = 0;
  for (std::size_t cut : cuts) {
    d.feed(std::string_view(input).substr(prev, cut - prev));
    if (drain() == LineDecoder::Status::too_long) return out;
    prev = cut;
  }
  d.feed(std::string_view(input).substr(prev));
  if (drain() == LineDecoder::Status::too_long) return out;
  d.finish();
  drain();
  return out;
}

TEST(LineDecoder, SplitsLinesAndSkipsBlanks) {
  auto lines = decode("{\"a\":1}\n\n  \n[2]\r\n  3  \n", {});
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}", "[2]", "3"}));
}

TEST(LineDecoder, FinalLineWithoutNewlineIsAMessage) {
  EXPECT_EQ(decode("1\n2", {}), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(decode("1\r", {}), (std::vector<std::string>{"1"}));
}

TEST(LineDecoder, EmptyInputGivesNothing) {
  EXPECT_TRUE(decode("", {}).empty());
  EXPECT_TRUE(decode("\n\r\n \n", {}).empty());
}

TEST(LineDecoder, EverySplitPointGivesTheSameLines) {
  const std::string input = "{\"k\":\"v\\n\"}\r\n\n[1,2,3]\n  \"s\"  \n{}";
  auto whole = decode(input, {});
  ASSERT_EQ(whole.size(), 4u);
  for (std::size_t i = 0; i <= input.size(); ++i) {
    EXPECT_EQ(decode(input, {i}), whole) << "cut at " << i;
    for (std::size_t j = i; j <= input.size(); j += 3) EXPECT_EQ(decode(input, {i, j}), whole);
  }
}

TEST(LineDecoder, ByteAtATimeGivesTheSameLines) {
  const std::string input = "1\n22\n333\n\n4444";
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < input.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(decode(input, cuts), (std::vector<std::string>{"1", "22", "333", "4444"}));
}

TEST(LineDecoder, LineAtTheLimitPassesOneOverFails) {
  std::string at(16, 'x');
  EXPECT_EQ(decode(at + "\n", {}, 16), std::vector<std::string>{at});
  EXPECT_EQ(decode(at + "\r\n", {}, 16), std::vector<std::string>{at});
  EXPECT_EQ(decode(at + "x\n", {}, 16), std::vector<std::string>{"<too_long>"});
}

TEST(LineDecoder, UnterminatedLongLineFailsWithoutWaitingForNewline) {
  LineDecoder d(8);
  d.feed("123456789");  // 9 bytes, no newline yet
  EXPECT_EQ(d.next().status, LineDecoder::Status::too_long);
  // Framing is lost: nothing more comes out.
  d.feed("\n1\n");
  EXPECT_EQ(d.next().status, LineDecoder::Status::too_long);
}

TEST(LineDecoder, LinesBeforeATooLongLineAreDelivered) {
  EXPECT_EQ(decode("1\n2\nxxxxxxxxxxxxxxxxxxxx\n3\n", {}, 8),
            (std::vector<std::string>{"1", "2", "<too_long>"}));
}

TEST(LineDecoder, BufferDoesNotGrowOnALongStream) {
  LineDecoder d(64);
  for (int i = 0; i < 100000; ++i) {
    d.feed("{\"i\":1}\n");
    auto r = d.next();
    ASSERT_EQ(r.status, LineDecoder::Status::line);
  }
  EXPECT_EQ(d.buffered(), 0u);
}

// whole_lines()/skip(): a caller takes lines straight from the buffer, between
// next() calls, across the buffer's compaction; together they give every line
// once, in order, and whole_lines() never shows a line still arriving.
TEST(LineDecoder, WholeLinesAndSkipTakeLinesStraightFromTheBuffer) {
  std::string input;
  for (int i = 0; i < 3000; ++i) input += i % 7 == 0 ? "\n" : "{\"i\":" + std::to_string(i) + "}\n";
  input += "{\"last\":1}";  // no '\n': only next() returns it, at EOF
  for (std::size_t chunk : {std::size_t{1}, std::size_t{10}, std::size_t{4099}}) {
    LineDecoder d(64);
    std::vector<std::string> got;
    int turn = 0;
    auto drain = [&] {
      for (;;) {
        std::string_view lines = d.whole_lines();
        ASSERT_TRUE(lines.empty() || lines.back() == '\n');
        // Every other turn, the first whole line is taken by skip().
        if (!lines.empty() && ++turn % 2 == 0) {
          std::size_t n = lines.find('\n') + 1;
          std::string_view line = lines.substr(0, n - 1);
          if (!line.empty()) got.emplace_back(line);
          d.skip(n);
          continue;
        }
        auto r = d.next();
        if (r.status != LineDecoder::Status::line) return;
        got.emplace_back(r.line);
      }
    };
    for (std::size_t at = 0; at < input.size(); at += chunk) {
      d.feed(std::string_view(input).substr(at, chunk));
      drain();
    }
    EXPECT_EQ(d.whole_lines(), "");
    d.finish();
    drain();
    EXPECT_EQ(got, decode(input, {})) << "chunk " << chunk;
  }
}

}  // namespace
