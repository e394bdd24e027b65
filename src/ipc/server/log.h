#pragma once
/// Log — one line per event on stderr, as text or JSON (`--log-format`).
///
///   text: ipcat[1234]: listening address=/run/app.sock mode=0600
///   json: {"ts":"2026-11-21T23:59:01.123Z","pid":1234,"level":"info","event":"listening",...}
///
/// A field is text or a number (JSON: a number, never a string), or a small object
/// of ipcat's own (text: flattened to `key.member=value`). Durations read the same
/// everywhere (base/duration.h, man/ipcat.1, LOG). Each line goes out whole in one
/// write(2) of at most PIPE_BUF bytes (or alone, if longer), so lines from several
/// processes never interleave. While serve's event loop runs, the lines of one turn
/// of the loop share that write (batch_on): a line per request costs no syscall.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <boost/asio/any_io_executor.hpp>
#include <optional>

#include "ipc/base/duration.h"
#include "ipc/wire/json_value.h"

namespace ipc {

enum class LogLevel { error = 0, warning = 1, info = 2, debug = 3 };
enum class LogFormat { text, json };

/// The value of one log field: text, an integer, a number with a fraction, or an
/// object (kept as a Json DOM: ipcat's own small summaries only).
class LogValue {
 public:
  LogValue(std::string text) : m_value(std::move(text)) {}
  LogValue(const char* text) : m_value(std::string(text)) {}
  LogValue(std::string_view text) : m_value(std::string(text)) {}
  template <std::signed_integral T>
    requires(!std::same_as<T, char>)
  LogValue(T n) : m_value(static_cast<std::int64_t>(n)) {}
  template <std::unsigned_integral T>
    requires(!std::same_as<T, bool>)
  LogValue(T n) : m_value(static_cast<std::uint64_t>(n)) {}
  LogValue(double x) : m_value(x) {}
  LogValue(Json value) : m_value(std::move(value)) {}

  /// The value in a JSON log line.
  Json json() const;
  /// The value in a text log line (a string as it is, a number as in JSON).
  std::string text() const;
  const Json* object() const noexcept;

 private:
  // Numbers as themselves: a line per request must not build a DOM per field.
  std::variant<std::string, std::int64_t, std::uint64_t, double, Json> m_value;
};

class Log {
 public:
  using Field = std::pair<std::string_view, LogValue>;

  /// Lines name the process that made the Log (its pid is read once: a line per
  /// request must not cost a getpid(2) each).
  Log(LogLevel level = LogLevel::info, LogFormat format = LogFormat::text, int fd = 2);
  /// Writes what is gathered.
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  /// With an executor, lines are gathered and written together once the events in
  /// hand are handled (a handler posted on it), up to PIPE_BUF bytes a write;
  /// without one (the default, and after batch_on(std::nullopt), which writes what
  /// is gathered) each line is written at once. Call it with nullopt before the
  /// loop stops for good: what is gathered then would wait for a loop that no longer runs.
  void batch_on(std::optional<boost::asio::any_io_executor> executor);
  /// Writes the gathered lines now.
  void flush() const;

  bool enabled(LogLevel level) const noexcept { return level <= m_level; }
  void write(LogLevel level, std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(level, event, std::span<const Field>(fields.begin(), fields.size()));
  }
  void write(LogLevel level, std::string_view event, std::span<const Field> fields) const;

  void error(std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(LogLevel::error, event, fields);
  }
  void warning(std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(LogLevel::warning, event, fields);
  }
  void info(std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(LogLevel::info, event, fields);
  }
  void debug(std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(LogLevel::debug, event, fields);
  }

 private:
  LogLevel m_level;
  LogFormat m_format;
  int m_fd;
  long m_pid;
  std::optional<boost::asio::any_io_executor> m_executor;
  mutable std::string m_pending;      // whole lines, at most PIPE_BUF bytes
  mutable bool m_flush_posted = false;
};

/// At most one line per `interval` for an event that can repeat in a tight loop
/// (EMFILE on accept, spawns failing for want of fds): the line after a quiet
/// spell says how many were left out ("suppressed").
class RateLimit {
 public:
  explicit RateLimit(std::chrono::milliseconds interval = std::chrono::seconds(1)) : m_interval(interval) {}
  void error(const Log& log, std::string_view event, std::initializer_list<Log::Field> fields);

 private:
  std::chrono::milliseconds m_interval;
  std::chrono::steady_clock::time_point m_last{};
  bool m_logged = false;
  std::uint64_t m_suppressed = 0;
};

}  // namespace ipc
