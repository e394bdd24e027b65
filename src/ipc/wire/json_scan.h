#pragma once
/// The byte-level pieces of JSON text that the validator (json_text.cc) and the
/// readers of validated text (json_reader.cc) share. Internal to the wire layer:
/// callers use json_text.h and json_reader.h. Inline, so that each file compiles to
/// what it did when the two were one: the validator's loop calls is_ws() per byte.

#include <cstddef>
#include <cstring>

namespace ipc::json_scan {

/// JSON's insignificant whitespace (RFC 8259: space, tab, LF, CR).
constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Reads four hex digits at p (p + 4 <= end checked by the caller); -1 if not hex.
inline int read_hex4(const char* p) noexcept {
  int v = 0;
  for (int i = 0; i < 4; ++i) {
    int h = hex_value(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

// --- readers of validated text ------------------------------------------------

inline const char* skip_ws(const char* p, const char* end) noexcept {
  while (p != end && is_ws(*p)) ++p;
  return p;
}

/// Past the string token starting at p ('"'), in valid text.
inline const char* skip_string(const char* p, const char* end) noexcept {
  ++p;
  while (p != end) {
    const void* hit = nullptr;
    // Find the next quote; a quote preceded by an odd run of backslashes is escaped.
    hit = std::memchr(p, '"', static_cast<std::size_t>(end - p));
    if (hit == nullptr) return end;
    const char* q = static_cast<const char*>(hit);
    std::size_t backslashes = 0;
    for (const char* b = q; b > p && b[-1] == '\\'; --b) ++backslashes;
    if (backslashes % 2 == 0) return q + 1;
    p = q + 1;
  }
  return end;
}

/// Past the value starting at p, in valid text: containers by counting brackets
/// outside strings (no recursion).
inline const char* skip_value(const char* p, const char* end) noexcept {
  if (p == end) return p;
  if (*p == '"') return skip_string(p, end);
  if (*p == '{' || *p == '[') {
    std::size_t depth = 0;
    while (p != end) {
      char c = *p;
      if (c == '"') {
        p = skip_string(p, end);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return p + 1;
      }
      ++p;
    }
    return end;
  }
  while (p != end && *p != ',' && *p != '}' && *p != ']' && !is_ws(*p)) ++p;
  return p;
}

}  // namespace ipc::json_scan
