#pragma once
/// parse_whole — a whole number that is all of `text`: no sign a type cannot hold,
/// no blanks, nothing after the digits, no overflow. The one parser behind every
/// count, port, fd and pid ipcat reads.

#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>

namespace ipc {

template <typename T>
std::optional<T> parse_whole(std::string_view text, int base = 10) {
  T value{};
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, value, base);
  if (text.empty() || ec != std::errc() || p != end) return std::nullopt;
  return value;
}

}  // namespace ipc
