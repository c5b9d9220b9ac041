// The server core and the client session, wired in memory: room semantics as users see them.
#include <gtest/gtest.h>

#include "securechat/wire/frame.h"
#include "support/in_memory.h"

namespace securechat {
namespace {

using testing::InMemoryNet;

TEST(EngineTest, ThreeClientsChat) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  auto& carol = net.Connect("carol");
  EXPECT_TRUE(alice.Saw("-!- joined as alice; 1 online"));
  EXPECT_TRUE(carol.Saw("-!- joined as carol; 3 online"));
  EXPECT_TRUE(alice.Saw("-!- bob joined"));
  EXPECT_TRUE(alice.Saw("-!- carol joined"));
  EXPECT_FALSE(carol.Saw("-!- carol joined"));  // the joiner gets WELCOME instead

  net.Type(alice, "hello, world");
  EXPECT_TRUE(bob.Saw("<alice> hello, world"));
  EXPECT_TRUE(carol.Saw("<alice> hello, world"));
  EXPECT_FALSE(alice.SawContaining("hello, world"));  // SAY is not echoed
  EXPECT_TRUE(net.room.back() == "<alice> hello, world");
}

TEST(EngineTest, WhisperReachesOnlyItsRecipient) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  auto& carol = net.Connect("carol");
  net.Type(alice, "/msg bob the secret");
  EXPECT_TRUE(bob.Saw("*alice* the secret"));
  EXPECT_FALSE(carol.SawContaining("secret"));
  for (const auto& line : net.room) {
    EXPECT_EQ(line.find("secret"), std::string::npos) << "the console showed a whisper";
  }
  for (const auto& line : net.log) {
    EXPECT_EQ(line.find("secret"), std::string::npos) << "a log line carried message text";
  }
  net.Type(alice, "/msg dave hi");
  EXPECT_TRUE(alice.Saw("!! no such user: dave"));
}

TEST(EngineTest, RenameIsAnnouncedToEveryoneIncludingTheRenamer) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  net.Type(bob, "/nick robert");
  EXPECT_TRUE(alice.Saw("-!- bob is now known as robert"));
  EXPECT_TRUE(bob.Saw("-!- bob is now known as robert"));
  const size_t alice_saw = alice.lines.size();
  net.Type(bob, "/nick robert");  // to one's own nick: the client says so and sends nothing
  EXPECT_EQ(bob.lines.back(), "-!- you are already robert");
  EXPECT_EQ(alice.lines.size(), alice_saw);
  net.Type(bob, "/nick alice");
  EXPECT_TRUE(bob.Saw("!! nick taken"));
  net.Type(bob, "/nick SERVER");
  EXPECT_TRUE(bob.SawContaining("!! invalid nick"));
  net.Type(alice, "/who");
  EXPECT_TRUE(alice.Saw("-!- online (2): alice robert"));
}

TEST(EngineTest, WhoIsPagedAcrossSeveralUsersMessages) {
  InMemoryNet net({.max_clients = 1000, .max_per_address = 1000});
  std::vector<InMemoryNet::Member*> members;
  for (int i = 0; i < 300; ++i) {
    members.push_back(&net.Connect("user" + std::to_string(1000 + i)));
  }
  net.Type(*members[0], "/who");
  EXPECT_TRUE(members[0]->SawContaining("-!- online (300): user1000 user1001"));
}

TEST(EngineTest, NickTakenRefusesTheJoin) {
  InMemoryNet net;
  net.Connect("alice");
  auto& second = net.Connect("alice");
  EXPECT_TRUE(second.session.finished());
  EXPECT_EQ(second.session.exit_code(), kExitNickRefused);
  EXPECT_TRUE(second.Saw("!! nick taken"));
}

TEST(EngineTest, ServerIsReservedInAnyCase) {
  InMemoryNet net;
  net.Connect("alice");
  auto& fake = net.Connect("SeRvEr");
  EXPECT_EQ(fake.session.exit_code(), kExitNickRefused);
}

TEST(EngineTest, ConsoleLinesGoToEveryoneAsServer) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  ASSERT_TRUE(net.core().ConsoleLine("maintenance at noon").sent);
  net.Pump();
  EXPECT_TRUE(alice.Saw("<server> maintenance at noon"));
  EXPECT_TRUE(bob.Saw("<server> maintenance at noon"));
  EXPECT_FALSE(net.core().ConsoleLine("bell\a").sent);
  EXPECT_FALSE(net.core().ConsoleLine("").sent);
}

TEST(EngineTest, ByeLeavesAndOthersAreTold) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  bob.session.InputEof();
  net.Pump();
  EXPECT_TRUE(bob.session.finished());
  EXPECT_EQ(bob.session.exit_code(), kExitOk);
  EXPECT_TRUE(alice.Saw("-!- bob left"));
  EXPECT_EQ(net.core().joined_count(), 1u);
  EXPECT_EQ(net.core().connection_count(), 1u);
}

TEST(EngineTest, LinesTypedBeforeTheWelcomeAreSentAfterIt) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  // bob types and ends his input before the handshake has even started moving.
  InMemoryNet::Member& bob = net.Connect("bob");
  (void)bob;
  auto& carol = net.Connect("carol");
  carol.session.InputLine("first");
  carol.session.InputLine("second");
  carol.session.InputEof();
  net.Pump();
  EXPECT_TRUE(alice.Saw("<carol> first"));
  EXPECT_TRUE(alice.Saw("<carol> second"));
  EXPECT_TRUE(alice.Saw("-!- carol left"));
  EXPECT_EQ(carol.session.exit_code(), kExitOk);
}

TEST(EngineTest, ShutdownTellsEveryClient) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  net.core().Shutdown();
  net.Pump();
  for (auto* m : {&alice, &bob}) {
    EXPECT_TRUE(m->Saw("!! server shutting down"));
    EXPECT_TRUE(m->session.finished());
    EXPECT_EQ(m->session.exit_code(), kExitConnectionLost);
    EXPECT_EQ(m->session.final_message(), "connection lost: the server shut down");
  }
  EXPECT_EQ(net.core().connection_count(), 0u);
}

TEST(EngineTest, ServerFullGetsAlertOne) {
  InMemoryNet net({.max_clients = 2});
  net.Connect("alice");
  net.Connect("bob");
  auto& third = net.Connect("carol");
  EXPECT_TRUE(third.session.finished());
  EXPECT_EQ(third.session.exit_code(), kExitServerFull);
  EXPECT_EQ(third.session.final_message(), "server full: the server says: server full (alert 1)");
}

TEST(EngineTest, WrongPinnedKeyFailsConfirmationAndSendsNothing) {
  InMemoryNet net;
  auto other = ServerPrivateKey::Generate(2048).value();
  auto& mallory_view = net.Connect("alice", other.PublicKey());
  EXPECT_EQ(mallory_view.session.exit_code(), kExitConfirmFailed);
  EXPECT_EQ(mallory_view.session.final_message(),
            "server key confirmation failed: wrong server key or tampered handshake");
  EXPECT_TRUE(mallory_view.conn.output().empty());
  EXPECT_EQ(net.core().joined_count(), 0u);
  // The server goes on serving others.
  auto& bob = net.Connect("bob");
  EXPECT_TRUE(bob.Saw("-!- joined as bob; 1 online"));
}

size_t CountContaining(const InMemoryNet::Member& m, std::string_view part) {
  size_t n = 0;
  for (const std::string& l : m.lines) {
    n += l.find(part) != std::string::npos ? 1 : 0;
  }
  return n;
}

TEST(EngineTest, UnknownCommandsAndBadTextNeverGoOut) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  net.Type(alice, "/frobnicate now");
  EXPECT_TRUE(alice.Saw("!! unknown command /frobnicate; /help lists the commands"));
  net.Type(alice, "tab\there");
  EXPECT_TRUE(alice.Saw("!! not sent: the line has control characters or invalid UTF-8"));
  // Too long and with a control character: refused whole, no piece of it sent.
  net.Type(alice, std::string(5000, 'a') + "\x1b");
  EXPECT_EQ(CountContaining(alice, "!! not sent: the line has control characters"), 2u);
  net.Type(alice, "//slash");
  EXPECT_TRUE(bob.Saw("<alice> /slash"));
  EXPECT_EQ(bob.lines.size(), 3u) << "only the join line, the motd and /slash";
}

}  // namespace
}  // namespace securechat
