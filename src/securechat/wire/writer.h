// Writer: appends big-endian fields to a caller-owned byte vector, mirroring Reader.
//
// Length fields are always computed from what was written: Str() measures its argument, and
// BeginFrame()/EndFrame() patch a frame's length from the bytes appended in between.
#ifndef SECURECHAT_WIRE_WRITER_H_
#define SECURECHAT_WIRE_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "securechat/wire/protocol.h"

namespace securechat {

class Writer {
 public:
  // The writer appends to *out, which must outlive it.
  explicit Writer(std::vector<uint8_t>* out) : out_(out) {}

  void U8(uint8_t v) { out_->push_back(v); }
  void U16(uint16_t v);
  void U32(uint32_t v);
  void U64(uint64_t v);
  void Bytes(absl::Span<const uint8_t> b) { out_->insert(out_->end(), b.begin(), b.end()); }
  void Bytes(std::string_view s) { out_->insert(out_->end(), s.begin(), s.end()); }
  // Str writes `u16 length || bytes`. Aborts if s is longer than a u16 can say: every caller
  // passes a value already bounded by the protocol's much smaller limits.
  void Str(std::string_view s);
  void Str(absl::Span<const uint8_t> b);

  // BeginFrame appends a frame header with a zero length and returns its offset; EndFrame
  // fills the length in from the bytes appended since. Aborts if the body exceeds a u16.
  size_t BeginFrame(proto::FrameType type);
  void EndFrame(size_t frame_start);

  size_t size() const { return out_->size(); }

 private:
  std::vector<uint8_t>* out_;
};

}  // namespace securechat

#endif  // SECURECHAT_WIRE_WRITER_H_
