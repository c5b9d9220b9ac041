// ScriptedServer: the server side of one connection, driven by a test to say what no honest
// server says. It is the real ServerConnection with the 2048-bit test key (so chat-client and
// ClientSession complete a genuine handshake with it), and it WELCOMEs a JOIN; everything
// else it sends is up to the test. It has no socket: bytes go in through Receive and come out
// of output().
#ifndef SECURECHAT_TESTS_SUPPORT_SCRIPTED_SERVER_H_
#define SECURECHAT_TESTS_SUPPORT_SCRIPTED_SERVER_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "securechat/client/session.h"
#include "securechat/crypto/random.h"
#include "securechat/engine/client_connection.h"
#include "securechat/engine/server_connection.h"
#include "securechat/wire/message.h"
#include "support/in_memory.h"

namespace securechat::testing {

class ScriptedServer {
 public:
  ScriptedServer() : conn_(TestKey2048(), rng_) {}

  // Receive takes bytes from the client: answers the CLIENT_HELLO and WELCOMEs a JOIN (with
  // "1 online"). Returns false once the connection is closed.
  bool Receive(ByteView in) {
    ByteView plaintext;
    for (;;) {
      switch (conn_.Next(&in, &plaintext)) {
        case ServerConnection::Step::kNeedMore:
          return true;
        case ServerConnection::Step::kClose:
          return false;
        case ServerConnection::Step::kHelloReady:
          if (!conn_.CompleteHandshake()) {
            return false;
          }
          break;
        case ServerConnection::Step::kMessage: {
          msg::ClientMessage m;
          if (msg::DecodeClientMessage(plaintext, &m) == msg::DecodeStatus::kOk) {
            if (const auto* join = std::get_if<msg::Join>(&m)) {
              joined_nick_ = std::string(join->nick);
              if (!Send(msg::Welcome{joined_nick_, "", 1})) {
                return false;
              }
            }
          }
          break;
        }
      }
    }
  }

  // Exchange moves bytes both ways between this server and the client `conn` until neither
  // side has anything to send. `session`, the session on `conn`, reads what comes for it until
  // it has finished.
  void Exchange(ClientConnection& conn, ClientSession& session) {
    for (bool moved = true; moved;) {
      moved = false;
      if (ByteView out = conn.output().pending(); !out.empty()) {
        const std::vector<uint8_t> copy(out.begin(), out.end());
        conn.output().Consume(copy.size());
        Receive(copy);
        moved = true;
      }
      if (ByteView in = output().pending(); !in.empty()) {
        const std::vector<uint8_t> copy(in.begin(), in.end());
        output().Consume(copy.size());
        if (!session.finished()) {
          session.Received(copy);
        }
        moved = true;
      }
    }
  }

  // Send seals one message for the client. Returns false before the handshake is done.
  [[nodiscard]] bool Send(const msg::ServerMessage& m) { return conn_.Send(m); }

  // The nick of the last JOIN ("" before one).
  const std::string& joined_nick() const { return joined_nick_; }
  bool established() const { return conn_.state() == ServerConnection::State::kEstablished; }
  OutputQueue& output() { return conn_.output(); }

 private:
  OsRandom rng_;
  ServerConnection conn_;
  std::string joined_nick_;
};

}  // namespace securechat::testing

#endif  // SECURECHAT_TESTS_SUPPORT_SCRIPTED_SERVER_H_
