// Nick identity: when two nicks name the same user, and when they only look alike.
//
// Nicks are 1 to 32 of A-Z a-z 0-9 _ . - (IsValidNick, text.h). A server keeps them unique
// in two ways (PROTOCOL.md 6.1):
//   - without regard to case: `alice`, `Alice` and `ALICE` are one nick (NickKey), and a
//     message addressed to any of them reaches whoever holds it, as IRC and ssh-chat do;
//   - by look: a nick whose confusable skeleton (NickSkeleton) equals that of a nick in use,
//     or of `server`, is refused, so `aIice`, `a1ice` and `alice.` cannot pass for `alice`,
//     nor `5erver` or `Server.` for the server's console.
#ifndef SECURECHAT_WIRE_NICK_H_
#define SECURECHAT_WIRE_NICK_H_

#include <string>
#include <string_view>

namespace securechat {

// NickKey returns `nick` with its ASCII letters in lower case: two nicks with the same key
// are the same nick.
std::string NickKey(std::string_view nick);

// NickSkeleton returns what `nick` looks like, for telling nicks apart by eye: UTS #39's
// skeleton restricted to the nick alphabet and made independent of case, so that nicks with
// the same key have the same skeleton. Letters go to lower case; then `i` and `1` become `l`
// (UTS #39 maps I and 1 to l), `0` becomes `o` (0 to O), `m` becomes `rn` (m to rn), and, as
// this project's own additions for digits that pass for letters, `5` becomes `s` and `2`
// becomes `z`; last, trailing `_`, `.` and `-` are removed. The result is empty for a nick of
// punctuation only.
std::string NickSkeleton(std::string_view nick);

}  // namespace securechat

#endif  // SECURECHAT_WIRE_NICK_H_
