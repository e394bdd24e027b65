#include "ipc/wire/line_decoder.h"

#include <cstring>

namespace ipc {
namespace {

constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

void LineDecoder::feed(std::string_view bytes) {
  if (m_failed || bytes.empty()) return;
  // Compact before growing, so a long-lived connection's buffer stays small.
  if (m_pos > 0 && m_pos == m_buf.size()) {
    m_buf.clear();
    m_scan = m_pos = m_lines_end = 0;
  } else if (m_pos > 4096 && m_pos * 2 > m_buf.size()) {
    m_buf.erase(0, m_pos);
    m_scan -= m_pos;
    m_lines_end = m_lines_end > m_pos ? m_lines_end - m_pos : 0;
    m_pos = 0;
  }
  std::size_t at = m_buf.size();
  m_buf.append(bytes);
  if (const void* nl = ::memrchr(m_buf.data() + at, '\n', bytes.size()))
    m_lines_end = static_cast<std::size_t>(static_cast<const char*>(nl) - m_buf.data()) + 1;
}

LineDecoder::Result LineDecoder::next() {
  for (;;) {
    if (m_failed) return {Status::too_long, {}};
    std::size_t avail = m_buf.size() - m_pos;
    if (avail == 0) return {m_eof ? Status::end : Status::need_more, {}};

    const char* base = m_buf.data();
    std::size_t from = m_scan > m_pos ? m_scan : m_pos;
    const void* nl = std::memchr(base + from, '\n', m_buf.size() - from);
    std::string_view raw;
    if (nl != nullptr) {
      std::size_t end = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
      raw = std::string_view(base + m_pos, end - m_pos);
      m_pos = end + 1;
      m_scan = m_pos;
    } else {
      m_scan = m_buf.size();
      // A trailing '\r' may be the first half of "\r\n": it does not count yet.
      std::size_t counted = avail - (m_buf.back() == '\r' ? 1 : 0);
      if (counted > m_max_line) {
        m_failed = true;
        return {Status::too_long, {}};
      }
      if (!m_eof) return {Status::need_more, {}};
      raw = std::string_view(base + m_pos, avail);
      m_pos = m_scan = m_buf.size();
    }
    // A trailing '\r' is not part of the line's length budget.
    std::size_t len = raw.size();
    if (len > 0 && raw[len - 1] == '\r') --len;
    if (len > m_max_line) {
      m_failed = true;
      return {Status::too_long, {}};
    }
    // Most lines have nothing to trim: two compares rule that out before trim().
    std::string_view line = raw;
    if (line.empty() || is_space(line.front()) || is_space(line.back())) line = trim(raw);
    if (line.empty()) continue;  // blank lines are ignored
    return {Status::line, line};
  }
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace ipc
