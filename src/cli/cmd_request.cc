// ipcat request / ipcat notify: words or stdin lines -> JSON lines on one connection.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/options.h"
#include "ipc/address.h"
#include "ipc/auth.h"
#include "ipc/client.h"
#include "ipc/error.h"
#include "ipc/json_lines.h"
#include "ipc/request_body.h"

namespace cli {
// Named, so that the CLI builds as one unity file (CMakeLists.txt: start-up cost).
namespace request_detail {
namespace {

using Clock = std::chrono::steady_clock;

struct RequestArgs {
  std::string address;
  std::vector<std::string> words;
  double timeout = 5;
  int retries = 3;
  double backoff = 0.5;
  bool pretty = false;
  bool raw = false;
  int verbose = 0;
  bool quiet = false;
  std::size_t max_line = 64 * 1024 * 1024;
  std::string authkey_file;
};

void add_options(CLI::App& app, RequestArgs& a, bool reads_replies) {
  app.add_option("address", a.address, "Server address: PATH, unix:PATH, @name, tcp:HOST:PORT")->required();
  // BODY and ITEMs are taken from what CLI11 leaves over (see run_command): as an
  // option, CLI11 would split a '[1,2]' BODY into list items.
  app.allow_extras();
  app.add_option("--timeout", a.timeout, "Seconds for the whole command: connecting, retries, replies")
      ->default_val(a.timeout);
  app.add_option("--retries", a.retries, "Connect retries while the server is not there yet")
      ->default_val(a.retries)
      ->check(CLI::NonNegativeNumber);
  app.add_option("--backoff", a.backoff, "Seconds before the first retry (doubling)")->default_val(a.backoff);
  app.add_option("--authkey-file", a.authkey_file, "Authenticate with the HMAC-SHA256 handshake using this key (mode 0600)");
  if (reads_replies) {
    app.add_flag("-p,--pretty", a.pretty, "Indent replies");
    app.add_flag("-r,--raw", a.raw, "Print a string reply without quotes");
    app.add_option("--max-line", a.max_line, "Longest reply line accepted, in bytes")
        ->default_val(a.max_line)
        ->check(CLI::PositiveNumber);
  }
  add_verbosity(app, a.verbose, a.quiet);
}

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

void say(const std::string& name, const std::string& text) { report(name, text); }

ipc::ClientConnection connect(const std::string& name, const RequestArgs& a, const ipc::Deadline& deadline) {
  ipc::Address address = ipc::parse_address(a.address);
  ipc::ConnectOptions co;
  co.retries = a.retries;
  co.backoff = seconds_option(a.backoff, "--backoff");
  if (a.verbose > 0) {
    co.on_retry = [&](const std::string& why, std::chrono::milliseconds wait) {
      say(name, address.display() + ": " + why + "; retrying in " + std::to_string(wait.count()) + " ms");
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

/// Validates one stdin line as a request and returns it compact.
std::string prepare_line(std::string_view line, std::size_t number) {
  std::string why;
  auto compact = ipc::compact_form(line, &why);
  if (!compact) throw ipc::Error(ipc::ErrorKind::invalid_input, "stdin line " + std::to_string(number) + ": not valid JSON: " + why);
  return std::move(*compact);
}

/// Prints replies and keeps the exit status they add up to.
class ReplyPrinter {
 public:
  explicit ReplyPrinter(const RequestArgs& a) : m_args(a) {}

  void operator()(std::string_view line) {
    // Without a key, an authkey server's first line is its challenge, not a reply.
    if (m_count == 0 && m_args.authkey_file.empty() && ipc::parse_challenge(line))
      throw ipc::Error(ipc::ErrorKind::permission, m_args.address + ": the server requires the authkey handshake (use --authkey-file)");
    std::string why;
    auto v = ipc::parse_json(line, &why);
    if (!v) throw ipc::Error(ipc::ErrorKind::protocol, "reply is not JSON: " + why);
    ++m_count;
    if (v->is_object() && v->contains("error")) {
      auto type = v->value("type", std::string());
      m_status = std::max(m_status, type == "Forbidden" ? int{k_no_perm} : int{k_error_reply});
      if (type == "Forbidden") m_forbidden = v->value("error", std::string("forbidden"));
    }
    if (m_args.quiet) return;
    std::string out;
    if (m_args.raw && v->is_string()) {
      out = v->get<std::string>();
    } else if (m_args.pretty) {
      out = v->dump(2, ' ', false, ipc::Json::error_handler_t::replace);
    } else {
      out = ipc::encode(*v);
    }
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  }

  int status() const noexcept { return m_status; }
  std::size_t count() const noexcept { return m_count; }
  const std::optional<std::string>& forbidden() const noexcept { return m_forbidden; }

 private:
  const RequestArgs& m_args;
  int m_status = k_ok;
  std::size_t m_count = 0;
  std::optional<std::string> m_forbidden;
};

int run_request(RequestArgs& a) {
  const std::string name = "request";
  ipc::Deadline deadline(seconds_option(a.timeout, "--timeout"));
  std::optional<std::string> body;
  if (!a.words.empty()) body = ipc::body_from_words(a.words);

  auto conn = connect(name, a, deadline);
  conn.set_max_line(a.max_line);
  ReplyPrinter printer(a);
  auto t0 = Clock::now();
  try {
    if (body) {
      try {
        conn.write_all(*body + "\n", deadline);
        conn.shutdown_write();
      } catch (const ipc::Error& e) {
        // A server that refuses us (Forbidden) may have closed before our write:
        // its reply is still there to read.
        if (e.kind() != ipc::ErrorKind::io) throw;
      }
      auto reply = conn.read_line(deadline);
      if (!reply)
        throw ipc::Error(ipc::ErrorKind::protocol, conn.display() + ": connection closed before a reply");
      printer(*reply);
    } else {
      ipc::pipeline(conn, STDIN_FILENO, prepare_line, std::ref(printer), deadline);
    }
  } catch (const ipc::Error&) {
    // A Forbidden reply explains the reset that followed it.
    if (printer.forbidden()) throw ipc::Error(ipc::ErrorKind::permission, conn.display() + ": " + *printer.forbidden());
    throw;
  }
  if (a.verbose > 0) {
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.3f", ms_since(t0));
    say(name, std::to_string(printer.count()) + " repl" + (printer.count() == 1 ? "y" : "ies") + " in " + ms + " ms");
  }
  if (printer.forbidden()) {
    report(name, conn.display() + ": " + *printer.forbidden());
  }
  return printer.status();
}

int run_notify(RequestArgs& a) {
  const std::string name = "notify";
  ipc::Deadline deadline(seconds_option(a.timeout, "--timeout"));
  std::optional<std::string> body;
  if (!a.words.empty()) body = ipc::body_from_words(a.words);
  auto conn = connect(name, a, deadline);
  if (body) {
    conn.write_all(*body + "\n", deadline);
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
          out += prepare_line(r.line, ++number);
        } catch (const ipc::Error&) {
          // The lines before the bad one go out; none after it.
          conn.write_all(out, deadline);
          conn.shutdown_write();
          throw;
        }
        out += '\n';
      }
      conn.write_all(out, deadline);
      out.clear();
    }
  }
  conn.shutdown_write();
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
                    "66 no such socket, 69 refused, 74 I/O error, 75 timeout, 77 permission denied.");
  if (auto stop = parse(*app, argc, argv)) return *stop;
  a.words = app->remaining();
  if (!a.words.empty() && a.words.front() == "--") a.words.erase(a.words.begin());
  try {
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
