// RawClient: a client of an InMemoryNet's server driven message by message, for tests that
// put records in a connection's queue before it joins, send what the reference client never
// would (a second JOIN, a message before JOIN), or several records in one delivery.
#ifndef SECURECHAT_TESTS_SUPPORT_RAW_CLIENT_H_
#define SECURECHAT_TESTS_SUPPORT_RAW_CLIENT_H_

#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <vector>

#include "securechat/base/cat.h"
#include "securechat/engine/client_connection.h"
#include "support/in_memory.h"

namespace securechat::testing {

// Describe names a server message in a few words: "ERROR 2", "ERROR 1 fatal", "WELCOME alice",
// "USERS 2", "CHAT alice private", "NOTICE bob joined", "PONG".
inline std::string Describe(const msg::ServerMessage& m) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, msg::Error>) {
          return Cat("ERROR ", static_cast<int>(x.code), x.fatal ? " fatal" : "");
        } else if constexpr (std::is_same_v<T, msg::Welcome>) {
          return Cat("WELCOME ", x.nick);
        } else if constexpr (std::is_same_v<T, msg::Users>) {
          return Cat("USERS ", x.nicks.size());
        } else if constexpr (std::is_same_v<T, msg::Chat>) {
          return Cat("CHAT ", x.from, x.flags & proto::kChatFlagPrivate ? " private" : "");
        } else if constexpr (std::is_same_v<T, msg::Notice>) {
          return Cat("NOTICE ", x.text);
        } else if constexpr (std::is_same_v<T, msg::Pong>) {
          return "PONG";
        } else {
          return "another message";
        }
      },
      m);
}

struct RawClient {
  // RawClient connects from `address` and, if `handshake`, completes the handshake.
  explicit RawClient(InMemoryNet& net, bool handshake = true, const std::string& address = "test")
      : key(ServerPublicKey::FromPem(TestKey2048().PublicKey().ToPem()).value()),
        conn(key, net.rng()),
        core(net.core()) {
    id = core.Accept(address);
    if (!handshake) {
      return;
    }
    EXPECT_TRUE(conn.Start());
    Flush();
    ByteView in = core.Pending(id);
    std::vector<uint8_t> copy(in.begin(), in.end());
    core.Consumed(id, copy.size());
    ByteView view(copy);
    msg::ServerMessage m;
    EXPECT_EQ(conn.Next(&view, &m), ClientConnection::Step::kEstablished);
  }
  // Send seals `m` and delivers it at once.
  void Send(const msg::ClientMessage& m) {
    Queue(m);
    Flush();
  }
  // Queue seals `m` without delivering it: Flush then delivers all queued records at once.
  void Queue(const msg::ClientMessage& m) { EXPECT_TRUE(conn.Send(m)); }
  void Flush() {
    ByteView out = conn.output().pending();
    std::vector<uint8_t> copy(out.begin(), out.end());
    conn.output().Consume(copy.size());
    core.Receive(id, copy);
  }
  // Read opens everything the server queued for this client, and describes each message.
  std::vector<std::string> Read() {
    std::vector<std::string> out;
    ByteView pending = core.Pending(id);
    std::vector<uint8_t> copy(pending.begin(), pending.end());
    core.Consumed(id, copy.size());
    ByteView in(copy);
    msg::ServerMessage m;
    while (conn.Next(&in, &m) == ClientConnection::Step::kMessage) {
      out.push_back(Describe(m));
    }
    return out;
  }

  ServerPublicKey key;
  ClientConnection conn;
  ServerCore& core;
  ConnId id = 0;
};

}  // namespace securechat::testing

#endif  // SECURECHAT_TESTS_SUPPORT_RAW_CLIENT_H_
