#include "ipc/net/listener.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "ipc/base/error.h"
#include "ipc/base/files.h"
#include "ipc/net/systemd.h"

namespace ipc {
namespace {

Fd new_socket(int family) {
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("socket", errno);
  return Fd(fd);
}

[[noreturn]] void fail(ErrorKind kind, const Address& a, const std::string& why) {
  throw Error(kind, a.display() + ": " + why);
}


/// Judges an existing path: returns true when it is a stale socket we may replace.
bool judge_existing(const Address& a) {
  struct stat st {};
  if (::lstat(a.path.c_str(), &st) != 0) {
    if (errno == ENOENT) return false;
    fail(create_error_kind(errno), a, "cannot inspect: " + errno_text(errno));
  }
  if (!S_ISSOCK(st.st_mode)) fail(ErrorKind::cannot_create, a, "exists and is not a socket; left alone");
  Fd probe = new_socket(AF_UNIX);
  SockAddr sa = local_sockaddr(a);
  if (::connect(probe.get(), sa.get(), sa.length) == 0)
    fail(ErrorKind::cannot_create, a, "a server is already listening on this socket");
  int err = errno;
  if (err == ECONNREFUSED) return true;
  // EAGAIN: a live server with a full backlog; never judge that stale.
  fail(create_error_kind(err), a, "exists and cannot be probed (" + errno_text(err) + "); left alone");
}

/// Moves the staged socket to the target path without ever replacing a live
/// socket, even when two servers start at once: RENAME_NOREPLACE, and when
/// something is there, judged again; a stale socket is swapped out with
/// RENAME_EXCHANGE and the swap undone if what came out is not the one judged
/// stale (another server got there first). Exactly one server wins.
void move_into_place(const std::string& staged, const Address& a) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, a.path.c_str(), RENAME_NOREPLACE) == 0) return;
    int err = errno;
    if (err == EINVAL || err == ENOSYS) {
      // A file system without renameat2 flags: the plain rename (judged once, at start).
      if (::rename(staged.c_str(), a.path.c_str()) != 0)
        fail(create_error_kind(errno), a, "cannot move the socket into place: " + errno_text(errno));
      return;
    }
    if (err != EEXIST) fail(create_error_kind(err), a, "cannot move the socket into place: " + errno_text(err));
    struct stat stale {};
    if (!judge_existing(a) || ::lstat(a.path.c_str(), &stale) != 0) continue;  // gone meanwhile: try again
    if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, a.path.c_str(), RENAME_EXCHANGE) != 0) continue;
    struct stat out {};
    if (::lstat(staged.c_str(), &out) == 0 && out.st_dev == stale.st_dev && out.st_ino == stale.st_ino) {
      ::unlink(staged.c_str());  // the stale socket, now in our staging directory
      return;
    }
    // Someone else's socket came out: put it back, and judge again (live: refused).
    if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, a.path.c_str(), RENAME_EXCHANGE) != 0)
      fail(ErrorKind::cannot_create, a, "lost a race with another server and cannot undo it: " + errno_text(errno));
  }
  fail(ErrorKind::cannot_create, a, "another server keeps replacing this socket; left alone");
}

void bind_or_throw(int fd, const SockAddr& sa, const Address& a) {
  if (::bind(fd, sa.get(), sa.length) != 0) {
    int err = errno;
    fail(err == EADDRINUSE ? ErrorKind::cannot_create : create_error_kind(err), a,
         err == EADDRINUSE ? "address already in use" : "cannot bind: " + errno_text(err));
  }
}

void apply_mode_and_group(const std::string& path, const ListenOptions& o, const Address& a) {
  if (::chmod(path.c_str(), o.mode) != 0) fail(create_error_kind(errno), a, "cannot set mode: " + errno_text(errno));
  if (o.group && ::lchown(path.c_str(), static_cast<uid_t>(-1), *o.group) != 0)
    fail(create_error_kind(errno), a, "cannot set group: " + errno_text(errno));
}

}  // namespace

Listener Listener::open(const Address& address, const ListenOptions& options) {
  Listener l;
  l.m_address = address;
  l.m_display = address.display();
  switch (address.kind) {
    case Address::Kind::unix_path: {
      judge_existing(address);
      l.m_family = AF_UNIX;
      l.m_fd = new_socket(AF_UNIX);
      std::string dir = address.path;
      auto slash = dir.rfind('/');
      dir = slash == std::string::npos ? std::string(".") : (slash == 0 ? std::string("/") : dir.substr(0, slash));
      std::string tmpl = (dir == "/" ? std::string() : dir) + "/.ipcat-XXXXXX";
      std::string staged;
      if (tmpl.size() + 2 < sizeof(sockaddr_un::sun_path)) {
        if (::mkdtemp(tmpl.data()) == nullptr)
          fail(create_error_kind(errno), address, "cannot create a staging directory in " + dir + ": " + errno_text(errno));
        staged = tmpl + "/s";
      }
      if (!staged.empty()) {
        // Bind where nobody can reach it (0700 directory), fix mode and group, listen,
        // then rename into place: reachable only when final, and a stale socket is
        // replaced atomically.
        Address tmp = address;
        tmp.path = staged;
        try {
          bind_or_throw(l.m_fd.get(), local_sockaddr(tmp), address);
          apply_mode_and_group(staged, options, address);
          if (::listen(l.m_fd.get(), options.backlog) != 0) fail(create_error_kind(errno), address, "cannot listen: " + errno_text(errno));
          move_into_place(staged, address);
        } catch (...) {
          ::unlink(staged.c_str());
          ::rmdir(tmpl.c_str());
          throw;
        }
        ::rmdir(tmpl.c_str());
      } else {
        // The staging path would not fit in sun_path: bind in place under a umask
        // that gives the final mode at creation (the group follows right after).
        ::unlink(address.path.c_str());
        mode_t old = ::umask(static_cast<mode_t>(~options.mode & 0777));
        int rc = ::bind(l.m_fd.get(), local_sockaddr(address).get(), local_sockaddr(address).length);
        int err = errno;
        ::umask(old);
        if (rc != 0) fail(create_error_kind(err), address, "cannot bind: " + errno_text(err));
        apply_mode_and_group(address.path, options, address);
        if (::listen(l.m_fd.get(), options.backlog) != 0) fail(create_error_kind(errno), address, "cannot listen: " + errno_text(errno));
      }
      struct stat st {};
      if (::stat(address.path.c_str(), &st) == 0) {
        l.m_owns_path = true;
        l.m_dev = st.st_dev;
        l.m_ino = st.st_ino;
      }
      break;
    }
    case Address::Kind::abstract: {
      l.m_family = AF_UNIX;
      l.m_fd = new_socket(AF_UNIX);
      bind_or_throw(l.m_fd.get(), local_sockaddr(address), address);
      if (::listen(l.m_fd.get(), options.backlog) != 0) fail(create_error_kind(errno), address, "cannot listen: " + errno_text(errno));
      break;
    }
    case Address::Kind::tcp: {
      auto addrs = tcp_sockaddrs(address, false);
      if (addrs.empty()) fail(ErrorKind::not_found, address, "host resolves to no address");
      const SockAddr& sa = addrs.front();
      l.m_family = sa.family();
      l.m_fd = new_socket(sa.family());
      int one = 1;
      ::setsockopt(l.m_fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      bind_or_throw(l.m_fd.get(), sa, address);
      if (::listen(l.m_fd.get(), options.backlog) != 0) fail(create_error_kind(errno), address, "cannot listen: " + errno_text(errno));
      sockaddr_storage bound{};
      socklen_t len = sizeof bound;
      std::string ip;
      std::uint16_t port = 0;
      if (::getsockname(l.m_fd.get(), reinterpret_cast<sockaddr*>(&bound), &len) == 0 &&
          ip_and_port(reinterpret_cast<sockaddr*>(&bound), ip, port)) {
        Address shown = address;
        shown.host = ip;
        shown.port = port;
        l.m_display = shown.display();
      }
      break;
    }
    case Address::Kind::fd:
    case Address::Kind::systemd: {
      int fd = address.kind == Address::Kind::systemd ? systemd_listen_fd(address.path) : address.fd;
      int type = 0, listening = 0;
      socklen_t len = sizeof type;
      if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
        fail(ErrorKind::usage, address, "not an open socket: " + errno_text(errno));
      len = sizeof listening;
      if (type != SOCK_STREAM || ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
        fail(ErrorKind::usage, address, "not a listening stream socket");
      set_cloexec(fd);
      l.m_fd.reset(fd);
      sockaddr_storage ss{};
      len = sizeof ss;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
      l.m_family = ss.ss_family;
      if (ss.ss_family == AF_UNIX) {
        auto* sun = reinterpret_cast<sockaddr_un*>(&ss);
        std::size_t n = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
        if (n > 0 && sun->sun_path[0] == '\0') {
          l.m_display = "@" + std::string(sun->sun_path + 1, n - 1);
        } else if (n > 0) {
          l.m_display = std::string(sun->sun_path);
        }
      }
      // An inherited or activated socket belongs to whoever made it: never unlinked.
      break;
    }
  }
  return l;
}

Listener::Listener(Listener&& other) noexcept
    : m_fd(std::move(other.m_fd)),
      m_family(other.m_family),
      m_address(std::move(other.m_address)),
      m_display(std::move(other.m_display)),
      m_owns_path(std::exchange(other.m_owns_path, false)),
      m_dev(other.m_dev),
      m_ino(other.m_ino) {}

Listener::~Listener() { close(); }

void Listener::close() noexcept {
  if (m_owns_path) {
    // Only our own socket: someone may have replaced the path since.
    unlink_if_same(m_address.path, FileId{m_dev, m_ino});
    m_owns_path = false;
  }
  m_fd.reset();
}

}  // namespace ipc
