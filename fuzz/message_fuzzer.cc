// Fuzzes the message decoders. The whole input is one record plaintext, decoded as a client
// message and as a server message. Whatever decodes must encode back to exactly the input
// (STYLE.md 2), a decoded server message must obey the content rules the client relies on, and
// the display escaping of every decoded string must leave nothing a terminal could act on.
#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_util.h"
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

void CheckServerMessage(const msg::ServerMessage& m) {
  if (const auto* w = std::get_if<msg::Welcome>(&m)) {
    FUZZ_CHECK(IsValidNick(w->nick));
    FUZZ_CHECK(w->motd.empty() || IsValidText(w->motd));
    CheckEscaped(w->motd);
  } else if (const auto* c = std::get_if<msg::Chat>(&m)) {
    FUZZ_CHECK(IsValidNick(c->from) && IsValidText(c->text));
    FUZZ_CHECK(c->flags == 0 || c->flags == proto::kChatFlagPrivate);
    CheckEscaped(c->text);
  } else if (const auto* n = std::get_if<msg::Notice>(&m)) {
    FUZZ_CHECK(IsValidText(n->text));
    CheckEscaped(n->text);
  } else if (const auto* u = std::get_if<msg::Users>(&m)) {
    FUZZ_CHECK(u->more <= 1);
    for (std::string_view nick : u->nicks) {
      FUZZ_CHECK(IsValidNick(nick));
    }
  } else if (const auto* p = std::get_if<msg::Pong>(&m)) {
    FUZZ_CHECK(p->data.size() <= proto::kMaxPingDataLen);
  } else if (const auto* e = std::get_if<msg::Error>(&m)) {
    FUZZ_CHECK(e->fatal <= 1 && IsValidText(e->text));
    CheckEscaped(e->text);
  }
}

void CheckClientMessage(const msg::ClientMessage& m) {
  if (const auto* p = std::get_if<msg::Ping>(&m)) {
    FUZZ_CHECK(p->data.size() <= proto::kMaxPingDataLen);
  } else if (const auto* s = std::get_if<msg::Say>(&m)) {
    CheckEscaped(s->text);
  } else if (const auto* w = std::get_if<msg::Whisper>(&m)) {
    CheckEscaped(w->to);
    CheckEscaped(w->text);
  }
}

}  // namespace
}  // namespace securechat::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace securechat;
  using namespace securechat::fuzz;
  const ByteView plaintext(data, size);

  msg::ClientMessage client;
  const msg::DecodeStatus cs = msg::DecodeClientMessage(plaintext, &client);
  if (cs == msg::DecodeStatus::kOk) {
    std::vector<uint8_t> again;
    msg::EncodeMessage(client, &again);
    FUZZ_CHECK(SameBytes(again, plaintext));
    CheckClientMessage(client);
  }
  // Only the first byte decides whether a kind is known.
  FUZZ_CHECK((cs == msg::DecodeStatus::kUnknownKind) ==
             (size > 0 && (data[0] == 0 || data[0] > static_cast<uint8_t>(proto::Kind::kBye))));

  msg::ServerMessage server;
  const msg::DecodeStatus ss = msg::DecodeServerMessage(plaintext, &server);
  if (ss == msg::DecodeStatus::kOk) {
    std::vector<uint8_t> again;
    msg::EncodeMessage(server, &again);
    FUZZ_CHECK(SameBytes(again, plaintext));
    CheckServerMessage(server);
  }
  FUZZ_CHECK((ss == msg::DecodeStatus::kUnknownKind) ==
             (size > 0 && (data[0] < static_cast<uint8_t>(proto::Kind::kWelcome) ||
                           data[0] > static_cast<uint8_t>(proto::Kind::kError))));
  // No byte string is both a client and a server message: the kinds do not overlap.
  FUZZ_CHECK(cs != msg::DecodeStatus::kOk || ss == msg::DecodeStatus::kUnknownKind);

  CheckEscaped(AsText(plaintext));
  return 0;
}
