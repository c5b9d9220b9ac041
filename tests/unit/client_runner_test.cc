// ClientRunner in memory: each dial of a fake environment either fails or reaches a
// ScriptedServer (a real handshake and JOIN), which then ends the connection one way or
// another. What is checked is what the user sees (display lines, the exit code and its
// message) and when the client tries again (the offline waits).
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "securechat/base/cat.h"
#include "securechat/client/runner.h"
#include "support/in_memory.h"
#include "support/scripted_server.h"

namespace securechat {
namespace {

using testing::ScriptedServer;

constexpr char kAddress[] = "test:5555";
constexpr char kRefused[] = "cannot connect to test:5555: Connection refused";
constexpr char kKeyChanged[] = "the server at test:5555 now sends another key";

// How a served connection ends, after the server has welcomed the client.
enum class Ending {
  kUserQuits,        // the user types /quit; the server closes after BYE
  kServerCloses,     // the server (or the network) drops the connection
  kServerShutsDown,  // ERROR 9, then the close
  kDroppedAtOnce,    // the connection is dropped before any byte moves: no handshake, no JOIN
  kAnotherKey,       // (not served) the dial found the server with another key
};

class ClientRunnerTest : public ::testing::Test, public ClientRunner::Environment {
 protected:
  ClientRunnerTest() : key_(testing::TestKey2048().PublicKey()) {}

  // MakeRunner makes the runner as chat-client does, pinned to `key` (default: the key the
  // scripted server holds).
  void MakeRunner(bool reconnect, const ServerPublicKey* key = nullptr) {
    runner_ = std::make_unique<ClientRunner>(
        key != nullptr ? *key : key_, rng_,
        ClientRunner::Options{.reconnect = reconnect, .address = kAddress}, "alice",
        ClientSession::Display([this](const DisplayLine& l) { lines_.push_back(PlainLine(l)); }),
        [this] { return now_ms_; });
  }

  // The script of the dials to come, one entry per dial.
  void DialFails() { dials_.push_back({}); }
  // DialMeetsAnotherKey: the dial is refused because the server sent another key than the one
  // accepted at the start (the program's ServerKeyGate says so with PermissionDenied).
  void DialMeetsAnotherKey() { dials_.push_back(Ending::kAnotherKey); }
  void DialServes(Ending ending) { dials_.push_back(ending); }

  // Environment:
  absl::StatusOr<std::unique_ptr<ClientRunner::Link>> Dial() override {
    ++dial_count_;
    if (dials_.empty()) {
      ADD_FAILURE() << "a dial the test did not expect";
      input_open_ = false;  // no more tries
      return absl::UnavailableError(kRefused);
    }
    if (!dials_.front().has_value()) {
      dials_.pop_front();
      return absl::UnavailableError(kRefused);
    }
    if (*dials_.front() == Ending::kAnotherKey) {
      dials_.pop_front();
      return absl::PermissionDeniedError(kKeyChanged);
    }
    const Ending ending = *dials_.front();
    dials_.pop_front();
    return std::unique_ptr<ClientRunner::Link>(std::make_unique<ServedLink>(*this, ending));
  }
  bool WaitOffline(uint64_t ms) override {
    waits_.push_back(ms);
    now_ms_ += ms;
    return on_wait_ ? on_wait_() : true;
  }
  bool InputOpen() const override { return input_open_; }

  bool Saw(std::string_view line) const {
    return std::find(lines_.begin(), lines_.end(), line) != lines_.end();
  }
  size_t CountStartingWith(std::string_view prefix) const {
    return std::count_if(lines_.begin(), lines_.end(),
                         [&](const std::string& l) { return l.starts_with(prefix); });
  }
  std::string Lines() const {
    std::string all;
    for (const std::string& l : lines_) {
      all += Cat(l, "\n");
    }
    return all;
  }
  // ExpectWaitNear: wait `i` was drawn from [nominal/2, nominal], as Backoff promises, and
  // the user was told about it.
  void ExpectWaitNear(size_t i, uint64_t nominal) {
    ASSERT_LT(i, waits_.size());
    EXPECT_GE(waits_[i], nominal / 2) << "wait " << i;
    EXPECT_LE(waits_[i], nominal) << "wait " << i;
  }

  std::string Connected() const {
    return Cat("-!- connected to ", kAddress, "; server key ", key_.Fingerprint());
  }

  // ServedLink runs the session against a fresh ScriptedServer, as the select loop runs it
  // against a socket: handshake and JOIN, then `ending`.
  class ServedLink final : public ClientRunner::Link {
   public:
    ServedLink(ClientRunnerTest& test, Ending ending) : test_(test), ending_(ending) {}
    int Run(ClientConnection& conn) override {
      ClientSession& session = test_.runner_->session();
      EXPECT_TRUE(test_.runner_->connected());
      if (test_.on_serve_) {
        test_.on_serve_(test_.served_, server_);
      }
      ++test_.served_;
      session.Connected();
      if (ending_ == Ending::kDroppedAtOnce) {
        session.ServerClosed();
        return session.exit_code();
      }
      server_.Exchange(conn, session);
      if (session.joined()) {
        switch (ending_) {
          case Ending::kUserQuits:
            test_.runner_->InputLine("/quit");
            server_.Exchange(conn, session);
            break;
          case Ending::kServerCloses:
            break;
          case Ending::kDroppedAtOnce:
          case Ending::kAnotherKey:
            break;
          case Ending::kServerShutsDown:
            EXPECT_TRUE(server_.Send(
                msg::Error{proto::ErrorCode::kShuttingDown, 1, "server shutting down"}));
            server_.Exchange(conn, session);
            break;
        }
      }
      if (!session.finished()) {
        session.ServerClosed();
      }
      test_.histories_.push_back(server_.history());
      return session.exit_code();
    }

   private:
    ClientRunnerTest& test_;
    const Ending ending_;
    ScriptedServer server_;
  };

  ServerPublicKey key_;
  OsRandom rng_;
  uint64_t now_ms_ = 1000;
  std::unique_ptr<ClientRunner> runner_;
  std::deque<std::optional<Ending>> dials_;  // nullopt: the dial fails
  int dial_count_ = 0;
  std::vector<uint64_t> waits_;
  std::function<bool()> on_wait_;  // what happens during an offline wait; unset: nothing
  // Sets up the server of the `n`th served connection (from 0) before the client talks to it.
  std::function<void(int n, ScriptedServer& server)> on_serve_;
  int served_ = 0;
  std::vector<std::optional<msg::History>> histories_;  // the HISTORY each served one got
  bool input_open_ = true;
  std::vector<std::string> lines_;
};

// The bug this runner was written for: with --reconnect, a first dial that found no server
// made the client restart its already started handshake and exit 1 ("cannot build the
// handshake with this server key"). It must wait, dial again, and join (not "rejoin").
TEST_F(ClientRunnerTest, FirstDialFailsThenSucceeds) {
  MakeRunner(true);
  DialFails();
  DialServes(Ending::kUserQuits);
  EXPECT_EQ(runner_->Run(*this), kExitOk) << runner_->final_message();
  EXPECT_EQ(runner_->final_message(), "");
  EXPECT_EQ(dial_count_, 2);
  ASSERT_EQ(waits_.size(), 1u);
  ExpectWaitNear(0, Backoff::kFirstMs);
  EXPECT_TRUE(Saw(Cat("!! ", kRefused, "; reconnecting in ", FormatSeconds(waits_[0])))) << Lines();
  EXPECT_TRUE(Saw(Connected())) << Lines();
  EXPECT_TRUE(Saw("-!- joined as alice; 1 online")) << Lines();
  EXPECT_EQ(CountStartingWith("-!- rejoined"), 0u) << Lines();
}

// A connection that was made but dropped before the server welcomed us never joined: the
// first WELCOME, on the next connection, says "joined", not "rejoined".
TEST_F(ClientRunnerTest, FirstConnectionDroppedBeforeJoinThenJoins) {
  MakeRunner(true);
  DialServes(Ending::kDroppedAtOnce);
  DialServes(Ending::kUserQuits);
  EXPECT_EQ(runner_->Run(*this), kExitOk) << runner_->final_message();
  EXPECT_EQ(dial_count_, 2);
  ASSERT_EQ(waits_.size(), 1u);
  EXPECT_TRUE(Saw("-!- joined as alice; 1 online")) << Lines();
  EXPECT_EQ(CountStartingWith("-!- rejoined"), 0u) << Lines();
  EXPECT_EQ(CountStartingWith(Connected()), 1u) << "only the connection that got past the "
                                                   "handshake is announced\n"
                                                << Lines();
}

// Several failed dials in a row: each wait is drawn around a nominal delay that starts at 1 s,
// doubles, and stops growing at 30 s; the user leaves during the last wait (exit 0).
TEST_F(ClientRunnerTest, FailedDialsBackOffDoublingUpToTheCap) {
  MakeRunner(true);
  const std::vector<uint64_t> nominal = {1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
  for (size_t i = 0; i < nominal.size(); ++i) {
    DialFails();
  }
  on_wait_ = [this, &nominal] {
    if (waits_.size() == nominal.size()) {
      runner_->InputLine("/quit");
    }
    return !runner_->quit();
  };
  EXPECT_EQ(runner_->Run(*this), kExitOk);
  EXPECT_EQ(runner_->final_message(), "");
  ASSERT_EQ(waits_.size(), nominal.size());
  for (size_t i = 0; i < nominal.size(); ++i) {
    ExpectWaitNear(i, nominal[i]);
  }
  EXPECT_EQ(CountStartingWith(Cat("!! ", kRefused, "; reconnecting in ")), nominal.size());
  EXPECT_EQ(CountStartingWith("-!- connected to"), 0u);
}

// A connection that joined starts the backoff again from 1 s; the next session rejoins.
TEST_F(ClientRunnerTest, AJoinStartsTheBackoffAgain) {
  MakeRunner(true);
  DialFails();
  DialFails();
  DialServes(Ending::kServerCloses);
  DialFails();
  DialServes(Ending::kUserQuits);
  EXPECT_EQ(runner_->Run(*this), kExitOk) << runner_->final_message();
  ASSERT_EQ(waits_.size(), 4u);
  ExpectWaitNear(0, 1000);
  ExpectWaitNear(1, 2000);
  ExpectWaitNear(2, 1000);  // after the join
  ExpectWaitNear(3, 2000);
  EXPECT_TRUE(Saw("-!- joined as alice; 1 online")) << Lines();
  EXPECT_TRUE(Saw(Cat("!! connection lost: the server closed the connection; reconnecting in ",
                      FormatSeconds(waits_[2]))))
      << Lines();
  EXPECT_TRUE(Saw("-!- rejoined as alice; 1 online")) << Lines();
}

// /quit while connected ends the client: no reconnect, exit 0.
TEST_F(ClientRunnerTest, UserQuitIsNotReconnected) {
  MakeRunner(true);
  DialServes(Ending::kUserQuits);
  EXPECT_EQ(runner_->Run(*this), kExitOk);
  EXPECT_EQ(runner_->final_message(), "");
  EXPECT_EQ(dial_count_, 1);
  EXPECT_TRUE(waits_.empty());
  EXPECT_EQ(CountStartingWith("!! "), 0u) << Lines();
}

// The server going away (a close, a network error, a shutdown) is retried.
TEST_F(ClientRunnerTest, ServerClosingAndShuttingDownAreReconnected) {
  MakeRunner(true);
  DialServes(Ending::kServerCloses);
  DialServes(Ending::kServerShutsDown);
  DialServes(Ending::kUserQuits);
  EXPECT_EQ(runner_->Run(*this), kExitOk) << runner_->final_message();
  EXPECT_EQ(dial_count_, 3);
  ASSERT_EQ(waits_.size(), 2u);
  EXPECT_TRUE(Saw(Cat("!! connection lost: the server closed the connection; reconnecting in ",
                      FormatSeconds(waits_[0]))))
      << Lines();
  EXPECT_TRUE(Saw("!! server shutting down")) << Lines();
  EXPECT_TRUE(Saw(
      Cat("!! connection lost: the server shut down; reconnecting in ", FormatSeconds(waits_[1]))))
      << Lines();
  EXPECT_EQ(CountStartingWith("-!- rejoined as alice; 1 online"), 2u) << Lines();
  EXPECT_EQ(CountStartingWith(Connected()), 3u) << Lines();
}

// What the room's history said on one connection is what the next one asks after
// (PROTOCOL.md 6.11): the session that the runner carries over keeps it.
TEST_F(ClientRunnerTest, AReconnectionAsksForTheHistoryAfterWhatWasSeen) {
  MakeRunner(true);
  on_serve_ = [](int n, ScriptedServer& server) {
    if (n == 0) {
      server.set_history_end(msg::HistoryEnd{proto::kLobby, 77, 41, 0});
    }
  };
  DialServes(Ending::kServerCloses);
  DialFails();
  DialServes(Ending::kUserQuits);
  EXPECT_EQ(runner_->Run(*this), kExitOk) << runner_->final_message();
  ASSERT_EQ(histories_.size(), 2u);
  ASSERT_TRUE(histories_[0].has_value());
  EXPECT_EQ(histories_[0]->epoch, 0u);
  EXPECT_EQ(histories_[0]->after, 0u);
  ASSERT_TRUE(histories_[1].has_value());
  EXPECT_EQ(histories_[1]->epoch, 77u);
  EXPECT_EQ(histories_[1]->after, 41u);
}

// A server that cannot prove it holds the pinned key is never retried: exit 3 at once.
TEST_F(ClientRunnerTest, WrongServerKeyIsNotRetried) {
  // Another key of the same size: the server answers, and its confirm value is wrong.
  const ServerPublicKey other = ServerPrivateKey::Generate(2048).value().PublicKey();
  MakeRunner(true, &other);
  DialServes(Ending::kUserQuits);
  EXPECT_EQ(runner_->Run(*this), kExitConfirmFailed);
  EXPECT_EQ(runner_->final_message(),
            "server key confirmation failed: wrong server key or tampered handshake");
  EXPECT_EQ(dial_count_, 1);
  EXPECT_TRUE(waits_.empty());
  EXPECT_EQ(CountStartingWith("-!- joined"), 0u) << Lines();
  // Nothing claims a connection to a server whose key was never confirmed.
  EXPECT_EQ(CountStartingWith("-!- connected"), 0u) << Lines();
  EXPECT_EQ(Lines().find("server key SHA256:"), std::string::npos) << Lines();
}

// With --reconnect each new connection must meet the key accepted at the start: a server that
// comes back with another key ends the client with exit 3 and the dial's message, no retry.
TEST_F(ClientRunnerTest, ReconnectionToAnotherServerKeyIsExitThreeNotRetried) {
  MakeRunner(true);
  DialServes(Ending::kServerCloses);
  DialMeetsAnotherKey();
  EXPECT_EQ(runner_->Run(*this), kExitConfirmFailed);
  EXPECT_EQ(runner_->final_message(), kKeyChanged);
  EXPECT_EQ(dial_count_, 2);
  EXPECT_EQ(waits_.size(), 1u) << "the wait before the second dial only";
}

// Which exit codes are worth another try (README: 2, 4 and 6, and 5 after a join that worked;
// never 3, 7 or 9).
TEST_F(ClientRunnerTest, RetryableCodes) {
  for (const bool joined : {false, true}) {
    EXPECT_FALSE(ClientRunner::Retryable(kExitAuthRefused, joined));
    EXPECT_FALSE(ClientRunner::Retryable(kExitRemoved, joined));  // kicked or banned
    EXPECT_TRUE(ClientRunner::Retryable(kExitCannotConnect, joined));
    EXPECT_TRUE(ClientRunner::Retryable(kExitServerFull, joined));
    EXPECT_TRUE(ClientRunner::Retryable(kExitConnectionLost, joined));
    EXPECT_FALSE(ClientRunner::Retryable(kExitOk, joined));
    EXPECT_FALSE(ClientRunner::Retryable(kExitUsage, joined));
    EXPECT_FALSE(ClientRunner::Retryable(kExitConfirmFailed, joined));
    EXPECT_FALSE(ClientRunner::Retryable(kExitVersion, joined));
  }
  EXPECT_FALSE(ClientRunner::Retryable(kExitNickRefused, false));
  EXPECT_TRUE(ClientRunner::Retryable(kExitNickRefused, true));
}

// While offline, only local commands work; typed text is refused, not queued; the end of the
// input ends the client with 0.
TEST_F(ClientRunnerTest, InputEndingWhileOfflineLeavesWithZero) {
  MakeRunner(true);
  DialFails();
  on_wait_ = [this] {
    EXPECT_FALSE(runner_->connected());
    runner_->InputLine("said while away");
    runner_->InputLine("/ignore bob");
    runner_->InputEof();
    return !runner_->quit();
  };
  EXPECT_EQ(runner_->Run(*this), kExitOk);
  EXPECT_EQ(runner_->final_message(), "");
  EXPECT_EQ(dial_count_, 1);
  EXPECT_TRUE(runner_->quit());
  EXPECT_TRUE(Saw("!! not sent: not connected (reconnecting; /quit to leave)")) << Lines();
  EXPECT_TRUE(Saw("-!- ignoring bob for this session; /unignore bob to undo")) << Lines();
}

// Input that ended while connected (a piped file) is not waited on: a lost connection then
// ends the client with its code instead of a retry.
TEST_F(ClientRunnerTest, NoRetryOnceTheInputHasEnded) {
  MakeRunner(true);
  input_open_ = false;
  DialServes(Ending::kServerCloses);
  EXPECT_EQ(runner_->Run(*this), kExitConnectionLost);
  EXPECT_EQ(runner_->final_message(), "connection lost: the server closed the connection");
  EXPECT_TRUE(waits_.empty());
}

// Without reconnect, a failed dial is exit 2 and a lost connection exit 6, each at once and
// with its reason.
TEST_F(ClientRunnerTest, WithoutReconnectAFailedDialExitsTwo) {
  MakeRunner(false);
  DialFails();
  EXPECT_EQ(runner_->Run(*this), kExitCannotConnect);
  EXPECT_EQ(runner_->final_message(), kRefused);
  EXPECT_TRUE(waits_.empty());
  EXPECT_EQ(CountStartingWith("!! "), 0u) << "the program prints the reason, once";
}

TEST_F(ClientRunnerTest, WithoutReconnectALostConnectionExitsSix) {
  MakeRunner(false);
  DialServes(Ending::kServerCloses);
  EXPECT_EQ(runner_->Run(*this), kExitConnectionLost);
  EXPECT_EQ(runner_->final_message(), "connection lost: the server closed the connection");
  EXPECT_TRUE(waits_.empty());
  EXPECT_TRUE(Saw("-!- joined as alice; 1 online")) << Lines();
}

}  // namespace
}  // namespace securechat
