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
#include "support/seen.h"

namespace securechat::testing {

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
        seen_.push_back(ToSeen(m));
      } else if (step != ClientConnection::Step::kEstablished) {
        EXPECT_NE(step, ClientConnection::Step::kFailed) << "the server sent what the client "
                                                            "must refuse";
        return;
      }
    }
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
