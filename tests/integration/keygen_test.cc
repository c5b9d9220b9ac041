// chat-keygen and chat-server on key files: passphrase files (their length limit, their mode,
// what kind of file they are), the output directory, and key files that already exist. Each
// test runs the real programs, as a user would, and checks what they print and what they leave
// on disk.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "integration/expect.h"
#include "integration/process.h"
#include "securechat/base/cat.h"
#include "securechat/crypto/ed25519.h"
#include "securechat/crypto/keys.h"
#include "support/test_util.h"

namespace securechat::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;

// chat-keygen draws an RSA key, which can take a while on a busy machine.
constexpr Duration kKeygenWait = 30s;
// The limit both programs apply (kMaxPassphraseLen), written out: the test states the promise.
constexpr size_t kLimit = 1024;

// WriteFileWithMode writes `contents` to `path` and gives it `mode` (whatever the umask).
::testing::AssertionResult WriteFileWithMode(const std::string& path, const std::string& contents,
                                             mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << contents;
    if (!out.flush()) {
      return ::testing::AssertionFailure() << "cannot write " << path;
    }
  }
  if (chmod(path.c_str(), mode) != 0) {
    return ::testing::AssertionFailure() << "cannot chmod " << path;
  }
  return ::testing::AssertionSuccess();
}

// Mode returns the permission bits of `path`, or -1 if there is nothing there.
int Mode(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

// RunToExit starts `program` and waits for it to exit. Returns the process, or nullptr (and
// fails the test) if it did not start or exit.
std::unique_ptr<Process> RunToExit(const std::string& program,
                                   const std::vector<std::string>& args) {
  auto p = Process::Start(program, args);
  if (!p.ok()) {
    ADD_FAILURE() << p.status();
    return nullptr;
  }
  if (!(*p)->Wait(kKeygenWait).has_value()) {
    ADD_FAILURE() << program << " did not exit: " << Describe(**p);
    return nullptr;
  }
  return std::move(*p);
}

class KeygenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    out_dir_ = dir_.File("keys");
    priv_ = out_dir_ + "/server_private.pem";
    pub_ = out_dir_ + "/server_public.pem";
  }

  // Keygen runs chat-keygen (2048 bits, into out_dir_ unless `args` names another) and waits
  // for it to exit. Returns the process, or nullptr (and fails the test) if it did not exit.
  std::unique_ptr<Process> Keygen(std::vector<std::string> args) {
    args.insert(args.begin(), {"--bits=2048", Cat("--out_dir=", out_dir_)});
    return RunToExit(ProgramPath("chat-keygen"), args);
  }

  // ExpectRefused checks that chat-keygen failed with exit code 1, said `why`, and wrote no key.
  void ExpectKeygenRefused(Process& keygen, const std::string& why) {
    EXPECT_TRUE(Exits(keygen, 1)) << Describe(keygen);
    EXPECT_TRUE(Contains(keygen.err(), why)) << Describe(keygen);
    EXPECT_EQ(Mode(priv_), -1) << "a private key was written";
  }

  // StartServerWithPassphraseFile runs chat-server with the (unencrypted) test key and
  // --passphrase_file `file`.
  std::unique_ptr<Process> StartServerWithPassphraseFile(const std::string& file) {
    absl::StatusOr<std::string> key = CopyTestServerKey(dir_);
    if (!key.ok()) {
      ADD_FAILURE() << key.status();
      return nullptr;
    }
    auto p = Process::Start(ProgramPath("chat-server"),
                            {"--listen", "127.0.0.1:0", "--key", *key, "--passphrase_file", file});
    if (!p.ok()) {
      ADD_FAILURE() << p.status();
      return nullptr;
    }
    return std::move(*p);
  }

  TempDir dir_;
  std::string out_dir_;
  std::string priv_;
  std::string pub_;
};

// A passphrase one byte over the limit would once be taken by chat-keygen and then fail in
// chat-server ("wrong passphrase"): a key nobody could open. Now both refuse the same file with
// the same words, and one of exactly the limit works in both.
TEST_F(KeygenTest, PassphraseFileOverTheLimitIsRefusedByKeygenAndServerAlike) {
  const std::string long_file = dir_.File("long");
  ASSERT_TRUE(WriteFileWithMode(long_file, std::string(kLimit + 1, 'x') + "\n", 0600));
  const std::string why = Cat("is longer than ", kLimit, " bytes");

  auto keygen = Keygen({Cat("--passphrase_file=", long_file)});
  ASSERT_NE(keygen, nullptr);
  ExpectKeygenRefused(*keygen, why);
  EXPECT_TRUE(Contains(keygen->err(), long_file)) << Describe(*keygen);

  auto server = StartServerWithPassphraseFile(long_file);
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(Exits(*server, 1)) << Describe(*server);
  EXPECT_TRUE(Contains(server->err(), why)) << Describe(*server);
  EXPECT_FALSE(Contains(server->out(), "listening")) << Describe(*server);

  // Exactly the limit: chat-keygen encrypts with it and chat-server opens the key with it.
  const std::string limit_file = dir_.File("limit");
  ASSERT_TRUE(WriteFileWithMode(limit_file, std::string(kLimit, 'y') + "\r\n", 0600));
  auto made = Keygen({Cat("--passphrase_file=", limit_file)});
  ASSERT_NE(made, nullptr);
  ASSERT_TRUE(Exits(*made, 0)) << Describe(*made);
  EXPECT_TRUE(Contains(ReadFileOrDie(priv_), "BEGIN ENCRYPTED PRIVATE KEY"));
  auto opened = StartServer(priv_, {"--passphrase_file", limit_file}, kWait);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_TRUE(Contains(made->out(), Cat("fingerprint ", opened->fingerprint, "\n")))
      << Describe(*made);
}

// A passphrase file that other users may read or write is refused, as ssh refuses such keys,
// by both programs, naming the mode and the file and saying how to fix it.
TEST_F(KeygenTest, PassphraseFileOthersMayUseIsRefusedByKeygenAndServer) {
  const std::string file = dir_.File("pass");
  for (mode_t mode : {0644, 0640, 0604, 0620, 0602}) {
    SCOPED_TRACE(absl::StrFormat("mode %04o", mode));
    ASSERT_TRUE(WriteFileWithMode(file, "correct horse\n", mode));
    const std::string why = absl::StrFormat("permissions %04o are too open", mode);

    auto keygen = Keygen({Cat("--passphrase_file=", file)});
    ASSERT_NE(keygen, nullptr);
    ExpectKeygenRefused(*keygen, why);
    EXPECT_TRUE(Contains(keygen->err(), Cat("chmod 600 ", file))) << Describe(*keygen);

    auto server = StartServerWithPassphraseFile(file);
    ASSERT_NE(server, nullptr);
    EXPECT_TRUE(Exits(*server, 1)) << Describe(*server);
    EXPECT_TRUE(Contains(server->err(), why)) << Describe(*server);
    EXPECT_TRUE(Contains(server->err(), Cat("chmod 600 ", file))) << Describe(*server);
  }
}

// A FIFO given as the passphrase file is refused at once; opening it once waited forever for a
// writer.
TEST_F(KeygenTest, PassphraseFifoIsRefusedWithoutWaiting) {
  const std::string fifo = dir_.File("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);

  auto keygen =
      Process::Start(ProgramPath("chat-keygen"),
                     {"--bits=2048", Cat("--out_dir=", out_dir_), Cat("--passphrase_file=", fifo)});
  ASSERT_TRUE(keygen.ok()) << keygen.status();
  ExpectKeygenRefused(**keygen, Cat(fifo, " is not a regular file"));

  auto server = StartServerWithPassphraseFile(fifo);
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(Exits(*server, 1)) << Describe(*server);
  EXPECT_TRUE(Contains(server->err(), Cat(fifo, " is not a regular file"))) << Describe(*server);
}

// A lone server_public.pem (perhaps the key every client pins) is never replaced without
// --force, and nothing else is written either; with --force both files are replaced.
TEST_F(KeygenTest, ExistingPublicKeyAloneIsNotReplacedWithoutForce) {
  ASSERT_EQ(mkdir(out_dir_.c_str(), 0700), 0);
  const std::string pinned = "-----BEGIN PUBLIC KEY-----\npinned by every client\n";
  ASSERT_TRUE(WriteFileWithMode(pub_, pinned, 0644));

  auto keygen = Keygen({});
  ASSERT_NE(keygen, nullptr);
  ExpectKeygenRefused(*keygen, Cat(pub_, " already exists; use --force"));
  EXPECT_EQ(ReadFileOrDie(pub_), pinned);

  auto forced = Keygen({"--force"});
  ASSERT_NE(forced, nullptr);
  ASSERT_TRUE(Exits(*forced, 0)) << Describe(*forced);
  EXPECT_NE(ReadFileOrDie(pub_), pinned);
  EXPECT_EQ(Mode(priv_), 0600);
}

// An --out_dir that other users may write to is refused (they could swap the key files), unless
// it is sticky and ours, like a private /tmp. A missing one is created private.
TEST_F(KeygenTest, OutDirOthersMayWriteToIsRefused) {
  ASSERT_EQ(mkdir(out_dir_.c_str(), 0700), 0);
  for (mode_t mode : {0777, 0770, 0703, 0730}) {
    SCOPED_TRACE(absl::StrFormat("mode %04o", mode));
    ASSERT_EQ(chmod(out_dir_.c_str(), mode), 0);
    auto keygen = Keygen({});
    ASSERT_NE(keygen, nullptr);
    ExpectKeygenRefused(*keygen, absl::StrFormat("permissions %04o are too open", mode));
    EXPECT_TRUE(Contains(keygen->err(), Cat("chmod 700 ", out_dir_))) << Describe(*keygen);
    EXPECT_EQ(Mode(pub_), -1) << "a public key was written";
  }

  // A directory of another user, whoever may write to it: its owner could replace the key
  // files. Only root can give a directory away, so only a test running as root (as CI does)
  // checks this.
  if (geteuid() == 0) {
    ASSERT_EQ(chmod(out_dir_.c_str(), 0755), 0);
    ASSERT_EQ(chown(out_dir_.c_str(), 65534, 65534), 0);
    auto foreign = Keygen({});
    ASSERT_NE(foreign, nullptr);
    ExpectKeygenRefused(*foreign, "belongs to another user (uid 65534)");
    EXPECT_EQ(Mode(pub_), -1) << "a public key was written";
    ASSERT_EQ(chown(out_dir_.c_str(), 0, 0), 0);
  }

  ASSERT_EQ(chmod(out_dir_.c_str(), 01777), 0);  // ours (the test's user) and sticky
  auto sticky = Keygen({});
  ASSERT_NE(sticky, nullptr);
  EXPECT_TRUE(Exits(*sticky, 0)) << Describe(*sticky);

  out_dir_ = dir_.File("new");
  auto created = Keygen({});
  ASSERT_NE(created, nullptr);
  EXPECT_TRUE(Exits(*created, 0)) << Describe(*created);
  EXPECT_EQ(Mode(out_dir_), 0700);
}

// A Pty runs a program on a pseudo-terminal of its own (its controlling terminal, where
// chat-keygen asks for a passphrase). The child is killed and reaped on destruction.
class Pty {
 public:
  Pty(const std::string& program, const std::vector<std::string>& args) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const std::string& a : args) {
      argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    pid_ = forkpty(&master_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {
      execv(program.c_str(), argv.data());
      _exit(127);
    }
  }
  ~Pty() {
    if (pid_ > 0 && !code_.has_value()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) {
      close(master_);
    }
  }
  Pty(const Pty&) = delete;
  Pty& operator=(const Pty&) = delete;

  bool started() const { return pid_ > 0 && master_ >= 0; }
  const std::string& screen() const { return screen_; }

  // WaitFor reads the terminal until `done` holds. Returns false at the deadline.
  template <typename Done>
  bool WaitFor(Done&& done, Duration timeout = kWait) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      const auto left =
          std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return false;
      }
      // A child that turns echo off or exits prints nothing: look again at least every 10 ms.
      Read(static_cast<int>(std::min<int64_t>(left.count(), 10)));
    }
    return true;
  }

  // EchoIsOff is true once the program has turned off echo (so what is typed now is read, not
  // flushed by its TCSAFLUSH).
  bool EchoIsOff() const {
    termios t{};
    return tcgetattr(master_, &t) == 0 && (t.c_lflag & ECHO) == 0;
  }

  bool Type(const std::string& text) {
    return write(master_, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  }

  // exit_code is the exit code (128 + N for signal N) once the child has exited; by then
  // everything it printed has been read.
  std::optional<int> exit_code() const { return code_; }

 private:
  // Read waits up to `timeout_ms` for output and appends what there is; once the child has
  // exited, it reads what is left (the master then reports an error or end of file).
  void Read(int timeout_ms) {
    pollfd p{master_, POLLIN, 0};
    while (poll(&p, 1, timeout_ms) > 0) {
      char buf[4096];
      ssize_t n = read(master_, buf, sizeof(buf));
      if (n <= 0) {
        break;
      }
      screen_.append(buf, static_cast<size_t>(n));
      timeout_ms = 0;
    }
    int status = 0;
    if (!code_.has_value() && waitpid(pid_, &status, WNOHANG) == pid_) {
      code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      Read(0);
    }
  }

  pid_t pid_ = -1;
  int master_ = -1;
  std::string screen_;
  std::optional<int> code_;
};

// A passphrase typed at the terminal that is longer than the limit is refused, not cut to the
// limit (which would encrypt the key with a passphrase other than the one typed, and one that
// no passphrase file of the same text would open).
TEST_F(KeygenTest, TypedPassphraseOverTheLimitIsRefusedNotCut) {
  Pty keygen(ProgramPath("chat-keygen"),
             {"--bits=2048", Cat("--out_dir=", out_dir_), "--ask_passphrase"});
  ASSERT_TRUE(keygen.started());
  ASSERT_TRUE(keygen.WaitFor([&] {
    return Contains(keygen.screen(), "passphrase for the new private key: ") && keygen.EchoIsOff();
  })) << keygen.screen();
  ASSERT_TRUE(keygen.Type(std::string(kLimit + 1, 'z') + "\n"));
  EXPECT_TRUE(keygen.WaitFor([&] { return keygen.exit_code().has_value(); }))
      << "still running; it showed:\n"
      << keygen.screen();
  EXPECT_EQ(keygen.exit_code(), 1) << keygen.screen();
  EXPECT_TRUE(Contains(keygen.screen(), Cat("longer than ", kLimit, " bytes"))) << keygen.screen();
  EXPECT_EQ(Mode(priv_), -1) << "a private key was written";
}

// RunUserKeygen runs `chat-keygen --user ARGS` with the environment variables in `env`
// (NAME=VALUE, through env(1)) and waits for it to exit.
std::unique_ptr<Process> RunUserKeygen(std::vector<std::string> env,
                                       const std::vector<std::string>& args) {
  env.push_back(ProgramPath("chat-keygen"));
  env.push_back("--user");
  env.insert(env.end(), args.begin(), args.end());
  return RunToExit("/usr/bin/env", env);
}

// chat-keygen --user writes the user's Ed25519 key pair into ~/.config/securechat (made
// private), the .pub line in our own format, and prints the fingerprint ssh-keygen would.
TEST_F(KeygenTest, UserKeyGoesToTheConfigFolderAndOpensWithItsPassphrase) {
  const std::string home = dir_.File("home");
  ASSERT_EQ(mkdir(home.c_str(), 0755), 0);
  const std::string pass_file = dir_.File("pass");
  ASSERT_TRUE(WriteFileWithMode(pass_file, "correct horse\n", 0600));
  // An empty XDG_CONFIG_HOME is not absolute, so HOME decides.
  auto keygen = RunUserKeygen({Cat("HOME=", home), "XDG_CONFIG_HOME="},
                              {"--comment=alice@laptop", Cat("--passphrase_file=", pass_file)});
  ASSERT_NE(keygen, nullptr);
  EXPECT_TRUE(Exits(*keygen, 0)) << Describe(*keygen);
  const std::string folder = home + "/.config/securechat";
  const std::string priv = folder + "/id_ed25519";
  EXPECT_EQ(Mode(home + "/.config"), 0700);
  EXPECT_EQ(Mode(folder), 0700);
  EXPECT_EQ(Mode(priv), 0600);
  EXPECT_EQ(Mode(priv + ".pub"), 0644);

  const std::string line = ReadFileOrDie(priv + ".pub");
  const std::vector<std::string> fields = absl::StrSplit(line, ' ');
  ASSERT_EQ(fields.size(), 3u) << line;
  EXPECT_EQ(fields[2], "alice@laptop\n");
  std::string why;
  const std::optional<Ed25519Public> pub = ParsePublicKey(fields[0], fields[1], &why);
  ASSERT_TRUE(pub.has_value()) << why << ": " << line;
  EXPECT_TRUE(Contains(keygen->out(), Cat("fingerprint ", Ed25519Fingerprint(*pub))))
      << Describe(*keygen);

  const Passphrase passphrase(std::string_view("correct horse"));
  auto key = Ed25519Key::FromPem(ReadFileOrDie(priv), &passphrase);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->public_key(), *pub);
  KeyLoadError reason = KeyLoadError::kNone;
  EXPECT_FALSE(Ed25519Key::FromPem(ReadFileOrDie(priv), nullptr, &reason).ok());
  EXPECT_EQ(reason, KeyLoadError::kNeedsPassphrase);

  // A second run replaces nothing.
  auto again = RunUserKeygen({Cat("HOME=", home), "XDG_CONFIG_HOME="}, {});
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(Exits(*again, 1)) << Describe(*again);
  EXPECT_TRUE(Contains(again->err(), "already exists; use --force")) << Describe(*again);
  EXPECT_EQ(ReadFileOrDie(priv + ".pub"), line);
}

// XDG_CONFIG_HOME, when it is an absolute path, is where the folder goes.
TEST_F(KeygenTest, UserKeyFollowsXdgConfigHome) {
  const std::string home = dir_.File("home");
  const std::string xdg = dir_.File("xdg");
  ASSERT_EQ(mkdir(home.c_str(), 0755), 0);
  auto keygen = RunUserKeygen({Cat("HOME=", home), Cat("XDG_CONFIG_HOME=", xdg)}, {});
  ASSERT_NE(keygen, nullptr);
  EXPECT_TRUE(Exits(*keygen, 0)) << Describe(*keygen);
  EXPECT_EQ(Mode(xdg + "/securechat/id_ed25519"), 0600);
  EXPECT_EQ(Mode(home + "/.config"), -1) << "HOME was used";
}

}  // namespace
}  // namespace securechat::testing
