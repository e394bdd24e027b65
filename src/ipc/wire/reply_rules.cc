#include "ipc/wire/reply_rules.h"

#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ipc/wire/json_text.h"

namespace ipc {
namespace {

bool is_string_token(std::string_view v) { return !v.empty() && v.front() == '"'; }

/// False when `json` cannot have a top-level member named `key` (not empty): the
/// key's text is nowhere in it, and no escape could spell it otherwise. Far faster
/// than a scan of the members, which for a reply of a megabyte is a pass: 16
/// positions at a time are tested for the key's first and last bytes at their
/// distance (rarely both by chance: few false leads for memcmp), or a '\\'.
bool may_have_member(std::string_view json, std::string_view key) {
  const char* p = json.data();
  const char* const end = p + json.size();
  const std::size_t k = key.size();
  auto hit = [&](const char* at) {
    return *at == '\\' || (static_cast<std::size_t>(end - at) >= k && std::memcmp(at, key.data(), k) == 0);
  };
#if defined(__SSE2__)
  if (json.size() >= 16 + k - 1) {
    const __m128i first = _mm_set1_epi8(key.front());
    const __m128i last = _mm_set1_epi8(key.back());
    const __m128i backslashes = _mm_set1_epi8('\\');
    auto hits16 = [&](const char* at) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
      __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at + k - 1));
      __m128i both = _mm_and_si128(_mm_cmpeq_epi8(v, first), _mm_cmpeq_epi8(w, last));
      return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(both, _mm_cmpeq_epi8(v, backslashes))));
    };
    // Blocks up to the last one that fits, then that one without the positions seen.
    const char* const last_block = end - (16 + k - 1);
    for (; p < last_block; p += 16) {
      for (unsigned mask = hits16(p); mask != 0; mask &= mask - 1) {
        if (hit(p + std::countr_zero(mask))) return true;
      }
    }
    auto seen = static_cast<unsigned>(p - last_block);
    for (unsigned mask = hits16(last_block) >> seen << seen; mask != 0; mask &= mask - 1) {
      if (hit(last_block + std::countr_zero(mask))) return true;
    }
    // The key does not fit in the last k - 1 bytes; an escape there still counts.
    return k > 1 && std::memchr(end - (k - 1), '\\', k - 1) != nullptr;
  }
#endif
  for (; p != end; ++p) {
    if ((*p == key.front() || *p == '\\') && hit(p)) return true;
  }
  return false;
}

}  // namespace

ReplyVerdict judge_reply(std::string_view reply) {
  return judge_reply(reply, json_type(reply) == JsonType::object && may_have_member(reply, "error"));
}

ReplyVerdict judge_reply(std::string_view reply, bool has_error) {
  if (!has_error) return ReplyVerdict::ok;
  auto error = top_level_member(reply, "error");
  if (!error) return ReplyVerdict::ok;
  if (auto type = top_level_member(reply, "type")) {
    if (is_string_token(*error) && is_string_token(*type) && json_string_value(*type) == "Forbidden")
      return ReplyVerdict::forbidden;
    return ReplyVerdict::error;
  }
  // JSON-RPC 2.0: a response with an "error" member is a failure, whatever it holds.
  if (auto version = top_level_member(reply, "jsonrpc")) {
    if (is_string_token(*version) && json_string_value(*version) == "2.0") return ReplyVerdict::error;
  }
  // Everyone else who answers with an "error" member means a failure by it unless
  // it says there was none: JSON-RPC 1.0's null, mpv's "success", a false. So
  // mpv's {"error":"property not found"}, watchman's and QMP's errors exit 1.
  if (*error == "null" || *error == "false" || *error == "\"success\"") return ReplyVerdict::ok;
  return ReplyVerdict::error;
}

std::string error_message(std::string_view reply) {
  auto error = top_level_member(reply, "error");
  if (!error || !is_string_token(*error)) return {};
  return json_string_value(*error).value_or(std::string());
}

bool ReplyMatcher::prepare_into(std::string_view request, std::size_t number, std::string& out) {
  if (json_type(request) != JsonType::object) return false;
  std::string id;
  if (auto given = top_level_member(request, m_key)) {
    id = std::string(*given);
    out += request;
  } else {
    // Compact text: the object ends in '}', and "{}" is the only one without members.
    id = std::to_string(number);
    request.remove_suffix(1);
    out += request;
    if (request.size() > 1) out += ',';
    out += quote_json(m_key);
    out += ':';
    out += id;
    out += '}';
  }
  ++m_owed[id];
  ++m_outstanding;
  return true;
}

std::optional<std::string> ReplyMatcher::prepare(std::string_view request, std::size_t number) {
  std::string out;
  if (!prepare_into(request, number, out)) return std::nullopt;
  return out;
}

bool ReplyMatcher::take(std::string_view line) {
  if (m_outstanding == 0) return false;
  auto value = top_level_member(line, m_key);
  if (!value) return false;
  auto it = m_owed.find(*value);
  if (it == m_owed.end()) return false;
  if (--it->second == 0) m_owed.erase(it);
  --m_outstanding;
  return true;
}

}  // namespace ipc
