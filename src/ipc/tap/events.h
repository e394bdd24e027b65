#pragma once
/// TapRecorder — turns the bytes a tap forwards into events (man/ipcat.1, ipcat tap):
///
///   bytes ──► LineDecoder per connection and direction ──► line
///     client line ──► request (seq 1, 2, ...), remembered until its reply
///     server line ──► reply to the oldest request (in order) or to the request whose
///                     --match member it carries; otherwise a push
///   ──► filters (--conn, --uid, --method) ──► one JSON line (or --format text) ──► TapOutput
///
/// A message that is JSON is shown byte-exact (minified, never re-encoded, json_text.h);
/// anything else as "raw". Nothing here can hold up the traffic: events go to a
/// bounded queue, and memory per connection is bounded by --max-line and --max-pending.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ipc/wire/json_text.h"
#include "ipc/wire/line_decoder.h"
#include "ipc/tap/observer.h"
#include "ipc/tap/output.h"
#include "ipc/tap/stats.h"

namespace ipc {

struct TapEventOptions {
  bool text = false;      ///< --format text
  bool colour = false;    ///< text on a terminal
  std::string match_key;  ///< --match KEY; empty: replies pair with requests in order
  std::string route_key = "method";
  std::vector<std::string> methods;  ///< --method: show only these (empty: all)
  std::vector<std::uint64_t> conns;  ///< --conn
  std::vector<uid_t> uids;           ///< --uid
  std::uint64_t count = 0;           ///< -n: stop after this many messages (0: never)
  std::size_t max_line = k_default_max_line;
  std::size_t max_depth = k_default_max_depth;
  std::size_t max_pending = 1024;    ///< requests awaiting a reply, per connection
};

class TapRecorder : public TapObserver {
 public:
  /// `on_count` is called once, when -n messages have been shown.
  TapRecorder(TapEventOptions options, TapOutput& output, TapStats& stats, std::function<void()> on_count);

  void opened(std::uint64_t id, const PeerInfo& client) override;
  void forwarded(std::uint64_t id, TapSide from, std::string_view bytes) override;
  void ended(std::uint64_t id, TapSide from) override;
  void closed(std::uint64_t id, std::string_view error) override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    std::uint64_t seq = 0;
    Clock::time_point at;
    std::string method;
    bool shown = false;
  };
  struct Conn {
    bool visible = true;  // passes --conn and --uid
    LineDecoder decoder[2] = {LineDecoder(k_default_max_line), LineDecoder(k_default_max_line)};
    bool skipping[2] = {false, false};  // inside a line longer than --max-line
    std::uint64_t requests = 0, replies = 0, pushes = 0;
    std::deque<Pending> in_order;
    std::unordered_map<std::string, Pending> by_key;           // --match
    std::deque<std::pair<std::string, std::uint64_t>> key_order;  // --match: oldest first
  };
  enum class Dir { request, reply, push };

  void feed(std::uint64_t id, Conn& c, int side, std::string_view bytes);
  bool drain(std::uint64_t id, Conn& c, int side);
  void line(std::uint64_t id, Conn& c, int side, std::string_view text, bool too_long);
  void request(std::uint64_t id, Conn& c, std::string_view msg, bool json, bool too_long, const std::string& method);
  void server_line(std::uint64_t id, Conn& c, std::string_view msg, bool json, bool too_long);
  void remember(Conn& c, std::string_view msg, bool json, Pending p);
  std::optional<Pending> pair(Conn& c, std::string_view msg, bool json);
  void message(std::uint64_t id, Dir dir, std::uint64_t seq, std::string_view msg, bool json, bool too_long,
               std::optional<std::uint64_t> micros, bool error);
  bool method_shown(const std::string& method) const;
  void emit(std::string& line);
  void timestamp(std::string& out);

  TapEventOptions m_options;
  TapOutput& m_output;
  TapStats& m_stats;
  std::function<void()> m_on_count;
  std::unordered_map<std::uint64_t, Conn> m_conns;
  std::uint64_t m_shown = 0;
  bool m_done = false;  // -n reached: nothing more is shown
  std::string m_body;   // scratch: the minified message
  std::string m_line;   // scratch: the event being built
  std::int64_t m_ts_second = -1;  // timestamp cache: the second formatted in m_ts_prefix
  std::string m_ts_prefix;
};

/// The command name of process `pid` (/proc/PID/comm), or "" if it is gone.
std::string process_name(pid_t pid);

}  // namespace ipc
