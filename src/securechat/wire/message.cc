#include "securechat/wire/message.h"

#include "securechat/wire/text.h"
#include "securechat/wire/writer.h"

namespace securechat::msg {
namespace {

using proto::Kind;

bool IsFlagByte(uint8_t v) { return v == 0 || v == 1; }

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
  switch (static_cast<Kind>(kind)) {
    case Kind::kJoin: {
      Join m;
      bool ok = r.ReadStr(&m.nick);
      *out = m;
      return Finish(r, ok);
    }
    case Kind::kSay: {
      Say m;
      bool ok = r.ReadStr(&m.text);
      *out = m;
      return Finish(r, ok);
    }
    case Kind::kWhisper: {
      Whisper m;
      bool ok = r.ReadStr(&m.to) && r.ReadStr(&m.text);
      *out = m;
      return Finish(r, ok);
    }
    case Kind::kWho:
      *out = Who{};
      return Finish(r, true);
    case Kind::kNick: {
      Nick m;
      bool ok = r.ReadStr(&m.nick);
      *out = m;
      return Finish(r, ok);
    }
    case Kind::kPing: {
      Ping m;
      bool ok = r.ReadStr(&m.data) && m.data.size() <= proto::kMaxPingDataLen;
      *out = m;
      return Finish(r, ok);
    }
    case Kind::kBye:
      *out = Bye{};
      return Finish(r, true);
    default:
      return DecodeStatus::kUnknownKind;
  }
}

DecodeStatus DecodeServerMessage(ByteView plaintext, ServerMessage* out) {
  Reader r(plaintext);
  uint8_t kind;
  if (!r.ReadU8(&kind)) {
    return DecodeStatus::kMalformed;
  }
  switch (static_cast<Kind>(kind)) {
    case Kind::kWelcome: {
      Welcome m;
      bool ok = r.ReadStr(&m.nick) && r.ReadStr(&m.motd) && r.ReadU16(&m.online) &&
                IsValidNick(m.nick) && (m.motd.empty() || IsValidText(m.motd));
      *out = m;
      return Finish(r, ok);
    }
    case Kind::kChat: {
      Chat m;
      bool ok = r.ReadStr(&m.from) && r.ReadU8(&m.flags) && r.ReadU64(&m.time_ms) &&
                r.ReadStr(&m.text) && IsValidNick(m.from) && IsFlagByte(m.flags) &&
                IsValidText(m.text);
      *out = m;
      return Finish(r, ok);
    }
    case Kind::kNotice: {
      Notice m;
      bool ok = r.ReadStr(&m.text) && IsValidText(m.text);
      *out = m;
      return Finish(r, ok);
    }
    case Kind::kUsers: {
      Users m;
      uint16_t count;
      bool ok = r.ReadU8(&m.more) && IsFlagByte(m.more) && r.ReadU16(&count);
      // Each nick takes at least 3 bytes, so a count the rest cannot hold fails before any
      // space is reserved for it.
      ok = ok && count <= r.remaining() / 3;
      if (ok) {
        m.nicks.reserve(count);
      }
      for (uint16_t i = 0; ok && i < count; ++i) {
        std::string_view nick;
        ok = r.ReadStr(&nick) && IsValidNick(nick);
        m.nicks.push_back(nick);
      }
      *out = std::move(m);
      return Finish(r, ok);
    }
    case Kind::kPong: {
      Pong m;
      bool ok = r.ReadStr(&m.data) && m.data.size() <= proto::kMaxPingDataLen;
      *out = m;
      return Finish(r, ok);
    }
    case Kind::kError: {
      Error m;
      uint16_t code;
      bool ok = r.ReadU16(&code) && r.ReadU8(&m.fatal) && r.ReadStr(&m.text) &&
                IsFlagByte(m.fatal) && IsValidText(m.text);
      m.code = static_cast<proto::ErrorCode>(code);
      *out = m;
      return Finish(r, ok);
    }
    default:
      return DecodeStatus::kUnknownKind;
  }
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
