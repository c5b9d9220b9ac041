// Reader: the one bounds-checked cursor that every decoder in securechat walks.
//
// Every read either succeeds and advances, or fails and leaves both the cursor and the output
// untouched. No other code indexes a buffer with a length that came from the network.
#ifndef SECURECHAT_WIRE_READER_H_
#define SECURECHAT_WIRE_READER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "absl/types/span.h"

namespace securechat {

using ByteView = absl::Span<const uint8_t>;

class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}

  [[nodiscard]] bool ReadU8(uint8_t* out);
  [[nodiscard]] bool ReadU16(uint16_t* out);
  [[nodiscard]] bool ReadU32(uint32_t* out);
  [[nodiscard]] bool ReadU64(uint64_t* out);
  // ReadBytes sets *out to a view of the next n bytes, pointing into the reader's data.
  [[nodiscard]] bool ReadBytes(size_t n, ByteView* out) {
    const uint8_t* p;
    if (!Take(n, &p)) {
      return false;
    }
    *out = ByteView(p, n);
    return true;
  }
  // ReadStr reads `u16 length || bytes` and sets *out to a view of the bytes.
  [[nodiscard]] bool ReadStr(ByteView* out);
  // ReadStr, viewed as characters (no validation: callers check text and nick rules).
  [[nodiscard]] bool ReadStr(std::string_view* out);
  // ReadSshStr reads SSH's string, `u32 length || bytes` (RFC 4251 5), and sets *out to a
  // view of the bytes.
  [[nodiscard]] bool ReadSshStr(ByteView* out);
  template <size_t N>
  [[nodiscard]] bool ReadFixed(std::array<uint8_t, N>* out) {
    const uint8_t* p;
    if (!Take(N, &p)) {
      return false;
    }
    std::memcpy(out->data(), p, N);
    return true;
  }

  size_t remaining() const { return data_.size(); }
  bool empty() const { return data_.empty(); }

 private:
  // ReadPrefixed reads a big-endian length of `len_size` bytes (2 or 4), then that many bytes.
  [[nodiscard]] bool ReadPrefixed(size_t len_size, ByteView* out);
  // Take is the only place that moves the cursor: it checks n against what is left first.
  // Defined here, with ReadBytes, so that a record's fixed-size reads compile to compares.
  [[nodiscard]] bool Take(size_t n, const uint8_t** out) {
    if (n > data_.size()) {
      return false;
    }
    *out = data_.data();
    data_.remove_prefix(n);
    return true;
  }

  ByteView data_;
};

}  // namespace securechat

#endif  // SECURECHAT_WIRE_READER_H_
