// ClientRunner: the client from its first connection attempt to its exit. It owns the session
// and the connection engine under it, asks its Environment to connect and to wait, and with
// reconnect on tries again after what a retry can mend, waiting longer each time (Backoff),
// and rejoins with the same nick. It makes no system calls: the program gives it the network
// and the clock of the offline wait, tests give it fakes.
#ifndef SECURECHAT_CLIENT_RUNNER_H_
#define SECURECHAT_CLIENT_RUNNER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "securechat/client/interactive.h"
#include "securechat/client/session.h"
#include "securechat/crypto/keys.h"
#include "securechat/crypto/random.h"
#include "securechat/engine/client_connection.h"

namespace securechat {

class ClientRunner {
 public:
  // Link is one connection to the server, made by Environment::Dial and closed when destroyed.
  class Link {
   public:
    virtual ~Link() = default;
    // Run carries the runner's session over this connection, with `conn` as its engine, until
    // the session finishes (ClientSession::finished); typed lines go to InputLine and
    // InputEof meanwhile. Returns the session's exit code.
    virtual int Run(ClientConnection& conn) = 0;
  };

  // Environment is what the runner needs from the world outside it.
  class Environment {
   public:
    virtual ~Environment() = default;
    // Dial connects to the server. A failure's message is shown to the user as it is
    // ("cannot connect to 127.0.0.1:5555: Connection refused") and counts as exit code 2,
    // except PermissionDenied: the server sent a key other than the one the client accepted
    // (PROTOCOL.md 4.8), exit code 3, never retried.
    virtual absl::StatusOr<std::unique_ptr<Link>> Dial() = 0;
    // WaitOffline serves the input without a connection for `ms` milliseconds (typed lines go
    // to InputLine, the end of input to InputEof). Returns false if it stopped early: the
    // input ended or quit() became true.
    virtual bool WaitOffline(uint64_t ms) = 0;
    // InputOpen is false once the input has ended.
    virtual bool InputOpen() const = 0;
  };

  struct Options {
    bool reconnect = false;  // retry what Retryable allows instead of exiting
    // The server, as shown in "connected to ADDRESS; server key ..." once the handshake has
    // confirmed its key.
    std::string address;
  };

  // `server_key` and `rng` must outlive the runner. The session is made here, as
  // ClientSession(conn, nick, display, clock) on the runner's first connection engine.
  ClientRunner(const ServerPublicKey& server_key, RandomSource& rng, Options options,
               std::string nick, ClientSession::Display display, ClientSession::Clock clock = {});

  // Run connects and runs sessions, with the waits between them, until the client is done.
  // Returns the exit code (ExitCode); final_message() then says why ("" when there is
  // nothing to say). Called once.
  int Run(Environment& env);

  // InputLine hands a typed line to the session while connected. Offline, only the local
  // commands work (ClientSession::OfflineLine) and /quit makes quit() true.
  void InputLine(std::string_view line);
  // InputEof: the input ended. While connected the session says goodbye once its lines are
  // out; offline the client is done (quit() becomes true).
  void InputEof();

  // quit is true once the user has left while there was no connection.
  bool quit() const { return quit_; }
  // connected is true while a connection is up (Link::Run), its handshake done or not.
  bool connected() const { return connected_; }
  ClientSession& session() { return session_; }
  const ClientSession& session() const { return session_; }
  // The one-line reason for Run's exit code ("" on success).
  const std::string& final_message() const { return final_message_; }

  // Retryable says whether a connection that ended with exit code `code` is worth another
  // try. A refused nick is, only after a join that worked (`ever_joined`): the server may
  // still hold our old connection. A wrong server key or protocol version never gets better
  // by retrying, nor does a session that ended well.
  static bool Retryable(int code, bool ever_joined);

 private:
  // Attempt makes one connection attempt and runs the session over it if the dial works.
  // Returns the exit code; sets final_message_.
  int Attempt(Environment& env);

  const ServerPublicKey& server_key_;
  RandomSource& rng_;
  const Options options_;
  std::unique_ptr<ClientConnection> conn_;
  bool conn_used_ = false;  // conn_ has carried a connection: the next attempt needs a new one
  ClientSession session_;
  Backoff backoff_;
  bool ever_joined_ = false;
  bool connected_ = false;
  bool quit_ = false;
  std::string final_message_;
};

}  // namespace securechat

#endif  // SECURECHAT_CLIENT_RUNNER_H_
