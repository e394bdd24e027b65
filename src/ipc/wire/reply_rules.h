#pragma once
/// How a client reads the lines a server sends (man/ipcat.1, ipcat request):
/// which replies are errors, and, with --match KEY, which lines answer which
/// request. Nothing here builds a DOM: one top-level member is read at a time
/// (json_reader.h: top_level_member), so a reply of any size costs one scan.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ipc {

/// What a valid JSON reply means for the exit status.
enum class ReplyVerdict {
  ok,         ///< any other reply, and one whose "error" says there was none: null (JSON-RPC 1.0), "success" (mpv), false
  error,      ///< an error object: "error" and "type" (ipcat, codechu-ipc), JSON-RPC 2.0 with "error", any other "error"
  forbidden,  ///< an ipcat error object of type "Forbidden" (string "error", string "type")
};

/// The verdict on `reply` (one valid JSON text). An object with members "error"
/// and "type" is an error whatever their types; it is `forbidden` only when
/// both are strings and "type" is "Forbidden". Without "type", an "error" member
/// is an error unless it is null, false or "success" (written exactly so).
ReplyVerdict judge_reply(std::string_view reply);
/// As judge_reply(), for a reply whose check told whether it has a top-level
/// "error" member (check_json(reply, depth, "error").has_key): without one it is
/// ok at once, with no scan.
ReplyVerdict judge_reply(std::string_view reply, bool has_error);

/// The message of an ipcat error object (its string "error"), or "" if none.
std::string error_message(std::string_view reply);

/// --match KEY: pairs replies with the requests they answer by the raw text of
/// member KEY (`1`, `"abc"`), so lines a server pushes (events, notifications)
/// are never taken for replies.
class ReplyMatcher {
 public:
  explicit ReplyMatcher(std::string key) : m_key(std::move(key)) {}

  /// Registers the request `request` (compact JSON text, appended to `out` by
  /// the caller) and returns the text to send: the request itself, or, when it
  /// is an object without KEY, a copy with `"KEY":N` added as its last member
  /// (N = `number`). Returns nullopt when `request` is not an object.
  std::optional<std::string> prepare(std::string_view request, std::size_t number);
  /// Adds the request to `out` (as prepare()) without a temporary; false when
  /// `request` is not an object.
  bool prepare_into(std::string_view request, std::size_t number, std::string& out);

  /// True (and the request is no longer owed) when `line` (valid JSON) carries
  /// KEY with the value of an outstanding request.
  bool take(std::string_view line);

  std::size_t outstanding() const noexcept { return m_outstanding; }
  const std::string& key() const noexcept { return m_key; }

 private:
  std::string m_key;
  std::map<std::string, std::size_t, std::less<>> m_owed;  // raw KEY text -> requests owed
  std::size_t m_outstanding = 0;
};

}  // namespace ipc
