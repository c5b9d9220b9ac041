// The one comparator for tags, confirm values and anything else secret, and the constant-time
// helpers that build on the same idea: masks and selection without a branch on a secret.
#ifndef SECURECHAT_CRYPTO_CONSTANT_TIME_H_
#define SECURECHAT_CRYPTO_CONSTANT_TIME_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"

namespace securechat {

// ConstantTimeEqual returns true when a and b have the same length and the same bytes. The
// lengths are public; the time taken does not depend on where the contents differ.
bool ConstantTimeEqual(absl::Span<const uint8_t> a, absl::Span<const uint8_t> b);

// ConstantTimeIsZero returns true when every byte of a is zero, in time independent of them.
bool ConstantTimeIsZero(absl::Span<const uint8_t> a);

// ConstantTimeSelect sets out = choose_a ? a : b byte by byte without a branch on choose_a.
// All three spans must have one length (aborts otherwise).
void ConstantTimeSelect(bool choose_a, absl::Span<const uint8_t> a, absl::Span<const uint8_t> b,
                        absl::Span<uint8_t> out);

// ConstantTimeLtMask is all ones when a < b and zero otherwise, for a and b below 2^63 (the
// top bit of a - b is the answer); no branch on either.
inline size_t ConstantTimeLtMask(size_t a, size_t b) {
  return static_cast<size_t>(0) - ((a - b) >> (sizeof(size_t) * 8 - 1));
}

// ConstantTimeEqMask is all ones when a == b and zero otherwise; no branch on either.
inline size_t ConstantTimeEqMask(size_t a, size_t b) {
  const size_t x = a ^ b;
  return static_cast<size_t>(0) - (((~x) & (x - 1)) >> (sizeof(size_t) * 8 - 1));
}

}  // namespace securechat

#endif  // SECURECHAT_CRYPTO_CONSTANT_TIME_H_
