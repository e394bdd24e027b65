#pragma once
/// RouterHandler — `--route NAME=COMMAND`: RPC by method name. The request's
/// route key (default "method") picks the handler; each route has its own
/// (per-request or pool) handler. Unknown or missing method → NoSuchMethod,
/// naming the method and the available ones.

#include <map>
#include <memory>
#include <string>

#include "ipc/server/handler.h"

namespace ipc {

class RouterHandler : public Handler {
 public:
  RouterHandler(std::string route_key, std::map<std::string, std::shared_ptr<Handler>> routes)
      : m_key(std::move(route_key)), m_routes(std::move(routes)) {}

  void handle(const RequestContext& context, std::string_view line, ReplyCallback done) override;
  std::size_t in_flight() const override;
  void abort_all() override;

 private:
  std::string available() const;
  std::string m_key;
  std::map<std::string, std::shared_ptr<Handler>> m_routes;
};

}  // namespace ipc
