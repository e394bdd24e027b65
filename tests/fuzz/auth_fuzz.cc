// Fuzz target for the authkey handshake parsers (src/ipc/wire/auth.h).
//
// The input is one handshake line as a peer could send it, optionally followed by
// a NUL byte and a key. Properties:
//   - parse_challenge / parse_client_response / parse_server_response never throw
//     (they run on lines from unauthenticated peers) and return nullopt or a
//     message;
//   - a challenge (and a client response's challenge) is a nonce: 64 hex digits;
//   - what the *_line() builders encode parses back to what was given;
//   - respond() gives 64 hex digits for a nonce, "" for bad hex; verify() accepts
//     exactly the response respond() gives and rejects a changed one.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ipc/wire/auth.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "auth_fuzz: property violated: %s\n", what);
  std::abort();
}

bool is_hex(std::string_view s) {
  for (char c : s) {
    bool digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!digit) return false;
  }
  return true;
}

bool is_nonce(std::string_view s) { return s.size() == 64 && is_hex(s); }

bool is_ascii_printable(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

void check_key(const std::string& key, std::string_view line) {
  ipc::AuthKey auth(key);
  const std::string nonce(64, 'a');
  std::string response = auth.respond(nonce);
  if (response.size() != 64 || !is_hex(response)) fail("respond() to a nonce is not 64 hex digits");
  if (!auth.verify(nonce, response)) fail("verify() rejects respond()'s own response");
  std::string changed = response;
  changed[0] = changed[0] == '0' ? '1' : '0';
  if (auth.verify(nonce, changed)) fail("verify() accepts a changed response");
  // The peer's text as a nonce and as a response: never a crash, only a verdict.
  std::string peer_response = auth.respond(line);
  if (!peer_response.empty() && (line.size() % 2 != 0 || !is_hex(line))) fail("respond() accepted bad hex");
  if (auth.verify(line, line) && line != auth.respond(line)) fail("verify() accepted a wrong response");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto nul = input.find('\0');
  std::string_view line = input.substr(0, nul);

  if (auto c = ipc::parse_challenge(line); c && !is_nonce(*c)) fail("a challenge that is not a nonce was accepted");
  if (auto r = ipc::parse_client_response(line); r && !is_nonce(r->challenge))
    fail("a client response whose challenge is not a nonce was accepted");
  (void)ipc::parse_server_response(line);

  // Round trips through the builders, with the peer's text as the values.
  if (is_nonce(line)) {
    if (ipc::parse_challenge(ipc::challenge_line(line)) != std::string(line)) fail("challenge_line() round trip");
    auto r = ipc::parse_client_response(ipc::client_response_line("ab", line));
    if (!r || r->response != "ab" || r->challenge != line) fail("client_response_line() round trip");
  }
  if (is_ascii_printable(line) && ipc::parse_server_response(ipc::server_response_line(line)) != std::string(line))
    fail("server_response_line() round trip");

  if (nul != std::string_view::npos && nul + 1 < input.size()) check_key(std::string(input.substr(nul + 1)), line);
  return 0;
}
