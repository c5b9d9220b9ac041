// The interactive client in a real terminal: chat-client runs in tmux sessions (one tmux
// server per test, on its own socket, without a config file), keys are typed with send-keys
// and the screen is read with capture-pane. Every wait polls the screen until a deadline.
// Skipped, with the reason, where tmux is not installed.
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "integration/expect.h"
#include "integration/process.h"
#include "securechat/base/cat.h"
#include "securechat/client/display.h"

namespace securechat::testing {
namespace {

using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;

// A reconnect waits out its backoff (0.5 to 1 s, then 1 to 2 s, ...) before it tries again.
constexpr Duration kReconnectWait = 15s;
// How often a wait looks at the screen again.
constexpr Duration kPollInterval = 25ms;

// FindTmux returns the path of tmux on PATH, or "" if there is none.
std::string FindTmux() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = Cat(dir.empty() ? "." : dir, "/tmux");
    if (access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

// ShellQuote puts `s` in single quotes for sh.
std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out += "'";
  return out;
}

std::string Printable(std::string_view s) {
  return absl::CEscape(absl::string_view(s.data(), s.size()));
}

// Lines splits a captured screen into its rows, without the empty rows at the bottom.
std::vector<std::string> Lines(const std::string& screen) {
  std::vector<std::string> rows;
  std::stringstream in(screen);
  for (std::string row; std::getline(in, row);) {
    rows.push_back(row);
  }
  while (!rows.empty() && rows.back().empty()) {
    rows.pop_back();
  }
  return rows;
}

// LastLine is the last row of the screen with something on it: the prompt row.
std::string LastLine(const std::string& screen) {
  std::vector<std::string> rows = Lines(screen);
  return rows.empty() ? "" : rows.back();
}

// HasRow is true if some row of `screen` matches `pattern` whole.
bool HasRow(const std::string& screen, const std::string& pattern) {
  const std::regex re(pattern);
  for (const std::string& row : Lines(screen)) {
    if (std::regex_match(row, re)) {
      return true;
    }
  }
  return false;
}

// HasColour is true if `screen` (captured with escapes) has an SGR sequence that sets one of
// the foreground colours the formatter uses, or bold or dim.
bool HasColour(const std::string& screen) {
  static const std::regex kColour("\x1b\\[([0-9;]*;)?(3[1-6]|9[1-6]|1|2)(;[0-9;]*)?m");
  return std::regex_search(screen, kColour);
}

// A tmux server of our own, killed (with every session in it) on destruction.
class Tmux {
 public:
  Tmux(std::string tmux, std::string socket) : tmux_(std::move(tmux)), socket_(std::move(socket)) {}
  ~Tmux() { Run({"kill-server"}); }
  Tmux(const Tmux&) = delete;
  Tmux& operator=(const Tmux&) = delete;

  // Run runs one tmux command and returns its stdout, or nullopt if it failed.
  std::optional<std::string> Run(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"-S", socket_, "-f", "/dev/null"};
    all.insert(all.end(), args.begin(), args.end());
    auto p = Process::Start(tmux_, all);
    if (!p.ok()) {
      return std::nullopt;
    }
    const std::optional<int> code = (*p)->Wait(kWait);
    if (code != 0) {
      last_error_ = (*p)->err();
      return std::nullopt;
    }
    return (*p)->out();
  }

  // NewSession starts `command` (a sh command line) in a new detached 80x24 session `name`,
  // with `env` ("NAME=value") added to its environment.
  bool NewSession(const std::string& name, const std::string& command,
                  const std::vector<std::string>& env = {}) {
    std::vector<std::string> args = {"new-session", "-d", "-s", name, "-x", "80", "-y", "24"};
    for (const std::string& e : env) {
      args.push_back("-e");
      args.push_back(e);
    }
    args.push_back(command);
    return Run(args).has_value();
  }

  // Resize makes the window of `name` `columns` wide and waits until its terminal says so, so
  // that the program in it reads the new width from then on.
  ::testing::AssertionResult Resize(const std::string& name, int columns) {
    if (!Run({"resize-window", "-t", Target(name), "-x", Cat(columns), "-y", "24"})) {
      return ::testing::AssertionFailure() << "resize-window failed: " << last_error_;
    }
    const std::vector<std::string> said =
        Lines(Run({"display-message", "-p", "-t", Target(name), "#{pane_tty}"}).value_or(""));
    if (said.empty()) {
      return ::testing::AssertionFailure() << "no pane_tty for " << name << ": " << last_error_;
    }
    const std::string& tty = said.front();
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    for (;;) {
      winsize ws{};
      const int fd = open(tty.c_str(), O_RDONLY | O_NOCTTY | O_CLOEXEC);
      const bool got = fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0;
      if (fd >= 0) {
        close(fd);
      }
      if (got && ws.ws_col == columns) {
        return ::testing::AssertionSuccess();
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return ::testing::AssertionFailure()
               << tty << " is " << ws.ws_col << " columns wide, not " << columns;
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }

  // Type types `text` literally; Keys sends key names ("Enter", "Tab", "Up", "C-u").
  bool Type(const std::string& name, const std::string& text) {
    return Run({"send-keys", "-t", Target(name), "-l", text}).has_value();
  }
  bool Keys(const std::string& name, const std::vector<std::string>& keys) {
    std::vector<std::string> args = {"send-keys", "-t", Target(name)};
    args.insert(args.end(), keys.begin(), keys.end());
    return Run(args).has_value();
  }
  // Paste pastes `text` as a terminal paste does: all at once, newlines as Enter.
  bool Paste(const std::string& name, const std::string& text) {
    return Run({"set-buffer", "--", text}).has_value() &&
           Run({"paste-buffer", "-d", "-t", Target(name)}).has_value();
  }

  // Screen is what the session shows; with `escapes`, with its colours as SGR sequences.
  std::string Screen(const std::string& name, bool escapes = false) {
    std::vector<std::string> args = {"capture-pane", "-p", "-t", Target(name)};
    if (escapes) {
      args.push_back("-e");
    }
    return Run(args).value_or("");
  }

  // WaitFor waits until `done` holds for the screen of `name`.
  ::testing::AssertionResult WaitFor(const std::string& name,
                                     const std::function<bool(const std::string&)>& done,
                                     const std::string& what, Duration timeout = kWait) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string screen;
    for (;;) {
      screen = Screen(name);
      if (done(screen)) {
        return ::testing::AssertionSuccess();
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        break;
      }
      std::this_thread::sleep_for(kPollInterval);
    }
    return ::testing::AssertionFailure() << name << " never showed " << what << "; screen:\n"
                                         << screen << "\n(" << last_error_ << ")";
  }
  // Shows waits for `text` anywhere on the screen.
  ::testing::AssertionResult Shows(const std::string& name, const std::string& text,
                                   Duration timeout = kWait) {
    return WaitFor(
        name, [&](const std::string& s) { return Contains(s, text); }, Cat("\"", text, "\""),
        timeout);
  }
  // ShowsRow waits for a row that matches `pattern` whole.
  ::testing::AssertionResult ShowsRow(const std::string& name, const std::string& pattern) {
    return WaitFor(
        name, [&](const std::string& s) { return HasRow(s, pattern); },
        Cat("a row matching ", pattern));
  }
  // Prompt waits until the last row of the screen is exactly `row`.
  ::testing::AssertionResult Prompt(const std::string& name, const std::string& row) {
    return WaitFor(
        name, [&](const std::string& s) { return LastLine(s) == row; },
        Cat("the prompt row \"", row, "\""));
  }

 private:
  static std::string Target(const std::string& name) { return Cat("=", name, ":"); }

  std::string tmux_;
  std::string socket_;
  std::string last_error_;
};

class TerminalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string tmux = FindTmux();
    if (tmux.empty()) {
      GTEST_SKIP() << "tmux is not installed (ci/install-deps.sh installs it)";
    }
    absl::StatusOr<std::string> private_key = CopyTestServerKey(dir_);
    ASSERT_TRUE(private_key.ok()) << private_key.status();
    private_key_ = std::move(*private_key);
    tmux_ = std::make_unique<Tmux>(tmux, dir_.File("tmux.sock"));
  }

  void StartTestServer(const std::string& listen = "127.0.0.1:0") {
    std::vector<std::string> args;
    if (listen != "127.0.0.1:0") {
      args = {"--listen", listen};  // a later --listen wins over StartServer's own
    }
    auto server = StartServer(private_key_, args, kWait);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  // StartConsoleServer runs chat-server in the tmux window "server", so that its console is a
  // terminal, and reads the address it listens on into server_.address.
  void StartConsoleServer() {
    ASSERT_TRUE(tmux().NewSession(
        "server", Cat(ShellQuote(ProgramPath("chat-server")), " --key ", ShellQuote(private_key_),
                      " --listen 127.0.0.1:0; echo EXIT=$?; sleep 600")));
    ASSERT_TRUE(tmux().Shows("server", "type a line to send it to everyone"));
    std::smatch m;
    const std::string screen = tmux().Screen("server");
    ASSERT_TRUE(std::regex_search(screen, m, std::regex("listening on (127\\.0\\.0\\.1:[0-9]+)")))
        << screen;
    server_.address = m[1];
  }

  // ClientCommand is the sh command line that runs chat-client for `nick` against the test
  // server, then shows its exit code and keeps the pane open.
  std::string ClientCommand(const std::string& nick, const std::string& extra_args = "",
                            const std::string& redirect = "") {
    return Cat(ShellQuote(ProgramPath("chat-client")), " --nick ", nick, " --connect ",
               server_.address, " --server_key ",
               ShellQuote(TestKeyPath("test_rsa2048_public.pem")), " ", extra_args, " ", redirect,
               "; echo EXIT=$?; sleep 600");
  }

  // Open starts a client for `nick` in a tmux session of the same name and waits until it
  // has joined with `online` people in the room.
  ::testing::AssertionResult Open(const std::string& nick, int online,
                                  const std::string& extra_args = "",
                                  const std::vector<std::string>& env = {}) {
    if (!tmux_->NewSession(nick, ClientCommand(nick, extra_args), env)) {
      return ::testing::AssertionFailure() << "tmux new-session failed for " << nick;
    }
    return tmux_->Shows(nick, Cat("-!- joined as ", nick, "; ", online, " online"));
  }

  Tmux& tmux() { return *tmux_; }

  TempDir dir_;
  std::string private_key_;
  ServerProcess server_;
  std::unique_ptr<Tmux> tmux_;
};

// The heart of it: a line that arrives while alice is typing appears above her prompt, her
// half-typed line stays as it was, and Enter sends it whole. Lines carry [HH:MM] stamps.
TEST_F(TerminalTest, IncomingLineKeepsTheHalfTypedLineIntact) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  ASSERT_TRUE(Open("alice", 1));
  ASSERT_TRUE(Open("bob", 2));
  ASSERT_TRUE(tmux().Shows("alice", "-!- bob joined"));
  ASSERT_TRUE(tmux().Prompt("alice", "[alice]"));

  ASSERT_TRUE(tmux().Type("alice", "this is half a li"));
  ASSERT_TRUE(tmux().Prompt("alice", "[alice] this is half a li"));
  ASSERT_TRUE(tmux().Type("bob", "a message from bob"));
  ASSERT_TRUE(tmux().Keys("bob", {"Enter"}));
  ASSERT_TRUE(tmux().Shows("alice", "<bob> a message from bob"));

  const std::vector<std::string> rows = Lines(tmux().Screen("alice"));
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(rows.back(), "[alice] this is half a li") << "the half line was disturbed";
  EXPECT_TRUE(std::regex_match(rows[rows.size() - 2],
                               std::regex("\\[[0-2][0-9]:[0-5][0-9]\\] <bob> a message from bob")))
      << rows[rows.size() - 2];

  ASSERT_TRUE(tmux().Type("alice", "ne"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  EXPECT_TRUE(tmux().Shows("bob", "<alice> this is half a line"));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice]"));

  // The arrow keys recall what was said.
  ASSERT_TRUE(tmux().Keys("alice", {"Up"}));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice] this is half a line"));
  ASSERT_TRUE(tmux().Keys("alice", {"C-u"}));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice]"));

  // /quit leaves with exit code 0 and gives the terminal back.
  ASSERT_TRUE(tmux().Type("alice", "/quit"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  EXPECT_TRUE(tmux().Shows("alice", "EXIT=0"));
  EXPECT_TRUE(tmux().Shows("bob", "-!- alice left"));
}

// A line alice says is shown again as a line of the chat, "[HH:MM] <alice> hello", once it is
// sent, and the prompt's echo of it is gone, also for a line that took two rows to type. A
// whisper's confirmation has its time too. Only the prompt row starts with "[alice]".
TEST_F(TerminalTest, OwnLinesAreShownWithTheirTimeInsteadOfThePromptEcho) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto bob = JoinChat("bob", TestKeyPath("test_rsa2048_public.pem"), server_.address, 1);
  ASSERT_NE(bob, nullptr);
  ASSERT_TRUE(Open("alice", 2, "--nocolor"));
  ASSERT_TRUE(tmux().Prompt("alice", "[alice]"));

  const std::string stamp = "\\[[0-2][0-9]:[0-5][0-9]\\] ";
  ASSERT_TRUE(tmux().Type("alice", "hello"));
  ASSERT_TRUE(tmux().Prompt("alice", "[alice] hello"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  EXPECT_TRUE(Saw(*bob, "<alice> hello\n"));
  EXPECT_TRUE(tmux().ShowsRow("alice", stamp + "<alice> hello"));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice]"));

  // 90 columns with the prompt: the echo took two rows of the 80.
  const std::string long_line = Cat("long ", std::string(80, 'x'), " end");
  ASSERT_TRUE(tmux().Type("alice", long_line));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  EXPECT_TRUE(Saw(*bob, Cat("<alice> ", long_line, "\n")));
  EXPECT_TRUE(tmux().ShowsRow("alice", " +x+ end"));

  ASSERT_TRUE(tmux().Type("alice", "/msg bob psst"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  EXPECT_TRUE(Saw(*bob, "*alice* psst\n"));
  EXPECT_TRUE(tmux().ShowsRow("alice", stamp + "-> \\*bob\\* psst"));

  const std::string screen = tmux().Screen("alice");
  const std::vector<std::string> rows = Lines(screen);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.back(), "[alice]") << screen;
  for (size_t i = 0; i + 1 < rows.size(); ++i) {
    EXPECT_FALSE(rows[i].starts_with("[alice]")) << "an echo left behind: " << rows[i] << "\n"
                                                 << screen;
  }
  EXPECT_TRUE(HasRow(screen, stamp + "<alice> long x+")) << screen;
  EXPECT_EQ(CountOf(screen, "hello"), 1u) << screen;
  EXPECT_EQ(CountOf(screen, "psst"), 1u) << screen;
}

// Tab completes command names at the start of a line and nicks elsewhere; bob, who joined
// after alice, knows her nick from the list he is sent on joining.
TEST_F(TerminalTest, TabCompletesCommandsAndNicks) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  ASSERT_TRUE(Open("alice", 1));
  ASSERT_TRUE(Open("bob", 2));
  ASSERT_TRUE(tmux().Shows("alice", "-!- bob joined"));

  ASSERT_TRUE(tmux().Type("alice", "/ms"));
  ASSERT_TRUE(tmux().Keys("alice", {"Tab"}));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice] /msg"));
  ASSERT_TRUE(tmux().Type("alice", "b"));
  ASSERT_TRUE(tmux().Keys("alice", {"Tab"}));
  ASSERT_TRUE(tmux().Type("alice", "psst"));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice] /msg bob psst"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  EXPECT_TRUE(tmux().Shows("bob", "*alice* psst"));

  ASSERT_TRUE(tmux().Type("bob", "/ms"));  // "/m" is /me or /msg
  ASSERT_TRUE(tmux().Keys("bob", {"Tab"}));
  ASSERT_TRUE(tmux().Type("bob", "al"));
  ASSERT_TRUE(tmux().Keys("bob", {"Tab"}));
  ASSERT_TRUE(tmux().Type("bob", "hi"));
  EXPECT_TRUE(tmux().Prompt("bob", "[bob] /msg alice hi"));
  ASSERT_TRUE(tmux().Keys("bob", {"Enter"}));
  EXPECT_TRUE(tmux().Shows("alice", "*bob* hi"));

  // A nick at the start of a line is completed as "nick: ", addressing them.
  ASSERT_TRUE(tmux().Type("bob", "al"));
  ASSERT_TRUE(tmux().Keys("bob", {"Tab"}));
  ASSERT_TRUE(tmux().Type("bob", "lunch?"));
  EXPECT_TRUE(tmux().Prompt("bob", "[bob] alice: lunch?"));
  ASSERT_TRUE(tmux().Keys("bob", {"Enter"}));
  EXPECT_TRUE(tmux().Shows("alice", "<bob> alice: lunch?"));

  // An unknown command is refused with a hint and never reaches the room.
  ASSERT_TRUE(tmux().Type("bob", "/dance waves"));
  ASSERT_TRUE(tmux().Keys("bob", {"Enter"}));
  EXPECT_TRUE(tmux().Shows("bob", "!! unknown command /dance; /help lists the commands"));
  // An action line reaches the room as "* bob ...".
  ASSERT_TRUE(tmux().Type("bob", "/me grins"));
  ASSERT_TRUE(tmux().Keys("bob", {"Enter"}));
  EXPECT_TRUE(tmux().Shows("alice", "* bob grins"));
  EXPECT_TRUE(tmux().Shows("bob", "* bob grins"));  // one's own action, shown as sent
  ASSERT_TRUE(tmux().Type("bob", "/help"));
  ASSERT_TRUE(tmux().Keys("bob", {"Enter"}));
  EXPECT_TRUE(tmux().Shows("bob", "/unignore NICK"));
  EXPECT_FALSE(Contains(tmux().Screen("alice"), "waves"));
}

// Rooms at a terminal: the prompt names the current room (not #lobby), Alt-N picks the Nth
// room joined and Ctrl-N / Ctrl-P go round them, leaving the half-typed line as it was; digits
// still type digits; Tab completes a room; a line goes to the room chosen, named by its room.
TEST_F(TerminalTest, AltDigitsAndCtrlNPSwitchRooms) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  ASSERT_TRUE(Open("alice", 1));
  ASSERT_TRUE(tmux().Prompt("alice", "[alice]"));
  ASSERT_TRUE(tmux().Type("alice", "/join #dev2"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice #dev2]"));
  ASSERT_TRUE(tmux().Type("alice", "/join #ops"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice #ops]"));

  ASSERT_TRUE(tmux().Type("alice", "half"));
  ASSERT_TRUE(tmux().Keys("alice", {"M-2"}));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice #dev2] half"));
  ASSERT_TRUE(tmux().Keys("alice", {"M-1"}));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice] half"));
  ASSERT_TRUE(tmux().Keys("alice", {"C-p"}));  // round, from #lobby to the last
  EXPECT_TRUE(tmux().Prompt("alice", "[alice #ops] half"));
  ASSERT_TRUE(tmux().Keys("alice", {"C-n"}));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice] half"));
  ASSERT_TRUE(tmux().Keys("alice", {"C-n"}));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice #dev2] half"));
  EXPECT_TRUE(tmux().Shows("alice", "-!- lines you type now go to #dev2"));
  ASSERT_TRUE(tmux().Type("alice", " 42"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  EXPECT_TRUE(tmux().ShowsRow("alice", R"(\[\d\d:\d\d\] #dev2 <alice> half 42)"));

  ASSERT_TRUE(tmux().Type("alice", "/switch #o"));
  ASSERT_TRUE(tmux().Keys("alice", {"Tab"}));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice #dev2] /switch #ops"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice #ops]"));
}

// Ctrl-R searches the input history (libedit's incremental search): part of an earlier line
// finds it, Enter ends the search with it on the prompt row, and Enter sends it again.
TEST_F(TerminalTest, CtrlRSearchesInputHistory) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto bob = JoinChat("bob", TestKeyPath("test_rsa2048_public.pem"), server_.address, 1);
  ASSERT_NE(bob, nullptr);
  ASSERT_TRUE(Open("alice", 2));
  for (const char* line : {"the first line", "another one"}) {
    ASSERT_TRUE(tmux().Type("alice", line));
    ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
    ASSERT_TRUE(Saw(*bob, Cat("<alice> ", line, "\n")));
  }
  ASSERT_TRUE(tmux().Prompt("alice", "[alice]"));
  ASSERT_TRUE(tmux().Keys("alice", {"C-r"}));
  ASSERT_TRUE(tmux().Type("alice", "firs"));
  ASSERT_TRUE(tmux().Shows("alice", "[alice] the first line"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  ASSERT_TRUE(tmux().Prompt("alice", "[alice] the first line"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  EXPECT_TRUE(Saw(*bob, "<alice> another one\n<alice> the first line\n"))
      << "said again after the second: " << bob->out();
  EXPECT_TRUE(tmux().Prompt("alice", "[alice]"));
}

// A paste of many lines is held until the user says yes; a short one goes at once.
// Non-ASCII text typed at the prompt is sent as typed, in UTF-8, even when the environment
// names no UTF-8 locale (LC_ALL=C): the editor then decodes keystrokes as C.UTF-8. bob reads
// through a pipe, so what he got is the client's bytes, not a screen's rendering of them.
TEST_F(TerminalTest, NonAsciiTypedTextIsSentAsUtf8) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto bob = JoinChat("bob", TestKeyPath("test_rsa2048_public.pem"), server_.address, 1);
  ASSERT_NE(bob, nullptr);
  ASSERT_TRUE(Open("alice", 2, "", {"LC_ALL=C", "LANG=C"}));

  const std::string text = "caf\xc3\xa9 \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac";  // café ✓ 日本
  ASSERT_TRUE(tmux().Type("alice", text));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  EXPECT_TRUE(Saw(*bob, Cat("<alice> ", text, "\n")));
}

TEST_F(TerminalTest, PasteGuardAsksBeforeSendingALongPaste) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  ASSERT_TRUE(Open("alice", 1));
  ASSERT_TRUE(Open("bob", 2));
  ASSERT_TRUE(tmux().Shows("alice", "-!- bob joined"));

  ASSERT_TRUE(tmux().Paste("alice", "l1\nl2\nl3\nl4\nl5\nl6\nl7\n"));
  ASSERT_TRUE(tmux().Prompt("alice", "send 7 pasted lines? [y/N]"));
  EXPECT_FALSE(Contains(tmux().Screen("bob"), "<alice> l1"));
  EXPECT_FALSE(Contains(tmux().Screen("alice"), "l1")) << "not shown before it is sent";
  ASSERT_TRUE(tmux().Type("alice", "y"));  // one key, no Enter
  EXPECT_TRUE(tmux().Shows("bob", "<alice> l7"));
  EXPECT_TRUE(tmux().Shows("alice", "<alice> l7"));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice]"));

  ASSERT_TRUE(tmux().Paste("alice", "m1\nm2\nm3\nm4\nm5\nm6\n"));
  ASSERT_TRUE(tmux().Prompt("alice", "send 6 pasted lines? [y/N]"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  EXPECT_TRUE(tmux().Shows("alice", "-!- 6 pasted lines not sent"));

  ASSERT_TRUE(tmux().Paste("alice", "n1\nn2\n"));
  EXPECT_TRUE(tmux().Shows("bob", "<alice> n2"));
  EXPECT_FALSE(Contains(tmux().Screen("bob"), "<alice> m1"));
}

// Issue #13: a paste whose last line has no newline leaves that line being edited; neither it
// nor the Enter that follows answers the question, which takes one key. `n` drops the held
// lines and gives the half line back; in a second paste `y` sends them. Any other key is
// ignored.
TEST_F(TerminalTest, PasteQuestionTakesOneKeyAndNoPastedText) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto bob = JoinChat("bob", TestKeyPath("test_rsa2048_public.pem"), server_.address, 1);
  ASSERT_NE(bob, nullptr);
  ASSERT_TRUE(Open("alice", 2));

  // The tail "y" would have answered yes when the answer was a line.
  ASSERT_TRUE(tmux().Paste("alice", "p1\np2\np3\np4\np5\np6\ny"));
  ASSERT_TRUE(tmux().Prompt("alice", "send 6 pasted lines? [y/N]"));
  ASSERT_TRUE(tmux().Type("alice", "q"));     // no answer: the question stays
  ASSERT_TRUE(tmux().Paste("alice", "yes"));  // pasted text is no answer either
  ASSERT_TRUE(tmux().Prompt("alice", "send 6 pasted lines? [y/N]"));
  ASSERT_TRUE(tmux().Type("alice", "n"));
  EXPECT_TRUE(tmux().Shows("alice", "-!- 6 pasted lines not sent"));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice] y")) << "the line being edited is back";
  ASSERT_TRUE(tmux().Keys("alice", {"C-u"}));
  ASSERT_TRUE(tmux().Prompt("alice", "[alice]"));

  ASSERT_TRUE(tmux().Paste("alice", "r1\nr2\nr3\nr4\nr5\nr6\nr7\nlast"));
  ASSERT_TRUE(tmux().Prompt("alice", "send 7 pasted lines? [y/N]"));
  ASSERT_TRUE(tmux().Type("alice", "y"));
  EXPECT_TRUE(Saw(*bob, "<alice> r7\n"));
  EXPECT_TRUE(tmux().Shows("alice", "<alice> r7"));
  EXPECT_TRUE(tmux().Prompt("alice", "[alice] last"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  EXPECT_TRUE(Saw(*bob, "<alice> last\n"));
  ASSERT_TRUE(tmux().Type("alice", "/quit"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  ASSERT_TRUE(tmux().Shows("alice", "EXIT=0"));
  EXPECT_FALSE(Contains(bob->out(), "<alice> p")) << bob->out();
  EXPECT_FALSE(Contains(bob->out(), "<alice> y")) << bob->out();
}

// Colour at a terminal only: not with NO_COLOR, not with --nocolor, not into a pipe. Lines
// from the network stay escaped either way.
TEST_F(TerminalTest, ColourOnlyAtATerminalWithoutNoColor) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  ASSERT_TRUE(Open("alice", 1, "", {"NO_COLOR="}));
  ASSERT_TRUE(Open("bob", 2, "", {"NO_COLOR=1"}));
  ASSERT_TRUE(Open("carol", 3, "--nocolor", {"NO_COLOR="}));
  const std::string piped = dir_.File("dave.out");
  ASSERT_TRUE(
      tmux().NewSession("dave", ClientCommand("dave", "", Cat("| tee ", piped)), {"NO_COLOR="}));
  ASSERT_TRUE(tmux().Shows("dave", "-!- joined as dave; 4 online"));
  ASSERT_TRUE(tmux().Shows("alice", "-!- dave joined"));

  auto eve = Process::Start(ProgramPath("chat-client"),
                            {"--nick", "eve", "--connect", server_.address, "--server_key",
                             TestKeyPath("test_rsa2048_public.pem")});
  ASSERT_TRUE(eve.ok()) << eve.status();
  ASSERT_TRUE((*eve)->WaitForStdout("-!- joined as eve; 5 online", kWait));
  ASSERT_TRUE((*eve)->WriteStdin("alice bob carol dave: look \\e[31m"));
  for (const char* nick : {"alice", "bob", "carol", "dave"}) {
    ASSERT_TRUE(tmux().Shows(nick, "<eve> alice bob carol dave: look \\\\e[31m"));
  }
  (*eve)->CloseStdin();
  EXPECT_EQ((*eve)->Wait(kWait), 0);
  EXPECT_FALSE(Contains((*eve)->out(), "\x1b")) << "a pipe gets plain lines";

  const std::string coloured = tmux().Screen("alice", true);
  EXPECT_TRUE(HasColour(coloured)) << Printable(coloured);
  EXPECT_TRUE(Contains(coloured, Cat("\x1b[", Formatter::NickColor("eve"), "meve")))
      << Printable(coloured);
  for (const char* nick : {"bob", "carol", "dave"}) {
    const std::string screen = tmux().Screen(nick, true);
    EXPECT_FALSE(HasColour(screen)) << nick << ": " << Printable(screen);
    EXPECT_TRUE(std::regex_search(screen, std::regex("\\[[0-9][0-9]:[0-9][0-9]\\] <eve>")))
        << nick << " still has timestamps at a terminal";
  }
  std::ifstream in(piped, std::ios::binary);
  std::stringstream file;
  file << in.rdbuf();
  EXPECT_TRUE(Contains(file.str(), "<eve> alice bob carol dave: look")) << Printable(file.str());
  EXPECT_FALSE(HasColour(file.str())) << Printable(file.str());
}

// Lines said before a client came are drawn faint (SGR 2), with their time, before
// "-!- end of history"; a line said now has its nick's colour.
TEST_F(TerminalTest, HistoryIsFaint) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  auto eve = Process::Start(ProgramPath("chat-client"),
                            {"--nick", "eve", "--connect", server_.address, "--server_key",
                             TestKeyPath("test_rsa2048_public.pem")});
  ASSERT_TRUE(eve.ok()) << eve.status();
  ASSERT_TRUE((*eve)->WaitForStdout("-!- joined as eve; 1 online", kWait));
  ASSERT_TRUE((*eve)->WriteStdin("an old line"));
  ASSERT_TRUE((*eve)->WriteStdin("/who"));  // answered after the line is taken
  ASSERT_TRUE((*eve)->WaitForStdout("-!- online (1): eve", kWait));

  ASSERT_TRUE(Open("alice", 2, "", {"NO_COLOR="}));
  ASSERT_TRUE(tmux().Shows("alice", "-!- end of history"));
  ASSERT_TRUE((*eve)->WriteStdin("a new line"));
  ASSERT_TRUE(tmux().Shows("alice", "<eve> a new line"));
  const std::string screen = tmux().Screen("alice", true);
  EXPECT_TRUE(std::regex_search(
      screen, std::regex("\x1b\\[2m\\[[0-9][0-9]:[0-9][0-9]\\] <eve> an old line")))
      << Printable(screen);
  EXPECT_TRUE(Contains(screen, Cat("\x1b[", Formatter::NickColor("eve"), "meve\x1b")))
      << Printable(screen);
  EXPECT_FALSE(Contains(screen, "(history)")) << "faint is the mark at a colour terminal";
  (*eve)->CloseStdin();
  EXPECT_EQ((*eve)->Wait(kWait), 0);
}

// With --reconnect, a client whose server restarts (same port) says the connection was lost,
// keeps the half-typed line, comes back with the same nick and says so.
TEST_F(TerminalTest, ReconnectsAfterServerRestart) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  const std::string address = server_.address;
  ASSERT_TRUE(Open("alice", 1, "--reconnect"));
  ASSERT_TRUE(tmux().Type("alice", "/nick alicia"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  ASSERT_TRUE(tmux().Shows("alice", "-!- alice is now known as alicia"));
  ASSERT_TRUE(tmux().Prompt("alice", "[alicia]"));
  ASSERT_TRUE(tmux().Type("alice", "typed before"));

  ASSERT_TRUE(server_.process->Signal(SIGTERM));
  ASSERT_EQ(server_.process->Wait(kWait), 0);
  ASSERT_TRUE(tmux().Shows("alice", "!! connection lost: the server shut down; reconnecting in"));
  EXPECT_TRUE(tmux().Prompt("alice", "[alicia] typed before"));

  ASSERT_NO_FATAL_FAILURE(StartTestServer(address));
  ASSERT_EQ(server_.address, address);
  EXPECT_TRUE(tmux().Shows("alice", "-!- rejoined as alicia; 1 online", kReconnectWait));
  EXPECT_TRUE(tmux().Prompt("alice", "[alicia] typed before"));

  auto bob = Process::Start(ProgramPath("chat-client"),
                            {"--nick", "bob", "--connect", address, "--server_key",
                             TestKeyPath("test_rsa2048_public.pem")});
  ASSERT_TRUE(bob.ok()) << bob.status();
  ASSERT_TRUE((*bob)->WriteStdin("welcome back"));
  (*bob)->CloseStdin();
  EXPECT_TRUE(tmux().Shows("alice", "<bob> welcome back"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  EXPECT_TRUE(tmux().Prompt("alice", "[alicia]"));
  EXPECT_TRUE(server_.process->WaitForStderr("join #1 as alicia", kWait)) << server_.process->err();
}

// Issue #10, spoofed lines by wrapping: eve pads a message so that, in a terminal that wraps it
// by itself, the next row starts with text that looks like a line of its own ("[14:34]
// <server> ...", "-!- ... is now known as admin"). The client lays each message out at the
// window's width, read anew after every resize: every row after a message's first starts with
// spaces, so at 40, 80 and 200 columns only real lines start like a line. Runs of spaces
// collapse, so padding with them moves nothing.
// SendSpoofs has `eve` send, between "begin N" and "end N" lines, two lines padded so that a
// terminal of `columns` columns that wrapped them by itself would start rows with fake lines
// ("-!- SPOOF bob is now known as admin", "[14:34] <server> SPOOF new key"), for a screen
// that shows eve's text after "[HH:MM] <eve> " (14 columns).
void SendSpoofs(Process& eve, int columns) {
  const std::string server_row = "[14:34] <server> SPOOF new key";
  const std::string rename_row = "-!- SPOOF bob is now known as admin";
  const std::string lead = "maintenance: ";
  const size_t first = static_cast<size_t>(columns) - 14 - lead.size();
  ASSERT_TRUE(eve.WriteStdin(Cat("begin ", columns)));
  ASSERT_TRUE(eve.WriteStdin(Cat(lead, std::string(first, ' '), rename_row)));
  ASSERT_TRUE(eve.WriteStdin(Cat(lead, std::string(first, 'x'), server_row,
                                 std::string(static_cast<size_t>(columns) - server_row.size(), 'x'),
                                 rename_row)));
  ASSERT_TRUE(eve.WriteStdin(Cat("end ", columns)));
}

// ExpectOnlyEvesLinesStartRows checks the rows of `screen` from eve's "begin N" to her "end
// N": every row that starts like a line (a time stamp, "-!-", "<", "*", "!!") is a real line
// of eve's, every other row starts with a space, and both spoofs are on the screen.
void ExpectOnlyEvesLinesStartRows(const std::string& screen, int columns) {
  static const std::regex kStartsLikeALine("^(\\[[0-9][0-9]:[0-9][0-9]\\]|-!-|<|\\*|!!)");
  static const std::regex kEveLine("^\\[[0-2][0-9]:[0-5][0-9]\\] <eve> .*");
  const std::vector<std::string> rows = Lines(screen);
  size_t begin = rows.size();
  size_t end = rows.size();
  for (size_t i = 0; i < rows.size(); ++i) {
    if (Contains(rows[i], Cat("<eve> begin ", columns))) {
      begin = i;
    } else if (Contains(rows[i], Cat("<eve> end ", columns))) {
      end = i;
    }
  }
  ASSERT_LT(begin, end) << "\n" << screen;
  int spoof_rows = 0;
  for (size_t i = begin; i <= end; ++i) {
    const std::string& row = rows[i];
    spoof_rows += Contains(row, "SPOOF");
    if (std::regex_search(row, kStartsLikeALine)) {
      EXPECT_TRUE(std::regex_match(row, kEveLine)) << "a row that is no line: " << row << "\n"
                                                   << screen;
    } else {
      EXPECT_EQ(row.substr(0, 1), " ") << "a continuation row not marked: " << row << "\n"
                                       << screen;
    }
  }
  EXPECT_GE(spoof_rows, 2) << "both spoofs are on the screen, as text of eve's\n" << screen;
}

TEST_F(TerminalTest, SpoofedLinesByWrappingNeverStartARow) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  ASSERT_TRUE(Open("alice", 1, "--nocolor"));
  auto eve = JoinChat("eve", TestKeyPath("test_rsa2048_public.pem"), server_.address, 2);
  ASSERT_NE(eve, nullptr);
  ASSERT_TRUE(tmux().Shows("alice", "-!- eve joined"));
  for (const int columns : {40, 80, 200}) {
    SCOPED_TRACE(Cat(columns, " columns"));
    ASSERT_TRUE(tmux().Resize("alice", columns));
    ASSERT_NO_FATAL_FAILURE(SendSpoofs(*eve, columns));
    ASSERT_TRUE(tmux().Shows("alice", Cat("<eve> end ", columns)));
    ExpectOnlyEvesLinesStartRows(tmux().Screen("alice"), columns);
  }
  eve->CloseStdin();
  EXPECT_TRUE(Exits(*eve, 0));
}

// The server's console lays the room out as the client does: the same spoofs never start a
// row of the operator's terminal either.
TEST_F(TerminalTest, SpoofedLinesByWrappingNeverStartARowOfTheServerConsole) {
  ASSERT_NO_FATAL_FAILURE(StartConsoleServer());
  auto eve = JoinChat("eve", TestKeyPath("test_rsa2048_public.pem"), server_.address, 1);
  ASSERT_NE(eve, nullptr);
  for (const int columns : {40, 80, 200}) {
    SCOPED_TRACE(Cat(columns, " columns"));
    ASSERT_TRUE(tmux().Resize("server", columns));
    ASSERT_NO_FATAL_FAILURE(SendSpoofs(*eve, columns));
    ASSERT_TRUE(tmux().Shows("server", Cat("<eve> end ", columns)));
    ExpectOnlyEvesLinesStartRows(tmux().Screen("server"), columns);
  }
  eve->CloseStdin();
  EXPECT_TRUE(Exits(*eve, 0));
  ASSERT_TRUE(tmux().Keys("server", {"C-c"}));
  EXPECT_TRUE(tmux().Shows("server", "EXIT=0"));
}

// The server's console, when it is a terminal, shows the room with [HH:MM] stamps, and a line
// typed there reaches the clients as "server".
TEST_F(TerminalTest, ServerConsoleShowsTheRoomWithTimestamps) {
  ASSERT_NO_FATAL_FAILURE(StartConsoleServer());

  ASSERT_TRUE(Open("alice", 1));
  ASSERT_TRUE(tmux().Type("alice", "hello console"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  const std::regex stamped("\\[[0-2][0-9]:[0-5][0-9]\\] <alice> hello console");
  EXPECT_TRUE(tmux().WaitFor(
      "server",
      [&](const std::string& s) {
        for (const std::string& row : Lines(s)) {
          if (std::regex_match(row, stamped)) {
            return true;
          }
        }
        return false;
      },
      "alice's line with a [HH:MM] stamp"));
  EXPECT_TRUE(std::regex_search(tmux().Screen("server"),
                                std::regex("\\[[0-2][0-9]:[0-5][0-9]\\] -!- alice joined")));

  ASSERT_TRUE(tmux().Type("server", "console says hi"));
  ASSERT_TRUE(tmux().Keys("server", {"Enter"}));
  EXPECT_TRUE(tmux().Shows("alice", "<server> console says hi"));

  ASSERT_TRUE(tmux().Keys("server", {"C-c"}));
  EXPECT_TRUE(tmux().Shows("server", "EXIT=0"));
  EXPECT_TRUE(tmux().Shows("alice", "EXIT=6"));  // the connection ended: server shutting down
}

// At a terminal the server's console is an operator's seat: lines are edited under a
// "server>" prompt; the answers to commands, the room and the log (stderr is the same
// terminal) come out above it and never through a half-typed line; Tab completes commands;
// Up and Ctrl-R recall earlier lines; Ctrl-D closes the console and the server keeps serving.
TEST_F(TerminalTest, ServerConsoleIsALineEditorAtATerminal) {
  ASSERT_NO_FATAL_FAILURE(StartConsoleServer());
  ASSERT_TRUE(tmux().Prompt("server", "server>"));

  ASSERT_TRUE(tmux().Type("server", "/help"));
  ASSERT_TRUE(tmux().Keys("server", {"Enter"}));
  ASSERT_TRUE(tmux().ShowsRow("server", "  /who +list who is online"));
  EXPECT_TRUE(HasRow(tmux().Screen("server"), "server> /help")) << "the entered line, shown above";
  EXPECT_TRUE(tmux().Prompt("server", "server>"));

  // Someone joins while the operator is typing: the log lines and the room's notice come out
  // above the half-typed line, which stays as it was.
  ASSERT_TRUE(tmux().Type("server", "half a li"));
  ASSERT_TRUE(tmux().Prompt("server", "server> half a li"));
  auto alice = JoinChat("alice", TestKeyPath("test_rsa2048_public.pem"), server_.address, 1);
  ASSERT_NE(alice, nullptr);
  ASSERT_TRUE(tmux().ShowsRow("server", "\\[[0-2][0-9]:[0-5][0-9]\\] -!- alice joined"));
  ASSERT_TRUE(tmux().Shows("server", "join #1 as alice"));
  std::vector<std::string> rows = Lines(tmux().Screen("server"));
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(rows.back(), "server> half a li") << "the half line was disturbed";
  for (size_t i = 0; i + 1 < rows.size(); ++i) {
    EXPECT_FALSE(Contains(rows[i], "half a li")) << "a torn prompt above: " << rows[i];
  }
  ASSERT_TRUE(tmux().Type("server", "ne"));
  ASSERT_TRUE(tmux().Keys("server", {"Enter"}));
  EXPECT_TRUE(Saw(*alice, "<server> half a line\n"));
  EXPECT_TRUE(tmux().ShowsRow("server", "server> half a line"));

  ASSERT_TRUE(tmux().Type("server", "/who"));
  ASSERT_TRUE(tmux().Keys("server", {"Enter"}));
  EXPECT_TRUE(tmux().ShowsRow("server", "online \\(1\\): alice"));

  // Tab completes a command word (the editor adds the space).
  ASSERT_TRUE(tmux().Prompt("server", "server>"));
  ASSERT_TRUE(tmux().Type("server", "/ki"));
  ASSERT_TRUE(tmux().Keys("server", {"Tab"}));
  ASSERT_TRUE(tmux().Prompt("server", "server> /kick"));
  ASSERT_TRUE(tmux().Type("server", "alice"));
  ASSERT_TRUE(tmux().Prompt("server", "server> /kick alice"));
  ASSERT_TRUE(tmux().Keys("server", {"Enter"}));
  EXPECT_TRUE(tmux().Shows("server", "-!- alice left (kicked by the server's operator)"));

  // Up recalls the lines entered, the last first; Ctrl-R searches them.
  ASSERT_TRUE(tmux().Prompt("server", "server>"));
  ASSERT_TRUE(tmux().Keys("server", {"Up"}));
  EXPECT_TRUE(tmux().Prompt("server", "server> /kick alice"));
  ASSERT_TRUE(tmux().Keys("server", {"Up"}));
  EXPECT_TRUE(tmux().Prompt("server", "server> /who"));
  ASSERT_TRUE(tmux().Keys("server", {"C-u"}));
  ASSERT_TRUE(tmux().Prompt("server", "server>"));
  ASSERT_TRUE(tmux().Keys("server", {"C-r"}));
  ASSERT_TRUE(tmux().Type("server", "hel"));
  EXPECT_TRUE(tmux().Shows("server", "/help"));
  ASSERT_TRUE(tmux().Keys("server", {"Enter"}));
  EXPECT_TRUE(tmux().Prompt("server", "server> /help"));
  ASSERT_TRUE(tmux().Keys("server", {"C-u"}));

  // Ctrl-D on an empty line closes the console as the end of a piped stdin does; the server
  // keeps serving, its output written plainly.
  ASSERT_TRUE(tmux().Prompt("server", "server>"));
  ASSERT_TRUE(tmux().Keys("server", {"C-d"}));
  ASSERT_TRUE(tmux().Shows("server", "console closed (end of input); the server keeps running"));
  EXPECT_NE(LastLine(tmux().Screen("server")), "server>") << "the prompt is gone";
  auto bob = JoinChat("bob", TestKeyPath("test_rsa2048_public.pem"), server_.address, 1);
  ASSERT_NE(bob, nullptr);
  EXPECT_TRUE(tmux().Shows("server", "-!- bob joined"));

  ASSERT_TRUE(tmux().Keys("server", {"C-c"}));
  EXPECT_TRUE(tmux().Shows("server", "EXIT=0"));
  EXPECT_TRUE(Exits(*bob, 6));
}

// Trust on first use at a terminal (PROTOCOL.md 4.8; the pipe cases are in tofu_test.cc):
// without --server_key the client shows the server's fingerprint and asks; only "yes" adds
// the server to known_servers (XDG_CONFIG_HOME in the test's temp dir) and connects.
class TofuTerminalTest : public TerminalTest {
 protected:
  void SetUp() override {
    TerminalTest::SetUp();
    config_ = dir_.File("config");
    known_ = config_ + "/securechat/known_servers";
  }

  // OpenAsking starts a client for `nick` without --server_key in a tmux session of the same
  // name.
  ::testing::AssertionResult OpenAsking(const std::string& nick) {
    const std::string command = Cat(ShellQuote(ProgramPath("chat-client")), " --nick ", nick,
                                    " --connect ", server_.address, "; echo EXIT=$?; sleep 600");
    if (!tmux().NewSession(nick, command, {Cat("XDG_CONFIG_HOME=", config_)})) {
      return ::testing::AssertionFailure() << "tmux new-session failed for " << nick;
    }
    return ::testing::AssertionSuccess();
  }

  std::string KnownText() {
    std::ifstream in(known_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::string config_;
  std::string known_;
};

TEST_F(TofuTerminalTest, YesAddsTheServerAndJoins) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  ASSERT_TRUE(OpenAsking("alice"));
  ASSERT_TRUE(tmux().Prompt("alice", "trust this server? (yes/no)"));
  const std::string screen = tmux().Screen("alice");
  EXPECT_TRUE(Contains(screen, Cat("Its key fingerprint is ", server_.fingerprint))) << screen;
  EXPECT_EQ(access(known_.c_str(), F_OK), -1) << "nothing written before the answer";

  ASSERT_TRUE(tmux().Type("alice", "yes"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  ASSERT_TRUE(tmux().Shows("alice", "-!- joined as alice; 1 online"));
  EXPECT_EQ(KnownText(), Cat(server_.address, " ", server_.fingerprint, "\n"));

  // The next start knows the server and asks nothing.
  ASSERT_TRUE(tmux().Type("alice", "/quit"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  ASSERT_TRUE(tmux().Shows("alice", "EXIT=0"));
  ASSERT_TRUE(OpenAsking("again"));
  ASSERT_TRUE(tmux().Shows("again", "-!- joined as again; 1 online"));
  EXPECT_FALSE(Contains(tmux().Screen("again"), "trust this server?"));
}

TEST_F(TofuTerminalTest, NoLeavesWithoutConnecting) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  ASSERT_TRUE(OpenAsking("alice"));
  ASSERT_TRUE(tmux().Prompt("alice", "trust this server? (yes/no)"));
  ASSERT_TRUE(tmux().Type("alice", "no"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  ASSERT_TRUE(tmux().Shows("alice", "EXIT=3"));
  const std::string screen = tmux().Screen("alice");
  EXPECT_TRUE(Contains(screen, "not trusted")) << screen;
  EXPECT_FALSE(Contains(screen, "joined")) << screen;
  EXPECT_EQ(access(known_.c_str(), F_OK), -1) << "nothing written";
}

TEST_F(TofuTerminalTest, ChangedKeyIsRefusedWithoutAsking) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  ASSERT_TRUE(OpenAsking("alice"));
  ASSERT_TRUE(tmux().Prompt("alice", "trust this server? (yes/no)"));
  ASSERT_TRUE(tmux().Type("alice", "yes"));
  ASSERT_TRUE(tmux().Keys("alice", {"Enter"}));
  ASSERT_TRUE(tmux().Shows("alice", "-!- joined as alice; 1 online"));
  const std::string old_line = KnownText();
  ASSERT_EQ(old_line, Cat(server_.address, " ", server_.fingerprint, "\n"));

  // The server comes back on the same port with another key.
  const std::string other = dir_.File("other_private.pem");
  ASSERT_TRUE(CopyFileWithMode(TestKeyPath("test_rsa3072_private.pem"), other, 0600).ok());
  const absl::Status restarted = RestartServer(other, kWait, &server_);
  ASSERT_TRUE(restarted.ok()) << restarted;

  ASSERT_TRUE(OpenAsking("bob"));
  ASSERT_TRUE(tmux().Shows("bob", "EXIT=3"));
  const std::string screen = tmux().Screen("bob");
  EXPECT_TRUE(Contains(screen, "WARNING: SERVER IDENTIFICATION HAS CHANGED!")) << screen;
  // (The fingerprint may wrap at the 80 columns.)
  EXPECT_TRUE(Contains(screen, Cat("sent the key ", server_.fingerprint.substr(0, 20)))) << screen;
  EXPECT_TRUE(Contains(screen, "Refusing to connect.")) << screen;
  EXPECT_FALSE(Contains(screen, "trust this server?")) << screen;
  EXPECT_EQ(KnownText(), old_line) << "the file is left alone";
}

// A file being received shows its progress on a status row over the prompt, redrawn in place
// while bob types: his half-typed line stays where it was, the prompt keeps its width, and the
// status row goes once the file is saved.
TEST_F(TerminalTest, FileProgressIsAStatusRowOverThePromptThatDoesNotDisturbTyping) {
  ASSERT_NO_FATAL_FAILURE(StartTestServer());
  ASSERT_TRUE(Open("bob", 1, Cat("--download_dir=", ShellQuote(dir_.File("dl")))));
  auto alice =
      JoinChat("alice", TestKeyPath("test_rsa2048_public.pem"), server_.address, /*online=*/2);
  ASSERT_NE(alice, nullptr);
  const std::string path = dir_.File("big.bin");
  {
    std::ofstream out(path, std::ios::binary);
    const std::string block(1 << 20, 'x');
    for (int i = 0; i < 32; ++i) {
      out << block;
    }
  }
  ASSERT_TRUE(alice->WriteStdin(Cat("/send bob ", path)));
  ASSERT_TRUE(tmux().Shows("bob", "/decline 1"));  // the offer takes three rows at 80 columns
  ASSERT_TRUE(tmux().Type("bob", "/accept 1"));
  ASSERT_TRUE(tmux().Keys("bob", {"Enter"}));
  ASSERT_TRUE(tmux().Type("bob", "half"));
  // The status row sits right over the prompt, which is the prompt and the typed text only.
  const std::regex status(R"(file 1: \[[#-]{10}\] [0-9]+%, [0-9.]+ [kM]?B of 33\.5 MB, .*B/s.*)");
  EXPECT_TRUE(tmux().WaitFor(
      "bob",
      [&](const std::string& screen) {
        const std::vector<std::string> rows = Lines(screen);
        return rows.size() >= 2 && rows.back() == "[bob] half" &&
               std::regex_match(rows[rows.size() - 2], status);
      },
      "the status row over the prompt \"[bob] half\""));
  ASSERT_TRUE(tmux().Shows("bob", "saved as", 60s));
  EXPECT_TRUE(tmux().Prompt("bob", "[bob] half"));
  EXPECT_EQ(CountOf(tmux().Screen("bob"), "% ("), 0u) << "no progress lines at a terminal";
}

}  // namespace
}  // namespace securechat::testing
