#include "ipc/wire/json_text.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ipc {
namespace {

// Byte classes for the string fast path: 0 = an ordinary byte (copied on),
// 1 = ends the run ('"', '\\', a control character, a non-ASCII lead byte).
constexpr std::array<std::uint8_t, 256> make_string_stops() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = 1;
  t['"'] = 1;
  t['\\'] = 1;
  for (int c = 0x80; c < 0x100; ++c) t[static_cast<std::size_t>(c)] = 1;
  return t;
}
constexpr auto k_string_stops = make_string_stops();

constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Reads four hex digits at p (p + 4 <= end checked by the caller); -1 if not hex.
int read_hex4(const char* p) noexcept {
  int v = 0;
  for (int i = 0; i < 4; ++i) {
    int h = hex_value(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/// Length of the valid UTF-8 sequence (2-4 bytes, RFC 3629: no overlongs, no
/// surrogates, <= U+10FFFF) at p, or 0 when it is not one.
std::size_t utf8_sequence(const unsigned char* p, std::size_t left) noexcept {
  auto cont = [&](std::size_t i) { return i < left && (p[i] & 0xC0) == 0x80; };
  unsigned char c = p[0];
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;  // overlong
    if (c == 0xED && p[1] > 0x9F) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;  // overlong
    if (c == 0xF4 && p[1] > 0x8F) return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// The containers open at a point of the text, innermost last: one bit each
/// (object or array), in place for the first 1024 levels, so validating a line
/// allocates nothing.
class OpenContainers {
 public:
  bool empty() const noexcept { return m_size == 0; }
  std::size_t size() const noexcept { return m_size; }
  bool top_is_object() const noexcept { return word(m_size - 1) >> ((m_size - 1) % 64) & 1U; }
  void push(bool object) {
    std::size_t w = m_size / 64;
    if (w >= k_inline && m_more.size() <= w - k_inline) m_more.push_back(0);
    std::uint64_t* bits = w < k_inline ? &m_inline[w] : &m_more[w - k_inline];
    std::uint64_t mask = std::uint64_t{1} << (m_size % 64);
    *bits = object ? (*bits | mask) : (*bits & ~mask);
    ++m_size;
  }
  void pop() noexcept { --m_size; }

 private:
  static constexpr std::size_t k_inline = 16;
  std::uint64_t word(std::size_t level) const noexcept {
    std::size_t w = level / 64;
    return w < k_inline ? m_inline[w] : m_more[w - k_inline];
  }
  std::array<std::uint64_t, k_inline> m_inline{};
  std::vector<std::uint64_t> m_more;
  std::size_t m_size = 0;
};

/// The validator. One pass, an explicit stack of open containers instead of
/// recursion; with `out` set, copies the text minus insignificant whitespace in
/// runs (a compact line costs one append).
///
///   value ──► '{' push ──► key ──► ':' ──► value ...
///     │       '[' push ──────────────────► value ...
///     └─► scalar ──► after_value ──► ',' ──► key | value
///                         └──► '}' / ']' pop ──► after_value  (empty stack: done)
class Validator {
 public:
  Validator(std::string_view text, std::string* out, std::size_t max_depth)
      : m_begin(text.data()), m_p(text.data()), m_end(text.data() + text.size()), m_run(text.data()), m_out(out),
        m_max_depth(max_depth) {}

  JsonCheck run() {
    JsonCheck result;
    std::size_t out_size = m_out != nullptr ? m_out->size() : 0;
    if (!parse()) {
      if (m_out != nullptr) m_out->resize(out_size);
      result.status = m_too_deep ? JsonCheck::Status::too_deep : JsonCheck::Status::invalid;
      result.offset = static_cast<std::size_t>(m_p - m_begin);
      result.why = std::move(m_why);
      return result;
    }
    flush(m_p);
    result.status = JsonCheck::Status::ok;
    result.compact = !m_spaced;
    return result;
  }

 private:
  bool parse() {
    // A leading byte-order mark is dropped like whitespace, the same way on every
    // path (BODY, stdin line, request line, FIFO message).
    if (m_end - m_p >= 3 && std::memcmp(m_p, "\xEF\xBB\xBF", 3) == 0) {
      m_p += 3;
      m_run = m_p;
      m_spaced = true;
    }
    skip_ws();
    for (;;) {
      // A value is expected at m_p.
      if (m_p == m_end) return fail("unexpected end of text, expected a value");
      char c = *m_p;
      if (c == '{' || c == '[') {
        if (m_stack.size() >= m_max_depth) {
          m_too_deep = true;
          return fail("nesting deeper than the limit of " + std::to_string(m_max_depth));
        }
        m_stack.push(c == '{');
        ++m_p;
        skip_ws();
        char close = c == '{' ? '}' : ']';
        if (m_p != m_end && *m_p == close) {
          ++m_p;
          m_stack.pop();
        } else if (c == '{') {
          if (!member_key()) return false;
          continue;
        } else {
          continue;
        }
      } else if (c == '"') {
        if (!string()) return false;
      } else if (c == 't') {
        if (!literal("true")) return false;
      } else if (c == 'f') {
        if (!literal("false")) return false;
      } else if (c == 'n') {
        if (!literal("null")) return false;
      } else if (c == '-' || is_digit(c)) {
        if (!number()) return false;
      } else {
        return fail(unexpected("a value"));
      }
      // After a value: close containers, or move on to the next element.
      for (;;) {
        skip_ws();
        if (m_stack.empty()) {
          if (m_p != m_end) return fail(unexpected("the end of the text after one JSON value"));
          return true;
        }
        if (m_p == m_end) return fail("unexpected end of text inside an unclosed " + container_name());
        char top = m_stack.top_is_object() ? '{' : '[';
        char d = *m_p;
        if (d == ',') {
          ++m_p;
          skip_ws();
          if (top == '{' && !member_key()) return false;
          break;  // the next value
        }
        if ((top == '{' && d == '}') || (top == '[' && d == ']')) {
          ++m_p;
          m_stack.pop();
          continue;
        }
        return fail(unexpected(top == '{' ? "',' or '}' in an object" : "',' or ']' in an array"));
      }
    }
  }

  // An object key, the ':' and the whitespace before the value.
  bool member_key() {
    if (m_p == m_end || *m_p != '"') return fail(unexpected("a string key in an object"));
    if (!string()) return false;
    skip_ws();
    if (m_p == m_end || *m_p != ':') return fail(unexpected("':' after an object key"));
    ++m_p;
    skip_ws();
    return true;
  }

  std::string container_name() const { return m_stack.top_is_object() ? "object" : "array"; }

  std::string unexpected(const char* expected) const {
    if (m_p == m_end) return std::string("unexpected end of text, expected ") + expected;
    auto c = static_cast<unsigned char>(*m_p);
    std::string got;
    if (c >= 0x20 && c < 0x7F) {
      got = std::string("'") + static_cast<char>(c) + "'";
    } else {
      static constexpr char k_hex[] = "0123456789abcdef";
      got = std::string("byte 0x") + k_hex[c >> 4] + k_hex[c & 15];
    }
    return "unexpected " + got + ", expected " + expected;
  }

  bool fail(const std::string& what) {
    m_why = "at byte " + std::to_string(m_p - m_begin) + ": " + what;
    return false;
  }

  void flush(const char* to) {
    if (m_out != nullptr && to > m_run) m_out->append(m_run, static_cast<std::size_t>(to - m_run));
  }

  void skip_ws() {
    if (m_p == m_end || !is_ws(*m_p)) return;
    flush(m_p);
    m_spaced = true;
    while (m_p != m_end && is_ws(*m_p)) ++m_p;
    m_run = m_p;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(m_end - m_p) < word.size() || std::memcmp(m_p, word.data(), word.size()) != 0)
      return fail(unexpected("a value"));
    m_p += word.size();
    return true;
  }

  // The scanners below work on a local copy of the position (kept in a register
  // across the loops) and store it back once.
  bool number() {
    const char* p = m_p;
    const char* const end = m_end;
    auto digits = [&] {
      while (p != end && is_digit(*p)) ++p;
    };
    if (*p == '-') ++p;
    if (p == end || !is_digit(*p)) return fail_at(p, "a digit in a number");
    if (*p == '0') {
      ++p;
    } else {
      digits();
    }
    if (p != end && *p == '.') {
      ++p;
      if (p == end || !is_digit(*p)) return fail_at(p, "a digit after '.' in a number");
      digits();
    }
    if (p != end && (*p == 'e' || *p == 'E')) {
      ++p;
      if (p != end && (*p == '+' || *p == '-')) ++p;
      if (p == end || !is_digit(*p)) return fail_at(p, "a digit in a number's exponent");
      digits();
    }
    m_p = p;
    return true;
  }

  bool fail_at(const char* p, const char* expected) {
    m_p = p;
    return fail(unexpected(expected));
  }

  bool string() {
    const char* p = m_p + 1;  // past the opening '"'
    const char* const end = m_end;
    for (;;) {
      // Eight bytes at a time while none of them ends the run (SWAR: a '"', a '\\',
      // a control character or a non-ASCII byte); a false alarm only drops to the
      // byte loop below. Long string values are most of a big message's bytes.
      while (end - p >= 8 && plain8(p)) p += 8;
      while (p != end && k_string_stops[static_cast<unsigned char>(*p)] == 0) ++p;
      if (p == end) {
        m_p = p;
        return fail("unexpected end of text inside a string");
      }
      auto c = static_cast<unsigned char>(*p);
      if (c == '"') {
        m_p = p + 1;
        return true;
      }
      if (c == '\\') {
        m_p = p;
        if (!escape()) return false;
        p = m_p;
        continue;
      }
      if (c < 0x20) return fail_at(p, "no control character inside a string (escape it)");
      std::size_t n = utf8_sequence(reinterpret_cast<const unsigned char*>(p), static_cast<std::size_t>(end - p));
      if (n == 0) {
        m_p = p;
        return fail("invalid UTF-8 in a string");
      }
      p += n;
    }
  }

  static bool plain8(const char* p) noexcept {
    constexpr std::uint64_t k_ones = 0x0101010101010101ULL;
    constexpr std::uint64_t k_highs = 0x8080808080808080ULL;
    std::uint64_t v = 0;
    std::memcpy(&v, p, 8);
    std::uint64_t quote = v ^ (k_ones * '"');
    std::uint64_t slash = v ^ (k_ones * '\\');
    std::uint64_t stops = ((v - k_ones * 0x20) & ~v) |          // a byte below 0x20
                          ((quote - k_ones) & ~quote) |        // a '"'
                          ((slash - k_ones) & ~slash) | v;     // a '\\'; a byte >= 0x80
    return (stops & k_highs) == 0;
  }

  bool escape() {
    ++m_p;  // '\\'
    if (m_p == m_end) return fail("unexpected end of text in an escape");
    char e = *m_p;
    if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
      ++m_p;
      return true;
    }
    if (e != 'u') return fail(unexpected("an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"));
    ++m_p;
    if (m_end - m_p < 4 || read_hex4(m_p) < 0) return fail("\\u must be followed by four hex digits");
    int cp = read_hex4(m_p);
    m_p += 4;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("a lone UTF-16 low surrogate escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      // A high surrogate must be followed by an escaped low one.
      if (m_end - m_p < 6 || m_p[0] != '\\' || m_p[1] != 'u') return fail("a UTF-16 high surrogate escape without its low half");
      int low = read_hex4(m_p + 2);
      if (low < 0xDC00 || low > 0xDFFF) return fail("a UTF-16 high surrogate escape without its low half");
      m_p += 6;
    }
    return true;
  }

  const char* m_begin;
  const char* m_p;
  const char* m_end;
  const char* m_run;  // start of the bytes not yet copied to m_out
  std::string* m_out;
  std::size_t m_max_depth;
  OpenContainers m_stack;
  std::string m_why;
  bool m_spaced = false;
  bool m_too_deep = false;
};

// --- readers of validated text ------------------------------------------------

const char* skip_ws(const char* p, const char* end) noexcept {
  while (p != end && is_ws(*p)) ++p;
  return p;
}

/// Past the string token starting at p ('"'), in valid text.
const char* skip_string(const char* p, const char* end) noexcept {
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
const char* skip_value(const char* p, const char* end) noexcept {
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

}  // namespace

JsonCheck check_json(std::string_view text, std::size_t max_depth) { return Validator(text, nullptr, max_depth).run(); }

JsonCheck minify_json(std::string_view text, std::string& out, std::size_t max_depth) {
  return Validator(text, &out, max_depth).run();
}

std::string_view strip_bom(std::string_view text) noexcept {
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.remove_prefix(3);
  return text;
}

JsonType json_type(std::string_view json) noexcept {
  const char* p = skip_ws(json.data(), json.data() + json.size());
  if (p == json.data() + json.size()) return JsonType::null;
  switch (*p) {
    case '{': return JsonType::object;
    case '[': return JsonType::array;
    case '"': return JsonType::string;
    case 't':
    case 'f': return JsonType::boolean;
    case 'n': return JsonType::null;
    default: return JsonType::number;
  }
}

std::optional<std::string_view> top_level_member(std::string_view json, std::string_view key) {
  const char* end = json.data() + json.size();
  const char* p = skip_ws(json.data(), end);
  if (p == end || *p != '{') return std::nullopt;
  p = skip_ws(p + 1, end);
  std::optional<std::string_view> found;
  while (p != end && *p == '"') {
    const char* key_end = skip_string(p, end);
    std::string_view token(p, static_cast<std::size_t>(key_end - p));
    bool match = false;
    std::string_view inner = token.substr(1, token.size() >= 2 ? token.size() - 2 : 0);
    if (inner.find('\\') == std::string_view::npos) {
      match = inner == key;
    } else {
      auto decoded = json_string_value(token);
      match = decoded && *decoded == key;
    }
    p = skip_ws(key_end, end);
    if (p == end || *p != ':') return std::nullopt;  // not valid text
    p = skip_ws(p + 1, end);
    const char* value_end = skip_value(p, end);
    if (match) found = std::string_view(p, static_cast<std::size_t>(value_end - p));
    p = skip_ws(value_end, end);
    if (p == end || *p != ',') break;
    p = skip_ws(p + 1, end);
  }
  return found;
}

std::optional<std::string> json_string_value(std::string_view token) {
  if (token.size() < 2 || token.front() != '"' || token.back() != '"') return std::nullopt;
  std::string out;
  out.reserve(token.size() - 2);
  const char* p = token.data() + 1;
  const char* end = token.data() + token.size() - 1;
  while (p < end) {
    const char* next = static_cast<const char*>(std::memchr(p, '\\', static_cast<std::size_t>(end - p)));
    if (next == nullptr) next = end;
    out.append(p, static_cast<std::size_t>(next - p));
    p = next;
    if (p >= end) break;
    ++p;  // '\\'
    if (p >= end) break;
    char e = *p++;
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        int cp = end - p >= 4 ? read_hex4(p) : -1;
        if (cp < 0) return std::nullopt;
        p += 4;
        auto code = static_cast<std::uint32_t>(cp);
        if (code >= 0xD800 && code <= 0xDBFF) {
          int low = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? read_hex4(p + 2) : -1;
          if (low >= 0xDC00 && low <= 0xDFFF) {
            code = 0x10000 + ((code - 0xD800) << 10) + (static_cast<std::uint32_t>(low) - 0xDC00);
            p += 6;
          } else {
            code = 0xFFFD;
          }
        } else if (code >= 0xDC00 && code <= 0xDFFF) {
          code = 0xFFFD;
        }
        append_utf8(out, code);
        break;
      }
      default: out += e; break;  // '"', '\\', '/'
    }
  }
  return out;
}

std::string pretty_json(std::string_view json, int indent) {
  std::string out;
  out.reserve(json.size() + json.size() / 2);
  const char* p = json.data();
  const char* end = p + json.size();
  std::size_t depth = 0;
  auto newline = [&](std::size_t level) {
    out += '\n';
    out.append(level * static_cast<std::size_t>(indent), ' ');
  };
  while (p != end) {
    char c = *p;
    if (is_ws(c)) {
      ++p;
    } else if (c == '"') {
      const char* q = skip_string(p, end);
      out.append(p, static_cast<std::size_t>(q - p));
      p = q;
    } else if (c == '{' || c == '[') {
      const char* q = skip_ws(p + 1, end);
      if (q != end && (*q == '}' || *q == ']')) {  // an empty container stays "{}" / "[]"
        out += c;
        out += *q;
        p = q + 1;
        continue;
      }
      out += c;
      newline(++depth);
      p = q;
    } else if (c == '}' || c == ']') {
      newline(depth > 0 ? --depth : 0);
      out += c;
      ++p;
    } else if (c == ',') {
      out += ',';
      newline(depth);
      ++p;
    } else if (c == ':') {
      out += ": ";
      ++p;
    } else {
      const char* q = skip_value(p, end);
      if (q == p) q = p + 1;  // not valid text: copy on rather than loop
      out.append(p, static_cast<std::size_t>(q - p));
      p = q;
    }
  }
  return out;
}

std::string quote_json(std::string_view s) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p != end) {
    unsigned char c = *p;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++p;
    } else if (c < 0x20) {
      switch (c) {
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          out += "\\u00";
          out += k_hex[c >> 4];
          out += k_hex[c & 15];
      }
      ++p;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++p;
    } else {
      std::size_t n = utf8_sequence(p, static_cast<std::size_t>(end - p));
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not UTF-8
        ++p;
      } else {
        out.append(reinterpret_cast<const char*>(p), n);
        p += n;
      }
    }
  }
  out += '"';
  return out;
}

std::optional<std::string> compact_form(std::string_view text, std::string* why, std::size_t max_depth) {
  std::string out;
  out.reserve(text.size());
  JsonCheck check = minify_json(text, out, max_depth);
  if (!check) {
    if (why != nullptr) *why = std::move(check.why);
    return std::nullopt;
  }
  return out;
}


}  // namespace ipc
