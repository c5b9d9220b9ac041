// Helpers shared by the fuzz targets: a check that aborts, and a reader that splits one fuzz
// input into the numbers and byte strings a target needs.
//
// The targets are plain functions (LLVMFuzzerTestOneInput) over production code. The same
// source is linked with libFuzzer in the fuzz preset and with replay_main.cc everywhere else,
// so nothing here may depend on libFuzzer or on a sanitizer.
#ifndef SECURECHAT_FUZZ_FUZZ_UTIL_H_
#define SECURECHAT_FUZZ_FUZZ_UTIL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "absl/types/span.h"

namespace securechat::fuzz {

using ByteView = absl::Span<const uint8_t>;

// FUZZ_CHECK aborts, naming the broken property, when `cond` is false. libFuzzer and the
// replay tests both report the abort as a crash, with the input that caused it.
#define FUZZ_CHECK(cond)                                                               \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

// Input consumes a fuzz input from the front. Every read succeeds: past the end, numbers are 0
// and byte strings are empty or short, so any input is a valid script for a target.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : rest_(data, size) {}

  uint8_t U8() {
    if (rest_.empty()) {
      return 0;
    }
    const uint8_t v = rest_[0];
    rest_.remove_prefix(1);
    return v;
  }
  uint16_t U16() {
    const uint8_t hi = U8();
    return static_cast<uint16_t>(hi << 8 | U8());
  }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
      v = v << 8 | U8();
    }
    return v;
  }
  bool Bool() { return (U8() & 1) != 0; }
  // Bytes returns the next n bytes, or all that is left when fewer remain.
  ByteView Bytes(size_t n) {
    const ByteView out = rest_.first(std::min(n, rest_.size()));
    rest_.remove_prefix(out.size());
    return out;
  }
  // Chunk returns a u16-length-prefixed byte string (short at the end of the input).
  ByteView Chunk() { return Bytes(U16()); }
  ByteView Rest() { return Bytes(rest_.size()); }
  bool empty() const { return rest_.empty(); }
  size_t remaining() const { return rest_.size(); }

 private:
  ByteView rest_;
};

inline std::string_view AsText(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

inline ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

inline bool SameBytes(ByteView a, ByteView b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace securechat::fuzz

#endif  // SECURECHAT_FUZZ_FUZZ_UTIL_H_
