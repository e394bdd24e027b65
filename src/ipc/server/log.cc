#include "ipc/server/log.h"

#include <limits.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
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

/// A text line's `key=value` pairs for `value`; an object's members become `key.member`.
void append_text(std::string& line, std::string_view key, const LogValue& value) {
  if (const Json* object = value.object()) {
    for (const auto& [member, v] : object->items()) {
      std::string sub = std::string(key) + "." + member;
      append_text(line, sub, v.is_string() ? LogValue(v.get<std::string>()) : LogValue(v));
    }
    return;
  }
  std::string v = value.text();
  line += ' ';
  line += key;
  line += '=';
  // Quote values with spaces or quotes, JSON-style, so lines stay parseable.
  line += needs_quotes(v) ? encode(Json(v)) : v;
}

}  // namespace

Json LogValue::json() const {
  return std::visit([](const auto& v) { return Json(v); }, m_value);
}

std::string LogValue::text() const {
  if (const auto* text = std::get_if<std::string>(&m_value)) return *text;
  if (const auto* n = std::get_if<std::int64_t>(&m_value)) return std::to_string(*n);
  if (const auto* n = std::get_if<std::uint64_t>(&m_value)) return std::to_string(*n);
  if (const auto* x = std::get_if<double>(&m_value)) return encode(Json(*x));
  return encode(std::get<Json>(m_value));
}

const Json* LogValue::object() const noexcept {
  const auto* j = std::get_if<Json>(&m_value);
  return j != nullptr && j->is_object() ? j : nullptr;
}

Log::Log(LogLevel level, LogFormat format, int fd)
    : m_level(level), m_format(format), m_fd(fd), m_pid(static_cast<long>(::getpid())) {}

Log::~Log() { flush(); }

void Log::batch_on(std::optional<boost::asio::any_io_executor> executor) {
  flush();
  m_executor = std::move(executor);
}

void Log::flush() const {
  if (m_pending.empty()) return;
  [[maybe_unused]] auto n = ::write(m_fd, m_pending.data(), m_pending.size());
  m_pending.clear();
}

void Log::write(LogLevel level, std::string_view event, std::span<const Field> fields) const {
  if (!enabled(level)) return;
  std::string line;
  if (m_format == LogFormat::json) {
    Json j;
    j["ts"] = timestamp();
    j["pid"] = m_pid;
    j["level"] = level_name(level);
    j["event"] = std::string(event);
    for (const auto& [k, v] : fields) j[std::string(k)] = v.json();
    line = encode(j);
  } else {
    line = "ipcat[" + std::to_string(m_pid) + "]: ";
    if (level == LogLevel::error) line += "error: ";
    if (level == LogLevel::warning) line += "warning: ";
    line += event;
    for (const auto& [k, v] : fields) append_text(line, k, v);
  }
  line += '\n';
  if (!m_executor) {
    [[maybe_unused]] auto n = ::write(m_fd, line.data(), line.size());
    return;
  }
  if (m_pending.size() + line.size() > PIPE_BUF) flush();
  if (line.size() > PIPE_BUF) {
    [[maybe_unused]] auto n = ::write(m_fd, line.data(), line.size());
    return;
  }
  m_pending += line;
  if (!m_flush_posted) {
    m_flush_posted = true;
    boost::asio::post(*m_executor, [this] {
      m_flush_posted = false;
      flush();
    });
  }
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
  all.emplace_back("suppressed", m_suppressed);
  m_suppressed = 0;
  log.write(LogLevel::error, event, std::span<const Log::Field>(all));
}

}  // namespace ipc
