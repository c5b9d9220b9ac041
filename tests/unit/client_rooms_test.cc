// The client's side of rooms (PROTOCOL.md 6.13) against a ScriptedServer: /join, /part,
// /switch, /who, /topic and /rooms; typed lines to the current room; room lines shown with
// their room only while more than one room is joined; our own line not shown twice; bounds on
// what a server can make the client keep; and every room joined again after a reconnection,
// after what was seen of it.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "securechat/base/cat.h"
#include "securechat/client/display.h"
#include "securechat/client/interactive.h"
#include "securechat/client/session.h"
#include "securechat/wire/text.h"
#include "support/in_memory.h"
#include "support/scripted_server.h"

namespace securechat {
namespace {

using testing::ScriptedServer;
using V = std::vector<std::string>;

constexpr uint64_t kEpoch = 0x5ec0c4a7f00d1234;
constexpr uint64_t kDevEpoch = 0xdecafbad;
constexpr uint64_t kNoon = 1'700'006'400'000ULL + 12 * 3'600'000ULL;

msg::RoomLine Line(std::string_view room, uint64_t seq, std::string_view from,
                   std::string_view text, bool history = false, bool action = false) {
  return msg::RoomLine{room,
                       seq,
                       kNoon + seq * 60'000,
                       from,
                       action ? uint8_t{1} : uint8_t{0},
                       history ? uint8_t{1} : uint8_t{0},
                       text};
}

msg::RoomEvent Event(std::string_view room, proto::RoomEvent event, std::string_view nick,
                     std::string_view text = "") {
  return msg::RoomEvent{room, static_cast<uint8_t>(event), nick, text};
}

// A ClientSession as alice that shows its own lines (as at a terminal), on a connection to a
// ScriptedServer that Reconnect replaces as the runner does.
class RoomsTest : public ::testing::Test {
 protected:
  RoomsTest()
      : key_(testing::TestKey2048().PublicKey()),
        conn_(std::make_unique<ClientConnection>(key_, rng_)),
        server_(std::make_unique<ScriptedServer>()),
        session_(*conn_, "alice",
                 ClientSession::Display([this](const DisplayLine& l) { shown_.push_back(l); })) {
    session_.set_show_own_lines(true);
    server_->set_history_end(msg::HistoryEnd{proto::kLobby, kEpoch, 0, 0});
  }

  void Join() {
    ASSERT_TRUE(conn_->Start());
    Pump();
    ASSERT_TRUE(session_.joined());
    shown_.clear();
  }
  void Reconnect() {
    session_.ServerClosed();
    auto conn = std::make_unique<ClientConnection>(key_, rng_);
    session_.Reattach(*conn);
    old_conns_.push_back(std::move(conn_));
    conn_ = std::move(conn);
    old_servers_.push_back(std::move(server_));
    server_ = std::make_unique<ScriptedServer>();
    server_->set_history_end(msg::HistoryEnd{proto::kLobby, kEpoch, 0, 0});
    Join();
  }
  void Pump() { server_->Exchange(*conn_, session_); }
  void Send(const msg::ServerMessage& m) {
    ASSERT_TRUE(server_->Send(m));
    Pump();
  }
  void Type(std::string_view line) {
    session_.InputLine(line);
    Pump();
  }
  // JoinRoom types /join and answers it as a server does: ROOM_JOINED, then HISTORY_END.
  void JoinRoom(std::string_view room, uint16_t members = 2, std::string_view topic = "") {
    Type(Cat("/join ", room));
    Send(msg::RoomJoined{room, topic, members});
    Send(msg::HistoryEnd{room, kDevEpoch, 0, 0});
  }
  V Plain() const {
    V out;
    for (const DisplayLine& l : shown_) {
      out.push_back(PlainLine(l));
    }
    return out;
  }
  V TakePlain() {
    V out = Plain();
    shown_.clear();
    return out;
  }
  size_t Count(proto::Kind kind) const {
    return static_cast<size_t>(
        std::count(server_->received().begin(), server_->received().end(), kind));
  }

  ServerPublicKey key_;
  OsRandom rng_;
  std::vector<std::unique_ptr<ClientConnection>> old_conns_;
  std::vector<std::unique_ptr<ScriptedServer>> old_servers_;
  std::unique_ptr<ClientConnection> conn_;
  std::unique_ptr<ScriptedServer> server_;
  std::vector<DisplayLine> shown_;
  ClientSession session_;
};

TEST_F(RoomsTest, InLobbyAloneNothingChanges) {
  Join();
  EXPECT_EQ(session_.Rooms(), V{"#lobby"});
  EXPECT_EQ(session_.current_room(), "#lobby");
  Send(Line(proto::kLobby, 1, "bob", "hi alice"));
  Type("hello");
  Type("/me waves");
  EXPECT_EQ(TakePlain(), (V{"<bob> hi alice", "<alice> hello", "* alice waves"}));
  EXPECT_EQ(Count(proto::Kind::kSay), 1u) << "#lobby's lines go as SAY, as to an old server";
  EXPECT_EQ(Count(proto::Kind::kAction), 1u);
  EXPECT_EQ(Count(proto::Kind::kRoomSay), 0u);
  Type("/who");
  EXPECT_EQ(Count(proto::Kind::kWho), 1u);
  EXPECT_EQ(Count(proto::Kind::kRoomWho), 0u);
}

TEST_F(RoomsTest, JoinMakesTheRoomCurrentAndLinesSayTheirRoom) {
  Join();
  Type("/join #dev");
  const auto joins = server_->Got<msg::RoomJoin>();
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].room, "#dev");
  EXPECT_EQ(joins[0].epoch, 0u);
  EXPECT_EQ(joins[0].after, 0u);
  EXPECT_EQ(session_.Rooms(), V{"#lobby"}) << "asked for, not joined yet";
  // The server answers with its own spelling.
  Send(msg::RoomJoined{"#Dev", "release friday", 3});
  Send(Line("#Dev", 7, "bob", "said before", /*history=*/true));
  Send(msg::HistoryEnd{"#Dev", kDevEpoch, 7, 0});
  EXPECT_EQ(TakePlain(), (V{"-!- joined #Dev (3 members)", "-!- topic of #Dev: release friday",
                            "-!- lines you type now go to #Dev", "(history) #Dev <bob> said before",
                            "-!- end of history of #Dev"}));
  EXPECT_EQ(session_.Rooms(), (V{"#lobby", "#Dev"}));
  EXPECT_EQ(session_.current_room(), "#Dev");

  Type("hi all");
  Type("/me nods");
  const auto said = server_->Got<msg::RoomSay>();
  ASSERT_EQ(said.size(), 2u);
  EXPECT_EQ(said[0].room, "#Dev");
  EXPECT_EQ(said[0].action, 0);
  EXPECT_EQ(said[0].text, "hi all");
  EXPECT_EQ(said[1].action, 1);
  EXPECT_EQ(Count(proto::Kind::kSay), 0u);
  // Sent back to us for its number: not shown again, but counted.
  Send(Line("#Dev", 8, "ALICE", "hi all"));
  Send(Line("#Dev", 9, "bob", "hi alice"));
  Send(Line(proto::kLobby, 1, "carol", "meanwhile"));
  Send(Line("#Dev", 10, "bob", "waves", false, /*action=*/true));
  EXPECT_EQ(Plain(), (V{"#Dev <alice> hi all", "#Dev * alice nods", "#Dev <bob> hi alice",
                        "#lobby <carol> meanwhile", "#Dev * bob waves"}));
  EXPECT_TRUE(shown_[2].mention);
  uint64_t epoch = 0;
  uint64_t seq = 0;
  ASSERT_TRUE(session_.RoomHistory("#dev", &epoch, &seq));
  EXPECT_EQ(epoch, kDevEpoch);
  EXPECT_EQ(seq, 10u);
  EXPECT_EQ(session_.history_seq(), 1u) << "#lobby counts its own lines";
}

TEST_F(RoomsTest, TheRoomPrefixAtATerminal) {
  Join();
  JoinRoom("#dev");
  shown_.clear();
  Send(Line("#dev", 1, "bob", "hi"));
  ASSERT_EQ(shown_.size(), 1u);
  const Formatter f(
      {.color = false, .timestamps = true, .bell = false},
      [](uint64_t) {
        return HourMinute{12, 0, 2023, 11, 15};
      },
      [] { return kNoon; });
  EXPECT_EQ(f.Format(shown_[0]), "[12:00] #dev <bob> hi");
}

TEST_F(RoomsTest, PartGoesBackToLobbyAndLobbyCannotBeLeft) {
  Join();
  JoinRoom("#dev");
  shown_.clear();
  Type("/part #lobby");
  Type("/part #ops");
  EXPECT_EQ(TakePlain(), (V{"!! #lobby cannot be left: everyone is in it while connected (/quit "
                            "leaves the chat)",
                            "!! not sent: you are not in #ops"}));
  EXPECT_EQ(Count(proto::Kind::kRoomPart), 0u);
  Type("/part");
  const auto parts = server_->Got<msg::RoomPart>();
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].room, "#dev");
  Send(Event("#dev", proto::RoomEvent::kLeft, "alice"));
  EXPECT_EQ(TakePlain(), (V{"-!- you left #dev", "-!- lines you type now go to #lobby"}));
  EXPECT_EQ(session_.Rooms(), V{"#lobby"});
  EXPECT_EQ(session_.current_room(), "#lobby");
  // One room again: lines as they always were; the parted room's lines are not shown.
  Send(Line(proto::kLobby, 1, "bob", "back"));
  Send(Line("#dev", 5, "bob", "after you left"));
  EXPECT_EQ(TakePlain(), V{"<bob> back"});
  Type("/part");
  EXPECT_EQ(TakePlain(), (V{"!! #lobby cannot be left: everyone is in it while connected (/quit "
                            "leaves the chat)"}));
}

TEST_F(RoomsTest, SwitchAndKeysChooseWhereLinesGo) {
  Join();
  JoinRoom("#dev");
  JoinRoom("#ops");
  EXPECT_EQ(session_.current_room(), "#ops");
  shown_.clear();
  Type("/switch dev");
  EXPECT_EQ(session_.current_room(), "#dev");
  Type("to dev");
  session_.SwitchToRoom(1);
  EXPECT_EQ(session_.current_room(), "#lobby");
  Type("to lobby");
  session_.SwitchRoomBy(-1);  // round: from #lobby to the last
  EXPECT_EQ(session_.current_room(), "#ops");
  session_.SwitchRoomBy(1);
  EXPECT_EQ(session_.current_room(), "#lobby");
  session_.SwitchRoomBy(1);
  EXPECT_EQ(session_.current_room(), "#dev");
  session_.SwitchToRoom(4);
  Type("/switch #nope");
  EXPECT_EQ(session_.current_room(), "#dev");
  EXPECT_EQ(TakePlain(),
            (V{"-!- lines you type now go to #dev", "#dev <alice> to dev",
               "-!- lines you type now go to #lobby", "#lobby <alice> to lobby",
               "-!- lines you type now go to #ops", "-!- lines you type now go to #lobby",
               "-!- lines you type now go to #dev",
               "-!- no room 4: you are in 3 rooms (#lobby #dev #ops)",
               "!! you are not in #nope; /join #nope first"}));
  const auto said = server_->Got<msg::RoomSay>();
  ASSERT_EQ(said.size(), 1u);
  EXPECT_EQ(said[0].room, "#dev");
  EXPECT_EQ(Count(proto::Kind::kSay), 1u);
  // /join of a room we are in switches to it; nothing is sent.
  Type("/join #OPS");
  EXPECT_EQ(session_.current_room(), "#ops");
  EXPECT_EQ(server_->Got<msg::RoomJoin>().size(), 2u);
}

TEST_F(RoomsTest, WhoListsTheCurrentRoom) {
  Join();
  JoinRoom("#dev");
  shown_.clear();
  Type("/who");
  const auto who = server_->Got<msg::RoomWho>();
  ASSERT_EQ(who.size(), 1u);
  EXPECT_EQ(who[0].room, "#dev");
  EXPECT_EQ(Count(proto::Kind::kWho), 0u);
  Send(msg::RoomUsers{"#dev", 1, {"alice", "bob"}});
  Send(msg::RoomUsers{"#dev", 0, {"carol"}});
  EXPECT_EQ(TakePlain(), V{"-!- in #dev (3): alice bob carol"});
  EXPECT_EQ(session_.KnownNicks(), (V{"bob", "carol"}));
  session_.SwitchToRoom(1);
  Type("/who");
  EXPECT_EQ(Count(proto::Kind::kWho), 1u);
}

TEST_F(RoomsTest, TopicShownSetAndEscaped) {
  Join();
  JoinRoom("#dev", 2, "old");
  shown_.clear();
  Type("/topic");
  Type("/topic release friday");
  Type("/topic -delete");
  const auto topics = server_->Got<msg::RoomTopic>();
  ASSERT_EQ(topics.size(), 2u);
  EXPECT_EQ(topics[0].room, "#dev");
  EXPECT_EQ(topics[0].topic, "release friday");
  EXPECT_EQ(topics[1].topic, "");
  // What the server sends is escaped: a topic cannot move the cursor or forge a line.
  const std::string hostile = "x \\x1B[2J \xe2\x80\x8b";
  Send(Event("#dev", proto::RoomEvent::kTopic, "bob", hostile));
  Send(Event("#dev", proto::RoomEvent::kTopic, "bob", ""));
  Type("/topic");
  EXPECT_EQ(TakePlain(), (V{"-!- topic of #dev: old",
                            Cat("-!- bob set the topic of #dev: ", EscapeForDisplay(hostile)),
                            "-!- bob cleared the topic of #dev", "-!- #dev has no topic"}));
  EXPECT_EQ(EscapeForDisplay(hostile), "x \\\\x1B[2J \\u{200B}");
  Type(Cat("/topic ", std::string(proto::kMaxTopicLen + 1, 't')));
  EXPECT_EQ(server_->Got<msg::RoomTopic>().size(), 2u);
  EXPECT_EQ(TakePlain(), V{"!! not sent: a topic is at most 1024 bytes, without control "
                           "characters or invalid UTF-8"});
}

TEST_F(RoomsTest, RoomsListsEveryRoomWithItsMembersAndTopic) {
  Join();
  Send(msg::RoomInfo{"#evil", 1, "unasked", 0});
  EXPECT_EQ(TakePlain(), V{});
  Type("/rooms");
  EXPECT_EQ(Count(proto::Kind::kRoomList), 1u);
  Send(msg::RoomInfo{"#dev", 3, "release friday", 1});
  Send(msg::RoomInfo{"#lobby", 1, "", 0});
  EXPECT_EQ(TakePlain(),
            (V{"-!- rooms:", "-!-   #dev (3 members): release friday", "-!-   #lobby (1 member)"}));
  EXPECT_EQ(session_.KnownRooms(), (V{"#dev", "#lobby"}));
}

TEST_F(RoomsTest, JoinsAndLeavesOfOthers) {
  Join();
  JoinRoom("#dev");
  shown_.clear();
  Send(Event("#dev", proto::RoomEvent::kJoined, "bob"));
  Send(Event("#dev", proto::RoomEvent::kLeft, "bob"));
  EXPECT_EQ(TakePlain(), (V{"-!- bob joined #dev", "-!- bob left #dev"}));
}

TEST_F(RoomsTest, WhatARoomNotJoinedSendsIsIgnored) {
  Join();
  Send(Line("#other", 1, "mallory", "<alice> forged"));
  Send(msg::RoomJoined{"#other", "unasked", 5});
  Send(Event("#other", proto::RoomEvent::kJoined, "mallory"));
  Send(Event("#other", proto::RoomEvent::kTopic, "mallory", "hi"));
  Send(msg::RoomUsers{"#other", 0, {"mallory"}});
  Send(msg::HistoryEnd{"#other", 1, 99, 5});
  EXPECT_EQ(TakePlain(), V{});
  EXPECT_EQ(session_.Rooms(), V{"#lobby"});
  EXPECT_EQ(session_.KnownNicks(), V{});
  uint64_t epoch = 0;
  uint64_t seq = 0;
  EXPECT_FALSE(session_.RoomHistory("#other", &epoch, &seq));
  EXPECT_FALSE(session_.finished());
}

TEST_F(RoomsTest, AtMostKMaxRoomsAreKept) {
  Join();
  for (size_t i = 0; i < ClientSession::kMaxRooms; ++i) {
    JoinRoom(Cat("#r", i));
  }
  EXPECT_EQ(session_.Rooms().size(), ClientSession::kMaxRooms + 1);
  shown_.clear();
  Type("/join #one-too-many");
  EXPECT_EQ(TakePlain(),
            V{"!! not sent: this client is in at most 64 rooms besides #lobby; /part one first"});
  EXPECT_EQ(server_->Got<msg::RoomJoin>().size(), ClientSession::kMaxRooms);
  // The server cannot add one either.
  Send(msg::RoomJoined{"#one-too-many", "", 1});
  EXPECT_EQ(session_.Rooms().size(), ClientSession::kMaxRooms + 1);
  EXPECT_EQ(TakePlain(), V{});
}

TEST_F(RoomsTest, RefusalsAreShownAndTheRoomForgotten) {
  Join();
  Type("/join #dev");
  Send(msg::Error{proto::ErrorCode::kRoomLimit, 0, "too many rooms"});
  Type("/join bad!name");
  Type("/join #ops");
  Send(msg::Error{proto::ErrorCode::kRoomRefused, 0, "room refused"});
  EXPECT_EQ(TakePlain(), (V{"!! too many rooms (#dev)",
                            "!! not sent: a room is # and 1 to 31 of A-Z a-z 0-9 _ . -",
                            "!! room refused (#ops)"}));
  EXPECT_EQ(session_.Rooms(), V{"#lobby"});
  EXPECT_EQ(session_.current_room(), "#lobby");
  // Asked for again, it can be joined.
  JoinRoom("#dev");
  EXPECT_EQ(session_.Rooms(), (V{"#lobby", "#dev"}));
}

TEST_F(RoomsTest, AServerWithoutRoomsIsSaidSo) {
  Join();
  Type("/join #dev");
  Send(msg::Error{proto::ErrorCode::kUnknownKind, 0, "unknown message kind"});
  EXPECT_EQ(TakePlain(), V{"!! this server has no rooms besides #lobby"});
  EXPECT_EQ(session_.Rooms(), V{"#lobby"});
  Type("hello");
  EXPECT_EQ(Count(proto::Kind::kSay), 1u);
}

// Rooms are joined again one at a time, the room lines go to first, each after what was seen
// of it: a refusal (ERROR 15 or 16 names no room) is then always the one join's, and ten rooms
// do not spend the rate, or the server's queue for us, at once.
TEST_F(RoomsTest, ReconnectRejoinsEveryRoomAfterWhatWasSeen) {
  Join();
  JoinRoom("#dev");
  Send(msg::HistoryEnd{"#dev", kDevEpoch, 10, 0});
  Send(Line("#dev", 11, "bob", "last seen"));
  JoinRoom("#ops");
  Send(msg::HistoryEnd{"#ops", 77, 3, 0});
  session_.SwitchToRoom(3);
  ASSERT_EQ(session_.current_room(), "#ops");
  Reconnect();
  auto joins = server_->Got<msg::RoomJoin>();
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].room, "#ops");
  EXPECT_EQ(joins[0].epoch, 77u);
  EXPECT_EQ(joins[0].after, 3u);
  Type("hello ops");  // its join went first: the server takes the line after it
  ASSERT_EQ(server_->Got<msg::RoomSay>().size(), 1u);
  TakePlain();
  Type("/switch #dev");  // not joined again yet: lines cannot go there
  EXPECT_EQ(TakePlain(), V{"-!- still joining #dev"});
  Send(msg::RoomJoined{"#ops", "", 1});
  joins = server_->Got<msg::RoomJoin>();
  ASSERT_EQ(joins.size(), 2u);
  EXPECT_EQ(joins[1].room, "#dev");
  EXPECT_EQ(joins[1].epoch, kDevEpoch);
  EXPECT_EQ(joins[1].after, 11u);
  Send(msg::HistoryEnd{"#ops", 78, 0, 0});  // emptied and made again
  Send(msg::RoomJoined{"#dev", "", 2});
  Send(Line("#dev", 12, "bob", "while away", /*history=*/true));
  Send(msg::HistoryEnd{"#dev", kDevEpoch, 30, 4});
  EXPECT_EQ(TakePlain(),
            (V{"-!- rejoined #ops (1 member)",
               "-!- what was said in #ops before is gone (the room was empty for a while, or the "
               "server restarted)",
               "-!- rejoined #dev (2 members)", "(history) #dev <bob> while away",
               "-!- end of history of #dev",
               "-!- 4 lines were said in #dev while you were away that the server no longer "
               "holds"}));
  EXPECT_EQ(session_.current_room(), "#ops") << "lines still go where they went";
  uint64_t epoch = 0;
  uint64_t seq = 0;
  ASSERT_TRUE(session_.RoomHistory("#dev", &epoch, &seq));
  EXPECT_EQ(seq, 30u);
  EXPECT_EQ(server_->Got<msg::RoomJoin>().size(), 2u);  // nothing more to join
}

// A second /part before the first is answered is refused here, and nothing more is sent to a
// room being left; a ROOM_JOINED for a room we do not follow (one whose refusal we took for
// another's, or a hostile server's) is left at once, quietly.
TEST_F(RoomsTest, ARoomBeingLeftGetsNothingMoreAndAnUnaskedRoomIsLeft) {
  Join();
  JoinRoom("#dev");
  TakePlain();
  Type("/part");
  Type("/part #dev");
  Type("still here?");
  Type("/topic new");
  EXPECT_EQ(TakePlain(),
            (V{"!! not sent: you are already leaving #dev", "!! not sent: you are leaving #dev",
               "!! not sent: you are leaving #dev"}));
  EXPECT_EQ(server_->Got<msg::RoomPart>().size(), 1u);
  EXPECT_TRUE(server_->Got<msg::RoomSay>().empty());
  EXPECT_TRUE(server_->Got<msg::RoomTopic>().empty());
  Send(msg::RoomJoined{"#elsewhere", "", 3});
  const auto parts = server_->Got<msg::RoomPart>();
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1].room, "#elsewhere");
  EXPECT_EQ(session_.Rooms(), (V{"#lobby", "#dev"}));
}

TEST_F(RoomsTest, AFailedRejoinGoesBackToLobby) {
  Join();
  JoinRoom("#dev");
  Reconnect();
  Send(msg::Error{proto::ErrorCode::kRoomLimit, 0, "room full"});
  EXPECT_EQ(TakePlain(), (V{"!! room full (#dev)", "-!- lines you type now go to #lobby"}));
  EXPECT_EQ(session_.Rooms(), V{"#lobby"});
}

TEST(RoomCompletionTest, RoomsCompleteAfterRoomCommandsAndHash) {
  const V commands = {"/join", "/part", "/switch", "/who"};
  const V nicks = {"alice", "bob"};
  const V rooms = {"#dev", "#design", "#lobby"};
  EXPECT_EQ(CompletionCandidates("#de", 6, "/join #de", commands, nicks, rooms),
            (V{"#design", "#dev"}));
  EXPECT_EQ(CompletionCandidates("de", 6, "/join de", commands, nicks, rooms),
            (V{"#design", "#dev"}));
  EXPECT_EQ(CompletionCandidates("l", 8, "/SWITCH l", commands, nicks, rooms), V{"#lobby"});
  EXPECT_EQ(CompletionCandidates("#l", 4, "hey #l", commands, nicks, rooms), V{"#lobby"});
  EXPECT_EQ(CompletionCandidates("b", 6, "/part b", commands, nicks, rooms), V{});
  EXPECT_EQ(CompletionCandidates("b", 4, "hey b", commands, nicks, rooms), V{"bob"});
  EXPECT_EQ(CompletionCandidates("/jo", 0, "/jo", commands, nicks, rooms), V{"/join"});
}

}  // namespace
}  // namespace securechat
