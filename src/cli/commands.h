#pragma once
/// One entry per subcommand. Each cmd_<name>.cc defines its function: it builds its
/// own CLI11 parser (only the one that runs is ever built), calls the library and
/// returns an exit status from cli/exit_codes.h. argv[0] is the subcommand name.

#include <string_view>

namespace cli {

using CommandFn = int (*)(int argc, char** argv);

struct Command {
  std::string_view name;
  std::string_view summary;
  CommandFn run;
};

int cmd_serve(int argc, char** argv);
int cmd_request(int argc, char** argv);
int cmd_notify(int argc, char** argv);
int cmd_connect(int argc, char** argv);
int cmd_fifo_send(int argc, char** argv);
int cmd_fifo_recv(int argc, char** argv);
int cmd_pidfile_run(int argc, char** argv);
int cmd_tap(int argc, char** argv);

}  // namespace cli
