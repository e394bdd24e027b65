#include "ipc/base/duration.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ipc {
namespace {

/// `x` with at most `digits` significant digits, no trailing zeros ("2", "0.5", "1.234").
std::string short_number(double x, int digits) {
  char buf[48];
  int whole = x >= 1 ? static_cast<int>(std::floor(std::log10(x))) + 1 : 1;
  int decimals = std::max(0, digits - whole);
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

}  // namespace

std::string duration_text(std::chrono::nanoseconds d) {
  const double ns = static_cast<double>(d.count());
  if (ns >= 1e9) return short_number(ns / 1e9, 4) + " s";
  return short_number(ns / 1e6, 4) + " ms";
}

double duration_ms(std::chrono::nanoseconds d) {
  return std::round(static_cast<double>(d.count()) / 1e3) / 1e3;
}

}  // namespace ipc
