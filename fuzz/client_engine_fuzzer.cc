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
//
// The session has a file system in memory (FuzzFiles), so that offers can be accepted and
// files received and kept: a file is kept only under a safe name, and a file being received
// never holds more than it was offered.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_util.h"
#include "handshake_util.h"
#include "securechat/client/files.h"
#include "securechat/client/session.h"
#include "securechat/crypto/primitives.h"
#include "securechat/engine/client_connection.h"
#include "securechat/wire/frame.h"
#include "securechat/wire/message.h"
#include "securechat/wire/text.h"

namespace securechat::fuzz {
namespace {

constexpr int kMaxOperations = 200;
// The server messages SendTemplate makes: WELCOME, CHAT, NOTICE, USERS, PONG, ERROR,
// MEMBER_JOINED, MEMBER_LEFT, ACTION_CHAT, WHOIS_REPLY, MEMBER_RENAMED, ROOM_LINE,
// HISTORY_END, FILE_INCOMING, FILE_DATA, FILE_END, FILE_OFFERED, FILE_ACCEPTED.
constexpr uint8_t kTemplates = 18;

// The bytes of every file in this harness, offered or sent: byte i of a file is Pattern(i),
// so that FILE_DATA at any offset can carry what an offer's hash promised.
constexpr size_t kMaxFile = 64 * 1024;
uint8_t Pattern(size_t i) { return static_cast<uint8_t>(i * 131 + i / 7); }

// Typed lines that an empty input would rarely find: the file commands.
constexpr std::string_view kCommands[] = {"/accept 1", "/accept 2 /other", "/decline 1",
                                          "/cancel 1", "/cancel 2",        "/send bob /f",
                                          "/transfers"};

// FuzzFiles is a file system in memory: /f (kMaxFile bytes of Pattern) to send, and files
// received into any folder, with room for kMaxFile bytes. A file being received never holds
// more than that, and one is kept only under a name that is already safe.
class FuzzFiles final : public FileSystem {
 public:
  class Temp final : public TempFile {
   public:
    explicit Temp(FuzzFiles& fs) : fs_(fs) { ++fs_.open_temps; }
    ~Temp() override { --fs_.open_temps; }
    absl::Status Write(absl::Span<const uint8_t> data) override {
      size_ += data.size();
      FUZZ_CHECK(size_ <= kMaxFile);  // the client never writes past the offered size
      return absl::OkStatus();
    }
    absl::Status Sync() override { return absl::OkStatus(); }
    absl::StatusOr<std::string> Publish(std::string_view name) override {
      FUZZ_CHECK(IsValidFileName(name) && SafeFileName(name) == name);
      FUZZ_CHECK(!published_);
      published_ = true;
      return std::string(name);
    }

   private:
    FuzzFiles& fs_;
    size_t size_ = 0;
    bool published_ = false;
  };

  class Reader final : public FileReader {
   public:
    absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<uint8_t> buf) override {
      const size_t n = offset >= kMaxFile ? 0 : std::min<size_t>(buf.size(), kMaxFile - offset);
      for (size_t i = 0; i < n; ++i) {
        buf[i] = Pattern(offset + i);
      }
      return n;
    }
  };

  absl::StatusOr<std::unique_ptr<FileReader>> OpenForReading(const std::string& path,
                                                             uint64_t* size) override {
    if (path != "/f") {
      return absl::NotFoundError("no such file");
    }
    *size = kMaxFile;
    return std::make_unique<Reader>();
  }
  // Room for one file of kMaxFile: a larger offer is refused at /accept, so the check in
  // Temp::Write holds whatever the offers say.
  absl::StatusOr<uint64_t> FreeBytes(const std::string&) override { return kMaxFile; }
  absl::StatusOr<std::unique_ptr<TempFile>> CreateTemp(const std::string&) override {
    return std::make_unique<Temp>(*this);
  }

  int open_temps = 0;
};

// PatternHash is the SHA-256 of the first `size` bytes of Pattern.
std::string PatternHash(size_t size) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) {
    bytes[i] = Pattern(i);
  }
  Sha256 h;
  Sha256Digest d{};
  FUZZ_CHECK(h.Update(bytes) && h.Final(&d));
  return std::string(d.begin(), d.end());
}

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
    session_.set_files(&files_, "/dl");
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
        case 3: {  // a typed line; a one-byte line below 7 is a file command
          const ByteView line = input.Chunk();
          session_.InputLine(line.size() == 1 && line[0] < std::size(kCommands) ? kCommands[line[0]]
                                                                                : AsText(line));
          break;
        }
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
      FUZZ_CHECK(files_.open_temps == 0);  // no partial file outlives the session
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
      case 13: {  // FILE_INCOMING, with a hash of the pattern that size or of another
        static constexpr std::string_view kNames[] = {"a.txt", "../../etc/passwd", "\x1b]0;x\x07",
                                                      ".bashrc", ".."};
        const uint32_t id = input.U8() % 4;
        const std::string_view from = nick();
        const uint8_t n = input.U8();
        const std::string_view name = n < std::size(kNames) ? kNames[n] : AsText(input.Chunk());
        const uint64_t size = input.U8() % 2 == 0 ? input.U16() % (kMaxFile + 1) : input.U64();
        hash_ = input.U8() % 2 == 0 ? PatternHash(std::min<uint64_t>(size, kMaxFile))
                                    : std::string(AsText(input.Bytes(32)));
        msg::EncodeMessage(msg::FileIncoming{id, from, name, size, hash_}, &plaintext);
        break;
      }
      case 14: {  // FILE_DATA of the pattern, where the last one of that id ended or anywhere
        const uint32_t id = input.U8() % 4;
        uint64_t& next = next_offset_[id];
        const uint64_t offset = input.U8() % 4 != 0 ? next : input.U64() % (kMaxFile + 2);
        const size_t len = 1 + input.U16() % proto::kMaxChunkLen;
        std::string data(len, '\0');
        for (size_t i = 0; i < len; ++i) {
          data[i] = static_cast<char>(Pattern(offset + i));
        }
        next = offset + len;
        msg::EncodeMessage(msg::FileData{id, offset, data}, &plaintext);
        break;
      }
      case 15: {
        const uint32_t id = input.U8() % 4;
        const uint32_t tag = input.U8() % 4;
        const uint8_t why = input.U8() % 11;
        msg::EncodeMessage(msg::FileEnd{id, tag, why, text()}, &plaintext);
        break;
      }
      case 16: {
        const uint32_t tag = input.U8() % 4;
        msg::EncodeMessage(msg::FileOffered{tag, input.U8() % 4u}, &plaintext);
        break;
      }
      case 17:
        msg::EncodeMessage(msg::FileAccepted{input.U8() % 4u}, &plaintext);
        break;
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
      } else if (const auto* offer = std::get_if<msg::FileOffer>(&m)) {
        FUZZ_CHECK(IsValidFileName(offer->name) && SafeFileName(offer->name) == offer->name);
        static const std::string kWholeFileHash = PatternHash(kMaxFile);  // hashed once
        FUZZ_CHECK(offer->size == kMaxFile && offer->hash == kWholeFileHash);
      } else if (const auto* chunk = std::get_if<msg::FileChunk>(&m)) {
        FUZZ_CHECK(!chunk->data.empty() && chunk->data.size() <= proto::kMaxChunkLen);
        FUZZ_CHECK(chunk->offset + chunk->data.size() <= kMaxFile);
        for (size_t i = 0; i < chunk->data.size(); ++i) {
          FUZZ_CHECK(static_cast<uint8_t>(chunk->data[i]) == Pattern(chunk->offset + i));
        }
      } else if (const auto* cancel = std::get_if<msg::FileCancel>(&m)) {
        FUZZ_CHECK(cancel->reason.empty() || IsValidText(cancel->reason));
      }
    }
    // A client writes whole records.
    FUZZ_CHECK(frames_.buffered() == 0);
  }

  FuzzFiles files_;                           // outlives the session, which uses it
  std::string hash_;                          // the last FILE_INCOMING's, which its message views
  std::map<uint32_t, uint64_t> next_offset_;  // FILE_DATA's next offset per id (ids 0 to 3)
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
