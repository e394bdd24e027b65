#pragma once
/// Shared CLI11 set-up for subcommands: consistent help, usage errors as exit 64,
/// and the rules every subcommand's options follow (man/ipcat.1, OPTIONS):
///   - a repeatable option takes exactly one value per occurrence, so it never
///     swallows the positional that follows it (`--allow-uid 1 SOCK`);
///   - number checks never print CLI11's 300-digit bounds;
///   - every duration (SEC) is a Seconds, added by add_seconds() and read by one
///     parser, Seconds::parse(), with one message.
/// parse() applies the first two to whatever options a subcommand defined.

#include "cli/cli11.h"
#include <chrono>
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

/// A SEC value (man/ipcat.1, "Durations"): a decimal number of seconds from 0 to 1e9,
/// fractions and an exponent allowed ("0.5", "2", "1e3"). Every duration option of
/// every subcommand holds one (add_seconds()), and all of them become time the same
/// way, duration().
class Seconds {
 public:
  constexpr Seconds() = default;
  /// A default written in the code: `seconds` from 0 to 1e9.
  explicit constexpr Seconds(double seconds) : m_seconds(seconds) {}

  /// `text` as a SEC, or nullopt for anything else (negative, nan, inf, hex, a sign,
  /// a unit, > 1e9): the one parser of every SEC option.
  static std::optional<Seconds> parse(const std::string& text);

  /// 0 was given: for a limit (--timeout, --idle-timeout, --drain, ...) no limit, for
  /// a wait (-w, --wait) do not wait.
  constexpr bool is_zero() const noexcept { return m_seconds == 0; }
  /// As milliseconds, to the nearest (a half rounds up); never 0 unless is_zero(), so
  /// a time asked for is never "none" (0.0001 is 1 ms).
  std::chrono::milliseconds duration() const noexcept;
  /// A limit: nullopt (none) when is_zero(), else duration().
  std::optional<std::chrono::milliseconds> limit() const noexcept;
  /// As --help shows a default ("30", "0.5").
  std::string text() const;

 private:
  double m_seconds = 0;
};

/// Adds the SEC option `names` ("--timeout", "-w,--wait") to `app`, bound to `target`.
/// Seconds::parse() reads its text, once: what it refuses is a usage error (exit 64),
/// "OPTION: must be a number of seconds from 0 to 1e9, not 'TEXT'". The value `target`
/// holds is the default --help shows; an optional target stays nullopt until given.
CLI::Option* add_seconds(CLI::App& app, const std::string& names, Seconds& target, const std::string& help);
CLI::Option* add_seconds(CLI::App& app, const std::string& names, std::optional<Seconds>& target,
                         const std::string& help);

/// Checks a count: a whole decimal number >= 0 (for limits where 0 means none).
CLI::Validator count_check();
/// Checks a count that must be at least 1.
CLI::Validator positive_check();

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
