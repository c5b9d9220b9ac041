// The client against a hostile server, in memory: what it keeps from the network is bounded,
// it gives up on a server that never completes the handshake, and lines typed locally that
// could never be sent are refused without ending the session. Also: /ignore without regard
// to case, as the server keeps nicks unique.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "securechat/base/cat.h"
#include "securechat/client/session.h"
#include "support/in_memory.h"
#include "support/scripted_server.h"
#include "support/scripted_session.h"

namespace securechat {
namespace {

using testing::InMemoryNet;

// A ClientSession connected to a ScriptedServer, with a clock the test moves.
class HostileServerTest : public testing::ScriptedSessionTest {
 protected:
  HostileServerTest() : ScriptedSessionTest(/*clocked=*/true) {}

  // Join runs the handshake and JOIN.
  void Join() {
    ASSERT_TRUE(conn_.Start());
    session_.Connected();
    Pump();
    ASSERT_TRUE(session_.joined()) << Cat(lines_.size(), " lines");
  }

  // SendPages sends USERS pages of `per_page` nicks marked more=1 until the session finishes
  // or `max_pages` were sent. Returns how many were sent.
  size_t SendPages(size_t per_page, size_t max_pages) {
    std::vector<std::string> names;
    for (size_t i = 0; i < per_page; ++i) {
      names.push_back(Cat("user_with_a_nick_of_32_bytes", 1000 + i));
    }
    const std::vector<std::string_view> views(names.begin(), names.end());
    size_t sent = 0;
    while (sent < max_pages && !session_.finished()) {
      EXPECT_TRUE(server_.Send(msg::Users{1, views}));
      ++sent;
      Pump();
    }
    return sent;
  }
};

// USERS pages marked "more" for ever: the client stops at kMaxWhoNicks nicks, closes with a
// clear reason and exit 6, and showed nothing of the list.
TEST_F(HostileServerTest, WhoAnswerThatNeverEndsIsClosedAtTheBound) {
  ASSERT_NO_FATAL_FAILURE(Join());
  const size_t per_page = 256;
  const size_t pages_to_cross = ClientSession::kMaxWhoNicks / per_page + 1;
  const size_t sent = SendPages(per_page, 2 * pages_to_cross);
  EXPECT_EQ(sent, pages_to_cross);
  ASSERT_TRUE(session_.finished()) << "still collecting after " << sent << " pages";
  EXPECT_EQ(session_.exit_code(), kExitConnectionLost);
  EXPECT_EQ(session_.final_message(),
            "connection closed: the server sent more than 65535 nicks in one WHO answer");
  EXPECT_FALSE(SawContaining("online ("));
}

// Empty pages marked "more" keep nothing, but an answer still ends at kMaxWhoPages pages.
TEST_F(HostileServerTest, EmptyWhoPagesForEverAreClosedToo) {
  ASSERT_NO_FATAL_FAILURE(Join());
  const size_t sent = SendPages(0, ClientSession::kMaxWhoPages + 10);
  EXPECT_EQ(sent, ClientSession::kMaxWhoPages + 1);
  EXPECT_EQ(session_.exit_code(), kExitConnectionLost);
  EXPECT_EQ(session_.final_message(),
            "connection closed: the server sent more than 65535 pages in one WHO answer");
}

// The bound is one an honest server never crosses: a whole answer of kMaxWhoNicks is shown.
TEST_F(HostileServerTest, WhoAnswerAtTheBoundIsShown) {
  ASSERT_NO_FATAL_FAILURE(Join());
  std::vector<std::string> names;
  for (size_t i = 0; i < ClientSession::kMaxWhoNicks; ++i) {
    names.push_back(Cat("u", i));
  }
  for (size_t at = 0; at < names.size(); at += proto::kUsersPerPage) {
    const size_t end = std::min(names.size(), at + proto::kUsersPerPage);
    const std::vector<std::string_view> page(names.begin() + at, names.begin() + end);
    ASSERT_TRUE(server_.Send(msg::Users{end < names.size() ? uint8_t{1} : uint8_t{0}, page}));
    Pump();
  }
  EXPECT_FALSE(session_.finished()) << session_.final_message();
  EXPECT_TRUE(SawContaining("-!- online (65535): u0 u1 u2 ")) << lines_.back().substr(0, 80);
  EXPECT_EQ(session_.KnownNicks().size(), ClientSession::kMaxKnownNicks);
}

// Every distinct CHAT sender used to be kept for completion. The set stops growing at
// kMaxKnownNicks (new senders are not added; their lines still show), and the next WHO
// answer replaces it.
TEST_F(HostileServerTest, CompletionNicksStopAtTheBound) {
  ASSERT_NO_FATAL_FAILURE(Join());
  const size_t senders = ClientSession::kMaxKnownNicks + 100;
  for (size_t i = 0; i < senders; ++i) {
    const std::string from = Cat("s", i);
    ASSERT_TRUE(server_.Send(msg::Chat{from, 0, 0, "hi"}));
    if (i % 1024 == 0) {
      Pump();
    }
  }
  Pump();
  EXPECT_FALSE(session_.finished());
  EXPECT_EQ(session_.KnownNicks().size(), ClientSession::kMaxKnownNicks);
  EXPECT_TRUE(Saw(Cat("<s", senders - 1, "> hi")));

  const std::vector<std::string_view> room = {"alice", "bob"};
  ASSERT_TRUE(server_.Send(msg::Users{0, room}));
  Pump();
  EXPECT_EQ(session_.KnownNicks(), std::vector<std::string>{"bob"});
}

// A server that completes no handshake (it never answers, or trickles its answer) is given
// kHandshakeTimeoutMs from Connected, then the session ends with exit 6. After WELCOME there is
// no deadline any more.
TEST_F(HostileServerTest, HandshakeDeadline) {
  ASSERT_TRUE(conn_.Start());
  session_.Connected();
  EXPECT_EQ(session_.MsUntilTick(), ClientSession::kHandshakeTimeoutMs);
  now_ms_ += ClientSession::kHandshakeTimeoutMs - 1;
  session_.Tick();
  EXPECT_FALSE(session_.finished());
  EXPECT_EQ(session_.MsUntilTick(), 1u);
  now_ms_ += 1;
  session_.Tick();
  ASSERT_TRUE(session_.finished());
  EXPECT_EQ(session_.exit_code(), kExitConnectionLost);
  EXPECT_EQ(session_.final_message(),
            "connection lost: the server did not complete the handshake within 10 s");
}

TEST_F(HostileServerTest, NoHandshakeDeadlineOnceWelcomed) {
  session_.set_handshake_timeout_ms(1500);
  ASSERT_NO_FATAL_FAILURE(Join());
  now_ms_ += 20'000;
  session_.Tick();
  EXPECT_FALSE(session_.finished()) << session_.final_message();
}

TEST_F(HostileServerTest, HandshakeDeadlineOfAReattachedConnection) {
  session_.set_handshake_timeout_ms(1500);
  ASSERT_NO_FATAL_FAILURE(Join());
  ClientConnection second(key_, rng_);
  ASSERT_TRUE(second.Start());
  session_.Reattach(second);
  EXPECT_FALSE(session_.MsUntilTick().has_value()) << "no deadline before Connected";
  session_.Connected();
  now_ms_ += 1500;
  session_.Tick();
  EXPECT_EQ(session_.final_message(),
            "connection lost: the server did not complete the handshake within 1.5 s");
}

// Lines typed while the server has not welcomed us wait, up to kMaxQueuedBytes; past that a
// line is refused with one note, and the loop is told to stop reading input well before.
TEST_F(HostileServerTest, TypedLinesWaitingForTheServerAreBounded) {
  ASSERT_TRUE(conn_.Start());
  session_.Connected();
  const std::string line(proto::kMaxTextLen, 'x');
  size_t typed = 0;
  while (session_.WantsInput()) {
    session_.InputLine(line);
    ++typed;
  }
  EXPECT_FALSE(SawContaining("not sent"));
  const size_t per_line = line.size() + ClientSession::kQueuedLineOverhead;
  EXPECT_EQ(typed, ClientSession::kMaxQueuedBytes / 2 / per_line + 1);
  for (int i = 0; i < 1000; ++i) {
    session_.InputLine(line);
  }
  const size_t fit = ClientSession::kMaxQueuedBytes / per_line;
  EXPECT_EQ(lines_, std::vector<std::string>{
                        Cat("!! not sent: ", fit,
                            " lines are already waiting to be sent; type it again once they are")});
  EXPECT_FALSE(session_.finished());
}

// An over-long /nick or /msg argument used to make the client exit 6 ("cannot send"): the
// record could not hold it. It is refused locally and the session goes on.
TEST(LocalRefusalTest, OverLongNickArgumentsAreRefusedAndTheClientStays) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  const std::string huge(20'000, 'a');
  const std::string refusal = "!! not sent: a nick is 1 to 32 of A-Z a-z 0-9 _ . -";
  net.Type(alice, Cat("/nick ", huge));
  EXPECT_EQ(alice.lines.back(), refusal);
  net.Type(alice, Cat("/msg ", huge, " hi"));
  EXPECT_EQ(alice.lines.back(), refusal);
  net.Type(alice, Cat("/nick ", std::string(proto::kMaxNickLen + 1, 'a')));
  EXPECT_EQ(alice.lines.back(), refusal);
  EXPECT_FALSE(alice.session.finished()) << alice.session.final_message();
  net.Type(alice, "still here");
  EXPECT_TRUE(bob.Saw("<alice> still here"));
  EXPECT_EQ(alice.session.nick(), "alice");
}

// Nicks are unique without regard to case on the server, so /ignore and /unignore match
// them that way: /ignore BOB hides bob.
TEST(LocalRefusalTest, IgnoreMatchesNicksWithoutRegardToCase) {
  InMemoryNet net;
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  net.Type(alice, "/ignore BOB");
  EXPECT_EQ(alice.lines.back(), "-!- ignoring BOB for this session; /unignore BOB to undo");
  net.Type(bob, "spam");
  net.Type(bob, "/msg alice private spam");
  EXPECT_FALSE(alice.SawContaining("spam"));
  net.Type(alice, "/ignore bob");
  EXPECT_EQ(alice.lines.back(), "-!- already ignoring bob");
  net.Type(alice, "/ignore ALICE");
  EXPECT_EQ(alice.lines.back(), "!! you cannot ignore yourself");
  net.Type(bob, "/nick robert");
  net.Type(bob, "more spam");
  EXPECT_FALSE(alice.SawContaining("more spam")) << "the ignore follows the rename";
  net.Type(alice, "/unignore Robert");
  EXPECT_EQ(alice.lines.back(), "-!- no longer ignoring Robert");
  net.Type(bob, "hello again");
  EXPECT_TRUE(alice.Saw("<robert> hello again"));
}

}  // namespace
}  // namespace securechat
