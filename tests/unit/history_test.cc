// The room's history (PROTOCOL.md 6.11): RoomHistory's numbering, limits and arithmetic, and
// what a joining client is sent by the server core, seen from the wire with a RawClient.
#include "securechat/engine/history.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "support/in_memory.h"
#include "support/raw_client.h"

namespace securechat {
namespace {

using ::securechat::testing::InMemoryNet;
using ::securechat::testing::RawClient;
using ::securechat::testing::Seen;

constexpr uint64_t kEpoch = 0x5ec0c4a7f00d1234;
constexpr uint64_t kOtherEpoch = 77;

// Seqs lists the numbers of the lines ForEachUnseen gives a client at (epoch, after).
std::vector<uint64_t> Seqs(const RoomHistory& h, uint64_t epoch, uint64_t after) {
  std::vector<uint64_t> out;
  h.ForEachUnseen(epoch, after, [&out](const RoomHistory::Line& line) { out.push_back(line.seq); });
  return out;
}

TEST(RoomHistoryTest, NumbersEveryLineFromOneAndKeepsTheLastWithinTheLineLimit) {
  RoomHistory h({.max_lines = 3, .max_bytes = 1 << 20}, kEpoch);
  EXPECT_EQ(h.last_seq(), 0u);
  for (uint64_t i = 1; i <= 5; ++i) {
    EXPECT_EQ(h.Add(1000 + i, "alice", false, Cat("line ", i)), i);
  }
  EXPECT_EQ(h.last_seq(), 5u);
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(Seqs(h, 0, 0), (std::vector<uint64_t>{3, 4, 5}));
  // Each line keeps its time, sender, kind and text.
  std::vector<std::string> kept;
  h.ForEachUnseen(0, 0, [&kept](const RoomHistory::Line& line) {
    kept.push_back(Cat(line.time_ms, " ", line.from, " ", line.action ? "*" : "", line.text));
  });
  EXPECT_EQ(kept, (std::vector<std::string>{"1003 alice line 3", "1004 alice line 4",
                                            "1005 alice line 5"}));
}

TEST(RoomHistoryTest, KeepsWithinTheByteLimitCountingNickAndText) {
  // Each line costs 5 (nick) + 10 (text) bytes: two fit in 30, a third pushes the oldest out.
  RoomHistory h({.max_lines = 50, .max_bytes = 30}, kEpoch);
  h.Add(1, "alice", false, "0123456789");
  h.Add(2, "alice", true, "0123456789");
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.bytes(), 30u);
  h.Add(3, "alice", false, "0123456789");
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.bytes(), 30u);
  EXPECT_EQ(Seqs(h, 0, 0), (std::vector<uint64_t>{2, 3}));
  // A line larger than the whole limit is numbered and not kept, and the older lines go with
  // it: a gap would hide it from Missed. A client that saw line 3 missed exactly line 4.
  EXPECT_EQ(h.Add(4, "alice", false, std::string(40, 'x')), 4u);
  EXPECT_TRUE(Seqs(h, kEpoch, 0).empty());
  EXPECT_EQ(h.bytes(), 0u);
  EXPECT_EQ(h.Missed(kEpoch, 3), 1u);
  EXPECT_EQ(h.Missed(kEpoch, 1), 3u);
  // Keeping starts again with the next line that fits.
  h.Add(5, "alice", false, "0123456789");
  EXPECT_EQ(Seqs(h, kEpoch, 0), (std::vector<uint64_t>{5}));
  EXPECT_EQ(h.Missed(kEpoch, 3), 1u);
}

TEST(RoomHistoryTest, ZeroLinesKeepsNothingButStillNumbers) {
  RoomHistory h({.max_lines = 0, .max_bytes = 1 << 20}, kEpoch);
  h.Add(1, "alice", false, "a");
  h.Add(2, "alice", false, "b");
  EXPECT_EQ(h.size(), 0u);
  EXPECT_EQ(h.bytes(), 0u);
  EXPECT_EQ(h.last_seq(), 2u);
  // A client that saw line 1 missed line 2, which is not kept.
  EXPECT_EQ(h.Missed(kEpoch, 1), 1u);
}

TEST(RoomHistoryTest, UnseenAndMissedForTheSameEpoch) {
  RoomHistory h({.max_lines = 50, .max_bytes = 1 << 20}, kEpoch);
  for (int i = 0; i < 120; ++i) {
    h.Add(i, "bob", false, "x");
  }
  // The worked example of PROTOCOL.md 6.11: seen up to 41, lines 71 to 120 held.
  EXPECT_EQ(Seqs(h, kEpoch, 41).size(), 50u);
  EXPECT_EQ(Seqs(h, kEpoch, 41).front(), 71u);
  EXPECT_EQ(h.Missed(kEpoch, 41), 29u);
  // Seen up to 69, 70 or 100: nothing more is missed than line 70, then nothing.
  EXPECT_EQ(h.Missed(kEpoch, 69), 1u);
  EXPECT_EQ(h.Missed(kEpoch, 70), 0u);
  EXPECT_EQ(Seqs(h, kEpoch, 100),
            (std::vector<uint64_t>{101, 102, 103, 104, 105, 106, 107, 108, 109, 110,
                                   111, 112, 113, 114, 115, 116, 117, 118, 119, 120}));
  EXPECT_EQ(h.Missed(kEpoch, 100), 0u);
  // Seen everything, or claims a line that was never said: nothing to send, nothing missed.
  EXPECT_TRUE(Seqs(h, kEpoch, 120).empty());
  EXPECT_TRUE(Seqs(h, kEpoch, 5000).empty());
  EXPECT_EQ(h.Missed(kEpoch, 5000), 0u);
  // The largest claim does not overflow the arithmetic.
  const uint64_t kMax = std::numeric_limits<uint64_t>::max();
  EXPECT_TRUE(Seqs(h, kEpoch, kMax).empty());
  EXPECT_EQ(h.Missed(kEpoch, kMax), 0u);
  // Seen nothing of this epoch (after 0, a client that joined before any line and left):
  // everything held is owed, and the 70 lines before it are missed.
  EXPECT_EQ(Seqs(h, kEpoch, 0).size(), 50u);
  EXPECT_EQ(h.Missed(kEpoch, 0), 70u);
}

TEST(RoomHistoryTest, AnotherEpochIsOwedEverythingAndMissedNothingThatCanBeCounted) {
  RoomHistory h({.max_lines = 2, .max_bytes = 1 << 20}, kEpoch);
  for (int i = 0; i < 10; ++i) {
    h.Add(i, "bob", false, "x");
  }
  EXPECT_EQ(Seqs(h, kOtherEpoch, 9), (std::vector<uint64_t>{9, 10}));
  EXPECT_EQ(Seqs(h, 0, 0), (std::vector<uint64_t>{9, 10}));
  EXPECT_EQ(h.Missed(kOtherEpoch, 3), 0u);
  EXPECT_EQ(h.Missed(0, 0), 0u);
}

TEST(RoomHistoryTest, WireBoundCoversTheLargestLines) {
  // The bound chat-server checks against a client's queue: each line's kept bytes plus its
  // ROOM_LINE fields and record framing.
  const HistoryLimits limits{.max_lines = 50, .max_bytes = 256 * 1024};
  EXPECT_EQ(HistoryWireBytes(limits), 256u * 1024 + 50 * kHistoryLineWireOverhead);
  // The overhead: kind, room, seq, time, nick length, two flags, text length, then frame
  // header, IV, tag and at most a whole block of padding.
  EXPECT_EQ(kHistoryLineWireOverhead, 1u + 34 + 8 + 8 + 2 + 1 + 1 + 2 + 4 + 16 + 32 + 16);
}

// Through the server core: what a joining client is sent.
class HistoryCoreTest : public ::testing::Test {
 protected:
  static ServerOptions Options(HistoryLimits history, size_t max_queue_bytes = 1 << 20) {
    ServerOptions options;
    options.rate = 0;
    options.history = history;
    options.history_epoch = kEpoch;
    options.max_queue_bytes = max_queue_bytes;
    return options;
  }
};

// Kinds lists the kinds of `seen`, in order.
std::vector<proto::Kind> Kinds(const std::vector<Seen>& seen) {
  std::vector<proto::Kind> out;
  for (const Seen& m : seen) {
    out.push_back(m.kind);
  }
  return out;
}

// A client that joins a history filled with the longest lines the byte limit allows, with the
// smallest queue chat-server accepts for that history, gets it whole and stays joined.
TEST_F(HistoryCoreTest, AFullHistoryOfTheLongestLinesFitsTheJoinersQueue) {
  const HistoryLimits limits{.max_lines = 50, .max_bytes = 64 * 1024};
  InMemoryNet net(Options(limits, /*max_queue_bytes=*/2 * HistoryWireBytes(limits)));
  RawClient alice(net);
  alice.Send(msg::Join{"alice"});
  const std::string line(proto::kMaxTextLen, 'a');
  for (int i = 0; i < 100; ++i) {
    alice.Send(msg::Say{line});
  }
  alice.Read();
  RawClient bob(net);
  bob.Send(msg::History{0, 0});
  bob.Send(msg::Join{"bob"});
  const std::vector<Seen> seen = bob.Read();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().kind, proto::Kind::kWelcome);
  // 64 KiB holds 15 lines of 4096 + 5 bytes.
  const size_t kept = (64 * 1024) / (proto::kMaxTextLen + 5);
  ASSERT_EQ(seen.size(), 1 + kept + 1);
  for (size_t i = 1; i <= kept; ++i) {
    EXPECT_EQ(seen[i].kind, proto::Kind::kRoomLine);
    EXPECT_EQ(seen[i].history, 1);
    EXPECT_EQ(seen[i].seq, 100 - kept + i);
    EXPECT_EQ(seen[i].text, line);
  }
  EXPECT_EQ(seen.back().kind, proto::Kind::kHistoryEnd);
  EXPECT_EQ(seen.back().seq, 100u);
  EXPECT_EQ(seen.back().missed, 0u);  // another epoch (0): nothing that can be counted
  EXPECT_EQ(net.core().StateOf(bob.id()), ConnState::kJoined);
}

// The bound chat-server checks holds for a real record: the largest ROOM_LINE, sealed, takes
// no more than its nick and text plus kHistoryLineWireOverhead.
TEST_F(HistoryCoreTest, TheLargestRoomLineSealedIsWithinTheWireBound) {
  InMemoryNet net(Options({}));
  const std::string nick(proto::kMaxNickLen, 'n');
  RawClient speaker(net);
  speaker.Send(msg::History{0, 0});
  speaker.Send(msg::Join{nick});
  speaker.Read();
  speaker.Send(msg::Say{std::string(proto::kMaxTextLen, 't')});
  // What the server queued for the speaker: its own line back, one sealed ROOM_LINE.
  const size_t queued = net.core().Pending(speaker.id()).size();
  EXPECT_GT(queued, nick.size() + proto::kMaxTextLen);
  EXPECT_LE(queued, nick.size() + proto::kMaxTextLen + kHistoryLineWireOverhead);
  const std::vector<Seen> seen = speaker.Read();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, proto::Kind::kRoomLine);
}

// A flood of lines keeps the history at its limit: a joiner gets the last max_lines, numbered
// as they were said.
TEST_F(HistoryCoreTest, AFloodKeepsOnlyTheLastLines) {
  InMemoryNet net(Options({.max_lines = 50, .max_bytes = 256 * 1024}));
  RawClient alice(net);
  alice.Send(msg::Join{"alice"});
  for (int i = 1; i <= 10'000; ++i) {
    alice.Send(msg::Say{Cat("line ", i)});
  }
  RawClient bob(net);
  bob.Send(msg::History{0, 0});
  bob.Send(msg::Join{"bob"});
  const std::vector<Seen> seen = bob.Read();
  ASSERT_EQ(seen.size(), 1u + 50 + 1);
  EXPECT_EQ(seen[1].seq, 9'951u);
  EXPECT_EQ(seen[1].text, "line 9951");
  EXPECT_EQ(seen[50].seq, 10'000u);
  EXPECT_EQ(seen[50].from, "alice");
  EXPECT_EQ(seen[51].seq, 10'000u);
}

// A client that comes back with the server's epoch gets only what it did not see, and how
// many lines are lost to it; whispers are never history.
TEST_F(HistoryCoreTest, ComingBackGivesWhatWasMissedAndCountsWhatIsGone) {
  InMemoryNet net(Options({.max_lines = 5, .max_bytes = 256 * 1024}));
  RawClient alice(net);
  alice.Send(msg::Join{"alice"});
  RawClient bob(net);
  bob.Send(msg::History{0, 0});
  bob.Send(msg::Join{"bob"});
  std::vector<Seen> seen = bob.Read();
  ASSERT_EQ(Kinds(seen),
            (std::vector<proto::Kind>{proto::Kind::kWelcome, proto::Kind::kHistoryEnd}));
  EXPECT_EQ(seen[1].room, proto::kLobby);
  EXPECT_EQ(seen[1].epoch, kEpoch);
  EXPECT_EQ(seen[1].seq, 0u);
  alice.Send(msg::Say{"one"});
  alice.Send(msg::Whisper{"bob", "secret"});
  seen = bob.Read();
  ASSERT_EQ(Kinds(seen), (std::vector<proto::Kind>{proto::Kind::kRoomLine, proto::Kind::kChat}));
  EXPECT_EQ(seen[0].seq, 1u);
  EXPECT_EQ(seen[0].history, 0);
  EXPECT_EQ(seen[1].flags, proto::kChatFlagPrivate);
  bob.Send(msg::Bye{});
  net.Pump();

  // Eight more lines while bob is away: 2 to 9; the history holds 5 to 9, so 2 to 4 are gone.
  for (int i = 2; i <= 9; ++i) {
    alice.Send(msg::Action{Cat("waves ", i)});
  }
  RawClient back(net);
  back.Send(msg::History{kEpoch, 1});
  back.Send(msg::Join{"bob"});
  seen = back.Read();
  ASSERT_EQ(seen.size(), 1u + 5 + 1);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(seen[1 + i].seq, 5u + i);
    EXPECT_EQ(seen[1 + i].action, 1);
    EXPECT_EQ(seen[1 + i].history, 1);
    EXPECT_EQ(seen[1 + i].text, Cat("waves ", 5 + i));
  }
  EXPECT_EQ(seen[6].seq, 9u);
  EXPECT_EQ(seen[6].missed, 3u);
  EXPECT_FALSE(alice.Read().empty());  // alice still served
}

// A member that asked for history gets its own line back as ROOM_LINE (to learn its number);
// a member that did not gets CHAT as before, and never its own line.
TEST_F(HistoryCoreTest, OwnLinesComeBackOnlyToClientsThatAskedForHistory) {
  InMemoryNet net(Options({}));
  RawClient old_client(net);
  old_client.Send(msg::Join{"old"});
  RawClient fresh(net);
  fresh.Send(msg::History{0, 0});
  fresh.Send(msg::Join{"fresh"});
  old_client.Read();
  fresh.Read();

  old_client.Send(msg::Say{"from old"});
  fresh.Send(msg::Say{"from fresh"});
  std::vector<Seen> seen = old_client.Read();
  ASSERT_EQ(Kinds(seen), std::vector<proto::Kind>{proto::Kind::kChat});
  EXPECT_EQ(seen[0].text, "from fresh");
  seen = fresh.Read();
  ASSERT_EQ(Kinds(seen),
            (std::vector<proto::Kind>{proto::Kind::kRoomLine, proto::Kind::kRoomLine}));
  EXPECT_EQ(seen[0].from, "old");
  EXPECT_EQ(seen[0].seq, 1u);
  EXPECT_EQ(seen[1].from, "fresh");
  EXPECT_EQ(seen[1].seq, 2u);
}

}  // namespace
}  // namespace securechat
