#include "cli/exit_codes.h"

#include <unistd.h>

#include <CLI/Error.hpp>
#include <string>

namespace cli {

int exit_code_for(ipc::ErrorKind kind) noexcept {
  using K = ipc::ErrorKind;
  switch (kind) {
    case K::usage: return k_usage;
    case K::invalid_input: return k_data;
    case K::not_found: return k_no_input;
    case K::refused: return k_unavailable;
    case K::internal: return k_software;
    case K::cannot_create: return k_cant_create;
    case K::io: return k_io;
    case K::timeout: return k_temp_fail;
    case K::lock_held: return k_temp_fail;
    case K::protocol: return k_protocol;
    case K::permission: return k_no_perm;
  }
  return k_software;
}

void report(std::string_view subcommand, std::string_view message) {
  std::string line = "ipcat: ";
  if (!subcommand.empty()) {
    line += subcommand;
    line += ": ";
  }
  line += message;
  line += '\n';
  // One write, so concurrent processes' messages do not interleave.
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

int fail(std::string_view subcommand) {
  try {
    throw;
  } catch (const ipc::Error& e) {
    report(subcommand, e.what());
    return exit_code_for(e.kind());
  } catch (const CLI::Error& e) {
    report(subcommand, e.what());
    return k_usage;
  } catch (const std::bad_alloc&) {
    report(subcommand, "out of memory");
    return k_software;
  } catch (const std::exception& e) {
    report(subcommand, std::string("internal error: ") + e.what());
    return k_software;
  }
}

}  // namespace cli
