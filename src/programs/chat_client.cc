// chat-client: the securechat terminal client.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "programs/flags.h"
#include "securechat/base/cat.h"
#include "securechat/client/display.h"
#include "securechat/client/interactive.h"
#include "securechat/client/runner.h"
#include "securechat/client/session.h"
#include "securechat/crypto/auth.h"
#include "securechat/crypto/ed25519.h"
#include "securechat/crypto/keys.h"
#include "securechat/net/client_loop.h"
#include "securechat/net/files.h"
#include "securechat/net/local_files.h"
#include "securechat/net/server_key.h"
#include "securechat/net/socket.h"
#include "securechat/net/ssh_agent.h"
#include "securechat/net/tcp.h"
#include "securechat/net/terminal.h"
#include "securechat/net/user_paths.h"
#include "securechat/tty/line_editor.h"
#include "securechat/wire/config_lines.h"
#include "securechat/wire/protocol.h"
#include "securechat/wire/text.h"

ABSL_FLAG(std::string, connect, "127.0.0.1:5555", "server address: HOST:PORT or [IPv6]:PORT");
ABSL_FLAG(std::string, server_key, "",
          "the server's public key (PEM); the client talks only to the holder of its private "
          "key. Without it the client asks the server for its key and checks it against "
          "--server_fingerprint or ~/.config/securechat/known_servers, as ssh does");
ABSL_FLAG(std::string, server_fingerprint, "",
          "without --server_key: accept only the server key with this fingerprint "
          "(SHA256:..., as chat-server prints it); known_servers is not consulted");
ABSL_FLAG(bool, trust_on_first_use, false,
          "without --server_key: add a server not yet in known_servers without asking (as a "
          "pipe cannot answer the question)");
ABSL_FLAG(std::string, nick, "", "your nick (required): 1 to 32 of A-Z a-z 0-9 _ . -");
ABSL_FLAG(bool, color, true,
          "colour at a terminal (only when stdout is a terminal and NO_COLOR is unset); "
          "--nocolor turns it off");
ABSL_FLAG(bool, bell, false,
          "ring the terminal bell on private messages and lines that mention your nick");
ABSL_FLAG(bool, reconnect, false,
          "when the connection cannot be made or is lost, try again (1 s doubling to 30 s, with "
          "jitter) and rejoin with the same nick, shown what was said while away as far as the "
          "server's history reaches");
ABSL_FLAG(bool, strict_nick, false,
          "exit (code 5) when the server refuses --nick, instead of trying NICK2, NICK3, ... "
          "NICK9");
ABSL_FLAG(std::string, identity, "",
          "the user key to authenticate with: a key file (chat-keygen --user makes "
          "~/.config/securechat/id_ed25519, used by default when it exists), `agent` (ssh-agent's "
          "first Ed25519 key), `agent:SHA256:...` (that key), or `none` (join as a guest)");
ABSL_FLAG(absl::Duration, connect_timeout, absl::Seconds(10),
          "how long to wait for the server to answer the TCP connection; past it the client "
          "gives up (exit 2, or another try with --reconnect)");
ABSL_FLAG(std::string, download_dir, "~/Downloads/securechat",
          "where files you /accept are kept (made, mode 0700, when the first one comes); "
          "/accept N FOLDER puts one elsewhere");
ABSL_FLAG(absl::Duration, handshake_timeout, absl::Seconds(10),
          "how long the server may take from connect to welcoming us; past it the connection "
          "counts as lost (and is retried with --reconnect)");

namespace {

using securechat::Cat;
using securechat::ClientRunner;
using securechat::ClientSession;

// Fail prints one line to stderr and returns `code`. Takes std:: or absl:: strings.
template <typename Text>
int Fail(int code, const Text& text) {
  const std::string message = Cat(text);
  std::fprintf(stderr, "chat-client: %s\n", message.c_str());
  return code;
}

void PrintLine(std::string_view line) {
  std::fprintf(stdout, "%.*s\n", static_cast<int>(line.size()), line.data());
  std::fflush(stdout);
}

// The flags client.conf may set, by the names the command line uses.
constexpr std::string_view kConfFlags[] = {
    "connect",  "nick",         "server_key",  "server_fingerprint", "trust_on_first_use",
    "identity", "reconnect",    "strict_nick", "handshake_timeout",  "color",
    "bell",     "download_dir",
};
constexpr size_t kMaxClientConfBytes = 64 * 1024;
constexpr size_t kMaxClientConfLineBytes = 1024;

// ApplyClientConf reads ~/.config/securechat/client.conf (the XDG rules of UserConfigDir), if
// there is one: `FLAG VALUE` a line, `#` comments, any of kConfFlags; the command line's flags
// override what it sets. Returns an error naming the file and the line, or nullopt.
std::optional<std::string> ApplyClientConf() {
  auto dir = securechat::net::UserConfigDir();
  if (!dir.ok()) {
    return std::nullopt;
  }
  const std::string path = Cat(*dir, "/client.conf");
  auto text = securechat::net::ReadSmallFile(path, kMaxClientConfBytes);
  if (absl::IsNotFound(text.status())) {
    return std::nullopt;
  }
  if (!text.ok()) {
    return std::string(text.status().message());
  }
  const std::optional<securechat::ConfigLineError> error = securechat::ForEachConfigLine(
      *text, kMaxClientConfBytes, kMaxClientConfLineBytes,
      [](size_t, absl::Span<const std::string_view> fields) -> std::string {
        if (fields.size() != 2) {
          return "expected FLAG VALUE (a flag of chat-client without its --, then one value)";
        }
        const std::string_view name = fields[0];
        if (std::find(std::begin(kConfFlags), std::end(kConfFlags), name) == std::end(kConfFlags)) {
          std::string can;
          for (std::string_view f : kConfFlags) {
            can += Cat(can.empty() ? "" : " ", f);
          }
          return Cat("client.conf cannot set '", name, "' (it can set ", can, ")");
        }
        absl::CommandLineFlag* flag =
            absl::FindCommandLineFlag(absl::string_view(name.data(), name.size()));
        std::string why;
        if (flag == nullptr ||
            !flag->ParseFrom(absl::string_view(fields[1].data(), fields[1].size()), &why)) {
          return Cat("bad value for ", name, ": ", why);
        }
        return "";
      });
  if (error) {
    return Cat(path, ": ", error->Text());
  }
  return std::nullopt;
}

// What the flags ask for, checked.
struct Config {
  std::string nick;
  std::optional<securechat::ServerPublicKey> server_key;  // unset: learned by the gate
  securechat::client::TrustOptions trust;
  securechat::net::HostPort addr;
  uint64_t handshake_timeout_ms = 0;
  uint64_t connect_timeout_ms = 0;
  bool reconnect = false;
  bool strict_nick = false;
  std::unique_ptr<securechat::UserKey> identity;  // null: a guest
};

// AgentUserKey is a user key held by ssh-agent: it signs through the agent's socket.
class AgentUserKey final : public securechat::UserKey {
 public:
  explicit AgentUserKey(securechat::net::AgentSigner agent) : agent_(std::move(agent)) {}
  const securechat::Ed25519Public& public_key() const override { return agent_.public_key(); }
  bool Sign(securechat::ByteView data, securechat::Ed25519Signature* sig,
            std::string* why) override {
    const absl::Status s = agent_.Sign(data, sig);
    if (!s.ok()) {
      *why = Cat("ssh-agent: ", s.message());
    }
    return s.ok();
  }

 private:
  securechat::net::AgentSigner agent_;
};

// LoadIdentity reads the key --identity names into config->identity (or leaves it null for a
// guest). Returns nullopt on success, or the exit code to stop with, having said why.
std::optional<int> LoadIdentity(Config* config) {
  std::string path = securechat::net::ExpandHome(absl::GetFlag(FLAGS_identity));
  if (path == "none") {
    return std::nullopt;
  }
  const bool by_default = path.empty();
  if (by_default) {
    auto dir = securechat::net::UserConfigDir();
    if (!dir.ok()) {
      return std::nullopt;  // no home to look in: a guest
    }
    path = Cat(*dir, "/", securechat::net::kUserKeyFileName);
    if (access(path.c_str(), F_OK) != 0) {
      return std::nullopt;  // no key made yet: a guest
    }
  }
  if (path == "agent" || path.starts_with("agent:")) {
    securechat::net::AgentOptions options;
    if (path.starts_with("agent:")) {
      options.fingerprint = path.substr(std::string_view("agent:").size());
    }
    auto agent = securechat::net::AgentSigner::Open(options);
    if (!agent.ok()) {
      return Fail(securechat::kExitUsage, Cat("--identity=", path, ": ", agent.status().message()));
    }
    PrintLine(Cat("-!- signing with ssh-agent's key ", agent->Describe()));
    config->identity = std::make_unique<AgentUserKey>(std::move(*agent));
    return std::nullopt;
  }
  securechat::KeyLoadError why = securechat::KeyLoadError::kNone;
  auto key = securechat::Ed25519Key::ReadFile(path, nullptr, &why);
  if (why == securechat::KeyLoadError::kNeedsPassphrase && securechat::net::HaveTerminal()) {
    auto asked = securechat::net::AskPassphrase(Cat("passphrase for ", path, ": "));
    if (!asked.ok()) {
      return Fail(securechat::kExitUsage, asked.status().message());
    }
    key = securechat::Ed25519Key::ReadFile(path, &*asked, &why);
  }
  if (!key.ok()) {
    return Fail(
        securechat::kExitUsage,
        Cat(key.status().message(),
            why == securechat::KeyLoadError::kNeedsPassphrase
                ? ": run at a terminal to be asked for its passphrase"
                : "",
            by_default ? " (the default --identity; --identity=none joins as a guest)" : ""));
  }
  config->identity = std::make_unique<securechat::FileUserKey>(std::move(*key));
  return std::nullopt;
}

// ReadServerKeyFlags reads --server_key, or how to judge a key the server sends. Returns
// nullopt if they are good, or the exit code to stop with, having said why on stderr.
std::optional<int> ReadServerKeyFlags(Config* config) {
  const std::string path = securechat::net::ExpandHome(absl::GetFlag(FLAGS_server_key));
  const std::string fingerprint = absl::GetFlag(FLAGS_server_fingerprint);
  config->trust.trust_on_first_use = absl::GetFlag(FLAGS_trust_on_first_use);
  if (!path.empty()) {
    if (!fingerprint.empty() || config->trust.trust_on_first_use) {
      return Fail(securechat::kExitUsage,
                  "--server_key pins the key: it goes without --server_fingerprint and "
                  "--trust_on_first_use");
    }
    auto key = securechat::ServerPublicKey::ReadFile(path);
    if (!key.ok()) {
      return Fail(securechat::kExitUsage, key.status().message());
    }
    config->server_key = std::move(*key);
    return std::nullopt;
  }
  if (!fingerprint.empty()) {
    config->trust.pinned = securechat::ParseFingerprintText(fingerprint);
    if (!config->trust.pinned) {
      return Fail(securechat::kExitUsage,
                  "--server_fingerprint must be SHA256: and 43 characters of base64, as "
                  "chat-server prints it");
    }
    if (config->trust.trust_on_first_use) {
      return Fail(securechat::kExitUsage,
                  "--server_fingerprint pins the key: it goes without --trust_on_first_use");
    }
  }
  config->trust.can_ask = securechat::net::IsTerminal(STDIN_FILENO);
  return std::nullopt;
}

// ReadConfig parses and checks the flags into *config. Returns nullopt if they are good, or
// the exit code to stop with, having said why on stderr.
std::optional<int> ReadConfig(int argc, char** argv, Config* config) {
  if (const auto unexpected = securechat::ParseFlags(argc, argv, ApplyClientConf)) {
    return Fail(securechat::kExitUsage,
                Cat("unexpected argument '", *unexpected, "' (see --help)"));
  }
  config->nick = absl::GetFlag(FLAGS_nick);
  if (config->nick.empty()) {
    return Fail(securechat::kExitUsage,
                "--nick is required (or a line `nick NAME` in client.conf)");
  }
  if (!securechat::IsValidNick(config->nick) || securechat::IsReservedNick(config->nick)) {
    return Fail(securechat::kExitUsage,
                "--nick must be 1 to 32 of A-Z a-z 0-9 _ . - and not 'server'");
  }
  if (const std::optional<int> code = ReadServerKeyFlags(config)) {
    return code;
  }
  auto addr = securechat::net::ParseHostPort(absl::GetFlag(FLAGS_connect));
  if (!addr.ok()) {
    return Fail(securechat::kExitUsage, Cat("--connect: ", addr.status().message()));
  }
  config->addr = std::move(*addr);
  const absl::Duration handshake_timeout = absl::GetFlag(FLAGS_handshake_timeout);
  if (handshake_timeout <= absl::ZeroDuration() || handshake_timeout > absl::Hours(1)) {
    return Fail(securechat::kExitUsage,
                "--handshake_timeout must be a positive duration of at most 1h, like 10s");
  }
  config->handshake_timeout_ms =
      static_cast<uint64_t>(absl::ToInt64Milliseconds(handshake_timeout));
  const absl::Duration connect_timeout = absl::GetFlag(FLAGS_connect_timeout);
  if (connect_timeout <= absl::ZeroDuration() || connect_timeout > absl::Hours(1)) {
    return Fail(securechat::kExitUsage,
                "--connect_timeout must be a positive duration of at most 1h, like 10s");
  }
  config->connect_timeout_ms = static_cast<uint64_t>(absl::ToInt64Milliseconds(connect_timeout));
  config->reconnect = absl::GetFlag(FLAGS_reconnect);
  config->strict_nick = absl::GetFlag(FLAGS_strict_nick);
  return LoadIdentity(config);
}

// FormatterOptions: at a terminal, colour (unless turned off) and the bell if asked for;
// otherwise the plain lines, without timestamps.
securechat::Formatter::Options FormatterOptions(bool interactive) {
  securechat::Formatter::Options options;
  if (interactive) {
    options.color =
        securechat::UseColor(absl::GetFlag(FLAGS_color), securechat::net::IsTerminal(STDOUT_FILENO),
                             std::getenv("NO_COLOR"));
    options.bell = absl::GetFlag(FLAGS_bell);
  } else {
    options.timestamps = false;
  }
  return options;
}

// The runner's network: the one place that uses net/'s client API (connect, the select loop).
// StreamLink runs a session over one connected byte stream, which it closes when destroyed.
class StreamLink final : public ClientRunner::Link {
 public:
  StreamLink(securechat::net::ClientLoop& loop, std::unique_ptr<securechat::net::ByteStream> stream)
      : loop_(loop), stream_(std::move(stream)) {}
  int Run(securechat::ClientConnection& conn) override {
    return loop_.RunConnected(conn, *stream_);
  }

 private:
  securechat::net::ClientLoop& loop_;
  std::unique_ptr<securechat::net::ByteStream> stream_;
};

// NetEnvironment dials over TCP (through the gate, which checks the server's key, when there
// is no key file) and waits offline in the client loop.
class NetEnvironment final : public ClientRunner::Environment {
 public:
  // `loop`, `input` and `gate` (null with a key file) must outlive the environment.
  NetEnvironment(securechat::net::HostPort addr, uint64_t connect_timeout_ms,
                 securechat::net::ClientLoop& loop, const securechat::net::LineInput& input,
                 securechat::net::ServerKeyGate* gate)
      : addr_(std::move(addr)),
        connect_timeout_ms_(connect_timeout_ms),
        loop_(loop),
        input_(input),
        gate_(gate) {}
  absl::StatusOr<std::unique_ptr<ClientRunner::Link>> Dial() override {
    securechat::net::ConnectError error;
    auto stream = gate_ != nullptr ? gate_->Dial()
                                   : securechat::net::DialTcp(addr_, &error, connect_timeout_ms_);
    if (!stream.ok()) {
      return stream.status();
    }
    return std::make_unique<StreamLink>(loop_, std::move(*stream));
  }
  bool WaitOffline(uint64_t ms) override { return loop_.RunOffline(ms); }
  bool InputOpen() const override { return input_.fd() >= 0; }

 private:
  const securechat::net::HostPort addr_;
  const uint64_t connect_timeout_ms_;
  securechat::net::ClientLoop& loop_;
  const securechat::net::LineInput& input_;
  securechat::net::ServerKeyGate* const gate_;
};

// TerminalInput takes lines typed at a terminal: through the paste guard to the runner, into
// the history, with the prompt showing the nick and the room typed lines go to. The paste
// guard's question takes one key; Alt-1..9, Ctrl-N and Ctrl-P choose the room.
class TerminalInput {
 public:
  // The constructor starts the line editor, which shows the prompt and completes commands,
  // the nicks and the rooms the session knows. `runner` must outlive the input.
  explicit TerminalInput(ClientRunner& runner) : runner_(runner) {
    shown_prompt_ = Prompt();
    editor_ = securechat::tty::LineEditor::Start(
        shown_prompt_, [this, &runner](std::string_view word, size_t word_start) {
          return securechat::CompletionCandidates(
              word, word_start, editor_->TypedLine(), ClientSession::Commands(),
              runner.session().KnownNicks(), runner.session().KnownRooms());
        });
    editor_->SetHotKeys([this](securechat::tty::HotKey key) { HotKey(key); });
  }

  securechat::tty::LineEditor& editor() { return *editor_; }

  // Hooks returns the client loop's hooks for a terminal: typed lines, the end of input and
  // the paste guard's timer.
  securechat::net::ClientLoop::Hooks Hooks() {
    securechat::net::ClientLoop::Hooks hooks;
    hooks.line = [this](std::string_view line) {
      if (!line.empty()) {
        editor_->AddHistory(std::string(line));
      }
      Apply(guard_.Typed(std::string(line), securechat::net::MonotonicMs()));
      RefreshPrompt();
    };
    hooks.eof = [this] {
      Apply(guard_.Tick(securechat::net::MonotonicMs() + securechat::PasteGuard::kBurstMs));
      runner_.InputEof();
    };
    hooks.ms_until_timer = [this] { return guard_.MsUntilTick(securechat::net::MonotonicMs()); };
    hooks.timer = [this] {
      editor_->RedrawAfterSignals();
      Apply(guard_.Tick(securechat::net::MonotonicMs()));
      RefreshPrompt();
    };
    hooks.stop = [this] { return runner_.quit(); };
    return hooks;
  }

  // RefreshPrompt shows the nick and the room as they are now; with more than one room joined,
  // Ctrl-N and Ctrl-P go through them (else they keep going through the input history).
  void RefreshPrompt() {
    if (editor_ == nullptr) {
      return;
    }
    if (std::string prompt = Prompt(); prompt != shown_prompt_) {
      shown_prompt_ = std::move(prompt);
      editor_->SetPrompt(shown_prompt_);
    }
    // The progress of file transfers, on its own row over the prompt, redrawn in place, with
    // the line being typed, never between the chat's lines.
    editor_->SetStatus(runner_.session().TransferStatus());
    editor_->SetCycleKeys(runner_.session().Rooms().size() > 1);
  }

 private:
  // The room is shown when it is not #lobby: a client in #lobby alone looks as it always did.
  std::string Prompt() const {
    ClientSession& session = runner_.session();
    if (session.current_room() == securechat::proto::kLobby) {
      return Cat("[", session.nick(), "] ");
    }
    return Cat("[", session.nick(), " ", session.current_room(), "] ");
  }
  void HotKey(securechat::tty::HotKey key) {
    ClientSession& session = runner_.session();
    switch (key) {
      case securechat::tty::HotKey::kNext:
        session.SwitchRoomBy(1);
        break;
      case securechat::tty::HotKey::kPrevious:
        session.SwitchRoomBy(-1);
        break;
      default:
        session.SwitchToRoom(static_cast<size_t>(key));  // kAlt1 is 1, ... kAlt9 is 9
        break;
    }
    RefreshPrompt();
  }
  void Apply(const securechat::PasteGuard::Result& r) {
    if (editor_->asking() && !guard_.asking()) {
      editor_->EndAsk();  // answered: the prompt is back before the lines go out
    }
    for (const std::string& line : r.send) {
      runner_.InputLine(line);
    }
    if (r.dropped > 0) {
      runner_.session().ShowNotice(Cat(r.dropped, " pasted lines not sent"));
    }
    if (r.ask > 0) {
      // One key answers; the line being edited (a paste's last line, without its newline)
      // waits under the question and comes back after it.
      editor_->AskKey(Cat("send ", r.ask, " pasted lines? [y/N] "), [this](std::string_view keys) {
        Apply(guard_.Key(keys));
        RefreshPrompt();
      });
    }
  }

  ClientRunner& runner_;
  securechat::PasteGuard guard_;
  std::string shown_prompt_;
  std::unique_ptr<securechat::tty::LineEditor> editor_;
};

// PipeHooks: lines from a pipe or a file go straight to the runner.
securechat::net::ClientLoop::Hooks PipeHooks(ClientRunner& runner) {
  securechat::net::ClientLoop::Hooks hooks;
  hooks.line = [&runner](std::string_view line) { runner.InputLine(line); };
  hooks.eof = [&runner] { runner.InputEof(); };
  hooks.stop = [&runner] { return runner.quit(); };
  return hooks;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the securechat terminal client.\n"
      "usage: chat-client --nick=NAME [--connect=127.0.0.1:5555]\n"
      "                   [--server_key=PEM | --server_fingerprint=SHA256:... |\n"
      "                    --trust_on_first_use] [--reconnect] [--bell]\n"
      "                   [--nocolor] [--handshake_timeout=10s]\n"
      "                   [--download_dir=~/Downloads/securechat]\n"
      "                   [--identity=~/.config/securechat/id_ed25519|agent|none]\n"
      "Type a line to say it to the room; /help lists the commands. At a terminal, lines can\n"
      "be edited, Up and Down recall earlier ones, Ctrl-R searches them and Tab completes\n"
      "commands and nicks; a paste of more than 5 lines asks first (one key: y or n). With\n"
      "stdin a pipe or a file, each line is sent, then the client says goodbye and exits.\n"
      "What was said just before you joined is shown first, dimmed (in a pipe or without\n"
      "colour: after \"(history) \"), up to \"-!- end of history\".\n"
      "Without --server_key the server's key is checked as ssh checks host keys, against\n"
      "~/.config/securechat/known_servers; an unknown server is asked about at a terminal.\n"
      "Exit codes: 0 ok, 1 usage, 2 cannot connect, 3 server key refused or not confirmed,\n"
      "4 server full, 5 nick refused, 6 connection lost, 7 unsupported protocol version,\n"
      "8 left normally but some lines were refused, 9 the server refused our key.");
  Config config;
  if (const std::optional<int> code = ReadConfig(argc, argv, &config)) {
    return *code;
  }
  const bool interactive = securechat::net::IsTerminal(STDIN_FILENO);
  // Without a key file, the first connection learns the server's key and judges it before
  // anything else is shown; every later one must meet the same key.
  std::unique_ptr<securechat::net::ServerKeyGate> gate;
  if (!config.server_key) {
    gate = std::make_unique<securechat::net::ServerKeyGate>(
        config.addr, absl::GetFlag(FLAGS_connect), config.trust, config.handshake_timeout_ms,
        config.connect_timeout_ms);
    const auto refusal = gate->FirstContact([](std::string_view text) {
      std::fprintf(stderr, "%.*s\n", static_cast<int>(text.size()), text.data());
    });
    if (refusal) {
      return Fail(refusal->code, refusal->message);
    }
  }
  const securechat::ServerPublicKey& server_key = gate ? gate->key() : *config.server_key;

  // Where display lines go: formatted above the prompt, or plain lines on stdout. Whatever
  // goes to a terminal is laid out at its current width, so the terminal never wraps a line
  // itself; a pipe or a file gets one line per message.
  std::unique_ptr<TerminalInput> terminal;
  const securechat::Formatter formatter(FormatterOptions(interactive),
                                        securechat::net::LocalHourMinute,
                                        securechat::net::WallClockMs);
  ClientSession::Display display = [&terminal, &formatter](const securechat::DisplayLine& l) {
    const std::vector<std::string> rows =
        formatter.FormatRows(l, securechat::net::TerminalColumns(STDOUT_FILENO));
    if (terminal != nullptr) {
      // What changes the nick or the room is shown as a notice: the prompt follows it.
      terminal->RefreshPrompt();
      terminal->editor().PrintAbove(rows);
      return;
    }
    for (const std::string& row : rows) {
      PrintLine(row);
    }
  };

  securechat::OsRandom rng;
  securechat::net::LocalFileSystem files;  // outlives the runner's session, which uses it
  ClientRunner runner(server_key, rng,
                      {.reconnect = config.reconnect, .address = absl::GetFlag(FLAGS_connect)},
                      config.nick, std::move(display), securechat::net::MonotonicMs);
  runner.session().set_who_on_join(interactive);
  // The editor takes an entered line off the screen; the session shows it when it is sent.
  runner.session().set_show_own_lines(interactive);
  runner.session().set_handshake_timeout_ms(config.handshake_timeout_ms);
  runner.session().set_alternate_nicks(!config.strict_nick);
  runner.session().set_user_key(config.identity.get());
  runner.session().set_files(&files, absl::GetFlag(FLAGS_download_dir));
  runner.session().set_progress_in_place(interactive);

  std::unique_ptr<securechat::net::FdLineInput> pipe_input;
  securechat::net::LineInput* input = nullptr;
  securechat::net::ClientLoop::Hooks hooks;
  if (interactive) {
    terminal = std::make_unique<TerminalInput>(runner);
    input = &terminal->editor();
    hooks = terminal->Hooks();
  } else {
    // A piped line longer than any command with a whole message's text is dropped unread.
    pipe_input = std::make_unique<securechat::net::FdLineInput>(STDIN_FILENO,
                                                                4 * securechat::proto::kMaxTextLen);
    input = pipe_input.get();
    hooks = PipeHooks(runner);
  }
  securechat::net::ClientLoop loop(runner.session(), input, std::move(hooks));
  NetEnvironment env(config.addr, config.connect_timeout_ms, loop, *input, gate.get());
  const int code = runner.Run(env);
  terminal.reset();
  if (!runner.final_message().empty()) {
    Fail(code, runner.final_message());
  }
  return code;
}
