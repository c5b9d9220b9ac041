// Messages: the plaintext of one record, `kind u8 || fields`, decoded into views and encoded
// from them.
//
// Each message is one struct that carries its kind (kKind) and its wire layout (Layout: its
// fields in order, each with the rule it must meet). One generic decoder and one generic
// encoder walk every Layout with the Reader and the Writer, so a message is described once and
// its two directions cannot disagree. Decoders require that nothing is left after the last
// field. ClientMessage and ServerMessage are std::variants of the structs: adding a struct to
// one makes its kind known to the decoder, and every std::visit over an Overloaded set of
// handlers (base/overloaded.h) fails to build until someone handles it.
#ifndef SECURECHAT_WIRE_MESSAGE_H_
#define SECURECHAT_WIRE_MESSAGE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include "securechat/wire/protocol.h"
#include "securechat/wire/reader.h"

namespace securechat::msg {

// Field descriptors: each names a member of the message struct. A Layout lists them in wire
// order.
//
// What a `str` field must hold beyond fitting the plaintext. Client messages are judged for
// layout only (the server checks content afterwards, in the protocol's order), so their text
// and nick fields are kAny; server messages are judged whole, since a client closes on any
// fault (PROTOCOL.md 8).
enum class Rule {
  kAny,                   // any bytes
  kData,                  // 0 to kMaxPingDataLen bytes (PING and PONG data: a layout rule)
  kNick,                  // a valid nick (syntax only)
  kText,                  // a valid text
  kMotd,                  // empty or a valid text
  kNickOrEmpty,           // empty or a valid nick (syntax only)
  kEd25519Public,         // exactly 32 bytes (AUTH's key: a layout rule)
  kEd25519Signature,      // exactly 64 bytes (AUTH's signature: a layout rule)
  kReason,                // empty or a valid text of at most kMaxReasonLen bytes (away reasons)
  kEd25519PublicOrEmpty,  // empty or exactly 32 bytes (WHOIS_REPLY's key)
  kRoom,                  // a valid room name (`#lobby`)
  kTopic,                 // empty or a valid text of at most kMaxTopicLen bytes
  kFileHash,              // exactly 32 bytes (a SHA-256: a layout rule)
  kChunk,                 // 1 to kMaxChunkLen bytes (a file chunk: a layout rule)
  kFileName,              // a valid file name (proto::kMaxFileNameLen; IsValidFileName)
};
template <auto kMember, Rule kRule = Rule::kAny>
struct Str {};  // u16 length || bytes
template <auto kMember>
struct U16 {};
template <auto kMember>
struct U32 {};
template <auto kMember>
struct U64 {};
template <auto kMember>
struct Flag {};  // u8, 0 or 1
template <auto kMember, uint8_t kMax>
struct Enum {};  // u8, 1 to kMax
template <auto kMember>
struct Code {};  // proto::ErrorCode as u16; any value
template <auto kMember>
struct NickList {};  // count u16 || count x nick (Rule::kNick)
template <typename... Fs>
struct Fields {};

// Client to server. String fields are views into the decoded plaintext.
struct Join {
  static constexpr proto::Kind kKind = proto::Kind::kJoin;
  std::string_view nick;
  using Layout = Fields<Str<&Join::nick>>;
};
struct Say {
  static constexpr proto::Kind kKind = proto::Kind::kSay;
  std::string_view text;
  using Layout = Fields<Str<&Say::text>>;
};
struct Whisper {
  static constexpr proto::Kind kKind = proto::Kind::kWhisper;
  std::string_view to;
  std::string_view text;
  using Layout = Fields<Str<&Whisper::to>, Str<&Whisper::text>>;
};
struct Who {
  static constexpr proto::Kind kKind = proto::Kind::kWho;
  using Layout = Fields<>;
};
struct Nick {
  static constexpr proto::Kind kKind = proto::Kind::kNick;
  std::string_view nick;
  using Layout = Fields<Str<&Nick::nick>>;
};
struct Ping {
  static constexpr proto::Kind kKind = proto::Kind::kPing;
  std::string_view data;  // 0..64 arbitrary bytes
  using Layout = Fields<Str<&Ping::data, Rule::kData>>;
};
struct Bye {
  static constexpr proto::Kind kKind = proto::Kind::kBye;
  using Layout = Fields<>;
};
// AUTH (PROTOCOL.md 6.9): the client's Ed25519 public key and its signature of
// AuthSignedData(th) (crypto/auth.h). Both lengths are layout: any other is malformed.
struct Auth {
  static constexpr proto::Kind kKind = proto::Kind::kAuth;
  std::string_view key;
  std::string_view signature;
  using Layout =
      Fields<Str<&Auth::key, Rule::kEd25519Public>, Str<&Auth::signature, Rule::kEd25519Signature>>;
};

// The everyday commands (PROTOCOL.md 6.10). Their text, nick and reason fields are judged by
// the server, like SAY's and JOIN's.
struct Action {  // "/me waves": an action line to the room
  static constexpr proto::Kind kKind = proto::Kind::kAction;
  std::string_view text;
  using Layout = Fields<Str<&Action::text>>;
};
struct Away {  // mark the sender away with `reason`; an empty reason: back
  static constexpr proto::Kind kKind = proto::Kind::kAway;
  std::string_view reason;
  using Layout = Fields<Str<&Away::reason>>;
};
struct Whois {  // ask about one member: WHOIS_REPLY
  static constexpr proto::Kind kKind = proto::Kind::kWhois;
  std::string_view nick;
  using Layout = Fields<Str<&Whois::nick>>;
};
struct Quit {  // BYE with a reason the room is told
  static constexpr proto::Kind kKind = proto::Kind::kQuit;
  std::string_view reason;
  using Layout = Fields<Str<&Quit::reason>>;
};

// HISTORY (PROTOCOL.md 6.11), before JOIN: "send me room lines as ROOM_LINE, and on JOIN the
// history after line `after` of the server's history `epoch`" (epoch 0: all it holds).
struct History {
  static constexpr proto::Kind kKind = proto::Kind::kHistory;
  uint64_t epoch = 0;
  uint64_t after = 0;
  using Layout = Fields<U64<&History::epoch>, U64<&History::after>>;
};

// MODERATE (PROTOCOL.md 6.12), from an operator: one command line as the server's console
// takes it (`/ban bob 1h spamming`); the server judges the text.
struct Moderate {
  static constexpr proto::Kind kKind = proto::Kind::kModerate;
  std::string_view command;
  using Layout = Fields<Str<&Moderate::command>>;
};

// Rooms (PROTOCOL.md 6.13). Room names and texts are judged by the server, like JOIN's nick.
//
// ROOM_JOIN joins `room`, made if no one is in it; `epoch` and `after` say which of its lines
// the client has seen, as HISTORY's do for #lobby (0 and 0: none).
struct RoomJoin {
  static constexpr proto::Kind kKind = proto::Kind::kRoomJoin;
  std::string_view room;
  uint64_t epoch = 0;
  uint64_t after = 0;
  using Layout = Fields<Str<&RoomJoin::room>, U64<&RoomJoin::epoch>, U64<&RoomJoin::after>>;
};
struct RoomPart {  // leave `room` (never #lobby)
  static constexpr proto::Kind kKind = proto::Kind::kRoomPart;
  std::string_view room;
  using Layout = Fields<Str<&RoomPart::room>>;
};
struct RoomList {  // which rooms there are: one ROOM_INFO each
  static constexpr proto::Kind kKind = proto::Kind::kRoomList;
  using Layout = Fields<>;
};
struct RoomTopic {  // set `room`'s topic (empty: clear it)
  static constexpr proto::Kind kKind = proto::Kind::kRoomTopic;
  std::string_view room;
  std::string_view topic;
  using Layout = Fields<Str<&RoomTopic::room>, Str<&RoomTopic::topic>>;
};
struct RoomSay {  // a line (action 1: an action) said in `room`
  static constexpr proto::Kind kKind = proto::Kind::kRoomSay;
  std::string_view room;
  uint8_t action = 0;
  std::string_view text;
  using Layout = Fields<Str<&RoomSay::room>, Flag<&RoomSay::action>, Str<&RoomSay::text>>;
};
struct RoomWho {  // who is in `room`: ROOM_USERS pages
  static constexpr proto::Kind kKind = proto::Kind::kRoomWho;
  std::string_view room;
  using Layout = Fields<Str<&RoomWho::room>>;
};

// File transfer (PROTOCOL.md 6.14). The sender offers a file to one member; the server numbers
// the transfer and tells the receiver; the receiver accepts (or cancels: declines); the sender
// streams it in chunks the server relays under flow control; the receiver checks size and
// hash and says FILE_DONE, or cancels. The offer's name is judged by the server (FILE_END
// refused), the hash and chunk lengths are layout.
//
// FILE_OFFER: offer `name` (`size` bytes, SHA-256 `hash`) to `to`. `tag` is the sender's own
// number for the offer, given back in FILE_OFFERED or FILE_END so that it can tell its offers
// apart before they have an id.
struct FileOffer {
  static constexpr proto::Kind kKind = proto::Kind::kFileOffer;
  uint32_t tag = 0;
  std::string_view to;
  std::string_view name;
  uint64_t size = 0;
  std::string_view hash;  // 32 bytes
  using Layout = Fields<U32<&FileOffer::tag>, Str<&FileOffer::to>, Str<&FileOffer::name>,
                        U64<&FileOffer::size>, Str<&FileOffer::hash, Rule::kFileHash>>;
};
struct FileAccept {  // the receiver takes transfer `id`: the sender may stream
  static constexpr proto::Kind kKind = proto::Kind::kFileAccept;
  uint32_t id = 0;
  using Layout = Fields<U32<&FileAccept::id>>;
};
struct FileCancel {  // either side stops transfer `id` (the receiver, before accepting: declines)
  static constexpr proto::Kind kKind = proto::Kind::kFileCancel;
  uint32_t id = 0;
  std::string_view reason;  // empty or a reason (as AWAY's): judged by the server
  using Layout = Fields<U32<&FileCancel::id>, Str<&FileCancel::reason>>;
};
struct FileChunk {  // the sender's next bytes of transfer `id`, at `offset`
  static constexpr proto::Kind kKind = proto::Kind::kFileChunk;
  uint32_t id = 0;
  uint64_t offset = 0;
  std::string_view data;  // 1 to kMaxChunkLen bytes
  using Layout =
      Fields<U32<&FileChunk::id>, U64<&FileChunk::offset>, Str<&FileChunk::data, Rule::kChunk>>;
};
struct FileDone {  // the receiver has every byte of `id`, checked size and hash, and kept it
  static constexpr proto::Kind kKind = proto::Kind::kFileDone;
  uint32_t id = 0;
  using Layout = Fields<U32<&FileDone::id>>;
};

using ClientMessage =
    std::variant<Join, Say, Whisper, Who, Nick, Ping, Bye, Auth, Action, Away, Whois, Quit, History,
                 Moderate, RoomJoin, RoomPart, RoomList, RoomTopic, RoomSay, RoomWho, FileOffer,
                 FileAccept, FileCancel, FileChunk, FileDone>;

// Server to client.
struct Welcome {
  static constexpr proto::Kind kKind = proto::Kind::kWelcome;
  std::string_view nick;
  std::string_view motd;  // may be empty
  uint16_t online = 0;
  using Layout = Fields<Str<&Welcome::nick, Rule::kNick>, Str<&Welcome::motd, Rule::kMotd>,
                        U16<&Welcome::online>>;
};
struct Chat {
  static constexpr proto::Kind kKind = proto::Kind::kChat;
  std::string_view from;
  uint8_t flags = 0;  // proto::kChatFlagPrivate or 0
  uint64_t time_ms = 0;
  std::string_view text;
  using Layout = Fields<Str<&Chat::from, Rule::kNick>, Flag<&Chat::flags>, U64<&Chat::time_ms>,
                        Str<&Chat::text, Rule::kText>>;
};
struct Notice {
  static constexpr proto::Kind kKind = proto::Kind::kNotice;
  std::string_view text;
  using Layout = Fields<Str<&Notice::text, Rule::kText>>;
};
struct Users {
  static constexpr proto::Kind kKind = proto::Kind::kUsers;
  uint8_t more = 0;  // 1: another USERS follows
  std::vector<std::string_view> nicks;
  using Layout = Fields<Flag<&Users::more>, NickList<&Users::nicks>>;
};
struct Pong {
  static constexpr proto::Kind kKind = proto::Kind::kPong;
  std::string_view data;
  using Layout = Fields<Str<&Pong::data, Rule::kData>>;
};
struct Error {
  static constexpr proto::Kind kKind = proto::Kind::kError;
  proto::ErrorCode code = proto::ErrorCode::kMalformed;
  uint8_t fatal = 0;
  std::string_view text;
  using Layout = Fields<Code<&Error::code>, Flag<&Error::fatal>, Str<&Error::text, Rule::kText>>;
};
// Membership: what a program needs to follow the room (PROTOCOL.md 6.8). Each is followed by
// a NOTICE saying the same for people.
struct MemberJoined {
  static constexpr proto::Kind kKind = proto::Kind::kMemberJoined;
  std::string_view nick;
  using Layout = Fields<Str<&MemberJoined::nick, Rule::kNick>>;
};
struct MemberLeft {
  static constexpr proto::Kind kKind = proto::Kind::kMemberLeft;
  std::string_view nick;
  using Layout = Fields<Str<&MemberLeft::nick, Rule::kNick>>;
};
struct MemberRenamed {
  static constexpr proto::Kind kKind = proto::Kind::kMemberRenamed;
  std::string_view old_nick;
  std::string_view new_nick;
  using Layout = Fields<Str<&MemberRenamed::old_nick, Rule::kNick>,
                        Str<&MemberRenamed::new_nick, Rule::kNick>>;
};
// AUTH_OK (PROTOCOL.md 6.9): the signature verified and the key may join. `nick` is the nick
// the members file lists for the key, or empty for a key it does not list (a guest).
struct AuthOk {
  static constexpr proto::Kind kKind = proto::Kind::kAuthOk;
  std::string_view nick;
  using Layout = Fields<Str<&AuthOk::nick, Rule::kNickOrEmpty>>;
};

// ACTION (PROTOCOL.md 6.10): `from` did `text` ("* alice waves"), relayed like a CHAT said to
// the room.
struct ActionChat {
  static constexpr proto::Kind kKind = proto::Kind::kActionChat;
  std::string_view from;
  uint64_t time_ms = 0;
  std::string_view text;
  using Layout = Fields<Str<&ActionChat::from, Rule::kNick>, U64<&ActionChat::time_ms>,
                        Str<&ActionChat::text, Rule::kText>>;
};
// WHOIS_REPLY (PROTOCOL.md 6.10): what the server knows of one member.
struct WhoisReply {
  static constexpr proto::Kind kKind = proto::Kind::kWhoisReply;
  std::string_view nick;
  uint64_t online_ms = 0;  // since the member joined
  uint64_t idle_ms = 0;    // since its last SAY, WHISPER or ACTION (or its JOIN)
  std::string_view away;   // its away reason; empty: not away
  std::string_view key;    // its Ed25519 user key (32 bytes); empty: it has none
  uint8_t member = 0;      // 1: the key is on the server's members list
  using Layout =
      Fields<Str<&WhoisReply::nick, Rule::kNick>, U64<&WhoisReply::online_ms>,
             U64<&WhoisReply::idle_ms>, Str<&WhoisReply::away, Rule::kReason>,
             Str<&WhoisReply::key, Rule::kEd25519PublicOrEmpty>, Flag<&WhoisReply::member>>;
};

// ROOM_LINE (PROTOCOL.md 6.11): a line said in `room`, to a client that sent HISTORY, live
// (history 0) or from the server's history (history 1). Replaces CHAT without the private flag
// and ACTION_CHAT for that client; whispers stay CHAT.
struct RoomLine {
  static constexpr proto::Kind kKind = proto::Kind::kRoomLine;
  std::string_view room;
  uint64_t seq = 0;      // the line's number in the room, from 1
  uint64_t time_ms = 0;  // when the server accepted it (as CHAT's)
  std::string_view from;
  uint8_t action = 0;   // 1: an ACTION ("* alice waves")
  uint8_t history = 0;  // 1: from the history, said before the client joined
  std::string_view text;
  using Layout =
      Fields<Str<&RoomLine::room, Rule::kRoom>, U64<&RoomLine::seq>, U64<&RoomLine::time_ms>,
             Str<&RoomLine::from, Rule::kNick>, Flag<&RoomLine::action>, Flag<&RoomLine::history>,
             Str<&RoomLine::text, Rule::kText>>;
};
// HISTORY_END (PROTOCOL.md 6.11): the history lines of `room` are all sent.
struct HistoryEnd {
  static constexpr proto::Kind kKind = proto::Kind::kHistoryEnd;
  std::string_view room;
  uint64_t epoch = 0;     // the server's history epoch, for the client's next HISTORY
  uint64_t last_seq = 0;  // the newest line's number when the client joined; 0: none yet
  uint64_t missed = 0;    // lines after the client's `after` that the history no longer holds
  using Layout = Fields<Str<&HistoryEnd::room, Rule::kRoom>, U64<&HistoryEnd::epoch>,
                        U64<&HistoryEnd::last_seq>, U64<&HistoryEnd::missed>>;
};

// ROOM_JOINED (PROTOCOL.md 6.13): the answer to ROOM_JOIN, before the room's history lines
// and its HISTORY_END.
struct RoomJoined {
  static constexpr proto::Kind kKind = proto::Kind::kRoomJoined;
  std::string_view room;   // as the server spells it
  std::string_view topic;  // empty: none
  uint16_t members = 0;    // the joiner included
  using Layout = Fields<Str<&RoomJoined::room, Rule::kRoom>, Str<&RoomJoined::topic, Rule::kTopic>,
                        U16<&RoomJoined::members>>;
};
// ROOM_EVENT: something happened in `room`, told to its members (proto::RoomEvent).
struct RoomEvent {
  static constexpr proto::Kind kKind = proto::Kind::kRoomEvent;
  std::string_view room;
  uint8_t event = 0;
  std::string_view nick;
  std::string_view text;  // the topic, for kTopic; empty otherwise
  using Layout =
      Fields<Str<&RoomEvent::room, Rule::kRoom>, Enum<&RoomEvent::event, proto::kMaxRoomEvent>,
             Str<&RoomEvent::nick, Rule::kNick>, Str<&RoomEvent::text, Rule::kTopic>>;
};
// ROOM_INFO: one room of a ROOM_LIST answer.
struct RoomInfo {
  static constexpr proto::Kind kKind = proto::Kind::kRoomInfo;
  std::string_view room;
  uint16_t members = 0;
  std::string_view topic;
  uint8_t more = 0;  // 1: another ROOM_INFO of the same answer follows
  using Layout = Fields<Str<&RoomInfo::room, Rule::kRoom>, U16<&RoomInfo::members>,
                        Str<&RoomInfo::topic, Rule::kTopic>, Flag<&RoomInfo::more>>;
};
// ROOM_USERS: part of a ROOM_WHO answer, as USERS is of WHO's.
struct RoomUsers {
  static constexpr proto::Kind kKind = proto::Kind::kRoomUsers;
  std::string_view room;
  uint8_t more = 0;
  std::vector<std::string_view> nicks;
  using Layout = Fields<Str<&RoomUsers::room, Rule::kRoom>, Flag<&RoomUsers::more>,
                        NickList<&RoomUsers::nicks>>;
};

// File transfer, server to client (PROTOCOL.md 6.14).
//
// FILE_OFFERED: to the sender, the server took its offer `tag` as transfer `id` and told the
// receiver.
struct FileOffered {
  static constexpr proto::Kind kKind = proto::Kind::kFileOffered;
  uint32_t tag = 0;
  uint32_t id = 0;
  using Layout = Fields<U32<&FileOffered::tag>, U32<&FileOffered::id>>;
};
// FILE_INCOMING: to the receiver, `from` offers it a file.
struct FileIncoming {
  static constexpr proto::Kind kKind = proto::Kind::kFileIncoming;
  uint32_t id = 0;
  std::string_view from;
  std::string_view name;
  uint64_t size = 0;
  std::string_view hash;  // 32 bytes
  using Layout = Fields<U32<&FileIncoming::id>, Str<&FileIncoming::from, Rule::kNick>,
                        Str<&FileIncoming::name, Rule::kFileName>, U64<&FileIncoming::size>,
                        Str<&FileIncoming::hash, Rule::kFileHash>>;
};
// FILE_ACCEPTED: to the sender, the receiver took transfer `id`: stream it from offset 0.
struct FileAccepted {
  static constexpr proto::Kind kKind = proto::Kind::kFileAccepted;
  uint32_t id = 0;
  using Layout = Fields<U32<&FileAccepted::id>>;
};
// FILE_DATA: to the receiver, the next bytes of transfer `id`, relayed from a FILE_CHUNK.
struct FileData {
  static constexpr proto::Kind kKind = proto::Kind::kFileData;
  uint32_t id = 0;
  uint64_t offset = 0;
  std::string_view data;
  using Layout =
      Fields<U32<&FileData::id>, U64<&FileData::offset>, Str<&FileData::data, Rule::kChunk>>;
};
// FILE_END: to both sides, transfer `id` is over (proto::FileEnd says how). The sender's copy
// carries its offer's `tag`, the receiver's 0; a refused offer has id 0.
struct FileEnd {
  static constexpr proto::Kind kKind = proto::Kind::kFileEnd;
  uint32_t id = 0;
  uint32_t tag = 0;
  uint8_t why = 0;
  std::string_view reason;
  using Layout =
      Fields<U32<&FileEnd::id>, U32<&FileEnd::tag>, Enum<&FileEnd::why, proto::kMaxFileEnd>,
             Str<&FileEnd::reason, Rule::kReason>>;
};

using ServerMessage =
    std::variant<Welcome, Chat, Notice, Users, Pong, Error, MemberJoined, MemberLeft, MemberRenamed,
                 AuthOk, ActionChat, WhoisReply, RoomLine, HistoryEnd, RoomJoined, RoomEvent,
                 RoomInfo, RoomUsers, FileOffered, FileIncoming, FileAccepted, FileData, FileEnd>;

// The kinds of a message variant, in the variant's order.
template <typename Variant>
struct KindsOf;
template <typename... Ms>
struct KindsOf<std::variant<Ms...>> {
  static constexpr std::array<proto::Kind, sizeof...(Ms)> kValue = {Ms::kKind...};
};
inline constexpr auto kClientKinds = KindsOf<ClientMessage>::kValue;
inline constexpr auto kServerKinds = KindsOf<ServerMessage>::kValue;

// IsKnownKind is true if `kind` is one of `kinds`.
template <size_t N>
constexpr bool IsKnownKind(const std::array<proto::Kind, N>& kinds, uint8_t kind) {
  for (proto::Kind k : kinds) {
    if (static_cast<uint8_t>(k) == kind) {
      return true;
    }
  }
  return false;
}

// KindOf returns the kind of the message `m` holds.
template <typename Variant>
proto::Kind KindOf(const Variant& m) {
  return std::visit([](const auto& held) { return std::decay_t<decltype(held)>::kKind; }, m);
}

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
