#include "securechat/wire/message.h"

#include "securechat/wire/text.h"
#include "securechat/wire/writer.h"

namespace securechat::msg {
namespace {

using proto::Kind;

bool IsFlagByte(uint8_t v) { return v == 0 || v == 1; }

// ReadFields reads one message's fields, after its kind byte, into *m (views into the reader's
// data). Returns false at the first field that is missing or breaks the layout (client
// messages) or the content rules (server messages); the caller then requires that nothing is
// left. One overload per message, mirroring the encoders below.
bool ReadFields(Reader& r, Join* m) { return r.ReadStr(&m->nick); }
bool ReadFields(Reader& r, Say* m) { return r.ReadStr(&m->text); }
bool ReadFields(Reader& r, Whisper* m) { return r.ReadStr(&m->to) && r.ReadStr(&m->text); }
bool ReadFields(Reader&, Who*) { return true; }
bool ReadFields(Reader& r, Nick* m) { return r.ReadStr(&m->nick); }
bool ReadFields(Reader& r, Ping* m) {
  return r.ReadStr(&m->data) && m->data.size() <= proto::kMaxPingDataLen;
}
bool ReadFields(Reader&, Bye*) { return true; }

bool ReadFields(Reader& r, Welcome* m) {
  return r.ReadStr(&m->nick) && r.ReadStr(&m->motd) && r.ReadU16(&m->online) &&
         IsValidNick(m->nick) && (m->motd.empty() || IsValidText(m->motd));
}
bool ReadFields(Reader& r, Chat* m) {
  return r.ReadStr(&m->from) && r.ReadU8(&m->flags) && r.ReadU64(&m->time_ms) &&
         r.ReadStr(&m->text) && IsValidNick(m->from) && IsFlagByte(m->flags) &&
         IsValidText(m->text);
}
bool ReadFields(Reader& r, Notice* m) { return r.ReadStr(&m->text) && IsValidText(m->text); }
bool ReadFields(Reader& r, Users* m) {
  uint16_t count;
  if (!r.ReadU8(&m->more) || !IsFlagByte(m->more) || !r.ReadU16(&count) ||
      // Each nick takes at least 3 bytes, so a count the rest cannot hold fails before any
      // space is reserved for it.
      count > r.remaining() / 3) {
    return false;
  }
  m->nicks.reserve(count);
  for (uint16_t i = 0; i < count; ++i) {
    std::string_view nick;
    if (!r.ReadStr(&nick) || !IsValidNick(nick)) {
      return false;
    }
    m->nicks.push_back(nick);
  }
  return true;
}
bool ReadFields(Reader& r, Pong* m) {
  return r.ReadStr(&m->data) && m->data.size() <= proto::kMaxPingDataLen;
}
bool ReadFields(Reader& r, Error* m) {
  uint16_t code;
  if (!r.ReadU16(&code)) {
    return false;
  }
  m->code = static_cast<proto::ErrorCode>(code);
  return r.ReadU8(&m->fatal) && r.ReadStr(&m->text) && IsFlagByte(m->fatal) && IsValidText(m->text);
}

// Decode makes *out hold an M and reads its fields into it.
template <typename M, typename Variant>
bool Decode(Reader& r, Variant* out) {
  return ReadFields(r, &out->template emplace<M>());
}

// Finish: a message whose fields were read is valid only if nothing is left after them.
DecodeStatus Finish(const Reader& r, bool ok) {
  return ok && r.empty() ? DecodeStatus::kOk : DecodeStatus::kMalformed;
}

}  // namespace

DecodeStatus DecodeClientMessage(ByteView plaintext, ClientMessage* out) {
  Reader r(plaintext);
  uint8_t kind;
  if (!r.ReadU8(&kind)) {
    return DecodeStatus::kMalformed;
  }
  bool ok;
  switch (static_cast<Kind>(kind)) {
    case Kind::kJoin:
      ok = Decode<Join>(r, out);
      break;
    case Kind::kSay:
      ok = Decode<Say>(r, out);
      break;
    case Kind::kWhisper:
      ok = Decode<Whisper>(r, out);
      break;
    case Kind::kWho:
      ok = Decode<Who>(r, out);
      break;
    case Kind::kNick:
      ok = Decode<Nick>(r, out);
      break;
    case Kind::kPing:
      ok = Decode<Ping>(r, out);
      break;
    case Kind::kBye:
      ok = Decode<Bye>(r, out);
      break;
    default:
      return DecodeStatus::kUnknownKind;
  }
  return Finish(r, ok);
}

DecodeStatus DecodeServerMessage(ByteView plaintext, ServerMessage* out) {
  Reader r(plaintext);
  uint8_t kind;
  if (!r.ReadU8(&kind)) {
    return DecodeStatus::kMalformed;
  }
  bool ok;
  switch (static_cast<Kind>(kind)) {
    case Kind::kWelcome:
      ok = Decode<Welcome>(r, out);
      break;
    case Kind::kChat:
      ok = Decode<Chat>(r, out);
      break;
    case Kind::kNotice:
      ok = Decode<Notice>(r, out);
      break;
    case Kind::kUsers:
      ok = Decode<Users>(r, out);
      break;
    case Kind::kPong:
      ok = Decode<Pong>(r, out);
      break;
    case Kind::kError:
      ok = Decode<Error>(r, out);
      break;
    default:
      return DecodeStatus::kUnknownKind;
  }
  return Finish(r, ok);
}

namespace {

struct ClientEncoder {
  Writer& w;
  void operator()(const Join& m) {
    w.U8(static_cast<uint8_t>(Kind::kJoin));
    w.Str(m.nick);
  }
  void operator()(const Say& m) {
    w.U8(static_cast<uint8_t>(Kind::kSay));
    w.Str(m.text);
  }
  void operator()(const Whisper& m) {
    w.U8(static_cast<uint8_t>(Kind::kWhisper));
    w.Str(m.to);
    w.Str(m.text);
  }
  void operator()(const Who&) { w.U8(static_cast<uint8_t>(Kind::kWho)); }
  void operator()(const Nick& m) {
    w.U8(static_cast<uint8_t>(Kind::kNick));
    w.Str(m.nick);
  }
  void operator()(const Ping& m) {
    w.U8(static_cast<uint8_t>(Kind::kPing));
    w.Str(m.data);
  }
  void operator()(const Bye&) { w.U8(static_cast<uint8_t>(Kind::kBye)); }
};

struct ServerEncoder {
  Writer& w;
  void operator()(const Welcome& m) {
    w.U8(static_cast<uint8_t>(Kind::kWelcome));
    w.Str(m.nick);
    w.Str(m.motd);
    w.U16(m.online);
  }
  void operator()(const Chat& m) {
    w.U8(static_cast<uint8_t>(Kind::kChat));
    w.Str(m.from);
    w.U8(m.flags);
    w.U64(m.time_ms);
    w.Str(m.text);
  }
  void operator()(const Notice& m) {
    w.U8(static_cast<uint8_t>(Kind::kNotice));
    w.Str(m.text);
  }
  void operator()(const Users& m) {
    w.U8(static_cast<uint8_t>(Kind::kUsers));
    w.U8(m.more);
    w.U16(static_cast<uint16_t>(m.nicks.size()));
    for (std::string_view nick : m.nicks) {
      w.Str(nick);
    }
  }
  void operator()(const Pong& m) {
    w.U8(static_cast<uint8_t>(Kind::kPong));
    w.Str(m.data);
  }
  void operator()(const Error& m) {
    w.U8(static_cast<uint8_t>(Kind::kError));
    w.U16(static_cast<uint16_t>(m.code));
    w.U8(m.fatal);
    w.Str(m.text);
  }
};

}  // namespace

void EncodeMessage(const ClientMessage& m, std::vector<uint8_t>* out) {
  Writer w(out);
  std::visit(ClientEncoder{w}, m);
}

void EncodeMessage(const ServerMessage& m, std::vector<uint8_t>* out) {
  Writer w(out);
  std::visit(ServerEncoder{w}, m);
}

}  // namespace securechat::msg
