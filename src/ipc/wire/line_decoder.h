#pragma once
/// JSON-line framing (man/ipcat.1, PROTOCOL): one JSON value per line, '\n'.
///
/// LineDecoder is an incremental splitter over a byte stream. It owns a buffer,
/// is fed whatever read() returned, and hands out complete lines as views into
/// that buffer (valid until the next feed()/next() call). It never buffers more
/// than max_line bytes of an unterminated line: past that it reports too_long,
/// after which framing is lost and the stream must be dropped.
///
///   feed(bytes) ──► [ buffer ] ──next()──► line | need_more | too_long
///   finish()    ──► a final line without '\n' becomes a line; then end
///
/// It knows nothing of JSON: json_text.h validates what it splits.

#include <cstddef>
#include <string>
#include <string_view>

namespace ipc {

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
  /// The whole lines among them ('\n' included), raw: untrimmed, blank lines
  /// too; valid until the next feed()/next()/skip(), empty once framing is lost.
  /// With skip(), a caller may take lines straight from the buffer
  /// (json_text.h: compact_lines). Where the last '\n' is, feed() finds in what
  /// it appends, so a long line that is still arriving is not searched again.
  std::string_view whole_lines() const noexcept {
    if (m_failed || m_lines_end <= m_pos) return {};
    return std::string_view(m_buf).substr(m_pos, m_lines_end - m_pos);
  }
  /// Drops the first `n` bytes of whole_lines(): the lines next() would have
  /// returned (or skipped, when blank).
  void skip(std::size_t n) noexcept {
    m_pos += n;
    if (m_scan < m_pos) m_scan = m_pos;
  }
  std::size_t max_line() const noexcept { return m_max_line; }

 private:
  std::string m_buf;
  std::size_t m_pos = 0;   // start of the unconsumed part of m_buf
  std::size_t m_scan = 0;  // where the search for '\n' resumes (all before it has none)
  std::size_t m_lines_end = 0;  // just past the last '\n' in m_buf (0: none)
  std::size_t m_max_line;
  bool m_eof = false;
  bool m_failed = false;
};

/// Strips surrounding ASCII whitespace (space, tab, '\r', '\n').
std::string_view trim(std::string_view s) noexcept;

}  // namespace ipc
