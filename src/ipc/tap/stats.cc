#include "ipc/tap/stats.h"

#include <algorithm>
#include <cstdio>

namespace ipc {
namespace {

/// A method name fit for a terminal: control characters shown as '?', at most 60 bytes.
std::string printable(const std::string& name) {
  std::string s = name.substr(0, 60);
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return s;
}

std::string ms(double micros) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", micros / 1000);
  return buf;
}

}  // namespace

TapStats::Method& TapStats::method(std::string_view name) {
  auto it = m_methods.find(name);
  if (it != m_methods.end()) return it->second;
  if (m_methods.size() >= k_max_methods) return m_methods["(other)"];
  return m_methods.emplace(std::string(name), Method{}).first->second;
}

void TapStats::request(std::string_view name) {
  ++m_requests;
  ++method(name).requests;
}

void TapStats::reply(std::string_view name, std::uint64_t micros, bool error) {
  ++m_replies;
  Method& m = method(name);
  ++m.replies;
  m.latency.add(micros);
  if (error) {
    ++m.errors;
    ++m_errors;
  }
}

std::string TapStats::summary(std::uint64_t dropped) const {
  std::string out = "ipcat tap: " + std::to_string(m_connections) + " connections, " + std::to_string(m_requests) +
                    " requests, " + std::to_string(m_replies) + " replies, " + std::to_string(m_pushes) +
                    " pushes, " + std::to_string(m_errors) + " errors, " + std::to_string(dropped) +
                    " events dropped";
  if (m_unanswered > 0) out += ", " + std::to_string(m_unanswered) + " requests forgotten unanswered (--max-pending)";
  out += '\n';
  if (m_methods.empty()) return out;
  std::size_t width = 6;
  for (const auto& [name, _] : m_methods) width = std::min<std::size_t>(std::max(width, name.size()), 60);
  char line[512];
  std::snprintf(line, sizeof line, "  %-*s %9s %9s %7s %10s %10s\n", static_cast<int>(width), "METHOD", "REQUESTS",
                "REPLIES", "ERRORS", "P50_MS", "P99_MS");
  out += line;
  for (const auto& [name, m] : m_methods) {
    bool timed = m.latency.count() > 0;
    std::snprintf(line, sizeof line, "  %-*s %9llu %9llu %7llu %10s %10s\n", static_cast<int>(width),
                  printable(name).c_str(), static_cast<unsigned long long>(m.requests),
                  static_cast<unsigned long long>(m.replies), static_cast<unsigned long long>(m.errors),
                  timed ? ms(m.latency.quantile(0.5)).c_str() : "-", timed ? ms(m.latency.quantile(0.99)).c_str() : "-");
    out += line;
  }
  return out;
}

}  // namespace ipc
