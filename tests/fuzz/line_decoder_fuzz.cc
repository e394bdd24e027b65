// Fuzz target for ipc::LineDecoder (src/ipc/wire/line_decoder.h).
//
// Property: however a byte stream is cut into feed() calls, the decoder hands out
// the same lines, and the same too_long verdict, as a simple model of man/ipcat.1, PROTOCOL,
// computed on the whole stream:
//   - the stream is split at '\n'; a final piece without '\n' is a line at EOF;
//   - a piece is too long when, without one trailing '\r', it exceeds max_line;
//     the first too-long piece ends the stream (framing is lost);
//   - each piece is trimmed of ASCII whitespace; blank pieces are skipped.
// Also: every line is non-empty, trimmed, has no '\n'; after need_more the decoder
// holds at most max_line bytes, +1 for a trailing '\r' (never an overlong line); too_long and
// end are sticky.
//
// Input layout: [max_line selector: 1 byte][cut seed: 4 bytes][stream ...]

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/wire/line_decoder.h"

namespace {

using ipc::LineDecoder;
using Status = LineDecoder::Status;

struct Outcome {
  std::vector<std::string> lines;
  bool too_long = false;
  bool operator==(const Outcome&) const = default;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "line_decoder_fuzz: property violated: %s\n", what);
  std::abort();
}

void check_line(std::string_view line, std::size_t max_line) {
  if (line.empty()) fail("empty line returned");
  if (ipc::trim(line) != line) fail("line not trimmed");
  if (line.find('\n') != std::string_view::npos) fail("line contains a newline");
  if (line.size() > max_line) fail("line longer than max_line");
}

/// Takes every line the decoder has now; returns the status that stopped it.
Status drain(LineDecoder& d, Outcome& out) {
  for (;;) {
    auto r = d.next();
    if (r.status != Status::line) {
      if (r.status == Status::too_long) out.too_long = true;
      // (+1: a trailing '\r' may be half of "\r\n" and does not count yet)
      if (r.status == Status::need_more && d.buffered() > d.max_line() + 1) fail("buffers more than max_line");
      return r.status;
    }
    check_line(r.line, d.max_line());
    out.lines.emplace_back(r.line);
  }
}

/// Feeds `chunks` one by one, draining after each, then finishes.
Outcome decode(std::string_view stream, const std::vector<std::size_t>& chunks, std::size_t max_line) {
  LineDecoder d(max_line);
  Outcome out;
  std::size_t pos = 0;
  for (std::size_t len : chunks) {
    d.feed(stream.substr(pos, len));
    pos += len;
    if (drain(d, out) == Status::too_long) break;
  }
  d.finish();
  Status last = drain(d, out);
  if (last != Status::end && last != Status::too_long) fail("no end after finish()");
  // Both verdicts are final.
  if (d.next().status != last) fail("end/too_long is not sticky");
  d.feed("{}\n");
  if (last == Status::too_long && d.next().status != Status::too_long) fail("too_long is not sticky after feed");
  return out;
}

Outcome model(std::string_view stream, std::size_t max_line) {
  Outcome out;
  while (!stream.empty()) {
    auto nl = stream.find('\n');
    std::string_view piece = stream.substr(0, nl);
    stream.remove_prefix(nl == std::string_view::npos ? stream.size() : nl + 1);
    std::size_t len = piece.size();
    if (len > 0 && piece[len - 1] == '\r') --len;
    if (len > max_line) {
      out.too_long = true;
      break;
    }
    std::string_view line = ipc::trim(piece);
    if (!line.empty()) out.lines.emplace_back(line);
  }
  return out;
}

/// Cut sizes from a tiny PRNG: the fuzzer steers them through the seed.
std::vector<std::size_t> cuts(std::size_t total, std::uint32_t seed) {
  std::vector<std::size_t> out;
  const std::uint32_t spans[] = {1, 2, 8, 64, 4096};
  std::uint32_t span = spans[seed % 5];
  std::uint32_t x = seed | 1;
  while (total > 0) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    std::size_t len = 1 + x % span;
    if (len > total) len = total;
    out.push_back(len);
    total -= len;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) return 0;
  // Mostly tiny limits, so that the fuzzer reaches them; sometimes the default.
  std::size_t max_line = data[0] < 250 ? 1 + data[0] % 64 : ipc::k_default_max_line;
  std::uint32_t seed = static_cast<std::uint32_t>(data[1]) | static_cast<std::uint32_t>(data[2]) << 8 |
                       static_cast<std::uint32_t>(data[3]) << 16 | static_cast<std::uint32_t>(data[4]) << 24;
  std::string_view stream(reinterpret_cast<const char*>(data + 5), size - 5);

  Outcome expected = model(stream, max_line);
  if (decode(stream, {stream.size()}, max_line) != expected) fail("one feed differs from the model");
  if (decode(stream, cuts(stream.size(), seed), max_line) != expected) fail("a split feed differs from the model");
  if (decode(stream, std::vector<std::size_t>(stream.size(), 1), max_line) != expected)
    fail("byte-at-a-time feed differs from the model");
  return 0;
}
