// Pins json_value.h: the nlohmann side, ipcat's own small objects (error replies,
// log lines) and the validation in front of parse_json.
#include "ipc/wire/json_value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace {

TEST(Json, ValidatesJsonAndUtf8) {
  EXPECT_TRUE(ipc::is_json("{\"a\":[1,2,{\"b\":null}]}"));
  EXPECT_TRUE(ipc::is_json("\"\xc3\xa9\""));
  EXPECT_FALSE(ipc::is_json("{\"a\":}"));
  EXPECT_FALSE(ipc::is_json("1 2"));
  EXPECT_FALSE(ipc::is_json("\"\xff\""));        // invalid UTF-8
  EXPECT_FALSE(ipc::is_json("\"\xc3\""));        // truncated sequence
  EXPECT_FALSE(ipc::is_json(std::string("\"a\0b\"", 5)));
  EXPECT_FALSE(ipc::is_json("NaN"));
  std::string why;
  EXPECT_FALSE(ipc::parse_json("{", &why));
  EXPECT_FALSE(why.empty());
}

TEST(Json, EncodesCompactlyInGivenKeyOrder) {
  auto v = ipc::parse_json("{ \"z\" : 1 , \"a\" : [ 1 , 2 ] , \"m\" : { \"y\":true, \"b\":null } }");
  ASSERT_TRUE(v);
  EXPECT_EQ(ipc::encode(*v), "{\"z\":1,\"a\":[1,2],\"m\":{\"y\":true,\"b\":null}}");
}

TEST(Json, NeverEmitsNaNOrInvalidUtf8) {
  ipc::Json j = std::nan("");
  EXPECT_EQ(ipc::encode(j), "null");
  ipc::Json s = std::string("a\xff" "b");
  EXPECT_TRUE(ipc::is_json(ipc::encode(s)));
}

TEST(Json, ErrorObjectHasErrorThenType) {
  EXPECT_EQ(ipc::encode(ipc::error_object("ParseError", "bad")), "{\"error\":\"bad\",\"type\":\"ParseError\"}");
}

}  // namespace
