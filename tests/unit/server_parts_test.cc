// The server engine's parts, each alone: Admission (limits, handshake turns and budgets),
// the ConnectionTable (states, deadlines, the linger close, teardown after the event) and the
// Room (nick rules). ServerCore's own tests drive them together.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "securechat/crypto/random.h"
#include "securechat/engine/admission.h"
#include "securechat/engine/connection_table.h"
#include "securechat/engine/room.h"
#include "support/in_memory.h"

namespace securechat {
namespace {

using ::securechat::testing::TestKey2048;
using Verdict = Admission::Verdict;

AdmissionLimits Limits(size_t max_clients, size_t per_address, double hps = 0,
                       double hps_per_address = 0) {
  return AdmissionLimits{max_clients, per_address, hps, hps_per_address};
}

TEST(AdmissionTest, RefusesPastTheServerAndAddressLimits) {
  Admission a(Limits(3, 2));
  EXPECT_EQ(a.Arrive("10.0.0.1", 0, 1000), Verdict::kAdmitted);
  EXPECT_EQ(a.Arrive("10.0.0.1", 1, 1000), Verdict::kAdmitted);
  EXPECT_EQ(a.Arrive("10.0.0.1", 2, 1000), Verdict::kTooManyFromAddress);
  EXPECT_EQ(a.Arrive("10.0.0.2", 2, 1000), Verdict::kAdmitted);
  EXPECT_EQ(a.Arrive("10.0.0.3", 3, 1000), Verdict::kServerFull);
  // A departure frees its address's place.
  a.Depart(1, "10.0.0.1", 1000);
  EXPECT_EQ(a.Arrive("10.0.0.1", 2, 1000), Verdict::kAdmitted);
}

std::vector<ConnId> ServeAll(Admission& a, uint64_t now) {
  std::vector<ConnId> order;
  while (const std::optional<ConnId> id = a.NextHandshake(now)) {
    order.push_back(*id);
  }
  return order;
}

TEST(AdmissionTest, AddressesTakeTurns) {
  Admission a(Limits(100, 100));
  for (ConnId id : {1, 2, 3}) {
    ASSERT_EQ(a.Arrive("flood", id - 1, 1000), Verdict::kAdmitted);
    a.HelloReady(id, "flood");
  }
  ASSERT_EQ(a.Arrive("newcomer", 3, 1000), Verdict::kAdmitted);
  a.HelloReady(4, "newcomer");
  // The newcomer waits for one handshake of the flood, not for all three.
  EXPECT_EQ(ServeAll(a, 1000), (std::vector<ConnId>{1, 4, 2, 3}));
  EXPECT_EQ(a.MsUntilHandshake(1000), std::nullopt);
}

TEST(AdmissionTest, DepartureWithdrawsAWaitingHello) {
  Admission a(Limits(100, 100));
  ASSERT_EQ(a.Arrive("x", 0, 1000), Verdict::kAdmitted);
  ASSERT_EQ(a.Arrive("x", 1, 1000), Verdict::kAdmitted);
  a.HelloReady(1, "x");
  a.HelloReady(2, "x");
  a.Depart(1, "x", 1000);
  EXPECT_EQ(ServeAll(a, 1000), std::vector<ConnId>{2});
}

TEST(AdmissionTest, HellosWaitForTheBudgetsNotRefused) {
  Admission a(Limits(100, 100, /*hps=*/2, /*hps_per_address=*/1));
  for (ConnId id : {1, 2, 3}) {
    ASSERT_EQ(a.Arrive(id == 3 ? "b" : "a", id - 1, 1000), Verdict::kAdmitted);
    a.HelloReady(id, id == 3 ? "b" : "a");
  }
  // "a" may have one a second, the server two: a's first and b's go now, a's second waits.
  EXPECT_EQ(ServeAll(a, 1000), (std::vector<ConnId>{1, 3}));
  const std::optional<uint64_t> wait = a.MsUntilHandshake(1000);
  ASSERT_TRUE(wait.has_value());
  EXPECT_GT(*wait, 0u);
  EXPECT_EQ(ServeAll(a, 1500), std::vector<ConnId>{});
  EXPECT_EQ(ServeAll(a, 2001), std::vector<ConnId>{2});
}

TEST(AdmissionTest, ForgetsAddressesUnusedForAMinuteOnly) {
  Admission a(Limits(100, 100));
  ASSERT_EQ(a.Arrive("gone", 0, 1000), Verdict::kAdmitted);
  ASSERT_EQ(a.Arrive("here", 1, 1000), Verdict::kAdmitted);
  a.Depart(1, "gone", 1000);
  a.ForgetUnused(30'000);
  EXPECT_EQ(a.address_count(), 2u);
  a.ForgetUnused(62'000);
  EXPECT_EQ(a.address_count(), 1u);  // "here" still holds a connection
}

class ConnectionTableTest : public ::testing::Test {
 protected:
  ConnectionTableTest()
      : table_(TestKey2048(), rng_, ConnectionLimits{10'000, 300'000, 2'000}, sinks_) {}

  std::vector<ConnId> Expired(uint64_t now) {
    std::vector<ConnId> out;
    table_.Expired(now, &out);
    return out;
  }

  uint64_t mono_ms_ = 1000;
  std::vector<std::string> log_;
  ServerSinks sinks_{[this](std::string_view l) { log_.emplace_back(l); }, nullptr,
                     [] { return uint64_t{1700000000000}; }, [this] { return mono_ms_; }};
  ScriptedRandom rng_;
  ConnectionTable table_;
};

TEST_F(ConnectionTableTest, HandshakeThenIdleDeadline) {
  Connection& c = table_.Add("a", "a:1", 1000);
  EXPECT_EQ(c.state(), ConnState::kHandshaking);
  EXPECT_EQ(table_.MsUntilDeadline(1000), 10'000u);
  table_.Established(c);
  EXPECT_EQ(c.state(), ConnState::kEstablished);
  EXPECT_EQ(Expired(10'999), std::vector<ConnId>{});
  table_.Joined(c, 5'000);  // the idle deadline replaces the handshake deadline
  EXPECT_EQ(c.state(), ConnState::kJoined);
  EXPECT_EQ(Expired(11'000), std::vector<ConnId>{});
  table_.Touch(c, 100'000);
  EXPECT_EQ(Expired(305'000), std::vector<ConnId>{});
  EXPECT_EQ(Expired(400'000), std::vector<ConnId>{c.id});
  EXPECT_EQ(Expired(500'000), std::vector<ConnId>{});  // reported once
}

TEST_F(ConnectionTableTest, CloseAfterFlushLingersThenDropsTheOutput) {
  Connection& c = table_.Add("a", "a:1", 1000);
  c.conn.output().buffer()->assign(100, 0x55);
  table_.CloseAfterFlush(c, "bye", 1000);
  table_.CloseAfterFlush(c, "second reason", 1000);
  EXPECT_EQ(c.state(), ConnState::kClosing);
  EXPECT_FALSE(table_.ShouldClose(c.id));  // 100 bytes still to write
  const auto gone = table_.NextCondemned();
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->id, c.id);
  EXPECT_EQ(gone->why, "bye");                       // the first reason stands
  EXPECT_FALSE(table_.NextCondemned().has_value());  // handed out once
  // Transitions do not reopen a closing connection.
  table_.Established(c);
  table_.Joined(c, 1000);
  EXPECT_EQ(c.state(), ConnState::kClosing);
  EXPECT_EQ(Expired(2'999), std::vector<ConnId>{});
  EXPECT_EQ(Expired(3'000), std::vector<ConnId>{c.id});  // did not flush in time
  EXPECT_TRUE(table_.ShouldClose(c.id));
}

TEST_F(ConnectionTableTest, FlushedBeforeTheLingerIsNotReported) {
  Connection& c = table_.Add("a", "a:1", 1000);
  c.conn.output().buffer()->assign(10, 0x55);
  table_.CloseAfterFlush(c, "bye", 1000);
  EXPECT_EQ(table_.Pending(c.id).size(), 10u);
  table_.Consumed(c.id, 10);
  EXPECT_TRUE(table_.ShouldClose(c.id));
  EXPECT_EQ(Expired(5'000), std::vector<ConnId>{});
}

TEST_F(ConnectionTableTest, CondemnDropsTheOutputAtOnce) {
  Connection& a = table_.Add("a", "a:1", 1000);
  Connection& b = table_.Add("b", "b:1", 1000);
  a.conn.output().buffer()->assign(10, 0x55);
  table_.Condemn(a, "not reading");
  EXPECT_TRUE(table_.ShouldClose(a.id));
  EXPECT_FALSE(table_.ShouldClose(b.id));
  // Marked, not erased: it stays in the table until the network layer erases it.
  EXPECT_EQ(table_.size(), 2u);
  EXPECT_EQ(table_.Find(a.id), &a);
  ASSERT_TRUE(table_.NextCondemned().has_value());
  const ConnId gone = a.id;  // `a` is freed by Erase
  table_.Erase(gone);
  EXPECT_EQ(table_.Find(gone), nullptr);
  EXPECT_TRUE(table_.ShouldClose(gone));
  EXPECT_EQ(table_.ids(), std::vector<ConnId>{b.id});
}

class RoomTest : public ConnectionTableTest {
 protected:
  // Member makes a connection (without keys: what the room sends it is dropped) and joins it.
  Connection& Member(std::string_view nick) {
    Connection& c = table_.Add("a", "a:1", 1000);
    table_.Established(c);
    room_.Join(c, nick);
    EXPECT_EQ(c.state(), ConnState::kJoined) << nick;
    return c;
  }
  Room::NickCheck::Verdict VerdictFor(const Connection& asker, std::string_view nick) {
    return room_.Check(asker, nick).verdict;
  }
  Gate gate_{table_, sinks_, Members{}, Access::kOpen};
  Room room_{table_, sinks_, gate_, "motd", HistoryLimits{}, /*epoch=*/1};
};

TEST_F(RoomTest, NickRules) {
  using V = Room::NickCheck::Verdict;
  Connection& alice = Member("alice");
  Connection& newcomer = table_.Add("b", "b:1", 1000);
  EXPECT_EQ(VerdictFor(newcomer, "bob"), V::kFree);
  EXPECT_EQ(VerdictFor(newcomer, "bad nick"), V::kInvalid);
  EXPECT_EQ(VerdictFor(newcomer, ""), V::kInvalid);
  EXPECT_EQ(VerdictFor(newcomer, "Server"), V::kReserved);
  EXPECT_EQ(VerdictFor(newcomer, "5erver."), V::kReserved);
  EXPECT_EQ(VerdictFor(newcomer, "ALICE"), V::kTaken);
  EXPECT_EQ(VerdictFor(newcomer, "a1ice"), V::kLooksLike);
  EXPECT_EQ(room_.Check(newcomer, "aIice").look_alike, "alice");
  // A member may take its own nick in another case, or a look-alike of it.
  EXPECT_EQ(VerdictFor(alice, "Alice"), V::kFree);
  EXPECT_EQ(VerdictFor(alice, "a1ice"), V::kFree);
}

TEST_F(RoomTest, JoinRenameLeave) {
  Connection& alice = Member("alice");
  Connection& bob = Member("Bob");
  EXPECT_EQ(room_.Find("ALICE"), &alice);
  EXPECT_EQ(room_.Find("bob"), &bob);
  std::vector<std::string> order;
  for (const auto& [nick, c] : room_.members()) {
    order.push_back(nick);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"alice", "Bob"}));  // without regard to case

  room_.Rename(alice, "carol");
  EXPECT_EQ(alice.nick, "carol");
  EXPECT_EQ(room_.Find("alice"), nullptr);
  EXPECT_EQ(room_.Check(bob, "a1ice").verdict, Room::NickCheck::Verdict::kFree);  // freed
  room_.Rename(alice, "b0b");  // looks like Bob: refused, alice keeps her nick
  EXPECT_EQ(alice.nick, "carol");

  room_.Leave(bob, "bye");
  room_.Leave(bob, "bye");  // not a member any more: nothing happens
  EXPECT_EQ(room_.size(), 1u);
  EXPECT_EQ(room_.Check(alice, "BOB").verdict, Room::NickCheck::Verdict::kFree);
  EXPECT_EQ(log_, (std::vector<std::string>{"join #1 as alice", "join #2 as Bob",
                                            "rename #1 alice to carol", "leave #2 Bob (bye)"}));
}

}  // namespace
}  // namespace securechat
