#pragma once
/// TapStats — what `ipcat tap` prints on stderr at exit: connections, requests,
/// replies, pushes and errors, and per method the requests, errors and latency
/// percentiles (man/ipcat.1, ipcat tap: the summary).
///
/// Memory is bounded whatever the traffic: latencies go into a LatencyHistogram
/// (latency_histogram.h), and at most k_max_methods method names are kept (the
/// rest count as "(other)").

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/base/latency_histogram.h"

namespace ipc {

class TapStats {
 public:
  static constexpr std::size_t k_max_methods = 1000;

  void connection() noexcept { ++m_connections; }
  void request(std::string_view name);
  void reply(std::string_view name, std::uint64_t micros, bool error);
  void push() noexcept { ++m_pushes; }
  void unanswered(std::uint64_t n) noexcept { m_unanswered += n; }

  std::uint64_t requests() const noexcept { return m_requests; }

  /// The summary, several lines ending in '\n'. `dropped`: events stdout did not take.
  std::string summary(std::uint64_t dropped) const;

 private:
  struct Method {
    std::uint64_t requests = 0;
    std::uint64_t replies = 0;
    std::uint64_t errors = 0;
    LatencyHistogram latency;
  };
  Method& method(std::string_view name);

  std::map<std::string, Method, std::less<>> m_methods;
  std::uint64_t m_connections = 0, m_requests = 0, m_replies = 0, m_pushes = 0, m_errors = 0, m_unanswered = 0;
};

}  // namespace ipc
