#pragma once
/// nlohmann_json for what it is good at: small objects of ipcat's own (error
/// replies, log lines, the handshake) and tests. Never for passing a user's value
/// through — that is json_text.h, byte-exact.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "ipc/wire/json_text.h"

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

/// The types of the server's error replies: the table of man/ipcat.1, PROTOCOL,
/// which docs.bats compares with this list.
inline constexpr std::string_view k_error_types[] = {
    "ParseError",       "LineTooLong", "HandlerFailed", "HandlerTimeout", "BadHandlerOutput",
    "NoSuchMethod",     "Overloaded",  "Forbidden",     "ShuttingDown",
};

/// One of k_error_types, checked when the program is compiled: a type the list
/// (and so the man page) lacks does not build.
class ErrorType {
 public:
  // Implicit: error_object("ParseError", ...) reads best.
  consteval ErrorType(const char* name) : m_name(name) {
    bool known = false;
    for (auto t : k_error_types) known = known || t == m_name;
    if (!known) throw "not an error type of man/ipcat.1, PROTOCOL (k_error_types)";
  }
  std::string_view name() const { return m_name; }

 private:
  std::string_view m_name;
};

/// {"error": message, "type": type} — the error object of man/ipcat.1 (PROTOCOL).
Json error_object(const ErrorType& type, std::string_view message);

}  // namespace ipc
