// The client's side of file transfer (PROTOCOL.md 6.14) against a ScriptedServer, with a file
// system in memory: offers shown and bounded, files received whole (0 bytes, 1 byte, 16 KiB + 1)
// and kept only when size and SHA-256 match, under a safe name that never replaces a file;
// every failure removes the partial file and tells the sender why; files sent in chunks only
// while the connection's unsent output is small. Also SafeFileName and FormatBytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "securechat/base/cat.h"
#include "securechat/client/display.h"
#include "securechat/client/files.h"
#include "securechat/client/session.h"
#include "securechat/client/transfers.h"
#include "securechat/crypto/primitives.h"
#include "securechat/net/local_files.h"
#include "securechat/wire/text.h"
#include "support/in_memory.h"
#include "support/scripted_server.h"

namespace securechat {
namespace {

using testing::ScriptedServer;
using V = std::vector<std::string>;

std::string Hash(std::string_view content) {
  Sha256 h;
  Sha256Digest d{};
  EXPECT_TRUE(h.Update(
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(content.data()), content.size())));
  EXPECT_TRUE(h.Final(&d));
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

std::string Shown(std::string_view hash) {
  Sha256Digest d{};
  std::copy(hash.begin(), hash.end(), d.begin());
  return FingerprintText(d);
}

std::string Content(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>(i * 131 + i / 7);
  }
  return s;
}

// FakeFiles keeps files in memory: `readable` to send, `kept` (folder/name) received. A write
// past `disk_left` bytes fails as a full disk does.
class FakeFiles final : public FileSystem {
 public:
  std::map<std::string, std::string> readable;
  std::map<std::string, std::string> kept;
  std::set<std::string> temps;  // temporary files that exist now
  uint64_t free_bytes = uint64_t{1} << 40;
  uint64_t disk_left = uint64_t{1} << 40;
  size_t largest_read = 0;

  class Reader final : public FileReader {
   public:
    Reader(FakeFiles& fs, std::string path) : fs_(fs), path_(std::move(path)) {}
    absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<uint8_t> buf) override {
      fs_.largest_read = std::max(fs_.largest_read, buf.size());
      const std::string& s = fs_.readable.at(path_);
      if (offset >= s.size()) {
        return 0;
      }
      const size_t n = std::min<size_t>(buf.size(), s.size() - offset);
      std::copy_n(s.data() + offset, n, buf.data());
      return n;
    }

   private:
    FakeFiles& fs_;
    std::string path_;
  };

  class Temp final : public TempFile {
   public:
    Temp(FakeFiles& fs, std::string dir, std::string name)
        : fs_(fs), dir_(std::move(dir)), name_(std::move(name)) {
      fs_.temps.insert(name_);
    }
    ~Temp() override { fs_.temps.erase(name_); }
    absl::Status Write(absl::Span<const uint8_t> data) override {
      if (data.size() > fs_.disk_left) {
        return absl::ResourceExhaustedError("cannot write to /dl: No space left on device");
      }
      fs_.disk_left -= data.size();
      content_.append(reinterpret_cast<const char*>(data.data()), data.size());
      return absl::OkStatus();
    }
    absl::Status Sync() override { return absl::OkStatus(); }
    absl::StatusOr<std::string> Publish(std::string_view name) override {
      for (int n = 0;; ++n) {
        const std::string path = Cat(dir_, "/", net::NumberedName(std::string(name), n));
        if (fs_.kept.emplace(path, content_).second) {
          return path;
        }
      }
    }

   private:
    FakeFiles& fs_;
    std::string dir_;
    std::string name_;
    std::string content_;
  };

  absl::StatusOr<std::unique_ptr<FileReader>> OpenForReading(const std::string& path,
                                                             uint64_t* size) override {
    const auto it = readable.find(path);
    if (it == readable.end()) {
      return absl::NotFoundError(Cat("cannot open ", path, ": No such file or directory"));
    }
    *size = it->second.size();
    return std::make_unique<Reader>(*this, path);
  }
  absl::StatusOr<uint64_t> FreeBytes(const std::string&) override { return free_bytes; }
  absl::StatusOr<std::unique_ptr<TempFile>> CreateTemp(const std::string& dir) override {
    return std::make_unique<Temp>(*this, dir, Cat(dir, "/.part", ++temp_count_));
  }

 private:
  int temp_count_ = 0;
};

// A ClientSession as alice with the fake files (downloads into /dl) and a clock the test moves.
class FilesTest : public ::testing::Test {
 protected:
  FilesTest()
      : key_(testing::TestKey2048().PublicKey()),
        conn_(key_, rng_),
        session_(conn_, "alice", ClientSession::Display([this](const DisplayLine& l) {
                   shown_.push_back(PlainLine(l));
                 }),
                 [this] { return now_; }) {
    session_.set_files(&files_, "/dl");
  }

  void Join() {
    ASSERT_TRUE(conn_.Start());
    Pump();
    ASSERT_TRUE(session_.joined());
    shown_.clear();
  }
  void Pump() { server_.Exchange(conn_, session_); }
  void Send(const msg::ServerMessage& m) {
    ASSERT_TRUE(server_.Send(m));
    Pump();
  }
  void Type(std::string_view line) {
    now_ += 1000;  // the pace never holds a typed line back
    session_.InputLine(line);
    Pump();
  }
  V Take() {
    V out = std::move(shown_);
    shown_.clear();
    return out;
  }
  void Offer(uint32_t id, std::string_view name, std::string_view content,
             std::string_view from = "bob") {
    hashes_.push_back(Hash(content));
    Send(msg::FileIncoming{id, from, name, content.size(), hashes_.back()});
  }
  // Stream sends `content` from `from` on as FILE_DATA of `id`, `chunk` bytes at a time, `ms`
  // apart.
  void Stream(uint32_t id, std::string_view content, size_t chunk = proto::kMaxChunkLen,
              uint64_t ms = 0, size_t from = 0) {
    for (size_t at = from; at < content.size(); at += chunk) {
      now_ += ms;
      Send(msg::FileData{id, at, content.substr(at, chunk)});
    }
  }
  std::vector<msg::FileCancel> Cancels() const { return server_.Got<msg::FileCancel>(); }
  long Byes() const {
    return std::count(server_.received().begin(), server_.received().end(), proto::Kind::kBye);
  }

  ServerPublicKey key_;
  OsRandom rng_;
  ClientConnection conn_;
  ScriptedServer server_;
  FakeFiles files_;
  uint64_t now_ = 1'000'000;
  V shown_;
  std::deque<std::string> hashes_;  // the offers' hashes, which the messages view
  ClientSession session_;
};

TEST_F(FilesTest, ReceivesWholeFilesOfEverySize) {
  Join();
  uint32_t id = 40;
  for (size_t size : {size_t{0}, size_t{1}, size_t{16 * 1024 + 1}}) {
    SCOPED_TRACE(size);
    const std::string content = Content(size);
    const std::string name = Cat("f", size, ".bin");
    Offer(++id, name, content);
    const uint64_t n = id - 40;
    EXPECT_EQ(Take(), (V{Cat("-!- bob offers ", name, " (", FormatBytes(size), ", ",
                             Shown(Hash(content)), "): /accept ", n, " or /decline ", n)}));
    Type(Cat("/accept ", n));
    Stream(id, content);
    EXPECT_EQ(files_.kept.at(Cat("/dl/", name)), content);
    EXPECT_TRUE(files_.temps.empty());
    const V lines = Take();
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.front(), Cat("-!- file ", n, ": receiving ", name, " (", FormatBytes(size),
                                 ") from bob into /dl"));
    EXPECT_TRUE(lines.back().starts_with(Cat("-!- file ", n, ": ", name, " from bob saved as /dl/",
                                             name, " (", FormatBytes(size), ", SHA-256 checked")))
        << lines.back();
    const auto accepts = server_.Got<msg::FileAccept>();
    const auto dones = server_.Got<msg::FileDone>();
    ASSERT_EQ(dones.size(), n);
    EXPECT_EQ(accepts.back().id, id);
    EXPECT_EQ(dones.back().id, id);
    // The server's FILE_END done changes nothing and says nothing more.
    Send(msg::FileEnd{id, 0, 1, ""});
    EXPECT_EQ(Take(), V{});
  }
  EXPECT_TRUE(Cancels().empty());
}

TEST_F(FilesTest, AWrongHashKeepsNothing) {
  Join();
  const std::string content = Content(5000);
  hashes_.push_back(Hash("something else"));
  Send(msg::FileIncoming{9, "bob", "a.txt", content.size(), hashes_.back()});
  Type("/accept 1");
  Take();
  Stream(9, content);
  EXPECT_TRUE(files_.kept.empty());
  EXPECT_TRUE(files_.temps.empty()) << "the partial file is removed";
  ASSERT_EQ(Cancels().size(), 1u);
  EXPECT_EQ(Cancels()[0].id, 9u);
  EXPECT_EQ(Cancels()[0].reason, "the file does not match its SHA-256");
  EXPECT_TRUE(server_.Got<msg::FileDone>().empty());
  const V lines = Take();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(
      lines[0].starts_with("!! file 1: a.txt from bob not kept: what came does not match "
                           "the offered SHA-256"))
      << lines[0];
}

TEST_F(FilesTest, DataOutOfOrderPastTheSizeOrUnaskedIsRefused) {
  Join();
  const std::string content = Content(100);
  Offer(1, "a", content);
  Offer(2, "b", content);
  Offer(3, "c", content);
  Type("/accept 1");
  Type("/accept 2");
  Take();
  Send(msg::FileData{1, 10, "xyz"});  // expected offset 0
  Send(msg::FileData{2, 0, content.substr(0, 60)});
  Send(msg::FileData{2, 60, std::string(41, 'x')});  // one byte past the 100 offered
  Send(msg::FileData{3, 0, "early"});                // never accepted
  ASSERT_EQ(Cancels().size(), 3u);
  EXPECT_EQ(Cancels()[0].id, 1u);
  EXPECT_EQ(Cancels()[0].reason, "data out of order");
  EXPECT_EQ(Cancels()[1].id, 2u);
  EXPECT_EQ(Cancels()[1].reason, "more data than offered");
  EXPECT_EQ(Cancels()[2].id, 3u);
  EXPECT_EQ(Cancels()[2].reason, "data before the offer was accepted");
  EXPECT_EQ(Take(), (V{"!! file 1: a from bob not kept: data came out of order (at 10, expected 0)",
                       "-!- file 2: b 60% (60 B of 100 B, 60.0 kB/s, 1 s left)",
                       "!! file 2: b from bob not kept: more data came than the 100 B offered",
                       "!! file 3: c from bob not kept: data came before you accepted it"}));
  EXPECT_TRUE(files_.temps.empty());
  EXPECT_TRUE(files_.kept.empty());
  // What the server still relays of a transfer that ended here is dropped without a word.
  Send(msg::FileData{1, 0, "late"});
  EXPECT_EQ(Take(), V{});
  EXPECT_EQ(Cancels().size(), 3u);
}

TEST_F(FilesTest, AFullDiskIsToldAndCleanedUp) {
  Join();
  const std::string content = Content(40'000);
  Offer(5, "big.iso", content);
  Take();
  files_.free_bytes = 39'999;
  Type("/accept 1");
  EXPECT_EQ(Take(), (V{"!! not accepted: big.iso needs 40.0 kB and /dl has 39.9 kB free; make "
                       "room, or /accept 1 FOLDER"}));
  EXPECT_TRUE(server_.Got<msg::FileAccept>().empty()) << "the offer still waits";
  files_.free_bytes = 1'000'000;
  files_.disk_left = 20'000;  // and then the disk fills up anyway
  Type("/accept 1 /elsewhere");
  EXPECT_EQ(Take(), (V{"-!- file 1: receiving big.iso (40.0 kB) from bob into /elsewhere"}));
  Stream(5, content);
  ASSERT_EQ(Cancels().size(), 1u);
  EXPECT_EQ(Cancels()[0].reason, "the receiver's disk is full");
  EXPECT_EQ(Take(), (V{"-!- file 1: big.iso 40% (16.3 kB of 40.0 kB, 16.3 MB/s, 1 s left)",
                       "!! file 1: big.iso from bob not kept: cannot write it: cannot write to "
                       "/dl: No space left on device"}));
  EXPECT_TRUE(files_.temps.empty());
  EXPECT_TRUE(files_.kept.empty());
}

TEST_F(FilesTest, AnExistingFileIsNeverReplacedAndNamesAreMadeSafe) {
  Join();
  files_.kept["/dl/report.pdf"] = "mine";
  files_.kept["/dl/report (1).pdf"] = "mine too";
  const std::string content = Content(10);
  Offer(1, "report.pdf", content);
  // A zero-width space ahead of the dot would hide the file; a word joiner is dropped. (A
  // name of 10,000 bytes cannot come in a valid FILE_INCOMING: SafeFileNameTest cuts one.)
  Offer(2, "\u200b.bashrc", content);
  Offer(3, "a\u2060b.txt", content);
  for (int n = 1; n <= 3; ++n) {
    Type(Cat("/accept ", n));
    Stream(static_cast<uint32_t>(n), content);
  }
  EXPECT_EQ(files_.kept.at("/dl/report.pdf"), "mine");
  EXPECT_EQ(files_.kept.at("/dl/report (1).pdf"), "mine too");
  EXPECT_EQ(files_.kept.at("/dl/report (2).pdf"), content);
  EXPECT_EQ(files_.kept.at("/dl/bashrc"), content);
  EXPECT_EQ(files_.kept.at("/dl/ab.txt"), content);
  const V lines = Take();
  EXPECT_EQ(lines[0], "-!- bob offers report.pdf (10 B, " + Shown(Hash(content)) +
                          "): /accept 1 or /decline 1");
  EXPECT_EQ(lines[1], "-!- bob offers \\u{200B}.bashrc (10 B, " + Shown(Hash(content)) +
                          "): /accept 2 or /decline 2")
      << "the offer shows the name as sent, escaped";
}

TEST_F(FilesTest, DeclineAndCancel) {
  Join();
  const std::string content = Content(50'000);
  Offer(7, "a.bin", content);
  Offer(8, "b.bin", content);
  Take();
  Type("/decline 1");
  EXPECT_EQ(Take(), V{"-!- file 1: declined a.bin from bob"});
  Type("/accept 2");
  Send(msg::FileData{8, 0, content.substr(0, 1000)});
  EXPECT_EQ(files_.temps.size(), 1u);
  Type("/cancel 2");
  EXPECT_TRUE(files_.temps.empty());
  ASSERT_EQ(Cancels().size(), 2u);
  EXPECT_EQ(Cancels()[0].id, 7u);
  EXPECT_EQ(Cancels()[0].reason, "");
  EXPECT_EQ(Cancels()[1].id, 8u);
  Type("/cancel 2");
  Type("/decline 9");
  Type("/accept");
  EXPECT_EQ(Take(),
            (V{"-!- file 2: receiving b.bin (50.0 kB) from bob into /dl",
               "-!- file 2: cancelled b.bin from bob", "!! no file 2; /transfers lists them",
               "!! no file 9; /transfers lists them", "!! usage: /accept N [FOLDER]"}));
}

TEST_F(FilesTest, TheSenderGoneOrCancellingRemovesThePartialFile) {
  Join();
  const std::string content = Content(50'000);
  Offer(7, "a.bin", content);
  Offer(8, "b.bin", content);
  Offer(9, "c.bin", content);
  Type("/accept 1");
  Type("/accept 2");
  Send(msg::FileData{7, 0, content.substr(0, 1000)});
  Send(msg::FileData{8, 0, content.substr(0, 1000)});
  Take();
  Send(msg::FileEnd{7, 0, static_cast<uint8_t>(proto::FileEnd::kGone), ""});
  Send(msg::FileEnd{8, 0, static_cast<uint8_t>(proto::FileEnd::kSenderCancelled), "oops"});
  Send(msg::FileEnd{9, 0, static_cast<uint8_t>(proto::FileEnd::kExpired), ""});
  EXPECT_EQ(Take(), (V{"!! file 1: a.bin stopped: bob left", "!! file 2: bob cancelled b.bin: oops",
                       "!! file 3: the offer of c.bin from bob expired unanswered"}));
  EXPECT_TRUE(files_.temps.empty());
  EXPECT_TRUE(Cancels().empty()) << "nothing to cancel: the server ended them";
  Type("/transfers");
  EXPECT_EQ(Take(), V{"-!- no file transfers"});
}

TEST_F(FilesTest, OffersPastTheBoundAreDeclined) {
  Join();
  for (uint32_t id = 1; id <= FileTransfers::kMaxIncoming + 1; ++id) {
    Offer(id, "spam.txt", "x", "mallory");
  }
  ASSERT_EQ(Cancels().size(), 1u);
  EXPECT_EQ(Cancels()[0].id, FileTransfers::kMaxIncoming + 1);
  EXPECT_EQ(Cancels()[0].reason, "too many offers waiting");
  EXPECT_EQ(Take().back(),
            "-!- mallory offered spam.txt; declined: 16 offers are already waiting (/transfers "
            "lists them)");
  // An id the server already gave is not a second offer.
  Offer(3, "again.txt", "x", "mallory");
  EXPECT_EQ(Take(), V{});
}

// Only a hostile server ends a file still arriving as done: it is not kept, and the user is
// told, not left with a transfer that silently vanished.
TEST_F(FilesTest, DoneFromTheServerBeforeTheFileIsWholeKeepsNothingAndSaysSo) {
  Join();
  const std::string content = Content(40'000);
  Offer(4, "half.bin", content);
  Type("/accept 1");
  Stream(4, content.substr(0, 20'000));
  Take();
  ASSERT_FALSE(files_.temps.empty());
  Send(msg::FileEnd{4, 0, static_cast<uint8_t>(proto::FileEnd::kDone), ""});
  EXPECT_EQ(Take(), V{"!! file 1: half.bin from bob not kept: the server ended it as done "
                      "before all of it came"});
  EXPECT_TRUE(files_.temps.empty());
  EXPECT_TRUE(files_.kept.empty());
  EXPECT_TRUE(server_.Got<msg::FileDone>().empty());
}

TEST_F(FilesTest, ConnectionLostRemovesPartialFiles) {
  Join();
  const std::string content = Content(50'000);
  Offer(7, "a.bin", content);
  Type("/accept 1");
  Send(msg::FileData{7, 0, content.substr(0, 1000)});
  Take();
  session_.ServerClosed();
  EXPECT_TRUE(files_.temps.empty());
  EXPECT_EQ(Take(), V{"!! file 1: a.bin stopped: the connection was lost"});
}

TEST_F(FilesTest, ProgressEveryTenPercentWithSpeedAndTimeLeft) {
  Join();
  const std::string content = Content(100'000);
  Offer(7, "a.bin", content);
  Type("/accept 1");
  Take();
  Stream(7, content, 5'000, 100);  // 50 kB/s
  const V lines = Take();
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_EQ(lines[0], "-!- file 1: a.bin 10% (10.0 kB of 100.0 kB, 50.0 kB/s, 2 s left)");
  EXPECT_EQ(lines[8], "-!- file 1: a.bin 90% (90.0 kB of 100.0 kB, 50.0 kB/s, 1 s left)");
  EXPECT_TRUE(lines[9].starts_with("-!- file 1: a.bin from bob saved as /dl/a.bin")) << lines[9];
}

TEST_F(FilesTest, ProgressInPlaceIsAStatusChangedFourTimesASecond) {
  session_.set_progress_in_place(true);
  Join();
  const std::string content = Content(100'000);
  Offer(7, "a.bin", content);
  Type("/accept 1");
  Take();
  EXPECT_EQ(session_.TransferStatus(), "file 1: [----------] 0%, 0 B of 100.0 kB, 0 B/s");
  now_ += 100;
  Send(msg::FileData{7, 0, content.substr(0, 16'000)});
  EXPECT_EQ(session_.TransferStatus(), "file 1: [----------] 0%, 0 B of 100.0 kB, 0 B/s")
      << "not yet 250 ms";
  now_ += 150;
  EXPECT_EQ(session_.TransferStatus(),
            "file 1: [#---------] 16%, 16.0 kB of 100.0 kB, 64.0 kB/s, 2 s left");
  Stream(7, content, 16'000, 0, 16'000);
  const V lines = Take();
  ASSERT_EQ(lines.size(), 1u) << "no progress lines";
  EXPECT_TRUE(lines[0].starts_with("-!- file 1: a.bin from bob saved as /dl/a.bin")) << lines[0];
  EXPECT_EQ(session_.TransferStatus(), "");
}

// SendTest: alice offers the 300 kB /home/alice/report.pdf to bob.
class SendTest : public FilesTest {
 protected:
  void SetUp() override {
    content_ = Content(300'000);
    files_.readable["/home/alice/report.pdf"] = content_;
    Join();
  }
  // Offer types /send and returns the offer's tag.
  uint32_t Offer() {
    Type("/send bob /home/alice/report.pdf");
    const auto offers = server_.Got<msg::FileOffer>();
    EXPECT_FALSE(offers.empty());
    return offers.empty() ? 0 : offers.back().tag;
  }
  // Drain runs the loop's turns: Tick (which makes chunks), then the socket takes everything.
  void Drain() {
    for (int turn = 0; turn < 1000 && session_.MsUntilTick() == std::optional<uint64_t>(0);
         ++turn) {
      session_.Tick();
      Pump();
    }
  }
  std::string content_;
};

// A server from before file transfer answers FILE_OFFER with ERROR 8: the offer is dropped and
// the user told, so that it holds no place among our offers; and a FILE_OFFERED for a tag we
// no longer wait for is cancelled at once (PROTOCOL.md 6.14).
TEST_F(SendTest, AServerWithoutFilesIsSaidSoAndAnUnwaitedOfferIsCancelled) {
  const uint32_t tag = Offer();
  Take();
  Send(msg::Error{proto::ErrorCode::kUnknownKind, 0, "unknown message kind"});
  EXPECT_EQ(Take(), V{"!! this server does not relay files: not sent"});
  Type("/transfers");
  EXPECT_EQ(Take(), V{"-!- no file transfers"});
  Send(msg::FileOffered{tag, 5});
  const auto cancels = server_.Got<msg::FileCancel>();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].id, 5u);
}

TEST_F(SendTest, SendsInChunksOnlyWhileTheOutputIsSmall) {
  const uint32_t tag = Offer();
  const auto offers = server_.Got<msg::FileOffer>();
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].to, "bob");
  EXPECT_EQ(offers[0].name, "report.pdf");
  EXPECT_EQ(offers[0].size, 300'000u);
  EXPECT_EQ(offers[0].hash, Hash(content_));
  EXPECT_LE(files_.largest_read, FileTransfers::kHashReadLen) << "hashed in pieces";
  EXPECT_EQ(Take(), V{"-!- offering report.pdf (300.0 kB) to bob: file 1, /cancel 1 stops it"});
  Send(msg::FileOffered{tag, 77});
  session_.Tick();
  EXPECT_TRUE(server_.Got<msg::FileChunk>().empty()) << "nothing before FILE_ACCEPTED";
  Send(msg::FileAccepted{77});
  EXPECT_EQ(Take(), V{"-!- file 1: bob accepted report.pdf; sending"});
  EXPECT_EQ(session_.MsUntilTick(), std::optional<uint64_t>(0));
  // The loop's turn: chunks up to the threshold, and no more until the socket takes them.
  session_.Tick();
  const size_t unsent = conn_.output().size();
  EXPECT_GE(unsent, FileTransfers::kMaxUnsent);
  EXPECT_LT(unsent, FileTransfers::kMaxUnsent + proto::kMaxChunkLen + 64);
  EXPECT_NE(session_.MsUntilTick(), std::optional<uint64_t>(0));
  session_.Tick();
  EXPECT_EQ(conn_.output().size(), unsent);
  EXPECT_LE(files_.largest_read, FileTransfers::kHashReadLen) << "never the whole file";
  Pump();
  Drain();
  const auto chunks = server_.Got<msg::FileChunk>();
  std::string got;
  for (const msg::FileChunk& c : chunks) {
    EXPECT_EQ(c.id, 77u);
    EXPECT_EQ(c.offset, got.size());
    EXPECT_LE(c.data.size(), proto::kMaxChunkLen);
    got.append(c.data);
  }
  EXPECT_EQ(got, content_);
  EXPECT_EQ(chunks.size(), (300'000 + proto::kMaxChunkLen - 1) / proto::kMaxChunkLen);
  Send(msg::FileEnd{77, tag, static_cast<uint8_t>(proto::FileEnd::kDone), ""});
  const V lines = Take();
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(lines.back().starts_with("-!- file 1: bob has report.pdf (300.0 kB, SHA-256 checked"))
      << lines.back();
  Type("/transfers");
  EXPECT_EQ(Take(), V{"-!- no file transfers"});
}

TEST_F(SendTest, RefusedDeclinedAndStoppedOffersAreTold) {
  const uint32_t refused = Offer();
  Send(msg::FileEnd{0, refused, static_cast<uint8_t>(proto::FileEnd::kRefused), "you are muted"});
  const uint32_t declined = Offer();
  Send(msg::FileOffered{declined, 5});
  Send(msg::FileEnd{5, declined, static_cast<uint8_t>(proto::FileEnd::kDeclined), ""});
  const uint32_t stopped = Offer();
  Send(msg::FileOffered{stopped, 6});
  Send(msg::FileAccepted{6});
  Send(msg::FileEnd{6, stopped, static_cast<uint8_t>(proto::FileEnd::kReceiverCancelled),
                    "the receiver's disk is full"});
  EXPECT_NE(refused, declined);
  const V lines = Take();
  EXPECT_EQ(lines[1],
            "!! file 1: the server refused the offer of report.pdf to bob: you are muted");
  EXPECT_EQ(lines[3], "-!- file 2: bob declined report.pdf");
  EXPECT_EQ(lines.back(), "!! file 3: bob stopped report.pdf: the receiver's disk is full");
}

TEST_F(SendTest, CancelledBeforeItsIdIsCancelledWhenItComes) {
  const uint32_t tag = Offer();
  Type("/cancel 1");
  EXPECT_TRUE(Cancels().empty());
  Send(msg::FileOffered{tag, 12});
  ASSERT_EQ(Cancels().size(), 1u);
  EXPECT_EQ(Cancels()[0].id, 12u);
  Send(msg::FileEnd{12, tag, static_cast<uint8_t>(proto::FileEnd::kSenderCancelled), ""});
  EXPECT_EQ(Take(), (V{"-!- offering report.pdf (300.0 kB) to bob: file 1, /cancel 1 stops it",
                       "-!- file 1: cancelled report.pdf"}));
}

TEST_F(SendTest, RefusalsHere) {
  Type("/send bob");
  Type("/send bob /nope");
  Type("/send b@d /home/alice/report.pdf");
  for (size_t i = 0; i < FileTransfers::kMaxOutgoing; ++i) {
    Offer();
  }
  Take();
  Type("/send bob /home/alice/report.pdf");
  EXPECT_EQ(Take(), V{"!! not sent: you are already sending 4 files; wait for one or /cancel it"});
  EXPECT_EQ(server_.Got<msg::FileOffer>().size(), FileTransfers::kMaxOutgoing);
}

TEST_F(SendTest, PipedInputSaysGoodbyeOnlyOnceItsFileIsThrough) {
  const uint32_t tag = Offer();
  session_.InputEof();
  Pump();
  EXPECT_EQ(Byes(), 0);
  Send(msg::FileOffered{tag, 3});
  Send(msg::FileAccepted{3});
  Drain();
  EXPECT_EQ(Byes(), 0);
  Send(msg::FileEnd{3, tag, static_cast<uint8_t>(proto::FileEnd::kDone), ""});
  EXPECT_EQ(Byes(), 1);
}

// A file larger than FileTransfers::kHashPerTurn is hashed a piece per turn of the loop: the
// chat goes on meanwhile, /transfers says how far it got, and the offer leaves once the whole
// file is hashed, with the right SHA-256.
TEST_F(SendTest, ALargeFileIsHashedBetweenTurnsWhileChatGoesOn) {
  const std::string big = Content(3 * FileTransfers::kHashPerTurn + 5);
  files_.readable["/home/alice/big.iso"] = big;
  Type("/send bob /home/alice/big.iso");
  EXPECT_EQ(Take(), V{"-!- file 1: reading big.iso (3.1 MB) to hash it before it is offered to "
                      "bob; /cancel 1 stops it"});
  EXPECT_TRUE(server_.Got<msg::FileOffer>().empty()) << "not offered before it is hashed";
  EXPECT_EQ(session_.TransferStatus(), "file 1: hashing [###-------] 33%, 1.0 MB of 3.1 MB");
  EXPECT_EQ(session_.MsUntilTick(), std::optional<uint64_t>(0)) << "the loop comes back at once";
  Type("still here");
  ASSERT_EQ(server_.Got<msg::Say>().size(), 1u) << "a line typed meanwhile goes out at once";
  session_.Tick();
  Pump();
  EXPECT_TRUE(server_.Got<msg::FileOffer>().empty());
  Type("/transfers");
  EXPECT_EQ(Take(), V{"-!- file 1: big.iso (3.1 MB) to bob: reading it to hash it, 66%"});
  Drain();
  const auto offers = server_.Got<msg::FileOffer>();
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].size, big.size());
  EXPECT_EQ(offers[0].hash, Hash(big));
  EXPECT_EQ(offers[0].name, "big.iso");
  EXPECT_LE(files_.largest_read, FileTransfers::kHashReadLen);
  EXPECT_EQ(Take(), V{"-!- offering big.iso (3.1 MB) to bob: file 1, /cancel 1 stops it"});
  EXPECT_NE(session_.MsUntilTick(), std::optional<uint64_t>(0)) << "nothing more to do";
}

TEST_F(SendTest, AFileCancelledOrChangedWhileHashedIsNeverOffered) {
  const std::string big = Content(2 * FileTransfers::kHashPerTurn + 5);
  files_.readable["/home/alice/big.iso"] = big;
  Type("/send bob /home/alice/big.iso");
  Type("/cancel 1");
  Drain();
  Type("/transfers");
  EXPECT_EQ(Take(),
            (V{"-!- file 1: reading big.iso (2.0 MB) to hash it before it is offered to "
               "bob; /cancel 1 stops it",
               "-!- file 1: cancelled big.iso before it was offered", "-!- no file transfers"}));
  Type("/send bob /home/alice/big.iso");
  files_.readable["/home/alice/big.iso"] = big.substr(0, 100);  // cut short while it is read
  Drain();
  EXPECT_EQ(Take(), (V{"-!- file 2: reading big.iso (2.0 MB) to hash it before it is offered to "
                       "bob; /cancel 2 stops it",
                       "!! file 2: not sent: big.iso changed while it was read"}));
  EXPECT_TRUE(server_.Got<msg::FileOffer>().empty());
  EXPECT_TRUE(Cancels().empty()) << "nothing to cancel on the server";
  EXPECT_FALSE(session_.MsUntilTick() == std::optional<uint64_t>(0));
}

TEST(SafeFileNameTest, KeepsOnlyASafeBaseName) {
  EXPECT_EQ(SafeFileName("report.pdf"), "report.pdf");
  EXPECT_EQ(SafeFileName("../../etc/passwd"), "passwd");
  EXPECT_EQ(SafeFileName("..\\..\\win.ini"), "win.ini");
  EXPECT_EQ(SafeFileName("\x1b]0;x\x07"), "]0;x");
  EXPECT_EQ(SafeFileName(".bashrc"), "bashrc");
  EXPECT_EQ(SafeFileName("...hidden.txt"), "hidden.txt");
  EXPECT_EQ(SafeFileName(".."), "file");
  EXPECT_EQ(SafeFileName(""), "file");
  EXPECT_EQ(SafeFileName("dir/"), "file");
  EXPECT_EQ(SafeFileName("\xff\xfe"), "file") << "invalid UTF-8 dropped";
  // Right-to-left override, isolates, zero-width space and joiner, BOM: dropped.
  EXPECT_EQ(SafeFileName("invoice\u202Efdp.exe"), "invoicefdp.exe");
  EXPECT_EQ(SafeFileName("a\u2066b\u200Bc\u200Dd\uFEFF.txt"), "abcd.txt");
  EXPECT_EQ(SafeFileName("\u200B.profile"), "profile");
  EXPECT_EQ(SafeFileName("caf\u00e9 \u65e5\u672c.txt"), "caf\u00e9 \u65e5\u672c.txt");
}

TEST(SafeFileNameTest, CutsLongNamesBetweenCodePointsKeepingTheExtension) {
  const std::string long_name = Cat(std::string(10'000 - 4, 'a'), ".pdf");
  EXPECT_EQ(SafeFileName(long_name), Cat(std::string(251, 'a'), ".pdf"));
  std::string wide;
  for (int i = 0; i < 3000; ++i) {
    wide += "\u00e9";  // two bytes each
  }
  const std::string cut = SafeFileName(wide + ".txt");
  EXPECT_LE(cut.size(), proto::kMaxFileNameLen);
  EXPECT_TRUE(cut.ends_with(".txt"));
  EXPECT_TRUE(IsValidFileName(cut));
  EXPECT_EQ(cut.size(), 250u + 4u) << "251 bytes would split an \u00e9";
  // An "extension" too long to be one is cut like the rest.
  const std::string no_ext = SafeFileName(Cat("a.", std::string(400, 'b')));
  EXPECT_EQ(no_ext.size(), proto::kMaxFileNameLen);
}

TEST(SafeFileNameTest, AlwaysAValidFileName) {
  // Every single byte, and every pair of a few awkward ones, gives a valid file name.
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    EXPECT_TRUE(IsValidFileName(SafeFileName(one))) << b;
    EXPECT_TRUE(IsValidFileName(SafeFileName(Cat(".", one, ".")))) << b;
  }
}

TEST(FormatBytesTest, DecimalUnitsToATenth) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(999), "999 B");
  EXPECT_EQ(FormatBytes(1000), "1.0 kB");
  EXPECT_EQ(FormatBytes(16 * 1024 + 1), "16.3 kB");
  EXPECT_EQ(FormatBytes(2'149'999), "2.1 MB");
  EXPECT_EQ(FormatBytes(1ULL << 30), "1.0 GB");
  EXPECT_EQ(FormatBytes(UINT64_MAX), "18.4 EB");
}

}  // namespace
}  // namespace securechat
