#pragma once
/// The subcommand table and the top-level dispatcher: `ipcat SUBCOMMAND ...`.

namespace cli {

/// Runs the subcommand named by argv[1]; returns the process exit status.
int dispatch(int argc, char** argv);

}  // namespace cli
