// Everyday commands at the client, as a user types them (issue #13): any case, and a /nick to
// the nick one already has.
#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// A line longer than one message is sent as several, cut between characters, never inside one
// (as irssi and WeeChat split), in order; the same for a whisper.
TEST(ClientCommandsTest, ALongLineIsSplitBetweenCharacters) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  // 4095 ASCII bytes, then three-byte characters: the first piece cannot take the first one
  // whole (4098 bytes), so it ends after the ASCII.
  const std::string euro = "\xe2\x82\xac";
  std::string line(4095, 'a');
  for (int i = 0; i < 1500; ++i) {
    line += euro;
  }
  net.Type(alice, line);
  const std::string first = "<alice> " + std::string(4095, 'a');
  std::string second = "<alice> ";
  for (int i = 0; i < 1365; ++i) {  // 4095 bytes of euros
    second += euro;
  }
  std::string third = "<alice> ";
  for (int i = 0; i < 135; ++i) {
    third += euro;
  }
  ASSERT_GE(bob.lines.size(), 3u);
  const std::vector<std::string> last(bob.lines.end() - 3, bob.lines.end());
  EXPECT_EQ(last, (std::vector<std::string>{first, second, third}));
  EXPECT_FALSE(alice.SawContaining("!!")) << ::testing::PrintToString(alice.lines);

  net.Type(alice, "/msg bob " + std::string(4100, 'b'));
  EXPECT_TRUE(bob.Saw("*alice* " + std::string(4096, 'b')));
  EXPECT_TRUE(bob.Saw("*alice* bbbb"));
  EXPECT_TRUE(alice.Saw("-> *bob* bbbb"));
}

// /reply answers whoever whispered last, following renames; /query sends every typed line to
// one nick until /query alone.
TEST(ClientCommandsTest, ReplyAndQuery) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  auto& carol = net.Connect("carol");
  net.Type(alice, "/reply hi");
  EXPECT_TRUE(alice.Saw("!! not sent: nobody has whispered to you yet"));
  net.Type(bob, "/msg alice psst");
  net.Type(bob, "/nick robert");
  net.Type(alice, "/reply what is it");
  EXPECT_TRUE(alice.Saw("-> *robert* what is it")) << ::testing::PrintToString(alice.lines);
  EXPECT_TRUE(bob.Saw("*alice* what is it"));

  net.Type(alice, "/query carol");
  EXPECT_EQ(alice.session.query(), "carol");
  EXPECT_TRUE(alice.Saw("-!- lines you type now go to carol only; /query alone ends it"));
  const size_t bob_saw = bob.lines.size();
  net.Type(alice, "just between us");
  EXPECT_TRUE(carol.Saw("*alice* just between us"));
  EXPECT_TRUE(alice.Saw("-> *carol* just between us"));
  EXPECT_EQ(bob.lines.size(), bob_saw) << ::testing::PrintToString(bob.lines);
  net.Type(carol, "/nick caroline");
  EXPECT_EQ(alice.session.query(), "caroline");
  net.Type(alice, "/query");
  EXPECT_TRUE(alice.Saw("-!- lines go to the room again, no longer to caroline"));
  net.Type(alice, "everyone");
  EXPECT_TRUE(bob.Saw("<alice> everyone"));
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
