#pragma once
/// EchoHandler — `--echo`: replies with the request in compact form (byte-exact:
/// only whitespace outside strings removed), at once.

#include "ipc/server/handler.h"

namespace ipc {

class EchoHandler : public Handler {
 public:
  void handle(const RequestContext& context, std::string_view line, ReplyCallback done) override;
  std::size_t in_flight() const override { return 0; }
  void abort_all() override {}
};

}  // namespace ipc
