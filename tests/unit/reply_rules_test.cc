// The reply rules of man/ipcat.1 (ipcat request: which replies are errors, --match).
#include "ipc/wire/reply_rules.h"

#include <gtest/gtest.h>

namespace ipc {
namespace {

TEST(JudgeReply, OnlyIpcatShapeAndJsonRpc2AreErrors) {
  EXPECT_EQ(judge_reply(R"({"error":"boom","type":"HandlerFailed"})"), ReplyVerdict::error);
  EXPECT_EQ(judge_reply(R"({"jsonrpc":"2.0","id":1,"error":{"code":-1}})"), ReplyVerdict::error);
  EXPECT_EQ(judge_reply(R"({"data":"mpv","request_id":0,"error":"success"})"), ReplyVerdict::ok);
  EXPECT_EQ(judge_reply(R"({"id":1,"result":[],"error":null})"), ReplyVerdict::ok);
  EXPECT_EQ(judge_reply(R"({"id":1,"result":null,"error":{"code":1}})"), ReplyVerdict::error);  // JSON-RPC 1.0
  EXPECT_EQ(judge_reply(R"({"request_id":1,"error":"property not found"})"), ReplyVerdict::error);  // mpv
  EXPECT_EQ(judge_reply(R"({"error":"unknown command","version":"4.9.0"})"), ReplyVerdict::error);  // watchman
  EXPECT_EQ(judge_reply(R"({"error":false,"ok":1})"), ReplyVerdict::ok);
  EXPECT_EQ(judge_reply(R"(["error","type"])"), ReplyVerdict::ok);
  EXPECT_EQ(judge_reply(R"("error")"), ReplyVerdict::ok);
}

TEST(JudgeReply, MalformedErrorObjectsAreErrorsNotForbidden) {
  EXPECT_EQ(judge_reply(R"({"error":"x","type":5})"), ReplyVerdict::error);
  EXPECT_EQ(judge_reply(R"({"error":{"code":3},"type":"Forbidden"})"), ReplyVerdict::error);
  EXPECT_EQ(judge_reply(R"({"error":"no","type":"Forbidden"})"), ReplyVerdict::forbidden);
  EXPECT_EQ(judge_reply(R"({ "type" : "Forbidden" , "error" : "no" })"), ReplyVerdict::forbidden);
}

TEST(JudgeReply, AnEscapedKeyIsStillTheKey) {
  EXPECT_EQ(judge_reply(R"({"\u0065rror":"x","type":"T"})"), ReplyVerdict::error);
  // "error" only inside a nested value is no member.
  EXPECT_EQ(judge_reply(R"({"data":{"error":"x","type":"T"}})"), ReplyVerdict::ok);
}

// The look for the key goes 16 bytes at a time: the key, or an escape that may
// spell it, is seen at any offset, and so is the key cut off by the end.
TEST(JudgeReply, TheErrorMemberIsSeenAtAnyOffset) {
  for (std::size_t pad = 0; pad < 40; ++pad) {
    std::string before = "{\"p\":\"" + std::string(pad, 'e') + "\",";
    EXPECT_EQ(judge_reply(before + "\"error\":\"x\"}"), ReplyVerdict::error) << pad;
    EXPECT_EQ(judge_reply(before + "\"\\u0065rror\":\"x\"}"), ReplyVerdict::error) << pad;
    EXPECT_EQ(judge_reply(before + "\"erro\":\"x\"}"), ReplyVerdict::ok) << pad;
    EXPECT_EQ(judge_reply(before + "\"x\":\"error\"}"), ReplyVerdict::ok) << pad;
    EXPECT_EQ(judge_reply(before + "\"x\":1,\"error\":1}"), ReplyVerdict::error) << pad;  // at the very end
    EXPECT_EQ(judge_reply(before + "\"x\":1,\"\\u0065rror\":1}"), ReplyVerdict::error) << pad;
  }
}

TEST(ErrorMessage, TheStringErrorMember) {
  EXPECT_EQ(error_message(R"({"error":"peer uid 5 not allowed","type":"Forbidden"})"), "peer uid 5 not allowed");
  EXPECT_EQ(error_message(R"({"error":{"code":1}})"), "");
}

TEST(ReplyMatcher, NumbersRequestsWithoutTheKeyAsTheirLastMember) {
  ReplyMatcher m("request_id");
  std::string out;
  ASSERT_TRUE(m.prepare_into(R"({"command":["get_property","volume"]})", 1, out));
  EXPECT_EQ(out, R"({"command":["get_property","volume"],"request_id":1})");
  out.clear();
  ASSERT_TRUE(m.prepare_into("{}", 2, out));
  EXPECT_EQ(out, R"({"request_id":2})");
  out.clear();
  ASSERT_TRUE(m.prepare_into(R"({"request_id":"abc","x":1E2})", 3, out));
  EXPECT_EQ(out, R"({"request_id":"abc","x":1E2})");
  EXPECT_FALSE(m.prepare_into("[1]", 4, out));
  EXPECT_EQ(m.outstanding(), 3U);
}

TEST(ReplyMatcher, PushedLinesAreNotReplies) {
  ReplyMatcher m("id");
  std::string out;
  m.prepare_into(R"({"method":"a"})", 1, out);
  m.prepare_into(R"({"method":"b","id":7})", 2, out);
  EXPECT_FALSE(m.take(R"({"event":"tick"})"));
  EXPECT_FALSE(m.take(R"({"jsonrpc":"2.0","method":"progress"})"));
  EXPECT_FALSE(m.take(R"({"id":99,"result":1})"));
  EXPECT_TRUE(m.take(R"({"id":7,"result":1})"));
  EXPECT_FALSE(m.take(R"({"id":7,"result":1})"));  // answered once
  EXPECT_TRUE(m.take(R"({"result":2, "id": 1})"));
  EXPECT_EQ(m.outstanding(), 0U);
}

}  // namespace
}  // namespace ipc
