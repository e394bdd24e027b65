#include "ipc/server/handlers/echo_handler.h"
#include "ipc/wire/json_text.h"

namespace ipc {

void EchoHandler::handle(const RequestContext& context, std::string_view line, ReplyCallback done) {
  // Already validated by the server (man/ipcat.1, PROTOCOL): a line that is not
  // compact yet only has its whitespace removed, without a second validation.
  if (context.compact) {
    done(std::string(line), {});
    return;
  }
  done(strip_json_whitespace(line), {});
}

}  // namespace ipc
