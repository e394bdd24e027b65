#include "ipc/wire/request_body.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <utility>

#include "ipc/base/error.h"
#include "ipc/wire/line_decoder.h"

namespace ipc {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_errno(path, errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// `text` compact and byte-exact, or Error{invalid_input} naming `where`.
std::string compact_or_throw(std::string_view text, const std::string& where, std::size_t max_depth) {
  std::string out;
  JsonCheck check = minify_json(text, out, max_depth);  // (a leading BOM is dropped there)
  if (!check) throw Error(ErrorKind::invalid_input, where + ": not valid JSON: " + check.why);
  return out;
}

bool looks_like_json_body(const std::string& w) {
  std::string_view t = trim(strip_bom(w));
  return !t.empty() && (t.front() == '{' || t.front() == '[' || t.front() == '"');
}

}  // namespace

std::string body_from_words(const std::vector<std::string>& words, std::size_t max_depth) {
  if (words.size() == 1) {
    const std::string& only = words.front();
    std::string out;
    JsonCheck check = minify_json(only, out, max_depth);  // (a leading BOM is dropped there)
    if (check) return out;
    // Meant as a body, but broken (or too deep): bad input (65), not a usage error.
    if (looks_like_json_body(only) || check.status == JsonCheck::Status::too_deep)
      throw Error(ErrorKind::invalid_input, "body: not valid JSON: " + check.why);
  }
  // key (as a JSON string, so keys that read the same are one) -> value text, in
  // the order keys first appear.
  std::vector<std::pair<std::string, std::string>> members;
  for (const std::string& word : words) {
    auto eq = word.find('=');
    if (eq == std::string::npos || eq == 0 || (eq == 1 && word[0] == ':'))
      throw Error(ErrorKind::usage, "'" + word + "': not a JSON body and not an item (key=value, key:=json, key=@file)");
    bool raw_json = word[eq - 1] == ':';
    std::string key = word.substr(0, raw_json ? eq - 1 : eq);
    std::string value = word.substr(eq + 1);
    bool from_file = !value.empty() && value.front() == '@';
    if (from_file) {
      value = read_file(value.substr(1));
      // Text read from a file loses its final newline, as in $(cat file).
      if (!raw_json && !value.empty() && value.back() == '\n') value.pop_back();
    }
    std::string text = raw_json ? compact_or_throw(value, "item '" + key + "'", max_depth) : quote_json(value);
    std::string key_text = quote_json(key);
    auto same = std::find_if(members.begin(), members.end(), [&](const auto& m) { return m.first == key_text; });
    if (same != members.end()) {
      same->second = std::move(text);
    } else {
      members.emplace_back(std::move(key_text), std::move(text));
    }
  }
  std::string body = "{";
  for (const auto& [k, v] : members) {
    if (body.size() > 1) body += ',';
    body += k;
    body += ':';
    body += v;
  }
  body += '}';
  return body;
}

}  // namespace ipc
