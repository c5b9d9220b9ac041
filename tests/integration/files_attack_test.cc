// File transfer under attack (PROTOCOL.md 6.14, 7.2): the real chat-server on loopback, with
// raw protocol clients (SocketClient) that lie about a file's size or hash, send chunks out of
// order, after the end or for transfers that are not theirs, stop reading, vanish halfway or
// offer hostile names, while an honest party watches: another raw client, or a real
// chat-client that receives the file into a temporary --download_dir. Each test asserts what
// the attacker gets on the wire and what a person would see or find on disk. Every wait has a
// deadline and waits for a condition.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "integration/expect.h"
#include "integration/process.h"
#include "integration/server_fixture.h"
#include "integration/socket_client.h"
#include "securechat/base/cat.h"
#include "securechat/crypto/primitives.h"
#include "securechat/wire/message.h"
#include "securechat/wire/protocol.h"
#include "support/seen.h"

namespace securechat::testing {
namespace {

using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;
using proto::FileEnd;
using proto::Kind;

// The server ends a transfer whose receiver takes no data for this long (--file_stall_timeout):
// short, so that the stall test waits for it and not for the default 30 s.
constexpr Duration kStall = 2s;
// The server's file window (--file_window, default 256 KiB), and the largest chunk.
constexpr size_t kWindow = 256 * 1024;
constexpr size_t kChunk = proto::kMaxChunkLen;

// Sha is the SHA-256 of `content`, as a FILE_OFFER carries it.

std::string Sha(std::string_view content) {
  Sha256 hasher;
  Sha256Digest digest{};
  EXPECT_TRUE(
      hasher.Update(ByteView(reinterpret_cast<const uint8_t*>(content.data()), content.size())) &&
      hasher.Final(&digest));
  return std::string(digest.begin(), digest.end());
}

// A hash that is no file's: what a sender that lies about the content offers.
const std::string kWrongHash(proto::kFileHashLen, '\x5a');

auto Is(Kind kind) {
  return [kind](const Seen& s) { return s.kind == kind; };
}
auto IsEnd(uint32_t id, FileEnd why) {
  return [id, why](const Seen& s) {
    return s.kind == Kind::kFileEnd && s.id == id && s.why == static_cast<uint8_t>(why);
  };
}
auto IsError(proto::ErrorCode code) {
  return [code](const Seen& s) { return s.IsError(code, /*is_fatal=*/false); };
}

// AboutFiles keeps the messages of `seen` that concern a transfer, and the ERRORs: the ones an
// attack could have caused, without the NOTICEs and MEMBER_* of people coming and going.
std::vector<Seen> AboutFiles(const std::vector<Seen>& seen) {
  std::vector<Seen> out;
  for (const Seen& s : seen) {
    const auto kind = static_cast<uint8_t>(s.kind);
    if (s.kind == Kind::kError || (kind >= 0x91 && kind <= 0x95)) {
      out.push_back(s);
    }
  }
  return out;
}

// Quiet waits for the PONG of a PING from `c` and checks that nothing about a file, and no
// ERROR, came before it: the server handles a connection's records in order, so whatever it
// answered to the records sent before the PING has arrived by then.
::testing::AssertionResult Quiet(SocketClient& c) {
  if (!c.Send(msg::Ping{"quiet?"})) {
    return ::testing::AssertionFailure() << "cannot send a PING";
  }
  std::vector<Seen> before;
  if (!c.Await(Is(Kind::kPong), kWait, &before).has_value()) {
    return ::testing::AssertionFailure() << "no PONG (closed: " << c.closed() << ")";
  }
  const std::vector<Seen> files = AboutFiles(before);
  if (!files.empty()) {
    return ::testing::AssertionFailure()
           << files.size() << " answers before the PONG, the first of kind 0x" << std::hex
           << static_cast<int>(files[0].kind) << std::dec << " (" << files[0].text << ")";
  }
  return ::testing::AssertionSuccess();
}

// Entries lists every path under `dir`, relative to it.
std::set<std::string> Entries(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    out.insert(std::filesystem::relative(it->path(), dir).string());
  }
  return out;
}

class FilesAttackTest : public AttackFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(AttackFixture::SetUp());
    // A burst of 30: the attacks are judged for what they send, not for the pace at which a
    // test sends them (the rate limit has tests of its own).
    ASSERT_NO_FATAL_FAILURE(
        StartTestServer({Cat("--file_stall_timeout=", kStall.count(), "ms"), "--burst=30"}));
    downloads_ = dir_.File("downloads");
  }

  // Raw joins a SocketClient as `nick`; nullptr (and a failure) if it cannot.
  std::unique_ptr<SocketClient> Raw(std::string_view nick, SocketClient::Options options = {}) {
    auto c = RawJoin(nick, options);
    if (!c.ok()) {
      ADD_FAILURE() << nick << ": " << c.status() << Describe(server());
      return nullptr;
    }
    return std::move(*c);
  }

  // Receiver starts a real chat-client as `nick` that saves files in downloads_, and waits for
  // its welcome with `online` people in the room.
  std::unique_ptr<Process> Receiver(const std::string& nick, int online) {
    auto p =
        StartChatClient(nick, public_key_, server_.address, {Cat("--download_dir=", downloads_)});
    if (p != nullptr && !Saw(*p, Cat("-!- joined as ", nick, "; ", online, " online\n"))) {
      ADD_FAILURE() << nick << " was not welcomed" << Describe(*p);
      return nullptr;
    }
    return p;
  }

  // Offer sends a FILE_OFFER from `from` and returns the id of its FILE_OFFERED, or 0 (and a
  // failure).
  static uint32_t Offer(SocketClient& from, uint32_t tag, std::string_view to,
                        std::string_view name, uint64_t size, std::string_view hash) {
    EXPECT_TRUE(from.Send(msg::FileOffer{tag, to, name, size, hash}));
    const std::optional<Seen> offered =
        from.Await([tag](const Seen& s) { return s.kind == Kind::kFileOffered && s.tag == tag; });
    EXPECT_TRUE(offered.has_value()) << "no FILE_OFFERED for tag " << tag;
    return offered.has_value() ? offered->id : 0;
  }

  // Streaming offers `size` bytes from `sender` to `receiver` (joined as `receiver_nick`), has
  // the receiver accept, and returns the id once the sender has FILE_ACCEPTED; 0 on failure.
  static uint32_t Streaming(SocketClient& sender, SocketClient& receiver,
                            std::string_view receiver_nick, uint64_t size, uint32_t tag) {
    const uint32_t id = Offer(sender, tag, receiver_nick, "data.bin", size, kWrongHash);
    const std::optional<Seen> incoming = receiver.Await(Is(Kind::kFileIncoming));
    if (id == 0 || !incoming.has_value() || incoming->id != id) {
      ADD_FAILURE() << "no FILE_INCOMING for " << id;
      return 0;
    }
    EXPECT_TRUE(receiver.Send(msg::FileAccept{id}));
    const std::optional<Seen> accepted = sender.Await(Is(Kind::kFileAccepted));
    if (!accepted.has_value() || accepted->id != id) {
      ADD_FAILURE() << "no FILE_ACCEPTED for " << id;
      return 0;
    }
    return id;
  }

  // ExpectEndToBoth waits for the FILE_END `why` of transfer `id` at both sides: the sender's
  // with `tag`, the receiver's with 0, both with `reason`. Returns what the receiver got before
  // its FILE_END.
  static std::vector<Seen> ExpectEndToBoth(SocketClient& sender, SocketClient& receiver,
                                           uint32_t id, uint32_t tag, FileEnd why,
                                           std::string_view reason) {
    const std::optional<Seen> to_sender = sender.Await(IsEnd(id, why));
    EXPECT_TRUE(to_sender.has_value())
        << "no FILE_END " << static_cast<int>(why) << " for " << id << " to the sender";
    if (to_sender.has_value()) {
      EXPECT_EQ(to_sender->tag, tag);
      EXPECT_EQ(to_sender->text, reason);
    }
    std::vector<Seen> before;
    const std::optional<Seen> to_receiver = receiver.Await(IsEnd(id, why), kWait, &before);
    EXPECT_TRUE(to_receiver.has_value())
        << "no FILE_END " << static_cast<int>(why) << " for " << id << " to the receiver";
    if (to_receiver.has_value()) {
      EXPECT_EQ(to_receiver->tag, 0u);
      EXPECT_EQ(to_receiver->text, reason);
    }
    return AboutFiles(before);
  }

  std::string downloads_;
};

// ---------------------------------------------------------------------------------------------
// The sender lies about the size.

// More bytes than offered: the chunk that passes the size ends the transfer as broken for both
// sides and is not relayed. The sender is not dropped for it (6.14 makes it a FILE_END, not an
// ERROR), and a third member's chat goes on.
TEST_F(FilesAttackTest, MoreBytesThanOfferedBreakTheTransfer) {
  auto carol = Join("carol", 1);
  ASSERT_NE(carol, nullptr);
  auto mallory = Raw("mallory");
  auto bob = Raw("bob");
  ASSERT_TRUE(mallory != nullptr && bob != nullptr);
  const std::string kPast = "the sender sent more than the file's size";

  // Ten bytes offered, eleven in the first chunk.
  uint32_t id = Streaming(*mallory, *bob, "bob", 10, /*tag=*/1);
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(mallory->Send(msg::FileChunk{id, 0, "0123456789X"}));
  EXPECT_TRUE(ExpectEndToBoth(*mallory, *bob, id, 1, FileEnd::kBroken, kPast).empty())
      << "nothing of the chunk reaches the receiver";

  // Ten bytes relayed whole, then one more: the transfer was complete, waiting for the
  // receiver's FILE_DONE, and the extra chunk passes the size, which ends it as broken
  // (PROTOCOL.md 6.14).
  id = Streaming(*mallory, *bob, "bob", 10, /*tag=*/2);
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(mallory->Send(msg::FileChunk{id, 0, "0123456789"}));
  ASSERT_TRUE(mallory->Send(msg::FileChunk{id, 10, "X"}));
  const std::vector<Seen> relayed = ExpectEndToBoth(*mallory, *bob, id, 2, FileEnd::kBroken, kPast);
  ASSERT_EQ(relayed.size(), 1u);
  EXPECT_EQ(relayed[0].kind, Kind::kFileData);
  EXPECT_EQ(relayed[0].data, "0123456789");
  // The receiver's FILE_DONE now names nothing.
  ASSERT_TRUE(bob->Send(msg::FileDone{id}));
  EXPECT_TRUE(bob->Await(IsError(proto::ErrorCode::kNoSuchTransfer)).has_value());

  // The liar is still connected and heard; carol's chat reaches everyone.
  ASSERT_TRUE(mallory->Send(msg::Say{"still here"}));
  EXPECT_TRUE(Saw(*carol, "<mallory> still here\n"));
  ASSERT_TRUE(carol->WriteStdin("hello all"));
  EXPECT_TRUE(mallory->ReadChat("carol", "hello all").has_value());
  EXPECT_TRUE(bob->ReadChat("carol", "hello all").has_value());
}

// Fewer bytes than offered: the transfer is not complete, so a FILE_DONE (from the receiver,
// or from the sender, whose word is not enough) gets ERROR 17, non-fatal, and changes nothing:
// the rest of the bytes still complete it.
TEST_F(FilesAttackTest, DoneBeforeEveryByteIsRefusedAndChangesNothing) {
  auto mallory = Raw("mallory");
  auto bob = Raw("bob");
  ASSERT_TRUE(mallory != nullptr && bob != nullptr);
  const uint32_t id = Streaming(*mallory, *bob, "bob", 10, /*tag=*/7);
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(mallory->Send(msg::FileChunk{id, 0, "01234"}));
  ASSERT_TRUE(mallory->Send(msg::FileDone{id}));
  EXPECT_TRUE(mallory->Await(IsError(proto::ErrorCode::kNoSuchTransfer)).has_value());
  const std::optional<Seen> first = bob->Await(Is(Kind::kFileData));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->data, "01234");
  ASSERT_TRUE(bob->Send(msg::FileDone{id}));
  std::vector<Seen> before;
  ASSERT_TRUE(bob->Await(IsError(proto::ErrorCode::kNoSuchTransfer), kWait, &before).has_value());
  EXPECT_TRUE(AboutFiles(before).empty()) << "no FILE_END: the transfer goes on";

  ASSERT_TRUE(mallory->Send(msg::FileChunk{id, 5, "56789"}));
  const std::optional<Seen> rest = bob->Await(Is(Kind::kFileData));
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(rest->offset, 5u);
  ASSERT_TRUE(bob->Send(msg::FileDone{id}));
  EXPECT_TRUE(ExpectEndToBoth(*mallory, *bob, id, 7, FileEnd::kDone, "").empty());
}

// ---------------------------------------------------------------------------------------------
// Chunks in the wrong place.

// A chunk at the wrong offset breaks the transfer; a chunk for a transfer the client does not
// stream (someone else's, one that ended done, an id that was never given) gets ERROR 17 and
// nothing else; a late chunk of a transfer that ended while it was on its way is dropped
// without an answer (7.2).
TEST_F(FilesAttackTest, ChunksOutOfOrderAfterTheEndOrNotYoursAreRefused) {
  auto mallory = Raw("mallory");
  auto bob = Raw("bob");
  auto eve = Raw("eve");
  ASSERT_TRUE(mallory != nullptr && bob != nullptr && eve != nullptr);

  // A byte skipped.
  uint32_t id = Streaming(*mallory, *bob, "bob", 10, /*tag=*/1);
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(mallory->Send(msg::FileChunk{id, 0, "01234"}));
  ASSERT_TRUE(mallory->Send(msg::FileChunk{id, 6, "6789"}));
  std::vector<Seen> relayed = ExpectEndToBoth(*mallory, *bob, id, 1, FileEnd::kBroken,
                                              "the sender sent a chunk out of order");
  ASSERT_EQ(relayed.size(), 1u);
  EXPECT_EQ(relayed[0].offset, 0u);
  // What an honest sender would still have had on the way goes on from where the relayed data
  // stopped: dropped, no token, no answer. A replay of it is not: ERROR 17.
  ASSERT_TRUE(mallory->Send(msg::FileChunk{id, 5, "56789"}));
  EXPECT_TRUE(Quiet(*mallory));
  ASSERT_TRUE(mallory->Send(msg::FileChunk{id, 5, "56789"}));
  EXPECT_TRUE(mallory->Await(IsError(proto::ErrorCode::kNoSuchTransfer)).has_value());
  EXPECT_TRUE(Quiet(*bob)) << "nothing of the late chunks reaches the receiver";

  // Someone else's transfer: eve (a bystander) and bob (its receiver) push chunks into it, and
  // mallory one with an id the server never gave. Each gets ERROR 17; the transfer goes on.
  id = Streaming(*mallory, *bob, "bob", 10, /*tag=*/2);
  ASSERT_NE(id, 0u);
  for (SocketClient* intruder : {eve.get(), bob.get()}) {
    ASSERT_TRUE(intruder->Send(msg::FileChunk{id, 0, "EVIL!"}));
    EXPECT_TRUE(intruder->Await(IsError(proto::ErrorCode::kNoSuchTransfer)).has_value());
  }
  ASSERT_TRUE(mallory->Send(msg::FileChunk{id + 1000, 0, "nobody's"}));
  EXPECT_TRUE(mallory->Await(IsError(proto::ErrorCode::kNoSuchTransfer)).has_value());
  ASSERT_TRUE(mallory->Send(msg::FileChunk{id, 0, "0123456789"}));
  const std::optional<Seen> data = bob->Await(Is(Kind::kFileData));
  ASSERT_TRUE(data.has_value());
  EXPECT_EQ(data->data, "0123456789") << "only the sender's bytes are relayed";
  ASSERT_TRUE(bob->Send(msg::FileDone{id}));
  EXPECT_TRUE(ExpectEndToBoth(*mallory, *bob, id, 2, FileEnd::kDone, "").empty());

  // After FILE_DONE: the id names nothing, and nothing dies on the way after a done transfer,
  // so any chunk of it is refused.
  for (uint64_t offset : {uint64_t{10}, uint64_t{0}}) {
    ASSERT_TRUE(mallory->Send(msg::FileChunk{id, offset, "after the end"}));
    EXPECT_TRUE(mallory->Await(IsError(proto::ErrorCode::kNoSuchTransfer)).has_value()) << offset;
  }
  EXPECT_TRUE(Quiet(*bob));
  EXPECT_TRUE(Quiet(*eve));
}

// ---------------------------------------------------------------------------------------------
// A receiver that stops reading.

// ChunkPump streams chunks of one transfer from a SocketClient without ever blocking: it
// writes what the socket takes now and keeps the rest of a record for later, so that a test
// can see when the server stops reading the sender (the socket stops taking bytes).
class ChunkPump {
 public:
  ChunkPump(SocketClient& c, uint32_t id, uint64_t size) : c_(c), id_(id), size_(size) {}

  // Pump writes until the socket would block or the file is all sealed and written. Returns
  // false if the connection failed.
  bool Pump() {
    for (;;) {
      if (pending_.empty()) {
        if (sealed_ == size_) {
          return true;
        }
        const size_t len = static_cast<size_t>(std::min<uint64_t>(kChunk, size_ - sealed_));
        pending_ = c_.Seal(msg::FileChunk{id_, sealed_, std::string_view(filler_.data(), len)});
        sealed_ += len;
        written_at_ = 0;
      }
      const ssize_t n = send(c_.fd(), pending_.data() + written_at_, pending_.size() - written_at_,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return true;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return false;
      }
      written_at_ += static_cast<size_t>(n);
      sent_ += static_cast<uint64_t>(n);
      if (written_at_ == pending_.size()) {
        pending_.clear();
      }
    }
  }

  // Finish writes the rest of the record begun, blocking: after it the connection is at a
  // record boundary and can carry other messages.
  bool Finish() {
    const bool ok =
        c_.SendBytes(ByteView(pending_.data() + written_at_, pending_.size() - written_at_));
    pending_.clear();
    return ok;
  }

  // Writable waits up to `timeout` for the socket to take bytes again.
  bool Writable(Duration timeout) const {
    pollfd p{c_.fd(), POLLOUT, 0};
    return poll(&p, 1, static_cast<int>(timeout.count())) > 0;
  }

  uint64_t sent() const { return sent_; }

 private:
  SocketClient& c_;
  uint32_t id_;
  uint64_t size_;
  const std::string filler_ = std::string(kChunk, 'f');
  std::vector<uint8_t> pending_;
  size_t written_at_ = 0;
  uint64_t sealed_ = 0;
  uint64_t sent_ = 0;
};

// bob accepts a large file and never reads his socket. The server stops reading mallory once
// bob's queue holds a window (flow control), so mallory's socket stops taking bytes long before
// the file is sent and the server's memory stays near its idle size; carol and dave chat on
// meanwhile; after --file_stall_timeout the transfer ends as stalled for both, and mallory is
// read again: the chunks she had on the way are dropped without costing her the connection.
TEST_F(FilesAttackTest, AReceiverThatStopsReadingStallsTheTransferNotTheServer) {
  auto carol = Join("carol", 1);
  ASSERT_NE(carol, nullptr);
  auto dave = Join("dave", 2);
  ASSERT_NE(dave, nullptr);
  auto mallory = Raw("mallory");
  auto bob = Raw("bob", {.rcvbuf = 16 * 1024});
  ASSERT_TRUE(mallory != nullptr && bob != nullptr);
  const int64_t idle_kb = RssKb(server().pid());

  // 64 MiB offered: far more than every buffer on the way holds together.
  constexpr uint64_t kSize = 64 << 20;
  const uint32_t id = Streaming(*mallory, *bob, "bob", kSize, /*tag=*/5);
  ASSERT_NE(id, 0u);
  const Clock::time_point accepted_at = Clock::now();
  ChunkPump pump(*mallory, id, kSize);
  int64_t peak_kb = idle_kb;
  // Held: the socket has taken nothing for 300 ms. A server that read on would take the
  // whole file within the deadline, and the loop ends then.
  const Clock::time_point pump_deadline = Clock::now() + kWait;
  bool held = false;
  while (!held && Clock::now() < pump_deadline) {
    ASSERT_TRUE(pump.Pump()) << "mallory's connection failed";
    peak_kb = std::max(peak_kb, RssKb(server().pid()));
    held = !pump.Writable(300ms);
  }
  const Clock::time_point held_at = Clock::now();
  ASSERT_TRUE(held) << "the server read " << pump.sent() << " bytes of mallory's file and on";
  EXPECT_LT(pump.sent(), kSize / 2) << "the server kept reading the sender";

  // The room is not held with her.
  EXPECT_TRUE(StillChatting(*carol, "carol", *dave, "dave", "while bob sleeps"));
  peak_kb = std::max(peak_kb, RssKb(server().pid()));

  const std::optional<Seen> stalled = mallory->Await(IsEnd(id, FileEnd::kStalled), kStall + kWait);
  ASSERT_TRUE(stalled.has_value()) << "no FILE_END stalled for mallory" << Describe(server());
  const int64_t stall_ms = Ms(Clock::now() - held_at);
  EXPECT_EQ(stalled->tag, 5u);
  EXPECT_EQ(stalled->text, Cat("the receiver took no data for ", kStall.count() / 1000, " s"));
  EXPECT_LE(stall_ms, (kStall + kWait).count());
  EXPECT_GE(Clock::now() - accepted_at, kStall) << "stalled before its time";

  // mallory is read again: what she had on the way is dropped (she stops sealing new chunks
  // once she knows), and what she says next is heard.
  ASSERT_TRUE(pump.Finish());
  ASSERT_TRUE(mallory->Send(msg::Say{"free again"}));
  EXPECT_TRUE(Saw(*carol, "<mallory> free again\n"));
  EXPECT_TRUE(Quiet(*mallory)) << "her late chunks cost no ERROR";
  peak_kb = std::max(peak_kb, RssKb(server().pid()));

  // bob, reading at last, finds the data in order up to where the server stopped, then the
  // end.
  std::vector<Seen> before;
  const std::optional<Seen> bob_end = bob->Await(IsEnd(id, FileEnd::kStalled), kWait, &before);
  ASSERT_TRUE(bob_end.has_value()) << "no FILE_END stalled for bob";
  EXPECT_EQ(bob_end->tag, 0u);
  uint64_t relayed = 0;
  for (const Seen& s : AboutFiles(before)) {
    ASSERT_EQ(s.kind, Kind::kFileData);
    ASSERT_EQ(s.offset, relayed);
    relayed += s.data.size();
  }
  Report("stalled receiver: mallory's socket took ", pump.sent(), " bytes before the server held",
         " her; bob was sent ", relayed, " bytes; FILE_END stalled ", stall_ms,
         " ms after the hold was seen; server RSS idle ", idle_kb, " KiB, peak ", peak_kb, " KiB");
  EXPECT_GE(relayed, kWindow) << "the window filled before the server held the sender";

  // The server holds one window of file data for bob (with a record and one read more), not
  // what mallory pushed: 8 MiB leaves room for the allocator and the chat around it.
  if (kSanitized) {
    Report("sanitizer build: memory bound not asserted");
  } else {
    EXPECT_LT(peak_kb - idle_kb, 8 * 1024);
  }
}

// ---------------------------------------------------------------------------------------------
// Against a real chat-client receiver.

class FilesAttackClientTest : public FilesAttackTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(FilesAttackTest::SetUp());
    bob_ = Receiver("bob", 1);
    ASSERT_NE(bob_, nullptr);
    mallory_ = Raw("mallory");
    ASSERT_NE(mallory_, nullptr);
    ASSERT_TRUE(Saw(*bob_, "-!- mallory joined\n"));
  }

  // Accepted offers `content` as `name` with `hash` from mallory, waits for bob's offer line
  // (bob's file `n`, shown as `shown`), has him accept it and returns the id once mallory has
  // FILE_ACCEPTED; 0 on failure.
  uint32_t Accepted(uint32_t n, std::string_view name, std::string_view shown, uint64_t size,
                    std::string_view hash) {
    const uint32_t id = Offer(*mallory_, n, "bob", name, size, hash);
    if (id == 0 || !Saw(*bob_, Cat("-!- mallory offers ", shown, " ("))) {
      ADD_FAILURE() << "bob did not show the offer of " << shown;
      return 0;
    }
    EXPECT_TRUE(Saw(*bob_, Cat("): /accept ", n, " or /decline ", n, "\n")));
    EXPECT_TRUE(bob_->WriteStdin(Cat("/accept ", n)));
    if (!mallory_->Await(Is(Kind::kFileAccepted)).has_value()) {
      ADD_FAILURE() << "bob did not accept file " << n << Describe(*bob_);
      return 0;
    }
    return id;
  }

  std::unique_ptr<Process> bob_;
  std::unique_ptr<SocketClient> mallory_;
};

// The sender lies about the content: a hash that is no hash of the bytes, then the right hash
// with other bytes of the right size. bob checks, says so, keeps nothing (no file, no temporary
// file), and tells mallory why.
TEST_F(FilesAttackClientTest, AHashThatDoesNotMatchLeavesNoFile) {
  struct Lie {
    std::string hash;
    std::string sent;
  };
  const std::vector<Lie> lies = {{kWrongHash, "hello\n"}, {Sha("hello\n"), "jello\n"}};
  uint32_t n = 0;
  for (const Lie& lie : lies) {
    ++n;
    const uint32_t id = Accepted(n, "notes.txt", "notes.txt", lie.sent.size(), lie.hash);
    ASSERT_NE(id, 0u);
    EXPECT_TRUE(Saw(*bob_, Cat("-!- file ", n, ": receiving notes.txt (6 B) from mallory into ")));
    ASSERT_TRUE(mallory_->Send(msg::FileChunk{id, 0, lie.sent}));
    EXPECT_TRUE(Saw(*bob_, Cat("!! file ", n,
                               ": notes.txt from mallory not kept: what came does not match the "
                               "offered SHA-256 (SHA256:")));
    EXPECT_TRUE(Saw(*bob_, "): removed\n"));
    const std::optional<Seen> end = mallory_->Await(IsEnd(id, FileEnd::kReceiverCancelled));
    ASSERT_TRUE(end.has_value()) << "mallory was not told";
    EXPECT_EQ(end->tag, n);
    EXPECT_EQ(end->text, "the file does not match its SHA-256");
    EXPECT_TRUE(std::filesystem::is_directory(downloads_));
    EXPECT_EQ(Entries(downloads_), std::set<std::string>{}) << "nothing kept, nothing temporary";
  }
}

// A sender that vanishes halfway (its socket closed, no FILE_CANCEL): bob is told that it left,
// and the partial file, there a moment before, is gone.
TEST_F(FilesAttackClientTest, ASenderThatVanishesHalfwayLeavesNothingBehind) {
  constexpr uint64_t kSize = 1 << 20;
  const std::string content(kSize, 'v');
  const uint32_t id = Accepted(1, "half.bin", "half.bin", kSize, Sha(content));
  ASSERT_NE(id, 0u);
  // A fifth of it, then bob's progress line says the data is being written.
  for (uint64_t offset = 0; offset < kSize / 5; offset += kChunk) {
    ASSERT_TRUE(
        mallory_->Send(msg::FileChunk{id, offset, std::string_view(content).substr(0, kChunk)}));
  }
  ASSERT_TRUE(Saw(*bob_, "-!- file 1: half.bin 10% ("));
  EXPECT_EQ(Entries(downloads_).size(), 1u) << "the partial file, while the data comes";
  mallory_.reset();
  EXPECT_TRUE(Saw(*bob_, "!! file 1: half.bin stopped: mallory left\n"));
  EXPECT_EQ(Entries(downloads_), std::set<std::string>{}) << "the partial file is removed";
}

// Hostile names. The server refuses every name that is not a valid file name (6.14): a path,
// control characters (a terminal escape), a bidirectional override, more than 255 bytes, "..":
// mallory gets FILE_END refused with her tag, and bob hears nothing of them. Names the server
// lets through (a leading dot, an invisible right-to-left mark, only dots) bob shows escaped
// and saves under a safe base name in his download folder, and nowhere else. No escape, bell
// or bidirectional control byte from any name ever reaches bob's terminal.
TEST_F(FilesAttackClientTest, HostileNamesAreRefusedOrMadeSafe) {
  const std::set<std::string> before = Entries(dir_.path());
  const std::vector<std::string> refused = {
      "../../etc/passwd",       "\x1b]0;x\x07", "invoice\xE2\x80\xAEtxt.exe",
      std::string(10'000, 'n'), "..",           "dir\\file"};
  uint32_t tag = 100;
  for (const std::string& name : refused) {
    ++tag;
    ASSERT_TRUE(mallory_->Send(msg::FileOffer{tag, "bob", name, 1, Sha("x")}));
    const std::optional<Seen> end =
        mallory_->Await([](const Seen& s) { return s.kind == Kind::kFileEnd; });
    ASSERT_TRUE(end.has_value()) << Quoted(name.substr(0, 40));
    EXPECT_EQ(end->id, 0u);
    EXPECT_EQ(end->tag, tag);
    EXPECT_EQ(end->why, static_cast<uint8_t>(FileEnd::kRefused)) << Quoted(name.substr(0, 40));
    EXPECT_EQ(end->text, "invalid file name");
  }
  // bob prints mallory's line, sent after every offer: had any reached him, it would be first.
  ASSERT_TRUE(mallory_->Send(msg::Say{"names done"}));
  ASSERT_TRUE(Saw(*bob_, "<mallory> names done\n"));
  EXPECT_FALSE(Contains(bob_->out(), "offers")) << Describe(*bob_);

  struct Made {
    std::string name;   // offered
    std::string shown;  // in bob's lines
    std::string saved;  // in downloads_
  };
  const std::vector<Made> made = {{".bashrc", ".bashrc", "bashrc"},
                                  {"report\xE2\x80\x8F"
                                   "fdp.exe",
                                   "report\\u{200F}fdp.exe", "reportfdp.exe"},
                                  {"....", "....", "file"}};
  uint32_t n = 0;
  for (const Made& m : made) {
    ++n;
    const uint32_t id = Accepted(n, m.name, m.shown, 1, Sha("x"));
    ASSERT_NE(id, 0u);
    ASSERT_TRUE(mallory_->Send(msg::FileChunk{id, 0, "x"}));
    EXPECT_TRUE(Saw(*bob_, Cat("-!- file ", n, ": ", m.saved, " from mallory saved as ", downloads_,
                               "/", m.saved, " (")));
    EXPECT_TRUE(mallory_->Await(IsEnd(id, FileEnd::kDone)).has_value()) << m.saved;
  }
  EXPECT_EQ(Entries(downloads_), (std::set<std::string>{"bashrc", "file", "reportfdp.exe"}));
  std::set<std::string> added;
  for (const std::string& entry : Entries(dir_.path())) {
    if (!before.contains(entry) && !entry.starts_with("downloads")) {
      added.insert(entry);
    }
  }
  EXPECT_EQ(added, std::set<std::string>{}) << "written outside the download folder";

  // Everything bob printed, byte for byte.
  const std::string& out = bob_->out();
  for (const std::string_view bad : {"\x1b", "\x07", "\xE2\x80\xAE", "\xE2\x80\x8F"}) {
    EXPECT_FALSE(Contains(out, bad)) << Quoted(bad) << " reached the terminal" << Describe(*bob_);
  }
}

}  // namespace
}  // namespace securechat::testing
