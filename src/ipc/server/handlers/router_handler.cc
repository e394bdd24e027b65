#include "ipc/server/handlers/router_handler.h"

#include "ipc/wire/json_reader.h"
#include "ipc/wire/json_value.h"

#include <optional>

namespace ipc {

std::string RouterHandler::available() const {
  std::string names;
  for (const auto& [name, _] : m_routes) {
    if (!names.empty()) names += ", ";
    names += name;
  }
  return names;
}

void RouterHandler::handle(const RequestContext& context, std::string_view line, ReplyCallback done) {
  // Only the one top-level member is read, never the whole value (the request was
  // validated by the server; it reaches the route's handler byte-exact).
  auto member = top_level_member(line, m_key);
  std::optional<std::string> method;
  if (member) method = json_string_value(*member);
  if (!method) {
    Json j = error_object("NoSuchMethod", "request has no string \"" + m_key + "\" field; available: " + available());
    done(encode(j), {});
    return;
  }
  auto route = m_routes.find(*method);
  if (route == m_routes.end()) {
    Json j = error_object("NoSuchMethod", "no such method \"" + *method + "\"; available: " + available());
    j["method"] = *method;
    Outcome outcome;
    outcome.method = std::move(*method);
    done(encode(j), std::move(outcome));
    return;
  }
  // The request log names the route (a route's name is its method).
  route->second->handle(context, line, [done = std::move(done), name = route->first](Reply reply, Outcome outcome) {
    outcome.route = name;
    outcome.method = name;
    done(std::move(reply), std::move(outcome));
  });
}

std::size_t RouterHandler::in_flight() const {
  std::size_t n = 0;
  for (const auto& [_, h] : m_routes) n += h->in_flight();
  return n;
}

void RouterHandler::abort_all() {
  for (const auto& [_, h] : m_routes) h->abort_all();
}

void RouterHandler::cancel(std::uint64_t connection) {
  for (const auto& [_, h] : m_routes) h->cancel(connection);
}

std::vector<std::string> RouterHandler::routes() const {
  std::vector<std::string> names;
  for (const auto& [name, _] : m_routes) names.push_back(name);
  return names;
}

}  // namespace ipc
