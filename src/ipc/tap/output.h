#pragma once
/// TapOutput — where `ipcat tap` writes its events (stdout) without ever letting a
/// slow reader stall the traffic (man/ipcat.1, ipcat tap: "Logging never stalls").
///
///   push(line) ──► bounded queue (--max-queue bytes) ──non-blocking write──► fd
///                    │ full: the event is dropped and counted
///                    └ a terminal: written at the end of the event loop's turn;
///                      a file or pipe: every 10 ms or 64 KiB, in one write
///
/// A pipe, FIFO or terminal is reopened through /proc/self/fd/N with O_NONBLOCK: a
/// description of our own, so the shell's stdout never turns non-blocking. A socket
/// (which cannot be reopened) gets O_NONBLOCK set and restored at exit. A regular
/// file never blocks for long and is written directly.

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "ipc/base/fd.h"

namespace ipc {

inline constexpr std::size_t k_default_tap_queue = 1024 * 1024;

class TapOutput {
 public:
  TapOutput(boost::asio::io_context& io, int fd, std::size_t max_queue = k_default_tap_queue);
  TapOutput(const TapOutput&) = delete;
  TapOutput& operator=(const TapOutput&) = delete;
  ~TapOutput();

  /// Queues one line (with its '\n'). False when it did not fit: dropped, counted.
  bool push(std::string_view line);
  /// At exit: writes what is queued, waiting at most `patience` for a slow reader;
  /// what is still left then is dropped and counted.
  void finish(std::chrono::milliseconds patience);

  std::uint64_t dropped() const noexcept { return m_dropped; }
  /// The reader went away (EPIPE): everything from then on is dropped.
  bool broken() const noexcept { return m_broken; }

 private:
  void flush();
  std::size_t queued() const noexcept { return m_queue.size() - m_head; }

  boost::asio::io_context& m_io;
  int m_fd;                 // what we write to: m_own, or the caller's fd
  Fd m_own;                 // our reopened description, if any
  int m_restore_flags = -1; // the caller's fd flags to put back (socket case)
  std::size_t m_max;
  std::string m_queue;
  std::size_t m_head = 0;   // bytes of m_queue already written
  std::uint64_t m_dropped = 0;
  bool m_posted = false;    // a flush is posted or its timer armed
  bool m_coalesce = true;   // not a terminal: gather events into fewer writes
  boost::asio::steady_timer m_timer;
  bool m_waiting = false;   // waiting for the fd to become writable
  bool m_broken = false;
  boost::asio::posix::stream_descriptor m_descriptor;  // for async_wait only (a dup)
};

}  // namespace ipc
