#pragma once
/// Shared CLI11 set-up for subcommands: consistent help, usage errors as exit 64.

#include "cli/cli11.h"
#include <optional>
#include <string>

namespace cli {

/// A parser for one subcommand; `name` is how it appears in messages ("request").
std::unique_ptr<CLI::App> make_app(const std::string& name, const std::string& description);

/// Parses argv (argv[0] is the subcommand name). Returns an exit status when the
/// command should stop now (0 after --help, 64 on a usage error), or nullopt to go on.
std::optional<int> parse(CLI::App& app, int argc, char** argv);

/// Checks a SEC option: a finite number >= 0. (CLI::NonNegativeNumber lets "nan"
/// through: NaN compares false with both of its bounds.)
CLI::Validator seconds_check();

/// Adds -v/--verbose (counting) and -q/--quiet.
void add_verbosity(CLI::App& app, int& verbose, bool& quiet);

}  // namespace cli
