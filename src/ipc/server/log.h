#pragma once
/// Log — one line per event on stderr, as text or JSON (`--log-format`).
///
///   text: ipcat[1234]: listening address=/run/app.sock mode=0600
///   json: {"ts":"2026-11-21T23:59:01.123Z","pid":1234,"level":"info","event":"listening",...}
///
/// Each line goes out in one write(2), so lines from several processes never interleave.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace ipc {

enum class LogLevel { error = 0, warning = 1, info = 2, debug = 3 };
enum class LogFormat { text, json };

class Log {
 public:
  using Field = std::pair<std::string_view, std::string>;

  Log(LogLevel level = LogLevel::info, LogFormat format = LogFormat::text, int fd = 2)
      : m_level(level), m_format(format), m_fd(fd) {}

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
