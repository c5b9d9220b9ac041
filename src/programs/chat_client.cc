// chat-client: the securechat terminal client.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/time/time.h"
#include "programs/flags.h"
#include "securechat/base/cat.h"
#include "securechat/client/display.h"
#include "securechat/client/interactive.h"
#include "securechat/client/session.h"
#include "securechat/crypto/keys.h"
#include "securechat/net/client_loop.h"
#include "securechat/net/socket.h"
#include "securechat/net/tcp.h"
#include "securechat/net/terminal.h"
#include "securechat/tty/line_editor.h"
#include "securechat/wire/protocol.h"
#include "securechat/wire/text.h"

ABSL_FLAG(std::string, connect, "127.0.0.1:5555", "server address: HOST:PORT or [IPv6]:PORT");
ABSL_FLAG(std::string, server_key, "keys/server_public.pem",
          "the server's public key (PEM); the client talks only to the holder of its private key");
ABSL_FLAG(std::string, nick, "", "your nick (required): 1 to 32 of A-Z a-z 0-9 _ . -");
ABSL_FLAG(bool, color, true,
          "colour at a terminal (only when stdout is a terminal and NO_COLOR is unset); "
          "--nocolor turns it off");
ABSL_FLAG(bool, bell, false,
          "ring the terminal bell on private messages and lines that mention your nick");
ABSL_FLAG(bool, reconnect, false,
          "when the connection is lost, reconnect (1 s doubling to 30 s, with jitter) and rejoin "
          "with the same nick");
ABSL_FLAG(absl::Duration, handshake_timeout, absl::Seconds(10),
          "how long the server may take from connect to welcoming us; past it the connection "
          "counts as lost (and is retried with --reconnect)");

namespace {

using securechat::Cat;
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

// Retryable says whether --reconnect should try again after a connection ended with `code`.
// A refused nick is retried only after a join that worked: the server may still hold our old
// connection. A wrong server key or protocol version never gets better by retrying.
bool Retryable(int code, bool ever_joined) {
  switch (code) {
    case securechat::kExitCannotConnect:
    case securechat::kExitServerFull:
    case securechat::kExitConnectionLost:
      return true;
    case securechat::kExitNickRefused:
      return ever_joined;
    default:
      return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the securechat terminal client.\n"
      "usage: chat-client --nick=NAME [--connect=127.0.0.1:5555]\n"
      "                   [--server_key=keys/server_public.pem] [--reconnect] [--bell]\n"
      "                   [--nocolor] [--handshake_timeout=10s]\n"
      "Type a line to say it to the room; /help lists the commands. At a terminal, lines can\n"
      "be edited, Up and Down recall earlier ones and Tab completes commands and nicks. With\n"
      "stdin a pipe or a file, each line is sent, then the client says goodbye and exits.\n"
      "Exit codes: 0 ok, 1 usage, 2 cannot connect, 3 server key confirmation failed,\n"
      "4 server full, 5 nick refused, 6 connection lost, 7 unsupported protocol version.");
  if (const auto unexpected = securechat::ParseFlags(argc, argv)) {
    return Fail(securechat::kExitUsage,
                Cat("unexpected argument '", *unexpected, "' (see --help)"));
  }
  const std::string nick = absl::GetFlag(FLAGS_nick);
  if (nick.empty()) {
    return Fail(securechat::kExitUsage, "--nick is required");
  }
  if (!securechat::IsValidNick(nick) || securechat::IsReservedNick(nick)) {
    return Fail(securechat::kExitUsage,
                "--nick must be 1 to 32 of A-Z a-z 0-9 _ . - and not 'server'");
  }
  auto key = securechat::ServerPublicKey::ReadFile(absl::GetFlag(FLAGS_server_key));
  if (!key.ok()) {
    return Fail(securechat::kExitUsage, key.status().message());
  }
  auto addr = securechat::net::ParseHostPort(absl::GetFlag(FLAGS_connect));
  if (!addr.ok()) {
    return Fail(securechat::kExitUsage, Cat("--connect: ", addr.status().message()));
  }
  const absl::Duration handshake_timeout = absl::GetFlag(FLAGS_handshake_timeout);
  if (handshake_timeout <= absl::ZeroDuration() || handshake_timeout > absl::Hours(1)) {
    return Fail(securechat::kExitUsage,
                "--handshake_timeout must be a positive duration of at most 1h, like 10s");
  }
  const bool reconnect = absl::GetFlag(FLAGS_reconnect);
  const bool interactive = securechat::net::IsTerminal(STDIN_FILENO);

  securechat::OsRandom rng;
  auto conn = std::make_unique<securechat::ClientConnection>(*key, rng);

  // Where display lines go: formatted above the prompt, or plain lines on stdout. Whatever
  // goes to a terminal is laid out at its current width, so the terminal never wraps a line
  // itself; a pipe or a file gets one line per message.
  std::unique_ptr<securechat::tty::LineEditor> editor;
  securechat::Formatter::Options options;
  if (interactive) {
    options.color =
        securechat::UseColor(absl::GetFlag(FLAGS_color), securechat::net::IsTerminal(STDOUT_FILENO),
                             std::getenv("NO_COLOR"));
    options.bell = absl::GetFlag(FLAGS_bell);
  } else {
    options.timestamps = false;  // the plain lines
  }
  const securechat::Formatter formatter(options, securechat::net::LocalHourMinute,
                                        securechat::net::WallClockMs);
  ClientSession::Display display = [&editor, &formatter](const securechat::DisplayLine& l) {
    const std::vector<std::string> rows =
        formatter.FormatRows(l, securechat::net::TerminalColumns(STDOUT_FILENO));
    if (editor != nullptr) {
      editor->PrintAbove(rows);
      return;
    }
    for (const std::string& row : rows) {
      PrintLine(row);
    }
  };
  ClientSession session(*conn, nick, display, securechat::net::MonotonicMs);
  session.set_who_on_join(interactive);
  session.set_handshake_timeout_ms(
      static_cast<uint64_t>(absl::ToInt64Milliseconds(handshake_timeout)));

  // Typed lines: straight to the session from a pipe; through the paste guard at a terminal.
  securechat::PasteGuard guard;
  bool connected = false;
  bool quit = false;  // the user quit while there was no connection
  auto deliver = [&](std::string_view line) {
    if (connected) {
      session.InputLine(line);
    } else if (session.OfflineLine(line)) {
      quit = true;
    }
  };
  auto prompt = [&] {
    return guard.asking() ? Cat("send ", guard.held(), " lines? [y/N] ")
                          : Cat("[", session.nick(), "] ");
  };
  std::string shown_prompt;
  auto apply = [&](securechat::PasteGuard::Result r) {
    for (const std::string& line : r.send) {
      deliver(line);
    }
    if (r.dropped > 0) {
      session.ShowNotice(Cat(r.dropped, " pasted lines not sent"));
    }
  };
  auto refresh_prompt = [&] {
    if (editor != nullptr && prompt() != shown_prompt) {
      shown_prompt = prompt();
      editor->SetPrompt(shown_prompt);
    }
  };

  std::unique_ptr<securechat::net::FdLineInput> pipe_input;
  securechat::net::ClientLoop::Hooks hooks;
  securechat::net::LineInput* input = nullptr;
  if (interactive) {
    shown_prompt = prompt();
    editor = securechat::tty::LineEditor::Start(
        shown_prompt, [&session](std::string_view word, size_t word_start) {
          return securechat::CompletionCandidates(word, word_start, ClientSession::Commands(),
                                                  session.KnownNicks());
        });
    input = editor.get();
    hooks.line = [&](std::string_view line) {
      if (!guard.asking() && !line.empty()) {
        editor->AddHistory(std::string(line));
      }
      apply(guard.Typed(std::string(line), securechat::net::MonotonicMs()));
      refresh_prompt();
    };
    hooks.eof = [&] {
      apply(guard.Tick(securechat::net::MonotonicMs() + securechat::PasteGuard::kBurstMs));
      if (connected) {
        session.InputEof();
      } else {
        quit = true;
      }
    };
    hooks.ms_until_timer = [&] { return guard.MsUntilTick(securechat::net::MonotonicMs()); };
    hooks.timer = [&] {
      editor->RedrawAfterSignals();
      apply(guard.Tick(securechat::net::MonotonicMs()));
      refresh_prompt();
    };
  } else {
    // A piped line longer than any command with a whole message's text is dropped unread.
    pipe_input = std::make_unique<securechat::net::FdLineInput>(STDIN_FILENO,
                                                                4 * securechat::proto::kMaxTextLen);
    input = pipe_input.get();
    hooks.line = deliver;
    hooks.eof = [&] {
      if (connected) {
        session.InputEof();
      } else {
        quit = true;
      }
    };
  }
  hooks.stop = [&] { return quit; };
  securechat::net::ClientLoop loop(session, input, std::move(hooks));

  securechat::Backoff backoff;
  std::minstd_rand jitter(static_cast<uint32_t>(securechat::net::MonotonicMs()));
  bool first = true;
  bool ever_joined = false;
  int rc = securechat::kExitOk;
  std::string final_message;
  for (;;) {
    if (!first) {
      conn = std::make_unique<securechat::ClientConnection>(*key, rng);
    }
    if (!conn->Start()) {
      editor.reset();
      return Fail(securechat::kExitUsage, "cannot build the handshake with this server key");
    }
    securechat::net::ConnectError connect_error;
    auto socket = securechat::net::DialTcp(*addr, &connect_error);
    if (socket.ok()) {
      session.ShowNotice(
          Cat("connected to ", absl::GetFlag(FLAGS_connect), "; server key ", key->Fingerprint()));
      if (!first) {
        session.Reattach(*conn);
      }
      first = false;
      connected = true;
      rc = loop.RunConnected(*conn, **socket);
      connected = false;
      final_message = session.final_message();
      if (session.joined()) {
        ever_joined = true;
        backoff.Reset();
      }
    } else {
      rc = securechat::kExitCannotConnect;
      final_message = Cat(socket.status().message());
    }
    if (!reconnect || !Retryable(rc, ever_joined) || input == nullptr || input->fd() < 0) {
      break;
    }
    const uint64_t delay = backoff.NextMs(static_cast<uint32_t>(jitter()));
    session.ShowError(Cat(final_message, "; reconnecting in ", securechat::FormatSeconds(delay)));
    if (!loop.RunOffline(delay)) {
      rc = securechat::kExitOk;
      final_message.clear();
      break;
    }
  }
  editor.reset();
  if (!final_message.empty()) {
    Fail(rc, final_message);
  }
  return rc;
}
