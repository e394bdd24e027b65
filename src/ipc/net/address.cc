#include "ipc/base/numbers.h"
#include "ipc/net/address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <charconv>
#include <cstring>

#include "ipc/base/error.h"

namespace ipc {
namespace {

constexpr std::size_t k_sun_path_max = sizeof(sockaddr_un::sun_path);

[[noreturn]] void bad(std::string_view text, std::string_view why) {
  throw Error(ErrorKind::usage, std::string(text) + ": " + std::string(why));
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

template <typename T>
bool parse_number(std::string_view s, T& out) {
  auto value = parse_whole<T>(s);
  if (value) out = *value;
  return value.has_value();
}

Address parse_tcp(std::string_view text, std::string_view rest) {
  Address a;
  a.kind = Address::Kind::tcp;
  std::string_view host, port;
  if (starts_with(rest, "[")) {
    auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
      bad(text, "expected tcp:[IPV6]:PORT");
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) bad(text, "expected tcp:HOST:PORT");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) bad(text, "an IPv6 host must be in brackets: tcp:[::1]:PORT");
  }
  if (host.empty()) bad(text, "missing host (use tcp:127.0.0.1:PORT)");
  unsigned p = 0;
  if (!parse_number(port, p) || p > 65535) bad(text, "port must be a number from 0 to 65535");
  a.host = std::string(host);
  a.port = static_cast<std::uint16_t>(p);
  return a;
}

Address parse_path(std::string_view text, std::string_view path) {
  if (path.empty()) bad(text, "empty socket path");
  // sun_path must also hold the terminating NUL.
  if (path.size() >= k_sun_path_max)
    bad(text, "socket path is " + std::to_string(path.size()) + " bytes, longer than the " +
                  std::to_string(k_sun_path_max - 1) + " that sun_path holds");
  if (path.find('\0') != std::string_view::npos) bad(text, "socket path contains a NUL byte");
  Address a;
  a.kind = Address::Kind::unix_path;
  a.path = std::string(path);
  return a;
}

Address parse_abstract(std::string_view text, std::string_view name) {
  if (name.empty()) bad(text, "empty abstract socket name");
  if (name.size() > k_sun_path_max - 1)
    bad(text, "abstract name is " + std::to_string(name.size()) + " bytes, longer than the " +
                  std::to_string(k_sun_path_max - 1) + " that sun_path holds");
  Address a;
  a.kind = Address::Kind::abstract;
  a.path = std::string(name);
  return a;
}

}  // namespace

std::string Address::display() const {
  switch (kind) {
    case Kind::unix_path:
      return path;
    case Kind::abstract:
      return "@" + path;
    case Kind::tcp:
      return host.find(':') != std::string::npos ? "tcp:[" + host + "]:" + std::to_string(port)
                                                 : "tcp:" + host + ":" + std::to_string(port);
    case Kind::fd:
      return "fd:" + std::to_string(fd);
    case Kind::systemd:
      return path.empty() ? "systemd" : "systemd:" + path;
  }
  return {};
}

Address parse_address(std::string_view text) {
  if (text.empty()) bad("''", "empty address");
  if (starts_with(text, "unix:")) return parse_path(text, text.substr(5));
  if (starts_with(text, "abstract:")) return parse_abstract(text, text.substr(9));
  if (starts_with(text, "@")) return parse_abstract(text, text.substr(1));
  if (starts_with(text, "tcp:")) return parse_tcp(text, text.substr(4));
  if (starts_with(text, "fd:")) {
    Address a;
    a.kind = Address::Kind::fd;
    if (!parse_number(text.substr(3), a.fd) || a.fd < 0) bad(text, "expected fd:N with N a descriptor number");
    return a;
  }
  if (text == "systemd") {
    Address a;
    a.kind = Address::Kind::systemd;
    return a;
  }
  if (starts_with(text, "systemd:")) {
    Address a;
    a.kind = Address::Kind::systemd;
    a.path = std::string(text.substr(8));
    if (a.path.empty()) bad(text, "expected systemd:NAME");
    return a;
  }
  if (text.find('/') != std::string_view::npos ||
      (text.size() > 5 && text.substr(text.size() - 5) == ".sock"))
    return parse_path(text, text);
  bad(text, "not an address (a socket path contains '/' or ends in .sock; see unix:, @, tcp:, fd:, systemd)");
}

SockAddr local_sockaddr(const Address& address) {
  SockAddr out;
  auto* sun = reinterpret_cast<sockaddr_un*>(&out.storage);
  sun->sun_family = AF_UNIX;
  if (address.kind == Address::Kind::unix_path) {
    std::memcpy(sun->sun_path, address.path.data(), address.path.size());
    sun->sun_path[address.path.size()] = '\0';
    out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.path.size() + 1);
  } else if (address.kind == Address::Kind::abstract) {
    // Abstract names start with a NUL byte and are exactly as long as given (no padding).
    sun->sun_path[0] = '\0';
    std::memcpy(sun->sun_path + 1, address.path.data(), address.path.size());
    out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + address.path.size());
  } else {
    throw Error(ErrorKind::internal, address.display() + ": not a local socket address");
  }
  return out;
}

std::vector<SockAddr> tcp_sockaddrs(const Address& address, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* res = nullptr;
  std::string port = std::to_string(address.port);
  int rc = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) throw Error(ErrorKind::not_found, address.display() + ": cannot resolve host: " + gai_strerror(rc));
  std::vector<SockAddr> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    SockAddr sa;
    std::memcpy(&sa.storage, ai->ai_addr, ai->ai_addrlen);
    sa.length = ai->ai_addrlen;
    out.push_back(sa);
  }
  ::freeaddrinfo(res);
  return out;
}

bool ip_and_port(const sockaddr* sa, std::string& ip, std::uint16_t& port) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    ::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    port = ntohs(in->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    port = ntohs(in6->sin6_port);
  } else {
    return false;
  }
  ip = buf;
  return true;
}

}  // namespace ipc
