#include "ipc/json_scan.h"

#include <cstdint>

namespace ipc {
namespace {

constexpr int k_max_depth = 256;

class Scanner {
 public:
  explicit Scanner(std::string_view s) : m_p(s.data()), m_end(s.data() + s.size()) {}

  JsonScan run() {
    skip_ws();
    if (!value(0)) return m_deep ? JsonScan::reencode : JsonScan::invalid;
    skip_ws();
    if (m_p != m_end) return JsonScan::invalid;
    return (m_spaced || m_deep) ? JsonScan::reencode : JsonScan::compact;
  }

 private:
  bool at_end() const { return m_p == m_end; }

  void skip_ws() {
    while (m_p != m_end && (*m_p == ' ' || *m_p == '\t' || *m_p == '\n' || *m_p == '\r')) {
      m_spaced = true;
      ++m_p;
    }
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(m_end - m_p) < word.size() || std::string_view(m_p, word.size()) != word) return false;
    m_p += word.size();
    return true;
  }

  bool value(int depth) {
    if (at_end()) return false;
    switch (*m_p) {
      case '{': return object(depth + 1);
      case '[': return array(depth + 1);
      case '"': return string();
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number();
    }
  }

  bool object(int depth) {
    if (depth > k_max_depth) return too_deep();
    ++m_p;  // '{'
    skip_ws();
    if (!at_end() && *m_p == '}') return ++m_p, true;
    for (;;) {
      if (at_end() || *m_p != '"' || !string()) return false;
      skip_ws();
      if (at_end() || *m_p != ':') return false;
      ++m_p;
      skip_ws();
      if (!value(depth)) return false;
      skip_ws();
      if (at_end()) return false;
      if (*m_p == '}') return ++m_p, true;
      if (*m_p != ',') return false;
      ++m_p;
      skip_ws();
    }
  }

  bool array(int depth) {
    if (depth > k_max_depth) return too_deep();
    ++m_p;  // '['
    skip_ws();
    if (!at_end() && *m_p == ']') return ++m_p, true;
    for (;;) {
      if (!value(depth)) return false;
      skip_ws();
      if (at_end()) return false;
      if (*m_p == ']') return ++m_p, true;
      if (*m_p != ',') return false;
      ++m_p;
      skip_ws();
    }
  }

  bool too_deep() {
    m_deep = true;  // let nlohmann decide
    return false;
  }

  static bool hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

  bool string() {
    ++m_p;  // '"'
    while (!at_end()) {
      auto c = static_cast<unsigned char>(*m_p);
      if (c == '"') return ++m_p, true;
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++m_p == m_end) return false;
        char e = *m_p++;
        if (e == 'u') {
          if (m_end - m_p < 4 || !hex(m_p[0]) || !hex(m_p[1]) || !hex(m_p[2]) || !hex(m_p[3])) return false;
          // Surrogate pairs must match up: leave those to nlohmann.
          if ((m_p[0] == 'd' || m_p[0] == 'D') && m_p[1] >= '8') m_deep = true;
          m_p += 4;
        } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') {
          return false;
        }
        continue;
      }
      if (c < 0x80) {
        ++m_p;
        continue;
      }
      if (!utf8()) return false;
    }
    return false;
  }

  // One multi-byte UTF-8 sequence (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
  bool utf8() {
    auto b = [&](std::ptrdiff_t i) { return static_cast<unsigned char>(m_p[i]); };
    auto cont = [&](std::ptrdiff_t i) { return (b(i) & 0xC0) == 0x80; };
    std::ptrdiff_t left = m_end - m_p;
    unsigned char c = b(0);
    if (c >= 0xC2 && c <= 0xDF) {
      if (left < 2 || !cont(1)) return false;
      m_p += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      if (left < 3 || !cont(1) || !cont(2)) return false;
      if (c == 0xE0 && b(1) < 0xA0) return false;  // overlong
      if (c == 0xED && b(1) > 0x9F) return false;  // surrogate
      m_p += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      if (left < 4 || !cont(1) || !cont(2) || !cont(3)) return false;
      if (c == 0xF0 && b(1) < 0x90) return false;  // overlong
      if (c == 0xF4 && b(1) > 0x8F) return false;  // > U+10FFFF
      m_p += 4;
    } else {
      return false;
    }
    return true;
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  bool number() {
    const char* start = m_p;
    if (!at_end() && *m_p == '-') ++m_p;
    if (at_end()) return false;
    if (*m_p == '0') {
      ++m_p;
    } else if (digit(*m_p)) {
      while (!at_end() && digit(*m_p)) ++m_p;
    } else {
      return false;
    }
    if (!at_end() && *m_p == '.') {
      ++m_p;
      if (at_end() || !digit(*m_p)) return false;
      while (!at_end() && digit(*m_p)) ++m_p;
    }
    if (!at_end() && (*m_p == 'e' || *m_p == 'E')) {
      ++m_p;
      if (!at_end() && (*m_p == '+' || *m_p == '-')) ++m_p;
      if (at_end() || !digit(*m_p)) return false;
      const char* exponent = m_p;
      while (!at_end() && digit(*m_p)) ++m_p;
      // A 3-digit exponent may overflow a double, which the parser refuses: let it decide.
      if (m_p - exponent >= 3) m_deep = true;
    }
    // So may a very long number.
    if (m_p - start > 300) m_deep = true;
    return true;
  }

  const char* m_p;
  const char* m_end;
  bool m_spaced = false;
  bool m_deep = false;
};

}  // namespace

JsonScan scan_json(std::string_view text) noexcept { return Scanner(text).run(); }

}  // namespace ipc
