#include "cli/dispatch.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/version.hpp>
#include <nlohmann/json.hpp>
#include <vector>
#include <cstdio>
#include <string>
#include <string_view>

#include "cli/commands.h"
#include "cli/exit_codes.h"

namespace cli {
namespace {

// constexpr: built at compile time, nothing to run (or throw) at start-up.
constexpr std::array k_commands = {
    Command{"serve", "Listen on a socket and answer JSON-line requests with a handler", cmd_serve},
    Command{"request", "Send JSON-line requests and print the replies", cmd_request},
    Command{"notify", "Send JSON-line requests without waiting for replies", cmd_notify},
    Command{"connect", "Open a JSON-line session: print everything the server sends", cmd_connect},
    Command{"fifo-send", "Send JSON messages into a FIFO, each whole, never interleaved", cmd_fifo_send},
    Command{"fifo-recv", "Receive JSON messages from a FIFO, taking no more than it prints", cmd_fifo_recv},
    Command{"pidfile-run", "Run a command under a locked pidfile: never twice", cmd_pidfile_run},
    Command{"tap", "Watch a socket's traffic: forward it unchanged, print requests and replies", cmd_tap},
};

// Levenshtein distance, for "did you mean".
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t prev = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cur = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
      prev = cur;
    }
  }
  return row[b.size()];
}

void print_help(std::FILE* out) {
  std::fputs(
      "ipcat - JSON lines over Unix sockets and FIFOs, plus pidfiles\n\n"
      "Usage: ipcat SUBCOMMAND [OPTIONS] ...\n"
      "       ipcat SUBCOMMAND --help\n\n"
      "Subcommands:\n",
      out);
  for (const auto& c : k_commands) std::fprintf(out, "  %-12s %s\n", std::string(c.name).c_str(), std::string(c.summary).c_str());
  std::fprintf(out, "  %-12s %s\n", "help", "Print a subcommand's help: ipcat help SUBCOMMAND");
  std::fputs(
      "\nOptions:\n"
      "  -h, --help     Print this help and exit\n"
      "  --version      Print the version and exit\n\n"
      "Exit status: 0 ok, 1 error reply, 64 usage, 65 bad JSON, 66 no such path,\n"
      "69 nobody there, 70 internal, 73 cannot create, 74 I/O, 75 timeout or lock held,\n"
      "76 protocol, 77 permission. See ipcat(1).\n",
      out);
}

void print_version() {
  std::printf("ipcat %s (Boost %d.%d.%d, nlohmann_json %d.%d.%d)\n", IPCAT_VERSION, BOOST_VERSION / 100000,
              BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100, NLOHMANN_JSON_VERSION_MAJOR,
              NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH);
}

}  // namespace

int dispatch(int argc, char** argv) {
  if (argc < 2) {
    print_help(stderr);
    return k_usage;
  }
  std::string_view first = argv[1];
  if (first == "-h" || first == "--help" || first == "help") {
    if (first == "help" && argc > 2) {
      std::string_view name = argv[2];
      for (const auto& c : k_commands) {
        if (c.name == name) {
          char help[] = "--help";
          char* sub_argv[] = {argv[2], help, nullptr};
          return c.run(2, sub_argv);
        }
      }
    }
    print_help(stdout);
    return k_ok;
  }
  if (first == "--version" || first == "-V") {
    print_version();
    return k_ok;
  }
  for (const auto& c : k_commands) {
    if (c.name == first) return c.run(argc - 1, argv + 1);
  }
  std::string message = "unknown subcommand '" + std::string(first) + "'";
  const Command* best = nullptr;
  std::size_t best_distance = 3;
  for (const auto& c : k_commands) {
    std::size_t d = distance(first, c.name);
    if (d < best_distance) {
      best_distance = d;
      best = &c;
    }
  }
  if (best != nullptr) message += " (did you mean '" + std::string(best->name) + "'?)";
  message += "; see 'ipcat --help'";
  report("", message);
  return k_usage;
}

}  // namespace cli
