#include "securechat/wire/writer.h"

#include <cstdlib>
#include <limits>

namespace securechat {

void Writer::U16(uint16_t v) {
  out_->push_back(static_cast<uint8_t>(v >> 8));
  out_->push_back(static_cast<uint8_t>(v));
}

void Writer::U32(uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out_->push_back(static_cast<uint8_t>(v >> shift));
  }
}

void Writer::U64(uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out_->push_back(static_cast<uint8_t>(v >> shift));
  }
}

void Writer::Str(std::string_view s) {
  if (s.size() > std::numeric_limits<uint16_t>::max()) {
    std::abort();
  }
  U16(static_cast<uint16_t>(s.size()));
  Bytes(s);
}

void Writer::Str(absl::Span<const uint8_t> b) {
  Str(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

size_t Writer::BeginFrame(proto::FrameType type) {
  size_t start = out_->size();
  U8(static_cast<uint8_t>(type));
  U8(proto::kFrameFlags);
  U16(0);
  return start;
}

void Writer::EndFrame(size_t frame_start) {
  size_t body_len = out_->size() - frame_start - proto::kFrameHeaderLen;
  if (body_len > std::numeric_limits<uint16_t>::max()) {
    std::abort();
  }
  (*out_)[frame_start + 2] = static_cast<uint8_t>(body_len >> 8);
  (*out_)[frame_start + 3] = static_cast<uint8_t>(body_len);
}

}  // namespace securechat
