#include "ipc/base/latency_histogram.h"

#include <bit>
#include <cstddef>

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

}  // namespace ipc
