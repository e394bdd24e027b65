#pragma once
/// nlohmann_json for what it is good at: small objects of ipcat's own (error
/// replies, log lines, the handshake) and tests. Never for passing a user's value
/// through — that is json_text.h, byte-exact.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "ipc/json_text.h"

namespace ipc {

/// JSON values keep their keys in the order given.
using Json = nlohmann::ordered_json;

/// True when `text` is exactly one valid JSON value in valid UTF-8, nested at most
/// max_depth deep (json_text.h: check_json).
bool is_json(std::string_view text, std::size_t max_depth = k_default_max_depth);

/// Parses one JSON value into a DOM, for ipcat's own small messages; std::nullopt
/// (and *why set) on invalid JSON or UTF-8, nesting beyond max_depth (checked
/// first, without recursion), or a number a double cannot hold.
std::optional<Json> parse_json(std::string_view text, std::string* why = nullptr,
                               std::size_t max_depth = k_default_max_depth);

/// Compact encoding of a value ipcat built; invalid UTF-8 in strings is replaced,
/// never thrown.
std::string encode(const Json& value);

/// {"error": message, "type": type} — the error object of man/ipcat.1 (PROTOCOL).
Json error_object(std::string_view type, std::string_view message);

}  // namespace ipc
