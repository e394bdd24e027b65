#include "ipc/wire/reply_rules.h"

#include "ipc/wire/json_text.h"

namespace ipc {
namespace {

bool is_string_token(std::string_view v) { return !v.empty() && v.front() == '"'; }

/// False when `json` cannot have a top-level member named `key`: the key's text is
/// nowhere in it, and no escape could spell it otherwise. memmem/memchr run far
/// faster than a scan of the members, which for a reply of a megabyte is a pass.
bool may_have_member(std::string_view json, std::string_view key) {
  if (json.find(key) != std::string_view::npos) return true;
  return json.find('\\') != std::string_view::npos;
}

}  // namespace

ReplyVerdict judge_reply(std::string_view reply) {
  if (json_type(reply) != JsonType::object || !may_have_member(reply, "error")) return ReplyVerdict::ok;
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
