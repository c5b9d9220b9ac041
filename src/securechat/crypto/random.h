// Randomness is injected: production code draws from OpenSSL's CSPRNG, tests from a script.
#ifndef SECURECHAT_CRYPTO_RANDOM_H_
#define SECURECHAT_CRYPTO_RANDOM_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace securechat {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fill writes out.size() random bytes. It cannot fail: a source that cannot deliver aborts.
  virtual void Fill(absl::Span<uint8_t> out) = 0;
};

// OsRandom draws from RAND_bytes and aborts the process if the CSPRNG fails.
//
// Small draws (a record's IV, a handshake's secrets) are served in order from a block of
// CSPRNG output fetched kBlockLen bytes at a time; each byte is wiped as it is handed out, and
// a child process discards the parent's block after fork(). One RAND_bytes call costs ~2.7 us
// here before it produces a byte (OpenSSL 3.0 makes a getpid() system call on each one) and
// ~0.17 ns per byte after: drawing each IV alone would cost more than sealing its record,
// drawing 16 KiB at a time costs ~5 ns per IV. Not thread-safe: one OsRandom per thread.
class OsRandom final : public RandomSource {
 public:
  OsRandom();
  ~OsRandom() override;
  OsRandom(const OsRandom&) = delete;
  OsRandom& operator=(const OsRandom&) = delete;
  void Fill(absl::Span<uint8_t> out) override;

 private:
  static constexpr size_t kBlockLen = 16 * 1024;
  std::array<uint8_t, kBlockLen> block_;
  size_t used_ = kBlockLen;  // bytes of block_ handed out (and wiped) already
  uint64_t fork_generation_;
};

// ScriptedRandom hands out the given bytes in order, then a deterministic counter stream, so
// tests reproduce conformance vectors and runs repeat exactly. Never for production use.
class ScriptedRandom final : public RandomSource {
 public:
  ScriptedRandom() = default;
  explicit ScriptedRandom(std::vector<uint8_t> script) : script_(std::move(script)) {}
  void Append(absl::Span<const uint8_t> bytes) {
    script_.insert(script_.end(), bytes.begin(), bytes.end());
  }
  void Fill(absl::Span<uint8_t> out) override;

 private:
  std::vector<uint8_t> script_;
  size_t pos_ = 0;
  uint64_t counter_ = 0;
};

}  // namespace securechat

#endif  // SECURECHAT_CRYPTO_RANDOM_H_
