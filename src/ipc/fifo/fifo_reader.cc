#include "ipc/fifo/fifo_reader.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "ipc/base/error.h"

namespace ipc {
namespace {

constexpr std::size_t k_chunk = 64 * 1024;  // the default capacity of a Linux pipe
// Where a message may start after a cut-off fragment: at most this many per line are
// remembered (the latest), so an invalid line costs a bounded number of re-checks.
constexpr std::size_t k_max_starts = 16;

}  // namespace

FifoReader::FifoReader(Fd fd, std::string name, const ReaderOptions& options)
    : m_fd(std::move(fd)),
      m_name(std::move(name)),
      m_options(options),
      m_remaining(options.limit.value_or(std::numeric_limits<std::size_t>::max())),
      m_chunk(k_chunk),
      m_peek(options.peek) {}

FifoReader::Event FifoReader::next(const Deadline& deadline, const StopSignals* stop) {
  if (m_remaining == 0)
    throw Error(ErrorKind::internal, m_name + ": read past the messages asked for");
  for (;;) {
    if (auto event = take_line()) return std::move(*event);
    switch (wait_fd(m_fd.get(), POLLIN, deadline, stop)) {
      case Wait::timeout:
        return Event{Event::Kind::timeout, {}, 0, {}};
      case Wait::stopped:
        return Event{Event::Kind::stopped, {}, 0, {}};
      case Wait::ready:
        break;
    }
    fill();
  }
}

bool FifoReader::line_ready() const noexcept {
  return m_pending || std::memchr(m_buf.data() + m_scan, '\n', m_buf.size() - m_scan) != nullptr;
}

std::optional<FifoReader::Event> FifoReader::recover(std::size_t line_start, std::size_t end) {
  for (std::size_t start : m_starts) {
    if (start <= line_start || start >= end) continue;
    std::string_view text = trim(std::string_view(m_buf.data() + start, end - start));
    auto value = compact_form(text, nullptr, m_options.max_depth);
    if (value) return Event{Event::Kind::message, std::move(*value), m_line, {}};
  }
  return std::nullopt;
}

std::optional<FifoReader::Event> FifoReader::take_line() {
  if (m_pending) {
    std::optional<Event> event = std::move(m_pending);
    m_pending.reset();
    if (m_remaining != std::numeric_limits<std::size_t>::max()) --m_remaining;
    return event;
  }
  for (;;) {
    const void* nl = std::memchr(m_buf.data() + m_scan, '\n', m_buf.size() - m_scan);
    if (nl == nullptr) {
      m_scan = m_buf.size();
      std::size_t partial = m_buf.size() - m_pos;
      if (partial > 0 && (m_discarding || partial > m_options.max_line)) {
        // Keep memory bounded and framing intact: drop it, and the rest up to its '\n'.
        m_discarding = true;
        m_discarded += partial;
        m_buf.clear();
        m_pos = m_scan = 0;
        m_starts.clear();
      }
      return std::nullopt;
    }
    std::size_t end = static_cast<std::size_t>(static_cast<const char*>(nl) - m_buf.data());
    const std::size_t line_start = m_pos;
    std::string_view raw(m_buf.data() + m_pos, end - m_pos);
    m_pos = m_scan = end + 1;
    ++m_line;
    // The starts inside this line are used up below (or not needed): none survive it.
    std::vector<std::size_t> starts;
    starts.swap(m_starts);
    std::size_t length = raw.size() + m_discarded;
    if (m_discarding || length > m_options.max_line) {
      m_discarding = false;
      m_discarded = 0;
      return Event{Event::Kind::invalid,
                   {},
                   m_line,
                   "line of " + std::to_string(length) + " bytes is longer than the limit of " +
                       std::to_string(m_options.max_line)};
    }
    std::string_view text = trim(raw);
    if (text.empty()) continue;  // blank lines are not messages (man/ipcat.1, PROTOCOL)
    std::string why;
    auto value = compact_form(text, &why, m_options.max_depth);  // byte-exact, only whitespace removed
    if (!value) {
      // A writer that died mid-line leaves a fragment that the next writer's message
      // completes into one invalid line. When the fragment was all there was in the
      // FIFO before that message began (see fill()), the message is still taken.
      m_starts.swap(starts);
      std::optional<Event> recovered = recover(line_start, end);
      m_starts.clear();
      if (recovered) {
        m_pending = std::move(recovered);  // counted in m_remaining when it is returned
        return Event{Event::Kind::invalid, {}, m_line,
                     "not valid JSON: a message cut off (its writer stopped mid-line?); the "
                     "message that followed it on the line is taken"};
      }
      return Event{Event::Kind::invalid, {}, m_line, "not valid JSON: " + why};
    }
    if (m_remaining != std::numeric_limits<std::size_t>::max()) --m_remaining;
    return Event{Event::Kind::message, std::move(*value), m_line, {}};
  }
}

void FifoReader::fill() {
  compact();
  std::size_t want = k_chunk;
  if (m_options.limit && m_remaining < k_chunk) {
    // m_buf holds no complete line now, so each newline still to come completes at most
    // one of the m_remaining messages: consuming up to the m_remaining-th is safe.
    if (m_peek && peek_fill(m_remaining)) return;
    want = m_remaining;
  }
  read_some(want);
}

bool FifoReader::peek_fill(std::size_t newlines) {
  if (!m_scratch.read) {
    m_scratch = make_pipe();
    set_nonblocking(m_scratch.read.get());
    set_nonblocking(m_scratch.write.get());
  }
  ++m_read_calls;
  ssize_t n = ::tee(m_fd.get(), m_scratch.write.get(), k_chunk, SPLICE_F_NONBLOCK);
  if (n <= 0) {
    // EINVAL/ENOSYS: tee is not available here, read bounded from now on. EAGAIN although
    // poll said readable: do one bounded read, which always makes progress.
    if (n < 0 && errno != EAGAIN && errno != EINTR) m_peek = false;
    return false;
  }
  std::size_t peeked = static_cast<std::size_t>(n);
  // Empty the scratch pipe (it must be empty for the next peek) into m_chunk.
  std::size_t got = 0;
  while (got < peeked) {
    ++m_read_calls;
    ssize_t r = ::read(m_scratch.read.get(), m_chunk.data() + got, peeked - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) throw Error(ErrorKind::internal, m_name + ": lost bytes peeked from the FIFO");
    got += static_cast<std::size_t>(r);
  }
  std::size_t take = peeked;
  std::size_t seen = 0;
  for (std::size_t i = 0; i < peeked; ++i) {
    if (m_chunk[i] == '\n' && ++seen == newlines) {
      take = i + 1;
      break;
    }
  }
  // Now consume exactly those bytes. Being the only reader, they are still the pipe's head.
  while (take > 0) {
    std::size_t got_now = read_some(take);
    if (got_now == 0) break;
    take -= got_now;
  }
  return true;
}

std::size_t FifoReader::read_some(std::size_t max) {
  max = std::min(max, m_chunk.size());
  for (;;) {
    ++m_read_calls;
    ssize_t n = ::read(m_fd.get(), m_chunk.data(), max);
    if (n > 0) {
      append(static_cast<std::size_t>(n));
      return static_cast<std::size_t>(n);
    }
    if (n < 0 && errno == EINTR) continue;
    // EAGAIN (someone else took the bytes) or 0 (no writer, cannot happen while we hold
    // the FIFO read-write): nothing now; the caller waits for POLLIN again.
    if (n == 0 || errno == EAGAIN) return 0;
    throw_errno(m_name, errno);
  }
}

void FifoReader::append(std::size_t n) {
  // A partial line pending, and the FIFO was empty after the read that brought it:
  // its writer had stopped there, so these bytes began with a later write — where a
  // message may start if that partial line turns out to be a fragment.
  const bool after_fragment = m_drained && m_buf.size() > m_pos && !m_discarding;
  if (after_fragment && (m_chunk[0] == '{' || m_chunk[0] == '[')) {
    if (m_starts.size() == k_max_starts) m_starts.erase(m_starts.begin());
    m_starts.push_back(m_buf.size());
  }
  m_buf.append(m_chunk.data(), n);
  // Only a line left unfinished needs to know (FIONREAD: bytes still in the FIFO).
  m_drained = false;
  if (m_chunk[n - 1] != '\n') {
    int left = 0;
    m_drained = ::ioctl(m_fd.get(), FIONREAD, &left) == 0 && left == 0;
  }
}

void FifoReader::compact() {
  if (m_pos == m_buf.size()) {
    m_buf.clear();
    m_pos = m_scan = 0;
    m_starts.clear();
  } else if (m_pos >= k_chunk) {
    m_buf.erase(0, m_pos);
    m_scan -= m_pos;
    for (auto& start : m_starts) start -= m_pos;  // all of them lie in the partial line
    m_pos = 0;
  }
}

}  // namespace ipc
