#include "ipc/json_scan.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "ipc/json_lines.h"

namespace {

using ipc::JsonScan;
using ipc::scan_json;

// The scanner may say "reencode" when unsure, but must never call valid JSON
// invalid, nor invalid JSON valid; "compact" must mean encode(parse(x)) keeps
// x's meaning with no whitespace.
void expect_consistent(const std::string& text) {
  JsonScan s = scan_json(text);
  bool valid = ipc::is_json(text);
  if (s == JsonScan::invalid) {
    EXPECT_FALSE(valid) << "scanner rejected valid: " << text;
  }
  if (s == JsonScan::compact) {
    EXPECT_TRUE(valid) << "scanner accepted invalid: " << text;
  }
}

TEST(JsonScan, CompactValuesPassAsTheyAre) {
  for (const char* t : {"{}", "[]", "0", "-0.5e+3", "\"x\"", "true", "false", "null", "{\"a\":[1,{\"b\":null}]}",
                        "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "\"\\u00e9\\n\\\"\""}) {
    EXPECT_EQ(scan_json(t), JsonScan::compact) << t;
  }
}

TEST(JsonScan, WhitespaceMeansReencode) {
  EXPECT_EQ(scan_json("{ \"a\":1}"), JsonScan::reencode);
  EXPECT_EQ(scan_json("[1, 2]"), JsonScan::reencode);
  EXPECT_EQ(scan_json("\"a b\""), JsonScan::compact);  // inside a string it is content
}

TEST(JsonScan, InvalidInputs) {
  for (const char* t : {"", "{", "}", "[1,]", "{\"a\"}", "{\"a\":}", "01", "1.", ".5", "1e", "-", "+1", "tru", "nul",
                        "\"\\x\"", "\"\\u12\"", "1 2", "\"\xff\"", "\"\xc3\"", "\"\xe0\x80\x80\"", "\"\xed\xa0\x80\"",
                        "\"\xf4\x90\x80\x80\"", "\"\xc0\xaf\"", "NaN", "Infinity", "'a'", "{\"a\":1,}"}) {
    EXPECT_EQ(scan_json(t), JsonScan::invalid) << t;
    EXPECT_FALSE(ipc::is_json(t)) << t;
  }
  EXPECT_EQ(scan_json(std::string("\"a\0b\"", 5)), JsonScan::invalid);
}

TEST(JsonScan, DeepNestingIsLeftToTheParser) {
  std::string deep(1000, '[');
  deep += std::string(1000, ']');
  EXPECT_EQ(scan_json(deep), JsonScan::reencode);
}

TEST(JsonScan, AgreesWithNlohmannOnMutations) {
  const std::vector<std::string> seeds = {"{\"method\":\"status\",\"args\":[1,2.5,-3e2,true,null],\"s\":\"\\u00e9\"}",
                                          "[\"\xc3\xa9\",{\"k\":{}},[]]", "\"\\ud83d\\ude00\""};
  const std::string alphabet = "{}[]\":,.-+eE0123456789tfnul\\ \t\xc3\xa9\xff\x80";
  std::mt19937 rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::string t = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !t.empty(); ++e) {
      std::size_t pos = rng() % t.size();
      switch (rng() % 3) {
        case 0: t.erase(pos, 1); break;
        case 1: t.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
        default: t[pos] = alphabet[rng() % alphabet.size()];
      }
    }
    expect_consistent(t);
  }
}

}  // namespace
