#pragma once
/// Small conversions shared by subcommands: seconds to milliseconds, octal modes,
/// user and group names to ids. Each throws ipc::Error{usage} naming the bad value.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

namespace cli {

/// Seconds (fractions allowed, 0 to 1e9; man/ipcat.1 "Durations") as milliseconds,
/// rounded to the nearest (a half rounds up, so no positive value becomes 0).
std::chrono::milliseconds seconds_option(double seconds, const std::string& option);
/// A limit (--timeout, --idle-timeout, --drain): as seconds_option(), but 0 means no
/// limit and gives nullopt. (For a wait, -w/--wait, 0 means do not wait: seconds_option().)
std::optional<std::chrono::milliseconds> limit_option(double seconds, const std::string& option);
/// "0600" or "600" as a mode, at most 07777.
mode_t mode_option(const std::string& text, const std::string& option);
/// A user name or a numeric uid.
uid_t uid_option(const std::string& text, const std::string& option);
/// A group name or a numeric gid.
gid_t gid_option(const std::string& text, const std::string& option);

}  // namespace cli
