#pragma once
/// Files ipcat creates and later removes (sockets, FIFOs, pidfiles): which file a
/// name was (FileId), removing a name only while it is still that file, and the
/// parent directories made on the way (man/ipcat.1, FILES).

#include <sys/stat.h>
#include <sys/types.h>

#include <string>

#include "ipc/base/error.h"

namespace ipc {

/// Which file a path named when we looked (device and inode).
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileId&) const = default;
};

inline FileId file_id(const struct stat& st) noexcept { return FileId{st.st_dev, st.st_ino}; }

/// Removes `path` only if the name itself (lstat: never through a symbolic link)
/// is still the file `id`: someone may have replaced it since. True if removed.
bool unlink_if_same(const std::string& path, const FileId& id) noexcept;

/// mkdir -p of every directory above `path`, mode 0777 less the umask; directories
/// already there are fine. Throws Error "PATH: cannot create directory DIR: why",
/// kind create_error_kind().
void make_parent_directories(const std::string& path);

/// The kind of a refused create: permission for EACCES/EPERM (the file system said
/// no), cannot_create for anything else.
ErrorKind create_error_kind(int err) noexcept;

}  // namespace ipc
