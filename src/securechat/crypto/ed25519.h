// Ed25519 (RFC 8032) for user identity keys: signing, verifying, and the key's SSH public
// form and fingerprint. Everything is OpenSSL's EVP; nothing here is hand-written arithmetic.
#ifndef SECURECHAT_CRYPTO_ED25519_H_
#define SECURECHAT_CRYPTO_ED25519_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "securechat/crypto/keys.h"
#include "securechat/crypto/openssl_util.h"
#include "securechat/crypto/primitives.h"
#include "securechat/crypto/secret.h"
#include "securechat/wire/protocol.h"

namespace securechat {

using Ed25519Public = std::array<uint8_t, proto::kEd25519PublicLen>;
using Ed25519Signature = std::array<uint8_t, proto::kEd25519SignatureLen>;
using Ed25519Seed = Secret<proto::kEd25519SeedLen>;

// IsWeakEd25519Key is true for a public key no one can be held to: a point of small order
// (eight of them, in either sign), under which one fixed signature verifies for every message,
// or an encoding that is not canonical (y of p or more).
bool IsWeakEd25519Key(const Ed25519Public& pub);

// Ed25519Verify is true when `sig` is a valid Ed25519 signature of `msg` under `pub`, as
// OpenSSL checks it (RFC 8032 5.1.7, with S < L and a canonical R and A required). Any other
// signature length, a weak key (IsWeakEd25519Key), a public key that is not a point, or an
// OpenSSL failure gives false.
[[nodiscard]] bool Ed25519Verify(const Ed25519Public& pub, ByteView msg, ByteView sig);

// Ed25519Key is a private key (OpenSSL keeps the seed, and wipes it when the key is freed).
class Ed25519Key {
 public:
  // Generate makes a new key from OpenSSL's CSPRNG; nullopt if OpenSSL fails.
  static std::optional<Ed25519Key> Generate();
  // FromSeed makes the key whose 32-byte private seed is `seed` (RFC 8032 5.1.5); nullopt if
  // OpenSSL fails.
  static std::optional<Ed25519Key> FromSeed(const Ed25519Seed& seed);

  const Ed25519Public& public_key() const { return public_; }
  // FromPem reads a PKCS#8 PEM Ed25519 private key, encrypted (with `passphrase`) or not, as
  // ReadPrivateKeyPem does; a key of another type is kBadKey.
  static absl::StatusOr<Ed25519Key> FromPem(std::string_view pem, const Passphrase* passphrase,
                                            KeyLoadError* why = nullptr);
  // ReadFile reads a key file as ServerPrivateKey::ReadFile does (only a regular file that
  // group and others cannot read, at most kMaxKeyFileLen bytes, read without leaving copies),
  // then FromPem. Defined in key_files.cc with the other file I/O.
  static absl::StatusOr<Ed25519Key> ReadFile(const std::string& path, const Passphrase* passphrase,
                                             KeyLoadError* why = nullptr);
  // ToPem is WritePrivateKeyPem of this key.
  absl::StatusOr<Secret<>> ToPem(const Passphrase* passphrase) const;

  // Sign writes the signature of `msg` into *sig. Returns false only if OpenSSL fails.
  [[nodiscard]] bool Sign(ByteView msg, Ed25519Signature* sig) const;
  // pkey is the OpenSSL key, for writing it to a file.
  EVP_PKEY* pkey() const { return key_.get(); }
  // Adopt takes an OpenSSL key already read (from a PEM file, say); nullopt unless it is an
  // Ed25519 private key.
  static std::optional<Ed25519Key> Adopt(EvpPkeyPtr key, const Ed25519Public& pub);

 private:
  Ed25519Key(EvpPkeyPtr key, const Ed25519Public& pub) : key_(std::move(key)), public_(pub) {}

  EvpPkeyPtr key_;
  Ed25519Public public_{};
};

// SshEd25519Blob is the key as SSH encodes it (RFC 8709 4): string "ssh-ed25519", then the
// 32 key bytes as a string, each string with its u32 big-endian length.
std::vector<uint8_t> SshEd25519Blob(const Ed25519Public& pub);

// Ed25519Fingerprint is "SHA256:" and the unpadded base64 of SHA-256 over SshEd25519Blob:
// the string `ssh-keygen -l` prints for the same key.
std::string Ed25519Fingerprint(const Ed25519Public& pub);

// The two key types a public key line may name: this project's own, whose base64 is the 32 key
// bytes, and OpenSSH's, whose base64 is SshEd25519Blob.
inline constexpr std::string_view kSecurechatKeyType = "securechat-ed25519";
inline constexpr std::string_view kSshKeyType = "ssh-ed25519";
// kMaxKeyBase64Len bounds the base64 field before it is decoded (the SSH blob, 51 bytes, is
// 68 characters).
inline constexpr size_t kMaxKeyBase64Len = 128;

// ParsePublicKey reads a public key from the first two fields of a key line: KEYTYPE (one of
// the two above) and BASE64 (standard alphabet, padded, canonical: nothing a re-encoding would
// change). Returns nullopt, with *why saying what is wrong, for any other type, bad base64, a
// blob that is not exactly one SSH Ed25519 key, or a wrong length.
std::optional<Ed25519Public> ParsePublicKey(std::string_view type, std::string_view base64,
                                            std::string* why);

// PublicKeyLine is the one-line public key file: "securechat-ed25519 BASE64 COMMENT" (no
// comment part when `comment` is empty).
std::string PublicKeyLine(const Ed25519Public& pub, std::string_view comment);

}  // namespace securechat

#endif  // SECURECHAT_CRYPTO_ED25519_H_
