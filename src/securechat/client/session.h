// ClientSession: what the terminal client does with a connection, without a socket or a
// terminal. It joins with the chosen nick, turns typed lines into messages, turns server
// messages into display lines (every byte from the network escaped), keeps what lasts for the
// whole session (the nick, the nicks it has seen, the ignore list) across reconnections, and
// decides when the program is done and with which exit code.
#ifndef SECURECHAT_CLIENT_SESSION_H_
#define SECURECHAT_CLIENT_SESSION_H_

#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "securechat/client/display.h"
#include "securechat/engine/client_connection.h"
#include "securechat/engine/token_bucket.h"

namespace securechat {

// The client's exit codes; README.md lists them.
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,           // bad flags, unreadable key file
  kExitCannotConnect = 2,   // connection refused, host unreachable, name not found
  kExitConfirmFailed = 3,   // server key confirmation failed
  kExitServerFull = 4,      // ALERT 1 or 3
  kExitNickRefused = 5,     // ERROR 3 or 4 in answer to JOIN
  kExitConnectionLost = 6,  // closed, reset, protocol error, fatal ERROR, shutdown
  kExitVersion = 7,         // ALERT 2: the server does not speak this version
};

class ClientSession {
 public:
  using Printer = std::function<void(std::string_view line)>;
  using Display = std::function<void(const DisplayLine& line)>;

  using Clock = std::function<uint64_t()>;  // monotonic milliseconds

  // The client's own pace, a little under the server's default limit (5 per second, bursts
  // of 10), so that a pasted or piped batch of lines is sent whole instead of being refused.
  static constexpr double kSendRate = 4;
  static constexpr double kSendBurst = 8;
  // The client PINGs after this long without sending, so the server's idle timeout (300 s by
  // default) never closes a healthy quiet client.
  static constexpr uint64_t kKeepaliveMs = 60'000;

  // `conn` must outlive the session (or its Reattach); `print` receives one plain display
  // line at a time (PlainLine). With a clock, lines are paced and keepalive PINGs are sent
  // (see Tick); without one, neither.
  ClientSession(ClientConnection& conn, std::string nick, Printer print, Clock clock = {});
  // The same with structured lines, for a formatter.
  ClientSession(ClientConnection& conn, std::string nick, Display display, Clock clock = {});

  // With `on`, the session asks for the list of who is online as soon as it has joined, so
  // that their nicks complete at once (interactive mode).
  void set_who_on_join(bool on) { who_on_join_ = on; }

  // Reattach starts over on a fresh connection (`conn` must outlive the session): joined,
  // finished and the exit code are reset; the nick (as last renamed), the nicks seen, the
  // ignore list and lines not yet sent are kept. The next WELCOME says "rejoined".
  void Reattach(ClientConnection& conn);

  // Received feeds bytes from the server.
  void Received(ByteView bytes);
  // ServerClosed: the server closed the connection (or the socket failed).
  void ServerClosed();
  // InputLine handles one typed line (without its newline).
  void InputLine(std::string_view line);
  // InputEof: no more input. Queued lines are sent, then BYE.
  void InputEof();
  // Tick sends what the pace allows and the keepalive PING when due.
  void Tick();
  // MsUntilTick: how long the caller may wait before Tick has work (nullopt: nothing timed).
  std::optional<uint64_t> MsUntilTick();
  // OfflineLine handles a line typed while there is no connection (waiting to reconnect):
  // /help, /ignore and /unignore work, /quit returns true, anything else is refused with a
  // note and never queued.
  bool OfflineLine(std::string_view line);
  // ShowNotice and ShowError display a client-side "-!- text" or "!! text" line; `text` must
  // not hold bytes from the network unless escaped.
  void ShowNotice(std::string text);
  void ShowError(std::string text);

  bool finished() const { return finished_; }
  int exit_code() const { return exit_code_; }
  // The one-line reason to show when the session ended with an error ("" on success).
  const std::string& final_message() const { return final_message_; }
  bool joined() const { return joined_; }
  // The nick we have (or asked for, before the first WELCOME), following renames.
  const std::string& nick() const { return nick_; }

  // KnownNicks: the other nicks seen (WELCOME, USERS, join, leave and rename notices, CHAT
  // senders), sorted, for completion.
  std::vector<std::string> KnownNicks() const;
  // The ignored nicks, sorted.
  const std::set<std::string>& ignored() const { return ignored_; }

  // The lines /help prints.
  static std::vector<std::string> HelpLines();
  // The command names, with their '/', for completion.
  static std::vector<std::string> Commands();

 private:
  void HandleMessage(const msg::ServerMessage& m);
  void HandleNotice(std::string_view text);
  void Execute(std::string_view line);
  // ExecuteLocal runs /help, /ignore and /unignore; false if `command` is none of them.
  bool ExecuteLocal(std::string_view command, std::string_view rest);
  void Show(DisplayLine::Kind kind, std::string text);
  void SendOrFail(const msg::ClientMessage& m);
  void Finish(int code, std::string message);
  void FlushQueued();

  ClientConnection* conn_;
  std::string nick_;
  Display display_;
  Clock clock_;
  TokenBucket pace_{kSendRate, kSendBurst};
  uint64_t last_sent_ms_ = 0;
  bool joined_ = false;
  bool rejoining_ = false;
  bool who_on_join_ = false;  // Reattach was called: the next WELCOME is a rejoin
  bool input_done_ = false;
  bool bye_sent_ = false;
  bool finished_ = false;
  bool shutting_down_ = false;  // the server announced ERROR 9
  int exit_code_ = kExitOk;
  std::string final_message_;
  std::deque<std::string> queued_;    // lines typed before the server welcomed us
  std::vector<std::string> who_;      // USERS pages collected until the last one (escaped)
  std::vector<std::string> who_raw_;  // the same nicks as received, for nicks_
  std::set<std::string> nicks_;       // other nicks seen, valid nicks only
  std::set<std::string> ignored_;     // CHAT from these nicks is not shown
};

}  // namespace securechat

#endif  // SECURECHAT_CLIENT_SESSION_H_
