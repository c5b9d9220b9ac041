// Bans and mutes from the server's console (engine/moderation.h, PROTOCOL.md 6.12), through the
// server core, as members see them: who a ban holds across nicks, keys and reconnects, who it
// does not, and what everyone is told.
#include "securechat/engine/moderation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "securechat/base/cat.h"
#include "securechat/crypto/auth.h"
#include "securechat/crypto/ed25519.h"
#include "securechat/engine/members.h"
#include "support/in_memory.h"

namespace securechat {
namespace {

using ::securechat::testing::InMemoryNet;
using Notes = std::vector<std::string>;

constexpr uint64_t kMinute = 60'000;

Ed25519Key NewKey() {
  std::optional<Ed25519Key> key = Ed25519Key::Generate();
  EXPECT_TRUE(key.has_value());
  return std::move(*key);
}

ServerOptions Open() {
  ServerOptions options;
  options.rate = 0;
  return options;
}

TEST(ModerationParseTest, BanAndMuteTakeAnOptionalDurationThenAReason) {
  ConsoleCommand c = ParseConsoleLine("/ban bob 2h stop spamming");
  EXPECT_EQ(c.verb, ConsoleCommand::Verb::kBan);
  EXPECT_EQ(c.arg, "bob");
  EXPECT_EQ(c.duration, "2h");
  EXPECT_EQ(c.reason, "stop spamming");

  c = ParseConsoleLine("/MUTE bob flooding the room");  // no duration: for good
  EXPECT_EQ(c.verb, ConsoleCommand::Verb::kMute);
  EXPECT_EQ(c.duration, "");
  EXPECT_EQ(c.reason, "flooding the room");

  c = ParseConsoleLine("/ban 10.0.0.7 7d");
  EXPECT_EQ(c.arg, "10.0.0.7");
  EXPECT_EQ(c.duration, "7d");
  EXPECT_EQ(c.reason, "");

  c = ParseConsoleLine("/ban bob 2hours");  // meant as a duration: kept to be refused
  EXPECT_EQ(c.duration, "2hours");
  EXPECT_EQ(c.reason, "");

  EXPECT_EQ(ParseConsoleLine("/unban bob").verb, ConsoleCommand::Verb::kUnban);
  EXPECT_EQ(ParseConsoleLine("/unmute bob").verb, ConsoleCommand::Verb::kUnmute);
  EXPECT_EQ(ParseConsoleLine("/bans").verb, ConsoleCommand::Verb::kBans);
}

TEST(ModerationTest, ABannedGuestIsRemovedAndKeptOutUnderAnyNickFromItsAddress) {
  InMemoryNet net(Open());
  auto& alice = net.ConnectFrom("10.0.0.1", "alice");
  auto& bob = net.ConnectFrom("10.0.0.2", "bob");
  EXPECT_EQ(net.core().ConsoleLine("/ban bob 1h spamming").notes,
            (Notes{"banned guests from 10.0.0.2 (bob) for 1h", "removed bob"}));
  net.Pump();
  EXPECT_TRUE(bob.server_gone);
  EXPECT_TRUE(bob.Saw("!! banned by the server's operator for 1h: spamming"))
      << ::testing::PrintToString(bob.lines);
  EXPECT_TRUE(alice.Saw("-!- bob left (banned by the server's operator for 1h: spamming)"))
      << ::testing::PrintToString(alice.lines);

  // Back under another nick from the same address: refused with the reason and what is left.
  net.now_ms += 10 * kMinute;
  auto& again = net.ConnectFrom("10.0.0.2", "bobby");
  EXPECT_TRUE(again.server_gone);
  EXPECT_FALSE(again.session.joined());
  EXPECT_TRUE(again.Saw("!! you are banned from this server for 50m more: spamming"))
      << ::testing::PrintToString(again.lines);
  EXPECT_FALSE(alice.SawContaining("bobby"));
  EXPECT_EQ(net.core().joined_count(), 1u);

  // Someone else, from another address, is not held; nor is bob once the hour is over.
  EXPECT_TRUE(net.ConnectFrom("10.0.0.3", "bobby").session.joined());
  net.now_ms += 50 * kMinute;
  EXPECT_TRUE(net.ConnectFrom("10.0.0.2", "bob").session.joined());
}

TEST(ModerationTest, AKeyBanHoldsTheKeyUnderAnyNickAndItsAddressForGuestsOnly) {
  Ed25519Key bob_key = NewKey();
  Ed25519Key carol_key = NewKey();
  const std::string bob_fp = Ed25519Fingerprint(bob_key.public_key());
  // bob and carol are members; alice a guest.
  ServerOptions options = Open();
  options.members = Members::Parse(Cat("bob ", PublicKeyLine(bob_key.public_key(), ""), "\n",
                                       "carol ", PublicKeyLine(carol_key.public_key(), ""), "\n"))
                        .value();
  InMemoryNet net(std::move(options));
  FileUserKey bob_user(std::move(bob_key));
  FileUserKey carol_user(std::move(carol_key));
  auto& alice = net.ConnectFrom("10.0.0.1", "alice");
  auto& bob = net.ConnectWithKey("bob", bob_user, "10.0.0.2");
  ASSERT_TRUE(bob.session.joined());
  EXPECT_EQ(net.core().ConsoleLine("/ban bob").notes,
            (Notes{Cat("banned key ", bob_fp, " (bob) for good"),
                   "banned guests from 10.0.0.2 (bob) for good", "removed bob"}));
  net.Pump();
  EXPECT_TRUE(alice.Saw("-!- bob left (banned by the server's operator for good)"));

  // The key, from anywhere, under any nick.
  auto& elsewhere = net.ConnectWithKey("robert", bob_user, "10.9.9.9");
  EXPECT_TRUE(elsewhere.Saw("!! you are banned from this server for good"))
      << ::testing::PrintToString(elsewhere.lines);
  // Without the key, as a guest from bob's address.
  auto& guest = net.ConnectFrom("10.0.0.2", "robert");
  EXPECT_TRUE(guest.Saw("!! you are banned from this server for good"));
  // Someone else with a key of their own behind the same address (a shared NAT) comes in.
  auto& carol = net.ConnectWithKey("carol", carol_user, "10.0.0.2");
  EXPECT_TRUE(carol.session.joined()) << ::testing::PrintToString(carol.lines);
  EXPECT_EQ(net.core().joined_count(), 2u);

  // /bans lists both entries; /unban by the nick lifts both.
  const Notes listed = net.core().ConsoleLine("/bans").notes;
  ASSERT_EQ(listed.size(), 3u) << ::testing::PrintToString(listed);
  EXPECT_EQ(listed[0], "2 in force (of at most 10000):");
  EXPECT_EQ(listed[1], Cat("ban key ", bob_fp, " (bob), for good, by the server's operator"));
  EXPECT_EQ(listed[2], "ban guests from 10.0.0.2 (bob), for good, by the server's operator");
  EXPECT_EQ(net.core().ConsoleLine("/unban BOB").notes, (Notes{"lifted 2 entries for BOB"}));
  EXPECT_TRUE(net.ConnectWithKey("bob", bob_user, "10.9.9.9").session.joined());
  EXPECT_EQ(net.core().ConsoleLine("/bans").notes, (Notes{"no bans or mutes"}));
}

TEST(ModerationTest, AnAddressOrAFingerprintIsHeldAsGivenAndAMistakeHoldsNoOne) {
  Ed25519Key dave_key = NewKey();
  const std::string dave_fp = Ed25519Fingerprint(dave_key.public_key());
  InMemoryNet net(Open());
  FileUserKey dave_user(std::move(dave_key));
  auto& alice = net.ConnectFrom("10.0.0.1", "alice");
  // An address given as such holds everyone from it, keys or not.
  EXPECT_EQ(net.core().ConsoleLine("/ban 10.0.0.5 2d").notes,
            (Notes{"banned everyone from 10.0.0.5 for 2d"}));
  EXPECT_FALSE(net.ConnectWithKey("dave", dave_user, "10.0.0.5").session.joined());
  EXPECT_FALSE(net.ConnectFrom("10.0.0.5", "erin").session.joined());
  // A fingerprint holds that key before it has ever been seen.
  EXPECT_EQ(net.core().ConsoleLine(Cat("/ban ", dave_fp, " 30m")).notes,
            (Notes{Cat("banned key ", dave_fp, " for 30m")}));
  EXPECT_FALSE(net.ConnectWithKey("dave", dave_user, "10.0.0.6").session.joined());

  EXPECT_EQ(net.core().ConsoleLine("/ban SHA256:nope").notes,
            (Notes{"not a key fingerprint: it is SHA256: and 43 characters of base64, as ssh "
                   "prints"}));
  EXPECT_EQ(net.core().ConsoleLine("/ban carol").notes,
            (Notes{"no such user: carol (name someone online, a member of the members file, a "
                   "SHA256: key fingerprint or an address)"}));
  EXPECT_EQ(net.core().ConsoleLine("/ban").notes,
            (Notes{"usage: /ban NICK|SHA256:FINGERPRINT|ADDRESS [DURATION] [REASON]"}));
  EXPECT_EQ(net.core().ConsoleLine("/ban alice bell\a").notes.size(), 1u);
  EXPECT_EQ(net.core().ConsoleLine("/unban carol").notes,
            (Notes{"no ban holds carol (/bans lists them)"}));
  EXPECT_EQ(net.core().ConsoleLine("/unban").notes,
            (Notes{"usage: /unban NICK|SHA256:FINGERPRINT|ADDRESS"}));
  net.Pump();
  EXPECT_FALSE(alice.server_gone);
  EXPECT_EQ(net.core().bans().entries().size(), 2u);
}

TEST(ModerationTest, AMemberOfTheMembersFileIsBannedByNickWhileAway) {
  Ed25519Key frank_key = NewKey();
  const std::string frank_fp = Ed25519Fingerprint(frank_key.public_key());
  ServerOptions options = Open();
  options.members =
      Members::Parse(Cat("frank ", PublicKeyLine(frank_key.public_key(), ""), "\n")).value();
  InMemoryNet net(std::move(options));
  FileUserKey frank(std::move(frank_key));
  EXPECT_EQ(net.core().ConsoleLine("/ban Frank").notes,
            (Notes{Cat("banned key ", frank_fp, " (frank) for good")}));
  EXPECT_FALSE(net.ConnectWithKey("frank", frank, "10.0.0.8").session.joined());
}

TEST(ModerationTest, AMutedMemberMayNotSayRoomLinesUntilTheMuteEnds) {
  InMemoryNet net(Open());
  auto& alice = net.ConnectFrom("10.0.0.1", "alice");
  auto& bob = net.ConnectFrom("10.0.0.2", "bob");
  EXPECT_EQ(net.core().ConsoleLine("/mute bob 10m flooding").notes,
            (Notes{"muted guests from 10.0.0.2 (bob) for 10m"}));
  net.Pump();
  EXPECT_TRUE(alice.Saw("-!- bob is muted by the server's operator for 10m: flooding"));
  EXPECT_TRUE(bob.Saw("-!- bob is muted by the server's operator for 10m: flooding"));

  net.Type(bob, "hello?");
  net.Type(bob, "/me shouts");
  EXPECT_TRUE(bob.Saw("!! not said: you are muted for 10m more"))
      << ::testing::PrintToString(bob.lines);
  EXPECT_FALSE(alice.SawContaining("hello?"));
  EXPECT_FALSE(alice.SawContaining("shouts"));
  EXPECT_FALSE(bob.server_gone);
  // A whisper still goes (to ask an operator why, say).
  net.Type(bob, "/msg alice why?");
  EXPECT_TRUE(alice.Saw("*bob* why?")) << ::testing::PrintToString(alice.lines);

  // Coming back does not lift it.
  net.Type(bob, "/quit");
  auto& back = net.ConnectFrom("10.0.0.2", "bob2");
  net.Type(back, "still here");
  EXPECT_FALSE(alice.SawContaining("still here"));

  net.now_ms += 10 * kMinute;
  net.Type(back, "and now?");
  EXPECT_TRUE(alice.Saw("<bob2> and now?"));
}

TEST(ModerationTest, UnmuteTellsTheRoomAndTheFullListRefusesMore) {
  ServerOptions options = Open();
  options.bans = BanList(1);
  InMemoryNet net(std::move(options));
  auto& alice = net.ConnectFrom("10.0.0.1", "alice");
  auto& bob = net.ConnectFrom("10.0.0.2", "bob");
  EXPECT_EQ(net.core().ConsoleLine("/mute bob").notes,
            (Notes{"muted guests from 10.0.0.2 (bob) for good"}));
  EXPECT_EQ(net.core().ConsoleLine("/ban 10.0.0.9").notes,
            (Notes{"not kept: the list holds its most, 1 entries (--max_bans); /unban or "
                   "/unmute someone first"}));
  EXPECT_EQ(net.core().ConsoleLine("/unmute bob").notes, (Notes{"lifted 1 entry for bob"}));
  net.Pump();
  EXPECT_TRUE(alice.Saw("-!- bob may speak again (unmuted by the server's operator)"))
      << ::testing::PrintToString(alice.lines);
  net.Type(bob, "thanks");
  EXPECT_TRUE(alice.Saw("<bob> thanks"));
}

// The members file marks bob `op`: from his client, /kick, /ban and the rest go to the server as
// MODERATE, and the answer comes back as NOTICEs. Others are refused; an operator may not act on
// another operator.
class OperatorTest : public ::testing::Test {
 protected:
  OperatorTest() {
    Ed25519Key alice = NewKey();
    Ed25519Key bob = NewKey();
    Ed25519Key olga = NewKey();
    ServerOptions options = Open();
    options.members = Members::Parse(Cat("alice ", PublicKeyLine(alice.public_key(), ""), "\n",
                                         "bob ", PublicKeyLine(bob.public_key(), ""), " op\n",
                                         "olga ", PublicKeyLine(olga.public_key(), ""), " op\n"))
                          .value();
    net_.emplace(std::move(options));
    alice_.emplace(std::move(alice));
    bob_.emplace(std::move(bob));
    olga_.emplace(std::move(olga));
  }
  InMemoryNet& net() { return *net_; }
  std::optional<InMemoryNet> net_;
  std::optional<FileUserKey> alice_, bob_, olga_;
};

TEST_F(OperatorTest, AnOperatorBansAndTheRoomIsToldWhoDidIt) {
  auto& alice = net().ConnectWithKey("alice", *alice_, "10.0.0.1");
  auto& bob = net().ConnectWithKey("bob", *bob_, "10.0.0.2");
  auto& troll = net().ConnectFrom("10.0.0.66", "troll");
  ASSERT_TRUE(bob.session.joined());
  net().Type(bob, "/BAN troll 1d go away");
  EXPECT_TRUE(bob.Saw("-!- banned guests from 10.0.0.66 (troll) for 1d"))
      << ::testing::PrintToString(bob.lines);
  EXPECT_TRUE(bob.Saw("-!- removed troll"));
  EXPECT_TRUE(troll.Saw("!! banned by bob for 1d: go away"))
      << ::testing::PrintToString(troll.lines);
  EXPECT_TRUE(alice.Saw("-!- troll left (banned by bob for 1d: go away)"));
  net().Type(bob, "/bans");
  EXPECT_TRUE(bob.Saw("-!- ban guests from 10.0.0.66 (troll), 1d left, by bob: go away"))
      << ::testing::PrintToString(bob.lines);
  EXPECT_EQ(net().core().bans().entries().at(0).by, "bob");
  net().Type(bob, "/kick alice be nice");
  EXPECT_TRUE(alice.Saw("!! kicked by bob: be nice"));
}

TEST_F(OperatorTest, OnlyOperatorsMayAndNotAgainstAnotherOperator) {
  auto& alice = net().ConnectWithKey("alice", *alice_, "10.0.0.1");
  auto& bob = net().ConnectWithKey("bob", *bob_, "10.0.0.2");
  auto& olga = net().ConnectWithKey("olga", *olga_, "10.0.0.3");
  auto& guest = net().ConnectFrom("10.0.0.4", "guest");
  net().Type(alice, "/kick guest");
  EXPECT_TRUE(alice.Saw("!! not an operator: the members file does not mark your key op"))
      << ::testing::PrintToString(alice.lines);
  net().Type(guest, "/ban alice");
  EXPECT_TRUE(guest.Saw("!! not an operator: the members file does not mark your key op"));
  EXPECT_FALSE(alice.server_gone);

  net().Type(bob, "/kick olga");
  EXPECT_TRUE(
      bob.Saw("-!- not kicked: olga is an operator; only the server's console removes "
              "an operator"))
      << ::testing::PrintToString(bob.lines);
  net().Type(bob, "/ban olga");
  net().Type(bob, "/mute 10.0.0.3");  // olga's address, given as such
  EXPECT_TRUE(
      bob.Saw("-!- not banned: olga is or holds an operator; only the server's console may"));
  EXPECT_TRUE(
      bob.Saw("-!- not muted: 10.0.0.3 is or holds an operator; only the server's console may"));
  net().Type(bob, "/ban bob");  // himself: an operator too
  EXPECT_TRUE(
      bob.Saw("-!- not banned: bob is or holds an operator; only the server's console may"));
  EXPECT_FALSE(olga.server_gone);
  EXPECT_TRUE(net().core().bans().entries().empty());

  // The console may.
  EXPECT_EQ(net().core().ConsoleLine("/kick olga").notes, (Notes{"kicked olga"}));
}

TEST_F(OperatorTest, WhatTheConsoleSetAndOfflineOperatorsAreBeyondAMemberOperator) {
  auto& bob = net().ConnectWithKey("bob", *bob_, "10.0.0.2");
  auto& troll = net().ConnectFrom("10.0.0.66", "troll");
  ASSERT_TRUE(troll.session.joined());
  // olga, an operator, is offline: bob names her key, or her address.
  const std::string olga_fp = Ed25519Fingerprint(olga_->public_key());
  net().Type(bob, Cat("/ban ", olga_fp));
  EXPECT_TRUE(bob.Saw(
      Cat("-!- not banned: ", olga_fp, " is or holds an operator; only the server's console may")))
      << ::testing::PrintToString(bob.lines);
  net().Type(bob, "/ban 10.0.0.3");
  EXPECT_TRUE(bob.Saw("-!- banned everyone from 10.0.0.3 for good"));
  auto& olga = net().ConnectWithKey("olga", *olga_, "10.0.0.3");
  EXPECT_TRUE(olga.session.joined()) << ::testing::PrintToString(olga.lines);

  // The console's ban of troll: bob can neither lift it nor shorten it.
  EXPECT_EQ(net().core().ConsoleLine("/ban troll").notes,
            (Notes{"banned guests from 10.0.0.66 (troll) for good", "removed troll"}));
  net().Type(bob, "/ban troll 1s");  // troll is gone: named by address now
  net().Type(bob, "/ban 10.0.0.66 1s");
  net().Type(bob, "/unban troll");
  EXPECT_TRUE(bob.Saw("-!- no ban holds troll (/bans lists them)"))
      << ::testing::PrintToString(bob.lines);
  const Notes listed = net().core().ConsoleLine("/bans").notes;
  EXPECT_EQ(std::count(listed.begin(), listed.end(),
                       "ban guests from 10.0.0.66 (troll), for good, by the server's operator"),
            1)
      << ::testing::PrintToString(listed);
}

// The review's attacks: a fresh key does not make a banned or muted guest a new person; a
// muted client cannot speak to the room through a rename or a QUIT reason.
TEST(ModerationTest, AFreshKeyDoesNotGetAGuestPastABanOrAMute) {
  Ed25519Key fresh_key = NewKey();
  Ed25519Key other_key = NewKey();
  InMemoryNet net(Open());
  FileUserKey fresh(std::move(fresh_key));
  FileUserKey other(std::move(other_key));
  auto& alice = net.ConnectFrom("10.0.0.1", "alice");
  net.ConnectFrom("10.0.0.2", "troll");
  EXPECT_EQ(net.core().ConsoleLine("/mute 10.0.0.3").notes,
            (Notes{"muted everyone from 10.0.0.3 for good"}));
  EXPECT_EQ(net.core().ConsoleLine("/ban troll").notes,
            (Notes{"banned guests from 10.0.0.2 (troll) for good", "removed troll"}));
  // Back with a key nobody listed: still a guest, still held.
  auto& keyed = net.ConnectWithKey("troll2", fresh, "10.0.0.2");
  EXPECT_FALSE(keyed.session.joined());
  EXPECT_TRUE(keyed.Saw("!! you are banned from this server for good"))
      << ::testing::PrintToString(keyed.lines);

  // A muted guest with a fresh key is muted too, and cannot rename or leave a message.
  EXPECT_EQ(net.core().ConsoleLine("/mute alice").notes,
            (Notes{"muted guests from 10.0.0.1 (alice) for good"}));
  net.Type(alice, "/quit");
  auto& back = net.ConnectWithKey("alice", other, "10.0.0.1");
  ASSERT_TRUE(back.session.joined()) << ::testing::PrintToString(back.lines);
  auto& watcher = net.ConnectFrom("10.0.0.9", "watcher");
  net.Type(back, "hello?");
  net.Type(back, "/nick look_at_me");
  EXPECT_TRUE(back.Saw("!! not said: you are muted")) << ::testing::PrintToString(back.lines);
  EXPECT_FALSE(watcher.SawContaining("hello?"));
  EXPECT_FALSE(watcher.SawContaining("look_at_me"));
  net.Type(back, "/quit buy cheap stuff at example.com");
  EXPECT_TRUE(watcher.Saw("-!- alice left")) << ::testing::PrintToString(watcher.lines);
  EXPECT_FALSE(watcher.SawContaining("example.com"));
}

TEST(ModerationTest, UnmuteByNickLiftsWhatItNamesNotTheWholeAddress) {
  InMemoryNet net(Open());
  auto& alice = net.ConnectFrom("10.0.0.1", "alice");
  auto& bob = net.ConnectFrom("10.0.0.2", "bob");
  EXPECT_EQ(net.core().ConsoleLine("/mute 10.0.0.2 1h").notes,
            (Notes{"muted everyone from 10.0.0.2 for 1h"}));
  EXPECT_EQ(net.core().ConsoleLine("/mute bob").notes,
            (Notes{"muted guests from 10.0.0.2 (bob) for good"}));
  EXPECT_EQ(net.core().ConsoleLine("/unmute bob").notes, (Notes{"lifted 1 entry for bob"}));
  net.Type(bob, "still muted?");
  EXPECT_FALSE(alice.SawContaining("still muted?"));
  EXPECT_EQ(net.core().ConsoleLine("/unmute 10.0.0.2").notes,
            (Notes{"lifted 1 entry for 10.0.0.2"}));
  net.Type(bob, "now?");
  EXPECT_TRUE(alice.Saw("<bob> now?"));
}

}  // namespace
}  // namespace securechat
