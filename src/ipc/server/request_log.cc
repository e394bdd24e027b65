#include "ipc/server/request_log.h"

#include <cmath>
#include <vector>

#include "ipc/server/handlers/handler_report.h"
#include "ipc/wire/reply_rules.h"

namespace ipc {
namespace {

/// The failures of a handler itself: an operator's business, logged as errors.
bool handler_failure(std::string_view type) {
  return type == "HandlerFailed" || type == "HandlerTimeout" || type == "BadHandlerOutput";
}

/// Microseconds, as a number of milliseconds with three decimals.
double quantile_ms(const LatencyHistogram& h, double q) { return std::round(h.quantile(q)) / 1000.0; }

}  // namespace

void RequestLog::Counts::add(std::string_view outcome, std::chrono::nanoseconds took) {
  ++requests;
  if (outcome == "ok") {
    ++ok;
  } else if (outcome == "notify") {
    ++notify;
  } else if (outcome == "cancelled") {
    ++cancelled;
  } else {
    ++errors;
  }
  latency.add(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
}

Json RequestLog::Counts::json() const {
  // A route's line in the summary: what an operator scans for.
  Json j = Json::object();
  j["requests"] = requests;
  j["errors"] = errors;
  if (latency.count() > 0) {
    j["p50_ms"] = quantile_ms(latency, 0.5);
    j["p99_ms"] = quantile_ms(latency, 0.99);
  }
  return j;
}

void RequestLog::finished(std::uint64_t connection, std::uint64_t request, std::chrono::nanoseconds took,
                          const Reply& reply, const Outcome& outcome) {
  std::string result = "ok";
  std::string message;
  if (outcome.cancelled) {
    result = "cancelled";
  } else if (!reply) {
    result = "notify";
  } else if (judge_reply(*reply) != ReplyVerdict::ok) {
    // Only an error reply is read further: an ordinary reply costs one memchr.
    auto type = top_level_member(*reply, "type");
    auto name = type ? json_string_value(*type) : std::nullopt;
    result = name && !name->empty() ? *name : "error";
    message = error_message(*reply);
  }
  m_total.add(result, took);
  if (!outcome.route.empty()) {
    auto it = m_routes.find(outcome.route);
    if (it == m_routes.end()) it = m_routes.emplace(outcome.route, Counts{}).first;
    it->second.add(result, took);
  }
  const bool failed = handler_failure(result);
  const LogLevel level = failed ? LogLevel::error : LogLevel::info;
  if (!m_log.enabled(level)) return;
  std::vector<Log::Field> fields;
  fields.reserve(10);
  fields.emplace_back("connection", connection);
  fields.emplace_back("request", request);
  if (!outcome.method.empty()) fields.emplace_back("method", excerpt_head(outcome.method, 200));
  if (outcome.pid > 0) fields.emplace_back("handler_pid", outcome.pid);
  fields.emplace_back("ms", duration_ms(took));
  fields.emplace_back("outcome", result);
  if (outcome.status >= 0) fields.emplace_back("status", outcome.status);
  if (outcome.signal > 0) fields.emplace_back("signal", outcome.signal);
  if (!message.empty()) fields.emplace_back("error", excerpt_head(message, m_max_quoted));
  if (!outcome.output.empty()) fields.emplace_back("output", outcome.output);
  if (!outcome.stderr_tail.empty()) fields.emplace_back("stderr", outcome.stderr_tail);
  m_log.write(level, "request_done", std::span<const Log::Field>(fields));
}

std::vector<Log::Field> RequestLog::summary() const {
  std::vector<Log::Field> fields;
  const Counts& t = m_total;
  fields.emplace_back("requests", t.requests);
  fields.emplace_back("ok", t.ok);
  fields.emplace_back("errors", t.errors);
  fields.emplace_back("notify", t.notify);
  fields.emplace_back("cancelled", t.cancelled);
  if (t.latency.count() > 0) {
    fields.emplace_back("p50_ms", quantile_ms(t.latency, 0.5));
    fields.emplace_back("p99_ms", quantile_ms(t.latency, 0.99));
  }
  if (!m_routes.empty()) {
    Json routes = Json::object();
    for (const auto& [name, counts] : m_routes) routes[name] = counts.json();
    fields.emplace_back("routes", std::move(routes));
  }
  return fields;
}

}  // namespace ipc
