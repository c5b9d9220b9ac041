#include "securechat/wire/text.h"

#include <cstdint>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "securechat/wire/nick.h"
#include "securechat/wire/protocol.h"

namespace securechat {
namespace {

constexpr uint32_t kBad = 0xFFFFFFFF;

// DecodeUtf8 reads one code point starting at s[*pos] and advances *pos past it. Returns kBad
// (advancing by one byte) for any ill-formed sequence.
uint32_t DecodeUtf8(std::string_view s, size_t* pos) {
  size_t i = *pos;
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b0 = byte(i);
  size_t len;
  uint32_t cp;
  uint32_t min;
  if (b0 < 0x80) {
    *pos = i + 1;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    *pos = i + 1;
    return kBad;
  }
  if (s.size() - i < len) {
    *pos = i + 1;
    return kBad;
  }
  for (size_t k = 1; k < len; ++k) {
    uint8_t b = byte(i + k);
    if ((b & 0xC0) != 0x80) {
      *pos = i + 1;
      return kBad;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    *pos = i + 1;
    return kBad;
  }
  *pos = i + len;
  return cp;
}

bool IsForbiddenCodePoint(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

bool IsValidText(std::string_view text) {
  if (text.empty() || text.size() > proto::kMaxTextLen) {
    return false;
  }
  // Printable ASCII (0x20..0x7E) is valid text byte by byte: skip it without decoding, which
  // is most of a typical message (and what a receiving client spends most time on), eight
  // bytes at a time while no byte is below 0x20 or at or above 0x7F.
  constexpr uint64_t kEach = 0x0101010101010101;
  size_t pos = 0;
  while (text.size() - pos >= sizeof(uint64_t)) {
    uint64_t w;
    std::memcpy(&w, text.data() + pos, sizeof(w));
    const uint64_t below = (w - kEach * 0x20) & ~w & (kEach * 0x80);  // a byte < 0x20
    const uint64_t high = ((w + kEach) | w) & (kEach * 0x80);         // a byte >= 0x7F
    if ((below | high) != 0) {
      break;
    }
    pos += sizeof(w);
  }
  while (pos < text.size() && static_cast<uint8_t>(text[pos]) - 0x20u < 0x7Fu - 0x20u) {
    ++pos;
  }
  while (pos < text.size()) {
    uint32_t cp = DecodeUtf8(text, &pos);
    if (cp == kBad || IsForbiddenCodePoint(cp)) {
      return false;
    }
  }
  return true;
}

bool IsValidNick(std::string_view nick) {
  if (nick.empty() || nick.size() > proto::kMaxNickLen) {
    return false;
  }
  for (char c : nick) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsReservedNick(std::string_view nick) {
  const std::string skeleton = NickSkeleton(nick);
  return skeleton.empty() || skeleton == NickSkeleton(proto::kServerNick);
}

std::string EscapeForDisplay(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    size_t start = pos;
    uint32_t cp = DecodeUtf8(s, &pos);
    if (cp == kBad) {
      absl::StrAppendFormat(&out, "\\x%02X", static_cast<uint8_t>(s[start]));
    } else if (cp == '\\') {
      out += "\\\\";
    } else if (cp < 0x80 && IsForbiddenCodePoint(cp)) {
      absl::StrAppendFormat(&out, "\\x%02X", cp);
    } else if (IsForbiddenCodePoint(cp)) {
      absl::StrAppendFormat(&out, "\\u{%04X}", cp);
    } else {
      out.append(s.substr(start, pos - start));
    }
  }
  return out;
}

}  // namespace securechat
