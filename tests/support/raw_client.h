// RawClient: one connection to an InMemoryNet's server driven message by message, without a
// ClientSession, so that a test can send any client message however the server will judge it
// (a WHISPER to `server`, PING data over 64 bytes, records before JOIN) and see exactly what
// the server answers: kinds, ERROR codes, the fatal flag.
#ifndef SECURECHAT_TESTS_SUPPORT_RAW_CLIENT_H_
#define SECURECHAT_TESTS_SUPPORT_RAW_CLIENT_H_

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "securechat/crypto/auth.h"
#include "securechat/engine/client_connection.h"
#include "support/in_memory.h"

namespace securechat::testing {

// Seen is one server message as a RawClient received it, its fields copied out of the record.
// Fields a kind does not have stay empty or 0.
struct Seen {
  proto::Kind kind{};              // WELCOME ... ERROR, or a newer kind
  uint16_t code = 0;               // ERROR
  uint8_t fatal = 0;               // ERROR
  uint8_t flags = 0;               // CHAT
  uint8_t more = 0;                // USERS
  std::string from;                // CHAT; WELCOME's and AUTH_OK's nick
  std::string text;                // CHAT, NOTICE, ERROR; PONG's data
  std::vector<std::string> nicks;  // USERS
  std::string room;                // ROOM_LINE, HISTORY_END
  uint64_t seq = 0;                // ROOM_LINE; HISTORY_END's last_seq
  uint64_t epoch = 0;              // HISTORY_END
  uint64_t missed = 0;             // HISTORY_END
  uint8_t history = 0;             // ROOM_LINE
  uint8_t action = 0;              // ROOM_LINE
  uint16_t members = 0;            // ROOM_JOINED, ROOM_INFO (more: ROOM_INFO's and ROOM_USERS')
  uint8_t event = 0;               // ROOM_EVENT (from: its nick; text: its text)
  // File transfer (PROTOCOL.md 6.14): FILE_INCOMING's from, name (text) and hash (data);
  // FILE_DATA's data; FILE_END's why and reason (text).
  uint32_t id = 0;      // every FILE_* kind
  uint32_t tag = 0;     // FILE_OFFERED, FILE_END
  uint64_t size = 0;    // FILE_INCOMING
  uint64_t offset = 0;  // FILE_DATA
  uint8_t why = 0;      // FILE_END
  std::string data;     // FILE_DATA; FILE_INCOMING's hash

  bool IsError(proto::ErrorCode c, bool is_fatal) const {
    return kind == proto::Kind::kError && code == static_cast<uint16_t>(c) &&
           fatal == (is_fatal ? 1 : 0);
  }
};

class RawClient {
 public:
  // Connects from `address` and sends CLIENT_HELLO. The server answers it at once unless its
  // handshake budget holds the hello back; Send and Read finish the handshake when it has.
  // With `hello` false it sends nothing: the connection stays in the handshake, and Hello
  // sends CLIENT_HELLO later.
  explicit RawClient(InMemoryNet& net, std::string_view address = kTestAddress, bool hello = true)
      : key_(ServerPublicKey::FromPem(TestKey2048().PublicKey().ToPem()).value()),
        conn_(key_, net.rng()),
        core_(net.core()),
        id_(core_.Accept(address)) {
    if (hello) {
      Hello();
    }
  }

  // Hello queues CLIENT_HELLO and delivers it with whatever else is queued (Queue).
  void Hello() {
    EXPECT_TRUE(conn_.Start());
    Flush();
  }

  // Send seals `m` as the next record and delivers it; the server handles it at once. What
  // the server answers stays queued on its side, unread, until Read (so a test can let it pile
  // up), except SERVER_HELLO, which Send reads first if it has not yet.
  void Send(const msg::ClientMessage& m) {
    if (conn_.state() != ClientConnection::State::kEstablished) {
      Pull();
    }
    EXPECT_EQ(conn_.state(), ClientConnection::State::kEstablished) << "no SERVER_HELLO yet";
    EXPECT_TRUE(conn_.Send(m));
    Flush();
  }

  // Queue seals `m` as the next record without delivering it: Deliver hands everything queued
  // to the server in one piece, as one read from a socket.
  void Queue(const msg::ClientMessage& m) {
    if (conn_.state() != ClientConnection::State::kEstablished) {
      Pull();
    }
    EXPECT_TRUE(conn_.Send(m));
  }
  void Deliver() { Flush(); }

  // Seal returns `m` sealed as this connection's next record, without delivering it (to hand
  // to another connection, say).
  std::vector<uint8_t> Seal(const msg::ClientMessage& m) {
    Queue(m);
    ByteView out = conn_.output().pending();
    std::vector<uint8_t> sealed(out.begin(), out.end());
    conn_.output().Consume(sealed.size());
    return sealed;
  }

  // Read returns every message the server queued since the last Read (consuming it).
  std::vector<Seen> Read() {
    Pull();
    std::vector<Seen> out;
    out.swap(seen_);
    return out;
  }

  // established: SERVER_HELLO arrived and confirmed the server's key.
  bool established() {
    Pull();
    return conn_.state() == ClientConnection::State::kEstablished;
  }
  // th is the connection's transcript hash (what AUTH signs), once SERVER_HELLO has come.
  const Sha256Digest& th() {
    Pull();
    return conn_.transcript_hash();
  }

  // closed: the server has closed the connection and written everything it queued for it.
  bool closed() const { return core_.ShouldClose(id_); }
  ConnId id() const { return id_; }

 private:
  // Flush hands what the client queued to the server.
  void Flush() {
    ByteView out = conn_.output().pending();
    std::vector<uint8_t> copy(out.begin(), out.end());
    conn_.output().Consume(copy.size());
    core_.Receive(id_, copy);
  }

  // Pull takes everything the server queued and decodes it into seen_.
  void Pull() {
    ByteView pending = core_.Pending(id_);
    const std::vector<uint8_t> copy(pending.begin(), pending.end());
    core_.Consumed(id_, copy.size());
    ByteView in(copy);
    msg::ServerMessage m;
    for (;;) {
      const ClientConnection::Step step = conn_.Next(&in, &m);
      if (step == ClientConnection::Step::kMessage) {
        seen_.push_back(Copy(m));
      } else if (step != ClientConnection::Step::kEstablished) {
        EXPECT_NE(step, ClientConnection::Step::kFailed) << "the server sent what the client "
                                                            "must refuse";
        return;
      }
    }
  }

  static Seen Copy(const msg::ServerMessage& m) {
    Seen s;
    std::vector<uint8_t> bytes;
    msg::EncodeMessage(m, &bytes);
    s.kind = static_cast<proto::Kind>(bytes.front());
    std::visit(
        [&s](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, msg::Error>) {
            s.code = static_cast<uint16_t>(v.code);
            s.fatal = v.fatal;
            s.text = std::string(v.text);
          } else if constexpr (std::is_same_v<T, msg::Chat>) {
            s.from = std::string(v.from);
            s.flags = v.flags;
            s.text = std::string(v.text);
          } else if constexpr (std::is_same_v<T, msg::Welcome>) {
            s.from = std::string(v.nick);
          } else if constexpr (std::is_same_v<T, msg::AuthOk>) {
            s.from = std::string(v.nick);
          } else if constexpr (std::is_same_v<T, msg::WhoisReply>) {
            s.from = std::string(v.nick);
            s.text = std::string(v.away);
          } else if constexpr (std::is_same_v<T, msg::ActionChat>) {
            s.from = std::string(v.from);
            s.text = std::string(v.text);
          } else if constexpr (std::is_same_v<T, msg::Users>) {
            s.more = v.more;
            s.nicks.assign(v.nicks.begin(), v.nicks.end());
          } else if constexpr (std::is_same_v<T, msg::Notice>) {
            s.text = std::string(v.text);
          } else if constexpr (std::is_same_v<T, msg::Pong>) {
            s.text = std::string(v.data);
          } else if constexpr (std::is_same_v<T, msg::RoomLine>) {
            s.room = std::string(v.room);
            s.seq = v.seq;
            s.from = std::string(v.from);
            s.action = v.action;
            s.history = v.history;
            s.text = std::string(v.text);
          } else if constexpr (std::is_same_v<T, msg::HistoryEnd>) {
            s.room = std::string(v.room);
            s.epoch = v.epoch;
            s.seq = v.last_seq;
            s.missed = v.missed;
          } else if constexpr (std::is_same_v<T, msg::RoomJoined>) {
            s.room = std::string(v.room);
            s.text = std::string(v.topic);
            s.members = v.members;
          } else if constexpr (std::is_same_v<T, msg::RoomEvent>) {
            s.room = std::string(v.room);
            s.event = v.event;
            s.from = std::string(v.nick);
            s.text = std::string(v.text);
          } else if constexpr (std::is_same_v<T, msg::RoomInfo>) {
            s.room = std::string(v.room);
            s.members = v.members;
            s.text = std::string(v.topic);
            s.more = v.more;
          } else if constexpr (std::is_same_v<T, msg::RoomUsers>) {
            s.room = std::string(v.room);
            s.more = v.more;
            s.nicks.assign(v.nicks.begin(), v.nicks.end());
          } else if constexpr (std::is_same_v<T, msg::FileOffered>) {
            s.tag = v.tag;
            s.id = v.id;
          } else if constexpr (std::is_same_v<T, msg::FileIncoming>) {
            s.id = v.id;
            s.from = std::string(v.from);
            s.text = std::string(v.name);
            s.size = v.size;
            s.data = std::string(v.hash);
          } else if constexpr (std::is_same_v<T, msg::FileAccepted>) {
            s.id = v.id;
          } else if constexpr (std::is_same_v<T, msg::FileData>) {
            s.id = v.id;
            s.offset = v.offset;
            s.data = std::string(v.data);
          } else if constexpr (std::is_same_v<T, msg::FileEnd>) {
            s.id = v.id;
            s.tag = v.tag;
            s.why = v.why;
            s.text = std::string(v.reason);
          }
        },
        m);
    return s;
  }

  ServerPublicKey key_;
  ClientConnection conn_;
  ServerCore& core_;
  ConnId id_;
  std::vector<Seen> seen_;
};

// SignedAuth is an AUTH message with its own storage: `key`'s signature over `th`, or any
// bytes a test puts in its place.
struct SignedAuth {
  SignedAuth(const Ed25519Key& key, const Sha256Digest& th) : pub(key.public_key()) {
    EXPECT_TRUE(AuthSign(key, th, &sig));
  }
  msg::Auth message() const {
    return msg::Auth{std::string_view(reinterpret_cast<const char*>(pub.data()), pub.size()),
                     std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size())};
  }
  Ed25519Public pub{};
  Ed25519Signature sig{};
};

}  // namespace securechat::testing

#endif  // SECURECHAT_TESTS_SUPPORT_RAW_CLIENT_H_
