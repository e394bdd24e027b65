// ipcat connect: an open JSON-line session (man/ipcat.1, ipcat connect).
//
//   BODY, stdin lines ──validated, compact──► server
//   server lines (replies and pushed events) ──as they come──► stdout
//
// No overall time limit: it ends when the server closes, after -n lines, after
// --idle without traffic, or --linger after stdin's end. On a terminal, stdin is
// read through ipc::LineEditor (libedit: line editing and history) and the
// server's lines are printed above the line being typed.

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <optional>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "ipc/wire/auth.h"
#include "ipc/client/client.h"
#include "ipc/base/error.h"
#include "ipc/wire/line_decoder.h"
#include "ipc/wire/json_text.h"
#include "ipc/client/line_editor.h"
#include "ipc/client/output_writer.h"
#include "ipc/wire/reply_rules.h"
#include "ipc/wire/request_body.h"
#include "ipc/base/duration.h"

namespace cli {
namespace connect_detail {
namespace {

using Clock = std::chrono::steady_clock;

struct ConnectArgs {
  std::string address;
  std::vector<std::string> words;
  Seconds timeout{5};
  int retries = 3;
  Seconds backoff{0.5};
  std::size_t count = 0;
  Seconds idle{0};
  std::optional<Seconds> linger;
  bool timestamps = false;
  bool pretty = false;
  int verbose = 0;
  bool quiet = false;
  std::size_t max_line = 64 * 1024 * 1024;
  std::size_t max_depth = ipc::k_default_max_depth;
  std::string authkey_file;
};

constexpr std::string_view k_name = "connect";

/// "2026-12-01T13:48:00.123Z " for --timestamps.
std::string timestamp() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  std::tm tm{};
  ::gmtime_r(&ts.tv_sec, &tm);
  char buf[48];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03ldZ ", ts.tv_nsec / 1000000);
  return buf;
}

class Session {
 public:
  Session(const ConnectArgs& a, ipc::ClientConnection& conn)
      : m_args(a), m_conn(conn), m_stdout(STDOUT_FILENO, "stdout") {}

  int run(const std::optional<std::string>& body) {
    try {
      return loop(body);
    } catch (const ipc::Error& e) {
      // A server that refuses us (Forbidden) closes at once: the reset that follows
      // is explained by the line it sent first.
      if (e.kind() != ipc::ErrorKind::io) throw;
      try {
        m_conn.read_available();
      } catch (const ipc::Error&) {
        // Nothing more to read: what was received is all there is.
      }
      take_server_lines();
      flush();
      if (m_status == k_no_perm) return m_status;
      throw;
    }
  }

 private:
  int loop(const std::optional<std::string>& body) {
    if (::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO)) m_editor.emplace("> ");
    if (body) send_line(*body, 0);
    std::optional<std::chrono::milliseconds> idle = m_args.idle.limit();
    std::optional<Clock::time_point> linger_at;
    auto last_traffic = Clock::now();
    bool input_open = true;
    char buf[65536];
    for (;;) {
      if (take_server_lines()) return m_status;
      flush();
      if (!input_open && m_to_server.empty() && m_args.linger && !linger_at)
        linger_at = Clock::now() + m_args.linger->duration();
      auto now = Clock::now();
      std::optional<Clock::time_point> wake;
      if (idle) wake = last_traffic + *idle;
      if (linger_at && (!wake || *linger_at < *wake)) wake = linger_at;
      if (wake && now >= *wake) {
        if (m_args.verbose > 0) report(k_name, m_conn.display() + (linger_at && now >= *linger_at ? ": linger time over" : ": idle"));
        return m_status;
      }
      int wait_ms = -1;
      if (wake) wait_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(*wake - now).count());
      bool read_input = input_open && m_to_server.size() < 4 * sizeof buf;
      pollfd p[2] = {{m_conn.fd(), static_cast<short>(POLLIN | (m_to_server.empty() ? 0 : POLLOUT)), 0},
                     {read_input ? STDIN_FILENO : -1, POLLIN, 0}};
      int rc = ::poll(p, 2, wait_ms);
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0) ipc::throw_errno("poll", errno);
      if (rc == 0) continue;
      if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        last_traffic = Clock::now();
        if (!m_conn.read_available()) {
          take_server_lines();
          flush();
          if (m_args.verbose > 0) report(k_name, m_conn.display() + ": the server closed the connection");
          return m_status;
        }
      }
      if (!m_to_server.empty() && (p[0].revents & POLLOUT)) {
        ssize_t n = ::send(m_conn.fd(), m_to_server.data(), m_to_server.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
          m_to_server.erase(0, static_cast<std::size_t>(n));
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          throw ipc::Error(ipc::ErrorKind::io, m_conn.display() + ": connection reset by the server while sending");
        }
      }
      if (p[1].fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
        last_traffic = Clock::now();
        if (m_editor) {
          std::vector<std::string> lines;
          input_open = m_editor->read_input(lines);
          for (const auto& line : lines) input_line(line);
          if (!input_open) m_editor.reset();
        } else {
          ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
          if (n > 0) {
            m_input.feed(std::string_view(buf, static_cast<std::size_t>(n)));
          } else if (n == 0) {
            m_input.finish();
            input_open = false;
          } else if (errno != EINTR && errno != EAGAIN) {
            ipc::throw_errno("stdin", errno);
          }
          for (auto r = m_input.next(); r.status != ipc::LineDecoder::Status::need_more &&
                                        r.status != ipc::LineDecoder::Status::end;
               r = m_input.next()) {
            if (r.status == ipc::LineDecoder::Status::too_long)
              throw ipc::Error(ipc::ErrorKind::invalid_input, "stdin: line " + std::to_string(m_line_number + 1) + " is too long");
            input_line(r.line);
          }
        }
      }
    }
  }

  /// A stdin line: sent compact if it is JSON, else reported and skipped.
  void input_line(std::string_view line) {
    ++m_line_number;
    line = ipc::strip_bom(ipc::trim(line));
    if (line.empty()) return;
    send_line(line, m_line_number);
  }

  bool send_line(std::string_view text, std::size_t number) {
    std::size_t start = m_to_server.size();
    auto check = ipc::minify_json(text, m_to_server, m_args.max_depth);
    if (!check) {
      std::string what = number == 0 ? std::string("the request") : "stdin line " + std::to_string(number);
      show_error(what + ": not valid JSON, not sent: " + check.why);
      return false;
    }
    if (m_args.verbose > 1) show_error("> " + m_to_server.substr(start));
    m_to_server += '\n';
    return true;
  }

  /// Handles the lines received; true when -n is reached.
  bool take_server_lines() {
    std::string_view line;
    while (m_conn.next_line(line)) {
      if (m_received == 0 && m_args.authkey_file.empty() && ipc::parse_challenge(line))
        throw ipc::Error(ipc::ErrorKind::permission,
                         m_conn.display() + ": the server requires the authkey handshake (use --authkey-file)");
      ++m_received;
      if (m_args.verbose > 1) show_error("< " + std::string(line));
      auto check = ipc::check_json(line, m_args.max_depth);
      if (!check && m_args.verbose > 0) show_error(m_conn.display() + ": line " + std::to_string(m_received) + " is not JSON: " + check.why);
      if (check && ipc::judge_reply(line) == ipc::ReplyVerdict::forbidden) m_status = k_no_perm;
      if (!m_args.quiet) {
        if (m_args.timestamps) m_out += timestamp();
        // A line that is not JSON is shown as it came.
        if (check && m_args.pretty) {
          m_out += ipc::pretty_json(line);
        } else if (check && !check.compact) {
          ipc::minify_json(line, m_out, m_args.max_depth);
        } else {
          m_out += line;
        }
        m_out += '\n';
      }
      if (m_args.count > 0 && m_received >= m_args.count) {
        flush();
        return true;
      }
    }
    return false;
  }

  void flush() {
    if (m_out.empty()) return;
    if (m_editor) {
      m_editor->print_above(m_out);
    } else {
      m_stdout.write_all(m_out, std::nullopt);
    }
    m_out.clear();
  }

  /// A message on stderr that does not break the line being edited.
  void show_error(const std::string& text) {
    if (!m_editor) {
      report(k_name, text);
      return;
    }
    flush();
    m_editor->print_above("ipcat: " + std::string(k_name) + ": " + text + "\n", STDERR_FILENO);
  }

  const ConnectArgs& m_args;
  ipc::ClientConnection& m_conn;
  ipc::OutputWriter m_stdout;
  std::optional<ipc::LineEditor> m_editor;
  ipc::LineDecoder m_input{64 * 1024 * 1024};
  std::string m_to_server;
  std::string m_out;
  std::size_t m_line_number = 0;
  std::size_t m_received = 0;
  int m_status = k_ok;
};

int run(ConnectArgs& a) {
  ipc::Deadline deadline = ipc::Deadline::after(a.timeout.limit());
  std::optional<std::string> body;
  if (!a.words.empty()) body = ipc::body_from_words(a.words, a.max_depth);
  ipc::Address address = ipc::client_address(a.address);
  ipc::ConnectOptions co;
  co.retries = a.retries;
  co.backoff = a.backoff.duration();
  if (a.verbose > 0) {
    co.on_retry = [&](const std::string& why, std::chrono::milliseconds wait) {
      report(k_name, address.display() + ": " + why + "; retrying in " + ipc::duration_text(wait));
    };
  }
  std::optional<ipc::AuthKey> key;
  if (!a.authkey_file.empty()) key = ipc::AuthKey::load(a.authkey_file);
  auto conn = ipc::ClientConnection::connect(address, co, deadline);
  if (key) conn.authenticate(*key, deadline);
  conn.set_max_line(a.max_line);
  if (a.verbose > 0) report(k_name, "connected to " + conn.display() + " (server " + conn.server_peer().describe() + ")");
  Session session(a, conn);
  return session.run(body);
}

int run_command(int argc, char** argv) {
  ConnectArgs a;
  auto app = make_app(std::string(k_name),
                      "Open a JSON-line session: send BODY and stdin lines, print every line the server sends.\n\n"
                      "Usage: ipcat connect [OPTIONS] ADDRESS [BODY | ITEM...]");
  app->add_option("address", a.address, "Server address: PATH, unix:PATH, @name, tcp:HOST:PORT")->required();
  app->allow_extras();
  add_seconds(*app, "--timeout", a.timeout, "Seconds for connecting (and the handshake); 0 = none");
  app->add_option("--retries", a.retries, "Connect retries while the server is not there yet")
      ->default_val(a.retries)
      ->check(count_check());
  add_seconds(*app, "--backoff", a.backoff, "Seconds before the first retry (doubling)");
  app->add_option("--authkey-file", a.authkey_file, "Authenticate with the HMAC-SHA256 handshake using this key (mode 0600)");
  app->add_option("-n,--count", a.count, "End after N lines received")->check(positive_check());
  add_seconds(*app, "--idle", a.idle, "End after SEC without traffic either way; 0 = never");
  add_seconds(*app, "--linger", a.linger, "After stdin's end, end within SEC (default: when the server closes)");
  app->add_flag("--timestamps", a.timestamps, "Prefix each line received with its UTC time");
  app->add_flag("-p,--pretty", a.pretty, "Indent what the server sends");
  app->add_option("--max-line", a.max_line, "Longest line accepted from the server, in bytes")
      ->default_val(a.max_line)
      ->check(positive_check());
  app->add_option("--max-depth", a.max_depth, "Deepest nesting accepted")
      ->default_val(a.max_depth)
      ->check(positive_check());
  add_verbosity(*app, a.verbose, a.quiet);
  app->footer(
      "On a terminal, lines are edited and kept in a history (libedit). A stdin line that is not\n"
      "JSON is reported and not sent. Exit: 0 when the session ended (server closed, -n, --idle,\n"
      "--linger), 64 usage, 65 bad BODY, 66 no such socket, 69 refused, 74 I/O error,\n"
      "75 timeout connecting, 77 permission denied / Forbidden.");
  if (auto stop = parse(*app, argc, argv)) return *stop;
  try {
    a.words = body_words(*app);
    return run(a);
  } catch (...) {
    return fail(k_name);
  }
}

}  // namespace
}  // namespace connect_detail

int cmd_connect(int argc, char** argv) { return connect_detail::run_command(argc, argv); }

}  // namespace cli
