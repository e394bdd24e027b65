#pragma once
/// Exit statuses (man/ipcat.1, EXIT STATUS: sysexits) and the one place library error kinds map to them.

#include <exception>
#include <string_view>

#include "ipc/base/error.h"

namespace cli {

enum Exit : int {
  k_ok = 0,
  k_error_reply = 1,   ///< a reply was an error object (other than Forbidden)
  k_usage = 64,        ///< EX_USAGE
  k_data = 65,         ///< EX_DATAERR: input is not valid JSON
  k_no_input = 66,     ///< EX_NOINPUT: path does not exist
  k_unavailable = 69,  ///< EX_UNAVAILABLE: nobody there
  k_software = 70,     ///< EX_SOFTWARE: internal error
  k_cant_create = 73,  ///< EX_CANTCREAT
  k_io = 74,           ///< EX_IOERR
  k_temp_fail = 75,    ///< EX_TEMPFAIL: timed out, or lock held
  k_protocol = 76,     ///< EX_PROTOCOL
  k_no_perm = 77,      ///< EX_NOPERM
};

int exit_code_for(ipc::ErrorKind kind) noexcept;

/// Prints "ipcat: SUBCOMMAND: MESSAGE" to stderr.
void report(std::string_view subcommand, std::string_view message);

/// Reports the exception in flight and returns its exit status. Use as
///   try { ... } catch (...) { return fail(name); }
int fail(std::string_view subcommand);

}  // namespace cli
