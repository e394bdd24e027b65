#pragma once
/// Building one request from command-line words (DESIGN.md §5), httpie style:
///
///   '{"cmd":"ping"}'            one argument that is JSON: the body itself
///   key=string  key:=json       items: build an object, keys in the order given
///   key=@file   key:=@file      the value is read from a file (text / JSON)

#include <string>
#include <vector>

#include "ipc/json_lines.h"

namespace ipc {

/// The body the words describe. Throws Error: usage (a word that is neither JSON
/// nor an item), invalid_input (a `:=` value or a JSON body that does not parse),
/// not_found / permission (an @file that cannot be read).
Json body_from_words(const std::vector<std::string>& words);

}  // namespace ipc
