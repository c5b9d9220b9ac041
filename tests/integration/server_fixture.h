// The fixture the integration tests that run a chat-server share.
#ifndef SECURECHAT_TESTS_INTEGRATION_SERVER_FIXTURE_H_
#define SECURECHAT_TESTS_INTEGRATION_SERVER_FIXTURE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "integration/expect.h"
#include "integration/process.h"

namespace securechat::testing {

// ServerFixture gives each test its own temp dir, a private copy of the 2048-bit test key
// with mode 0600 (private_key_), the path of its public key (public_key_) and, after
// StartTestServer, its own server on a free loopback port.
class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> private_key = CopyTestServerKey(dir_);
    ASSERT_TRUE(private_key.ok()) << private_key.status();
    private_key_ = std::move(*private_key);
    public_key_ = TestKeyPath("test_rsa2048_public.pem");
  }

  // StartTestServer starts chat-server with the test key and `flags`; use it under
  // ASSERT_NO_FATAL_FAILURE.
  void StartTestServer(const std::vector<std::string>& flags = {}) {
    auto server = StartServer(private_key_, flags, kWait);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  Process& server() { return *server_.process; }

  // Join starts a client with the right key and waits until the server welcomed it with
  // `online` people in the room. Returns nullptr (and fails the test) otherwise.
  std::unique_ptr<Process> Join(const std::string& nick, int online) {
    return JoinChat(nick, public_key_, server_.address, online);
  }

  TempDir dir_;
  std::string private_key_;
  std::string public_key_;
  ServerProcess server_;
};

}  // namespace securechat::testing

#endif  // SECURECHAT_TESTS_INTEGRATION_SERVER_FIXTURE_H_
