// What the server's log says about connections that never join: each one that closes during
// or right after the handshake gets a line, where before there was nothing after "connect".
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "securechat/wire/frame.h"
#include "support/in_memory.h"
#include "support/raw_client.h"

namespace securechat {
namespace {

using ::securechat::testing::InMemoryNet;
using ::securechat::testing::RawClient;

bool Logged(const InMemoryNet& net, std::string_view line) {
  return std::find(net.log.begin(), net.log.end(), line) != net.log.end();
}

TEST(ServerLogTest, CloseBeforeTheHelloIsLogged) {
  InMemoryNet net;
  RawClient silent(net, testing::kTestAddress, /*hello=*/false);
  net.core().PeerClosed(silent.id(), "peer closed");
  EXPECT_TRUE(Logged(net, "close #1: peer closed during the handshake (not a securechat client?)"))
      << ::testing::PrintToString(net.log);
}

// A client that asked for the server's key and left (its user declined to trust the key) is
// told apart from one that does not speak the protocol.
TEST(ServerLogTest, CloseAfterAKeyRequestIsLoggedAsSuch) {
  InMemoryNet net;
  RawClient asker(net, testing::kTestAddress, /*hello=*/false);
  std::vector<uint8_t> request;
  AppendKeyRequest(&request);
  net.core().Receive(asker.id(), request);
  ASSERT_FALSE(net.core().Pending(asker.id()).empty());  // SERVER_KEY
  net.core().PeerClosed(asker.id(), "peer closed");
  EXPECT_TRUE(Logged(net,
                     "close #1: peer closed after asking for the server key (the user did not "
                     "trust it?)"))
      << ::testing::PrintToString(net.log);
  EXPECT_FALSE(std::any_of(net.log.begin(), net.log.end(), [](const std::string& l) {
    return l.find("not a securechat client") != std::string::npos;
  })) << ::testing::PrintToString(net.log);
}

// A client that pinned another key of the same size cannot confirm the server and closes once
// the server's side of the handshake is complete.
TEST(ServerLogTest, CloseAfterTheHandshakeBeforeJoinIsLogged) {
  InMemoryNet net;
  RawClient client(net);
  ASSERT_TRUE(client.established());
  net.core().PeerClosed(client.id(), "peer closed");
  EXPECT_TRUE(Logged(net,
                     "close #1: peer closed after the handshake, before JOIN (a client that pinned "
                     "another server key leaves here)"))
      << ::testing::PrintToString(net.log);
}

// A joined client's leaving is the room's line, once: no second "close" line.
TEST(ServerLogTest, JoinedClientLeavesWithTheRoomsLineOnly) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  net.core().PeerClosed(alice.id, "peer closed");
  EXPECT_TRUE(Logged(net, "leave #1 alice (peer closed)")) << ::testing::PrintToString(net.log);
  EXPECT_FALSE(std::any_of(net.log.begin(), net.log.end(), [](const std::string& l) {
    return l.rfind("close ", 0) == 0;
  })) << ::testing::PrintToString(net.log);
}

}  // namespace
}  // namespace securechat
