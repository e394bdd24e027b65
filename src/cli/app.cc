#include "cli/app.h"

#include <cmath>
#include <cstdio>

#include "cli/exit_codes.h"

namespace cli {

std::unique_ptr<CLI::App> make_app(const std::string& name, const std::string& description) {
  auto app = std::make_unique<CLI::App>(description, "ipcat " + name);
  app->set_help_flag("-h,--help", "Print this help and exit");
  app->get_formatter()->column_width(32);
  return app;
}

std::optional<int> parse(CLI::App& app, int argc, char** argv) {
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

CLI::Validator seconds_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double value = 0;
        if (CLI::detail::lexical_cast(text, value) && std::isfinite(value) && value >= 0) return {};
        return "must be a number of seconds >= 0, not '" + text + "'";
      },
      "");
}

void add_verbosity(CLI::App& app, int& verbose, bool& quiet) {
  app.add_flag("-v,--verbose", verbose, "More detail on stderr (repeatable)");
  app.add_flag("-q,--quiet", quiet, "Print nothing but errors");
}

}  // namespace cli
