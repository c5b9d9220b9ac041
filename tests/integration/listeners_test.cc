// chat-server's network layer as its users meet it: one server on several addresses
// (--listen with a comma-separated list), and console lines that are too long.
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "integration/expect.h"
#include "integration/process.h"
#include "integration/server_fixture.h"

namespace securechat::testing {
namespace {

using ListenersTest = ServerFixture;

// Two listening addresses make one server: a client on each is in the same room, and the
// server announces both addresses.
TEST_F(ListenersTest, OneRoomOnTwoAddresses) {
  // A later --listen replaces StartServer's own.
  auto server = StartServer(private_key_, {"--listen", "127.0.0.1:0,127.0.0.1:0"}, kWait);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string out = server->process->out();
  std::vector<std::string> addresses;
  const std::regex listening("securechat server listening on (127\\.0\\.0\\.1:[0-9]+)\n");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), listening);
       it != std::sregex_iterator(); ++it) {
    addresses.push_back((*it)[1]);
  }
  ASSERT_EQ(addresses.size(), 2u) << out;
  ASSERT_NE(addresses[0], addresses[1]);

  auto alice = JoinChat("alice", public_key_, addresses[0], 1);
  ASSERT_NE(alice, nullptr);
  auto bob = JoinChat("bob", public_key_, addresses[1], 2);
  ASSERT_NE(bob, nullptr);
  EXPECT_TRUE(Saw(*alice, "-!- bob joined\n"));
  ASSERT_TRUE(alice->WriteStdin("hello across listeners"));
  EXPECT_TRUE(Saw(*bob, "<alice> hello across listeners\n"));
  ASSERT_TRUE(bob->WriteStdin("and back"));
  EXPECT_TRUE(Saw(*alice, "<bob> and back\n"));
}

TEST_F(ListenersTest, RefusesABadAddressInTheList) {
  auto server = Process::Start(ProgramPath("chat-server"),
                               {"--listen", "127.0.0.1:0,nonsense", "--key", private_key_});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(Exits(**server, 1));
  EXPECT_TRUE(Contains((*server)->err(), "--listen: bad address 'nonsense'")) << Describe(**server);
}

// A console line longer than a message is not sent, whole: not even the part of it that
// comes after the server stopped holding it. The operator is told.
TEST_F(ListenersTest, AnOverlongConsoleLineIsNotSentNotEvenItsTail) {
  auto server = StartServer(private_key_, {}, kWait);
  ASSERT_TRUE(server.ok()) << server.status();
  Process& console = *server->process;
  auto alice = JoinChat("alice", public_key_, server->address, 1);
  ASSERT_NE(alice, nullptr);

  ASSERT_TRUE(console.WriteStdin(std::string(10'000, 'a')));
  ASSERT_TRUE(console.WriteStdin("after the long line"));
  EXPECT_TRUE(Saw(*alice, "<server> after the long line\n"));
  EXPECT_TRUE(SawOnStderr(console, "not sent: a console line must be 1 to 4096 bytes"));
  EXPECT_FALSE(Contains(alice->out(), "aaaa")) << Describe(*alice);
}

}  // namespace
}  // namespace securechat::testing
