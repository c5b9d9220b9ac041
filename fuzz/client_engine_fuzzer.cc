// Fuzzes the whole client without a socket or a terminal: a ClientConnection with a
// ClientSession on top, as chat-client runs them, fed server bytes and typed lines by the
// input.
//
// The server's bytes are raw from the first byte on, or follow a real handshake made here
// (ServerSide), after which the input gives record plaintexts or picks well-formed server
// messages from templates. Every line the session prints must be safe on a terminal, and
// everything the client sends after its CLIENT_HELLO must be records that open and decode as
// valid client messages.
//
// Input: flags u8 (bit 0: real handshake first; bit 1: a clock, so lines are paced), the
// client's 96 random bytes, with bit 0 the server's 64 (server_random, X25519 key), then
// operations until the input ends, each an opcode u8 and its arguments (see Run below).
#include <string>
#include <variant>
#include <vector>

#include "fuzz_util.h"
#include "handshake_util.h"
#include "securechat/client/session.h"
#include "securechat/engine/client_connection.h"
#include "securechat/wire/frame.h"
#include "securechat/wire/message.h"
#include "securechat/wire/text.h"

namespace securechat::fuzz {
namespace {

constexpr int kMaxOperations = 200;
// The server messages SendTemplate makes: WELCOME, CHAT, NOTICE, USERS, PONG, ERROR,
// MEMBER_JOINED, MEMBER_LEFT, ACTION_CHAT, WHOIS_REPLY, MEMBER_RENAMED, ROOM_LINE,
// HISTORY_END.
constexpr uint8_t kTemplates = 13;

class Harness {
 public:
  Harness(Input& input, uint8_t flags)
      : script_(ClientScript(input)),
        rng_(script_),
        conn_(TestPublicKey(), rng_),
        session_(
            conn_, "alice", [](std::string_view line) { FUZZ_CHECK(DisplayLineIsSafe(line)); },
            (flags & 2) ? ClientSession::Clock([this] { return mono_ms_; })
                        : ClientSession::Clock()) {
    FUZZ_CHECK(conn_.Start());
    const ByteView hello = conn_.output().pending();
    hello_.assign(hello.begin(), hello.end());
    conn_.output().Consume(hello_.size());
    if (flags & 1) {
      std::vector<uint8_t> reply;
      FUZZ_CHECK(server_.Establish(hello_, script_, input, &reply));
      session_.Received(reply);
      FUZZ_CHECK(conn_.state() == ClientConnection::State::kEstablished);
    }
  }

  void Run(Input& input) {
    for (int op = 0; op < kMaxOperations && !input.empty() && !session_.finished(); ++op) {
      switch (input.U8() % 8) {
        case 0:
          session_.Received(input.Chunk());
          break;
        case 1:
          SendRecord(input.Chunk());
          break;
        case 2:
          SendTemplate(input);
          break;
        case 3:
          session_.InputLine(AsText(input.Chunk()));
          break;
        case 4:
          session_.InputEof();
          break;
        case 5:  // time passes, and the loop asks when to come back
          mono_ms_ += uint64_t{input.U16()} * 10;
          session_.Tick();
          if (const auto wait = session_.MsUntilTick()) {
            FUZZ_CHECK(*wait <= ClientSession::kKeepaliveMs);
          }
          break;
        case 6:
          session_.ServerClosed();
          break;
        default:
          CheckOutput();
          break;
      }
    }
    CheckOutput();
    if (session_.finished()) {
      FUZZ_CHECK(session_.exit_code() >= kExitOk && session_.exit_code() <= kExitAuthRefused);
      FUZZ_CHECK(DisplayLineIsSafe(session_.final_message()));
    }
  }

 private:
  void SendRecord(ByteView plaintext) {
    if (!server_.ready) {
      return;
    }
    std::vector<uint8_t> frame;
    if (server_.to_client.Seal(plaintext, server_rng_, &frame)) {
      session_.Received(frame);
    }
  }

  void SendTemplate(Input& input) {
    static constexpr std::string_view kNicks[] = {"alice", "bob", "server", "bad nick", ""};
    static constexpr std::string_view kTexts[] = {"hi", "\x1b]0;owned\x07",
                                                  "\xe2\x80\xae"
                                                  "evil",
                                                  "caf\xc3\xa9", ""};
    auto nick = [&] {
      const uint8_t n = input.U8();
      return n < std::size(kNicks) ? kNicks[n] : AsText(input.Chunk());
    };
    auto text = [&] {
      const uint8_t t = input.U8();
      return t < std::size(kTexts) ? kTexts[t] : AsText(input.Chunk());
    };
    // The client's room, another valid room, and two that are not rooms.
    static constexpr std::string_view kRooms[] = {"#lobby", "#dev", "lobby", "#"};
    auto room = [&] {
      const uint8_t r = input.U8();
      return r < std::size(kRooms) ? kRooms[r] : AsText(input.Chunk());
    };
    std::vector<uint8_t> plaintext;
    switch (input.U8() % kTemplates) {
      case 0: {
        const std::string_view n = nick();
        const std::string_view motd = text();
        msg::EncodeMessage(msg::Welcome{n, motd, input.U16()}, &plaintext);
        break;
      }
      case 1: {
        const std::string_view from = nick();
        const uint8_t flags = input.U8() % 3;
        const uint64_t time = input.U64();
        msg::EncodeMessage(msg::Chat{from, flags, time, text()}, &plaintext);
        break;
      }
      case 2:
        msg::EncodeMessage(msg::Notice{text()}, &plaintext);
        break;
      case 3: {
        msg::Users users;
        users.more = input.U8() % 3;
        for (int n = input.U8() % 5; n > 0; --n) {
          users.nicks.push_back(nick());
        }
        msg::EncodeMessage(users, &plaintext);
        break;
      }
      case 4:
        msg::EncodeMessage(msg::Pong{AsText(input.Bytes(input.U8() % 70))}, &plaintext);
        break;
      case 5: {
        const auto code = static_cast<proto::ErrorCode>(input.U8() % 11);
        const uint8_t fatal = input.U8() % 3;
        msg::EncodeMessage(msg::Error{code, fatal, text()}, &plaintext);
        break;
      }
      case 6:
        msg::EncodeMessage(msg::MemberJoined{nick()}, &plaintext);
        break;
      case 7:
        msg::EncodeMessage(msg::MemberLeft{nick()}, &plaintext);
        break;
      case 8: {
        const std::string_view from = nick();
        const uint64_t time = input.U64();
        msg::EncodeMessage(msg::ActionChat{from, time, text()}, &plaintext);
        break;
      }
      case 9: {  // WHOIS_REPLY, with a key of 0, 32 or another length, and any member byte
        msg::WhoisReply w;
        w.nick = nick();
        w.online_ms = input.U64();
        w.idle_ms = input.U64();
        w.away = text();
        w.key =
            AsText(input.Bytes(input.U8() % 3 == 0 ? proto::kEd25519PublicLen : input.U8() % 40));
        w.member = input.U8() % 3;
        msg::EncodeMessage(w, &plaintext);
        break;
      }
      case 10: {
        const std::string_view old_nick = nick();
        msg::EncodeMessage(msg::MemberRenamed{old_nick, nick()}, &plaintext);
        break;
      }
      case 11: {  // ROOM_LINE, live or history, of the client's room or another
        msg::RoomLine line;
        line.room = room();
        line.seq = input.U64();
        line.time_ms = input.U64();
        line.from = nick();
        line.action = input.U8() % 3;
        line.history = input.U8() % 3;
        line.text = text();
        msg::EncodeMessage(line, &plaintext);
        break;
      }
      default: {
        msg::HistoryEnd end;
        end.room = room();
        end.epoch = input.U64();
        end.last_seq = input.U64();
        end.missed = input.U64();
        msg::EncodeMessage(end, &plaintext);
        break;
      }
    }
    SendRecord(plaintext);
  }

  // CheckOutput reads what the client queued since the CLIENT_HELLO: only records, each a
  // valid client message.
  void CheckOutput() {
    const ByteView pending = conn_.output().pending();
    const std::vector<uint8_t> bytes(pending.begin(), pending.end());
    conn_.output().Consume(bytes.size());
    if (bytes.empty()) {
      return;
    }
    FUZZ_CHECK(server_.ready);  // nothing is sent before the handshake completes
    ByteView in = bytes;
    while (!in.empty()) {
      const FrameResult r = frames_.Take(FramePolicy{FrameExpect::kRecord, 0}, &in);
      FUZZ_CHECK(r != FrameResult::kError);
      if (r == FrameResult::kNeedMore) {
        break;
      }
      FUZZ_CHECK(server_.from_client.Open(frames_.frame(), &plaintext_));
      msg::ClientMessage m;
      FUZZ_CHECK(msg::DecodeClientMessage(plaintext_, &m) == msg::DecodeStatus::kOk);
      if (const auto* say = std::get_if<msg::Say>(&m)) {
        FUZZ_CHECK(IsValidText(say->text));
      } else if (const auto* whisper = std::get_if<msg::Whisper>(&m)) {
        FUZZ_CHECK(IsValidText(whisper->text));
      } else if (const auto* join = std::get_if<msg::Join>(&m)) {
        FUZZ_CHECK(join->nick == "alice");
      } else if (const auto* action = std::get_if<msg::Action>(&m)) {
        FUZZ_CHECK(IsValidText(action->text));
      } else if (const auto* away = std::get_if<msg::Away>(&m)) {
        FUZZ_CHECK(away->reason.empty() ||
                   (away->reason.size() <= proto::kMaxReasonLen && IsValidText(away->reason)));
      } else if (const auto* quit = std::get_if<msg::Quit>(&m)) {
        FUZZ_CHECK(quit->reason.size() <= proto::kMaxReasonLen && IsValidText(quit->reason));
      } else if (const auto* whois = std::get_if<msg::Whois>(&m)) {
        FUZZ_CHECK(IsValidNick(whois->nick));
      }
    }
    // A client writes whole records.
    FUZZ_CHECK(frames_.buffered() == 0);
  }

  std::vector<uint8_t> script_;
  ScriptedRandom rng_;
  ScriptedRandom server_rng_;
  uint64_t mono_ms_ = 1'000;
  ClientConnection conn_;
  ClientSession session_;
  std::vector<uint8_t> hello_;
  ServerSide server_;
  FrameAssembler frames_;
  std::vector<uint8_t> plaintext_;
};

}  // namespace
}  // namespace securechat::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace securechat::fuzz;
  Input input(data, size);
  const uint8_t flags = input.U8();
  Harness harness(input, flags);
  harness.Run(input);
  return 0;
}
