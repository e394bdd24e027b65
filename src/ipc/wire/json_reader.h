#pragma once
/// Readers of JSON text that check_json() (json_text.h) accepted: one member, one
/// string, the kind of a value, without building it (man/ipcat.1, PROTOCOL:
/// byte-exact). They assume valid text and do not check it again: each is one pass
/// that skips what it does not need (nested values, strings by their quotes).
///
///   top_level_member(json, key) the raw text of one member of a top-level object
///   json_type(json)             object, array, string, ... from the first byte
///   json_string_value(token)    a string token decoded to UTF-8 ("\u00e9" -> "é")
///   strip_bom(text)             text without a leading UTF-8 byte-order mark

#include <optional>
#include <string>
#include <string_view>

namespace ipc {

/// `text` without a leading UTF-8 byte-order mark (EF BB BF), if it has one.
std::string_view strip_bom(std::string_view text) noexcept;

/// In `json` (one valid JSON text, as check_json() accepted it), the raw text of
/// the top-level object member named `key` (the key compared after unescaping);
/// with duplicate keys the last one counts, as in most parsers. nullopt when
/// `json` is not an object or has no such member. Never builds the value: the cost
/// is one pass over the top level, skipping nested values.
std::optional<std::string_view> top_level_member(std::string_view json, std::string_view key);

/// The kind of a valid JSON value's text, from its first byte.
enum class JsonType { object, array, string, number, boolean, null };
JsonType json_type(std::string_view json) noexcept;

/// A JSON string token (with its quotes, valid) decoded to UTF-8. nullopt when
/// `token` is not a string. A lone surrogate escape decodes to U+FFFD.
std::optional<std::string> json_string_value(std::string_view token);

}  // namespace ipc
