// End-to-end tests: the real chat-server, chat-client and chat-keygen programs talking over
// loopback TCP. Every wait has a deadline; no test sleeps to let something happen.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "integration/expect.h"
#include "integration/process.h"
#include "integration/server_fixture.h"
#include "securechat/base/cat.h"

namespace securechat::testing {
namespace {

using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;

// chat-keygen draws an RSA key, which can take a while on a busy machine.
constexpr Duration kKeygenWait = 30s;
// The server gives clients 2 s to take the shutdown notice; it must be gone soon after.
constexpr Duration kShutdownWait = 3s;
// A server must drop a connection that sent garbage within this time.
constexpr int kGarbageCloseMs = 1000;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// FileMode returns the permission bits of `path`, or -1 if it does not exist.
int FileMode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return -1;
  }
  return static_cast<int>(st.st_mode & 07777);
}

// A loopback TCP socket, closed on destruction.
class RawSocket {
 public:
  RawSocket() : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {}
  ~RawSocket() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  int fd() const { return fd_; }

  // BindFreePort binds 127.0.0.1 with a free port, without listening. Returns the port, or 0.
  int BindFreePort() {
    sockaddr_in a = Loopback(0);
    socklen_t len = sizeof(a);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return 0;
    }
    return ntohs(a.sin_port);
  }

  // Connect connects to 127.0.0.1:`port`. Returns false (errno set) if it fails.
  bool Connect(int port) {
    sockaddr_in a = Loopback(port);
    return connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }

 private:
  static sockaddr_in Loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }

  int fd_;
};

// The harness itself: exit codes, deaths by signal, and waits that end early or at their
// deadline, on /bin/sh and /bin/cat.
TEST(ProcessTest, ReportsExitCodesAndSignals) {
  auto exits = Process::Start("/bin/sh", {"-c", "echo out; echo err >&2; exit 7"});
  ASSERT_TRUE(exits.ok()) << exits.status();
  EXPECT_TRUE(Exits(**exits, 7));
  EXPECT_EQ((*exits)->out(), "out\n");
  EXPECT_EQ((*exits)->err(), "err\n");
  EXPECT_EQ((*exits)->Wait(0ms), 7);  // the same answer once reaped
  EXPECT_FALSE((*exits)->Signal(SIGTERM));

  auto killed = Process::Start("/bin/sh", {"-c", "kill -TERM $$"});
  ASSERT_TRUE(killed.ok()) << killed.status();
  EXPECT_TRUE(Exits(**killed, 128 + SIGTERM));

  EXPECT_FALSE(Process::Start("/nonexistent/program", {}).ok());
}

TEST(ProcessTest, EchoesStdinAndStopsWaitingAtDeadlineOrEof) {
  auto cat = Process::Start("/bin/cat", {});
  ASSERT_TRUE(cat.ok()) << cat.status();
  ASSERT_TRUE((*cat)->WriteStdin("ping 1"));
  EXPECT_TRUE(Saw(**cat, "ping 1\n"));
  std::vector<std::string> groups;
  ASSERT_TRUE((*cat)->WriteStdin("port 4242"));
  ASSERT_TRUE((*cat)->WaitForStdoutMatch(std::regex("port ([0-9]+)"), kWait, &groups));
  EXPECT_EQ(groups, (std::vector<std::string>{"port 4242", "4242"}));

  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE((*cat)->WaitForStdout("never", 100ms));
  EXPECT_FALSE((*cat)->Wait(100ms).has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);

  // At end of input cat exits; a wait for output that can no longer come ends at once.
  (*cat)->CloseStdin();
  const auto closed = std::chrono::steady_clock::now();
  EXPECT_FALSE((*cat)->WaitForStdout("never", kWait));
  EXPECT_LT(std::chrono::steady_clock::now() - closed, kWait / 2);
  EXPECT_TRUE(Exits(**cat, 0));
  EXPECT_FALSE((*cat)->WriteStdin("too late"));
}

TEST(ProcessTest, DestructorKillsTheChild) {
  pid_t pid;
  {
    auto cat = Process::Start("/bin/cat", {});
    ASSERT_TRUE(cat.ok()) << cat.status();
    pid = (*cat)->pid();
  }
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

// ChatTest is ServerFixture with clients that may pin any key.
class ChatTest : public ServerFixture {
 protected:
  // StartClient runs chat-client against the test server; stdin stays open for the test.
  std::unique_ptr<Process> StartClient(const std::string& nick, const std::string& server_key,
                                       const std::string& address) {
    return StartChatClient(nick, server_key, address);
  }
};

// Three people in one room: lines, join notices, a whisper, a rename, /who and a departure
// each reach exactly who they should.
TEST_F(ChatTest, ThreeClientsChatWhisperRenameAndLeave) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto alice = Join("alice", 1);
  ASSERT_NE(alice, nullptr);
  EXPECT_TRUE(Saw(*alice, "-!- welcome to securechat\n"));  // the default message of the day
  auto bob = Join("bob", 2);
  ASSERT_NE(bob, nullptr);
  ASSERT_TRUE(Saw(*alice, "-!- bob joined\n"));
  auto carol = Join("carol", 3);
  ASSERT_NE(carol, nullptr);
  ASSERT_TRUE(Saw(*alice, "-!- carol joined\n"));
  ASSERT_TRUE(Saw(*bob, "-!- carol joined\n"));
  ASSERT_TRUE(SawOnStderr(server(), "join #1 as alice"));
  ASSERT_TRUE(SawOnStderr(server(), "join #3 as carol"));

  // A line goes to everyone else.
  ASSERT_TRUE(alice->WriteStdin("hello from alice"));
  EXPECT_TRUE(Saw(*bob, "<alice> hello from alice\n"));
  EXPECT_TRUE(Saw(*carol, "<alice> hello from alice\n"));

  // A whisper goes to its addressee only.
  ASSERT_TRUE(alice->WriteStdin("/msg bob secret plan"));
  EXPECT_TRUE(Saw(*bob, "*alice* secret plan\n"));

  // A rename is announced to everyone, the renamed client included. The server handles it
  // after the line and the whisper above, so once a client shows it, the client has been sent
  // everything it would ever get of those two.
  ASSERT_TRUE(bob->WriteStdin("/nick robert"));
  for (Process* p : {alice.get(), bob.get(), carol.get()}) {
    EXPECT_TRUE(Saw(*p, "-!- bob is now known as robert\n"));
  }
  EXPECT_TRUE(SawOnStderr(server(), "rename #2 bob to robert"));

  // /who lists the room, sorted.
  ASSERT_TRUE(alice->WriteStdin("/who"));
  EXPECT_TRUE(Saw(*alice, "-!- online (3): alice carol robert\n"));

  // The old nick is gone and the new one reaches the same person.
  ASSERT_TRUE(alice->WriteStdin("/msg bob are you there"));
  EXPECT_TRUE(Saw(*alice, "!! no such user: bob\n"));
  ASSERT_TRUE(alice->WriteStdin("/msg robert still secret"));
  EXPECT_TRUE(Saw(*bob, "*alice* still secret\n"));

  // A client whose input ends says goodbye and exits 0; the others see it leave.
  carol->CloseStdin();
  EXPECT_TRUE(Exits(*carol, 0));
  EXPECT_TRUE(Saw(*alice, "-!- carol left\n"));
  EXPECT_TRUE(Saw(*bob, "-!- carol left\n"));
  EXPECT_TRUE(SawOnStderr(server(), "leave #3 carol (bye)"));

  // alice's whisper to the old nick was refused: her client says so as it leaves, and exits 8.
  alice->CloseStdin();
  EXPECT_TRUE(Exits(*alice, 8));
  EXPECT_TRUE(Saw(*bob, "-!- alice left\n"));
  bob->CloseStdin();
  EXPECT_TRUE(Exits(*bob, 0));
  EXPECT_TRUE(SawOnStderr(server(), "leave #2 robert (bye)"));

  // Whole transcripts: nobody but bob saw a whisper (alice, who sent it, only its
  // confirmation), and nobody saw their own line echoed.
  EXPECT_FALSE(Contains(carol->out(), "secret")) << Describe(*carol);
  EXPECT_TRUE(Contains(alice->out(), "\n-> *bob* secret plan\n")) << Describe(*alice);
  for (const absl::string_view line : absl::StrSplit(alice->out(), '\n')) {
    EXPECT_TRUE(!absl::StrContains(line, "secret") || absl::StartsWith(line, "-> *"))
        << "alice saw: " << line;
  }
  EXPECT_FALSE(Contains(alice->out(), "<alice>")) << Describe(*alice);
  EXPECT_FALSE(Contains(alice->out(), "*alice*")) << Describe(*alice);
  EXPECT_FALSE(Contains(bob->out(), "are you there")) << Describe(*bob);
  for (Process* p : {bob.get(), carol.get()}) {
    EXPECT_FALSE(Contains(p->out(), "!!")) << Describe(*p);
    EXPECT_EQ(p->err(), "") << Describe(*p);
  }
  EXPECT_EQ(alice->err(), "chat-client: 1 line was refused (the !! lines say why)\n");
  EXPECT_FALSE(server().Wait(0ms).has_value()) << "the server stopped" << Describe(server());
}

// A line typed at the server's console reaches every client as CHAT from "server".
TEST_F(ChatTest, ConsoleLineReachesEveryClient) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto dave = Join("dave", 1);
  ASSERT_NE(dave, nullptr);
  auto erin = Join("erin", 2);
  ASSERT_NE(erin, nullptr);
  ASSERT_TRUE(Saw(*dave, "-!- erin joined\n"));

  ASSERT_TRUE(server().WriteStdin("maintenance at noon"));
  EXPECT_TRUE(Saw(*dave, "<server> maintenance at noon\n"));
  EXPECT_TRUE(Saw(*erin, "<server> maintenance at noon\n"));
  ASSERT_TRUE(server().WriteStdin("second notice"));
  EXPECT_TRUE(Saw(*dave, "<server> second notice\n"));
  EXPECT_TRUE(Saw(*erin, "<server> second notice\n"));
}

// The console's commands are never said to the room: /kick removes a member, who is told why
// and leaves with exit code 10 while the others see who did it; a mistyped command is refused
// at the console; //TEXT says /TEXT.
TEST_F(ChatTest, ConsoleKickRemovesAMemberAndCommandsAreNeverSaid) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto dave = Join("dave", 1);
  ASSERT_NE(dave, nullptr);
  auto erin = Join("erin", 2);
  ASSERT_NE(erin, nullptr);
  ASSERT_TRUE(Saw(*dave, "-!- erin joined\n"));

  ASSERT_TRUE(server().WriteStdin("/kik erin"));
  EXPECT_TRUE(SawOnStderr(server(), "unknown command /kik (/help lists them"));
  ASSERT_TRUE(server().WriteStdin("/kick erin flooding the room"));
  EXPECT_TRUE(Saw(*erin, "!! kicked by the server's operator: flooding the room\n"));
  EXPECT_TRUE(Exits(*erin, 10)) << Describe(*erin);
  EXPECT_TRUE(Contains(erin->err(),
                       "removed from the chat: kicked by the server's operator: flooding the room"))
      << Describe(*erin);
  EXPECT_TRUE(Saw(*dave, "-!- erin left (kicked by the server's operator: flooding the room)\n"));
  EXPECT_TRUE(SawOnStderr(server(), "kicked erin"));
  ASSERT_TRUE(server().WriteStdin("//shrug"));
  EXPECT_TRUE(Saw(*dave, "<server> /shrug\n"));
  EXPECT_FALSE(Contains(dave->out(), "kik")) << Describe(*dave);
}

// What was said before a client came is shown to it as history (PROTOCOL.md 6.11), marked in
// a pipe, and closed by "-!- end of history"; what is said after comes as it always did, and
// nobody is shown their own line twice.
TEST_F(ChatTest, ALateComerSeesTheHistoryThenTheRoom) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto alice = Join("alice", 1);
  ASSERT_NE(alice, nullptr);
  ASSERT_TRUE(alice->WriteStdin("first words"));
  ASSERT_TRUE(alice->WriteStdin("/me waves"));
  // The server answers in order: once alice has the list, it has taken both lines.
  ASSERT_TRUE(alice->WriteStdin("/who"));
  ASSERT_TRUE(Saw(*alice, "-!- online (1): alice\n"));

  auto bob = Join("bob", 2);
  ASSERT_NE(bob, nullptr);
  EXPECT_TRUE(Saw(*bob,
                  "(history) <alice> first words\n"
                  "(history) * alice waves\n"
                  "-!- end of history\n"));
  ASSERT_TRUE(Saw(*alice, "-!- bob joined\n"));
  ASSERT_TRUE(alice->WriteStdin("now live"));
  EXPECT_TRUE(Saw(*bob, "-!- end of history\n<alice> now live\n"));
  alice->CloseStdin();
  EXPECT_TRUE(Exits(*alice, 0));
  bob->CloseStdin();
  EXPECT_TRUE(Exits(*bob, 0));
  // alice joined first: no history for her, and her own lines were not shown back to her.
  EXPECT_FALSE(Contains(alice->out(), "history")) << Describe(*alice);
  EXPECT_FALSE(Contains(alice->out(), "alice>")) << Describe(*alice);
  EXPECT_FALSE(Contains(alice->out(), "* alice")) << Describe(*alice);
  EXPECT_EQ(CountOf(bob->out(), "first words"), 1u) << Describe(*bob);
  EXPECT_EQ(bob->err(), "");
}

// Rooms (PROTOCOL.md 6.13) with the real programs: alice and bob join #dev, and what is said
// there reaches its members only, named by its room; carol, in #lobby alone, sees #lobby's
// lines as she always did and nothing of #dev.
TEST_F(ChatTest, ALineInARoomReachesOnlyItsMembers) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto alice = Join("alice", 1);
  ASSERT_NE(alice, nullptr);
  auto bob = Join("bob", 2);
  ASSERT_NE(bob, nullptr);
  auto carol = Join("carol", 3);
  ASSERT_NE(carol, nullptr);
  ASSERT_TRUE(Saw(*alice, "-!- carol joined\n"));

  ASSERT_TRUE(alice->WriteStdin("/join #dev"));
  ASSERT_TRUE(Saw(*alice, "-!- joined #dev (1 member)\n-!- lines you type now go to #dev\n"));
  ASSERT_TRUE(bob->WriteStdin("/join DEV"));
  ASSERT_TRUE(Saw(*bob, "-!- joined #dev (2 members)\n"));
  ASSERT_TRUE(Saw(*alice, "-!- bob joined #dev\n"));
  ASSERT_TRUE(alice->WriteStdin("/topic release friday"));
  EXPECT_TRUE(Saw(*bob, "-!- alice set the topic of #dev: release friday\n"));
  ASSERT_TRUE(alice->WriteStdin("ship it"));
  EXPECT_TRUE(Saw(*bob, "#dev <alice> ship it\n"));
  ASSERT_TRUE(bob->WriteStdin("/who"));
  EXPECT_TRUE(Saw(*bob, "-!- in #dev (2): alice bob\n"));

  // Back to #lobby: everyone there gets it, carol as ever, bob named by its room.
  ASSERT_TRUE(alice->WriteStdin("/switch #lobby"));
  ASSERT_TRUE(alice->WriteStdin("lunch?"));
  EXPECT_TRUE(Saw(*carol, "<alice> lunch?\n"));
  EXPECT_TRUE(Saw(*bob, "#lobby <alice> lunch?\n"));

  // bob leaves #dev: alice is told; bob's lines go to #lobby again, plain.
  ASSERT_TRUE(bob->WriteStdin("/part"));
  EXPECT_TRUE(Saw(*bob, "-!- you left #dev\n-!- lines you type now go to #lobby\n"));
  EXPECT_TRUE(Saw(*alice, "-!- bob left #dev\n"));
  ASSERT_TRUE(bob->WriteStdin("back in the lobby"));
  EXPECT_TRUE(Saw(*carol, "<bob> back in the lobby\n"));
  EXPECT_TRUE(Saw(*alice, "#lobby <bob> back in the lobby\n"));

  for (Process* p : {alice.get(), bob.get(), carol.get()}) {
    p->CloseStdin();
    EXPECT_TRUE(Exits(*p, 0)) << Describe(*p);
  }
  EXPECT_FALSE(Contains(carol->out(), "#dev")) << Describe(*carol);
  EXPECT_FALSE(Contains(carol->out(), "ship it")) << Describe(*carol);
  EXPECT_FALSE(Contains(carol->out(), "release friday")) << Describe(*carol);
  EXPECT_EQ(CountOf(bob->out(), "ship it"), 1u) << Describe(*bob);
  EXPECT_FALSE(Contains(alice->out(), "<alice>")) << "a piped client never sees its own lines"
                                                  << Describe(*alice);
}

// Lines piped in before the server's welcome are sent once the client has joined, in order;
// /quit says goodbye at once, and nothing typed after it is sent.
TEST_F(ChatTest, QueuedInputIsSentAfterJoinAndQuitEndsIt) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto rita = Join("rita", 1);
  ASSERT_NE(rita, nullptr);

  auto quinn = StartClient("quinn", public_key_, server_.address);
  ASSERT_NE(quinn, nullptr);
  for (const char* line : {"first line", "/msg rita psst", "//slash line", "/quit", "never sent"}) {
    ASSERT_TRUE(quinn->WriteStdin(line));
  }
  quinn->CloseStdin();
  EXPECT_TRUE(Exits(*quinn, 0));
  EXPECT_TRUE(Contains(quinn->out(), "-!- joined as quinn; 2 online\n")) << Describe(*quinn);
  EXPECT_EQ(quinn->err(), "");

  EXPECT_TRUE(Saw(*rita, "-!- quinn left\n"));
  EXPECT_TRUE(Contains(rita->out(),
                       "-!- quinn joined\n"
                       "<quinn> first line\n"
                       "*quinn* psst\n"
                       "<quinn> /slash line\n"
                       "-!- quinn left\n"))
      << Describe(*rita);
  EXPECT_FALSE(Contains(rita->out(), "never sent")) << Describe(*rita);
  EXPECT_TRUE(SawOnStderr(server(), "leave #2 quinn (bye)"));
}

// A client pinned to another server's key fails the key confirmation, says so, exits 3,
// never says it is connected to the pinned key and never sends a record; the server goes on
// serving.
TEST_F(ChatTest, WrongPinnedKeyFailsConfirmation) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto keygen = Process::Start(ProgramPath("chat-keygen"),
                               {"--bits=2048", Cat("--out_dir=", dir_.File("other"))});
  ASSERT_TRUE(keygen.ok()) << keygen.status();
  ASSERT_TRUE(Exits(**keygen, 0, kKeygenWait));

  auto frank = StartClient("frank", dir_.File("other/server_public.pem"), server_.address);
  ASSERT_NE(frank, nullptr);
  ASSERT_TRUE(frank->WriteStdin("this must never leave the client"));
  EXPECT_TRUE(Exits(*frank, 3));
  EXPECT_TRUE(Contains(frank->err(), "server key confirmation failed")) << Describe(*frank);
  EXPECT_FALSE(Contains(frank->out(), "joined as")) << Describe(*frank);
  // Nothing claims that the server was verified: the "connected to ...; server key ..." line
  // comes only once the server has proved it holds the pinned key.
  EXPECT_FALSE(Contains(frank->out(), "connected to")) << Describe(*frank);
  EXPECT_FALSE(Contains(frank->out() + frank->err(), "server key SHA256:")) << Describe(*frank);

  // Another client still gets in, and is alone: frank never joined.
  auto grace = Join("grace", 1);
  ASSERT_NE(grace, nullptr);
  EXPECT_TRUE(SawOnStderr(server(), "join #2 as grace"));
  // frank's connection (#1) ended before grace's started; had frank sent a JOIN or anything
  // else under keys the server does not share, the server would have logged an error.
  EXPECT_TRUE(Contains(server().err(), "connect #1 from ")) << Describe(server());
  EXPECT_FALSE(Contains(server().err(), "#1 as")) << Describe(server());
  EXPECT_FALSE(Contains(server().err(), "error #1")) << Describe(server());
}

// A client pinned to a key of another size sends a CLIENT_HELLO of a length this server never
// accepts: the server closes at the frame header (PROTOCOL.md 3.3), so the client reports a
// connection lost during the handshake, exits 6, and the server goes on serving.
TEST_F(ChatTest, PinnedKeyOfAnotherSizeIsClosedDuringHandshake) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto heidi = StartClient("heidi", TestKeyPath("test_rsa3072_public.pem"), server_.address);
  ASSERT_NE(heidi, nullptr);
  EXPECT_TRUE(Exits(*heidi, 6));
  EXPECT_TRUE(Contains(heidi->err(), "connection lost during the handshake")) << Describe(*heidi);
  EXPECT_FALSE(Contains(heidi->out(), "joined as")) << Describe(*heidi);

  auto ivan = Join("ivan", 1);
  ASSERT_NE(ivan, nullptr);
}

// With --strict_nick, joining with a nick someone already has is refused with exit 5; the
// holder keeps it.
TEST_F(ChatTest, TakenNickIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto judy = Join("judy", 1);
  ASSERT_NE(judy, nullptr);

  auto impostor = StartChatClient("judy", public_key_, server_.address, {"--strict_nick"});
  ASSERT_NE(impostor, nullptr);
  EXPECT_TRUE(Exits(*impostor, 5));
  EXPECT_TRUE(Contains(impostor->out(), "!! nick taken\n")) << Describe(*impostor);
  EXPECT_TRUE(Contains(impostor->err(), "cannot join as judy")) << Describe(*impostor);
  EXPECT_FALSE(Contains(impostor->out(), "joined as")) << Describe(*impostor);

  ASSERT_TRUE(judy->WriteStdin("/who"));
  EXPECT_TRUE(Saw(*judy, "-!- online (1): judy\n"));
  EXPECT_FALSE(Contains(judy->out(), "-!- judy joined")) << Describe(*judy);
}

// Without --strict_nick a taken nick is tried again as nick2, nick3, ..., saying so, as irssi
// tries its alternate nick.
TEST_F(ChatTest, TakenNickTriesAnAlternate) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto judy = Join("judy", 1);
  ASSERT_NE(judy, nullptr);
  auto second = StartClient("judy", public_key_, server_.address);
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(Saw(*second, "!! nick taken\n-!- trying judy2 instead of judy\n"));
  EXPECT_TRUE(Saw(*second, "-!- joined as judy2; 2 online\n"));
  auto third = StartClient("judy", public_key_, server_.address);
  ASSERT_NE(third, nullptr);
  EXPECT_TRUE(Saw(*third, "-!- trying judy3 instead of judy2\n"));
  EXPECT_TRUE(Saw(*third, "-!- joined as judy3; 3 online\n"));
  EXPECT_TRUE(Saw(*judy, "-!- judy3 joined\n"));
}

// A port where nothing listens: exit 2 without claiming to have connected.
TEST_F(ChatTest, NothingListeningIsCannotConnect) {
  // A bound socket that does not listen keeps the port ours, so nothing else can take it, and
  // the kernel refuses connections to it.
  RawSocket placeholder;
  ASSERT_GE(placeholder.fd(), 0);
  const int port = placeholder.BindFreePort();
  ASSERT_NE(port, 0) << std::strerror(errno);

  auto kate = StartClient("kate", public_key_, Cat("127.0.0.1:", port));
  ASSERT_NE(kate, nullptr);
  EXPECT_TRUE(Exits(*kate, 2));
  EXPECT_FALSE(Contains(kate->out(), "connected")) << Describe(*kate);
  EXPECT_TRUE(Contains(kate->err(), "chat-client: ")) << Describe(*kate);
}

// SIGTERM sent the moment chat-server exists, before it has read its key or opened a port,
// stops it cleanly (exit 0, "server stopped"); it used to kill it (exit 143), because the
// handler came after the slow start-up. The child starts with SIGTERM blocked, so that the
// signal waits for the program instead of racing the dynamic loader (which no program can
// handle): the server takes it when it installs its handlers, first thing, and stops before
// it listens.
TEST_F(ChatTest, SigtermDuringStartUpStopsCleanly) {
  auto server = Process::Start(ProgramPath("chat-server"),
                               {"--listen=127.0.0.1:0", Cat("--key=", private_key_)}, {SIGTERM});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Signal(SIGTERM));
  EXPECT_TRUE(Exits(**server, 0));
  EXPECT_TRUE(Contains((*server)->err(), "server stopped")) << Describe(**server);
  EXPECT_FALSE(Contains((*server)->out(), "listening")) << Describe(**server);
}

// SIGTERM: every client is told the server is shutting down and exits 6; the server exits 0.
TEST_F(ChatTest, SigtermShutsDownCleanly) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto liam = Join("liam", 1);
  ASSERT_NE(liam, nullptr);
  auto mia = Join("mia", 2);
  ASSERT_NE(mia, nullptr);
  ASSERT_TRUE(Saw(*liam, "-!- mia joined\n"));

  // A connection still in its handshake is closed too, and does not hold the server up.
  RawSocket silent;
  ASSERT_GE(silent.fd(), 0);
  ASSERT_TRUE(silent.Connect(server_.port)) << std::strerror(errno);
  ASSERT_TRUE(SawOnStderr(server(), "connect #3 from "));

  ASSERT_TRUE(server().Signal(SIGTERM));
  EXPECT_TRUE(Exits(server(), 0, kShutdownWait));
  EXPECT_TRUE(Contains(server().err(), "shutdown: told every client")) << Describe(server());
  for (Process* p : {liam.get(), mia.get()}) {
    EXPECT_TRUE(Exits(*p, 6));
    EXPECT_TRUE(Contains(p->out(), "!! server shutting down\n")) << Describe(*p);
    EXPECT_TRUE(Contains(p->err(), "connection lost: the server shut down")) << Describe(*p);
  }

  char byte;
  EXPECT_EQ(recv(silent.fd(), &byte, 1, MSG_DONTWAIT), 0) << std::strerror(errno);

  // Nothing listens on the port any more.
  RawSocket probe;
  ASSERT_GE(probe.fd(), 0);
  const bool connected = probe.Connect(server_.port);
  const int connect_errno = errno;
  EXPECT_FALSE(connected);
  EXPECT_EQ(connect_errno, ECONNREFUSED) << std::strerror(connect_errno);
}

// The server will not use a private key that other users can read, and says how to fix it.
TEST_F(ChatTest, ServerRefusesPrivateKeyReadableByOthers) {
  for (mode_t mode : {0644, 0640, 0604}) {
    SCOPED_TRACE(absl::StrFormat("mode %04o", mode));
    ASSERT_EQ(chmod(private_key_.c_str(), mode), 0);
    auto server = Process::Start(ProgramPath("chat-server"),
                                 {"--listen", "127.0.0.1:0", "--key", private_key_});
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_TRUE(Exits(**server, 1));
    EXPECT_TRUE(Contains((*server)->err(), "chmod 600")) << Describe(**server);
    EXPECT_FALSE(Contains((*server)->out(), "listening")) << Describe(**server);
  }
}

// chat-keygen writes a key pair the server uses, protects the private key, never overwrites
// one silently, and prints the fingerprint that the server and the client print.
TEST_F(ChatTest, KeygenWritesKeyPairTheServerUses) {
  const std::string out_dir = dir_.File("keys");
  const std::string priv = out_dir + "/server_private.pem";
  const std::string pub = out_dir + "/server_public.pem";
  static const std::regex kFingerprint("\nfingerprint (SHA256:[A-Za-z0-9+/]{43})\n");
  std::vector<std::string> groups;

  auto first =
      Process::Start(ProgramPath("chat-keygen"), {"--bits=2048", Cat("--out_dir=", out_dir)});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(Exits(**first, 0, kKeygenWait));
  ASSERT_TRUE((*first)->WaitForStdoutMatch(kFingerprint, 0ms, &groups)) << Describe(**first);
  const std::string first_fingerprint = groups[1];
  EXPECT_EQ(FileMode(priv), 0600);
  EXPECT_NE(FileMode(pub), -1);
  const std::string first_priv = ReadFile(priv);
  const std::string first_pub = ReadFile(pub);
  EXPECT_TRUE(Contains(first_priv, "-----BEGIN PRIVATE KEY-----"));
  EXPECT_TRUE(Contains(first_pub, "-----BEGIN PUBLIC KEY-----"));

  // Without --force an existing key stays as it is.
  auto again =
      Process::Start(ProgramPath("chat-keygen"), {"--bits=2048", Cat("--out_dir=", out_dir)});
  ASSERT_TRUE(again.ok()) << again.status();
  const std::optional<int> again_code = (*again)->Wait(kKeygenWait);
  ASSERT_TRUE(again_code.has_value()) << Describe(**again);
  EXPECT_NE(*again_code, 0) << Describe(**again);
  EXPECT_TRUE(Contains((*again)->err(), "--force")) << Describe(**again);
  EXPECT_EQ(ReadFile(priv), first_priv);
  EXPECT_EQ(ReadFile(pub), first_pub);

  // With --force it is replaced by a new one, still private.
  auto forced = Process::Start(ProgramPath("chat-keygen"),
                               {"--bits=2048", "--force", Cat("--out_dir=", out_dir)});
  ASSERT_TRUE(forced.ok()) << forced.status();
  ASSERT_TRUE(Exits(**forced, 0, kKeygenWait));
  ASSERT_TRUE((*forced)->WaitForStdoutMatch(kFingerprint, 0ms, &groups)) << Describe(**forced);
  const std::string fingerprint = groups[1];
  EXPECT_NE(fingerprint, first_fingerprint);
  EXPECT_NE(ReadFile(priv), first_priv);
  EXPECT_EQ(FileMode(priv), 0600);

  // The server and a client pinned to the new public key print the same fingerprint.
  auto server = StartServer(priv, {}, kWait);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(server->fingerprint, fingerprint);
  auto nora = StartClient("nora", pub, server->address);
  ASSERT_NE(nora, nullptr);
  EXPECT_TRUE(Saw(*nora, Cat("; server key ", fingerprint, "\n")));
  EXPECT_TRUE(Saw(*nora, "-!- joined as nora; 1 online\n"));

  // Made readable by others, the same key is refused with advice to chmod it.
  ASSERT_EQ(chmod(priv.c_str(), 0644), 0);
  auto refused = StartServer(priv, {}, kWait);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Contains(std::string(refused.status().message()), "chmod")) << refused.status();
}

// chat-keygen refuses key sizes the protocol does not allow and writes nothing.
TEST_F(ChatTest, KeygenRefusesSmallKeys) {
  const std::string out_dir = dir_.File("small");
  auto keygen =
      Process::Start(ProgramPath("chat-keygen"), {"--bits=1024", Cat("--out_dir=", out_dir)});
  ASSERT_TRUE(keygen.ok()) << keygen.status();
  const std::optional<int> code = (*keygen)->Wait(kKeygenWait);
  ASSERT_TRUE(code.has_value()) << Describe(**keygen);
  EXPECT_NE(*code, 0) << Describe(**keygen);
  EXPECT_TRUE(Contains((*keygen)->err(), "--bits")) << Describe(**keygen);
  EXPECT_EQ(FileMode(out_dir + "/server_private.pem"), -1);
  EXPECT_EQ(FileMode(out_dir + "/server_public.pem"), -1);
}

// chat-server given a valid RSA key of a size the protocol does not allow (1024 bits, made
// here) refuses it with exit 1, the key file's code in README, and a message that names the
// file and the sizes it takes; it never listens.
TEST_F(ChatTest, ServerRefusesKeyOfSizeNotAllowed) {
  const std::string small_key = dir_.File("rsa1024_private.pem");
  {
    EVP_PKEY* key = EVP_RSA_gen(1024);
    ASSERT_NE(key, nullptr);
    BIO* out = BIO_new_file(small_key.c_str(), "w");
    ASSERT_NE(out, nullptr);
    const int written =
        PEM_write_bio_PKCS8PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
    BIO_free(out);
    EVP_PKEY_free(key);
    ASSERT_EQ(written, 1);
  }
  ASSERT_EQ(chmod(small_key.c_str(), 0600), 0);

  auto server = Process::Start(ProgramPath("chat-server"),
                               {"--listen=127.0.0.1:0", Cat("--key=", small_key)});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(Exits(**server, 1));
  EXPECT_TRUE(
      Contains((*server)->err(),
               Cat(small_key, ": RSA key of 1024 bits; securechat uses 2048, 3072 or 4096")))
      << Describe(**server);
  EXPECT_FALSE(Contains((*server)->out(), "listening")) << Describe(**server);
}

// Eight bytes that are not a CLIENT_HELLO the server can accept.
struct Garbage {
  const char* name;
  std::string bytes;
};

std::string GarbageName(const ::testing::TestParamInfo<Garbage>& garbage) {
  return garbage.param.name;
}

class GarbageTest : public ChatTest, public ::testing::WithParamInterface<Garbage> {};

// A connection that opens with garbage is closed at once (a clean close, not a reset), and a
// client already in the room notices nothing.
TEST_P(GarbageTest, ServerClosesTheConnection) {
  ASSERT_EQ(GetParam().bytes.size(), 8u);
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto olivia = Join("olivia", 1);
  ASSERT_NE(olivia, nullptr);

  RawSocket raw;
  ASSERT_GE(raw.fd(), 0);
  ASSERT_TRUE(raw.Connect(server_.port)) << std::strerror(errno);
  ASSERT_EQ(send(raw.fd(), GetParam().bytes.data(), GetParam().bytes.size(), MSG_NOSIGNAL), 8)
      << std::strerror(errno);
  pollfd pfd{raw.fd(), POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, kGarbageCloseMs), 1)
      << "the server kept the connection open" << Describe(server());
  char buf[64];
  const ssize_t n = recv(raw.fd(), buf, sizeof(buf), MSG_DONTWAIT);
  EXPECT_EQ(n, 0) << (n < 0 ? std::strerror(errno) : "the server answered garbage");

  // The room carries on.
  ASSERT_TRUE(olivia->WriteStdin("/who"));
  EXPECT_TRUE(Saw(*olivia, "-!- online (1): olivia\n"));
  auto peter = Join("peter", 2);
  ASSERT_NE(peter, nullptr);
  EXPECT_TRUE(Saw(*olivia, "-!- peter joined\n"));
  ASSERT_TRUE(olivia->WriteStdin("still here"));
  EXPECT_TRUE(Saw(*peter, "<olivia> still here\n"));
  EXPECT_FALSE(Contains(olivia->out(), "!!")) << Describe(*olivia);
}

INSTANTIATE_TEST_SUITE_P(
    Bytes, GarbageTest,
    ::testing::Values(Garbage{"Text", "GARBAGE!"}, Garbage{"Zeros", std::string(8, '\0')},
                      Garbage{"Http", "GET / HT"},
                      Garbage{"RecordBeforeHandshake", std::string("\x04\x00\x00\x40xxxx", 8)},
                      Garbage{"HelloOfWrongLength", std::string("\x01\x00\x00\x04xxxx", 8)},
                      Garbage{"HelloWithFlags", std::string("\x01\x01\x01\x41xxxx", 8)},
                      Garbage{"AlertFromClient", std::string("\x03\x00\x00\x04xxxx", 8)}),
    GarbageName);

}  // namespace
}  // namespace securechat::testing
