// Teardown after the event: a handler that overflows the queue of the client it is serving
// must not tear that client down under its own feet. Each test drives one of the paths an
// attack review found (issue 10): WHO paging, JOIN's WELCOME, NICK's notice. On the old code
// the WHO test aborts in the stldebug build ("attempt to increment a singular iterator") and
// valgrind reports the invalid read; a plain or ASan build does not see it (the read happens
// inside libstdc++), so there it checks only what people see.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "support/in_memory.h"
#include "support/raw_client.h"

namespace securechat {
namespace {

using ::securechat::testing::InMemoryNet;
using ::securechat::testing::RawClient;

// Index returns the position of the first line equal to `line` in `lines`, or -1.
int Index(const std::vector<std::string>& lines, std::string_view line) {
  auto it = std::find(lines.begin(), lines.end(), line);
  return it == lines.end() ? -1 : static_cast<int>(it - lines.begin());
}

bool AnyStartsWith(const std::vector<std::string>& lines, std::string_view prefix) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
}

bool AnyEndsWith(const std::vector<std::string>& lines, std::string_view suffix) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
    return l.size() >= suffix.size() &&
           l.compare(l.size() - suffix.size(), suffix.size(), suffix) == 0;
  });
}

// Nick returns "m000".."m999": members that sort in the order they were made.
std::string Nick(int i) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "m%03d", i);
  return buf;
}

// The attack as reproduced on a real server: 256 other members, the asker's nick sorts 256th
// (the last of the first USERS page), it stops reading, and the first page overflows its
// queue. The old code erased the asker's own node of the nick map from inside the loop over
// that map, then advanced from the freed node.
TEST(TeardownTest, WhoWhosePageOverflowsTheAskersQueue) {
  InMemoryNet net(
      {.max_clients = 300, .max_per_address = 300, .max_queue_bytes = 16 * 1024, .rate = 0});
  for (int i = 0; i < 255; ++i) {
    net.Connect(Nick(i));
  }
  auto& asker = net.Connect("m254x");  // sorts right after m254: the 256th nick
  for (int i = 255; i < 290; ++i) {
    net.Connect(Nick(i));
  }
  auto& watcher = net.Connect("zed");
  ASSERT_TRUE(asker.session.joined());
  ASSERT_EQ(net.core().joined_count(), 292u);

  // The asker stops reading and fills its own queue with whispers to itself, to less than a
  // USERS page (256 nicks of 4 or 5 bytes) below the cap.
  asker.reading = false;
  for (int i = 0; i < 1000 && net.core().Pending(asker.id).size() + 1000 < 16 * 1024; ++i) {
    net.Type(asker, "/msg m254x filler");
  }
  ASSERT_FALSE(net.core().ShouldClose(asker.id));
  net.Type(asker, "/who");

  EXPECT_TRUE(net.core().ShouldClose(asker.id) || asker.server_gone);
  EXPECT_EQ(net.core().joined_count(), 291u);
  EXPECT_TRUE(watcher.Saw("-!- m254x left"));
  EXPECT_FALSE(watcher.Saw("-!-  left"));
  // The server still serves everyone else: the watcher's WHO lists all 291 who remain.
  net.Type(watcher, "/who");
  EXPECT_TRUE(watcher.SawContaining("-!- online (291): m000 m001"));
  EXPECT_GE(Index(net.log, "error #256: output queue over 16384 bytes (not reading)"), 0);
}

// A JOIN whose WELCOME overflows the queue: the old code dropped the client inside the
// handler, so everyone saw "<nick> left" and then " joined" with an empty nick, and the log
// said "join #2 as ".
TEST(TeardownTest, JoinWhoseWelcomeOverflowsTheQueue) {
  InMemoryNet net({.max_queue_bytes = 1024, .rate = 0});
  auto& alice = net.Connect("alice");
  RawClient mallory(net);
  // Fill mallory's queue with "join first" errors, which it never reads, to just below the cap.
  for (int i = 0; i < 100 && net.core().Pending(mallory.id()).size() + 80 <= 1024; ++i) {
    mallory.Send(msg::Ping{"x"});
  }
  ASSERT_LE(net.core().Pending(mallory.id()).size(), 1024u);
  mallory.Send(msg::Join{"mallory"});
  net.Pump();

  EXPECT_TRUE(net.core().ShouldClose(mallory.id()));
  EXPECT_FALSE(AnyEndsWith(alice.lines, "-!-  joined"));
  EXPECT_FALSE(AnyEndsWith(net.log, " as "));
  // Everyone heard both, in order: mallory joined, then left (its WELCOME was queued and it
  // held the nick until the event ended).
  const int joined = Index(alice.lines, "-!- mallory joined");
  const int left = Index(alice.lines, "-!- mallory left");
  EXPECT_GE(joined, 0);
  EXPECT_LT(joined, left);
  EXPECT_EQ(net.core().joined_count(), 1u);
  // The nick is free again.
  auto& again = net.Connect("mallory");
  EXPECT_TRUE(again.Saw("-!- joined as mallory; 2 online"));
}

// QueueGrowth returns how many bytes `action` adds to the server's queue for `id`.
template <typename F>
size_t QueueGrowth(InMemoryNet& net, ConnId id, F action) {
  const size_t before = net.core().Pending(id).size();
  action();
  return net.core().Pending(id).size() - before;
}

// A NICK whose notice overflows the renamer's own queue: the old code logged "leave" and then
// "rename #2 bob to " (an empty nick).
TEST(TeardownTest, NickWhoseNoticeOverflowsTheRenamersQueue) {
  // Record sizes are a function of the plaintext's length alone: measure them on a first
  // server, then give a second one a cap that the notice crosses by one byte or more.
  size_t line_bytes = 0;
  size_t notice_bytes = 0;
  {
    ServerOptions options;
    options.rate = 0;
    InMemoryNet net(options);
    auto& alice = net.Connect("alice");
    auto& bob = net.Connect("bob");
    bob.reading = false;
    line_bytes = QueueGrowth(net, bob.id, [&] { net.Type(alice, "x"); });
    notice_bytes = QueueGrowth(net, bob.id, [&] { net.Type(bob, "/nick robert"); });
  }
  ASSERT_GT(line_bytes, 0u);
  ASSERT_GT(notice_bytes, 0u);
  constexpr int kLines = 8;
  InMemoryNet net({.max_queue_bytes = kLines * line_bytes + notice_bytes - 1, .rate = 0});
  auto& alice = net.Connect("alice");
  auto& bob = net.Connect("bob");
  bob.reading = false;
  for (int i = 0; i < kLines; ++i) {
    net.Type(alice, "x");
  }
  ASSERT_FALSE(net.core().ShouldClose(bob.id));
  net.Type(bob, "/nick robert");

  EXPECT_TRUE(net.core().ShouldClose(bob.id));
  const int rename = Index(net.log, "rename #2 bob to robert");
  const int leave = Index(net.log, "leave #2 robert (not reading)");
  EXPECT_GE(rename, 0);
  EXPECT_GT(leave, rename);
  EXPECT_FALSE(AnyEndsWith(net.log, " to "));
  const int renamed = Index(alice.lines, "-!- bob is now known as robert");
  EXPECT_GE(renamed, 0);
  EXPECT_GT(Index(alice.lines, "-!- robert left"), renamed);
  EXPECT_FALSE(AnyStartsWith(alice.lines, "-!-  "));
  EXPECT_EQ(net.core().joined_count(), 1u);
}

}  // namespace
}  // namespace securechat
