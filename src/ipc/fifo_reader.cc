#include "ipc/fifo_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "ipc/error.h"

namespace ipc {
namespace {

constexpr std::size_t k_chunk = 64 * 1024;  // the default capacity of a Linux pipe

}  // namespace

FifoReader::FifoReader(Fd fd, std::string name, ReaderOptions options)
    : m_fd(std::move(fd)),
      m_name(std::move(name)),
      m_options(options),
      m_remaining(options.limit.value_or(std::numeric_limits<std::size_t>::max())),
      m_chunk(k_chunk),
      m_peek(options.peek) {}

FifoReader::Event FifoReader::next(const TimeLimit& deadline, const StopSignals* stop) {
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
  return std::memchr(m_buf.data() + m_scan, '\n', m_buf.size() - m_scan) != nullptr;
}

std::optional<FifoReader::Event> FifoReader::take_line() {
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
      }
      return std::nullopt;
    }
    std::size_t end = static_cast<std::size_t>(static_cast<const char*>(nl) - m_buf.data());
    std::string_view raw(m_buf.data() + m_pos, end - m_pos);
    m_pos = m_scan = end + 1;
    ++m_line;
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
    if (text.empty()) continue;  // blank lines are not messages (DESIGN.md §3)
    std::string why;
    auto value = compact_form(text, &why, m_options.max_depth);  // byte-exact, only whitespace removed
    if (!value) return Event{Event::Kind::invalid, {}, m_line, "not valid JSON: " + why};
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
      m_buf.append(m_chunk.data(), static_cast<std::size_t>(n));
      return static_cast<std::size_t>(n);
    }
    if (n < 0 && errno == EINTR) continue;
    // EAGAIN (someone else took the bytes) or 0 (no writer, cannot happen while we hold
    // the FIFO read-write): nothing now; the caller waits for POLLIN again.
    if (n == 0 || errno == EAGAIN) return 0;
    throw_errno(m_name, errno);
  }
}

void FifoReader::compact() {
  if (m_pos == m_buf.size()) {
    m_buf.clear();
    m_pos = m_scan = 0;
  } else if (m_pos >= k_chunk) {
    m_buf.erase(0, m_pos);
    m_scan -= m_pos;
    m_pos = 0;
  }
}

}  // namespace ipc
