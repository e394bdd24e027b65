#include "ipc/wire/auth.h"

#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <boost/algorithm/hex.hpp>
#include <cerrno>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>

#include "ipc/base/error.h"
#include "ipc/wire/json_value.h"

namespace ipc {
namespace {

constexpr std::size_t k_nonce_bytes = 32;

// Nettle, not OpenSSL, for the MAC: libcrypto brings its whole provider machinery
// (94 pages of relocated tables) into every one-shot `ipcat request`.
std::string to_hex(const unsigned char* p, std::size_t n) {
  std::string out;
  out.reserve(n * 2);
  boost::algorithm::hex_lower(p, p + n, std::back_inserter(out));
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  std::string out;
  try {
    boost::algorithm::unhex(hex.begin(), hex.end(), std::back_inserter(out));
  } catch (const boost::algorithm::hex_decode_error&) {
    return std::nullopt;
  }
  return out;
}

bool is_nonce(std::string_view hex) { return hex.size() == 2 * k_nonce_bytes && from_hex(hex).has_value(); }

std::optional<std::string> string_field(const Json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

AuthKey AuthKey::load(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw_errno(path, errno);
  if ((st.st_mode & 077) != 0)
    throw Error(ErrorKind::permission, path + ": key file is readable or writable by group or others; chmod 600 it");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_errno(path, errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string key = ss.str();
  if (!key.empty() && key.back() == '\n') key.pop_back();
  if (key.empty()) throw Error(ErrorKind::invalid_input, path + ": key file is empty");
  return AuthKey(std::move(key));
}

std::string AuthKey::respond(std::string_view nonce_hex) const {
  auto nonce = from_hex(nonce_hex);
  if (!nonce) return {};
  hmac_sha256_ctx ctx{};
  hmac_sha256_set_key(&ctx, m_key.size(), reinterpret_cast<const std::uint8_t*>(m_key.data()));
  hmac_sha256_update(&ctx, nonce->size(), reinterpret_cast<const std::uint8_t*>(nonce->data()));
  unsigned char mac[SHA256_DIGEST_SIZE];
  hmac_sha256_digest(&ctx, sizeof mac, mac);
  ::explicit_bzero(&ctx, sizeof ctx);  // the keyed inner/outer states are as good as the key
  return to_hex(mac, sizeof mac);
}

bool AuthKey::verify(std::string_view nonce_hex, std::string_view response_hex) const {
  std::string expected = respond(nonce_hex);
  if (expected.empty() || response_hex.size() != expected.size()) return false;
  // Constant time: how much of a guess matched must not show in how long it took.
  return nettle_memeql_sec(expected.data(), response_hex.data(), expected.size()) != 0;
}

std::string new_nonce() {
  unsigned char bytes[k_nonce_bytes];
  std::size_t got = 0;
  while (got < sizeof bytes) {  // the kernel's CSPRNG; short only when interrupted
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("getrandom", errno);
    }
    got += static_cast<std::size_t>(n);
  }
  return to_hex(bytes, sizeof bytes);
}

std::string challenge_line(std::string_view nonce_hex) {
  Json j;
  j["challenge"] = std::string(nonce_hex);
  j["algorithm"] = "hmac-sha256";
  return encode(j);
}

std::string client_response_line(std::string_view response_hex, std::string_view nonce_hex) {
  Json j;
  j["response"] = std::string(response_hex);
  j["challenge"] = std::string(nonce_hex);
  return encode(j);
}

std::string server_response_line(std::string_view response_hex) {
  Json j;
  j["response"] = std::string(response_hex);
  return encode(j);
}

std::optional<std::string> parse_challenge(std::string_view line) {
  auto j = parse_json(line);
  if (!j || !j->is_object()) return std::nullopt;
  auto challenge = string_field(*j, "challenge");
  auto algorithm = string_field(*j, "algorithm");
  if (!challenge || !is_nonce(*challenge) || algorithm != "hmac-sha256") return std::nullopt;
  return challenge;
}

std::optional<ClientResponse> parse_client_response(std::string_view line) {
  auto j = parse_json(line);
  if (!j || !j->is_object()) return std::nullopt;
  auto response = string_field(*j, "response");
  auto challenge = string_field(*j, "challenge");
  if (!response || !challenge || !is_nonce(*challenge)) return std::nullopt;
  return ClientResponse{*response, *challenge};
}

std::optional<std::string> parse_server_response(std::string_view line) {
  auto j = parse_json(line);
  if (!j || !j->is_object()) return std::nullopt;
  return string_field(*j, "response");
}

}  // namespace ipc
