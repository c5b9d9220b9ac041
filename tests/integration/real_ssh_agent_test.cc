// AgentSigner (net/ssh_agent.h) against the real OpenSSH ssh-agent: each test starts its own
// agent on a socket in a private directory, makes keys with ssh-keygen at test time (no key is
// committed), adds them with ssh-add, and checks that what comes back verifies against the key
// read from the .pub file, as a user's setup would be. Skipped only where OpenSSH's client
// programs are not installed.
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "integration/expect.h"
#include "integration/process.h"
#include "securechat/base/cat.h"
#include "securechat/crypto/ed25519.h"
#include "securechat/net/ssh_agent.h"

namespace securechat::testing {
namespace {

using std::chrono_literals::operator""s;

// The OpenSSH programs can be slow to start on a busy machine; a passing test never waits this.
constexpr Duration kToolWait = 30s;

// OnPath is the first executable `name` in $PATH, or "" if there is none.
std::string OnPath(std::string_view name) {
  const char* path = getenv("PATH");
  if (path == nullptr) {
    return "";
  }
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    std::string candidate = Cat(dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

// RunTool runs `program` to its end and returns its stdout; an error with its stderr if it fails.
absl::StatusOr<std::string> RunTool(const std::string& program,
                                    const std::vector<std::string>& args) {
  absl::StatusOr<std::unique_ptr<Process>> p = Process::Start(program, args);
  if (!p.ok()) {
    return p.status();
  }
  (*p)->CloseStdin();
  const std::optional<int> code = (*p)->Wait(kToolWait);
  if (code != 0) {
    return absl::InternalError(
        Cat(program, " failed (", code ? Cat("exit ", *code) : "timeout", "): ", (*p)->err()));
  }
  return (*p)->out();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

class RealSshAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"ssh-agent", "ssh-add", "ssh-keygen"}) {
      if (OnPath(tool).empty()) {
        GTEST_SKIP() << tool << " is not on PATH (install openssh-client: ci/install-deps.sh)";
      }
    }
    ASSERT_FALSE(dir_.path().empty());
    // A key added with ssh-add -c asks through SSH_ASKPASS, forced, so that the agent never
    // reaches for a terminal or a display: `false` declines every confirmation.
    ASSERT_FALSE(OnPath("false").empty());
    setenv("SSH_ASKPASS", OnPath("false").c_str(), 1);
    setenv("SSH_ASKPASS_REQUIRE", "force", 1);
    socket_ = dir_.File("agent.sock");
    absl::StatusOr<std::unique_ptr<Process>> agent =
        Process::Start(OnPath("ssh-agent"), {"-D", "-a", socket_});
    ASSERT_TRUE(agent.ok()) << agent.status();
    agent_ = std::move(*agent);
    // -D prints the shell lines once its socket listens.
    ASSERT_TRUE(agent_->WaitForStdout("echo Agent pid", kToolWait)) << agent_->err();
    struct stat st;
    ASSERT_EQ(stat(socket_.c_str(), &st), 0) << socket_;
    ASSERT_TRUE(S_ISSOCK(st.st_mode));
    setenv("SSH_AUTH_SOCK", socket_.c_str(), 1);
  }

  void TearDown() override {
    if (agent_ != nullptr) {
      agent_->Signal(SIGTERM);
      EXPECT_TRUE(agent_->Wait(kToolWait).has_value());
    }
    unsetenv("SSH_AUTH_SOCK");
  }

  // NewKey makes a key of `type` with no passphrase in the test's directory and returns its
  // path (the public half is path + ".pub").
  std::string NewKey(const std::string& name, const std::string& type) {
    const std::string path = dir_.File(name);
    absl::StatusOr<std::string> out = RunTool(
        OnPath("ssh-keygen"), {"-q", "-t", type, "-N", "", "-C", name + "@test", "-f", path});
    EXPECT_TRUE(out.ok()) << out.status();
    return path;
  }

  void Add(const std::string& key, bool confirm = false) {
    std::vector<std::string> args;
    if (confirm) {
      args.push_back("-c");
    }
    args.push_back(key);
    absl::StatusOr<std::string> out = RunTool(OnPath("ssh-add"), args);
    EXPECT_TRUE(out.ok()) << out.status();
  }

  // PublicOf reads an OpenSSH .pub line with the project's parser.
  static Ed25519Public PublicOf(const std::string& key) {
    const std::vector<std::string> fields =
        absl::StrSplit(ReadFile(key + ".pub"), absl::ByAnyChar(" \n"), absl::SkipEmpty());
    EXPECT_GE(fields.size(), 2u);
    std::string why;
    std::optional<Ed25519Public> pub =
        fields.size() < 2 ? std::nullopt : ParsePublicKey(fields[0], fields[1], &why);
    EXPECT_TRUE(pub.has_value()) << why;
    return pub.value_or(Ed25519Public{});
  }

  // SshFingerprint is the fingerprint as ssh-keygen -l prints it.
  static std::string SshFingerprint(const std::string& key) {
    absl::StatusOr<std::string> out = RunTool(OnPath("ssh-keygen"), {"-l", "-f", key + ".pub"});
    EXPECT_TRUE(out.ok()) << out.status();
    const std::vector<std::string> fields = absl::StrSplit(out.value_or(""), ' ');
    return fields.size() > 1 ? fields[1] : "";
  }

  static net::AgentOptions WithFingerprint(const std::string& fingerprint) {
    net::AgentOptions o;
    o.fingerprint = fingerprint;
    return o;
  }

  static bool Contains(const absl::Status& s, std::string_view text) {
    return std::string_view(s.message().data(), s.message().size()).find(text) !=
           std::string_view::npos;
  }

  TempDir dir_;
  std::string socket_;
  std::unique_ptr<Process> agent_;
};

TEST_F(RealSshAgentTest, SignsWithTheFirstEd25519KeyPastAnEcdsaKey) {
  const std::string ecdsa = NewKey("ecdsa", "ecdsa");
  const std::string ed = NewKey("ed", "ed25519");
  Add(ecdsa);
  Add(ed);
  absl::StatusOr<net::AgentSigner> signer = net::AgentSigner::Open({});  // SSH_AUTH_SOCK
  ASSERT_TRUE(signer.ok()) << signer.status();
  const Ed25519Public pub = PublicOf(ed);
  EXPECT_EQ(signer->public_key(), pub);
  EXPECT_EQ(signer->Describe(), SshFingerprint(ed) + " (ed@test)");

  const std::string msg = "securechat: a statement bound to one connection";
  Ed25519Signature sig{};
  const absl::Status s = signer->Sign(AsBytes(msg), &sig);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(Ed25519Verify(pub, AsBytes(msg), sig));
  EXPECT_FALSE(Ed25519Verify(pub, AsBytes(msg + "."), sig));
}

TEST_F(RealSshAgentTest, PicksAKeyByFingerprintAndNamesTheKeysItHasWhenAskedForAnother) {
  const std::string first = NewKey("first", "ed25519");
  const std::string second = NewKey("second", "ed25519");
  const std::string absent = NewKey("absent", "ed25519");
  Add(first);
  Add(second);

  absl::StatusOr<net::AgentSigner> signer =
      net::AgentSigner::Open(WithFingerprint(SshFingerprint(second)));
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ(signer->public_key(), PublicOf(second));
  Ed25519Signature sig{};
  ASSERT_TRUE(signer->Sign(AsBytes("hello"), &sig).ok());
  EXPECT_TRUE(Ed25519Verify(PublicOf(second), AsBytes("hello"), sig));
  EXPECT_FALSE(Ed25519Verify(PublicOf(first), AsBytes("hello"), sig));

  absl::StatusOr<net::AgentSigner> missing =
      net::AgentSigner::Open(WithFingerprint(SshFingerprint(absent)));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(missing.status(), Cat("holds no Ed25519 key ", SshFingerprint(absent))))
      << missing.status();
  EXPECT_TRUE(Contains(missing.status(), SshFingerprint(first) + " (first@test)"))
      << missing.status();
  EXPECT_TRUE(Contains(missing.status(), SshFingerprint(second) + " (second@test)"))
      << missing.status();
}

TEST_F(RealSshAgentTest, AnAgentWithoutAnEd25519KeySaysSo) {
  absl::StatusOr<net::AgentSigner> empty = net::AgentSigner::Open({});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(empty.status(), "holds no keys: add one with ssh-add")) << empty.status();

  Add(NewKey("ecdsa", "ecdsa"));
  absl::StatusOr<net::AgentSigner> ecdsa_only = net::AgentSigner::Open({});
  ASSERT_FALSE(ecdsa_only.ok());
  EXPECT_TRUE(Contains(ecdsa_only.status(), "holds 1 key(s) but no Ed25519 key"))
      << ecdsa_only.status();
}

TEST_F(RealSshAgentTest, ADeclinedConfirmationIsARefusal) {
  const std::string ed = NewKey("confirm", "ed25519");
  Add(ed, /*confirm=*/true);
  absl::StatusOr<net::AgentSigner> signer = net::AgentSigner::Open({});
  ASSERT_TRUE(signer.ok()) << signer.status();
  Ed25519Signature sig{};
  const absl::Status s = signer->Sign(AsBytes("hello"), &sig);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_TRUE(Contains(s, "ssh-agent refused to sign with " + SshFingerprint(ed))) << s;
}

TEST_F(RealSshAgentTest, AStoppedAgentCannotBeReached) {
  agent_->Signal(SIGTERM);
  ASSERT_TRUE(agent_->Wait(kToolWait).has_value());
  agent_.reset();
  absl::StatusOr<net::AgentSigner> signer = net::AgentSigner::Open({});
  ASSERT_FALSE(signer.ok());
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(signer.status(), "cannot connect to ssh-agent at " + socket_))
      << signer.status();
}

// The whole path with the real programs: an OpenSSH key, listed as an `ssh-ed25519` line in a
// members-only server's file, proves itself through the agent with chat-client
// --identity=agent; the same client without the agent's key is refused.
TEST_F(RealSshAgentTest, ChatClientSignsThroughTheAgentIntoAMembersOnlyRoom) {
  const std::string ed = NewKey("id_ed25519", "ed25519");
  Add(ed);
  const std::vector<std::string> pub =
      absl::StrSplit(ReadFile(ed + ".pub"), absl::ByAnyChar(" \n"), absl::SkipEmpty());
  ASSERT_GE(pub.size(), 2u);
  const std::string members = dir_.File("members");
  std::ofstream(members) << "alice " << pub[0] << " " << pub[1] << "\n";
  absl::StatusOr<std::string> key = CopyTestServerKey(dir_);
  ASSERT_TRUE(key.ok()) << key.status();
  absl::StatusOr<ServerProcess> server =
      StartServer(*key, {"--members", members, "--access", "members"}, kToolWait);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string server_key = TestKeyPath("test_rsa2048_public.pem");

  std::unique_ptr<Process> alice =
      StartChatClient("alice", server_key, server->address, {"--identity", "agent"});
  ASSERT_NE(alice, nullptr);
  EXPECT_TRUE(
      alice->WaitForStdout(Cat("-!- signing with ssh-agent's key ", SshFingerprint(ed)), kToolWait))
      << alice->out() << alice->err();
  EXPECT_TRUE(alice->WaitForStdout("-!- authenticated as the member alice", kToolWait))
      << alice->out() << alice->err();
  EXPECT_TRUE(alice->WaitForStdout("-!- joined as alice; 1 online\n", kToolWait))
      << alice->out() << alice->err();

  // Another agent key, not listed: refused with exit 9.
  const std::string other = NewKey("other", "ed25519");
  Add(other);
  std::unique_ptr<Process> mallory = StartChatClient(
      "mallory", server_key, server->address, {"--identity", "agent:" + SshFingerprint(other)});
  ASSERT_NE(mallory, nullptr);
  EXPECT_EQ(mallory->Wait(kToolWait), 9) << mallory->out() << mallory->err();
  EXPECT_NE(mallory->err().find("this room admits members only"), std::string::npos)
      << mallory->err();
  alice->CloseStdin();
  EXPECT_EQ(alice->Wait(kToolWait), 0) << alice->err();
}

}  // namespace
}  // namespace securechat::testing
