// ipcat fifo-recv [OPTIONS] PATH  (man/ipcat.1, ipcat fifo-recv)
//
//   parse ─► ensure_fifo: mkfifo 0600 + parents (73/77), refuse a non-FIFO untouched (73),
//            a symlink, another user's FIFO or one others may write (77)
//     ─► open_fifo_reader (read-write: no EOF when writers come and go)
//     ─► FifoReader::next() ─┬─ message ─► stdout (queued while more lines are ready)
//           ▲                ├─ invalid ─► stderr "skipped invalid line N: why"
//           └── until N ─────┼─ timeout ─► 75 (fewer than N; --follow: none at all)
//               (or forever) └─ SIGINT/TERM/HUP ─► --follow: 0; else die by the signal

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <optional>
#include <string>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/options.h"
#include "ipc/base/error.h"
#include "ipc/fifo/fifo.h"
#include "ipc/fifo/fifo_reader.h"
#include "ipc/wire/line_decoder.h"
#include "ipc/wire/json_text.h"
#include "ipc/wire/json_value.h"
#include "ipc/base/duration.h"

namespace cli {
// Named, so that the CLI builds as one unity file (CMakeLists.txt: start-up cost).
namespace fifo_recv_detail {
namespace {

constexpr const char* k_name = "fifo-recv";
constexpr std::size_t k_output_batch = 64 * 1024;

constexpr const char* k_description =
    "Receive JSON messages from a FIFO (named pipe): the next one, the next N, or\n"
    "all of them as they come.\n";

constexpr const char* k_footer =
    "PATH is created if missing (mode 0600 whatever the umask, or --mode; parent\n"
    "directories made) and left in place; a path that exists and is not a FIFO is\n"
    "refused and left untouched (73). An existing FIFO is used only if it is not a\n"
    "symlink, is ours (or root's), and lets group and others write no more than\n"
    "--mode does; otherwise it is refused and left untouched (77).\n\n"
    "Each message is printed on one line as compact JSON (-r: a string message as\n"
    "its bare text). Only the bytes of the messages printed are taken from the FIFO:\n"
    "what follows them stays there for the next reader (as long as some process\n"
    "keeps the FIFO open: the kernel drops a FIFO's bytes when the last one closes).\n"
    "A message counts once its newline arrives (fifo-send always ends lines).\n"
    "Blank lines are skipped. Invalid lines (not JSON, or longer than --max-line) are\n"
    "reported on stderr with their line number and skipped; they do not count in -n.\n\n"
    "The FIFO is held open read-write, so writers may come and go: the command waits\n"
    "for the next writer instead of ending at EOF, forever unless --timeout. With\n"
    "--timeout SEC it stops once no message arrived for SEC seconds: exit 75 if fewer\n"
    "than N messages were printed (with --follow: if none was). --timeout 0: no limit.\n\n"
    "SIGINT, SIGTERM or SIGHUP end --follow with status 0, after the message in hand\n"
    "is printed; otherwise the command dies by the signal. Either way a FIFO made\n"
    "with --remove is removed first.\n\n"
    "Exit status: 0 ok; 64 usage; 66 PATH vanished; 73 cannot create PATH, or it is\n"
    "not a FIFO; 74 stdout closed; 75 timed out; 77 permission denied, or a FIFO\n"
    "refused (symlink, owner, mode).";

struct Options {
  std::string path;
  std::size_t count = 1;
  bool follow = false;
  std::optional<Seconds> timeout;
  bool raw = false;
  bool quiet = false;
  std::string mode = "0600";
  bool remove = false;
  std::size_t max_line = ipc::k_default_max_line;
  std::size_t max_depth = ipc::k_default_max_depth;
};

// -q: "Print nothing, not even errors: the exit status tells" (man/ipcat.1, ipcat fifo-recv).
void silence_stderr() {
  int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null < 0) return;
  ::dup2(null, STDERR_FILENO);
  ::close(null);
}


class Output {
 public:
  explicit Output(const ipc::StopSignals& stop) : m_stop(stop) {}
  /// `text` is compact JSON; with `raw`, a string is printed without quotes.
  void add(const std::string& text, bool raw) {
    if (raw && !text.empty() && text.front() == '"') {
      m_buf += ipc::Json::parse(text).get_ref<const std::string&>();
    } else {
      m_buf += text;
    }
    m_buf += '\n';
  }
  std::size_t size() const { return m_buf.size(); }
  void flush() {
    if (m_buf.empty()) return;
    ipc::write_all(STDOUT_FILENO, m_buf, "stdout", &m_stop);
    m_buf.clear();
  }

 private:
  const ipc::StopSignals& m_stop;
  std::string m_buf;
};

int receive(const Options& o, const ipc::StopSignals& stop, ipc::FifoRemover& remover) {
  const mode_t mode = mode_option(o.mode, "--mode");
  ipc::EnsuredFifo fifo = ipc::ensure_fifo(o.path, mode);
  if (o.remove && fifo.created) remover = ipc::FifoRemover(o.path, fifo.id);

  ipc::ReaderOptions reader_options;
  if (!o.follow) reader_options.limit = o.count;
  reader_options.max_line = o.max_line;
  reader_options.max_depth = o.max_depth;
  ipc::FifoReader reader(ipc::open_fifo_reader(o.path, mode), o.path, reader_options);

  Output out(stop);
  std::size_t printed = 0;
  std::size_t skipped = 0;
  // A limit: 0 is none, as without --timeout (man/ipcat.1, "Durations").
  const std::optional<std::chrono::milliseconds> limit = o.timeout ? o.timeout->limit() : std::nullopt;
  auto idle_deadline = [&] { return ipc::Deadline::after(limit); };
  ipc::Deadline deadline = idle_deadline();
  int status = k_ok;
  while (o.follow || printed < o.count) {
    // Output waits only while more lines are at hand: a consumer loop sees each
    // message as soon as the reader would block, a burst costs few writes.
    if (!reader.line_ready()) out.flush();
    ipc::FifoReader::Event event = reader.next(deadline, &stop);
    using Kind = ipc::FifoReader::Event::Kind;
    if (event.kind == Kind::message) {
      ++printed;
      if (!o.quiet) out.add(event.value, o.raw);
      if (out.size() >= k_output_batch) out.flush();
      deadline = idle_deadline();
    } else if (event.kind == Kind::invalid) {
      ++skipped;
      report(k_name,
             o.path + ": skipped invalid line " + std::to_string(event.line) + ": " + event.why);
    } else if (event.kind == Kind::timeout) {
      if (!o.follow || printed == 0) {
        std::string message = o.path + ": timed out: no message within " + ipc::duration_text(*limit);
        if (!o.follow)
          message +=
              " (printed " + std::to_string(printed) + " of " + std::to_string(o.count) + ")";
        report(k_name, message);
        status = k_temp_fail;
      }
      break;
    } else {
      break;  // a stop signal: the caller decides how to end
    }
  }
  out.flush();
  if (skipped > 0)
    report(k_name, o.path + ": skipped " + std::to_string(skipped) + " invalid line(s)");
  return status;
}

}  // namespace
}  // namespace fifo_recv_detail

int cmd_fifo_recv(int argc, char** argv) {
  using namespace fifo_recv_detail;  // this file's own helpers
  Options o;
  auto app = make_app(k_name, k_description);
  app->add_option("PATH", o.path, "The FIFO; created if missing")->required();
  auto* count = app->add_option("-n,--count", o.count, "Print N messages, then exit (default 1)")
                    ->check(CLI::PositiveNumber)
                    ->type_name("N");
  app->add_flag("--follow", o.follow, "Print every message until interrupted, across writers")
      ->excludes(count);
  add_seconds(*app, "--timeout", o.timeout, "Stop when no message arrived for SEC seconds (exit 75)");
  app->add_flag("-r,--raw", o.raw, "Print a string message as its bare text");
  app->add_flag("-q,--quiet", o.quiet, "Print nothing, not even errors: the exit status tells");
  app->add_option("--mode", o.mode, "Mode of a FIFO this command creates (octal; default 0600)")
      ->type_name("OCTAL");
  app->add_flag("--remove", o.remove, "Remove the FIFO at exit if this command created it");
  app->add_option("--max-line", o.max_line,
                  "Longest line taken as a message, in bytes (default 1 MiB)")
      ->check(CLI::PositiveNumber)
      ->type_name("BYTES");
  app->add_option("--max-depth", o.max_depth, "Deepest nesting of a message; deeper: reported and skipped (default 512)")
      ->check(CLI::PositiveNumber)
      ->type_name("N");
  app->footer(k_footer);
  if (auto status = parse(*app, argc, argv)) return *status;
  if (o.quiet) silence_stderr();

  // A closed stdout is reported (74), not a silent death with a message in hand.
  std::signal(SIGPIPE, SIG_IGN);
  ipc::StopSignals stop;
  if (o.follow) stop.ignore_repeats();  // "until interrupted" is its normal end
  ipc::FifoRemover remover;
  int status = k_ok;
  try {
    status = receive(o, stop, remover);
  } catch (...) {
    status = stop.received() != 0 ? k_ok : fail(k_name);
  }
  remover.remove_now();
  // --follow runs "until interrupted": that is its normal end.
  if (!o.follow) stop.reraise();
  return status;
}

}  // namespace cli
