#include "ipc/base/files.h"

#include <unistd.h>

#include <cerrno>

namespace ipc {
namespace {

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

bool unlink_if_same(const std::string& path, const FileId& id) noexcept {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || file_id(st) != id) return false;
  return ::unlink(path.c_str()) == 0;
}

void make_parent_directories(const std::string& path) {
  auto last = path.find_last_of('/');
  if (last == std::string::npos || last == 0 || is_directory(path.substr(0, last))) return;
  for (auto pos = path.find('/', 1); pos != std::string::npos && pos <= last; pos = path.find('/', pos + 1)) {
    std::string dir = path.substr(0, pos);
    if (::mkdir(dir.c_str(), 0777) == 0) continue;
    int err = errno;
    // EEXIST, or EROFS/EACCES reported for a directory that is already there.
    if (is_directory(dir)) continue;
    if (err == EEXIST) err = ENOTDIR;
    std::string message = path;
    message += ": cannot create directory ";
    message += dir;
    message += ": ";
    message += errno_text(err);
    throw Error(create_error_kind(err), message);
  }
}

ErrorKind create_error_kind(int err) noexcept {
  return (err == EACCES || err == EPERM) ? ErrorKind::permission : ErrorKind::cannot_create;
}

}  // namespace ipc
