// ScriptedSessionTest: the fixture of the tests that play a server the client cannot trust.
#ifndef SECURECHAT_TESTS_SUPPORT_SCRIPTED_SESSION_H_
#define SECURECHAT_TESTS_SUPPORT_SCRIPTED_SESSION_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "securechat/client/session.h"
#include "securechat/crypto/keys.h"
#include "securechat/crypto/random.h"
#include "securechat/engine/client_connection.h"
#include "support/in_memory.h"
#include "support/scripted_server.h"

namespace securechat::testing {

// ScriptedSessionTest holds a ClientSession as alice on a ClientConnection to a
// ScriptedServer, and the lines the session printed. A clocked session reads now_ms_, which
// only the test moves; an unclocked one has no clock, as in a session without timers.
class ScriptedSessionTest : public ::testing::Test {
 protected:
  explicit ScriptedSessionTest(bool clocked)
      : key_(TestKey2048().PublicKey()),
        conn_(key_, rng_),
        session_(
            conn_, "alice",
            ClientSession::Printer([this](std::string_view l) { lines_.emplace_back(l); }),
            clocked ? ClientSession::Clock([this] { return now_ms_; }) : ClientSession::Clock()) {}

  // Pump moves bytes both ways until nothing moves.
  void Pump() { server_.Exchange(conn_, session_); }

  bool Saw(std::string_view line) const {
    return std::find(lines_.begin(), lines_.end(), line) != lines_.end();
  }
  bool SawContaining(std::string_view part) const {
    return std::any_of(lines_.begin(), lines_.end(),
                       [&](const std::string& l) { return l.find(part) != std::string::npos; });
  }

  uint64_t now_ms_ = 1000;
  ServerPublicKey key_;
  OsRandom rng_;
  ScriptedServer server_;
  ClientConnection conn_;
  std::vector<std::string> lines_;
  ClientSession session_;
};

}  // namespace securechat::testing

#endif  // SECURECHAT_TESTS_SUPPORT_SCRIPTED_SESSION_H_
