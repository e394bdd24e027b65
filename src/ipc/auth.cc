#include "ipc/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "ipc/error.h"
#include "ipc/json_lines.h"

namespace ipc {
namespace {

constexpr std::size_t k_nonce_bytes = 32;

std::string to_hex(const unsigned char* p, std::size_t n) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = k_digits[p[i] >> 4];
    out[2 * i + 1] = k_digits[p[i] & 15];
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>(hi << 4 | lo);
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
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), m_key.data(), static_cast<int>(m_key.size()),
       reinterpret_cast<const unsigned char*>(nonce->data()), nonce->size(), mac, &len);
  return to_hex(mac, len);
}

bool AuthKey::verify(std::string_view nonce_hex, std::string_view response_hex) const {
  std::string expected = respond(nonce_hex);
  if (expected.empty() || response_hex.size() != expected.size()) return false;
  return CRYPTO_memcmp(expected.data(), response_hex.data(), expected.size()) == 0;
}

std::string new_nonce() {
  unsigned char bytes[k_nonce_bytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw Error(ErrorKind::internal, "RAND_bytes failed");
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
