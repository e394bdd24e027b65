#include "ipc/server/log.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <vector>

#include "ipc/wire/json_value.h"

namespace ipc {
namespace {

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::error: return "error";
    case LogLevel::warning: return "warning";
    case LogLevel::info: return "info";
    case LogLevel::debug: return "debug";
  }
  return "info";
}

std::string timestamp() {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
  return false;
}

}  // namespace

void Log::write(LogLevel level, std::string_view event, std::span<const Field> fields) const {
  if (!enabled(level)) return;
  std::string line;
  if (m_format == LogFormat::json) {
    Json j;
    j["ts"] = timestamp();
    j["pid"] = ::getpid();
    j["level"] = level_name(level);
    j["event"] = std::string(event);
    for (const auto& [k, v] : fields) j[std::string(k)] = v;
    line = encode(j);
  } else {
    line = "ipcat[" + std::to_string(::getpid()) + "]: ";
    if (level == LogLevel::error) line += "error: ";
    if (level == LogLevel::warning) line += "warning: ";
    line += event;
    for (const auto& [k, v] : fields) {
      line += ' ';
      line += k;
      line += '=';
      // Quote values with spaces or quotes, JSON-style, so lines stay parseable.
      line += needs_quotes(v) ? encode(Json(v)) : v;
    }
  }
  line += '\n';
  [[maybe_unused]] auto n = ::write(m_fd, line.data(), line.size());
}

void RateLimit::error(const Log& log, std::string_view event, std::initializer_list<Log::Field> fields) {
  auto now = std::chrono::steady_clock::now();
  if (m_logged && now - m_last < m_interval) {
    ++m_suppressed;
    return;
  }
  m_logged = true;
  m_last = now;
  if (m_suppressed == 0) {
    log.error(event, fields);
    return;
  }
  std::vector<Log::Field> all(fields);
  all.emplace_back("suppressed", std::to_string(m_suppressed));
  m_suppressed = 0;
  log.write(LogLevel::error, event, std::span<const Log::Field>(all));
}

}  // namespace ipc
