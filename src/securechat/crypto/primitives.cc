#include "securechat/crypto/primitives.h"

#include <nettle/hmac.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include <climits>
#include <cstring>
#include <new>
#include <utility>

#include "absl/strings/escaping.h"
#include "securechat/base/cat.h"
#include "securechat/crypto/constant_time.h"

namespace securechat {
namespace {

// Fetched once per process; OpenSSL keeps them for its lifetime.
EVP_KDF* HkdfAlgorithm() {
  static EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  return kdf;
}

bool FitsInt(size_t n) { return n <= static_cast<size_t>(INT_MAX); }

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
  encrypt_ = encrypt;
  return ctx_ != nullptr &&
         EVP_CipherInit_ex(ctx_.get(), EVP_aes_128_cbc(), nullptr, key.data(), nullptr,
                           encrypt ? 1 : 0) == 1 &&
         EVP_CIPHER_CTX_set_padding(ctx_.get(), 0) == 1 && Restart();
}

namespace {

// XorBlock sets block ^= a ^ b over one AES block.
void XorBlock(const uint8_t* a, const uint8_t* b, uint8_t* block) {
  static_assert(proto::kAesBlockLen == 2 * sizeof(uint64_t));
  uint64_t x[2], y[2], z[2];
  std::memcpy(x, a, sizeof(x));
  std::memcpy(y, b, sizeof(y));
  std::memcpy(z, block, sizeof(z));
  z[0] ^= x[0] ^ y[0];
  z[1] ^= x[1] ^ y[1];
  std::memcpy(block, z, sizeof(z));
}

}  // namespace

bool AesCbc128::Restart() {
  chain_.fill(0);
  return EVP_CipherInit_ex(ctx_.get(), nullptr, nullptr, nullptr, chain_.data(), -1) == 1;
}

bool AesCbc128::Run(ByteView iv, ByteView in, absl::Span<uint8_t> out) {
  constexpr size_t kBlock = proto::kAesBlockLen;
  if (ctx_ == nullptr || iv.size() != proto::kIvLen || in.size() % kBlock != 0 ||
      out.size() < in.size() || !FitsInt(in.size())) {
    return false;
  }
  const size_t n = in.size();
  if (n == 0) {
    return true;
  }
  std::array<uint8_t, kBlock> last;  // the last ciphertext block: where the chain goes on
  int out_len = 0;
  bool ok;
  if (encrypt_) {
    // The first block enters the cipher as P1 ^ iv ^ chain; the context XORs chain in again.
    if (out.data() != in.data()) {
      std::memmove(out.data(), in.data(), n);
    }
    XorBlock(iv.data(), chain_.data(), out.data());
    ok = EVP_EncryptUpdate(ctx_.get(), out.data(), &out_len, out.data(), static_cast<int>(n)) == 1;
    std::memcpy(last.data(), out.data() + n - kBlock, kBlock);
  } else {
    // The context gives D(C1) ^ chain for the first block; CBC under iv wants D(C1) ^ iv.
    std::memcpy(last.data(), in.data() + n - kBlock, kBlock);  // before an in-place run
    ok = EVP_DecryptUpdate(ctx_.get(), out.data(), &out_len, in.data(), static_cast<int>(n)) == 1;
    XorBlock(iv.data(), chain_.data(), out.data());
  }
  if (!ok || static_cast<size_t>(out_len) != n) {
    [[maybe_unused]] const bool restarted = Restart();
    return false;
  }
  chain_ = last;
  return true;
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
  const uint8_t* block = plain.data() + plain.size() - proto::kAesBlockLen;
  const size_t pad = block[proto::kAesBlockLen - 1];
  // good stays all-ones while pad is 1..16 and each of the last `pad` bytes equals pad. The
  // loop always reads all 16 bytes of the last block, so timing does not depend on `pad`.
  size_t good = ~ConstantTimeEqMask(pad, 0) & ConstantTimeLtMask(pad, proto::kAesBlockLen + 1);
  uint8_t diff = 0;
  for (size_t i = 0; i < proto::kAesBlockLen; ++i) {
    // Byte i is padding when it is among the last `pad`: 15 - i < pad.
    const auto in_pad = static_cast<uint8_t>(ConstantTimeLtMask(proto::kAesBlockLen - 1 - i, pad));
    diff |= static_cast<uint8_t>(in_pad & (block[i] ^ static_cast<uint8_t>(pad)));
  }
  good &= ConstantTimeEqMask(diff, 0);
  return pad & good;
}

struct HmacSha256::State {
  hmac_sha256_ctx ctx;
};

void HmacSha256::WipeAndFree::operator()(State* state) const {
  OPENSSL_cleanse(state, sizeof(*state));
  delete state;
}

HmacSha256::HmacSha256(HmacSha256&& other) noexcept { *this = std::move(other); }

HmacSha256& HmacSha256::operator=(HmacSha256&& other) noexcept {
  if (this != &other) {
    state_ = std::move(other.state_);
    started_ = std::exchange(other.started_, false);
    dirty_ = std::exchange(other.dirty_, false);
  }
  return *this;
}

bool HmacSha256::Init(ByteView key) {
  started_ = false;
  if (state_ == nullptr) {
    state_.reset(new (std::nothrow) State);
    if (state_ == nullptr) {
      return false;
    }
  }
  // Nettle hashes a key longer than the block first and pads it (RFC 2104), keeping the
  // inner and outer states; its stack copy of the padded key is its own to clear.
  hmac_sha256_set_key(&state_->ctx, key.size(), key.data());
  dirty_ = false;
  started_ = true;  // ready for a first message without Begin
  return true;
}

bool HmacSha256::Begin() {
  if (state_ == nullptr) {
    return false;
  }
  if (dirty_) {
    // A message was started and not finished. Nettle's digest is its one way back to the
    // key's inner state (its context's layout is its own), so finish it and drop the tag.
    Sha256Digest dropped;
    hmac_sha256_digest(&state_->ctx, dropped.size(), dropped.data());
    OPENSSL_cleanse(dropped.data(), dropped.size());
    dirty_ = false;
  }
  started_ = true;
  return true;
}

bool HmacSha256::Update(ByteView data) {
  if (!started_) {
    return false;
  }
  hmac_sha256_update(&state_->ctx, data.size(), data.data());
  dirty_ = true;
  return true;
}

bool HmacSha256::Final(absl::Span<uint8_t> tag) {
  if (!started_ || tag.size() != proto::kTagLen) {
    return false;
  }
  started_ = false;
  hmac_sha256_digest(&state_->ctx, tag.size(), tag.data());  // back to the key's inner state
  dirty_ = false;
  return true;
}

bool HmacSha256::Mac(ByteView head, ByteView body, absl::Span<uint8_t> tag) {
  if (tag.size() != proto::kTagLen || !Begin()) {
    return false;
  }
  constexpr size_t kHead = sizeof(uint64_t);
  constexpr size_t kBlock = SHA256_BLOCK_SIZE;
  if (head.size() == kHead && body.size() >= kBlock - kHead) {
    // The first block is head || body[0, 56). Nettle's update would assemble it in its buffer
    // with unaligned copies and at once load it back 16 bytes at a time; each load that spans
    // two pending stores waits for them (~10 ns per 64-byte seal+open here). So the block is
    // written in the 16-byte pieces it is loaded in, and Nettle hashes it from there: its context
    // is at a block boundary after Begin, so a whole block is compressed in place, not copied.
    using Piece = uint64_t __attribute__((vector_size(16)));
    alignas(16) uint8_t block[kBlock];
    uint64_t first[2];
    std::memcpy(&first[0], head.data(), kHead);
    std::memcpy(&first[1], body.data(), kHead);
    const Piece piece = {first[0], first[1]};
    std::memcpy(block, &piece, sizeof(piece));
    for (size_t at = sizeof(piece); at < sizeof(block); at += sizeof(piece)) {
      std::memcpy(block + at, body.data() + at - kHead, sizeof(piece));
    }
    return Update(ByteView(block, sizeof(block))) && Update(body.subspan(kBlock - kHead)) &&
           Final(tag);
  }
  return Update(head) && Update(body) && Final(tag);
}

bool HmacSha256::Compute(ByteView key, ByteView data, absl::Span<uint8_t> tag) {
  HmacSha256 h;
  return h.Init(key) && h.Update(data) && h.Final(tag);
}

std::string FingerprintText(const Sha256Digest& digest) {
  std::string b64 = absl::Base64Escape(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  while (!b64.empty() && b64.back() == '=') {
    b64.pop_back();
  }
  return "SHA256:" + b64;
}

std::optional<Sha256Digest> ParseFingerprintText(std::string_view text) {
  constexpr std::string_view kPrefix = "SHA256:";
  constexpr size_t kChars = (proto::kHashLen * 4 + 2) / 3;  // 43: unpadded base64 of 32 bytes
  if (text.size() != kPrefix.size() + kChars || text.substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  const std::string padded = Cat(text.substr(kPrefix.size()), "=");
  std::string bytes;
  Sha256Digest digest;
  if (!absl::Base64Unescape(padded, &bytes) || bytes.size() != digest.size()) {
    return std::nullopt;
  }
  std::memcpy(digest.data(), bytes.data(), digest.size());
  if (FingerprintText(digest) != text) {
    return std::nullopt;  // a last character whose unused bits are not zero
  }
  return digest;
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

namespace {

EvpPkeyPtr X25519Key(const X25519Private& priv) {
  // Making the key object computes its public key: one scalar multiplication.
  return EvpPkeyPtr(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, priv.Expose().data(),
                                                 priv.Expose().size()));
}

bool GetX25519Public(EVP_PKEY* key, X25519Public* pub) {
  size_t len = pub->size();
  return key != nullptr && EVP_PKEY_get_raw_public_key(key, pub->data(), &len) == 1 &&
         len == pub->size();
}

// Derive computes the shared secret of `own` with `peer_public` (the second scalar
// multiplication) and applies the all-zero rule; on failure *shared is wiped.
bool Derive(EVP_PKEY* own, ByteView peer_public, Secret<proto::kX25519Len>* shared) {
  if (own == nullptr || peer_public.size() != proto::kX25519Len) {
    shared->Wipe();
    return false;
  }
  EvpPkeyPtr peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public.data(),
                                              peer_public.size()));
  EvpPkeyCtxPtr ctx(peer == nullptr ? nullptr : EVP_PKEY_CTX_new_from_pkey(nullptr, own, nullptr));
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

}  // namespace

bool X25519PublicKey(const X25519Private& priv, X25519Public* pub) {
  return GetX25519Public(X25519Key(priv).get(), pub);
}

bool X25519(const X25519Private& priv, ByteView peer_public, Secret<proto::kX25519Len>* shared) {
  if (peer_public.size() != proto::kX25519Len) {
    return false;
  }
  return Derive(X25519Key(priv).get(), peer_public, shared);
}

bool X25519Exchange(const X25519Private& priv, ByteView peer_public, X25519Public* share,
                    Secret<proto::kX25519Len>* shared) {
  if (peer_public.size() != proto::kX25519Len) {
    return false;
  }
  EvpPkeyPtr own = X25519Key(priv);
  return GetX25519Public(own.get(), share) && Derive(own.get(), peer_public, shared);
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
  const size_t ok = ConstantTimeEqMask(static_cast<unsigned>(result), 1);
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
