// File transfer (PROTOCOL.md 6.14), seen from the wire with RawClients against the server
// core: an offer, its answer, the stream and its end; every refusal and every limit; expiry;
// cancels from either side; broken streams; flow control against a receiver that stops
// reading; a side that leaves; and the rate's exemption for chunks, with its bound.
#include "securechat/engine/transfers.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "securechat/base/cat.h"
#include "support/in_memory.h"
#include "support/raw_client.h"

namespace securechat {
namespace {

using ::securechat::testing::InMemoryNet;
using ::securechat::testing::RawClient;
using ::securechat::testing::Seen;

using Lines = std::vector<std::string>;

const std::string kHash(proto::kFileHashLen, 'h');

constexpr int kDone = static_cast<int>(proto::FileEnd::kDone);
constexpr int kDeclined = static_cast<int>(proto::FileEnd::kDeclined);
constexpr int kSenderCancelled = static_cast<int>(proto::FileEnd::kSenderCancelled);
constexpr int kReceiverCancelled = static_cast<int>(proto::FileEnd::kReceiverCancelled);
constexpr int kExpired = static_cast<int>(proto::FileEnd::kExpired);
constexpr int kStalled = static_cast<int>(proto::FileEnd::kStalled);
constexpr int kGone = static_cast<int>(proto::FileEnd::kGone);
constexpr int kBroken = static_cast<int>(proto::FileEnd::kBroken);

ServerOptions Options(TransferLimits transfers = {}) {
  ServerOptions options;
  options.rate = 0;  // the rate has its own tests below
  options.transfers = transfers;
  return options;
}

// Describe names a server message in a few words, with the fields that matter for files.
std::string Describe(const Seen& m) {
  switch (m.kind) {
    case proto::Kind::kFileOffered:
      return Cat("FILE_OFFERED tag ", m.tag, " id ", m.id);
    case proto::Kind::kFileIncoming:
      return Cat("FILE_INCOMING ", m.id, " from ", m.from, " ", m.text, " ", m.size, " bytes",
                 m.data == kHash ? "" : " (another hash)");
    case proto::Kind::kFileAccepted:
      return Cat("FILE_ACCEPTED ", m.id);
    case proto::Kind::kFileData:
      return Cat("FILE_DATA ", m.id, " at ", m.offset, " ", m.data.size(), " bytes");
    case proto::Kind::kFileEnd:
      return Cat("FILE_END ", m.id, " tag ", m.tag, " why ", static_cast<int>(m.why), " [", m.text,
                 "]");
    case proto::Kind::kError:
      return Cat("ERROR ", m.code, m.fatal ? " fatal" : "");
    case proto::Kind::kChat:
      return Cat("CHAT ", m.from, ": ", m.text);
    case proto::Kind::kPong:
      return "PONG";
    case proto::Kind::kMemberLeft:
      return "MEMBER_LEFT";
    case proto::Kind::kNotice:
      return Cat("NOTICE ", m.text);
    default:
      return Cat("kind ", static_cast<int>(m.kind));
  }
}

class TransfersTest : public ::testing::Test {
 protected:
  explicit TransfersTest(ServerOptions options = Options()) : net_(std::move(options)) {}

  // Member connects a raw client (from `address`) and joins as `nick`.
  RawClient& Member(const std::string& nick,
                    std::string_view address = ::securechat::testing::kTestAddress) {
    clients_.push_back(std::make_unique<RawClient>(net_, address));
    RawClient& c = *clients_.back();
    c.Send(msg::Join{nick});
    for (auto& other : clients_) {
      other->Read();  // the WELCOME, and the join's MEMBER_JOINED and NOTICE
    }
    return c;
  }

  // Said: what `c` was sent since it last looked, described. FILE_DATA's bytes go to *data.
  static Lines Said(RawClient& c, std::string* data = nullptr) {
    Lines out;
    for (const Seen& m : c.Read()) {
      if (data != nullptr && m.kind == proto::Kind::kFileData) {
        data->append(m.data);
      }
      out.push_back(Describe(m));
    }
    return out;
  }

  // Ask sends `m` from `c` and returns what `c` is sent back.
  static Lines Ask(RawClient& c, const msg::ClientMessage& m) {
    c.Send(m);
    return Said(c);
  }

  // Offered: `from` offers `size` bytes to `to` as `tag`; returns the transfer's id, having
  // checked both sides' messages.
  uint32_t Offered(RawClient& from, RawClient& to, const std::string& to_nick,
                   const std::string& from_nick, uint64_t size, uint32_t tag = 7) {
    from.Send(msg::FileOffer{tag, to_nick, "report.pdf", size, kHash});
    const std::vector<Seen> seen = from.Read();
    EXPECT_EQ(seen.size(), 1u);
    if (seen.size() != 1 || seen[0].kind != proto::Kind::kFileOffered) {
      ADD_FAILURE() << "no FILE_OFFERED";
      return 0;
    }
    const uint32_t id = seen[0].id;
    EXPECT_EQ(seen[0].tag, tag);
    EXPECT_NE(id, 0u);
    EXPECT_EQ(Said(to), Lines{Cat("FILE_INCOMING ", id, " from ", from_nick, " report.pdf ", size,
                                  " bytes")});
    return id;
  }

  // Streaming: Offered, then accepted by `to`.
  uint32_t Streaming(RawClient& from, RawClient& to, const std::string& to_nick,
                     const std::string& from_nick, uint64_t size, uint32_t tag = 7) {
    const uint32_t id = Offered(from, to, to_nick, from_nick, size, tag);
    EXPECT_EQ(Ask(to, msg::FileAccept{id}), Lines{});
    EXPECT_EQ(Said(from), Lines{Cat("FILE_ACCEPTED ", id)});
    return id;
  }

  // Ended: what each side is told when transfer `id` (offer `tag`) ends as `why`.
  static std::string SenderEnd(uint32_t id, uint32_t tag, int why, std::string_view reason = "") {
    return Cat("FILE_END ", id, " tag ", tag, " why ", why, " [", reason, "]");
  }
  static std::string ReceiverEnd(uint32_t id, int why, std::string_view reason = "") {
    return Cat("FILE_END ", id, " tag 0 why ", why, " [", reason, "]");
  }
  static std::string Refused(uint32_t tag, std::string_view reason) {
    return Cat("FILE_END 0 tag ", tag, " why 8 [", reason, "]");
  }

  InMemoryNet net_;
  std::vector<std::unique_ptr<RawClient>> clients_;
};

// Bytes are a pattern, so that a chunk relayed at the wrong offset shows.
std::string Pattern(size_t n, size_t from = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>((from + i) * 131 % 251);
  }
  return s;
}

TEST_F(TransfersTest, AFileGoesFromOfferToDoneWithEveryByteRelayedInOrder) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  const size_t size = 2 * proto::kMaxChunkLen + 1000;
  const std::string file = Pattern(size);
  const uint32_t id = Streaming(alice, bob, "bob", "alice", size, /*tag=*/42);
  EXPECT_EQ(net_.core().transfer_count(), 1u);
  for (size_t at = 0; at < size; at += proto::kMaxChunkLen) {
    const std::string_view chunk = std::string_view(file).substr(at, proto::kMaxChunkLen);
    alice.Send(msg::FileChunk{id, at, chunk});
  }
  EXPECT_EQ(Said(alice), Lines{});  // nothing for the sender while it streams
  std::string got;
  EXPECT_EQ(Said(bob, &got), (Lines{Cat("FILE_DATA ", id, " at 0 16369 bytes"),
                                    Cat("FILE_DATA ", id, " at 16369 16369 bytes"),
                                    Cat("FILE_DATA ", id, " at 32738 1000 bytes")}));
  EXPECT_EQ(got, file);
  bob.Send(msg::FileDone{id});
  EXPECT_EQ(Said(alice), Lines{SenderEnd(id, 42, kDone)});
  EXPECT_EQ(Said(bob), Lines{ReceiverEnd(id, kDone)});
  EXPECT_EQ(net_.core().transfer_count(), 0u);
  // The log tells who sent how much to whom, never the file's name.
  EXPECT_EQ(net_.log.end()[-1],
            Cat("file ", id, ": #1 alice -> #2 bob, 33738 of 33738 bytes relayed, ended: done"));
  for (const std::string& line : net_.log) {
    EXPECT_EQ(line.find("report"), std::string::npos) << line;
  }
  // Once over, the transfer answers nothing more.
  EXPECT_EQ(Ask(bob, msg::FileDone{id}), Lines{"ERROR 17"});
}

TEST_F(TransfersTest, AnEmptyFileIsWholeOnceAcceptedAndEndsWithDone) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  const uint32_t id = Streaming(alice, bob, "bob", "alice", 0);
  // No chunk fits in it.
  alice.Send(msg::FileChunk{id, 0, "x"});
  EXPECT_EQ(Said(alice),
            Lines{SenderEnd(id, 7, kBroken, "the sender sent more than the file's size")});
  EXPECT_EQ(Said(bob),
            Lines{ReceiverEnd(id, kBroken, "the sender sent more than the file's size")});

  const uint32_t id2 = Streaming(alice, bob, "bob", "alice", 0);
  EXPECT_NE(id2, id);
  bob.Send(msg::FileDone{id2});
  EXPECT_EQ(Said(alice), Lines{SenderEnd(id2, 7, kDone)});
  EXPECT_EQ(Said(bob), Lines{ReceiverEnd(id2, kDone)});
}

// Each refusal: FILE_END id 0 with the offer's tag and why 8, a reason, and nothing else
// happens: the receiver hears nothing, no transfer is made.
TEST_F(TransfersTest, OffersAreRefusedWithTheirTagAndAReasonAndChangeNothing) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  RawClient outsider(net_);  // connected, never joined: holds no nick
  const auto refused = [&](const msg::FileOffer& m) {
    Lines said = Ask(alice, m);
    EXPECT_EQ(Said(bob), Lines{});
    EXPECT_EQ(net_.core().transfer_count(), 0u);
    return said;
  };
  EXPECT_EQ(refused({1, "carol", "a.txt", 1, kHash}), Lines{Refused(1, "no such user")});
  EXPECT_EQ(refused({2, "b o b", "a.txt", 1, kHash}), Lines{Refused(2, "no such user")});
  EXPECT_EQ(refused({3, "ALICE", "a.txt", 1, kHash}),
            Lines{Refused(3, "you cannot send a file to yourself")});
  for (const std::string_view name :
       {"", ".", "..", "../../etc/passwd", "a/b", "a\\b", "\x1b]0;x\x07", "bad\xff"}) {
    EXPECT_EQ(refused({4, "bob", name, 1, kHash}), Lines{Refused(4, "invalid file name")}) << name;
  }
  const std::string long_name(proto::kMaxFileNameLen + 1, 'n');
  EXPECT_EQ(refused({5, "bob", long_name, 1, kHash}), Lines{Refused(5, "invalid file name")});
  EXPECT_EQ(refused({6, "bob", "big.iso", (uint64_t{1} << 30) + 1, kHash}),
            Lines{Refused(6, "file too large: this server relays at most 1073741824 bytes")});
  // The largest file and name allowed are taken.
  EXPECT_EQ(Ask(alice, msg::FileOffer{8, "BOB", std::string(proto::kMaxFileNameLen, 'n'),
                                      uint64_t{1} << 30, kHash}),
            Lines{"FILE_OFFERED tag 8 id 1"});
}

TEST_F(TransfersTest, AMutedMemberCannotOfferAndIsToldByItsTag) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  net_.core().ConsoleLine("/mute alice");
  Said(alice);
  Said(bob);
  EXPECT_EQ(Ask(alice, msg::FileOffer{9, "bob", "a.txt", 1, kHash}),
            Lines{Refused(9, "you are muted")});
  EXPECT_EQ(Said(bob), Lines{});
  EXPECT_EQ(net_.core().transfer_count(), 0u);
}

TEST_F(TransfersTest, AnOfferNobodyAnswersExpiresOnTheServersClock) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  const uint32_t id = Offered(alice, bob, "bob", "alice", 10);
  const std::optional<uint64_t> wait = net_.core().MsUntilTick();
  ASSERT_TRUE(wait.has_value());
  EXPECT_LE(*wait, 120'000u);
  net_.Advance(119'999);
  EXPECT_EQ(Said(alice), Lines{});
  EXPECT_EQ(Said(bob), Lines{});
  net_.Advance(1);
  EXPECT_EQ(Said(alice), Lines{SenderEnd(id, 7, kExpired, "nobody answered the offer in time")});
  EXPECT_EQ(Said(bob), Lines{ReceiverEnd(id, kExpired, "nobody answered the offer in time")});
  EXPECT_EQ(net_.core().transfer_count(), 0u);
  EXPECT_EQ(Ask(bob, msg::FileAccept{id}), Lines{"ERROR 17"});
}

TEST_F(TransfersTest, AnAcceptedTransferDoesNotExpire) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  const uint32_t id = Streaming(alice, bob, "bob", "alice", 10);
  net_.Advance(200'000);
  alice.Send(msg::FileChunk{id, 0, "0123456789"});
  EXPECT_EQ(Said(bob), Lines{Cat("FILE_DATA ", id, " at 0 10 bytes")});
}

TEST_F(TransfersTest, EitherSideCancelsAndTheReceiverDeclinesWithAReason) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  RawClient& carol = Member("carol");

  uint32_t id = Offered(alice, bob, "bob", "alice", 10);
  bob.Send(msg::FileCancel{id, "no thanks"});
  EXPECT_EQ(Said(alice), Lines{SenderEnd(id, 7, kDeclined, "no thanks")});
  EXPECT_EQ(Said(bob), Lines{ReceiverEnd(id, kDeclined, "no thanks")});

  id = Offered(alice, bob, "bob", "alice", 10);
  alice.Send(msg::FileCancel{id, ""});
  EXPECT_EQ(Said(alice), Lines{SenderEnd(id, 7, kSenderCancelled)});
  EXPECT_EQ(Said(bob), Lines{ReceiverEnd(id, kSenderCancelled)});

  id = Streaming(alice, bob, "bob", "alice", 10);
  alice.Send(msg::FileChunk{id, 0, "01234"});
  EXPECT_EQ(Said(bob).size(), 1u);
  alice.Send(msg::FileCancel{id, "wrong file"});
  EXPECT_EQ(Said(alice), Lines{SenderEnd(id, 7, kSenderCancelled, "wrong file")});
  EXPECT_EQ(Said(bob), Lines{ReceiverEnd(id, kSenderCancelled, "wrong file")});

  id = Streaming(alice, bob, "bob", "alice", 10);
  // A reason that is not valid text, or too long, changes nothing.
  EXPECT_EQ(Ask(bob, msg::FileCancel{id, "bad\x01"}), Lines{"ERROR 7"});
  EXPECT_EQ(Ask(bob, msg::FileCancel{id, std::string(proto::kMaxReasonLen + 1, 'r')}),
            Lines{"ERROR 7"});
  // Nor does a cancel from someone who is not a side of it.
  EXPECT_EQ(Ask(carol, msg::FileCancel{id, ""}), Lines{"ERROR 17"});
  EXPECT_EQ(Said(alice), Lines{});
  EXPECT_EQ(net_.core().transfer_count(), 1u);
  bob.Send(msg::FileCancel{id, "disk full"});
  EXPECT_EQ(Said(alice), Lines{SenderEnd(id, 7, kReceiverCancelled, "disk full")});
  EXPECT_EQ(Said(bob), Lines{ReceiverEnd(id, kReceiverCancelled, "disk full")});
  EXPECT_EQ(Ask(bob, msg::FileCancel{id, ""}), Lines{"ERROR 17"});
  EXPECT_EQ(net_.core().transfer_count(), 0u);
}

TEST_F(TransfersTest, OnlyTheReceiverAcceptsAndOnlyOnce) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  RawClient& carol = Member("carol");
  const uint32_t id = Offered(alice, bob, "bob", "alice", 10);
  EXPECT_EQ(Ask(alice, msg::FileAccept{id}), Lines{"ERROR 17"});
  EXPECT_EQ(Ask(carol, msg::FileAccept{id}), Lines{"ERROR 17"});
  EXPECT_EQ(Ask(bob, msg::FileAccept{id + 1}), Lines{"ERROR 17"});
  // Before it is accepted, a chunk is no one's: charged and refused, and the offer stands.
  EXPECT_EQ(Ask(alice, msg::FileChunk{id, 0, "x"}), Lines{"ERROR 17"});
  EXPECT_EQ(Said(alice), Lines{});
  EXPECT_EQ(Ask(bob, msg::FileAccept{id}), Lines{});
  EXPECT_EQ(Said(alice), Lines{Cat("FILE_ACCEPTED ", id)});
  EXPECT_EQ(Ask(bob, msg::FileAccept{id}), Lines{"ERROR 17"});
  EXPECT_EQ(Said(alice), Lines{});
}

TEST_F(TransfersTest, AChunkOutOfOrderOrPastTheSizeBreaksTheTransfer) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  const std::string kOrder = "the sender sent a chunk out of order";
  const std::string kPast = "the sender sent more than the file's size";

  uint32_t id = Streaming(alice, bob, "bob", "alice", 10);
  alice.Send(msg::FileChunk{id, 0, "01234"});
  alice.Send(msg::FileChunk{id, 6, "6789"});  // a byte skipped
  EXPECT_EQ(Said(alice), Lines{SenderEnd(id, 7, kBroken, kOrder)});
  EXPECT_EQ(Said(bob),
            (Lines{Cat("FILE_DATA ", id, " at 0 5 bytes"), ReceiverEnd(id, kBroken, kOrder)}));

  id = Streaming(alice, bob, "bob", "alice", 10);
  alice.Send(msg::FileChunk{id, 0, "01234"});
  alice.Send(msg::FileChunk{id, 0, "01234"});  // the same bytes again
  EXPECT_EQ(Said(alice), Lines{SenderEnd(id, 7, kBroken, kOrder)});
  EXPECT_EQ(Said(bob).back(), ReceiverEnd(id, kBroken, kOrder));

  id = Streaming(alice, bob, "bob", "alice", 10);
  alice.Send(msg::FileChunk{id, 0, "0123456789X"});  // one byte too many
  EXPECT_EQ(Said(alice), Lines{SenderEnd(id, 7, kBroken, kPast)});
  EXPECT_EQ(Said(bob), Lines{ReceiverEnd(id, kBroken, kPast)});

  // After the end, a late chunk that goes on where the relayed data stopped, within the size,
  // is dropped without an answer; one that does not is refused.
  alice.Send(msg::FileChunk{id, 0, "0123456789"});
  EXPECT_EQ(Said(alice), Lines{});
  EXPECT_EQ(Said(bob), Lines{});
  EXPECT_EQ(Ask(alice, msg::FileChunk{id, 11, "late"}), Lines{"ERROR 17"});
  EXPECT_EQ(Said(bob), Lines{});

  // A chunk from the receiver, or naming no transfer, is refused.
  id = Streaming(alice, bob, "bob", "alice", 10);
  EXPECT_EQ(Ask(bob, msg::FileChunk{id, 0, "x"}), Lines{"ERROR 17"});
  EXPECT_EQ(Ask(alice, msg::FileChunk{id + 100, 0, "x"}), Lines{"ERROR 17"});
  EXPECT_EQ(Said(bob), Lines{});
  EXPECT_EQ(net_.core().transfer_count(), 1u);
}

TEST_F(TransfersTest, DoneBeforeEveryByteOrFromTheSenderIsRefused) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  const uint32_t offered = Offered(alice, bob, "bob", "alice", 0);
  EXPECT_EQ(Ask(bob, msg::FileDone{offered}), Lines{"ERROR 17"});  // not accepted yet
  bob.Send(msg::FileCancel{offered, ""});
  Said(alice);
  Said(bob);

  const uint32_t id = Streaming(alice, bob, "bob", "alice", 10);
  EXPECT_EQ(Ask(bob, msg::FileDone{id}), Lines{"ERROR 17"});
  alice.Send(msg::FileChunk{id, 0, "012345678"});
  EXPECT_EQ(Ask(bob, msg::FileDone{id}),
            (Lines{Cat("FILE_DATA ", id, " at 0 9 bytes"), "ERROR 17"}));
  alice.Send(msg::FileChunk{id, 9, "9"});
  EXPECT_EQ(Ask(alice, msg::FileDone{id}), Lines{"ERROR 17"});  // the sender's word is not enough
  EXPECT_EQ(Said(bob), Lines{Cat("FILE_DATA ", id, " at 9 1 bytes")});
  bob.Send(msg::FileDone{id});
  EXPECT_EQ(Said(alice), Lines{SenderEnd(id, 7, kDone)});
}

TEST_F(TransfersTest, ASideThatLeavesEndsItsTransfersForTheOther) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  RawClient& carol = Member("carol");
  const uint32_t streaming = Streaming(alice, bob, "bob", "alice", 100);
  alice.Send(msg::FileChunk{streaming, 0, "half of it"});
  const uint32_t offered = Offered(carol, alice, "alice", "carol", 5, /*tag=*/3);
  net_.core().PeerClosed(alice.id(), "connection reset");
  EXPECT_EQ(Said(bob), (Lines{Cat("FILE_DATA ", streaming, " at 0 10 bytes"),
                              ReceiverEnd(streaming, kGone), "MEMBER_LEFT", "NOTICE alice left"}));
  EXPECT_EQ(Said(carol), (Lines{SenderEnd(offered, 3, kGone), "MEMBER_LEFT", "NOTICE alice left"}));
  EXPECT_EQ(net_.core().transfer_count(), 0u);
  EXPECT_EQ(net_.log.end()[-1], Cat("leave #1 alice (connection reset)"));
}

TEST_F(TransfersTest, AKickOrABanOfASideEndsItsTransfers) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  RawClient& carol = Member("carol", "198.51.100.7");  // a ban of a guest holds its address
  const uint32_t to_bob = Streaming(alice, bob, "bob", "alice", 100, /*tag=*/1);
  const uint32_t to_carol = Offered(alice, carol, "carol", "alice", 100, /*tag=*/2);
  net_.core().ConsoleLine("/kick bob enough");
  EXPECT_EQ(Said(alice).front(), SenderEnd(to_bob, 1, kGone));
  net_.core().ConsoleLine("/ban carol");
  EXPECT_EQ(Said(alice).front(), SenderEnd(to_carol, 2, kGone));
  EXPECT_EQ(net_.core().transfer_count(), 0u);
}

TEST_F(TransfersTest, ShutdownEndsTransfersWithoutAWord) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  Streaming(alice, bob, "bob", "alice", 100);
  net_.core().Shutdown();
  EXPECT_EQ(Said(alice), Lines{"ERROR 9 fatal"});
  EXPECT_EQ(Said(bob), Lines{"ERROR 9 fatal"});
  EXPECT_EQ(net_.core().transfer_count(), 0u);
}

TransferLimits SmallLimits() {
  TransferLimits limits;
  limits.max_file_bytes = 1000;
  limits.max_transfers = 5;
  limits.max_transfers_per_client = 2;
  limits.max_offers_per_minute = 4;
  return limits;
}

class TransferLimitsTest : public TransfersTest {
 protected:
  TransferLimitsTest() : TransfersTest(Options(SmallLimits())) {}
};

TEST_F(TransferLimitsTest, EachLimitRefusesTheOfferPastIt) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  RawClient& carol = Member("carol");
  RawClient& dave = Member("dave");
  EXPECT_EQ(Ask(alice, msg::FileOffer{1, "bob", "a", 1001, kHash}),
            Lines{Refused(1, "file too large: this server relays at most 1000 bytes")});
  // Two transfers for alice, as sender or receiver, offers not yet answered included.
  Offered(alice, bob, "bob", "alice", 1000);
  Offered(carol, alice, "alice", "carol", 1);
  EXPECT_EQ(Ask(alice, msg::FileOffer{2, "dave", "a", 1, kHash}),
            Lines{Refused(2, "you already have 2 transfers")});
  EXPECT_EQ(Ask(dave, msg::FileOffer{3, "alice", "a", 1, kHash}),
            Lines{Refused(3, "alice already has 2 transfers")});
  EXPECT_EQ(Said(alice), Lines{});
  EXPECT_EQ(net_.core().transfer_count(), 2u);
}

TEST_F(TransferLimitsTest, OffersPerMinuteAreCountedForEachConnection) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  for (uint32_t tag = 1; tag <= 4; ++tag) {
    const uint32_t id = Offered(alice, bob, "bob", "alice", 1, tag);
    alice.Send(msg::FileCancel{id, ""});
    Said(alice);
    Said(bob);
  }
  EXPECT_EQ(Ask(alice, msg::FileOffer{5, "bob", "a", 1, kHash}),
            Lines{Refused(5, "too many offers: at most 4 a minute")});
  EXPECT_EQ(Said(bob), Lines{});
  // bob's offers are his own.
  Offered(bob, alice, "alice", "bob", 1);
  // A quarter of a minute later, alice may offer one more.
  net_.Advance(15'000);
  Offered(alice, bob, "bob", "alice", 1, 6);
}

TEST_F(TransferLimitsTest, TheServerHoldsAtMostMaxTransfers) {
  RawClient& sink1 = Member("sink1");
  RawClient& sink2 = Member("sink2");
  RawClient& sink3 = Member("sink3");
  RawClient* sinks[] = {&sink1, &sink2, &sink3};
  RawClient* s0 = nullptr;
  uint32_t first_id = 0;
  for (int i = 0; i < 5; ++i) {
    RawClient& s = Member(Cat("s", i));
    RawClient& to = *sinks[i % 3];
    const uint32_t id = Offered(s, to, Cat("sink", i % 3 + 1), Cat("s", i), 1);
    if (i == 0) {
      s0 = &s;
      first_id = id;
    }
  }
  EXPECT_EQ(net_.core().transfer_count(), 5u);
  RawClient& late = Member("late");
  // More refusals than late's offers per minute: a refused offer costs none of them.
  for (uint32_t tag = 9; tag < 9 + 6; ++tag) {
    EXPECT_EQ(Ask(late, msg::FileOffer{tag, "sink3", "a", 1, kHash}),
              Lines{Refused(tag, "the server has too many transfers; try again later")});
  }
  EXPECT_EQ(Said(sink3), Lines{});
  // Once a transfer ends, late's offer is taken at once.
  s0->Send(msg::FileCancel{first_id, ""});
  Said(*s0);
  Said(sink1);
  Offered(late, sink3, "sink3", "late", 1, 20);
}

// Flow control: a receiver that stops reading holds its sender's input, and nothing else.
class FlowControlTest : public TransfersTest {
 protected:
  static constexpr size_t kWindow = 64 * 1024;
  static ServerOptions FlowOptions() {
    TransferLimits limits;
    limits.file_window = kWindow;
    ServerOptions options = Options(limits);
    options.max_queue_bytes = 4 * kWindow;
    return options;
  }
  FlowControlTest() : TransfersTest(FlowOptions()) {}
  explicit FlowControlTest(ServerOptions options) : TransfersTest(std::move(options)) {}

  // Wire holds bytes a client has sent that the server has not read yet, as a socket does,
  // and hands them over as the server's loop would: 16 KiB at a time, only while the server
  // wants to read that connection.
  struct Wire {
    std::vector<uint8_t> bytes;
    size_t read = 0;
  };
  // Turn reads what the loop would in one turn: nothing if the core does not want `c` read.
  bool Turn(RawClient& c, Wire& wire) {
    if (!net_.core().WantsRead(c.id()) || wire.read == wire.bytes.size()) {
      return false;
    }
    const size_t n = std::min<size_t>(16 * 1024, wire.bytes.size() - wire.read);
    net_.core().Receive(c.id(), ByteView(wire.bytes.data() + wire.read, n));
    wire.read += n;
    return true;
  }
  // Chunks is `file` as the sender's chunks of transfer `id`, on the wire unread.
  static Wire Chunks(RawClient& c, uint32_t id, std::string_view file) {
    Wire wire;
    for (size_t at = 0; at < file.size(); at += proto::kMaxChunkLen) {
      Put(c, wire, msg::FileChunk{id, at, file.substr(at, proto::kMaxChunkLen)});
    }
    return wire;
  }
  static void Put(RawClient& c, Wire& wire, const msg::ClientMessage& m) {
    const std::vector<uint8_t> sealed = c.Seal(m);
    wire.bytes.insert(wire.bytes.end(), sealed.begin(), sealed.end());
  }
};

TEST_F(FlowControlTest, AReceiverThatStopsReadingHoldsTheSenderAndOnlyTheSender) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  RawClient& carol = Member("carol");
  const size_t size = 1 << 20;  // far more than the window
  const uint32_t id = Streaming(alice, bob, "bob", "alice", size);
  const std::string file = Pattern(size);
  Wire wire;
  for (size_t at = 0; at < size; at += proto::kMaxChunkLen) {
    Put(alice, wire,
        msg::FileChunk{id, at, std::string_view(file).substr(at, proto::kMaxChunkLen)});
  }
  Put(alice, wire, msg::Say{"are you there?"});
  // bob reads nothing: the server reads alice until bob's queue holds a window, then stops.
  const size_t bound = kWindow + 16 * 1024 + proto::kMaxFrameLen;
  while (Turn(alice, wire)) {
    EXPECT_LE(net_.core().Pending(bob.id()).size(), bound);
  }
  EXPECT_FALSE(net_.core().WantsRead(alice.id()));
  EXPECT_GE(net_.core().Pending(bob.id()).size(), kWindow);
  EXPECT_LT(wire.read, wire.bytes.size());
  // carol is still read and served; alice's line waits behind her chunks.
  EXPECT_TRUE(net_.core().WantsRead(carol.id()));
  EXPECT_TRUE(net_.core().WantsRead(bob.id()));
  EXPECT_EQ(Ask(carol, msg::Ping{"p"}), Lines{"PONG"});
  EXPECT_EQ(Said(carol), Lines{});
  // As bob reads, alice is read again, a window at a time, until all of it is through.
  std::string got;
  size_t turns = 0;
  while (wire.read < wire.bytes.size()) {
    ASSERT_LT(++turns, 1000u);
    Said(bob, &got);
    while (Turn(alice, wire)) {
      EXPECT_LE(net_.core().Pending(bob.id()).size(), bound);
    }
  }
  EXPECT_EQ(Said(carol), Lines{"CHAT alice: are you there?"});
  Said(bob, &got);
  EXPECT_EQ(got.size(), size);
  EXPECT_TRUE(got == file);
  bob.Send(msg::FileDone{id});
  EXPECT_EQ(Said(alice), Lines{SenderEnd(id, 7, kDone)});
}

TEST_F(FlowControlTest, ChatToTheReceiverWaitsBehindAtMostAWindow) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  RawClient& carol = Member("carol");
  const size_t size = 1 << 20;
  const uint32_t id = Streaming(alice, bob, "bob", "alice", size);
  Wire wire = Chunks(alice, id, Pattern(size));
  while (Turn(alice, wire)) {
  }
  carol.Send(msg::Whisper{"bob", "lunch?"});
  // bob's next reads: the window of file data, then carol's line, while alice still waits.
  const std::vector<Seen> seen = bob.Read();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().kind, proto::Kind::kChat);
  EXPECT_EQ(seen.back().text, "lunch?");
  EXPECT_LT(wire.read, wire.bytes.size());
}

TEST_F(FlowControlTest, TheSenderIsReadOnceTheTransferEnds) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  const size_t size = 1 << 20;
  const uint32_t id = Streaming(alice, bob, "bob", "alice", size);
  Wire wire;
  const std::string file = Pattern(4 * kWindow);
  for (size_t at = 0; at < file.size(); at += proto::kMaxChunkLen) {
    Put(alice, wire,
        msg::FileChunk{id, at, std::string_view(file).substr(at, proto::kMaxChunkLen)});
  }
  while (Turn(alice, wire)) {
  }
  EXPECT_FALSE(net_.core().WantsRead(alice.id()));
  // bob, not reading, cancels: alice's chunks in flight are then dropped without an answer.
  bob.Send(msg::FileCancel{id, "changed my mind"});
  EXPECT_TRUE(net_.core().WantsRead(alice.id()));
}

// A receiver that takes nothing cannot hold its sender for ever: after the stall timeout the
// transfer ends as stalled, for both, and the sender is read again. Meanwhile the sender, which
// the server does not read, is not taken for idle, even past its idle timeout.
class StallTest : public FlowControlTest {
 protected:
  static ServerOptions StallOptions() {
    ServerOptions options = FlowOptions();
    options.idle_timeout_ms = 20'000;  // shorter than the stall timeout (30 s)
    return options;
  }
  StallTest() : FlowControlTest(StallOptions()) {}
};

TEST_F(StallTest, AReceiverThatTakesNothingEndsTheTransferNotTheSender) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  const size_t size = 1 << 20;
  const uint32_t id = Streaming(alice, bob, "bob", "alice", size);
  Wire wire = Chunks(alice, id, Pattern(size));
  while (Turn(alice, wire)) {
  }
  ASSERT_FALSE(net_.core().WantsRead(alice.id()));
  net_.Advance(0);  // the loop's turn after the read: the hold starts
  const std::optional<uint64_t> wait = net_.core().MsUntilTick();
  ASSERT_TRUE(wait.has_value());
  EXPECT_LE(*wait, 20'000u);
  net_.Advance(15'000);
  bob.Send(msg::Ping{"still here"});  // bob is not idle either; he just does not read
  net_.Advance(14'999);
  EXPECT_EQ(net_.core().StateOf(alice.id()), ConnState::kJoined) << "held, not idle";
  EXPECT_FALSE(net_.core().WantsRead(alice.id()));
  EXPECT_EQ(Said(alice), Lines{});
  net_.Advance(1);
  EXPECT_TRUE(net_.core().WantsRead(alice.id()));
  EXPECT_EQ(Said(alice), Lines{SenderEnd(id, 7, kStalled, "the receiver took no data for 30 s")});
  const std::vector<Seen> seen = bob.Read();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().kind, proto::Kind::kFileEnd);
  EXPECT_EQ(seen.back().why, kStalled);
  EXPECT_EQ(net_.core().transfer_count(), 0u);
  EXPECT_EQ(net_.core().StateOf(alice.id()), ConnState::kJoined);
}

// A receiver that takes data, however slowly, is not stalled: each time the sender is read
// again the stall clock starts over.
TEST_F(StallTest, AReceiverThatTakesDataSlowlyIsNotStalled) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  const uint32_t id = Streaming(alice, bob, "bob", "alice", 1 << 20);
  Wire wire = Chunks(alice, id, Pattern(1 << 20));
  while (Turn(alice, wire)) {
  }
  net_.Advance(0);
  for (int i = 0; i < 10; ++i) {  // 50 s, five seconds a step
    net_.Advance(5'000);
    bob.Send(msg::Ping{"here"});
    net_.core().Consumed(bob.id(), 40 * 1024);  // bob takes a little, below the window
    ASSERT_TRUE(Turn(alice, wire)) << i;        // so alice is read again
    while (Turn(alice, wire)) {
    }
  }
  EXPECT_EQ(net_.core().transfer_count(), 1u);
  EXPECT_EQ(Said(alice), Lines{});
}

// The rate: chunks of a stream are free, and late ones are dropped free up to a window.
class ChunkRateTest : public TransfersTest {
 protected:
  static ServerOptions RateOptions() {
    TransferLimits limits;
    limits.file_window = 16 * 1024;
    ServerOptions options = Options(limits);
    options.rate = 1;
    options.burst = 10;
    return options;
  }
  ChunkRateTest() : TransfersTest(RateOptions()) {}
};

// Late chunks, sent before the sender heard of the end, are dropped free as long as they go on
// in order within the file, however many: sockets on both sides can hold megabytes of them, and
// an honest sender must not be disconnected for them. A replay, or a chunk past the size, is
// charged and refused.
TEST_F(ChunkRateTest, ChunksOfAStreamAreFreeAndLateOnesAreDroppedInOrderWithinTheFile) {
  RawClient& alice = Member("alice");  // JOIN: 9 tokens left
  RawClient& bob = Member("bob");
  const uint32_t id = Streaming(alice, bob, "bob", "alice", 1 << 20);  // FILE_OFFER: 8 left
  const std::string kilobyte(1024, 'k');
  for (uint64_t i = 0; i < 100; ++i) {
    alice.Send(msg::FileChunk{id, i * 1024, kilobyte});
  }
  EXPECT_EQ(Said(alice), Lines{});  // no ERROR 6
  EXPECT_EQ(Said(bob).size(), 100u);
  bob.Send(msg::FileCancel{id, ""});
  EXPECT_EQ(Said(alice), Lines{SenderEnd(id, 7, kReceiverCancelled)});
  EXPECT_EQ(Said(bob), Lines{ReceiverEnd(id, kReceiverCancelled)});
  // The rest of the file, far more than a window (16 KiB here): dropped, unanswered, free.
  for (uint64_t i = 100; i < 1024; ++i) {
    alice.Send(msg::FileChunk{id, i * 1024, kilobyte});
  }
  EXPECT_EQ(Said(alice), Lines{});
  EXPECT_EQ(Said(bob), Lines{});
  // Past the size, or a replay from the start: each costs a token and is refused; 8 tokens,
  // then the rate's refusal.
  EXPECT_EQ(Ask(alice, msg::FileChunk{id, 1 << 20, "x"}), Lines{"ERROR 17"});
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(Ask(alice, msg::FileChunk{id, 0, kilobyte}), Lines{"ERROR 17"}) << i;
  }
  EXPECT_EQ(Ask(alice, msg::FileChunk{id, 0, kilobyte}), Lines{"ERROR 6"});
}

TEST_F(ChunkRateTest, AChunkOfNoStreamOrBeforeJoinIsCharged) {
  RawClient& alice = Member("alice");  // 9 tokens left
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(Ask(alice, msg::FileChunk{1234, 0, "x"}), Lines{"ERROR 17"}) << i;
  }
  EXPECT_EQ(Ask(alice, msg::FileChunk{1234, 0, "x"}), Lines{"ERROR 6"});
  RawClient stranger(net_);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Ask(stranger, msg::FileChunk{1, 0, "x"}), Lines{"ERROR 2"}) << i;
  }
  EXPECT_EQ(Ask(stranger, msg::FileChunk{1, 0, "x"}), Lines{"ERROR 6"});
}

TEST_F(ChunkRateTest, OnlyTheLastFewEndedTransfersAreRemembered) {
  RawClient& alice = Member("alice");  // 9 tokens
  RawClient& bob = Member("bob");
  std::vector<uint32_t> ids;
  // Each offer costs a token; the advance refills the bucket between them.
  for (size_t i = 0; i < Transfers::kMaxEndedPerClient + 1; ++i) {
    net_.Advance(10'000);
    const uint32_t id = Streaming(alice, bob, "bob", "alice", 100, static_cast<uint32_t>(i));
    bob.Send(msg::FileCancel{id, ""});
    Said(alice);
    Said(bob);
    ids.push_back(id);
  }
  net_.Advance(10'000);  // a full bucket: 10 tokens
  // The oldest is forgotten: its late chunk costs a token and is refused.
  EXPECT_EQ(Ask(alice, msg::FileChunk{ids.front(), 0, "x"}), Lines{"ERROR 17"});
  // The others' are dropped.
  for (size_t i = 1; i < ids.size(); ++i) {
    EXPECT_EQ(Ask(alice, msg::FileChunk{ids[i], 0, "x"}), Lines{}) << i;
  }
}

}  // namespace
}  // namespace securechat
