// Fuzzes the message decoders. The whole input is one record plaintext, decoded as a client
// message and as a server message. Whatever decodes must encode back to exactly the input
// (STYLE.md 2), a decoded server message must obey the content rules the client relies on, and
// the display escaping of every decoded string must leave nothing a terminal could act on. The
// input's body is then decoded again under every kind of the message table (msg::kClientKinds,
// msg::kServerKinds), so each decoder sees every body whatever kinds the protocol adds.
#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_util.h"
#include "securechat/base/overloaded.h"
#include "securechat/wire/message.h"
#include "securechat/wire/text.h"

namespace securechat::fuzz {
namespace {

// CheckEscaped: EscapeForDisplay's output is printable ASCII or UTF-8 without controls or
// bidirectional formatting, which IsValidText checks when it is short enough to be a text.
void CheckEscaped(std::string_view s) {
  const std::string shown = EscapeForDisplay(s);
  for (char c : shown) {
    const auto b = static_cast<uint8_t>(c);
    FUZZ_CHECK(b >= 0x20 && b != 0x7F);
  }
  if (!shown.empty() && shown.size() <= proto::kMaxTextLen) {
    FUZZ_CHECK(IsValidText(shown));
  }
  // No run of blanks survives. Text in which nothing was escaped only lost blanks, and
  // printable ASCII without a run of spaces or a backslash passes through unchanged.
  FUZZ_CHECK(shown.find("  ") == std::string::npos);
  if (IsValidText(s) && shown.find('\\') == std::string::npos) {
    FUZZ_CHECK(shown.size() <= s.size());
  }
  const bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
  if (ascii && s.find('\\') == std::string_view::npos && s.find("  ") == std::string_view::npos) {
    FUZZ_CHECK(shown == s);
  }
}

// CheckRoom: a decoded room is valid, and is what PROTOCOL.md 6.11 says a room is, spelled out
// here rather than through IsValidRoom alone: `#`, then 1 to 31 bytes of the nick alphabet
// (which has no `#`), so that a client can show it without escaping.
void CheckRoom(std::string_view room) {
  FUZZ_CHECK(IsValidRoom(room));
  FUZZ_CHECK(room.size() >= 2 && room.size() <= proto::kMaxRoomLen && room[0] == '#');
  FUZZ_CHECK(room.find('#', 1) == std::string_view::npos && IsValidNick(room.substr(1)));
  FUZZ_CHECK(EscapeForDisplay(room) == room);
}

// CheckTopic: a decoded topic is empty or a valid text of at most kMaxTopicLen bytes
// (PROTOCOL.md 6.13), and displays safely.
void CheckTopic(std::string_view topic) {
  FUZZ_CHECK(topic.empty() || (topic.size() <= proto::kMaxTopicLen && IsValidText(topic)));
  CheckEscaped(topic);
}

// CheckServerMessage: a decoded server message obeys the content rules the client relies on.
// One case per kind, so that a new kind does not build until it has its checks.
void CheckServerMessage(const msg::ServerMessage& m) {
  std::visit(Overloaded{
                 [](const msg::Welcome& w) {
                   FUZZ_CHECK(IsValidNick(w.nick));
                   FUZZ_CHECK(w.motd.empty() || IsValidText(w.motd));
                   CheckEscaped(w.motd);
                 },
                 [](const msg::Chat& c) {
                   FUZZ_CHECK(IsValidNick(c.from) && IsValidText(c.text));
                   FUZZ_CHECK(c.flags == 0 || c.flags == proto::kChatFlagPrivate);
                   CheckEscaped(c.text);
                 },
                 [](const msg::Notice& n) {
                   FUZZ_CHECK(IsValidText(n.text));
                   CheckEscaped(n.text);
                 },
                 [](const msg::Users& u) {
                   FUZZ_CHECK(u.more <= 1);
                   for (std::string_view nick : u.nicks) {
                     FUZZ_CHECK(IsValidNick(nick));
                   }
                 },
                 [](const msg::Pong& p) { FUZZ_CHECK(p.data.size() <= proto::kMaxPingDataLen); },
                 [](const msg::Error& e) {
                   FUZZ_CHECK(e.fatal <= 1 && IsValidText(e.text));
                   CheckEscaped(e.text);
                 },
                 [](const msg::MemberJoined& j) { FUZZ_CHECK(IsValidNick(j.nick)); },
                 [](const msg::MemberLeft& l) { FUZZ_CHECK(IsValidNick(l.nick)); },
                 [](const msg::MemberRenamed& r) {
                   FUZZ_CHECK(IsValidNick(r.old_nick) && IsValidNick(r.new_nick));
                 },
                 [](const msg::AuthOk& a) { FUZZ_CHECK(a.nick.empty() || IsValidNick(a.nick)); },
                 [](const msg::ActionChat& a) {
                   FUZZ_CHECK(IsValidNick(a.from) && IsValidText(a.text));
                   CheckEscaped(a.text);
                 },
                 [](const msg::WhoisReply& w) {
                   FUZZ_CHECK(IsValidNick(w.nick));
                   FUZZ_CHECK(w.away.empty() ||
                              (w.away.size() <= proto::kMaxReasonLen && IsValidText(w.away)));
                   FUZZ_CHECK(w.key.empty() || w.key.size() == proto::kEd25519PublicLen);
                   FUZZ_CHECK(w.member <= 1);
                   CheckEscaped(w.away);
                 },
                 [](const msg::RoomLine& line) {
                   CheckRoom(line.room);
                   FUZZ_CHECK(IsValidNick(line.from) && IsValidText(line.text));
                   FUZZ_CHECK(line.action <= 1 && line.history <= 1);
                   CheckEscaped(line.text);
                 },
                 [](const msg::HistoryEnd& end) { CheckRoom(end.room); },
                 [](const msg::RoomJoined& joined) {
                   CheckRoom(joined.room);
                   CheckTopic(joined.topic);
                 },
                 [](const msg::RoomEvent& event) {
                   CheckRoom(event.room);
                   FUZZ_CHECK(event.event >= 1 && event.event <= proto::kMaxRoomEvent);
                   FUZZ_CHECK(IsValidNick(event.nick));
                   CheckTopic(event.text);
                 },
                 [](const msg::RoomInfo& info) {
                   CheckRoom(info.room);
                   CheckTopic(info.topic);
                   FUZZ_CHECK(info.more <= 1);
                 },
                 [](const msg::RoomUsers& users) {
                   CheckRoom(users.room);
                   FUZZ_CHECK(users.more <= 1);
                   for (std::string_view nick : users.nicks) {
                     FUZZ_CHECK(IsValidNick(nick));
                   }
                 },
                 [](const msg::FileOffered&) {},  // two u32s: any values are a layout
                 [](const msg::FileIncoming& incoming) {
                   FUZZ_CHECK(IsValidNick(incoming.from));
                   // A name a receiver may show and start its safe name from: one line of
                   // text, no path separator, never `.` or `..`.
                   FUZZ_CHECK(IsValidText(incoming.name) &&
                              incoming.name.size() <= proto::kMaxFileNameLen);
                   FUZZ_CHECK(incoming.name.find('/') == std::string_view::npos &&
                              incoming.name.find('\\') == std::string_view::npos);
                   FUZZ_CHECK(incoming.name != "." && incoming.name != "..");
                   FUZZ_CHECK(incoming.hash.size() == proto::kFileHashLen);
                   CheckEscaped(incoming.name);
                 },
                 [](const msg::FileAccepted&) {},
                 [](const msg::FileData& data) {
                   FUZZ_CHECK(!data.data.empty() && data.data.size() <= proto::kMaxChunkLen);
                 },
                 [](const msg::FileEnd& end) {
                   FUZZ_CHECK(end.why >= 1 && end.why <= proto::kMaxFileEnd);
                   FUZZ_CHECK(end.reason.empty() || (end.reason.size() <= proto::kMaxReasonLen &&
                                                     IsValidText(end.reason)));
                   CheckEscaped(end.reason);
                 },
             },
             m);
}

// CheckClientMessage: a decoded client message obeys the layout rules; its strings, whatever
// they hold, display safely.
void CheckClientMessage(const msg::ClientMessage& m) {
  std::visit(Overloaded{
                 [](const msg::Join& j) { CheckEscaped(j.nick); },
                 [](const msg::Say& s) { CheckEscaped(s.text); },
                 [](const msg::Whisper& w) {
                   CheckEscaped(w.to);
                   CheckEscaped(w.text);
                 },
                 [](const msg::Who&) {},
                 [](const msg::Nick& n) { CheckEscaped(n.nick); },
                 [](const msg::Ping& p) { FUZZ_CHECK(p.data.size() <= proto::kMaxPingDataLen); },
                 [](const msg::Bye&) {},
                 [](const msg::Auth& a) {
                   FUZZ_CHECK(a.key.size() == proto::kEd25519PublicLen);
                   FUZZ_CHECK(a.signature.size() == proto::kEd25519SignatureLen);
                 },
                 [](const msg::Action& a) { CheckEscaped(a.text); },
                 [](const msg::Away& a) { CheckEscaped(a.reason); },
                 [](const msg::Whois& w) { CheckEscaped(w.nick); },
                 [](const msg::Quit& q) { CheckEscaped(q.reason); },
                 [](const msg::History& /*h*/) {},  // two u64s: any value is a layout
                 [](const msg::Moderate& moderate) { CheckEscaped(moderate.command); },
                 [](const msg::RoomJoin& join) { CheckEscaped(join.room); },
                 [](const msg::RoomPart& part) { CheckEscaped(part.room); },
                 [](const msg::RoomList&) {},
                 [](const msg::RoomTopic& topic) {
                   CheckEscaped(topic.room);
                   CheckEscaped(topic.topic);
                 },
                 [](const msg::RoomSay& say) {
                   CheckEscaped(say.room);
                   FUZZ_CHECK(say.action <= 1);
                   CheckEscaped(say.text);
                 },
                 [](const msg::RoomWho& who) { CheckEscaped(who.room); },
                 [](const msg::FileOffer& offer) {
                   CheckEscaped(offer.to);
                   CheckEscaped(offer.name);
                   FUZZ_CHECK(offer.hash.size() == proto::kFileHashLen);
                 },
                 [](const msg::FileAccept&) {},
                 [](const msg::FileCancel& cancel) { CheckEscaped(cancel.reason); },
                 [](const msg::FileChunk& chunk) {
                   FUZZ_CHECK(!chunk.data.empty() && chunk.data.size() <= proto::kMaxChunkLen);
                 },
                 [](const msg::FileDone&) {},
             },
             m);
}

// CheckPlaintext decodes `plaintext` both ways and checks every property above. Returns the
// two statuses.
void CheckPlaintext(ByteView plaintext, msg::DecodeStatus* cs_out, msg::DecodeStatus* ss_out) {
  msg::ClientMessage client;
  const msg::DecodeStatus cs = msg::DecodeClientMessage(plaintext, &client);
  if (cs == msg::DecodeStatus::kOk) {
    std::vector<uint8_t> again;
    msg::EncodeMessage(client, &again);
    FUZZ_CHECK(SameBytes(again, plaintext));
    FUZZ_CHECK(plaintext[0] == static_cast<uint8_t>(msg::KindOf(client)));
    CheckClientMessage(client);
  }
  // Only the first byte decides whether a kind is known: the kinds of the message table.
  FUZZ_CHECK((cs == msg::DecodeStatus::kUnknownKind) ==
             (!plaintext.empty() && !msg::IsKnownKind(msg::kClientKinds, plaintext[0])));

  msg::ServerMessage server;
  const msg::DecodeStatus ss = msg::DecodeServerMessage(plaintext, &server);
  if (ss == msg::DecodeStatus::kOk) {
    std::vector<uint8_t> again;
    msg::EncodeMessage(server, &again);
    FUZZ_CHECK(SameBytes(again, plaintext));
    FUZZ_CHECK(plaintext[0] == static_cast<uint8_t>(msg::KindOf(server)));
    CheckServerMessage(server);
  }
  FUZZ_CHECK((ss == msg::DecodeStatus::kUnknownKind) ==
             (!plaintext.empty() && !msg::IsKnownKind(msg::kServerKinds, plaintext[0])));
  // No byte string is both a client and a server message: the kinds do not overlap.
  FUZZ_CHECK(cs != msg::DecodeStatus::kOk || ss == msg::DecodeStatus::kUnknownKind);
  *cs_out = cs;
  *ss_out = ss;
}

}  // namespace
}  // namespace securechat::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace securechat;
  using namespace securechat::fuzz;
  const ByteView plaintext(data, size);
  msg::DecodeStatus cs;
  msg::DecodeStatus ss;
  CheckPlaintext(plaintext, &cs, &ss);
  CheckEscaped(AsText(plaintext));

  // The same fields under every kind of the table, whatever the input's first byte: each
  // decoder sees every body, and no kind is known or unknown by its place in a range.
  if (size > 0) {
    std::vector<uint8_t> as_kind(data, data + size);
    for (const auto& kinds : {absl::Span<const proto::Kind>(msg::kClientKinds),
                              absl::Span<const proto::Kind>(msg::kServerKinds)}) {
      for (proto::Kind kind : kinds) {
        as_kind[0] = static_cast<uint8_t>(kind);
        CheckPlaintext(as_kind, &cs, &ss);
        FUZZ_CHECK(cs != msg::DecodeStatus::kUnknownKind || ss != msg::DecodeStatus::kUnknownKind);
      }
    }
  }
  return 0;
}
