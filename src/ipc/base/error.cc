#include "ipc/base/error.h"

#include <cctype>
#include <cerrno>
#include <cstring>

namespace ipc {

ErrorKind kind_from_errno(int err) noexcept {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return ErrorKind::not_found;
    case ECONNREFUSED:
    case ENXIO:
      return ErrorKind::refused;
    case EACCES:
    case EPERM:
      return ErrorKind::permission;
    case ETIMEDOUT:
    case EAGAIN:
      return ErrorKind::timeout;
    case EPIPE:
    case ECONNRESET:
    case EIO:
      return ErrorKind::io;
    default:
      return ErrorKind::internal;
  }
}

std::string errno_text(int err) {
  std::string s = std::strerror(err);
  if (!s.empty() && s.size() > 1 && std::islower(static_cast<unsigned char>(s[1]))) {
    s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  }
  return s;
}

void throw_errno(std::string_view what, int err) {
  throw Error(kind_from_errno(err), std::string(what) + ": " + errno_text(err));
}

}  // namespace ipc
