#pragma once
/// RequestLog — `serve`'s one log line per finished request and the totals of its
/// `stopped` line (man/ipcat.1, LOG).
///
///   text: ipcat[1234]: request_done connection=1 request=2 method=status handler_pid=4242 ms=3.214 outcome=ok status=0
///   json: {...,"event":"request_done","connection":1,"request":2,"method":"status","handler_pid":4242,"ms":3.214,...}
///
/// The outcome is `ok`, `notify` (no reply), `cancelled` (its client went away,
/// --cancel-on-disconnect), or the type of the error reply, whoever made it
/// (`HandlerFailed`, a handler's own `NoSuchService`; "error" when it has none).
/// Handler failures (HandlerFailed, HandlerTimeout, BadHandlerOutput) are logged
/// at level error, with the error message and the stderr tail; the rest at info.
/// Counters and latency percentiles are kept per route in bounded memory
/// (latency_histogram.h; routes are the server's own names, never a client's).

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/server/handler.h"
#include "ipc/wire/json_value.h"
#include "ipc/base/latency_histogram.h"
#include "ipc/server/log.h"

namespace ipc {

class RequestLog {
 public:
  /// `max_quoted`: bytes of an error message quoted in a line (--max-quoted).
  RequestLog(const Log& log, std::size_t max_quoted) : m_log(log), m_max_quoted(max_quoted) {}

  /// Counts `route` from the start, so the stopped line lists it even unused.
  void add_route(const std::string& route) { m_routes.try_emplace(route); }

  /// One request of `connection` (number `request` on it) was answered after `took`.
  void finished(std::uint64_t connection, std::uint64_t request, std::chrono::nanoseconds took, const Reply& reply,
                const Outcome& outcome);

  /// For the `stopped` line: requests, ok, errors, notify, cancelled, p50_ms,
  /// p99_ms, and with routes an object "routes": per route its requests,
  /// errors, p50_ms and p99_ms.
  std::vector<Log::Field> summary() const;

 private:
  struct Counts {
    std::uint64_t requests = 0, ok = 0, errors = 0, notify = 0, cancelled = 0;
    LatencyHistogram latency;
    void add(std::string_view outcome, std::chrono::nanoseconds took);
    Json json() const;
  };

  const Log& m_log;
  std::size_t m_max_quoted;
  Counts m_total;
  std::map<std::string, Counts, std::less<>> m_routes;
};

}  // namespace ipc
