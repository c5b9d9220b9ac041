// Keys and handshake helpers for the handshake and engine fuzzers.
#ifndef SECURECHAT_FUZZ_HANDSHAKE_UTIL_H_
#define SECURECHAT_FUZZ_HANDSHAKE_UTIL_H_

#include <array>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "securechat/crypto/handshake.h"
#include "securechat/crypto/keys.h"
#include "securechat/wire/writer.h"
#include "test_key.h"

namespace securechat::fuzz {

// TestKey is tests/keys/test_rsa2048_private.pem, parsed once.
inline const ServerPrivateKey& TestKey() {
  static const auto* key =
      new ServerPrivateKey(ServerPrivateKey::FromPem(kTestKeyPem, nullptr).value());
  return *key;
}

inline const ServerPublicKey& TestPublicKey() {
  static const auto* key = new ServerPublicKey(TestKey().PublicKey());
  return *key;
}

// What ClientHandshake::Start draws from its RandomSource, in order.
inline constexpr size_t kClientDrawLen =
    proto::kRandomLen + proto::kX25519Len + proto::kWrapSecretLen;
inline constexpr size_t kWrapSecretAt = proto::kRandomLen + proto::kX25519Len;
// Where the client's X25519 share sits in a CLIENT_HELLO frame.
inline constexpr size_t kClientShareAt = proto::kFrameHeaderLen + 1 + proto::kRandomLen;

// ClientScript returns the 96 bytes a client will draw: taken from the input, padded with a
// fixed pattern when the input is short.
inline std::vector<uint8_t> ClientScript(Input& input) {
  std::vector<uint8_t> script(kClientDrawLen);
  for (size_t i = 0; i < script.size(); ++i) {
    script[i] = static_cast<uint8_t>(0xC0 + i);
  }
  const ByteView given = input.Bytes(kClientDrawLen);
  std::copy(given.begin(), given.end(), script.begin());
  return script;
}

// ServerHelloFor builds the SERVER_HELLO that a server holding the test key sends for
// `client_hello` when its unwrap gives `wrap_secret` (as it does for an intact hello: the
// caller knows the secret because it scripted the client's randomness). It is ServerHandshake
// without the RSA private operation, which makes the client targets fast. Returns false when
// the client's share is refused (a real server closes then).
inline bool ServerHelloFor(ByteView client_hello, ByteView wrap_secret,
                           const std::array<uint8_t, proto::kRandomLen>& server_random,
                           const X25519Private& ephemeral, std::vector<uint8_t>* out,
                           SessionKeys* keys) {
  if (client_hello.size() < kClientShareAt + proto::kShareLen ||
      wrap_secret.size() != proto::kWrapSecretLen) {
    return false;
  }
  X25519Public share;
  Secret<proto::kX25519Len> dh;
  if (!X25519PublicKey(ephemeral, &share) ||
      !X25519(ephemeral, client_hello.subspan(kClientShareAt, proto::kShareLen), &dh)) {
    return false;
  }
  std::vector<uint8_t> reply;
  Writer w(&reply);
  const size_t frame = w.BeginFrame(proto::FrameType::kServerHello);
  w.U8(proto::kVersion);
  w.Bytes(server_random);
  w.Bytes(share);
  const size_t confirm_at = w.size();
  w.Bytes(std::array<uint8_t, proto::kConfirmLen>{});
  w.EndFrame(frame);
  KeySchedule ks;
  if (!DeriveKeySchedule(client_hello, reply, Secret<proto::kWrapSecretLen>::FromBytes(wrap_secret),
                         dh, &ks)) {
    return false;
  }
  std::copy(ks.confirm.begin(), ks.confirm.end(), reply.begin() + confirm_at);
  out->insert(out->end(), reply.begin(), reply.end());
  *keys = std::move(ks.keys);
  return true;
}

// ServerSide is the server's half of a session for the client targets: its records to the
// client, and the opener for the client's records.
struct ServerSide {
  RecordSealer to_client;
  RecordOpener from_client;
  bool ready = false;

  // Establish answers the CLIENT_HELLO at the start of `client_output` (as sent by a
  // ClientConnection whose randomness was `client_script`) and appends SERVER_HELLO to *out.
  bool Establish(ByteView client_hello, ByteView client_script, Input& input,
                 std::vector<uint8_t>* out) {
    std::array<uint8_t, proto::kRandomLen> server_random{};
    const ByteView r = input.Bytes(server_random.size());
    std::copy(r.begin(), r.end(), server_random.begin());
    X25519Private ephemeral;
    const ByteView e = input.Bytes(proto::kX25519Len);
    std::copy(e.begin(), e.end(), ephemeral.Expose().begin());
    ephemeral.Expose()[0] |= 1;  // never all zero
    SessionKeys keys;
    if (!ServerHelloFor(client_hello, client_script.subspan(kWrapSecretAt, proto::kWrapSecretLen),
                        server_random, ephemeral, out, &keys)) {
      return false;
    }
    ready =
        to_client.Init(keys.s2c_enc, keys.s2c_mac) && from_client.Init(keys.c2s_enc, keys.c2s_mac);
    return ready;
  }
};

// DisplayLineIsSafe: a line the client prints holds no byte a terminal could act on: valid
// UTF-8 without C0 controls, DEL, C1 controls or bidirectional formatting characters. Written
// here independently of wire/text.cc, as the oracle for it.
inline bool DisplayLineIsSafe(std::string_view line) {
  size_t i = 0;
  while (i < line.size()) {
    const auto b0 = static_cast<uint8_t>(line[i]);
    uint32_t cp;
    size_t len;
    if (b0 < 0x80) {
      cp = b0, len = 1;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      cp = b0 & 0x1Fu, len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      cp = b0 & 0x0Fu, len = 3;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      cp = b0 & 0x07u, len = 4;
    } else {
      return false;
    }
    if (line.size() - i < len) {
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<uint8_t>(line[i + k]);
      if ((b & 0xC0) != 0x80) {
        return false;
      }
      cp = cp << 6 | (b & 0x3Fu);
    }
    const uint32_t min = len == 1 ? 0 : len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
        (cp >= 0x2066 && cp <= 0x2069)) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace securechat::fuzz

#endif  // SECURECHAT_FUZZ_HANDSHAKE_UTIL_H_
