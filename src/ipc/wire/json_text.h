#pragma once
/// JSON as text: validated and passed through byte-exact (man/ipcat.1,
/// PROTOCOL). ipcat never re-encodes a user's value: numbers, string escapes, key
/// order and duplicate keys reach the other side exactly as written. The only change
/// it makes is removing whitespace outside strings, so a value fits on one line.
///
/// Everything here is iterative (an explicit nesting stack, bounded by max_depth):
/// no input of any depth or size can overflow the call stack. No DOM is built.
///
///   check_json(text)            valid? already compact?        -> JsonCheck
///   check_json(text, depth, k)  the same, and is there a top-level member k?
///   minify_json(text, out)      the same, and appends the compact text to `out`
///   compact_lines(bytes, ...)   the leading run of lines that pass as they are
///   strip_json_whitespace(json) compact form of text already validated
///   pretty_json(json)           re-indented, every value byte-exact
///   quote_json(s)               s as a JSON string literal (for ipcat's own messages)
///
/// Reading one member or one string of text this accepted is json_reader.h, which
/// this header includes.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "ipc/wire/json_reader.h"

namespace ipc {

/// Default nesting limit (--max-depth).
inline constexpr std::size_t k_default_max_depth = 512;

/// The verdict on one text.
struct JsonCheck {
  enum class Status {
    ok,        ///< exactly one JSON value (RFC 8259) in valid UTF-8
    invalid,   ///< not JSON, not UTF-8, a NUL byte, trailing bytes, ...
    too_deep,  ///< nesting beyond max_depth: refused before looking further
  };
  Status status = Status::invalid;
  bool compact = false;     ///< ok, and no whitespace outside strings: already its compact form
  bool has_key = false;     ///< ok, and the top-level object has a member named the `key` asked for
  std::size_t offset = 0;   ///< invalid/too_deep: byte offset where it went wrong
  std::string why;          ///< invalid/too_deep: e.g. "at byte 7: expected ':' after an object key"

  bool ok() const noexcept { return status == Status::ok; }
  explicit operator bool() const noexcept { return ok(); }
};

/// Validates `text` as exactly one JSON value; surrounding whitespace is allowed,
/// and so is a leading UTF-8 byte-order mark (dropped by minify_json, like
/// whitespace: the text is then not compact).
JsonCheck check_json(std::string_view text, std::size_t max_depth = k_default_max_depth);

/// As check_json(), and in the same pass looks for a top-level member named `key`
/// (compared after unescaping): JsonCheck::has_key. For a reply that
/// needs one member read, a second scan saved.
JsonCheck check_json(std::string_view text, std::size_t max_depth, std::string_view key);

/// As check_json(), and on success appends `text` without its insignificant
/// whitespace to `out` (strings and numbers byte for byte). On failure `out` is
/// left as it was.
JsonCheck minify_json(std::string_view text, std::string& out, std::size_t max_depth = k_default_max_depth);

/// A run of whole lines at the start of a buffer (compact_lines()).
struct CompactRun {
  std::size_t bytes = 0;  ///< its length, each line's '\n' included
  std::size_t lines = 0;  ///< how many lines
};

/// Of `block` (whole lines of a stream of JSON lines, LineDecoder::whole_lines()), the
/// longest prefix of whole lines ('\n'-terminated) that each pass through
/// unchanged: exactly what LineDecoder::next() would return (no surrounding
/// whitespace or '\r', not blank, at most `max_line` bytes), no byte-order mark,
/// one valid JSON text (check_json() within `max_depth`) already compact, and,
/// when `key` is not empty, without a top-level member named `key`. Such a run
/// can be sent on in one copy; the line after it (if any) is for the per-line
/// path, which gives its verdict, error or compact form as for any line.
CompactRun compact_lines(std::string_view block, std::size_t max_line, std::size_t max_depth,
                         std::string_view key = {});

/// `json` (valid: check_json() accepted it) in compact form without checking it
/// again: minify_json()'s output (a leading byte-order mark and whitespace
/// outside strings dropped, nothing else), at the cost of one plain scan.
std::string strip_json_whitespace(std::string_view json);

/// `json` (valid) re-indented by `indent` spaces a level, as jq does; values byte-exact.
std::string pretty_json(std::string_view json, int indent = 2);

/// `s` as a JSON string literal: quotes, escapes for '"', '\\' and control
/// characters; invalid UTF-8 replaced by U+FFFD. For text ipcat writes itself.
std::string quote_json(std::string_view s);

/// `text` (one JSON value) in compact form, byte-exact: whitespace outside strings
/// removed, nothing else changed (json_text.h: minify_json). nullopt (and *why
/// set) when it is not valid JSON / UTF-8 or nests deeper than max_depth.
std::optional<std::string> compact_form(std::string_view text, std::string* why = nullptr,
                                        std::size_t max_depth = k_default_max_depth);

}  // namespace ipc
