#include "securechat/client/files.h"

#include "securechat/base/cat.h"
#include "securechat/wire/protocol.h"
#include "securechat/wire/text.h"

namespace securechat {

std::string SafeFileName(std::string_view name) {
  // The base name: whatever a path in it says about folders is not ours to follow.
  if (const size_t slash = name.find_last_of("/\\"); slash != std::string_view::npos) {
    name.remove_prefix(slash + 1);
  }
  // Only code points that show as themselves: a name that hides or reorders its characters
  // ("gpj.exe" drawn right to left) could pass for another.
  std::string kept;
  for (size_t pos = 0; pos < name.size();) {
    const size_t start = pos;
    const uint32_t cp = DecodeUtf8(name, &pos);
    if (cp != kInvalidCodePoint && !IsHiddenCodePoint(cp)) {
      kept.append(name.substr(start, pos - start));
    }
  }
  // No hidden file, and never "." or "..".
  kept.erase(0, kept.find_first_not_of('.'));
  if (kept.size() > proto::kMaxFileNameLen) {
    std::string_view extension;
    if (const size_t dot = kept.rfind('.');
        dot != std::string::npos && kept.size() - dot <= kMaxKeptExtension) {
      extension = std::string_view(kept).substr(dot);
    }
    size_t cut = proto::kMaxFileNameLen - extension.size();
    // Back to the start of a code point (kept is valid UTF-8: continuation bytes are 10xxxxxx).
    while (cut > 0 && (static_cast<uint8_t>(kept[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    kept = Cat(std::string_view(kept).substr(0, cut), extension);
  }
  return kept.empty() ? "file" : kept;
}

std::string FormatBytes(uint64_t bytes) {
  static constexpr std::string_view kUnits[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
  if (bytes < 1000) {
    return Cat(bytes, " B");
  }
  uint64_t unit = 1000;
  size_t i = 0;
  while (i + 1 < std::size(kUnits) && bytes / unit >= 1000) {
    unit *= 1000;
    ++i;
  }
  // Tenths without floating point: bytes / (unit / 10) can not overflow.
  const uint64_t tenths = bytes / (unit / 10);
  return Cat(tenths / 10, ".", tenths % 10, " ", kUnits[i]);
}

}  // namespace securechat
