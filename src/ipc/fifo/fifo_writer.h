#pragma once
/// FifoWriter — sends JSON lines into a pipe so that concurrent writers' messages
/// never interleave and many small messages cost few system calls.
///
/// A write() of at most PIPE_BUF bytes to a pipe is atomic. Messages are queued in a
/// batch that never exceeds PIPE_BUF and only ever holds whole lines, so every write
/// of a batch is atomic and each message arrives whole, even with other writers.
/// A message that is itself larger than PIPE_BUF cannot be atomic: it is refused
/// unless allowed, and then written on its own, completely, across short writes.
///
///   send(line) ─► [ batch ≤ PIPE_BUF, whole lines ] ─flush()/full─► write() (atomic)
///   send(large) ─► flush() ─► write_all(large) (not atomic, never truncated)

#include <cstddef>
#include <string>
#include <string_view>

#include "ipc/base/fd.h"
#include "ipc/base/stop_signals.h"
#include "ipc/base/write_all.h"
#include "ipc/wire/json_text.h"

namespace ipc {

struct WriterOptions {
  /// Send messages larger than PIPE_BUF (not atomic with other writers).
  bool allow_large = false;
  /// Appended to the refusal of a too-large message, e.g. how to allow it.
  std::string large_hint;
  /// Deepest nesting of a message from send_lines(); deeper is invalid input.
  std::size_t max_depth = k_default_max_depth;
};

/// Throws Error invalid_input, naming `what`, the size and PIPE_BUF, when `line` plus
/// its newline is larger than PIPE_BUF and large messages are not allowed.
void check_message_size(std::string_view line, std::string_view what, const WriterOptions& options);

class FifoWriter {
 public:
  /// Takes ownership of `fd` (the write end of a pipe or FIFO, blocking or not: a full
  /// pipe is waited for with poll). `name` is what messages call it (the FIFO path).
  /// The caller ignores SIGPIPE: a vanished reader is reported as an Error instead.
  FifoWriter(Fd fd, std::string name, WriterOptions options = {},
             const StopSignals* stop = nullptr);

  /// check_message_size() with this writer's options.
  void check_size(std::string_view line, std::string_view what) const {
    check_message_size(line, what, m_options);
  }

  /// Queues one message: `line` is one encoded JSON value without its '\n'. May write
  /// the batch first to make room. Throws invalid_input (too large: nothing queued;
  /// contains a newline), io (broken pipe, interrupted).
  void send(std::string_view line);

  /// Writes the queued batch. Unflushed messages are dropped at destruction.
  void flush();

  /// write() calls made so far (to show that batching works).
  std::size_t write_calls() const noexcept { return m_write_calls; }
  /// Messages written into the pipe so far.
  std::size_t sent() const noexcept { return m_sent; }
  const std::string& name() const noexcept { return m_name; }
  const StopSignals* stop() const noexcept { return m_stop; }
  bool allow_large() const noexcept { return m_options.allow_large; }
  const std::string& large_hint() const noexcept { return m_options.large_hint; }
  std::size_t max_depth() const noexcept { return m_options.max_depth; }

 private:
  Fd m_fd;
  std::string m_name;
  WriterOptions m_options;
  const StopSignals* m_stop;
  std::string m_batch;
  std::size_t m_queued = 0;
  std::size_t m_sent = 0;
  std::size_t m_write_calls = 0;
};

/// Sends every line read from `in_fd` until EOF through `writer`. Each non-blank line
/// must be one JSON value (sent as it was, trimmed); blank lines are skipped; a final
/// line without '\n' counts. Batches are written whenever the input has nothing more
/// ready, so a slow producer's lines are not held back, while a file goes out in
/// PIPE_BUF-sized writes. Throws Error invalid_input "IN_NAME line N: ..." for an
/// invalid or (not allowed) too large line: every line before it has been written,
/// nothing after it. Returns the number of messages sent.
std::size_t send_lines(int in_fd, FifoWriter& writer, std::string_view in_name = "stdin");

}  // namespace ipc
