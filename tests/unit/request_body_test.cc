#include "ipc/wire/request_body.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "ipc/base/error.h"

namespace {

using ipc::body_from_words;

ipc::ErrorKind kind_of(const std::vector<std::string>& words) {
  try {
    body_from_words(words);
  } catch (const ipc::Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no error";
  return ipc::ErrorKind::internal;
}

TEST(RequestBody, OneJsonArgumentIsTheBody) {
  EXPECT_EQ(body_from_words({"{ \"cmd\" : \"ping\" }"}), "{\"cmd\":\"ping\"}");
  EXPECT_EQ(body_from_words({"42"}), "42");
  EXPECT_EQ(body_from_words({"[1, 2]"}), "[1,2]");
  // One leading BOM is dropped, as on every path; a second is not JSON (the fuzzer
  // found BOM BOM 0 taken as the body 0: the BOM was dropped twice).
  EXPECT_EQ(body_from_words({"\xEF\xBB\xBF{\"a\":1}"}), "{\"a\":1}");
  EXPECT_EQ(kind_of({"\xEF\xBB\xBF\xEF\xBB\xBF" "0"}), ipc::ErrorKind::usage);
}

TEST(RequestBody, ItemsBuildAnObjectInOrder) {
  EXPECT_EQ(body_from_words({"method=connect", "n:=3", "flags:=[true]", "s=a=b", "empty="}),
            "{\"method\":\"connect\",\"n\":3,\"flags\":[true],\"s\":\"a=b\",\"empty\":\"\"}");
  // A value that looks like JSON stays a string with '='.
  EXPECT_EQ(body_from_words({"x=42"}), "{\"x\":\"42\"}");
}

TEST(RequestBody, FileItems) {
  char path[] = "/tmp/ipcat-body-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "{\"a\":1}\n";
  EXPECT_EQ(body_from_words({std::string("t=@") + path, std::string("j:=@") + path}),
            "{\"t\":\"{\\\"a\\\":1}\",\"j\":{\"a\":1}}");
  ::unlink(path);
  EXPECT_EQ(kind_of({std::string("t=@") + path}), ipc::ErrorKind::not_found);
}

TEST(RequestBody, BadWords) {
  EXPECT_EQ(kind_of({"hello"}), ipc::ErrorKind::usage);
  EXPECT_EQ(kind_of({"a=1", "hello"}), ipc::ErrorKind::usage);
  EXPECT_EQ(kind_of({"=x"}), ipc::ErrorKind::usage);
  EXPECT_EQ(kind_of({":=1"}), ipc::ErrorKind::usage);
  EXPECT_EQ(kind_of({"n:=nope"}), ipc::ErrorKind::invalid_input);
  EXPECT_EQ(kind_of({"{\"a\":"}), ipc::ErrorKind::invalid_input);
  EXPECT_EQ(kind_of({"\"unterminated"}), ipc::ErrorKind::invalid_input);
  EXPECT_EQ(kind_of({std::string(600, '[') + std::string(600, ']')}), ipc::ErrorKind::invalid_input);
  EXPECT_EQ(kind_of({"a:=" + std::string(600, '[') + std::string(600, ']')}), ipc::ErrorKind::invalid_input);
}

// man/ipcat.1, PROTOCOL: values are passed on as written, only whitespace
// outside strings is removed.
TEST(RequestBody, ValuesAreByteExact) {
  EXPECT_EQ(body_from_words({"{\"id\": 12345678901234567890123, \"a\":1, \"a\":2}"}),
            "{\"id\":12345678901234567890123,\"a\":1,\"a\":2}");
  EXPECT_EQ(body_from_words({"id:=18446744073709551617", "e:=1E2", "s:=\"\\u00e9\"", "f:=60.000000"}),
            "{\"id\":18446744073709551617,\"e\":1E2,\"s\":\"\\u00e9\",\"f\":60.000000}");
  EXPECT_EQ(body_from_words({"\xEF\xBB\xBF{\"bom\":1}"}), "{\"bom\":1}");
}

TEST(RequestBody, ARepeatedItemKeyKeepsItsPlaceAndTakesTheLastValue) {
  EXPECT_EQ(body_from_words({"a=1", "b=2", "a:=3"}), "{\"a\":3,\"b\":\"2\"}");
  EXPECT_EQ(body_from_words({"k\"q=v"}), "{\"k\\\"q\":\"v\"}");
  // Keys that read the same in JSON are one key (here: a byte that is not UTF-8
  // becomes U+FFFD, which is also written out).
  EXPECT_EQ(body_from_words({"a\xba=1", "a\xef\xbf\xbd=2"}), "{\"a\xef\xbf\xbd\":\"2\"}");
}

}  // namespace
