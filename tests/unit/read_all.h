#pragma once
// read_all(fd): everything a descriptor gives until EOF (or an error), for the unit
// tests that read a child's or a pipe's output whole.

#include <unistd.h>

#include <string>

namespace unit_test {

inline std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

}  // namespace unit_test
