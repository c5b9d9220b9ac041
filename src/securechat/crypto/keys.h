// Server RSA keys: generation, PEM encoding and decoding, fingerprints. Reading and writing
// key and passphrase files is in key_files.h.
#ifndef SECURECHAT_CRYPTO_KEYS_H_
#define SECURECHAT_CRYPTO_KEYS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "securechat/crypto/openssl_util.h"
#include "securechat/crypto/primitives.h"
#include "securechat/crypto/secret.h"
#include "securechat/wire/protocol.h"

namespace securechat {

// The longest passphrase securechat accepts, in bytes. The server decrypts its key through
// OpenSSL's PEM passphrase callback, whose buffer is PEM_BUFSIZE (1024) bytes, so a longer one
// could encrypt a key that the server can never open. Every reader of a passphrase (file or
// terminal) and ServerPrivateKey::ToPem refuse longer ones, so chat-keygen and chat-server
// accept exactly the same passphrases.
inline constexpr size_t kMaxPassphraseLen = 1024;

// TooLongPassphrase is the error for a passphrase over kMaxPassphraseLen, from any source;
// `what` names it ("the passphrase", "FILE: the first line").
absl::Status TooLongPassphrase(std::string_view what);

// A passphrase is secret text of any length, held in the one wiping type: moves hand its block
// over, so no copy is left behind.
using Passphrase = Secret<>;

// IsAllowedRsaBits is true for the RSA key sizes securechat uses (2048, 3072 and 4096 bits):
// those whose modulus length the protocol allows (proto::IsAllowedRsaLen).
constexpr bool IsAllowedRsaBits(int bits) {
  return bits > 0 && bits % 8 == 0 && proto::IsAllowedRsaLen(static_cast<size_t>(bits) / 8);
}

// AllowedRsaBitsText names the allowed sizes for messages ("2048, 3072 or 4096"), from the
// protocol's constants.
std::string AllowedRsaBitsText();

// KeyLoadError says why a private key could not be loaded, so that a program can act on the
// reason (ask for a passphrase, point at chat-keygen) without reading the message.
enum class KeyLoadError {
  kNone,             // loaded
  kNotFound,         // nothing at the path
  kFileRefused,      // not a regular file, open to other users, too large, or unreadable
  kNeedsPassphrase,  // the key is encrypted and no passphrase was given
  kWrongPassphrase,  // the passphrase does not decrypt the key
  kBadKey,           // not a PKCS#8 PEM key, or not RSA of an allowed size
};

// ReadPrivateKeyPem decodes a PKCS#8 PEM private key, decrypting it with `passphrase` when it
// is encrypted, and accepts it if `check` (the caller's rule on the key's type and size) does.
// Fails, saying why (an encrypted key without a passphrase says that it is
// passphrase-protected, a passphrase longer than kMaxPassphraseLen says so, a key `check`
// refuses is kBadKey with check's message); when `why` is not null it gets the reason (kNone
// on success).
absl::StatusOr<EvpPkeyPtr> ReadPrivateKeyPem(std::string_view pem, const Passphrase* passphrase,
                                             KeyLoadError* why,
                                             absl::FunctionRef<absl::Status(EVP_PKEY*)> check);

// WritePrivateKeyPem encodes `key` as PKCS#8 PEM; with a passphrase, encrypted with
// AES-256-CBC under PBES2 (OpenSSL's PBKDF2 defaults). A passphrase longer than
// kMaxPassphraseLen is refused. The text is returned as a Secret<>, and OpenSSL's copy is wiped.
absl::StatusOr<Secret<>> WritePrivateKeyPem(EVP_PKEY* key, const Passphrase* passphrase);

// ServerPublicKey is an RSA public key of 2048, 3072 or 4096 bits: the key a client pins.
class ServerPublicKey {
 public:
  // FromPem parses a SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY"). Fails, saying why, for
  // anything but an RSA key of an allowed size.
  static absl::StatusOr<ServerPublicKey> FromPem(std::string_view pem);
  // ReadFile reads and parses a public key file (defined in key_files.cc with the other file
  // I/O). Fails, naming the file, as FromPem does or if the file cannot be read.
  static absl::StatusOr<ServerPublicKey> ReadFile(const std::string& path);
  // FromDer parses a DER SubjectPublicKeyInfo, as SERVER_KEY carries it (PROTOCOL.md 4.8).
  // Fails for anything but the canonical DER of an RSA key of an allowed size, with nothing
  // after it: the bytes whose SHA-256 is the fingerprint are then exactly `der`.
  static absl::StatusOr<ServerPublicKey> FromDer(ByteView der);

  EVP_PKEY* get() const { return key_.get(); }
  // Modulus size in bytes (k): 256, 384 or 512.
  size_t size() const;
  // Der is the DER SubjectPublicKeyInfo of the key.
  std::vector<uint8_t> Der() const;
  // FingerprintDigest is SHA-256 over Der(); Fingerprint is its text: "SHA256:" and the
  // unpadded base64 of the digest.
  Sha256Digest FingerprintDigest() const;
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
  // Generate makes a new key of an allowed size (IsAllowedRsaBits); other sizes are refused.
  static absl::StatusOr<ServerPrivateKey> Generate(int bits);
  // FromPem parses a PKCS#8 PEM, encrypted (with `passphrase`) or not. Fails, saying why: an
  // encrypted key without a passphrase says that it is passphrase-protected, a passphrase
  // longer than kMaxPassphraseLen says so. When `why` is not null it gets the reason
  // (kNone on success).
  static absl::StatusOr<ServerPrivateKey> FromPem(std::string_view pem,
                                                  const Passphrase* passphrase,
                                                  KeyLoadError* why = nullptr);
  // ReadFile refuses a file that is not a regular file or that group or others may read or
  // write (saying how to fix it), then parses it like FromPem; messages name the file. Reads
  // into a Secret<>, so no copy of the key's text is left in freed memory. Defined in
  // key_files.cc with the other file I/O.
  static absl::StatusOr<ServerPrivateKey> ReadFile(const std::string& path,
                                                   const Passphrase* passphrase,
                                                   KeyLoadError* why = nullptr);

  EVP_PKEY* get() const { return key_.get(); }
  size_t size() const;
  ServerPublicKey PublicKey() const;
  // PublicKeyDer is the DER SubjectPublicKeyInfo of the public half, the body of SERVER_KEY;
  // computed once, when the key is loaded.
  ByteView PublicKeyDer() const { return ByteView(public_der_.data(), public_der_.size()); }
  // ToPem is WritePrivateKeyPem of this key.
  absl::StatusOr<Secret<>> ToPem(const Passphrase* passphrase) const;

 private:
  explicit ServerPrivateKey(EvpPkeyPtr key);
  EvpPkeyPtr key_;
  std::vector<uint8_t> public_der_;
};

}  // namespace securechat

#endif  // SECURECHAT_CRYPTO_KEYS_H_
