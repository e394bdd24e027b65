// Fuzz target for ipc::parse_address and ipc::local_sockaddr (src/ipc/net/address.h).
//
// The input is the address text. Properties:
//   - the only exception is ipc::Error{usage};
//   - what parses is well formed for its kind: a Unix path is non-empty, has no
//     NUL and fits sun_path with its terminator; an abstract name fits sun_path
//     after its leading NUL; a TCP host is non-empty; fd:N has N >= 0;
//   - local_sockaddr of a local address stays inside sockaddr_un (the storage is a
//     larger sockaddr_storage, so AddressSanitizer alone would not see an overrun)
//     and holds the path or name byte for byte;
//   - the canonical spelling of a parsed address parses back to the same address:
//     unix:PATH, @NAME, fd:N, systemd[:NAME], and display() for TCP (whose host
//     has no brackets: display() cannot spell a host such as "[x").

#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "ipc/net/address.h"
#include "ipc/base/error.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "address_fuzz: property violated: %s\n", what);
  std::abort();
}

bool same(const ipc::Address& a, const ipc::Address& b) {
  return a.kind == b.kind && a.path == b.path && a.host == b.host && a.port == b.port && a.fd == b.fd;
}

std::string canonical(const ipc::Address& a) {
  using Kind = ipc::Address::Kind;
  switch (a.kind) {
    case Kind::unix_path:
      return "unix:" + a.path;
    case Kind::abstract:
      return "@" + a.path;
    default:
      return a.display();
  }
}

void check_local(const ipc::Address& a) {
  constexpr std::size_t k_sun_path = sizeof(sockaddr_un::sun_path);
  bool abstract = a.kind == ipc::Address::Kind::abstract;
  if (a.path.empty()) fail("empty local path or name");
  if (!abstract && a.path.find('\0') != std::string::npos) fail("unix path with a NUL byte");
  if (a.path.size() + 1 > k_sun_path) fail("path or name does not fit sun_path");
  ipc::SockAddr sa = ipc::local_sockaddr(a);
  if (sa.family() != AF_UNIX) fail("local sockaddr is not AF_UNIX");
  if (sa.length > sizeof(sockaddr_un)) fail("sockaddr length runs past sockaddr_un");
  const auto* sun = reinterpret_cast<const sockaddr_un*>(&sa.storage);
  std::size_t offset = abstract ? 1 : 0;
  if (abstract && sun->sun_path[0] != '\0') fail("abstract sockaddr does not start with NUL");
  if (std::memcmp(sun->sun_path + offset, a.path.data(), a.path.size()) != 0) fail("sockaddr does not hold the path");
  std::size_t expected = offsetof(sockaddr_un, sun_path) + offset + a.path.size() + (abstract ? 0 : 1);
  if (sa.length != expected) fail("sockaddr length is not the path's");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ipc::Address a;
  try {
    a = ipc::parse_address(text);
  } catch (const ipc::Error& e) {
    if (e.kind() != ipc::ErrorKind::usage) fail("parse error of a kind other than usage");
    return 0;
  }
  using Kind = ipc::Address::Kind;
  switch (a.kind) {
    case Kind::unix_path:
    case Kind::abstract:
      check_local(a);
      break;
    case Kind::tcp:
      if (a.host.empty()) fail("tcp address with an empty host");
      if (a.host.find_first_of("[]") != std::string::npos) return 0;
      break;
    case Kind::fd:
      if (a.fd < 0) fail("negative fd");
      break;
    case Kind::systemd:
      break;
  }
  std::string again = canonical(a);
  try {
    if (!same(ipc::parse_address(again), a)) fail("the canonical spelling parses to another address");
  } catch (const ipc::Error&) {
    fail("the canonical spelling of a parsed address does not parse");
  }
  return 0;
}
