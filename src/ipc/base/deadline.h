#pragma once
/// Deadline — a point in time to give up at, or never. Every blocking call of the
/// clients (connect, read, write, a FIFO wait) takes one, so each --timeout is one
/// limit for the whole operation, not one per system call.

#include <chrono>
#include <optional>

namespace ipc {

using Clock = std::chrono::steady_clock;

class Deadline {
 public:
  using Clock = ipc::Clock;
  explicit Deadline(std::chrono::milliseconds in) : m_at(Clock::now() + in) {}
  /// No limit: waits for ever (a --timeout of 0).
  static Deadline never() { return Deadline(); }
  /// A limit of `in` from now, or never() when `in` is nullopt.
  static Deadline after(std::optional<std::chrono::milliseconds> in) { return in ? Deadline(*in) : never(); }
  /// `seconds` from now, clamped to [0, a year] so huge values cannot overflow.
  static Deadline after_seconds(double seconds);
  /// The earlier of this and `other`.
  Deadline min(const Deadline& other) const { return other.m_at < m_at ? other : *this; }

  /// Milliseconds left, at least 0, or -1 for never(); for poll().
  int remaining_ms() const;
  /// Time left, at least zero; Clock::duration::max() for never().
  Clock::duration remaining() const;
  bool expired() const { return !m_never && Clock::now() >= m_at; }
  bool is_never() const noexcept { return m_never; }
  Clock::time_point at() const { return m_at; }

 private:
  Deadline() : m_at(Clock::time_point::max()), m_never(true) {}
  Clock::time_point m_at;
  bool m_never = false;
};

}  // namespace ipc
