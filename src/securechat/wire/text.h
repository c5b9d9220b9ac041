// Text and nick rules of the protocol, shared by the server (which rejects bad input) and the
// client (which rejects malformed server messages and escapes what it displays).
#ifndef SECURECHAT_WIRE_TEXT_H_
#define SECURECHAT_WIRE_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace securechat {

// IsValidText: 1 to 4096 bytes of valid UTF-8 (no overlong forms, surrogates or code points
// above U+10FFFF) without C0 controls (tab and newline included), DEL, C1 controls or the
// bidirectional formatting characters U+202A..U+202E and U+2066..U+2069.
bool IsValidText(std::string_view text);

// IsValidNick: 1 to 32 bytes of [A-Za-z0-9_.-]. Says nothing about reservation.
bool IsValidNick(std::string_view nick);

// IsReservedNick: a nick no client may take: one that looks like "server" (its NickSkeleton
// is that of "server": `Server`, `5erver`, `server_`) or that is punctuation only (`-`).
bool IsReservedNick(std::string_view nick);

// EscapeForDisplay returns `s` with every byte that a terminal could act on made visible:
// C0 controls, DEL, C1 controls and bidirectional formatting characters become `\xNN` or
// `\u{NNNN}`, invalid UTF-8 bytes become `\xNN`, and a backslash becomes `\\`. Printable
// UTF-8 passes through unchanged.
std::string EscapeForDisplay(std::string_view s);

}  // namespace securechat

#endif  // SECURECHAT_WIRE_TEXT_H_
