#include "securechat/crypto/keys.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "securechat/base/cat.h"
#include "securechat/crypto/primitives.h"
#include "securechat/crypto/secret.h"
#include "securechat/wire/protocol.h"

namespace securechat {
namespace {

// PublicDer is the DER SubjectPublicKeyInfo of `key` (empty only if encoding fails).
std::vector<uint8_t> PublicDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  if (len <= 0) {
    return {};
  }
  std::vector<uint8_t> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

absl::Status CheckRsaKey(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    return absl::InvalidArgumentError("not an RSA key");
  }
  const int bits = EVP_PKEY_get_bits(key);
  if (!IsAllowedRsaBits(bits) ||
      !proto::IsAllowedRsaLen(static_cast<size_t>(EVP_PKEY_get_size(key)))) {
    return absl::InvalidArgumentError(
        Cat("RSA key of ", bits, " bits; securechat uses ", AllowedRsaBitsText()));
  }
  // SERVER_KEY must be able to carry it: only an unusually large public exponent breaks this.
  if (PublicDer(key).size() > proto::kServerKeyMaxBodyLen) {
    return absl::InvalidArgumentError(
        Cat("the RSA public key is longer than ", proto::kServerKeyMaxBodyLen,
            " bytes of DER (its public exponent is too large); securechat uses 65537"));
  }
  return absl::OkStatus();
}

BioPtr MemBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

struct PassphraseRequest {
  const Passphrase* passphrase;
  bool asked = false;
};

// OpenSSL offers the callback PEM_BUFSIZE bytes when it decrypts a PEM key.
static_assert(kMaxPassphraseLen <= PEM_BUFSIZE, "a passphrase must fit the PEM callback buffer");

int PassphraseCallback(char* buf, int size, int /*rwflag*/, void* user) {
  auto* req = static_cast<PassphraseRequest*>(user);
  req->asked = true;
  if (req->passphrase == nullptr || size <= 0) {
    return -1;
  }
  const std::string_view p = AsChars(req->passphrase->Expose());
  if (p.size() > static_cast<size_t>(size)) {
    return -1;
  }
  std::memcpy(buf, p.data(), p.size());
  return static_cast<int>(p.size());
}

}  // namespace

absl::Status TooLongPassphrase(std::string_view what) {
  return absl::InvalidArgumentError(Cat(what, " is longer than ", kMaxPassphraseLen,
                                        " bytes, the most securechat accepts for a passphrase"));
}

std::string AllowedRsaBitsText() {
  return Cat(proto::kRsaLenMin * 8, ", ", proto::kRsaLenMid * 8, " or ", proto::kRsaLenMax * 8);
}

absl::StatusOr<ServerPublicKey> ServerPublicKey::FromPem(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  EvpPkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (key == nullptr) {
    OpenSslErrorString();
    return absl::InvalidArgumentError("not a PEM public key (expected BEGIN PUBLIC KEY)");
  }
  if (absl::Status s = CheckRsaKey(key.get()); !s.ok()) {
    return s;
  }
  return ServerPublicKey(std::move(key));
}

absl::StatusOr<ServerPublicKey> ServerPublicKey::FromDer(ByteView der) {
  const unsigned char* p = der.data();
  EvpPkeyPtr key(der.size() <= proto::kServerKeyMaxBodyLen
                     ? d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()))
                     : nullptr);
  if (key == nullptr || p != der.data() + der.size()) {
    OpenSslErrorString();
    return absl::InvalidArgumentError("not a DER public key");
  }
  if (absl::Status s = CheckRsaKey(key.get()); !s.ok()) {
    return s;
  }
  // BER that is not DER would decode to the same key under another fingerprint.
  const std::vector<uint8_t> canonical = PublicDer(key.get());
  if (canonical.size() != der.size() ||
      !std::equal(canonical.begin(), canonical.end(), der.begin())) {
    return absl::InvalidArgumentError("not the canonical DER encoding of the public key");
  }
  return ServerPublicKey(std::move(key));
}

size_t ServerPublicKey::size() const { return static_cast<size_t>(EVP_PKEY_get_size(key_.get())); }

std::vector<uint8_t> ServerPublicKey::Der() const {
  std::vector<uint8_t> der = PublicDer(key_.get());
  if (der.empty()) {
    abort();  // Encoding a key we hold cannot fail but for lack of memory.
  }
  return der;
}

Sha256Digest ServerPublicKey::FingerprintDigest() const {
  Sha256Digest digest;
  Sha256 h;
  if (!h.Update(Der()) || !h.Final(&digest)) {
    abort();
  }
  return digest;
}

std::string ServerPublicKey::Fingerprint() const { return FingerprintText(FingerprintDigest()); }

std::string ServerPublicKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
    abort();
  }
  return BioToString(bio.get());
}

absl::StatusOr<ServerPrivateKey> ServerPrivateKey::Generate(int bits) {
  if (!IsAllowedRsaBits(bits)) {
    return absl::InvalidArgumentError(
        Cat("an RSA key must have ", AllowedRsaBitsText(), " bits, not ", bits));
  }
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
  if (key == nullptr) {
    return absl::InternalError(Cat("RSA key generation failed: ", OpenSslErrorString()));
  }
  return ServerPrivateKey(std::move(key));
}

absl::StatusOr<EvpPkeyPtr> ReadPrivateKeyPem(std::string_view pem, const Passphrase* passphrase,
                                             KeyLoadError* why,
                                             absl::FunctionRef<absl::Status(EVP_PKEY*)> check) {
  KeyLoadError ignored;
  KeyLoadError& reason = why != nullptr ? *why : ignored;
  reason = KeyLoadError::kBadKey;
  if (passphrase != nullptr && passphrase->size() > kMaxPassphraseLen) {
    reason = KeyLoadError::kWrongPassphrase;
    return TooLongPassphrase("the passphrase");
  }
  BioPtr bio = MemBio(pem);
  PassphraseRequest req{passphrase};
  EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, PassphraseCallback, &req)
                     : nullptr);
  if (key == nullptr) {
    OpenSslErrorString();
    if (req.asked && passphrase == nullptr) {
      reason = KeyLoadError::kNeedsPassphrase;
      return absl::InvalidArgumentError("the private key is passphrase-protected");
    }
    if (req.asked) {
      reason = KeyLoadError::kWrongPassphrase;
      return absl::InvalidArgumentError("wrong passphrase for the private key");
    }
    return absl::InvalidArgumentError("not a PEM private key (expected PKCS#8)");
  }
  if (absl::Status s = check(key.get()); !s.ok()) {
    return s;  // still kBadKey
  }
  reason = KeyLoadError::kNone;
  return key;
}

absl::StatusOr<ServerPrivateKey> ServerPrivateKey::FromPem(std::string_view pem,
                                                           const Passphrase* passphrase,
                                                           KeyLoadError* why) {
  absl::StatusOr<EvpPkeyPtr> key = ReadPrivateKeyPem(pem, passphrase, why, CheckRsaKey);
  if (!key.ok()) {
    return key.status();
  }
  return ServerPrivateKey(std::move(*key));
}

ServerPrivateKey::ServerPrivateKey(EvpPkeyPtr key)
    : key_(std::move(key)), public_der_(PublicDer(key_.get())) {
  if (public_der_.empty()) {
    abort();
  }
}

size_t ServerPrivateKey::size() const { return static_cast<size_t>(EVP_PKEY_get_size(key_.get())); }

ServerPublicKey ServerPrivateKey::PublicKey() const {
  // Round-trip through DER so the public object holds no private material.
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key_.get(), &der);
  if (len <= 0) {
    abort();
  }
  const unsigned char* p = der;
  EvpPkeyPtr pub(d2i_PUBKEY(nullptr, &p, len));
  OPENSSL_free(der);
  if (pub == nullptr) {
    abort();
  }
  return ServerPublicKey(std::move(pub));
}

absl::StatusOr<Secret<>> WritePrivateKeyPem(EVP_PKEY* key, const Passphrase* passphrase) {
  if (passphrase != nullptr && passphrase->size() > kMaxPassphraseLen) {
    return TooLongPassphrase("the passphrase");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) {
    return absl::ResourceExhaustedError("out of memory");
  }
  int ok;
  if (passphrase != nullptr) {
    const std::string_view p = AsChars(passphrase->Expose());
    ok = PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_256_cbc(),
                                       const_cast<char*>(p.data()), static_cast<int>(p.size()),
                                       nullptr, nullptr);
  } else {
    ok = PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  }
  if (ok != 1) {
    return absl::InternalError(Cat("cannot encode the key: ", OpenSslErrorString()));
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  Secret<> pem(std::string_view(data, len > 0 ? static_cast<size_t>(len) : 0));
  // Wipe the BIO's copy before it is freed.
  if (len > 0) {
    OPENSSL_cleanse(data, static_cast<size_t>(len));
  }
  return pem;
}

absl::StatusOr<Secret<>> ServerPrivateKey::ToPem(const Passphrase* passphrase) const {
  return WritePrivateKeyPem(key_.get(), passphrase);
}

}  // namespace securechat
