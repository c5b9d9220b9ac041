// Everyday commands at the client, as a user types them (issue #13): any case, and a /nick to
// the nick one already has.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "securechat/base/cat.h"
#include "securechat/client/session.h"
#include "securechat/crypto/auth.h"
#include "securechat/crypto/ed25519.h"
#include "securechat/engine/members.h"
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

// /me: an action line, shown "* alice waves" to the others, with the server's time; the
// ignored are not shown; a line that names the reader is a mention.
TEST(ClientCommandsTest, MeSendsAnActionLine) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  auto& carol = net.Connect("carol");
  net.Type(carol, "/ignore alice");
  net.Type(alice, "/ME waves at bob");
  EXPECT_TRUE(bob.Saw("* alice waves at bob")) << ::testing::PrintToString(bob.lines);
  ASSERT_FALSE(bob.events.empty());
  EXPECT_EQ(bob.events.back().kind, DisplayLine::Kind::kAction);
  EXPECT_EQ(bob.events.back().time_ms, net.now_ms);
  EXPECT_TRUE(bob.events.back().mention);
  EXPECT_FALSE(carol.SawContaining("waves")) << ::testing::PrintToString(carol.lines);
  EXPECT_FALSE(alice.SawContaining("!!")) << ::testing::PrintToString(alice.lines);
  EXPECT_EQ(net.room.back(), "-!- * alice waves at bob");  // the server's console
  net.Type(alice, "/me");
  EXPECT_TRUE(alice.Saw("!! usage: /me TEXT"));
  // In a private conversation an action would go to the whole room: refused.
  net.Type(alice, "/query bob");
  net.Type(alice, "/me blushes");
  EXPECT_TRUE(alice.Saw(
      "!! not sent: /me goes to the room, and you are talking to bob only; /query alone first"))
      << ::testing::PrintToString(alice.lines);
  EXPECT_FALSE(bob.SawContaining("blushes"));
  EXPECT_FALSE(carol.SawContaining("blushes"));
  net.Type(alice, "/query");
  net.Type(alice, "/me \x1b[2Jhides");
  EXPECT_TRUE(alice.Saw("!! not sent: the line has control characters or invalid UTF-8"));
  EXPECT_FALSE(bob.SawContaining("hides"));
}

// /away and /back: the away user is told, whoever whispers to it learns the reason (the
// whisper still arrives), and /who and /whois show it.
TEST(ClientCommandsTest, AwayIsShownToWhisperersAndInWhoAndWhois) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  net.Type(bob, "/away lunch, back at 2");
  EXPECT_TRUE(bob.Saw("-!- you are marked away: lunch, back at 2"))
      << ::testing::PrintToString(bob.lines);
  net.Type(alice, "/msg bob are you there?");
  EXPECT_TRUE(bob.Saw("*alice* are you there?"));
  EXPECT_TRUE(alice.Saw("-!- bob is away: lunch, back at 2"))
      << ::testing::PrintToString(alice.lines);
  // Each answer says it again: counted in the lines after the command only.
  const auto said_after = [&alice](size_t from, std::string_view line) {
    return std::count(alice.lines.begin() + static_cast<std::ptrdiff_t>(from), alice.lines.end(),
                      line);
  };
  size_t from = alice.lines.size();
  net.Type(alice, "/who");
  EXPECT_EQ(said_after(from, "-!- bob is away: lunch, back at 2"), 1)
      << ::testing::PrintToString(alice.lines);
  from = alice.lines.size();
  net.Type(alice, "/whois BOB");
  EXPECT_EQ(said_after(from, "-!- bob is away: lunch, back at 2"), 1)
      << ::testing::PrintToString(alice.lines);
  net.Type(bob, "/back");
  EXPECT_TRUE(bob.Saw("-!- you are no longer marked away"));
  const size_t before = alice.lines.size();
  net.Type(alice, "/msg bob welcome back");
  net.Type(alice, "/who");
  for (size_t i = before; i < alice.lines.size(); ++i) {
    EXPECT_EQ(alice.lines[i].find("away"), std::string::npos) << alice.lines[i];
  }
  net.Type(bob, "/back");
  EXPECT_TRUE(bob.Saw("-!- you were not marked away"));
  // A reason the server would refuse is refused here, and counted as a refused line.
  net.Type(bob, "/away " + std::string(proto::kMaxReasonLen + 1, 'r'));
  EXPECT_TRUE(bob.Saw("!! not sent: a reason is at most 256 bytes"));
  net.Type(bob, "/back now");
  EXPECT_TRUE(bob.Saw("!! usage: /back"));
}

// /whois (and /who NICK): since when, idle time (what was said, not keepalives), away, key.
TEST(ClientCommandsTest, WhoisSaysSinceWhenIdleAndKey) {
  ServerOptions quiet;
  quiet.idle_timeout_ms = 24 * 3'600'000;  // these clients send no keepalives
  InMemoryNet net(quiet);
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  net.Advance(3'723'000);  // 1 h 2 min 3 s
  net.Type(bob, "hello");
  net.Advance(65'000);
  // A whisper does not count: idle time must not tell the room when bob whispers.
  net.Type(bob, "/msg alice psst");
  net.Type(alice, "/whois bob");
  EXPECT_TRUE(alice.Saw("-!- bob: online for 1 h 3 min, idle 1 min"))
      << ::testing::PrintToString(alice.lines);
  EXPECT_TRUE(alice.Saw("-!- bob has no user key (a guest)"));
  net.Type(alice, "/who carol");
  EXPECT_TRUE(alice.Saw("!! no such user: carol")) << ::testing::PrintToString(alice.lines);
  net.Type(alice, "/whois");
  EXPECT_TRUE(alice.Saw("!! usage: /whois NICK"));
  net.Type(alice, "/whois a b");
  EXPECT_TRUE(alice.Saw("!! usage: /whois NICK"));
  net.Type(alice, "/whois a!b");
  EXPECT_TRUE(alice.SawContaining("!! not sent: a nick is 1 to 32"));

  // A member's key, and a guest's.
  std::optional<Ed25519Key> carol_key = Ed25519Key::Generate();
  std::optional<Ed25519Key> dave_key = Ed25519Key::Generate();
  ASSERT_TRUE(carol_key && dave_key);
  const std::string carol_fp = Ed25519Fingerprint(carol_key->public_key());
  const std::string dave_fp = Ed25519Fingerprint(dave_key->public_key());
  ServerOptions options;
  options.members =
      Members::Parse(Cat("carol ", PublicKeyLine(carol_key->public_key(), ""), "\n")).value();
  InMemoryNet keyed(options);
  FileUserKey carol(std::move(*carol_key));
  FileUserKey dave(std::move(*dave_key));
  auto& c = keyed.ConnectWithKey("carol", carol);
  keyed.ConnectWithKey("dave", dave);
  keyed.Type(c, "/who dave");
  EXPECT_TRUE(c.Saw(Cat("-!- dave's key: ", dave_fp, " (a guest: not on the members list)")))
      << ::testing::PrintToString(c.lines);
  keyed.Type(c, "/whois carol");
  EXPECT_TRUE(c.Saw(Cat("-!- carol's key: ", carol_fp, " (a member)")));
}

// /quit REASON: the room is told why; /quit alone leaves as before; a reason that may not be
// sent is left out, and the client leaves all the same.
TEST(ClientCommandsTest, QuitWithAReasonTellsTheRoom) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  auto& carol = net.Connect("carol");
  net.Type(alice, "/QUIT gone fishing");
  EXPECT_TRUE(bob.Saw("-!- alice left (gone fishing)")) << ::testing::PrintToString(bob.lines);
  EXPECT_TRUE(alice.session.finished());
  EXPECT_EQ(alice.session.exit_code(), kExitOk);
  // A reason that may not be sent is left out, saying so; nobody is kept for it.
  net.Type(carol, "/quit a\x07");
  EXPECT_TRUE(carol.SawContaining("-!- leaving without the reason"))
      << ::testing::PrintToString(carol.lines);
  EXPECT_TRUE(bob.Saw("-!- carol left")) << ::testing::PrintToString(bob.lines);
  EXPECT_TRUE(carol.session.finished());
  EXPECT_EQ(carol.session.exit_code(), kExitOk);
}

TEST(ClientCommandsTest, DurationsAreWrittenToTheUnitThatMatters) {
  EXPECT_EQ(FormatElapsed(0), "0 s");
  EXPECT_EQ(FormatElapsed(59'999), "59 s");
  EXPECT_EQ(FormatElapsed(60'000), "1 min");
  EXPECT_EQ(FormatElapsed(3'599'000), "59 min");
  EXPECT_EQ(FormatElapsed(3'600'000), "1 h");
  EXPECT_EQ(FormatElapsed(3'723'000), "1 h 2 min");
  EXPECT_EQ(FormatElapsed(86'400'000), "1 d");
  EXPECT_EQ(FormatElapsed(93'600'000), "1 d 2 h");
  EXPECT_EQ(FormatElapsed(UINT64_MAX), "213503982334 d 14 h");
}

}  // namespace
}  // namespace securechat
