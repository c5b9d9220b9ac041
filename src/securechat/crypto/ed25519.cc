#include "securechat/crypto/ed25519.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "absl/strings/escaping.h"
#include "securechat/base/cat.h"
#include "securechat/wire/reader.h"
#include "securechat/wire/writer.h"

namespace securechat {
namespace {

// PublicOf reads the raw public key of `key` into *pub.
bool PublicOf(EVP_PKEY* key, Ed25519Public* pub) {
  size_t len = pub->size();
  return EVP_PKEY_get_raw_public_key(key, pub->data(), &len) == 1 && len == pub->size();
}

std::optional<Ed25519Key> Finish(EvpPkeyPtr key) {
  Ed25519Public pub;
  if (key == nullptr || !PublicOf(key.get(), &pub)) {
    ERR_clear_error();
    return std::nullopt;
  }
  return Ed25519Key::Adopt(std::move(key), pub);
}

// DecodeCanonicalBase64 decodes `text` into *out only if it is standard, padded base64 that
// encoding *out again gives back exactly.
bool DecodeCanonicalBase64(std::string_view text, std::string* out) {
  return text.size() <= kMaxKeyBase64Len &&
         absl::Base64Unescape(absl::string_view(text.data(), text.size()), out) &&
         std::string_view(absl::Base64Escape(*out)) == text;
}

ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace

bool IsWeakEd25519Key(const Ed25519Public& pub) {
  // The encodings of the eight points of small order, compared without the sign bit (as
  // libsodium's blocklist does): the identity, the point of order 2, two of order 4 and two of
  // order 8, then 0 and 1 written as p and p + 1 (non-canonical).
  static constexpr uint8_t kSmallOrder[][32] = {
      {0x00},
      {0x01},
      {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
       0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
       0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
      {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
       0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
       0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
      {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
      {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
      {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
  };
  for (const auto& weak : kSmallOrder) {
    bool same = (pub[31] & 0x7f) == weak[31];
    for (size_t i = 0; i < 31; ++i) {
      same = same && pub[i] == weak[i];
    }
    if (same) {
      return true;
    }
  }
  // Any other y of p or more (2^255 - 19 = ed ff .. ff 7f, little-endian) is not canonical.
  bool all_ff = true;
  for (size_t i = 1; i < 31; ++i) {
    all_ff = all_ff && pub[i] == 0xff;
  }
  return all_ff && (pub[31] & 0x7f) == 0x7f && pub[0] >= 0xed;
}

bool Ed25519Verify(const Ed25519Public& pub, ByteView msg, ByteView sig) {
  // OpenSSL accepts a key of small order, under which a fixed signature verifies for every
  // message: such a key proves nothing, so no signature under it is valid here.
  if (sig.size() != proto::kEd25519SignatureLen || IsWeakEd25519Key(pub)) {
    return false;
  }
  EvpPkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub.data(), pub.size()));
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  // Ed25519 takes no digest: the message goes to the one-shot DigestVerify whole.
  const bool ok = key != nullptr && ctx != nullptr &&
                  EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key.get(),
                                          nullptr) == 1 &&
                  EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), msg.data(), msg.size()) == 1;
  ERR_clear_error();
  return ok;
}

std::optional<Ed25519Key> Ed25519Key::Generate() {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "ED25519", nullptr));
  EVP_PKEY* key = nullptr;
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_keygen(ctx.get(), &key) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  return Finish(EvpPkeyPtr(key));
}

std::optional<Ed25519Key> Ed25519Key::FromSeed(const Ed25519Seed& seed) {
  return Finish(EvpPkeyPtr(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, seed.Expose().data(), seed.Expose().size())));
}

std::optional<Ed25519Key> Ed25519Key::Adopt(EvpPkeyPtr key, const Ed25519Public& pub) {
  if (key == nullptr || EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    return std::nullopt;
  }
  return Ed25519Key(std::move(key), pub);
}

absl::StatusOr<Ed25519Key> Ed25519Key::FromPem(std::string_view pem, const Passphrase* passphrase,
                                               KeyLoadError* why) {
  absl::StatusOr<EvpPkeyPtr> key = ReadPrivateKeyPem(pem, passphrase, why, [](EVP_PKEY* k) {
    return EVP_PKEY_get_id(k) == EVP_PKEY_ED25519
               ? absl::OkStatus()
               : absl::InvalidArgumentError("not an Ed25519 private key");
  });
  if (!key.ok()) {
    return key.status();
  }
  std::optional<Ed25519Key> ed = Finish(std::move(*key));
  if (!ed) {
    return absl::InternalError("cannot read the Ed25519 key's public half");
  }
  return std::move(*ed);
}

absl::StatusOr<Secret<>> Ed25519Key::ToPem(const Passphrase* passphrase) const {
  return WritePrivateKeyPem(key_.get(), passphrase);
}

bool Ed25519Key::Sign(ByteView msg, Ed25519Signature* sig) const {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = sig->size();
  const bool ok = ctx != nullptr &&
                  EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key_.get(),
                                        nullptr) == 1 &&
                  EVP_DigestSign(ctx.get(), sig->data(), &len, msg.data(), msg.size()) == 1 &&
                  len == sig->size();
  ERR_clear_error();
  return ok;
}

std::vector<uint8_t> SshEd25519Blob(const Ed25519Public& pub) {
  constexpr std::string_view kType = "ssh-ed25519";
  std::vector<uint8_t> blob;
  Writer w(&blob);
  w.U32(static_cast<uint32_t>(kType.size()));
  w.Bytes(kType);
  w.U32(static_cast<uint32_t>(pub.size()));
  w.Bytes(pub);
  return blob;
}

std::string Ed25519Fingerprint(const Ed25519Public& pub) {
  Sha256Digest digest;
  Sha256 h;
  if (!h.Update(SshEd25519Blob(pub)) || !h.Final(&digest)) {
    abort();  // hashing bytes we hold cannot fail but for lack of memory
  }
  return FingerprintText(digest);
}

std::optional<Ed25519Public> ParsePublicKey(std::string_view type, std::string_view base64,
                                            std::string* why) {
  const bool ssh = type == kSshKeyType;
  if (!ssh && type != kSecurechatKeyType) {
    *why = Cat("unknown key type (expected ", kSecurechatKeyType, " or ", kSshKeyType, ")");
    return std::nullopt;
  }
  std::string decoded;
  if (!DecodeCanonicalBase64(base64, &decoded)) {
    *why = "the key is not valid base64";
    return std::nullopt;
  }
  Ed25519Public pub;
  Reader r(AsBytes(decoded));
  if (ssh) {
    // OpenSSH's blob: string "ssh-ed25519", string key (RFC 8709 4), nothing after.
    ByteView name;
    ByteView key;
    if (!r.ReadSshStr(&name) ||
        !std::equal(name.begin(), name.end(), kSshKeyType.begin(), kSshKeyType.end()) ||
        !r.ReadSshStr(&key) || key.size() != pub.size() || !r.empty()) {
      *why = "not an OpenSSH Ed25519 public key";
      return std::nullopt;
    }
    r = Reader(key);
  }
  if (!r.ReadFixed(&pub) || !r.empty()) {
    *why = Cat("an Ed25519 public key is ", pub.size(), " bytes");
    return std::nullopt;
  }
  if (IsWeakEd25519Key(pub)) {
    *why = "a weak key (a point of small order, or not canonical): anyone could sign for it";
    return std::nullopt;
  }
  return pub;
}

std::string PublicKeyLine(const Ed25519Public& pub, std::string_view comment) {
  std::string line = Cat(
      kSecurechatKeyType, " ",
      absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(pub.data()), pub.size())));
  if (!comment.empty()) {
    line += Cat(" ", comment);
  }
  return line;
}

}  // namespace securechat
