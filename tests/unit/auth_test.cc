// The authkey handshake's MAC and nonces (ipc/auth.h).
#include "ipc/wire/auth.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace {

// RFC 4231, test case 1 (HMAC-SHA-256): key 0x0b x 20, data "Hi There".
TEST(AuthKey, RespondIsHmacSha256OfTheNonceBytesPerRfc4231) {
  ipc::AuthKey key(std::string(20, '\x0b'));
  EXPECT_EQ(key.respond("4869205468657265"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

// RFC 4231, test case 6: a key longer than the block size is hashed first.
TEST(AuthKey, AKeyLongerThanTheBlockSizeFollowsRfc4231) {
  ipc::AuthKey key(std::string(131, '\xaa'));
  const std::string data = "Test Using Larger Than Block-Size Key - Hash Key First";
  std::string hex;
  for (unsigned char c : data) {
    static constexpr char k_digits[] = "0123456789abcdef";
    hex += k_digits[c >> 4];
    hex += k_digits[c & 15];
  }
  EXPECT_EQ(key.respond(hex), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(AuthKey, ANonceThatIsNotHexHasNoResponse) {
  ipc::AuthKey key("secret");
  EXPECT_EQ(key.respond("xyz0"), "");
  EXPECT_EQ(key.respond("abc"), "");  // odd length
}

TEST(AuthKey, VerifyAcceptsOnlyTheRightResponseForThatKey) {
  ipc::AuthKey key("secret");
  std::string nonce = ipc::new_nonce();
  std::string right = key.respond(nonce);
  EXPECT_TRUE(key.verify(nonce, right));
  std::string wrong = right;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_FALSE(key.verify(nonce, wrong));
  EXPECT_FALSE(key.verify(nonce, right.substr(1)));
  EXPECT_FALSE(ipc::AuthKey("other").verify(nonce, right));
}

TEST(Nonce, Is32RandomBytesInLowerCaseHexNeverRepeated) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string n = ipc::new_nonce();
    EXPECT_EQ(n.size(), 64u);
    EXPECT_EQ(n.find_first_not_of("0123456789abcdef"), std::string::npos) << n;
    seen.insert(n);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
