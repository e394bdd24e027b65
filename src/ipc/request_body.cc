#include "ipc/request_body.h"

#include <cerrno>
#include <fstream>
#include <sstream>

#include "ipc/error.h"

namespace ipc {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_errno(path, errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Json parse_or_throw(std::string_view text, const std::string& where) {
  std::string why;
  auto v = parse_json(text, &why);
  if (!v) throw Error(ErrorKind::invalid_input, where + ": not valid JSON: " + why);
  return std::move(*v);
}

bool looks_like_json_body(const std::string& w) {
  std::string_view t = trim(w);
  return !t.empty() && (t.front() == '{' || t.front() == '[' || t.front() == '"');
}

}  // namespace

Json body_from_words(const std::vector<std::string>& words) {
  if (words.size() == 1) {
    const std::string& only = words.front();
    if (is_json(only)) return *parse_json(only);
    // Meant as a body, but broken: that is bad input (65), not a usage error.
    if (looks_like_json_body(only)) return parse_or_throw(only, "body");
  }
  Json body = Json::object();
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
    if (raw_json) {
      body[key] = parse_or_throw(value, "item '" + key + "'");
    } else {
      body[key] = value;
    }
  }
  return body;
}

}  // namespace ipc
