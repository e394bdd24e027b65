#include "cli/options.h"

#include <grp.h>
#include <pwd.h>

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
