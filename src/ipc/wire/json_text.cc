#include "ipc/wire/json_text.h"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ipc/wire/json_scan.h"

// The scanners are inlined into the validator's loop, so the position stays in a
// register: a call per token would cost more than the token.
#define IPCAT_INLINE [[gnu::always_inline]] inline

namespace ipc {
namespace {

using json_scan::is_ws;
using json_scan::read_hex4;
using json_scan::skip_string;
using json_scan::skip_value;
using json_scan::skip_ws;

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

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
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

/// The next byte at or after p that ends a plain run of string bytes: a '"', a
/// '\\', a control character or a non-ASCII byte; `end` when there is none. Long
/// string values are most of a big message's bytes, and short keys are most of a
/// small one's tokens: both are found in one step here, 16 (SSE2) or 8 bytes at a
/// time, never reading outside [begin, end) (the text).
IPCAT_INLINE const char* string_stop(const char* p, const char* begin, const char* end) noexcept {
#if defined(__SSE2__)
  const __m128i quotes = _mm_set1_epi8('"');
  const __m128i backslashes = _mm_set1_epi8('\\');
  const __m128i spaces = _mm_set1_epi8(0x20);
  auto stops16 = [&](const char* at) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    // A signed compare: a byte below 0x20 and one of 0x80 and above (negative)
    // both read as less than ' '.
    __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quotes), _mm_cmpeq_epi8(v, backslashes)),
                                _mm_cmplt_epi8(v, spaces));
    return static_cast<unsigned>(_mm_movemask_epi8(hits));
  };
  for (; end - p >= 16; p += 16) {
    if (unsigned mask = stops16(p); mask != 0) return p + std::countr_zero(mask);
  }
  // Fewer than 16 bytes left (every line's last strings): the text's last 16 bytes
  // as one more block, without those already seen.
  if (p != end && end - begin >= 16) {
    auto seen = static_cast<unsigned>(16 - (end - p));
    unsigned mask = stops16(end - 16) >> seen << seen;
    return mask != 0 ? end - 16 + std::countr_zero(mask) : end;
  }
#else
  (void)begin;
#endif
  if constexpr (std::endian::native == std::endian::little) {
    // SWAR: the high bit of each byte that ends the run. Borrows only run upwards
    // from a real hit, so the lowest bit set is exact.
    constexpr std::uint64_t k_ones = 0x0101010101010101ULL;
    constexpr std::uint64_t k_highs = 0x8080808080808080ULL;
    while (end - p >= 8) {
      std::uint64_t v = 0;
      std::memcpy(&v, p, 8);
      std::uint64_t quote = v ^ (k_ones * '"');
      std::uint64_t slash = v ^ (k_ones * '\\');
      std::uint64_t stops = (((v - k_ones * 0x20) & ~v) | ((quote - k_ones) & ~quote) | ((slash - k_ones) & ~slash) | v) &
                            k_highs;
      if (stops != 0) return p + std::countr_zero(stops) / 8;
      p += 8;
    }
  }
  while (p != end && k_string_stops[static_cast<unsigned char>(*p)] == 0) ++p;
  return p;
}

/// Where Validator::passes_as_is() resumes at the first whitespace: a control
/// byte, neither whitespace nor the start of any token, so the scan fails at once.
constexpr char k_not_compact[] = "\x01";

/// The kinds of the containers open at a point of the text, one bit a level
/// (object or array): in place for the first 64 levels, so validating a line
/// allocates nothing (and starting costs one store, not a cleared array).
class OpenContainers {
 public:
  /// Records the kind of the container at nesting `level` (0 = outermost). Levels
  /// are set in order: level n only once 0..n-1 are.
  /// Inlined for the first 64 levels (every instance of the validator's loop
  /// alike: left to the compiler, some called it for each container).
  IPCAT_INLINE void set(std::size_t level, bool object) {
    if (level >= 64) {
      set_deep(level, object);
      return;
    }
    std::uint64_t mask = std::uint64_t{1} << level;
    m_inline = object ? (m_inline | mask) : (m_inline & ~mask);
  }
  IPCAT_INLINE bool is_object(std::size_t level) const noexcept {
    std::uint64_t bits = level < 64 ? m_inline : m_more[level / 64 - 1];
    return (bits >> (level % 64) & 1U) != 0;
  }

 private:
  [[gnu::noinline]] void set_deep(std::size_t level, bool object) {
    std::size_t w = level / 64 - 1;
    if (m_more.size() <= w) m_more.push_back(0);
    std::uint64_t mask = std::uint64_t{1} << (level % 64);
    m_more[w] = object ? (m_more[w] | mask) : (m_more[w] & ~mask);
  }

  std::uint64_t m_inline = 0;
  std::vector<std::uint64_t> m_more;
};

/// The validator: one pass, an explicit stack of open containers instead of
/// recursion, the position in a register (the scanners take and return it; a
/// failure returns nullptr, with the reason kept). With `Minify`, it copies the
/// text minus insignificant whitespace to `out`: nothing is copied until the
/// first whitespace, so a compact text costs one append at the end. With `Watch`,
/// it also notes whether a top-level member is named `key`.
///
///   value ──► '{' ──► key ──► ':' ──► value ...
///     │       '[' ──────────────────► value ...
///     └─► scalar ──► after_value ──► ',' ──► key | value
///                        └──► '}' / ']' ──► after_value  (depth 0: done)
template <bool Minify, bool Watch = false, bool AsIs = false>
class Validator {
 public:
  Validator(std::string_view text, std::string* out, std::size_t max_depth, std::string_view key = {})
      : m_begin(text.data()), m_end(text.data() + text.size()), m_run(text.data()), m_out(out),
        m_out_size(Minify ? out->size() : 0), m_max_depth(max_depth), m_key(key) {}

  JsonCheck run() {
    JsonCheck result;
    const char* end = parse_text();
    if (end == nullptr) {
      if constexpr (Minify) m_out->resize(m_out_size);
      result.status = m_too_deep ? JsonCheck::Status::too_deep : JsonCheck::Status::invalid;
      result.offset = static_cast<std::size_t>(m_failed_at - m_begin);
      result.why = std::move(m_why);
      return result;
    }
    if constexpr (Minify) {
      if (m_w == nullptr) {
        m_out->append(m_run, static_cast<std::size_t>(end - m_run));
      } else {
        flush(end);
        m_out->resize(static_cast<std::size_t>(m_w - m_out->data()));
      }
    }
    result.status = JsonCheck::Status::ok;
    result.compact = !m_spaced;
    result.has_key = m_has_key;
    return result;
  }

  /// With `AsIs` (an instance of its own, so that check_json's code stays as it
  /// is): true when the text is valid, already compact and (Watch) has no member
  /// `key`, what compact_lines() asks. It gives up at the first whitespace, and a
  /// failure costs no message (the per-line path gives that).
  bool passes_as_is() {
    static_assert(AsIs && !Minify);
    return parse_text() != nullptr && !m_has_key;
  }

 private:
  const char* parse_text() {
    // A text that ends in '}' or ']' (every line of compact JSON containers) cannot
    // run out before that last byte is taken, and only a close takes it: scanning
    // it, most checks for the end go away (each is one compare per token).
    bool closed = m_end != m_begin && (m_end[-1] == '}' || m_end[-1] == ']');
    return closed ? parse<true>() : parse<false>();
  }

  /// Past the one value of the text, or nullptr. `Closed`: the text's last byte is
  /// '}' or ']', so that inside a container p is before the end until a close.
  template <bool Closed>
  const char* parse() {
    const char* p = m_begin;
    const char* const end = m_end;
    // A leading byte-order mark is dropped like whitespace, the same way on every
    // path (BODY, stdin line, request line, FIFO message).
    if (end - p >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
      p += 3;
      m_run = p;
      m_spaced = true;
    }
    std::size_t depth = 0;
    bool in_object = false;  // the innermost open container is an object
    char close = 0;          // and this byte closes it
    auto ended = [end](const char* at) {
      if constexpr (Closed) {
        (void)at;
        (void)end;
        return false;
      } else {
        return at == end;
      }
    };
    // Compact text has no whitespace to skip: each place that allows some looks for
    // its expected byte first, and skips only when it finds whitespace instead.
  value:
    if (ended(p)) return fail(p, "unexpected end of text, expected a value");
    // Tested in order of how often each comes (strings, numbers, containers): a
    // chain of predictable branches, where a jump table's one indirect jump is not.
    if (*p == '"') {
      p = string(p);
    } else if (is_digit(*p) || *p == '-') {
      p = number<Closed>(p);
    } else if (*p == '{' || *p == '[') {
      if (depth >= m_max_depth) {
        m_too_deep = true;
        return fail(p, "nesting deeper than the limit of " + std::to_string(m_max_depth));
      }
      in_object = *p == '{';
      close = in_object ? '}' : ']';
      m_stack.set(depth++, in_object);
      p = skip_ws<Closed>(p + 1);
      if (!ended(p) && *p == close) {
        ++p;
        goto closed;
      }
      if (in_object) goto key;
      goto value;
    } else if (*p == 't') {
      p = literal(p, "true");
    } else if (*p == 'f') {
      p = literal(p, "false");
    } else if (*p == 'n') {
      p = literal(p, "null");
    } else if (is_ws(*p)) {
      p = skip_ws_run<Closed>(p);
      goto value;
    } else {
      return fail_unexpected(p, "a value");
    }
    if (p == nullptr) return nullptr;
  after_value:
    if (depth == 0) {
      p = skip_ws<false>(p);
      if (p != end) return fail_unexpected(p, "the end of the text after one JSON value");
      return p;
    }
    for (;;) {
      if (ended(p)) return fail_unclosed(p, in_object);
      if (*p == ',') {
        ++p;
        if (in_object) goto key;
        goto value;
      }
      if (*p == close) {
        ++p;
        goto closed;
      }
      if (!is_ws(*p)) return fail_unexpected(p, in_object ? "',' or '}' in an object" : "',' or ']' in an array");
      p = skip_ws_run<Closed>(p);
    }
  closed:
    --depth;
    in_object = depth > 0 && m_stack.is_object(depth - 1);
    close = in_object ? '}' : ']';
    // Where a close took the text's last byte, the end is there after all.
    if (Closed && depth > 0 && p == end) return fail_unclosed(p, in_object);
    goto after_value;
  key:
    if (ended(p) || *p != '"') {
      p = skip_ws<Closed>(p);
      if (ended(p) || *p != '"') return fail_unexpected(p, "a string key in an object");
    }
    if (Watch && depth == 1) {
      const char* token = p;
      std::size_t escapes = m_escapes;
      p = string(p);
      if (p == nullptr) return nullptr;
      note_key(std::string_view(token, static_cast<std::size_t>(p - token)), escapes != m_escapes);
    } else {
      p = string(p);
      if (p == nullptr) return nullptr;
    }
    if (ended(p) || *p != ':') {
      p = skip_ws<Closed>(p);
      if (ended(p) || *p != ':') return fail_unexpected(p, "':' after an object key");
    }
    ++p;
    goto value;
  }

  /// A top-level key's token (quotes included, valid): is it m_key? Only a key
  /// with escapes needs decoding first.
  void note_key(std::string_view token, bool escaped) {
    if (!escaped) {
      if (token.size() - 2 == m_key.size() && std::memcmp(token.data() + 1, m_key.data(), m_key.size()) == 0)
        m_has_key = true;
    } else if (!m_has_key && json_string_value(token) == m_key) {
      m_has_key = true;
    }
  }

  // `Closed` (parse()): no check for the end, which a run of whitespace cannot pass.
  template <bool Closed>
  IPCAT_INLINE const char* skip_ws(const char* p) {
    // Every whitespace byte is <= ' ': one compare rules out the common case.
    if ((Closed || p != m_end) && static_cast<unsigned char>(*p) <= ' ' && is_ws(*p)) return skip_ws_run<Closed>(p);
    return p;
  }

  template <bool Closed>
  const char* skip_ws_run(const char* p) {
    // passes_as_is(): the text is not compact, which is all it needs to know. The
    // scan goes on at a byte that is not whitespace and fits no token, so the
    // very next test fails (fail_unexpected), as at any other unexpected byte.
    if constexpr (AsIs) return k_not_compact;
    if constexpr (Minify) flush(p);
    m_spaced = true;
    while ((Closed || p != m_end) && is_ws(*p)) ++p;
    m_run = p;
    return p;
  }

  /// Copies the bytes from m_run to `to` on. The output is sized for the whole text
  /// at the first copy and written through m_w (then trimmed): a spaced text costs
  /// one memcpy per run, not a string append.
  void flush(const char* to) {
    if (m_w == nullptr) {
      m_out->resize(m_out_size + static_cast<std::size_t>(m_end - m_begin));
      m_w = m_out->data() + m_out_size;
    }
    auto n = static_cast<std::size_t>(to - m_run);
    std::memcpy(m_w, m_run, n);
    m_w += n;
  }

  IPCAT_INLINE const char* literal(const char* p, std::string_view word) {
    if (static_cast<std::size_t>(m_end - p) < word.size() || std::memcmp(p, word.data(), word.size()) != 0)
      return fail_unexpected(p, "a value");
    return p + word.size();
  }

  template <bool Closed>
  IPCAT_INLINE const char* number(const char* p) {
    const char* const end = m_end;
    // `Closed` (parse()): a run of digits stops at the text's last byte at the latest.
    auto digit_at = [end](const char* at) { return (Closed || at != end) && is_digit(*at); };
    if (*p == '-') ++p;
    if (!digit_at(p)) return fail_unexpected(p, "a digit in a number");
    if (*p++ != '0') {
      while (digit_at(p)) ++p;
    }
    if ((Closed || p != end) && *p == '.') {
      ++p;
      if (!digit_at(p)) return fail_unexpected(p, "a digit after '.' in a number");
      while (digit_at(p)) ++p;
    }
    if ((Closed || p != end) && (*p == 'e' || *p == 'E')) {
      ++p;
      if ((Closed || p != end) && (*p == '+' || *p == '-')) ++p;
      if (!digit_at(p)) return fail_unexpected(p, "a digit in a number's exponent");
      while (digit_at(p)) ++p;
    }
    return p;
  }

  /// p at the opening '"'; past the closing one.
  IPCAT_INLINE const char* string(const char* p) {
    const char* const end = m_end;
    ++p;
    for (;;) {
      p = string_stop(p, m_begin, end);
      if (p == end) return fail(p, "unexpected end of text inside a string");
      auto c = static_cast<unsigned char>(*p);
      if (c == '"') return p + 1;
      if (c == '\\') {
        ++m_escapes;
        p = escape(p);
        if (p == nullptr) return nullptr;
        continue;
      }
      if (c < 0x20) return fail_unexpected(p, "no control character inside a string (escape it)");
      std::size_t n = utf8_sequence(reinterpret_cast<const unsigned char*>(p), static_cast<std::size_t>(end - p));
      if (n == 0) return fail(p, "invalid UTF-8 in a string");
      p += n;
    }
  }

  /// p at the '\\'; past the escape.
  [[gnu::noinline]] const char* escape(const char* p) {
    ++p;
    if (p == m_end) return fail(p, "unexpected end of text in an escape");
    char e = *p;
    if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') return p + 1;
    if (e != 'u') return fail_unexpected(p, "an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
    ++p;
    int cp = m_end - p >= 4 ? read_hex4(p) : -1;
    if (cp < 0) return fail(p, "\\u must be followed by four hex digits");
    p += 4;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(p, "a lone UTF-16 low surrogate escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      // A high surrogate must be followed by an escaped low one.
      int low = m_end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? read_hex4(p + 2) : -1;
      if (low < 0xDC00 || low > 0xDFFF) return fail(p, "a UTF-16 high surrogate escape without its low half");
      p += 6;
    }
    return p;
  }

  // The failure paths, out of the scanners' way: each returns nullptr.
  [[gnu::cold]] const char* fail(const char* p, const std::string& what) {
    m_failed_at = p;
    if constexpr (AsIs) return nullptr;
    m_why = "at byte " + std::to_string(p - m_begin) + ": " + what;
    return nullptr;
  }

  [[gnu::cold]] const char* fail_unclosed(const char* p, bool in_object) {
    return fail(p, std::string("unexpected end of text inside an unclosed ") + (in_object ? "object" : "array"));
  }

  [[gnu::cold]] const char* fail_unexpected(const char* p, const char* expected) {
    if constexpr (AsIs) return fail(p, {});
    if (p == m_end) return fail(p, std::string("unexpected end of text, expected ") + expected);
    auto c = static_cast<unsigned char>(*p);
    std::string got;
    if (c >= 0x20 && c < 0x7F) {
      got = std::string("'") + static_cast<char>(c) + "'";
    } else {
      static constexpr char k_hex[] = "0123456789abcdef";
      got = std::string("byte 0x") + k_hex[c >> 4] + k_hex[c & 15];
    }
    return fail(p, "unexpected " + got + ", expected " + expected);
  }

  const char* m_begin;
  const char* m_end;
  const char* m_run;          // start of the bytes not yet copied to m_out
  std::string* m_out;
  std::size_t m_out_size;     // m_out's size before: kept on failure
  char* m_w = nullptr;        // where the next copied byte goes, once copying started
  std::size_t m_max_depth;
  std::string_view m_key;  // Watch: the top-level member looked for
  bool m_has_key = false;
  std::size_t m_escapes = 0;  // escapes seen in strings so far
  OpenContainers m_stack;
  const char* m_failed_at = nullptr;
  std::string m_why;
  bool m_spaced = false;
  bool m_too_deep = false;
};

}  // namespace

JsonCheck check_json(std::string_view text, std::size_t max_depth) {
  return Validator<false>(text, nullptr, max_depth).run();
}

JsonCheck check_json(std::string_view text, std::size_t max_depth, std::string_view key) {
  return Validator<false, true>(text, nullptr, max_depth, key).run();
}

JsonCheck minify_json(std::string_view text, std::string& out, std::size_t max_depth) {
  return Validator<true>(text, &out, max_depth).run();
}

CompactRun compact_lines(std::string_view block, std::size_t max_line, std::size_t max_depth, std::string_view key) {
  const char* const begin = block.data();
  const char* const end = begin + block.size();
  const char* p = begin;
  CompactRun run;
  while (p != end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (nl == nullptr) break;
    std::string_view line(p, static_cast<std::size_t>(nl - p));
    if (line.empty() || line.size() > max_line) break;
    // Anything the decoder would trim (whitespace, '\r', and every other byte up
    // to ' ', none of which starts or ends a valid text) or a byte-order mark
    // (0xEF: no JSON text starts with it otherwise) is for the per-line path.
    auto first = static_cast<unsigned char>(line.front());
    auto last = static_cast<unsigned char>(line.back());
    if (first <= ' ' || last <= ' ' || first == 0xEF) break;
    bool passes = key.empty() ? Validator<false, false, true>(line, nullptr, max_depth).passes_as_is()
                              : Validator<false, true, true>(line, nullptr, max_depth, key).passes_as_is();
    if (!passes) break;
    ++run.lines;
    p = nl + 1;
  }
  run.bytes = static_cast<std::size_t>(p - begin);
  return run;
}

std::string strip_json_whitespace(std::string_view json) {
  json = strip_bom(json);  // as the validator drops one
  const char* p = json.data();
  const char* const end = p + json.size();
  std::string out(json.size(), '\0');
  char* w = out.data();
  // A plain byte loop: spaced text has a stop (quote, space) every few bytes, where
  // a block scan per stop costs more than it saves.
  while (p != end) {
    char c = *p++;
    if (c == '"') {
      *w++ = c;
      // To the closing quote: an escape's second byte is copied with it.
      while (p != end) {
        c = *p++;
        *w++ = c;
        if (c == '"') break;
        if (c == '\\' && p != end) *w++ = *p++;
      }
    } else if (!is_ws(c)) {
      *w++ = c;
    }
  }
  out.resize(static_cast<std::size_t>(w - out.data()));
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
