// The server console's commands (engine/console.h, PROTOCOL.md 6.6): how a line is read, and
// what /kick, /who, /help and an unknown command do, through the server core, as members see
// it.
#include "securechat/engine/console.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/in_memory.h"
#include "support/raw_client.h"

namespace securechat {
namespace {

using testing::InMemoryNet;
using Verb = ConsoleCommand::Verb;

TEST(ConsoleParseTest, LinesAndCommands) {
  ConsoleCommand c = ParseConsoleLine("maintenance at noon");
  EXPECT_EQ(c.verb, Verb::kSay);
  EXPECT_EQ(c.arg, "maintenance at noon");

  c = ParseConsoleLine("//shrug");  // says "/shrug"
  EXPECT_EQ(c.verb, Verb::kSay);
  EXPECT_EQ(c.arg, "/shrug");

  c = ParseConsoleLine("/kick bob   stop spamming, please");
  EXPECT_EQ(c.verb, Verb::kKick);
  EXPECT_EQ(c.arg, "bob");
  EXPECT_EQ(c.reason, "stop spamming, please");

  c = ParseConsoleLine("/KICK bob");  // any case; no reason
  EXPECT_EQ(c.verb, Verb::kKick);
  EXPECT_EQ(c.arg, "bob");
  EXPECT_EQ(c.reason, "");

  c = ParseConsoleLine("/kick");
  EXPECT_EQ(c.verb, Verb::kKick);
  EXPECT_EQ(c.arg, "");

  EXPECT_EQ(ParseConsoleLine("/Who").verb, Verb::kWho);
  EXPECT_EQ(ParseConsoleLine("/help").verb, Verb::kHelp);

  c = ParseConsoleLine("/kik bob");  // a typo is a command, never a line to the room
  EXPECT_EQ(c.verb, Verb::kUnknown);
  EXPECT_EQ(c.arg, "/kik");
  EXPECT_EQ(ParseConsoleLine("/").verb, Verb::kUnknown);
}

TEST(ConsoleTest, KickRemovesTheMemberAndTellsEveryoneWhoAndWhy) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  const ServerCore::ConsoleAnswer answer = net.core().ConsoleLine("/kick BOB stop spamming");
  EXPECT_FALSE(answer.sent);
  EXPECT_EQ(answer.notes, std::vector<std::string>{"kicked bob"});
  net.Pump();
  EXPECT_TRUE(bob.Saw("!! kicked by the server's operator: stop spamming"));
  EXPECT_TRUE(bob.server_gone);
  EXPECT_TRUE(alice.Saw("-!- bob left (kicked by the server's operator: stop spamming)"));
  EXPECT_EQ(net.core().joined_count(), 1u);
  // The nick is free again: nothing but a ban (not built yet) keeps bob out.
  auto& again = net.Connect("bob");
  EXPECT_TRUE(again.SawContaining("joined as bob"));
}

TEST(ConsoleTest, KickWithoutAReasonAndKicksThatDoNothing) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  EXPECT_EQ(net.core().ConsoleLine("/kick carol").notes,
            std::vector<std::string>{"no such user: carol"});
  EXPECT_EQ(net.core().ConsoleLine("/kick").notes,
            std::vector<std::string>{"usage: /kick NICK [REASON]"});
  EXPECT_EQ(net.core().ConsoleLine(Cat("/kick bob ", std::string(257, 'x'))).notes,
            std::vector<std::string>{"not kicked: a reason must be at most 256 bytes of text "
                                     "without control characters"});
  EXPECT_EQ(net.core().ConsoleLine("/kick bob bell\a").notes.size(), 1u);
  net.Pump();
  EXPECT_EQ(net.core().joined_count(), 2u);
  EXPECT_FALSE(bob.server_gone);
  EXPECT_EQ(net.core().ConsoleLine("/kick bob").notes, std::vector<std::string>{"kicked bob"});
  net.Pump();
  EXPECT_TRUE(bob.Saw("!! kicked by the server's operator"));
  EXPECT_TRUE(alice.Saw("-!- bob left (kicked by the server's operator)"));
}

TEST(ConsoleTest, CommandsAndMistakesAreNeverSaidToTheRoom) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  const size_t before = alice.lines.size();
  ServerCore::ConsoleAnswer answer = net.core().ConsoleLine("/kik bob");
  EXPECT_FALSE(answer.sent);
  EXPECT_EQ(answer.notes,
            std::vector<std::string>{
                "unknown command /kik (/help lists them; //TEXT says a line that starts with "
                "/TEXT)"});
  answer = net.core().ConsoleLine("/who");
  EXPECT_EQ(answer.notes, std::vector<std::string>{"online (1): alice"});
  answer = net.core().ConsoleLine("/help");
  EXPECT_EQ(answer.notes.size(), std::size(kConsoleHelp));
  net.Pump();
  EXPECT_EQ(alice.lines.size(), before) << alice.lines.back();

  answer = net.core().ConsoleLine("//shrug");
  EXPECT_TRUE(answer.sent);
  EXPECT_TRUE(answer.notes.empty());
  net.Pump();
  EXPECT_TRUE(alice.Saw("<server> /shrug"));
}

// /rooms lists every room with its members and topic (escaped); /motd changes what WELCOME
// carries for those who join from then on, and refuses what is not valid text.
TEST(ConsoleTest, RoomsListsEveryRoomAndMotdChangesTheNextWelcome) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  testing::RawClient carol(net);
  carol.Send(msg::Join{"carol"});
  carol.Send(msg::RoomJoin{"#dev", 0, 0});
  carol.Send(msg::RoomTopic{"#dev", "ship\xe2\x80\x8bit"});
  net.Pump();
  EXPECT_EQ(
      net.core().ConsoleLine("/rooms").notes,
      (std::vector<std::string>{"rooms (2):", "  #lobby (2)", "  #dev (1): ship\\u{200B}it"}));
  ServerCore::ConsoleAnswer answer = net.core().ConsoleLine("/motd release on friday");
  EXPECT_EQ(answer.notes,
            std::vector<std::string>{"message of the day set (for those who join from now)"});
  EXPECT_FALSE(answer.sent);
  net.Pump();
  EXPECT_FALSE(alice.SawContaining("release on friday"));  // not said to the room
  auto& bob = net.Connect("bob");
  EXPECT_TRUE(bob.SawContaining("release on friday"));
  EXPECT_EQ(net.core().ConsoleLine("/motd bell\a").notes,
            std::vector<std::string>{"not set: a message of the day must be valid text"});
  EXPECT_EQ(ParseConsoleLine("/ROOMS").verb, Verb::kRooms);
  EXPECT_EQ(ParseConsoleLine("/motd  two  spaces").arg, "two  spaces");
}

// A mistyped duration is refused, never read as the first word of the reason: `/ban bob 1hr
// spam` would otherwise ban bob for good "1hr spam".
TEST(ConsoleTest, AMistypedDurationIsRefusedAndNothingIsHeld) {
  ConsoleCommand c = ParseConsoleLine("/ban bob 1hr spamming");
  EXPECT_EQ(c.verb, Verb::kBan);
  EXPECT_EQ(c.duration, "1hr");
  EXPECT_EQ(c.reason, "spamming");
  c = ParseConsoleLine("/mute bob spamming 10m");  // no duration: all of it is the reason
  EXPECT_EQ(c.duration, "");
  EXPECT_EQ(c.reason, "spamming 10m");
  InMemoryNet net;
  auto& bob = net.Connect("bob");
  for (const char* line : {"/ban bob 1hr spamming", "/mute bob 90", "/ban bob 0m"}) {
    const std::vector<std::string> notes = net.core().ConsoleLine(line).notes;
    ASSERT_EQ(notes.size(), 1u) << line;
    EXPECT_NE(notes[0].find("is not a duration (a number and s, m, h, d or w"), std::string::npos)
        << notes[0];
  }
  EXPECT_TRUE(net.core().bans().entries().empty());
  net.Pump();
  EXPECT_FALSE(bob.SawContaining("banned"));
  EXPECT_FALSE(bob.SawContaining("muted"));
}

}  // namespace
}  // namespace securechat
