// The client's side of history (PROTOCOL.md 6.11) against a ScriptedServer: HISTORY before
// JOIN with what was seen on earlier connections, room lines live and from the history, the
// end of the history, missed lines, a restarted server, a server from before HISTORY, and how
// history lines look at a terminal and in a pipe.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "securechat/base/cat.h"
#include "securechat/client/display.h"
#include "securechat/client/session.h"
#include "securechat/wire/text.h"
#include "support/in_memory.h"
#include "support/scripted_server.h"

namespace securechat {
namespace {

using testing::ScriptedServer;
using V = std::vector<std::string>;

constexpr uint64_t kEpoch = 0x5ec0c4a7f00d1234;
constexpr uint64_t kDay = 86'400'000;
constexpr uint64_t kNoon = 1'700'006'400'000ULL + 12 * 3'600'000ULL;  // Nov 15 2023 12:00 UTC

msg::RoomLine Line(uint64_t seq, std::string_view from, std::string_view text, bool history,
                   bool action = false, std::string_view room = proto::kLobby) {
  return msg::RoomLine{room,
                       seq,
                       kNoon + seq * 60'000,
                       from,
                       action ? uint8_t{1} : uint8_t{0},
                       history ? uint8_t{1} : uint8_t{0},
                       text};
}

msg::HistoryEnd End(uint64_t epoch, uint64_t last_seq, uint64_t missed = 0) {
  return msg::HistoryEnd{proto::kLobby, epoch, last_seq, missed};
}

// A ClientSession as alice, its display lines kept whole, on a connection to a ScriptedServer
// that Reconnect replaces as the runner does (a new engine, the same session).
class HistoryTest : public ::testing::Test {
 protected:
  HistoryTest()
      : key_(testing::TestKey2048().PublicKey()),
        conn_(std::make_unique<ClientConnection>(key_, rng_)),
        server_(std::make_unique<ScriptedServer>()),
        session_(*conn_, "alice",
                 ClientSession::Display([this](const DisplayLine& l) { shown_.push_back(l); })) {}

  // Join makes the handshake and the JOIN on the current connection.
  void Join() {
    ASSERT_TRUE(conn_->Start());
    Pump();
    ASSERT_TRUE(session_.joined());
  }
  // Reconnect drops the connection and makes a new one to a new server, which `setup` may
  // script before the client joins it.
  void Reconnect(const std::function<void(ScriptedServer&)>& setup = {}) {
    session_.ServerClosed();
    auto conn = std::make_unique<ClientConnection>(key_, rng_);
    session_.Reattach(*conn);
    old_conns_.push_back(std::move(conn_));
    conn_ = std::move(conn);
    server_ = std::make_unique<ScriptedServer>();
    if (setup) {
      setup(*server_);
    }
    shown_.clear();
    Join();
  }
  void Pump() { server_->Exchange(*conn_, session_); }
  void Send(const msg::ServerMessage& m) {
    ASSERT_TRUE(server_->Send(m));
    Pump();
  }
  V Plain() const {
    V out;
    for (const DisplayLine& l : shown_) {
      out.push_back(PlainLine(l));
    }
    return out;
  }

  ServerPublicKey key_;
  OsRandom rng_;
  std::vector<std::unique_ptr<ClientConnection>> old_conns_;  // the session once pointed here
  std::unique_ptr<ClientConnection> conn_;
  std::unique_ptr<ScriptedServer> server_;
  std::vector<DisplayLine> shown_;
  ClientSession session_;
};

TEST_F(HistoryTest, FirstConnectionAsksForAllTheHistoryRightBeforeJoin) {
  Join();
  const std::vector<proto::Kind>& got = server_->received();
  const auto join = std::find(got.begin(), got.end(), proto::Kind::kJoin);
  ASSERT_NE(join, got.end());
  ASSERT_NE(join, got.begin());
  EXPECT_EQ(*(join - 1), proto::Kind::kHistory);
  EXPECT_EQ(std::count(got.begin(), got.end(), proto::Kind::kHistory), 1);
  ASSERT_TRUE(server_->history().has_value());
  EXPECT_EQ(server_->history()->epoch, 0u);
  EXPECT_EQ(server_->history()->after, 0u);
}

TEST_F(HistoryTest, HistoryLinesAreMarkedThenEndOfHistory) {
  Join();
  shown_.clear();
  Send(Line(40, "bob", "hello alice", /*history=*/true));
  Send(Line(41, "alice", "waves", /*history=*/true, /*action=*/true));  // our own: history too
  Send(End(kEpoch, 42));
  EXPECT_EQ(Plain(),
            (V{"(history) <bob> hello alice", "(history) * alice waves", "-!- end of history"}));
  ASSERT_EQ(shown_.size(), 3u);
  EXPECT_TRUE(shown_[0].history);
  EXPECT_FALSE(shown_[0].mention) << "said before we came: never a mention";
  EXPECT_EQ(shown_[0].time_ms, kNoon + 40 * 60'000);
  EXPECT_FALSE(shown_[2].history);
  EXPECT_EQ(session_.history_epoch(), kEpoch);
  EXPECT_EQ(session_.history_seq(), 42u);
}

TEST_F(HistoryTest, NoHistoryNoEndLine) {
  Join();
  shown_.clear();
  Send(End(kEpoch, 0));
  EXPECT_EQ(Plain(), V{});
  EXPECT_EQ(session_.history_epoch(), kEpoch);
}

TEST_F(HistoryTest, LiveLinesShowAsChatAndOurOwnOnlyCounts) {
  Join();
  Send(End(kEpoch, 42));
  shown_.clear();
  Send(Line(43, "bob", "hi alice", /*history=*/false));
  Send(Line(44, "ALICE", "my own line, sent back", /*history=*/false));
  Send(Line(45, "bob", "waves at alice", /*history=*/false, /*action=*/true));
  EXPECT_EQ(Plain(), (V{"<bob> hi alice", "* bob waves at alice"}));
  ASSERT_EQ(shown_.size(), 2u);
  EXPECT_EQ(shown_[0].kind, DisplayLine::Kind::kChat);
  EXPECT_TRUE(shown_[0].mention);
  EXPECT_FALSE(shown_[0].history);
  EXPECT_EQ(shown_[0].time_ms, kNoon + 43 * 60'000);
  EXPECT_EQ(shown_[1].kind, DisplayLine::Kind::kAction);
  EXPECT_TRUE(shown_[1].mention);
  EXPECT_EQ(session_.history_seq(), 45u);
  EXPECT_EQ(session_.KnownNicks(), V{"bob"});
  // Ignored as CHAT from bob would be.
  session_.InputLine("/ignore bob");
  shown_.clear();
  Send(Line(46, "bob", "hidden", /*history=*/false));
  EXPECT_EQ(Plain(), V{});
  EXPECT_EQ(session_.history_seq(), 46u);
}

TEST_F(HistoryTest, AnotherRoomIsSkipped) {
  Join();
  Send(End(kEpoch, 42));
  shown_.clear();
  Send(Line(100, "bob", "elsewhere", /*history=*/false, false, "#other"));
  Send(Line(101, "bob", "elsewhere before", /*history=*/true, false, "#other"));
  Send(msg::HistoryEnd{"#other", 99, 500, 7});
  EXPECT_EQ(Plain(), V{});
  EXPECT_EQ(session_.history_epoch(), kEpoch);
  EXPECT_EQ(session_.history_seq(), 42u);
  EXPECT_FALSE(session_.finished());
}

TEST_F(HistoryTest, ReconnectAsksAfterWhatWasSeenAndCountsWhatIsLost) {
  Join();
  Send(End(kEpoch, 40));
  Send(Line(41, "bob", "last line seen", /*history=*/false));
  Reconnect([](ScriptedServer& s) { s.set_history_end(End(kEpoch, 120, 29)); });
  ASSERT_TRUE(server_->history().has_value());
  EXPECT_EQ(server_->history()->epoch, kEpoch);
  EXPECT_EQ(server_->history()->after, 41u);
  EXPECT_EQ(Plain(), (V{"-!- rejoined as alice; 1 online",
                        "-!- 29 lines were said while you were away that the server no longer "
                        "holds"}));
  EXPECT_EQ(session_.history_seq(), 120u);

  Reconnect([](ScriptedServer& s) { s.set_history_end(End(kEpoch, 122, 1)); });
  EXPECT_EQ(server_->history()->after, 120u);
  EXPECT_EQ(Plain(), (V{"-!- rejoined as alice; 1 online",
                        "-!- 1 line was said while you were away that the server no longer "
                        "holds"}));
}

TEST_F(HistoryTest, ARestartedServerIsSaidSo) {
  Join();
  Send(End(kEpoch, 40));
  Reconnect([](ScriptedServer& s) { s.set_history_end(End(kEpoch + 1, 3)); });
  EXPECT_EQ(server_->history()->epoch, kEpoch);
  EXPECT_EQ(Plain(), (V{"-!- rejoined as alice; 1 online",
                        "-!- the server restarted while you were away: what was said before is "
                        "gone"}));
  EXPECT_EQ(session_.history_epoch(), kEpoch + 1);
  EXPECT_EQ(session_.history_seq(), 3u);
}

TEST_F(HistoryTest, HistoryBeforeTheEndDoesNotMoveTheNumber) {
  // Lines of the history may be of a new epoch: only HISTORY_END says where we are.
  Join();
  Send(End(kEpoch, 40));
  Reconnect();
  Send(Line(5, "bob", "after the restart", /*history=*/true));
  EXPECT_EQ(session_.history_seq(), 40u);
  Send(End(kEpoch + 1, 5));
  EXPECT_EQ(session_.history_seq(), 5u);
  EXPECT_EQ(Plain(), (V{"-!- rejoined as alice; 1 online", "(history) <bob> after the restart",
                        "-!- end of history",
                        "-!- the server restarted while you were away: what was said before is "
                        "gone"}));
}

TEST_F(HistoryTest, AServerFromBeforeHistoryGoesOnQuietly) {
  server_->set_knows_history(false);
  Join();
  EXPECT_EQ(Plain(), V{"-!- joined as alice; 1 online"}) << "no !! for the ERROR 8";
  EXPECT_FALSE(session_.finished());
  Send(msg::Chat{"bob", 0, kNoon, "hi alice"});
  EXPECT_EQ(Plain().back(), "<bob> hi alice");
  // Only that answer is quiet: an ERROR 8 after the WELCOME is shown as ever.
  Send(msg::Error{proto::ErrorCode::kUnknownKind, 0, "unknown message kind"});
  EXPECT_EQ(Plain().back(), "!! unknown message kind");
  EXPECT_EQ(session_.history_epoch(), 0u);
}

TEST_F(HistoryTest, AHostileHistoryLineIsEscapedAndNeverRings) {
  Join();
  shown_.clear();
  // The decoder lets valid text through: a backslash sequence that reads as an escape, a
  // zero-width space. The display must not show either as it came.
  Send(Line(7, "mallory", "alice \\x1B[2J \xe2\x80\x8b", /*history=*/true));
  ASSERT_EQ(shown_.size(), 1u);
  EXPECT_EQ(shown_[0].text, EscapeForDisplay("alice \\x1B[2J \xe2\x80\x8b"));
  EXPECT_EQ(shown_[0].text, "alice \\\\x1B[2J \\u{200B}");
  Formatter::Options o{.color = true, .timestamps = true, .bell = true};
  const Formatter f(
      o,
      [](uint64_t) {
        return HourMinute{12, 7, 2023, 11, 15};
      },
      [] { return kNoon; });
  const std::string row = f.Format(shown_[0]);
  EXPECT_EQ(row.find('\a'), std::string::npos) << "a history line never rings";
  EXPECT_EQ(row.find("\x1b[2J"), std::string::npos);
}

TEST_F(HistoryTest, EndlessHistoryKeepsNothing) {
  // Each history line is shown and dropped: what the session holds does not grow.
  Join();
  shown_.clear();
  for (uint64_t seq = 1; seq <= 2000; ++seq) {
    Send(Line(seq, "bob", "again", /*history=*/true));
    shown_.clear();
  }
  EXPECT_FALSE(session_.finished());
  EXPECT_EQ(session_.KnownNicks(), V{}) << "history senders are not taken for completion";
  EXPECT_EQ(session_.history_seq(), 0u);
}

// The formatter: history is faint from end to end at a colour terminal, marked in words
// without colour and in the plain form, with its own time and its date when not today.
HourMinute FakeLocal(uint64_t unix_ms) {
  const uint64_t minutes = unix_ms / 60'000;
  const int day = static_cast<int>(unix_ms / kDay) - 19'676 + 15;  // day 19676: Nov 15
  return {static_cast<int>(minutes / 60 % 24), static_cast<int>(minutes % 60), 2023, 11, day};
}

DisplayLine HistoryLine(uint64_t time_ms) {
  DisplayLine l;
  l.kind = DisplayLine::Kind::kChat;
  l.from = "bob";
  l.text = "hi alice";
  l.time_ms = time_ms;
  l.history = true;
  l.mention = true;  // whatever the session said, history never highlights
  return l;
}

TEST(HistoryFormatTest, FaintAtAColourTerminalWithItsOwnTime) {
  const Formatter f({.color = true, .timestamps = true, .bell = true}, FakeLocal,
                    [] { return kNoon + 3'600'000; });
  EXPECT_EQ(f.Format(HistoryLine(kNoon + 3 * 60'000)), "\x1b[2m[12:03] <bob> hi alice\x1b[0m");
  // From another day: the date too.
  EXPECT_EQ(f.Format(HistoryLine(kNoon - 2 * kDay + 60'000)),
            "\x1b[2m[Nov 13 12:01] <bob> hi alice\x1b[0m");
  // Each wrapped row is faint on its own.
  const std::vector<std::string> rows = f.FormatRows(HistoryLine(kNoon), 20);
  ASSERT_GT(rows.size(), 1u);
  for (std::string_view row : rows) {
    row.remove_prefix(std::min(row.find_first_not_of(' '), row.size()));
    EXPECT_TRUE(row.starts_with("\x1b[2m")) << row;
    EXPECT_TRUE(row.ends_with("\x1b[0m")) << row;
  }
}

TEST(HistoryFormatTest, MarkedInWordsWithoutColour) {
  const Formatter terminal({.color = false, .timestamps = true, .bell = true}, FakeLocal,
                           [] { return kNoon; });
  EXPECT_EQ(terminal.Format(HistoryLine(kNoon - kDay)), "[Nov 14 12:00] (history) <bob> hi alice");
  const Formatter pipe({.color = false, .timestamps = false, .bell = false}, FakeLocal,
                       [] { return kNoon; });
  EXPECT_EQ(pipe.Format(HistoryLine(kNoon)), "(history) <bob> hi alice");
  DisplayLine live = HistoryLine(kNoon);
  live.history = false;
  live.mention = false;
  EXPECT_EQ(pipe.Format(live), "<bob> hi alice");
}

}  // namespace
}  // namespace securechat
