// Text and nick rules of the protocol, shared by the server (which rejects bad input) and the
// client (which rejects malformed server messages and escapes what it displays).
#ifndef SECURECHAT_WIRE_TEXT_H_
#define SECURECHAT_WIRE_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace securechat {

// kInvalidCodePoint is what DecodeUtf8 returns for an ill-formed sequence.
inline constexpr uint32_t kInvalidCodePoint = 0xFFFFFFFF;

// DecodeUtf8 reads the code point that starts at s[*pos] (*pos < s.size()) and advances *pos
// past it. An ill-formed sequence (overlong, surrogate, above U+10FFFF, truncated) gives
// kInvalidCodePoint and advances *pos by one byte.
uint32_t DecodeUtf8(std::string_view s, size_t* pos);

// IsValidText: 1 to 4096 bytes of valid UTF-8 (no overlong forms, surrogates or code points
// above U+10FFFF) without C0 controls (tab and newline included), DEL, C1 controls or the
// bidirectional formatting characters U+202A..U+202E and U+2066..U+2069.
bool IsValidText(std::string_view text);

// IsValidReason: an away, quit, kick, ban or mute reason the server keeps and repeats: empty, or
// a valid text of at most proto::kMaxReasonLen bytes (PROTOCOL.md 6.10).
bool IsValidReason(std::string_view reason);

// SplitText cuts a line too long for one message into messages, as irssi and WeeChat do: pieces
// of at most kMaxTextLen bytes, each cut between two code points, never inside one. Empty if
// `text` is empty or if any piece is not valid text (a control character, invalid UTF-8): a
// line is sent whole or not at all. A valid text gives itself.
std::vector<std::string_view> SplitText(std::string_view text);

// IsValidNick: 1 to 32 bytes of [A-Za-z0-9_.-]. Says nothing about reservation.
bool IsValidNick(std::string_view nick);

// IsValidRoom: a room name, `#` and then 1 to 31 bytes of the nick alphabet (PROTOCOL.md 6.11).
bool IsValidRoom(std::string_view room);

// IsValidFileName: a file name as FILE_OFFER and FILE_INCOMING carry it (PROTOCOL.md 6.14): a
// valid text of at most proto::kMaxFileNameLen bytes, with no `/` or backslash, and neither
// `.` nor `..`. Not yet a safe name to write under: the receiver still makes one of it.
bool IsValidFileName(std::string_view name);

// IsReservedNick: a nick no client may take: one that looks like "server" (its NickSkeleton
// is that of "server": `Server`, `5erver`, `server_`) or that is punctuation only (`-`).
bool IsReservedNick(std::string_view nick);

// IsHiddenCodePoint: a code point that EscapeForDisplay would make visible (a control, a
// bidirectional formatting character, or one a terminal draws as nothing); SafeFileName drops
// them.
bool IsHiddenCodePoint(uint32_t cp);

// EscapeForDisplay returns `s` with every byte that a terminal could act on, and every code
// point that it would draw as nothing, made visible: C0 controls, DEL, C1 controls and
// bidirectional formatting characters, every Default_Ignorable_Code_Point and
// General_Category=Cf code point (zero-width spaces and joiners, LRM/RLM/ALM, Hangul fillers,
// variation selectors, tags, ...) and the line and paragraph separators U+2028 and U+2029
// become `\xNN` or `\u{NNNN}`, invalid UTF-8 bytes become `\xNN`, and a backslash becomes
// `\\`. A run of two or more blanks (U+0020 or any other space separator) becomes one U+0020.
// Other printable UTF-8 passes through unchanged.
std::string EscapeForDisplay(std::string_view s);

}  // namespace securechat

#endif  // SECURECHAT_WIRE_TEXT_H_
