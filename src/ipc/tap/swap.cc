#include "ipc/tap/swap.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2 (glibc 2.28)
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "ipc/net/address.h"
#include "ipc/base/error.h"
#include "ipc/base/files.h"
#include "ipc/base/fd.h"

namespace ipc {
namespace {

[[noreturn]] void fail(ErrorKind kind, const std::string& path, const std::string& why) {
  throw Error(kind, path + ": " + why);
}

/// 0 when something accepts on the Unix socket `path`, else the errno of connect().
/// EAGAIN (a full backlog) counts as live.
int probe(const std::string& path) {
  SockAddr sa = local_sockaddr(parse_address("unix:" + path));
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return errno;
  if (::connect(fd.get(), sa.get(), sa.length) == 0) return 0;
  return errno == EAGAIN ? 0 : errno;
}

bool same(const struct stat& st, dev_t dev, ino_t ino) { return st.st_dev == dev && st.st_ino == ino; }

}  // namespace

std::string aside_path(const std::string& socket) { return socket + ".ipcat-tap"; }

SocketSwap::SocketSwap(const std::string& socket, std::string& warning) : m_socket(socket), m_aside(aside_path(socket)) {
  // Both names must fit in sun_path: the tap connects to the aside one.
  parse_address("unix:" + m_aside);
  struct stat st {};
  if (::lstat(socket.c_str(), &st) != 0) {
    int err = errno;
    fail(kind_from_errno(err), socket, err == ENOENT ? "no such socket (is the daemon running?)" : errno_text(err));
  }
  if (!S_ISSOCK(st.st_mode)) fail(ErrorKind::usage, socket, "not a socket");
  struct stat aside {};
  if (::lstat(m_aside.c_str(), &aside) == 0)
    fail(ErrorKind::cannot_create, m_aside,
         "exists: another tap is running on " + socket + ", or one was killed (ipcat tap --restore " + socket +
             " puts the daemon's socket back)");
  if (int err = probe(socket); err != 0)
    fail(err == ECONNREFUSED ? ErrorKind::refused : kind_from_errno(err), socket,
         err == ECONNREFUSED ? "connection refused: no daemon listens on this socket, nothing to tap"
                             : errno_text(err));
  m_their_dev = st.st_dev;
  m_their_ino = st.st_ino;

  // Our socket gets the daemon's mode and group, so that the same clients may connect.
  ListenOptions options;
  options.mode = st.st_mode & 07777;
  if (st.st_gid != ::getegid()) options.group = st.st_gid;
  Address at = parse_address("unix:" + m_aside);
  try {
    m_listener.emplace(Listener::open(at, options));
  } catch (const Error& e) {
    if (!options.group || e.kind() != ErrorKind::permission) throw;
    warning = m_aside + ": cannot give the socket group " + std::to_string(st.st_gid) +
              " (not a member): only its owner and others allowed by its mode can connect through the tap";
    options.group.reset();
    m_listener.emplace(Listener::open(at, options));
  }
  // As root, the owner too (lchown on a socket path no client knows yet).
  if (::geteuid() == 0) (void)::lchown(m_aside.c_str(), st.st_uid, static_cast<gid_t>(-1));
  struct stat ours {};
  if (::lstat(m_aside.c_str(), &ours) != 0) fail(ErrorKind::cannot_create, m_aside, errno_text(errno));
  m_our_dev = ours.st_dev;
  m_our_ino = ours.st_ino;

  if (::renameat2(AT_FDCWD, m_aside.c_str(), AT_FDCWD, socket.c_str(), RENAME_EXCHANGE) != 0) {
    int err = errno;
    // m_listener's destructor removes our socket: nothing changed.
    fail(ErrorKind::cannot_create, socket,
         err == EINVAL ? "cannot swap sockets atomically: this file system has no renameat2(RENAME_EXCHANGE)"
                       : "cannot swap in the tap's socket: " + errno_text(err));
  }
  m_swapped = true;
  // Someone may have replaced SOCKET between our lstat and the exchange: then the
  // socket aside is not the daemon's we probed. Swap back and say so.
  struct stat now {};
  if (::lstat(m_aside.c_str(), &now) != 0 || !same(now, m_their_dev, m_their_ino)) {
    if (::renameat2(AT_FDCWD, m_aside.c_str(), AT_FDCWD, socket.c_str(), RENAME_EXCHANGE) == 0) m_swapped = false;
    fail(ErrorKind::cannot_create, socket, "changed while the tap swapped it in; left as it was");
  }
}

SocketSwap::~SocketSwap() { put_back(); }

Listener SocketSwap::take_listener() {
  if (!m_listener) throw Error(ErrorKind::internal, m_socket + ": the tap's listener was already taken");
  Listener l = std::move(*m_listener);
  m_listener.reset();
  return l;
}

std::string SocketSwap::put_back() noexcept {
  if (!m_swapped) return {};
  m_swapped = false;
  try {
    struct stat at_socket {}, at_aside {};
    bool ours = ::lstat(m_socket.c_str(), &at_socket) == 0 && same(at_socket, m_our_dev, m_our_ino);
    bool theirs = ::lstat(m_aside.c_str(), &at_aside) == 0 && same(at_aside, m_their_dev, m_their_ino);
    if (!theirs) return m_aside + ": the daemon's socket is no longer there; " + m_socket + " left as it is";
    if (!ours) {
      // The daemon (or someone) made a new socket at SOCKET while tapped: keep it,
      // and drop the old one aside if nobody listens on it any more.
      if (probe(m_aside) == ECONNREFUSED) {
        ::unlink(m_aside.c_str());
        return m_socket + ": replaced while tapped; kept, and the old socket aside removed";
      }
      return m_socket + ": replaced while tapped; kept, the daemon's socket left at " + m_aside;
    }
    // One step: at no moment is there no socket at SOCKET.
    if (::rename(m_aside.c_str(), m_socket.c_str()) != 0)
      return m_socket + ": cannot put the daemon's socket back: " + errno_text(errno) + " (ipcat tap --restore " +
             m_socket + ")";
    return {};
  } catch (...) {
    return m_socket + ": cannot put the daemon's socket back (ipcat tap --restore " + m_socket + ")";
  }
}

void restore_socket(const std::string& socket) {
  std::string aside = aside_path(socket);
  struct stat st {};
  if (::lstat(aside.c_str(), &st) != 0) {
    int err = errno;
    fail(kind_from_errno(err), aside, err == ENOENT ? "no such socket: nothing to restore" : errno_text(err));
  }
  if (!S_ISSOCK(st.st_mode)) fail(ErrorKind::cannot_create, aside, "not a socket; left alone");
  struct stat cur {};
  if (::lstat(socket.c_str(), &cur) == 0) {
    if (!S_ISSOCK(cur.st_mode)) fail(ErrorKind::cannot_create, socket, "exists and is not a socket; left alone");
    // Live: a tap still runs there (SIGINT or SIGTERM puts the socket back).
    if (probe(socket) == 0)
      fail(ErrorKind::cannot_create, socket, "a tap (or a new daemon) is listening here; stop it instead");
  } else if (errno != ENOENT) {
    fail(kind_from_errno(errno), socket, errno_text(errno));
  }
  // Replaces the dead tap's socket in one step.
  if (::rename(aside.c_str(), socket.c_str()) != 0) {
    int err = errno;
    fail(create_error_kind(err), socket,
         "cannot move " + aside + " back: " + errno_text(err));
  }
}

}  // namespace ipc
