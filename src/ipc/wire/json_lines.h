#pragma once
/// The JSON-line toolbox in one include: framing (line_decoder.h), byte-exact
/// validation (json_text.h) and ipcat's own small objects (json_value.h).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "ipc/wire/json_text.h"
#include "ipc/wire/json_value.h"
#include "ipc/wire/line_decoder.h"

namespace ipc {

/// `text` (one JSON value) in compact form, byte-exact: whitespace outside strings
/// removed, nothing else changed (json_text.h: minify_json). nullopt (and *why
/// set) when it is not valid JSON / UTF-8 or nests deeper than max_depth.
std::optional<std::string> compact_form(std::string_view text, std::string* why = nullptr,
                                        std::size_t max_depth = k_default_max_depth);

}  // namespace ipc
