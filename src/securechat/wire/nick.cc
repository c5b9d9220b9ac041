#include "securechat/wire/nick.h"

#include "absl/strings/ascii.h"

namespace securechat {

std::string NickKey(std::string_view nick) {
  std::string key(nick);
  absl::AsciiStrToLower(&key);
  return key;
}

std::string NickSkeleton(std::string_view nick) {
  std::string out;
  out.reserve(nick.size() + 4);
  for (char raw : nick) {
    const char c = absl::ascii_tolower(static_cast<unsigned char>(raw));
    switch (c) {
      case 'i':
      case '1':
        out += 'l';
        break;
      case '0':
        out += 'o';
        break;
      case 'm':
        out += "rn";
        break;
      case '5':
        out += 's';
        break;
      case '2':
        out += 'z';
        break;
      default:
        out += c;
        break;
    }
  }
  while (!out.empty() && (out.back() == '_' || out.back() == '.' || out.back() == '-')) {
    out.pop_back();
  }
  return out;
}

}  // namespace securechat
