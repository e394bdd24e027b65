// Fuzz target for the JSON helpers every request and reply goes through
// (src/ipc/json_lines.h, and src/ipc/json_scan.h when present).
//
// The input is one line's text. Properties:
//   - parse_json never throws (its contract: nullopt and a reason for bad input),
//     and is_json agrees with it;
//   - encode() of a parsed value is valid JSON that parses back to an equal value,
//     and encoding is stable (encode(parse(encode(v))) == encode(v));
//   - scan_json agrees with the parser: `invalid` only for text the parser rejects,
//     `compact` only for text the parser accepts and that has no surrounding
//     whitespace; compact_form() is valid exactly when the text is, and is JSON for
//     the same value (a number may be spelled differently, e.g. a big integer kept
//     as given by the fast path).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ipc/json_lines.h"
#if __has_include("ipc/json_scan.h")
#include "ipc/json_scan.h"
#define IPCAT_FUZZ_HAS_SCAN 1
#endif

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "json_fuzz: property violated: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string why;
  auto value = ipc::parse_json(text, &why);  // an exception escaping here is a finding
  bool valid = ipc::is_json(text);
  if (valid != value.has_value()) fail("is_json and parse_json disagree");
  if (!value && why.empty()) fail("parse_json gave no reason");

  std::string encoded;
  if (value) {
    encoded = ipc::encode(*value);
    auto again = ipc::parse_json(encoded);
    if (!again) fail("encode() produced text that does not parse");
    if (*again != *value) fail("encode() does not round-trip");
    if (ipc::encode(*again) != encoded) fail("encode() is not stable");
  }

#ifdef IPCAT_FUZZ_HAS_SCAN
  switch (ipc::scan_json(text)) {
    case ipc::JsonScan::invalid:
      if (valid) fail("scan_json says invalid, the parser accepts it");
      break;
    case ipc::JsonScan::compact:
      if (!valid) fail("scan_json says compact, the parser rejects it");
      if (ipc::trim(text) != text) fail("scan_json says compact for text with surrounding whitespace");
      break;
    case ipc::JsonScan::reencode:
      break;
  }
  std::string compact_why;
  auto compact = ipc::compact_form(text, &compact_why);
  if (compact.has_value() != valid) fail("compact_form and parse_json disagree on validity");
  if (compact) {
    auto same = ipc::parse_json(*compact);
    if (!same || *same != *value) fail("compact_form is not the same value as parse_json gives");
  }
#endif
  return 0;
}
