#pragma once
/// Address — where to listen or connect (man/ipcat.1, ADDRESSES).
///
///   /path/x.sock ./x.sock unix:PATH   Unix stream socket
///   @name abstract:name               Linux abstract socket
///   tcp:HOST:PORT tcp:[::1]:PORT      TCP
///   fd:N                              inherited listening socket (serve)
///   systemd systemd:NAME              socket activation (serve)

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ipc {

struct Address {
  enum class Kind { unix_path, abstract, tcp, fd, systemd };
  Kind kind = Kind::unix_path;
  std::string path;  ///< unix_path: the path; abstract: the name (without '@'); systemd: the fd name
  std::string host;  ///< tcp: host or IP literal without brackets
  std::uint16_t port = 0;  ///< tcp
  int fd = -1;             ///< fd

  /// How the address reads in messages: the path, "@name", "tcp:host:port", "fd:N".
  std::string display() const;
  bool is_local() const noexcept { return kind == Kind::unix_path || kind == Kind::abstract; }
};

/// Parses the forms above. Throws Error{usage} naming the text and what is wrong,
/// including a Unix path too long for sun_path (with the limit).
Address parse_address(std::string_view text);

/// A socket address ready for bind()/connect().
struct SockAddr {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const noexcept { return storage.ss_family; }
};

/// The sockaddr of a unix_path or abstract address.
SockAddr local_sockaddr(const Address& address);

/// The sockaddrs a tcp address resolves to (numeric hosts and "localhost" never hit DNS).
/// Throws Error{not_found} when the host does not resolve.
std::vector<SockAddr> tcp_sockaddrs(const Address& address, bool passive);

/// Renders a sockaddr as an IP string and port (for TCP peers); false for non-IP families.
bool ip_and_port(const sockaddr* sa, std::string& ip, std::uint16_t& port);

}  // namespace ipc
