// Nick identity: when two nicks name the same user, and when they only look alike.
//
// Nicks are 1 to 32 of A-Z a-z 0-9 _ . - (IsValidNick, text.h). A server keeps them unique
// in two ways (PROTOCOL.md 6.1):
//   - without regard to case: `alice`, `Alice` and `ALICE` are one nick (NickLess), and a
//     message addressed to any of them reaches whoever holds it, as IRC and ssh-chat do;
//   - by look: a nick whose confusable skeleton (NickSkeleton) equals that of a nick in use,
//     or of `server`, is refused, so `aIice`, `a1ice` and `alice.` cannot pass for `alice`,
//     nor `5erver` or `Server.` for the server's console.
#ifndef SECURECHAT_WIRE_NICK_H_
#define SECURECHAT_WIRE_NICK_H_

#include <string>
#include <string_view>

namespace securechat {

// NickLess orders nicks without regard to ASCII case, for sets and maps of nicks that find
// "ALICE" where "alice" is (it is transparent: lookups take a string_view). Two nicks that
// neither orders before the other are the same nick.
struct NickLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

// SameNick is true if `a` and `b` are the same nick: equal without regard to ASCII case.
bool SameNick(std::string_view a, std::string_view b);

// NickSkeleton returns what `nick` looks like, for telling nicks apart by eye: UTS #39's
// skeleton restricted to the nick alphabet and made independent of case, so that the same
// nick in any case has one skeleton. Letters go to lower case; then `i` and `1` become `l`
// (UTS #39 maps I and 1 to l), `0` becomes `o` (0 to O), `m` becomes `rn` (m to rn), and, as
// this project's own additions for digits that pass for letters, `5` becomes `s` and `2`
// becomes `z`; last, trailing `_`, `.` and `-` are removed. The result is empty for a nick of
// punctuation only.
std::string NickSkeleton(std::string_view nick);

}  // namespace securechat

#endif  // SECURECHAT_WIRE_NICK_H_
