// The record layer: AES-128-CBC then HMAC-SHA-256 (encrypt-then-MAC) with an implicit 64-bit
// sequence number per direction.
//
//   seal(P), 1 <= |P| <= 16384:
//     body = iv || ct || tag, ct = AES-128-CBC(enc_key, iv, PKCS#7(P))
//     tag  = HMAC(mac_key, u64(seq) || header || iv || ct)
//
// Contexts are keyed once per connection; sealing and opening allocate nothing once the
// caller's output buffers have grown to their working size.
#ifndef SECURECHAT_CRYPTO_RECORD_H_
#define SECURECHAT_CRYPTO_RECORD_H_

#include <cstdint>
#include <vector>

#include "securechat/crypto/primitives.h"
#include "securechat/crypto/random.h"
#include "securechat/crypto/secret.h"

namespace securechat {

using EncKey = Secret<proto::kAesKeyLen>;
using MacKey = Secret<proto::kMacKeyLen>;

// RecordSealer protects the records of one direction.
class RecordSealer {
 public:
  // Init keys the sealer; the sequence number starts at 0. Returns false if OpenSSL fails.
  [[nodiscard]] bool Init(const EncKey& enc_key, const MacKey& mac_key);

  // Seal appends one whole RECORD frame carrying `plaintext` to *out and advances the
  // sequence number. Returns false, appending nothing, when the plaintext is empty or longer
  // than 16384 bytes, when the sequence number is exhausted (the connection must close), or
  // when OpenSSL fails.
  [[nodiscard]] bool Seal(ByteView plaintext, RandomSource& rng, std::vector<uint8_t>* out);

  uint64_t sequence() const { return seq_; }
  // For tests and vectors only: start at another sequence number.
  void set_sequence_for_testing(uint64_t seq) { seq_ = seq; }

 private:
  AesCbc128 aes_;
  HmacSha256 mac_;
  uint64_t seq_ = 0;
  bool exhausted_ = false;
  bool ready_ = false;
};

// RecordOpener checks and decrypts the records of one direction.
class RecordOpener {
 public:
  [[nodiscard]] bool Init(const EncKey& enc_key, const MacKey& mac_key);

  // Open takes one whole RECORD frame (header included, already accepted by CheckFrameHeader
  // or not: lengths are checked again) and replaces *plaintext with its content. The tag is
  // checked in constant time before anything is decrypted, then the padding, then the
  // plaintext length (1..16384). Every failure returns the same false and leaves *plaintext
  // empty; after a failure the connection must close. Advances the sequence number on success.
  [[nodiscard]] bool Open(ByteView frame, std::vector<uint8_t>* plaintext);

  uint64_t sequence() const { return seq_; }
  void set_sequence_for_testing(uint64_t seq) { seq_ = seq; }

 private:
  AesCbc128 aes_;
  HmacSha256 mac_;
  uint64_t seq_ = 0;
  bool exhausted_ = false;
  bool ready_ = false;
};

}  // namespace securechat

#endif  // SECURECHAT_CRYPTO_RECORD_H_
