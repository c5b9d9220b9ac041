// Fixed record keys for the record fuzzers: the c2s and s2c keys of handshake vector
// rsa2048-basic (tests/vectors/securechat-v1/records.json), so that the vector frames seed the
// corpora as records that really open.
#ifndef SECURECHAT_FUZZ_RECORD_UTIL_H_
#define SECURECHAT_FUZZ_RECORD_UTIL_H_

#include <array>
#include <cstdint>

#include "securechat/crypto/record.h"

namespace securechat::fuzz {

inline constexpr std::array<uint8_t, 16> kC2sEnc = {0xa9, 0x61, 0x4b, 0x7b, 0xa4, 0x0f, 0x3b, 0xfd,
                                                    0x02, 0x25, 0x85, 0x1b, 0xb8, 0x7c, 0x6e, 0x9f};
inline constexpr std::array<uint8_t, 32> kC2sMac = {
    0xab, 0x28, 0xeb, 0x9b, 0x55, 0x06, 0xd5, 0xb1, 0x63, 0x17, 0x8c, 0x66, 0xcc, 0xf5, 0x0c, 0xdd,
    0xad, 0x6b, 0x1b, 0x8e, 0x0a, 0xf6, 0x9e, 0x6d, 0xac, 0xb7, 0x95, 0x05, 0xba, 0x8d, 0x62, 0x91};
// Any other keys: the receiver of the other direction.
inline constexpr std::array<uint8_t, 16> kOtherEnc = {1, 2,  3,  4,  5,  6,  7,  8,
                                                      9, 10, 11, 12, 13, 14, 15, 16};
inline constexpr std::array<uint8_t, 32> kOtherMac = {32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42,
                                                      43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53,
                                                      54, 55, 56, 57, 58, 59, 60, 61, 62, 63};

template <typename T>
[[nodiscard]] bool InitWith(T* t, absl::Span<const uint8_t> enc, absl::Span<const uint8_t> mac,
                            uint64_t seq) {
  if (!t->Init(EncKey::FromBytes(enc), MacKey::FromBytes(mac))) {
    return false;
  }
  t->set_sequence_for_testing(seq);
  return true;
}

}  // namespace securechat::fuzz

#endif  // SECURECHAT_FUZZ_RECORD_UTIL_H_
