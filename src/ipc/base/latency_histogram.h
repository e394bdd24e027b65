#pragma once
/// LatencyHistogram — latency percentiles in bounded memory, whatever the traffic:
/// a log-linear histogram (exact below 64 us, then 32 steps per power of two:
/// within 3%). Used by `tap`'s summary and by `serve`'s `stopped` line.

#include <cstdint>
#include <vector>

namespace ipc {

class LatencyHistogram {
 public:
  void add(std::uint64_t micros);
  std::uint64_t count() const noexcept { return m_count; }
  /// The q-th quantile (0 < q <= 1) in microseconds: the middle of its bucket.
  double quantile(double q) const;

 private:
  std::vector<std::uint64_t> m_buckets;
  std::uint64_t m_count = 0;
};

}  // namespace ipc
