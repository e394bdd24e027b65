#pragma once
// Lets a short fuzz input stand for a long, deeply nested text, so that nesting
// of any depth is within reach in seconds (the 100,000-deep line that once
// crashed every subcommand is 10 bytes here):
//
//   0x01 N_LO N_HI OPEN 0x00 MIDDLE 0x00 CLOSE   ->   OPEN×(N·16) MIDDLE CLOSE×(N·16)
//
// Any other input is the text itself.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "ipc/wire/json_text.h"

namespace fuzz {

/// The nesting limit the JSON targets run with. Built with
/// -DIPCAT_FUZZ_NO_DEPTH_LIMIT it is gone, and the DOM built from deep input
/// overflows the stack: json_diff_fuzz finds that within seconds, which is what
/// the limit protects every subcommand from.
#ifdef IPCAT_FUZZ_NO_DEPTH_LIMIT
inline constexpr std::size_t k_limit = std::numeric_limits<std::size_t>::max();
#else
inline constexpr std::size_t k_limit = ipc::k_default_max_depth;
#endif

/// A property does not hold: libFuzzer keeps the input.
[[noreturn]] inline void fail(const char* target, const char* what) {
  std::fprintf(stderr, "%s: property violated: %s\n", target, what);
  std::abort();
}

inline std::string amplify(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (size < 3 || data[0] != 0x01) return std::string(in);
  std::size_t n = (static_cast<std::size_t>(data[1]) | static_cast<std::size_t>(data[2]) << 8) * 16;
  std::string_view rest = in.substr(3);
  auto a = rest.find('\0');
  std::string_view open = rest.substr(0, a);
  std::string_view middle, close;
  if (a != std::string_view::npos) {
    rest.remove_prefix(a + 1);
    auto b = rest.find('\0');
    middle = rest.substr(0, b);
    if (b != std::string_view::npos) close = rest.substr(b + 1);
  }
  if ((open.size() + close.size()) * n > (1u << 20)) n = (1u << 20) / (open.size() + close.size() + 1);
  std::string text;
  text.reserve((open.size() + close.size()) * n + middle.size());
  for (std::size_t i = 0; i < n; ++i) text += open;
  text += middle;
  for (std::size_t i = 0; i < n; ++i) text += close;
  return text;
}

/// `text` copied to a heap block of exactly its size: ASan then reports a read one
/// byte past the end, which a std::string's terminator would hide (the validator
/// leaves out checks for the end where a text's last byte stops every scan).
class ExactCopy {
 public:
  explicit ExactCopy(std::string_view text) : m_bytes(new char[text.size()]), m_size(text.size()) {
    if (m_size > 0) std::memcpy(m_bytes.get(), text.data(), m_size);
  }
  std::string_view view() const noexcept { return {m_bytes.get(), m_size}; }

 private:
  std::unique_ptr<char[]> m_bytes;
  std::size_t m_size;
};

}  // namespace fuzz
