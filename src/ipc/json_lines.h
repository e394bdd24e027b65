#pragma once
/// JSON-line framing (DESIGN.md §3): one JSON value per line, UTF-8, '\n'.
///
/// LineDecoder is an incremental splitter over a byte stream. It owns a buffer,
/// is fed whatever read() returned, and hands out complete lines as views into
/// that buffer (valid until the next feed()/next() call). It never buffers more
/// than max_line bytes of an unterminated line: past that it reports too_long,
/// after which framing is lost and the stream must be dropped.
///
///   feed(bytes) ──► [ buffer ] ──next()──► line | need_more | too_long
///   finish()    ──► a final line without '\n' becomes a line; then end

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace ipc {

/// JSON values keep their keys in the order given (DESIGN.md §3).
using Json = nlohmann::ordered_json;

inline constexpr std::size_t k_default_max_line = 1024 * 1024;

class LineDecoder {
 public:
  enum class Status { line, need_more, too_long, end };
  struct Result {
    Status status;
    std::string_view line;  ///< trimmed of surrounding whitespace and '\r'; valid with Status::line
  };

  explicit LineDecoder(std::size_t max_line = k_default_max_line) : m_max_line(max_line) {}

  /// Appends bytes read from the stream.
  void feed(std::string_view bytes);
  /// Marks end of stream: a final unterminated line is then returned by next().
  void finish() noexcept { m_eof = true; }
  /// The next non-blank line, or why there is none yet.
  Result next();

  /// Bytes buffered but not yet returned as lines.
  std::size_t buffered() const noexcept { return m_buf.size() - m_pos; }
  std::size_t max_line() const noexcept { return m_max_line; }

 private:
  std::string m_buf;
  std::size_t m_pos = 0;   // start of the unconsumed part of m_buf
  std::size_t m_scan = 0;  // where the search for '\n' resumes (all before it has none)
  std::size_t m_max_line;
  bool m_eof = false;
  bool m_failed = false;
};

/// Strips surrounding ASCII whitespace (space, tab, '\r', '\n').
std::string_view trim(std::string_view s) noexcept;

/// True when `text` is exactly one valid JSON value in valid UTF-8.
bool is_json(std::string_view text);

/// Parses one JSON value; std::nullopt (and *why set) on invalid JSON or UTF-8.
std::optional<Json> parse_json(std::string_view text, std::string* why = nullptr);

/// `text` (one JSON value) in compact form: itself when it already is (the fast
/// path, see json_scan.h), else parsed and encoded. nullopt (and *why set) when
/// it is not valid JSON / UTF-8.
std::optional<std::string> compact_form(std::string_view text, std::string* why = nullptr);

/// Compact encoding, keys in the order given; invalid UTF-8 in strings is replaced,
/// never thrown; NaN/Infinity cannot occur (they encode as null).
std::string encode(const Json& value);

/// {"error": message, "type": type} — the error object of DESIGN.md §3.
Json error_object(std::string_view type, std::string_view message);

}  // namespace ipc
