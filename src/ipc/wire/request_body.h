#pragma once
/// Building one request from command-line words (man/ipcat.1, ipcat request), httpie style:
///
///   '{"cmd":"ping"}'            one argument that is JSON: the body itself
///   key=string  key:=json       items: build an object, keys in the order given
///   key=@file   key:=@file      the value is read from a file (text / JSON)

#include <cstddef>
#include <string>
#include <vector>

#include "ipc/wire/json_text.h"

namespace ipc {

/// The body the words describe, as compact JSON text. Values are byte-exact
/// (man/ipcat.1, PROTOCOL): a BODY or a `:=` value is only stripped of
/// whitespace outside strings, never re-encoded; a repeated key keeps its first
/// place and takes the last value. Throws Error: usage (a word that is neither
/// JSON nor an item), invalid_input (a `:=` value or a JSON body that does not
/// parse, or nests deeper than max_depth), not_found / permission (an @file that
/// cannot be read).
std::string body_from_words(const std::vector<std::string>& words, std::size_t max_depth = k_default_max_depth);

}  // namespace ipc
