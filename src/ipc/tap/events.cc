#include "ipc/tap/events.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "ipc/base/fd.h"
#include "ipc/wire/reply_rules.h"

namespace ipc {
namespace {

using namespace std::string_view_literals;

constexpr std::string_view k_dir_names[] = {"request", "reply", "push"};

// Colours of --format text on a terminal.
constexpr std::string_view k_reset = "\033[0m", k_dim = "\033[2m", k_cyan = "\033[36m", k_green = "\033[32m",
                           k_yellow = "\033[33m", k_red = "\033[31m";

// An event per message: its numbers are formatted by hand (snprintf was a fifth
// of the tap's own instructions per message under load, scripts/bench tap_c8).
void append_number(std::string& out, std::uint64_t n) {
  char buf[20];
  auto end = std::to_chars(buf, buf + sizeof buf, n).ptr;
  out.append(buf, end);
}

/// `n` in exactly `width` digits, with leading zeros (n < 10^width).
void append_digits(std::string& out, std::uint64_t n, int width) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  out.append(buf, static_cast<std::size_t>(width));
}

void append_ms(std::string& out, std::uint64_t micros) {
  append_number(out, micros / 1000);
  out += '.';
  append_digits(out, micros % 1000, 3);
}

/// `key`'s member of a JSON object as the route key reads it: a string decoded,
/// anything else as written. Empty when absent.
std::string member_text(std::string_view json, std::string_view key) {
  auto m = top_level_member(json, key);
  if (!m) return {};
  if (auto s = json_string_value(*m)) return *s;
  return std::string(*m);
}

/// The --match member as a map key: strings by value ("\u0031" is "1"), others as written.
std::optional<std::string> match_value(std::string_view json, std::string_view key) {
  auto m = top_level_member(json, key);
  if (!m) return std::nullopt;
  // A tag character, then the text (built with push_back: GCC 12 warns wrongly,
  // -Wrestrict, about a literal assigned or prepended here).
  std::string out;
  if (auto s = json_string_value(*m)) {
    out.reserve(s->size() + 1);
    out.push_back('s');
    out.append(*s);
  } else {
    out.reserve(m->size() + 1);
    out.push_back('v');
    out.append(*m);
  }
  return out;
}

/// An error reply as `ipcat request` judges one (man/ipcat.1, EXIT STATUS).
bool is_error_reply(std::string_view json) { return judge_reply(json) != ReplyVerdict::ok; }

}  // namespace

std::string process_name(pid_t pid) {
  if (pid <= 0) return {};
  std::string path = "/proc/" + std::to_string(pid) + "/comm";
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  char buf[64];
  ssize_t n = ::read(fd.get(), buf, sizeof buf);
  if (n <= 0) return {};
  std::string name(buf, static_cast<std::size_t>(n));
  while (!name.empty() && name.back() == '\n') name.pop_back();
  return name;
}

TapRecorder::TapRecorder(TapEventOptions options, TapOutput& output, TapStats& stats, std::function<void()> on_count)
    : m_options(std::move(options)), m_output(output), m_stats(stats), m_on_count(std::move(on_count)) {}

void TapRecorder::opened(std::uint64_t id, const PeerInfo& client) {
  Conn& c = m_conns.emplace(id, Conn{}).first->second;
  c.decoder[0] = LineDecoder(m_options.max_line);
  c.decoder[1] = LineDecoder(m_options.max_line);
  const auto& conns = m_options.conns;
  const auto& uids = m_options.uids;
  c.visible = (conns.empty() || std::find(conns.begin(), conns.end(), id) != conns.end()) &&
              (uids.empty() || (client.is_unix && std::find(uids.begin(), uids.end(), client.uid) != uids.end()));
  if (!c.visible || m_done) return;
  m_stats.connection();
  std::string comm = client.is_unix ? process_name(client.pid) : std::string();
  std::string& out = m_line;
  out.clear();
  timestamp(out);
  if (m_options.text) {
    out += " #";
    append_number(out, id);
    out += " open ";
    out += client.describe();
    if (!comm.empty()) out += " comm=" + quote_json(comm);
  } else {
    out += ",\"conn\":";
    append_number(out, id);
    out += ",\"event\":\"open\"";
    if (client.is_unix) {
      out += ",\"pid\":" + std::to_string(client.pid) + ",\"uid\":" + std::to_string(client.uid) +
             ",\"gid\":" + std::to_string(client.gid) + ",\"comm\":" + quote_json(comm);
    } else {
      out += ",\"ip\":" + quote_json(client.remote_ip) + ",\"port\":" + std::to_string(client.remote_port);
    }
    out += '}';
  }
  emit(out);
}

void TapRecorder::forwarded(std::uint64_t id, TapSide from, std::string_view bytes) {
  auto it = m_conns.find(id);
  if (it == m_conns.end()) return;
  feed(id, it->second, static_cast<int>(from), bytes);
}

void TapRecorder::ended(std::uint64_t id, TapSide from) {
  auto it = m_conns.find(id);
  if (it == m_conns.end()) return;
  int side = static_cast<int>(from);
  if (it->second.skipping[side]) return;
  // A final line without '\n' is still a message (man/ipcat.1, PROTOCOL).
  it->second.decoder[side].finish();
  drain(id, it->second, side);
}

void TapRecorder::closed(std::uint64_t id, std::string_view error) {
  auto it = m_conns.find(id);
  if (it == m_conns.end()) return;
  Conn& c = it->second;
  if (c.visible && !m_done) {
    std::string& out = m_line;
    out.clear();
    timestamp(out);
    if (m_options.text) {
      out += " #";
      append_number(out, id);
      out += " close requests=" + std::to_string(c.requests) + " replies=" + std::to_string(c.replies) +
             " pushes=" + std::to_string(c.pushes);
      if (!error.empty()) out += " error=" + quote_json(error);
    } else {
      out += ",\"conn\":";
      append_number(out, id);
      out += ",\"event\":\"close\",\"requests\":" + std::to_string(c.requests) +
             ",\"replies\":" + std::to_string(c.replies) + ",\"pushes\":" + std::to_string(c.pushes);
      if (!error.empty()) out += ",\"error\":" + quote_json(error);
      out += '}';
    }
    emit(out);
  }
  m_conns.erase(it);
}

void TapRecorder::feed(std::uint64_t id, Conn& c, int side, std::string_view bytes) {
  for (;;) {
    if (c.skipping[side]) {
      // Inside a line longer than --max-line: it was reported; skip to its end.
      auto nl = bytes.find('\n');
      if (nl == std::string_view::npos) return;
      bytes.remove_prefix(nl + 1);
      c.skipping[side] = false;
    }
    c.decoder[side].feed(bytes);
    if (!drain(id, c, side)) return;
    // Too long: the decoder gives up on the stream; what it still holds after the
    // long line is the end of this chunk (it would have found a '\n' earlier
    // otherwise), so a fresh decoder resumes there.
    std::size_t rest = c.decoder[side].buffered();
    c.decoder[side] = LineDecoder(m_options.max_line);
    if (rest > bytes.size()) {
      c.skipping[side] = true;
      return;
    }
    std::string_view tail = bytes.substr(bytes.size() - rest);
    if (rest > m_options.max_line && tail.find('\n') == std::string_view::npos) {
      c.skipping[side] = true;  // the long line is not over yet
      return;
    }
    bytes = tail;
  }
}

bool TapRecorder::drain(std::uint64_t id, Conn& c, int side) {
  for (;;) {
    auto r = c.decoder[side].next();
    switch (r.status) {
      case LineDecoder::Status::line:
        line(id, c, side, r.line, false);
        break;
      case LineDecoder::Status::too_long:
        line(id, c, side, {}, true);
        return true;
      case LineDecoder::Status::need_more:
      case LineDecoder::Status::end:
        return false;
    }
  }
}

void TapRecorder::line(std::uint64_t id, Conn& c, int side, std::string_view text, bool too_long) {
  m_body.clear();
  bool json = !too_long && minify_json(text, m_body, m_options.max_depth).ok();
  std::string_view msg = json ? std::string_view(m_body) : text;
  if (side == static_cast<int>(TapSide::client)) {
    request(id, c, msg, json, too_long, json ? member_text(msg, m_options.route_key) : std::string());
  } else {
    server_line(id, c, msg, json, too_long);
  }
}

bool TapRecorder::method_shown(const std::string& method) const {
  const auto& m = m_options.methods;
  return m.empty() || std::find(m.begin(), m.end(), method) != m.end();
}

void TapRecorder::request(std::uint64_t id, Conn& c, std::string_view msg, bool json, bool too_long,
                          const std::string& method) {
  Pending p;
  p.seq = ++c.requests;
  p.at = Clock::now();
  p.shown = c.visible && method_shown(method);
  bool shown = p.shown;
  p.method = method;
  remember(c, msg, json, std::move(p));
  if (!shown) return;
  m_stats.request(method.empty() ? "-" : method);
  message(id, Dir::request, c.requests, msg, json, too_long, std::nullopt, false);
}

void TapRecorder::remember(Conn& c, std::string_view msg, bool json, Pending p) {
  const std::size_t max = m_options.max_pending;
  if (m_options.match_key.empty()) {
    c.in_order.push_back(std::move(p));
    if (c.in_order.size() > max) {
      if (c.in_order.front().shown) m_stats.unanswered(1);
      c.in_order.pop_front();
    }
    return;
  }
  // --match: a request without the member (or not JSON) is never paired.
  auto key = json ? match_value(msg, m_options.match_key) : std::nullopt;
  if (!key) return;
  c.key_order.emplace_back(*key, p.seq);
  c.by_key[*key] = std::move(p);
  while (c.by_key.size() > max && !c.key_order.empty()) {
    auto [k, seq] = c.key_order.front();
    c.key_order.pop_front();
    auto it = c.by_key.find(k);
    if (it != c.by_key.end() && it->second.seq == seq) {
      if (it->second.shown) m_stats.unanswered(1);
      c.by_key.erase(it);
    }
  }
  // Entries of answered requests linger in key_order: drop them once they pile up.
  if (c.key_order.size() > 2 * max + 16) {
    std::deque<std::pair<std::string, std::uint64_t>> live;
    for (auto& e : c.key_order) {
      auto it = c.by_key.find(e.first);
      if (it != c.by_key.end() && it->second.seq == e.second) live.push_back(std::move(e));
    }
    c.key_order.swap(live);
  }
}

std::optional<TapRecorder::Pending> TapRecorder::pair(Conn& c, std::string_view msg, bool json) {
  if (m_options.match_key.empty()) {
    if (c.in_order.empty()) return std::nullopt;
    Pending p = std::move(c.in_order.front());
    c.in_order.pop_front();
    return p;
  }
  auto key = json ? match_value(msg, m_options.match_key) : std::nullopt;
  if (!key) return std::nullopt;
  auto it = c.by_key.find(*key);
  if (it == c.by_key.end()) return std::nullopt;
  Pending p = std::move(it->second);
  c.by_key.erase(it);
  return p;
}

void TapRecorder::server_line(std::uint64_t id, Conn& c, std::string_view msg, bool json, bool too_long) {
  auto now = Clock::now();
  if (auto p = pair(c, msg, json)) {
    ++c.replies;
    if (!p->shown) return;
    auto micros = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - p->at).count());
    bool error = json && is_error_reply(msg);
    m_stats.reply(p->method.empty() ? "-" : p->method, micros, error);
    message(id, Dir::reply, p->seq, msg, json, too_long, micros, error);
    return;
  }
  ++c.pushes;
  // A reply shows its request's method; only a push is filtered by its own.
  if (!c.visible || (!m_options.methods.empty() && !method_shown(json ? member_text(msg, m_options.route_key) : "")))
    return;
  m_stats.push();
  message(id, Dir::push, c.pushes, msg, json, too_long, std::nullopt, false);
}

void TapRecorder::message(std::uint64_t id, Dir dir, std::uint64_t seq, std::string_view msg, bool json,
                          bool too_long, std::optional<std::uint64_t> micros, bool error) {
  if (m_done) return;
  std::string& out = m_line;
  out.clear();
  if (m_options.text) {
    bool colour = m_options.colour;
    timestamp(out);
    out += " #"sv;
    append_number(out, id);
    out += ' ';
    if (colour) out += error ? k_red : (dir == Dir::request ? k_cyan : (dir == Dir::reply ? k_green : k_yellow));
    out += dir == Dir::request ? '>' : '<';
    if (colour) out += k_reset;
    out += ' ';
    if (too_long) {
      out += "(a line longer than --max-line " + std::to_string(m_options.max_line) + ")";
    } else if (json) {
      out += msg;
    } else {
      out += "raw " + quote_json(msg);
    }
    if (colour) out += k_dim;
    if (micros) {
      out += "  ("sv;
      append_ms(out, *micros);
      out += " ms)"sv;
    } else if (dir == Dir::push) {
      out += "  (push)"sv;
    }
    if (colour) out += k_reset;
  } else {
    timestamp(out);
    out += ",\"conn\":"sv;
    append_number(out, id);
    out += ",\"dir\":\""sv;
    out += k_dir_names[static_cast<int>(dir)];
    out += "\",\"seq\":"sv;
    append_number(out, seq);
    if (too_long) {
      out += ",\"too_long\":true"sv;
    } else if (json) {
      out += ",\"msg\":"sv;
      out += msg;
    } else {
      out += ",\"raw\":"sv;
      out += quote_json(msg);
    }
    if (micros) {
      out += ",\"ms\":"sv;
      append_ms(out, *micros);
    }
    out += '}';
  }
  emit(out);
  ++m_shown;
  if (m_options.count > 0 && m_shown >= m_options.count) {
    m_done = true;
    if (m_on_count) m_on_count();
  }
}

void TapRecorder::emit(std::string& line) {
  line += '\n';
  m_output.push(line);
}

void TapRecorder::timestamp(std::string& out) {
  // JSON: UTC, ISO 8601 with microseconds; text: local time of day.
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  std::int64_t second = micros / 1000000;
  if (second != m_ts_second) {
    m_ts_second = second;
    std::time_t t = second;
    std::tm tm{};
    char buf[40];
    if (m_options.text) {
      ::localtime_r(&t, &tm);
      std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    } else {
      ::gmtime_r(&t, &tm);
      std::strftime(buf, sizeof buf, "{\"ts\":\"%Y-%m-%dT%H:%M:%S", &tm);
    }
    m_ts_prefix = buf;
  }
  out += m_ts_prefix;
  out += '.';
  append_digits(out, static_cast<std::uint64_t>(micros % 1000000), 6);
  if (!m_options.text) out += "Z\""sv;
}

}  // namespace ipc
