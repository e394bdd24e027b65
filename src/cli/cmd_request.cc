// ipcat request / ipcat notify: words or stdin lines -> JSON lines on one connection.
//
// What a reply is, and which ones are errors, is in man/ipcat.1 (ipcat request):
// replies are read without building a DOM (json_text.h, reply_rules.h) and
// printed byte-exact; only whitespace outside strings is removed.

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "ipc/net/address.h"
#include "ipc/wire/auth.h"
#include "ipc/client/client.h"
#include "ipc/base/error.h"
#include "ipc/wire/line_decoder.h"
#include "ipc/wire/json_text.h"
#include "ipc/client/output_writer.h"
#include "ipc/wire/reply_rules.h"
#include "ipc/wire/request_body.h"
#include "ipc/base/duration.h"

namespace cli {
// Named, so that the CLI builds as one unity file (CMakeLists.txt: start-up cost).
namespace request_detail {
namespace {

using Clock = std::chrono::steady_clock;

struct RequestArgs {
  std::string address;
  std::vector<std::string> words;
  Seconds timeout{5};
  int retries = 3;
  Seconds backoff{0.5};
  bool pretty = false;
  bool raw = false;
  int verbose = 0;
  bool quiet = false;
  std::size_t max_line = 64 * 1024 * 1024;
  std::size_t max_depth = ipc::k_default_max_depth;
  std::string match;
  std::string authkey_file;
};

void add_options(CLI::App& app, RequestArgs& a, bool reads_replies) {
  app.add_option("address", a.address, "Server address: PATH, unix:PATH, @name, tcp:HOST:PORT")->required();
  // BODY and ITEMs are taken from what CLI11 leaves over (see run_command): as an
  // option, CLI11 would split a '[1,2]' BODY into list items.
  app.allow_extras();
  add_seconds(app, "--timeout", a.timeout,
              reads_replies ? "Seconds: the whole command with a BODY; each wait for a reply with stdin; 0 = none"
                            : "Seconds for the whole command; 0 = none");
  app.add_option("--retries", a.retries, "Connect retries while the server is not there yet")
      ->default_val(a.retries)
      ->check(count_check());
  add_seconds(app, "--backoff", a.backoff, "Seconds before the first retry (doubling)");
  app.add_option("--authkey-file", a.authkey_file, "Authenticate with the HMAC-SHA256 handshake using this key (mode 0600)");
  app.add_option("--max-depth", a.max_depth, "Deepest nesting accepted in requests and replies")
      ->default_val(a.max_depth)
      ->check(positive_check());
  if (reads_replies) {
    app.add_option("--match", a.match, "Pair replies with requests by this member (request_id, id); others are not replies");
    app.add_flag("-p,--pretty", a.pretty, "Indent replies");
    app.add_flag("-r,--raw", a.raw, "Print a string reply without quotes");
    app.add_option("--max-line", a.max_line, "Longest reply line accepted, in bytes")
        ->default_val(a.max_line)
        ->check(positive_check());
  }
  add_verbosity(app, a.verbose, a.quiet);
}


double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

void say(const std::string& name, const std::string& text) { report(name, text); }

ipc::ClientConnection connect(const std::string& name, const RequestArgs& a, const ipc::Deadline& deadline) {
  ipc::Address address = ipc::client_address(a.address);
  ipc::ConnectOptions co;
  co.retries = a.retries;
  co.backoff = a.backoff.duration();
  if (a.verbose > 0) {
    co.on_retry = [&](const std::string& why, std::chrono::milliseconds wait) {
      say(name, address.display() + ": " + why + "; retrying in " + ipc::duration_text(wait));
    };
  }
  // The key is checked before connecting: a bad key file is the user's error, not the server's.
  std::optional<ipc::AuthKey> key;
  if (!a.authkey_file.empty()) key = ipc::AuthKey::load(a.authkey_file);
  auto t0 = Clock::now();
  auto conn = ipc::ClientConnection::connect(address, co, deadline);
  if (key) conn.authenticate(*key, deadline);
  if (a.verbose > 0) {
    ipc::PeerInfo peer = conn.server_peer();
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.3f", ms_since(t0));
    say(name, "connected to " + conn.display() + " (server " + peer.describe() + ") in " + ms + " ms");
  }
  return conn;
}

/// Whether to look for a run of lines that pass as they are (compact_lines) now:
/// after a miss, the next lines go one at a time for a while (1, 3, 7, ... up to
/// 1024 of them), so input that never passes (spaced lines, error replies) is not
/// scanned twice a line. Only the speed depends on it, never the bytes.
class RunBackoff {
 public:
  bool try_now() noexcept {
    if (m_wait == 0) return true;
    --m_wait;
    return false;
  }
  void took(std::size_t lines) noexcept {
    if (lines > 0) {
      m_misses = 0;
    } else {
      m_misses = std::min<std::size_t>(m_misses * 2 + 1, 1024);
      m_wait = m_misses;
    }
  }

 private:
  std::size_t m_misses = 0;
  std::size_t m_wait = 0;
};

/// Appends stdin line `number` to `out` as a request: compact, byte-exact, with
/// its '\n'; numbered by --match when it lacks the key. -vv shows it.
class RequestWriter {
 public:
  RequestWriter(const std::string& name, const RequestArgs& a, ipc::ReplyMatcher* matcher)
      : m_name(name), m_args(a), m_matcher(matcher) {}

  void operator()(std::string_view line, std::size_t number, std::string& out) {
    std::size_t start = out.size();
    append(ipc::strip_bom(line), out, number);
    ++m_sent;
    if (m_args.verbose > 1) say(m_name, "> " + out.substr(start, out.size() - start - 1));
  }

  /// A run of stdin lines that go out as they are (pipeline(): prepare_run):
  /// already compact, so appending them in one copy gives the bytes operator()
  /// would, line by line. Without --match and -vv only (they look at each line).
  std::size_t run(std::string_view lines, std::size_t max_line, std::size_t& number, std::string& out) {
    if (lines.empty() || !m_backoff.try_now()) return 0;
    auto run = ipc::compact_lines(lines, max_line, m_args.max_depth);
    m_backoff.took(run.lines);
    out.append(lines.data(), run.bytes);
    number += run.lines;
    m_sent += run.lines;
    return run.bytes;
  }

  /// The same for a BODY (already compact).
  void body(std::string_view text, std::string& out) {
    append(text, out, 0);
    ++m_sent;
    if (m_args.verbose > 1) say(m_name, "> " + out.substr(0, out.size() - 1));
  }

  std::size_t sent() const noexcept { return m_sent; }

 private:
  /// `line` 0 is the BODY. What a message names is only built for an error.
  void append(std::string_view text, std::string& out, std::size_t line) {
    auto what = [line] { return line == 0 ? std::string("the request") : "stdin line " + std::to_string(line); };
    std::size_t number = line == 0 ? 1 : line;
    if (!m_matcher) {
      auto check = ipc::minify_json(text, out, m_args.max_depth);
      if (!check) throw ipc::Error(ipc::ErrorKind::invalid_input, what() + ": not valid JSON: " + check.why);
    } else {
      m_scratch.clear();
      auto check = ipc::minify_json(text, m_scratch, m_args.max_depth);
      if (!check) throw ipc::Error(ipc::ErrorKind::invalid_input, what() + ": not valid JSON: " + check.why);
      if (!m_matcher->prepare_into(m_scratch, number, out))
        throw ipc::Error(ipc::ErrorKind::invalid_input, what() + ": with --match, a request must be an object");
    }
    out += '\n';
  }

  const std::string& m_name;
  const RequestArgs& m_args;
  ipc::ReplyMatcher* m_matcher;
  std::string m_scratch;
  std::size_t m_sent = 0;
  RunBackoff m_backoff;
};

/// Takes the server's lines: tells replies from pushed lines (--match), keeps the
/// exit status they add up to, and buffers the output (written by flush()).
class ReplyReader {
 public:
  ReplyReader(const std::string& name, const RequestArgs& a, std::string address, ipc::ReplyMatcher* matcher)
      : m_name(name), m_args(a), m_address(std::move(address)), m_matcher(matcher), m_stdout(STDOUT_FILENO, "stdout") {}

  /// One line from the server; true when it was a reply (not a pushed line).
  bool operator()(std::string_view line) {
    if (m_args.verbose > 1) say(m_name, "< " + std::string(line));
    // Without a key, an authkey server's first line is its challenge, not a reply.
    // (A challenge is a short line: a long first line is not parsed for one.)
    if (m_lines++ == 0 && m_args.authkey_file.empty() && line.size() < 4096 && ipc::parse_challenge(line))
      throw ipc::Error(ipc::ErrorKind::permission, m_address + ": the server requires the authkey handshake (use --authkey-file)");
    // One pass: valid, and has it an "error" member (the one a verdict needs first)?
    auto check = ipc::check_json(line, m_args.max_depth, "error");
    if (!check) throw ipc::Error(ipc::ErrorKind::protocol, m_address + ": reply is not JSON: " + check.why);
    auto verdict = ipc::judge_reply(line, check.has_key);
    if (m_matcher && !m_matcher->take(line)) {
      // A Forbidden line answers whatever we sent: the server closes after it.
      if (verdict != ipc::ReplyVerdict::forbidden) {
        if (m_args.verbose > 0) say(m_name, m_address + ": not a reply (no request with this " + m_matcher->key() + "): " + std::string(line));
        return false;
      }
    }
    ++m_count;
    if (verdict == ipc::ReplyVerdict::forbidden) {
      m_status = std::max(m_status, int{k_no_perm});
      m_forbidden = ipc::error_message(line);
      if (m_forbidden->empty()) m_forbidden = "forbidden";
    } else if (verdict == ipc::ReplyVerdict::error) {
      m_status = std::max(m_status, int{k_error_reply});
    }
    if (m_args.quiet) return true;
    if (m_args.raw && ipc::json_type(line) == ipc::JsonType::string) {
      m_out += ipc::json_string_value(line).value_or(std::string());
    } else if (m_args.pretty) {
      m_out += ipc::pretty_json(line);
    } else if (check.compact && line.size() >= k_direct_write) {
      // A big reply goes out from the receive buffer, not copied first.
      flush_buffer();
      write_out(line);
      write_out("\n");
      return true;
    } else if (check.compact) {
      m_out += line;
    } else {
      ipc::minify_json(line, m_out, m_args.max_depth);
    }
    m_out += '\n';
    return true;
  }

  /// A run of the server's lines taken at once (pipeline(): on_run): those that
  /// are valid, compact and without an "error" member, so each is a reply with
  /// verdict ok, printed as it is. Not the first line (it may be a challenge),
  /// not with --match, -vv, --raw or --pretty (they look at each line).
  std::size_t run(std::string_view lines) {
    if (m_lines == 0 || lines.empty() || !m_backoff.try_now()) return 0;
    auto run = ipc::compact_lines(lines, m_args.max_line, m_args.max_depth, "error");
    m_backoff.took(run.lines);
    if (run.lines == 0) return 0;
    m_lines += run.lines;
    m_count += run.lines;
    if (m_args.quiet) return run.bytes;
    std::string_view text = lines.substr(0, run.bytes);
    if (text.size() >= k_direct_write) {
      // Big replies go out from the receive buffer, not copied first.
      flush_buffer();
      write_out(text);
    } else {
      m_out += text;
    }
    return run.bytes;
  }

  /// How long a blocked stdout may hold a write: each write, at most `limit`
  /// without progress (stdin mode), or everything by `deadline` (BODY mode).
  void bound_by(std::optional<std::chrono::milliseconds> limit) { m_limit = limit; }
  void bound_by(const ipc::Deadline& deadline) {
    if (!deadline.is_never()) m_deadline = deadline.at();
  }

  /// Writes the buffered output.
  void flush_buffer() {
    if (m_out.empty()) return;
    write_out(m_out);
    m_out.clear();
  }

  int status() const noexcept { return m_status; }
  std::size_t count() const noexcept { return m_count; }
  const std::optional<std::string>& forbidden() const noexcept { return m_forbidden; }

 private:
  static constexpr std::size_t k_direct_write = 64 * 1024;

  void write_out(std::string_view text) {
    if (m_deadline) {
      m_stdout.write_all_until(text, *m_deadline);
    } else {
      m_stdout.write_all(text, m_limit);
    }
  }

  const std::string& m_name;
  const RequestArgs& m_args;
  std::string m_address;
  std::optional<std::chrono::milliseconds> m_limit;
  std::optional<std::chrono::steady_clock::time_point> m_deadline;
  ipc::ReplyMatcher* m_matcher;
  ipc::OutputWriter m_stdout;
  std::string m_out;
  int m_status = k_ok;
  std::size_t m_lines = 0;
  std::size_t m_count = 0;
  std::optional<std::string> m_forbidden;
  RunBackoff m_backoff;
};

int run_request(RequestArgs& a) {
  const std::string name = "request";
  auto limit = a.timeout.limit();
  ipc::Deadline deadline = ipc::Deadline::after(limit);
  std::optional<std::string> body;
  if (!a.words.empty()) body = ipc::body_from_words(a.words, a.max_depth);

  auto conn = connect(name, a, deadline);
  conn.set_max_line(a.max_line);
  std::optional<ipc::ReplyMatcher> matcher;
  if (!a.match.empty()) matcher.emplace(a.match);
  RequestWriter writer(name, a, matcher ? &*matcher : nullptr);
  ReplyReader replies(name, a, conn.display(), matcher ? &*matcher : nullptr);
  if (body) {
    replies.bound_by(deadline);
  } else {
    replies.bound_by(limit);
  }
  auto t0 = Clock::now();
  try {
    if (body) {
      std::string out;
      writer.body(*body, out);
      try {
        conn.write_all(out, deadline);
        conn.shutdown_write();
      } catch (const ipc::Error& e) {
        // A server that refuses us (Forbidden) may have closed before our write:
        // its reply is still there to read.
        if (e.kind() != ipc::ErrorKind::io) throw;
      }
      // Lines a server pushes before the reply (--match) are read past.
      for (bool answered = false; !answered;) {
        auto reply = conn.read_line(deadline);
        if (!reply)
          throw ipc::Error(ipc::ErrorKind::protocol, conn.display() + ": connection closed before a reply");
        answered = replies(*reply);
        replies.flush_buffer();
      }
    } else {
      ipc::PipelineHooks hooks;
      hooks.prepare = std::ref(writer);
      hooks.on_line = [&](std::string_view line) { replies(line); };
      // Runs of lines that pass as they are skip the per-line work (and copies).
      if (!matcher && a.verbose <= 1) {
        hooks.prepare_run = [&](std::string_view lines, std::size_t max_line, std::size_t& number, std::string& out) {
          return writer.run(lines, max_line, number, out);
        };
        if (!a.raw && !a.pretty) hooks.on_run = [&](std::string_view lines) { return replies.run(lines); };
      }
      hooks.outstanding = [&]() -> std::size_t {
        if (matcher) return matcher->outstanding();
        return writer.sent() > replies.count() ? writer.sent() - replies.count() : 0;
      };
      hooks.flush = [&] { replies.flush_buffer(); };
      ipc::pipeline(conn, STDIN_FILENO, hooks, limit);
      if (writer.sent() > 0 && replies.count() == 0)
        throw ipc::Error(ipc::ErrorKind::protocol, conn.display() + ": connection closed before a reply");
    }
  } catch (const ipc::Error&) {
    // A Forbidden reply explains the reset that followed it.
    if (replies.forbidden()) throw ipc::Error(ipc::ErrorKind::permission, conn.display() + ": " + *replies.forbidden());
    throw;
  }
  if (a.verbose > 0) {
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.3f", ms_since(t0));
    say(name, std::to_string(replies.count()) + " repl" + (replies.count() == 1 ? "y" : "ies") + " in " + ms + " ms");
  }
  if (replies.forbidden()) {
    report(name, conn.display() + ": " + *replies.forbidden());
  }
  return replies.status();
}

/// After notify sent everything: waits (briefly) until the server has taken it,
/// then looks at what the server said meanwhile. A refusal — a Forbidden line, or
/// an authkey challenge we cannot answer — comes before the server reads a byte,
/// so once our bytes are read (or the server closed) it is already here.
void check_refusal(const std::string& name, ipc::ClientConnection& conn, const RequestArgs& a,
                   const ipc::Deadline& deadline) {
  // A server that never reads must not hold notify: at most a second.
  ipc::Deadline grace(std::chrono::milliseconds(std::min(deadline.is_never() ? 1000 : deadline.remaining_ms(), 1000)));
  int nap_ms = 0;
  for (;;) {
    if (conn.unread_by_peer() == 0) break;
    pollfd p{conn.fd(), POLLIN, 0};
    int rc = ::poll(&p, 1, std::min(nap_ms, grace.remaining_ms()));
    if (rc > 0 || grace.expired()) break;
    nap_ms = std::min(nap_ms * 2 + 1, 50);
  }
  try {
    conn.read_available();
  } catch (const ipc::Error&) {
    // A reset after the server read everything: nothing more to learn.
  }
  std::string_view line;
  if (!conn.next_line(line)) return;
  if (a.authkey_file.empty() && ipc::parse_challenge(line))
    throw ipc::Error(ipc::ErrorKind::permission, conn.display() + ": the server requires the authkey handshake (use --authkey-file)");
  if (ipc::check_json(line, a.max_depth) && ipc::judge_reply(line) == ipc::ReplyVerdict::forbidden) {
    std::string why = ipc::error_message(line);
    throw ipc::Error(ipc::ErrorKind::permission, conn.display() + ": " + (why.empty() ? "forbidden" : why));
  }
  (void)name;
}

int run_notify(RequestArgs& a) {
  const std::string name = "notify";
  ipc::Deadline deadline = ipc::Deadline::after(a.timeout.limit());
  std::optional<std::string> body;
  if (!a.words.empty()) body = ipc::body_from_words(a.words, a.max_depth);
  auto conn = connect(name, a, deadline);
  RequestWriter writer(name, a, nullptr);
  auto send = [&](const std::string& out) {
    try {
      conn.write_all(out, deadline);
    } catch (const ipc::Error& e) {
      // Refused before our write: the server's line says why.
      if (e.kind() == ipc::ErrorKind::io) check_refusal(name, conn, a, deadline);
      throw;
    }
  };
  if (body) {
    std::string out;
    writer.body(*body, out);
    send(out);
  } else {
    ipc::LineDecoder input(64 * 1024 * 1024);
    std::size_t number = 0;
    std::string out;
    char buf[65536];
    for (bool eof = false; !eof;) {
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) ipc::throw_errno("stdin", errno);
      if (n == 0) {
        eof = true;
        input.finish();
      } else {
        input.feed(std::string_view(buf, static_cast<std::size_t>(n)));
      }
      for (auto r = input.next(); r.status == ipc::LineDecoder::Status::line; r = input.next()) {
        try {
          writer(r.line, ++number, out);
        } catch (const ipc::Error&) {
          // The lines before the bad one go out; none after it.
          send(out);
          conn.shutdown_write();
          throw;
        }
      }
      send(out);
      out.clear();
    }
  }
  conn.shutdown_write();
  check_refusal(name, conn, a, deadline);
  return k_ok;
}

int run_command(int argc, char** argv, bool is_request) {
  RequestArgs a;
  const std::string name = is_request ? "request" : "notify";
  // Probes call `ipcat request SOCK BODY` thousands of times: with no option
  // given there is nothing to parse, so skip building the option table (a third
  // of a one-shot's instructions).
  bool plain = argc >= 2;
  for (int i = 1; i < argc && plain; ++i) plain = argv[i][0] != '-';
  if (plain) {
    a.address = argv[1];
    a.words.assign(argv + 2, argv + argc);
    try {
      return is_request ? run_request(a) : run_notify(a);
    } catch (...) {
      return fail(name);
    }
  }
  auto app = make_app(name, is_request ? "Send JSON-line requests and print the replies, one per line.\n\n"
                                         "Usage: ipcat request [OPTIONS] ADDRESS [BODY | ITEM...]"
                                       : "Send JSON-line requests and close without reading replies.\n\n"
                                         "Usage: ipcat notify [OPTIONS] ADDRESS [BODY | ITEM...]");
  add_options(*app, a, is_request);
  app->footer(is_request
                  ? "BODY is one JSON text; ITEMs build an object: key=string key:=json key=@file key:=@file.\n"
                    "With no BODY or ITEM, every stdin line is a request, all sent over one connection;\n"
                    "replies are printed in order. Exit: 0 ok, 1 an error reply, 64 usage, 65 bad JSON,\n"
                    "66 no such socket, 69 refused, 74 I/O error, 75 timeout, 76 no or bad reply,\n"
                    "77 permission denied / Forbidden."
                  : "BODY is one JSON text; ITEMs build an object: key=string key:=json key=@file key:=@file.\n"
                    "With no BODY or ITEM, every stdin line is sent. Exit: 0 sent, 64 usage, 65 bad JSON,\n"
                    "66 no such socket, 69 refused, 74 I/O error, 75 timeout, 77 permission denied / Forbidden.");
  if (auto stop = parse(*app, argc, argv)) return *stop;
  try {
    a.words = body_words(*app);
    return is_request ? run_request(a) : run_notify(a);
  } catch (...) {
    return fail(name);
  }
}

}  // namespace
}  // namespace request_detail

int cmd_request(int argc, char** argv) { return request_detail::run_command(argc, argv, true); }
int cmd_notify(int argc, char** argv) { return request_detail::run_command(argc, argv, false); }

}  // namespace cli
