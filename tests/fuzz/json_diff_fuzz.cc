// Differential fuzz target: json_text.h's iterative validator against nlohmann_json
// (src/ipc/wire/json_text.h; man/ipcat.1, PROTOCOL).
//
// The input is one line's text (or an amplified one, amplify.h). Properties:
//   - check_json never crashes or stalls, at any depth (it has no recursion), and
//     never reads past the text (checked in a buffer of exactly its size);
//   - below the nesting limit it accepts exactly what nlohmann accepts (both skip
//     a leading byte-order mark; nlohmann stops at a NUL byte, ipcat refuses it);
//   - a text it accepts parses (nlohmann DOM) unless a number overflows a double,
//     and parse_json() agrees with it;
//   - top_level_member() finds each member nlohmann sees (the last of duplicates),
//     and check_json(text, depth, key) tells each of their keys there, no other.
//
// Built with -DIPCAT_FUZZ_NO_DEPTH_LIMIT, the limit is gone and the DOM built from
// deep input overflows the stack: the fuzzer finds that within seconds, which is
// what the limit protects every subcommand from.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "amplify.h"
#include "ipc/wire/json_text.h"
#include "ipc/wire/json_value.h"

namespace {

[[noreturn]] void fail(const char* what) { fuzz::fail("json_diff_fuzz", what); }
using fuzz::k_limit;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input = fuzz::amplify(data, size);
  fuzz::ExactCopy exact(input);
  std::string_view text = exact.view();
  ipc::JsonCheck ours = ipc::check_json(text, k_limit);
  if (ours.status == ipc::JsonCheck::Status::too_deep) {
    if (ours.offset > text.size()) fail("a too_deep offset past the end");
    return 0;  // beyond the limit nothing else looks at it: that is the point
  }
  bool has_nul = std::memchr(text.data(), '\0', text.size()) != nullptr;
  bool theirs = ipc::Json::accept(text);
  if (has_nul) {
    if (ours.ok()) fail("accepted a NUL byte");
  } else if (!ours.ok() && theirs) {
    fail("refused text nlohmann accepts");
  } else if (ours.ok() && !theirs) {
    // nlohmann refuses a number no double holds (1e400): valid JSON all the same.
    try {
      (void)ipc::Json::parse(text);
    } catch (const ipc::Json::out_of_range&) {
      return 0;
    } catch (const ipc::Json::exception&) {
    }
    fail("accepted text nlohmann refuses");
  }
  if (!ours.ok()) {
    if (ours.why.empty()) fail("refused without a reason");
    return 0;
  }
  std::string why;
  auto mine = ipc::parse_json(text, &why, k_limit);
  ipc::Json dom;
  try {
    dom = ipc::Json::parse(text);
  } catch (const ipc::Json::out_of_range&) {
    if (mine) fail("parse_json accepted a number that overflows a double");
    return 0;  // 1e400: valid JSON, and passed on as written, but no double holds it
  }
  if (!mine || *mine != dom) fail("parse_json disagrees with nlohmann");
  if (dom.is_object()) {
    for (auto it = dom.begin(); it != dom.end(); ++it) {
      auto member = ipc::top_level_member(text, it.key());
      if (!member) fail("top_level_member missed a member");
      if (ipc::Json::parse(*member) != it.value()) fail("top_level_member found another value");
      if (!ipc::check_json(text, k_limit, it.key()).has_key) fail("check_json missed a top-level key");
    }
    if (ipc::top_level_member(text, "\x01not a key")) fail("top_level_member found a key that is not there");
  }
  if (ipc::check_json(text, k_limit, "\x01not a key").has_key) fail("check_json found a key that is not there");
  return 0;
}
