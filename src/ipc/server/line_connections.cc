#include "ipc/server/line_connections.h"

#include <boost/asio/post.hpp>

namespace ipc {

LineConnections::LineConnections(std::shared_ptr<Handler> handler, ServerOptions options, const Log& log)
    : m_handler(std::move(handler)),
      m_options(std::move(options)),
      m_read_buffer(64 * 1024),
      m_context{m_options,
                log,
                m_handler.get(),
                m_read_buffer,
                m_per_uid,
                [this](Connection& c) {
                  auto it = m_connections.find(&c);
                  if (it == m_connections.end()) return;
                  auto closed = std::move(it->second.closed);
                  // Kept alive to the end of this call: we are inside its own callback.
                  auto keep = std::move(it->second.connection);
                  m_connections.erase(it);
                  closed();
                },
                [this] { progressed(); }} {}

void LineConnections::serve(Socket socket, std::uint64_t id, const PeerInfo& peer, std::function<void()> closed) {
  auto connection = std::make_shared<Connection>(m_context, std::move(socket), id, peer);
  m_connections.emplace(connection.get(), Open{connection, std::move(closed)});
  connection->start();
}

std::vector<std::shared_ptr<Connection>> LineConnections::all() const {
  // A copy: shutdown() and close() may close a connection, which erases it.
  std::vector<std::shared_ptr<Connection>> out;
  out.reserve(m_connections.size());
  for (const auto& [_, open] : m_connections) out.push_back(open.connection);
  return out;
}

void LineConnections::shutdown() {
  for (auto& c : all()) c->shutdown();
}

void LineConnections::close_all() {
  for (auto& c : all()) c->close();
}

}  // namespace ipc
