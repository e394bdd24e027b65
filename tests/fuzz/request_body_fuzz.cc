// Fuzz target for ipc::body_from_words (src/ipc/wire/request_body.h).
//
// The input is a list of command-line words separated by NUL bytes (argv cannot
// hold a NUL, so no word does). Properties:
//   - the only exception is ipc::Error, of a kind the contract names
//     (usage, invalid_input; not_found / permission only for @file items);
//   - the body is exactly one valid JSON value, compact (man/ipcat.1, PROTOCOL);
//   - a single word that is valid JSON is the body itself, minus whitespace outside
//     strings (byte-exact);
//   - otherwise the body is an object with one key per distinct item key, and a
//     `key=value` item's value is that string (the last one wins for a repeated
//     key; text that is not UTF-8 is replaced as quote_json() does).
// Items whose value starts with '@' read a file; the target turns such words into
// plain items (the '@' becomes '#') so that fuzzing never reads the file system.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "ipc/base/error.h"
#include "ipc/wire/json_text.h"
#include "ipc/wire/json_value.h"
#include "ipc/wire/request_body.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "request_body_fuzz: property violated: %s\n", what);
  std::abort();
}

std::vector<std::string> split_words(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> words(1);
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      words.emplace_back();
    } else {
      words.back() += static_cast<char>(data[i]);
    }
  }
  for (std::string& w : words) {
    auto eq = w.find('=');
    if (eq != std::string::npos && eq + 1 < w.size() && w[eq + 1] == '@') w[eq + 1] = '#';
  }
  return words;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> words = split_words(data, size);
  std::string body;
  try {
    body = ipc::body_from_words(words);
  } catch (const ipc::Error& e) {
    if (e.kind() != ipc::ErrorKind::usage && e.kind() != ipc::ErrorKind::invalid_input)
      fail("an error of a kind the contract does not name for words without @file");
    return 0;
  }
  // Anything else thrown escapes and libFuzzer reports it as a crash.

  ipc::JsonCheck check = ipc::check_json(body);
  if (!check || !check.compact) fail("the body is not one valid, compact JSON value");

  if (words.size() == 1 && ipc::is_json(words.front())) {
    if (body != *ipc::compact_form(words.front())) fail("a JSON body is not returned as given");
    return 0;
  }
  if (ipc::json_type(body) != ipc::JsonType::object) fail("items did not build an object");
  ipc::Json dom;
  try {
    dom = ipc::Json::parse(body);
  } catch (const ipc::Json::out_of_range&) {
    return 0;  // a := number no double holds: passed on as written, not comparable here
  }
  std::map<std::string, std::string> strings;  // key=value items: the last value of each key
  std::size_t keys = 0;
  std::map<std::string, bool> seen;
  for (const std::string& w : words) {
    auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0) fail("a word without '=' was accepted as an item");
    bool raw = w[eq - 1] == ':';
    std::string key = *ipc::json_string_value(ipc::quote_json(w.substr(0, raw ? eq - 1 : eq)));
    if (!seen[key]) {
      seen[key] = true;
      ++keys;
    }
    if (raw) {
      strings.erase(key);
    } else {
      strings[key] = *ipc::json_string_value(ipc::quote_json(w.substr(eq + 1)));
    }
  }
  if (dom.size() != keys) fail("the object does not have one key per distinct item key");
  for (const auto& [key, value] : strings) {
    auto it = dom.find(key);
    if (it == dom.end() || !it->is_string() || it->get_ref<const std::string&>() != value)
      fail("a key=value item's value is not that string");
  }
  return 0;
}
