// The server's rules that PROTOCOL.md sections 6 and 7 state and the conformance vectors do not
// cover, checked against the server core in memory with a client that sends any message and
// sees every answer: WHISPER to `server` and to oneself, when rate refusals turn fatal, that
// every record but BYE takes a token, how WHO is paged, who hears of joins, leaves and
// renames, the handshake and idle deadlines, a hello held past its deadline, and how the
// operator's console shows room lines.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "support/in_memory.h"
#include "support/raw_client.h"

namespace securechat {
namespace {

using proto::ErrorCode;
using proto::Kind;
using ::securechat::testing::InMemoryNet;
using ::securechat::testing::RawClient;
using ::securechat::testing::Seen;

// Joined returns a client that has joined as `nick`, its WELCOME read.
std::unique_ptr<RawClient> Joined(InMemoryNet& net, std::string_view nick) {
  auto client = std::make_unique<RawClient>(net);
  client->Send(msg::Join{nick});
  const std::vector<Seen> seen = client->Read();
  EXPECT_FALSE(seen.empty());
  EXPECT_TRUE(!seen.empty() && seen.front().kind == Kind::kWelcome) << nick << " did not join";
  return client;
}

// Count returns how many of `seen` are of kind `kind`.
size_t Count(const std::vector<Seen>& seen, Kind kind) {
  return static_cast<size_t>(
      std::count_if(seen.begin(), seen.end(), [kind](const Seen& s) { return s.kind == kind; }));
}

// ExpectOnlyError checks that `seen` is the one ERROR `code`, fatal or not.
void ExpectOnlyError(const std::vector<Seen>& seen, ErrorCode code, bool fatal,
                     std::string_view what) {
  ASSERT_EQ(seen.size(), 1u) << what;
  EXPECT_TRUE(seen[0].IsError(code, fatal))
      << what << ": got kind " << static_cast<int>(seen[0].kind) << " code " << seen[0].code
      << " fatal " << static_cast<int>(seen[0].fatal);
}

// RateOptions are the default server options with the given message rate and burst.
ServerOptions RateOptions(double rate, double burst) {
  ServerOptions options;
  options.rate = rate;
  options.burst = burst;
  return options;
}

// ExpectStillServed checks that the connection goes on: a PING gets its PONG.
void ExpectStillServed(RawClient& client) {
  client.Send(msg::Ping{"still here"});
  const std::vector<Seen> seen = client.Read();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, Kind::kPong);
  EXPECT_FALSE(client.closed());
}

// ExpectWhisperRefused whispers to each of `targets` from a member and checks that each gets
// one ERROR `code`, not fatal: the connection goes on.
void ExpectWhisperRefused(const std::vector<std::string>& targets, ErrorCode code) {
  InMemoryNet net;
  auto alice = Joined(net, "alice");
  for (const std::string& to : targets) {
    alice->Send(msg::Whisper{to, "hello"});
    ExpectOnlyError(alice->Read(), code, /*fatal=*/false, to);
  }
  ExpectStillServed(*alice);
}

// PROTOCOL.md 6.2 and 7.1: `server` is a valid nick that no member can hold, so a WHISPER to
// it, in any case, or to a nick that only looks like it, is "no such user"; only a `to` that
// breaks the nick syntax is "invalid nick". Neither is fatal.
TEST(WhisperRulesTest, ToServerInAnyCaseIsNoSuchUser) {
  ExpectWhisperRefused({"server", "SERVER", "Server", "5erver", "server_"}, ErrorCode::kNoSuchUser);
}

TEST(WhisperRulesTest, ToWhatIsNotNickSyntaxIsInvalidNick) {
  ExpectWhisperRefused(
      {"", "a b", std::string(proto::kMaxNickLen + 1, 'a'), "caf\xc3\xa9", "server!"},
      ErrorCode::kInvalidNick);
}

// A WHISPER to one's own nick, in any case, comes back as a private CHAT from oneself.
TEST(WhisperRulesTest, ToOneselfComesBackAsAPrivateChat) {
  InMemoryNet net;
  auto alice = Joined(net, "alice");
  auto bob = Joined(net, "bob");
  (void)alice->Read();  // bob's join notice
  alice->Send(msg::Whisper{"ALICE", "note to self"});
  const std::vector<Seen> seen = alice->Read();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, Kind::kChat);
  EXPECT_EQ(seen[0].from, "alice");
  EXPECT_EQ(seen[0].flags, proto::kChatFlagPrivate);
  EXPECT_EQ(seen[0].text, "note to self");
  EXPECT_TRUE(bob->Read().empty());
}

// PROTOCOL.md 7.2: a record over the rate gets ERROR 6; the refusal that makes more than
// `burst` in a row is fatal. A record the rate lets through ends the row.
TEST(RateRulesTest, OnlyMoreThanBurstRefusalsInARowAreFatal) {
  InMemoryNet net(RateOptions(1, 3));  // the clock stands still until the test moves it
  auto alice = Joined(net, "alice");   // the JOIN took one of the three tokens
  for (int i = 0; i < 5; ++i) {
    alice->Send(msg::Ping{"x"});
  }
  std::vector<Seen> seen = alice->Read();
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(Count(seen, Kind::kPong), 2u);
  for (size_t i = 2; i < 5; ++i) {
    EXPECT_TRUE(seen[i].IsError(ErrorCode::kRateLimited, /*fatal=*/false)) << i;
  }
  EXPECT_FALSE(alice->closed());

  net.mono_ms += 1000;  // one token: the next record is served and the row starts again
  alice->Send(msg::Ping{"x"});
  for (int i = 0; i < 3; ++i) {
    alice->Send(msg::Ping{"x"});
  }
  seen = alice->Read();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].kind, Kind::kPong);
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_TRUE(seen[i].IsError(ErrorCode::kRateLimited, /*fatal=*/false)) << i;
  }
  EXPECT_FALSE(alice->closed()) << "three refusals in a row are not more than the burst";

  alice->Send(msg::Ping{"x"});
  ExpectOnlyError(alice->Read(), ErrorCode::kRateLimited, /*fatal=*/true, "fourth in a row");
  EXPECT_TRUE(alice->closed());
}

// PROTOCOL.md 7.1: the rate is judged first, so a message the server refuses for any other
// reason still took a token, and a malformed message that finds no token gets a non-fatal
// ERROR 6 without being looked at. BYE takes no token.
TEST(RateRulesTest, RefusedMessagesTakeATokenAndTheRateIsJudgedFirst) {
  InMemoryNet net(RateOptions(1, 4));
  auto alice = Joined(net, "alice");  // three tokens left
  alice->Send(msg::Whisper{"nobody", "hi"});
  ExpectOnlyError(alice->Read(), ErrorCode::kNoSuchUser, false, "whisper to nobody");
  alice->Send(msg::Say{"bell\a"});
  ExpectOnlyError(alice->Read(), ErrorCode::kBadText, false, "say with a control");
  alice->Send(msg::Nick{"a b"});
  ExpectOnlyError(alice->Read(), ErrorCode::kInvalidNick, false, "nick with a space");
  const std::string too_much(proto::kMaxPingDataLen + 1, 'x');
  alice->Send(msg::Ping{too_much});  // malformed, but there is no token left to judge it
  ExpectOnlyError(alice->Read(), ErrorCode::kRateLimited, false, "malformed over the rate");
  EXPECT_FALSE(alice->closed());
  alice->Send(msg::Bye{});
  EXPECT_TRUE(alice->Read().empty());
  EXPECT_TRUE(alice->closed());
}

// PROTOCOL.md 7.3: a WHO answer is USERS pages of at most 256 nicks, together every member
// once in ASCII case-insensitive order, spelled as each member spelled it; `more` is 1 on
// every page but the last, and a room of exactly 256 is one page.
TEST(WhoRulesTest, PagesHoldAtMost256NicksInCaseInsensitiveOrder) {
  InMemoryNet net({.max_clients = 600, .max_per_address = 600});
  auto asker = Joined(net, "Asker");
  std::vector<std::string> nicks = {"Asker"};
  // Byte order and case-insensitive order differ here: `U` < `Z` < `_` < `u` as bytes, but
  // `_` < `u` = `U` < `z` = `Z` without regard to case.
  auto add = [&](int i) {
    static constexpr const char* kForms[] = {"U%03d", "u%03d", "_%03d", "Z.%03d"};
    char nick[16];
    std::snprintf(nick, sizeof(nick), kForms[i % 4], i);
    nicks.push_back(nick);
    EXPECT_TRUE(net.Connect(nick).session.joined()) << nick;
  };
  auto expected_order = [&] {
    std::vector<std::string> sorted = nicks;
    std::sort(sorted.begin(), sorted.end(), [](const std::string& a, const std::string& b) {
      return absl::AsciiStrToLower(a) < absl::AsciiStrToLower(b);
    });
    return sorted;
  };
  for (int i = 0; i < 255; ++i) {
    add(i);
  }
  (void)asker->Read();  // the join notices

  asker->Send(msg::Who{});
  std::vector<Seen> pages = asker->Read();
  ASSERT_EQ(pages.size(), 1u) << "256 nicks fit one page";
  EXPECT_EQ(pages[0].kind, Kind::kUsers);
  EXPECT_EQ(pages[0].more, 0);
  EXPECT_EQ(pages[0].nicks, expected_order());

  add(255);
  (void)asker->Read();
  asker->Send(msg::Who{});
  pages = asker->Read();
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ(Count(pages, Kind::kUsers), 2u);
  EXPECT_EQ(pages[0].more, 1);
  EXPECT_EQ(pages[0].nicks.size(), proto::kUsersPerPage);
  EXPECT_EQ(pages[1].more, 0);
  EXPECT_EQ(pages[1].nicks.size(), 1u);
  std::vector<std::string> all = pages[0].nicks;
  all.insert(all.end(), pages[1].nicks.begin(), pages[1].nicks.end());
  EXPECT_EQ(all, expected_order());
}

// PROTOCOL.md 7.3: a join is announced to every other member (the joiner has WELCOME), a
// rename to every member, the renamer included, a leave to every member who remains. A
// connection that never joined, or whose JOIN was refused, is never announced.
TEST(NoticeRulesTest, WhoHearsOfJoinsRenamesAndLeaves) {
  InMemoryNet net;
  auto alice = Joined(net, "alice");
  auto bob = std::make_unique<RawClient>(net);
  bob->Send(msg::Join{"bob"});
  std::vector<Seen> seen = bob->Read();
  EXPECT_EQ(Count(seen, Kind::kWelcome), 1u);
  EXPECT_EQ(Count(seen, Kind::kNotice), 0u) << "the joiner is not told of its own join";
  EXPECT_EQ(Count(alice->Read(), Kind::kNotice), 1u);

  RawClient carol(net);
  carol.Send(msg::Join{"ALICE"});
  ExpectOnlyError(carol.Read(), ErrorCode::kNickTaken, false, "join as ALICE");
  carol.Send(msg::Bye{});
  EXPECT_TRUE(carol.closed());
  EXPECT_TRUE(alice->Read().empty()) << "a connection that never joined is not announced";
  EXPECT_TRUE(bob->Read().empty());

  bob->Send(msg::Nick{"robert"});
  EXPECT_EQ(Count(bob->Read(), Kind::kNotice), 1u) << "the renamer is told too";
  EXPECT_EQ(Count(alice->Read(), Kind::kNotice), 1u);

  bob->Send(msg::Bye{});
  EXPECT_TRUE(bob->closed());
  seen = alice->Read();
  ASSERT_EQ(Count(seen, Kind::kNotice), 1u);
  EXPECT_EQ(net.core().joined_count(), 1u);
}

// PROTOCOL.md 7.4: the handshake deadline runs from accept until a successful JOIN; refused
// JOINs do not extend it, and at the deadline the server closes without a word.
TEST(TimeoutRulesTest, HandshakeDeadlineRunsUntilASuccessfulJoin) {
  InMemoryNet net({.handshake_timeout_ms = 10'000});
  auto alice = Joined(net, "alice");
  RawClient late(net);
  late.Send(msg::Join{"ALICE"});
  ExpectOnlyError(late.Read(), ErrorCode::kNickTaken, false, "join as ALICE");
  net.Advance(9'999);
  late.Send(msg::Join{"a b"});
  ExpectOnlyError(late.Read(), ErrorCode::kInvalidNick, false, "join as a b");
  EXPECT_FALSE(late.closed());
  net.Advance(1);
  EXPECT_TRUE(late.closed());
  EXPECT_TRUE(late.Read().empty()) << "no ERROR before the close";
  EXPECT_FALSE(alice->closed());
}

// PROTOCOL.md 7.4: a joined client is closed when it has sent no record for the idle timeout;
// any record counts, even one the server refuses.
TEST(TimeoutRulesTest, IdleDeadlineCountsFromTheLastRecordOfAnyKind) {
  InMemoryNet net({.idle_timeout_ms = 300'000});
  auto alice = Joined(net, "alice");
  auto bob = Joined(net, "bob");
  (void)alice->Read();
  net.Advance(200'000);
  bob->Send(msg::Ping{});  // bob keeps himself alive throughout
  net.Advance(99'999);
  alice->Send(msg::Whisper{"nobody", "hi"});  // refused, yet a record
  ExpectOnlyError(alice->Read(), ErrorCode::kNoSuchUser, false, "whisper to nobody");
  net.Advance(1);
  EXPECT_FALSE(alice->closed()) << "300 s since the JOIN, but not since the last record";
  net.Advance(199'000);
  bob->Send(msg::Ping{});
  net.Advance(100'998);
  EXPECT_FALSE(alice->closed());
  net.Advance(1);
  EXPECT_TRUE(alice->closed());
  EXPECT_TRUE(alice->Read().empty()) << "no ERROR before the close";
  EXPECT_EQ(Count(bob->Read(), Kind::kNotice), 1u) << "bob hears that alice left";
  EXPECT_FALSE(bob->closed());
}

// PROTOCOL.md 7.5: a hello over the handshake budget is held back, not refused, but the
// handshake deadline keeps running while it waits: past it, the server closes without a reply
// (no SERVER_HELLO, no ALERT).
TEST(TimeoutRulesTest, AHelloHeldPastTheHandshakeDeadlineIsClosedWithoutReply) {
  // handshakes_per_second: one handshake, then the next in 20 s.
  InMemoryNet net({.handshake_timeout_ms = 10'000, .handshakes_per_second = 0.05});
  RawClient first(net);
  EXPECT_TRUE(first.established());
  RawClient second(net);
  EXPECT_FALSE(second.established());
  net.Advance(9'999);
  EXPECT_FALSE(second.established());
  EXPECT_FALSE(second.closed());
  net.Advance(1);
  EXPECT_TRUE(second.closed());
  EXPECT_FALSE(second.established());
  EXPECT_TRUE(second.Read().empty());
}

// PROTOCOL.md 6.6: the operator's console shows a SAY escaped for display: invisible code
// points as \u{...}, a backslash doubled, a run of blanks as one space.
TEST(ConsoleRulesTest, RoomLinesAreEscapedForTheOperator) {
  InMemoryNet net;
  auto alice = Joined(net, "alice");
  alice->Send(msg::Say{"a\u200Bb  c\u00A0\u00A0d\\e\u2028f"});
  ASSERT_FALSE(net.room.empty());
  EXPECT_EQ(net.room.back(), "<alice> a\\u{200B}b c d\\\\e\\u{2028}f");
}

}  // namespace
}  // namespace securechat
