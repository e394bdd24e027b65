// Pins json_reader.h: one member, one string, a value's kind, read from valid text
// without building it (man/ipcat.1, PROTOCOL: byte-exact).
#include "ipc/wire/json_reader.h"

#include <gtest/gtest.h>

#include <string_view>

namespace {

TEST(JsonReader, TopLevelMemberIsReadWithoutBuildingTheValue) {
  std::string_view j = R"({"error":{"code":3},"type":"Forbidden","n":12345678901234567890123,"s":"a\"b","x":[1,{"type":"no"}]})";
  EXPECT_EQ(ipc::top_level_member(j, "error"), R"({"code":3})");
  EXPECT_EQ(ipc::top_level_member(j, "type"), R"("Forbidden")");
  EXPECT_EQ(ipc::top_level_member(j, "n"), "12345678901234567890123");
  EXPECT_EQ(ipc::top_level_member(j, "s"), R"("a\"b")");
  EXPECT_EQ(ipc::top_level_member(j, "x"), R"([1,{"type":"no"}])");
  EXPECT_FALSE(ipc::top_level_member(j, "code"));  // nested members are not top-level
  EXPECT_FALSE(ipc::top_level_member("[1,2]", "a"));
  EXPECT_FALSE(ipc::top_level_member("{}", "a"));
  EXPECT_EQ(ipc::top_level_member(R"({"a":1,"a":2})", "a"), "2");  // the last one counts
  EXPECT_EQ(ipc::top_level_member(R"( { "a" : "x" , "b" : true } )", "b"), "true");
  EXPECT_EQ(ipc::top_level_member(R"({"\u006dethod":"m"})", "method"), R"("m")");
  EXPECT_EQ(ipc::top_level_member(R"({"k\\":1,"k":2})", "k"), "2");
  // check_json accepts a leading byte-order mark, so the member is found behind one
  // (json_diff_fuzz found {"cmd":"ring","n?":1} missed: a routed request would be too)
  EXPECT_EQ(ipc::top_level_member("\xEF\xBB\xBF{\"n?\":1}", "n?"), "1");
  EXPECT_EQ(ipc::json_type("\xEF\xBB\xBF{}"), ipc::JsonType::object);
}

TEST(JsonReader, StringValuesAreDecoded) {
  EXPECT_EQ(ipc::json_string_value(R"("\u00e9\n\"\\\/")"), "\xc3\xa9\n\"\\/");
  EXPECT_EQ(ipc::json_string_value(R"("\ud83d\ude00")"), "\xf0\x9f\x98\x80");
  EXPECT_EQ(ipc::json_string_value(R"("plain")"), "plain");
  EXPECT_FALSE(ipc::json_string_value("12"));
  EXPECT_EQ(ipc::json_type(" {\"a\":1}"), ipc::JsonType::object);
  EXPECT_EQ(ipc::json_type("-1"), ipc::JsonType::number);
  EXPECT_EQ(ipc::json_type("false"), ipc::JsonType::boolean);
}

}  // namespace
