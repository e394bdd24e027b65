#pragma once
/// Small conversions shared by subcommands: octal modes, user and group names to ids.
/// Each throws ipc::Error{usage} naming the bad value. (Durations are Seconds, app.h.)

#include <sys/types.h>

#include <string>

namespace cli {

/// "0600" or "600" as a mode, at most 07777.
mode_t mode_option(const std::string& text, const std::string& option);
/// A user name or a numeric uid.
uid_t uid_option(const std::string& text, const std::string& option);
/// A group name or a numeric gid.
gid_t gid_option(const std::string& text, const std::string& option);

}  // namespace cli
