// Server RSA keys: generation, PEM encoding and decoding, key files, fingerprints.
#ifndef SECURECHAT_CRYPTO_KEYS_H_
#define SECURECHAT_CRYPTO_KEYS_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "securechat/crypto/openssl_util.h"

namespace securechat {

// The longest passphrase securechat accepts, in bytes. The server decrypts its key through
// OpenSSL's PEM passphrase callback, whose buffer is PEM_BUFSIZE (1024) bytes, so a longer one
// could encrypt a key that the server can never open. Every reader of a passphrase (file or
// terminal) and ServerPrivateKey::ToPem refuse longer ones, so chat-keygen and chat-server
// accept exactly the same passphrases.
inline constexpr size_t kMaxPassphraseLen = 1024;

// A passphrase held in memory that is wiped when it goes away. It owns one heap block of
// exactly its length: a move hands the block over, so no copy is left behind (a std::string
// would copy a short text held in place, and leave the old bytes in the moved-from object).
class Passphrase {
 public:
  // Copies `text`, of any length; the readers below and ToPem enforce kMaxPassphraseLen.
  explicit Passphrase(std::string_view text);
  ~Passphrase();
  Passphrase(const Passphrase&) = delete;
  Passphrase& operator=(const Passphrase&) = delete;
  // Takes the other's block; `other` is left empty.
  Passphrase(Passphrase&& other) noexcept;
  Passphrase& operator=(Passphrase&&) = delete;
  std::string_view Expose() const { return std::string_view(bytes_.get(), len_); }

 private:
  std::unique_ptr<char[]> bytes_;
  size_t len_ = 0;
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
  // without a passphrase fails with a message that says a passphrase is needed; a passphrase
  // longer than kMaxPassphraseLen fails saying so.
  static absl::StatusOr<ServerPrivateKey> FromPem(std::string_view pem,
                                                  const Passphrase* passphrase);
  // ReadFile refuses a file that is not a regular file or that group or others may read or
  // write (saying how to fix it), then parses it like FromPem.
  static absl::StatusOr<ServerPrivateKey> ReadFile(const std::string& path,
                                                   const Passphrase* passphrase);

  EVP_PKEY* get() const { return key_.get(); }
  size_t size() const;
  ServerPublicKey PublicKey() const;
  // ToPem writes PKCS#8; with a passphrase, encrypted with AES-256-CBC under PBES2 (OpenSSL's
  // PBKDF2 defaults). A passphrase longer than kMaxPassphraseLen is refused.
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

// ReadPassphraseFile reads the first line of a passphrase file, without its newline (and a
// '\r' before it); nothing after the first line is read. Fails, saying why and naming the file,
// if the file is not a regular file, if group or others may read or write it ("permissions
// 0644 are too open", as ssh says of keys), if the line is longer than kMaxPassphraseLen or if
// it is empty. The file is read into a fixed buffer that is wiped, so the only copy left is
// the returned Passphrase.
absl::StatusOr<Passphrase> ReadPassphraseFile(const std::string& path);

// PrepareKeyDirectory makes `dir` ready to receive key files: creates it with mode 0700 if it
// is missing. Fails, saying why and how to fix it, if it is not a directory or if users other
// than its owner could replace files in it: group- or world-writable, unless it is sticky
// (like /tmp) and owned by this user or root, so that only we and root may rename or remove
// what we write there.
absl::Status PrepareKeyDirectory(const std::string& dir);

}  // namespace securechat

#endif  // SECURECHAT_CRYPTO_KEYS_H_
