// Secret: key material, passphrases and private key text, in the one type that wipes itself.
//
// Secret<N> holds exactly N bytes in place (keys, shared secrets, scratch space that OpenSSL
// writes into); Secret<> holds any number of bytes on the heap (a passphrase, the PEM text of
// a private key) and grows like OpenSSH's sshbuf: a new block, a copy, then the old block
// wiped before it is freed, so no copy is ever left behind in freed memory.
//
// Both are move-only; wiped with OPENSSL_cleanse on destruction and when moved from; never
// printed; compared only in constant time (crypto/constant_time.h). The raw bytes are
// reachable through one greppable accessor, Expose(), so every use of secret material can be
// found and read.
#ifndef SECURECHAT_CRYPTO_SECRET_H_
#define SECURECHAT_CRYPTO_SECRET_H_

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <string_view>
#include <utility>

#include "absl/types/span.h"

namespace securechat {

// kAnySize is the size of a Secret whose length is chosen at run time: Secret<> is
// Secret<kAnySize>.
inline constexpr size_t kAnySize = std::dynamic_extent;

template <size_t N = kAnySize>
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

  // Expose gives the raw bytes. Every call site is a place where secret material is used.
  absl::Span<uint8_t> Expose() { return absl::MakeSpan(bytes_); }
  absl::Span<const uint8_t> Expose() const { return absl::MakeConstSpan(bytes_); }

  // Wipe sets every byte to zero in a way the compiler may not remove.
  void Wipe() { OPENSSL_cleanse(bytes_.data(), N); }

 private:
  std::array<uint8_t, N> bytes_;
};

// Secret<> is a secret of any length: one heap block, `capacity()` bytes, of which the first
// `size()` hold the secret. Every block it lets go of (when it grows, shrinks to nothing, is
// moved from or goes away) is wiped first, and the bytes past size() are kept zero.
template <>
class Secret<kAnySize> {
 public:
  static constexpr size_t kSize = kAnySize;

  Secret() = default;
  // Copies `bytes`. Aborts if memory runs out, as the standard containers do.
  explicit Secret(absl::Span<const uint8_t> bytes) { Assign(bytes); }
  // Copies `text` (a passphrase, PEM text).
  explicit Secret(std::string_view text)
      : Secret(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size())) {}
  ~Secret() { Release(); }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  // Takes the other's block; `other` is left empty, holding none.
  Secret(Secret&& other) noexcept
      : bytes_(std::exchange(other.bytes_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      Release();
      bytes_ = std::exchange(other.bytes_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }

  // Expose gives the size() bytes of the secret. Every call site is a place where secret
  // material is used. The view lasts until the next call that changes the size.
  absl::Span<uint8_t> Expose() { return absl::MakeSpan(bytes_, size_); }
  absl::Span<const uint8_t> Expose() const { return absl::MakeConstSpan(bytes_, size_); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }

  // Reserve makes room for at least `capacity` bytes. A new block is allocated, the secret is
  // copied into it, and the old block is wiped, then freed. Returns false, changing nothing,
  // if memory runs out.
  [[nodiscard]] bool Reserve(size_t capacity) {
    if (capacity <= capacity_) {
      return true;
    }
    auto* bigger = new (std::nothrow) uint8_t[capacity]();
    if (bigger == nullptr) {
      return false;
    }
    if (size_ > 0) {
      std::memcpy(bigger, bytes_, size_);
    }
    const size_t size = size_;
    Release();
    bytes_ = bigger;
    size_ = size;
    capacity_ = capacity;
    return true;
  }

  // Spare is the room after the secret, [size(), capacity()), for a reader to write into;
  // Commit(n) then makes its first n bytes part of the secret (aborts if n is more than the
  // room: a caller bug).
  absl::Span<uint8_t> Spare() { return absl::MakeSpan(bytes_ + size_, capacity_ - size_); }
  void Commit(size_t n) {
    if (n > capacity_ - size_) {
      abort();
    }
    size_ += n;
  }

  // Wipe zeroes every byte of the block and makes the secret empty; the block is kept.
  void Wipe() {
    if (bytes_ != nullptr) {
      OPENSSL_cleanse(bytes_, capacity_);
    }
    size_ = 0;
  }

 private:
  void Assign(absl::Span<const uint8_t> bytes) {
    if (!Reserve(bytes.size())) {
      abort();
    }
    if (!bytes.empty()) {
      std::memcpy(bytes_, bytes.data(), bytes.size());
    }
    size_ = bytes.size();
  }

  // Release wipes the whole block and frees it.
  void Release() {
    Wipe();
    delete[] bytes_;
    bytes_ = nullptr;
    capacity_ = 0;
  }

  uint8_t* bytes_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// AsChars views secret bytes as text, for the OpenSSL calls that take a passphrase or PEM as
// characters: `AsChars(pass.Expose())`, so the Expose() stays at the call site.
inline std::string_view AsChars(absl::Span<const uint8_t> bytes) {
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace securechat

#endif  // SECURECHAT_CRYPTO_SECRET_H_
