#include "ipc/wire/json_lines.h"

namespace ipc {

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
