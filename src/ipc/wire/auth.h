#pragma once
/// The authkey handshake (`--authkey-file`): mutual challenge-response with
/// HMAC-SHA256 over random nonces, before any request. Wire format (one JSON line each):
///
///   server → {"challenge":"<hex 32 random bytes>","algorithm":"hmac-sha256"}
///   client → {"response":"<hex HMAC(key, server nonce)>","challenge":"<hex 32 random bytes>"}
///   server → {"response":"<hex HMAC(key, client nonce)>"}          (key right)
///          | {"error":"authentication failed","type":"Forbidden"}   (key wrong; then close)
///
/// Both sides compare in constant time. The key is the key file's content minus
/// one trailing newline; a key file readable by group or others is refused.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ipc {

inline constexpr std::chrono::seconds k_handshake_timeout{5};  // the default

class AuthKey {
 public:
  /// Reads the key file. Throws Error: not_found, permission (group/other
  /// readable, or unreadable), invalid_input (empty key).
  static AuthKey load(const std::string& path);
  explicit AuthKey(std::string key) : m_key(std::move(key)) {}

  /// Hex HMAC-SHA256 of the nonce (given as hex) under this key; empty if the hex is bad.
  std::string respond(std::string_view nonce_hex) const;
  /// Constant-time check of a response to our nonce.
  bool verify(std::string_view nonce_hex, std::string_view response_hex) const;

 private:
  std::string m_key;
};

/// 32 random bytes from the kernel (getrandom), as 64 lower-case hex characters.
std::string new_nonce();

/// The messages, encoded as lines without '\n'.
std::string challenge_line(std::string_view nonce_hex);
std::string client_response_line(std::string_view response_hex, std::string_view nonce_hex);
std::string server_response_line(std::string_view response_hex);

/// Parsers: nullopt when the line is not that message.
std::optional<std::string> parse_challenge(std::string_view line);
struct ClientResponse {
  std::string response;
  std::string challenge;
};
std::optional<ClientResponse> parse_client_response(std::string_view line);
std::optional<std::string> parse_server_response(std::string_view line);

}  // namespace ipc
