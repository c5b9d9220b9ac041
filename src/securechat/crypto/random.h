// Randomness is injected: production code draws from OpenSSL's CSPRNG, tests from a script.
#ifndef SECURECHAT_CRYPTO_RANDOM_H_
#define SECURECHAT_CRYPTO_RANDOM_H_

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
class OsRandom final : public RandomSource {
 public:
  void Fill(absl::Span<uint8_t> out) override;
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
