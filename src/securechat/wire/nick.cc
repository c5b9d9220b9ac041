#include "securechat/wire/nick.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace securechat {

bool NickLess::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return absl::ascii_tolower(static_cast<unsigned char>(x)) <
           absl::ascii_tolower(static_cast<unsigned char>(y));
  });
}

bool SameNick(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(absl::string_view(a.data(), a.size()),
                                absl::string_view(b.data(), b.size()));
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
