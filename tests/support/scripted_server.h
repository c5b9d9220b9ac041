// ScriptedServer: the server side of one connection, driven by a test to say what no honest
// server says. It is the real ServerConnection with the 2048-bit test key (so chat-client and
// ClientSession complete a genuine handshake with it), and it WELCOMEs a JOIN (after it, a
// HISTORY_END if the test set one and the client sent HISTORY); it takes HISTORY silently, or
// answers it as a server from before HISTORY would; everything else it sends is up to the
// test. It has no socket: bytes go in through Receive and come out
// of output().
#ifndef SECURECHAT_TESTS_SUPPORT_SCRIPTED_SERVER_H_
#define SECURECHAT_TESTS_SUPPORT_SCRIPTED_SERVER_H_

#include <cstdint>
#include <deque>
#include <optional>
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
            received_.push_back(std::visit([](const auto& x) { return x.kKind; }, m));
            plaintexts_.emplace_back(plaintext.begin(), plaintext.end());
            if (const auto* history = std::get_if<msg::History>(&m)) {
              history_ = *history;
              if (!knows_history_ &&
                  !Send(msg::Error{proto::ErrorCode::kUnknownKind, 0, "unknown message kind"})) {
                return false;
              }
            }
            if (const auto* join = std::get_if<msg::Join>(&m)) {
              joined_nick_ = std::string(join->nick);
              if (!Send(msg::Welcome{joined_nick_, "", 1})) {
                return false;
              }
              if (history_ && knows_history_ && history_end_ && !Send(*history_end_)) {
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
  // The kinds of the client's messages, in the order received.
  const std::vector<proto::Kind>& received() const { return received_; }
  // Got returns the client's messages of type T, in the order received; their views point
  // into this server, which keeps every message it was sent.
  template <typename T>
  std::vector<T> Got() const {
    std::vector<T> out;
    for (const std::vector<uint8_t>& p : plaintexts_) {
      msg::ClientMessage m;
      if (msg::DecodeClientMessage(p, &m) == msg::DecodeStatus::kOk) {
        if (const T* t = std::get_if<T>(&m)) {
          out.push_back(*t);
        }
      }
    }
    return out;
  }
  // The last HISTORY received (nullopt: none).
  const std::optional<msg::History>& history() const { return history_; }
  // Without `on`, HISTORY is answered ERROR 8 (unknown kind, not fatal), as a server from
  // before it answers it, and no HISTORY_END follows a WELCOME.
  void set_knows_history(bool on) { knows_history_ = on; }
  // What the server sends after WELCOME to a client that sent HISTORY (nullopt: nothing).
  void set_history_end(std::optional<msg::HistoryEnd> end) { history_end_ = end; }
  bool established() const { return conn_.state() == ServerConnection::State::kEstablished; }
  OutputQueue& output() { return conn_.output(); }

 private:
  OsRandom rng_;
  ServerConnection conn_;
  std::string joined_nick_;
  std::vector<proto::Kind> received_;
  std::deque<std::vector<uint8_t>> plaintexts_;  // each message received, for Got
  std::optional<msg::History> history_;
  bool knows_history_ = true;
  std::optional<msg::HistoryEnd> history_end_;  // its room: a literal that outlives the server
};

}  // namespace securechat::testing

#endif  // SECURECHAT_TESTS_SUPPORT_SCRIPTED_SERVER_H_
