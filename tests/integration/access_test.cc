// Members and user keys with the real programs: chat-keygen --user makes the keys, chat-server
// --members/--access admits by them, chat-client --identity proves them, and SIGHUP revokes.
#include <signal.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "integration/expect.h"
#include "integration/process.h"
#include "integration/server_fixture.h"
#include "securechat/base/cat.h"

namespace securechat::testing {
namespace {

class AccessTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    for (const char* who : {"alice", "bob", "stranger"}) {
      ASSERT_NO_FATAL_FAILURE(MakeUserKey(who));
    }
    members_ = Cat(dir_.path(), "/members");
    WriteMembers(Cat("# the test room\n", "alice ", PubFields("alice"), "\n", "bob ",
                     PubFields("bob"), " op\n"));
  }

  // MakeUserKey runs chat-keygen --user into the folder dir/WHO.
  void MakeUserKey(const std::string& who) {
    auto keygen = Process::Start(ProgramPath("chat-keygen"),
                                 {"--user", "--comment", who, "--out_dir", KeyDir(who)});
    ASSERT_TRUE(keygen.ok()) << keygen.status();
    ASSERT_TRUE(Exits(**keygen, 0)) << Describe(**keygen);
  }

  std::string KeyDir(const std::string& who) const { return Cat(dir_.path(), "/", who); }
  std::string Identity(const std::string& who) const { return Cat(KeyDir(who), "/id_ed25519"); }

  // PubFields is "KEYTYPE BASE64" from WHO's .pub line, as an operator pastes it.
  std::string PubFields(const std::string& who) const {
    std::ifstream in(Cat(Identity(who), ".pub"));
    std::string type;
    std::string base64;
    in >> type >> base64;
    EXPECT_EQ(type, "securechat-ed25519");
    return Cat(type, " ", base64);
  }

  void WriteMembers(const std::string& text) {
    std::ofstream out(members_, std::ios::trunc);
    out << text;
  }

  std::unique_ptr<Process> Client(const std::string& nick, const std::string& identity,
                                  std::vector<std::string> extra = {}) {
    extra.insert(extra.end(), {"--identity", identity});
    return StartChatClient(nick, public_key_, server_.address, extra);
  }

  std::string members_;
};

TEST_F(AccessTest, MembersOnlyAdmitsMembersAndRefusesEveryoneElse) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer({"--members", members_, "--access", "members"}));
  EXPECT_TRUE(Saw(server(), "members: 2 nicks, 2 keys from"));
  auto alice = Client("alice", Identity("alice"));
  ASSERT_NE(alice, nullptr);
  ASSERT_TRUE(Saw(*alice, "-!- authenticated as the member alice (SHA256:"));
  ASSERT_TRUE(Saw(*alice, "-!- joined as alice; 1 online\n"));

  // A key the file does not list: refused with a clear error, exit 9.
  auto stranger = Client("carol", Identity("stranger"));
  ASSERT_NE(stranger, nullptr);
  EXPECT_TRUE(Exits(*stranger, 9)) << Describe(*stranger);
  EXPECT_TRUE(Contains(stranger->err(), "this room admits members only, and your key SHA256:"))
      << Describe(*stranger);
  // No key at all.
  auto guest = Client("dave", "none");
  ASSERT_NE(guest, nullptr);
  EXPECT_TRUE(Exits(*guest, 9)) << Describe(*guest);
  EXPECT_TRUE(Contains(guest->err(), "admits members only")) << Describe(*guest);

  // bob's key asking for alice's nick is joined as bob, the nick his key is listed under.
  auto bob = Client("alice", Identity("bob"));
  ASSERT_NE(bob, nullptr);
  EXPECT_TRUE(Saw(*bob, "-!- joining as bob, the nick your key is listed under\n"));
  EXPECT_TRUE(Saw(*bob, "-!- joined as bob; 2 online\n"));
  EXPECT_TRUE(Saw(*alice, "-!- bob joined (SHA256:"));
  ASSERT_TRUE(alice->WriteStdin("hello bob"));
  EXPECT_TRUE(Saw(*bob, "<alice> hello bob\n"));
  EXPECT_TRUE(SawOnStderr(server(), ", not a member"));
}

TEST_F(AccessTest, AGuestCannotTakeAMembersNick) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer({"--members", members_}));
  auto alice = Client("alice", Identity("alice"));
  ASSERT_NE(alice, nullptr);
  ASSERT_TRUE(Saw(*alice, "-!- joined as alice; 1 online\n"));
  alice->CloseStdin();  // alice leaves: her nick stays hers
  ASSERT_TRUE(Exits(*alice, 0)) << Describe(*alice);

  auto strict = Client("Alice", "none", {"--strict_nick"});
  ASSERT_NE(strict, nullptr);
  EXPECT_TRUE(Exits(*strict, 5)) << Describe(*strict);
  EXPECT_TRUE(Contains(strict->err(), "Alice is kept for the member alice")) << Describe(*strict);

  auto bob = Client("bob", Identity("bob"));
  ASSERT_NE(bob, nullptr);
  ASSERT_TRUE(Saw(*bob, "-!- joined as bob; 1 online\n"));
  auto guest = Client("alice", "none");
  ASSERT_NE(guest, nullptr);
  EXPECT_TRUE(Saw(*guest, "-!- joined as alice2; 2 online\n"));
  EXPECT_TRUE(Saw(*bob, "-!- alice2 joined (guest)\n"));
}

TEST_F(AccessTest, SighupRevokesARemovedKeyAndKeepsTheListOnAnError) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer({"--members", members_, "--access", "members"}));
  auto alice = Client("alice", Identity("alice"));
  auto bob = Client("bob", Identity("bob"));
  ASSERT_NE(alice, nullptr);
  ASSERT_NE(bob, nullptr);
  ASSERT_TRUE(Saw(*alice, "-!- joined as alice;"));
  ASSERT_TRUE(Saw(*bob, "-!- joined as bob;"));

  // A file with an error: the old list stays, nobody is closed.
  WriteMembers("alice not-a-key-type AAAA\n");
  ASSERT_EQ(server().Signal(SIGHUP), true);
  ASSERT_TRUE(SawOnStderr(server(), "SIGHUP: the old members list stays in force"));
  EXPECT_TRUE(SawOnStderr(server(), "line 1"));
  ASSERT_TRUE(alice->WriteStdin("still here"));
  ASSERT_TRUE(Saw(*bob, "<alice> still here\n"));

  // alice's key removed: she is closed at once with ERROR 10, exit 9; bob stays.
  WriteMembers(Cat("bob ", PubFields("bob"), "\n"));
  ASSERT_EQ(server().Signal(SIGHUP), true);
  EXPECT_TRUE(Exits(*alice, 9)) << Describe(*alice);
  EXPECT_TRUE(Contains(alice->err(), "your key was removed from this room's members list"))
      << Describe(*alice);
  EXPECT_TRUE(Saw(*bob, "-!- alice left\n"));
  EXPECT_TRUE(SawOnStderr(server(), "SIGHUP: 1 member keys from"));
  // And she cannot come back.
  auto again = Client("alice", Identity("alice"));
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(Exits(*again, 9)) << Describe(*again);
  ASSERT_TRUE(bob->WriteStdin("/who"));
  EXPECT_TRUE(Saw(*bob, "-!- online (1): bob\n"));
}

// An operator by key (bob, marked `op`) bans a guest from his own client (PROTOCOL.md 6.12):
// the guest is removed and kept out under a new nick, --reconnect does not bring it back, and
// alice, a member with a key behind the same address, is not held. With --bans the ban is in
// the file and holds after a restart, until the console lifts it.
TEST_F(AccessTest, AnOperatorsBanHoldsAGuestUnderANewNickAndAcrossARestart) {
  const std::string bans = dir_.File("bans");
  const std::vector<std::string> flags = {"--members", members_, "--bans", bans};
  ASSERT_NO_FATAL_FAILURE(StartTestServer(flags));
  auto alice = Client("alice", Identity("alice"));
  ASSERT_NE(alice, nullptr);
  ASSERT_TRUE(Saw(*alice, "-!- joined as alice;"));
  auto bob = Client("bob", Identity("bob"));
  ASSERT_NE(bob, nullptr);
  ASSERT_TRUE(Saw(*bob, "-!- joined as bob;"));
  auto erin = StartChatClient("erin", public_key_, server_.address, {"--identity=none"});
  ASSERT_NE(erin, nullptr);
  ASSERT_TRUE(Saw(*bob, "-!- erin joined (guest)\n"));

  // alice is no operator.
  ASSERT_TRUE(alice->WriteStdin("/kick erin"));
  EXPECT_TRUE(Saw(*alice, "!! not an operator: the members file does not mark your key op\n"));

  ASSERT_TRUE(bob->WriteStdin("/ban erin 1h flooding"));
  EXPECT_TRUE(Saw(*bob, "-!- banned guests from 127.0.0.1 (erin) for 1h\n-!- removed erin\n"));
  EXPECT_TRUE(Saw(*erin, "!! banned by bob for 1h: flooding\n"));
  EXPECT_TRUE(Exits(*erin, 10)) << Describe(*erin);
  EXPECT_TRUE(Contains(erin->err(), "removed from the chat: banned by bob for 1h: flooding"))
      << Describe(*erin);
  EXPECT_TRUE(Saw(*alice, "-!- erin left (banned by bob for 1h: flooding)\n"));

  // A new nick from the same address, with --reconnect: refused once, and it does not retry.
  auto again =
      StartChatClient("erin2", public_key_, server_.address, {"--identity=none", "--reconnect"});
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(Exits(*again, 10)) << Describe(*again);
  // The time left, rounded down: 59m 59s, or less on a slow machine.
  EXPECT_TRUE((Contains(again->out(), "!! you are banned from this server for 59m ") &&
               Contains(again->out(), "s more: flooding\n")) ||
              Contains(again->out(), "!! you are banned from this server for 1h more: flooding\n"))
      << Describe(*again);
  EXPECT_TRUE(Contains(again->err(), "cannot join: you are banned from this server"))
      << Describe(*again);
  EXPECT_EQ(CountOf(again->out(), "banned"), 1u) << Describe(*again);
  // The members, with their keys, are still in, behind the same address.
  ASSERT_TRUE(alice->WriteStdin("/who"));
  EXPECT_TRUE(Saw(*alice, "-!- online (2): alice bob\n"));

  // The server writes the file before it sends a round's messages: by the time erin was told,
  // the ban was on disk. The server restarts with it.
  std::ifstream in(bans);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(Contains(text, "ban guests 127.0.0.1 ")) << text;
  alice->CloseStdin();
  bob->CloseStdin();
  EXPECT_TRUE(Exits(*alice, 8)) << Describe(*alice);  // her /kick was refused
  EXPECT_TRUE(Exits(*bob, 0)) << Describe(*bob);
  ASSERT_TRUE(server().Signal(SIGTERM));
  ASSERT_TRUE(Exits(server(), 0));
  ASSERT_NO_FATAL_FAILURE(StartTestServer(flags));
  EXPECT_TRUE(Saw(server(), "bans and mutes in force: 1 (from "));
  auto third = StartChatClient("frank", public_key_, server_.address, {"--identity=none"});
  ASSERT_NE(third, nullptr);
  EXPECT_TRUE(Exits(*third, 10)) << Describe(*third);

  ASSERT_TRUE(server().WriteStdin("/unban erin"));
  EXPECT_TRUE(SawOnStderr(server(), "lifted 1 entry for erin"));
  auto frank = StartChatClient("frank", public_key_, server_.address, {"--identity=none"});
  ASSERT_NE(frank, nullptr);
  EXPECT_TRUE(Saw(*frank, "-!- joined as frank; 1 online\n")) << Describe(*frank);
}

TEST_F(AccessTest, BadMembersFlagsAreRefusedAtStart) {
  auto no_file = Process::Start(ProgramPath("chat-server"), {"--key", private_key_, "--listen",
                                                             "127.0.0.1:0", "--access", "members"});
  ASSERT_TRUE(no_file.ok());
  EXPECT_TRUE(Exits(**no_file, 1));
  EXPECT_TRUE(Contains((*no_file)->err(), "--access=members needs --members=FILE"));
  WriteMembers("alice securechat-ed25519 AAAA\n");
  auto bad = Process::Start(ProgramPath("chat-server"), {"--key", private_key_, "--listen",
                                                         "127.0.0.1:0", "--members", members_});
  ASSERT_TRUE(bad.ok());
  EXPECT_TRUE(Exits(**bad, 1));
  EXPECT_TRUE(Contains((*bad)->err(), "line 1")) << Describe(**bad);
}

}  // namespace
}  // namespace securechat::testing
