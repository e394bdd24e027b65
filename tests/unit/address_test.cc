#include "ipc/net/address.h"

#include <gtest/gtest.h>
#include <sys/un.h>

#include "ipc/base/error.h"
#include "expect_error.h"

namespace {

using ipc::Address;
using ipc::parse_address;

TEST(Address, UnixPathForms) {
  EXPECT_EQ(parse_address("/run/app.sock").kind, Address::Kind::unix_path);
  EXPECT_EQ(parse_address("./x.sock").path, "./x.sock");
  EXPECT_EQ(parse_address("x.sock").path, "x.sock");
  EXPECT_EQ(parse_address("unix:relative").path, "relative");
  EXPECT_EQ(parse_address("unix:/tmp/a").display(), "/tmp/a");
}

TEST(Address, AbstractForms) {
  auto a = parse_address("@name");
  EXPECT_EQ(a.kind, Address::Kind::abstract);
  EXPECT_EQ(a.path, "name");
  EXPECT_EQ(a.display(), "@name");
  EXPECT_EQ(parse_address("abstract:x").path, "x");
  auto sa = ipc::local_sockaddr(a);
  EXPECT_EQ(sa.length, offsetof(sockaddr_un, sun_path) + 1 + 4);
}

TEST(Address, TcpForms) {
  auto a = parse_address("tcp:127.0.0.1:8080");
  EXPECT_EQ(a.kind, Address::Kind::tcp);
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 8080);
  auto b = parse_address("tcp:[::1]:9");
  EXPECT_EQ(b.host, "::1");
  EXPECT_EQ(b.display(), "tcp:[::1]:9");
  EXPECT_EQ(parse_address("tcp:localhost:0").port, 0);
}

TEST(Address, FdAndSystemd) {
  EXPECT_EQ(parse_address("fd:3").fd, 3);
  EXPECT_EQ(parse_address("systemd").kind, Address::Kind::systemd);
  EXPECT_EQ(parse_address("systemd:ctl").path, "ctl");
}

TEST(Address, BadFormsAreUsageErrors) {
  for (const char* bad : {"", "name", "tcp:", "tcp:host", "tcp::80", "tcp:h:99999", "tcp:h:x", "tcp:::1:80",
                          "fd:", "fd:-1", "fd:x", "@", "unix:", "systemd:"}) {
    try {
      parse_address(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const ipc::Error& e) {
      EXPECT_EQ(e.kind(), ipc::ErrorKind::usage) << bad;
    }
  }
}

TEST(Address, PathTooLongForSunPathSaysSo) {
  std::string path = "/tmp/" + std::string(sizeof(sockaddr_un::sun_path), 'x') + ".sock";
  try {
    parse_address(path);
    FAIL();
  } catch (const ipc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("longer than the 107"), std::string::npos) << e.what();
  }
  // 107 bytes is the longest that fits.
  std::string fits = "/" + std::string(106, 'y');
  EXPECT_NO_THROW(parse_address(fits));
  EXPECT_ERROR_KIND(parse_address(fits + "y"), ipc::ErrorKind::usage);
}

}  // namespace
