#include "cli/options.h"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "ipc/base/numbers.h"
#include "ipc/base/error.h"

namespace cli {
namespace {

[[noreturn]] void bad(const std::string& option, const std::string& text, const std::string& why) {
  throw ipc::Error(ipc::ErrorKind::usage, option + " " + text + ": " + why);
}

template <typename T>
bool number(const std::string& s, T& out, int base = 10) {
  auto value = ipc::parse_whole<T>(s, base);
  if (value) out = *value;
  return value.has_value();
}

}  // namespace

std::chrono::milliseconds seconds_option(double seconds, const std::string& option) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e9) {
    // The message of seconds_check() (app.h), which refuses these at parse time.
    char text[32];
    std::snprintf(text, sizeof text, "%g", seconds);
    throw ipc::Error(ipc::ErrorKind::usage,
                     option + ": must be a number of seconds from 0 to 1e9, not '" + text + "'");
  }
  // Half a millisecond rounds up, as llround() did (chrono::round goes to even, and
  // 0.0005 must not become 0, "off"); chrono, not libm: the binary needs no libm.
  return std::chrono::floor<std::chrono::milliseconds>(std::chrono::duration<double>(seconds) +
                                                        std::chrono::duration<double, std::milli>(0.5));
}

std::optional<std::chrono::milliseconds> limit_option(double seconds, const std::string& option) {
  auto ms = seconds_option(seconds, option);
  if (seconds == 0) return std::nullopt;
  // A limit asked for is never "none": 0.0001 s is the shortest there is.
  return std::max(ms, std::chrono::milliseconds(1));
}

mode_t mode_option(const std::string& text, const std::string& option) {
  unsigned m = 0;
  if (!number(text, m, 8) || m > 07777) bad(option, text, "expected an octal mode such as 0600");
  return static_cast<mode_t>(m);
}

uid_t uid_option(const std::string& text, const std::string& option) {
  unsigned long id = 0;
  if (number(text, id)) return static_cast<uid_t>(id);
  if (passwd* pw = ::getpwnam(text.c_str())) return pw->pw_uid;
  bad(option, text, "no such user");
}

gid_t gid_option(const std::string& text, const std::string& option) {
  unsigned long id = 0;
  if (number(text, id)) return static_cast<gid_t>(id);
  if (group* gr = ::getgrnam(text.c_str())) return gr->gr_gid;
  bad(option, text, "no such group");
}

}  // namespace cli
