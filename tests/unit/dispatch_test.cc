// The server's state table: every client message kind, sent in every connection state, gets
// the answer PROTOCOL.md gives and leaves the connection in the state it says. The expected
// answers are written out here from the document, not read from the server's dispatch
// table, so a wrong row in the table fails a test.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <variant>
#include <vector>

#include "support/in_memory.h"
#include "support/raw_client.h"

namespace securechat {
namespace {

using ::securechat::testing::InMemoryNet;
using ::securechat::testing::RawClient;
using ::securechat::testing::Seen;

// Describe names a server message in a few words: "ERROR 2", "ERROR 1 fatal", "WELCOME alice",
// "USERS 2", "NOTICE bob joined", "PONG", or its kind's number.
std::string Describe(const Seen& m) {
  switch (m.kind) {
    case proto::Kind::kError:
      return Cat("ERROR ", m.code, m.fatal ? " fatal" : "");
    case proto::Kind::kWelcome:
      return Cat("WELCOME ", m.from);
    case proto::Kind::kUsers:
      return Cat("USERS ", m.nicks.size());
    case proto::Kind::kNotice:
      return Cat("NOTICE ", m.text);
    case proto::Kind::kPong:
      return "PONG";
    case proto::Kind::kMemberRenamed:
      return "MEMBER_RENAMED";
    case proto::Kind::kChat:
      return Cat("CHAT ", m.from);
    case proto::Kind::kAuthOk:
      return Cat("AUTH_OK ", m.from);
    case proto::Kind::kWhoisReply:
      return Cat("WHOIS_REPLY ", m.from);
    case proto::Kind::kRoomJoined:
      return Cat("ROOM_JOINED ", m.room);
    case proto::Kind::kHistoryEnd:
      return Cat("HISTORY_END ", m.room);
    case proto::Kind::kRoomInfo:
      return Cat("ROOM_INFO ", m.room);
    case proto::Kind::kRoomUsers:
      return Cat("ROOM_USERS ", m.room, " ", m.nicks.size());
    case proto::Kind::kFileOffered:
      return Cat("FILE_OFFERED tag ", m.tag, " id ", m.id);
    case proto::Kind::kFileEnd:
      return Cat("FILE_END ", m.id, " why ", static_cast<int>(m.why));
    default:
      return Cat("kind ", static_cast<int>(m.kind));
  }
}

std::vector<std::string> ReadAll(RawClient& c) {
  std::vector<std::string> out;
  for (const Seen& m : c.Read()) {
    out.push_back(Describe(m));
  }
  return out;
}

struct KindCase {
  const char* name;
  msg::ClientMessage message;
};

void PrintTo(const KindCase& k, std::ostream* os) { *os << k.name; }

// AUTH's fields, which the message only views: they live as long as the table.
const std::string kFakeKey(proto::kEd25519PublicLen, 'k');
const std::string kFakeSignature(proto::kEd25519SignatureLen, 's');
// FILE_OFFER's hash (a SHA-256 by its length only).
const std::string kFakeHash(proto::kFileHashLen, 'h');

// One message of every client kind. "alice" is a member in every test.
const KindCase kKinds[] = {
    {"JOIN", msg::Join{"mallory"}},
    {"SAY", msg::Say{"hello"}},
    {"WHISPER", msg::Whisper{"alice", "psst"}},
    {"WHO", msg::Who{}},
    {"NICK", msg::Nick{"trudy"}},
    {"PING", msg::Ping{"p"}},
    {"BYE", msg::Bye{}},
    // A signature over nothing this connection has seen: it never verifies.
    {"AUTH", msg::Auth{kFakeKey, kFakeSignature}},
    {"ACTION", msg::Action{"waves"}},
    {"AWAY", msg::Away{"lunch"}},
    {"WHOIS", msg::Whois{"alice"}},
    {"QUIT", msg::Quit{"bye now"}},
    {"HISTORY", msg::History{0, 0}},
    {"MODERATE", msg::Moderate{"/kick alice"}},
    {"ROOM_JOIN", msg::RoomJoin{"#dev", 0, 0}},
    {"ROOM_PART", msg::RoomPart{"#dev"}},
    {"ROOM_LIST", msg::RoomList{}},
    {"ROOM_TOPIC", msg::RoomTopic{"#dev", "release friday"}},
    {"ROOM_SAY", msg::RoomSay{"#lobby", 0, "hello"}},
    {"ROOM_WHO", msg::RoomWho{"#lobby"}},
    {"FILE_OFFER", msg::FileOffer{7, "alice", "report.pdf", 3, kFakeHash}},
    {"FILE_ACCEPT", msg::FileAccept{1}},
    {"FILE_CANCEL", msg::FileCancel{1, "changed my mind"}},
    {"FILE_CHUNK", msg::FileChunk{1, 0, "abc"}},
    {"FILE_DONE", msg::FileDone{1}},
};

// Every kind is here once: a new kind fails this until its expected answers are written.
TEST(DispatchTest, CoversEveryClientMessageKind) {
  ASSERT_EQ(std::size(kKinds), std::variant_size_v<msg::ClientMessage>);
  std::vector<bool> seen(std::variant_size_v<msg::ClientMessage>);
  for (const KindCase& k : kKinds) {
    EXPECT_FALSE(seen[k.message.index()]) << k.name;
    seen[k.message.index()] = true;
  }
}

struct Expected {
  std::vector<std::string> replies;  // what the sender reads, in order
  ConnState state;                   // the sender's state after
  bool alice_hears = false;          // whether the other member got something from it
};

class DispatchTest : public ::testing::TestWithParam<KindCase> {
 protected:
  DispatchTest() : net_(Options()), alice_(net_.Connect("alice")) {}

  static ServerOptions Options() {
    ServerOptions options;
    options.rate = 0;  // the rate has its own tests; here every message is judged by state
    return options;
  }

  ConnState StateOf(const RawClient& c) {
    const std::optional<ConnState> s = net_.core().StateOf(c.id());
    EXPECT_TRUE(s.has_value());
    return s.value_or(ConnState::kClosing);
  }

  void Check(RawClient& sender, const Expected& want) {
    const size_t alice_before = alice_.lines.size();
    net_.Pump();
    EXPECT_EQ(ReadAll(sender), want.replies) << GetParam().name;
    EXPECT_EQ(StateOf(sender), want.state)
        << GetParam().name << ": " << ConnStateName(StateOf(sender));
    EXPECT_EQ(alice_.lines.size() > alice_before, want.alice_hears) << GetParam().name;
    // Whatever the message did, the server still serves the member.
    net_.Type(alice_, "/who");
    EXPECT_TRUE(alice_.SawContaining("-!- online (")) << GetParam().name;
  }

  InMemoryNet net_;
  InMemoryNet::Member& alice_;
};

// Established, not joined: JOIN is the only way in; BYE leaves; everything else is refused
// with ERROR 2, which is not fatal.
TEST_P(DispatchTest, Established) {
  RawClient mallory(net_);
  ASSERT_EQ(StateOf(mallory), ConnState::kEstablished);
  mallory.Send(GetParam().message);
  const std::string kind = GetParam().name;
  if (kind == "JOIN") {
    Check(mallory, {{"WELCOME mallory"}, ConnState::kJoined, true});
  } else if (kind == "BYE" || kind == "QUIT") {
    Check(mallory, {{}, ConnState::kClosing, false});
  } else if (kind == "AUTH") {
    Check(mallory, {{"ERROR 10 fatal"}, ConnState::kClosing, false});  // a bad signature
  } else if (kind == "HISTORY") {
    Check(mallory, {{}, ConnState::kEstablished, false});  // kept for its JOIN, unanswered
  } else {
    Check(mallory, {{"ERROR 2"}, ConnState::kEstablished, false});
  }
}

// Authenticated, not joined: as established, except that a second AUTH is a fatal ERROR 1.
TEST_P(DispatchTest, Authenticated) {
  RawClient mallory(net_);
  const std::optional<Ed25519Key> key = Ed25519Key::Generate();
  ASSERT_TRUE(key.has_value());
  mallory.Send(testing::SignedAuth(*key, mallory.th()).message());
  ASSERT_EQ(ReadAll(mallory), std::vector<std::string>{"AUTH_OK "});  // a guest key
  ASSERT_EQ(StateOf(mallory), ConnState::kAuthenticated);
  mallory.Send(GetParam().message);
  const std::string kind = GetParam().name;
  if (kind == "JOIN") {
    Check(mallory, {{"WELCOME mallory"}, ConnState::kJoined, true});
  } else if (kind == "BYE" || kind == "QUIT") {
    Check(mallory, {{}, ConnState::kClosing, false});
  } else if (kind == "AUTH") {
    Check(mallory, {{"ERROR 1 fatal"}, ConnState::kClosing, false});
  } else if (kind == "HISTORY") {
    Check(mallory, {{}, ConnState::kAuthenticated, false});
  } else {
    Check(mallory, {{"ERROR 2"}, ConnState::kAuthenticated, false});
  }
}

// Joined: a second JOIN is a fatal ERROR 1; everything else is served.
TEST_P(DispatchTest, Joined) {
  RawClient mallory(net_);
  mallory.Send(msg::Join{"mallory"});
  ASSERT_EQ(ReadAll(mallory), std::vector<std::string>{"WELCOME mallory"});
  ASSERT_EQ(StateOf(mallory), ConnState::kJoined);
  net_.Pump();
  mallory.Send(GetParam().message);
  const std::string kind = GetParam().name;
  if (kind == "JOIN") {
    Check(mallory, {{"ERROR 1 fatal"}, ConnState::kClosing, true});  // alice: mallory left
  } else if (kind == "SAY" || kind == "WHISPER") {
    Check(mallory, {{}, ConnState::kJoined, true});
  } else if (kind == "WHO") {
    Check(mallory, {{"USERS 2"}, ConnState::kJoined, false});
  } else if (kind == "NICK") {
    Check(mallory,
          {{"MEMBER_RENAMED", "NOTICE mallory is now known as trudy"}, ConnState::kJoined, true});
  } else if (kind == "PING") {
    Check(mallory, {{"PONG"}, ConnState::kJoined, false});
  } else if (kind == "BYE") {
    Check(mallory, {{}, ConnState::kClosing, true});  // alice: mallory left
  } else if (kind == "AUTH" || kind == "HISTORY") {   // only before JOIN
    Check(mallory, {{"ERROR 1 fatal"}, ConnState::kClosing, true});
  } else if (kind == "ACTION") {
    Check(mallory, {{}, ConnState::kJoined, true});
    EXPECT_TRUE(alice_.Saw("* mallory waves"));
  } else if (kind == "AWAY") {
    Check(mallory, {{"NOTICE you are marked away: lunch"}, ConnState::kJoined, false});
  } else if (kind == "WHOIS") {
    Check(mallory, {{"WHOIS_REPLY alice"}, ConnState::kJoined, false});
  } else if (kind == "QUIT") {
    Check(mallory, {{}, ConnState::kClosing, true});
    EXPECT_TRUE(alice_.Saw("-!- mallory left (bye now)"));
  } else if (kind == "MODERATE") {  // mallory is no operator: alice stays
    Check(mallory, {{"ERROR 14"}, ConnState::kJoined, false});
  } else if (kind == "ROOM_JOIN") {
    Check(mallory, {{"ROOM_JOINED #dev", "HISTORY_END #dev"}, ConnState::kJoined, false});
  } else if (kind == "ROOM_PART" || kind == "ROOM_TOPIC") {  // mallory is not in #dev
    Check(mallory, {{"ERROR 15"}, ConnState::kJoined, false});
  } else if (kind == "ROOM_LIST") {
    Check(mallory, {{"ROOM_INFO #lobby"}, ConnState::kJoined, false});
  } else if (kind == "ROOM_SAY") {  // to #lobby: a SAY
    Check(mallory, {{}, ConnState::kJoined, true});
    EXPECT_TRUE(alice_.Saw("<mallory> hello"));
  } else if (kind == "ROOM_WHO") {
    Check(mallory, {{"ROOM_USERS #lobby 2"}, ConnState::kJoined, false});
  } else if (kind == "FILE_OFFER") {
    // alice is offered the file; her client here has no file system to keep it in, so it
    // says so and declines, and mallory is told.
    Check(mallory, {{"FILE_OFFERED tag 7 id 1", "FILE_END 1 why 2"}, ConnState::kJoined, true});
    EXPECT_TRUE(alice_.SawContaining("mallory offered report.pdf; declined"));
  } else if (kind.starts_with("FILE_")) {  // transfer 1 does not exist (PROTOCOL.md 6.14)
    Check(mallory, {{"ERROR 17"}, ConnState::kJoined, false});
  } else {
    FAIL() << "no expectation for " << kind;
  }
}

// Closing after BYE: records behind the BYE in the same delivery are not handled at all.
TEST_P(DispatchTest, ClosingAfterBye) {
  RawClient mallory(net_);
  mallory.Send(msg::Join{"mallory"});
  ASSERT_EQ(ReadAll(mallory), std::vector<std::string>{"WELCOME mallory"});
  net_.Pump();
  mallory.Queue(msg::Bye{});
  mallory.Queue(GetParam().message);
  mallory.Deliver();
  Check(mallory, {{}, ConnState::kClosing, true});  // alice hears only "mallory left"
  EXPECT_TRUE(alice_.Saw("-!- mallory left"));
  EXPECT_FALSE(alice_.SawContaining("hello"));
  EXPECT_FALSE(alice_.SawContaining("psst"));
  EXPECT_FALSE(alice_.SawContaining("waves"));
  EXPECT_FALSE(alice_.SawContaining("bye now"));
}

// Closing after a fatal error: nothing behind it is answered.
TEST_P(DispatchTest, ClosingAfterFatalError) {
  RawClient mallory(net_);
  mallory.Send(msg::Join{"mallory"});
  ASSERT_EQ(ReadAll(mallory), std::vector<std::string>{"WELCOME mallory"});
  net_.Pump();
  mallory.Queue(msg::Join{"again"});  // fatal: already joined
  mallory.Queue(GetParam().message);
  mallory.Deliver();
  Check(mallory, {{"ERROR 1 fatal"}, ConnState::kClosing, true});
  EXPECT_FALSE(alice_.SawContaining("hello"));
}

// Handshaking, before CLIENT_HELLO: a record of any kind is a protocol error; the server
// closes without a word (it has no keys to answer with).
TEST_P(DispatchTest, HandshakingBeforeHello) {
  RawClient other(net_);  // an established connection seals the record
  const std::vector<uint8_t> record = other.Seal(GetParam().message);

  RawClient mallory(net_, testing::kTestAddress, /*hello=*/false);
  ASSERT_EQ(StateOf(mallory), ConnState::kHandshaking);
  net_.core().Receive(mallory.id(), record);
  EXPECT_TRUE(net_.core().Pending(mallory.id()).empty());
  EXPECT_EQ(StateOf(mallory), ConnState::kClosing);
  EXPECT_TRUE(net_.core().ShouldClose(mallory.id()));
}

// Handshaking, the hello waiting for the handshake budget: the client must wait for
// SERVER_HELLO, so a record behind its hello closes the connection.
TEST_P(DispatchTest, HandshakingHelloPending) {
  ServerOptions options = Options();
  options.handshakes_per_second = 1;
  InMemoryNet net(options);
  RawClient other(net);  // its handshake spends the budget for a second
  ASSERT_TRUE(other.established());
  const std::vector<uint8_t> record = other.Seal(GetParam().message);

  RawClient mallory(net, testing::kTestAddress, /*hello=*/false);
  mallory.Hello();
  ASSERT_EQ(net.core().StateOf(mallory.id()), ConnState::kHandshaking);  // the hello waits
  net.core().Receive(mallory.id(), record);
  EXPECT_EQ(net.core().StateOf(mallory.id()), ConnState::kClosing);
  net.Advance(2000);  // the budget is back: the hello is not served any more
  EXPECT_TRUE(net.core().Pending(mallory.id()).empty());
}

INSTANTIATE_TEST_SUITE_P(EveryKind, DispatchTest, ::testing::ValuesIn(kKinds),
                         [](const ::testing::TestParamInfo<KindCase>& param_info) {
                           return std::string(param_info.param.name);
                         });

}  // namespace
}  // namespace securechat
