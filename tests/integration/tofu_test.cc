// Trusting the server's key on first use, with the real programs and the client's input a
// pipe: without --server_key the client asks the server for its key and checks it against
// ~/.config/securechat/known_servers (XDG_CONFIG_HOME, a temp dir per test) or
// --server_fingerprint, as ssh checks host keys. (At a terminal: terminal_test.cc.)
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "integration/expect.h"
#include "integration/process.h"
#include "integration/server_fixture.h"
#include "securechat/base/cat.h"
#include "support/test_util.h"

namespace securechat::testing {
namespace {

using std::chrono_literals::operator""s;

constexpr int kExitRefused = 3;

int Mode(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

class TofuTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    config_ = dir_.File("config");
    known_ = config_ + "/securechat/known_servers";
  }

  // StartClient runs chat-client as `nick` without --server_key, with its config folder in the
  // test's temp dir, and `args` after the usual ones.
  std::unique_ptr<Process> StartClient(const std::string& nick,
                                       const std::vector<std::string>& args = {}) {
    std::vector<std::string> argv = {Cat("XDG_CONFIG_HOME=", config_),
                                     Cat("HOME=", dir_.path()),
                                     ProgramPath("chat-client"),
                                     "--nick",
                                     nick,
                                     "--connect",
                                     server_.address};
    argv.insert(argv.end(), args.begin(), args.end());
    auto client = Process::Start("/usr/bin/env", argv);
    if (!client.ok()) {
      ADD_FAILURE() << client.status();
      return nullptr;
    }
    return std::move(*client);
  }

  // RestartWithAnotherKey stops the server and starts one with the 3072-bit test key on the
  // same port; returns its fingerprint.
  std::string RestartWithAnotherKey() {
    const std::string other = dir_.File("other_private.pem");
    EXPECT_TRUE(CopyFileWithMode(TestKeyPath("test_rsa3072_private.pem"), other, 0600).ok());
    const absl::Status restarted = RestartServer(other, kWait, &server_);
    EXPECT_TRUE(restarted.ok()) << restarted;
    return restarted.ok() ? server_.fingerprint : "";
  }

  // WriteKnown writes the known_servers file (and its folder).
  void WriteKnown(const std::string& text) {
    ASSERT_EQ(mkdir(config_.c_str(), 0700), 0);
    ASSERT_EQ(mkdir((config_ + "/securechat").c_str(), 0700), 0);
    std::ofstream(known_) << text;
  }

  std::string config_;
  std::string known_;
};

TEST_F(TofuTest, PipeRefusesAnUnknownServerSayingHow) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto alice = StartClient("alice");
  ASSERT_NE(alice, nullptr);
  alice->CloseStdin();
  ASSERT_TRUE(Exits(*alice, kExitRefused));
  EXPECT_TRUE(Contains(alice->err(), Cat("the server at ", server_.address, " is not in ", known_)))
      << Describe(*alice);
  EXPECT_TRUE(Contains(alice->err(), Cat("--server_fingerprint=", server_.fingerprint)))
      << Describe(*alice);
  EXPECT_TRUE(Contains(alice->err(), "--trust_on_first_use")) << Describe(*alice);
  EXPECT_EQ(alice->out(), "") << "nothing about a connection";
  EXPECT_EQ(Mode(known_), -1) << "nothing written";
}

TEST_F(TofuTest, TrustOnFirstUseAddsTheLineAndTheNextRunConnectsWithoutIt) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto first = StartClient("alice", {"--trust_on_first_use"});
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(Saw(*first, "-!- joined as alice; 1 online\n"));
  first->CloseStdin();
  ASSERT_TRUE(Exits(*first, 0));
  EXPECT_EQ(first->err(), Cat("added ", server_.address, " with key ", server_.fingerprint, " to ",
                              known_, "\n"));
  EXPECT_EQ(ReadFileOrDie(known_), Cat(server_.address, " ", server_.fingerprint, "\n"));
  EXPECT_EQ(Mode(known_), 0600);
  EXPECT_EQ(Mode(config_ + "/securechat"), 0700);

  auto second = StartClient("alice");
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(Saw(*second, Cat("-!- connected to ", server_.address, "; server key ",
                               server_.fingerprint, "\n")));
  ASSERT_TRUE(Saw(*second, "-!- joined as alice; 1 online\n"));
  ASSERT_TRUE(second->WriteStdin("hello again"));
  second->CloseStdin();
  ASSERT_TRUE(Exits(*second, 0));
  EXPECT_EQ(second->err(), "");
  EXPECT_EQ(ReadFileOrDie(known_), Cat(server_.address, " ", server_.fingerprint, "\n"))
      << "a known server is not added again";
}

TEST_F(TofuTest, ChangedKeyIsRefusedNamingTheFileAndTheLine) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  const std::string old_fingerprint = server_.fingerprint;
  ASSERT_NO_FATAL_FAILURE(
      WriteKnown(Cat("# my servers\n", server_.address, " ", old_fingerprint, "\n")));
  const std::string new_fingerprint = RestartWithAnotherKey();
  ASSERT_NE(new_fingerprint, "");
  ASSERT_NE(new_fingerprint, old_fingerprint);

  // --trust_on_first_use does not accept a change either.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{}, std::vector<std::string>{"--trust_on_first_use"}}) {
    auto alice = StartClient("alice", args);
    ASSERT_NE(alice, nullptr);
    alice->CloseStdin();
    ASSERT_TRUE(Exits(*alice, kExitRefused));
    const std::string& err = alice->err();
    EXPECT_TRUE(Contains(err, "WARNING: SERVER IDENTIFICATION HAS CHANGED!")) << err;
    EXPECT_TRUE(Contains(err, Cat(known_, " line 2 holds its old key ", old_fingerprint))) << err;
    EXPECT_TRUE(Contains(err, Cat("sent the key ", new_fingerprint))) << err;
    EXPECT_TRUE(Contains(err, Cat("sed -i '2d' ", known_))) << err;
    EXPECT_EQ(alice->out(), "");
  }
  EXPECT_EQ(ReadFileOrDie(known_),
            Cat("# my servers\n", server_.address, " ", old_fingerprint, "\n"))
      << "the file is left alone";
}

TEST_F(TofuTest, ServerFingerprintPinsWithoutTheFile) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto right = StartClient("alice", {Cat("--server_fingerprint=", server_.fingerprint)});
  ASSERT_NE(right, nullptr);
  ASSERT_TRUE(Saw(*right, "-!- joined as alice; 1 online\n"));
  right->CloseStdin();
  ASSERT_TRUE(Exits(*right, 0));
  EXPECT_EQ(right->err(), "");

  // The 3072-bit test key's fingerprint is not this server's.
  const std::string other = "SHA256:5KhI/vdhVrDBVDOTkG0H2ifBw4IVQYX+hoZ2TW7+C1A";
  auto wrong = StartClient("alice", {Cat("--server_fingerprint=", other)});
  ASSERT_NE(wrong, nullptr);
  wrong->CloseStdin();
  ASSERT_TRUE(Exits(*wrong, kExitRefused));
  EXPECT_TRUE(Contains(wrong->err(), Cat("sent the key ", server_.fingerprint, ", not ", other)))
      << Describe(*wrong);
  EXPECT_EQ(wrong->out(), "");
  EXPECT_EQ(Mode(known_), -1) << "known_servers is not consulted or written";

  auto malformed = StartClient("alice", {"--server_fingerprint=SHA256:short"});
  ASSERT_NE(malformed, nullptr);
  ASSERT_TRUE(Exits(*malformed, 1));
  EXPECT_TRUE(Contains(malformed->err(), "--server_fingerprint must be")) << Describe(*malformed);
}

// --server_key pins the key already: the flags that judge a fetched key go without it.
TEST_F(TofuTest, KeyFlagsThatContradictEachOtherAreUsageErrors) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  for (const std::vector<std::string>& args : {
           std::vector<std::string>{"--server_key", public_key_, "--trust_on_first_use"},
           std::vector<std::string>{"--server_key", public_key_,
                                    Cat("--server_fingerprint=", server_.fingerprint)},
           std::vector<std::string>{Cat("--server_fingerprint=", server_.fingerprint),
                                    "--trust_on_first_use"},
       }) {
    auto alice = StartClient("alice", args);
    ASSERT_NE(alice, nullptr);
    ASSERT_TRUE(Exits(*alice, 1));
    EXPECT_TRUE(Contains(alice->err(), "pins the key")) << Describe(*alice);
  }
}

TEST_F(TofuTest, KnownServersThatDoesNotParseIsExitOneNamingTheLine) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  ASSERT_NO_FATAL_FAILURE(
      WriteKnown(Cat(server_.address, " ", server_.fingerprint, "\n", "not a line\n")));
  auto alice = StartClient("alice");
  ASSERT_NE(alice, nullptr);
  alice->CloseStdin();
  ASSERT_TRUE(Exits(*alice, 1));
  EXPECT_TRUE(Contains(alice->err(), Cat(known_, ": line 2: "))) << Describe(*alice);
}

// With --reconnect every new connection checks the key again: the key accepted at the start,
// and no other, even after the server comes back.
TEST_F(TofuTest, ReconnectionMustMeetTheSameKey) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto alice = StartClient("alice", {"--trust_on_first_use", "--reconnect"});
  ASSERT_NE(alice, nullptr);
  ASSERT_TRUE(Saw(*alice, "-!- joined as alice; 1 online\n"));
  const std::string old_fingerprint = server_.fingerprint;
  const std::string new_fingerprint = RestartWithAnotherKey();
  ASSERT_NE(new_fingerprint, "");
  ASSERT_TRUE(Exits(*alice, kExitRefused, 15s));
  EXPECT_TRUE(Contains(
      alice->err(), Cat("now sends the key ", new_fingerprint, ", not the key ", old_fingerprint)))
      << Describe(*alice);
}

}  // namespace
}  // namespace securechat::testing
