// ClientSession: what the terminal client does with a connection, without a socket or a
// terminal. It joins with the chosen nick, turns typed lines into messages, turns server
// messages into display lines (every byte from the network escaped), and decides when the
// program is done and with which exit code.
#ifndef SECURECHAT_CLIENT_SESSION_H_
#define SECURECHAT_CLIENT_SESSION_H_

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

  using Clock = std::function<uint64_t()>;  // monotonic milliseconds

  // The client's own pace, a little under the server's default limit (5 per second, bursts
  // of 10), so that a pasted or piped batch of lines is sent whole instead of being refused.
  static constexpr double kSendRate = 4;
  static constexpr double kSendBurst = 8;
  // The client PINGs after this long without sending, so the server's idle timeout (300 s by
  // default) never closes a healthy quiet client.
  static constexpr uint64_t kKeepaliveMs = 60'000;

  // `conn` must outlive the session; `print` receives one display line at a time. With a
  // clock, lines are paced and keepalive PINGs are sent (see Tick); without one, neither.
  ClientSession(ClientConnection& conn, std::string nick, Printer print, Clock clock = {});

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

  bool finished() const { return finished_; }
  int exit_code() const { return exit_code_; }
  // The one-line reason to show when the session ended with an error ("" on success).
  const std::string& final_message() const { return final_message_; }
  bool joined() const { return joined_; }

  // The lines /help prints.
  static std::vector<std::string> HelpLines();

 private:
  void HandleMessage(const msg::ServerMessage& m);
  void Execute(std::string_view line);
  void SendOrFail(const msg::ClientMessage& m);
  void Finish(int code, std::string message);
  void FlushQueued();

  ClientConnection& conn_;
  std::string nick_;
  Printer print_;
  Clock clock_;
  TokenBucket pace_{kSendRate, kSendBurst};
  uint64_t last_sent_ms_ = 0;
  bool joined_ = false;
  bool input_done_ = false;
  bool bye_sent_ = false;
  bool finished_ = false;
  bool shutting_down_ = false;  // the server announced ERROR 9
  int exit_code_ = kExitOk;
  std::string final_message_;
  std::deque<std::string> queued_;  // lines typed before the server welcomed us
  std::vector<std::string> who_;    // USERS pages collected until the last one
};

}  // namespace securechat

#endif  // SECURECHAT_CLIENT_SESSION_H_
