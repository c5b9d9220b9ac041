// Server RSA keys: generation, PEM encoding and decoding, key files, fingerprints.
#ifndef SECURECHAT_CRYPTO_KEYS_H_
#define SECURECHAT_CRYPTO_KEYS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "securechat/crypto/openssl_util.h"

namespace securechat {

// A passphrase held in memory that is wiped when it goes away.
class Passphrase {
 public:
  explicit Passphrase(std::string text) : text_(std::move(text)) {}
  ~Passphrase();
  Passphrase(const Passphrase&) = delete;
  Passphrase& operator=(const Passphrase&) = delete;
  Passphrase(Passphrase&& other) noexcept;
  Passphrase& operator=(Passphrase&&) = delete;
  std::string_view Expose() const { return text_; }

 private:
  std::string text_;
};

// ServerPublicKey is an RSA public key of 2048, 3072 or 4096 bits: the key a client pins.
class ServerPublicKey {
 public:
  // FromPem parses a SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY"). Fails, saying why, for
  // anything but an RSA key of an allowed size.
  static absl::StatusOr<ServerPublicKey> FromPem(std::string_view pem);
  // ReadFile reads and parses a public key file.
  static absl::StatusOr<ServerPublicKey> ReadFile(const std::string& path);

  EVP_PKEY* get() const { return key_.get(); }
  // Modulus size in bytes (k): 256, 384 or 512.
  size_t size() const;
  // Fingerprint is "SHA256:" + unpadded base64 of SHA-256 over the DER SubjectPublicKeyInfo.
  std::string Fingerprint() const;
  std::string ToPem() const;

 private:
  friend class ServerPrivateKey;
  explicit ServerPublicKey(EvpPkeyPtr key) : key_(std::move(key)) {}
  EvpPkeyPtr key_;
};

// ServerPrivateKey is the server's RSA private key. Only the server process holds it.
class ServerPrivateKey {
 public:
  // Generate makes a new key of 2048, 3072 or 4096 bits; other sizes are refused.
  static absl::StatusOr<ServerPrivateKey> Generate(int bits);
  // FromPem parses a PKCS#8 PEM, encrypted (with `passphrase`) or not. An encrypted key
  // without a passphrase fails with a message that says a passphrase is needed.
  static absl::StatusOr<ServerPrivateKey> FromPem(std::string_view pem,
                                                  const Passphrase* passphrase);
  // ReadFile refuses a file that group or others may read (saying how to fix it), then
  // parses it like FromPem.
  static absl::StatusOr<ServerPrivateKey> ReadFile(const std::string& path,
                                                   const Passphrase* passphrase);

  EVP_PKEY* get() const { return key_.get(); }
  size_t size() const;
  ServerPublicKey PublicKey() const;
  // ToPem writes PKCS#8; with a passphrase, encrypted with AES-256-CBC under PBES2 (OpenSSL's
  // PBKDF2 defaults).
  absl::StatusOr<std::string> ToPem(const Passphrase* passphrase) const;

 private:
  explicit ServerPrivateKey(EvpPkeyPtr key) : key_(std::move(key)) {}
  EvpPkeyPtr key_;
};

// WriteKeyFile writes `contents` to `path` atomically with the given mode: a temporary file in
// the same directory, fsync, then a rename (or, without `overwrite`, a link that fails if
// `path` exists). The temporary file is removed on every failure.
absl::Status WriteKeyFile(const std::string& path, std::string_view contents, int mode,
                          bool overwrite);

// ReadPassphraseFile reads a passphrase file (first line, without its newline).
absl::StatusOr<Passphrase> ReadPassphraseFile(const std::string& path);

}  // namespace securechat

#endif  // SECURECHAT_CRYPTO_KEYS_H_
