// --reconnect with the client's input a pipe: the plain client survives a server restart on
// the same port, and while it waits only local commands work and /quit leaves with 0.
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "integration/process.h"
#include "integration/server_fixture.h"
#include "securechat/base/cat.h"

namespace securechat::testing {
namespace {

using std::chrono_literals::operator""s;

// The first retry comes 0.5 to 1 s after the loss, the next 1 to 2 s after that, ...
constexpr Duration kReconnectWait = 15s;

class ReconnectTest : public ServerFixture {
 protected:
  std::unique_ptr<Process> StartClient(const std::string& nick, bool reconnect) {
    std::vector<std::string> args = {"--nick",        nick,           "--connect",
                                     server_.address, "--server_key", public_key_};
    if (reconnect) {
      args.push_back("--reconnect");
    }
    auto client = Process::Start(ProgramPath("chat-client"), args);
    if (!client.ok()) {
      ADD_FAILURE() << client.status();
      return nullptr;
    }
    return std::move(*client);
  }

  // StopServer sends SIGTERM and waits for a clean exit.
  void StopServer() {
    ASSERT_TRUE(server_.process->Signal(SIGTERM));
    ASSERT_EQ(server_.process->Wait(kWait), 0) << server_.process->err();
  }
};

TEST_F(ReconnectTest, PipedClientRejoinsAfterServerRestart) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  const std::string address = server_.address;
  auto alice = StartClient("alice", true);
  ASSERT_NE(alice, nullptr);
  ASSERT_TRUE(alice->WaitForStdout("-!- joined as alice; 1 online\n", kWait)) << alice->out();

  ASSERT_NO_FATAL_FAILURE(StopServer());
  ASSERT_TRUE(alice->WaitForStdout(
      "!! server shutting down\n!! connection lost: the server shut down; reconnecting in ", kWait))
      << alice->out();
  ASSERT_TRUE(alice->WriteStdin("said while away"));
  ASSERT_TRUE(
      alice->WaitForStdout("!! not sent: not connected (reconnecting; /quit to leave)\n", kWait))
      << alice->out();

  ASSERT_NO_FATAL_FAILURE(StartTestServer({"--listen", address}));
  ASSERT_TRUE(alice->WaitForStdout("-!- rejoined as alice; 1 online\n", kReconnectWait))
      << alice->out();
  // The history of the server before is gone with it (PROTOCOL.md 6.11), and the client says so.
  EXPECT_TRUE(alice->WaitForStdout(
      "-!- the server restarted while you were away: what was said before is gone\n", kWait))
      << alice->out();
  auto bob = StartClient("bob", false);
  ASSERT_NE(bob, nullptr);
  ASSERT_TRUE(bob->WaitForStdout("-!- joined as bob; 2 online\n", kWait)) << bob->out();
  ASSERT_TRUE(alice->WriteStdin("back again"));
  EXPECT_TRUE(bob->WaitForStdout("<alice> back again\n", kWait)) << bob->out();

  // The line typed while away was not sent: the piped client's exit code says so.
  alice->CloseStdin();
  EXPECT_EQ(alice->Wait(kWait), 8) << alice->err();
  EXPECT_EQ(alice->err(), "chat-client: 1 line was refused (the !! lines say why)\n");
  EXPECT_TRUE(bob->WaitForStdout("-!- alice left\n", kWait)) << bob->out();
  EXPECT_EQ(bob->out().find("said while away"), std::string::npos) << "nothing is queued offline";
}

TEST_F(ReconnectTest, QuitWhileWaitingLeavesWithZero) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto alice = StartClient("alice", true);
  ASSERT_NE(alice, nullptr);
  ASSERT_TRUE(alice->WaitForStdout("-!- joined as alice; 1 online\n", kWait)) << alice->out();
  ASSERT_NO_FATAL_FAILURE(StopServer());
  ASSERT_TRUE(alice->WaitForStdout("reconnecting in ", kWait)) << alice->out();
  ASSERT_TRUE(alice->WriteStdin("/ignore bob"));
  ASSERT_TRUE(alice->WaitForStdout("-!- ignoring bob for this session", kWait)) << alice->out();
  ASSERT_TRUE(alice->WriteStdin("/quit"));
  EXPECT_EQ(alice->Wait(kWait), 0) << alice->out() << alice->err();
}

// With --reconnect, a first attempt that finds no server is retried like any later one: the
// client says it cannot connect and will try again, and joins once a server listens there.
// (It used to start the spent handshake again and exit 1, "cannot build the handshake".)
TEST_F(ReconnectTest, FirstAttemptWithNoServerIsRetried) {
  // A port on which nothing listens: one a server just bound and gave back.
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  const std::string address = server_.address;
  ASSERT_TRUE(server_.process->Signal(SIGKILL));
  ASSERT_TRUE(server_.process->Wait(kWait).has_value());

  auto alice = StartClient("alice", true);
  ASSERT_NE(alice, nullptr);
  ASSERT_TRUE(alice->WaitForStdout("reconnecting in ", kWait)) << alice->out() << alice->err();
  EXPECT_NE(alice->out().find(Cat("!! cannot connect to ", address)), std::string::npos)
      << alice->out();

  ASSERT_NO_FATAL_FAILURE(StartTestServer({"--listen", address}));
  ASSERT_TRUE(alice->WaitForStdout("-!- joined as alice; 1 online\n", kReconnectWait))
      << alice->out() << alice->err();
  alice->CloseStdin();
  EXPECT_EQ(alice->Wait(kWait), 0) << alice->err();
  EXPECT_EQ(alice->err(), "");
}

// Without --reconnect nothing changes: a lost connection is exit 6 at once.
TEST_F(ReconnectTest, WithoutTheFlagALostConnectionEndsTheClient) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto alice = StartClient("alice", false);
  ASSERT_NE(alice, nullptr);
  ASSERT_TRUE(alice->WaitForStdout("-!- joined as alice; 1 online\n", kWait)) << alice->out();
  ASSERT_NO_FATAL_FAILURE(StopServer());
  EXPECT_EQ(alice->Wait(kWait), 6);
  EXPECT_EQ(alice->out().find("reconnecting"), std::string::npos) << alice->out();
  EXPECT_NE(alice->err().find("connection lost: the server shut down"), std::string::npos);
}

}  // namespace
}  // namespace securechat::testing
