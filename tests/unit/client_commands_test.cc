// Everyday commands at the client, as a user types them (issue #13): any case, and a /nick to
// the nick one already has.
#include <gtest/gtest.h>

#include <string>

#include "securechat/client/session.h"
#include "securechat/wire/nick.h"
#include "support/in_memory.h"

namespace securechat {
namespace {

using ::securechat::testing::InMemoryNet;

TEST(ClientCommandsTest, CommandsAreTakenInAnyCase) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  net.Connect("bob");
  net.Type(alice, "/WHO");
  EXPECT_TRUE(alice.Saw("-!- online (2): alice bob")) << ::testing::PrintToString(alice.lines);
  net.Type(alice, "/Nick al");
  EXPECT_TRUE(alice.Saw("-!- alice is now known as al")) << ::testing::PrintToString(alice.lines);
  EXPECT_FALSE(alice.SawContaining("unknown command")) << ::testing::PrintToString(alice.lines);
}

TEST(ClientCommandsTest, NickToOnesOwnNickSaysSoAndSendsNothing) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  const size_t bob_saw = bob.lines.size();
  net.Type(alice, "/nick alice");
  EXPECT_TRUE(alice.Saw("-!- you are already alice")) << ::testing::PrintToString(alice.lines);
  EXPECT_EQ(bob.lines.size(), bob_saw) << ::testing::PrintToString(bob.lines);
  // Another case of one's own nick is a rename, and goes to the server.
  net.Type(alice, "/nick Alice");
  EXPECT_TRUE(bob.Saw("-!- alice is now known as Alice")) << ::testing::PrintToString(bob.lines);
}

// A whisper sent is confirmed with its recipient and text, in a form no server line can take
// ("-> " starts no line that comes from the network).
TEST(ClientCommandsTest, WhisperSentIsConfirmed) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  net.Type(alice, "/msg bob see you at 5");
  EXPECT_TRUE(alice.Saw("-> *bob* see you at 5")) << ::testing::PrintToString(alice.lines);
  EXPECT_TRUE(bob.Saw("*alice* see you at 5")) << ::testing::PrintToString(bob.lines);
  // To nobody: the confirmation, then the server's refusal.
  net.Type(alice, "/msg carol hello");
  EXPECT_TRUE(alice.Saw("-> *carol* hello")) << ::testing::PrintToString(alice.lines);
  EXPECT_TRUE(alice.SawContaining("!! no such user")) << ::testing::PrintToString(alice.lines);
}

// Lines refused, here or by the server, make the session end with its own exit code, so a
// script that pipes lines in learns that not all of them went out.
TEST(ClientCommandsTest, RefusedLinesGiveTheirOwnExitCode) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  net.Connect("bob");
  net.Type(alice, "hello");
  net.Type(alice, "/nosuchcommand");         // refused here
  net.Type(alice, "/msg carol are you in");  // refused by the server: no such user
  net.Type(alice, "/quit");
  ASSERT_TRUE(alice.session.finished());
  EXPECT_EQ(alice.session.exit_code(), kExitLinesRefused);
  EXPECT_EQ(alice.session.final_message(), "2 lines were refused (the !! lines say why)");
}

TEST(ClientCommandsTest, NothingRefusedLeavesWithZero) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  net.Type(alice, "hello");
  net.Type(alice, "/who");
  net.Type(alice, "/quit");
  ASSERT_TRUE(alice.session.finished());
  EXPECT_EQ(alice.session.exit_code(), kExitOk);
}

// Alternate nicks end in a digit, stay within 32 bytes, and each looks unlike the nick before
// it (a trailing "_" would not: PROTOCOL.md 6.1).
TEST(ClientCommandsTest, AlternateNicksAreDigitsWithinTheLength) {
  EXPECT_EQ(AlternateNick("alice", 1), "alice2");
  EXPECT_EQ(AlternateNick("alice", kMaxAlternateNicks), "alice9");
  const std::string longest(proto::kMaxNickLen, 'x');
  const std::string alternate = AlternateNick(longest, 1);
  EXPECT_EQ(alternate.size(), proto::kMaxNickLen);
  EXPECT_EQ(alternate.back(), '2');
  EXPECT_NE(NickSkeleton(AlternateNick("alice", 1)), NickSkeleton("alice"));
  EXPECT_NE(NickSkeleton(AlternateNick("alice", 2)), NickSkeleton(AlternateNick("alice", 1)));
}

}  // namespace
}  // namespace securechat
