#include "ipc/tap/stats.h"

#include <algorithm>
#include <bit>
#include <cstdio>

namespace ipc {
namespace {

constexpr std::uint64_t k_exact = 64;  // below this, one bucket per microsecond
constexpr int k_steps = 32;            // buckets per power of two above it

std::size_t bucket_of(std::uint64_t v) {
  if (v < k_exact) return static_cast<std::size_t>(v);
  int shift = std::bit_width(v) - 6;  // v >> shift is in [32, 64)
  return static_cast<std::size_t>(k_exact + static_cast<std::uint64_t>(shift - 1) * k_steps + ((v >> shift) - k_steps));
}

/// The middle of bucket `b`, in microseconds.
double middle_of(std::size_t b) {
  if (b < k_exact) return static_cast<double>(b);
  std::size_t rest = b - k_exact;
  int shift = static_cast<int>(rest / k_steps) + 1;
  std::uint64_t low = (k_steps + rest % k_steps) << shift;
  return static_cast<double>(low) + static_cast<double>(std::uint64_t{1} << shift) / 2;
}

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

void LatencyHistogram::add(std::uint64_t micros) {
  std::size_t b = bucket_of(micros);
  if (b >= m_buckets.size()) m_buckets.resize(b + 1);
  ++m_buckets[b];
  ++m_count;
}

double LatencyHistogram::quantile(double q) const {
  if (m_count == 0) return 0;
  // The smallest value with at least q of the samples at or below it.
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(m_count));
  if (static_cast<double>(rank) < q * static_cast<double>(m_count)) ++rank;
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < m_buckets.size(); ++b) {
    seen += m_buckets[b];
    if (seen >= rank) return middle_of(b);
  }
  return middle_of(m_buckets.size() - 1);
}

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
