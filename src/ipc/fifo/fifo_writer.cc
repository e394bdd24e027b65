#include "ipc/fifo/fifo_writer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ipc/base/error.h"
#include "ipc/fifo/fifo.h"
#include "ipc/wire/line_decoder.h"
#include "ipc/wire/json_text.h"

namespace ipc {
namespace {

// Without --allow-large a line is refused anyway past PIPE_BUF; buffering up to this
// much still lets the refusal name the line's size instead of "more than ...".
constexpr std::size_t k_max_measured_line = 1024 * 1024;
constexpr std::size_t k_read_chunk = 64 * 1024;

[[noreturn]] void throw_too_large(std::string_view what, const std::string& size,
                                  const std::string& hint) {
  throw Error(ErrorKind::invalid_input,
              std::string(what) + ": message of " + size + " bytes is larger than PIPE_BUF (" +
                  std::to_string(k_pipe_buf) + " bytes) and would not be atomic" + hint);
}

}  // namespace

FifoWriter::FifoWriter(Fd fd, std::string name, WriterOptions options, const StopSignals* stop)
    : m_fd(std::move(fd)), m_name(std::move(name)), m_options(std::move(options)), m_stop(stop) {
  m_batch.reserve(k_pipe_buf);
}

void check_message_size(std::string_view line, std::string_view what,
                        const WriterOptions& options) {
  std::size_t size = line.size() + 1;
  if (size <= k_pipe_buf || options.allow_large) return;
  throw_too_large(what, std::to_string(size), options.large_hint);
}

void FifoWriter::send(std::string_view line) {
  check_size(line, m_name);
  if (std::memchr(line.data(), '\n', line.size()) != nullptr) {
    throw Error(ErrorKind::invalid_input, m_name + ": a message must not contain a newline");
  }
  std::size_t size = line.size() + 1;
  if (size > k_pipe_buf) {
    // Large: alone, after everything queued before it, written to the last byte.
    flush();
    std::string whole;
    whole.reserve(size);
    whole.append(line);
    whole.push_back('\n');
    m_write_calls += write_all(m_fd.get(), whole, m_name, m_stop);
    ++m_sent;
    return;
  }
  if (m_batch.size() + size > k_pipe_buf) flush();
  m_batch.append(line);
  m_batch.push_back('\n');
  ++m_queued;
}

void FifoWriter::flush() {
  if (m_batch.empty()) return;
  // At most PIPE_BUF bytes: one atomic write (or EAGAIN and nothing written).
  m_write_calls += write_all(m_fd.get(), m_batch, m_name, m_stop);
  m_sent += m_queued;
  m_queued = 0;
  m_batch.clear();
}

std::size_t send_lines(int in_fd, FifoWriter& writer, std::string_view in_name) {
  std::size_t before = writer.sent();
  std::string buf;
  std::size_t pos = 0;   // start of the line being assembled
  std::size_t scan = 0;  // where the search for '\n' resumes: a long line is scanned once
  std::size_t line_no = 0;
  std::string chunk(k_read_chunk, '\0');
  bool eof = false;

  auto where = [&] { return std::string(in_name) + " line " + std::to_string(line_no); };
  auto take = [&](std::string_view raw) {
    ++line_no;
    std::string_view line = trim(raw);
    if (line.empty()) return;
    std::string why;
    auto compact = compact_form(line, &why, writer.max_depth());  // byte-exact, only whitespace removed
    // The lines before this one go out before it is refused: "nothing after it" holds.
    if (!compact) {
      writer.flush();
      throw Error(ErrorKind::invalid_input, where() + ": not valid JSON: " + why);
    }
    try {
      writer.check_size(*compact, where());
    } catch (...) {
      writer.flush();
      throw;
    }
    writer.send(*compact);
  };

  while (!eof) {
    if (wait_fd(in_fd, POLLIN, Deadline::never(), writer.stop()) == Wait::stopped)
      throw_interrupted(in_name);
    ssize_t n = ::read(in_fd, chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw_errno(in_name, errno);
    }
    if (n == 0) {
      eof = true;
    } else {
      buf.append(chunk.data(), static_cast<std::size_t>(n));
    }
    for (;;) {
      scan = std::max(scan, pos);
      const void* nl = std::memchr(buf.data() + scan, '\n', buf.size() - scan);
      if (nl == nullptr) {
        scan = buf.size();
        break;
      }
      std::size_t end = static_cast<std::size_t>(static_cast<const char*>(nl) - buf.data());
      take(std::string_view(buf).substr(pos, end - pos));
      pos = end + 1;
    }
    if (eof && pos < buf.size()) {
      take(std::string_view(buf).substr(pos));
      pos = buf.size();
    }
    buf.erase(0, pos);
    scan -= std::min(scan, pos);
    pos = 0;
    // Nothing more to hand right now (or ever): what is queued goes out.
    writer.flush();
    if (buf.size() > k_max_measured_line && !writer.allow_large()) {
      throw_too_large(std::string(in_name) + " line " + std::to_string(line_no + 1),
                      "more than " + std::to_string(k_max_measured_line), writer.large_hint());
    }
  }
  return writer.sent() - before;
}

}  // namespace ipc
