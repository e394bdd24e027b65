#include "cli/app.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "cli/exit_codes.h"
#include "ipc/base/numbers.h"
#include "ipc/base/error.h"
#include "ipc/wire/json_text.h"

namespace cli {
namespace {

constexpr double k_max_seconds = 1e9;  // ~31 years: beyond any real deadline

// A decimal number: digits, an optional fraction, an optional exponent. No sign, no
// "inf"/"nan", no hex: what strtod() takes beyond this is refused.
bool decimal_number(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - from;
  };
  std::size_t whole = digits();
  std::size_t fraction = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    fraction = digits();
  }
  if (whole + fraction == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// A whole decimal number that fits 64 bits, or nullopt.
std::optional<unsigned long long> whole_number(const std::string& s) {
  return ipc::parse_whole<unsigned long long>(s);
}

CLI::Validator number_check(unsigned long long min, const std::string& rule) {
  return CLI::Validator(
      [min, rule](std::string& text) -> std::string {
        auto value = whole_number(text);
        if (value && *value >= min) return {};
        return "must be " + rule + ", not '" + text + "'";
      },
      "");
}

// The checks CLI11 ships print their bounds with std::to_string(DBL_MAX): 309 digits.
// Replaces them, in place, with ours, keeping the description ("POSITIVE") that --help
// shows. Only options whose type names one of them are looked at (the type name
// carries the validators' descriptions): finding one costs an exception per miss.
void replace_number_checks(CLI::Option& opt) {
  const std::string type = opt.get_type_name();
  if (type.find("POSITIVE") == std::string::npos && type.find("NONNEGATIVE") == std::string::npos) return;
  try {
    for (int i = 0;; ++i) {
      CLI::Validator* v = opt.get_validator(i);
      const std::string description = v->get_description();
      if (description == "POSITIVE") *v = positive_check().description(description);
      if (description == "NONNEGATIVE") *v = count_check().description(description);
    }
  } catch (const CLI::OptionNotFound&) {
    // Past the last validator.
  }
}

// The rules app.h lists, applied to the options a subcommand defined.
void apply_option_rules(CLI::App& app) {
  for (CLI::Option* opt : app.get_options()) {
    if (!opt->nonpositional()) continue;
    // A vector option takes any number of values per occurrence by default, up to
    // the next option: `--allow-uid 1 SOCK` would take SOCK as a second uid.
    if (opt->get_expected_max() >= CLI::detail::expected_max_vector_size) opt->allow_extra_args(false);
    replace_number_checks(*opt);
  }
}

// The SEC option of add_seconds(): its check is its conversion, so the text is read
// once, by Seconds::parse(), and a value it refuses gets CLI11's "OPTION: why".
template <typename Target>
CLI::Option* add_seconds_to(CLI::App& app, const std::string& names, Target& target, const std::string& help) {
  CLI::Option* opt = app.add_option(names, CLI::callback_t([](const CLI::results_t&) { return true; }), help);
  opt->type_name("SEC");
  opt->check(CLI::Validator(
      [&target](std::string& text) -> std::string {
        std::optional<Seconds> value = Seconds::parse(text);
        if (!value) return "must be a number of seconds from 0 to 1e9, not '" + text + "'";
        target = *value;
        return {};
      },
      ""));
  return opt;
}

}  // namespace

std::string HelpFormatter::make_usage(const CLI::App* app, std::string name) const {
  // Subcommands whose positionals CLI11 cannot describe write their own.
  const std::string& description = app->get_description();
  if (description.rfind("Usage:", 0) == 0 || description.find("\nUsage:") != std::string::npos) return {};
  return CLI::Formatter::make_usage(app, std::move(name));
}

std::string HelpFormatter::make_option_opts(const CLI::Option* opt) const {
  std::string text = CLI::Formatter::make_option_opts(opt);
  if (opt->nonpositional() && !opt->get_allow_extra_args()) {
    auto dots = text.find(" ...");
    if (dots != std::string::npos) text.erase(dots, 4);
  }
  return text;
}

std::unique_ptr<CLI::App> make_app(const std::string& name, const std::string& description) {
  auto app = std::make_unique<CLI::App>(description, "ipcat " + name);
  app->set_help_flag("-h,--help", "Print this help and exit");
  auto formatter = std::make_shared<HelpFormatter>();
  formatter->column_width(32);
  app->formatter(formatter);
  return app;
}

std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  apply_option_rules(app);
  try {
    // CLI11 wants the program name first; ours is the subcommand's.
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    const std::string help = app.help();
    std::fwrite(help.data(), 1, help.size(), stdout);
    return k_ok;
  } catch (const CLI::ParseError& e) {
    std::string name = app.get_name().substr(6);  // strip "ipcat "
    report(name, std::string(e.what()) + " (see 'ipcat " + name + " --help')");
    return k_usage;
  }
  return std::nullopt;
}

std::optional<Seconds> Seconds::parse(const std::string& text) {
  double value = 0;
  if (decimal_number(text) && CLI::detail::lexical_cast(text, value) && value >= 0 && value <= k_max_seconds)
    return Seconds(value);
  return std::nullopt;
}

std::chrono::milliseconds Seconds::duration() const noexcept {
  if (is_zero()) return std::chrono::milliseconds(0);
  // Half a millisecond rounds up (chrono::round goes to even); chrono, not libm: the
  // binary needs no libm.
  auto ms = std::chrono::floor<std::chrono::milliseconds>(std::chrono::duration<double>(m_seconds) +
                                                          std::chrono::duration<double, std::milli>(0.5));
  return std::max(ms, std::chrono::milliseconds(1));
}

std::optional<std::chrono::milliseconds> Seconds::limit() const noexcept {
  if (is_zero()) return std::nullopt;
  return duration();
}

std::string Seconds::text() const {
  char text[32];
  std::snprintf(text, sizeof text, "%g", m_seconds);
  return text;
}

CLI::Option* add_seconds(CLI::App& app, const std::string& names, Seconds& target, const std::string& help) {
  return add_seconds_to(app, names, target, help)->default_str(target.text());
}

CLI::Option* add_seconds(CLI::App& app, const std::string& names, std::optional<Seconds>& target,
                         const std::string& help) {
  return add_seconds_to(app, names, target, help);
}

CLI::Validator count_check() { return number_check(0, "a whole number >= 0"); }

CLI::Validator positive_check() { return number_check(1, "a whole number >= 1"); }

std::vector<std::string> body_words(CLI::App& app) {
  std::vector<std::string> words = app.remaining();
  for (auto it = words.begin(); it != words.end(); ++it) {
    if (*it == "--") {
      words.erase(it);
      break;
    }
    if (it->size() > 1 && (*it)[0] == '-' && !ipc::check_json(*it))
      throw ipc::Error(ipc::ErrorKind::usage, "unknown option '" + *it + "'");
  }
  return words;
}

void add_verbosity(CLI::App& app, int& verbose, bool& quiet) {
  app.add_flag("-v,--verbose", verbose, "More detail on stderr (repeatable)");
  app.add_flag("-q,--quiet", quiet, "Print nothing but errors");
}

}  // namespace cli
