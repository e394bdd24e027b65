#include "ipc/router_handler.h"

#include "ipc/json_lines.h"

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
  auto value = parse_json(line);
  const Json* method = nullptr;
  if (value && value->is_object()) {
    auto it = value->find(m_key);
    if (it != value->end()) method = &*it;
  }
  if (method == nullptr || !method->is_string()) {
    Json j = error_object("NoSuchMethod", "request has no string \"" + m_key + "\" field; available: " + available());
    done(encode(j));
    return;
  }
  auto route = m_routes.find(method->get<std::string>());
  if (route == m_routes.end()) {
    Json j = error_object("NoSuchMethod", "no such method \"" + method->get<std::string>() + "\"; available: " + available());
    j["method"] = *method;
    done(encode(j));
    return;
  }
  route->second->handle(context, line, std::move(done));
}

std::size_t RouterHandler::in_flight() const {
  std::size_t n = 0;
  for (const auto& [_, h] : m_routes) n += h->in_flight();
  return n;
}

void RouterHandler::abort_all() {
  for (const auto& [_, h] : m_routes) h->abort_all();
}

}  // namespace ipc
