// Fuzzes the server's handshake with the fixed test key (RSA-2048): CLIENT_HELLO parsing and
// the RSA-OAEP unwrap with its silent fallback.
//
// Input: mode u8, the server's 96 random bytes (fallback wrap secret, server_random, X25519
// key), then by mode:
//   0  a CLIENT_HELLO frame as it arrives. Only the one right length may get an answer; the
//      wrapped secret must come out as RSA-OAEP says or as the fallback, never anything else.
//   1  a real client's 96 random bytes, then n = u8 % 4 changes (u16 position, u8 xor): the
//      client accepts the server's answer exactly when its hello arrived unchanged.
//   2  a secret (u16-prefixed) and a label choice, wrapped to the key: the unwrap returns it
//      only when it is exactly 32 bytes under the protocol's label, the fallback otherwise.
#include <algorithm>
#include <vector>

#include "fuzz_util.h"
#include "handshake_util.h"
#include "securechat/crypto/primitives.h"
#include "securechat/wire/frame.h"

namespace securechat::fuzz {
namespace {

constexpr size_t kServerDrawLen = proto::kWrapSecretLen + proto::kRandomLen + proto::kX25519Len;

ByteView OaepLabel() { return AsBytes(proto::kOaepLabel); }

// ExpectedUnwrap is what UnwrapSecret must give, by PROTOCOL.md 4.2: the plaintext when the
// RSA-OAEP decryption succeeds with exactly 32 bytes, otherwise the fallback.
std::vector<uint8_t> ExpectedUnwrap(ByteView wrapped, ByteView fallback) {
  std::vector<uint8_t> plain(TestKey().size());
  size_t len = 0;
  if (RsaOaepDecrypt(TestKey().get(), OaepLabel(), wrapped, absl::MakeSpan(plain), &len) &&
      len == proto::kWrapSecretLen) {
    plain.resize(len);
    return plain;
  }
  return std::vector<uint8_t>(fallback.begin(), fallback.end());
}

void CheckUnwrap(ByteView wrapped, ByteView fallback_bytes) {
  const auto fallback = Secret<proto::kWrapSecretLen>::FromBytes(fallback_bytes);
  Secret<proto::kWrapSecretLen> out;
  UnwrapSecret(TestKey(), wrapped, fallback, &out);
  FUZZ_CHECK(SameBytes(out.Expose(), ExpectedUnwrap(wrapped, fallback_bytes)));
}

void RawHello(ByteView server_script, ByteView hello) {
  ScriptedRandom rng(std::vector<uint8_t>(server_script.begin(), server_script.end()));
  std::vector<uint8_t> out = {0xAA};  // ServerHandshake appends
  SessionKeys keys;
  const ServerHandshakeResult r = ServerHandshake(TestKey(), rng, hello, &out, &keys);
  const size_t right_len = kClientShareAt + proto::kShareLen + TestKey().size();
  if (hello.size() != right_len) {
    FUZZ_CHECK(r == ServerHandshakeResult::kClose);
  } else if (hello[proto::kFrameHeaderLen] != proto::kVersion) {
    FUZZ_CHECK(r == ServerHandshakeResult::kUnsupportedVersion);
  }
  if (r != ServerHandshakeResult::kOk) {
    FUZZ_CHECK(out.size() == 1);
    return;
  }
  FUZZ_CHECK(out.size() == 1 + proto::kFrameHeaderLen + proto::kServerHelloBodyLen);
  FrameHeader header;
  FUZZ_CHECK(CheckFrameHeader(FramePolicy{FrameExpect::kServerHello, 0},
                              ByteView(out).subspan(1, proto::kFrameHeaderLen), &header));
  FUZZ_CHECK(header.type == proto::FrameType::kServerHello);
  // The reply carries the scripted server_random.
  FUZZ_CHECK(SameBytes(ByteView(out).subspan(1 + proto::kFrameHeaderLen + 1, proto::kRandomLen),
                       server_script.subspan(proto::kWrapSecretLen, proto::kRandomLen)));
  CheckUnwrap(hello.subspan(kClientShareAt + proto::kShareLen), server_script.first(32));
  // The key schedule needs the SERVER_HELLO up to its confirm field, and refuses less.
  KeySchedule ks;
  FUZZ_CHECK(!DeriveKeySchedule(hello,
                                ByteView(out).subspan(1, proto::kServerHelloTranscriptLen - 1),
                                Secret<proto::kWrapSecretLen>(), Secret<proto::kX25519Len>(), &ks));
}

void RealClient(ByteView server_script, Input& input) {
  ScriptedRandom client_rng(ClientScript(input));
  ClientHandshake client;
  std::vector<uint8_t> hello;
  FUZZ_CHECK(client.Start(TestPublicKey(), client_rng, &hello));
  const std::vector<uint8_t> sent = hello;
  for (int n = input.U8() % 4; n > 0; --n) {
    const size_t at = input.U16() % hello.size();
    hello[at] ^= input.U8();
  }
  const bool changed = hello != sent;
  ScriptedRandom server_rng(std::vector<uint8_t>(server_script.begin(), server_script.end()));
  std::vector<uint8_t> reply;
  SessionKeys server_keys;
  const ServerHandshakeResult r =
      ServerHandshake(TestKey(), server_rng, hello, &reply, &server_keys);
  if (!changed) {
    FUZZ_CHECK(r == ServerHandshakeResult::kOk);
  }
  if (r != ServerHandshakeResult::kOk) {
    return;
  }
  SessionKeys client_keys;
  const ClientHandshake::Result cr = client.Finish(reply, &client_keys);
  if (changed) {
    // Any change to the hello changes the transcript (or the unwrapped secret): refused.
    FUZZ_CHECK(cr == ClientHandshake::Result::kConfirmFailed);
    return;
  }
  FUZZ_CHECK(cr == ClientHandshake::Result::kOk);
  FUZZ_CHECK(SameBytes(client_keys.c2s_enc.Expose(), server_keys.c2s_enc.Expose()));
  FUZZ_CHECK(SameBytes(client_keys.c2s_mac.Expose(), server_keys.c2s_mac.Expose()));
  FUZZ_CHECK(SameBytes(client_keys.s2c_enc.Expose(), server_keys.s2c_enc.Expose()));
  FUZZ_CHECK(SameBytes(client_keys.s2c_mac.Expose(), server_keys.s2c_mac.Expose()));
  // A finished handshake cannot be finished again.
  FUZZ_CHECK(client.Finish(reply, &client_keys) == ClientHandshake::Result::kBadHello);
}

void WrappedSecret(ByteView server_script, Input& input) {
  const ByteView secret = input.Chunk();
  const bool right_label = input.Bool();
  const ByteView label = right_label ? OaepLabel() : input.Chunk();
  std::vector<uint8_t> wrapped;
  if (!RsaOaepEncrypt(TestPublicKey().get(), label, secret, &wrapped)) {
    // Too long for OAEP with this key (more than 190 bytes).
    FUZZ_CHECK(secret.size() > TestKey().size() - 2 * proto::kHashLen - 2);
    return;
  }
  const auto fallback = Secret<proto::kWrapSecretLen>::FromBytes(server_script.first(32));
  Secret<proto::kWrapSecretLen> out;
  UnwrapSecret(TestKey(), wrapped, fallback, &out);
  const bool label_matches = SameBytes(label, OaepLabel());
  if (label_matches && secret.size() == proto::kWrapSecretLen) {
    FUZZ_CHECK(SameBytes(out.Expose(), secret));
  } else {
    FUZZ_CHECK(SameBytes(out.Expose(), fallback.Expose()));
  }
}

}  // namespace
}  // namespace securechat::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace securechat::fuzz;
  Input input(data, size);
  const uint8_t mode = input.U8() % 3;
  std::vector<uint8_t> server_script(kServerDrawLen);
  const ByteView given = input.Bytes(kServerDrawLen);
  std::copy(given.begin(), given.end(), server_script.begin());
  switch (mode) {
    case 0:
      RawHello(server_script, input.Rest());
      break;
    case 1:
      RealClient(server_script, input);
      break;
    default:
      WrappedSecret(server_script, input);
      break;
  }
  return 0;
}
