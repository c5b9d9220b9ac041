// Rooms besides #lobby (PROTOCOL.md 6.13), seen from the wire with RawClients against the
// server core: joining and leaving, who hears a room's lines, each room's own history, topics,
// the lists, every limit and every refusal.
#include "securechat/engine/rooms.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "securechat/base/cat.h"
#include "securechat/crypto/ed25519.h"
#include "securechat/engine/members.h"
#include "support/in_memory.h"
#include "support/raw_client.h"

namespace securechat {
namespace {

using ::securechat::testing::InMemoryNet;
using ::securechat::testing::RawClient;
using ::securechat::testing::Seen;
using ::securechat::testing::SignedAuth;

constexpr uint8_t kJoined = static_cast<uint8_t>(proto::RoomEvent::kJoined);
constexpr uint8_t kLeft = static_cast<uint8_t>(proto::RoomEvent::kLeft);
constexpr uint8_t kTopic = static_cast<uint8_t>(proto::RoomEvent::kTopic);

ServerOptions Options(RoomLimits rooms = {}) {
  ServerOptions options;
  options.rate = 0;  // the rate has its own tests
  options.history = {.max_lines = 5, .max_bytes = 1 << 16};
  options.rooms = rooms;
  return options;
}

// Describe names a server message in a few words, with the fields that matter for rooms.
std::string Describe(const Seen& m) {
  switch (m.kind) {
    case proto::Kind::kRoomJoined:
      return Cat("ROOM_JOINED ", m.room, " ", m.members, " [", m.text, "]");
    case proto::Kind::kRoomEvent:
      return Cat("ROOM_EVENT ", m.room, " ", static_cast<int>(m.event), " ", m.from, " [", m.text,
                 "]");
    case proto::Kind::kRoomInfo:
      return Cat("ROOM_INFO ", m.room, " ", m.members, " [", m.text, "] more ",
                 static_cast<int>(m.more));
    case proto::Kind::kRoomUsers: {
      std::string nicks;
      for (const std::string& nick : m.nicks) {
        nicks += " " + nick;
      }
      return Cat("ROOM_USERS ", m.room, " more ", static_cast<int>(m.more), ":", nicks);
    }
    case proto::Kind::kRoomLine:
      return Cat("ROOM_LINE ", m.room, " ", m.seq, m.history ? " history " : " ", m.from,
                 m.action ? " * " : ": ", m.text);
    case proto::Kind::kHistoryEnd:
      return Cat("HISTORY_END ", m.room, " last ", m.seq, " missed ", m.missed);
    case proto::Kind::kError:
      return Cat("ERROR ", m.code, m.fatal ? " fatal" : "");
    case proto::Kind::kChat:
      return Cat("CHAT ", m.from, ": ", m.text);
    case proto::Kind::kWelcome:
      return Cat("WELCOME ", m.from);
    case proto::Kind::kMemberJoined:
      return "MEMBER_JOINED";
    case proto::Kind::kMemberLeft:
      return "MEMBER_LEFT";
    case proto::Kind::kMemberRenamed:
      return "MEMBER_RENAMED";
    case proto::Kind::kNotice:
      return Cat("NOTICE ", m.text);
    default:
      return Cat("kind ", static_cast<int>(m.kind));
  }
}

class RoomsTest : public ::testing::Test {
 protected:
  explicit RoomsTest(ServerOptions options = Options()) : net_(std::move(options)) {}

  // Member connects a raw client and joins #lobby as `nick` (with HISTORY when `history`).
  RawClient& Member(const std::string& nick, bool history = false) {
    clients_.push_back(std::make_unique<RawClient>(net_));
    RawClient& c = *clients_.back();
    if (history) {
      c.Queue(msg::History{0, 0});
    }
    c.Send(msg::Join{nick});
    EXPECT_EQ(Said(c).front(), Cat("WELCOME ", nick));
    for (auto& other : clients_) {
      other->Read();  // the join's MEMBER_JOINED and NOTICE
    }
    return c;
  }

  // Said: what `c` was sent since it last looked, described.
  static std::vector<std::string> Said(RawClient& c) {
    std::vector<std::string> out;
    for (const Seen& m : c.Read()) {
      out.push_back(Describe(m));
    }
    return out;
  }

  // Ask sends `m` from `c` and returns what `c` is sent back.
  static std::vector<std::string> Ask(RawClient& c, const msg::ClientMessage& m) {
    c.Send(m);
    return Said(c);
  }

  using Lines = std::vector<std::string>;
  InMemoryNet net_;
  std::vector<std::unique_ptr<RawClient>> clients_;
};

TEST_F(RoomsTest, JoiningMakesTheRoomUnderItsFirstSpellingAndTellsItsMembers) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  const std::vector<Seen> joined = (alice.Send(msg::RoomJoin{"#Dev", 0, 0}), alice.Read());
  ASSERT_EQ(joined.size(), 2u);
  EXPECT_EQ(Describe(joined[0]), "ROOM_JOINED #Dev 1 []");
  EXPECT_EQ(Describe(joined[1]), "HISTORY_END #Dev last 0 missed 0");
  EXPECT_NE(joined[1].epoch, 0u);
  EXPECT_EQ(net_.core().room_count(), 1u);
  // The same room in another case: the server's spelling comes back.
  EXPECT_EQ(Ask(bob, msg::RoomJoin{"#dev", 0, 0}),
            (Lines{"ROOM_JOINED #Dev 2 []", "HISTORY_END #Dev last 0 missed 0"}));
  EXPECT_EQ(Said(alice), Lines{"ROOM_EVENT #Dev 1 bob []"});
  EXPECT_EQ(net_.core().room_count(), 1u);
}

TEST_F(RoomsTest, ARoomsLinesReachItsMembersOnlyAndComeBackToTheSpeaker) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  RawClient& carol = Member("carol", /*history=*/true);  // in #lobby only
  Ask(alice, msg::RoomJoin{"#dev", 0, 0});
  Ask(bob, msg::RoomJoin{"#dev", 0, 0});
  Said(alice);
  EXPECT_EQ(Ask(alice, msg::RoomSay{"#dev", 0, "ship it"}),
            Lines{"ROOM_LINE #dev 1 alice: ship it"});
  EXPECT_EQ(Said(bob), Lines{"ROOM_LINE #dev 1 alice: ship it"});
  EXPECT_EQ(Ask(bob, msg::RoomSay{"#DEV", 1, "nods"}), Lines{"ROOM_LINE #dev 2 bob * nods"});
  EXPECT_EQ(Said(alice), Lines{"ROOM_LINE #dev 2 bob * nods"});
  EXPECT_TRUE(Said(carol).empty());
  // #lobby's lines stay #lobby's: ROOM_SAY to #lobby is a SAY (CHAT to a client without
  // HISTORY, ROOM_LINE of #lobby to one with it).
  EXPECT_TRUE(Ask(alice, msg::RoomSay{"#lobby", 0, "hi all"}).empty());
  EXPECT_EQ(Said(bob), Lines{"CHAT alice: hi all"});
  EXPECT_EQ(Said(carol), Lines{"ROOM_LINE #lobby 1 alice: hi all"});
}

TEST_F(RoomsTest, EachRoomKeepsItsOwnHistoryAndGivesAComerWhatItHasNotSeen) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  Ask(alice, msg::RoomJoin{"#dev", 0, 0});
  Ask(alice, msg::RoomJoin{"#ops", 0, 0});
  for (int i = 1; i <= 7; ++i) {
    Ask(alice, msg::RoomSay{"#dev", 0, Cat("dev ", i)});
  }
  Ask(alice, msg::RoomSay{"#ops", 0, "ops 1"});
  // The history keeps 5 lines: 3 to 7.
  const std::vector<Seen> got = (bob.Send(msg::RoomJoin{"#dev", 0, 0}), bob.Read());
  std::vector<std::string> said;
  for (const Seen& m : got) {
    said.push_back(Describe(m));
  }
  EXPECT_EQ(said,
            (Lines{"ROOM_JOINED #dev 2 []", "ROOM_LINE #dev 3 history alice: dev 3",
                   "ROOM_LINE #dev 4 history alice: dev 4", "ROOM_LINE #dev 5 history alice: dev 5",
                   "ROOM_LINE #dev 6 history alice: dev 6", "ROOM_LINE #dev 7 history alice: dev 7",
                   "HISTORY_END #dev last 7 missed 0"}));
  const uint64_t dev_epoch = got.back().epoch;
  // Back after line 6 of this epoch: only line 7; after line 1: line 2 is gone for good.
  Ask(bob, msg::RoomPart{"#dev"});
  EXPECT_EQ(Ask(bob, msg::RoomJoin{"#dev", dev_epoch, 6}),
            (Lines{"ROOM_JOINED #dev 2 []", "ROOM_LINE #dev 7 history alice: dev 7",
                   "HISTORY_END #dev last 7 missed 0"}));
  Ask(bob, msg::RoomPart{"#dev"});
  EXPECT_EQ(Ask(bob, msg::RoomJoin{"#dev", dev_epoch, 1}).back(),
            "HISTORY_END #dev last 7 missed 1");
  // #ops numbers its own lines, under another epoch.
  const std::vector<Seen> ops = (bob.Send(msg::RoomJoin{"#ops", 0, 0}), bob.Read());
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(Describe(ops[1]), "ROOM_LINE #ops 1 history alice: ops 1");
  EXPECT_NE(ops[2].epoch, dev_epoch);
}

TEST_F(RoomsTest, PartingTellsTheRoomAndTheLastToLeaveTakesTopicAndHistoryAlong) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  const std::vector<Seen> first = (alice.Send(msg::RoomJoin{"#dev", 0, 0}), alice.Read());
  const uint64_t first_epoch = first.back().epoch;
  Ask(bob, msg::RoomJoin{"#dev", 0, 0});
  Ask(alice, msg::RoomTopic{"#dev", "release friday"});
  Ask(alice, msg::RoomSay{"#dev", 0, "secret plan"});
  Said(bob);
  EXPECT_EQ(Ask(bob, msg::RoomPart{"#dev"}), Lines{"ROOM_EVENT #dev 2 bob []"});
  EXPECT_EQ(Said(alice), Lines{"ROOM_EVENT #dev 2 bob []"});
  // bob is out: the room's lines no longer reach him, and he may not speak in it.
  Ask(alice, msg::RoomSay{"#dev", 0, "after bob"});
  EXPECT_TRUE(Said(bob).empty());
  EXPECT_EQ(Ask(bob, msg::RoomSay{"#dev", 0, "hello?"}), Lines{"ERROR 15"});
  EXPECT_EQ(Ask(alice, msg::RoomPart{"#dev"}), Lines{"ROOM_EVENT #dev 2 alice []"});
  EXPECT_EQ(net_.core().room_count(), 0u);
  // Made again, it is a new room: no topic, no lines, a new epoch.
  const std::vector<Seen> again = (bob.Send(msg::RoomJoin{"#dev", first_epoch, 0}), bob.Read());
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(Describe(again[0]), "ROOM_JOINED #dev 1 []");
  EXPECT_EQ(Describe(again[1]), "HISTORY_END #dev last 0 missed 0");
  EXPECT_NE(again[1].epoch, first_epoch);
}

TEST_F(RoomsTest, LeavingTheServerLeavesEveryRoomQuietly) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  Ask(alice, msg::RoomJoin{"#dev", 0, 0});
  Ask(bob, msg::RoomJoin{"#dev", 0, 0});
  Ask(bob, msg::RoomJoin{"#bob-only", 0, 0});
  Said(alice);
  ASSERT_EQ(net_.core().room_count(), 2u);
  bob.Send(msg::Bye{});
  net_.Pump();
  // #lobby's MEMBER_LEFT tells everyone; no ROOM_EVENT repeats it.
  EXPECT_EQ(Said(alice), (Lines{"MEMBER_LEFT", "NOTICE bob left"}));
  EXPECT_EQ(net_.core().room_count(), 1u);  // #bob-only went with him
  EXPECT_EQ(Ask(alice, msg::RoomWho{"#dev"}), Lines{"ROOM_USERS #dev more 0: alice"});
}

TEST_F(RoomsTest, ListAndWhoAnswerInOrderAndFollowRenames) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  Member("carol");
  Ask(bob, msg::RoomJoin{"#zoo", 0, 0});
  Ask(alice, msg::RoomJoin{"#Dev", 0, 0});
  Ask(bob, msg::RoomJoin{"#dev", 0, 0});
  Ask(alice, msg::RoomTopic{"#dev", "release friday"});
  Said(bob);
  EXPECT_EQ(Ask(alice, msg::RoomList{}),
            (Lines{"ROOM_INFO #Dev 2 [release friday] more 1", "ROOM_INFO #lobby 3 [] more 1",
                   "ROOM_INFO #zoo 1 [] more 0"}));
  EXPECT_EQ(Ask(alice, msg::RoomWho{"#dev"}), Lines{"ROOM_USERS #Dev more 0: alice bob"});
  EXPECT_EQ(Ask(alice, msg::RoomWho{"#lobby"}), Lines{"ROOM_USERS #lobby more 0: alice bob carol"});
  bob.Send(msg::Nick{"Aaron"});
  Said(alice);
  EXPECT_EQ(Ask(alice, msg::RoomWho{"#dev"}), Lines{"ROOM_USERS #Dev more 0: Aaron alice"});
  Ask(bob, msg::RoomSay{"#dev", 0, "renamed"});
  EXPECT_EQ(Said(alice), Lines{"ROOM_LINE #Dev 1 Aaron: renamed"});
}

TEST_F(RoomsTest, EveryRefusalIsAnErrorThatChangesNothing) {
  RawClient& alice = Member("alice");
  Ask(alice, msg::RoomJoin{"#dev", 0, 0});
  // The messages only view their fields: these outlive them.
  const std::string room33 = Cat("#", std::string(32, 'x'));
  const std::string topic257(257, 't');
  const struct {
    msg::ClientMessage m;
    const char* answer;
  } cases[] = {
      {msg::RoomJoin{"dev", 0, 0}, "ERROR 15"},     // no #
      {msg::RoomJoin{"#", 0, 0}, "ERROR 15"},       // no name
      {msg::RoomJoin{"#a b", 0, 0}, "ERROR 15"},    // outside the alphabet
      {msg::RoomJoin{room33, 0, 0}, "ERROR 15"},    // 33 bytes
      {msg::RoomJoin{"#lobby", 0, 0}, "ERROR 15"},  // in it from JOIN
      {msg::RoomJoin{"#DEV", 0, 0}, "ERROR 15"},    // already in it
      {msg::RoomPart{"#Lobby"}, "ERROR 15"},        // never left
      {msg::RoomPart{"#ops"}, "ERROR 15"},          // not in it (nor does it exist)
      {msg::RoomSay{"#ops", 0, "x"}, "ERROR 15"},
      {msg::RoomWho{"#ops"}, "ERROR 15"},
      {msg::RoomTopic{"#ops", "x"}, "ERROR 15"},
      {msg::RoomSay{"#dev", 0, ""}, "ERROR 7"},  // not a valid text
      {msg::RoomSay{"#dev", 0, "a\x1b[2J"}, "ERROR 7"},
      {msg::RoomTopic{"#dev", topic257}, "ERROR 7"},  // over --max_topic_bytes
      {msg::RoomTopic{"#dev", "bell\a"}, "ERROR 7"},
      {msg::RoomTopic{"#lobby", "mine now"}, "ERROR 14"},  // #lobby: operators only
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    EXPECT_EQ(Ask(alice, cases[i].m), Lines{cases[i].answer}) << "case " << i;
  }
  EXPECT_EQ(net_.core().room_count(), 1u);
  EXPECT_EQ(Ask(alice, msg::RoomList{}),
            (Lines{"ROOM_INFO #dev 1 [] more 1", "ROOM_INFO #lobby 1 [] more 0"}));
  EXPECT_EQ(net_.core().StateOf(alice.id()), ConnState::kJoined);
}

TEST_F(RoomsTest, TheTopicIsTheFirstMembersToSetWhileInTheRoom) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  Ask(alice, msg::RoomJoin{"#dev", 0, 0});
  Ask(bob, msg::RoomJoin{"#dev", 0, 0});
  Said(alice);
  EXPECT_EQ(Ask(bob, msg::RoomTopic{"#dev", "bob's room"}), Lines{"ERROR 14"});
  EXPECT_EQ(Ask(alice, msg::RoomTopic{"#dev", "release friday"}),
            Lines{"ROOM_EVENT #dev 3 alice [release friday]"});
  EXPECT_EQ(Said(bob), Lines{"ROOM_EVENT #dev 3 alice [release friday]"});
  RawClient& carol = Member("carol");
  EXPECT_EQ(Ask(carol, msg::RoomJoin{"#dev", 0, 0}).front(), "ROOM_JOINED #dev 3 [release friday]");
  // The right is the first member's connection's, not the first in line's: while alice is
  // out it passes to no one, and back in the room she has it again.
  Ask(alice, msg::RoomPart{"#dev"});
  Said(bob);
  Said(carol);
  EXPECT_EQ(Ask(bob, msg::RoomTopic{"#dev", ""}), Lines{"ERROR 14"});
  EXPECT_EQ(Ask(carol, msg::RoomTopic{"#dev", ""}), Lines{"ERROR 14"});
  Ask(alice, msg::RoomJoin{"#dev", 0, 0});
  EXPECT_EQ(Ask(alice, msg::RoomTopic{"#dev", ""}), Lines{"ROOM_EVENT #dev 3 alice []"});
}

class RoomOperatorTest : public RoomsTest {
 protected:
  RoomOperatorTest() : RoomsTest(WithOperator()) {}
  // The key is made before the base class (which holds the server) is: a static one.
  static const Ed25519Key& OlgaKey() {
    static const std::optional<Ed25519Key> key = Ed25519Key::Generate();
    return *key;
  }
  static ServerOptions WithOperator() {
    ServerOptions options = Options();
    options.members =
        Members::Parse(Cat("olga ", PublicKeyLine(OlgaKey().public_key(), ""), " op\n")).value();
    return options;
  }
};

TEST_F(RoomOperatorTest, AnOperatorSetsAnyTopicItsRoomIsIn_LobbyToo) {
  RawClient& alice = Member("alice");
  clients_.push_back(std::make_unique<RawClient>(net_));
  RawClient& olga = *clients_.back();
  olga.Send(SignedAuth(OlgaKey(), olga.th()).message());
  olga.Send(msg::Join{"olga"});
  Said(olga);
  Said(alice);
  Ask(alice, msg::RoomJoin{"#dev", 0, 0});
  Ask(olga, msg::RoomJoin{"#dev", 0, 0});
  Said(alice);
  EXPECT_EQ(Ask(olga, msg::RoomTopic{"#dev", "be nice"}),
            Lines{"ROOM_EVENT #dev 3 olga [be nice]"});
  EXPECT_EQ(Said(alice), Lines{"ROOM_EVENT #dev 3 olga [be nice]"});
  EXPECT_EQ(Ask(olga, msg::RoomTopic{"#lobby", "welcome"}),
            Lines{"ROOM_EVENT #lobby 3 olga [welcome]"});
  EXPECT_EQ(Said(alice), Lines{"ROOM_EVENT #lobby 3 olga [welcome]"});
  EXPECT_EQ(Ask(alice, msg::RoomList{}).back(), "ROOM_INFO #lobby 2 [welcome] more 0");
}

TEST_F(RoomsTest, AMuteHoldsRoomLinesAndTopicsButNotJoining) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  Ask(bob, msg::RoomJoin{"#dev", 0, 0});
  Ask(alice, msg::RoomJoin{"#dev", 0, 0});
  net_.core().ConsoleLine("/mute bob");
  Said(alice);
  Said(bob);
  EXPECT_EQ(Ask(bob, msg::RoomSay{"#dev", 0, "spam"}), Lines{"ERROR 13"});
  EXPECT_EQ(Ask(bob, msg::RoomSay{"#lobby", 1, "spams"}), Lines{"ERROR 13"});
  EXPECT_EQ(Ask(bob, msg::RoomTopic{"#dev", "spam"}), Lines{"ERROR 13"});
  EXPECT_EQ(Ask(bob, msg::RoomJoin{"#quiet", 0, 0}).front(), "ROOM_JOINED #quiet 1 []");
  EXPECT_TRUE(Said(alice).empty());
}

class RoomLimitsTest : public RoomsTest {
 protected:
  RoomLimitsTest()
      : RoomsTest(Options({.max_rooms = 3,
                           .max_rooms_per_client = 2,
                           .max_room_members = 2,
                           .max_topic_bytes = 8})) {}
};

TEST_F(RoomLimitsTest, EachLimitRefusesWithErrorSixteenAndKeepsTheClient) {
  RawClient& alice = Member("alice");
  RawClient& bob = Member("bob");
  RawClient& carol = Member("carol");
  Ask(alice, msg::RoomJoin{"#a", 0, 0});
  Ask(alice, msg::RoomJoin{"#b", 0, 0});
  // --max_rooms_per_client: alice is in 2 rooms besides #lobby.
  EXPECT_EQ(Ask(alice, msg::RoomJoin{"#c", 0, 0}), Lines{"ERROR 16"});
  // Parting makes room for another.
  Ask(alice, msg::RoomPart{"#b"});
  EXPECT_EQ(Ask(alice, msg::RoomJoin{"#c", 0, 0}).front(), "ROOM_JOINED #c 1 []");
  Ask(bob, msg::RoomJoin{"#d", 0, 0});
  // --max_rooms: #a, #c and #d exist; carol may join one of them but make no fourth.
  EXPECT_EQ(Ask(carol, msg::RoomJoin{"#e", 0, 0}), Lines{"ERROR 16"});
  EXPECT_EQ(net_.core().room_count(), 3u);
  EXPECT_EQ(Ask(carol, msg::RoomJoin{"#a", 0, 0}).front(), "ROOM_JOINED #a 2 []");
  // --max_room_members: #a holds alice and carol.
  EXPECT_EQ(Ask(bob, msg::RoomJoin{"#a", 0, 0}), Lines{"ERROR 16"});
  // --max_topic_bytes: 8 bytes.
  Said(alice);
  EXPECT_EQ(Ask(alice, msg::RoomTopic{"#a", "12345678"}).size(), 1u);
  EXPECT_EQ(Ask(alice, msg::RoomTopic{"#a", "123456789"}), Lines{"ERROR 7"});
  for (RawClient* c : {&alice, &bob, &carol}) {
    EXPECT_EQ(net_.core().StateOf(c->id()), ConnState::kJoined);
  }
}

// Adversarial: one client asks for 10,000 rooms. It gets the rooms its limit allows and a
// refusal for each of the rest; the server holds no more rooms than its limits say, and
// everyone else is served.
TEST_F(RoomsTest, TenThousandJoinsFromOneClientMakeNoMoreThanItsLimit) {
  RawClient& mallory = Member("mallory");
  RawClient& alice = Member("alice");
  size_t joined = 0;
  size_t refused = 0;
  // In batches, reading between them as a client does: a client that does not read is closed
  // when its refusals fill its queue (the server's output bound, tested elsewhere).
  for (int batch = 0; batch < 20; ++batch) {
    for (int i = 0; i < 500; ++i) {
      mallory.Queue(msg::RoomJoin{Cat("#r", batch * 500 + i), 0, 0});
    }
    mallory.Deliver();
    for (const Seen& m : mallory.Read()) {
      joined += m.kind == proto::Kind::kRoomJoined ? 1 : 0;
      refused += m.IsError(proto::ErrorCode::kRoomLimit, false) ? 1 : 0;
    }
  }
  EXPECT_EQ(joined, RoomLimits{}.max_rooms_per_client);
  EXPECT_EQ(refused, 10'000 - RoomLimits{}.max_rooms_per_client);
  EXPECT_EQ(net_.core().room_count(), RoomLimits{}.max_rooms_per_client);
  EXPECT_EQ(Ask(alice, msg::RoomJoin{"#dev", 0, 0}).front(), "ROOM_JOINED #dev 1 []");
}

// Adversarial: a topic as large as a record can carry (a 1 MB one cannot even be framed: the
// record layer closes the sender, as for any oversized frame) is refused, and the room's topic
// is unchanged.
TEST_F(RoomsTest, AnOversizedTopicIsRefusedAndTheOldOneStays) {
  RawClient& alice = Member("alice");
  Ask(alice, msg::RoomJoin{"#dev", 0, 0});
  Ask(alice, msg::RoomTopic{"#dev", "short"});
  EXPECT_EQ(Ask(alice, msg::RoomTopic{"#dev", std::string(16'000, 't')}), Lines{"ERROR 7"});
  EXPECT_EQ(Ask(alice, msg::RoomList{}).front(), "ROOM_INFO #dev 1 [short] more 1");
}

// Four rooms with a full history each, joined at once (a client coming back rejoins every room
// in one go): together they are more than the client's queue takes, so each is sent only the
// newest lines that fit what is left of half the queue, the rest counted as missed, and the
// client stays connected. Sent whole, they closed it as a client that does not read, again at
// every reconnection.
class RoomsHistoryBudgetTest : public RoomsTest {
 protected:
  static ServerOptions BudgetOptions() {
    ServerOptions options = Options();
    options.max_queue_bytes = 64 * 1024;
    options.history = {.max_lines = 8, .max_bytes = 28 * 1024};  // one fits half the queue
    return options;
  }
  RoomsHistoryBudgetTest() : RoomsTest(BudgetOptions()) {}
};

TEST_F(RoomsHistoryBudgetTest, RejoiningManyFullRoomsAtOnceIsSentWhatFitsAndTheRestCounted) {
  ASSERT_LE(HistoryWireBytes(BudgetOptions().history), BudgetOptions().max_queue_bytes / 2);
  RawClient& bob = Member("bob");
  const std::vector<std::string> rooms = {"#r1", "#r2", "#r3", "#r4"};
  const std::string text(3'400, 'x');
  for (const std::string& room : rooms) {
    Ask(bob, msg::RoomJoin{room, 0, 0});
    for (int i = 0; i < 8; ++i) {
      bob.Send(msg::RoomSay{room, 0, text});
    }
    bob.Read();
  }
  RawClient& alice = Member("alice");
  for (const std::string& room : rooms) {
    alice.Queue(msg::RoomJoin{room, 0, 0});
  }
  alice.Deliver();
  std::map<std::string, uint64_t> shown;
  std::map<std::string, uint64_t> missed;
  for (const Seen& m : alice.Read()) {
    EXPECT_NE(m.kind, proto::Kind::kError) << Describe(m);
    if (m.kind == proto::Kind::kRoomLine) {
      ++shown[m.room];
    } else if (m.kind == proto::Kind::kHistoryEnd) {
      missed[m.room] = m.missed;
    }
  }
  EXPECT_EQ(net_.core().StateOf(alice.id()), ConnState::kJoined);
  ASSERT_EQ(missed.size(), rooms.size());
  EXPECT_EQ(shown["#r1"], 8u);  // the first room finds the queue empty
  EXPECT_EQ(missed["#r1"], 0u);
  uint64_t left_out = 0;
  for (const std::string& room : rooms) {
    EXPECT_EQ(shown[room] + missed[room], 8u) << room;  // every line shown or counted
    left_out += missed[room];
  }
  EXPECT_GT(left_out, 0u);
  // What was left out is not lost to the room: the next joiner of #r4, alone, gets it all.
  RawClient& carol = Member("carol");
  carol.Send(msg::RoomJoin{"#r4", 0, 0});
  uint64_t carol_lines = 0;
  for (const Seen& m : carol.Read()) {
    carol_lines += m.kind == proto::Kind::kRoomLine ? 1 : 0;
  }
  EXPECT_EQ(carol_lines, 8u);
}

TEST(RoomListWireBytesTest, DefaultsFitHalfTheDefaultQueue) {
  EXPECT_LE(RoomListWireBytes(RoomLimits{}), ServerOptions{}.max_queue_bytes / 2);
  EXPECT_TRUE(IsLobby("#LOBBY"));
  EXPECT_FALSE(IsLobby("#lobby2"));
}

}  // namespace
}  // namespace securechat
