#include "ipc/base/deadline.h"

#include <algorithm>

namespace ipc {

Deadline Deadline::after_seconds(double seconds) {
  constexpr double k_year = 365.0 * 24 * 3600;
  const double s = std::clamp(seconds, 0.0, k_year);
  Deadline d;
  d.m_never = false;
  d.m_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  return d;
}

int Deadline::remaining_ms() const {
  if (m_never) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(m_at - Clock::now()).count();
  if (left <= 0) return 0;
  // Round up, so a poll never returns just before the deadline and spins.
  return static_cast<int>(std::min<long long>(left + 1, 1 << 30));
}

Clock::duration Deadline::remaining() const {
  if (m_never) return Clock::duration::max();
  return std::max(m_at - Clock::now(), Clock::duration::zero());
}

}  // namespace ipc
