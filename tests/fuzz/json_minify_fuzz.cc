// Property fuzz target: removing whitespace never changes a value
// (src/ipc/wire/json_text.h; man/ipcat.1, PROTOCOL: byte-exact).
//
// For text the validator accepts (input or amplified input, amplify.h):
//   - minify_json's output is valid, compact, and minifies to itself;
//   - it differs from the input only by whitespace outside strings (checked by
//     removing those bytes from the input independently) — so numbers, escapes,
//     key order and duplicate keys are exactly as written;
//   - nlohmann parses input and output to equal values (unless a number overflows
//     a double), and pretty_json() of it parses to that value too;
//   - compact_form() and strip_json_whitespace() are the same text;
//   - compact_lines() takes the text as a line exactly when it is compact.
// For text it refuses, minify_json leaves the output untouched and
// compact_lines() does not take it.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include "amplify.h"
#include "ipc/wire/json_text.h"
#include "ipc/wire/json_value.h"

namespace {

[[noreturn]] void fail(const char* what) { fuzz::fail("json_minify_fuzz", what); }
using fuzz::k_limit;

// The input without whitespace outside strings, by a separate, obvious walk.
std::string strip_outside_strings(std::string_view s) {
  std::string out;
  bool in_string = false, escaped = false;
  for (char c : s) {
    if (in_string) {
      out += c;
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      out += c;
      if (c == '"') in_string = true;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input = fuzz::amplify(data, size);
  std::string out = "prefix:";
  fuzz::ExactCopy exact(input);
  ipc::JsonCheck check = ipc::minify_json(exact.view(), out, k_limit);
  if (input.find('\n') == std::string::npos) {
    auto run = ipc::compact_lines(input + "\n", std::numeric_limits<std::size_t>::max(), k_limit);
    if ((run.lines == 1) != (check.ok() && check.compact)) fail("compact_lines disagrees with the check");
  }
  if (!check) {
    if (out != "prefix:") fail("a refused text changed the output");
    return 0;
  }
  std::string_view compact = std::string_view(out).substr(7);
  if (compact != strip_outside_strings(ipc::strip_bom(input))) fail("minify changed more than whitespace outside strings");
  ipc::JsonCheck again = ipc::check_json(compact, k_limit);
  if (!again || !again.compact) fail("minified text is not valid and compact");
  if (check.compact != (compact == std::string_view(input))) fail("compact flag disagrees with the text");
  auto cf = ipc::compact_form(input, nullptr, k_limit);
  if (!cf || *cf != compact) fail("compact_form differs from minify_json");
  if (ipc::strip_json_whitespace(input) != compact) fail("strip_json_whitespace differs from minify_json");
  std::string pretty = ipc::pretty_json(compact);
  if (!ipc::check_json(pretty, k_limit)) fail("pretty_json made invalid text");
  try {
    ipc::Json a = ipc::Json::parse(input);
    if (ipc::Json::parse(compact) != a) fail("minify changed the value");
    if (ipc::Json::parse(pretty) != a) fail("pretty_json changed the value");
  } catch (const ipc::Json::out_of_range&) {
    // A number no double holds: still passed on as written (checked above).
  }
  return 0;
}
