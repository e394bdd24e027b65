// Pins json_text.h: byte-exact validation and minifying (man/ipcat.1, PROTOCOL).
#include "ipc/wire/json_text.h"

#include <gtest/gtest.h>

#include "ipc/wire/line_decoder.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

using ipc::check_json;
using ipc::JsonCheck;

std::string minified(std::string_view text, std::size_t depth = ipc::k_default_max_depth) {
  std::string out;
  JsonCheck c = ipc::minify_json(text, out, depth);
  EXPECT_TRUE(c.ok()) << text << ": " << c.why;
  return out;
}

TEST(JsonText, ValuesPassThroughByteExact) {
  for (const char* t : {"12345678901234567890123", "1E2", "-0.1000000000000000055511", "60.000000", "\"\\u00e9\"",
                        "{\"a\":1,\"a\":2}", "{\"z\":1,\"a\":2}", "\"\\/\"", "-0", "1e-400", "1e400"}) {
    JsonCheck c = check_json(t);
    EXPECT_TRUE(c.ok()) << t << ": " << c.why;
    EXPECT_TRUE(c.compact) << t;
    EXPECT_EQ(minified(t), t);
  }
}

TEST(JsonText, OnlyWhitespaceOutsideStringsIsRemoved) {
  EXPECT_EQ(minified(" { \"id\" : 12345678901234567890123 ,\t\"s\" : \"a b\\n\" , \"a\":[ 1 ,\r\n 2 ] } "),
            "{\"id\":12345678901234567890123,\"s\":\"a b\\n\",\"a\":[1,2]}");
  JsonCheck c = check_json("[1, 2]");
  EXPECT_TRUE(c.ok());
  EXPECT_FALSE(c.compact);
}

TEST(JsonText, InvalidTextSaysWhereAndLeavesTheOutputAlone) {
  for (const char* t : {"", "{", "{\"a\"}", "{\"a\":}", "[1,]", "[1 2]", "1 2", "01", "1.", "-", ".5", "1e", "+1",
                        "NaN", "Infinity", "tru", "nul", "{1:2}", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"",
                        "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a", "'a'", "[}", "{]"}) {
    std::string out = "kept";
    JsonCheck c = ipc::minify_json(t, out);
    EXPECT_EQ(c.status, JsonCheck::Status::invalid) << t;
    EXPECT_EQ(out, "kept") << t;
    EXPECT_NE(c.why.find("at byte "), std::string::npos) << t << ": " << c.why;
  }
  EXPECT_EQ(check_json("{\"a\":}").why, "at byte 5: unexpected '}', expected a value");
}

TEST(JsonText, Utf8IsChecked) {
  EXPECT_TRUE(check_json("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"").ok());
  for (std::string t : {"\"\xff\"", "\"\xc3\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
                        "\"\xe0\x80\xaf\"", "\"\x80\""}) {
    EXPECT_FALSE(check_json(t).ok()) << t;
  }
  EXPECT_FALSE(check_json(std::string("\"a\0b\"", 5)).ok());
  EXPECT_FALSE(check_json(std::string("{}\0", 3)).ok());
  EXPECT_FALSE(check_json("\"tab\there\"").ok());  // a raw control character
  JsonCheck bom = check_json("\xEF\xBB\xBF{}");  // a leading BOM is dropped like whitespace
  EXPECT_TRUE(bom.ok());
  EXPECT_FALSE(bom.compact);
  EXPECT_EQ(minified("\xEF\xBB\xBF {\"a\":1}"), "{\"a\":1}");
  EXPECT_FALSE(check_json("{}\xEF\xBB\xBF").ok());  // only a leading one
  EXPECT_EQ(ipc::strip_bom("\xEF\xBB\xBF{}"), "{}");
  EXPECT_EQ(ipc::strip_bom("{}"), "{}");
}

// The string scan goes eight bytes at a time: a byte that matters is seen at any
// offset inside such a block.
TEST(JsonText, EveryOffsetInALongStringIsChecked) {
  for (std::size_t at = 0; at < 24; ++at) {
    std::string pad_before(at, 'a'), pad_after(24 - at, 'b');
    EXPECT_FALSE(check_json("\"" + pad_before + "\x01" + pad_after + "\"").ok()) << at;
    EXPECT_FALSE(check_json("\"" + pad_before + "\xff" + pad_after + "\"").ok()) << at;
    EXPECT_TRUE(check_json("\"" + pad_before + "\xc3\xa9" + pad_after + "\"").ok()) << at;
    EXPECT_TRUE(check_json("\"" + pad_before + "\\\"" + pad_after + "\"").ok()) << at;
    EXPECT_FALSE(check_json("[\"" + pad_before + "\"," + pad_after + "1]").ok()) << at;  // a bare word
    EXPECT_EQ(minified("[\"" + pad_before + "\" , \"" + pad_after + "\"]"), "[\"" + pad_before + "\",\"" + pad_after + "\"]");
    EXPECT_EQ(ipc::top_level_member("{\"k\":\"" + pad_before + "\\\"" + pad_after + "\",\"z\":1}", "z"), "1") << at;
  }
}

// The string scan ends a text by looking again at its last 16 bytes: what it
// finds there is where it is, for a string ending anywhere near the end, in a
// text of any length.
TEST(JsonText, TheLastBytesOfATextAreChecked) {
  for (std::size_t len = 0; len < 40; ++len) {
    for (std::size_t at = 0; at <= len; ++at) {
      std::string before = "[\"" + std::string(at, 'a'), after = std::string(len - at, 'b') + "\"]";
      EXPECT_EQ(check_json(before + "\x01" + after).offset, at + 2) << len << " " << at;
      EXPECT_EQ(check_json(before + "\xff" + after).offset, at + 2) << len << " " << at;
      EXPECT_TRUE(check_json(before + "\\\"" + after).ok()) << len << " " << at;
      EXPECT_TRUE(check_json(before + "\xc3\xa9" + after).ok()) << len << " " << at;
      JsonCheck open = check_json(before + after.substr(0, after.size() - 2));
      EXPECT_EQ(open.why, "at byte " + std::to_string(len + 2) + ": unexpected end of text inside a string") << len;
    }
  }
}

TEST(JsonText, TheCheckCanLookForATopLevelMember) {
  EXPECT_TRUE(check_json("{\"id\":1,\"error\":\"boom\"}", 512, "error").has_key);
  EXPECT_TRUE(check_json("{ \"\\u0065rror\" : null }", 512, "error").has_key);  // compared unescaped
  EXPECT_TRUE(check_json("{\"\":1}", 512, "").has_key);
  for (const char* t : {"{\"a\":{\"error\":1}}", "{\"errors\":1}", "{\"x\":\"error\"}", "[\"error\"]", "\"error\"",
                        "{\"\\u0065rrors\":1}", "{}", "{\"error\":}"}) {
    EXPECT_FALSE(check_json(t, 512, "error").has_key) << t;
  }
  EXPECT_FALSE(check_json("{\"error\":1}").has_key);  // only when asked
}

TEST(JsonText, NestingIsBoundedWithoutRecursion) {
  std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  JsonCheck c = check_json(deep);
  EXPECT_EQ(c.status, JsonCheck::Status::too_deep);
  EXPECT_EQ(c.offset, ipc::k_default_max_depth);
  EXPECT_NE(c.why.find("limit of 512"), std::string::npos) << c.why;
  std::string objects;
  for (int i = 0; i < 1000000; ++i) objects += "{\"a\":";
  EXPECT_EQ(check_json(objects).status, JsonCheck::Status::too_deep);
  // Exactly at the limit is fine; one more is not.
  std::string at = std::string(512, '[') + std::string(512, ']');
  EXPECT_TRUE(check_json(at).ok());
  EXPECT_EQ(check_json("[" + at + "]").status, JsonCheck::Status::too_deep);
  EXPECT_TRUE(check_json(deep, 2000000).ok());  // an explicit higher limit, still no recursion
}

TEST(JsonText, PrettyReindentsAndKeepsValues) {
  EXPECT_EQ(ipc::pretty_json(R"({"a":[1,1E2,{}],"b":{"c":"x, y: {z}"},"d":[]})"),
            "{\n  \"a\": [\n    1,\n    1E2,\n    {}\n  ],\n  \"b\": {\n    \"c\": \"x, y: {z}\"\n  },\n  \"d\": []\n}");
  EXPECT_EQ(ipc::pretty_json("12345678901234567890123"), "12345678901234567890123");
  EXPECT_EQ(ipc::pretty_json(R"({ "a" : 1 })"), "{\n  \"a\": 1\n}");
}

TEST(JsonText, QuoteEscapesWhatJsonNeeds) {
  EXPECT_EQ(ipc::quote_json("a\"b\\c\n\x01\xc3\xa9"), "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
  EXPECT_EQ(ipc::quote_json("\xff"), "\"\xef\xbf\xbd\"");
  EXPECT_TRUE(check_json(ipc::quote_json(std::string("\0\x7f\xc3", 3))).ok());
}

// The validator agrees with nlohmann on a sample of texts (the json fuzzer does
// this at scale): accepted exactly when nlohmann parses, and minifying never
// changes the value.
TEST(JsonText, AgreesWithNlohmann) {
  for (const char* t : {"{\"a\":[1,2,{\"b\":null}]}", " [ true , false , null ] ", "\"\\ud83d\\ude00\"", "[1,]", "{\"a\" 1}",
                        "[\"\\u0000\"]", "1.5e+3", "[-]", "{\"\":\"\"}"}) {
    bool ours = check_json(t).ok();
    bool theirs = nlohmann::ordered_json::accept(t);
    EXPECT_EQ(ours, theirs) << t;
    if (ours) {
      EXPECT_EQ(nlohmann::ordered_json::parse(minified(t)), nlohmann::ordered_json::parse(t)) << t;
    }
  }
}

// The echo handler's second pass over a validated line: minify_json's bytes.
TEST(JsonText, StripJsonWhitespaceIsMinifyWithoutTheCheck) {
  for (const char* t : {" { \"id\" : 12345678901234567890123 ,\t\"s\" : \"a b\\n\\\" c\" , \"a\":[ 1 ,\r\n 2 ] } ",
                        "\xEF\xBB\xBF [1, \"\\\\\", \"x y\"]", "\"  \"", "1E2", " null ", "{\"a\" :{ \"b\": [ ] } }",
                        "[\"\xc3\xa9 \\u00e9\", -0.5e+3 ]", "{\"\\\"\\\\\" : \" \\\\\"}"}) {
    EXPECT_EQ(ipc::strip_json_whitespace(t), minified(t)) << t;
  }
}

// --- compact_lines: the runs `ipcat request` sends (and prints) in one copy ---

/// What a client makes of `input` fed `chunk` bytes at a time: each line the
/// decoder returns minified (BOM dropped, as request does), up to the first bad
/// one, which is described after the output as "!line N: why" / "!too long".
/// With `runs`, compact_lines() takes what it can first, as pipeline() does.
std::string send_all(std::string_view input, std::size_t chunk, bool runs, std::size_t max_line = 64,
                     std::size_t depth = 4, std::string_view key = {}) {
  ipc::LineDecoder decoder(max_line);
  std::string out;
  std::size_t number = 0;
  for (std::size_t at = 0;;) {
    if (at < input.size()) {
      decoder.feed(input.substr(at, chunk));
      at += chunk;
    } else {
      decoder.finish();
    }
    for (;;) {
      if (runs) {
        auto run = ipc::compact_lines(decoder.whole_lines(), max_line, depth, key);
        out.append(decoder.whole_lines().substr(0, run.bytes));
        decoder.skip(run.bytes);
        number += run.lines;
      }
      auto r = decoder.next();
      if (r.status == ipc::LineDecoder::Status::too_long) return out + "!too long";
      if (r.status == ipc::LineDecoder::Status::end) return out;
      if (r.status == ipc::LineDecoder::Status::need_more) break;
      ++number;
      std::string_view line = ipc::strip_bom(r.line);
      JsonCheck c = key.empty() ? check_json(line, depth) : check_json(line, depth, key);
      if (c.ok() && c.has_key) return out + "!line " + std::to_string(number) + ": has the key";
      if (!ipc::minify_json(line, out, depth)) return out + "!line " + std::to_string(number) + ": " + c.why;
      out += '\n';
    }
  }
}

TEST(JsonText, CompactLinesTakesOnlyLinesThatPassUnchanged) {
  std::string block = "{\"a\":1}\n[1,2]\n\"s\"\n{\"a\": 1}\n{\"b\":2}\n";
  auto run = ipc::compact_lines(block, 64, 4);
  EXPECT_EQ(run.lines, 3U);
  EXPECT_EQ(run.bytes, std::string("{\"a\":1}\n[1,2]\n\"s\"\n").size());
  // Each of these stops a run at once: the per-line path has something to do.
  for (const char* first : {"{\"a\": 1}\n", " {}\n", "{} \n", "{}\r\n", "\n", "\xEF\xBB\xBF{}\n", "{\"a\":}\n", "[[[[[1]]]]]\n",
                            "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29]\n",
                            "{\"error\":1}\n", "{\"e\\u0072ror\":1}\n", "{}"}) {
    run = ipc::compact_lines(std::string(first) + "{}\n", 64, 4, "error");
    EXPECT_EQ(run.lines, 0U) << first;
    EXPECT_EQ(run.bytes, 0U) << first;
  }
  // A nested "error" is not a top-level member; without a key any member passes.
  EXPECT_EQ(ipc::compact_lines("{\"r\":{\"error\":1}}\n", 64, 4, "error").lines, 1U);
  EXPECT_EQ(ipc::compact_lines("{\"error\":1}\n", 64, 4).lines, 1U);
  // A last line without its '\n' is not whole yet.
  EXPECT_EQ(ipc::compact_lines("{}\n{}", 64, 4).bytes, 3U);
}

// Runs of compact lines mixed with spaced, invalid, too-deep, too-long, blank,
// BOM and CRLF lines: the same bytes sent, and the same verdict on the same line
// number, as line by line, however the input is split.
TEST(JsonText, CompactRunsGiveTheSameBytesAsLineByLine) {
  const std::vector<std::string> lines = {
      "{\"id\":1,\"s\":\"a b\"}", "[1,2,{\"x\":null}]", "12345678901234567890123", "\"\\u00e9\"",
      "{\"a\": [1, 2]}", "  {\"b\":1}  ", "{\"c\":1}\r", "", "   ", "\xEF\xBB\xBF{\"bom\":1}", "\xEF\xBB\xBF \"x\"",
      "[[[[1]]]]", "{\"error\":\"e\"}", "{\"r\":{\"error\":1}}", "\"\xc3\xa9\""};
  const std::vector<std::string> bad = {"{\"a\":}", "[[[[[1]]]]]", std::string(80, '1'), "[1,2", "\"\x01\"", "\"\xff\""};
  std::uint32_t seed = 13;
  auto next = [&seed] { return seed = seed * 1103515245U + 12345U, (seed >> 16) & 0x7fff; };
  for (int trial = 0; trial < 300; ++trial) {
    std::string input;
    for (std::size_t n = 1 + next() % 12; n > 0; --n) input += lines[next() % lines.size()] + "\n";
    if (trial % 3 == 0) input += bad[next() % bad.size()] + "\n" + lines[0] + "\n";
    if (trial % 4 == 0) input += lines[next() % lines.size()];  // a last line without '\n'
    std::string_view key = trial % 2 == 0 ? std::string_view("error") : std::string_view();
    for (std::size_t chunk : {std::size_t{1}, std::size_t{5}, std::size_t{17}, input.size() + 1}) {
      std::string expected = send_all(input, chunk, false, 64, 4, key);
      EXPECT_EQ(send_all(input, chunk, true, 64, 4, key), expected) << "input: " << input << " chunk " << chunk;
    }
  }
}

}  // namespace
