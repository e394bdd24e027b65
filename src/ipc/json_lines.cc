#include "ipc/json_lines.h"

#include "ipc/json_scan.h"

#include <cstring>

namespace ipc {

void LineDecoder::feed(std::string_view bytes) {
  if (m_failed || bytes.empty()) return;
  // Compact before growing, so a long-lived connection's buffer stays small.
  if (m_pos > 0 && m_pos == m_buf.size()) {
    m_buf.clear();
    m_scan = m_pos = 0;
  } else if (m_pos > 4096 && m_pos * 2 > m_buf.size()) {
    m_buf.erase(0, m_pos);
    m_scan -= m_pos;
    m_pos = 0;
  }
  m_buf.append(bytes);
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
    std::string_view line = trim(raw);
    if (line.empty()) continue;  // blank lines are ignored
    return {Status::line, line};
  }
}

std::string_view trim(std::string_view s) noexcept {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

// nlohmann_json takes a NUL byte for the end of input and ignores what follows
// ("{}\0junk" parses): a NUL is never valid JSON text, so refuse it first.
static bool has_nul(std::string_view text) { return std::memchr(text.data(), '\0', text.size()) != nullptr; }

bool is_json(std::string_view text) { return !has_nul(text) && Json::accept(text); }

std::optional<Json> parse_json(std::string_view text, std::string* why) {
  if (has_nul(text)) {
    if (why != nullptr) *why = "NUL byte in the text";
    return std::nullopt;
  }
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    // parse_error, but also out_of_range (406: a number like 1e400 overflows a double).
    if (why != nullptr) {
      // nlohmann's message starts with "[json.exception.parse_error.101] parse error at ...".
      std::string msg = e.what();
      auto pos = msg.find("] ");
      *why = pos == std::string::npos ? msg : msg.substr(pos + 2);
    }
    return std::nullopt;
  }
}

std::optional<std::string> compact_form(std::string_view text, std::string* why) {
  switch (scan_json(text)) {
    case JsonScan::compact:
      return std::string(text);
    case JsonScan::invalid:
      if (why != nullptr) parse_json(text, why);
      return std::nullopt;
    case JsonScan::reencode:
      break;
  }
  auto value = parse_json(text, why);
  if (!value) return std::nullopt;
  return encode(*value);
}

std::string encode(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json error_object(std::string_view type, std::string_view message) {
  Json j;
  j["error"] = std::string(message);
  j["type"] = std::string(type);
  return j;
}

}  // namespace ipc
