#include "securechat/crypto/handshake.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "securechat/crypto/constant_time.h"
#include "securechat/wire/frame.h"
#include "securechat/wire/writer.h"

namespace securechat {
namespace {

ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

template <size_t N>
Secret<N> Slice(const Secret<proto::kOkmLen>& okm, size_t offset) {
  return Secret<N>::FromBytes(okm.Expose().subspan(offset, N));
}

bool ComputeConfirm(const Secret<proto::kOkmLen>& okm, const Sha256Digest& th,
                    std::array<uint8_t, proto::kConfirmLen>* confirm) {
  HmacSha256 mac;
  return mac.Init(okm.Expose().subspan(proto::kOkmConfirm, proto::kConfirmLen)) && mac.Begin() &&
         mac.Update(AsBytes(proto::kConfirmLabel)) && mac.Update(th) &&
         mac.Final(absl::MakeSpan(*confirm));
}

// The fields of a CLIENT_HELLO body, as views into the frame.
struct ClientHelloFields {
  uint8_t version;
  ByteView client_random;
  ByteView client_share;
  ByteView wrapped;
};

bool ParseClientHello(ByteView frame, size_t rsa_len, ClientHelloFields* out) {
  Reader r(frame);
  ByteView header;
  ClientHelloFields f;
  if (!r.ReadBytes(proto::kFrameHeaderLen, &header) || !r.ReadU8(&f.version) ||
      !r.ReadBytes(proto::kRandomLen, &f.client_random) ||
      !r.ReadBytes(proto::kShareLen, &f.client_share) || !r.ReadBytes(rsa_len, &f.wrapped) ||
      !r.empty()) {
    return false;
  }
  *out = f;
  return true;
}

}  // namespace

bool DeriveKeySchedule(ByteView client_hello, ByteView server_hello,
                       const Secret<proto::kWrapSecretLen>& wrap_secret,
                       const Secret<proto::kX25519Len>& dh, KeySchedule* out) {
  if (server_hello.size() < proto::kServerHelloTranscriptLen) {
    return false;
  }
  Sha256 transcript;
  Secret<proto::kWrapSecretLen + proto::kX25519Len> ikm;
  auto ikm_bytes = ikm.Expose();
  std::copy(wrap_secret.Expose().begin(), wrap_secret.Expose().end(), ikm_bytes.begin());
  std::copy(dh.Expose().begin(), dh.Expose().end(), ikm_bytes.begin() + proto::kWrapSecretLen);
  KeySchedule ks;
  if (!transcript.Update(client_hello) ||
      !transcript.Update(server_hello.first(proto::kServerHelloTranscriptLen)) ||
      !transcript.Final(&ks.th) || !HkdfExtract(ks.th, ikm.Expose(), ks.prk.Expose()) ||
      !HkdfExpand(ks.prk.Expose(), AsBytes(proto::kHkdfInfo), ks.okm.Expose()) ||
      !ComputeConfirm(ks.okm, ks.th, &ks.confirm)) {
    return false;
  }
  ks.keys.c2s_enc = Slice<proto::kAesKeyLen>(ks.okm, proto::kOkmC2sEnc);
  ks.keys.c2s_mac = Slice<proto::kMacKeyLen>(ks.okm, proto::kOkmC2sMac);
  ks.keys.s2c_enc = Slice<proto::kAesKeyLen>(ks.okm, proto::kOkmS2cEnc);
  ks.keys.s2c_mac = Slice<proto::kMacKeyLen>(ks.okm, proto::kOkmS2cMac);
  *out = std::move(ks);
  return true;
}

bool ClientHandshake::Start(const ServerPublicKey& server_key, RandomSource& rng,
                            std::vector<uint8_t>* out) {
  std::array<uint8_t, proto::kRandomLen> client_random;
  X25519Public share;
  rng.Fill(absl::MakeSpan(client_random));
  rng.Fill(ephemeral_.Expose());
  rng.Fill(wrap_secret_.Expose());
  std::vector<uint8_t> wrapped;
  if (!X25519PublicKey(ephemeral_, &share) ||
      !RsaOaepEncrypt(server_key.get(), AsBytes(proto::kOaepLabel), wrap_secret_.Expose(),
                      &wrapped) ||
      wrapped.size() != server_key.size()) {
    ephemeral_.Wipe();
    wrap_secret_.Wipe();
    return false;
  }
  client_hello_.clear();
  Writer w(&client_hello_);
  size_t frame = w.BeginFrame(proto::FrameType::kClientHello);
  w.U8(proto::kVersion);
  w.Bytes(client_random);
  w.Bytes(share);
  w.Bytes(wrapped);
  w.EndFrame(frame);
  out->insert(out->end(), client_hello_.begin(), client_hello_.end());
  started_ = true;
  return true;
}

ClientHandshake::Result ClientHandshake::Finish(ByteView server_hello, SessionKeys* keys) {
  // Whatever happens below, the ephemeral secrets are used at most once.
  X25519Private ephemeral = std::move(ephemeral_);
  Secret<proto::kWrapSecretLen> wrap_secret = std::move(wrap_secret_);
  if (!started_) {
    return Result::kBadHello;
  }
  started_ = false;
  Reader r(server_hello);
  ByteView header, server_random, server_share, confirm;
  uint8_t version;
  if (!r.ReadBytes(proto::kFrameHeaderLen, &header) || !r.ReadU8(&version) ||
      !r.ReadBytes(proto::kRandomLen, &server_random) ||
      !r.ReadBytes(proto::kShareLen, &server_share) || !r.ReadBytes(proto::kConfirmLen, &confirm) ||
      !r.empty() || version != proto::kVersion) {
    return Result::kBadHello;
  }
  Secret<proto::kX25519Len> dh;
  if (!X25519(ephemeral, server_share, &dh)) {
    return Result::kBadHello;
  }
  KeySchedule ks;
  if (!DeriveKeySchedule(client_hello_, server_hello, wrap_secret, dh, &ks)) {
    return Result::kBadHello;
  }
  if (!ConstantTimeEqual(ks.confirm, confirm)) {
    return Result::kConfirmFailed;
  }
  *keys = std::move(ks.keys);
  keys->th = ks.th;
  return Result::kOk;
}

void UnwrapSecret(const ServerPrivateKey& key, ByteView wrapped,
                  const Secret<proto::kWrapSecretLen>& fallback,
                  Secret<proto::kWrapSecretLen>* out) {
  Secret<proto::kRsaLenMax> plain;
  size_t len = 0;
  const bool decrypted =
      RsaOaepDecrypt(key.get(), AsBytes(proto::kOaepLabel), wrapped, plain.Expose(), &len);
  // Both operands are evaluated: no short-circuit branch on the outcome.
  const bool ok = decrypted & (len == proto::kWrapSecretLen);
  ConstantTimeSelect(ok, plain.Expose().first(proto::kWrapSecretLen), fallback.Expose(),
                     out->Expose());
}

ServerHandshakeResult ServerHandshake(const ServerPrivateKey& key, RandomSource& rng,
                                      ByteView client_hello, std::vector<uint8_t>* out,
                                      SessionKeys* keys) {
  Secret<proto::kWrapSecretLen> fallback;
  std::array<uint8_t, proto::kRandomLen> server_random;
  X25519Private ephemeral;
  rng.Fill(fallback.Expose());
  rng.Fill(absl::MakeSpan(server_random));
  rng.Fill(ephemeral.Expose());

  ClientHelloFields hello;
  if (!ParseClientHello(client_hello, key.size(), &hello)) {
    return ServerHandshakeResult::kClose;
  }
  if (hello.version != proto::kVersion) {
    return ServerHandshakeResult::kUnsupportedVersion;
  }
  Secret<proto::kWrapSecretLen> wrap_secret;
  UnwrapSecret(key, hello.wrapped, fallback, &wrap_secret);

  X25519Public share;
  Secret<proto::kX25519Len> dh;
  if (!X25519Exchange(ephemeral, hello.client_share, &share, &dh)) {
    return ServerHandshakeResult::kClose;
  }
  std::vector<uint8_t> reply;
  Writer w(&reply);
  size_t frame = w.BeginFrame(proto::FrameType::kServerHello);
  w.U8(proto::kVersion);
  w.Bytes(server_random);
  w.Bytes(share);
  const size_t confirm_at = w.size();
  w.Bytes(std::array<uint8_t, proto::kConfirmLen>{});  // filled in below
  w.EndFrame(frame);
  KeySchedule ks;
  // The transcript covers the reply up to the confirm field, header included.
  if (!DeriveKeySchedule(client_hello, reply, wrap_secret, dh, &ks)) {
    return ServerHandshakeResult::kClose;
  }
  std::copy(ks.confirm.begin(), ks.confirm.end(), reply.begin() + confirm_at);
  out->insert(out->end(), reply.begin(), reply.end());
  *keys = std::move(ks.keys);
  keys->th = ks.th;
  return ServerHandshakeResult::kOk;
}

double MeasureUnwrapSeconds(const ServerPrivateKey& key) {
  std::vector<uint8_t> wrapped(key.size(), 0x5A);
  Secret<proto::kWrapSecretLen> fallback;
  Secret<proto::kWrapSecretLen> out;
  double best = 1.0;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    UnwrapSecret(key, wrapped, fallback, &out);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    best = std::min(best, took.count());
  }
  return best;
}

HandshakeBudget ChooseHandshakeBudget(const ServerPrivateKey& key, double per_second) {
  // Half a core: the other half is left for relaying, and for everything else on the machine.
  constexpr double kCoreShare = 0.5;
  // One address may take a quarter of the budget, so that a few cannot starve the rest.
  constexpr double kPerAddressShare = 0.25;
  HandshakeBudget budget;
  budget.per_second = per_second > 0
                          ? per_second
                          : std::max(1.0, std::floor(kCoreShare / MeasureUnwrapSeconds(key)));
  budget.per_second_per_address = std::max(1.0, budget.per_second * kPerAddressShare);
  return budget;
}

}  // namespace securechat
