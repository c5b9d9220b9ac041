// Cat: string concatenation for std::string_view.
//
// Debian's Abseil is built with its own absl::string_view rather than std::string_view, so
// absl::StrCat does not accept std::string_view arguments. Cat takes strings, views, C strings
// integers and absl::string_view, and nothing else.
#ifndef SECURECHAT_BASE_CAT_H_
#define SECURECHAT_BASE_CAT_H_

#include <concepts>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace securechat {

namespace cat_internal {
inline void Append(std::string& out, std::string_view s) { out.append(s); }
inline void Append(std::string& out, char c) { out.push_back(c); }
// Abseil's own view type (Status::message() returns one), matched exactly so that strings and
// literals stay unambiguous.
template <typename T>
requires std::same_as<T, absl::string_view>
void Append(std::string& out, const T& s) { out.append(s.data(), s.size()); }
template <std::integral T>
requires(!std::same_as<T, char> && !std::same_as<T, bool>) void Append(std::string& out, T v) {
  out.append(std::to_string(v));
}
}  // namespace cat_internal

template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (cat_internal::Append(out, args), ...);
  return out;
}

}  // namespace securechat

#endif  // SECURECHAT_BASE_CAT_H_
