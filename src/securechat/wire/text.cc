#include "securechat/wire/text.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "securechat/wire/nick.h"
#include "securechat/wire/protocol.h"

namespace securechat {
namespace {

constexpr uint32_t kBad = kInvalidCodePoint;

}  // namespace

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

namespace {

bool IsForbiddenCodePoint(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

// A closed range of code points.
struct CodePointRange {
  uint32_t first;
  uint32_t last;
};

// Code points that a terminal draws as nothing, or that change how the text around them is
// laid out: every Default_Ignorable_Code_Point (DerivedCoreProperties.txt) and every
// General_Category=Cf code point (UnicodeData.txt) of Unicode 15.1.0, merged, plus the line and
// paragraph separators U+2028 and U+2029 (Zl, Zp), which some programs treat as line breaks.
// Among them: soft hyphen, zero-width space and joiners, LRM/RLM/ALM, the bidirectional
// controls, the Hangul fillers, variation selectors and tag characters. Sorted and disjoint
// (checked at compile time below). A table of our own because neither ICU nor a Unicode property
// database is a dependency here, and the C library has no query for these two properties.
constexpr CodePointRange kInvisibleRanges[] = {
    {0x00AD, 0x00AD},    // soft hyphen
    {0x034F, 0x034F},    // combining grapheme joiner
    {0x0600, 0x0605},    // Arabic number signs
    {0x061C, 0x061C},    // Arabic letter mark (ALM)
    {0x06DD, 0x06DD},    // Arabic end of ayah
    {0x070F, 0x070F},    // Syriac abbreviation mark
    {0x0890, 0x0891},    // Arabic pound and piastre marks above
    {0x08E2, 0x08E2},    // Arabic disputed end of ayah
    {0x115F, 0x1160},    // Hangul choseong and jungseong fillers
    {0x17B4, 0x17B5},    // Khmer inherent vowels
    {0x180B, 0x180F},    // Mongolian variation selectors and vowel separator
    {0x200B, 0x200F},    // zero-width space, ZWNJ, ZWJ, LRM, RLM
    {0x2028, 0x2029},    // line and paragraph separators
    {0x202A, 0x202E},    // bidirectional embeddings and overrides
    {0x2060, 0x206F},    // word joiner, invisible operators, bidi isolates, deprecated formats
    {0x3164, 0x3164},    // Hangul filler
    {0xFE00, 0xFE0F},    // variation selectors 1 to 16
    {0xFEFF, 0xFEFF},    // zero-width no-break space (byte order mark)
    {0xFFA0, 0xFFA0},    // halfwidth Hangul filler
    {0xFFF0, 0xFFFB},    // reserved, interlinear annotation controls
    {0x110BD, 0x110BD},  // Kaithi number sign
    {0x110CD, 0x110CD},  // Kaithi number sign above
    {0x13430, 0x1343F},  // Egyptian hieroglyph format controls
    {0x1BCA0, 0x1BCA3},  // shorthand format controls
    {0x1D173, 0x1D17A},  // musical symbol format controls
    {0xE0000, 0xE0FFF},  // tags, variation selectors 17 to 256, reserved
};

consteval bool SortedAndDisjoint() {
  for (size_t i = 0; i < std::size(kInvisibleRanges); ++i) {
    if (kInvisibleRanges[i].first > kInvisibleRanges[i].last ||
        (i > 0 && kInvisibleRanges[i - 1].last >= kInvisibleRanges[i].first)) {
      return false;
    }
  }
  return true;
}
static_assert(SortedAndDisjoint(), "kInvisibleRanges must be sorted and disjoint");

bool IsInvisibleCodePoint(uint32_t cp) {
  const auto* it =
      std::upper_bound(std::begin(kInvisibleRanges), std::end(kInvisibleRanges), cp,
                       [](uint32_t c, const CodePointRange& r) { return c < r.first; });
  return it != std::begin(kInvisibleRanges) && cp <= std::prev(it)->last;
}

// IsBlank: U+0020 and the other space separators (General_Category=Zs).
bool IsBlank(uint32_t cp) {
  return cp == 0x20 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

}  // namespace

bool IsHiddenCodePoint(uint32_t cp) { return IsForbiddenCodePoint(cp) || IsInvisibleCodePoint(cp); }

std::vector<std::string_view> SplitText(std::string_view text) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t next = pos;
    DecodeUtf8(text, &next);  // an ill-formed byte is a piece of one, refused below
    if (next - start > proto::kMaxTextLen) {
      pieces.push_back(text.substr(start, pos - start));
      start = pos;
    }
    pos = next;
  }
  if (start < text.size()) {
    pieces.push_back(text.substr(start));
  }
  for (std::string_view piece : pieces) {
    if (!IsValidText(piece)) {
      return {};
    }
  }
  return pieces;
}

bool IsValidReason(std::string_view reason) {
  return reason.empty() || (reason.size() <= proto::kMaxReasonLen && IsValidText(reason));
}

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

bool IsValidRoom(std::string_view room) {
  return room.size() >= 2 && room.size() <= proto::kMaxRoomLen &&
         room.front() == proto::kRoomPrefix && IsValidNick(room.substr(1));
}

bool IsValidFileName(std::string_view name) {
  return name.size() <= proto::kMaxFileNameLen && IsValidText(name) && name != "." &&
         name != ".." && name.find_first_of("/\\") == std::string_view::npos;
}

bool IsReservedNick(std::string_view nick) {
  const std::string skeleton = NickSkeleton(nick);
  return skeleton.empty() || skeleton == NickSkeleton(proto::kServerNick);
}

std::string EscapeForDisplay(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t blank_at = std::string::npos;  // where the blank just written starts in `out`
  for (size_t pos = 0; pos < s.size();) {
    size_t start = pos;
    uint32_t cp = DecodeUtf8(s, &pos);
    if (cp != kBad && IsBlank(cp)) {
      if (blank_at != std::string::npos) {
        // A run of blanks shows as one space, so it can never pad a line out to the next row.
        out.resize(blank_at);
        out.push_back(' ');
        continue;
      }
      blank_at = out.size();
    } else {
      blank_at = std::string::npos;
    }
    if (cp == kBad) {
      absl::StrAppendFormat(&out, "\\x%02X", static_cast<uint8_t>(s[start]));
    } else if (cp == '\\') {
      out += "\\\\";
    } else if (cp < 0x80 && IsForbiddenCodePoint(cp)) {
      absl::StrAppendFormat(&out, "\\x%02X", cp);
    } else if (IsForbiddenCodePoint(cp) || IsInvisibleCodePoint(cp)) {
      absl::StrAppendFormat(&out, "\\u{%04X}", cp);
    } else {
      out.append(s.substr(start, pos - start));
    }
  }
  return out;
}

}  // namespace securechat
