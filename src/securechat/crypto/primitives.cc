#include "securechat/crypto/primitives.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include <climits>
#include <cstring>

#include "securechat/crypto/constant_time.h"

namespace securechat {
namespace {

// Fetched once per process; OpenSSL keeps them for its lifetime.
EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

EVP_KDF* HkdfAlgorithm() {
  static EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  return kdf;
}

bool FitsInt(size_t n) { return n <= static_cast<size_t>(INT_MAX); }

// Constant-time helpers over size_t: all-ones when the condition holds, else zero.
size_t CtMaskLt(size_t a, size_t b) {
  return static_cast<size_t>(0) - ((a - b) >> (sizeof(size_t) * 8 - 1));
}
size_t CtMaskEq(size_t a, size_t b) {
  size_t x = a ^ b;
  return static_cast<size_t>(0) - (((~x) & (x - 1)) >> (sizeof(size_t) * 8 - 1));
}

bool RunHkdf(int mode, ByteView salt, ByteView key, ByteView info, absl::Span<uint8_t> out) {
  EVP_KDF* kdf = HkdfAlgorithm();
  if (kdf == nullptr) {
    return false;
  }
  EvpKdfCtxPtr ctx(EVP_KDF_CTX_new(kdf));
  if (ctx == nullptr) {
    return false;
  }
  char digest[] = "SHA256";
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                  const_cast<uint8_t*>(key.data()), key.size());
  if (mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY) {
    // An absent salt is HashLen zero bytes (RFC 5869 2.2); HMAC pads a short key with zeros,
    // so an empty salt gives the same PRK.
    static const uint8_t kZeroSalt[proto::kHashLen] = {};
    ByteView s = salt.empty() ? ByteView(kZeroSalt, sizeof(kZeroSalt)) : salt;
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                    const_cast<uint8_t*>(s.data()), s.size());
  } else {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                                    const_cast<uint8_t*>(info.data()), info.size());
  }
  params[n] = OSSL_PARAM_construct_end();
  return EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) == 1;
}

EvpPkeyCtxPtr NewOaepContext(EVP_PKEY* key, ByteView label, bool decrypt) {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (ctx == nullptr) {
    return nullptr;
  }
  int init = decrypt ? EVP_PKEY_decrypt_init(ctx.get()) : EVP_PKEY_encrypt_init(ctx.get());
  if (init != 1 || EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1) {
    return nullptr;
  }
  if (!label.empty()) {
    // set0 takes ownership of the label: hand it a copy it may free.
    void* copy = OPENSSL_memdup(label.data(), label.size());
    if (copy == nullptr || !FitsInt(label.size())) {
      OPENSSL_free(copy);
      return nullptr;
    }
    if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), copy, static_cast<int>(label.size())) != 1) {
      OPENSSL_free(copy);
      return nullptr;
    }
  }
  return ctx;
}

}  // namespace

std::string OpenSslErrorString() {
  unsigned long last = 0;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    last = e;
  }
  if (last == 0) {
    return "";
  }
  char buf[256];
  ERR_error_string_n(last, buf, sizeof(buf));
  return buf;
}

bool AesCbc128::Init(ByteView key, bool encrypt) {
  if (key.size() != proto::kAesKeyLen) {
    return false;
  }
  ctx_.reset(EVP_CIPHER_CTX_new());
  return ctx_ != nullptr &&
         EVP_CipherInit_ex(ctx_.get(), EVP_aes_128_cbc(), nullptr, key.data(), nullptr,
                           encrypt ? 1 : 0) == 1 &&
         EVP_CIPHER_CTX_set_padding(ctx_.get(), 0) == 1;
}

bool AesCbc128::Run(ByteView iv, ByteView in, absl::Span<uint8_t> out) {
  if (ctx_ == nullptr || iv.size() != proto::kIvLen || in.size() % proto::kAesBlockLen != 0 ||
      out.size() < in.size() || !FitsInt(in.size())) {
    return false;
  }
  int out_len = 0;
  if (EVP_CipherInit_ex(ctx_.get(), nullptr, nullptr, nullptr, iv.data(), -1) != 1 ||
      EVP_CipherUpdate(ctx_.get(), out.data(), &out_len, in.data(), static_cast<int>(in.size())) !=
          1) {
    return false;
  }
  return static_cast<size_t>(out_len) == in.size();
}

std::array<uint8_t, proto::kAesBlockLen> Pkcs7PadBlock(ByteView tail) {
  std::array<uint8_t, proto::kAesBlockLen> block;
  const size_t n = tail.size() % proto::kAesBlockLen;
  const auto pad = static_cast<uint8_t>(proto::kAesBlockLen - n);
  if (n > 0) {  // an empty tail may have a null data pointer, which memcpy must not get
    std::memcpy(block.data(), tail.data(), n);
  }
  std::memset(block.data() + n, pad, proto::kAesBlockLen - n);
  return block;
}

size_t Pkcs7PaddingLen(ByteView plain) {
  if (plain.empty() || plain.size() % proto::kAesBlockLen != 0) {
    return 0;  // Public: lengths come from the frame header.
  }
  const size_t pad = plain[plain.size() - 1];
  // good stays all-ones while pad is 1..16 and each of the last `pad` bytes equals pad. The
  // loop always reads all 16 bytes of the last block, so timing does not depend on `pad`.
  size_t good = ~CtMaskEq(pad, 0) & CtMaskLt(pad, proto::kAesBlockLen + 1);
  for (size_t i = 1; i <= proto::kAesBlockLen; ++i) {
    const size_t in_pad = CtMaskLt(i - 1, pad);  // i <= pad
    const size_t b = plain[plain.size() - i];
    good &= ~in_pad | CtMaskEq(b, pad);
  }
  return pad & good;
}

bool HmacSha256::Init(ByteView key) {
  EVP_MAC* mac = HmacAlgorithm();
  if (mac == nullptr) {
    return false;
  }
  ctx_.reset(EVP_MAC_CTX_new(mac));
  if (ctx_ == nullptr) {
    return false;
  }
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  // OpenSSL treats a NULL key as "reuse the current key", so an empty key needs a real pointer.
  static const uint8_t kEmpty = 0;
  const uint8_t* k = key.empty() ? &kEmpty : key.data();
  return EVP_MAC_init(ctx_.get(), k, key.size(), params) == 1;
}

bool HmacSha256::Begin() {
  // A NULL key restarts from the inner and outer states Init computed.
  return ctx_ != nullptr && EVP_MAC_init(ctx_.get(), nullptr, 0, nullptr) == 1;
}

bool HmacSha256::Update(ByteView data) {
  return EVP_MAC_update(ctx_.get(), data.data(), data.size()) == 1;
}

bool HmacSha256::Final(absl::Span<uint8_t> tag) {
  size_t len = 0;
  return tag.size() == proto::kTagLen &&
         EVP_MAC_final(ctx_.get(), tag.data(), &len, tag.size()) == 1 && len == proto::kTagLen;
}

bool HmacSha256::Compute(ByteView key, ByteView data, absl::Span<uint8_t> tag) {
  HmacSha256 h;
  return h.Init(key) && h.Update(data) && h.Final(tag);
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  ok_ = ctx_ != nullptr && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1;
}

bool Sha256::Update(ByteView data) {
  ok_ = ok_ && EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) == 1;
  return ok_;
}

bool Sha256::Final(Sha256Digest* out) {
  unsigned int len = 0;
  ok_ = ok_ && EVP_DigestFinal_ex(ctx_.get(), out->data(), &len) == 1 && len == out->size();
  return ok_;
}

bool X25519PublicKey(const X25519Private& priv, X25519Public* pub) {
  EvpPkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, priv.Expose().data(),
                                              priv.Expose().size()));
  size_t len = pub->size();
  return key != nullptr && EVP_PKEY_get_raw_public_key(key.get(), pub->data(), &len) == 1 &&
         len == pub->size();
}

bool X25519(const X25519Private& priv, ByteView peer_public, Secret<proto::kX25519Len>* shared) {
  if (peer_public.size() != proto::kX25519Len) {
    return false;
  }
  EvpPkeyPtr own(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, priv.Expose().data(),
                                              priv.Expose().size()));
  EvpPkeyPtr peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public.data(),
                                              peer_public.size()));
  if (own == nullptr || peer == nullptr) {
    return false;
  }
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own.get(), nullptr));
  // No peer validation: every 32-byte string is a valid X25519 input (RFC 7748); the all-zero
  // output check below is the protocol's rule for low-order shares.
  size_t len = proto::kX25519Len;
  bool ok = ctx != nullptr && EVP_PKEY_derive_init(ctx.get()) == 1 &&
            EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), 0) == 1 &&
            EVP_PKEY_derive(ctx.get(), shared->Expose().data(), &len) == 1 &&
            len == proto::kX25519Len;
  ERR_clear_error();
  if (!ok || ConstantTimeIsZero(shared->Expose())) {
    shared->Wipe();
    return false;
  }
  return true;
}

bool HkdfExtract(ByteView salt, ByteView ikm, absl::Span<uint8_t> prk) {
  return prk.size() == proto::kHashLen &&
         RunHkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, salt, ikm, {}, prk);
}

bool HkdfExpand(ByteView prk, ByteView info, absl::Span<uint8_t> out) {
  if (out.empty() || out.size() > 255 * proto::kHashLen) {
    return false;
  }
  return RunHkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, {}, prk, info, out);
}

bool RsaOaepDecrypt(EVP_PKEY* key, ByteView label, ByteView ct, absl::Span<uint8_t> out,
                    size_t* out_len) {
  *out_len = 0;
  EvpPkeyCtxPtr ctx = NewOaepContext(key, label, /*decrypt=*/true);
  if (ctx == nullptr) {
    return false;  // Public: the key or OpenSSL is unusable, whatever the ciphertext.
  }
  size_t len = out.size();
  const int result = EVP_PKEY_decrypt(ctx.get(), out.data(), &len, ct.data(), ct.size());
  ERR_clear_error();
  // Whether the decryption worked is what a padding oracle reveals, so it steers no branch
  // here: OpenSSL returns it without one, and the mask carries it on (fuzz/ctcheck checks).
  const size_t ok = CtMaskEq(static_cast<unsigned>(result), 1);
  *out_len = len & ok;
  return (ok & 1) != 0;
}

bool RsaOaepEncrypt(EVP_PKEY* key, ByteView label, ByteView plain, std::vector<uint8_t>* out) {
  EvpPkeyCtxPtr ctx = NewOaepContext(key, label, /*decrypt=*/false);
  size_t len = 0;
  if (ctx == nullptr ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &len, plain.data(), plain.size()) != 1) {
    return false;
  }
  out->resize(len);
  if (EVP_PKEY_encrypt(ctx.get(), out->data(), &len, plain.data(), plain.size()) != 1) {
    return false;
  }
  out->resize(len);
  return true;
}

}  // namespace securechat
