#pragma once
/// LineConnections — the line protocol's ConnectionHandler: one Connection per
/// client (connection.h), every request to one Handler, replies in order.

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "ipc/server/connection.h"
#include "ipc/server/connection_handler.h"
#include "ipc/server/handler.h"
#include "ipc/server/log.h"
#include "ipc/server/options.h"
#include "ipc/server/uid_counter.h"

namespace ipc {

class LineConnections : public ConnectionHandler {
 public:
  LineConnections(std::shared_ptr<Handler> handler, ServerOptions options, const Log& log);
  LineConnections(const LineConnections&) = delete;
  LineConnections& operator=(const LineConnections&) = delete;

  void serve(Socket socket, std::uint64_t id, const PeerInfo& peer, std::function<void()> closed) override;
  std::size_t open() const override { return m_connections.size(); }
  std::size_t in_flight() const override { return m_handler->in_flight(); }
  void shutdown() override;
  void abort_all() override { m_handler->abort_all(); }
  void close_all() override;

 private:
  struct Open {
    std::shared_ptr<Connection> connection;
    std::function<void()> closed;
  };
  std::vector<std::shared_ptr<Connection>> all() const;

  std::shared_ptr<Handler> m_handler;
  ServerOptions m_options;
  std::vector<char> m_read_buffer;  // lent to each read (one thread)
  UidCounter m_per_uid;             // requests in flight per uid (--max-per-uid)
  ConnectionContext m_context;
  std::unordered_map<Connection*, Open> m_connections;
};

}  // namespace ipc
