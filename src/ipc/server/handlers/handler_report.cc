#include "ipc/server/handlers/handler_report.h"

#include "ipc/wire/line_decoder.h"
#include "ipc/wire/json_text.h"
#include "ipc/wire/json_value.h"

namespace ipc {
namespace {

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

std::string excerpt_head(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t n = max;
  // Back to the start of the sequence the cut falls in: no half character.
  while (n > 0 && continuation(text[n])) --n;
  return std::string(text.substr(0, n)) + "...";
}

std::string excerpt_tail(std::string_view text, std::size_t max) {
  if (text.size() > max) {
    text.remove_prefix(text.size() - max);
    auto nl = text.find('\n');
    if (nl != std::string_view::npos && nl + 1 < text.size()) {
      text.remove_prefix(nl + 1);
    } else {
      while (!text.empty() && continuation(text.front())) text.remove_prefix(1);
    }
  }
  return std::string(trim(text));
}

void add_exit_status(Json& reply, const ExitStatus& status) {
  if (status.signal != 0) {
    reply["signal"] = status.signal;
  } else if (status.code >= 0) {
    reply["status"] = status.code;
  }
}

void add_stderr(Json& reply, const std::string& tail) {
  if (!tail.empty()) reply["stderr"] = tail;
}

}  // namespace ipc
