// Fuzzes the whole server without sockets: a ServerCore with the fixed test key, fed by up to
// four connections whose bytes the input decides, with the clock, the console and the
// network's reading also driven by the input.
//
// A connection is either raw (the input's bytes go in as they are) or has a real client in
// this harness (ClientHandshake, then RecordSealer/RecordOpener with the session keys), which
// lets the input reach the server's message handling: the input gives the plaintexts, or picks
// messages from templates. For every connection whose bytes all came from its real client, all
// the server's output must be valid frames, every record must open, and every message in it
// must decode as a valid server message. No connection's queue may grow past its limit, and
// every log and console line must be safe on a terminal.
//
// Input: one u8 of options, then operations until the input ends, each an opcode u8 and its
// arguments (see Run below).
#include <algorithm>
#include <iterator>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "handshake_util.h"
#include "securechat/base/cat.h"
#include "securechat/crypto/auth.h"
#include "securechat/crypto/ed25519.h"
#include "securechat/engine/server_core.h"
#include "securechat/wire/frame.h"
#include "securechat/wire/message.h"

namespace securechat::fuzz {
namespace {

constexpr size_t kMaxConnections = 4;
constexpr int kMaxOperations = 200;
constexpr size_t kAll = std::numeric_limits<size_t>::max();

// The real client of one connection, as far as the harness needs one.
struct Peer {
  ConnId id = 0;
  std::unique_ptr<ScriptedRandom> rng;
  ClientHandshake handshake;
  bool raw = false;  // the input sent bytes of its own: the output is not checked
  bool hello_sent = false;
  bool established = false;
  RecordSealer sealer;
  RecordOpener opener;
  FrameAssembler frames;
  std::vector<uint8_t> plaintext;
  bool saw_alert = false;
  Sha256Digest th{};  // once established: what AUTH signs
};

// UserKey is one of two fixed user keys: 0 is listed as alice when the options list members,
// 1 is never listed.
const Ed25519Key& UserKeyNumber(uint8_t n) {
  static const Ed25519Key* const keys[2] = {
      [] {
        Ed25519Seed seed;
        seed.Expose()[0] = 1;
        return new Ed25519Key(Ed25519Key::FromSeed(seed).value());
      }(),
      [] {
        Ed25519Seed seed;
        seed.Expose()[0] = 2;
        return new Ed25519Key(Ed25519Key::FromSeed(seed).value());
      }(),
  };
  return *keys[n % 2];
}

class Harness {
 public:
  explicit Harness(uint8_t options_byte)
      : options_(Options(options_byte)), core_(TestKey(), rng_, options_, Sinks()) {}

  void Run(Input& input) {
    for (int op = 0; op < kMaxOperations && !input.empty(); ++op) {
      switch (input.U8() % 12) {
        case 0:  // accept a connection from one of three addresses
          Accept(input.U8());
          break;
        case 1:  // raw bytes
          if (Peer* p = Pick(input)) {
            p->raw = true;
            core_.Receive(p->id, input.Chunk());
          }
          break;
        case 2:  // a real CLIENT_HELLO
          if (Peer* p = Pick(input)) {
            SendHello(*p, input);
          }
          break;
        case 3:  // a record with the input's plaintext
          if (Peer* p = Pick(input)) {
            SendRecord(*p, input.Chunk());
          }
          break;
        case 4:  // a record with a well-formed message built from a template
          if (Peer* p = Pick(input)) {
            SendTemplate(*p, input);
          }
          break;
        case 5:  // the network writes (part of) what the server queued
          if (Peer* p = Pick(input)) {
            Drain(*p, input.U16());
          }
          break;
        case 6:
          if (Peer* p = Pick(input)) {
            core_.PeerClosed(p->id, "peer closed");
          }
          break;
        case 7:  // time passes, and the loop asks when to come back
          mono_ms_ += input.U16();
          now_ms_ += 1000;
          core_.Tick();
          if (const auto wait = core_.MsUntilTick()) {
            FUZZ_CHECK(*wait <= std::max(options_.handshake_timeout_ms, options_.idle_timeout_ms));
          }
          break;
        case 8:  // a long time passes
          mono_ms_ += uint64_t{input.U8()} * 10'000;
          core_.Tick();
          break;
        case 9: {
          // The console: any line, or a kick, ban or mute of a nick the templates join with,
          // or of an address the peers come from, and their undoing.
          static constexpr std::string_view kKicks[] = {
              "/kick alice",        "/kick BOB spam", "/kick carol \x1b[2J", "/kick",
              "/ban alice 1m spam", "/ban BOB",       "/unban alice",        "/unban bob",
              "/mute carol 10s",    "/unmute carol",  "/ban 10.0.0.1 1h",    "/unban 10.0.0.1",
              "/mute 10.0.0.2",     "/bans"};
          const uint8_t how = input.U8();
          const ServerCore::ConsoleAnswer answer =
              how < 64 ? core_.ConsoleLine(kKicks[how % std::size(kKicks)])
                       : core_.ConsoleLine(AsText(input.Chunk()));
          for (const std::string& note : answer.notes) {
            FUZZ_CHECK(DisplayLineIsSafe(note));
          }
          break;
        }
        case 10:  // the network closes what the server is done with
          Reap();
          break;
        default:
          if (input.U8() == 0xFF) {
            core_.Shutdown();
          }
          break;
      }
      CheckInvariants();
    }
    for (auto& p : peers_) {
      Drain(*p, kAll);
    }
    core_.Shutdown();
    for (auto& p : peers_) {
      Drain(*p, kAll);
    }
  }

 private:
  static ServerOptions Options(uint8_t b) {
    ServerOptions o;
    o.max_clients = 3;
    o.max_per_address = 2;
    o.max_queue_bytes = (b & 1) ? 2048 : 1 << 20;
    o.handshakes_per_second = (b & 2) ? 1 : 0;
    o.handshakes_per_second_per_address = (b & 4) ? 1 : 0;
    o.rate = (b & 8) ? 0 : 5;
    o.motd = (b & 16) ? "" : "welcome";
    if (b & 32) {  // a members file: alice holds key 0
      o.members =
          Members::Parse(Cat("alice ", PublicKeyLine(UserKeyNumber(0).public_key(), ""), "\n"))
              .value();
      o.access = (b & 64) ? Access::kMembers : Access::kOpen;
    }
    if (b & 128) {  // a history that forgets soon, so that `missed` counts (PROTOCOL.md 6.11)
      o.history = HistoryLimits{3, 64};
    }
    // Small room limits, so that each is reached (PROTOCOL.md 6.13).
    o.rooms = RoomLimits{
        .max_rooms = 2, .max_rooms_per_client = 2, .max_room_members = 2, .max_topic_bytes = 16};
    // Small transfer limits too, and a window that a few chunks fill (at most half the queue,
    // as chat-server requires).
    o.transfers = TransferLimits{.max_file_bytes = 48,
                                 .max_transfers = 3,
                                 .max_transfers_per_client = 2,
                                 .max_offers_per_minute = 4,
                                 .offer_timeout_ms = 5'000,
                                 .file_window = 64};
    return o;
  }

  ServerSinks Sinks() {
    // Log lines and the room go to the operator's terminal.
    return ServerSinks{[](std::string_view line) { FUZZ_CHECK(DisplayLineIsSafe(line)); },
                       [](std::string_view nick, std::string_view text) {
                         FUZZ_CHECK(DisplayLineIsSafe(nick));
                         FUZZ_CHECK(DisplayLineIsSafe(text));
                       },
                       [this] { return now_ms_; }, [this] { return mono_ms_; }};
  }

  void Accept(uint8_t which) {
    if (peers_.size() >= kMaxConnections) {
      return;
    }
    static constexpr std::string_view kAddresses[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
    auto p = std::make_unique<Peer>();
    p->id = core_.Accept(kAddresses[which % 3]);
    peers_.push_back(std::move(p));
  }

  Peer* Pick(Input& input) {
    if (peers_.empty()) {
      return nullptr;
    }
    return peers_[input.U8() % peers_.size()].get();
  }

  void SendHello(Peer& p, Input& input) {
    if (p.hello_sent) {
      return;
    }
    p.hello_sent = true;
    p.rng = std::make_unique<ScriptedRandom>(ClientScript(input));
    std::vector<uint8_t> hello;
    FUZZ_CHECK(p.handshake.Start(TestPublicKey(), *p.rng, &hello));
    core_.Receive(p.id, hello);
    Drain(p, kAll);  // the SERVER_HELLO, unless the handshake budget holds it back
  }

  void SendRecord(Peer& p, ByteView plaintext) {
    if (!p.established && p.hello_sent) {
      Drain(p, kAll);
    }
    if (!p.established) {
      return;
    }
    std::vector<uint8_t> frame;
    if (p.sealer.Seal(plaintext, *p.rng, &frame)) {
      core_.Receive(p.id, frame);
    }
  }

  void SendTemplate(Peer& p, Input& input) {
    static constexpr std::string_view kNicks[] = {"alice",  "bob",      "carol", "server",
                                                  "SeRvEr", "bad nick", "",      "x"};
    static constexpr std::string_view kTexts[] = {"hello",
                                                  "",
                                                  "\x1b[2J",
                                                  "a\xe2\x80\xae"
                                                  "b",
                                                  "caf\xc3\xa9",
                                                  "\xff"};
    const uint8_t kind = input.U8();
    auto nick = [&] { return kNicks[input.U8() % std::size(kNicks)]; };
    auto text = [&] {
      const uint8_t t = input.U8();
      return t < std::size(kTexts) ? kTexts[t] : AsText(input.Chunk());
    };
    std::vector<uint8_t> plaintext;
    switch (kind % 13) {
      case 0:
        msg::EncodeMessage(msg::Join{nick()}, &plaintext);
        break;
      case 1:
        msg::EncodeMessage(msg::Say{text()}, &plaintext);
        break;
      case 2: {
        const std::string_view to = nick();
        msg::EncodeMessage(msg::Whisper{to, text()}, &plaintext);
        break;
      }
      case 3:
        msg::EncodeMessage(msg::Who{}, &plaintext);
        break;
      case 4:
        msg::EncodeMessage(msg::Nick{nick()}, &plaintext);
        break;
      case 5:
        msg::EncodeMessage(msg::Ping{AsText(input.Bytes(input.U8() % 70))}, &plaintext);
        break;
      case 6: {  // AUTH by one of the two keys, over this connection's th or another one
        const uint8_t how = input.U8();
        Sha256Digest th = p.th;
        th[0] ^= static_cast<uint8_t>(how & 2);
        const Ed25519Key& key = UserKeyNumber(how);
        Ed25519Signature sig{};
        FUZZ_CHECK(AuthSign(key, th, &sig));
        msg::EncodeMessage(msg::Auth{AsText(key.public_key()), AsText(sig)}, &plaintext);
        break;
      }
      case 7:
        msg::EncodeMessage(msg::Action{text()}, &plaintext);
        break;
      case 8:  // AWAY: a reason, or empty (back)
        msg::EncodeMessage(msg::Away{input.U8() % 2 == 0 ? std::string_view() : text()},
                           &plaintext);
        break;
      case 9:
        msg::EncodeMessage(msg::Whois{nick()}, &plaintext);
        break;
      case 10:
        msg::EncodeMessage(msg::Quit{text()}, &plaintext);
        break;
      case 11: {  // HISTORY: first time, this server's epoch (1) or another, any `after`
        const uint8_t how = input.U8();
        const uint64_t epoch = how % 3 == 0 ? 0 : how % 3 == 1 ? 1 : input.U64();
        const uint64_t after = (how & 4) ? input.U64() : input.U8();
        msg::EncodeMessage(msg::History{epoch, after}, &plaintext);
        break;
      }
      default:  // 12: BYE, or (kind 0x80 to 0xBF) a room message, or (0xC0 and up) a file one
        if (kind < 0x80) {
          msg::EncodeMessage(msg::Bye{}, &plaintext);
        } else if (kind < 0xC0) {
          RoomTemplate(input, text, &plaintext);
        } else {
          FileTemplate(input, nick, text, &plaintext);
        }
        break;
    }
    SendRecord(p, plaintext);
  }

  // RoomTemplate encodes one of the room messages (PROTOCOL.md 6.13) into *plaintext, naming
  // a room of a few, in several spellings, valid or not.
  template <typename Text>
  static void RoomTemplate(Input& input, Text text, std::vector<uint8_t>* plaintext) {
    static constexpr std::string_view kRooms[] = {"#dev", "#DEV", "#ops", "#lobby",
                                                  "#x",   "dev",  "#",    "#a b"};
    auto room = [&] { return kRooms[input.U8() % std::size(kRooms)]; };
    switch (input.U8() % 6) {
      case 0: {
        const std::string_view name = room();
        const uint8_t how = input.U8();
        msg::EncodeMessage(msg::RoomJoin{name, how % 2 == 0 ? 0 : input.U64(), input.U8()},
                           plaintext);
        break;
      }
      case 1:
        msg::EncodeMessage(msg::RoomPart{room()}, plaintext);
        break;
      case 2:
        msg::EncodeMessage(msg::RoomList{}, plaintext);
        break;
      case 3: {
        const std::string_view name = room();
        msg::EncodeMessage(msg::RoomTopic{name, text()}, plaintext);
        break;
      }
      case 4: {
        const std::string_view name = room();
        const uint8_t action = input.U8() % 2;
        msg::EncodeMessage(msg::RoomSay{name, action, text()}, plaintext);
        break;
      }
      default:
        msg::EncodeMessage(msg::RoomWho{room()}, plaintext);
        break;
    }
  }

  // FileTemplate encodes one of the file messages (PROTOCOL.md 6.14) into *plaintext: offers
  // to the templates' nicks under names valid or not, and answers and chunks naming the first
  // few transfer ids (the server numbers them from 1), at offsets near the stream's.
  template <typename Nick, typename Text>
  static void FileTemplate(Input& input, Nick nick, Text text, std::vector<uint8_t>* plaintext) {
    static constexpr std::string_view kNames[] = {"report.pdf", "..",           "../../etc/passwd",
                                                  "a\\b",       "\x1b]0;x\x07", ".hidden"};
    static const std::string kHash(proto::kFileHashLen, 'h');
    const uint32_t id = input.U8() % 6;
    switch (input.U8() % 5) {
      case 0: {
        const uint32_t tag = input.U8();
        const std::string_view to = nick();
        const std::string_view name = kNames[input.U8() % std::size(kNames)];
        const uint8_t how = input.U8();
        const uint64_t size = how < 0xF0 ? how % 64 : input.U64();
        msg::EncodeMessage(msg::FileOffer{tag, to, name, size, kHash}, plaintext);
        break;
      }
      case 1:
        msg::EncodeMessage(msg::FileAccept{id}, plaintext);
        break;
      case 2:  // a reason, or none
        msg::EncodeMessage(msg::FileCancel{id, input.U8() % 2 == 0 ? std::string_view() : text()},
                           plaintext);
        break;
      case 3: {
        const uint64_t offset = input.U8() % 64;
        std::string_view data = AsText(input.Bytes(1 + input.U8() % 24));
        if (data.empty()) {
          data = "x";  // a chunk holds at least one byte (layout)
        }
        msg::EncodeMessage(msg::FileChunk{id, offset, data}, plaintext);
        break;
      }
      default:
        msg::EncodeMessage(msg::FileDone{id}, plaintext);
        break;
    }
  }

  // Drain takes up to n pending bytes of p's connection and, unless the input sent raw bytes on
  // it, checks them.
  void Drain(Peer& p, size_t n) {
    const ByteView pending = core_.Pending(p.id);
    const size_t take = std::min(n, pending.size());
    if (take == 0) {
      return;
    }
    const std::vector<uint8_t> bytes(pending.begin(), pending.begin() + take);
    core_.Consumed(p.id, take);
    // Every byte the server sends is checked, from the first: a refusal's ALERT may come
    // before the client's hello.
    if (!p.raw) {
      Check(p, bytes);
    }
  }

  // Check reads the server's bytes as the client would, and requires them to be flawless.
  void Check(Peer& p, ByteView bytes) {
    ByteView in = bytes;
    while (!in.empty()) {
      FUZZ_CHECK(!p.saw_alert);  // nothing follows an ALERT
      const FramePolicy policy = p.established ? FramePolicy{FrameExpect::kRecord, 0}
                                               : FramePolicy{FrameExpect::kServerHello, 0};
      const FrameResult r = p.frames.Take(policy, &in);
      FUZZ_CHECK(r != FrameResult::kError);
      if (r == FrameResult::kNeedMore) {
        return;
      }
      const ByteView frame = p.frames.frame();
      if (!p.established) {
        if (p.frames.header().type == proto::FrameType::kAlert) {
          AlertBody alert;
          FUZZ_CHECK(DecodeAlert(frame.subspan(proto::kFrameHeaderLen), &alert));
          p.saw_alert = true;
          continue;
        }
        SessionKeys keys;
        FUZZ_CHECK(p.handshake.Finish(frame, &keys) == ClientHandshake::Result::kOk);
        FUZZ_CHECK(p.sealer.Init(keys.c2s_enc, keys.c2s_mac));
        FUZZ_CHECK(p.opener.Init(keys.s2c_enc, keys.s2c_mac));
        p.th = keys.th;
        p.established = true;
        continue;
      }
      FUZZ_CHECK(p.opener.Open(frame, &p.plaintext));
      msg::ServerMessage m;
      FUZZ_CHECK(msg::DecodeServerMessage(p.plaintext, &m) == msg::DecodeStatus::kOk);
    }
  }

  void Reap() {
    for (auto& p : peers_) {
      if (p->id != 0 && core_.ShouldClose(p->id)) {
        core_.Forget(p->id);
        p->id = 0;  // ids start at 1: 0 is never a connection
      }
    }
  }

  void CheckInvariants() {
    FUZZ_CHECK(core_.joined_count() <= core_.connection_count());
    FUZZ_CHECK(core_.bans().entries().size() <= core_.bans().max_entries());
    FUZZ_CHECK(core_.connection_count() <= peers_.size());
    FUZZ_CHECK(core_.room_count() <= options_.rooms.max_rooms);
    FUZZ_CHECK(core_.transfer_count() <= options_.transfers.max_transfers);
    // A connection is held unread only for a receiver whose queue holds a window.
    size_t fullest = 0;
    for (auto& p : peers_) {
      fullest = std::max(fullest, core_.Pending(p->id).size());
    }
    for (auto& p : peers_) {
      FUZZ_CHECK(core_.WantsRead(p->id) || fullest >= options_.transfers.file_window);
    }
    for (auto& p : peers_) {
      // A queue may pass its limit by the one record that makes the server drop it.
      FUZZ_CHECK(core_.Pending(p->id).size() <= options_.max_queue_bytes + proto::kMaxFrameLen);
    }
  }

  ScriptedRandom rng_;
  ServerOptions options_;
  uint64_t now_ms_ = 1'700'000'000'000;
  uint64_t mono_ms_ = 1'000;
  ServerCore core_;
  std::vector<std::unique_ptr<Peer>> peers_;
};

}  // namespace
}  // namespace securechat::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace securechat::fuzz;
  Input input(data, size);
  Harness harness(input.U8());
  harness.Run(input);
  return 0;
}
