#include "securechat/crypto/constant_time.h"

#include <openssl/crypto.h>

#include <cstdlib>

namespace securechat {

bool ConstantTimeEqual(absl::Span<const uint8_t> a, absl::Span<const uint8_t> b) {
  if (a.size() != b.size()) {
    return false;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool ConstantTimeIsZero(absl::Span<const uint8_t> a) {
  uint8_t acc = 0;
  for (uint8_t v : a) {
    acc |= v;
  }
  return acc == 0;
}

void ConstantTimeSelect(bool choose_a, absl::Span<const uint8_t> a, absl::Span<const uint8_t> b,
                        absl::Span<uint8_t> out) {
  if (a.size() != out.size() || b.size() != out.size()) {
    abort();
  }
  // 0xFF when choosing a, 0x00 otherwise; computed arithmetically, not by a branch.
  const uint8_t mask = static_cast<uint8_t>(0u - static_cast<unsigned>(choose_a));
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<uint8_t>((a[i] & mask) | (b[i] & static_cast<uint8_t>(~mask)));
  }
}

}  // namespace securechat
