#include "ipc/server/handlers/echo_handler.h"
#include "ipc/wire/json_text.h"

namespace ipc {

void EchoHandler::handle(const RequestContext& context, std::string_view line, ReplyCallback done) {
  // Already validated by the server; a line that is not compact yet is re-encoded.
  if (context.compact) {
    done(std::string(line));
    return;
  }
  auto value = compact_form(line);
  done(value ? std::move(*value) : std::string(line));
}

}  // namespace ipc
