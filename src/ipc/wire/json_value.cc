#include "ipc/wire/json_value.h"

namespace ipc {

bool is_json(std::string_view text, std::size_t max_depth) { return check_json(text, max_depth).ok(); }

std::optional<Json> parse_json(std::string_view text, std::string* why, std::size_t max_depth) {
  // The iterative validator first: it bounds the depth (the DOM's destructor and
  // dump() recurse) and refuses a NUL byte, which nlohmann takes for the end of input.
  JsonCheck check = check_json(text, max_depth);
  if (!check) {
    if (why != nullptr) *why = std::move(check.why);
    return std::nullopt;
  }
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    // out_of_range (406): a number like 1e400 overflows a double.
    if (why != nullptr) {
      // nlohmann's message starts with "[json.exception.out_of_range.406] ...".
      std::string msg = e.what();
      auto pos = msg.find("] ");
      *why = pos == std::string::npos ? msg : msg.substr(pos + 2);
    }
    return std::nullopt;
  }
}

std::string encode(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json error_object(const ErrorType& type, std::string_view message) {
  Json j;
  j["error"] = std::string(message);
  j["type"] = std::string(type.name());
  return j;
}

}  // namespace ipc
