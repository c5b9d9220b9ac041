// The one comparator for tags, confirm values and anything else secret.
#ifndef SECURECHAT_CRYPTO_CONSTANT_TIME_H_
#define SECURECHAT_CRYPTO_CONSTANT_TIME_H_

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

}  // namespace securechat

#endif  // SECURECHAT_CRYPTO_CONSTANT_TIME_H_
