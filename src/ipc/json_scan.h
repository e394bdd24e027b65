#pragma once
/// A fast single-pass JSON checker for the hot path of every request and reply.
///
/// Most lines on the wire are already one compact JSON value; proving that
/// (grammar, UTF-8, no insignificant whitespace) costs a fraction of building a
/// document with nlohmann_json and encoding it again. Anything the scanner is
/// not sure about — whitespace to strip, nesting deeper than it follows — is
/// answered `reencode`, and the caller falls back to parse_json() + encode().

#include <string_view>

namespace ipc {

enum class JsonScan {
  invalid,   ///< not one JSON value in valid UTF-8 (parse_json() says why)
  compact,   ///< valid, and already compact: can be sent as it is
  reencode,  ///< valid or undecided: parse and encode it to be sure
};

JsonScan scan_json(std::string_view text) noexcept;

}  // namespace ipc
