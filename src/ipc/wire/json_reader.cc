#include "ipc/wire/json_reader.h"

#include <cstdint>
#include <cstring>

#include "ipc/wire/json_scan.h"

namespace ipc {
namespace {

using json_scan::read_hex4;
using json_scan::skip_string;
using json_scan::skip_value;
using json_scan::skip_ws;

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

}  // namespace

std::string_view strip_bom(std::string_view text) noexcept {
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.remove_prefix(3);
  return text;
}

JsonType json_type(std::string_view json) noexcept {
  json = strip_bom(json);  // check_json accepts one, as nlohmann does
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
  json = strip_bom(json);  // check_json accepts one, as nlohmann does
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

}  // namespace ipc
