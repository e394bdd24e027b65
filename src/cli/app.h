#pragma once
/// Shared CLI11 set-up for subcommands: consistent help, usage errors as exit 64,
/// and the rules every subcommand's options follow (man/ipcat.1, OPTIONS):
///   - a repeatable option takes exactly one value per occurrence, so it never
///     swallows the positional that follows it (`--allow-uid 1 SOCK`);
///   - every duration (SEC) is read by one parser, seconds_check(), with one message;
///   - number checks never print CLI11's 300-digit bounds.
/// parse() applies these to whatever options a subcommand defined.

#include "cli/cli11.h"
#include <optional>
#include <string>
#include <vector>

namespace cli {

/// Help layout shared by the subcommands: no second "Usage:" line when the
/// description already has one, and a repeatable option shown as "TEXT", not
/// "TEXT ..." (each occurrence takes one value).
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App* app, std::string name) const override;
  std::string make_option_opts(const CLI::Option* opt) const override;
};

/// A parser for one subcommand; `name` is how it appears in messages ("request").
std::unique_ptr<CLI::App> make_app(const std::string& name, const std::string& description);

/// Parses argv (argv[0] is the subcommand name). Returns an exit status when the
/// command should stop now (0 after --help, 64 on a usage error), or nullopt to go on.
std::optional<int> parse(CLI::App& app, int argc, char** argv);

/// Checks a SEC option (man/ipcat.1, "Durations"): a decimal number of seconds from 0
/// to 1e9, fractions and an exponent allowed ("0.5", "2", "1e3"). Refuses everything
/// else (negative, nan, inf, hex, > 1e9) with one message. parse() adds it to every
/// duration option (is_duration_option) that lacks it.
CLI::Validator seconds_check();

/// Checks a count: a whole decimal number >= 0 (for limits where 0 means none).
CLI::Validator count_check();
/// Checks a count that must be at least 1.
CLI::Validator positive_check();

/// Whether the option named `long_name` ("timeout", no dashes) is a duration.
bool is_duration_option(const std::string& long_name);

/// The BODY/ITEM words of request, notify, connect and fifo-send: what CLI11 left
/// over (the subcommand calls allow_extras() and has no BODY option, because CLI11
/// splits a "[1,2]" value of a list option into "1" and "2", which would break a
/// JSON array BODY). An option CLI11 does not know among them (`--timout=1`) is a
/// usage error, never an ITEM; a word after "--", or one that is JSON ("-1"), is a
/// word. Throws ipc::Error{usage}.
std::vector<std::string> body_words(CLI::App& app);

/// Adds -v/--verbose (counting) and -q/--quiet.
void add_verbosity(CLI::App& app, int& verbose, bool& quiet);

}  // namespace cli
