#pragma once
/// EXPECT_ERROR_KIND(statement, kind): statement throws an ipc::Error of that kind.
/// The kind decides the exit status (cli/exit_codes.h), so a test that an error is
/// thrown checks which one: EXPECT_THROW(statement, ipc::Error) passes for any.

#include <gtest/gtest.h>

#include <functional>

#include "ipc/base/error.h"

namespace test {

/// Runs `statement`; a test failure at `file:line` unless it throws an ipc::Error
/// of `kind`. Not inlined: GCC 12's -Wrestrict misfires on string concatenation
/// in tests whose bodies grew by this helper's try/catch.
[[gnu::noinline]] inline void expect_error_kind(const std::function<void()>& statement, ipc::ErrorKind kind,
                                                const char* text, const char* file, int line) {
  try {
    statement();
  } catch (const ipc::Error& e) {
    if (e.kind() != kind)
      ADD_FAILURE_AT(file, line) << text << ": threw kind " << static_cast<int>(e.kind()) << ", expected "
                                 << static_cast<int>(kind) << ": " << e.what();
    return;
  }
  ADD_FAILURE_AT(file, line) << text << ": threw nothing";
}

}  // namespace test

#define EXPECT_ERROR_KIND(statement, kind) \
  ::test::expect_error_kind([&] { static_cast<void>(statement); }, kind, #statement, __FILE__, __LINE__)
