// What a new user meets first: --help, -h and --version on all three programs.
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <string>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "integration/expect.h"
#include "integration/process.h"
#include "securechat/base/cat.h"
#include "support/test_util.h"

namespace securechat::testing {
namespace {

struct ProgramCase {
  const char* program;
  const char* own_flag;  // one of its flags, as --help shows it with its default
};

class FirstContactTest : public ::testing::TestWithParam<ProgramCase> {
 protected:
  // Run runs the program with `arg` and waits for it to exit with `code`.
  std::unique_ptr<Process> Run(const std::string& arg, int code) {
    auto p = Process::Start(ProgramPath(GetParam().program), {arg});
    if (!p.ok()) {
      ADD_FAILURE() << p.status();
      return nullptr;
    }
    EXPECT_TRUE(Exits(**p, code)) << arg << ": " << Describe(**p);
    return std::move(*p);
  }
};

// --help lists the program's own flags with their defaults, and nothing of the flag library's,
// and exits 0; -h is the same.
TEST_P(FirstContactTest, HelpListsTheProgramsOwnFlagsAndExitsZero) {
  auto help = Run("--help", 0);
  ASSERT_NE(help, nullptr);
  EXPECT_TRUE(Contains(help->out(), Cat(GetParam().program, ": "))) << Describe(*help);
  EXPECT_TRUE(Contains(help->out(), GetParam().own_flag)) << Describe(*help);
  EXPECT_TRUE(Contains(help->out(), "-h, --help")) << Describe(*help);
  EXPECT_FALSE(Contains(help->out(), "No flags matched")) << Describe(*help);
  EXPECT_FALSE(Contains(help->out(), "--flagfile")) << "Abseil's own flags: " << Describe(*help);
  EXPECT_EQ(help->err(), "");

  auto short_help = Run("-h", 0);
  ASSERT_NE(short_help, nullptr);
  EXPECT_EQ(short_help->out(), help->out());
}

// --version names the program, the project's version and the commit, and exits 0.
TEST_P(FirstContactTest, VersionNamesTheVersionAndTheCommit) {
  auto version = Run("--version", 0);
  ASSERT_NE(version, nullptr);
  const std::regex shape(
      Cat("^", GetParam().program, R"( [0-9]+\.[0-9]+\.[0-9]+ \(commit [^)]+\)\n$)"));
  EXPECT_TRUE(std::regex_match(version->out(), shape)) << Describe(*version);
  EXPECT_FALSE(Contains(version->out(), "Debug build")) << Describe(*version);
}

// A flag nobody defined is still an error.
TEST_P(FirstContactTest, UnknownFlagIsRefused) {
  auto bad = Run("--no_such_flag", 1);
  ASSERT_NE(bad, nullptr);
  EXPECT_TRUE(Contains(bad->err(), "no_such_flag")) << Describe(*bad);
}

INSTANTIATE_TEST_SUITE_P(
    Programs, FirstContactTest,
    ::testing::Values(ProgramCase{"chat-keygen", "--bits (default: 3072)"},
                      ProgramCase{"chat-server", "--listen (default: 127.0.0.1:5555)"},
                      ProgramCase{"chat-client", "--connect (default: 127.0.0.1:5555)"}),
    [](const ::testing::TestParamInfo<ProgramCase>& param_info) {
      std::string name = param_info.param.program;
      name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
      return name;
    });

// The server prints the command that connects a client: pasted as printed, it works from any
// folder (chat-client by its absolute path, the key by its fingerprint), with only NAME to
// fill in.
TEST(ServerFirstContactTest, PrintedClientCommandWorksAsPrinted) {
  TempDir dir;
  absl::StatusOr<std::string> key = CopyTestServerKey(dir);
  ASSERT_TRUE(key.ok()) << key.status();
  auto server = StartServer(*key, {}, kWait);
  ASSERT_TRUE(server.ok()) << server.status();
  std::vector<std::string> groups;
  ASSERT_TRUE(server->process->WaitForStdoutMatch(std::regex("clients connect with: (.*)\n"), kWait,
                                                  &groups))
      << Describe(*server->process);
  std::vector<std::string> words = absl::StrSplit(groups[1], ' ');
  ASSERT_GE(words.size(), 2u) << groups[1];
  EXPECT_EQ(words[0].front(), '/') << "chat-client is not named by its path: " << groups[1];
  // The key by its fingerprint: no file to copy to the client's machine.
  EXPECT_TRUE(Contains(groups[1], "--server_fingerprint=SHA256:")) << groups[1];
  for (std::string& w : words) {
    if (w == "--nick=NAME") {
      w = "--nick=alice";
    }
  }
  const std::string program = words.front();
  words.erase(words.begin());
  auto client = Process::Start(program, words);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE(Saw(**client, "-!- welcome to securechat\n")) << Describe(**client);
}

// The public key given where the private key belongs is named for what it is, whatever its
// mode, and not answered with "run chmod 600".
TEST(ServerFirstContactTest, PublicKeyAsKeyIsNamedForWhatItIs) {
  TempDir dir;
  const std::string pub = dir.File("server_public.pem");
  for (const mode_t mode : {0644, 0600}) {
    {
      std::ofstream out(pub, std::ios::trunc);
      out << ReadFileOrDie(TestKeyPath("test_rsa2048_public.pem"));
    }
    ASSERT_EQ(chmod(pub.c_str(), mode), 0);
    auto server =
        Process::Start(ProgramPath("chat-server"), {"--listen", "127.0.0.1:0", "--key", pub});
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_TRUE(Exits(**server, 1)) << Describe(**server);
    EXPECT_TRUE(Contains((*server)->err(), Cat(pub, " is a public key; give the private key")))
        << Describe(**server);
    EXPECT_FALSE(Contains((*server)->err(), "chmod")) << Describe(**server);
  }
}

// A history that could not be sent whole to a joining client within --max_queue_bytes is
// refused at start, naming the flags to change, before the key is even read; so is a burst
// too small for the messages a client sends to join.
TEST(ServerFirstContactTest, HistoryThatCannotFitAClientsQueueIsRefused) {
  auto server = Process::Start(ProgramPath("chat-server"),
                               {"--listen", "127.0.0.1:0", "--max_queue_bytes=65536"});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(Exits(**server, 1)) << Describe(**server);
  EXPECT_TRUE(Contains((*server)->err(), "--history=50 --history_bytes=262144 can take up to"))
      << Describe(**server);
  EXPECT_TRUE(Contains((*server)->err(), "more than half of --max_queue_bytes (65536)"))
      << Describe(**server);
  auto small_burst =
      Process::Start(ProgramPath("chat-server"), {"--listen", "127.0.0.1:0", "--burst=2"});
  ASSERT_TRUE(small_burst.ok()) << small_burst.status();
  EXPECT_TRUE(Exits(**small_burst, 1)) << Describe(**small_burst);
  EXPECT_TRUE(Contains((*small_burst)->err(), "--burst must be at least 3: a client sends"))
      << Describe(**small_burst);
  for (const char* bad : {"--history=-1", "--history_bytes=-1", "--history=100001"}) {
    auto refused = Process::Start(ProgramPath("chat-server"), {"--listen", "127.0.0.1:0", bad});
    ASSERT_TRUE(refused.ok()) << refused.status();
    EXPECT_TRUE(Exits(**refused, 1)) << bad << ": " << Describe(**refused);
    EXPECT_TRUE(Contains((*refused)->err(), "--history must be 0 to 100000"))
        << Describe(**refused);
  }
}

// The room flags are checked at start like the history's: out of range, a room list that
// could not be sent whole within half of --max_queue_bytes, or rooms whose histories together
// could pass 4 GiB, and the server says which flags to change.
TEST(ServerFirstContactTest, RoomLimitsThatCannotHoldAreRefused) {
  for (const char* bad : {"--max_rooms=-1", "--max_rooms=100001", "--max_rooms_per_client=1001",
                          "--max_room_members=0", "--max_topic_bytes=1025"}) {
    auto refused = Process::Start(ProgramPath("chat-server"), {"--listen", "127.0.0.1:0", bad});
    ASSERT_TRUE(refused.ok()) << refused.status();
    EXPECT_TRUE(Exits(**refused, 1)) << bad << ": " << Describe(**refused);
    EXPECT_TRUE(Contains((*refused)->err(), "--max_rooms must be 0 to 100000"))
        << Describe(**refused);
  }
  auto list = Process::Start(
      ProgramPath("chat-server"),
      {"--listen", "127.0.0.1:0", "--max_rooms=100000", "--history=0", "--history_bytes=0"});
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(Exits(**list, 1)) << Describe(**list);
  EXPECT_TRUE(Contains((*list)->err(), "--max_rooms=100000 --max_topic_bytes=256 make a room list"))
      << Describe(**list);
  auto memory =
      Process::Start(ProgramPath("chat-server"),
                     {"--listen", "127.0.0.1:0", "--max_rooms=2000", "--max_topic_bytes=0",
                      "--max_queue_bytes=67108864", "--history_bytes=4194304"});
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_TRUE(Exits(**memory, 1)) << Describe(**memory);
  EXPECT_TRUE(Contains((*memory)->err(), "each keeping up to 50 lines in 4194304 bytes of history"))
      << Describe(**memory);
  // Lines cost memory beyond their bytes: a hundred thousand empty-ish lines in each of 2001
  // rooms are refused although their text alone would be nothing.
  auto lines =
      Process::Start(ProgramPath("chat-server"),
                     {"--listen", "127.0.0.1:0", "--max_rooms=2000", "--max_topic_bytes=0",
                      "--max_queue_bytes=67108864", "--history=100000", "--history_bytes=0"});
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_TRUE(Exits(**lines, 1)) << Describe(**lines);
  EXPECT_TRUE(Contains((*lines)->err(), "each keeping up to 100000 lines in 0 bytes of history"))
      << Describe(**lines);
}

// The file transfer flags are checked at start: out of range, or a window that would not
// leave a receiver's queue room for chat beside a window of file data.
TEST(ServerFirstContactTest, FileLimitsThatCannotHoldAreRefused) {
  for (const char* bad : {"--max_file_bytes=-1", "--max_transfers=100001",
                          "--max_transfers_per_client=-1", "--max_offers_per_minute=10001"}) {
    auto refused = Process::Start(ProgramPath("chat-server"), {"--listen", "127.0.0.1:0", bad});
    ASSERT_TRUE(refused.ok()) << refused.status();
    EXPECT_TRUE(Exits(**refused, 1)) << bad << ": " << Describe(**refused);
    EXPECT_TRUE(Contains((*refused)->err(), "--max_file_bytes must be at least 0"))
        << Describe(**refused);
  }
  auto window = Process::Start(ProgramPath("chat-server"),
                               {"--listen", "127.0.0.1:0", "--file_window=524289"});
  ASSERT_TRUE(window.ok()) << window.status();
  EXPECT_TRUE(Exits(**window, 1)) << Describe(**window);
  EXPECT_TRUE(Contains((*window)->err(),
                       "--file_window=524289 must be at least one record (16452 bytes), at "
                       "most half of --max_queue_bytes (1048576)"))
      << Describe(**window);
  // Half of a small queue leaves no room for what the server reads at once beside it.
  auto small =
      Process::Start(ProgramPath("chat-server"),
                     {"--listen", "127.0.0.1:0", "--max_queue_bytes=40000", "--file_window=20000",
                      "--history=0", "--history_bytes=0", "--max_rooms=0"});
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_TRUE(Exits(**small, 1)) << Describe(**small);
  EXPECT_TRUE(Contains((*small)->err(), "--file_window=20000 must be at least one record"))
      << Describe(**small);
}

// client.conf holds the client's defaults (connect, nick, the server's key, paths with ~/);
// the command line overrides them; a bad line is exit 1 naming the file and the line.
TEST(ClientConfTest, DefaultsComeFromClientConfAndFlagsOverrideThem) {
  TempDir dir;
  absl::StatusOr<std::string> key = CopyTestServerKey(dir);
  ASSERT_TRUE(key.ok()) << key.status();
  auto server = StartServer(*key, {}, kWait);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string config_home = dir.File("config");
  ASSERT_EQ(mkdir(config_home.c_str(), 0700), 0);
  ASSERT_EQ(mkdir(Cat(config_home, "/securechat").c_str(), 0700), 0);
  const std::string conf = Cat(config_home, "/securechat/client.conf");
  // The server's key by a path under HOME, written with ~/ as a user would.
  const std::string home = dir.File("home");
  ASSERT_EQ(mkdir(home.c_str(), 0700), 0);
  {
    std::ofstream pub(Cat(home, "/server.pem"));
    pub << ReadFileOrDie(TestKeyPath("test_rsa2048_public.pem"));
    std::ofstream out(conf);
    out << "# my chat\n"
        << "connect " << server->address << "\n"
        << "nick alice\n"
        << "server_key ~/server.pem\n"
        << "color false\n";
  }
  const std::string old_xdg = getenv("XDG_CONFIG_HOME") ? getenv("XDG_CONFIG_HOME") : "";
  const std::string old_home = getenv("HOME") ? getenv("HOME") : "";
  setenv("XDG_CONFIG_HOME", config_home.c_str(), 1);
  setenv("HOME", home.c_str(), 1);
  auto alice = Process::Start(ProgramPath("chat-client"), {});
  ASSERT_TRUE(alice.ok()) << alice.status();
  EXPECT_TRUE(Saw(**alice, "-!- joined as alice; 1 online\n")) << Describe(**alice);
  auto bob = Process::Start(ProgramPath("chat-client"), {"--nick=bob"});
  ASSERT_TRUE(bob.ok()) << bob.status();
  EXPECT_TRUE(Saw(**bob, "-!- joined as bob; 2 online\n")) << Describe(**bob);
  {
    std::ofstream out(conf, std::ios::app);
    out << "listen 0.0.0.0:1\n";
  }
  auto bad = Process::Start(ProgramPath("chat-client"), {});
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_TRUE(Exits(**bad, 1)) << Describe(**bad);
  EXPECT_TRUE(Contains((*bad)->err(), Cat(conf, ": line 6: client.conf cannot set 'listen'")))
      << Describe(**bad);
  setenv("XDG_CONFIG_HOME", old_xdg.c_str(), 1);
  setenv("HOME", old_home.c_str(), 1);
}

}  // namespace
}  // namespace securechat::testing
