#include "ipc/handler.h"
#include "ipc/json_lines.h"

namespace ipc {

void EchoHandler::handle(const RequestContext&, std::string_view line, ReplyCallback done) {
  // Already validated by the server; re-encoding makes the reply compact.
  auto value = parse_json(line);
  done(value ? encode(*value) : std::string(line));
}

}  // namespace ipc
