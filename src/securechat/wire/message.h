// Messages: the plaintext of one record, `kind u8 || fields`, decoded into views and encoded
// from them. Decoders walk one Reader and require that nothing is left after the last field.
#ifndef SECURECHAT_WIRE_MESSAGE_H_
#define SECURECHAT_WIRE_MESSAGE_H_

#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include "securechat/wire/protocol.h"
#include "securechat/wire/reader.h"

namespace securechat::msg {

// Client to server. String fields are views into the decoded plaintext.
struct Join {
  static constexpr proto::Kind kKind = proto::Kind::kJoin;
  std::string_view nick;
};
struct Say {
  static constexpr proto::Kind kKind = proto::Kind::kSay;
  std::string_view text;
};
struct Whisper {
  static constexpr proto::Kind kKind = proto::Kind::kWhisper;
  std::string_view to;
  std::string_view text;
};
struct Who {
  static constexpr proto::Kind kKind = proto::Kind::kWho;
};
struct Nick {
  static constexpr proto::Kind kKind = proto::Kind::kNick;
  std::string_view nick;
};
struct Ping {
  static constexpr proto::Kind kKind = proto::Kind::kPing;
  std::string_view data;  // 0..64 arbitrary bytes
};
struct Bye {
  static constexpr proto::Kind kKind = proto::Kind::kBye;
};
using ClientMessage = std::variant<Join, Say, Whisper, Who, Nick, Ping, Bye>;

// Server to client.
struct Welcome {
  std::string_view nick;
  std::string_view motd;  // may be empty
  uint16_t online = 0;
};
struct Chat {
  std::string_view from;
  uint8_t flags = 0;  // proto::kChatFlagPrivate or 0
  uint64_t time_ms = 0;
  std::string_view text;
};
struct Notice {
  std::string_view text;
};
struct Users {
  uint8_t more = 0;  // 1: another USERS follows
  std::vector<std::string_view> nicks;
};
struct Pong {
  std::string_view data;
};
struct Error {
  proto::ErrorCode code = proto::ErrorCode::kMalformed;
  uint8_t fatal = 0;
  std::string_view text;
};
using ServerMessage = std::variant<Welcome, Chat, Notice, Users, Pong, Error>;

enum class DecodeStatus {
  kOk,
  kUnknownKind,  // a kind this side does not know: ERROR 8 (server) or ignored (client)
  kMalformed,    // wrong layout or trailing bytes: ERROR 1 (server) or close (client)
};

// DecodeClientMessage checks the kind and the layout only (field lengths, PING data at most 64
// bytes, nothing left over). Nick and text content rules are the server's next steps, in the
// order the protocol gives. On success *out holds views into `plaintext`.
DecodeStatus DecodeClientMessage(ByteView plaintext, ClientMessage* out);

// DecodeServerMessage checks kind, layout and content: nicks, text, flag bytes. Anything a
// server must never send is kMalformed. On success *out holds views into `plaintext`.
DecodeStatus DecodeServerMessage(ByteView plaintext, ServerMessage* out);

// EncodeMessage appends the message's bytes to *out. The caller passes fields that respect the
// protocol's limits (each fits a u16); encoding does not judge content.
void EncodeMessage(const ClientMessage& m, std::vector<uint8_t>* out);
void EncodeMessage(const ServerMessage& m, std::vector<uint8_t>* out);

}  // namespace securechat::msg

#endif  // SECURECHAT_WIRE_MESSAGE_H_
