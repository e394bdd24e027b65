#pragma once
/// FifoReader — takes JSON lines out of a FIFO one message at a time, and when told
/// how many messages the caller wants, never consumes a byte past the last of them.
///
/// A pipe has no "unread": bytes read past the last message a command prints would be
/// lost to the next reader. So a reader with a limit of R messages still to take only
/// consumes bytes that belong to those R lines:
///
///   limit unset (follow) ──► read(64 KiB): it takes everything anyway
///   R ≥ 64 KiB           ──► read(64 KiB): 64 KiB hold at most R newlines
///   R < 64 KiB, Linux    ──► tee(2) the pipe's contents into a private pipe (a peek:
///                            nothing is consumed), find the R-th newline in the copy,
///                            then read() exactly up to it — three calls per chunk
///   tee refused          ──► read(R): R bytes hold at most R newlines (byte-wise for
///                            the last message: correct, slower)
///
/// Counting newlines, not messages, errs on the safe side: a blank or invalid line
/// uses up a newline without giving a message, and just costs one more round. This
/// relies on being the FIFO's only reader, as any use of "the next message" does.
/// A message cut off mid-line when the reader stops (timeout, signal) is lost: its
/// head was consumed and printed to nobody.
///
/// A writer that dies mid-line leaves a fragment (`{"partial":`) that the next
/// writer's message completes into one invalid line. Where the FIFO was empty right
/// after the fragment was read (FIONREAD), the bytes that came next began a later
/// write: if the line is invalid, a message starting there ('{' or '[') is still
/// taken, after the fragment is reported invalid. A fragment and a message that were
/// both in the FIFO before the reader read either cannot be told apart: one invalid line.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "ipc/base/fd.h"
#include "ipc/base/stop_signals.h"
#include "ipc/base/write_all.h"
#include "ipc/wire/line_decoder.h"
#include "ipc/wire/json_text.h"

namespace ipc {

struct ReaderOptions {
  /// Messages the caller will take in all; nullopt: all of them, read freely.
  std::optional<std::size_t> limit;
  /// Longer lines are reported invalid and skipped (framing is kept: up to the next '\n').
  std::size_t max_line = k_default_max_line;
  /// Deeper nesting is reported invalid and skipped.
  std::size_t max_depth = k_default_max_depth;
  /// Peek with tee(2) (see above); false forces the bounded reads. A test seam.
  bool peek = true;
};

class FifoReader {
 public:
  struct Event {
    enum class Kind { message, invalid, timeout, stopped };
    Kind kind;
    std::string value;     ///< Kind::message: the message, as compact JSON text
    std::size_t line = 0;  ///< message / invalid: its line number in what this reader read, from 1
    std::string why;       ///< Kind::invalid: why it was skipped
  };

  /// Takes ownership of `fd`, the FIFO's read side (opened non-blocking, see
  /// open_fifo_reader). `name` is what messages call it.
  FifoReader(Fd fd, std::string name, const ReaderOptions& options = {});

  /// The next message or invalid line (blank lines are skipped), or timeout when the
  /// deadline passes first, or stopped on a stop signal. Not to be called once
  /// `limit` messages were taken. Throws Error io on a read failure.
  Event next(const Deadline& deadline, const StopSignals* stop);

  /// A complete line is buffered: next() will not wait (a moment to keep output queued).
  bool line_ready() const noexcept;
  /// read(), tee() and scratch reads made so far (to show the reader is not byte-wise).
  std::size_t read_calls() const noexcept { return m_read_calls; }
  const std::string& name() const noexcept { return m_name; }

 private:
  std::optional<Event> take_line();
  std::optional<Event> recover(std::size_t line_start, std::size_t end);
  void append(std::size_t n);
  void fill();
  bool peek_fill(std::size_t newlines);
  std::size_t read_some(std::size_t max);
  void compact();

  Fd m_fd;
  std::string m_name;
  ReaderOptions m_options;
  std::size_t m_remaining;  // messages the caller still takes (SIZE_MAX: unlimited)
  std::string m_buf;
  std::size_t m_pos = 0;      // start of the unconsumed part of m_buf
  std::size_t m_scan = 0;     // where the search for '\n' resumes
  std::size_t m_line = 0;     // lines completed so far
  bool m_discarding = false;  // inside a too-long line: dropping bytes up to its '\n'
  std::size_t m_discarded = 0;
  bool m_drained = false;              // the last read left a partial line and an empty FIFO
  std::vector<std::size_t> m_starts;   // in the partial line: where later writes began
  std::optional<Event> m_pending;      // a message recovered after a fragment, next to return
  std::vector<char> m_chunk;
  Pipe m_scratch;  // tee target, made on first peek
  bool m_peek;
  std::size_t m_read_calls = 0;
};

}  // namespace ipc
