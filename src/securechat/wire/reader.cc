#include "securechat/wire/reader.h"

namespace securechat {

bool Reader::ReadU8(uint8_t* out) {
  const uint8_t* p;
  if (!Take(1, &p)) {
    return false;
  }
  *out = p[0];
  return true;
}

bool Reader::ReadU16(uint16_t* out) {
  const uint8_t* p;
  if (!Take(2, &p)) {
    return false;
  }
  *out = static_cast<uint16_t>((p[0] << 8) | p[1]);
  return true;
}

bool Reader::ReadU32(uint32_t* out) {
  const uint8_t* p;
  if (!Take(4, &p)) {
    return false;
  }
  *out = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  return true;
}

bool Reader::ReadU64(uint64_t* out) {
  const uint8_t* p;
  if (!Take(8, &p)) {
    return false;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) {
    v = (v << 8) | p[i];
  }
  *out = v;
  return true;
}

bool Reader::ReadPrefixed(size_t len_size, ByteView* out) {
  Reader copy = *this;  // Commit only when both the length and the bytes are there.
  const uint8_t* p;
  if (!copy.Take(len_size, &p)) {
    return false;
  }
  size_t len = 0;
  for (size_t i = 0; i < len_size; ++i) {
    len = (len << 8) | p[i];
  }
  ByteView bytes;
  if (!copy.ReadBytes(len, &bytes)) {
    return false;
  }
  *this = copy;
  *out = bytes;
  return true;
}

bool Reader::ReadStr(ByteView* out) { return ReadPrefixed(sizeof(uint16_t), out); }

bool Reader::ReadSshStr(ByteView* out) { return ReadPrefixed(sizeof(uint32_t), out); }

bool Reader::ReadStr(std::string_view* out) {
  ByteView bytes;
  if (!ReadStr(&bytes)) {
    return false;
  }
  *out = std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return true;
}

}  // namespace securechat
