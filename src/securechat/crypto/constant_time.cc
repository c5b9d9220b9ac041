#include "securechat/crypto/constant_time.h"

#include <cstdlib>
#include <cstring>

namespace securechat {

namespace {

// Hide hides a value from the optimiser, so that it cannot prove an accumulator final and
// stop a loop at the first difference (or at the first non-zero byte). It emits no
// instruction. ConstantTimeEqual and ConstantTimeIsZero both pass every step through it.
inline uint64_t Hide(uint64_t v) {
  __asm__("" : "+r"(v));
  return v;
}

}  // namespace

bool ConstantTimeEqual(absl::Span<const uint8_t> a, absl::Span<const uint8_t> b) {
  if (a.size() != b.size()) {
    return false;
  }
  // Eight bytes at a time, then the rest: every byte is read whatever the contents, and the
  // differences are only ORed together. CRYPTO_memcmp does the same a byte at a time, which
  // was an eighth of the cost of opening a small record.
  uint64_t diff = 0;
  size_t i = 0;
  for (; a.size() - i >= sizeof(uint64_t); i += sizeof(uint64_t)) {
    uint64_t x, y;
    std::memcpy(&x, a.data() + i, sizeof(x));
    std::memcpy(&y, b.data() + i, sizeof(y));
    diff = Hide(diff | (x ^ y));
  }
  for (; i < a.size(); ++i) {
    diff = Hide(diff | static_cast<uint64_t>(a[i] ^ b[i]));
  }
  return diff == 0;
}

bool ConstantTimeIsZero(absl::Span<const uint8_t> a) {
  // As ConstantTimeEqual, against nothing: eight bytes at a time, then the rest, ORed.
  uint64_t acc = 0;
  size_t i = 0;
  for (; a.size() - i >= sizeof(uint64_t); i += sizeof(uint64_t)) {
    uint64_t x;
    std::memcpy(&x, a.data() + i, sizeof(x));
    acc = Hide(acc | x);
  }
  for (; i < a.size(); ++i) {
    acc = Hide(acc | a[i]);
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
