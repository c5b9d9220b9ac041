// Thin, hard-to-misuse wrappers over the OpenSSL primitives securechat uses. Each is tested
// against Wycheproof vectors. Contexts that the per-message path needs (AesCbc128, HmacSha256)
// are set up once and reused without allocating.
#ifndef SECURECHAT_CRYPTO_PRIMITIVES_H_
#define SECURECHAT_CRYPTO_PRIMITIVES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "securechat/crypto/openssl_util.h"
#include "securechat/crypto/secret.h"
#include "securechat/wire/protocol.h"

namespace securechat {

using ByteView = absl::Span<const uint8_t>;
using Sha256Digest = std::array<uint8_t, proto::kHashLen>;
using X25519Public = std::array<uint8_t, proto::kX25519Len>;
using X25519Private = Secret<proto::kX25519Len>;

// AesCbc128 is AES-128-CBC without padding over whole blocks, keyed once.
//
// Each Run starts a new CBC chain from its own IV without re-initialising the context: OpenSSL
// 3.0's re-initialisation looks up named parameters and costs more than encrypting a short
// record. The context's chain simply continues, and the first block is corrected by
// (iv XOR the block the chain continues from), which gives exactly CBC under `iv`.
class AesCbc128 {
 public:
  // Init keys the context for encryption or decryption. Returns false if OpenSSL fails or the
  // key is not 16 bytes.
  [[nodiscard]] bool Init(ByteView key, bool encrypt);
  // Run processes `in` (a whole number of blocks) under `iv` into out[0, in.size()); `in` and
  // `out` may be the same bytes (not otherwise overlapping). Returns false if sizes are wrong
  // or OpenSSL fails.
  [[nodiscard]] bool Run(ByteView iv, ByteView in, absl::Span<uint8_t> out);

 private:
  // Restart sets the context's chain back to a zero IV, after Init or a failure.
  bool Restart();

  EvpCipherCtxPtr ctx_;
  bool encrypt_ = false;
  // The block the context's CBC chain continues from: the last ciphertext block it saw.
  std::array<uint8_t, proto::kAesBlockLen> chain_{};
};

// Pkcs7PadBlock returns the final padded block for a message whose last `tail.size()` bytes
// (0..15) did not fill a block.
std::array<uint8_t, proto::kAesBlockLen> Pkcs7PadBlock(ByteView tail);

// Pkcs7PaddingLen checks the PKCS#7 padding at the end of `plain` (a non-empty whole number of
// blocks) in time independent of the padding bytes. Returns the pad length (1..16), or 0 when
// the padding is invalid.
size_t Pkcs7PaddingLen(ByteView plain);

// HmacSha256 is HMAC-SHA-256 (RFC 2104) under one key, for many messages, with no allocation
// and no context set-up per message.
//
// It is Nettle's HMAC (nettle/hmac.h), not OpenSSL's. The per-message path needs to restart
// SHA-256 from the key's saved inner and outer states, and OpenSSL 3.0 has no supported call
// that does this without allocating: EVP_MD_CTX_copy_ex and EVP_MAC_init (NULL key) duplicate
// the provider's context on the heap for every tag, EVP_MAC_CTX_dup more so, and the
// SHA256_CTX calls that copied plain states are deprecated. Re-hashing the padded key blocks
// for each tag instead costs two compressions a tag. Nettle keeps both saved states in a plain
// struct, restarts by copying them, and uses the same SHA-NI instructions as OpenSSL; the
// figures behind this choice are in bench/README.md. Its result is checked against OpenSSL's
// HMAC() by the Wycheproof tests and by fuzz/record_differential_fuzzer.cc.
//
// Nettle's context lives on the heap, made by the first Init (one allocation per key, none per
// message), so that moving the object moves a pointer. It is wiped when the object goes away
// or is re-keyed.
class HmacSha256 {
 public:
  HmacSha256() = default;
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;
  HmacSha256(HmacSha256&& other) noexcept;
  HmacSha256& operator=(HmacSha256&& other) noexcept;

  // Init keys the object (any key length; keys over 64 bytes are hashed first, RFC 2104) and
  // starts a first message, as Begin does. Returns false only if memory runs out.
  [[nodiscard]] bool Init(ByteView key);
  // Begin starts a message from the key; Update adds bytes; Final writes the 32-byte tag. Each
  // returns false when called out of order (before Init, or Update or Final without Begin), or
  // with a tag buffer that is not 32 bytes.
  [[nodiscard]] bool Begin();
  [[nodiscard]] bool Update(ByteView data);
  [[nodiscard]] bool Final(absl::Span<uint8_t> tag);

  // Mac writes the 32-byte tag of head || body in one call: Begin, Update(head), Update(body),
  // Final. Returns false before Init or with a tag buffer that is not 32 bytes.
  [[nodiscard]] bool Mac(ByteView head, ByteView body, absl::Span<uint8_t> tag);

  // Compute is a one-shot HMAC-SHA-256 of `data` under `key`.
  [[nodiscard]] static bool Compute(ByteView key, ByteView data, absl::Span<uint8_t> tag);

 private:
  // State is Nettle's hmac_sha256_ctx (defined in the .cc, so that this header does not bring
  // in Nettle's); WipeAndFree cleanses it before freeing it.
  struct State;
  struct WipeAndFree {
    void operator()(State* state) const;
  };

  std::unique_ptr<State, WipeAndFree> state_;
  bool started_ = false;  // Begin (or Init) came since the last Final
  bool dirty_ = false;    // bytes were hashed since the context was last at the key's state
};

// FingerprintText is "SHA256:" and the unpadded base64 of `digest`, the form OpenSSH prints.
std::string FingerprintText(const Sha256Digest& digest);
// ParseFingerprintText is the digest that FingerprintText would print as `text`; nullopt for
// anything else (another prefix, padding, a wrong length or a non-canonical last character).
std::optional<Sha256Digest> ParseFingerprintText(std::string_view text);

// Sha256 is a streaming SHA-256, for the handshake transcript.
class Sha256 {
 public:
  Sha256();
  [[nodiscard]] bool Update(ByteView data);
  [[nodiscard]] bool Final(Sha256Digest* out);

 private:
  EvpMdCtxPtr ctx_;
  bool ok_ = false;
};

// X25519PublicKey computes the public key of a raw 32-byte private scalar.
[[nodiscard]] bool X25519PublicKey(const X25519Private& priv, X25519Public* pub);

// X25519 computes the shared secret. Returns false if OpenSSL refuses the inputs or the result
// is all zero (a low-order peer share), which the protocol treats as an abort.
[[nodiscard]] bool X25519(const X25519Private& priv, ByteView peer_public,
                          Secret<proto::kX25519Len>* shared);

// X25519Exchange computes both the public share of `priv` and the shared secret with
// `peer_public` from one key object: one scalar multiplication fewer than X25519PublicKey
// followed by X25519, whose key object recomputes the share. Fails like X25519, with *share
// unspecified.
[[nodiscard]] bool X25519Exchange(const X25519Private& priv, ByteView peer_public,
                                  X25519Public* share, Secret<proto::kX25519Len>* shared);

// HkdfExtract and HkdfExpand are RFC 5869 with SHA-256. Expand fails when out is longer than
// 255 * 32 bytes.
[[nodiscard]] bool HkdfExtract(ByteView salt, ByteView ikm, absl::Span<uint8_t> prk);
[[nodiscard]] bool HkdfExpand(ByteView prk, ByteView info, absl::Span<uint8_t> out);

// RsaOaepDecrypt decrypts `ct` under RSA-OAEP with SHA-256, MGF1-SHA-256 and `label`.
// `out` must have room for the modulus size; *out_len gets the plaintext length. Returns false
// on any failure, with *out_len 0 and `out` holding nothing the caller may use. Whether the
// decryption succeeded steers no branch: callers may keep it secret (UnwrapSecret does).
[[nodiscard]] bool RsaOaepDecrypt(EVP_PKEY* key, ByteView label, ByteView ct,
                                  absl::Span<uint8_t> out, size_t* out_len);

// RsaOaepEncrypt encrypts `plain` under RSA-OAEP (SHA-256, MGF1-SHA-256, `label`), drawing the
// OAEP seed from OpenSSL's CSPRNG. *out is replaced by the ciphertext (modulus size).
[[nodiscard]] bool RsaOaepEncrypt(EVP_PKEY* key, ByteView label, ByteView plain,
                                  std::vector<uint8_t>* out);

}  // namespace securechat

#endif  // SECURECHAT_CRYPTO_PRIMITIVES_H_
