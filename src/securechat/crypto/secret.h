// Secret<N>: fixed-size key material that wipes itself.
//
// Move-only; wiped with OPENSSL_cleanse on destruction and when moved from; never printed;
// compared only in constant time. The raw bytes are reachable through one greppable
// accessor, Expose(), so every use of key material can be found and read.
#ifndef SECURECHAT_CRYPTO_SECRET_H_
#define SECURECHAT_CRYPTO_SECRET_H_

#include <openssl/crypto.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"

namespace securechat {

template <size_t N>
class Secret {
 public:
  static constexpr size_t kSize = N;

  Secret() { bytes_.fill(0); }
  ~Secret() { Wipe(); }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept : bytes_(other.bytes_) { other.Wipe(); }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      bytes_ = other.bytes_;
      other.Wipe();
    }
    return *this;
  }

  // FromBytes copies exactly N bytes from `src`; aborts on any other length (a caller bug).
  static Secret FromBytes(absl::Span<const uint8_t> src) {
    if (src.size() != N) {
      abort();
    }
    Secret s;
    std::copy(src.begin(), src.end(), s.bytes_.begin());
    return s;
  }

  // Expose gives the raw bytes. Every call site is a place where key material is used.
  absl::Span<uint8_t> Expose() { return absl::MakeSpan(bytes_); }
  absl::Span<const uint8_t> Expose() const { return absl::MakeConstSpan(bytes_); }

  void Wipe() { OPENSSL_cleanse(bytes_.data(), N); }

 private:
  std::array<uint8_t, N> bytes_;
};

// ScopedWipe wipes a caller's buffer on every exit path, for scratch space that cannot be a
// Secret (for example a buffer OpenSSL writes into).
class ScopedWipe {
 public:
  explicit ScopedWipe(absl::Span<uint8_t> buf) : buf_(buf) {}
  ~ScopedWipe() { OPENSSL_cleanse(buf_.data(), buf_.size()); }
  ScopedWipe(const ScopedWipe&) = delete;
  ScopedWipe& operator=(const ScopedWipe&) = delete;

 private:
  absl::Span<uint8_t> buf_;
};

}  // namespace securechat

#endif  // SECURECHAT_CRYPTO_SECRET_H_
