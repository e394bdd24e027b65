// ipcat fifo-send [OPTIONS] PATH [BODY | ITEM...]  (man/ipcat.1, ipcat fifo-send)
//
//   parse ─► build and size-check the message (64/65: nothing touched yet)
//     ─► ensure_fifo: mkfifo 0600 + parents (73/77), refuse a non-FIFO untouched (73),
//        a symlink, another user's FIFO or one others may write (77)
//     ─► open_fifo_writer: no reader → 69 at once, or --wait SEC → 75 on expiry
//     ─► FifoWriter: the one message, or send_lines(stdin) (65 at a bad line)
//     ─► exit 0 | broken pipe 74 | SIGINT/TERM/HUP: --remove, then die by the signal

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/options.h"
#include "ipc/base/error.h"
#include "ipc/fifo/fifo.h"
#include "ipc/fifo/fifo_writer.h"
#include "ipc/wire/json_text.h"
#include "ipc/wire/request_body.h"

namespace cli {
// Named, so that the CLI builds as one unity file (CMakeLists.txt: start-up cost).
namespace fifo_send_detail {
namespace {

constexpr const char* k_name = "fifo-send";

constexpr const char* k_description =
    "Send JSON messages into a FIFO (named pipe): each one whole, never mixed with\n"
    "other senders' bytes, never truncated.\n\n"
    "Usage: ipcat fifo-send [OPTIONS] PATH [BODY | ITEM...]";

constexpr const char* k_footer =
    "PATH is created if missing (mode 0600 whatever the umask, or --mode; parent\n"
    "directories made) and left in place; a path that exists and is not a FIFO is\n"
    "refused and left untouched (73). An existing FIFO is used only if it is not a\n"
    "symlink, is ours (or root's), and lets group and others write no more than\n"
    "--mode does; otherwise it is refused and left untouched (77).\n\n"
    "The message is BODY (one JSON text) or an object built from ITEMs (key=string,\n"
    "key:=json, key=@file, key:=@file). Without them, each line of stdin is a message:\n"
    "checked as JSON and sent as it is; blank lines are skipped. An invalid line stops\n"
    "the command (exit 65) naming its line number: the lines before it have been\n"
    "sent, none after it.\n\n"
    "A message of at most PIPE_BUF (4096) bytes, newline included, is written\n"
    "atomically. Lines from stdin are batched into writes of at most PIPE_BUF bytes\n"
    "that hold whole messages only, flushed whenever stdin has nothing more ready.\n"
    "A larger message is refused (exit 65, nothing of it sent) unless --allow-large:\n"
    "it is then written completely, but not atomically: with several senders at\n"
    "once, its bytes may mix with theirs.\n\n"
    "With no reader on PATH the command fails at once (exit 69), or waits for one\n"
    "with --wait (--wait 0 does not wait). The kernel keeps unread messages only\n"
    "while some process has the FIFO open.\n\n"
    "Exit status: 0 sent; 64 usage; 65 invalid JSON or too large; 66 PATH vanished;\n"
    "69 no reader; 73 cannot create PATH, or it is not a FIFO; 74 the reader went\n"
    "away mid-write; 75 --wait expired; 77 permission denied, or a FIFO refused\n"
    "(symlink, owner, mode). On SIGINT, SIGTERM or\n"
    "SIGHUP a FIFO made with --remove is removed, then the command dies by the signal.";

struct Options {
  std::string path;
  std::vector<std::string> words;
  std::string mode = "0600";
  std::optional<Seconds> wait;
  bool allow_large = false;
  bool remove = false;
  bool quiet = false;
  std::size_t max_depth = ipc::k_default_max_depth;
};

// -q: "Print nothing, not even errors: the exit status tells" (man/ipcat.1, ipcat fifo-send).
void silence_stderr() {
  int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null < 0) return;
  ::dup2(null, STDERR_FILENO);
  ::close(null);
}

int send(const Options& o, const ipc::StopSignals& stop, ipc::FifoRemover& remover) {
  mode_t mode = mode_option(o.mode, "--mode");
  ipc::WriterOptions writer_options{o.allow_large, " (--allow-large sends it anyway)", o.max_depth};
  // Stdin is read only when there is no BODY/ITEM, so probes run without stdin.
  std::optional<std::string> message;
  if (!o.words.empty()) {
    message = ipc::body_from_words(o.words, o.max_depth);
    ipc::check_message_size(*message, o.path, writer_options);
  }

  ipc::EnsuredFifo fifo = ipc::ensure_fifo(o.path, mode);
  if (o.remove && fifo.created) remover = ipc::FifoRemover(o.path, fifo.id);
  // --wait is a wait: 0 does not wait, as without it (man/ipcat.1, "Durations").
  std::optional<ipc::Deadline> wait;  // none: do not wait for a reader
  if (o.wait && !o.wait->is_zero()) wait = ipc::Deadline(o.wait->duration());
  ipc::FifoWriter writer(ipc::open_fifo_writer(o.path, wait, &stop, mode), o.path, writer_options, &stop);
  if (message) {
    writer.send(*message);
    writer.flush();
  } else {
    ipc::send_lines(STDIN_FILENO, writer, "stdin");
  }
  return k_ok;
}

}  // namespace
}  // namespace fifo_send_detail

int cmd_fifo_send(int argc, char** argv) {
  using namespace fifo_send_detail;  // this file's own helpers
  Options o;
  auto app = make_app(k_name, k_description);
  app->add_option("PATH", o.path, "The FIFO; created if missing")->required();
  // BODY and ITEMs are what CLI11 leaves over (body_words): as an option, CLI11
  // would split a '[1,2]' BODY into list items.
  app->allow_extras();
  app->add_option("--mode", o.mode, "Mode of a FIFO this command creates (octal; default 0600)")
      ->type_name("OCTAL");
  add_seconds(*app, "--wait", o.wait, "With no reader yet, wait up to SEC seconds for one");
  app->add_flag("--allow-large", o.allow_large,
                "Send messages larger than PIPE_BUF (4096 bytes), not atomic");
  app->add_flag("--remove", o.remove, "Remove the FIFO at exit if this command created it");
  app->add_option("--max-depth", o.max_depth, "Deepest nesting of a message; deeper: exit 65 (default 512)")
      ->check(CLI::PositiveNumber)
      ->type_name("N");
  app->add_flag("-q,--quiet", o.quiet, "Print nothing, not even errors: the exit status tells");
  app->footer(k_footer);
  if (auto status = parse(*app, argc, argv)) return *status;
  if (o.quiet) silence_stderr();
  try {
    o.words = body_words(*app);
  } catch (...) {
    return fail(k_name);
  }

  // A vanished reader must be an error we report (74), not a silent death.
  std::signal(SIGPIPE, SIG_IGN);
  ipc::StopSignals stop;
  ipc::FifoRemover remover;
  int status = k_ok;
  try {
    status = send(o, stop, remover);
  } catch (...) {
    status = stop.received() != 0 ? k_ok : fail(k_name);
  }
  remover.remove_now();
  stop.reraise();  // interrupted: die by the signal, now that the FIFO is cleaned up
  return status;
}

}  // namespace cli
